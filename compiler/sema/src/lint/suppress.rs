//! Suppression comments: `# ctc: allow(NAME[, NAME]...)`.
//!
//! A comment after code on a line covers that line; a comment on a line of
//! its own covers the next line that holds code (comments may stack above
//! a rule). A lint diagnostic is suppressed when its primary span covers a
//! covered line and the comment names its lint (by name or code). Every
//! name is tracked: one that never suppressed anything, or that names no
//! lint, is reported by `unused-suppression`.

use ctc_grammar::{Diagnostic, FileId, SourceMap, Span};
use std::collections::HashMap;

/// One name in a suppression comment.
#[derive(Debug, Clone)]
pub struct Allowed {
    /// As written.
    pub name: String,
    /// Where the name is written.
    pub span: Span,
    /// The lint's code, if the name is a lint's name or code.
    pub code: Option<&'static str>,
    pub used: bool,
}

/// One suppression comment.
#[derive(Debug, Clone)]
pub struct Suppression {
    pub file: FileId,
    /// The whole comment.
    pub span: Span,
    /// 1-based line it covers; 0 when no code follows the comment.
    pub line: usize,
    pub names: Vec<Allowed>,
}

/// Every suppression comment of every file.
pub fn collect(sources: &SourceMap) -> Vec<Suppression> {
    let mut out = Vec::new();
    for (file, f) in sources.files() {
        let text = f.text.as_str();
        let comments = ctc_grammar::lexer::comments(text);
        if !comments.iter().any(|(s, e)| text[*s..*e].contains("ctc:")) {
            continue;
        }
        let next_code = next_code_lines(text, &comments, f);
        for (start, end) in &comments {
            let body = &text[*start..*end];
            let Some(list) = parse(body) else { continue };
            let (line, _) = f.line_col(*start as u32);
            let before = &text[text[..*start].rfind('\n').map_or(0, |i| i + 1)..*start];
            let covered = if before.trim().is_empty() { next_code.get(line).copied().unwrap_or(0) } else { line };
            let names = list
                .into_iter()
                .map(|(name, off, len)| {
                    let code = super::lookup(&name).map(|l| l.code);
                    Allowed { name, span: Span::new(file, start + off, start + off + len), code, used: false }
                })
                .collect();
            out.push(Suppression { file, span: Span::new(file, *start, *end), line: covered, names });
        }
    }
    out
}

/// The names of `# ctc: allow(a, b)` with their offsets in the comment, or
/// `None` when the comment is not a suppression.
pub fn parse(comment: &str) -> Option<Vec<(String, usize, usize)>> {
    let rest = comment.strip_prefix('#')?.trim_start().strip_prefix("ctc:")?;
    let rest = rest.trim_start().strip_prefix("allow")?.trim_start();
    // Offsets are relative to the comment: `rest` is a suffix of it.
    let open = comment.len() - rest.len();
    let inner = rest.strip_prefix('(')?;
    let close = inner.find(')')?;
    let mut names = Vec::new();
    let mut off = open + 1;
    for part in inner[..close].split(',') {
        let trimmed = part.trim();
        if !trimmed.is_empty() {
            let at = off + (part.len() - part.trim_start().len());
            names.push((trimmed.to_string(), at, trimmed.len()));
        }
        off += part.len() + 1;
    }
    Some(names)
}

/// For each 1-based line `l`, the first line after `l` that holds
/// something other than blanks and comments (0 when none does), computed
/// in one backward pass.
fn next_code_lines(text: &str, comments: &[(usize, usize)], f: &ctc_grammar::SourceFile) -> Vec<usize> {
    let lines: Vec<&str> = text.split('\n').collect();
    // Where the first comment of each line starts (a comment runs to the
    // end of its line).
    let mut cut: Vec<Option<usize>> = vec![None; lines.len() + 1];
    for (s, _) in comments {
        let (l, _) = f.line_col(*s as u32);
        let line_start = text[..*s].rfind('\n').map_or(0, |i| i + 1);
        if cut[l].is_none() {
            cut[l] = Some(*s - line_start);
        }
    }
    let mut next = vec![0usize; lines.len() + 2];
    let mut after = 0;
    for l in (1..=lines.len()).rev() {
        next[l] = after;
        let line = lines[l - 1];
        let code = match cut[l] {
            Some(c) => line.get(..c).unwrap_or(line),
            None => line,
        };
        if !code.trim().is_empty() {
            after = l;
        }
    }
    next
}

/// Whether a suppression covers `d`; marks the names that do as used.
/// `index` maps (file, line) to the suppressions covering it ([`index`]).
pub fn is_suppressed(
    sups: &mut [Suppression],
    index: &HashMap<(FileId, usize), Vec<usize>>,
    d: &Diagnostic,
    sources: &SourceMap,
) -> bool {
    let Some(span) = d.primary_span() else { return false };
    if (span.file.0 as usize) >= sources.len() || index.is_empty() {
        return false;
    }
    let f = sources.get(span.file);
    let first = f.line_col(span.start).0;
    let last = f.line_col(span.end.max(span.start + 1) - 1).0.max(first);
    let mut hit = false;
    for line in first..=last.min(first + 10_000) {
        for &k in index.get(&(span.file, line)).map_or(&[][..], Vec::as_slice) {
            for n in sups[k].names.iter_mut().filter(|n| n.code == Some(d.code)) {
                n.used = true;
                hit = true;
            }
        }
    }
    hit
}

/// The suppressions by the (file, line) they cover.
pub fn index(sups: &[Suppression]) -> HashMap<(FileId, usize), Vec<usize>> {
    let mut m: HashMap<(FileId, usize), Vec<usize>> = HashMap::new();
    for (k, s) in sups.iter().enumerate().filter(|(_, s)| s.line > 0) {
        m.entry((s.file, s.line)).or_default().push(k);
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_names_and_offsets() {
        let c = "# ctc: allow(shadowed-rule, W1002)";
        let names = parse(c).expect("a suppression");
        assert_eq!(names.len(), 2);
        assert_eq!(&c[names[0].1..names[0].1 + names[0].2], "shadowed-rule");
        assert_eq!(&c[names[1].1..names[1].1 + names[1].2], "W1002");
        assert!(parse("# allow(shadowed-rule)").is_none());
        assert!(parse("# ctc: allow shadowed-rule").is_none());
        assert_eq!(parse("#ctc:allow()").map(|v| v.len()), Some(0));
    }

    #[test]
    fn covers_own_line_or_next_code_line() {
        let mut map = SourceMap::new();
        map.add("t.nft", "a # ctc: allow(unused-set)\n# ctc: allow(unused-chain)\n# other\n\nb\n");
        let s = collect(&map);
        assert_eq!(s.iter().map(|s| s.line).collect::<Vec<_>>(), vec![1, 5]);
        assert_eq!(s[0].names[0].code, Some("W3001"));
    }
}
