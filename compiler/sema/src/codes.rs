//! Every diagnostic code, its phase and its documentation (`ctc explain`).
//!
//! Codes are grouped by phase: `E0xxx` syntax, `E1xxx` names and
//! references, `E2xxx` types and values, `E3xxx` protocol context, `E4xxx`
//! chains, hooks and statements, `E5xxx` files and includes, `Wxxxx`
//! warnings. A test checks that every code used in the sources is listed.

/// The documentation of one code.
#[derive(Debug)]
pub struct CodeDoc {
    pub code: &'static str,
    /// Short kebab-case name.
    pub name: &'static str,
    /// One line.
    pub summary: &'static str,
    /// Explanation with an example and the fix.
    pub doc: &'static str,
}

pub static CODES: &[CodeDoc] = &[];

pub fn lookup(code_or_name: &str) -> Option<&'static CodeDoc> {
    let key = code_or_name.trim();
    CODES.iter().find(|c| c.code.eq_ignore_ascii_case(key) || c.name == key)
}
