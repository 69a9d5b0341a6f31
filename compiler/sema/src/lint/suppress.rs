//! Suppression comments: `# ctc: allow(NAME[, NAME]...)`.
//!
//! A comment after code on a line covers that line; a comment on a line of
//! its own covers the next line that holds code (comments may stack above
//! a rule). A lint diagnostic is suppressed when its primary span covers a
//! covered line and the comment names its lint (by name or code). Every
//! name is tracked: one that never suppressed anything, or that names no
//! lint, is reported by `unused-suppression`.

use ctc_grammar::{Diagnostic, FileId, SourceMap, Span};

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
        for (start, end) in &comments {
            let body = &text[*start..*end];
            let Some(list) = parse(body) else { continue };
            let (line, _) = f.line_col(*start as u32);
            let before = &text[text[..*start].rfind('\n').map_or(0, |i| i + 1)..*start];
            let covered = if before.trim().is_empty() { next_code_line(text, *end, &comments, f) } else { line };
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

/// The first line after byte `from` that holds something other than blanks
/// and comments.
fn next_code_line(text: &str, from: usize, comments: &[(usize, usize)], f: &ctc_grammar::SourceFile) -> usize {
    let mut pos = from;
    while pos < text.len() {
        let c = text[pos..].chars().next().unwrap_or(' ');
        if c.is_whitespace() {
            pos += c.len_utf8();
            continue;
        }
        if let Some((_, end)) = comments.iter().find(|(s, _)| *s == pos) {
            pos = *end;
            continue;
        }
        return f.line_col(pos as u32).0;
    }
    0
}

/// Whether a suppression covers `d`; marks the names that do as used.
pub fn is_suppressed(sups: &mut [Suppression], d: &Diagnostic, sources: &SourceMap) -> bool {
    let Some(span) = d.primary_span() else { return false };
    if (span.file.0 as usize) >= sources.len() {
        return false;
    }
    let f = sources.get(span.file);
    let first = f.line_col(span.start).0;
    let last = f.line_col(span.end.max(span.start + 1) - 1).0.max(first);
    let mut hit = false;
    for s in sups.iter_mut().filter(|s| s.file == span.file && s.line >= first && s.line <= last && s.line > 0) {
        for n in s.names.iter_mut().filter(|n| n.code == Some(d.code)) {
            n.used = true;
            hit = true;
        }
    }
    hit
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
