use super::{chain_of, decides_phrase, rule_name};
use crate::lint::LintCx;
use crate::lint::anomaly::Finding;
use ctc_grammar::Diagnostic;

crate::declare_lint! {
    /// A rule that can be removed without changing any decision.
    ///
    /// ## What it does
    /// Reports a rule of a chain that is redundant (Al-Shaer & Hamed): either
    /// an earlier rule with the same verdict already matches every packet it
    /// matches (so it never runs), or a later rule with the same verdict
    /// matches all its packets and every rule in between that shares packets
    /// with it decides them the same way. The chain's end counts as a last
    /// rule: `tcp dport 23 drop` in a chain whose policy is drop, with no
    /// accepting rule after it for those packets, is redundant (the policy
    /// decides every packet that reaches the end, exactly as a last rule
    /// matching everything would; if the explicit rule documents intent,
    /// keep it with `# ctc: allow(redundant-rule)`). A rule with
    /// side effects (counter, log, set update) is only reported when it can
    /// never run.
    ///
    /// ## Why is this bad?
    /// Redundant rules make a ruleset longer and slower to evaluate, and they
    /// mislead: a reader assumes each rule matters. When the ruleset is later
    /// edited, the duplicate copy is easily left inconsistent.
    ///
    /// ## Example
    /// ```nft
    /// table inet filter {
    ///     chain input {
    ///         type filter hook input priority filter; policy drop;
    ///         tcp dport { 22, 80, 443 } accept
    ///         tcp dport 22 accept
    ///     }
    /// }
    /// ```
    ///
    /// ## Fix
    /// Delete the redundant rule (here `tcp dport 22 accept`).
    pub struct RedundantRule;
}

pub fn check(cx: &LintCx<'_>, out: &mut Vec<Diagnostic>) {
    for r in cx.anomalies() {
        let (_, c) = chain_of(cx, r);
        for f in &r.findings {
            let Finding::Redundant { rule, by } = *f else { continue };
            let this = &c.rules[rule];
            let d = if by < rule {
                Diagnostic::warning(
                    "W1002",
                    format!(
                        "redundant rule: {} already {} every packet this rule matches",
                        rule_name(cx, c, by),
                        decides_phrase(&r.actions[by])
                    ),
                )
                .with_label(this.span, "this rule never runs")
                .with_secondary(c.rules[by].span, "matches these packets first, with the same verdict")
            } else {
                let d = Diagnostic::warning(
                    "W1002",
                    format!(
                        "redundant rule: without it, {} {} every packet it matches",
                        rule_name(cx, c, by),
                        decides_phrase(&r.actions[by])
                    ),
                )
                .with_label(this.span, "removing this rule changes no decision");
                match c.rules.get(by) {
                    Some(later) => d.with_secondary(later.span, "decides these packets the same way"),
                    None => match &c.base {
                        Some(b) => d.with_secondary(b.span, "the chain's policy"),
                        None => d,
                    },
                }
            };
            let mut d = d.with_help("delete this rule");
            if let Some((_, note)) = c.rules.get(by).and_then(super::ct_state_value_compare) {
                d = d.with_note(note);
            }
            out.push(d);
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::rules::codes;
    use crate::lint::test_lint;

    fn run(policy: &str, rules: &str) -> Vec<&'static str> {
        let text = format!(
            "table inet t {{\n chain c {{\n  type filter hook input priority 0; policy {policy};\n{rules}\n }}\n}}\n"
        );
        codes(&test_lint("redundant-rule", &text))
    }

    #[test]
    fn fails() {
        for (p, rules) in [
            ("drop", "tcp dport { 22, 80, 443 } accept\ntcp dport 22 accept"),
            ("drop", "tcp dport 23 drop"),
            ("drop", "ip saddr 10.1.2.3 accept\nip saddr 192.168.0.0/16 counter drop\nip saddr 10.0.0.0/8 accept"),
            ("accept", "ip saddr 10.0.0.0/8 drop\nip saddr 10.1.0.0/16 counter drop"),
        ] {
            assert_eq!(run(p, rules), ["W1002"], "{rules}");
        }
    }

    #[test]
    fn passes() {
        for (p, rules) in [
            ("accept", "tcp dport 23 drop"),
            ("drop", "tcp dport 23 counter drop"),
            ("drop", "ip saddr 10.1.2.3 accept\nip saddr 10.1.0.0/16 drop\nip saddr 10.0.0.0/8 accept"),
            ("drop", "ip saddr 10.1.2.3 accept\nip saddr 10.1.0.0/16 counter\nip saddr 10.0.0.0/8 accept"),
            ("drop", "ip saddr 10.1.2.3 accept\ntcp dport 22 limit rate 1/second drop\nip saddr 10.0.0.0/8 accept"),
            ("drop", "ip saddr 10.1.2.3 accept\nip saddr 10.0.0.0/8 counter accept"),
        ] {
            assert!(run(p, rules).is_empty(), "{rules}");
        }
    }
}
