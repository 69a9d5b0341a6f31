//! Match expressions and values: selectors (payload, meta, ct, fib, rt,
//! socket, osf, ipsec, numgen, hash, exthdr, options, raw payload), typed
//! values (literals, symbols, prefixes, ranges, lists, sets, maps), and the
//! protocol context of a rule.

use crate::cursor::Cursor;
use crate::cx::RuleCx;
use crate::hir::{Expr, ExprType, SetElem};
use ctc_grammar::ast::SetLit;

/// Parse an expression in "value producing" position (the left side of a
/// match, the argument of a statement such as `snat to EXPR`, `meta mark
/// set EXPR`): a selector with binary operators, concatenations and map
/// lookups, or a value. Reports and returns `None` on error.
pub fn parse_expr(cx: &mut RuleCx<'_>, cur: &mut Cursor<'_>) -> Option<Expr> {
    let _ = (cx, cur);
    None
}

/// Parse a value of the expected type (right side of a match, statement
/// arguments): literals, symbols, prefixes, ranges, comma lists, set
/// literals, `@set` references, and expressions when `expected` allows.
pub fn parse_value(cx: &mut RuleCx<'_>, cur: &mut Cursor<'_>, expected: &ExprType) -> Option<Expr> {
    let _ = (cx, cur, expected);
    None
}

/// Whether the cursor is at the start of an expression (a selector word).
pub fn is_expr_start(cx: &RuleCx<'_>, cur: &Cursor<'_>) -> bool {
    let _ = (cx, cur);
    false
}

/// Check the elements of a set literal against a set's key type (and a
/// map's data type), for named set declarations and `add element`.
pub fn check_elements(cx: &mut RuleCx<'_>, lit: &SetLit, key: &ExprType, data: Option<&ExprType>) -> Vec<SetElem> {
    let _ = (cx, lit, key, data);
    Vec::new()
}
