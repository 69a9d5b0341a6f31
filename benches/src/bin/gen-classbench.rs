//! Write the nft ruleset for a ClassBench filter file to stdout.
//!
//! `gen-classbench FILTERS [--limit N]`, e.g.
//! `cargo run -p ctc-benches --bin gen-classbench -- ../shared/corpus/classbench/fw1_10k > /tmp/fw1.nft`.

use ctc_benches::classbench;
use std::io::Write;
use std::process::ExitCode;

fn usage() -> ExitCode {
    eprintln!("usage: gen-classbench FILTERS [--limit N]");
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut input = None;
    let mut limit = None;
    let mut i = 0;
    while i < args.len() {
        match args[i].as_str() {
            "--limit" => {
                let Some(n) = args.get(i + 1).and_then(|n| n.parse().ok()) else { return usage() };
                limit = Some(n);
                i += 1;
            }
            "-h" | "--help" => return usage(),
            a if input.is_none() && !a.starts_with('-') => input = Some(a.to_string()),
            _ => return usage(),
        }
        i += 1;
    }
    let Some(input) = input else { return usage() };
    let text = match std::fs::read_to_string(&input) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("gen-classbench: {input}: {e}");
            return ExitCode::from(2);
        }
    };
    match classbench::ruleset(&text, limit) {
        Ok((ruleset, n)) => {
            if std::io::stdout().write_all(ruleset.as_bytes()).is_err() {
                return ExitCode::from(2);
            }
            eprintln!("gen-classbench: {n} rules from {input}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("gen-classbench: {input}: {e}");
            ExitCode::from(1)
        }
    }
}
