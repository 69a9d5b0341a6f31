use crate::lint::LintCx;
use ctc_grammar::Diagnostic;

crate::declare_lint! {
    /// A variable defined with `define` that nothing uses.
    ///
    /// ## What it does
    /// Reports a `define NAME = VALUE` (or `redefine`) whose value is never
    /// read as `$NAME` before it is redefined, undefined, or goes out of
    /// scope. Variables given with `-D` on the command line are not reported.
    ///
    /// ## Why is this bad?
    /// An unused variable is usually a leftover, or a sign that a rule
    /// spells out the value again instead of using the variable (so the two
    /// will drift apart), or that a rule uses a similarly named variable.
    ///
    /// ## Example
    /// ```nft
    /// define ssh_port = 22
    /// table inet filter {
    ///     chain input {
    ///         type filter hook input priority filter; policy accept;
    ///         tcp dport 22 accept
    ///     }
    /// }
    /// ```
    ///
    /// ## Fix
    /// Use the variable (`tcp dport $ssh_port accept`) or delete the define.
    pub struct UnusedDefine;
}

pub fn check(cx: &LintCx<'_>, out: &mut Vec<Diagnostic>) {
    let mut seen = Vec::new();
    for d in &cx.usage.defines {
        if d.from_command_line || seen.contains(&d.span) {
            continue;
        }
        seen.push(d.span);
        // A file included twice defines twice: used in either counts.
        let used = cx.usage.defines.iter().any(|o| o.span == d.span && o.used);
        if used {
            continue;
        }
        out.push(
            Diagnostic::warning("W3002", format!("variable `${}` is never used", d.name))
                .with_label(d.span, "defined here, never read")
                .with_help(format!("use it as `${}` or delete the define", d.name)),
        );
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::rules::codes;
    use crate::lint::test_lint;

    fn run(text: &str) -> Vec<&'static str> {
        codes(&test_lint("unused-define", text))
    }

    #[test]
    fn fails() {
        assert_eq!(run("define p = 22\ntable inet t { chain c { tcp dport 22 accept; }; }\n"), ["W3002"]);
        assert_eq!(
            run("define p = 22\nredefine p = 23\ntable inet t { chain c { tcp dport $p accept; }; }\n"),
            ["W3002"]
        );
        assert_eq!(run("table inet t { define x = 1; chain c { meta mark 1 accept; }; }\n"), ["W3002"]);
    }

    #[test]
    fn passes() {
        assert!(run("define p = 22\ntable inet t { chain c { tcp dport $p accept; }; }\n").is_empty());
        assert!(
            run("define a = 22\ndefine b = { $a, 80 }\ntable inet t { chain c { tcp dport $b accept; }; }\n")
                .is_empty()
        );
        assert!(run("define t = filter\ntable inet $t { }\n").is_empty());
    }
}
