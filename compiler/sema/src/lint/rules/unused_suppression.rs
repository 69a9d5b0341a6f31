use crate::lint::LintCx;
use crate::lint::suppress::Suppression;
use ctc_grammar::Diagnostic;

crate::declare_lint! {
    /// A `# ctc: allow(...)` comment that silences nothing.
    ///
    /// ## What it does
    /// Reports each name in a suppression comment that did not suppress a
    /// diagnostic on the line it covers (its own line when code precedes it,
    /// otherwise the next line with code), or that is not the name or code
    /// of a lint.
    ///
    /// ## Why is this bad?
    /// A stale suppression hides the next real problem on that line, and a
    /// misspelt name silences nothing while looking like it does.
    ///
    /// ## Example
    /// ```nft
    /// table inet filter {
    ///     chain input {
    ///         type filter hook input priority filter; policy drop;
    ///         # ctc: allow(shadowed-rule)
    ///         tcp dport 22 accept
    ///     }
    /// }
    /// ```
    ///
    /// ## Fix
    /// Delete the suppression, or correct the lint's name (`ctc explain
    /// --list` lists them).
    pub struct UnusedSuppression;
}

/// Suppressions are applied after every other lint ran; see `report`.
pub fn check(_cx: &LintCx<'_>, _out: &mut Vec<Diagnostic>) {}

/// Report the names of `sups` that suppressed nothing.
pub fn report(sups: &[Suppression], out: &mut Vec<Diagnostic>) {
    for s in sups {
        for n in &s.names {
            if n.code.is_none() {
                out.push(
                    Diagnostic::warning("W0001", format!("`{}` is not a lint", n.name))
                        .with_label(n.span, "unknown lint name")
                        .with_help("`ctc explain --list` lists the lints (codes starting with W)"),
                );
            } else if !n.used {
                out.push(
                    Diagnostic::warning("W0001", format!("suppression of `{}` silences nothing", n.name))
                        .with_label(n.span, "no such diagnostic on the line this comment covers")
                        .with_help("delete it"),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::LintConfig;
    use crate::lint::rules::codes;

    fn run(rules: &str) -> Vec<&'static str> {
        let text = format!(
            "table inet t {{\n chain c {{\n  type filter hook prerouting priority 0; policy drop;\n{rules}\n }}\n}}\n"
        );
        let (a, sources) = crate::lint::test_support::analyze_text(&text);
        codes(&crate::lint::run(&a.program, &a.usage, &sources, &LintConfig::default()))
    }

    #[test]
    fn fails() {
        assert_eq!(run("# ctc: allow(shadowed-rule)\ntcp dport 22 accept"), ["W0001"]);
        assert_eq!(run("tcp dport 22 accept # ctc: allow(no-such-lint)"), ["W0001"]);
    }

    #[test]
    fn passes() {
        assert!(
            run("ip saddr 10.0.0.0/8 accept\n# ctc: allow(shadowed-rule)\nip saddr 10.1.2.3 tcp dport 22 counter drop")
                .is_empty()
        );
        assert!(run("ip saddr 10.0.0.0/8 accept\nip saddr 10.1.2.3 counter drop # ctc: allow(W1001)").is_empty());
        assert_eq!(run("ip saddr 10.0.0.0/8 accept\nip saddr 10.1.2.3 counter drop"), ["W1001"]);
    }
}
