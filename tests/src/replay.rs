//! Running `ctc replay` from tests: in process through the library (the
//! same calls as `ctc replay` in `runtime/cli/src/main.rs`), and through the
//! real `ctc` binary for end-to-end checks.
//!
//! - [`Replay`]: a ruleset compiled from text (check, lower, verify), a host
//!   model from `--iface`/`--route` strings, frames run with
//!   `ctc_datapath::replay::run`, and the `--counters` listing. Every
//!   replay runs under both engines: the JIT (`pipe`, what `ctc replay`
//!   runs by default) and the interpreter (a twin pipeline on the same
//!   frames); their verdict lines, logs, summaries and counters must be
//!   identical, or the run fails;
//! - [`VerdictLine`]: one `--verdicts` line, parsed strictly (7 fields, 8
//!   with an INVALID reason);
//! - [`ctc_binary`] / [`TempDir`]: the binary and scratch directories.

use ctc_datapath::capture::{Frame, Link};
use ctc_datapath::engine::{Engine, EngineKind};
use ctc_datapath::host::HostModel;
use ctc_datapath::pipeline::Pipeline;
use ctc_datapath::replay::{self, ReplayOptions, Summary};
use ctc_driver::ir::CounterId;
use ctc_driver::{CheckOptions, Checked};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// One line of `ctc replay --verdicts`:
/// `INDEX TIME IIF VERDICT CT-STATE OIF DECIDED-BY [INVALID-REASON]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerdictLine {
    pub index: u64,
    pub time: String,
    pub iif: String,
    pub verdict: String,
    pub ct_state: String,
    pub oif: String,
    pub decided_by: String,
    /// Why conntrack found the packet INVALID (the kernel's log text), when
    /// it says.
    pub invalid_reason: Option<String>,
}

impl VerdictLine {
    /// Parse one line; an error says what is wrong with it.
    pub fn parse(line: &str) -> Result<VerdictLine, String> {
        let f: Vec<&str> = line.split('\t').collect();
        if f.len() != 7 && !(f.len() == 8 && f[4] == "invalid" && !f[7].is_empty()) {
            return Err(format!(
                "{} tab-separated fields instead of 7 (8 with an INVALID reason) in {line:?}",
                f.len()
            ));
        }
        let index = f[0].parse().map_err(|_| format!("index {:?} is not a number in {line:?}", f[0]))?;
        let time_ok = f[1].split_once('.').is_some_and(|(s, us)| {
            !s.is_empty()
                && s.bytes().all(|b| b.is_ascii_digit())
                && us.len() == 6
                && us.bytes().all(|b| b.is_ascii_digit())
        });
        if !time_ok {
            return Err(format!("time {:?} is not SECONDS.MICROS in {line:?}", f[1]));
        }
        let verdict_ok =
            matches!(f[3], "accept" | "drop") || f[3].strip_prefix("queue:").is_some_and(|n| n.parse::<u16>().is_ok());
        if !verdict_ok {
            return Err(format!("verdict {:?} is none of accept, drop, queue:N in {line:?}", f[3]));
        }
        if f[6].is_empty() {
            return Err(format!("empty DECIDED-BY in {line:?}"));
        }
        Ok(VerdictLine {
            index,
            time: f[1].into(),
            iif: f[2].into(),
            verdict: f[3].into(),
            ct_state: f[4].into(),
            oif: f[5].into(),
            decided_by: f[6].into(),
            invalid_reason: f.get(7).map(|r| r.to_string()),
        })
    }

    /// Parse every line of a `--verdicts` output.
    pub fn parse_all(text: &str) -> Result<Vec<VerdictLine>, String> {
        text.lines().map(VerdictLine::parse).collect()
    }
}

type CounterMap = HashMap<(String, String, String, usize), CounterId>;

/// A compiled ruleset on a host model, ready to replay frames.
#[derive(Debug)]
pub struct Replay {
    /// The pipeline under test, on the JIT.
    pub pipe: Pipeline,
    /// The same on the interpreter, fed the same frames.
    pub twin: Pipeline,
    checked: Checked,
    counter_of: CounterMap,
    opts: ReplayOptions,
}

/// Check, lower and verify `text` (named `name`: verdict lines say
/// `NAME:LINE`). The error is the rendered diagnostics.
pub fn compile(name: &str, text: &str) -> Result<(Checked, ctc_driver::ir::VerifiedProgram, CounterMap), String> {
    let checked = ctc_driver::check_source(name, text, &CheckOptions::default());
    if checked.has_errors() {
        return Err(format!("{name} does not check: {:#?}", checked.diagnostics));
    }
    let program = ctc_sema::lower::lower(&checked.program, &checked.sources)
        .map_err(|d| format!("{name} does not lower: {d:#?}"))?;
    let mut counter_of = HashMap::new();
    for c in &program.chains {
        let t = &program.tables[c.table.index()];
        for (ri, r) in c.rules.iter().enumerate() {
            if let Some(id) = r.counter {
                counter_of.insert((t.family.name().to_string(), t.name.clone(), c.name.clone(), ri), id);
            }
        }
    }
    let verified = ctc_driver::ir::verify(program).map_err(|e| format!("{name} does not verify: {e}"))?;
    Ok((checked, verified, counter_of))
}

/// The JIT pipeline and its interpreter twin for one program.
fn pipelines(
    verified: ctc_driver::ir::VerifiedProgram,
    host: HostModel,
    inputs: Vec<usize>,
) -> Result<(Pipeline, Pipeline), String> {
    let tracker = || Some(ctc_conntrack::Tracker::new(ctc_conntrack::Config::default()));
    let jit = Engine::new(EngineKind::Jit, verified.clone()).map_err(|e| e.to_string())?;
    let interp = Engine::new(EngineKind::Interp, verified).map_err(|e| e.to_string())?;
    Ok((
        Pipeline::with_engine(jit, host.clone(), inputs.clone(), tracker()),
        Pipeline::with_engine(interp, host, inputs, tracker()),
    ))
}

impl Replay {
    /// `ifaces` and `routes` as `--iface` and `--route` take them; `inputs`
    /// the interface of each input (frame `input` indexes this list).
    pub fn new(name: &str, text: &str, ifaces: &[&str], routes: &[&str], inputs: &[&str]) -> Result<Replay, String> {
        let (checked, verified, counter_of) = compile(name, text)?;
        let mut host = HostModel::default();
        for i in ifaces {
            host.add_iface(i).map_err(|e| e.to_string())?;
        }
        for r in routes {
            host.add_route(r).map_err(|e| e.to_string())?;
        }
        let inputs = inputs.iter().map(|i| host.iface_or_insert(i)).collect();
        let (pipe, twin) = pipelines(verified, host, inputs)?;
        Ok(Replay { pipe, twin, checked, counter_of, opts: ReplayOptions::default() })
    }

    /// A replay set up from `ReplayOptions` the way `ctc replay` does it
    /// (captures read from disk, merged by time); returns the frames too.
    pub fn from_options(name: &str, text: &str, opts: ReplayOptions) -> Result<(Replay, Vec<Frame>), String> {
        let (checked, verified, counter_of) = compile(name, text)?;
        let (host, inputs, frames) = replay::prepare(&opts).map_err(|e| e.to_string())?;
        let (pipe, twin) = pipelines(verified, host, inputs)?;
        Ok((Replay { pipe, twin, checked, counter_of, opts }, frames))
    }

    /// Run frames; returns the summary and the raw `--verdicts` text.
    pub fn run_raw(&mut self, frames: &[Frame]) -> Result<(Summary, String), String> {
        let mut out: Vec<u8> = Vec::new();
        let mut log: Vec<u8> = Vec::new();
        let s = replay::run(&mut self.pipe, frames, &self.opts, Some(&mut out), None::<&mut Vec<u8>>, &mut log)
            .map_err(|e| e.to_string())?;
        let (mut out2, mut log2) = (Vec::new(), Vec::new());
        let s2 = replay::run(&mut self.twin, frames, &self.opts, Some(&mut out2), None::<&mut Vec<u8>>, &mut log2)
            .map_err(|e| e.to_string())?;
        if out != out2 {
            let (a, b) = (String::from_utf8_lossy(&out), String::from_utf8_lossy(&out2));
            let first = a.lines().zip(b.lines()).find(|(x, y)| x != y);
            return Err(format!("the engines disagree; first differing verdict line (jit, interp): {first:?}"));
        }
        if log != log2 || format!("{s:?}") != format!("{s2:?}") {
            return Err(format!("the engines disagree on logs or summary: jit {s:?}, interp {s2:?}"));
        }
        if self.pipe.state.counters() != self.twin.state.counters() {
            return Err("the engines disagree on counters".into());
        }
        String::from_utf8(out).map(|t| (s, t)).map_err(|e| format!("verdicts are not UTF-8: {e}"))
    }

    /// Run frames and parse the verdict lines.
    pub fn run(&mut self, frames: &[Frame]) -> Vec<VerdictLine> {
        let (_, text) = self.run_raw(frames).unwrap_or_else(|e| panic!("replay failed: {e}"));
        VerdictLine::parse_all(&text).unwrap_or_else(|e| panic!("bad verdict line: {e}"))
    }

    /// Run Ethernet frames given as bytes, all entering on input 0, one
    /// millisecond apart from `start_ns`.
    pub fn run_bytes(&mut self, start_ns: u64, frames: &[Vec<u8>]) -> Vec<VerdictLine> {
        let frames: Vec<Frame> = frames
            .iter()
            .enumerate()
            .map(|(i, d)| Frame::captured(start_ns + i as u64 * 1_000_000, 0, Link::Ethernet, d.clone()))
            .collect();
        self.run(&frames)
    }

    /// The `--counters` listing (the ruleset as `nft list ruleset` prints it).
    pub fn counters(&self) -> String {
        struct Live<'a>(&'a Replay);
        impl ctc_driver::listing::Counters for Live<'_> {
            fn rule_counter(&self, table: usize, chain: &str, rule: usize) -> Option<(u64, u64)> {
                let t = self.0.checked.program.tables.get(table)?;
                let key = (t.family.name().to_string(), t.name.clone(), chain.to_string(), rule);
                self.0.counter_of.get(&key).map(|&id| self.0.pipe.counter(id))
            }
        }
        ctc_driver::listing::ruleset_with_counters(&self.checked, &Live(self))
    }
}

impl Replay {
    /// The counter of the rule written on line `line` of the ruleset
    /// (`None` when no rule with a counter starts there).
    pub fn counter_at_line(&self, line: u32) -> Option<(u64, u64)> {
        let p = self.pipe.vm.program();
        p.chains
            .iter()
            .flat_map(|c| &c.rules)
            .find(|r| r.loc.line == line && r.counter.is_some())
            .and_then(|r| r.counter)
            .map(|id| self.pipe.counter(id))
    }
}

/// The 1-based line of `text` that ends with the comment `# MARKER`
/// (panics when there is not exactly one).
pub fn line_of(text: &str, marker: &str) -> u32 {
    let tag = format!("# {marker}");
    let hits: Vec<usize> =
        text.lines().enumerate().filter(|(_, l)| l.trim_end().ends_with(&tag)).map(|(i, _)| i + 1).collect();
    match hits.as_slice() {
        [one] => *one as u32,
        _ => panic!("marker `{tag}` is on {} lines of the ruleset", hits.len()),
    }
}

/// The `counter packets N bytes M` values of the listing line that
/// contains `needle` (`None` if no line has it or the line has no counter).
pub fn counter_in_listing(listing: &str, needle: &str) -> Option<(u64, u64)> {
    let line = listing.lines().find(|l| l.contains(needle))?;
    let rest = &line[line.find("counter packets ")? + "counter packets ".len()..];
    let mut w = rest.split_whitespace();
    let packets = w.next()?.parse().ok()?;
    (w.next()? == "bytes").then_some(())?;
    let bytes = w.next()?.parse().ok()?;
    Some((packets, bytes))
}

/// The `ctc` binary of this build profile (`target/<profile>/ctc`, beside
/// this test executable's `deps/` folder), built first with `cargo build
/// -p ctc-cli` (a no-op when it is fresh) so that it never lags the
/// library. Panics with the reason when it cannot be had.
pub fn ctc_binary() -> PathBuf {
    static BIN: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    BIN.get_or_init(|| {
        let exe = std::env::current_exe().map_err(|e| format!("current_exe: {e}"))?;
        let profile_dir = exe.parent().and_then(Path::parent).ok_or("no target/<profile> above the test binary")?;
        let bin = profile_dir.join("ctc");
        let release = profile_dir.file_name().is_some_and(|n| n == "release");
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let mut cmd = Command::new(cargo);
        cmd.current_dir(crate::repo_root()).args(["build", "--quiet", "-p", "ctc-cli"]);
        if release {
            cmd.arg("--release");
        }
        if let Some(target) = profile_dir.parent() {
            cmd.env("CARGO_TARGET_DIR", target);
        }
        let status = cmd.status().map_err(|e| format!("running cargo build -p ctc-cli: {e}"))?;
        if !status.success() {
            return Err(format!("cargo build -p ctc-cli failed ({status})"));
        }
        if bin.is_file() { Ok(bin) } else { Err(format!("{} missing after cargo build -p ctc-cli", bin.display())) }
    })
    .clone()
    .unwrap_or_else(|e| panic!("the ctc binary: {e}"))
}

/// A scratch directory under the system temp dir, removed on drop.
#[derive(Debug)]
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("ctc-tests-{tag}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("creating {}: {e}", dir.display()));
        TempDir(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdict_lines_are_parsed_strictly() {
        let l = VerdictLine::parse("3\t1.000002\tin0\tdrop\tuntracked\tout0\tx.nft:7").unwrap();
        assert_eq!((l.index, l.verdict.as_str(), l.decided_by.as_str()), (3, "drop", "x.nft:7"));
        assert!(VerdictLine::parse("3\t1.000002\tin0\tqueue:5\t-\t-\tpolicy").is_ok());
        assert!(VerdictLine::parse("3\t1.000002\tin0\tdrop\tuntracked\tout0").is_err());
        assert!(VerdictLine::parse("x\t1.000002\tin0\tdrop\tuntracked\tout0\tpolicy").is_err());
        assert!(VerdictLine::parse("3\t1.2\tin0\tdrop\tuntracked\tout0\tpolicy").is_err());
        assert!(VerdictLine::parse("3\t1.000002\tin0\treject\tuntracked\tout0\tpolicy").is_err());
        assert!(VerdictLine::parse("3\t1.000002\tin0\tqueue:x\tuntracked\tout0\tpolicy").is_err());
    }

    #[test]
    fn counters_are_read_from_a_listing_line() {
        let l = "table ip t {\n\t\tip saddr 1.2.3.4 counter packets 5 bytes 300 accept\n}";
        assert_eq!(counter_in_listing(l, "1.2.3.4"), Some((5, 300)));
        assert_eq!(counter_in_listing(l, "table"), None);
        assert_eq!(counter_in_listing(l, "nowhere"), None);
    }
}
