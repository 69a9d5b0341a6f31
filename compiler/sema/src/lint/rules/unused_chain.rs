use super::edges;
use crate::lint::LintCx;
use ctc_grammar::Diagnostic;

crate::declare_lint! {
    /// A regular chain that no base chain reaches.
    ///
    /// ## What it does
    /// Reports a chain without a hook that no base chain reaches through
    /// `jump`, `goto` or a verdict map (directly or through other chains).
    ///
    /// ## Why is this bad?
    /// No packet ever traverses its rules: they look like policy and are not.
    /// Often the `jump` to it was forgotten, or it jumps from a chain that is
    /// itself unreachable, or a typo sent the jump to another chain.
    ///
    /// ## Example
    /// ```nft
    /// table inet filter {
    ///     chain ssh_in {
    ///         ip saddr 192.0.2.0/24 accept
    ///     }
    ///     chain input {
    ///         type filter hook input priority filter; policy drop;
    ///         tcp dport 22 accept
    ///     }
    /// }
    /// ```
    ///
    /// ## Fix
    /// Jump to it from the base chain (`tcp dport 22 jump ssh_in`), or delete
    /// it. A chain that rules loaded later will jump to can be kept with
    /// `# ctc: allow(unused-chain)`.
    pub struct UnusedChain;
}

pub fn check(cx: &LintCx<'_>, out: &mut Vec<Diagnostic>) {
    for t in &cx.program.tables {
        let e = edges(t);
        let mut seen = vec![false; t.chains.len()];
        let mut work: Vec<usize> = (0..t.chains.len()).filter(|&i| t.chains[i].base.is_some()).collect();
        while let Some(x) = work.pop() {
            if std::mem::replace(&mut seen[x], true) {
                continue;
            }
            work.extend(e[x].iter().copied());
        }
        for (i, c) in t.chains.iter().enumerate() {
            if seen[i] || c.anonymous {
                continue;
            }
            out.push(
                Diagnostic::warning("W3003", format!("chain `{}` is never reached", c.name))
                    .with_label(c.span, "no base chain jumps or goes to this chain")
                    .with_help(format!("jump to it from a base chain (`jump {}`) or delete it", c.name)),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::rules::codes;
    use crate::lint::test_lint;

    fn run(body: &str) -> Vec<&'static str> {
        codes(&test_lint("unused-chain", &format!("table inet t {{\n{body}\n}}\n")))
    }

    #[test]
    fn fails() {
        assert_eq!(run("chain x { accept; }\nchain c { type filter hook input priority 0; }"), ["W3003"]);
        assert_eq!(run("chain y { accept; }\nchain x { jump y; }"), ["W3003", "W3003"]);
    }

    #[test]
    fn passes() {
        assert!(run("chain x { accept; }\nchain c { type filter hook input priority 0; jump x; }").is_empty());
        assert!(
            run("chain x { accept; }\nchain c { type filter hook input priority 0; tcp dport vmap { 22 : goto x }; }")
                .is_empty()
        );
        assert!(run("map m { type inet_service : verdict; elements = { 22 : jump x }; }\nchain x { accept; }\nchain c { type filter hook input priority 0; tcp dport vmap @m; }").is_empty());
    }
}
