//! ctc-grammar: the front end of the nftables language.
//!
//! - [`lexer`]: a context-free logos lexer;
//! - [`ast`]: the syntax tree, every node spanned;
//! - the lalrpop grammar (`nft.lalrpop`), whose actions only build the AST;
//! - [`diag`]: diagnostics, rendered by [`render`];
//! - [`printer`]: the canonical printer behind `ctc fmt`.

pub mod ast;
pub mod diag;
pub mod lexer;
pub mod parse;
pub mod printer;
pub mod render;
pub mod span;

#[allow(clippy::all, unused_parens, dead_code, missing_debug_implementations, rust_2018_idioms)]
mod nft {
    include!(concat!(env!("OUT_DIR"), "/nft.rs"));
}

pub use diag::{Diagnostic, Label, Severity};
pub use parse::{parse_chain_body, parse_script, parse_table_body, unended};
pub use span::{FileId, SourceFile, SourceMap, Span};
