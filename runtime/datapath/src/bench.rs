//! Support for `ctc bench classify`: packets for the chains (frames whose
//! context is built as the pipeline builds it, no conntrack), synthetic
//! traffic that reaches every depth of a ruleset, and the timed loop.

use crate::capture::{Frame, Link};
use crate::engine::Engine;
use ctc_ir::abi::{Actions, PacketCtx};
use ctc_ir::{Base, Hook, MetaKey};
use ctc_jit::classify::{Field, Load, witness};
use ctc_vm::{Decider, HookVerdict, NoHost, State};
use ctc_wire::ParseOptions;
use std::time::{Duration, Instant};

/// One packet: its frame. The timed passes build its context from the
/// frame each time, as `ctc replay` and `ctc run` do for every packet.
#[derive(Debug, Clone)]
pub struct BenchPacket {
    pub data: Vec<u8>,
    pub link: Link,
    pub time_ns: u64,
}

impl BenchPacket {
    /// The context the chains see (`None`: not IPv4/IPv6): the frame
    /// parsed, the context built as the pipeline builds it, the
    /// benchmark's interfaces.
    #[inline(always)]
    pub fn context(&self) -> Option<PacketCtx> {
        let opts = ParseOptions { verify_ipv4_checksum: false };
        // What the pipeline's context is built from (`packet_ctx`), without
        // the parts of the parsed frame only conntrack reads.
        // The header fields computed on each path of the scan apart (see
        // `with_ip_headers_of_frame`).
        let fields = |h: &ctc_wire::IpHeaders| crate::pipeline::HeaderFields::of(h, self.data.len());
        let d = match self.link {
            Link::Ethernet => ctc_wire::with_ip_headers_of_frame(&self.data, &opts, fields),
            Link::RawIp => ctc_wire::with_ip_headers_of_ip(&self.data, &opts, fields),
        }?;
        // The benchmark's interfaces, in the one literal that builds the
        // context (no copy of it to set them after).
        Some(PacketCtx {
            iif: IIF,
            oif: OIF,
            iiftype: 1,
            oiftype: 1,
            iifname: IIFNAME,
            oifname: OIFNAME,
            ..crate::pipeline::ctx_of_fields(d, self.time_ns)
        })
    }
}

/// The interfaces benchmark packets come in and go out on (forwarded).
const IIF: u32 = 2;
const OIF: u32 = 3;
const IIFNAME: [u8; 16] = name16("in0");
const OIFNAME: [u8; 16] = name16("out0");

const fn name16(s: &str) -> [u8; 16] {
    let mut n = [0u8; 16];
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        n[i] = b[i];
        i += 1;
    }
    n
}

/// A captured frame as the chains see it (`None`: not IPv4/IPv6).
pub fn packet_of(frame: &Frame) -> Option<BenchPacket> {
    let p = BenchPacket { data: frame.data.clone(), link: frame.link, time_ns: frame.time_ns };
    p.context().is_some().then_some(p)
}

/// The hook `bench classify` measures: forward when the program has a
/// forward base chain, else input.
pub fn bench_hook(engine: &Engine) -> Hook {
    if engine.program().hook_chains(Hook::Forward).is_empty() { Hook::Input } else { Hook::Forward }
}

/// An Ethernet + IPv4 + TCP/UDP frame with the fields of a rule's witness
/// (see [`witness`]) written in; other fields keep neutral values.
fn synth_frame(fields: &[(Field, Vec<u8>)], seed: u32) -> BenchPacket {
    const NH: usize = 14;
    const TH: usize = NH + 20;
    let mut proto = 6u8;
    for (f, v) in fields.iter().filter(|(f, _)| f.mask.is_none()) {
        match f.load {
            Load::Meta { key: MetaKey::L4Proto, .. } => proto = v[0],
            Load::Payload { base: Base::Network, offset: 9, len: 1 } => proto = v[0],
            _ => {}
        }
    }
    let l4 = if proto == 6 { 20 } else { 8 };
    let mut d = vec![0u8; TH + l4 + 16];
    d[12..14].copy_from_slice(&[0x08, 0x00]);
    let total = (d.len() - NH) as u16;
    d[NH] = 0x45;
    d[NH + 2..NH + 4].copy_from_slice(&total.to_be_bytes());
    d[NH + 8] = 64;
    d[NH + 9] = proto;
    // Neutral addresses and ports, varied by the seed.
    d[NH + 12..NH + 16].copy_from_slice(&[198, 18, (seed >> 8) as u8, seed as u8]);
    d[NH + 16..NH + 20].copy_from_slice(&[198, 19, (seed >> 16) as u8, (seed >> 4) as u8]);
    d[TH..TH + 2].copy_from_slice(&(1024 + (seed % 50_000) as u16).to_be_bytes());
    d[TH + 2..TH + 4].copy_from_slice(&(seed.wrapping_mul(7) as u16).to_be_bytes());
    if proto == 6 {
        d[TH + 12] = 0x50;
    }
    if proto == 17 {
        // The UDP length (a zero one is malformed: no transport header).
        d[TH + 4..TH + 6].copy_from_slice(&((l4 + 16) as u16).to_be_bytes());
    }
    for (f, v) in fields {
        if let (Load::Payload { base, offset, .. }, None) = (f.load, f.mask) {
            let at = match base {
                Base::Link => 0,
                Base::Network => NH,
                Base::Transport => TH,
                Base::Inner => TH + l4,
            } + offset as usize;
            if at + v.len() <= d.len() {
                d[at..at + v.len()].copy_from_slice(v);
            }
        }
    }
    BenchPacket { data: d, link: Link::Ethernet, time_ns: 0 }
}

/// `n` packets: nine in ten aimed at the rules of the hook's base chains,
/// spread evenly over every depth, one in ten neutral (they mostly reach
/// the policy or a final catch-all rule), in random order.
pub fn synthetic(engine: &Engine, n: usize) -> Vec<BenchPacket> {
    let p = engine.program();
    let hook = bench_hook(engine);
    let mut targets = Vec::new();
    for c in p.hook_chains(hook) {
        for r in &p.chains[c.index()].rules {
            if let Some(w) = witness(&r.ops, &p.sets) {
                targets.push(w);
            }
        }
    }
    let mut x: u32 = 0x2545_f491;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        x
    };
    let aimed = n - n / 10;
    let seeds: Vec<u32> = (0..n).map(|_| next()).collect();
    // Random order (Fisher-Yates): consecutive packets do not hit
    // neighbouring rules, which would flatter caches and branch predictors.
    let mut order: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        order.swap(i, next() as usize % (i + 1));
    }
    // The frames are made in that order, so they lie in memory in the
    // order they are classified, as a capture replayed or a receive ring
    // holds them (made first and shuffled after, each packet's bytes were
    // a random access of their own: 150-200 ns per packet on a loaded
    // machine, none of it the engine's).
    order
        .into_iter()
        .map(|i| {
            if targets.is_empty() || i >= aimed {
                synth_frame(&[], seeds[i])
            } else {
                // Evenly over the depths, whether n is above or below the
                // number of rules.
                synth_frame(&targets[i * targets.len() / aimed], seeds[i])
            }
        })
        .filter(|p| p.context().is_some())
        .collect()
}

/// What the packets met.
#[derive(Debug, Clone, Copy, Default)]
pub struct Tally {
    pub accepted: u64,
    pub dropped: u64,
    pub queued: u64,
    /// Decided by a base chain's policy (or no chain).
    pub by_policy: u64,
}

/// Run every packet once through the hook's chains; the verdict tally.
pub fn pass(engine: &Engine, state: &mut State, hook: Hook, packets: &mut [BenchPacket]) -> Tally {
    let mut t = Tally::default();
    for pk in packets.iter_mut() {
        let Some(ctx) = pk.context() else { continue };
        let mut acts = Actions::default();
        let r = engine.run_hook(state, &NoHost, hook, &mut pk.data, &ctx, &mut acts);
        match r.verdict {
            HookVerdict::Accept => t.accepted += 1,
            HookVerdict::Drop => t.dropped += 1,
            HookVerdict::Queue { .. } => t.queued += 1,
        }
        if !matches!(r.by, Decider::Rule { .. }) {
            t.by_policy += 1;
        }
    }
    t
}

/// Passes over the packets until at least `min_time` went by (at least
/// one): packets classified, time taken, the first pass's tally.
pub fn timed(engine: &Engine, hook: Hook, packets: &mut [BenchPacket], min_time: Duration) -> (u64, Duration, Tally) {
    let mut state = engine.new_state();
    // One untimed pass: caches warm, the tally of one pass.
    let tally = pass(engine, &mut state, hook, packets);
    let start = Instant::now();
    let mut n = 0u64;
    loop {
        pass(engine, &mut state, hook, packets);
        n += packets.len() as u64;
        if start.elapsed() >= min_time || packets.is_empty() {
            break;
        }
    }
    (n, start.elapsed(), tally)
}
