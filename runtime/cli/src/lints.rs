//! `ctc check --deny/--warn/--allow` and the lint half of `ctc explain`.
//!
//! A lint is named by its name (`shadowed-rule`) or code (`W1001`), in
//! any case. `--deny warnings` keeps its meaning (warnings fail the check);
//! `--deny NAME` makes that lint an error. The flags apply in the order
//! allow, warn, deny: a lint given to two of them ends at the stricter.

use ctc_sema::lint::{self, Level, LintConfig};

/// A value of `--deny`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deny {
    /// Treat every warning as an error for the exit status.
    Warnings,
    /// Make this lint (by name) an error.
    Lint(&'static str),
}

fn unknown(s: &str) -> String {
    format!("`{s}` is not a lint (`ctc explain --list` lists them)")
}

/// Parse a lint name or code.
pub fn lint_arg(s: &str) -> Result<&'static str, String> {
    lint::lookup(s).map(|l| l.name).ok_or_else(|| unknown(s))
}

/// Parse `--deny warnings` or `--deny LINT`.
pub fn deny_arg(s: &str) -> Result<Deny, String> {
    if s.eq_ignore_ascii_case("warnings") {
        return Ok(Deny::Warnings);
    }
    lint::lookup(s).map(|l| Deny::Lint(l.name)).ok_or_else(|| format!("{} (or `warnings`)", unknown(s)))
}

/// The lint levels the flags ask for.
pub fn config(allow: &[&'static str], warn: &[&'static str], deny: &[Deny]) -> LintConfig {
    let mut c = LintConfig::default();
    c.overrides.extend(allow.iter().map(|n| (*n, Level::Allow)));
    c.overrides.extend(warn.iter().map(|n| (*n, Level::Warn)));
    c.overrides.extend(deny.iter().filter_map(|d| match d {
        Deny::Lint(n) => Some((*n, Level::Deny)),
        Deny::Warnings => None,
    }));
    c
}

/// One entry of `ctc explain`: code, name, one-line summary, text.
#[derive(Debug, Clone)]
pub struct Entry {
    pub code: &'static str,
    pub name: &'static str,
    pub summary: &'static str,
    pub text: String,
    /// `Some(level)` for a lint: its default level.
    pub lint: Option<(&'static str, Level)>,
}

/// Every code, errors then lints, each sorted by code.
pub fn entries() -> Vec<Entry> {
    let mut v: Vec<Entry> = ctc_sema::codes::CODES
        .iter()
        .map(|c| Entry { code: c.code, name: c.name, summary: c.summary, text: c.doc.to_string(), lint: None })
        .collect();
    v.extend(lint::LINTS.iter().map(|l| Entry {
        code: l.code,
        name: l.name,
        summary: l.summary(),
        text: lint::render_doc(l.doc),
        lint: Some((l.category.name(), l.default)),
    }));
    v
}

/// The entry of a code or name, any case.
pub fn lookup(key: &str) -> Option<Entry> {
    let key = key.trim();
    entries().into_iter().find(|e| e.code.eq_ignore_ascii_case(key) || e.name.eq_ignore_ascii_case(key))
}

/// The name of a code (errors and lints), for JSON and SARIF.
pub fn code_name(code: &str) -> Option<&'static str> {
    ctc_sema::codes::lookup(code).map(|c| c.name).or_else(|| lint::by_code(code).map(|l| l.name))
}
