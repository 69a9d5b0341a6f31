use crate::lint::LintCx;
use ctc_grammar::Diagnostic;

crate::declare_lint! {
    /// A named set or map that no rule uses.
    ///
    /// ## What it does
    /// Reports a set or map declared in a table when no rule of the ruleset
    /// refers to it (`@name` in a match, a map lookup, a verdict map, a
    /// dynamic set update, a NAT or object map).
    ///
    /// ## Why is this bad?
    /// The set costs memory in the kernel and attention in review, and it
    /// often means the rule that should use it was forgotten or points at
    /// another set by mistake (`@blocklist` next to an unused `@block_list`).
    ///
    /// ## Example
    /// ```nft
    /// table inet filter {
    ///     set blocklist {
    ///         type ipv4_addr
    ///         elements = { 203.0.113.7 }
    ///     }
    ///     chain input {
    ///         type filter hook input priority filter; policy accept;
    ///         ip saddr 203.0.113.7 drop
    ///     }
    /// }
    /// ```
    ///
    /// ## Fix
    /// Use the set (`ip saddr @blocklist drop`) or delete it. A set filled
    /// from outside (by a daemon, with `nft add element`) and used by rules
    /// loaded later can be kept with `# ctc: allow(unused-set)`.
    pub struct UnusedSet;
}

pub fn check(cx: &LintCx<'_>, out: &mut Vec<Diagnostic>) {
    for t in &cx.program.tables {
        for s in &t.sets {
            let used = cx.usage.sets.iter().any(|(f, tn, sn)| *f == t.family && *tn == t.name && *sn == s.name);
            if used {
                continue;
            }
            let what = if s.is_map { "map" } else { "set" };
            out.push(
                Diagnostic::warning("W3001", format!("{what} @{} is never used", s.name))
                    .with_label(s.span, format!("no rule refers to this {what}"))
                    .with_help(format!("use it in a rule (`@{}`) or delete it", s.name)),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::rules::codes;
    use crate::lint::test_lint;

    fn run(body: &str) -> Vec<&'static str> {
        codes(&test_lint("unused-set", &format!("table inet t {{\n{body}\n}}\n")))
    }

    #[test]
    fn fails() {
        assert_eq!(run("set s { type ipv4_addr; }\nchain c { ip saddr 1.2.3.4 drop; }"), ["W3001"]);
        assert_eq!(run("map m { type inet_service : verdict; }"), ["W3001"]);
    }

    #[test]
    fn passes() {
        assert!(run("set s { type ipv4_addr; }\nchain c { ip saddr @s drop; }").is_empty());
        assert!(run("map m { type inet_service : verdict; }\nchain c { tcp dport vmap @m; }").is_empty());
        assert!(run("set s { type ipv4_addr; flags dynamic; }\nchain c { add @s { ip saddr }; }").is_empty());
    }
}
