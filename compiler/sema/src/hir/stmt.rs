//! Statements of the HIR.

use super::expr::{Expr, RelOp, Verdict};
use ctc_grammar::Span;
use ctc_proto::HookedStmt;

#[derive(Debug, Clone)]
pub struct Stmt {
    pub kind: StmtKind,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub enum StmtKind {
    /// A match: `LHS [OP] RHS`.
    Match {
        lhs: Expr,
        op: RelOp,
        rhs: Expr,
    },
    Verdict(Verdict),
    /// `vmap` as a statement: `KEY vmap { ... }` / `KEY vmap @m`.
    VerdictMap(Expr),
    Counter {
        packets: u64,
        bytes: u64,
    },
    /// Anything else, as checked: the statement keyword and its arguments
    /// in a normalized text form. The statement module replaces these with
    /// precise variants as the runtime needs them.
    Other {
        keyword: &'static str,
        args: Vec<(String, Expr)>,
    },
}

impl Stmt {
    /// The hook/chain-type restriction this statement carries, if any.
    pub fn restriction(&self) -> Option<HookedStmt> {
        None
    }
}
