//! Statements: verdicts, counter, limit, log, reject, queue, meta/ct/payload
//! set, notrack, ct helper/timeout/expectation set, NAT, tproxy, synproxy,
//! dup, fwd, set/map updates, flow add, quota, last, secmark and object
//! references.

use crate::cursor::Cursor;
use crate::cx::RuleCx;
use crate::hir::{Expr, Stmt};

/// Whether the word at the cursor begins a statement.
pub fn starts_stmt(cx: &RuleCx<'_>, cur: &Cursor<'_>) -> bool {
    let _ = (cx, cur);
    false
}

/// Parse the statement at the cursor. On error a diagnostic is pushed and
/// `Err(())` returned; the caller skips the rest of the rule.
pub fn parse_stmt(cx: &mut RuleCx<'_>, cur: &mut Cursor<'_>) -> Result<Stmt, ()> {
    let _ = (cx, cur);
    Err(())
}

/// `TARGET set VALUE` (meta, ct, payload, exthdr, tcp option): the cursor is
/// after `set`.
pub fn parse_set_stmt(cx: &mut RuleCx<'_>, cur: &mut Cursor<'_>, target: Expr) -> Result<Stmt, ()> {
    let _ = (cx, cur, target);
    Err(())
}
