//! ctc-sema: from the AST to the checked HIR.
//!
//! Phases, each building a new tree:
//! 1. [`resolve`]: commands are applied in order to a model of the ruleset
//!    (tables, chains, sets, maps, objects), includes are parsed in the
//!    context they appear in, `define`s are scoped and expanded, and every
//!    reference is resolved (undefined or duplicate names, jump loops and
//!    depth);
//! 2. [`rule`]: each rule's terms become typed match expressions
//!    ([`expr`]) and statements ([`stmt`]), checked against the tables of
//!    `ctc-proto` and against the protocol context of the rule;
//! 3. [`chain`]: chain types, hooks and priorities per family, and which
//!    statements each reaching base chain allows.
//!
//! Diagnostics codes are listed, with their documentation, in [`codes`].

pub mod chain;
pub mod codes;
pub mod cursor;
pub mod cx;
pub mod decl;
pub mod elements;
pub mod expr;
pub mod hir;
pub mod lint;
pub mod lower;
pub mod reserved;
pub mod resolve;
pub mod rule;
pub mod stmt;
pub mod values;

use ctc_grammar::ast::{Script, Term};
use ctc_grammar::{Diagnostic, FileId, Span};

/// Where included files come from. The driver implements it over the file
/// system (relative to the including file, then `-I` directories; globs).
pub trait Loader {
    /// Resolve `pattern` as written in `include "pattern"` in file `from`,
    /// and return every matching file's id and text, in the order nft reads
    /// them (sorted). A pattern with a glob that matches nothing returns an
    /// empty list; a plain path that does not exist is an error (E5001).
    fn include(&mut self, from: FileId, pattern: &str, span: Span) -> Result<Vec<(FileId, String)>, Diagnostic>;
}

/// Options of one analysis.
#[derive(Debug, Default, Clone)]
pub struct Options {
    /// `-D NAME=VALUE` definitions, already parsed into terms; they act as
    /// `define` statements before the first line of the first file.
    pub defines: Vec<(String, Vec<Term>)>,
}

/// The result of an analysis: the ruleset as it stands after the script's
/// commands, and every diagnostic found (errors and warnings).
#[derive(Debug, Default)]
pub struct Analysis {
    pub program: hir::Program,
    pub diagnostics: Vec<Diagnostic>,
    /// Where defines, sets and objects are used (for the lints).
    pub usage: lint::Usage,
}

impl Analysis {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(|d| d.is_error())
    }
}

/// Analyse one parsed file (and, through `loader`, the files it includes).
pub fn analyze(script: &Script, file: FileId, loader: &mut dyn Loader, opts: &Options) -> Analysis {
    resolve::Resolver::new(loader, opts).run(script, file)
}
