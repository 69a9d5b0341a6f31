use super::{chain_of, rule_name};
use crate::lint::LintCx;
use crate::lint::anomaly::Finding;
use ctc_grammar::Diagnostic;

crate::declare_lint! {
    /// Rules after an unconditional verdict, goto or return.
    ///
    /// ## What it does
    /// Reports the first rule of a chain that comes after a rule that matches
    /// every packet and ends the chain: `accept`, `drop`, `reject`, `goto`,
    /// `return`, a NAT statement, `queue`. No packet ever reaches the rules
    /// below it.
    ///
    /// ## Why is this bad?
    /// Everything below the unconditional rule is dead code. Usually a
    /// catch-all rule was added at the end and later rules were appended
    /// after it, or a debugging `accept` was left in.
    ///
    /// ## Example
    /// ```nft
    /// table inet filter {
    ///     chain input {
    ///         type filter hook input priority filter; policy drop;
    ///         accept
    ///         tcp dport 22 accept
    ///     }
    /// }
    /// ```
    ///
    /// ## Fix
    /// Move the unconditional rule to the end of the chain (or use the
    /// chain's policy instead), or delete the rules after it.
    pub struct UnreachableRule;
}

pub fn check(cx: &LintCx<'_>, out: &mut Vec<Diagnostic>) {
    for r in cx.anomalies() {
        let (_, c) = chain_of(cx, r);
        for f in &r.findings {
            let Finding::Unreachable { rule, after, count } = *f else { continue };
            let mut d = Diagnostic::warning(
                "W1004",
                format!("unreachable rule: {} ends the chain for every packet", rule_name(cx, c, after)),
            )
            .with_label(c.rules[rule].span, "no packet reaches this rule")
            .with_secondary(c.rules[after].span, "matches every packet and ends the chain")
            .with_help("move the unconditional rule to the end, or delete the rules after it");
            if let Some((_, note)) = super::ct_state_value_compare(&c.rules[after]) {
                d = d.with_help("fix the earlier rule's `ct state` match (see the first note)").with_note(note);
            }
            if count > 1 {
                d = d.with_note(format!("the {} rules from here to the end of the chain never run", count));
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
            "table inet t {{\n chain x {{\n }}\n chain c {{\n  type filter hook input priority 0; policy accept;\n{rules}\n }}\n}}\n"
        );
        codes(&test_lint("unreachable-rule", &text))
    }

    #[test]
    fn fails() {
        for rules in [
            "accept\ntcp dport 22 accept",
            "counter drop\ntcp dport 22 accept\nudp dport 53 accept",
            "goto x\ntcp dport 22 accept",
            "return\nip saddr 1.2.3.4 drop",
            "ct state { established, related, new, invalid, untracked } accept\ntcp dport 22 drop",
            // nft: `ct state != 0x00000006`, true for every packet.
            "ct state != established,related drop\nct state established accept",
        ] {
            assert_eq!(run(rules), ["W1004"], "{rules}");
        }
    }

    /// A NAT statement that looks its target up in a map decides only for
    /// keys in the map (NFT_BREAK on a miss): the rules after it are
    /// reachable.
    #[test]
    fn a_nat_map_lookup_is_not_unconditional() {
        let text = "table ip t {\n chain p {\n  type nat hook prerouting priority dstnat; policy accept;\n  dnat ip to tcp dport map { 8080 : 192.0.2.2 . 80 }\n  dnat ip to udp dport map { 53 : 192.0.2.3 . 53 }\n  dnat to ip saddr map { 192.0.2.9 : 198.51.100.1 }\n  tcp dport 22 dnat to 192.0.2.4\n }\n}\n";
        assert!(codes(&test_lint("unreachable-rule", text)).is_empty());
        let plain = "table ip t {\n chain p {\n  type nat hook prerouting priority dstnat; policy accept;\n  dnat to 192.0.2.2\n  tcp dport 22 dnat to 192.0.2.4\n }\n}\n";
        assert_eq!(codes(&test_lint("unreachable-rule", plain)), ["W1004"]);
    }

    #[test]
    fn passes() {
        for rules in [
            "tcp dport 22 accept\naccept",
            "jump x\ntcp dport 22 accept",
            "limit rate 10/second accept\ntcp dport 22 accept",
            "counter\ntcp dport 22 accept",
            "ip saddr @s accept\ntcp dport 22 accept",
            "ct state ! established,related drop\nct state established accept",
            "ct state != { established, related } drop\nct state established accept",
        ] {
            let text = format!(
                "table inet t {{\n set s {{ type ipv4_addr; }}\n chain x {{\n }}\n chain c {{\n  type filter hook input priority 0; policy accept;\n{rules}\n }}\n}}\n"
            );
            assert!(codes(&test_lint("unreachable-rule", &text)).is_empty(), "{rules}");
        }
    }
}
