//! The ruleset as `nft list ruleset` prints it, with live counter values:
//! what `ctc replay --counters` shows after a run.
//!
//! Tables, chains (hook line with the symbolic priority and the policy) and
//! sets come from the checked program; each rule is its own source text
//! with white space collapsed and its `counter` statement replaced by
//! `counter packets N bytes M`.

use crate::Checked;
use ctc_grammar::{SourceMap, Span};
use ctc_sema::hir::{self, Policy, StmtKind};
use std::fmt::Write;

/// Counter values of a rule: (table index, chain name, rule index) →
/// (packets, bytes), `None` when the rule has no counter.
pub trait Counters {
    fn rule_counter(&self, table: usize, chain: &str, rule: usize) -> Option<(u64, u64)>;
}

fn source(sources: &SourceMap, span: Span) -> String {
    if sources.is_empty() || span.file.0 as usize >= sources.len() {
        return String::new();
    }
    sources.get(span.file).slice(span).split_whitespace().collect::<Vec<_>>().join(" ")
}

fn rule_text(sources: &SourceMap, rule: &hir::Rule, counter: Option<(u64, u64)>) -> String {
    let file = sources.get(rule.span.file);
    let text = file.slice(rule.span);
    let counter_span = rule.stmts.iter().find(|s| matches!(s.kind, StmtKind::Counter { .. })).map(|s| s.span);
    let spliced = match (counter_span, counter) {
        (Some(cs), Some((p, b)))
            if cs.file == rule.span.file && cs.start >= rule.span.start && cs.end <= rule.span.end =>
        {
            let (a, z) = ((cs.start - rule.span.start) as usize, (cs.end - rule.span.start) as usize);
            match (text.get(..a), text.get(z..)) {
                (Some(head), Some(tail)) => format!("{head}counter packets {p} bytes {b}{tail}"),
                _ => text.to_string(),
            }
        }
        _ => text.to_string(),
    };
    spliced.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn priority(family: hir::Family, hook: hir::Hook, value: i32) -> String {
    match ctc_proto::priority_name(family, hook, value) {
        Some((name, 0)) => name.to_string(),
        Some((name, off)) if off > 0 => format!("{name} + {off}"),
        Some((name, off)) => format!("{name} - {}", -off),
        None => value.to_string(),
    }
}

fn set_text(out: &mut String, set: &hir::Set, sources: &SourceMap) {
    let kind = if set.is_map { "map" } else { "set" };
    let _ = writeln!(out, "\t{kind} {} {{", set.name);
    let key: Vec<&str> = set.key.iter().map(|k| k.ty.info().name).collect();
    let data = match &set.data {
        None => String::new(),
        Some(hir::MapData::Verdict) => " : verdict".into(),
        Some(hir::MapData::Value(v)) => {
            format!(" : {}", v.iter().map(|k| k.ty.info().name).collect::<Vec<_>>().join(" . "))
        }
        Some(hir::MapData::Object(o)) => format!(" : {}", o.as_str()),
    };
    let _ = writeln!(out, "\t\ttype {}{data}", key.join(" . "));
    if !set.flags.is_empty() {
        let _ = writeln!(out, "\t\tflags {}", set.flags.join(","));
    }
    if let Some(t) = set.timeout_ms {
        let _ = writeln!(out, "\t\ttimeout {}s", t / 1000);
    }
    // Elements as written (each element's own source text).
    let elements: Vec<String> =
        set.elements.iter().map(|e| source(sources, e.span)).filter(|t| !t.is_empty()).collect();
    if !elements.is_empty() {
        let _ = writeln!(out, "\t\telements = {{ {} }}", elements.join(", "));
    }
    let _ = writeln!(out, "\t}}");
}

/// The listing. `counters` gives each rule's values.
pub fn ruleset_with_counters(checked: &Checked, counters: &dyn Counters) -> String {
    let mut out = String::new();
    for (ti, t) in checked.program.tables.iter().enumerate() {
        let _ = writeln!(out, "table {} {} {{", t.family.name(), t.name);
        let mut first = true;
        for s in &t.sets {
            if !first {
                out.push('\n');
            }
            first = false;
            set_text(&mut out, s, &checked.sources);
        }
        for c in t.chains.iter().filter(|c| !c.anonymous) {
            if !first {
                out.push('\n');
            }
            first = false;
            let _ = writeln!(out, "\tchain {} {{", c.name);
            if let Some(b) = &c.base {
                let _ = write!(out, "\t\ttype {} hook {}", b.ty.name(), b.hook.name());
                if !b.devices.is_empty() {
                    let _ = write!(out, " device \"{}\"", b.devices.join("\", \""));
                }
                let _ = writeln!(
                    out,
                    " priority {}; policy {};",
                    priority(t.family, b.hook, b.priority),
                    if b.policy == Policy::Accept { "accept" } else { "drop" }
                );
            }
            for (ri, r) in c.rules.iter().enumerate() {
                let text = rule_text(&checked.sources, r, counters.rule_counter(ti, &c.name, ri));
                let text = if text.is_empty() { source(&checked.sources, r.span) } else { text };
                let _ = writeln!(out, "\t\t{text}");
            }
            let _ = writeln!(out, "\t}}");
        }
        let _ = writeln!(out, "}}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{CheckOptions, check_source};

    struct Fixed;
    impl Counters for Fixed {
        fn rule_counter(&self, _t: usize, chain: &str, rule: usize) -> Option<(u64, u64)> {
            (chain == "input" && rule == 0).then_some((3, 180))
        }
    }

    #[test]
    fn counters_replace_the_counter_statement() {
        let src = "table inet filter {\n\tset bl {\n\t\ttype ipv4_addr\n\t\tflags interval\n\t\telements = { 192.0.2.0/24,\n 198.51.100.7 }\n\t}\n\tchain input {\n\t\ttype filter hook input priority filter + 10; policy drop;\n\t\ttcp   dport 22 counter accept\n\t\tip saddr @bl drop\n\t}\n}\n";
        let checked = check_source("t.nft", src, &CheckOptions::default());
        assert!(!checked.has_errors(), "{:?}", checked.diagnostics);
        let out = ruleset_with_counters(&checked, &Fixed);
        assert_eq!(
            out,
            "table inet filter {\n\tset bl {\n\t\ttype ipv4_addr\n\t\tflags interval\n\t\telements = { 192.0.2.0/24, 198.51.100.7 }\n\t}\n\n\tchain input {\n\t\ttype filter hook input priority filter + 10; policy drop;\n\t\ttcp dport 22 counter packets 3 bytes 180 accept\n\t\tip saddr @bl drop\n\t}\n}\n"
        );
    }
}
