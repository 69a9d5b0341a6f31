//! `ctc_driver::check_source` on large ClassBench rulesets (fw1_1k and
//! fw1_10k from `../shared/corpus/classbench`): parse, resolve, type-check
//! one forward chain of N rules; the lints are off (`--bench lint` times
//! them). Prints the median and the fastest of the timed runs, after
//! warm-up runs.
//!
//! `cargo bench -p ctc-benches` (release profile).

use ctc_benches::{classbench, classbench_dir};
use ctc_driver::{CheckOptions, check_source};
use std::hint::black_box;
use std::time::{Duration, Instant};

/// Timed runs per ruleset (the median is reported).
const RUNS: usize = 21;
const WARMUP: usize = 3;

/// The checker without the lints (timed on their own by `--bench lint`).
fn check_only() -> CheckOptions {
    let mut o = CheckOptions::default();
    o.lints.overrides.extend(ctc_sema::lint::LINTS.iter().map(|l| (l.name, ctc_sema::lint::Level::Allow)));
    o
}

fn measure(name: &str, text: &str, rules: usize) {
    let opts = check_only();
    let checked = check_source(name, text, &opts);
    let status = if checked.has_errors() {
        format!(
            "{} error(s) (first: {})",
            checked.errors(),
            checked.diagnostics.iter().find(|d| d.is_error()).map_or("", |d| d.message.as_str())
        )
    } else {
        "clean".to_string()
    };
    for _ in 0..WARMUP {
        black_box(check_source(name, black_box(text), &opts));
    }
    let mut times: Vec<Duration> = (0..RUNS)
        .map(|_| {
            let t = Instant::now();
            black_box(check_source(name, black_box(text), &opts));
            t.elapsed()
        })
        .collect();
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let median = times[RUNS / 2];
    println!(
        "check_source {name}: rules={rules} bytes={} median_ms={:.2} min_ms={:.2} us_per_rule={:.2} ({status})",
        text.len(),
        ms(median),
        ms(times[0]),
        median.as_secs_f64() * 1e6 / rules.max(1) as f64,
    );
}

fn main() {
    // `cargo test --benches` runs bench binaries with `--bench` absent: keep
    // that quick by checking once per ruleset.
    let quick = !std::env::args().any(|a| a == "--bench");
    let Some(dir) = classbench_dir() else {
        println!("skipping: ../shared/corpus/classbench not found");
        return;
    };
    for seed in ["fw1_1k", "fw1_10k"] {
        let input = match std::fs::read_to_string(dir.join(seed)) {
            Ok(t) => t,
            Err(e) => {
                println!("skipping {seed}: {e}");
                continue;
            }
        };
        let (text, rules) = match classbench::ruleset(&input, None) {
            Ok(r) => r,
            Err(e) => panic!("{seed}: {e}"),
        };
        if quick {
            let c = check_source(seed, &text, &check_only());
            println!("check_source {seed}: rules={rules} errors={} (quick run; use `cargo bench` to time)", c.errors());
        } else {
            measure(seed, &text, rules);
        }
    }
}
