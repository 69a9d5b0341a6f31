use super::{chain_of, reaching_bases};
use crate::hir::{ChainType, StmtKind, Verdict};
use crate::lint::LintCx;
use ctc_grammar::Diagnostic;

crate::declare_lint! {
    /// A filtering verdict (`drop`, `reject`) in a NAT chain.
    ///
    /// ## What it does
    /// Reports `drop`, `reject` and `queue` in a chain of type nat, or in a
    /// regular chain reached only from nat chains. (`accept` in a nat chain
    /// is fine: it is how a connection is exempted from translation.)
    ///
    /// ## Why is this bad?
    /// A nat chain sees only the first packet of each connection: the
    /// translation chosen then applies to the whole connection without the
    /// chain being consulted again. A `drop` there filters nothing but the
    /// connection's first packet: the other packets of an existing
    /// connection, and packets conntrack marks INVALID or untracked, never
    /// reach it. Filtering belongs in filter chains, which see every packet.
    ///
    /// ## Example
    /// ```nft
    /// table ip nat {
    ///     chain prerouting {
    ///         type nat hook prerouting priority dstnat; policy accept;
    ///         ip saddr 203.0.113.0/24 drop
    ///         tcp dport 8080 dnat to 192.0.2.10:80
    ///     }
    /// }
    /// ```
    ///
    /// ## Fix
    /// Move the filtering rule to a filter chain (for example a `type filter
    /// hook prerouting priority filter` chain, or the forward chain).
    pub struct NatVerdictInNatChain;
}

pub fn check(cx: &LintCx<'_>, out: &mut Vec<Diagnostic>) {
    for r in cx.anomalies() {
        let (t, c) = chain_of(cx, r);
        let bases = &reaching_bases(t)[r.chain];
        let nat_only = !bases.is_empty()
            && bases.iter().all(|&b| t.chains[b].base.as_ref().is_some_and(|b| b.ty == ChainType::Nat));
        if !nat_only {
            continue;
        }
        for rule in &c.rules {
            for s in &rule.stmts {
                let what = match &s.kind {
                    StmtKind::Verdict(Verdict::Drop) => "drop",
                    StmtKind::Reject(_) => "reject",
                    StmtKind::Verdict(Verdict::Queue) | StmtKind::Queue(_) => "queue",
                    _ => continue,
                };
                out.push(
                    Diagnostic::warning(
                        "W2007",
                        format!("`{what}` in a nat chain filters only the first packet of a connection"),
                    )
                    .with_label(s.span, "nat chains see only the packet that creates a connection")
                    .with_help("filter in a filter chain, which sees every packet"),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::rules::codes;
    use crate::lint::test_lint;

    fn run(ty: &str, rules: &str) -> Vec<&'static str> {
        let text = format!(
            "table ip t {{\n chain c {{\n  type {ty} hook prerouting priority -100; policy accept;\n{rules}\n }}\n}}\n"
        );
        codes(&test_lint("nat-verdict-in-nat-chain", &text))
    }

    #[test]
    fn fails() {
        assert_eq!(run("nat", "ip saddr 203.0.113.0/24 drop"), ["W2007"]);
        assert_eq!(run("nat", "ip saddr 203.0.113.0/24 queue"), ["W2007"]);
    }

    #[test]
    fn passes() {
        assert!(run("nat", "ip saddr 192.0.2.0/24 accept\ntcp dport 8080 dnat to 192.0.2.10:80").is_empty());
        assert!(run("filter", "ip saddr 203.0.113.0/24 drop").is_empty());
    }
}
