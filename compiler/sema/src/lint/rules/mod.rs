//! One lint per file. Each file declares its marker struct with
//! [`crate::declare_lint!`] (the doc comment is the lint's documentation),
//! a `check` function, and its unit tests (inputs that must and must not
//! trigger it).

pub mod contradictory_match;
pub mod correlated_rules;
pub mod dnat_without_forward_accept;
pub mod duplicate_element;
pub mod helper_not_effective;
pub mod helper_without_related_accept;
pub mod invalid_not_dropped;
pub mod mergeable_rules;
pub mod missing_established_accept;
pub mod nat_verdict_in_nat_chain;
pub mod new_without_syn;
pub mod overlapping_interval;
pub mod redundant_rule;
pub mod related_not_restricted;
pub mod shadowed_rule;
pub mod unreachable_rule;
pub mod unused_chain;
pub mod unused_define;
pub mod unused_object;
pub mod unused_set;
pub mod unused_suppression;

use super::LintCx;
use super::anomaly::{Action, ChainReport};
use super::space::{DimKey, IvSet, RuleModel};
use crate::hir::{self, ExprKind, StmtKind, Verdict};

/// The table and chain of a report.
pub(crate) fn chain_of<'a>(cx: &LintCx<'a>, r: &ChainReport) -> (&'a hir::Table, &'a hir::Chain) {
    let t = &cx.program.tables[r.table];
    (t, &t.chains[r.chain])
}

/// How a message names rule `i` of a chain (`rules.len()`: the chain's end).
pub(crate) fn rule_name(cx: &LintCx<'_>, c: &hir::Chain, i: usize) -> String {
    match c.rules.get(i) {
        Some(r) => format!("the rule at line {}", cx.line_of(r.span)),
        None => match &c.base {
            Some(b) => format!("the policy of chain `{}` ({})", c.name, policy_word(b.policy)),
            None => format!("the end of chain `{}` (an implicit return)", c.name),
        },
    }
}

pub(crate) fn policy_word(p: hir::Policy) -> &'static str {
    match p {
        hir::Policy::Accept => "accept",
        hir::Policy::Drop => "drop",
    }
}

/// A rule's decision as a phrase: `accepts`, `drops`, `decides with
/// \`reject\``.
pub(crate) fn decides_phrase(a: &Action) -> String {
    match a {
        Action::Decides(v) if v == "accept" => "accepts".into(),
        Action::Decides(v) if v == "drop" => "drops".into(),
        Action::Decides(v) if v == "return" => "returns".into(),
        Action::Decides(v) => format!("ends with `{v}`"),
        Action::Continues => "lets through".into(),
        Action::Opaque => "decides".into(),
    }
}

/// The ct state values a model allows: `None` when some box leaves ct
/// state unconstrained.
pub(crate) fn ct_states(r: &ChainReport, m: &RuleModel) -> Option<IvSet> {
    let d = r.dim(&DimKey::Ct { key: "state", dir: None })?;
    let mut out = IvSet::empty();
    for c in &m.region {
        let s = c.cons.iter().find(|(x, _)| *x == d)?;
        out = out.union(&s.1);
    }
    Some(out)
}

/// `s` when it lies inside `outer`, else `outer`: a guard for spans that
/// are not where the rule is (statement spans stand at a variable's
/// `$name`, but an expression's span is in its `define`).
pub(crate) fn inside(outer: ctc_grammar::Span, s: ctc_grammar::Span) -> ctc_grammar::Span {
    if s.file == outer.file && s.start >= outer.start && s.end <= outer.end { s } else { outer }
}

/// A `ct state == a,b` or `ct state != a,b` match of a rule: nft compares
/// the whole value with the states OR-ed together (`nft --debug=netlink`:
/// `cmp neq reg 1 0x00000006`), and a packet has exactly one state, so `==`
/// matches no packet and `!=` every packet. Returns the match's span and a
/// note saying so, for the anomaly lints to explain what they found.
pub(crate) fn ct_state_value_compare(r: &hir::Rule) -> Option<(ctc_grammar::Span, String)> {
    r.stmts.iter().find_map(|s| {
        let StmtKind::Match { lhs, op, rhs } = &s.kind else { return None };
        let several = match &rhs.kind {
            ExprKind::List(items) => items.len() > 1,
            ExprKind::Binop { op: hir::BinOp::Or, .. } => true,
            _ => false,
        };
        if !matches!(lhs.kind, ExprKind::Ct { key: "state", .. }) || !several {
            return None;
        }
        let (sym, what, fix) = match op {
            hir::RelOp::Eq => ("==", "no packet", "drop the `==` (`ct state established,related`: any of them)"),
            hir::RelOp::Ne => (
                "!=",
                "every packet",
                "write `ct state ! established,related` (none of them) or `ct state != { established, related }`",
            ),
            _ => return None,
        };
        Some((
            s.span,
            format!(
                "`ct state {sym} A,B` compares the whole state with A|B, as nft does; a packet has exactly one \
                 state, so {what} matches it: {fix}"
            ),
        ))
    })
}

/// ct state bits.
pub(crate) const CT_INVALID: u128 = 1;
pub(crate) const CT_ESTABLISHED: u128 = 2;
pub(crate) const CT_RELATED: u128 = 4;
pub(crate) const CT_NEW: u128 = 8;

pub(crate) fn has_state(s: &IvSet, bit: u128) -> bool {
    s.intersects(&IvSet::point(bit))
}

/// Whether a rule accepts (a verdict `accept`).
pub(crate) fn accepts(r: &hir::Rule) -> bool {
    r.stmts.iter().any(|s| matches!(s.kind, StmtKind::Verdict(Verdict::Accept)))
}

/// `ct state vmap { established : accept, ... }`: the states a verdict map
/// on ct state sends to `accept`.
pub(crate) fn vmap_accepted_states(r: &hir::Rule) -> IvSet {
    vmap_states(r, &Verdict::Accept)
}

/// Whether a rule may hand the packet to another chain (`jump`, `goto`, a
/// verdict map), where anything can happen.
pub(crate) fn calls(r: &hir::Rule) -> bool {
    r.stmts
        .iter()
        .any(|s| matches!(s.kind, StmtKind::Verdict(Verdict::Jump(_) | Verdict::Goto(_)) | StmtKind::VerdictMap(_)))
}

/// The ct states a `ct state vmap` sends to `verdict`.
pub(crate) fn vmap_states(r: &hir::Rule, verdict: &Verdict) -> IvSet {
    let mut out = IvSet::empty();
    for s in &r.stmts {
        if let StmtKind::VerdictMap(e) = &s.kind
            && let ExprKind::Map { key, map, .. } = &e.kind
            && matches!(key.kind, ExprKind::Ct { key: "state", .. })
            && let ExprKind::SetLit(elems) = &map.kind
        {
            for el in elems {
                let hit = el.data.as_ref().is_some_and(|d| matches!(&d.kind, ExprKind::Verdict(v) if v == verdict));
                if hit && let Some(v) = super::space::value_set(&el.key, 32) {
                    out = out.union(&v);
                }
            }
        }
    }
    out
}

/// Chains each chain jumps or goes to (rule verdicts, verdict maps, named
/// verdict maps).
pub(crate) fn edges(t: &hir::Table) -> Vec<Vec<usize>> {
    let index = |n: &str| t.chains.iter().position(|c| c.name == n);
    let named_targets = |set: &str| -> Vec<String> {
        t.set(set)
            .map(|s| {
                s.elements
                    .iter()
                    .filter_map(|e| match e.data.as_ref().map(|d| &d.kind) {
                        Some(ExprKind::Verdict(Verdict::Jump(n) | Verdict::Goto(n))) => Some(n.clone()),
                        _ => None,
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    t.chains
        .iter()
        .map(|c| {
            let mut out = Vec::new();
            for r in &c.rules {
                for s in &r.stmts {
                    let mut names: Vec<String> = Vec::new();
                    match &s.kind {
                        StmtKind::Verdict(Verdict::Jump(n) | Verdict::Goto(n)) => names.push(n.clone()),
                        StmtKind::VerdictMap(e) => {
                            if let ExprKind::Map { map, .. } = &e.kind {
                                match &map.kind {
                                    ExprKind::SetLit(elems) => {
                                        for el in elems {
                                            if let Some(ExprKind::Verdict(Verdict::Jump(n) | Verdict::Goto(n))) =
                                                el.data.as_ref().map(|d| &d.kind)
                                            {
                                                names.push(n.clone());
                                            }
                                        }
                                    }
                                    ExprKind::SetRef { name } => names.extend(named_targets(name)),
                                    _ => {}
                                }
                            }
                        }
                        _ => {}
                    }
                    out.extend(names.iter().filter_map(|n| index(n)));
                }
            }
            out
        })
        .collect()
}

/// For each chain, the base chains that reach it (itself for a base chain).
pub(crate) fn reaching_bases(t: &hir::Table) -> Vec<Vec<usize>> {
    let e = edges(t);
    let mut out = vec![Vec::new(); t.chains.len()];
    for (b, c) in t.chains.iter().enumerate() {
        if c.base.is_none() {
            continue;
        }
        let mut seen = vec![false; t.chains.len()];
        let mut work = vec![b];
        while let Some(x) = work.pop() {
            if std::mem::replace(&mut seen[x], true) {
                continue;
            }
            out[x].push(b);
            work.extend(e[x].iter().copied().filter(|&y| t.chains[y].base.is_none()));
        }
    }
    out
}

#[cfg(test)]
pub(crate) fn codes(ds: &[ctc_grammar::Diagnostic]) -> Vec<&'static str> {
    ds.iter().map(|d| d.code).collect()
}
