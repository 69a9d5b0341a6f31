use crate::hir::{Expr, ExprKind, ExprType, SetElem, StmtKind};
use crate::lint::LintCx;
use crate::lint::space::{IvSet, element_boxes};
use ctc_grammar::Diagnostic;
use std::collections::HashMap;

crate::declare_lint! {
    /// The same element twice in a set.
    ///
    /// ## What it does
    /// Reports an element of a named set or of an anonymous set (`{ ... }` in
    /// a rule) that is equal to an earlier element of the same set — the same
    /// value, written the same way or not (`22` and `ssh`, `10.0.0.1` and
    /// `10.0.0.1/32`).
    ///
    /// ## Why is this bad?
    /// nft keeps one copy, so nothing breaks, but the duplicate is noise and
    /// often hides a typo: the author meant another value, which is now
    /// missing from the set.
    ///
    /// ## Example
    /// ```nft
    /// table inet filter {
    ///     chain input {
    ///         type filter hook input priority filter; policy drop;
    ///         tcp dport { 22, 80, 443, 80 } accept
    ///     }
    /// }
    /// ```
    ///
    /// ## Fix
    /// Delete the duplicate, or correct it to the value that was meant.
    pub struct DuplicateElement;
}

/// Key widths of an expression's type.
pub(crate) fn widths(ty: &ExprType) -> Option<Vec<u32>> {
    match ty {
        ExprType::Scalar(k) => Some(vec![k.bits]),
        ExprType::Concat(ks) => Some(ks.iter().map(|k| k.bits).collect()),
        _ => None,
    }
}

/// Every set of the ruleset: named sets (not maps: overlapping map keys are
/// errors already) and anonymous sets of matches, with their key widths.
pub(crate) fn all_sets<'a>(cx: &LintCx<'a>) -> Vec<(Vec<u32>, &'a [SetElem], bool)> {
    let mut out = Vec::new();
    for t in &cx.program.tables {
        for s in &t.sets {
            if s.is_map {
                continue;
            }
            out.push((s.key.iter().map(|k| k.bits).collect(), s.elements.as_slice(), s.is_interval()));
        }
        for c in &t.chains {
            for r in &c.rules {
                for st in &r.stmts {
                    if let StmtKind::Match { lhs, rhs: Expr { kind: ExprKind::SetLit(elems), .. }, .. } = &st.kind
                        && let Some(w) = widths(&lhs.ty)
                    {
                        out.push((w, elems.as_slice(), true));
                    }
                }
            }
        }
    }
    out
}

pub fn check(cx: &LintCx<'_>, out: &mut Vec<Diagnostic>) {
    for (w, elems, _) in all_sets(cx) {
        let mut first: HashMap<Vec<IvSet>, &SetElem> = HashMap::new();
        for e in elems {
            let Some(key) = element_boxes(&e.key, &w) else { continue };
            match first.get(&key) {
                Some(earlier) => out.push(
                    Diagnostic::warning("W3005", format!("`{}` is already in this set", cx.text(e.key.span)))
                        .with_label(e.key.span, "duplicate element")
                        .with_secondary(earlier.key.span, "the same value")
                        .with_help("delete the duplicate, or correct it to the value you meant"),
                ),
                None => {
                    first.insert(key, e);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::rules::codes;
    use crate::lint::test_lint;

    fn run(body: &str) -> Vec<&'static str> {
        codes(&test_lint("duplicate-element", &format!("table inet t {{\n{body}\n}}\n")))
    }

    #[test]
    fn fails() {
        assert_eq!(run("chain c { tcp dport { 22, 80, 443, 80 } accept; }"), ["W3005"]);
        assert_eq!(run("chain c { tcp dport { ssh, 22 } accept; }"), ["W3005"]);
        assert_eq!(run("set s { type ipv4_addr; elements = { 10.0.0.1, 10.0.0.2, 10.0.0.1 }; }"), ["W3005"]);
        assert_eq!(run("chain c { ip saddr . tcp dport { 1.2.3.4 . 22, 1.2.3.4 . 22 } accept; }"), ["W3005"]);
    }

    #[test]
    fn passes() {
        assert!(run("chain c { tcp dport { 22, 80, 443 } accept; }").is_empty());
        assert!(run("chain c { ip saddr . tcp dport { 1.2.3.4 . 22, 1.2.3.4 . 80 } accept; }").is_empty());
    }
}
