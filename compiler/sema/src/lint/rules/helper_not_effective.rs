use super::{CT_NEW, CT_RELATED, chain_of, ct_states, reaching_bases};
use crate::hir::{Family, Hook, ObjTarget, ObjectKind, StmtKind};
use crate::lint::LintCx;
use crate::lint::space::{DimKey, IvSet};
use ctc_grammar::Diagnostic;

crate::declare_lint! {
    /// A `ct helper set` that cannot take effect.
    ///
    /// ## What it does
    /// Reports `ct helper set` where the kernel silently assigns nothing:
    /// - in a chain that runs before connection tracking: the ingress hook,
    ///   or prerouting and output at a priority below -200 (raw): there is no
    ///   connection yet to attach the helper to;
    /// - in a rule that only matches packets of confirmed connections
    ///   (`ct state established`): a helper is attached only to a
    ///   connection that is not confirmed yet, that is on its first packet;
    /// - in a rule that only matches another protocol than the helper's
    ///   (`udp dport 21` with an FTP helper declared `protocol tcp`), or only
    ///   another network protocol than the helper's `l3proto`.
    ///
    /// ## Why is this bad?
    /// Nothing fails visibly: the rule matches, the statement runs, and the
    /// connection has no helper, so its expected connections (FTP data) are
    /// never RELATED and get dropped. nftables' documentation: the helper
    /// assignment "must happen after conntrack ... the kernel then assigns
    /// nothing".
    ///
    /// ## Example
    /// ```nft
    /// table inet raw {
    ///     ct helper ftp-standard {
    ///         type "ftp" protocol tcp
    ///     }
    ///     chain prerouting {
    ///         type filter hook prerouting priority raw; policy accept;
    ///         tcp dport 21 ct helper set "ftp-standard"
    ///     }
    /// }
    /// ```
    ///
    /// ## Fix
    /// Assign helpers in a chain after conntrack (priority above -200, e.g.
    /// `priority filter` at prerouting or forward), on the connection's first
    /// packet (`ct state new`), for the helper's protocol.
    pub struct HelperNotEffective;
}

/// nf_conntrack's hook priority at prerouting and output.
const CONNTRACK_PRIORITY: i32 = -200;

pub fn check(cx: &LintCx<'_>, out: &mut Vec<Diagnostic>) {
    for r in cx.anomalies() {
        let (t, c) = chain_of(cx, r);
        let bases = reaching_bases(t);
        for (i, rule) in c.rules.iter().enumerate() {
            for s in &rule.stmts {
                let StmtKind::ObjRef { kind: ObjectKind::CtHelper, target } = &s.kind else { continue };
                let spec = match target {
                    ObjTarget::Name(n) => t.object(ObjectKind::CtHelper, n).and_then(|o| o.helper.clone()),
                    ObjTarget::Map(_) => None,
                };
                let mut why: Option<(String, Option<ctc_grammar::Span>)> = None;
                for &b in &bases[r.chain] {
                    let base = t.chains[b].base.as_ref().expect("reaching bases are base chains");
                    let early = base.hook == Hook::Ingress
                        || (matches!(base.hook, Hook::Prerouting | Hook::Output) && base.priority < CONNTRACK_PRIORITY);
                    if early {
                        why = Some((
                            format!(
                                "chain `{}` runs at the {} hook, priority {}, before connection tracking (priority {CONNTRACK_PRIORITY}): there is no connection to attach the helper to",
                                t.chains[b].name,
                                base.hook.name(),
                                base.priority
                            ),
                            Some(base.span),
                        ));
                        break;
                    }
                }
                let m = &r.models[i];
                if why.is_none()
                    && !m.is_empty()
                    && let Some(states) = ct_states(r, m)
                    && !states.intersects(&IvSet::from_vec(vec![(CT_NEW, CT_NEW), (CT_RELATED, CT_RELATED)]))
                {
                    why = Some((
                        "the rule only matches packets of confirmed connections; a helper is attached only on a connection's first packet (ct state new)".into(),
                        None,
                    ));
                }
                if why.is_none()
                    && let Some(h) = &spec
                    && let Some(l4) = r.dim(&DimKey::Meta("l4proto"))
                    && !m.is_empty()
                    && m.region.iter().all(|cube| {
                        cube.cons.iter().any(|(d, s)| *d == l4 && !s.intersects(&IvSet::point(u128::from(h.protocol))))
                    })
                {
                    let proto = ctc_proto::Ty::InetProto.symbol_name(u64::from(h.protocol)).unwrap_or("its protocol");
                    why = Some((
                        format!(
                            "helper \"{}\" handles {proto} connections, and this rule matches no {proto} packet",
                            h.name
                        ),
                        None,
                    ));
                }
                // A helper declared for one network protocol (`l3proto ip`)
                // has no helper for the other: the kernel assigns nothing.
                if why.is_none()
                    && let Some(h) = &spec
                    && let Some(want) = h.l3proto.filter(|f| matches!(f, Family::Ip | Family::Ip6))
                    && !m.is_empty()
                {
                    let value = if want == Family::Ip { 2 } else { 10 };
                    let sees = match t.family {
                        Family::Ip => want == Family::Ip,
                        Family::Ip6 => want == Family::Ip6,
                        _ => r.dim(&DimKey::Meta("nfproto")).is_none_or(|d| {
                            m.region.iter().any(|cube| {
                                cube.cons
                                    .iter()
                                    .find(|(x, _)| *x == d)
                                    .is_none_or(|(_, s)| s.intersects(&IvSet::point(value)))
                            })
                        }),
                    };
                    if !sees {
                        why = Some((
                            format!(
                                "helper \"{}\" is declared for l3proto {}, and this rule matches no such packet",
                                h.name,
                                want.name()
                            ),
                            None,
                        ));
                    }
                }
                if let Some((msg, at)) = why {
                    let mut d = Diagnostic::warning("W2006", "this `ct helper set` never takes effect")
                        .with_label(s.span, "the kernel silently assigns no helper here")
                        .with_note(msg);
                    if let Some(at) = at {
                        d = d.with_secondary(at, "the chain's hook and priority");
                    }
                    out.push(d.with_help("assign the helper after conntrack (priority filter), on ct state new, for the helper's protocol"));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::rules::codes;
    use crate::lint::test_lint;

    fn run(hook: &str, prio: &str, rules: &str) -> Vec<&'static str> {
        let text = format!(
            "table inet t {{\n ct helper h {{ type \"ftp\" protocol tcp; }}\n chain c {{\n  type filter hook {hook} priority {prio}; policy accept;\n{rules}\n }}\n}}\n"
        );
        codes(&test_lint("helper-not-effective", &text))
    }

    #[test]
    fn fails() {
        assert_eq!(run("prerouting", "raw", "tcp dport 21 ct helper set \"h\""), ["W2006"]);
        assert_eq!(run("forward", "filter", "ct state established tcp dport 21 ct helper set \"h\""), ["W2006"]);
        assert_eq!(run("forward", "filter", "udp dport 21 ct helper set \"h\""), ["W2006"]);
        let v4_only = "table inet t {\n ct helper h {\n  type \"ftp\" protocol tcp\n  l3proto ip\n }\n chain c {\n  type filter hook forward priority 0; policy accept;\n  ip6 daddr 2001:db8::1 tcp dport 21 ct helper set \"h\"\n }\n}\n";
        assert_eq!(codes(&test_lint("helper-not-effective", v4_only)), ["W2006"]);
        assert!(
            codes(&test_lint("helper-not-effective", &v4_only.replace("ip6 daddr 2001:db8::1", "ip daddr 192.0.2.1")))
                .is_empty()
        );
    }

    #[test]
    fn passes() {
        assert!(run("prerouting", "filter", "tcp dport 21 ct helper set \"h\"").is_empty());
        assert!(run("forward", "filter", "ct state new tcp dport 21 ct helper set \"h\"").is_empty());
        assert!(run("postrouting", "filter", "tcp dport 21 ct helper set \"h\"").is_empty());
    }
}
