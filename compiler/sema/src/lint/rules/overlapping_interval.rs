use super::duplicate_element::all_sets;
use crate::lint::LintCx;
use crate::lint::space::{IvSet, element_boxes};
use ctc_grammar::Diagnostic;

crate::declare_lint! {
    /// Two elements of a set whose ranges or prefixes overlap.
    ///
    /// ## What it does
    /// Reports an element of a set (named, or anonymous in a rule) whose
    /// values overlap an earlier, different element: a prefix inside another
    /// (`10.1.0.0/16` and `10.0.0.0/8`), two ranges that share values
    /// (`1000-2000` and `1500-2500`), a value inside a range.
    ///
    /// ## Why is this bad?
    /// For an anonymous set, or a named one with `auto-merge`, nft merges
    /// the intervals, so the smaller element adds nothing (in a named
    /// interval set without `auto-merge` nft refuses the overlap, an error:
    /// E2015). The set does not say what it looks like, and the overlap
    /// often hides a wrong prefix length or a typo in a bound.
    ///
    /// ## Example
    /// ```nft
    /// table inet filter {
    ///     chain input {
    ///         type filter hook input priority filter; policy accept;
    ///         ip saddr { 10.0.0.0/8, 10.1.0.0/16 } drop
    ///     }
    /// }
    /// ```
    ///
    /// ## Fix
    /// Delete the element that is inside another, or merge the overlapping
    /// ranges into one (`1000-2500`).
    pub struct OverlappingInterval;
}

/// Most overlaps reported per set.
const MAX_PER_SET: usize = 16;

pub fn check(cx: &LintCx<'_>, out: &mut Vec<Diagnostic>) {
    for (w, elems, _) in all_sets(cx) {
        if w.len() != 1 {
            continue;
        }
        let mut iv: Vec<(u128, u128, usize)> = Vec::new();
        for (i, e) in elems.iter().enumerate() {
            if let Some(b) = element_boxes(&e.key, &w)
                && let [IvSet(v)] = b.as_slice()
                && let [(lo, hi)] = v.as_slice()
            {
                iv.push((*lo, *hi, i));
            }
        }
        iv.sort_by_key(|&(lo, hi, i)| (lo, std::cmp::Reverse(hi), i));
        let mut reported = 0;
        let mut widest: Option<(u128, u128, usize)> = None;
        for &(lo, hi, i) in &iv {
            if let Some((wlo, whi, wi)) = widest {
                if lo <= whi && !(lo == wlo && hi == whi) && reported < MAX_PER_SET {
                    // The element written later is the one reported.
                    let (this, other) = if i > wi { (i, wi) } else { (wi, i) };
                    let (a, b) = (&elems[this], &elems[other]);
                    let contains = |x: usize, y: usize| {
                        let fx = iv.iter().find(|v| v.2 == x);
                        let fy = iv.iter().find(|v| v.2 == y);
                        matches!((fx, fy), (Some(p), Some(q)) if q.0 <= p.0 && p.1 <= q.1)
                    };
                    let msg = if contains(this, other) {
                        format!("`{}` lies inside `{}`", cx.text(a.key.span), cx.text(b.key.span))
                    } else if contains(other, this) {
                        format!("`{}` contains `{}`", cx.text(a.key.span), cx.text(b.key.span))
                    } else {
                        format!("`{}` overlaps `{}`", cx.text(a.key.span), cx.text(b.key.span))
                    };
                    out.push(
                        Diagnostic::warning("W3006", msg)
                            .with_label(a.key.span, "overlapping element")
                            .with_secondary(b.key.span, "overlaps this one")
                            .with_help("delete the inner element, or merge the two into one range"),
                    );
                    reported += 1;
                }
                if hi > whi {
                    widest = Some((lo, hi, i));
                }
            } else {
                widest = Some((lo, hi, i));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::rules::codes;
    use crate::lint::test_lint;

    fn run(body: &str) -> Vec<&'static str> {
        codes(&test_lint("overlapping-interval", &format!("table inet t {{\n{body}\n}}\n")))
    }

    #[test]
    fn fails() {
        assert_eq!(run("chain c { ip saddr { 10.0.0.0/8, 10.1.0.0/16 } drop; }"), ["W3006"]);
        assert_eq!(run("chain c { tcp dport { 1000-2000, 1500-2500 } drop; }"), ["W3006"]);
        assert_eq!(run("chain c { tcp dport { 1000-2000, 1500 } drop; }"), ["W3006"]);
    }

    #[test]
    fn passes() {
        assert!(run("chain c { ip saddr { 10.0.0.0/8, 11.0.0.0/8 } drop; }").is_empty());
        assert!(run("chain c { tcp dport { 1000-2000, 2001-2500 } drop; }").is_empty());
        assert!(run("chain c { tcp dport { 22, 22 } drop; }").is_empty());
    }
}
