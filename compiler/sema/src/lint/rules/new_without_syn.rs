use super::{CT_NEW, accepts, calls, chain_of, ct_states, has_state};
use crate::lint::LintCx;
use crate::lint::anomaly::Action;
use crate::lint::space::{self, DimKey, IvSet};
use ctc_grammar::Diagnostic;

crate::declare_lint! {
    /// TCP accepted in ct state new without requiring a SYN.
    ///
    /// ## What it does
    /// Reports a rule that accepts TCP packets in `ct state new` without
    /// requiring the SYN flag (`tcp flags syn / fin,syn,rst,ack`), when no
    /// earlier rule of the chain drops such packets.
    ///
    /// ## Why is this bad?
    /// With the kernel's default `nf_conntrack_tcp_loose = 1`, any TCP
    /// segment — an ACK, a FIN, a stray segment after a state flush — creates
    /// a NEW connection when it is picked up mid-stream. The rule then lets
    /// in packets that open no connection: ACK scans pass, and the firewall
    /// accepts traffic it should treat as invalid.
    ///
    /// ## Example
    /// ```nft
    /// table inet filter {
    ///     chain input {
    ///         type filter hook input priority filter; policy drop;
    ///         ct state established,related accept
    ///         ct state new tcp dport 22 accept
    ///     }
    /// }
    /// ```
    ///
    /// ## Fix
    /// Require a SYN: `ct state new tcp flags syn / fin,syn,rst,ack tcp dport
    /// 22 accept`, or drop the others first:
    /// `ct state new tcp flags ! syn / fin,syn,rst,ack drop` (nft writes the
    /// test as `tcp flags & (fin|syn|rst|ack) != syn`).
    pub struct NewWithoutSyn;
}

/// `tcp flags`: transport bits 104..112.
const TCP_FLAGS: DimKey = DimKey::Payload { base: 2, offset: 104, bits: 8 };
const SYN: u128 = 0x02;

pub fn check(cx: &LintCx<'_>, out: &mut Vec<Diagnostic>) {
    for r in cx.anomalies() {
        let (_, c) = chain_of(cx, r);
        let Some(l4) = r.dim(&DimKey::Meta("l4proto")) else { continue };
        let flags = r.dim(&TCP_FLAGS);
        let no_syn = IvSet::from_vec((0u128..256).filter(|v| v & SYN == 0).map(|v| (v, v)).collect());
        for (i, rule) in c.rules.iter().enumerate() {
            let m = &r.models[i];
            if !accepts(rule) || m.region.len() != 1 {
                continue;
            }
            // Explicitly new, explicitly TCP.
            if !ct_states(r, m).is_some_and(|s| has_state(&s, CT_NEW)) {
                continue;
            }
            let cube = &m.region[0];
            if !cube.cons.iter().any(|(d, s)| *d == l4 && s == &IvSet::point(6)) {
                continue;
            }
            // The packets of this rule without SYN.
            let mut bad = cube.clone();
            if let Some(f) = flags
                && !bad.constrain(f, no_syn.clone())
            {
                continue;
            }
            // A chain called earlier may drop them: nothing is certain.
            let called = c.rules[..i].iter().any(calls);
            let handled = called
                || (0..i).any(|k| {
                    matches!(&r.actions[k], Action::Decides(v) if v != "accept")
                        && !r.models[k].opaque
                        && match flags {
                            Some(_) => space::region_contains(&r.models[k].region, std::slice::from_ref(&bad)),
                            None => false,
                        }
                });
            if handled {
                continue;
            }
            out.push(
                Diagnostic::warning("W2003", "TCP packets in ct state new are accepted without a SYN")
                    .with_label(rule.span, "accepts non-SYN segments that conntrack picked up as new")
                    .with_help("require the SYN flag: add `tcp flags syn / fin,syn,rst,ack` to the rule"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::rules::codes;
    use crate::lint::test_lint;

    fn run(rules: &str) -> Vec<&'static str> {
        let text = format!(
            "table inet t {{\n chain c {{\n  type filter hook input priority 0; policy drop;\n{rules}\n }}\n}}\n"
        );
        codes(&test_lint("new-without-syn", &text))
    }

    #[test]
    fn fails() {
        assert_eq!(run("ct state new tcp dport 22 accept"), ["W2003"]);
        assert_eq!(run("tcp dport 22 ct state new,established accept"), ["W2003"]);
        assert_eq!(run("ct state new tcp flags ack tcp dport 22 accept"), ["W2003"]);
    }

    #[test]
    fn passes() {
        assert!(run("ct state new tcp flags syn / fin,syn,rst,ack tcp dport 22 accept").is_empty());
        assert!(
            run("ct state new tcp flags & (fin|syn|rst|ack) != syn drop\nct state new tcp dport 22 accept").is_empty()
        );
        assert!(run("ct state new udp dport 53 accept").is_empty());
        assert!(run("tcp dport 22 accept").is_empty());
    }
}
