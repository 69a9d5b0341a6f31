use super::{CT_RELATED, accepts, chain_of, ct_states, has_state};
use crate::hir::{ObjTarget, ObjectKind, StmtKind};
use crate::lint::LintCx;
use crate::lint::space::DimKey;
use ctc_grammar::Diagnostic;

crate::declare_lint! {
    /// RELATED is accepted for every helper while only specific helpers are assigned.
    ///
    /// ## What it does
    /// When a table assigns conntrack helpers with `ct helper set`, reports
    /// each rule of the table that accepts `ct state related` without
    /// restricting which helper created the connection (`ct helper "ftp"`).
    /// Off by default (`--warn related-not-restricted` turns it on): the
    /// blanket `ct state established,related accept` is the common idiom,
    /// and ICMP errors are RELATED without any helper.
    ///
    /// ## Why is this bad?
    /// The rule accepts the expected connections of any helper, not only the
    /// one the ruleset means to allow. The netfilter project's guide to the
    /// secure use of helpers recommends accepting RELATED per helper, so a
    /// helper loaded or assigned elsewhere cannot open more than intended.
    ///
    /// ## Example
    /// ```nft
    /// table inet filter {
    ///     ct helper ftp-standard {
    ///         type "ftp" protocol tcp
    ///     }
    ///     chain forward {
    ///         type filter hook forward priority filter; policy drop;
    ///         ct state established,related accept
    ///         tcp dport 21 ct helper set "ftp-standard" accept
    ///     }
    /// }
    /// ```
    ///
    /// ## Fix
    /// Accept established packets on their own, RELATED per helper, and the
    /// ICMP errors: `ct state established accept`, `ct state related ct
    /// helper "ftp" accept`, `ct state related meta l4proto { icmp,
    /// ipv6-icmp } accept`.
    pub struct RelatedNotRestricted;
}

pub fn check(cx: &LintCx<'_>, out: &mut Vec<Diagnostic>) {
    for r in cx.anomalies() {
        let (t, c) = chain_of(cx, r);
        let helpers: Vec<String> = t
            .chains
            .iter()
            .flat_map(|c| &c.rules)
            .flat_map(|r| &r.stmts)
            .filter_map(|s| match &s.kind {
                StmtKind::ObjRef { kind: ObjectKind::CtHelper, target: ObjTarget::Name(n) } => Some(
                    t.object(ObjectKind::CtHelper, n)
                        .and_then(|o| o.helper.as_ref())
                        .map_or(n.clone(), |h| h.name.clone()),
                ),
                _ => None,
            })
            .collect();
        let Some(helper) = helpers.first() else { continue };
        let helper_dim = r.dim(&DimKey::Ct { key: "helper", dir: None });
        for (i, rule) in c.rules.iter().enumerate() {
            let m = &r.models[i];
            if !accepts(rule) || !ct_states(r, m).is_some_and(|s| has_state(&s, CT_RELATED)) {
                continue;
            }
            let restricted = helper_dim.is_some_and(|d| m.region.iter().all(|cube| cube.cons.iter().any(|(x, _)| *x == d)))
                || rule.stmts.iter().any(|s| matches!(&s.kind, StmtKind::Match { lhs, .. } if matches!(lhs.kind, crate::hir::ExprKind::Ct { key: "helper", .. })));
            if restricted {
                continue;
            }
            out.push(
                Diagnostic::warning("W2005", "RELATED connections of every helper are accepted")
                    .with_label(rule.span, "accepts ct state related whatever helper created the connection")
                    .with_help(format!(
                        "accept RELATED per helper: `ct state related ct helper \"{helper}\" accept`, and ICMP errors with `ct state related meta l4proto {{ icmp, ipv6-icmp }} accept`"
                    )),
            );
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
        codes(&test_lint("related-not-restricted", &text))
    }

    #[test]
    fn fails() {
        assert_eq!(run("ct state established,related accept\ntcp dport 21 ct helper set \"h\""), ["W2005"]);
    }

    #[test]
    fn passes() {
        assert!(run("ct state established accept\nct state related ct helper \"ftp\" accept\ntcp dport 21 ct helper set \"h\"").is_empty());
        assert!(run("ct state established,related accept").is_empty());
    }
}
