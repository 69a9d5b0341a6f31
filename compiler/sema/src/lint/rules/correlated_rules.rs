use super::{chain_of, decides_phrase, rule_name};
use crate::lint::LintCx;
use crate::lint::anomaly::Finding;
use ctc_grammar::Diagnostic;

crate::declare_lint! {
    /// Two rules with different verdicts that partly overlap.
    ///
    /// ## What it does
    /// Reports a rule that shares some packets with an earlier rule of the
    /// chain that has another verdict, while neither rule contains the other
    /// (Al-Shaer & Hamed's correlation anomaly), and some field is tested by
    /// both rules with different values. The packets in the overlap get the
    /// earlier rule's verdict. Only reported when both rules are fully
    /// modelled (no `limit`, no set filled at run time) and the overlap
    /// certainly exists. Rules that test different fields only (`ct state
    /// invalid drop` above `tcp dport 22 accept`) overlap too, but that is
    /// how a ruleset is layered: they are not reported.
    ///
    /// ## Why is this bad?
    /// The order of the two rules decides the fate of the shared packets, and
    /// nothing in either rule says so. Swapping them while editing silently
    /// changes the policy. Often one of the two was meant to be narrower.
    ///
    /// ## Example
    /// ```nft
    /// table inet filter {
    ///     chain input {
    ///         type filter hook input priority filter; policy accept;
    ///         ip saddr 10.0.0.0/8 tcp dport 1-1024 accept
    ///         ip saddr 10.1.0.0/16 tcp dport 22-8080 drop
    ///     }
    /// }
    /// ```
    ///
    /// ## Fix
    /// Make the overlap explicit: split a rule so that each part is either
    /// inside or outside the other rule, or add a rule for the overlap above
    /// both. If the order is intended, say so with `# ctc: allow(correlated-rules)`.
    pub struct CorrelatedRules;
}

pub fn check(cx: &LintCx<'_>, out: &mut Vec<Diagnostic>) {
    for r in cx.anomalies() {
        let (_, c) = chain_of(cx, r);
        for f in &r.findings {
            let Finding::Correlated { rule, with, others } = *f else { continue };
            let mut d = Diagnostic::warning(
                "W1003",
                format!("this rule partly overlaps {}, which has another verdict", rule_name(cx, c, with)),
            )
            .with_label(c.rules[rule].span, "some of these packets are decided earlier")
            .with_secondary(
                c.rules[with].span,
                format!("{} the packets both rules match", decides_phrase(&r.actions[with])),
            )
            .with_help("split one rule so the overlap is decided by a rule of its own, or reorder them");
            if let Some((_, note)) = super::ct_state_value_compare(&c.rules[with]) {
                d = d.with_note(note);
            }
            if others > 0 {
                d = d.with_note(format!("{others} more earlier rule(s) overlap this one with another verdict"));
            }
            out.push(d);
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::rules::codes;
    use crate::lint::test_lint;

    fn run(rules: &str) -> Vec<&'static str> {
        let text = format!(
            "table inet t {{\n chain c {{\n  type filter hook input priority 0; policy accept;\n{rules}\n }}\n}}\n"
        );
        codes(&test_lint("correlated-rules", &text))
    }

    #[test]
    fn fails() {
        for rules in [
            "ip saddr 10.0.0.0/8 tcp dport 1-1024 accept\nip saddr 10.1.0.0/16 tcp dport 22-8080 drop",
            "tcp dport 1-100 accept\ntcp dport 50-150 drop",
            "ip saddr 10.0.0.0/8 tcp dport 22 accept\nip saddr 10.1.0.0/16 drop",
        ] {
            assert_eq!(run(rules), ["W1003"], "{rules}");
        }
    }

    #[test]
    fn passes() {
        for rules in [
            "tcp dport 1-100 accept\ntcp dport 50-150 accept",
            "tcp dport 1-100 accept\ntcp dport 101-150 drop",
            "tcp dport 22 accept\ntcp dport 1-1024 drop",
            "ip saddr 10.0.0.1 limit rate 1/second accept\ntcp dport 22 drop",
            "ip saddr 10.0.0.1 accept\nip6 saddr ::1 drop",
            "ip saddr 10.0.0.1 accept\ntcp dport 22 drop",
            "ct state invalid drop\ntcp dport 22 accept",
        ] {
            assert!(run(rules).is_empty(), "{rules}");
        }
    }
}
