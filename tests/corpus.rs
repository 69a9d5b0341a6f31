//! The nftables corpus (`../shared/corpus/nftables`, DESIGN §4): accept every
//! `ok` rule, reject every `fail` rule, accept every dump, survive every bogon.
//!
//! - `py/*/*.t`: each rule line is checked the way nftables' `nft-test.py`
//!   runs it: in every table the file has created so far, in every chain of
//!   that table, with the sets, maps, elements and objects declared so far,
//!   one rule at a time. An `ok` rule counts as accepted when it is accepted
//!   in all of them; a `fail` rule counts as rejected when it is rejected in
//!   all of them (`nft-test.py` reports an error for every table and chain
//!   where a `fail` rule goes in). A result only counts when the scaffold
//!   (tables, chains, sets without the rule) is itself clean, so an error in
//!   the scaffold never passes for the rejection of a `fail` rule.
//! - `dumps/*.nft`: `nft list ruleset` output after nftables' shell tests;
//!   each must check clean.
//! - `bogons/*`: inputs that once crashed nft; each is checked in a child
//!   process (this test binary re-run on the ignored test `bogon_child`) so
//!   that a stack overflow or abort is caught and a hang is killed, and the
//!   `ctc` binary is run on each when it has been built.
//!
//! Rates and every misclassified line are printed; run with `--nocapture`
//! to see them: `cargo test -p ctc-tests --test corpus -- --nocapture`.
//! With `CTC_CORPUS_VERBOSE=1` the first error of every rejected `fail`
//! line is printed too, to check that rules are rejected for the right reason.

use ctc_driver::{CheckOptions, Checked, check_file, check_source, format_source};
use ctc_tests::pyt::{self, Expect, Line, Placement, TableState};
use ctc_tests::{corpus_dir, files_in, files_with_ext};
use std::collections::HashMap;
use std::io::Read;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Share of `ok` rule lines that must be accepted. Raise as sema improves.
const OK_ACCEPT_MIN: f64 = 0.99;
/// Share of `fail` rule lines that must be rejected. Raise as sema improves.
const FAIL_REJECT_MIN: f64 = 0.99;
/// Share of dumps that must check clean. Raise as sema improves.
const DUMP_ACCEPT_MIN: f64 = 0.99;
/// How long one bogon may take before it counts as a hang.
const BOGON_TIMEOUT: Duration = Duration::from_secs(10);
/// How many misclassified lines are printed.
const MAX_LISTED: usize = 200;
/// Environment variable naming the file a `bogon_child` run checks.
const CHILD_ENV: &str = "CTC_BOGON_CHILD_FILE";

/// Check a script in-process; a panic is reported as an error string.
fn check_text(name: &str, text: &str) -> Result<Checked, String> {
    catch_unwind(AssertUnwindSafe(|| check_source(name, text, &CheckOptions::default())))
        .map_err(|p| format!("PANIC: {}", panic_message(&*p)))
}

fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "(non-string panic payload)".to_string()
    }
}

/// The first error of a check as `CODE message (`text`)`, on one line.
fn first_error(c: &Checked) -> String {
    let Some(d) = c.diagnostics.iter().find(|d| d.is_error()) else { return "no error".into() };
    let snippet = d
        .primary_span()
        .map(|s| c.sources.get(s.file).slice(s).replace('\n', " "))
        .filter(|s| !s.is_empty())
        .map(|s| format!(" (`{}`)", s.chars().take(60).collect::<String>()))
        .unwrap_or_default();
    format!("{} {}{}", d.code, d.message, snippet)
}

// ---------------------------------------------------------------- py/*.t

#[derive(Default)]
struct PyStats {
    ok_rules: usize,
    ok_accepted: usize,
    fail_rules: usize,
    fail_rejected: usize,
    /// `fail` rules rejected in some but not all tables and chains.
    fail_partly: usize,
    /// `!`, `?` and `%` lines: expected / matched.
    decl_lines: usize,
    decl_matched: usize,
    misclassified: Vec<String>,
    /// Scaffolds (tables with chains and sets, no rule) that did not check clean.
    bad_scaffolds: Vec<String>,
}

impl PyStats {
    fn merge(&mut self, o: PyStats) {
        self.ok_rules += o.ok_rules;
        self.ok_accepted += o.ok_accepted;
        self.fail_rules += o.fail_rules;
        self.fail_rejected += o.fail_rejected;
        self.fail_partly += o.fail_partly;
        self.decl_lines += o.decl_lines;
        self.decl_matched += o.decl_matched;
        self.misclassified.extend(o.misclassified);
        self.bad_scaffolds.extend(o.bad_scaffolds);
    }
}

/// Outcome of one line in one table and chain.
enum Verdict {
    Accepted,
    Rejected(String),
    /// The scaffold alone has errors: the line cannot be judged here.
    Unjudged,
}

struct PyFile<'a> {
    label: String,
    scaffolds: HashMap<String, bool>,
    stats: &'a mut PyStats,
}

impl PyFile<'_> {
    fn scaffold_ok(&mut self, t: &TableState) -> bool {
        let text = t.render(Placement::Nothing);
        if let Some(&ok) = self.scaffolds.get(&text) {
            return ok;
        }
        let ok = match check_text(&self.label, &text) {
            Ok(c) if !c.has_errors() => true,
            Ok(c) => {
                self.stats.bad_scaffolds.push(format!(
                    "{}: table {} {}: {}\n{}",
                    self.label,
                    t.family,
                    t.name,
                    first_error(&c),
                    indent(&text)
                ));
                false
            }
            Err(e) => {
                self.stats.bad_scaffolds.push(format!("{}: table {} {}: {e}", self.label, t.family, t.name));
                false
            }
        };
        self.scaffolds.insert(text, ok);
        ok
    }

    fn judge(&mut self, t: &TableState, what: Placement<'_>) -> Verdict {
        if !self.scaffold_ok(t) {
            return Verdict::Unjudged;
        }
        match check_text(&self.label, &t.render(what)) {
            Ok(c) if c.has_errors() => Verdict::Rejected(first_error(&c)),
            Ok(_) => Verdict::Accepted,
            Err(e) => Verdict::Rejected(e),
        }
    }

    /// Judge a line in every place; record and return whether it matched.
    fn record(
        &mut self,
        lineno: usize,
        kind: &str,
        text: &str,
        expect: Expect,
        places: Vec<(String, Verdict)>,
    ) -> bool {
        let accepted = places.iter().filter(|(_, v)| matches!(v, Verdict::Accepted)).count();
        let rejected = places.iter().filter(|(_, v)| matches!(v, Verdict::Rejected(_))).count();
        let matched = !places.is_empty()
            && match expect {
                Expect::Ok => accepted == places.len(),
                Expect::Fail => rejected == places.len(),
            };
        if expect == Expect::Fail && !matched && rejected > 0 {
            self.stats.fail_partly += 1;
        }
        if matched && expect == Expect::Fail && std::env::var_os("CTC_CORPUS_VERBOSE").is_some() {
            let first = places.iter().find_map(|(_, v)| match v {
                Verdict::Rejected(e) => Some(e.as_str()),
                _ => None,
            });
            println!("  {}:{lineno}: [{kind} fail] {text}\n      rejected: {}", self.label, first.unwrap_or(""));
        }
        if !matched {
            let why: Vec<String> = places
                .iter()
                .filter_map(|(place, v)| match (expect, v) {
                    (Expect::Ok, Verdict::Rejected(e)) => Some(format!("rejected in {place}: {e}")),
                    (Expect::Fail, Verdict::Accepted) => Some(format!("accepted in {place}")),
                    (_, Verdict::Unjudged) => Some(format!("scaffold {place} has errors")),
                    _ => None,
                })
                .collect();
            let why = if why.is_empty() { "no table or chain to check it in".to_string() } else { why.join("; ") };
            let e = if expect == Expect::Ok { "ok" } else { "fail" };
            self.stats.misclassified.push(format!("{}:{lineno}: [{kind} {e}] {text}\n      {why}", self.label));
        }
        matched
    }
}

fn indent(s: &str) -> String {
    s.lines().map(|l| format!("      | {l}\n")).collect()
}

fn run_py_file(path: &Path, label: String) -> PyStats {
    let mut stats = PyStats::default();
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => {
            stats.misclassified.push(format!("{label}: cannot read: {e}"));
            return stats;
        }
    };
    let mut f = PyFile { label, scaffolds: HashMap::new(), stats: &mut stats };
    let mut chains: Vec<pyt::Chain> = Vec::new();
    let mut tables: Vec<TableState> = Vec::new();
    for pyt::Numbered { lineno, line } in pyt::parse(&text) {
        match line {
            Line::Chain(c) => chains.push(c),
            Line::Table { family, name, chains: names } => {
                // nft-test.py creates the chains the table lists that have
                // been declared above; an unknown one is an error in the .t
                // file and is left out.
                let chains =
                    names.iter().filter_map(|n| chains.iter().find(|c| &c.name == n).cloned()).collect::<Vec<_>>();
                tables.push(TableState { family, name, chains, sets: Vec::new(), objects: Vec::new() });
            }
            Line::Set { decl, expect } => {
                let mut places = Vec::new();
                for t in &tables {
                    let mut with = t.clone();
                    with.sets.push((decl.clone(), Vec::new()));
                    let v = if f.scaffold_ok(t) {
                        match check_text(&f.label, &with.render(Placement::Nothing)) {
                            Ok(c) if c.has_errors() => Verdict::Rejected(first_error(&c)),
                            Ok(_) => Verdict::Accepted,
                            Err(e) => Verdict::Rejected(e),
                        }
                    } else {
                        Verdict::Unjudged
                    };
                    places.push((format!("{} {}", t.family, t.name), v));
                }
                f.stats.decl_lines += 1;
                let text = format!("!{} {}", decl.name, decl.key);
                if f.record(lineno, "set", &text, expect, places) {
                    f.stats.decl_matched += 1;
                }
                if expect == Expect::Ok {
                    for t in &mut tables {
                        t.sets.push((decl.clone(), Vec::new()));
                    }
                }
            }
            Line::Elements { set, elements, expect } => {
                let mut places = Vec::new();
                for t in &tables {
                    let v = f.judge(t, Placement::Elements { set: &set, elements: &elements });
                    places.push((format!("{} {}", t.family, t.name), v));
                }
                f.stats.decl_lines += 1;
                let text = format!("?{set} {}", elements.join(", "));
                if f.record(lineno, "element", &text, expect, places) {
                    f.stats.decl_matched += 1;
                }
                if expect == Expect::Ok {
                    for t in &mut tables {
                        if let Some((_, el)) = t.sets.iter_mut().find(|(d, _)| d.name == set) {
                            el.extend(elements.iter().cloned());
                        }
                    }
                }
            }
            Line::Object { name, kind, spec, expect } => {
                let obj = if spec.starts_with('{') {
                    format!("{kind} {name} {spec}")
                } else {
                    format!("{kind} {name} {{ {spec} }}")
                };
                let mut places = Vec::new();
                for t in &tables {
                    let mut with = t.clone();
                    with.objects.push(obj.clone());
                    let v = if f.scaffold_ok(t) {
                        match check_text(&f.label, &with.render(Placement::Nothing)) {
                            Ok(c) if c.has_errors() => Verdict::Rejected(first_error(&c)),
                            Ok(_) => Verdict::Accepted,
                            Err(e) => Verdict::Rejected(e),
                        }
                    } else {
                        Verdict::Unjudged
                    };
                    places.push((format!("{} {}", t.family, t.name), v));
                }
                f.stats.decl_lines += 1;
                if f.record(lineno, "object", &obj, expect, places) {
                    f.stats.decl_matched += 1;
                }
                if expect == Expect::Ok {
                    for t in &mut tables {
                        t.objects.push(obj.clone());
                    }
                }
            }
            Line::Rule { rule, expect, canonical: _ } => {
                let mut places = Vec::new();
                for t in &tables {
                    for c in &t.chains {
                        let v = f.judge(t, Placement::Rule { chain: &c.name, rule: &rule });
                        places.push((format!("{} {}/{}", t.family, t.name, c.name), v));
                    }
                }
                let matched = f.record(lineno, "rule", &rule, expect, places);
                match expect {
                    Expect::Ok => {
                        f.stats.ok_rules += 1;
                        f.stats.ok_accepted += usize::from(matched);
                    }
                    Expect::Fail => {
                        f.stats.fail_rules += 1;
                        f.stats.fail_rejected += usize::from(matched);
                    }
                }
            }
        }
    }
    stats
}

/// Run the `.t` files on two threads (the machines have two cores).
fn run_py(corpus: &Path) -> PyStats {
    let mut files = Vec::new();
    for dir in files_in_dirs(&corpus.join("py")) {
        files.extend(files_with_ext(&dir, "t"));
    }
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<(usize, PyStats)>> = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(path) = files.get(i) else { break };
                    let label = path.strip_prefix(corpus).unwrap_or(path).display().to_string();
                    let st = run_py_file(path, label);
                    results.lock().unwrap_or_else(|e| e.into_inner()).push((i, st));
                }
            });
        }
    });
    let mut results = results.into_inner().unwrap_or_else(|e| e.into_inner());
    results.sort_by_key(|(i, _)| *i);
    let mut total = PyStats::default();
    for (_, st) in results {
        total.merge(st);
    }
    total
}

fn files_in_dirs(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = match std::fs::read_dir(dir) {
        Ok(rd) => rd.filter_map(|e| e.ok()).map(|e| e.path()).filter(|p| p.is_dir()).collect(),
        Err(_) => Vec::new(),
    };
    v.sort();
    v
}

// ---------------------------------------------------------------- dumps

struct DumpStats {
    total: usize,
    accepted: usize,
    rejected: Vec<String>,
    /// Per lint code: findings, and dumps with at least one.
    lints: std::collections::BTreeMap<&'static str, (usize, usize)>,
}

fn run_dumps(corpus: &Path) -> DumpStats {
    let files = files_with_ext(&corpus.join("dumps"), "nft");
    let mut st = DumpStats { total: files.len(), accepted: 0, rejected: Vec::new(), lints: Default::default() };
    // Every lint on, the ones off by default included: a lint never makes
    // a file nft accepts fail (its findings are warnings and notes).
    let mut lints = ctc_sema::lint::LintConfig::default();
    for l in ctc_sema::lint::LINTS.iter().filter(|l| l.default == ctc_sema::lint::Level::Allow) {
        lints.overrides.push((l.name, ctc_sema::lint::Level::Warn));
    }
    for path in &files {
        let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        let opts = CheckOptions { include_dirs: vec![dir], lints: lints.clone(), ..CheckOptions::default() };
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        match catch_unwind(AssertUnwindSafe(|| check_file(path, &opts))) {
            Ok(c) if !c.has_errors() => {
                st.accepted += 1;
                let mut seen: Vec<&'static str> = Vec::new();
                for d in c.diagnostics.iter().filter(|d| ctc_sema::lint::by_code(d.code).is_some()) {
                    let e = st.lints.entry(d.code).or_default();
                    e.0 += 1;
                    if !seen.contains(&d.code) {
                        seen.push(d.code);
                        e.1 += 1;
                    }
                }
            }
            Ok(c) => st.rejected.push(format!("dumps/{name}: {} error(s), first: {}", c.errors(), first_error(&c))),
            Err(p) => st.rejected.push(format!("dumps/{name}: PANIC: {}", panic_message(&*p))),
        }
    }
    st
}

// ---------------------------------------------------------------- bogons

/// How a child process ended.
enum Ended {
    Exit(i32, String),
    /// Killed by a signal (abort, stack overflow, segfault).
    Signal(String),
    Hang,
    SpawnError(String),
}

/// Run a command with a time limit, collecting its output.
fn run_limited(mut cmd: Command, limit: Duration) -> Ended {
    cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => return Ended::SpawnError(e.to_string()),
    };
    // Read both pipes on threads so a chatty child cannot block on a full pipe.
    let mut out = child.stdout.take();
    let mut err = child.stderr.take();
    let t_out = std::thread::spawn(move || {
        let mut s = String::new();
        if let Some(o) = out.as_mut() {
            let _ = o.read_to_string(&mut s);
        }
        s
    });
    let t_err = std::thread::spawn(move || {
        let mut s = String::new();
        if let Some(e) = err.as_mut() {
            let _ = e.read_to_string(&mut s);
        }
        s
    });
    let start = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(st)) => break Some(st),
            Ok(None) if start.elapsed() > limit => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(5)),
            Err(e) => return Ended::SpawnError(e.to_string()),
        }
    };
    let stdout = t_out.join().unwrap_or_default();
    let stderr = t_err.join().unwrap_or_default();
    let Some(status) = status else { return Ended::Hang };
    match status.code() {
        Some(code) => Ended::Exit(code, format!("{stdout}{stderr}")),
        None => {
            use std::os::unix::process::ExitStatusExt;
            let tail: String = stderr.lines().rev().take(3).collect::<Vec<_>>().join(" | ");
            Ended::Signal(format!("signal {:?}; {tail}", status.signal()))
        }
    }
}

struct BogonStats {
    total: usize,
    /// Clean in-process (child test process): exit 0 or 1.
    clean: usize,
    /// Clean under the `ctc` binary (`check` and `fmt`), when it exists.
    binary: Option<(PathBuf, usize)>,
    problems: Vec<String>,
}

fn describe(e: &Ended) -> String {
    match e {
        Ended::Exit(code, out) => {
            let last: Vec<&str> = out.lines().filter(|l| !l.trim().is_empty()).collect();
            let tail = last.iter().rev().take(3).rev().cloned().collect::<Vec<_>>().join(" | ");
            format!("exit {code}: {tail}")
        }
        Ended::Signal(s) => format!("killed: {s}"),
        Ended::Hang => format!("no answer within {BOGON_TIMEOUT:?} (hang)"),
        Ended::SpawnError(e) => format!("cannot run: {e}"),
    }
}

/// `target/<profile>/ctc` beside this test binary (`target/<profile>/deps/`).
fn ctc_binary() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let bin = exe.parent()?.parent()?.join("ctc");
    bin.is_file().then_some(bin)
}

fn run_bogons(corpus: &Path) -> BogonStats {
    let files = files_in(&corpus.join("bogons"));
    let ctc = ctc_binary();
    let mut st = BogonStats { total: files.len(), clean: 0, binary: ctc.clone().map(|b| (b, 0)), problems: Vec::new() };
    let Ok(me) = std::env::current_exe() else {
        st.problems.push("cannot find this test binary to re-run it".into());
        return st;
    };
    for path in &files {
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let mut cmd = Command::new(&me);
        cmd.args(["bogon_child", "--exact", "--ignored", "--nocapture", "--test-threads=1", "-q"]).env(CHILD_ENV, path);
        let ended = run_limited(cmd, BOGON_TIMEOUT);
        match &ended {
            Ended::Exit(0, out) if out.contains("ctc-bogon-child: done") => st.clean += 1,
            e => st.problems.push(format!("bogons/{name}: in-process check: {}", describe(e))),
        }
        if let (Some(bin), Some((_, n))) = (&ctc, st.binary.as_mut()) {
            let mut all = true;
            for sub in ["check", "fmt"] {
                let mut cmd = Command::new(bin);
                cmd.arg(sub).arg(path);
                let ended = run_limited(cmd, BOGON_TIMEOUT);
                if !matches!(ended, Ended::Exit(0 | 1, _)) {
                    all = false;
                    st.problems.push(format!("bogons/{name}: `ctc {sub}`: {}", describe(&ended)));
                }
            }
            *n += usize::from(all);
        }
    }
    st
}

/// Not a test of its own: the entry point `corpus` re-runs this binary on,
/// with `CTC_BOGON_CHILD_FILE` set, to check one bogon in a process that
/// may crash. It checks and formats the file on a thread with the main
/// thread's usual 8 MiB stack, and prints `ctc-bogon-child: done` when both
/// returned (whatever the diagnostics).
#[test]
#[ignore = "helper process of `corpus`, run by it with CTC_BOGON_CHILD_FILE set"]
fn bogon_child() {
    let Some(path) = std::env::var_os(CHILD_ENV).map(PathBuf::from) else {
        return;
    };
    let worker = std::thread::Builder::new().stack_size(8 << 20).spawn(move || {
        let checked = check_file(&path, &CheckOptions::default());
        let text = std::fs::read(&path).map(|b| String::from_utf8_lossy(&b).into_owned()).unwrap_or_default();
        let formatted = format_source(&path.display().to_string(), &text).is_ok();
        (checked.errors(), checked.warnings(), formatted)
    });
    let (errors, warnings, formatted) = match worker.map(|w| w.join()) {
        Ok(Ok(r)) => r,
        Ok(Err(p)) => panic!("check panicked: {}", panic_message(&*p)),
        Err(e) => panic!("cannot spawn the worker thread: {e}"),
    };
    println!("ctc-bogon-child: errors={errors} warnings={warnings} fmt_ok={formatted}");
    println!("ctc-bogon-child: done");
}

// ---------------------------------------------------------------- entry

fn pct(n: usize, d: usize) -> f64 {
    if d == 0 { 100.0 } else { n as f64 * 100.0 / d as f64 }
}

#[test]
fn corpus() {
    let Some(corpus) = corpus_dir() else {
        println!("skipping: ../shared/corpus not found (the nftables corpus lives beside the repository)");
        return;
    };

    let py = run_py(&corpus);
    println!("== py/*.t: misclassified lines (first {MAX_LISTED} of {}) ==", py.misclassified.len());
    for m in py.misclassified.iter().take(MAX_LISTED) {
        println!("  {m}");
    }
    if !py.bad_scaffolds.is_empty() {
        println!("== py/*.t: scaffolds (tables, chains, sets without the rule) that do not check clean ==");
        for s in &py.bad_scaffolds {
            println!("  {s}");
        }
    }

    let dumps = run_dumps(&corpus);
    println!("== dumps rejected: {} ==", dumps.rejected.len());
    for r in &dumps.rejected {
        println!("  {r}");
    }

    let bogons = run_bogons(&corpus);
    println!("== bogon problems: {} ==", bogons.problems.len());
    for p in &bogons.problems {
        println!("  {p}");
    }

    println!(
        "py: ok-rules accepted {}/{} ({:.1}%), fail-rules rejected {}/{} ({:.1}%; {} more rejected in only some tables), set/element/object lines {}/{}",
        py.ok_accepted,
        py.ok_rules,
        pct(py.ok_accepted, py.ok_rules),
        py.fail_rejected,
        py.fail_rules,
        pct(py.fail_rejected, py.fail_rules),
        py.fail_partly,
        py.decl_matched,
        py.decl_lines
    );
    println!("dumps: accepted {}/{} ({:.1}%)", dumps.accepted, dumps.total, pct(dumps.accepted, dumps.total));
    println!("== lints over the accepted dumps (every lint on): code, name, findings, dumps ==");
    for l in ctc_sema::lint::LINTS {
        let (n, files) = dumps.lints.get(l.code).copied().unwrap_or_default();
        println!("| `{}` | `{}` | {n} | {files} |", l.code, l.name);
    }
    let binary = match &bogons.binary {
        Some((path, n)) => format!("`ctc check`/`ctc fmt` clean on {n}/{} ({})", bogons.total, path.display()),
        None => "ctc binary not built (cargo build -p ctc-cli), binary part skipped".to_string(),
    };
    println!("bogons: in-process check+fmt clean {}/{}, {binary}", bogons.clean, bogons.total);
    println!(
        "corpus: ok-rules accepted {}/{} ({:.1}%), fail-rules rejected {}/{} ({:.1}%), dumps accepted {}/{}, bogons {}/{} clean",
        py.ok_accepted,
        py.ok_rules,
        pct(py.ok_accepted, py.ok_rules),
        py.fail_rejected,
        py.fail_rules,
        pct(py.fail_rejected, py.fail_rules),
        dumps.accepted,
        dumps.total,
        bogons.clean.min(bogons.binary.as_ref().map_or(usize::MAX, |(_, n)| *n)),
        bogons.total
    );

    let mut failures = Vec::new();
    if py.ok_rules == 0 || pct(py.ok_accepted, py.ok_rules) < OK_ACCEPT_MIN * 100.0 {
        failures.push(format!("ok-rule acceptance below {:.0}%", OK_ACCEPT_MIN * 100.0));
    }
    if py.fail_rules == 0 || pct(py.fail_rejected, py.fail_rules) < FAIL_REJECT_MIN * 100.0 {
        failures.push(format!("fail-rule rejection below {:.0}%", FAIL_REJECT_MIN * 100.0));
    }
    if dumps.total == 0 || pct(dumps.accepted, dumps.total) < DUMP_ACCEPT_MIN * 100.0 {
        failures.push(format!("dump acceptance below {:.0}%", DUMP_ACCEPT_MIN * 100.0));
    }
    if bogons.total == 0 || !bogons.problems.is_empty() {
        failures.push(format!("{} bogon problem(s) (panic, abort, hang or bad exit status)", bogons.problems.len()));
    }
    assert!(failures.is_empty(), "corpus: {}", failures.join("; "));
}
