//! Match expressions and values: selectors (payload, meta, ct, fib, rt,
//! socket, osf, ipsec, numgen, hash, exthdr, options, raw payload), typed
//! values (literals, symbols, prefixes, ranges, lists, sets, maps), and the
//! protocol context of a rule.
//!
//! - [`selector`](self): what a selector word means comes from ctc-proto's
//!   tables (protocols, fields, meta/ct keys, options);
//! - binary operators, concatenations and map lookups follow nft's
//!   precedence (`map` < `.` < `|` < `^` < `&` < shifts);
//! - values are typed by what they meet: the same `ip` is a protocol name
//!   after `meta l4proto` and an ethertype after `ether type`;
//! - payload matches check and record their protocol dependencies in
//!   [`crate::cx::ProtoCtx`] (E3001/E3002/E3003).

mod deps;
mod parser;
mod selector;
mod util;
pub(crate) mod value;

#[cfg(test)]
mod tests;

use crate::cursor::Cursor;
use crate::cx::RuleCx;
use crate::hir::{Expr, ExprKind, ExprType, SetElem};
use ctc_grammar::ast::SetLit;

pub use util::types_compatible;
pub(crate) use util::{describe, did_you_mean, edit_distance};
pub use value::parse_verdict;

pub(crate) use deps::{L4_SEVERAL, note_match};
pub(crate) use value::{Rhs, parse_rhs};

/// Parse an expression in "value producing" position (the left side of a
/// match, the argument of a statement such as `snat to EXPR`, `meta mark
/// set EXPR`): a selector with binary operators, concatenations and map
/// lookups, or a value. Reports and returns `None` on error.
pub fn parse_expr(cx: &mut RuleCx<'_>, cur: &mut Cursor<'_>) -> Option<Expr> {
    parser::parse_concat(cx, cur, 0, None, true).map(|p| p.e)
}

/// The key of a map a statement looks up (`snat to KEY map { ... }`,
/// `counter name KEY map { ... }`), without the `map` itself. With
/// `explicit_ct`, a `ct saddr`/`daddr` typed only by the table family is
/// an error, as nft requires `ct original ip saddr` in a NAT map key
/// ("specify either ip or ip6 for address matching").
pub fn parse_map_key(cx: &mut RuleCx<'_>, cur: &mut Cursor<'_>, explicit_ct: bool) -> Option<Expr> {
    let pe = parser::parse_concat(cx, cur, 0, None, false)?;
    if explicit_ct && let Some(span) = pe.unq_ct {
        parser::unq_ct_error(cx, span, "a map key");
        return None;
    }
    Some(pe.e)
}

/// Like [`parse_expr`], with the type the statement expects: constants in
/// binary operations take its width (`ct mark set ip dscp << 26 | 0x10`
/// works in 32 bits) and map data take its type.
pub fn parse_expr_typed(cx: &mut RuleCx<'_>, cur: &mut Cursor<'_>, expected: &ExprType) -> Option<Expr> {
    let w = match expected {
        ExprType::Scalar(k) => Some(k.clone()),
        _ => None,
    };
    parser::parse_concat_hint(cx, cur, 0, w.as_ref(), true, Some(expected)).map(|p| p.e)
}

/// Parse a value of the expected type (right side of a match, statement
/// arguments): literals, symbols, prefixes, ranges, comma lists, set
/// literals, `@set` references, and expressions when `expected` allows.
///
/// A word that is a symbol of `expected` is a value (`meta l4proto set
/// tcp`); otherwise a selector word starts an expression, whose type must
/// be compatible with `expected` (E2003).
pub fn parse_value(cx: &mut RuleCx<'_>, cur: &mut Cursor<'_>, expected: &ExprType) -> Option<Expr> {
    let symbol = match (expected, cur.peek_word()) {
        (ExprType::Scalar(k), Some(w)) => k.ty.symbol(w).is_some(),
        (ExprType::Verdict, Some(_)) => true,
        _ => false,
    };
    if !symbol && selector::is_selector_start(cur) {
        let e = parse_expr_typed(cx, cur, expected)?;
        if !types_compatible(&e.ty, expected) && !width_compatible(&e.ty, expected) {
            cx.error(
                ctc_grammar::Diagnostic::error(
                    "E2003",
                    format!("expected {}, but this expression is {}", util::ty_name(expected), util::ty_name(&e.ty)),
                )
                .with_label(e.span, format!("this is {}", util::ty_name(&e.ty))),
            );
            return None;
        }
        return Some(e);
    }
    value::parse_rhs(cx, cur, expected, 0, value::Rhs { list: true })
}

/// Integer-like values of another type may be assigned where they fit
/// (`meta mark set ip dscp`, `ct mark set meta mark`).
fn width_compatible(actual: &ExprType, expected: &ExprType) -> bool {
    use ctc_proto::BaseKind;
    match (actual, expected) {
        (ExprType::Scalar(a), ExprType::Scalar(e)) => {
            let int = |k: BaseKind| matches!(k, BaseKind::Integer | BaseKind::Bitmask);
            int(a.ty.info().kind) && int(e.ty.info().kind)
        }
        _ => false,
    }
}

/// Whether the cursor is at the start of an expression (a selector word).
pub fn is_expr_start(cx: &RuleCx<'_>, cur: &Cursor<'_>) -> bool {
    let _ = cx;
    selector::is_selector_start(cur)
}

/// Check the elements of a set literal against a set's key type (and a
/// map's data type), for named set declarations and `add element`.
///
/// For an object map, pass `data` as [`ExprType::Unknown`]: the values are
/// then object names. Elements with errors are reported and left out.
pub fn check_elements(cx: &mut RuleCx<'_>, lit: &SetLit, key: &ExprType, data: Option<&ExprType>) -> Vec<SetElem> {
    value::parse_set_lit(cx, lit, key, data, 0).unwrap_or_default()
}

/// The expression of a set's `typeof` (`typeof vxlan ip saddr`, `typeof
/// iifname . ip saddr : interval ip daddr . tcp dport`, `: queue`): only its
/// type matters, so the dependencies a match would need are assumed (nft
/// does not check them for `typeof`: tunnels need no `udp dport`). A
/// leading `interval` (map data that are ranges) is skipped, and `queue`
/// is the 16-bit queue number of a `queue ... to EXPR map @m`.
pub fn parse_typeof(cx: &mut RuleCx<'_>, cur: &mut Cursor<'_>) -> Option<Expr> {
    cur.eat_word("interval");
    if cur.peek_word() == Some("queue") && cur.peek_at(1).is_none() {
        let span = cur.span();
        cur.next();
        let k = crate::hir::KeyType { ty: ctc_proto::Ty::Integer16, bits: 16 };
        let kind = ExprKind::Key { expr: "queue", key: "num".into(), args: Vec::new() };
        return Some(Expr { kind, ty: ExprType::Scalar(k), span });
    }
    // Assume the UDP port of the first tunnel named, as `udp dport N` would.
    let tunnel = cur
        .rest()
        .iter()
        .filter_map(|t| t.word())
        .find_map(|w| ctc_proto::PROTOCOLS.iter().find(|p| p.name == w).and_then(|p| p.dep.udp_dport));
    if let Some(port) = tunnel {
        cx.proto.l4 = Some((17, cur.span()));
        cx.proto.udp_dport = Some((port, cur.span()));
    }
    parse_expr(cx, cur)
}
