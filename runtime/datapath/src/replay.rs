//! `ctc replay`: captures in, verdicts and frames out (DESIGN §3).
//!
//! Frames of every `--in IFACE=PCAP` are merged by time and run through the
//! pipeline one by one; the packet timestamps are the clock. Outputs:
//! - `--verdicts FILE`: one line per frame, tab separated:
//!   `INDEX TIME IIF VERDICT CT-STATE OIF DECIDED-BY`, where TIME is
//!   `SECONDS.MICROS`, OIF is `-` when the frame was not forwarded, and
//!   DECIDED-BY is the deciding rule as `FILE:LINE`, `policy`, or why no
//!   rule decided (`not-ip`, `no-chain`, `no-route`, `ttl-exceeded`,
//!   `conntrack`, `malformed: REASON`); when conntrack found the packet
//!   INVALID and says why, an eighth field gives the reason in the kernel's
//!   log text (`SEQ is over upper bound (over the window of the receiver)`);
//! - `--out IFACE=PCAP`: the frames leaving that interface (forwarded ones,
//!   after NAT, and those the engine made itself, such as reject replies);
//! - log lines of `log` statements, to the log sink.

use crate::capture::{self, CaptureError, Frame, Link, Writer};
use crate::host::{HostError, HostModel};
use crate::pipeline::{FinalVerdict, Pipeline};
use std::collections::HashMap;
use std::fmt;
use std::io::Write;
use std::path::PathBuf;

/// What `ctc replay` was asked to do.
#[derive(Debug, Clone, Default)]
pub struct ReplayOptions {
    /// `--in IFACE=PCAP`.
    pub inputs: Vec<(String, PathBuf)>,
    /// `--iface IFACE=ADDR/LEN[,ADDR/LEN]...`.
    pub ifaces: Vec<String>,
    /// `--route PREFIX=IFACE`.
    pub routes: Vec<String>,
    /// `--out IFACE=PCAP`.
    pub outs: Vec<(String, PathBuf)>,
    /// `--until SECONDS`: keep the clock running this long after the last
    /// frame, so timers fire (expiry, DESTROY events).
    pub until_ns: Option<u64>,
    /// `--expect-events FILE`: expectation events (`conntrack -E expect`
    /// lines with the packet time), `-` for standard output.
    pub expect_events: Option<PathBuf>,
}

#[derive(Debug)]
pub enum ReplayError {
    Usage(String),
    Capture(CaptureError),
    Io(String),
}

impl fmt::Display for ReplayError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReplayError::Usage(m) | ReplayError::Io(m) => f.write_str(m),
            ReplayError::Capture(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for ReplayError {}

impl From<CaptureError> for ReplayError {
    fn from(e: CaptureError) -> Self {
        ReplayError::Capture(e)
    }
}

impl From<HostError> for ReplayError {
    fn from(e: HostError) -> Self {
        ReplayError::Usage(e.0)
    }
}

/// Totals of a replay.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    pub frames: u64,
    pub accepted: u64,
    pub dropped: u64,
    pub queued: u64,
    pub forwarded: u64,
    pub generated: u64,
}

/// Build the host model and read the captures.
pub fn prepare(opts: &ReplayOptions) -> Result<(HostModel, Vec<usize>, Vec<Frame>), ReplayError> {
    if opts.inputs.is_empty() {
        return Err(ReplayError::Usage("replay needs at least one `--in IFACE=PCAP`".into()));
    }
    let mut host = HostModel::default();
    for a in &opts.ifaces {
        host.add_iface(a)?;
    }
    for r in &opts.routes {
        host.add_route(r)?;
    }
    let mut inputs = Vec::new();
    let mut per_input = Vec::new();
    for (i, (iface, path)) in opts.inputs.iter().enumerate() {
        inputs.push(host.iface_or_insert(iface));
        per_input.push(capture::read(path, i)?);
    }
    for (iface, _) in &opts.outs {
        if host.iface(iface).is_none() {
            return Err(ReplayError::Usage(format!(
                "`--out {iface}=...`: no interface `{iface}` (declare it with --in or --iface)"
            )));
        }
    }
    Ok((host, inputs, capture::merge(per_input)))
}

/// A packet time as `SECONDS.MICROS`.
pub(crate) fn time_text(ns: u64) -> String {
    format!("{}.{:06}", ns / 1_000_000_000, (ns % 1_000_000_000) / 1000)
}

fn write_events<E: Write + ?Sized>(out: &mut Option<&mut E>, events: &[ctc_conntrack::Event]) -> std::io::Result<()> {
    if let Some(w) = out.as_deref_mut() {
        for ev in events {
            writeln!(w, "{}{}", ctc_conntrack::format::timestamp_prefix(ev.time_ns), ctc_conntrack::format::event(ev))?;
        }
    }
    Ok(())
}

/// Run the frames through the pipeline, writing verdict lines to `verdicts`,
/// conntrack events to `events` (`conntrack -E -o id` lines with the packet
/// time as `[SECONDS.MICROS]\t`), log lines to `log`, and leaving frames to
/// the `--out` files.
pub fn run<V: Write + ?Sized, E: Write + ?Sized>(
    pipe: &mut Pipeline,
    frames: &[Frame],
    opts: &ReplayOptions,
    mut verdicts: Option<&mut V>,
    mut events: Option<&mut E>,
    log: &mut dyn Write,
) -> Result<Summary, ReplayError> {
    let io = |e: std::io::Error| ReplayError::Io(e.to_string());
    let link = frames.first().map_or(Link::Ethernet, |f| f.link);
    let mut writers: HashMap<usize, Writer> = HashMap::new();
    for (iface, path) in &opts.outs {
        let i = pipe.host.iface(iface).ok_or_else(|| ReplayError::Usage(format!("unknown interface {iface}")))?;
        writers.insert(i, Writer::create(path, link)?);
    }
    pipe.learn_links(frames);
    let mut expect_out: Option<Box<dyn Write>> = match &opts.expect_events {
        None => None,
        Some(p) if p.as_os_str() == "-" => Some(Box::new(std::io::stdout())),
        Some(p) => Some(Box::new(std::io::BufWriter::new(
            std::fs::File::create(p).map_err(|e| ReplayError::Usage(format!("{}: {e}", p.display())))?,
        ))),
    };
    let mut write_expects = |pipe: &mut Pipeline| -> std::io::Result<()> {
        let Some(t) = pipe.ct.as_mut() else { return Ok(()) };
        let evs = t.take_expect_events();
        if let Some(w) = expect_out.as_mut() {
            for ev in &evs {
                writeln!(
                    w,
                    "{}{}",
                    ctc_conntrack::format::timestamp_prefix(ev.time_ns),
                    ctc_conntrack::format::expect_event(ev)
                )?;
            }
        }
        Ok(())
    };
    let mut s = Summary::default();
    // The capture is one batch: each frame's conntrack lookup starts a
    // few frames early (Pipeline::look_ahead).
    let ahead = |i: usize| frames.get(i).map(|f: &Frame| (f.link, &f.data[..]));
    let depth = pipe.begin_ahead();
    for i in 0..depth {
        pipe.look_ahead(ahead(i));
    }
    for (index, frame) in frames.iter().enumerate() {
        pipe.look_ahead(ahead(index + depth));
        let o = pipe.process(frame);
        s.frames += 1;
        match o.verdict {
            FinalVerdict::Accept => s.accepted += 1,
            FinalVerdict::Drop => s.dropped += 1,
            FinalVerdict::Queue(_) => s.queued += 1,
        }
        if let Some(w) = verdicts.as_deref_mut() {
            let iif = pipe.inputs.get(frame.input).map_or("", |&i| pipe.name_of(i));
            let oif = o.oif.map_or("-", |i| pipe.name_of(i));
            write!(
                w,
                "{index}\t{}\t{iif}\t{}\t{}\t{oif}\t{}",
                time_text(frame.time_ns),
                o.verdict.as_str(),
                o.ct_state,
                pipe.reason_text(&o.reason)
            )
            .map_err(io)?;
            match o.invalid_reason {
                Some(r) => writeln!(w, "\t{r}"),
                None => writeln!(w),
            }
            .map_err(io)?;
        }
        for l in &o.logs {
            writeln!(log, "{} {l}", time_text(frame.time_ns)).map_err(io)?;
        }
        write_events(&mut events, &o.events).map_err(io)?;
        write_expects(pipe).map_err(io)?;
        for (iface, bytes) in &o.out {
            if Some(*iface) == o.oif {
                s.forwarded += 1;
            } else {
                s.generated += 1;
            }
            if let Some(w) = writers.get_mut(iface) {
                w.write(frame.time_ns, bytes)?;
            }
        }
    }
    // The clock runs on after the last frame: timers fire.
    if let (Some(last), Some(until)) = (frames.last(), opts.until_ns) {
        let evs = pipe.advance(last.time_ns.saturating_add(until));
        write_events(&mut events, &evs).map_err(io)?;
        write_expects(pipe).map_err(io)?;
    }
    if let Some(mut w) = expect_out {
        w.flush().map_err(io)?;
    }
    Ok(s)
}

/// The time the replay ended at: the last frame, plus `--until`.
pub fn end_time(frames: &[Frame], opts: &ReplayOptions) -> u64 {
    frames.last().map_or(0, |f| f.time_ns.saturating_add(opts.until_ns.unwrap_or(0)))
}
