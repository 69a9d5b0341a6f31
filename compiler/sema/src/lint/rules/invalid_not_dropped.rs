use super::{CT_INVALID, accepts, calls, chain_of, ct_states, has_state, vmap_states};
use crate::hir::{ChainType, Hook, Policy};
use crate::lint::LintCx;
use crate::lint::space::IvSet;
use ctc_grammar::Diagnostic;

crate::declare_lint! {
    /// An accepting rule that packets in ct state invalid can reach.
    ///
    /// ## What it does
    /// In a filter base chain with policy `drop`, reports the first rule that
    /// accepts packets without excluding `ct state invalid`, when no earlier
    /// rule of the chain drops (or rejects) every invalid packet.
    ///
    /// ## Why is this bad?
    /// Conntrack marks as INVALID the packets it cannot place: TCP segments
    /// outside the window, malformed headers, ICMP errors about nothing. A
    /// rule like `tcp dport 22 accept` accepts them too; they are the raw
    /// material of scans and of attacks on the tracker (and of NAT leaks:
    /// an INVALID packet is not translated). The netfilter documentation
    /// recommends dropping them early.
    ///
    /// ## Example
    /// ```nft
    /// table inet filter {
    ///     chain input {
    ///         type filter hook input priority filter; policy drop;
    ///         ct state established,related accept
    ///         tcp dport 22 accept
    ///     }
    /// }
    /// ```
    ///
    /// ## Fix
    /// Drop invalid packets right after accepting established ones:
    /// `ct state invalid drop`.
    pub struct InvalidNotDropped;
}

pub fn check(cx: &LintCx<'_>, out: &mut Vec<Diagnostic>) {
    for r in cx.anomalies() {
        let (t, c) = chain_of(cx, r);
        let Some(b) = &c.base else { continue };
        if b.ty != ChainType::Filter
            || b.policy != Policy::Drop
            || !matches!(b.hook, Hook::Input | Hook::Forward | Hook::Output)
            || !matches!(t.family, crate::hir::Family::Ip | crate::hir::Family::Ip6 | crate::hir::Family::Inet)
        {
            continue;
        }
        let invalid = IvSet::point(CT_INVALID);
        for (i, rule) in c.rules.iter().enumerate() {
            let m = &r.models[i];
            if m.is_empty() {
                continue;
            }
            let states = ct_states(r, m);
            let drops = matches!(&r.actions[i], crate::lint::anomaly::Action::Decides(v) if v == "drop" || v.starts_with("reject"));
            // `ct state invalid drop`: every invalid packet stops here.
            if drops
                && !m.opaque
                && m.region.len() == 1
                && states.as_ref().is_some_and(|s| invalid.subset_of(s))
                && m.region[0].cons.len() == 1
            {
                break;
            }
            // `ct state vmap { invalid : drop, ... }` drops them too; a jump
            // may drop them in the called chain: stop, nothing is certain.
            if has_state(&vmap_states(rule, &crate::hir::Verdict::Drop), CT_INVALID) || calls(rule) {
                break;
            }
            if accepts(rule) && states.as_ref().is_none_or(|s| has_state(s, CT_INVALID)) {
                out.push(
                    Diagnostic::warning("W2002", "this rule accepts packets in ct state invalid")
                        .with_label(rule.span, "invalid packets that match are accepted")
                        .with_secondary(b.span, format!("no rule of chain `{}` drops them before", c.name))
                        .with_help(
                            "add `ct state invalid drop` near the top of the chain, after the established accept",
                        ),
                );
                break;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::rules::codes;
    use crate::lint::test_lint;

    fn run(policy: &str, rules: &str) -> Vec<&'static str> {
        let text = format!(
            "table inet t {{\n chain x {{\n  ct state invalid drop\n }}\n chain c {{\n  type filter hook input priority 0; policy {policy};\n{rules}\n }}\n}}\n"
        );
        codes(&test_lint("invalid-not-dropped", &text))
    }

    #[test]
    fn fails() {
        assert_eq!(run("drop", "ct state established,related accept\ntcp dport 22 accept"), ["W2002"]);
        assert_eq!(run("drop", "tcp dport 22 accept\nct state invalid drop"), ["W2002"]);
        assert_eq!(run("drop", "ct state invalid tcp dport 22 drop\nudp dport 53 accept"), ["W2002"]);
    }

    #[test]
    fn passes() {
        assert!(
            run("drop", "ct state established,related accept\nct state invalid drop\ntcp dport 22 accept").is_empty()
        );
        assert!(run("drop", "ct state new tcp dport 22 accept").is_empty());
        assert!(run("accept", "tcp dport 22 accept").is_empty());
        assert!(run("drop", "ct state invalid counter drop\ntcp dport 22 accept").is_empty());
        assert!(
            run(
                "drop",
                "ct state vmap { established : accept, related : accept, invalid : drop }\ntcp dport 22 accept"
            )
            .is_empty()
        );
        assert!(run("drop", "jump x\ntcp dport 22 accept").is_empty());
    }
}
