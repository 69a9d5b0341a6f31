//! UI tests: small rulesets with one realistic mistake each
//! (`tests/ui/NAME.nft`, the first comment line says which) and the full
//! human rendering of their diagnostics, snapshotted with insta in
//! `tests/ui/snapshots/NAME.snap`. Every fixture must produce at least one
//! error; nft 1.0.6 rejects each of them too (`nft -c -f`, or loading it in a
//! fresh network namespace for the errors only the kernel reports).
//!
//! Lint fixtures live in `tests/ui/lints/LINT.nft`, one per lint, named
//! after it (further ones as `LINT--CASE.nft`): each is a ruleset nft
//! accepts (no error) on which the lint named by the file reports at least
//! once (the lint turned on, the others
//! at their default levels); the rendered output is snapshotted in
//! `tests/ui/lints/snapshots/`.
//!
//! Fixtures in `tests/ui/pending/` wait for sema to diagnose them well:
//! they are only checked not to panic, and listed with their current error
//! count. Move one up to `tests/ui/` once its diagnostics are right, then
//! review and accept its snapshot (`cargo insta review`, or
//! `INSTA_UPDATE=always cargo test -p ctc-tests --test ui` after reading
//! every rendered diagnostic).

use ctc_driver::{CheckOptions, check_file};
use ctc_grammar::render::{HumanOptions, render_human};
use ctc_tests::{files_with_ext, repo_root};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;

/// All diagnostics of a check, rendered as `ctc check` prints them (no colour),
/// with the repository's absolute path removed so snapshots are stable.
fn render(rel: &Path) -> (usize, String) {
    render_with(rel, &CheckOptions::default()).0
}

/// As [`render`], with options; also returns the codes reported.
fn render_with(rel: &Path, opts: &CheckOptions) -> ((usize, String), Vec<&'static str>) {
    let checked = check_file(rel, opts);
    let mut out = String::new();
    for d in &checked.diagnostics {
        out.push_str(&render_human(&checked.sources, d, HumanOptions { color: false }));
        if !out.ends_with('\n') {
            out.push('\n');
        }
    }
    let root = format!("{}/", repo_root().display());
    let codes = checked.diagnostics.iter().map(|d| d.code).collect();
    ((checked.errors(), out.replace(&root, "")), codes)
}

/// The fixture's first comment line: what the mistake is.
fn description(path: &Path) -> String {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|t| t.lines().next().map(|l| l.trim_start_matches('#').trim().to_string()))
        .unwrap_or_default()
}

fn stem(p: &Path) -> String {
    p.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default()
}

/// One test for all fixtures: it sets the working directory to the
/// repository root (process-wide, hence a single test) so that diagnostics
/// name files as `tests/ui/NAME.nft`.
#[test]
fn ui() {
    let root = repo_root();
    std::env::set_current_dir(&root).expect("cannot enter the repository root");
    let fixtures = files_with_ext(Path::new("tests/ui"), "nft");
    assert!(fixtures.len() >= 30, "expected at least 30 UI fixtures, found {}", fixtures.len());

    let mut failures = Vec::new();
    for rel in &fixtures {
        let name = stem(rel);
        let (errors, rendered) = match catch_unwind(AssertUnwindSafe(|| render(rel))) {
            Ok(r) => r,
            Err(_) => {
                failures.push(format!("{name}: the check panicked"));
                continue;
            }
        };
        if errors == 0 {
            failures.push(format!("{name}: no error reported\n{rendered}"));
            continue;
        }
        let mut settings = insta::Settings::clone_current();
        settings.set_snapshot_path(root.join("tests/ui/snapshots"));
        settings.set_prepend_module_to_snapshot(false);
        settings.set_description(description(rel));
        settings.set_omit_expression(true);
        let snap = catch_unwind(AssertUnwindSafe(|| {
            settings.bind(|| insta::assert_snapshot!(name.clone(), rendered));
        }));
        if snap.is_err() {
            failures.push(format!("{name}: rendered diagnostics differ from the snapshot"));
        }
    }

    let lint_fixtures = files_with_ext(Path::new("tests/ui/lints"), "nft");
    for l in ctc_sema::lint::LINTS {
        if !lint_fixtures.iter().any(|f| stem(f) == l.name) {
            failures.push(format!("lint {}: no fixture tests/ui/lints/{}.nft", l.name, l.name));
        }
    }
    for rel in &lint_fixtures {
        let name = stem(rel);
        // `LINT--CASE.nft`: a further fixture of the same lint.
        let Some(lint) = ctc_sema::lint::lookup(name.split("--").next().unwrap_or_default()) else {
            failures.push(format!("lints/{name}: not a lint's name"));
            continue;
        };
        let mut opts = CheckOptions::default();
        opts.lints.overrides.push((lint.name, ctc_sema::lint::Level::Warn));
        let ((errors, rendered), codes) = match catch_unwind(AssertUnwindSafe(|| render_with(rel, &opts))) {
            Ok(r) => r,
            Err(_) => {
                failures.push(format!("lints/{name}: the check panicked"));
                continue;
            }
        };
        if errors > 0 || !codes.contains(&lint.code) {
            failures.push(format!("lints/{name}: expected {} and no error\n{rendered}", lint.code));
            continue;
        }
        let mut settings = insta::Settings::clone_current();
        settings.set_snapshot_path(root.join("tests/ui/lints/snapshots"));
        settings.set_prepend_module_to_snapshot(false);
        settings.set_description(description(rel));
        settings.set_omit_expression(true);
        let snap = catch_unwind(AssertUnwindSafe(|| {
            settings.bind(|| insta::assert_snapshot!(name.clone(), rendered));
        }));
        if snap.is_err() {
            failures.push(format!("lints/{name}: rendered diagnostics differ from the snapshot"));
        }
    }

    let pending = files_with_ext(Path::new("tests/ui/pending"), "nft");
    for rel in &pending {
        match catch_unwind(AssertUnwindSafe(|| render(rel))) {
            Ok((errors, _)) => println!("pending {}: {errors} error(s) (snapshot not reviewed yet)", stem(rel)),
            Err(_) => failures.push(format!("pending {}: the check panicked", stem(rel))),
        }
    }
    println!(
        "ui: {} fixtures and {} lint fixtures snapshotted, {} pending, {} failure(s)",
        fixtures.len(),
        lint_fixtures.len(),
        pending.len(),
        failures.len()
    );
    assert!(failures.is_empty(), "ui failures:\n{}", failures.join("\n"));
}
