//! Rendering diagnostics: human text (headline plus an ariadne snippet),
//! JSON (one object per diagnostic, one per line) and SARIF 2.1.0.
//!
//! The formats are a contract (DESIGN §3): the human headline is
//! `FILE:LINE:COL: SEVERITY[CODE]: MESSAGE`; JSON objects carry `file`,
//! `line`, `column`, `end` (`{line, column}`), `severity`, `code`, `name`,
//! `message` and `help`.

use crate::diag::{Diagnostic, Severity};
use crate::span::{SourceMap, Span};
use ariadne::{CharSet, Config, IndexType, Label, Report, ReportKind};
use std::fmt::Write;

/// Options of the human renderer.
#[derive(Debug, Clone, Copy, Default)]
pub struct HumanOptions {
    pub color: bool,
}

fn location(map: &SourceMap, span: Span) -> (String, usize, usize, usize, usize) {
    let f = map.get(span.file);
    let (l, c) = f.line_col(span.start);
    let (el, ec) = f.line_col(span.end);
    (f.path.display().to_string(), l, c, el, ec)
}

/// Render one diagnostic for people.
pub fn render_human(map: &SourceMap, d: &Diagnostic, opts: HumanOptions) -> String {
    let mut out = String::new();
    let Some(primary) = d.primary_span() else {
        let _ = writeln!(out, "{}[{}]: {}", d.severity.as_str(), d.code, d.message);
        if let Some(h) = &d.help {
            let _ = writeln!(out, "  = help: {h}");
        }
        for n in &d.notes {
            let _ = writeln!(out, "  = note: {n}");
        }
        return out;
    };
    let (file, line, col, _, _) = location(map, primary);
    let _ = writeln!(out, "{file}:{line}:{col}: {}[{}]: {}", d.severity.as_str(), d.code, d.message);

    let kind = match d.severity {
        Severity::Error => ReportKind::Error,
        Severity::Warning => ReportKind::Warning,
        Severity::Note => ReportKind::Advice,
    };
    let id = |s: Span| map.get(s.file).path.display().to_string();
    let range = |s: Span| {
        let text = &map.get(s.file).text;
        let start = (s.start as usize).min(text.len());
        let end = (s.end as usize).clamp(start, text.len());
        start..end
    };
    let config =
        Config::default().with_color(opts.color).with_index_type(IndexType::Byte).with_char_set(CharSet::Unicode);
    let mut report = Report::build(kind, (id(primary), range(primary)))
        .with_config(config)
        .with_code(d.code)
        .with_message(&d.message);
    // ariadne groups labels by source and heads a group that starts above
    // the report's position with the report's line and column: give it the
    // labels in source order so every snippet is headed by its own place.
    let mut labels: Vec<&crate::diag::Label> = d.labels.iter().collect();
    labels.sort_by_key(|l| (l.span.file, l.span.start, l.span.end));
    for (order, l) in labels.into_iter().enumerate() {
        let mut label = Label::new((id(l.span), range(l.span))).with_message(&l.message).with_order(order as i32);
        if opts.color {
            label = label.with_color(if l.primary { ariadne::Color::Red } else { ariadne::Color::Blue });
        }
        report = report.with_label(label);
    }
    if let Some(h) = &d.help {
        report = report.with_help(h);
    }
    for n in &d.notes {
        report = report.with_note(n);
    }
    let sources: Vec<(String, String)> = {
        let mut seen: Vec<String> = Vec::new();
        let mut v = Vec::new();
        for l in &d.labels {
            let name = id(l.span);
            if !seen.contains(&name) {
                seen.push(name.clone());
                v.push((name, map.get(l.span.file).text.clone()));
            }
        }
        v
    };
    let mut buf = Vec::new();
    if report.finish().write(ariadne::sources(sources), &mut buf).is_ok() {
        // ariadne's first line repeats code and message, which the contract
        // headline above already gives: keep only the snippet.
        let text = String::from_utf8_lossy(&buf);
        out.push_str(text.split_once('\n').map_or("", |(_, rest)| rest));
    }
    out
}

/// Escape a string for JSON.
pub fn json_str(s: &str) -> String {
    let mut o = String::with_capacity(s.len() + 2);
    o.push('"');
    for c in s.chars() {
        match c {
            '"' => o.push_str("\\\""),
            '\\' => o.push_str("\\\\"),
            '\n' => o.push_str("\\n"),
            '\r' => o.push_str("\\r"),
            '\t' => o.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(o, "\\u{:04x}", c as u32);
            }
            c => o.push(c),
        }
    }
    o.push('"');
    o
}

/// One JSON object (one line) for a diagnostic. `name` is the lint name,
/// when the diagnostic is a lint.
pub fn render_json(map: &SourceMap, d: &Diagnostic, name: Option<&str>) -> String {
    let mut o = String::from("{");
    match d.primary_span() {
        Some(s) => {
            let (file, l, c, el, ec) = location(map, s);
            let _ = write!(
                o,
                "\"file\":{},\"line\":{l},\"column\":{c},\"end\":{{\"line\":{el},\"column\":{ec}}},",
                json_str(&file)
            );
        }
        None => o.push_str("\"file\":null,\"line\":null,\"column\":null,\"end\":null,"),
    }
    let _ = write!(
        o,
        "\"severity\":{},\"code\":{},\"name\":{},\"message\":{},\"help\":{},\"labels\":[",
        json_str(d.severity.as_str()),
        json_str(d.code),
        name.map_or("null".to_string(), json_str),
        json_str(&d.message),
        d.help.as_deref().map_or("null".to_string(), json_str)
    );
    for (i, l) in d.labels.iter().enumerate() {
        let (file, line, col, el, ec) = location(map, l.span);
        if i > 0 {
            o.push(',');
        }
        let _ = write!(
            o,
            "{{\"file\":{},\"line\":{line},\"column\":{col},\"end\":{{\"line\":{el},\"column\":{ec}}},\"message\":{},\"primary\":{}}}",
            json_str(&file),
            json_str(&l.message),
            l.primary
        );
    }
    o.push_str("],\"notes\":[");
    for (i, n) in d.notes.iter().enumerate() {
        if i > 0 {
            o.push(',');
        }
        o.push_str(&json_str(n));
    }
    o.push_str("]}");
    o
}

/// A rule of the SARIF `tool.driver.rules` array: code, short name and
/// description.
#[derive(Debug, Clone)]
pub struct SarifRule {
    pub code: String,
    pub name: String,
    pub description: String,
}

/// A SARIF 2.1.0 log with one run holding all diagnostics.
pub fn render_sarif(
    map: &SourceMap,
    diags: &[(Diagnostic, Option<String>)],
    rules: &[SarifRule],
    version: &str,
) -> String {
    let mut o = String::new();
    o.push_str("{\n  \"$schema\": \"https://json.schemastore.org/sarif-2.1.0.json\",\n  \"version\": \"2.1.0\",\n  \"runs\": [\n    {\n");
    let _ = write!(
        o,
        "      \"tool\": {{\n        \"driver\": {{\n          \"name\": \"ctc\",\n          \"version\": {},\n          \"informationUri\": \"https://example.invalid/ctc\",\n          \"rules\": [",
        json_str(version)
    );
    for (i, r) in rules.iter().enumerate() {
        if i > 0 {
            o.push(',');
        }
        let _ = write!(
            o,
            "\n            {{ \"id\": {}, \"name\": {}, \"shortDescription\": {{ \"text\": {} }} }}",
            json_str(&r.code),
            json_str(&r.name),
            json_str(&r.description)
        );
    }
    o.push_str("\n          ]\n        }\n      },\n      \"results\": [");
    for (i, (d, name)) in diags.iter().enumerate() {
        if i > 0 {
            o.push(',');
        }
        let level = match d.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Note => "note",
        };
        let mut text = d.message.clone();
        if let Some(h) = &d.help {
            let _ = write!(text, "\nhelp: {h}");
        }
        let _ = write!(
            o,
            "\n        {{\n          \"ruleId\": {},\n          \"level\": \"{level}\",\n          \"message\": {{ \"text\": {} }}",
            json_str(d.code),
            json_str(&text)
        );
        // SARIF's own fields are `ruleId` (the code) and `level` (the
        // severity); the properties repeat them under ctc's JSON names, with
        // the diagnostic's name.
        let _ = write!(o, ",\n          \"properties\": {{ \"code\": {}, ", json_str(d.code));
        if let Some(n) = name {
            let _ = write!(o, "\"name\": {}, ", json_str(n));
        }
        let _ = write!(o, "\"severity\": \"{level}\" }}");
        if let Some(s) = d.primary_span() {
            let (file, l, c, el, ec) = location(map, s);
            let _ = write!(
                o,
                ",\n          \"locations\": [ {{ \"physicalLocation\": {{ \"artifactLocation\": {{ \"uri\": {} }}, \"region\": {{ \"startLine\": {l}, \"startColumn\": {c}, \"endLine\": {el}, \"endColumn\": {ec} }} }} }} ]",
                json_str(&file)
            );
        }
        o.push_str("\n        }");
    }
    o.push_str("\n      ]\n    }\n  ]\n}\n");
    o
}
