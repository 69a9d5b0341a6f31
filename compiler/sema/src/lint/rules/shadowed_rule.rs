use super::{chain_of, decides_phrase, rule_name};
use crate::lint::LintCx;
use crate::lint::anomaly::Finding;
use ctc_grammar::Diagnostic;

crate::declare_lint! {
    /// A rule that an earlier rule with another verdict completely covers.
    ///
    /// ## What it does
    /// Reports a rule whose every packet is matched first by an earlier rule
    /// of the same chain that ends the chain with a different verdict (or a
    /// rule without a verdict behind such a rule). The rule never decides
    /// anything: it is shadowed (Al-Shaer & Hamed's shadowing anomaly). The
    /// earlier rule named is the first one that covers it. The comparison is
    /// exact over addresses, prefixes, ports, protocols, interfaces, marks,
    /// constant sets and ct state; a rule with conditions ctc does not model
    /// (`limit`, `numgen`, `fib`, ...) never counts as covering another.
    ///
    /// ## Why is this bad?
    /// The author wrote the later rule for a reason: its verdict is what they
    /// wanted for these packets, and the ruleset does something else. Most
    /// often an exception was added below the general rule instead of above.
    ///
    /// ## Example
    /// ```nft
    /// table inet filter {
    ///     chain input {
    ///         type filter hook input priority filter; policy accept;
    ///         ip saddr 10.0.0.0/8 accept
    ///         ip saddr 10.1.2.3 drop
    ///     }
    /// }
    /// ```
    ///
    /// ## Fix
    /// Move the exception above the general rule (`ip saddr 10.1.2.3 drop`
    /// first), or delete it if the earlier rule is right.
    pub struct ShadowedRule;
}

pub fn check(cx: &LintCx<'_>, out: &mut Vec<Diagnostic>) {
    for r in cx.anomalies() {
        let (_, c) = chain_of(cx, r);
        for f in &r.findings {
            let Finding::Shadowed { rule, by } = *f else { continue };
            let (this, earlier) = (&c.rules[rule], &c.rules[by]);
            let mut d = Diagnostic::warning(
                "W1001",
                format!("shadowed rule: {} matches every packet this rule matches", rule_name(cx, c, by)),
            )
            .with_label(this.span, "this rule never decides")
            .with_secondary(earlier.span, format!("{} these packets first", decides_phrase(&r.actions[by])))
            .with_help("move this rule above the earlier one if it is an exception, or delete it");
            if let Some((_, note)) = super::ct_state_value_compare(earlier) {
                d = d.with_help("fix the earlier rule's `ct state` match (see the first note)").with_note(note);
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
        codes(&test_lint("shadowed-rule", &text))
    }

    #[test]
    fn fails() {
        for rules in [
            "ip saddr 10.0.0.0/8 accept\nip saddr 10.1.2.3 drop",
            "tcp dport 1-1024 drop\ntcp dport { 22, 80 } accept",
            "ct state established,related accept\nct state established drop",
            "iifname \"eth*\" drop\niifname \"eth0\" tcp dport 22 accept",
            "th dport 22 drop\ntcp dport 22 accept",
            "meta l4proto tcp drop\ntcp dport 22 counter",
            "tcp dport != 22 drop\ntcp dport 80 accept",
            "ct state invalid,established drop\nct state established tcp dport 22 accept",
            "tcp flags fin,syn drop\ntcp flags syn tcp dport 22 accept",
            // nft compares the whole value (`cmp neq reg 1 0x00000006`):
            // every state passes, established ones included.
            "ct state != established,related tcp dport 22 drop\nct state established tcp dport 22 accept",
            "ct state != established | related tcp dport 22 drop\nct state related tcp dport 22 accept",
            // `==` with flags is the value SYN|ACK, which `syn` includes.
            "tcp flags syn drop\ntcp flags == syn,ack accept",
        ] {
            assert_eq!(run(rules), ["W1001"], "{rules}");
        }
    }

    #[test]
    fn passes() {
        for rules in [
            "ip saddr 10.1.2.3 drop\nip saddr 10.0.0.0/8 accept",
            "tcp dport 22 limit rate 1/second drop\ntcp dport 22 accept",
            "tcp dport 22 drop\nudp dport 22 accept",
            "ip saddr 10.0.0.0/8 accept\nip saddr 10.1.2.3 accept",
            "meta mark set 1\nmeta mark 1 drop\nmeta mark 1 accept",
            "tcp dport 22 jump x\ntcp dport 22 drop",
            "tcp dport 22 log\ntcp dport 22 drop",
            // `!` is the bit test: established packets are not covered.
            "ct state ! established,related tcp dport 22 drop\nct state established tcp dport 22 accept",
            "tcp flags == syn,ack drop\ntcp flags syn accept",
        ] {
            let text = format!(
                "table inet t {{\n chain x {{\n }}\n chain c {{\n  type filter hook input priority 0; policy accept;\n{rules}\n }}\n}}\n"
            );
            assert!(codes(&crate::lint::test_lint("shadowed-rule", &text)).is_empty(), "{rules}");
        }
    }
}
