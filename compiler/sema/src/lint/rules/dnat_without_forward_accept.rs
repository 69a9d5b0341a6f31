use super::accepts;
use crate::hir::{self, ChainType, ExprKind, Hook, NatKind, Policy, StmtKind, Value};
use crate::lint::LintCx;
use crate::lint::anomaly::ChainReport;
use crate::lint::space::{self, Cube, DimKey, IvSet};
use ctc_grammar::Diagnostic;

crate::declare_lint! {
    /// A port forward (`dnat`) whose translated traffic the forward chain drops.
    ///
    /// ## What it does
    /// Reports a `dnat to ADDRESS[:PORT]` in a prerouting nat chain when a
    /// filter chain at the forward hook has policy `drop` and none of its
    /// accepting rules can match the translated packet: a new connection to
    /// the new address (and port, and the rule's protocol). Rules ctc cannot
    /// fully model (sets filled at run time, `ct status dnat`, ...) count as
    /// matching.
    ///
    /// ## Why is this bad?
    /// The forward chain sees the packet after translation. The port forward
    /// is configured, the translation happens, and the connection is
    /// dropped right after: the forward does not work, and nothing says why.
    ///
    /// ## Example
    /// ```nft
    /// table ip nat {
    ///     chain prerouting {
    ///         type nat hook prerouting priority dstnat; policy accept;
    ///         iifname "wan0" tcp dport 8080 dnat to 192.0.2.10:80
    ///     }
    /// }
    /// table ip filter {
    ///     chain forward {
    ///         type filter hook forward priority filter; policy drop;
    ///         ct state established,related accept
    ///     }
    /// }
    /// ```
    ///
    /// ## Fix
    /// Accept the translated connections in the forward chain:
    /// `ct status dnat accept`, or `ip daddr 192.0.2.10 tcp dport 80 ct
    /// state new accept`.
    pub struct DnatWithoutForwardAccept;
}

/// The translated packet: destination address, port, protocol.
struct Target {
    v6: bool,
    addr: u128,
    port: Option<u16>,
    /// What the dnat rule matched that translation does not change (input
    /// interface, source, protocol, marks), as (field, values).
    kept: Vec<(DimKey, IvSet)>,
}

pub fn check(cx: &LintCx<'_>, out: &mut Vec<Diagnostic>) {
    let reports = cx.anomalies();
    let forward: Vec<&ChainReport> = reports
        .iter()
        .filter(|r| {
            let t = &cx.program.tables[r.table];
            t.chains[r.chain]
                .base
                .as_ref()
                .is_some_and(|b| b.ty == ChainType::Filter && b.hook == Hook::Forward && b.policy == Policy::Drop)
                && matches!(t.family, hir::Family::Ip | hir::Family::Ip6 | hir::Family::Inet)
        })
        .collect();
    if forward.is_empty() {
        return;
    }
    for r in reports {
        let t = &cx.program.tables[r.table];
        let c = &t.chains[r.chain];
        let Some(b) = &c.base else { continue };
        if b.ty != ChainType::Nat || b.hook != Hook::Prerouting {
            continue;
        }
        for (i, rule) in c.rules.iter().enumerate() {
            for s in &rule.stmts {
                let StmtKind::Nat(n) = &s.kind else { continue };
                if n.kind != NatKind::Dnat {
                    continue;
                }
                let Some(target) = target_of(n, r, &r.models[i]) else { continue };
                let blocked =
                    forward.iter().filter(|f| family_sees(cx, f, target.v6)).all(|f| !may_accept(cx, f, &target));
                let any = forward.iter().any(|f| family_sees(cx, f, target.v6));
                if blocked && any {
                    let f = forward.iter().find(|f| family_sees(cx, f, target.v6)).expect("checked");
                    let ft = &cx.program.tables[f.table];
                    let fc = &ft.chains[f.chain];
                    out.push(
                        Diagnostic::warning("W2008", "the forward chain drops the connections this dnat translates")
                            .with_label(s.span, "translated connections are forwarded")
                            .with_secondary(
                                fc.base.as_ref().map_or(fc.span, |b| b.span),
                                format!("chain `{}` has policy drop and no rule accepting them", fc.name),
                            )
                            .with_help("accept them in the forward chain: `ct status dnat accept`"),
                    );
                }
            }
        }
    }
}

fn family_sees(cx: &LintCx<'_>, f: &ChainReport, v6: bool) -> bool {
    match cx.program.tables[f.table].family {
        hir::Family::Ip => !v6,
        hir::Family::Ip6 => v6,
        _ => true,
    }
}

fn target_of(n: &hir::Nat, r: &ChainReport, m: &space::RuleModel) -> Option<Target> {
    let addr = n.addr.as_ref()?;
    let (bytes, v6) = match &addr.kind {
        ExprKind::Value(Value::Bytes(b)) if b.len() == 4 => (b.clone(), false),
        ExprKind::Value(Value::Bytes(b)) if b.len() == 16 => (b.clone(), true),
        _ => return None,
    };
    let addr = bytes.iter().fold(0u128, |a, x| (a << 8) | u128::from(*x));
    let port = match n.port.as_ref().map(|p| &p.kind) {
        None => None,
        Some(ExprKind::Value(Value::Int(p))) => Some(u16::try_from(*p).ok()?),
        Some(_) => return None,
    };
    let mut kept = Vec::new();
    if let [cube] = m.region.as_slice() {
        for (d, set) in &cube.cons {
            let key = &r.dims.list[*d as usize].key;
            let rewritten = match key {
                // The destination address and port are what dnat changes.
                DimKey::Payload { base: 1, offset: 128, bits: 32 }
                | DimKey::Payload { base: 1, offset: 192, bits: 128 } => true,
                DimKey::Payload { base: 2, offset: 16, bits: 16 } => port.is_some(),
                DimKey::Ct { .. } => true,
                _ => false,
            };
            if !rewritten {
                kept.push((key.clone(), set.clone()));
            }
        }
    }
    Some(Target { v6, addr, port, kept })
}

/// Whether some accepting rule of the forward chain may match a new
/// connection to the target.
fn may_accept(cx: &LintCx<'_>, f: &ChainReport, t: &Target) -> bool {
    let table = &cx.program.tables[f.table];
    let chain = &table.chains[f.chain];
    let mut probe = Cube::default();
    let addr_key = if t.v6 {
        DimKey::Payload { base: 1, offset: 192, bits: 128 }
    } else {
        DimKey::Payload { base: 1, offset: 128, bits: 32 }
    };
    let mut set = |k: DimKey, v: IvSet| {
        if let Some(d) = f.dim(&k) {
            probe.constrain(d, v);
        }
    };
    set(addr_key, IvSet::point(t.addr));
    set(DimKey::Ct { key: "state", dir: None }, IvSet::point(super::CT_NEW));
    if table.family == hir::Family::Inet {
        set(DimKey::Meta("nfproto"), IvSet::point(if t.v6 { 10 } else { 2 }));
    }
    if let Some(p) = t.port {
        set(DimKey::Payload { base: 2, offset: 16, bits: 16 }, IvSet::point(u128::from(p)));
    }
    for (k, v) in &t.kept {
        set(k.clone(), v.clone());
    }
    for (i, rule) in chain.rules.iter().enumerate() {
        let m = &f.models[i];
        // A jump may accept in the called chain; a verdict map may accept.
        let jumps = rule.stmts.iter().any(|s| {
            matches!(s.kind, StmtKind::Verdict(hir::Verdict::Jump(_) | hir::Verdict::Goto(_)) | StmtKind::VerdictMap(_))
        });
        if !(accepts(rule) || jumps) || m.is_empty() {
            continue;
        }
        if m.has_syms() || !space::region_disjoint(&m.region, std::slice::from_ref(&probe)) {
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use crate::lint::rules::codes;
    use crate::lint::test_lint;

    fn run(forward: &str) -> Vec<&'static str> {
        let text = format!(
            "table ip nat {{\n chain pre {{\n  type nat hook prerouting priority dstnat; policy accept;\n  iifname \"wan0\" tcp dport 8080 dnat to 192.0.2.10:80\n }}\n}}\ntable ip filter {{\n chain forward {{\n  type filter hook forward priority filter; policy drop;\n{forward}\n }}\n}}\n"
        );
        codes(&test_lint("dnat-without-forward-accept", &text))
    }

    #[test]
    fn fails() {
        assert_eq!(run("ct state established,related accept"), ["W2008"]);
        assert_eq!(run("ct state established,related accept\nip daddr 192.0.2.11 tcp dport 80 accept"), ["W2008"]);
        assert_eq!(run("ip daddr 192.0.2.10 udp dport 80 accept"), ["W2008"]);
    }

    #[test]
    fn passes() {
        assert!(run("ct status dnat accept").is_empty());
        assert!(run("ip daddr 192.0.2.10 tcp dport 80 accept").is_empty());
        assert!(run("iifname \"wan0\" accept").is_empty());
        assert!(run("ip daddr 192.0.2.10 ct state new accept").is_empty());
    }
}
