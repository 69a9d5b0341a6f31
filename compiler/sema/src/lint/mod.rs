//! Lints: warnings about rulesets that nft accepts but that do not do what
//! their author most likely meant (modelled on ruff and oxc).
//!
//! - one lint per file under [`rules`], its documentation in the doc
//!   comment of the lint's marker struct (declared with [`declare_lint!`],
//!   which also keeps the comment's text as the file's `DOC` constant, so the
//!   doc comment is the single source of `ctc explain`);
//! - one registry table, [`LINTS`]: code, name, category, default level;
//! - the anomaly lints share one analysis of each chain's match space
//!   ([`space`], [`anomaly`]), computed once per check;
//! - suppression comments (`# ctc: allow(NAME)` on or above the line a
//!   diagnostic points at) are applied last ([`suppress`]); a suppression
//!   that silences nothing is itself a warning (`unused-suppression`).
//!
//! Lints run only on rulesets without errors (as clippy runs after a
//! successful compile): on a broken ruleset they would report the
//! consequences of the error.

pub mod anomaly;
pub mod rules;
pub mod space;
pub mod suppress;

use crate::hir::{self, Family, ObjectKind};
use ctc_grammar::{Diagnostic, Severity, SourceMap, Span};
use std::cell::OnceCell;

/// Declare a lint's marker struct from its doc comment and keep the doc
/// comment's text as `pub const DOC: &str` (one line per `///` line, the
/// space after `///` kept; [`render_doc`] removes it).
#[macro_export]
macro_rules! declare_lint {
    ($(#[doc = $line:literal])* pub struct $name:ident;) => {
        $(#[doc = $line])*
        #[derive(Debug, Clone, Copy)]
        pub struct $name;
        /// The doc comment of the lint, as written (see `lint::render_doc`).
        pub const DOC: &str = concat!($($line, "\n"),*);
    };
}

/// What kind of problem a lint finds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Category {
    /// Rule anomalies over the match space (Al-Shaer & Hamed).
    Anomaly,
    /// Connection-tracking and NAT mistakes.
    Stateful,
    /// Declarations nobody uses, duplicates.
    Hygiene,
    /// Rewrites that make a ruleset shorter or faster.
    Style,
    /// The lint machinery itself (suppression comments).
    Meta,
}

impl Category {
    pub fn name(self) -> &'static str {
        match self {
            Category::Anomaly => "anomaly",
            Category::Stateful => "stateful",
            Category::Hygiene => "hygiene",
            Category::Style => "style",
            Category::Meta => "meta",
        }
    }
}

/// How a lint reports: not at all, as a note, a warning, or an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Allow,
    Note,
    Warn,
    Deny,
}

impl Level {
    pub fn name(self) -> &'static str {
        match self {
            Level::Allow => "allow",
            Level::Note => "note",
            Level::Warn => "warn",
            Level::Deny => "deny",
        }
    }
    fn severity(self) -> Severity {
        match self {
            Level::Allow | Level::Note => Severity::Note,
            Level::Warn => Severity::Warning,
            Level::Deny => Severity::Error,
        }
    }
}

/// One row of the registry.
#[derive(Debug)]
pub struct Lint {
    pub code: &'static str,
    pub name: &'static str,
    pub category: Category,
    pub default: Level,
    /// The lint's doc comment (its file's `DOC`).
    pub doc: &'static str,
    pub check: fn(&LintCx<'_>, &mut Vec<Diagnostic>),
}

impl Lint {
    /// The first line of the doc comment.
    pub fn summary(&self) -> &'static str {
        self.doc.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or("")
    }
}

use rules::*;

/// Every lint: code, name, category, default level. Sorted by code; codes
/// and names are unique and distinct from the error codes (unit-tested).
pub static LINTS: &[Lint] = &[
    Lint {
        code: "W0001",
        name: "unused-suppression",
        category: Category::Meta,
        default: Level::Warn,
        doc: unused_suppression::DOC,
        check: unused_suppression::check,
    },
    Lint {
        code: "W1001",
        name: "shadowed-rule",
        category: Category::Anomaly,
        default: Level::Warn,
        doc: shadowed_rule::DOC,
        check: shadowed_rule::check,
    },
    Lint {
        code: "W1002",
        name: "redundant-rule",
        category: Category::Anomaly,
        default: Level::Warn,
        doc: redundant_rule::DOC,
        check: redundant_rule::check,
    },
    Lint {
        code: "W1003",
        name: "correlated-rules",
        category: Category::Anomaly,
        default: Level::Warn,
        doc: correlated_rules::DOC,
        check: correlated_rules::check,
    },
    Lint {
        code: "W1004",
        name: "unreachable-rule",
        category: Category::Anomaly,
        default: Level::Warn,
        doc: unreachable_rule::DOC,
        check: unreachable_rule::check,
    },
    Lint {
        code: "W1005",
        name: "contradictory-match",
        category: Category::Anomaly,
        default: Level::Warn,
        doc: contradictory_match::DOC,
        check: contradictory_match::check,
    },
    Lint {
        code: "W2001",
        name: "missing-established-accept",
        category: Category::Stateful,
        default: Level::Warn,
        doc: missing_established_accept::DOC,
        check: missing_established_accept::check,
    },
    Lint {
        code: "W2002",
        name: "invalid-not-dropped",
        category: Category::Stateful,
        default: Level::Warn,
        doc: invalid_not_dropped::DOC,
        check: invalid_not_dropped::check,
    },
    Lint {
        code: "W2003",
        name: "new-without-syn",
        category: Category::Stateful,
        default: Level::Warn,
        doc: new_without_syn::DOC,
        check: new_without_syn::check,
    },
    Lint {
        code: "W2004",
        name: "helper-without-related-accept",
        category: Category::Stateful,
        default: Level::Warn,
        doc: helper_without_related_accept::DOC,
        check: helper_without_related_accept::check,
    },
    Lint {
        code: "W2005",
        name: "related-not-restricted",
        category: Category::Stateful,
        default: Level::Allow,
        doc: related_not_restricted::DOC,
        check: related_not_restricted::check,
    },
    Lint {
        code: "W2006",
        name: "helper-not-effective",
        category: Category::Stateful,
        default: Level::Warn,
        doc: helper_not_effective::DOC,
        check: helper_not_effective::check,
    },
    Lint {
        code: "W2007",
        name: "nat-verdict-in-nat-chain",
        category: Category::Stateful,
        default: Level::Warn,
        doc: nat_verdict_in_nat_chain::DOC,
        check: nat_verdict_in_nat_chain::check,
    },
    Lint {
        code: "W2008",
        name: "dnat-without-forward-accept",
        category: Category::Stateful,
        default: Level::Warn,
        doc: dnat_without_forward_accept::DOC,
        check: dnat_without_forward_accept::check,
    },
    Lint {
        code: "W3001",
        name: "unused-set",
        category: Category::Hygiene,
        default: Level::Warn,
        doc: unused_set::DOC,
        check: unused_set::check,
    },
    Lint {
        code: "W3002",
        name: "unused-define",
        category: Category::Hygiene,
        default: Level::Warn,
        doc: unused_define::DOC,
        check: unused_define::check,
    },
    Lint {
        code: "W3003",
        name: "unused-chain",
        category: Category::Hygiene,
        default: Level::Warn,
        doc: unused_chain::DOC,
        check: unused_chain::check,
    },
    Lint {
        code: "W3004",
        name: "unused-object",
        category: Category::Hygiene,
        default: Level::Warn,
        doc: unused_object::DOC,
        check: unused_object::check,
    },
    Lint {
        code: "W3005",
        name: "duplicate-element",
        category: Category::Hygiene,
        default: Level::Warn,
        doc: duplicate_element::DOC,
        check: duplicate_element::check,
    },
    Lint {
        code: "W3006",
        name: "overlapping-interval",
        category: Category::Hygiene,
        default: Level::Warn,
        doc: overlapping_interval::DOC,
        check: overlapping_interval::check,
    },
    Lint {
        code: "W4001",
        name: "mergeable-rules",
        category: Category::Style,
        default: Level::Note,
        doc: mergeable_rules::DOC,
        check: mergeable_rules::check,
    },
];

/// The lint of a code (`W1001`, any case) or a name (`shadowed-rule`).
pub fn lookup(code_or_name: &str) -> Option<&'static Lint> {
    let key = code_or_name.trim();
    LINTS.iter().find(|l| l.code.eq_ignore_ascii_case(key) || l.name.eq_ignore_ascii_case(key))
}

/// The lint that reports `code`, if any.
pub fn by_code(code: &str) -> Option<&'static Lint> {
    LINTS.iter().find(|l| l.code == code)
}

/// The doc comment of a lint as `ctc explain` prints it: the summary line
/// dropped, `## Heading` as `Heading:`, fenced code blocks indented by four
/// spaces (the layout of the error codes' documentation).
pub fn render_doc(doc: &str) -> String {
    let mut out = String::new();
    let mut in_code = false;
    let mut started = false;
    let mut lines = doc.lines().map(|l| l.strip_prefix(' ').unwrap_or(l)).skip_while(|l| l.trim().is_empty());
    // The summary line is printed separately by `ctc explain`.
    let _ = lines.next();
    for line in lines {
        if line.starts_with("```") {
            in_code = !in_code;
            // A blank line around the example, as in the error codes' docs.
            if !out.ends_with("\n\n") {
                out.push('\n');
            }
            continue;
        }
        if in_code {
            out.push_str("    ");
            out.push_str(line);
            out.push('\n');
            continue;
        }
        if let Some(h) = line.strip_prefix("## ") {
            let h = h.trim();
            out.push_str(h);
            if !h.ends_with('?') && !h.ends_with(':') {
                out.push(':');
            }
            out.push('\n');
            started = true;
            continue;
        }
        if (!started || out.ends_with("\n\n")) && line.trim().is_empty() {
            continue;
        }
        started = true;
        out.push_str(line);
        out.push('\n');
    }
    while out.ends_with("\n\n") {
        out.pop();
    }
    out
}

/// Level overrides from the command line (`--allow NAME`, `--deny NAME`,
/// `--warn NAME`), applied in order: the last one for a lint wins.
#[derive(Debug, Clone, Default)]
pub struct LintConfig {
    pub overrides: Vec<(&'static str, Level)>,
}

impl LintConfig {
    /// The level of `lint` after the overrides.
    pub fn level(&self, lint: &Lint) -> Level {
        self.overrides.iter().rev().find(|(n, _)| *n == lint.name).map_or(lint.default, |(_, l)| *l)
    }
}

/// Where names are used, as the resolver saw them (the HIR keeps the
/// ruleset, not the variables nor every reference).
#[derive(Debug, Clone, Default)]
pub struct Usage {
    /// Every `define` (and `redefine`) of the files, in order.
    pub defines: Vec<DefineUse>,
    /// Named sets and maps referenced by rules: (family, table, set).
    pub sets: Vec<(Family, String, String)>,
    /// Named objects referenced by rules: (family, table, kind, name).
    pub objects: Vec<(Family, String, ObjectKind, String)>,
}

/// One `define NAME = VALUE`.
#[derive(Debug, Clone)]
pub struct DefineUse {
    pub name: String,
    /// The name in the `define` line.
    pub span: Span,
    pub used: bool,
    /// Given with `-D` on the command line (never reported).
    pub from_command_line: bool,
}

/// What every lint sees: the checked program, the uses, the sources (for
/// suppression comments and rewrites), and the chain analyses, computed on
/// first use.
pub struct LintCx<'a> {
    pub program: &'a hir::Program,
    pub usage: &'a Usage,
    pub sources: &'a SourceMap,
    anomalies: OnceCell<Vec<anomaly::ChainReport>>,
}

impl std::fmt::Debug for LintCx<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LintCx").field("tables", &self.program.tables.len()).finish()
    }
}

impl<'a> LintCx<'a> {
    pub fn new(program: &'a hir::Program, usage: &'a Usage, sources: &'a SourceMap) -> LintCx<'a> {
        LintCx { program, usage, sources, anomalies: OnceCell::new() }
    }
    /// The anomaly analysis of every chain (computed once).
    pub fn anomalies(&self) -> &[anomaly::ChainReport] {
        self.anomalies.get_or_init(|| anomaly::analyze_program(self.program, self.sources))
    }
    /// The source text a span covers (empty when out of range).
    pub fn text(&self, span: Span) -> &str {
        if (span.file.0 as usize) >= self.sources.len() {
            return "";
        }
        self.sources.get(span.file).slice(span)
    }
    /// `file:line` of a span, for messages that name another place.
    pub fn line_of(&self, span: Span) -> usize {
        if (span.file.0 as usize) >= self.sources.len() {
            return 0;
        }
        self.sources.get(span.file).line_col(span.start).0
    }
}

/// Run every lint that is not allowed, apply suppression comments, and
/// report unused suppressions. The diagnostics carry the lint's code; their
/// severity follows the lint's level.
pub fn run(program: &hir::Program, usage: &Usage, sources: &SourceMap, config: &LintConfig) -> Vec<Diagnostic> {
    let cx = LintCx::new(program, usage, sources);
    let mut all = Vec::new();
    for lint in LINTS {
        if lint.code == "W0001" {
            continue;
        }
        let level = config.level(lint);
        if level == Level::Allow {
            continue;
        }
        let mut found = Vec::new();
        (lint.check)(&cx, &mut found);
        for (k, mut d) in found.into_iter().enumerate() {
            d.code = lint.code;
            d.severity = level.severity();
            if k == 0 {
                // As rustc does once per lint: say which lint this is and how
                // to silence it (the headline only shows the code).
                let how = if level == lint.default {
                    format!("`{}` ({} lint) is on by default", lint.name, lint.category.name())
                } else {
                    format!("`{}` is set to {} on the command line", lint.name, level.name())
                };
                d.notes.push(format!("{how}; `# ctc: allow({})` on or above the line silences it there", lint.name));
            }
            all.push(d);
        }
    }
    let mut sups = suppress::collect(sources);
    let index = suppress::index(&sups);
    all.retain(|d| !suppress::is_suppressed(&mut sups, &index, d, sources));
    let unused = LINTS.iter().find(|l| l.code == "W0001").expect("registered");
    let level = config.level(unused);
    if level != Level::Allow {
        let mut found = Vec::new();
        unused_suppression::report(&sups, &mut found);
        for mut d in found {
            d.severity = level.severity();
            all.push(d);
        }
    }
    all
}

/// A helper for lint tests: check a ruleset text and run one lint (at its
/// default level, or warn when it is allowed by default) with no other.
#[cfg(test)]
pub(crate) fn test_lint(name: &str, text: &str) -> Vec<Diagnostic> {
    let (analysis, sources) = test_support::analyze_text(text);
    assert!(
        !analysis.has_errors(),
        "the test ruleset has errors: {:?}",
        analysis.diagnostics.iter().filter(|d| d.is_error()).map(|d| &d.message).collect::<Vec<_>>()
    );
    let mut config = LintConfig::default();
    for l in LINTS {
        config.overrides.push((l.name, if l.name == name { Level::Warn } else { Level::Allow }));
    }
    run(&analysis.program, &analysis.usage, &sources, &config)
}

#[cfg(test)]
pub(crate) mod test_support {
    use crate::{Analysis, Loader, Options};
    use ctc_grammar::{Diagnostic, FileId, SourceMap, Span};

    struct NoIncludes;
    impl Loader for NoIncludes {
        fn include(&mut self, _: FileId, _: &str, span: Span) -> Result<Vec<(FileId, String)>, Diagnostic> {
            Err(Diagnostic::error("E5001", "no includes in lint tests").with_label(span, "here"))
        }
    }

    pub fn analyze_text(text: &str) -> (Analysis, SourceMap) {
        let mut sources = SourceMap::new();
        let file = sources.add("test.nft", text);
        let script = ctc_grammar::parse_script(file, text).unwrap_or_else(|d| panic!("syntax: {}", d.message));
        let analysis = crate::analyze(&script, file, &mut NoIncludes, &Options::default());
        (analysis, sources)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn registry_is_sorted_unique_and_apart_from_error_codes() {
        for w in LINTS.windows(2) {
            assert!(w[0].code < w[1].code, "{} must come before {}", w[0].code, w[1].code);
        }
        let names: HashSet<_> = LINTS.iter().map(|l| l.name).collect();
        assert_eq!(names.len(), LINTS.len());
        for l in LINTS {
            assert!(l.code.starts_with('W') && l.code.len() == 5, "{}", l.code);
            assert!(crate::codes::CODES.iter().all(|c| c.code != l.code && c.name != l.name), "{}", l.code);
            assert!(l.name.chars().all(|c| c.is_ascii_lowercase() || c == '-'), "{}", l.name);
        }
    }

    #[test]
    fn every_doc_has_the_four_parts_and_an_example() {
        for l in LINTS {
            assert!(!l.summary().is_empty(), "{}", l.name);
            for part in ["## What it does", "## Why is this bad?", "## Example", "## Fix"] {
                assert!(l.doc.contains(part), "{} lacks `{part}`", l.name);
            }
            let text = render_doc(l.doc);
            assert!(text.contains("Example:\n\n    "), "{}: an indented example\n{text}", l.name);
            assert!(!text.contains("```"), "{}", l.name);
        }
    }

    #[test]
    fn lookup_by_code_and_name() {
        assert_eq!(lookup("shadowed-rule").map(|l| l.code), Some("W1001"));
        assert_eq!(lookup("w1001").map(|l| l.name), Some("shadowed-rule"));
        assert!(lookup("E1003").is_none());
    }

    #[test]
    fn large_concatenation_sets_stay_cheap() {
        // 60 rules, each with a 200-element concatenation set: the pairwise
        // comparison of regions is bounded (`space::MAX_BOX_PAIRS`, without
        // it this takes minutes), and claims nothing it cannot prove.
        let mut rules = String::new();
        for r in 0..60 {
            let elems: Vec<String> = (0..200).map(|k| format!("10.0.{r}.{k} . {}", 1000 + k)).collect();
            rules.push_str(&format!("  ip saddr . tcp dport {{ {} }} drop\n", elems.join(", ")));
        }
        let text = format!(
            "table inet t {{\n chain c {{\n  type filter hook input priority 0; policy accept;\n{rules} }}\n}}\n"
        );
        let found = test_lint("shadowed-rule", &text);
        assert!(found.is_empty(), "{found:?}");
    }

    #[test]
    fn spans_stay_on_the_rule_line_with_defines() {
        // A statement whose value comes from a variable spans the `$name`,
        // not the text from the `define` to the rule; a suppression comment
        // on a line in between (here above another rule) does not reach it.
        let text = "define srv = 192.168.1.10\ndefine ports = { 22, 80 }\ntable ip nat {\n chain pre {\n  \
                    type nat hook prerouting priority dstnat; policy accept;\n  # ctc: allow(dnat-without-forward-accept)\n  \
                    tcp dport 8081 counter\n  tcp dport 8080 dnat to $srv\n }\n}\ntable ip filter {\n chain forward {\n  \
                    type filter hook forward priority filter; policy drop;\n }\n chain input {\n  \
                    type filter hook input priority filter; policy accept;\n  \
                    tcp dport $ports tcp dport 443 accept\n }\n}\n";
        let (analysis, sources) = test_support::analyze_text(text);
        assert!(!analysis.has_errors());
        let config = LintConfig::default();
        let found = run(&analysis.program, &analysis.usage, &sources, &config);
        let f = sources.get(ctc_grammar::FileId(0));
        let line = |at: u32| f.line_col(at).0;
        let mut seen = Vec::new();
        for d in found.iter().filter(|d| matches!(d.code, "W2008" | "W1005")) {
            let want = if d.code == "W2008" { 8 } else { 17 };
            let l = d.labels.iter().find(|l| l.primary).expect("a primary label");
            assert_eq!((line(l.span.start), line(l.span.end)), (want, want), "{}: {:?}", d.code, d.labels);
            assert_eq!(f.slice(l.span), if d.code == "W2008" { "dnat to $srv" } else { "tcp dport 443" });
            for s in d.labels.iter().filter(|l| !l.primary && d.code == "W1005") {
                assert_eq!(f.slice(s.span), "tcp dport $ports");
            }
            seen.push(d.code);
        }
        seen.sort_unstable();
        assert_eq!(seen, ["W1005", "W2008"]);
        // The suppression above line 7 is unused: it covers line 7 only.
        assert!(found.iter().any(|d| d.code == "W0001"), "{found:?}");
    }

    #[test]
    fn overrides_apply_in_order() {
        let lint = lookup("shadowed-rule").expect("registered");
        let mut c = LintConfig::default();
        assert_eq!(c.level(lint), Level::Warn);
        c.overrides.push(("shadowed-rule", Level::Deny));
        c.overrides.push(("shadowed-rule", Level::Allow));
        assert_eq!(c.level(lint), Level::Allow);
    }
}
