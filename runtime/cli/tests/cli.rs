//! The command-line contract of DESIGN §3, run against the built `ctc`:
//! exit codes, output formats, `explain`, `fmt`, and the examples.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

fn ctc(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ctc")).args(args).env("NO_COLOR", "1").output().expect("run ctc")
}

fn code(o: &Output) -> i32 {
    o.status.code().expect("ctc exited by a signal")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn examples() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(repo_root().join("examples"))
        .expect("examples/")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "nft"))
        .collect();
    v.sort();
    assert!(v.len() >= 3, "the three bundled examples");
    v
}

/// A fresh directory for one test's files.
fn tmpdir() -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let d = std::env::temp_dir().join(format!("ctc-cli-{}-{}", std::process::id(), N.fetch_add(1, Ordering::Relaxed)));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("tmpdir");
    d
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).expect("write");
    p.display().to_string()
}

/// Clean for the checker and every lint (invalid packets are dropped).
const CLEAN: &str = "\
table inet filter {
	chain input {
		type filter hook input priority filter; policy drop;
		ct state established,related accept
		ct state invalid drop
		tcp dport 22 accept
	}
}
";

/// A syntax error: the grammar reports it whatever sema does.
const BROKEN: &str = "table inet filter {\n\tchain input {\n\t\ttcp dport 22 accept\n";

#[test]
fn clean_file_exits_0() {
    let d = tmpdir();
    let f = write(&d, "clean.nft", CLEAN);
    let o = ctc(&["check", &f]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(stderr(&o).contains("no problems"), "{}", stderr(&o));
}

#[test]
fn file_with_error_exits_1() {
    let d = tmpdir();
    let f = write(&d, "broken.nft", BROKEN);
    let o = ctc(&["check", &f]);
    assert_eq!(code(&o), 1);
    let err = stderr(&o);
    // DESIGN §3: `FILE:LINE:COL: error[CODE]: message` headline.
    assert!(err.contains(&format!("{f}:3:")), "{err}");
    assert!(err.contains("error[E0002]"), "{err}");
    assert!(err.contains("1 error"), "{err}");
}

#[test]
fn semantic_error_exits_1() {
    let d = tmpdir();
    let f = write(
        &d,
        "undef.nft",
        "table inet filter {\n\tchain input {\n\t\ttype filter hook input priority 0;\n\t\tip saddr @nosuch drop\n\t}\n}\n",
    );
    let o = ctc(&["check", "--format", "json", &f]);
    assert_eq!(code(&o), 1, "{}", stdout(&o));
    assert!(stdout(&o).contains("\"E1003\""), "{}", stdout(&o));
}

#[test]
fn missing_file_exits_2() {
    let o = ctc(&["check", "/nonexistent/ctc/ruleset.nft"]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("cannot read `/nonexistent/ctc/ruleset.nft`"), "{}", stderr(&o));
    // A missing file among good ones still exits 2; the good ones are checked.
    let d = tmpdir();
    let f = write(&d, "clean.nft", CLEAN);
    assert_eq!(code(&ctc(&["check", &f, "/nonexistent/x.nft"])), 2);
    assert_eq!(code(&ctc(&["fmt", "/nonexistent/x.nft"])), 2);
    assert_eq!(code(&ctc(&["compile", "/nonexistent/x.nft", "--emit", "ast"])), 2);
}

#[test]
fn usage_errors_exit_2_and_help_exits_0() {
    assert_eq!(code(&ctc(&["check", "--bogus", "x.nft"])), 2);
    assert_eq!(code(&ctc(&["check"])), 2, "FILE is required");
    assert_eq!(code(&ctc(&["check", "--format", "xml", "x.nft"])), 2);
    assert_eq!(code(&ctc(&["check", "--deny", "everything", "x.nft"])), 2);
    assert_eq!(code(&ctc(&["nosuch"])), 2);
    assert_eq!(code(&ctc(&[])), 2);
    assert_eq!(code(&ctc(&["check", "-D", "novalue", "x.nft"])), 2);
    assert_eq!(code(&ctc(&["check", "-D", "x={ 1,", "x.nft"])), 2);
    assert_eq!(code(&ctc(&["check", "-I", "/nonexistent/dir", "x.nft"])), 2);
    assert_eq!(code(&ctc(&["compile", "x.nft"])), 2, "--emit is required");
    for args in [&["--help"][..], &["-h"], &["check", "--help"], &["help", "check"], &["--version"]] {
        let o = ctc(args);
        assert_eq!(code(&o), 0, "{args:?}");
        assert!(!stdout(&o).is_empty());
    }
    // The long help teaches with examples.
    assert!(stdout(&ctc(&["check", "--help"])).contains("Examples:"));
}

#[test]
fn defines_are_usable() {
    let d = tmpdir();
    let f = write(
        &d,
        "vars.nft",
        "table inet filter {\n\tchain input {\n\t\ttype filter hook input priority 0;\n\t\tiifname $lan_if tcp dport $ports accept\n\t}\n}\n",
    );
    let o = ctc(&["check", "-D", "lan_if=lan0", "-D", "ports={ 22, 80 }", &f]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
}

#[test]
fn deny_warnings_exits_1() {
    // Warnings are the lints (`W` codes): each lint's documented example
    // must trigger it, exit 0 plainly (warnings and notes alone pass) and
    // exit 1 when the lint is denied; `--deny warnings` fails on warnings.
    for lint in ctc_sema::lint::LINTS {
        let d = tmpdir();
        let f = write(&d, "lint.nft", &doc_example(&ctc_sema::lint::render_doc(lint.doc)));
        let plain = ctc(&["check", "--format", "json", "--warn", lint.name, &f]);
        assert!(
            stdout(&plain).contains(&format!("\"code\":\"{}\"", lint.code)),
            "{}: the example triggers it\n{}",
            lint.name,
            stdout(&plain)
        );
        assert_eq!(code(&plain), 0, "{}: warnings alone exit 0", lint.name);
        assert_eq!(code(&ctc(&["check", "--deny", lint.name, &f])), 1, "{}", lint.name);
        assert_eq!(code(&ctc(&["check", "--deny", lint.code, &f])), 1, "{}", lint.name);
        let allowed = ctc(&["check", "--format", "json", "--allow", lint.name, &f]);
        assert!(!stdout(&allowed).contains(&format!("\"code\":\"{}\"", lint.code)), "{}: --allow", lint.name);
        if lint.default == ctc_sema::lint::Level::Warn {
            assert_eq!(code(&ctc(&["check", "--deny", "warnings", &f])), 1, "{}", lint.name);
        }
    }
}

#[test]
fn lint_output_carries_code_name_and_severity() {
    let d = tmpdir();
    let f = write(
        &d,
        "shadow.nft",
        "table inet filter {\n\tchain input {\n\t\ttype filter hook input priority filter; policy accept;\n\t\tip saddr 10.0.0.0/8 accept\n\t\tip saddr 10.1.2.3 counter drop\n\t}\n}\n",
    );
    let o = ctc(&["check", "--format", "json", &f]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(stdout(&o).lines().next().expect("one line")).expect("JSON");
    assert_eq!(v["code"], "W1001");
    assert_eq!(v["name"], "shadowed-rule");
    assert_eq!(v["severity"], "warning");
    assert_eq!(v["line"], 5);
    let o = ctc(&["check", "--format", "json", "--deny", "shadowed-rule", &f]);
    assert_eq!(code(&o), 1);
    let v: serde_json::Value = serde_json::from_str(stdout(&o).lines().next().expect("one line")).expect("JSON");
    assert_eq!(v["severity"], "error");
    let o = ctc(&["check", "--format", "sarif", &f]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("SARIF");
    let r = &v["runs"][0]["results"][0];
    assert_eq!(r["ruleId"], "W1001");
    assert_eq!(r["level"], "warning");
    assert_eq!(r["properties"]["name"], "shadowed-rule");
    assert_eq!(r["properties"]["code"], "W1001");
    assert_eq!(r["properties"]["severity"], "warning");
    // Unknown lint names are usage errors.
    assert_eq!(code(&ctc(&["check", "--allow", "no-such-lint", &f])), 2);
    assert_eq!(code(&ctc(&["check", "--deny", "no-such-lint", &f])), 2);
    // A suppression comment silences it; an unused one is reported.
    let s = write(
        &d,
        "suppressed.nft",
        "table inet filter {\n\tchain input {\n\t\ttype filter hook input priority filter; policy accept;\n\t\tip saddr 10.0.0.0/8 accept\n\t\tip saddr 10.1.2.3 counter drop # ctc: allow(shadowed-rule)\n\t}\n}\n",
    );
    let o = ctc(&["check", "--format", "json", "--deny", "warnings", &s]);
    assert_eq!(stdout(&o), "", "suppressed");
    assert_eq!(code(&o), 0);
}

#[test]
fn every_lint_is_explained_by_code_and_name() {
    for l in ctc_sema::lint::LINTS {
        let by_code = stdout(&ctc(&["explain", l.code]));
        assert!(by_code.starts_with(&format!("{} ({}): {}", l.code, l.name, l.summary())), "{by_code}");
        for part in ["What it does:", "Why is this bad?", "Example:", "Fix:"] {
            assert!(by_code.contains(part), "{}: {part}", l.name);
        }
        assert_eq!(stdout(&ctc(&["explain", l.name])), by_code);
    }
}

#[test]
fn deny_warnings_on_clean_file_exits_0() {
    let d = tmpdir();
    let f = write(&d, "clean.nft", CLEAN);
    assert_eq!(code(&ctc(&["check", "--deny", "warnings", &f])), 0);
}

#[test]
fn json_is_one_object_per_line() {
    let d = tmpdir();
    let a = write(&d, "a.nft", BROKEN);
    let b = write(&d, "b.nft", "table inet filter {\n\tchain input {\n\t\tcomment \"open\n\t}\n}\n");
    let o = ctc(&["check", "--format", "json", &a, &b]);
    assert_eq!(code(&o), 1);
    let out = stdout(&o);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    for (line, (file, want)) in lines.iter().zip([(&a, "E0002"), (&b, "E0004")]) {
        let v: serde_json::Value = serde_json::from_str(line).expect("valid JSON");
        assert_eq!(v["file"], file.as_str());
        assert_eq!(v["code"], want);
        assert_eq!(v["severity"], "error");
        assert!(v["line"].as_u64().is_some_and(|l| l >= 1));
        assert!(v["column"].as_u64().is_some_and(|c| c >= 1));
        assert!(v["end"]["line"].is_u64() && v["end"]["column"].is_u64());
        assert!(v["message"].is_string());
        assert!(v.get("help").is_some());
        assert!(v["name"].is_string(), "every code has a name");
    }
    // Nothing but JSON on stdout; a clean file prints nothing.
    let c = write(&d, "clean.nft", CLEAN);
    let o = ctc(&["check", "--format", "json", &c]);
    assert_eq!(code(&o), 0);
    assert_eq!(stdout(&o), "");
}

#[test]
fn sarif_is_2_1_0() {
    let d = tmpdir();
    let a = write(&d, "a.nft", BROKEN);
    let c = write(&d, "clean.nft", CLEAN);
    let o = ctc(&["check", "--format", "sarif", &a, &c]);
    assert_eq!(code(&o), 1);
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("one JSON document");
    assert_eq!(v["version"], "2.1.0");
    let run = &v["runs"][0];
    assert_eq!(run["tool"]["driver"]["name"], "ctc");
    let rules = run["tool"]["driver"]["rules"].as_array().expect("rules");
    assert_eq!(rules.len(), ctc_sema::codes::CODES.len() + ctc_sema::lint::LINTS.len());
    let results = run["results"].as_array().expect("results");
    assert_eq!(results.len(), 1);
    assert_eq!(results[0]["ruleId"], "E0002");
    assert_eq!(results[0]["level"], "error");
    let loc = &results[0]["locations"][0]["physicalLocation"];
    assert_eq!(loc["artifactLocation"]["uri"], a.as_str());
    assert!(loc["region"]["startLine"].is_u64());
}

#[test]
fn explain_by_code_and_name() {
    let o = ctc(&["explain", "E1003"]);
    assert_eq!(code(&o), 0);
    let text = stdout(&o);
    assert!(text.starts_with("E1003 (undefined-set)"), "{text}");
    assert!(text.contains("Example:") && text.contains("Fix:"));
    let by_name = ctc(&["explain", "undefined-set"]);
    assert_eq!(code(&by_name), 0);
    assert_eq!(stdout(&by_name), text);
    assert_eq!(stdout(&ctc(&["explain", "e1003"])), text, "codes are case-insensitive");

    let unknown = ctc(&["explain", "E9999"]);
    assert_eq!(code(&unknown), 2);
    assert!(stderr(&unknown).contains("--list"), "{}", stderr(&unknown));
    assert_eq!(code(&ctc(&["explain", "ü"])), 2, "no panic on non-ASCII");
    assert_eq!(code(&ctc(&["explain"])), 2);

    let list = ctc(&["explain", "--list"]);
    assert_eq!(code(&list), 0);
    assert_eq!(stdout(&list).lines().count(), ctc_sema::codes::CODES.len() + ctc_sema::lint::LINTS.len());
}

#[test]
fn every_code_is_explained() {
    for c in ctc_sema::codes::CODES {
        for key in [c.code, c.name] {
            let o = ctc(&["explain", key]);
            assert_eq!(code(&o), 0, "{key}");
            assert!(stdout(&o).contains(c.summary));
        }
    }
}

#[test]
fn fmt_prints_and_is_idempotent_on_the_examples() {
    let d = tmpdir();
    for ex in examples() {
        let ex = ex.display().to_string();
        let once = ctc(&["fmt", &ex]);
        assert_eq!(code(&once), 0, "{ex}: {}", stderr(&once));
        let first = stdout(&once);
        assert!(first.contains("table "), "{ex}");
        let f = write(&d, "once.nft", &first);
        let twice = ctc(&["fmt", &f]);
        assert_eq!(code(&twice), 0);
        assert_eq!(stdout(&twice), first, "{ex}: fmt is idempotent");
    }
}

#[test]
fn fmt_reports_syntax_errors() {
    let d = tmpdir();
    let f = write(&d, "broken.nft", BROKEN);
    let o = ctc(&["fmt", &f]);
    assert_eq!(code(&o), 1);
    assert_eq!(stdout(&o), "");
    assert!(stderr(&o).contains("error[E0002]"));
}

#[test]
fn examples_are_clean() {
    for ex in examples() {
        let ex = ex.display().to_string();
        let o = ctc(&["check", "--deny", "warnings", "--format", "json", &ex]);
        assert_eq!(stdout(&o), "", "{ex} has diagnostics");
        assert_eq!(code(&o), 0, "{ex}: {}", stderr(&o));
    }
}

#[test]
fn compile_emits_ast_and_hir() {
    let d = tmpdir();
    let f = write(&d, "clean.nft", CLEAN);
    let ast = ctc(&["compile", &f, "--emit", "ast"]);
    assert_eq!(code(&ast), 0, "{}", stderr(&ast));
    assert!(stdout(&ast).contains("Script"));
    let hir = ctc(&["compile", &f, "--emit", "hir"]);
    assert_eq!(code(&hir), 0, "{}", stderr(&hir));
    assert!(stdout(&hir).contains("Program"));
    let ir = ctc(&["compile", &f, "--emit", "ir"]);
    assert_eq!(code(&ir), 0, "{}", stderr(&ir));
    assert!(stdout(&ir).contains("chain "), "{}", stdout(&ir));
    let b = write(&d, "broken.nft", BROKEN);
    assert_eq!(code(&ctc(&["compile", &b, "--emit", "ir"])), 1);
    assert_eq!(code(&ctc(&["compile", &b, "--emit", "hir"])), 1);
    assert_eq!(code(&ctc(&["compile", &b, "--emit", "ast"])), 1);
}

#[test]
fn compile_emits_clif_and_asm() {
    let d = tmpdir();
    let f = write(&d, "clean.nft", CLEAN);
    let clif = ctc(&["compile", &f, "--emit", "clif"]);
    assert_eq!(code(&clif), 0, "{}", stderr(&clif));
    assert!(stdout(&clif).contains("; base chain "), "{}", stdout(&clif));
    assert!(stdout(&clif).contains("function ") && stdout(&clif).contains("block0"), "{}", stdout(&clif));
    let asm = ctc(&["compile", &f, "--emit", "asm"]);
    assert_eq!(code(&asm), 0, "{}", stderr(&asm));
    assert!(stdout(&asm).contains("bytes of machine code"), "{}", stdout(&asm));
    assert!(stdout(&asm).contains("ret"), "{}", stdout(&asm));
    let b = write(&d, "broken.nft", BROKEN);
    assert_eq!(code(&ctc(&["compile", &b, "--emit", "clif"])), 1);
}

#[test]
fn bench_classify_ends_with_the_summary_line() {
    let d = tmpdir();
    let f = write(&d, "clean.nft", CLEAN);
    for engine in ["jit", "interp"] {
        let o = ctc(&["bench", "classify", "--ruleset", &f, "--synthetic", "100", "--engine", engine]);
        assert_eq!(code(&o), 0, "{}", stderr(&o));
        let out = stdout(&o);
        let last = out.lines().last().unwrap_or_default().to_string();
        let keys: Vec<&str> = last.split(' ').map(|kv| kv.split('=').next().unwrap_or_default()).collect();
        assert_eq!(keys, ["engine", "rules", "packets", "ns_per_packet", "mpps", "compile_ms"], "{last}");
        assert!(last.starts_with(&format!("engine={engine} ")), "{last}");
        for kv in last.split(' ').skip(1) {
            let v = kv.split_once('=').map(|x| x.1).unwrap_or_default();
            assert!(v.parse::<f64>().is_ok_and(|x| x >= 0.0), "{kv} in {last}");
        }
    }
    // Packets are required; a missing trace is an I/O error.
    assert_eq!(code(&ctc(&["bench", "classify", "--ruleset", &f])), 2);
    assert_eq!(code(&ctc(&["bench", "classify", "--ruleset", &f, "--trace", "missing.pcap"])), 2);
    let b = write(&d, "broken.nft", BROKEN);
    assert_eq!(code(&ctc(&["bench", "classify", "--ruleset", &b, "--synthetic", "10"])), 1);
}

/// `ctc run`'s refusals, all before it binds a queue or touches the
/// host's rules (a valid `ctc run` is only ever started inside a test's own
/// network namespace: tests/live_run.rs), and the control-socket clients
/// with no daemon to talk to.
#[test]
fn run_and_its_clients_fail_loudly() {
    let d = tmpdir();
    let f = write(&d, "clean.nft", CLEAN);
    // Not built: AF_XDP.
    let o = ctc(&["run", "--ruleset", &f, "--xdp", "wan0,lan0"]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(stderr(&o).contains("not built yet") && stderr(&o).contains("--queue"), "{}", stderr(&o));
    // Usage errors.
    for (args, want) in [
        (vec!["run", "--ruleset", &f], "required"),
        (vec!["run", "--ruleset", &f, "--queue", "3:1"], "below the first"),
        (vec!["run", "--ruleset", &f, "--queue", "0:1", "--workers", "3"], "one worker serves each queue"),
        (vec!["run", "--ruleset", &f, "--queue", "0", "--sysctl", "nonsense=1"], "--sysctl"),
    ] {
        let o = ctc(&args);
        assert_eq!(code(&o), 2, "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(want), "{args:?}: {}", stderr(&o));
    }
    // A ruleset with errors: exit 1, nothing started.
    let b = write(&d, "broken.nft", BROKEN);
    let o = ctc(&["run", "--ruleset", &b, "--queue", "0"]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert!(stderr(&o).contains("not started"), "{}", stderr(&o));
    // A ruleset that queues packets: ctc is the queue's reader; refused
    // before anything is started.
    let q = write(
        &d,
        "queue.nft",
        "table inet t {\n\tchain forward {\n\t\ttype filter hook forward priority 0;\n\t\ttcp dport 80 queue num 5\n\t}\n}\n",
    );
    let o = ctc(&["run", "--ruleset", &q, "--queue", "0"]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert!(stderr(&o).contains("queue.nft:4: `queue` cannot run under `ctc run`"), "{}", stderr(&o));
    // The clients, with nothing listening on their socket.
    let sock = d.join("nobody.sock");
    let sock = sock.to_str().unwrap();
    for args in [
        vec!["reload", "--control", sock, "--ruleset", &f],
        vec!["status", "--control", sock],
        vec!["ct", "list", "-o", "extended", "--control", sock],
        vec!["ct", "expect", "--control", sock],
        vec!["ct", "events", "--control", sock],
        vec!["ct", "stats", "--control", sock],
        vec!["ct", "flush", "--control", sock],
    ] {
        let o = ctc(&args);
        assert_eq!(code(&o), 2, "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains("control socket"), "{args:?}: {}", stderr(&o));
    }
}

#[test]
fn code_examples_trigger_their_code() {
    // The `Example:` of each code, checked: the documentation shows what the
    // checker really says. Skipped: examples that are not one ruleset file
    // (E1011 is described, E5002 needs two files, E5003 a shell) and E1013,
    // whose example is documented to report E1005.
    // E6002 (an internal error) has no triggering input; E6xxx codes come
    // from compiling to the IR, not from `check`.
    const NOT_A_FILE: &[&str] = &["E1011", "E1013", "E5002", "E5003", "E6002"];
    for c in ctc_sema::codes::CODES.iter().filter(|c| !NOT_A_FILE.contains(&c.code)) {
        let example = doc_example(c.doc);
        let d = tmpdir();
        let f = write(&d, "example.nft", &example);
        if c.code.starts_with("E6") {
            let o = ctc(&["compile", &f, "--emit", "ir", "--color", "never"]);
            assert_eq!(code(&o), 1, "{}", c.code);
            assert!(stderr(&o).contains(&format!("[{}]", c.code)), "{}: {}\n{example}", c.code, stderr(&o));
            continue;
        }
        let o = ctc(&["check", "--format", "json", &f]);
        assert!(stdout(&o).contains(&format!("\"code\":\"{}\"", c.code)), "{}: {}\n{example}", c.code, stdout(&o));
    }
}

/// The indented block after `Example:` in a code's documentation.
fn doc_example(doc: &str) -> String {
    let after = doc.split("Example:").nth(1).expect("an example");
    let mut out = String::new();
    for line in after.lines().skip(1) {
        if line.is_empty() {
            if !out.is_empty() {
                out.push('\n');
            }
            continue;
        }
        match line.strip_prefix("    ") {
            Some(l) => {
                out.push_str(l);
                out.push('\n');
            }
            None => break,
        }
    }
    out
}

#[test]
fn includes_resolve_relative_to_the_file() {
    let d = tmpdir();
    std::fs::create_dir_all(d.join("rules.d")).unwrap();
    write(&d, "rules.d/vars.nft", "define ssh_port = 22\n");
    let main = write(
        &d,
        "main.nft",
        "include \"rules.d/*.nft\"\ntable inet filter {\n\tchain input {\n\t\ttype filter hook input priority 0;\n\t\ttcp dport $ssh_port accept\n\t}\n}\n",
    );
    let o = ctc(&["check", &main]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));

    let missing = write(&d, "missing.nft", "include \"nosuch.nft\"\n");
    let o = ctc(&["check", "--format", "json", &missing]);
    assert_eq!(code(&o), 1);
    assert!(stdout(&o).contains("\"E5001\""), "{}", stdout(&o));
}

#[test]
fn hostile_input_does_not_crash() {
    let d = tmpdir();
    let deep = format!("table ip t {{ chain c {{ ip saddr {}1{} }} }}\n", "(".repeat(20_000), ")".repeat(20_000));
    let cases = [
        String::new(),
        "\0\0\0".into(),
        "}}}}".into(),
        "table".into(),
        "\"".into(),
        "include \"/dev/zero\"\n".into(),
        deep,
        "ÿ€💥 table inet 💥 {".into(),
    ];
    for (i, text) in cases.iter().enumerate() {
        let f = write(&d, &format!("h{i}.nft"), text);
        for fmt in ["human", "json", "sarif"] {
            let o = ctc(&["check", "--format", fmt, &f]);
            assert!(matches!(code(&o), 0..=2), "case {i} --format {fmt}: {}", stderr(&o));
        }
        assert!(matches!(code(&ctc(&["fmt", &f])), 0 | 1), "fmt case {i}");
    }
    // Not UTF-8, a directory.
    let bin = d.join("bin.nft");
    std::fs::write(&bin, [0xff, 0xfe, 0x00, 0x80]).unwrap();
    assert_eq!(code(&ctc(&["check", &bin.display().to_string()])), 2);
    assert_eq!(code(&ctc(&["check", &d.display().to_string()])), 2);
}
