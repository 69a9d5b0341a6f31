//! ctc-driver: the phases glued together for the command line and tests.
//!
//! - [`check_file`] / [`check_source`]: parse, resolve includes and
//!   `-D` defines, analyse (`ctc-sema`), and return every diagnostic sorted
//!   by file and position, with the files they point into;
//! - [`compile_file`] / [`compile_source`]: check, lower to the IR and
//!   verify (`ctc compile --emit ir`, the engines);
//! - [`format_source`]: the canonical printer behind `ctc fmt`;
//! - [`parse_define`]: `-D NAME=VALUE` as the grammar reads `define`.
//!
//! Includes are read from the file system by [`FsLoader`], which implements
//! sema's [`Loader`]: `include "pattern"` is looked up relative to the
//! including file's directory, then in each `-I` directory (an absolute
//! pattern is used as is); glob patterns match sorted file names, like nft.
//! Inputs are bounded (file size, include depth, number of included files)
//! so no input can make a check hang or allocate without limit.

pub use ctc_ir as ir;

pub mod listing;
pub mod native;

use ctc_grammar::ast::{NameKind, Object, Term};
use ctc_grammar::{Diagnostic, FileId, Severity, SourceMap, Span};
use ctc_sema::Loader;
use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};

/// nft's `MAX_INCLUDE_DEPTH`: how deeply includes may nest.
pub const MAX_INCLUDE_DEPTH: usize = 16;
/// How many files (counting repeats) one check may include; a guard
/// against include fan-out that grows exponentially with the depth.
pub const MAX_INCLUDED_FILES: usize = 4096;
/// The largest source file read (a ruleset is text; `/dev/zero` is not).
pub const MAX_FILE_BYTES: u64 = 64 << 20;

/// Options of a check: `-I DIR` and `-D NAME=VALUE`.
#[derive(Debug, Default, Clone)]
pub struct CheckOptions {
    /// Directories searched for includes, after the including file's own.
    pub include_dirs: Vec<PathBuf>,
    /// `-D NAME=VALUE` pairs, unparsed (see [`parse_define`]).
    pub defines: Vec<(String, String)>,
    /// Lint levels from `--allow`/`--warn`/`--deny NAME`.
    pub lints: ctc_sema::lint::LintConfig,
}

/// The outcome of checking one file: its sources (the file, its includes,
/// the `-D` definitions), the diagnostics, and the checked program.
#[derive(Debug, Default)]
pub struct Checked {
    pub sources: SourceMap,
    /// Sorted by file, then position; diagnostics without a place last.
    pub diagnostics: Vec<Diagnostic>,
    pub program: ctc_sema::hir::Program,
}

impl Checked {
    pub fn has_errors(&self) -> bool {
        self.errors() > 0
    }
    pub fn errors(&self) -> usize {
        self.diagnostics.iter().filter(|d| d.severity == Severity::Error).count()
    }
    pub fn warnings(&self) -> usize {
        self.diagnostics.iter().filter(|d| d.severity == Severity::Warning).count()
    }
}

/// Read a source file as UTF-8 text, at most [`MAX_FILE_BYTES`]. The error
/// is a phrase for messages ("No such file or directory", "is a directory").
pub fn read_source(path: &Path) -> Result<String, String> {
    let file = std::fs::File::open(path).map_err(|e| io_reason(&e))?;
    if file.metadata().is_ok_and(|m| m.is_dir()) {
        return Err("is a directory".into());
    }
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes).map_err(|e| io_reason(&e))?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(format!("larger than {} MiB; this is not a ruleset", MAX_FILE_BYTES >> 20));
    }
    String::from_utf8(bytes)
        .map_err(|e| format!("not UTF-8 text (invalid byte at offset {})", e.utf8_error().valid_up_to()))
}

/// `std::io::Error`'s text without the ` (os error N)` suffix.
fn io_reason(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

/// Check a file on disk. A file that cannot be read gives one E5003
/// diagnostic (without a place), never a panic.
pub fn check_file(path: &Path, opts: &CheckOptions) -> Checked {
    match read_source(path) {
        Ok(text) => check_source(&path.display().to_string(), &text, opts),
        Err(reason) => Checked {
            diagnostics: vec![
                Diagnostic::error("E5003", format!("cannot read `{}`: {reason}", path.display()))
                    .with_help("check the path and its permissions"),
            ],
            ..Checked::default()
        },
    }
}

/// Check source text named `name` (a path; includes are looked up relative
/// to its directory, or to the current directory when it has none).
pub fn check_source(name: &str, text: &str, opts: &CheckOptions) -> Checked {
    let mut sources = SourceMap::new();
    let file = sources.add(name, text);
    let mut diagnostics = Vec::new();
    let mut program = ctc_sema::hir::Program::default();

    // `-D NAME=VALUE`: each one is parsed as `define NAME = VALUE` in a file
    // of its own, so a diagnostic about the value points into it.
    let mut defines = Vec::new();
    for (n, v) in &opts.defines {
        let id = sources.add(format!("<-D {n}>"), define_text(n, v));
        match parse_define_in(id, n, v) {
            Ok(d) => defines.push(d),
            Err(DefineError::Syntax(d)) => diagnostics.push(d),
            Err(DefineError::Usage(msg)) => diagnostics.push(Diagnostic::error("E0003", msg)),
        }
    }

    match ctc_grammar::parse_script(file, text) {
        Err(d) => diagnostics.push(d),
        Ok(script) if diagnostics.is_empty() => {
            let analysis = {
                let mut loader = FsLoader::new(&mut sources, file, &opts.include_dirs);
                ctc_sema::analyze(&script, file, &mut loader, &ctc_sema::Options { defines })
            };
            // Lints run on rulesets without errors only: on a broken one
            // they would report the error's consequences.
            let clean = !analysis.has_errors();
            diagnostics.extend(analysis.diagnostics);
            program = analysis.program;
            if clean {
                diagnostics.extend(ctc_sema::lint::run(&program, &analysis.usage, &sources, &opts.lints));
            }
        }
        Ok(_) => {}
    }
    // A diagnostic must never point outside the source map (rendering
    // would index out of bounds): drop such labels defensively.
    let n = sources.len() as u32;
    for d in &mut diagnostics {
        d.labels.retain(|l| l.span.file.0 < n);
    }
    sort_diagnostics(&mut diagnostics);
    Checked { sources, diagnostics, program }
}

/// Check a file on disk, then compile it to a verified IR program. On
/// failure, the [`Checked`] holds the diagnostics (check errors, E6001 for
/// constructs the runtime cannot execute, E6002 when the verifier rejects
/// the lowered program) and the sources they point into.
pub fn compile_file(path: &Path, opts: &CheckOptions) -> Result<ctc_ir::VerifiedProgram, Checked> {
    match read_source(path) {
        Ok(text) => compile_source(&path.display().to_string(), &text, opts),
        Err(_) => Err(check_file(path, opts)),
    }
}

/// Check source text, lower it ([`ctc_sema::lower::lower`]) and verify the
/// result ([`ctc_ir::verify`]).
pub fn compile_source(name: &str, text: &str, opts: &CheckOptions) -> Result<ctc_ir::VerifiedProgram, Checked> {
    let mut checked = check_source(name, text, opts);
    if checked.has_errors() {
        return Err(checked);
    }
    let program = match ctc_sema::lower::lower(&checked.program, &checked.sources) {
        Ok(p) => p,
        Err(diags) => {
            checked.diagnostics.extend(diags);
            sort_diagnostics(&mut checked.diagnostics);
            return Err(checked);
        }
    };
    match ctc_ir::verify(program) {
        Ok(v) => Ok(v),
        Err(e) => {
            checked.diagnostics.push(
                Diagnostic::error("E6002", format!("internal error: the compiled program does not verify: {e}"))
                    .with_help("this is a bug in ctc; please report it with the ruleset"),
            );
            Err(checked)
        }
    }
}

/// Sort by file and position (diagnostics without a place last), and drop
/// exact repeats (a file included twice reports the same thing twice).
pub fn sort_diagnostics(diags: &mut Vec<Diagnostic>) {
    diags.sort_by_key(|d| match d.primary_span() {
        Some(s) => (0, s.file, s.start, s.end),
        None => (1, FileId(0), 0, 0),
    });
    diags.dedup();
}

/// `ctc fmt`: parse and print canonically. A syntax error comes back as a
/// [`Checked`] holding the one diagnostic and the source.
pub fn format_source(name: &str, text: &str) -> Result<String, Checked> {
    let mut sources = SourceMap::new();
    let file = sources.add(name, text);
    match ctc_grammar::parse_script(file, text) {
        Ok(script) => Ok(ctc_grammar::printer::print_script_with_comments(&script, text)),
        Err(d) => Err(Checked { sources, diagnostics: vec![d], program: Default::default() }),
    }
}

/// Parse a `-D NAME=VALUE` argument the way nft reads `define NAME = VALUE`.
/// The error is a message for a usage error. The terms' spans point into
/// the text `define NAME = VALUE` of file 0.
pub fn parse_define(name_value: &str) -> Result<(String, Vec<Term>), String> {
    let Some((name, value)) = name_value.split_once('=') else {
        return Err(format!("`{name_value}` is not NAME=VALUE (example: -D lan_if=lan0)"));
    };
    match parse_define_in(FileId(0), name, value) {
        Ok(d) => Ok(d),
        Err(DefineError::Usage(m)) => Err(m),
        Err(DefineError::Syntax(d)) => {
            let detail = d.labels.first().map(|l| format!(": {}", l.message)).unwrap_or_default();
            Err(format!("invalid value for `{}`: {}{detail}", name.trim(), d.message))
        }
    }
}

enum DefineError {
    Usage(String),
    Syntax(Diagnostic),
}

fn define_text(name: &str, value: &str) -> String {
    format!("define {} = {}\n", name.trim(), value.trim())
}

fn parse_define_in(file: FileId, name: &str, value: &str) -> Result<(String, Vec<Term>), DefineError> {
    let name = name.trim();
    let valid_name = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !valid_name {
        return Err(DefineError::Usage(format!(
            "`{name}` is not a variable name (letters, digits and `_`, starting with a letter)"
        )));
    }
    if value.trim().is_empty() {
        return Err(DefineError::Usage(format!("`-D {name}=` has no value")));
    }
    if value.contains(['\n', '\r', ';', '#']) {
        return Err(DefineError::Usage(format!(
            "the value of `{name}` may not contain a newline, `;` or `#`: it is one expression"
        )));
    }
    let script = ctc_grammar::parse_script(file, &define_text(name, value)).map_err(DefineError::Syntax)?;
    match script.items.as_slice() {
        [cmd] => match &cmd.object {
            Object::Define { name: n, value } if cmd.verb.is_none() && n.kind == NameKind::Ident => {
                Ok((n.text.clone(), value.clone()))
            }
            _ => Err(DefineError::Usage(format!("`-D {name}=...` is not a definition"))),
        },
        _ => Err(DefineError::Usage(format!("the value of `{name}` must be one expression"))),
    }
}

/// One file being read and the files its latest `include` returned that
/// the analysis has not entered yet.
#[derive(Debug)]
struct Frame {
    file: FileId,
    pending: Vec<FileId>,
}

/// The file-system [`Loader`]. It reconstructs the include chain from the
/// order of calls (the analysis reads includes depth first) to enforce
/// [`MAX_INCLUDE_DEPTH`] and to report cycles; a file loaded again keeps
/// its [`FileId`].
#[derive(Debug)]
pub struct FsLoader<'a> {
    sources: &'a mut SourceMap,
    include_dirs: &'a [PathBuf],
    /// Canonical path → file id, to load each file once.
    by_path: HashMap<PathBuf, FileId>,
    stack: Vec<Frame>,
    loaded: usize,
}

impl<'a> FsLoader<'a> {
    /// `root` is the file the analysis starts from (already in `sources`).
    pub fn new(sources: &'a mut SourceMap, root: FileId, include_dirs: &'a [PathBuf]) -> FsLoader<'a> {
        let mut by_path = HashMap::new();
        if let Ok(c) = std::fs::canonicalize(&sources.get(root).path) {
            by_path.insert(c, root);
        }
        FsLoader { sources, include_dirs, by_path, stack: vec![Frame { file: root, pending: Vec::new() }], loaded: 0 }
    }

    /// Make `from` the innermost file of the include chain.
    fn enter(&mut self, from: FileId) {
        if let Some(i) = self.stack.iter().rposition(|f| f.file == from) {
            self.stack.truncate(i + 1);
            return;
        }
        for i in (0..self.stack.len()).rev() {
            if let Some(j) = self.stack[i].pending.iter().position(|&p| p == from) {
                self.stack.truncate(i + 1);
                self.stack[i].pending.drain(..=j);
                self.stack.push(Frame { file: from, pending: Vec::new() });
                return;
            }
        }
        // Not a file this loader returned: count it as included by the root.
        self.stack.truncate(1);
        self.stack.push(Frame { file: from, pending: Vec::new() });
    }

    /// The directories a relative pattern is searched in, in order.
    fn search_dirs(&self, from: FileId) -> Vec<PathBuf> {
        let base = if from.0 < self.sources.len() as u32 {
            self.sources.get(from).path.parent().map(Path::to_path_buf).unwrap_or_default()
        } else {
            PathBuf::new()
        };
        let mut dirs = vec![base];
        for d in self.include_dirs {
            if !dirs.contains(d) {
                dirs.push(d.clone());
            }
        }
        dirs
    }

    /// The files `pattern` names, or E5001.
    fn resolve(&self, from: FileId, pattern: &str, span: Span) -> Result<Vec<PathBuf>, Diagnostic> {
        let is_glob = pattern.contains(['*', '?', '[']);
        let absolute = Path::new(pattern).is_absolute();
        let dirs = if absolute { vec![PathBuf::new()] } else { self.search_dirs(from) };
        let mut found: Vec<PathBuf> = Vec::new();
        for dir in &dirs {
            if is_glob {
                // glob(3), which nft uses, has no recursive `**`: it is `*`.
                let mut flat = pattern.to_string();
                while flat.contains("**") {
                    flat = flat.replace("**", "*");
                }
                let full = if dir.as_os_str().is_empty() {
                    flat
                } else {
                    format!("{}/{flat}", glob::Pattern::escape(&dir.display().to_string()))
                };
                // Like glob(3): `*` matches neither `/` nor a leading `.`
                // (editor backups such as `.rules.nft.swp` stay out).
                let options = glob::MatchOptions {
                    case_sensitive: true,
                    require_literal_separator: true,
                    require_literal_leading_dot: true,
                };
                let Ok(paths) = glob::glob_with(&full, options) else {
                    return Err(Diagnostic::error("E5001", format!("invalid include pattern \"{pattern}\""))
                        .with_label(span, "not a valid glob pattern")
                        .with_help("`*`, `?` and `[...]` are wildcards; a `[` must be closed"));
                };
                let mut matches: Vec<PathBuf> =
                    paths.flatten().filter(|p| !p.is_dir()).take(MAX_INCLUDED_FILES + 1).collect();
                matches.sort();
                for m in matches {
                    if !found.contains(&m) {
                        found.push(m);
                    }
                }
            } else {
                let p = if dir.as_os_str().is_empty() { PathBuf::from(pattern) } else { dir.join(pattern) };
                if p.exists() {
                    return Ok(vec![p]);
                }
            }
        }
        if is_glob {
            // A glob that matches nothing includes nothing (nft does the same).
            return Ok(found);
        }
        let searched = if absolute {
            "an absolute path is used as is".to_string()
        } else {
            let names: Vec<String> = dirs
                .iter()
                .map(|d| if d.as_os_str().is_empty() { ".".to_string() } else { d.display().to_string() })
                .collect();
            format!("searched in: {}; add a directory with `-I DIR`", names.join(", "))
        };
        Err(Diagnostic::error("E5001", format!("include file \"{pattern}\" not found"))
            .with_label(span, "no such file")
            .with_help(searched))
    }
}

impl Loader for FsLoader<'_> {
    fn include(&mut self, from: FileId, pattern: &str, span: Span) -> Result<Vec<(FileId, String)>, Diagnostic> {
        self.enter(from);
        if self.stack.len() >= MAX_INCLUDE_DEPTH {
            return Err(Diagnostic::error(
                "E5002",
                format!("includes nested too deeply (at most {MAX_INCLUDE_DEPTH} files may be open at once)"),
            )
            .with_label(span, "this include is too deep")
            .with_help("flatten the include structure; nft allows at most 16 levels"));
        }
        let paths = self.resolve(from, pattern, span)?;
        let mut out = Vec::new();
        for path in paths {
            self.loaded += 1;
            if self.loaded > MAX_INCLUDED_FILES {
                return Err(Diagnostic::error(
                    "E5002",
                    format!("more than {MAX_INCLUDED_FILES} files included in one check"),
                )
                .with_label(span, "one include too many")
                .with_help("a file is probably included many times over; include it once"));
            }
            let canonical = std::fs::canonicalize(&path).unwrap_or_else(|_| path.clone());
            if let Some(&id) = self.by_path.get(&canonical) {
                if let Some(pos) = self.stack.iter().position(|f| f.file == id) {
                    let chain: Vec<String> =
                        self.stack[pos..].iter().map(|f| self.sources.get(f.file).path.display().to_string()).collect();
                    return Err(Diagnostic::error(
                        "E5002",
                        format!("include cycle: `{}` includes itself", path.display()),
                    )
                    .with_label(span, "this include closes a cycle")
                    .with_help(format!(
                        "the chain is {} -> {}",
                        chain.join(" -> "),
                        path.display()
                    )));
                }
                out.push((id, self.sources.get(id).text.clone()));
                continue;
            }
            // Only regular files: a FIFO or a terminal would block forever.
            let regular = std::fs::metadata(&path).map(|m| m.is_file());
            let text = match regular {
                Ok(false) => Err("not a regular file".to_string()),
                _ => read_source(&path),
            }
            .map_err(|reason| {
                Diagnostic::error("E5003", format!("cannot read include file `{}`: {reason}", path.display()))
                    .with_label(span, "included here")
            })?;
            let id = self.sources.add(path, text.clone());
            self.by_path.insert(canonical, id);
            out.push((id, text));
        }
        if let Some(top) = self.stack.last_mut() {
            top.pending = out.iter().map(|(id, _)| *id).collect();
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ctc_grammar::ast::TermKind;

    #[test]
    fn defines_parse() {
        let (n, v) = parse_define("lan_if=lan0").unwrap();
        assert_eq!(n, "lan_if");
        assert!(matches!(&v[0].kind, TermKind::Word(w) if w == "lan0"));
        let (_, v) = parse_define("ports={ 22, 80 }").unwrap();
        assert!(matches!(&v[0].kind, TermKind::Set(_)));
        assert!(parse_define("novalue").is_err());
        assert!(parse_define("x=").is_err());
        assert!(parse_define("1x=2").is_err());
        assert!(parse_define("x=1\nflush ruleset").is_err());
        assert!(parse_define("x={ 1,").is_err());
    }

    #[test]
    fn syntax_error_is_one_diagnostic() {
        let c = check_source("t.nft", "table inet f {\n", &CheckOptions::default());
        assert_eq!(c.errors(), 1);
        assert_eq!(c.diagnostics[0].code, "E0002");
    }

    #[test]
    fn compile_lowers_and_verifies() {
        let src = "table inet f {\n chain c {\n  type filter hook input priority 0;\n  tcp dport 22 accept\n }\n}\n";
        let p = compile_source("t.nft", src, &CheckOptions::default()).expect("compiles");
        assert_eq!(p.chains.len(), 1);
        let src = "table bridge b {\n}\n";
        let e = compile_source("t.nft", src, &CheckOptions::default()).unwrap_err();
        assert_eq!(e.diagnostics[0].code, "E6001");
        let e = compile_file(Path::new("/nonexistent/ctc/x.nft"), &CheckOptions::default()).unwrap_err();
        assert_eq!(e.diagnostics[0].code, "E5003");
    }

    #[test]
    fn missing_file_is_e5003() {
        let c = check_file(Path::new("/nonexistent/ctc/x.nft"), &CheckOptions::default());
        assert_eq!(c.diagnostics.len(), 1);
        assert_eq!(c.diagnostics[0].code, "E5003");
    }

    #[test]
    fn bad_define_is_reported() {
        let opts = CheckOptions { defines: vec![("x".into(), "{ 1,".into())], ..Default::default() };
        let c = check_source("t.nft", "table inet f { }\n", &opts);
        assert!(c.has_errors());
    }

    fn tmpdir(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("ctc-driver-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn loader_resolves_relative_then_include_dirs_and_globs() {
        let d = tmpdir("resolve");
        std::fs::create_dir_all(d.join("inc")).unwrap();
        std::fs::create_dir_all(d.join("conf.d")).unwrap();
        std::fs::write(d.join("main.nft"), "").unwrap();
        std::fs::write(d.join("local.nft"), "define a = 1\n").unwrap();
        std::fs::write(d.join("inc/lib.nft"), "define b = 2\n").unwrap();
        std::fs::write(d.join("conf.d/20-b.nft"), "").unwrap();
        std::fs::write(d.join("conf.d/10-a.nft"), "").unwrap();
        let mut map = SourceMap::new();
        let root = map.add(d.join("main.nft"), "");
        let dirs = vec![d.join("inc")];
        let mut l = FsLoader::new(&mut map, root, &dirs);
        let sp = Span::new(root, 0, 0);
        let r = l.include(root, "local.nft", sp).unwrap();
        assert_eq!(r.len(), 1);
        let again = l.include(root, "local.nft", sp).unwrap();
        assert_eq!(again[0].0, r[0].0, "the same file keeps its id");
        assert_eq!(l.include(root, "lib.nft", sp).unwrap()[0].1, "define b = 2\n");
        let g = l.include(root, "conf.d/*.nft", sp).unwrap();
        let names: Vec<_> = g.iter().map(|(id, _)| l.sources.get(*id).path.file_name().unwrap().to_owned()).collect();
        assert_eq!(names, ["10-a.nft", "20-b.nft"]);
        assert!(l.include(root, "none/*.nft", sp).unwrap().is_empty());
        std::fs::write(d.join("conf.d/.hidden.nft"), "").unwrap();
        assert_eq!(l.include(root, "conf.d/**.nft", sp).unwrap().len(), 2, "no dot files, `**` is `*`");
        let e = l.include(root, "/dev/null", sp).unwrap_err();
        assert_eq!(e.code, "E5003", "only regular files are read");
        let e = l.include(root, "missing.nft", sp).unwrap_err();
        assert_eq!(e.code, "E5001");
        assert!(e.help.unwrap().contains("inc"));
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn loader_reports_cycles_and_depth() {
        let d = tmpdir("cycle");
        std::fs::write(d.join("a.nft"), "include \"b.nft\"\n").unwrap();
        std::fs::write(d.join("b.nft"), "include \"a.nft\"\n").unwrap();
        let mut map = SourceMap::new();
        let root = map.add(d.join("a.nft"), "include \"b.nft\"\n");
        let mut l = FsLoader::new(&mut map, root, &[]);
        let sp = Span::new(root, 0, 0);
        let b = l.include(root, "b.nft", sp).unwrap()[0].0;
        let e = l.include(b, "a.nft", sp).unwrap_err();
        assert_eq!(e.code, "E5002");

        // A chain of distinct files deeper than the limit.
        for i in 0..20 {
            std::fs::write(d.join(format!("d{i}.nft")), format!("include \"d{}.nft\"\n", i + 1)).unwrap();
        }
        let mut map = SourceMap::new();
        let root = map.add(d.join("d0.nft"), "");
        let mut l = FsLoader::new(&mut map, root, &[]);
        let mut from = root;
        let mut err = None;
        for i in 1..20 {
            match l.include(from, &format!("d{i}.nft"), sp) {
                Ok(v) => from = v[0].0,
                Err(e) => {
                    err = Some((i, e));
                    break;
                }
            }
        }
        let (i, e) = err.expect("depth limit");
        assert_eq!(e.code, "E5002");
        assert_eq!(i, MAX_INCLUDE_DEPTH);
        let _ = std::fs::remove_dir_all(&d);
    }
}
