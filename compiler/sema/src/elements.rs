//! Elements coming into a named set or map: what nft and the kernel refuse.
//!
//! Measured with nft 1.0.6 on Linux 6.18 (`nft -f` in a fresh namespace):
//!
//! - in an interval set or map without `auto-merge`, an element that
//!   overlaps another, different one — declared in the same block, in an
//!   earlier block or `add element`, or in the same command — fails with
//!   "conflicting intervals specified" (a prefix inside another, two
//!   ranges sharing values, a value inside a range); for a concatenation
//!   (`ipv4_addr . inet_service`) the kernel refuses it ("File exists");
//! - the same element again is accepted by `add` (nothing happens), and
//!   adjacent intervals are accepted; a map's key again with other data
//!   (another mark, another verdict) is refused ("File exists"), with the
//!   same data (`1` and `0x1` alike) accepted;
//! - `create element` fails ("File exists") on an element the set already
//!   has, or that comes twice in the command, and with `auto-merge` on one
//!   that overlaps an element it has;
//! - with `auto-merge`, `add` merges overlapping intervals;
//! - a `delete element` earlier in the same file does not make room (nft
//!   checks against the set as the transaction found it), a `flush set`
//!   does;
//! - a range or a prefix (`10-20`, `192.0.2.0/24`, even a `/32`, an
//!   interface wildcard `"eth*"`, or one in a part of a concatenation)
//!   needs `flags interval`: nft refuses it otherwise ("You must add
//!   'flags interval' to your set declaration"), declared or added (E2016).

use crate::hir::{Expr, ExprKind, MapData, Set, SetElem, Verdict};
use crate::lint::space::{IvSet, element_boxes};
use ctc_grammar::{Diagnostic, Span};
use std::collections::BTreeMap;

/// How elements come into a set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Adding {
    /// Declared (`elements = { ... }` in the set's block) or `add element`.
    Add,
    /// `create element`: every element must be new.
    Create,
}

/// Most elements compared pairwise (concatenations, `create` in an
/// `auto-merge` set); larger sets are not checked there.
const PAIRWISE_MAX: usize = 4096;

/// An element's values: per key, its intervals (one for an element).
type Boxes = Vec<Vec<(u128, u128)>>;

/// Adds `new` to `set`'s elements, after reporting (in `diags`) each one
/// nft or the kernel would refuse, which is left out.
pub fn add(set: &mut Set, new: Vec<SetElem>, how: Adding, diags: &mut Vec<Diagnostic>) {
    // A range or a prefix (`10-20`, `10.0.0.0/8`, even `/32`, `"eth*"`)
    // only in an interval set: nft refuses it otherwise (E2016).
    let new: Vec<SetElem> = if set.is_interval() {
        new
    } else {
        new.into_iter()
            .filter(|e| match interval_part(&e.key) {
                Some((part, span)) => {
                    diags.push(not_interval(span, part, set));
                    false
                }
                None => true,
            })
            .collect()
    };
    let widths: Vec<u32> = set.key.iter().map(|k| k.bits).collect();
    let boxes = |e: &SetElem| -> Option<Boxes> {
        Some(element_boxes(&e.key, &widths)?.into_iter().map(|IvSet(v)| v).collect())
    };
    let data = |e: &SetElem| data_of(set, e);
    // The same key again: `create` refuses it, and so does the kernel
    // for a map element whose data differs.
    let again = |e: &SetElem, at: Span, other: &Data| {
        if how == Adding::Create {
            Some(exists(e.key.span, at, set))
        } else if *other != data(e) {
            Some(other_data(e.key.span, at, set))
        } else {
            None
        }
    };
    let mut kept = Vec::with_capacity(new.len());
    if set.is_interval() && !set.auto_merge && widths.len() == 1 {
        // The intervals of the set, disjoint, by their low end: the only
        // one a new [lo, hi] can overlap is the last starting at or below
        // hi. Any size of set.
        let mut have: BTreeMap<u128, (u128, Span, Data)> = BTreeMap::new();
        for e in &set.elements {
            if let Some((lo, hi)) = boxes(e).as_deref().and_then(single) {
                have.insert(lo, (hi, e.key.span, data(e)));
            }
        }
        for e in new {
            let Some((lo, hi)) = boxes(&e).as_deref().and_then(single) else {
                kept.push(e);
                continue;
            };
            let refused = match have.range(..=hi).next_back() {
                Some((&olo, (ohi, at, other))) if *ohi >= lo => {
                    if (olo, *ohi) == (lo, hi) {
                        again(&e, *at, other)
                    } else {
                        Some(conflicting(e.key.span, *at, set))
                    }
                }
                _ => {
                    have.insert(lo, (hi, e.key.span, data(&e)));
                    None
                }
            };
            match refused {
                Some(d) => diags.push(d),
                None => kept.push(e),
            }
        }
    } else if set.elements.len() + new.len() <= PAIRWISE_MAX && !(set.auto_merge && how == Adding::Add) {
        // Concatenations, sets of single values, and `create` in an
        // `auto-merge` set: each new element against every earlier one.
        let mut have: Vec<(Boxes, Span, Data)> =
            set.elements.iter().filter_map(|e| Some((boxes(e)?, e.key.span, data(e)))).collect();
        for e in new {
            let Some(b) = boxes(&e) else {
                kept.push(e);
                continue;
            };
            let refused = match have.iter().find(|(o, ..)| meets(o, &b)) {
                Some((o, at, other)) if *o == b => again(&e, *at, other),
                // Outside interval sets elements are single values, which
                // meet only where they are equal.
                Some((_, at, _)) if set.auto_merge => Some(exists(e.key.span, *at, set)),
                Some((_, at, _)) => Some(overlapping(e.key.span, *at, set)),
                None => {
                    let d = data(&e);
                    have.push((b, e.key.span, d));
                    None
                }
            };
            match refused {
                Some(d) => diags.push(d),
                None => kept.push(e),
            }
        }
    } else {
        kept = new;
    }
    set.elements.extend(kept);
}

/// What a map element maps its key to, as far as it can be compared: a
/// verdict, or the values of a data type (`1` and `0x1` are one mark);
/// anything else (a set's element, an object name) compares equal.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Data {
    None,
    Verdict(Verdict),
    Values(Boxes),
}

fn data_of(set: &Set, e: &SetElem) -> Data {
    match (&set.data, &e.data) {
        (Some(MapData::Verdict), Some(Expr { kind: ExprKind::Verdict(v), .. })) => Data::Verdict(v.clone()),
        (Some(MapData::Value(types)), Some(d)) => {
            let widths: Vec<u32> = types.iter().map(|k| k.bits).collect();
            element_boxes(d, &widths).map_or(Data::None, |b| Data::Values(b.into_iter().map(|IvSet(v)| v).collect()))
        }
        _ => Data::None,
    }
}

/// The one interval of a one-key element.
fn single(b: &[Vec<(u128, u128)>]) -> Option<(u128, u128)> {
    match b {
        [v] if v.len() == 1 => Some(v[0]),
        _ => None,
    }
}

/// Two elements share values in every key.
fn meets(a: &[Vec<(u128, u128)>], b: &[Vec<(u128, u128)>]) -> bool {
    a.len() == b.len()
        && a.iter().zip(b).all(|(x, y)| x.iter().any(|&(l1, h1)| y.iter().any(|&(l2, h2)| l1 <= h2 && l2 <= h1)))
}

/// "set" or "map".
fn kind(set: &Set) -> &'static str {
    if set.is_map { "map" } else { "set" }
}

fn what(set: &Set) -> String {
    format!("{} @{}", kind(set), set.name)
}

fn conflicting(at: Span, other: Span, set: &Set) -> Diagnostic {
    Diagnostic::error("E2015", format!("conflicting intervals specified in {}", what(set)))
        .with_label(at, "overlaps another element")
        .with_secondary(other, "this one")
        .with_help("make the elements disjoint, or declare the set with `auto-merge` to merge them")
}

/// An overlap in a concatenation's interval set: the kernel's refusal.
fn overlapping(at: Span, other: Span, set: &Set) -> Diagnostic {
    Diagnostic::error(
        "E2015",
        format!("the element overlaps one in {} (the kernel refuses it: File exists)", what(set)),
    )
    .with_label(at, "overlaps another element")
    .with_secondary(other, "this one")
    .with_help("make the elements disjoint: a packet would match both")
}

/// The first range or prefix in an element's key (a component of a
/// concatenation too): "range" or "prefix", and where.
fn interval_part(key: &Expr) -> Option<(&'static str, Span)> {
    match &key.kind {
        ExprKind::Range { .. } => Some(("range", key.span)),
        ExprKind::Prefix { .. } => Some(("prefix", key.span)),
        ExprKind::Value(v) if v.wildcard_prefix().is_some() => Some(("prefix", key.span)),
        ExprKind::Concat(parts) => parts.iter().find_map(interval_part),
        _ => None,
    }
}

fn not_interval(at: Span, part: &str, set: &Set) -> Diagnostic {
    let kind = kind(set);
    Diagnostic::error("E2016", format!("a {part} element in {} without `flags interval`", what(set)))
        .with_label(at, format!("a {part}: nft takes it only in an interval {kind}"))
        .with_help(format!("add `flags interval` to the {kind}'s declaration, or list single values"))
}

fn other_data(at: Span, other: Span, set: &Set) -> Diagnostic {
    Diagnostic::error(
        "E2015",
        format!("the key is already in {} with other data (the kernel refuses it: File exists)", what(set)),
    )
    .with_label(at, "maps the key again")
    .with_secondary(other, "the key's element")
    .with_help("delete the element first, or leave this one out")
}

fn exists(at: Span, other: Span, set: &Set) -> Diagnostic {
    Diagnostic::error("E2015", format!("the element is already in {} (the kernel refuses it: File exists)", what(set)))
        .with_label(at, "refused")
        .with_secondary(other, "the element it clashes with")
        .with_help("`create element` adds only new elements: use `add element`, or leave this one out")
}

#[cfg(test)]
mod tests {
    use crate::lint::test_support::analyze_text;

    /// The error codes of a script.
    fn errors(text: &str) -> Vec<&'static str> {
        let (a, _) = analyze_text(text);
        a.diagnostics.iter().filter(|d| d.is_error()).map(|d| d.code).collect()
    }

    const V4: &str = "table ip t { set s { type ipv4_addr; flags interval; elements = { ";

    #[test]
    fn large_interval_sets_are_checked_in_order() {
        // 20,000 disjoint /32s, then one /16 over them: found without
        // comparing every pair.
        let els: Vec<String> = (0..20_000u32).map(|i| format!("10.{}.{}.1", i / 250, i % 250)).collect();
        let mut text = format!("{V4}{} }}; }}; }}\n", els.join(", "));
        assert!(errors(&text).is_empty());
        text.push_str("add element ip t s { 10.3.0.0/16 }\n");
        assert_eq!(errors(&text), ["E2015"]);
    }
}
