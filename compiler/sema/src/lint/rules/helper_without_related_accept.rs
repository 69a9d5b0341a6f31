use super::{CT_RELATED, accepts, ct_states, has_state, vmap_accepted_states};
use crate::hir::{ChainType, Hook, ObjTarget, ObjectKind, Policy, StmtKind};
use crate::lint::LintCx;
use ctc_grammar::Diagnostic;

crate::declare_lint! {
    /// A conntrack helper is assigned, but no rule accepts RELATED packets.
    ///
    /// ## What it does
    /// Reports a `ct helper set` statement when the ruleset has a drop-policy
    /// filter chain at the input or forward hook and no rule anywhere accepts
    /// `ct state related` (in a match or a `ct state vmap`).
    ///
    /// ## Why is this bad?
    /// A helper (FTP, TFTP, SIP, ...) reads the control connection and
    /// announces the connection that will follow (the FTP data connection) as
    /// an expectation. That connection's packets are in ct state RELATED, and
    /// a chain that does not accept RELATED drops them: the helper is loaded
    /// and does its work, and the data connection still fails.
    ///
    /// ## Example
    /// ```nft
    /// table inet filter {
    ///     ct helper ftp-standard {
    ///         type "ftp" protocol tcp
    ///     }
    ///     chain forward {
    ///         type filter hook forward priority filter; policy drop;
    ///         ct state established accept
    ///         tcp dport 21 ct helper set "ftp-standard" accept
    ///     }
    /// }
    /// ```
    ///
    /// ## Fix
    /// Accept the related connections of that helper:
    /// `ct state related ct helper "ftp" accept` (or `ct state
    /// established,related accept`).
    pub struct HelperWithoutRelatedAccept;
}

pub fn check(cx: &LintCx<'_>, out: &mut Vec<Diagnostic>) {
    let mut related_accepted = false;
    let mut drop_chain = false;
    for r in cx.anomalies() {
        let t = &cx.program.tables[r.table];
        let c = &t.chains[r.chain];
        if let Some(b) = &c.base
            && b.ty == ChainType::Filter
            && b.policy == Policy::Drop
            && matches!(b.hook, Hook::Input | Hook::Forward)
        {
            drop_chain = true;
        }
        for (i, rule) in c.rules.iter().enumerate() {
            if has_state(&vmap_accepted_states(rule), CT_RELATED)
                || (accepts(rule) && ct_states(r, &r.models[i]).is_some_and(|s| has_state(&s, CT_RELATED)))
            {
                related_accepted = true;
            }
        }
    }
    if related_accepted || !drop_chain {
        return;
    }
    for t in &cx.program.tables {
        for c in &t.chains {
            for rule in &c.rules {
                for s in &rule.stmts {
                    if let StmtKind::ObjRef { kind: ObjectKind::CtHelper, target } = &s.kind {
                        let name = match target {
                            ObjTarget::Name(n) => format!("`{n}`"),
                            ObjTarget::Map(_) => "from a map".into(),
                        };
                        out.push(
                            Diagnostic::warning(
                                "W2004",
                                format!("helper {name} is assigned, but no rule accepts ct state related"),
                            )
                            .with_label(s.span, "the helper's expected connections will be RELATED")
                            .with_help(
                                "accept them: `ct state related ct helper \"ftp\" accept` (with the helper's type)",
                            ),
                        );
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::rules::codes;
    use crate::lint::test_lint;

    fn run(rules: &str) -> Vec<&'static str> {
        let text = format!(
            "table inet t {{\n ct helper h {{ type \"ftp\" protocol tcp; }}\n chain c {{\n  type filter hook forward priority 0; policy drop;\n{rules}\n }}\n}}\n"
        );
        codes(&test_lint("helper-without-related-accept", &text))
    }

    #[test]
    fn fails() {
        assert_eq!(run("ct state established accept\ntcp dport 21 ct helper set \"h\" accept"), ["W2004"]);
        assert_eq!(run("ct state related drop\ntcp dport 21 ct helper set \"h\""), ["W2004"]);
    }

    #[test]
    fn passes() {
        assert!(run("ct state established,related accept\ntcp dport 21 ct helper set \"h\" accept").is_empty());
        assert!(run("ct state related ct helper \"ftp\" accept\ntcp dport 21 ct helper set \"h\"").is_empty());
        assert!(
            run("ct state vmap { established : accept, related : accept }\ntcp dport 21 ct helper set \"h\"")
                .is_empty()
        );
        assert!(run("ct state established accept").is_empty());
    }
}
