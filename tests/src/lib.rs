//! Shared helpers for ctc's test runners.
//!
//! - [`shared_dir`] / [`corpus_dir`]: where the nftables corpus lives (never
//!   copied into the repository; tests skip when it is absent);
//! - [`pyt`]: a reader of nftables' `tests/py/*.t` rule tests that turns each
//!   `ok`/`fail` line into complete nft scripts, one per table and chain, the
//!   way nftables' own `nft-test.py` runs them;
//! - [`strip_spans`]: span-free `Debug` text of an AST, to compare trees that
//!   come from different texts;
//! - [`packets`]: Ethernet/IP/transport frames with correct checksums, pcap
//!   writing, a deterministic xorshift generator;
//! - [`replay`]: `ctc replay` in process (verdict lines, counters) and the
//!   `ctc` binary for end-to-end checks;
//! - [`kernel_diff`]: comparing a replay with a kernel recording where the
//!   kernel picked values at random (NAT ports on a clash, IPv4 ids);
//! - [`live`]: the live differential harness (kernel recordings in network
//!   namespaces, replayed through ctc and compared);
//! - [`nft_cases`]: recorded outcomes of `nft -f` on small scripts.

use std::path::{Path, PathBuf};

pub mod kernel_diff;
pub mod live;
pub mod nft_cases;
pub mod packets;
pub mod replay;

/// `../shared` beside the repository, where the corpus and oracle live, or
/// `None` (tests then skip with a message saying so).
pub fn shared_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared");
    dir.is_dir().then(|| dir.canonicalize().unwrap_or(dir))
}

/// Repository root.
pub fn repo_root() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    dir.canonicalize().unwrap_or(dir)
}

/// `../shared/corpus/nftables`, or `None` when the corpus is not there.
pub fn corpus_dir() -> Option<PathBuf> {
    let dir = shared_dir()?.join("corpus/nftables");
    dir.is_dir().then_some(dir)
}

/// The regular files of a directory, sorted by name (empty if it cannot be read).
pub fn files_in(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = match std::fs::read_dir(dir) {
        Ok(rd) => rd.filter_map(|e| e.ok()).map(|e| e.path()).filter(|p| p.is_file()).collect(),
        Err(_) => Vec::new(),
    };
    v.sort();
    v
}

/// The files of `dir` whose name ends with `.EXT`, sorted.
pub fn files_with_ext(dir: &Path, ext: &str) -> Vec<PathBuf> {
    files_in(dir).into_iter().filter(|p| p.extension().is_some_and(|e| e == ext)).collect()
}

/// `Debug` text of a value with every `Span { file: .., start: .., end: .. }`
/// replaced by `_`, so that two ASTs parsed from differently laid out texts
/// compare equal exactly when their structure and contents are equal.
pub fn strip_spans(debug: &str) -> String {
    const OPEN: &str = "Span { file: FileId(";
    let mut out = String::with_capacity(debug.len());
    let mut rest = debug;
    while let Some(i) = rest.find(OPEN) {
        out.push_str(&rest[..i]);
        let after = &rest[i..];
        // A span's Debug text has no nested braces: it ends at the first `}`.
        match after.find('}') {
            Some(j) => {
                out.push('_');
                rest = &after[j + 1..];
            }
            None => {
                out.push_str(after);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

pub mod pyt {
    //! nftables' `tests/py/*.t` files.
    //!
    //! Line kinds (see nftables' `tests/py/nft-test.py`, whose behaviour this
    //! follows):
    //! - `:NAME;SPEC` declares a chain (created in every table that lists it);
    //! - `*FAMILY;TABLE;CHAIN[,CHAIN...]` creates a table with those chains;
    //!   tables accumulate, and every later line applies to all of them;
    //! - `!NAME type T [. T...] [: D] [timeout X] [flags F];ok|fail` adds a set
    //!   (a map when there is a `:`) to every table created so far;
    //! - `?NAME ELEM[, ELEM...];ok|fail` adds elements to that set;
    //! - `%NAME type KIND [SPEC];ok|fail` adds a stateful object;
    //! - `RULE;ok[;CANONICAL]` / `RULE;fail` is a rule test: `nft-test.py`
    //!   flushes the table and adds the rule to each chain of each table in
    //!   turn; an `ok` rule must be accepted everywhere and a `fail` rule must
    //!   be rejected everywhere (accepted anywhere is an error there);
    //! - `-...` is a known-broken test, `#` a comment.

    /// What a line expects.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum Expect {
        Ok,
        Fail,
    }

    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Chain {
        pub name: String,
        /// `type filter hook input priority 0`, possibly empty (regular chain).
        pub spec: String,
    }

    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct SetDecl {
        pub name: String,
        /// `type ipv4_addr . inet_service` or `typeof vlan id` (key only).
        pub key: String,
        /// Data type of a map (`mark`, `ipv4_addr . inet_service`).
        pub data: Option<String>,
        pub timeout: Option<String>,
        pub flags: Option<String>,
    }

    impl SetDecl {
        /// The declaration as it stands inside a table block.
        pub fn to_nft(&self, elements: &[String]) -> String {
            let mut s = String::new();
            match &self.data {
                Some(d) => s.push_str(&format!("map {} {{ {} : {}; ", self.name, self.key, d)),
                None => s.push_str(&format!("set {} {{ {}; ", self.name, self.key)),
            }
            if let Some(t) = &self.timeout {
                s.push_str(&format!("timeout {t}; "));
            }
            if let Some(f) = &self.flags {
                s.push_str(&format!("flags {f}; "));
            }
            if !elements.is_empty() {
                s.push_str(&format!("elements = {{ {} }}; ", elements.join(", ")));
            }
            s.push('}');
            s
        }
    }

    /// One meaningful line of a `.t` file, in file order.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub enum Line {
        Chain(Chain),
        Table { family: String, name: String, chains: Vec<String> },
        Set { decl: SetDecl, expect: Expect },
        Elements { set: String, elements: Vec<String>, expect: Expect },
        Object { name: String, kind: String, spec: String, expect: Expect },
        Rule { rule: String, expect: Expect, canonical: Option<String> },
    }

    /// A line and its 1-based number.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Numbered {
        pub lineno: usize,
        pub line: Line,
    }

    fn expect(s: &str) -> Option<Expect> {
        match s.trim() {
            "ok" => Some(Expect::Ok),
            "fail" => Some(Expect::Fail),
            _ => None,
        }
    }

    /// `NAME type K [. K...] [: D [. D...]] [timeout T] [flags F]`, as
    /// `nft-test.py`'s `set_process` reads it (typeof keys included).
    pub fn parse_set(text: &str) -> Option<SetDecl> {
        let mut words = text.split_whitespace();
        let name = words.next()?.to_string();
        let rest: Vec<&str> = words.collect();
        // Split off `timeout X` and `flags F` at the end.
        let mut end = rest.len();
        let mut timeout = None;
        let mut flags = None;
        if let Some(i) = rest.iter().position(|w| *w == "flags") {
            flags = Some(rest[i + 1..].join(" "));
            end = i;
        }
        if let Some(i) = rest[..end].iter().position(|w| *w == "timeout") {
            timeout = Some(rest[i + 1..end].join(" "));
            end = i;
        }
        let spec = rest[..end].join(" ");
        if !(spec.starts_with("type ") || spec.starts_with("typeof ")) {
            return None;
        }
        let (key, data) = match spec.split_once(" : ") {
            Some((k, d)) => (k.to_string(), Some(d.to_string())),
            None => (spec, None),
        };
        Some(SetDecl { name, key, data, timeout, flags })
    }

    /// Read a `.t` file. Malformed lines are skipped, as `nft-test.py` does.
    pub fn parse(text: &str) -> Vec<Numbered> {
        let mut out = Vec::new();
        for (i, raw) in text.lines().enumerate() {
            let lineno = i + 1;
            let line = raw.trim_end();
            if line.trim().is_empty() || line.starts_with('#') || line.starts_with('-') {
                continue;
            }
            let parsed = if let Some(rest) = line.strip_prefix(':') {
                let (name, spec) = rest.split_once(';').unwrap_or((rest, ""));
                Some(Line::Chain(Chain { name: name.trim().to_string(), spec: spec.trim().to_string() }))
            } else if let Some(rest) = line.strip_prefix('*') {
                let f: Vec<&str> = rest.split(';').collect();
                (f.len() == 3).then(|| Line::Table {
                    family: f[0].trim().to_string(),
                    name: f[1].trim().to_string(),
                    chains: f[2].split(',').map(|c| c.trim().to_string()).filter(|c| !c.is_empty()).collect(),
                })
            } else if let Some(rest) = line.strip_prefix('!') {
                let (decl, e) = rest.rsplit_once(';').unwrap_or((rest, "ok"));
                match (parse_set(decl), expect(e)) {
                    (Some(decl), Some(expect)) => Some(Line::Set { decl, expect }),
                    _ => None,
                }
            } else if let Some(rest) = line.strip_prefix('?') {
                let (body, e) = rest.rsplit_once(';').unwrap_or((rest, "ok"));
                let (set, elems) = body.split_once(' ').unwrap_or((body, ""));
                expect(e).map(|expect| Line::Elements {
                    set: set.to_string(),
                    elements: elems.split(',').map(|e| e.trim().to_string()).filter(|e| !e.is_empty()).collect(),
                    expect,
                })
            } else if let Some(rest) = line.strip_prefix('%') {
                // `%NAME type KIND SPEC;ok`; a SPEC in braces may hold `;`.
                let (body, e) = match rest.rfind('}') {
                    Some(b) => (&rest[..=b], rest[b + 1..].trim_start_matches(';')),
                    None => rest.rsplit_once(';').unwrap_or((rest, "ok")),
                };
                let w: Vec<&str> = body.split_whitespace().collect();
                if w.len() >= 3 && w[1] == "type" {
                    let (kind, spec_from) =
                        if w[2] == "ct" && w.len() > 3 { (format!("ct {}", w[3]), 4) } else { (w[2].to_string(), 3) };
                    expect(e).map(|expect| Line::Object {
                        name: w[0].to_string(),
                        kind,
                        spec: w[spec_from..].join(" "),
                        expect,
                    })
                } else {
                    None
                }
            } else {
                let f: Vec<&str> = line.split(';').collect();
                if f.len() == 2 || f.len() == 3 {
                    expect(f[1]).map(|expect| Line::Rule {
                        rule: f[0].trim().to_string(),
                        expect,
                        canonical: f.get(2).map(|c| c.trim().to_string()),
                    })
                } else {
                    None
                }
            };
            if let Some(line) = parsed {
                out.push(Numbered { lineno, line });
            }
        }
        out
    }

    /// A table as the file has built it so far.
    #[derive(Debug, Clone, Default)]
    pub struct TableState {
        pub family: String,
        pub name: String,
        /// The chains this table lists that were declared by a `:` line.
        pub chains: Vec<Chain>,
        /// Sets and maps with their elements, in declaration order.
        pub sets: Vec<(SetDecl, Vec<String>)>,
        /// Objects as `KIND NAME { SPEC }` lines.
        pub objects: Vec<String>,
    }

    /// Where a rule goes when it is checked: the statement's text is placed
    /// in the block of chain `target`.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum Placement<'a> {
        /// No rule: the scaffold alone (it must be clean for a result to count).
        Nothing,
        /// A rule in chain `chain`.
        Rule { chain: &'a str, rule: &'a str },
        /// `add element` for a set (which may be missing).
        Elements { set: &'a str, elements: &'a [String] },
    }

    impl TableState {
        /// The table as an nft script, with the given rule or elements added.
        pub fn render(&self, what: Placement<'_>) -> String {
            let mut s = format!("table {} {} {{\n", self.family, self.name);
            for o in &self.objects {
                s.push_str(&format!("\t{o}\n"));
            }
            let mut element_cmd = None;
            for (decl, elems) in &self.sets {
                match what {
                    Placement::Elements { set, elements } if set == decl.name => {
                        let mut all = elems.clone();
                        all.extend(elements.iter().cloned());
                        s.push_str(&format!("\t{}\n", decl.to_nft(&all)));
                    }
                    _ => s.push_str(&format!("\t{}\n", decl.to_nft(elems))),
                }
            }
            if let Placement::Elements { set, elements } = what
                && !self.sets.iter().any(|(d, _)| d.name == set)
            {
                element_cmd =
                    Some(format!("add element {} {} {} {{ {} }}\n", self.family, self.name, set, elements.join(", ")));
            }
            for c in &self.chains {
                s.push_str(&format!("\tchain {} {{\n", c.name));
                if !c.spec.is_empty() {
                    s.push_str(&format!("\t\t{};\n", c.spec));
                }
                if let Placement::Rule { chain, rule } = what
                    && chain == c.name
                {
                    s.push_str(&format!("\t\t{rule}\n"));
                }
                s.push_str("\t}\n");
            }
            s.push_str("}\n");
            if let Some(cmd) = element_cmd {
                s.push_str(&cmd);
            }
            s
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn reads_all_line_kinds() {
            let t = ":input;type filter hook input priority 0\n\
                       :ingress;type filter hook ingress device lo priority 0\n\
                       *ip;test-ip4;input\n\
                       *netdev;test-netdev;ingress,egress\n\
                       # comment\n\
                       !set1 type ipv4_addr . inet_service flags interval;ok\n\
                       !map1 typeof vlan id : meta mark;ok\n\
                       ?set1 1.2.3.4 . 80, 5.6.7.8 . 443;ok\n\
                       %cnt1 type counter;ok\n\
                       %h type ct helper { type \"ftp\" protocol tcp; };ok\n\
                       tcp dport 22;ok\n\
                       meta length { 33-55, 56-88};ok;meta length { 33-88}\n\
                       - meta nftrace 1;ok\n\
                       tcp dport 70000;fail\n\
                       broken line\n";
            let lines = parse(t);
            let kinds: Vec<_> = lines.iter().map(|l| std::mem::discriminant(&l.line)).collect();
            assert_eq!(kinds.len(), 12, "{lines:#?}");
            assert_eq!(
                lines[3].line,
                Line::Table {
                    family: "netdev".into(),
                    name: "test-netdev".into(),
                    chains: vec!["ingress".into(), "egress".into()]
                }
            );
            let Line::Set { decl, .. } = &lines[4].line else { panic!() };
            assert_eq!(decl.key, "type ipv4_addr . inet_service");
            assert_eq!(decl.flags.as_deref(), Some("interval"));
            let Line::Set { decl, .. } = &lines[5].line else { panic!() };
            assert_eq!(decl.key, "typeof vlan id");
            assert_eq!(decl.data.as_deref(), Some("meta mark"));
            let Line::Elements { elements, .. } = &lines[6].line else { panic!() };
            assert_eq!(elements, &["1.2.3.4 . 80", "5.6.7.8 . 443"]);
            let Line::Object { kind, spec, expect, .. } = &lines[8].line else { panic!() };
            assert_eq!(
                (kind.as_str(), spec.as_str(), *expect),
                ("ct helper", "{ type \"ftp\" protocol tcp; }", Expect::Ok)
            );
            let Line::Rule { canonical, .. } = &lines[10].line else { panic!() };
            assert_eq!(canonical.as_deref(), Some("meta length { 33-88}"));
            assert!(matches!(&lines[11].line, Line::Rule { expect: Expect::Fail, .. }));
            assert_eq!(lines[11].lineno, 14);
        }

        #[test]
        fn renders_a_table_with_sets_and_a_rule() {
            let t = TableState {
                family: "ip".into(),
                name: "test-ip4".into(),
                chains: vec![Chain { name: "input".into(), spec: "type filter hook input priority 0".into() }],
                sets: vec![(parse_set("set1 type ipv4_addr flags interval").unwrap(), vec!["10.0.0.0/8".into()])],
                objects: vec![],
            };
            let s = t.render(Placement::Rule { chain: "input", rule: "ip saddr @set1 drop" });
            assert_eq!(
                s,
                "table ip test-ip4 {\n\tset set1 { type ipv4_addr; flags interval; elements = { 10.0.0.0/8 }; }\n\tchain input {\n\t\ttype filter hook input priority 0;\n\t\tip saddr @set1 drop\n\t}\n}\n"
            );
            let s = t.render(Placement::Elements { set: "nope", elements: &["1.2.3.4".to_string()] });
            assert!(s.ends_with("add element ip test-ip4 nope { 1.2.3.4 }\n"), "{s}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strip_spans_removes_every_span() {
        let d = "Name { kind: Ident, text: \"x\", span: Span { file: FileId(0), start: 3, end: 4 } }, Term { span: Span { file: FileId(12), start: 10, end: 400 } }";
        assert_eq!(strip_spans(d), "Name { kind: Ident, text: \"x\", span: _ }, Term { span: _ }");
    }
}
