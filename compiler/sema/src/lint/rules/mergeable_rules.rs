use crate::hir::{self, ExprKind, RelOp, StmtKind};
use crate::lint::LintCx;
use crate::lint::space::{self, IvSet};
use ctc_grammar::{Diagnostic, Span};

crate::declare_lint! {
    /// Adjacent rules that differ in one value: one rule with a set or a verdict map.
    ///
    /// ## What it does
    /// Reports a run of adjacent rules of a chain that are identical except
    /// for the value of one match (`tcp dport 22 accept`, `tcp dport 80
    /// accept`), and shows the merged rule: an anonymous set when the
    /// verdicts are the same, a verdict map when only the verdicts differ as
    /// well (and the values do not overlap, so the first-match order does not
    /// matter). This is what `nft -o` (optimize) does, explained. Rules
    /// separated by a blank line or a comment are groups the author kept
    /// apart on purpose, and are not merged across. Rules with
    /// counters, limits, logs or comments are left alone, since merging would
    /// merge their state. A note, not a warning, by default: the rules are
    /// correct as written; merging them only makes the ruleset shorter and
    /// its evaluation faster.
    ///
    /// ## Why is this bad?
    /// Each rule is evaluated in turn; a set or map is one lookup (a hash or
    /// an interval tree in the kernel). Long runs of near-identical rules are
    /// slower to evaluate, longer to read, and easy to get out of step.
    ///
    /// ## Example
    /// ```nft
    /// table inet filter {
    ///     chain input {
    ///         type filter hook input priority filter; policy drop;
    ///         tcp dport 22 accept
    ///         tcp dport 80 accept
    ///         tcp dport 443 accept
    ///     }
    /// }
    /// ```
    ///
    /// ## Fix
    /// Write the merged rule: `tcp dport { 22, 80, 443 } accept`; for
    /// different verdicts, `tcp dport vmap { 22 : accept, 23 : drop }`.
    pub struct MergeableRules;
}

/// How two rules differ, when they differ in one match value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// Statement `idx` (a match) differs; everything else is the same.
    Set { idx: usize },
    /// Statement `idx` differs and so does the final verdict.
    Vmap { idx: usize },
}

fn norm(cx: &LintCx<'_>, s: Span) -> String {
    cx.text(s).split_whitespace().collect::<Vec<_>>().join(" ")
}

fn simple(r: &hir::Rule) -> bool {
    r.comment.is_none()
        && r.stmts.iter().all(|s| matches!(s.kind, StmtKind::Match { .. } | StmtKind::Verdict(_)))
        && r.stmts.iter().filter(|s| matches!(s.kind, StmtKind::Verdict(_))).count() <= 1
}

/// The varying match must be a plain value comparison on a non-flag field.
fn mergeable_match(s: &hir::Stmt) -> bool {
    let StmtKind::Match { lhs, op, rhs } = &s.kind else { return false };
    let flag = match &lhs.ty {
        hir::ExprType::Scalar(k) => space::is_bitmask(k.ty),
        _ => false,
    };
    matches!(op, RelOp::Implicit | RelOp::Eq)
        && !flag
        && matches!(
            rhs.kind,
            ExprKind::Value(_) | ExprKind::Prefix { .. } | ExprKind::Range { .. } | ExprKind::SetLit(_)
        )
}

/// Whether `b` follows `a` with nothing but a line break between them: a
/// blank line or a comment between two rules says the author grouped them
/// apart on purpose.
fn adjacent(cx: &LintCx<'_>, a: &hir::Rule, b: &hir::Rule) -> bool {
    if a.span.file != b.span.file || b.span.start < a.span.end {
        return false;
    }
    let gap = ctc_grammar::Span { file: a.span.file, start: a.span.end, end: b.span.start };
    let between = cx.text(gap);
    between.matches('\n').count() <= 1 && !between.contains('#')
}

fn shape(cx: &LintCx<'_>, a: &hir::Rule, b: &hir::Rule) -> Option<Shape> {
    if !simple(a) || !simple(b) || a.stmts.len() != b.stmts.len() || a.span.file != b.span.file {
        return None;
    }
    let mut diff = Vec::new();
    for (i, (x, y)) in a.stmts.iter().zip(&b.stmts).enumerate() {
        if norm(cx, x.span) != norm(cx, y.span) {
            diff.push(i);
        }
    }
    let last = a.stmts.len() - 1;
    let verdict_last =
        matches!(a.stmts[last].kind, StmtKind::Verdict(_)) && matches!(b.stmts[last].kind, StmtKind::Verdict(_));
    let same_lhs = |i: usize| match (&a.stmts[i].kind, &b.stmts[i].kind) {
        (StmtKind::Match { lhs: l1, .. }, StmtKind::Match { lhs: l2, .. }) => {
            norm(cx, l1.span) == norm(cx, l2.span) && mergeable_match(&a.stmts[i]) && mergeable_match(&b.stmts[i])
        }
        _ => false,
    };
    match diff.as_slice() {
        [i] if same_lhs(*i) => Some(Shape::Set { idx: *i }),
        [i, l] if *l == last && verdict_last && same_lhs(*i) => Some(Shape::Vmap { idx: *i }),
        _ => None,
    }
}

fn rhs_of(s: &hir::Stmt) -> Option<(&hir::Expr, &hir::Expr)> {
    match &s.kind {
        StmtKind::Match { lhs, rhs, .. } => Some((lhs, rhs)),
        _ => None,
    }
}

/// The values of a match as element texts (a set literal's elements, or
/// the one value).
fn element_texts(cx: &LintCx<'_>, rhs: &hir::Expr) -> Vec<String> {
    match &rhs.kind {
        ExprKind::SetLit(elems) => elems.iter().map(|e| norm(cx, e.key.span)).collect(),
        _ => vec![norm(cx, rhs.span)],
    }
}

fn value_sets(lhs: &hir::Expr, rhs: &hir::Expr) -> Option<IvSet> {
    let bits = match &lhs.ty {
        hir::ExprType::Scalar(k) => k.bits,
        _ => return None,
    };
    match &rhs.kind {
        ExprKind::SetLit(elems) => {
            let mut all = Vec::new();
            for e in elems {
                all.extend(space::value_set(&e.key, bits)?.0);
            }
            Some(IvSet::from_vec(all))
        }
        _ => space::value_set(rhs, bits),
    }
}

pub fn check(cx: &LintCx<'_>, out: &mut Vec<Diagnostic>) {
    for c in cx.program.tables.iter().flat_map(|t| &t.chains) {
        let mut i = 0;
        while i + 1 < c.rules.len() {
            let Some(sh) =
                shape(cx, &c.rules[i], &c.rules[i + 1]).filter(|_| adjacent(cx, &c.rules[i], &c.rules[i + 1]))
            else {
                i += 1;
                continue;
            };
            let mut end = i + 1;
            while end + 1 < c.rules.len()
                && adjacent(cx, &c.rules[end], &c.rules[end + 1])
                && shape(cx, &c.rules[i], &c.rules[end + 1]) == Some(sh)
            {
                end += 1;
            }
            let run = &c.rules[i..=end];
            if let Some(d) = suggest(cx, run, sh) {
                out.push(d);
            }
            i = end + 1;
        }
    }
}

fn suggest(cx: &LintCx<'_>, run: &[hir::Rule], sh: Shape) -> Option<Diagnostic> {
    let first = &run[0];
    let rewrite = match sh {
        Shape::Set { idx } => {
            let mut values = Vec::new();
            for r in run {
                let (_, rhs) = rhs_of(&r.stmts[idx])?;
                for v in element_texts(cx, rhs) {
                    if !values.contains(&v) {
                        values.push(v);
                    }
                }
            }
            let (_, rhs) = rhs_of(&first.stmts[idx])?;
            let text = cx.text(first.span);
            // A value from a variable points into its `define`: no rewrite.
            if rhs.span.file != first.span.file || rhs.span.start < first.span.start || rhs.span.end > first.span.end {
                return None;
            }
            let (a, b) = ((rhs.span.start - first.span.start) as usize, (rhs.span.end - first.span.start) as usize);
            if b > text.len() || !text.is_char_boundary(a) || !text.is_char_boundary(b) {
                return None;
            }
            format!("{}{{ {} }}{}", &text[..a], values.join(", "), &text[b..])
        }
        Shape::Vmap { idx } => {
            // First-match order only stays irrelevant if the values are disjoint.
            let mut seen = IvSet::empty();
            let mut elems = Vec::new();
            for r in run {
                let (lhs, rhs) = rhs_of(&r.stmts[idx])?;
                let v = value_sets(lhs, rhs)?;
                if v.intersects(&seen) {
                    return None;
                }
                seen = seen.union(&v);
                let verdict = norm(cx, r.stmts.last()?.span);
                elems.extend(element_texts(cx, rhs).into_iter().map(|e| format!("{e} : {verdict}")));
            }
            let (lhs, _) = rhs_of(&first.stmts[idx])?;
            let mut parts: Vec<String> = Vec::new();
            for (k, s) in first.stmts.iter().enumerate() {
                if k != idx && k != first.stmts.len() - 1 {
                    parts.push(norm(cx, s.span));
                }
            }
            parts.push(format!("{} vmap {{ {} }}", norm(cx, lhs.span), elems.join(", ")));
            parts.join(" ")
        }
    };
    let what = match sh {
        Shape::Set { .. } => "a set",
        Shape::Vmap { .. } => "a verdict map",
    };
    let mut d = Diagnostic::warning(
        "W4001",
        format!("these {} rules differ in one value: one rule with {what} does the same", run.len()),
    )
    .with_label(first.span, "the first of the rules");
    for r in &run[1..] {
        d = d.with_secondary(r.span, "differs from the first in one value");
    }
    Some(d.with_help(format!("write one rule: `{rewrite}`")))
}

#[cfg(test)]
mod tests {
    use crate::lint::rules::codes;
    use crate::lint::test_lint;

    fn run(rules: &str) -> Vec<ctc_grammar::Diagnostic> {
        let text = format!(
            "table inet t {{\n chain c {{\n  type filter hook input priority 0; policy drop;\n{rules}\n }}\n}}\n"
        );
        test_lint("mergeable-rules", &text)
    }

    #[test]
    fn fails() {
        let d = run("tcp dport 22 accept\ntcp dport 80 accept\ntcp dport { 443, 8443 } accept");
        assert_eq!(codes(&d), ["W4001"]);
        assert!(
            d[0].help.as_deref().unwrap_or("").contains("`tcp dport { 22, 80, 443, 8443 } accept`"),
            "{:?}",
            d[0].help
        );
        let d = run("iifname \"lan0\" tcp dport 22 accept\niifname \"lan0\" tcp dport 23 drop");
        assert_eq!(codes(&d), ["W4001"]);
        assert!(
            d[0].help.as_deref().unwrap_or("").contains("`iifname \"lan0\" tcp dport vmap { 22 : accept, 23 : drop }`"),
            "{:?}",
            d[0].help
        );
    }

    #[test]
    fn passes() {
        assert!(run("tcp dport 22 accept\nudp dport 53 accept").is_empty());
        assert!(run("tcp dport 22 counter accept\ntcp dport 80 counter accept").is_empty());
        assert!(run("tcp dport 1-100 accept\ntcp dport 50 drop").is_empty());
        assert!(run("tcp flags syn accept\ntcp flags ack accept").is_empty());
        assert!(run("tcp dport 22 accept\nip saddr 1.2.3.4 drop\ntcp dport 80 accept").is_empty());
        assert!(run("tcp dport 22 accept\n\ntcp dport 80 accept").is_empty());
        assert!(run("tcp dport 22 accept\n# web\ntcp dport 80 accept").is_empty());
    }
}
