//! The anomaly lints (`shadowed-rule`, `redundant-rule`, `correlated-rules`,
//! `unreachable-rule`, `contradictory-match`) together, on the 10k-rule
//! ClassBench rulesets of `../shared/corpus/classbench` (one forward chain
//! of 9,379-9,774 rules each, and one of exactly 10,000 made of two of
//! them): the match-space analysis of the chain and the
//! diagnostics, after the ruleset is checked (not timed). One thread.
//!
//! `cargo bench -p ctc-benches --bench lint` (release profile).

use ctc_benches::{classbench, classbench_dir};
use ctc_driver::{CheckOptions, check_source};
use ctc_sema::lint::{LINTS, Level, LintConfig, Usage, run};
use std::hint::black_box;
use std::time::{Duration, Instant};

const RUNS: usize = 7;
const ANOMALIES: [&str; 5] =
    ["shadowed-rule", "redundant-rule", "correlated-rules", "unreachable-rule", "contradictory-match"];

fn only_anomalies() -> LintConfig {
    let mut c = LintConfig::default();
    for l in LINTS {
        c.overrides.push((l.name, if ANOMALIES.contains(&l.name) { Level::Warn } else { Level::Allow }));
    }
    c
}

/// A ClassBench line that matches every packet.
fn catch_all(line: &str) -> bool {
    line.split_whitespace().eq([
        "@0.0.0.0/0",
        "0.0.0.0/0",
        "0",
        ":",
        "65535",
        "0",
        ":",
        "65535",
        "0x00/0x00",
        "0x0000/0x0000",
    ])
}

fn main() {
    let quick = !std::env::args().any(|a| a == "--bench");
    let Some(dir) = classbench_dir() else {
        println!("skipping: ../shared/corpus/classbench not found");
        return;
    };
    // The four 10k seeds hold 9,379-9,774 rules each; the last case is
    // exactly 10,000: acl1_10k (without its catch-all) followed by the
    // first rules of fw1_10k.
    for seed in ["fw1_10k", "fw2_10k", "acl1_10k", "ipc1_10k", "acl1_10k+fw1_10k"] {
        let Ok(parts) = seed.split('+').map(|p| std::fs::read_to_string(dir.join(p))).collect::<Result<Vec<_>, _>>()
        else {
            println!("skipping {seed}: not found");
            continue;
        };
        // Each seed ends with a catch-all rule: keep only the last part's,
        // so that every one of the 10,000 rules is reachable.
        let last = parts.len() - 1;
        let input: String = parts
            .iter()
            .enumerate()
            .flat_map(|(k, p)| p.lines().filter(move |l| k == last || !catch_all(l)))
            .flat_map(|l| [l, "\n"])
            .collect();
        let limit = seed.contains('+').then_some(10_000);
        let (text, rules) = classbench::ruleset(&input, limit).unwrap_or_else(|e| panic!("{seed}: {e}"));
        let mut none = LintConfig::default();
        none.overrides.extend(LINTS.iter().map(|l| (l.name, Level::Allow)));
        let checked = check_source(seed, &text, &CheckOptions { lints: none, ..CheckOptions::default() });
        assert!(!checked.has_errors(), "{seed} checks clean");
        let usage = Usage::default();
        let config = only_anomalies();
        let lint = || run(&checked.program, &usage, &checked.sources, &config);
        let found = lint();
        let count = |code: &str| found.iter().filter(|d| d.code == code).count();
        let summary = format!(
            "shadowed={} redundant={} correlated={} unreachable={} contradictory={}",
            count("W1001"),
            count("W1002"),
            count("W1003"),
            count("W1004"),
            count("W1005")
        );
        if quick {
            println!("anomaly lints {seed}: rules={rules} {summary} (quick run; use `cargo bench` to time)");
            continue;
        }
        let mut times: Vec<Duration> = (0..RUNS)
            .map(|_| {
                let t = Instant::now();
                black_box(lint());
                t.elapsed()
            })
            .collect();
        times.sort();
        println!(
            "anomaly lints {seed}: rules={rules} median_ms={:.1} min_ms={:.1} {summary}",
            times[RUNS / 2].as_secs_f64() * 1e3,
            times[0].as_secs_f64() * 1e3
        );
    }
}
