//! `ctc bench classify`: packets through the chains of the input or forward
//! hook, without conntrack, timed; the last line of the output is the
//! machine-readable summary of DESIGN §3.

use crate::{EXIT_INPUT, EXIT_USAGE, print_human, use_color};
use ctc_datapath::bench::{self, BenchPacket};
use ctc_datapath::engine::{Engine, EngineKind};
use ctc_driver::CheckOptions;
use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

/// How long the timed passes run at least.
const MIN_TIME: Duration = Duration::from_secs(1);
/// Most synthetic packets (a bound on memory, whatever N says).
const MAX_SYNTHETIC: u64 = 10_000_000;

pub(crate) fn classify(ruleset: &Path, trace: Option<&Path>, synthetic: Option<u64>, kind: EngineKind) -> u8 {
    if trace.is_none() && synthetic.is_none() {
        errln!("error: `ctc bench classify` needs packets: --trace FILE or --synthetic N");
        return EXIT_USAGE;
    }
    if synthetic.is_some_and(|n| n == 0 || n > MAX_SYNTHETIC) {
        errln!("error: --synthetic N: N must be between 1 and {MAX_SYNTHETIC}");
        return EXIT_USAGE;
    }
    let program = match ctc_driver::compile_file(ruleset, &CheckOptions::default()) {
        Ok(p) => p,
        Err(checked) => {
            print_human(&checked, use_color(crate::Color::Auto));
            errln!("error: the ruleset has errors; nothing measured");
            return if checked.has_errors() { EXIT_INPUT } else { EXIT_USAGE };
        }
    };
    let rules: usize = program.chains.iter().map(|c| c.rules.len()).sum();
    let start = Instant::now();
    let engine = match Engine::new(kind, program) {
        Ok(e) => e,
        Err(e) => {
            errln!("error: {e}");
            return EXIT_INPUT;
        }
    };
    let compile_ms = start.elapsed().as_secs_f64() * 1e3;
    let hook = bench::bench_hook(&engine);
    let mut packets: Vec<BenchPacket> = match (trace, synthetic) {
        (Some(path), _) => match ctc_datapath::capture::read(path, 0) {
            Ok(frames) => frames.iter().filter_map(bench::packet_of).collect(),
            Err(e) => {
                errln!("error: {e}");
                return EXIT_USAGE;
            }
        },
        (None, Some(n)) => bench::synthetic(&engine, n as usize),
        (None, None) => unreachable!("checked above"),
    };
    if packets.is_empty() {
        errln!(
            "error: no IPv4 or IPv6 packet to classify in {}",
            trace.map_or("the input".into(), |p| p.display().to_string())
        );
        return EXIT_USAGE;
    }
    let source = if trace.is_some() { "from the trace" } else { "synthetic" };
    outln!("ruleset {}: {rules} rules; hook {}; engine {}", ruleset.display(), hook.name(), kind.name());
    if let Engine::Jit(j) = &engine {
        let cls = j.classifiers();
        let covered: usize = cls.iter().map(|c| c.len()).sum();
        let mem: usize = cls.iter().map(|c| c.memory()).sum();
        outln!("jit: {} classifier(s) covering {covered} rules, {} KiB of tables", cls.len(), mem / 1024);
        for c in cls {
            outln!("jit: classifier of {} rules: {}", c.len(), c.structure());
        }
    }
    let (n, took, tally) = bench::timed(&engine, hook, &mut packets, MIN_TIME);
    outln!(
        "{} distinct packets {source}; per pass: {} accepted, {} dropped, {} queued, {} decided by a policy",
        packets.len(),
        tally.accepted,
        tally.dropped,
        tally.queued,
        tally.by_policy
    );
    let ns = took.as_secs_f64() * 1e9 / n as f64;
    outln!(
        "engine={} rules={rules} packets={n} ns_per_packet={ns:.1} mpps={:.3} compile_ms={compile_ms:.1}",
        kind.name(),
        1e3 / ns
    );
    0
}
