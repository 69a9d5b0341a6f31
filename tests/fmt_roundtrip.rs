//! `ctc fmt` round trip: for every file that checks clean (the corpus dumps
//! and `examples/*.nft`), the canonical print parses back to the same AST
//! (spans aside) and formatting is idempotent: `fmt(fmt(x)) == fmt(x)`.

use ctc_driver::{CheckOptions, check_file, format_source};
use ctc_grammar::{FileId, parse_script};
use ctc_tests::{corpus_dir, files_with_ext, repo_root, strip_spans};
use std::path::{Path, PathBuf};

/// The span-free pretty `Debug` text of a script's AST, or the syntax error.
fn ast_text(src: &str) -> Result<String, String> {
    parse_script(FileId(0), src)
        .map(|s| strip_spans(&format!("{s:?}")))
        .map_err(|d| format!("{}: {}", d.code, d.message))
}

/// Where two texts first differ: the line for printed text, or the
/// surrounding characters for one-line `Debug` text.
fn first_difference(a: &str, b: &str) -> String {
    let i = a.bytes().zip(b.bytes()).position(|(x, y)| x != y).unwrap_or(a.len().min(b.len()));
    let line = a[..i].matches('\n').count() + 1;
    let around = |s: &str| {
        let from = s.floor_char_boundary(i.saturating_sub(120));
        let to = s.ceil_char_boundary((i + 120).min(s.len()));
        s[from..to].to_string()
    };
    format!("first difference at line {line}, byte {i}:\n  before: …{}…\n  after:  …{}…", around(a), around(b))
}

/// Round-trip one file; `Ok(false)` when it was skipped (it does not check clean).
fn round_trip(path: &Path) -> Result<bool, String> {
    let checked = check_file(path, &CheckOptions::default());
    if checked.has_errors() {
        return Ok(false);
    }
    let name = path.display().to_string();
    let src = std::fs::read_to_string(path).map_err(|e| format!("cannot read: {e}"))?;
    let once = format_source(&name, &src).map_err(|c| format!("fmt failed with {} error(s)", c.errors()))?;
    let before = ast_text(&src).map_err(|e| format!("the original does not parse: {e}"))?;
    let after = ast_text(&once).map_err(|e| format!("the formatted text does not parse: {e}\n{once}"))?;
    if before != after {
        return Err(format!("the formatted text parses to a different AST; {}", first_difference(&before, &after)));
    }
    let twice = format_source(&name, &once).map_err(|c| format!("fmt of fmt failed with {} error(s)", c.errors()))?;
    if twice != once {
        return Err(format!("fmt is not idempotent; {}", first_difference(&once, &twice)));
    }
    Ok(true)
}

fn run(files: &[PathBuf], what: &str) {
    let mut done = 0;
    let mut skipped = 0;
    let mut failures = Vec::new();
    for f in files {
        match round_trip(f) {
            Ok(true) => done += 1,
            Ok(false) => skipped += 1,
            Err(e) => failures.push(format!("{}: {e}", f.display())),
        }
    }
    println!(
        "{what}: {done}/{} round-trip through fmt ({skipped} skipped: they do not check clean), {} failure(s)",
        files.len(),
        failures.len()
    );
    assert!(failures.is_empty(), "{what}: fmt round trip failed:\n{}", failures.join("\n"));
}

#[test]
fn dumps_round_trip() {
    let Some(corpus) = corpus_dir() else {
        println!("skipping: ../shared/corpus not found (the nftables corpus lives beside the repository)");
        return;
    };
    let files = files_with_ext(&corpus.join("dumps"), "nft");
    assert!(!files.is_empty(), "no dumps in {}", corpus.display());
    run(&files, "dumps");
}

#[test]
fn examples_round_trip() {
    let files = files_with_ext(&repo_root().join("examples"), "nft");
    if files.is_empty() {
        println!("examples/: no .nft files yet");
        return;
    }
    run(&files, "examples");
}

/// The comparison itself must see a difference that is more than layout.
#[test]
fn comparison_ignores_layout_only() {
    let a = ast_text("table ip t {\n\tchain c {\n\t\ttcp dport 22 accept\n\t}\n}\n").unwrap();
    let b = ast_text("table ip t { chain c { tcp   dport 22 accept; }; }").unwrap();
    let c = ast_text("table ip t { chain c { tcp dport 23 accept; }; }").unwrap();
    assert_eq!(a, b);
    assert_ne!(a, c);
}
