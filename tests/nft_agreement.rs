//! `ctc check` against nft on recorded cases (`tests/nft/*.txt`, read by
//! `ctc_tests::nft_cases`): every script nft loaded must check without
//! errors, every script it refused must get an error. And the recordings
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
        if checked.has_errors() == c.loaded {
            let first = checked.diagnostics.iter().find(|d| d.is_error()).map(|d| format!("{}: {}", d.code, d.message));
            wrong.push(format!("{file}: {} ({}), ctc: {first:?}", c.what, if c.loaded { "loaded" } else { "refused" }));
        }
    }
    assert!(wrong.is_empty(), "ctc check disagrees with nft on:\n  {}", wrong.join("\n  "));
}

/// A network namespace of its own, deleted when dropped.
struct Netns(String);

impl Netns {
    fn new() -> Netns {
        let name = format!("ctc-nftagree-{}", std::process::id());
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
