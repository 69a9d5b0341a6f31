//! `ctc check` against nft on recorded cases (`tests/nft/*.txt`, read by
//! `ctc_tests::nft_cases`): every script nft loaded must check without
//! errors, every script it refused must get errors, all of the code
//! recorded with it. And the recordings
//! themselves against the real nft: each script is loaded with `nft -f` in
//! a fresh network namespace (root only; skipped with a message
//! otherwise, and then nft must be installed), so a case recorded wrong,
//! or an nft that behaves otherwise, shows.

use ctc_driver::{CheckOptions, check_source};
use ctc_tests::nft_cases::{Case, parse};
use ctc_tests::{live, repo_root};
use std::io::Write;
use std::process::{Command, Stdio};

fn cases() -> Vec<(String, Case)> {
    let dir = repo_root().join("tests/nft");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "txt"))
        .collect();
    files.sort();
    let mut out = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        let name = f.file_name().expect("a file name").to_string_lossy().into_owned();
        out.extend(parse(&text).into_iter().map(|c| (name.clone(), c)));
    }
    assert!(out.len() >= 20, "expected the recorded cases, found {}", out.len());
    out
}

#[test]
fn ctc_check_agrees_with_nft() {
    let mut wrong = Vec::new();
    for (file, c) in cases() {
        let checked = check_source(&file, &c.script, &CheckOptions::default());
        let errors: Vec<String> =
            checked.diagnostics.iter().filter(|d| d.is_error()).map(|d| format!("{}: {}", d.code, d.message)).collect();
        let agrees = match &c.code {
            None => errors.is_empty(),
            Some(code) => !errors.is_empty() && errors.iter().all(|e| e.starts_with(&format!("{code}: "))),
        };
        if !agrees {
            let want = c.code.as_deref().map_or("loaded".to_string(), |code| format!("refused, {code}"));
            wrong.push(format!("{file}: {} ({want}), ctc: {errors:?}", c.what));
        }
    }
    assert!(wrong.is_empty(), "ctc check disagrees with nft on:\n  {}", wrong.join("\n  "));
}

/// A network namespace of its own, deleted when dropped.
struct Netns(String);

impl Netns {
    fn new() -> Netns {
        // Tests run in parallel threads of one process: a counter tells
        // their namespaces apart.
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let name = format!("ctc-nftagree-{}-{n}", std::process::id());
        let ok = Command::new("ip").args(["netns", "add", &name]).status().is_ok_and(|s| s.success());
        assert!(ok, "ip netns add {name}");
        Netns(name)
    }

    /// `nft -f -` with `script` inside the namespace: did nft load it?
    fn nft(&self, script: &str) -> (bool, String) {
        let mut child = Command::new("ip")
            .args(["netns", "exec", &self.0, "nft", "-f", "-"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("nft (the nftables package)");
        child.stdin.take().expect("stdin").write_all(script.as_bytes()).expect("writing to nft");
        let out = child.wait_with_output().expect("nft");
        (out.status.success(), String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.0]).status();
    }
}

#[test]
fn nft_behaves_as_recorded() {
    if let Some(why) = live::skip_reason() {
        eprintln!("SKIP nft_behaves_as_recorded: {why}");
        return;
    }
    let ns = Netns::new();
    let mut wrong = Vec::new();
    for (file, c) in cases() {
        let (loaded, err) = ns.nft(&c.script);
        if loaded != c.loaded {
            wrong.push(format!("{file}: {} (recorded {}): nft says {}", c.what, c.loaded, err.trim()));
        }
        let (flushed, err) = ns.nft("flush ruleset\n");
        assert!(flushed, "nft flush ruleset: {err}");
    }
    assert!(wrong.is_empty(), "nft does not behave as recorded:\n  {}", wrong.join("\n  "));
}

/// Words that are keywords only inside an expression (after `tcp`, `ct`,
/// `meta`...) or values, not where a name goes: nft 1.0.6 takes them as
/// names.
const NOT_KEYWORDS: &[&str] = &[
    "dport",
    "sport",
    "saddr",
    "daddr",
    "state",
    "status",
    "established",
    "related",
    "new",
    "input",
    "output",
    "forward",
    "prerouting",
    "postrouting",
    "ingress",
    "filter",
    "nat",
    "route",
    "protocol",
    "length",
    "version",
    "bytes",
    "packets",
    "over",
    "burst",
    "hash",
    "zone",
    "helper",
    "label",
    "to",
    "from",
    "at",
    "in",
    "with",
    "by",
    "name",
    "level",
    "prefix",
    "group",
    "week",
];

#[test]
fn the_keywords_are_what_nft_refuses_as_names() {
    // ctc's list (ctc_sema::reserved::KEYWORDS, measured with nft 1.0.6)
    // against the installed nft: each keyword refused as a chain name,
    // each of NOT_KEYWORDS taken; and ctc check refuses each keyword (E1016,
    // or a syntax error) and takes the others.
    let chain = |w: &str| format!("table ip t {{ chain {w} {{ }}; }}\n");
    let keywords = ctc_sema::reserved::KEYWORDS;
    assert!(keywords.len() > 100, "{} keywords", keywords.len());
    let mut wrong = Vec::new();
    for (words, keyword) in [(keywords, true), (NOT_KEYWORDS, false)] {
        for w in words {
            let codes: Vec<&str> = check_source("names.nft", &chain(w), &CheckOptions::default())
                .diagnostics
                .iter()
                .filter(|d| d.is_error())
                .map(|d| d.code)
                .collect();
            // A keyword: E1016, or a syntax error where ctc's grammar
            // reads it as a keyword too.
            let agrees = if keyword { codes == ["E1016"] || codes == ["E0003"] } else { codes.is_empty() };
            if !agrees {
                wrong.push(format!("ctc check, chain {w}: {codes:?}"));
            }
        }
    }
    if let Some(why) = live::skip_reason() {
        eprintln!("SKIP the nft side of the_keywords_are_what_nft_refuses_as_names: {why}");
    } else {
        let ns = Netns::new();
        for (words, keyword) in [(keywords, true), (NOT_KEYWORDS, false)] {
            for w in words {
                let (loaded, err) = ns.nft(&chain(w));
                if loaded == keyword {
                    wrong.push(format!("nft, chain {w}: {}", if loaded { "loaded" } else { err.trim() }));
                }
                let (flushed, err) = ns.nft("flush ruleset\n");
                assert!(flushed, "nft flush ruleset: {err}");
            }
        }
    }
    assert!(wrong.is_empty(), "names and keywords:\n  {}", wrong.join("\n  "));
}
