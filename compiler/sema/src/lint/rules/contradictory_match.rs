use super::chain_of;
use crate::lint::LintCx;
use crate::lint::anomaly::Finding;
use ctc_grammar::Diagnostic;

crate::declare_lint! {
    /// A rule whose matches contradict each other: it matches nothing.
    ///
    /// ## What it does
    /// Reports a rule whose conditions no packet can satisfy together, such
    /// as two different values for the same field (`tcp dport 22 tcp dport
    /// 80`), a value and its negation, disjoint sets or prefixes, or a field
    /// whose implied protocol contradicts another match (`ip saddr` with
    /// `meta nfproto ipv6`).
    ///
    /// ## Why is this bad?
    /// The rule is dead: its statements never run. It was almost certainly
    /// meant to be a set (`tcp dport { 22, 80 }`) or two rules.
    ///
    /// ## Example
    /// ```nft
    /// table inet filter {
    ///     chain input {
    ///         type filter hook input priority filter; policy drop;
    ///         tcp dport 22 tcp dport 80 accept
    ///     }
    /// }
    /// ```
    ///
    /// ## Fix
    /// Use a set for alternatives (`tcp dport { 22, 80 } accept`), or split
    /// the rule in two.
    pub struct ContradictoryMatch;
}

pub fn check(cx: &LintCx<'_>, out: &mut Vec<Diagnostic>) {
    for r in cx.anomalies() {
        let (_, c) = chain_of(cx, r);
        for f in &r.findings {
            let Finding::Contradictory { rule, at, earlier } = *f else { continue };
            let span = c.rules[rule].span;
            let at = super::inside(span, at);
            let value_compare = super::ct_state_value_compare(&c.rules[rule]).filter(|(s, _)| *s == at);
            let msg = match value_compare {
                Some(_) => "this rule matches no packet: no packet has several ct states",
                None => "this rule matches no packet: its matches contradict each other",
            };
            let mut d = Diagnostic::warning("W1005", msg)
                .with_label(at, "no packet matches this together with the rest of the rule");
            if let Some(e) = earlier.map(|e| super::inside(span, e)).filter(|e| *e != at) {
                d = d.with_secondary(e, "contradicted by this match");
            } else {
                d = d.with_secondary(c.rules[rule].span, "in this rule");
            }
            match value_compare {
                Some((_, note)) => d = d.with_note(note),
                None => d = d.with_help("use a set for alternatives (`tcp dport { 22, 80 }`), or split the rule"),
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
        codes(&test_lint("contradictory-match", &text))
    }

    #[test]
    fn fails() {
        for rules in [
            "tcp dport 22 tcp dport 80 accept",
            "ip saddr 10.0.0.0/8 ip saddr 192.168.0.0/16 drop",
            "tcp dport != 22 tcp dport 22 accept",
            "ct state new ct state established accept",
            "meta mark 1 meta mark { 2, 3 } accept",
            "iifname \"eth0\" iifname { \"eth1\", \"wlan*\" } accept",
            // nft compares the whole value (`cmp eq reg 1 0x00000006`): a
            // packet has one state, so no packet matches.
            "ct state == established,related accept",
            "ct state == established | related accept",
        ] {
            assert_eq!(run(rules), ["W1005"], "{rules}");
        }
    }

    #[test]
    fn passes() {
        for rules in [
            "tcp dport { 22, 80 } accept",
            "tcp dport 1-100 tcp dport 50-200 accept",
            "meta mark set 1 meta mark 2 accept",
            "ip saddr 10.0.0.0/8 ip saddr 10.1.0.0/16 drop",
            "ct state established,related accept",
            "tcp flags == syn,ack accept",
        ] {
            assert!(run(rules).is_empty(), "{rules}");
        }
    }
}
