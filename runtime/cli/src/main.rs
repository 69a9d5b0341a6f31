//! `ctc`: the command line of the ctc firewall engine (DESIGN §3).
//!
//! Names, flags, exit codes and output formats are a contract that scripts
//! and CI rely on: extend them, do not break them.
//!
//! Exit status: 0 success (warnings allowed unless `--deny warnings`), 1 the
//! input has errors (or denied warnings), 2 usage or I/O error.

use clap::{Args, CommandFactory, Parser, Subcommand, ValueEnum};
use ctc_driver::native::NativeForm;
use ctc_driver::{CheckOptions, Checked};
use ctc_grammar::render::{HumanOptions, SarifRule, render_human, render_json, render_sarif};
use ctc_grammar::{Diagnostic, FileId, SourceMap};
use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

mod lints;

// Output that never panics: `ctc compile ... | head` closes stdout early,
// and `println!` would panic on the broken pipe.
macro_rules! out {
    ($($t:tt)*) => {{ let _ = write!(std::io::stdout().lock(), $($t)*); }};
}
macro_rules! outln {
    ($($t:tt)*) => {{ let _ = writeln!(std::io::stdout().lock(), $($t)*); }};
}
macro_rules! errln {
    ($($t:tt)*) => {{ let _ = writeln!(std::io::stderr().lock(), $($t)*); }};
}

mod bench;
mod run;

/// Exit status: the input has errors (or denied warnings).
const EXIT_INPUT: u8 = 1;
/// Exit status: usage or I/O error, or a command that is not built yet.
const EXIT_USAGE: u8 = 2;

const ABOUT: &str = "Check, lint and run nftables rulesets in userspace";

const LONG_ABOUT: &str = "\
ctc is a stateful firewall engine for Linux gateways. It reads rulesets
written in the nftables language, checks and lints them without a kernel,
and (in later releases) compiles them to native code and runs them against
its own connection tracker, on live packets or replayed pcap files.

Exit status: 0 success (warnings allowed unless --deny warnings), 1 the
input has errors (or denied warnings), 2 usage or I/O error.";

const EXAMPLES: &str = "\
Examples:
  Check a ruleset; diagnostics go to stderr, like a compiler's:
    ctc check examples/home-gateway.nft

  The same in CI, failing on warnings too, one JSON object per diagnostic:
    ctc check --deny warnings --format json /etc/nftables.conf

  Give include directories and values for variables:
    ctc check -I /etc/nftables.d -D wan_if=wan0 -D 'lan_net=192.0.2.0/24' ruleset.nft

  Read the documentation of a diagnostic, by code or name:
    ctc explain E1003
    ctc explain undefined-set

  Print a ruleset in canonical form, like `nft list ruleset`:
    ctc fmt ruleset.nft

  See the checked program ctc builds:
    ctc compile ruleset.nft --emit hir";

const CHECK_HELP: &str = "\
Parse and check rulesets without a kernel: syntax, names (tables, chains,
sets, objects, variables), types and values, protocol context, chain types
and hooks, includes.

A ruleset without errors is then linted: rule anomalies (shadowed,
redundant, correlated, unreachable, contradictory rules), conntrack and NAT
pitfalls, unused declarations, mergeable rules (`ctc explain --list` lists
the W codes). --allow, --warn and --deny take a lint's name or code;
`# ctc: allow(NAME)` on or above a line silences a lint there.

Each FILE is checked on its own, as `nft -f FILE` would read it. Includes
are looked up relative to the including file, then in each -I directory.

Output: with --format human (the default) each diagnostic is printed to
stderr as `FILE:LINE:COL: error[CODE]: message` followed by the source
snippet, and a summary line ends the output. With --format json each
diagnostic is one JSON object on its own line on stdout (fields: file, line,
column, end, severity, code, name, message, help, labels, notes); with
--format sarif one SARIF 2.1.0 log is printed to stdout.

Exit status: 0 no errors (warnings allowed unless --deny warnings), 1 errors
or denied warnings, 2 usage error or a FILE that cannot be read.";

const CHECK_EXAMPLES: &str = "\
Examples:
  ctc check examples/home-gateway.nft
  ctc check --format json ruleset.nft | jq -r .message
  ctc check --format sarif ruleset.nft > ctc.sarif
  ctc check --deny warnings -I rules.d -D wan_if=wan0 main.nft
  ctc check --allow mergeable-rules --deny shadowed-rule ruleset.nft";

#[derive(Debug, Parser)]
#[command(name = "ctc", version, about = ABOUT, long_about = LONG_ABOUT, after_long_help = EXAMPLES)]
#[command(propagate_version = true, arg_required_else_help = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check rulesets and report diagnostics
    #[command(long_about = CHECK_HELP, after_long_help = CHECK_EXAMPLES)]
    Check(CheckArgs),
    /// Print a ruleset in canonical form (like `nft list ruleset`)
    #[command(
        long_about = "\
Parse FILE and print it to stdout in canonical form: the layout of
`nft list ruleset` (tabs, one item per line, the policy on the hook line).
Comments (`# ...`) are not kept. Use `-` to read stdin.

Exit status: 0 printed, 1 syntax error (the diagnostic goes to stderr),
2 FILE cannot be read.",
        after_long_help = "\
Examples:
  ctc fmt ruleset.nft > ruleset.fmt.nft
  ctc fmt - < ruleset.nft"
    )]
    Fmt(FmtArgs),
    /// Compile a ruleset and print an intermediate form
    #[command(
        long_about = "\
Check FILE and print one of its intermediate forms to stdout:
  ast   the syntax tree, as parsed (includes are not expanded)
  hir   the checked program: tables, chains, sets, typed rules
  ir    the verified IR (the text form of `ctc_ir::text`)
  clif  Cranelift IR of each chain, as the JIT compiles it
  asm   machine code of each chain for this host

Exit status: 0 printed, 1 the input has errors, 2 usage error or a form
that is not built yet.",
        after_long_help = "\
Examples:
  ctc compile examples/home-gateway.nft --emit hir
  ctc compile ruleset.nft --emit ast | less"
    )]
    Compile(CompileArgs),
    /// Explain a diagnostic code (E1003) or name (undefined-set)
    #[command(
        long_about = "\
Print the documentation of a diagnostic: what it means, an example that
triggers it, and how to fix it. CODE is a code such as E1003 or its name
such as undefined-set. `--list` prints every code with a one-line summary.",
        after_long_help = "\
Examples:
  ctc explain E1003
  ctc explain undefined-set
  ctc explain --list"
    )]
    Explain(ExplainArgs),
    /// Replay pcap files through the ruleset, as a gateway would see them
    #[command(after_long_help = "\
Example:
  ctc replay --ruleset examples/home-gateway.nft \\
      --iface lan0=192.0.2.1/24 --iface wan0=198.51.100.2/24 \\
      --route 0.0.0.0/0=wan0 --in lan0=lan.pcap --in wan0=wan.pcap \\
      --out wan0=out.pcap --verdicts verdicts.txt --counters

Frames from every --in file are merged by time; the packet timestamps are
the clock. Each frame goes through prerouting, the routing decision on the
host model (--iface addresses and their subnets, --route), input or
forward, and postrouting, like a Linux gateway.

--verdicts writes one tab-separated line per frame:
  INDEX  TIME  IIF  VERDICT  CT-STATE  OIF  DECIDED-BY
DECIDED-BY is the rule as FILE:LINE, `policy`, or why no rule decided
(not-ip, no-chain, no-route, ttl-exceeded, malformed: REASON,
conntrack: refused at confirmation, nat: no translation possible, helper:
REASON: the connection's helper dropped it). Use `-` to
write to standard output. --counters prints the ruleset like `nft list
ruleset`, with the counters' values. Log lines of `log` statements go to
standard error.

Connection tracking follows Linux nf_conntrack; --sysctl takes the
kernel's names without prefix (tcp_loose=0, tcp_be_liberal=1, acct=1,
udp_timeout=60, ...). --events writes `conntrack -E -o id` lines prefixed
with the packet time; --table prints `conntrack -L` at the end (after
--until); --stats prints `conntrack -S`; --expect-events writes
`conntrack -E expect` lines (expectations of the ftp and tftp helpers,
assigned with `ct helper set`).")]
    Replay(ReplayArgs),
    /// Run the firewall on this host's live packets, from NFQUEUE
    #[command(after_long_help = "\
Examples:
  ctc run --ruleset /etc/ctc/ruleset.nft --queue 0
  ctc run --ruleset gw.nft --queue 0:1 --control /run/ctc.sock
  ctc status; ctc ct list; ctc reload --ruleset gw.nft

ctc takes over the host's stateful filtering: it turns the kernel's
connection tracking off for the host's traffic and queues every packet to
itself at raw priority (iptables/ip6tables raw PREROUTING and OUTPUT rules,
chains CTC_PREROUTING and CTC_OUTPUT; an nft table inet ctc_hook where the
kernel has nft's queue), runs the ruleset with its own connection tracker,
NAT and helpers on the host model read over rtnetlink (and followed as it
changes), and gives each packet its verdict, with the packet rewritten by
NAT. GSO packets are taken whole.

With NAT in the ruleset, addresses that change after routing are written
after it: a lone new address by the kernel, through an nft map that ctc
fills (table inet ctc_snat, marks 0x6e62xxxx and 0x6e63xxxx), anything
else by ctc at a second stage, the packet queued again at POSTROUTING or
INPUT (mangle chains CTC_POSTROUTING and CTC_INPUT, marks 0x6e61xxxx); a
priority set for a forwarded IPv4 packet after ip_forward gave it one
from its TOS is given at that second stage too. All rules are removed on
exit, SIGINT or SIGTERM. Loopback traffic is not queued.

The chains see the mark and priority a packet came with, and the owner of
the socket of the host's own packets (`meta skuid`); marks and priorities
they set go back to the kernel with the packet; `log` lines go to standard
error in the kernel's format; rulesets with `queue` statements are
refused. Without --fail-open, packets are dropped while ctc is not running
or cannot keep up (the drops show in `ctc status`). One worker thread
serves each queue of N:M; they share one connection tracker. The control
socket (--control, default /run/ctc.sock, root only) serves `ctc status`,
`ctc ct`, `ctc reload`; SIGHUP reloads too: the new ruleset compiles off
the packet path, the connections stay, and a broken one changes nothing.
Needs root and the iptables package.

Not built yet (exits 2 saying so): --xdp.")]
    Run(RunArgs),
    /// Reload the ruleset of a running `ctc run` without losing state
    #[command(after_long_help = "\
The running ctc compiles the ruleset off its packet path and swaps it in
between packets: connections, NAT bindings and expectations are kept, and
the counters of rules whose text did not change carry over. When the new
ruleset has errors, nothing changes and its diagnostics are printed here
(exit 1). SIGHUP to the running ctc reloads its file the same way.")]
    Reload(ReloadArgs),
    /// Inspect the connection tracker of a running `ctc run`
    #[command(subcommand)]
    Ct(CtCommand),
    /// The state of a running `ctc run`: ruleset, uptime, packets, queue drops
    Status(StatusArgs),
    /// Benchmarks
    #[command(subcommand)]
    Bench(BenchCommand),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    /// Text with source snippets, on stderr
    Human,
    /// One JSON object per diagnostic and line, on stdout
    Json,
    /// A SARIF 2.1.0 log, on stdout
    Sarif,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Color {
    /// Colour when stderr is a terminal and NO_COLOR is not set
    Auto,
    Always,
    Never,
}

#[derive(Debug, Args)]
struct SourceArgs {
    /// Search DIR for included files (after the including file's directory)
    #[arg(short = 'I', long = "include", value_name = "DIR")]
    include_dirs: Vec<PathBuf>,
    /// Define a variable, as `define NAME = VALUE` before the first line
    #[arg(short = 'D', long = "define", value_name = "NAME=VALUE", value_parser = define_arg)]
    defines: Vec<(String, String)>,
}

#[derive(Debug, Args)]
struct CheckArgs {
    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
    /// Fail (exit 1) on warnings too (`warnings`), or make one lint an error (its name or code)
    #[arg(long, value_name = "warnings|LINT", value_parser = lints::deny_arg)]
    deny: Vec<lints::Deny>,
    /// Turn a lint off (its name or code, e.g. `mergeable-rules`)
    #[arg(long, value_name = "LINT", value_parser = lints::lint_arg)]
    allow: Vec<&'static str>,
    /// Turn a lint on as a warning (e.g. `related-not-restricted`, off by default)
    #[arg(long, value_name = "LINT", value_parser = lints::lint_arg)]
    warn: Vec<&'static str>,
    /// Colour in human output
    #[arg(long, value_enum, default_value_t = Color::Auto)]
    color: Color,
    #[command(flatten)]
    source: SourceArgs,
    /// Ruleset files to check
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
}

#[derive(Debug, Args)]
struct FmtArgs {
    /// Ruleset file (`-` for stdin)
    #[arg(value_name = "FILE")]
    file: PathBuf,
    /// Colour in diagnostics
    #[arg(long, value_enum, default_value_t = Color::Auto)]
    color: Color,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Emit {
    Ast,
    Hir,
    Ir,
    Clif,
    Asm,
}

#[derive(Debug, Args)]
struct CompileArgs {
    /// Ruleset file
    #[arg(value_name = "FILE")]
    file: PathBuf,
    /// The form to print
    #[arg(long, value_enum, value_name = "FORM")]
    emit: Emit,
    /// Colour in diagnostics
    #[arg(long, value_enum, default_value_t = Color::Auto)]
    color: Color,
    #[command(flatten)]
    source: SourceArgs,
}

#[derive(Debug, Args)]
struct ExplainArgs {
    /// A code (E1003) or name (undefined-set)
    #[arg(value_name = "CODE", required_unless_present = "list")]
    code: Option<String>,
    /// List every code with its name and summary
    #[arg(long, conflicts_with = "code")]
    list: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Engine {
    /// Native code compiled with Cranelift
    Jit,
    /// The reference interpreter
    Interp,
}

impl Engine {
    fn kind(self) -> ctc_datapath::engine::EngineKind {
        match self {
            Engine::Jit => ctc_datapath::engine::EngineKind::Jit,
            Engine::Interp => ctc_datapath::engine::EngineKind::Interp,
        }
    }
}

#[derive(Debug, Args)]
struct ReplayArgs {
    /// The ruleset to apply
    #[arg(long, value_name = "FILE")]
    ruleset: PathBuf,
    /// Frames received on IFACE, from a pcap or pcapng file (repeatable)
    #[arg(long = "in", value_name = "IFACE=PCAP", required = true, value_parser = key_value)]
    inputs: Vec<(String, String)>,
    /// Addresses of IFACE in the host model (repeatable)
    #[arg(long = "iface", value_name = "IFACE=ADDR/LEN[,ADDR/LEN]...", value_parser = key_value)]
    ifaces: Vec<(String, String)>,
    /// A route of the host model (repeatable)
    #[arg(long = "route", value_name = "PREFIX=IFACE", value_parser = key_value)]
    routes: Vec<(String, String)>,
    /// Which engine runs the rules: the Cranelift JIT, or the reference interpreter
    #[arg(long, value_enum, default_value_t = Engine::Jit)]
    engine: Engine,
    /// A conntrack sysctl without prefix, e.g. tcp_loose=0 (repeatable)
    #[arg(long = "sysctl", value_name = "NAME=VALUE", value_parser = key_value)]
    sysctls: Vec<(String, String)>,
    /// Keep the clock running this long after the last frame
    #[arg(long, value_name = "SECONDS")]
    until: Option<f64>,
    /// Write the frames leaving IFACE to a pcap file (repeatable)
    #[arg(long = "out", value_name = "IFACE=PCAP", value_parser = key_value)]
    outputs: Vec<(String, String)>,
    /// Write conntrack events (`conntrack -E -o id` format)
    #[arg(long, value_name = "FILE")]
    events: Option<PathBuf>,
    /// Write expectation events (`conntrack -E expect` format)
    #[arg(long, value_name = "FILE")]
    expect_events: Option<PathBuf>,
    /// Write one line per frame with its verdict
    #[arg(long, value_name = "FILE")]
    verdicts: Option<PathBuf>,
    /// Print the conntrack table at the end (`conntrack -L`)
    #[arg(long)]
    table: bool,
    /// Print the ruleset with counters at the end
    #[arg(long)]
    counters: bool,
    /// Print conntrack statistics at the end (`conntrack -S`)
    #[arg(long)]
    stats: bool,
}

#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("source").required(true).args(["queue", "xdp"]))]
struct RunArgs {
    /// The ruleset to apply
    #[arg(long, value_name = "FILE")]
    ruleset: PathBuf,
    /// NFQUEUE number or range
    #[arg(long, value_name = "N[:M]")]
    queue: Option<String>,
    /// AF_XDP on these interfaces
    #[arg(long, value_name = "IFACE,IFACE")]
    xdp: Option<String>,
    /// Control socket for `ctc reload` and `ctc ct`
    #[arg(long, value_name = "PATH")]
    control: Option<PathBuf>,
    /// Accept packets when ctc cannot keep up, instead of dropping them
    #[arg(long)]
    fail_open: bool,
    /// Worker threads
    #[arg(long, value_name = "N")]
    workers: Option<u32>,
    /// Packets the kernel holds for each queue before it drops more (or,
    /// with --fail-open, accepts them unseen); the drops show in `ctc status`
    #[arg(long, value_name = "N", default_value_t = 8192, value_parser = clap::value_parser!(u32).range(1..))]
    queue_len: u32,
    /// Which engine runs the rules
    #[arg(long, value_enum, default_value_t = Engine::Jit)]
    engine: Engine,
    /// A conntrack sysctl without prefix, e.g. tcp_loose=0 (repeatable)
    #[arg(long = "sysctl", value_name = "NAME=VALUE", value_parser = key_value)]
    sysctls: Vec<(String, String)>,
    /// Write one line per packet with its verdict (`-`: standard output)
    #[arg(long, value_name = "FILE")]
    verdicts: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct ReloadArgs {
    /// Control socket of the running `ctc run`
    #[arg(long, value_name = "PATH")]
    control: Option<PathBuf>,
    /// The new ruleset (default: the file it was started with)
    #[arg(long, value_name = "FILE")]
    ruleset: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct StatusArgs {
    /// Control socket of the running `ctc run`
    #[arg(long, value_name = "PATH")]
    control: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum CtOutput {
    Extended,
}

#[derive(Debug, Args)]
struct CtArgs {
    /// Control socket of the running `ctc run`
    #[arg(long, value_name = "PATH")]
    control: Option<PathBuf>,
    /// Output format, as conntrack-tools' `-o`
    #[arg(short = 'o', value_enum, value_name = "FORMAT")]
    output: Option<CtOutput>,
}

#[derive(Debug, Subcommand)]
enum CtCommand {
    /// List connections (`conntrack -L`)
    List(CtArgs),
    /// List expectations (`conntrack -L expect`)
    Expect(CtArgs),
    /// Follow events (`conntrack -E`)
    Events(CtArgs),
    /// Statistics (`conntrack -S`)
    Stats(CtArgs),
    /// Remove every connection (`conntrack -F`)
    Flush(CtArgs),
}

#[derive(Debug, Subcommand)]
enum BenchCommand {
    /// Measure packet classification speed
    #[command(
        long_about = "\
Run packets through the base chains of the forward hook (the input hook
when there is no forward chain) without conntrack, for at least a second,
and report the speed. Packets come from a pcap/pcapng trace, or are
synthetic: --synthetic N makes N packets aimed at the rules of the hook's
chains, spread evenly over every depth, one in ten aimed at no rule.

The last line of the output is, for scripts:
  engine=E rules=R packets=P ns_per_packet=X mpps=Y compile_ms=Z
(P: packets classified in the timed passes; Z: building the engine).

Exit status: 0 measured, 1 the ruleset has errors, 2 usage or I/O error.",
        after_long_help = "\
Examples:
  cargo run --release -p ctc-benches --bin gen-classbench -- \\
      ../shared/corpus/classbench/fw1_10k > /tmp/fw1.nft
  ctc bench classify --ruleset /tmp/fw1.nft --synthetic 100000
  ctc bench classify --ruleset /tmp/fw1.nft --synthetic 100000 --engine interp
  ctc bench classify --ruleset ruleset.nft --trace capture.pcap"
    )]
    Classify(BenchArgs),
}

#[derive(Debug, Args)]
struct BenchArgs {
    /// The ruleset to measure
    #[arg(long, value_name = "FILE")]
    ruleset: PathBuf,
    /// Packets from a pcap file
    #[arg(long, value_name = "FILE", conflicts_with = "synthetic")]
    trace: Option<PathBuf>,
    /// N synthetic packets
    #[arg(long, value_name = "N")]
    synthetic: Option<u64>,
    /// Which engine runs the rules
    #[arg(long, value_enum, default_value_t = Engine::Jit)]
    engine: Engine,
}

fn define_arg(s: &str) -> Result<(String, String), String> {
    ctc_driver::parse_define(s)?;
    let (n, v) = s.split_once('=').unwrap_or((s, ""));
    Ok((n.trim().to_string(), v.trim().to_string()))
}

fn key_value(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.is_empty() && !v.is_empty() => Ok((k.to_string(), v.to_string())),
        _ => Err(format!("`{s}` is not KEY=VALUE")),
    }
}

fn main() -> ExitCode {
    // Deeply nested input must not overflow the main thread's small stack:
    // run on a thread with a generous one.
    let worker = std::thread::Builder::new().name("ctc".into()).stack_size(256 << 20).spawn(real_main);
    match worker.map(|h| h.join()) {
        Ok(Ok(code)) => ExitCode::from(code),
        // The panic message was printed already; keep Rust's status for it.
        Ok(Err(_)) => ExitCode::from(101),
        Err(e) => {
            errln!("error: cannot start: {e}");
            ExitCode::from(EXIT_USAGE)
        }
    }
}

fn real_main() -> u8 {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            // Help and version exit 0, usage errors 2 (clap's convention).
            let _ = e.print();
            return if e.use_stderr() { EXIT_USAGE } else { 0 };
        }
    };
    match cli.command {
        Command::Check(a) => check(&a),
        Command::Fmt(a) => fmt(&a),
        Command::Compile(a) => compile(&a),
        Command::Explain(a) => explain(&a),
        Command::Replay(a) => replay(&a),
        Command::Run(a) => run::run(&a),
        Command::Reload(a) => {
            let request = match &a.ruleset {
                // The daemon reads the file: give it an absolute path.
                Some(p) => match std::path::absolute(p) {
                    Ok(abs) => format!("reload {}", abs.display()),
                    Err(e) => {
                        errln!("error: {}: {e}", p.display());
                        return EXIT_USAGE;
                    }
                },
                None => "reload".to_string(),
            };
            run::client(&a.control, &request, std::time::Duration::from_secs(120))
        }
        Command::Status(a) => run::client(&a.control, "status", std::time::Duration::from_secs(10)),
        Command::Ct(c) => {
            let t = std::time::Duration::from_secs(10);
            match c {
                CtCommand::List(a) => {
                    let req = if a.output.is_some() { "list extended" } else { "list" };
                    run::client(&a.control, req, t)
                }
                CtCommand::Expect(a) => run::client(&a.control, "expect", t),
                CtCommand::Events(a) => run::follow(&a.control, "events"),
                CtCommand::Stats(a) => run::client(&a.control, "stats", t),
                CtCommand::Flush(a) => run::client(&a.control, "flush", t),
            }
        }
        Command::Bench(BenchCommand::Classify(a)) => {
            bench::classify(&a.ruleset, a.trace.as_deref(), a.synthetic, a.engine.kind())
        }
    }
}

fn replay(a: &ReplayArgs) -> u8 {
    use ctc_datapath::pipeline::Pipeline;
    use ctc_datapath::replay::{self, ReplayError, ReplayOptions};
    let mut ct_config = ctc_conntrack::Config::default();
    for (name, value) in &a.sysctls {
        if let Err(e) = ct_config.set_sysctl(name, value) {
            errln!("error: --sysctl {name}={value}: {e}");
            return EXIT_USAGE;
        }
    }
    let until_ns = match a.until {
        Some(u) if u.is_finite() && (0.0..=1e9).contains(&u) => Some((u * 1e9) as u64),
        Some(u) => {
            errln!("error: --until {u}: expected a number of seconds between 0 and 1e9");
            return EXIT_USAGE;
        }
        None => None,
    };
    let (checked, program) = match runtime_program(&a.ruleset, "nothing replayed", use_color(Color::Auto)) {
        Ok(p) => p,
        Err(text) => {
            errln!("{text}");
            return EXIT_INPUT;
        }
    };
    let counter_of = counter_slots(&program);
    let verified = match ctc_driver::ir::verify(program) {
        Ok(v) => v,
        Err(e) => {
            errln!("error[E6002]: internal error: the compiled program does not verify: {e}");
            return EXIT_INPUT;
        }
    };
    let opts = ReplayOptions {
        inputs: a.inputs.iter().map(|(i, p)| (i.clone(), PathBuf::from(p))).collect(),
        ifaces: a.ifaces.iter().map(|(i, v)| format!("{i}={v}")).collect(),
        routes: a.routes.iter().map(|(p, i)| format!("{p}={i}")).collect(),
        outs: a.outputs.iter().map(|(i, p)| (i.clone(), PathBuf::from(p))).collect(),
        until_ns,
        expect_events: a.expect_events.clone(),
    };
    let (host, inputs, frames) = match replay::prepare(&opts) {
        Ok(x) => x,
        Err(e) => {
            errln!("error: {e}");
            return EXIT_USAGE;
        }
    };
    let engine = match ctc_datapath::engine::Engine::new(a.engine.kind(), verified) {
        Ok(e) => e,
        Err(e) => {
            errln!("error: {e}");
            return EXIT_INPUT;
        }
    };
    let mut pipe = Pipeline::with_engine(engine, host, inputs, Some(ctc_conntrack::Tracker::new(ct_config)));
    let mut verdict_file: Option<Box<dyn std::io::Write>> = match &a.verdicts {
        None => None,
        Some(p) if p.as_os_str() == "-" => Some(Box::new(std::io::stdout().lock())),
        Some(p) => match std::fs::File::create(p) {
            Ok(f) => Some(Box::new(std::io::BufWriter::new(f))),
            Err(e) => {
                errln!("error: {}: {e}", p.display());
                return EXIT_USAGE;
            }
        },
    };
    let mut event_file: Option<Box<dyn std::io::Write>> = match &a.events {
        None => None,
        Some(p) if p.as_os_str() == "-" => Some(Box::new(std::io::stdout().lock())),
        Some(p) => match std::fs::File::create(p) {
            Ok(f) => Some(Box::new(std::io::BufWriter::new(f))),
            Err(e) => {
                errln!("error: {}: {e}", p.display());
                return EXIT_USAGE;
            }
        },
    };
    let mut log = std::io::stderr();
    let summary =
        replay::run(&mut pipe, &frames, &opts, verdict_file.as_deref_mut(), event_file.as_deref_mut(), &mut log);
    for (what, f) in [("verdicts", verdict_file), ("events", event_file)] {
        if let Some(mut f) = f
            && let Err(e) = f.flush()
        {
            errln!("error: writing {what}: {e}");
            return EXIT_USAGE;
        }
    }
    let summary = match summary {
        Ok(s) => s,
        Err(ReplayError::Usage(m)) => {
            errln!("error: {m}");
            return EXIT_USAGE;
        }
        Err(e) => {
            errln!("error: {e}");
            return EXIT_INPUT;
        }
    };
    if a.counters {
        out!("{}", counters_listing(&checked, &counter_of, &pipe));
    }
    if let Some(t) = &pipe.ct {
        let end = replay::end_time(&frames, &opts);
        if a.table {
            // As `conntrack -L`: entries on stdout, the count on stderr.
            let mut n = 0;
            for e in t.entries() {
                out!("{}\n", ctc_conntrack::format::entry(&e, end));
                n += 1;
            }
            errln!("{}", ctc_conntrack::format::summary(n));
        }
        if a.stats {
            out!("{}\n", ctc_conntrack::format::stats(t.stats()));
        }
    }
    errln!(
        "replay: {} frames: {} accepted, {} dropped, {} queued; {} forwarded, {} generated",
        summary.frames,
        summary.accepted,
        summary.dropped,
        summary.queued,
        summary.forwarded,
        summary.generated
    );
    0
}

/// Check and lower a ruleset for the runtime (replay, run). `Err`: the
/// diagnostics as `ctc check` prints them, then `error: ...; {nothing}`.
fn runtime_program(path: &Path, nothing: &str, color: bool) -> Result<(Checked, ctc_driver::ir::Program), String> {
    let checked = ctc_driver::check_file(path, &CheckOptions::default());
    if checked.has_errors() {
        return Err(format!(
            "{}error: {} in the ruleset; {nothing}",
            diagnostics_text(&checked, color),
            plural(checked.errors(), "error")
        ));
    }
    match ctc_sema::lower::lower(&checked.program, &checked.sources) {
        Ok(p) => Ok((checked, p)),
        Err(diags) => {
            let failed = Checked { diagnostics: diags, ..checked };
            Err(format!("{}error: the ruleset cannot run here; {nothing}", diagnostics_text(&failed, color)))
        }
    }
}

/// A rule's place: (family, table, chain, index).
type RuleKey = (String, String, String, usize);

/// Which rule carries which counter slot.
fn counter_slots(program: &ctc_driver::ir::Program) -> std::collections::HashMap<RuleKey, ctc_driver::ir::CounterId> {
    let mut counter_of = std::collections::HashMap::new();
    for c in &program.chains {
        let t = &program.tables[c.table.index()];
        for (ri, r) in c.rules.iter().enumerate() {
            if let Some(id) = r.counter {
                counter_of.insert((t.family.name().to_string(), t.name.clone(), c.name.clone(), ri), id);
            }
        }
    }
    counter_of
}

/// The ruleset with its counters' values, as `nft list ruleset` prints it.
fn counters_listing(
    checked: &Checked,
    counter_of: &std::collections::HashMap<RuleKey, ctc_driver::ir::CounterId>,
    pipe: &ctc_datapath::pipeline::Pipeline,
) -> String {
    struct Live<'a> {
        checked: &'a Checked,
        counter_of: &'a std::collections::HashMap<RuleKey, ctc_driver::ir::CounterId>,
        pipe: &'a ctc_datapath::pipeline::Pipeline,
    }
    impl ctc_driver::listing::Counters for Live<'_> {
        fn rule_counter(&self, table: usize, chain: &str, rule: usize) -> Option<(u64, u64)> {
            let t = self.checked.program.tables.get(table)?;
            let key = (t.family.name().to_string(), t.name.clone(), chain.to_string(), rule);
            self.counter_of.get(&key).map(|&id| self.pipe.counter(id))
        }
    }
    ctc_driver::listing::ruleset_with_counters(checked, &Live { checked, counter_of, pipe })
}

fn not_built(what: &str, why: &str) -> u8 {
    errln!("error: `{what}` is not built yet: {why}");
    errln!("  = help: `ctc check`, `ctc fmt`, `ctc compile --emit ast|hir|ir` and `ctc explain` work today");
    EXIT_USAGE
}

fn use_color(c: Color) -> bool {
    match c {
        Color::Always => true,
        Color::Never => false,
        Color::Auto => std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
    }
}

fn check_options(s: &SourceArgs) -> Result<CheckOptions, u8> {
    for d in &s.include_dirs {
        if !d.is_dir() {
            errln!("error: include directory `{}` does not exist or is not a directory", d.display());
            return Err(EXIT_USAGE);
        }
    }
    Ok(CheckOptions { include_dirs: s.include_dirs.clone(), defines: s.defines.clone(), ..CheckOptions::default() })
}

/// Read a file given on the command line (`-` is stdin); report and return
/// `None` if it cannot be read.
fn read_input(path: &Path) -> Option<(String, String)> {
    if path.as_os_str() == "-" {
        let mut text = String::new();
        let limit = ctc_driver::MAX_FILE_BYTES;
        return match std::io::stdin().take(limit + 1).read_to_string(&mut text) {
            Ok(n) if n as u64 <= limit => Some(("<stdin>".into(), text)),
            Ok(_) => {
                errln!("error: stdin is larger than {} MiB; this is not a ruleset", limit >> 20);
                None
            }
            Err(e) => {
                errln!("error: cannot read stdin: {e}");
                None
            }
        };
    }
    match ctc_driver::read_source(path) {
        Ok(text) => Some((path.display().to_string(), text)),
        Err(reason) => {
            errln!("error: cannot read `{}`: {reason}", path.display());
            None
        }
    }
}

/// The lint or diagnostic name of a code, for JSON and SARIF.
fn code_name(code: &str) -> Option<&'static str> {
    lints::code_name(code)
}

/// The diagnostics as `ctc check` prints them.
fn diagnostics_text(checked: &Checked, color: bool) -> String {
    let mut s = String::new();
    for d in &checked.diagnostics {
        // A blank line after each diagnostic's snippet, as rustc does.
        s.push_str(&render_human(&checked.sources, d, HumanOptions { color }));
        s.push('\n');
    }
    s
}

fn print_human(checked: &Checked, color: bool) {
    let _ = write!(std::io::stderr().lock(), "{}", diagnostics_text(checked, color));
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 { format!("{n} {word}") } else { format!("{n} {word}s") }
}

fn check(a: &CheckArgs) -> u8 {
    let mut opts = match check_options(&a.source) {
        Ok(o) => o,
        Err(code) => return code,
    };
    opts.lints = lints::config(&a.allow, &a.warn, &a.deny);
    let color = use_color(a.color);
    let deny_warnings = a.deny.contains(&lints::Deny::Warnings);
    let mut io_failed = false;
    let mut results: Vec<Checked> = Vec::new();
    for path in &a.files {
        let Some((name, text)) = read_input(path) else {
            io_failed = true;
            continue;
        };
        let checked = ctc_driver::check_source(&name, &text, &opts);
        match a.format {
            Format::Human => print_human(&checked, color),
            Format::Json => {
                let mut out = std::io::stdout().lock();
                for d in &checked.diagnostics {
                    let _ = writeln!(out, "{}", render_json(&checked.sources, d, code_name(d.code)));
                }
            }
            Format::Sarif => {}
        }
        results.push(checked);
    }
    if a.format == Format::Sarif {
        let (map, diags) = merge(&results);
        let diags: Vec<(Diagnostic, Option<String>)> =
            diags.into_iter().map(|d| (d.clone(), code_name(d.code).map(String::from))).collect();
        let rules: Vec<SarifRule> = lints::entries()
            .into_iter()
            .map(|c| SarifRule { code: c.code.into(), name: c.name.into(), description: c.summary.into() })
            .collect();
        out!("{}", render_sarif(&map, &diags, &rules, env!("CARGO_PKG_VERSION")));
    }
    let errors: usize = results.iter().map(Checked::errors).sum();
    let warnings: usize = results.iter().map(Checked::warnings).sum();
    let failed = errors > 0 || (deny_warnings && warnings > 0);
    if a.format == Format::Human {
        let files = format!("({} checked)", plural(results.len(), "file"));
        if errors > 0 {
            errln!("error: {}, {} {files}", plural(errors, "error"), plural(warnings, "warning"));
        } else if warnings > 0 && deny_warnings {
            errln!("error: {} denied by --deny warnings {files}", plural(warnings, "warning"));
        } else if warnings > 0 {
            errln!("warning: {} {files}", plural(warnings, "warning"));
        } else if !results.is_empty() {
            errln!("ok: no problems found {files}");
        }
    }
    if io_failed {
        EXIT_USAGE
    } else if failed {
        EXIT_INPUT
    } else {
        0
    }
}

/// One source map for the diagnostics of several checks (SARIF is one log).
fn merge(results: &[Checked]) -> (SourceMap, Vec<Diagnostic>) {
    let mut map = SourceMap::new();
    let mut diags = Vec::new();
    for c in results {
        let base = map.len() as u32;
        for (_, f) in c.sources.files() {
            map.add(f.path.clone(), f.text.clone());
        }
        for d in &c.diagnostics {
            let mut d = d.clone();
            for l in &mut d.labels {
                l.span.file = FileId(l.span.file.0 + base);
            }
            diags.push(d);
        }
    }
    (map, diags)
}

fn fmt(a: &FmtArgs) -> u8 {
    let Some((name, text)) = read_input(&a.file) else {
        return EXIT_USAGE;
    };
    match ctc_driver::format_source(&name, &text) {
        Ok(out) => {
            out!("{out}");
            0
        }
        Err(checked) => {
            print_human(&checked, use_color(a.color));
            EXIT_INPUT
        }
    }
}

fn compile(a: &CompileArgs) -> u8 {
    let opts = match check_options(&a.source) {
        Ok(o) => o,
        Err(code) => return code,
    };
    let color = use_color(a.color);
    let Some((name, text)) = read_input(&a.file) else {
        return EXIT_USAGE;
    };
    if a.emit == Emit::Ast {
        let mut sources = SourceMap::new();
        let file = sources.add(name, text.clone());
        return match ctc_grammar::parse_script(file, &text) {
            Ok(script) => {
                outln!("{script:#?}");
                0
            }
            Err(d) => {
                let _ = write!(std::io::stderr(), "{}", render_human(&sources, &d, HumanOptions { color }));
                EXIT_INPUT
            }
        };
    }
    if matches!(a.emit, Emit::Ir | Emit::Clif | Emit::Asm) {
        return match ctc_driver::compile_source(&name, &text, &opts) {
            Ok(program) if a.emit == Emit::Ir => {
                out!("{}", ctc_driver::ir::text::program(&program));
                0
            }
            Ok(program) => {
                let form = if a.emit == Emit::Clif { NativeForm::Clif } else { NativeForm::Asm };
                match ctc_driver::native::native_listing(program, form) {
                    Ok(text) => {
                        out!("{text}");
                        0
                    }
                    Err(e) => {
                        errln!("error: {e}");
                        EXIT_INPUT
                    }
                }
            }
            Err(checked) => {
                print_human(&checked, color);
                errln!("error: {}; nothing emitted", plural(checked.errors(), "error"));
                EXIT_INPUT
            }
        };
    }
    let checked = ctc_driver::check_source(&name, &text, &opts);
    print_human(&checked, color);
    if checked.has_errors() {
        errln!("error: {}; nothing emitted", plural(checked.errors(), "error"));
        return EXIT_INPUT;
    }
    outln!("{:#?}", checked.program);
    0
}

fn explain(a: &ExplainArgs) -> u8 {
    let codes = lints::entries();
    if a.list {
        let mut out = std::io::stdout().lock();
        for c in &codes {
            let _ = writeln!(out, "{}  {:<30} {}", c.code, c.name, c.summary);
        }
        return 0;
    }
    let Some(key) = a.code.as_deref() else {
        let _ = Cli::command().find_subcommand_mut("explain").map(|c| c.print_help());
        return EXIT_USAGE;
    };
    match lints::lookup(key) {
        Some(c) => {
            outln!("{} ({}): {}\n\n{}", c.code, c.name, c.summary, c.text.trim_end());
            if let Some((category, level)) = c.lint {
                outln!(
                    "\nLint: category {category}, {} by default; `--allow {}` turns it off, `--deny {}` makes it an error, `# ctc: allow({})` on or above a line silences it there.",
                    level.name(),
                    c.name,
                    c.name,
                    c.name
                );
            }
            0
        }
        None => {
            errln!("error: no diagnostic code or name `{key}`");
            let k = key.trim().to_ascii_lowercase();
            // `E10xx` for `E1099`; names that contain the word or are contained in it.
            let prefix: String = k.chars().take(3).collect();
            let code_like = prefix.len() == 3 && (prefix.starts_with('e') || prefix.starts_with('w'));
            let close: Vec<String> = codes
                .iter()
                .filter(|c| {
                    !k.is_empty()
                        && ((code_like && c.code.to_ascii_lowercase().starts_with(&prefix))
                            || c.name.contains(k.as_str())
                            || k.contains(c.name))
                })
                .take(6)
                .map(|c| format!("{} ({})", c.code, c.name))
                .collect();
            if !close.is_empty() {
                errln!("  = note: similar: {}", close.join(", "));
            }
            errln!("  = help: `ctc explain --list` lists every code");
            EXIT_USAGE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cli_definition_is_valid() {
        Cli::command().debug_assert();
    }
}
