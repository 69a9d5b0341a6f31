//! The live datapath (issue #7): ctc as the firewall of a running host.
//!
//! The kernel's own connection tracking is switched off for the host's
//! traffic and every packet is queued to ctc where it enters the IP layer:
//! at PREROUTING (from an interface) and at OUTPUT (sent by the host), each
//! at raw priority, by the rules of [`HookRules`]:
//!
//! ```text
//! iptables -t raw -N CTC_PREROUTING
//! iptables -t raw -A CTC_PREROUTING -i lo -j RETURN
//! iptables -t raw -A CTC_PREROUTING -j CT --notrack
//! iptables -t raw -A CTC_PREROUTING -j NFQUEUE --queue-num N
//! iptables -t raw -I PREROUTING 1 -j CTC_PREROUTING
//! ```
//!
//! (the same for OUTPUT, where packets ctc sends itself — rejects — carry
//! [`OWN_MARK`] and pass; the same with ip6tables), and a second stage for
//! packets whose source ctc rewrote (see [`crate::stage2`]), queued again
//! at POSTROUTING and INPUT by their mark:
//!
//! ```text
//! iptables -t mangle -A CTC_POSTROUTING -m mark --mark 0x6e610000/0xffff0000 -j NFQUEUE --queue-num N
//! ```
//!
//! Where the kernel has
//! nft's own `queue` statement, an nft table `inet ctc_hook` with the same
//! rules is used instead; this kernel has not (PLATFORM.md), and the
//! xtables target serves. ctc then runs the whole pipeline on each packet — prerouting,
//! the routing decision on the host model read over rtnetlink, input or
//! forward, postrouting, NAT, conntrack with confirmation — and gives the
//! kernel its verdict, with the packet rewritten when NAT or a helper
//! changed it; what the chains generate (rejects) it sends on a raw
//! socket. Loopback traffic is not queued.
//!
//! Queues carry GSO packets whole (up to 64 KiB: the kernel segments them
//! on their way out), so the tracker sees what the kernel's conntrack
//! sees; their checksums follow the skb's state (NFQUEUE's skb info):
//! conntrack skips what the kernel would not verify, and rewritten
//! packets get the checksum form the kernel expects back
//! ([`crate::stage2::finish_checksum`]).
//!
//! The forward path of the pipeline lowers the TTL before the forward hook
//! (the chains see it lowered, as in the kernel); the kernel lowers it
//! again when it forwards the reinjected packet, so the runner hands it
//! back raised by one.

use crate::capture::{Frame, Link};
use crate::nfqueue::{Packet, Queue, QueueOptions, SKB_CSUM_NOTVERIFIED, SKB_CSUMNOTREADY, SKB_GSO, Verdict};
use crate::pipeline::{FinalVerdict, Pipeline, Sent};
use crate::replay::time_text;
use crate::stage2::{self, FastNat, STAGE_MARK, STAGE_MASK, Side, Stage2};
use ctc_wire::L4Checksum;
use rustix::net::{AddressFamily, SendFlags, SocketType, ipproto};
use std::io;
use std::io::Write as _;
use std::net::{SocketAddrV4, SocketAddrV6};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

/// The mark of packets ctc sends itself (`ctc/` in ASCII): the OUTPUT
/// hook rule lets them pass unqueued.
pub const OWN_MARK: u32 = 0x6374_632f;

/// The netfilter hooks, as NFQUEUE reports them.
const HOOK_PREROUTING: u8 = 0;
const HOOK_LOCAL_IN: u8 = 1;
const HOOK_LOCAL_OUT: u8 = 3;
const HOOK_POSTROUTING: u8 = 4;

/// The most packets a worker takes from its queue before it settles them
/// (one verdict message for the unchanged accepted ones).
const BATCH: usize = 64;

/// Queues `first..=last` (`--queue N[:M]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueSpec {
    pub first: u16,
    pub last: u16,
}

impl QueueSpec {
    /// `N` or `N:M` (M ≥ N).
    pub fn parse(s: &str) -> Result<QueueSpec, String> {
        let num = |t: &str| t.parse::<u16>().map_err(|_| format!("`{t}` is not a queue number (0-65535)"));
        match s.split_once(':') {
            None => num(s).map(|n| QueueSpec { first: n, last: n }),
            Some((a, b)) => {
                let (first, last) = (num(a)?, num(b)?);
                if last < first {
                    return Err(format!("`{s}`: the last queue is below the first"));
                }
                Ok(QueueSpec { first, last })
            }
        }
    }

    /// The queue numbers in nft's syntax (`N` or `N-M`).
    fn nft_numbers(&self) -> String {
        if self.first == self.last { format!("{}", self.first) } else { format!("{}-{}", self.first, self.last) }
    }

    /// The NFQUEUE target's arguments.
    fn target(&self, fail_open: bool) -> Vec<String> {
        let mut v = vec!["-j".to_string(), "NFQUEUE".into()];
        if self.first == self.last {
            v.extend(["--queue-num".into(), self.first.to_string()]);
        } else {
            v.extend(["--queue-balance".into(), format!("{}:{}", self.first, self.last)]);
        }
        if fail_open {
            v.push("--queue-bypass".into());
        }
        v
    }
}

/// The raw-priority rules that hand the host's traffic to ctc: nft's own
/// `queue` statement where the kernel has it (a table `inet ctc_hook`),
/// else the xtables NFQUEUE target (chains CTC_PREROUTING and CTC_OUTPUT of
/// the raw tables); removed when dropped (also after an error half way
/// through installing them).
#[derive(Debug)]
pub struct HookRules {
    queues: QueueSpec,
    installed: Vec<XtChain>,
    nft_table: bool,
    /// The second stage's rules are installed (see [`HookRules::install_nat`]).
    nat: bool,
    /// The fast path's nft table ([`stage2::fast_table`]) is installed.
    fast_table: bool,
}

/// An xtables chain of the hook rules: tool, table, the kernel's chain
/// (the hook), and ctc's own chain it jumps to.
type XtChain = (&'static str, &'static str, &'static str, &'static str);

/// The nft table of the hook rules.
const NFT_TABLE: &str = "ctc_hook";
/// The nft table of the kernel's address writes (see [`crate::stage2`]).
const FAST_TABLE: &str = "ctc_snat";
/// The nft table of the second stage's queue rules (with nft's `queue`).
const STAGE2_TABLE: &str = "ctc_stage2";

fn nft(script: &str) -> Result<(), String> {
    use std::io::Write as _;
    let mut child = Command::new("nft")
        .args(["-f", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| format!("running nft: {e}"))?;
    child.stdin.take().map(|mut i| i.write_all(script.as_bytes()));
    let out = child.wait_with_output().map_err(|e| format!("nft: {e}"))?;
    if out.status.success() { Ok(()) } else { Err(String::from_utf8_lossy(&out.stderr).trim().to_string()) }
}

fn xt(tool: &str, args: &[&str]) -> Result<(), String> {
    let out = Command::new(tool)
        .args(["-w", "5"])
        .args(args)
        .output()
        .map_err(|e| format!("running {tool}: {e} (ctc run needs the iptables package)"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!("{tool} {}: {}", args.join(" "), String::from_utf8_lossy(&out.stderr).trim()))
    }
}

/// The rule of the kernel's chain `hook` that jumps to ctc's `chain`, for
/// `op` (`-I`, `-D`): every packet in the raw table, only packets with a
/// second-stage mark in the mangle table (the others pass one rule).
fn jump<'a>(table: &'a str, op: &'a str, hook: &'a str, chain: &'a str) -> Vec<&'a str> {
    const STAGED: &str = "0x6e610000/0xffff0000";
    debug_assert_eq!(STAGED, format!("0x{STAGE_MARK:08x}/0x{STAGE_MASK:08x}"));
    let mut v = vec!["-t", table, op, hook];
    if table == "mangle" {
        v.extend(["-m", "mark", "--mark", STAGED]);
    }
    v.extend(["-j", chain]);
    v
}

impl HookRules {
    /// Install the rules for IPv4 and IPv6 (see the module doc): with nft
    /// when the kernel has nft's `queue` (CONFIG_NFT_QUEUE), else with
    /// iptables and ip6tables. The second stage's come with
    /// [`HookRules::install_nat`], for rulesets with NAT.
    pub fn install(q: QueueSpec, fail_open: bool) -> Result<HookRules, String> {
        let queue = q.nft_numbers();
        let bypass = if fail_open { " bypass" } else { "" };
        let script = format!(
            "table inet {NFT_TABLE} {{\n\
             \tchain prerouting {{\n\t\ttype filter hook prerouting priority -300; policy accept;\n\
             \t\tiifname \"lo\" accept\n\t\tnotrack\n\t\tqueue num {queue}{bypass}\n\t}}\n\
             \tchain output {{\n\t\ttype filter hook output priority -300; policy accept;\n\
             \t\toifname \"lo\" accept\n\t\tnotrack\n\t\tmeta mark 0x{OWN_MARK:x} accept\n\
             \t\tqueue num {queue}{bypass}\n\t}}\n}}\n"
        );
        // Tables and chains left by a ctc that was killed: start afresh.
        for t in [NFT_TABLE, FAST_TABLE, STAGE2_TABLE] {
            let _ = nft(&format!("delete table inet {t}\n"));
        }
        for (tool, (table, hook, chain)) in Self::tools().flat_map(|t| Self::CHAINS.map(|c| (t, c))) {
            let _ = xt(tool, &jump(table, "-D", hook, chain));
            let _ = xt(tool, &["-t", table, "-F", chain]);
            let _ = xt(tool, &["-t", table, "-X", chain]);
        }
        let mut rules = HookRules { queues: q, installed: Vec::new(), nft_table: false, nat: false, fast_table: false };
        if nft(&script).is_ok() {
            rules.nft_table = true;
            return Ok(rules);
        }
        let target = q.target(fail_open);
        let target: Vec<&str> = target.iter().map(String::as_str).collect();
        let own = format!("0x{OWN_MARK:x}");
        for tool in Self::tools() {
            for (table, hook, chain) in &Self::CHAINS[..2] {
                rules.new_chain(tool, table, hook, chain)?;
                let dev = if *hook == "PREROUTING" { "-i" } else { "-o" };
                xt(tool, &["-t", table, "-A", chain, dev, "lo", "-j", "RETURN"])?;
                xt(tool, &["-t", table, "-A", chain, "-j", "CT", "--notrack"])?;
                if *hook == "OUTPUT" {
                    xt(tool, &["-t", table, "-A", chain, "-m", "mark", "--mark", &own, "-j", "RETURN"])?;
                }
                let mut queue_rule = vec!["-t", table, "-A", chain];
                queue_rule.extend(&target);
                xt(tool, &queue_rule)?;
                rules.jump_to(tool, table, hook, chain)?;
            }
        }
        Ok(rules)
    }

    /// ctc's xtables chains: (table, hook, chain); the raw ones take every
    /// packet, the mangle ones the second stage.
    const CHAINS: [(&'static str, &'static str, &'static str); 4] = [
        ("raw", "PREROUTING", "CTC_PREROUTING"),
        ("raw", "OUTPUT", "CTC_OUTPUT"),
        ("mangle", "POSTROUTING", "CTC_POSTROUTING"),
        ("mangle", "INPUT", "CTC_INPUT"),
    ];

    fn tools() -> impl Iterator<Item = &'static str> {
        ["iptables", "ip6tables"].into_iter()
    }

    fn new_chain(
        &mut self,
        tool: &'static str,
        table: &'static str,
        hook: &'static str,
        chain: &'static str,
    ) -> Result<(), String> {
        xt(tool, &["-t", table, "-N", chain])?;
        self.installed.push((tool, table, hook, chain));
        Ok(())
    }

    fn jump_to(&self, tool: &str, table: &str, hook: &str, chain: &str) -> Result<(), String> {
        let mut add = jump(table, "-I", hook, chain);
        add.insert(4, "1");
        xt(tool, &add)
    }

    /// The rules that source and destination NAT need (see
    /// [`crate::stage2`]): the second stage's queue at POSTROUTING and
    /// INPUT (never bypassed: without ctc, a packet still carrying the
    /// source it had before source NAT must not leave), and the nft table
    /// where the kernel writes lone new addresses (left out without
    /// nf_tables: then every rewrite takes the second stage). Installed
    /// once, before the first ruleset with NAT runs; a ruleset without
    /// NAT spares every packet these hooks.
    pub fn install_nat(&mut self) -> Result<(), String> {
        if self.nat {
            return Ok(());
        }
        let q = self.queues;
        if self.nft_table {
            let stage2 = format!("meta mark & 0x{STAGE_MASK:08x} == 0x{STAGE_MARK:08x} queue num {}", q.nft_numbers());
            nft(&format!(
                "table inet {STAGE2_TABLE} {{\n\
                 \tchain postrouting {{\n\t\ttype filter hook postrouting priority -300; policy accept;\n\
                 \t\t{stage2}\n\t}}\n\
                 \tchain input {{\n\t\ttype filter hook input priority -300; policy accept;\n\
                 \t\t{stage2}\n\t}}\n}}\n"
            ))?;
        } else {
            let target = q.target(false);
            let target: Vec<&str> = target.iter().map(String::as_str).collect();
            for tool in Self::tools() {
                for (table, hook, chain) in &Self::CHAINS[2..] {
                    self.new_chain(tool, table, hook, chain)?;
                    let mut queue_rule = vec!["-t", table, "-A", chain];
                    queue_rule.extend(&target);
                    xt(tool, &queue_rule)?;
                    // The jump itself matches the mark.
                    self.jump_to(tool, table, hook, chain)?;
                }
            }
        }
        self.nat = true;
        self.fast_table = nft(&stage2::fast_table(FAST_TABLE)).is_ok();
        Ok(())
    }

    /// The second stage's rules are in (see [`HookRules::install_nat`]).
    pub fn has_nat(&self) -> bool {
        self.nat
    }

    /// Which mechanism carries the rules: `nft queue` or `iptables NFQUEUE`.
    pub fn mechanism(&self) -> &'static str {
        if self.nft_table { "nft queue" } else { "iptables NFQUEUE" }
    }

    /// The kernel writes lone new addresses itself (see [`crate::stage2`]).
    pub fn fast_nat(&self) -> bool {
        self.fast_table
    }

    /// Remove the rules (also done on drop).
    pub fn remove(&mut self) {
        if std::mem::take(&mut self.nft_table) {
            let _ = nft(&format!("delete table inet {NFT_TABLE}\n"));
            if self.nat {
                let _ = nft(&format!("delete table inet {STAGE2_TABLE}\n"));
            }
        }
        self.nat = false;
        if std::mem::take(&mut self.fast_table) {
            let _ = nft(&format!("delete table inet {FAST_TABLE}\n"));
        }
        for (tool, table, hook, chain) in self.installed.drain(..).rev() {
            let _ = xt(tool, &jump(table, "-D", hook, chain));
            let _ = xt(tool, &["-t", table, "-F", chain]);
            let _ = xt(tool, &["-t", table, "-X", chain]);
        }
    }
}

impl Drop for HookRules {
    fn drop(&mut self) {
        self.remove();
    }
}

/// Raw sockets for what ctc sends itself (rejects), marked [`OWN_MARK`].
#[derive(Debug)]
struct Sender {
    v4: rustix::fd::OwnedFd,
    v6: rustix::fd::OwnedFd,
}

impl Sender {
    fn new() -> io::Result<Sender> {
        // IPPROTO_RAW: the packet carries its own IP header.
        let v4 = rustix::net::socket(AddressFamily::INET, SocketType::RAW, Some(ipproto::RAW))?;
        let v6 = rustix::net::socket(AddressFamily::INET6, SocketType::RAW, Some(ipproto::RAW))?;
        crate::sys::set_mark(&v4, OWN_MARK)?;
        crate::sys::set_mark(&v6, OWN_MARK)?;
        Ok(Sender { v4, v6 })
    }

    fn send(&self, pkt: &[u8]) -> io::Result<()> {
        match pkt.first().map(|b| b >> 4) {
            Some(4) if pkt.len() >= 20 => {
                let dst = std::net::Ipv4Addr::new(pkt[16], pkt[17], pkt[18], pkt[19]);
                rustix::net::sendto(&self.v4, pkt, SendFlags::empty(), &SocketAddrV4::new(dst, 0))?;
            }
            Some(6) if pkt.len() >= 40 => {
                let b: [u8; 16] = pkt[24..40].try_into().expect("16 bytes");
                let dst = SocketAddrV6::new(b.into(), 0, 0, 0);
                rustix::net::sendto(&self.v6, pkt, SendFlags::empty(), &dst)?;
            }
            _ => {}
        }
        Ok(())
    }
}

/// What the workers have done, for `ctc status` and the exit summary.
#[derive(Debug, Clone, Copy, Default)]
pub struct RunStats {
    pub packets: u64,
    pub accepted: u64,
    pub dropped: u64,
    /// Packets handed back rewritten.
    pub rewritten: u64,
    /// Packets ctc generated and sent (rejects).
    pub generated: u64,
    /// Packets whose new source ctc wrote at the second stage
    /// (POSTROUTING or INPUT; counted once in `packets`, at the first).
    pub second_stage: u64,
    /// Packets whose new address (source or destination) the kernel
    /// wrote: ctc's mark named it in the kernel's map (see
    /// [`crate::stage2`]).
    pub kernel_nat: u64,
    /// Packets at the second stage whose record was gone (dropped: they
    /// still had the source they came with).
    pub stale: u64,
    /// Packets longer than a queue message carries (64 KiB less the
    /// attribute header): dropped.
    pub truncated: u64,
    /// GSO packets (queued whole, longer than the MTU) and the longest.
    pub gso: u64,
    pub gso_max_len: u64,
    pub errors: u64,
    /// Batches settled, the time spent on them (from the datagram's
    /// arrival to the last verdict sent), and the longest one: how far
    /// the workers lag behind the queue.
    pub batches: u64,
    pub busy_ns: u64,
    pub max_batch_ns: u64,
}

impl RunStats {
    /// The packet counts as `ctc status` and the exit line give them:
    /// `N (A accepted, R rewritten, …, E errors)`.
    pub fn packets_text(&self) -> String {
        format!(
            "{} ({} accepted, {} rewritten, {} at the second stage, {} with an address written by the kernel, \
             {} dropped, {} generated, {} errors)",
            self.packets,
            self.accepted,
            self.rewritten,
            self.second_stage,
            self.kernel_nat,
            self.dropped,
            self.generated,
            self.errors
        )
    }

    fn add(&mut self, o: &RunStats) {
        self.packets += o.packets;
        self.accepted += o.accepted;
        self.dropped += o.dropped;
        self.rewritten += o.rewritten;
        self.generated += o.generated;
        self.second_stage += o.second_stage;
        self.kernel_nat += o.kernel_nat;
        self.stale += o.stale;
        self.truncated += o.truncated;
        self.gso += o.gso;
        self.gso_max_len = self.gso_max_len.max(o.gso_max_len);
        self.errors += o.errors;
        self.batches += o.batches;
        self.busy_ns += o.busy_ns;
        self.max_batch_ns = self.max_batch_ns.max(o.max_batch_ns);
    }
}

/// The TTL (IPv4, with its header checksum) or hop limit raised by one:
/// the kernel lowers it when it forwards the packet.
fn raise_ttl(pkt: &mut [u8]) {
    match pkt.first().map(|b| b >> 4) {
        Some(4) if pkt.len() >= 20 => {
            pkt[8] = pkt[8].wrapping_add(1);
            stage2::fix_ipv4_header(pkt);
        }
        Some(6) if pkt.len() >= 40 => pkt[7] = pkt[7].wrapping_add(1),
        _ => {}
    }
}

/// What the workers of all queues share: one pipeline (one connection
/// tracker: both directions of a flow meet the same state whichever queue
/// the kernel hands them to, which NAT makes unpredictable), the run's
/// statistics and events, and the stop flag.
pub struct Shared {
    pub pipeline: Mutex<Pipeline>,
    /// Set to make the workers return.
    pub stop: AtomicBool,
    /// Keep connection and expectation events for [`Shared::take_events`];
    /// otherwise they are discarded as they come.
    pub keep_events: AtomicBool,
    events: Mutex<(Vec<ctc_conntrack::Event>, Vec<ctc_conntrack::ExpectEvent>)>,
    stats: Mutex<RunStats>,
    /// Packets between the stages of a source rewrite (any queue's worker
    /// may see a packet's second stage).
    stage2: Mutex<Stage2>,
    /// The addresses the kernel writes itself, and the thread that adds
    /// new ones to its map.
    fast: Mutex<FastNat>,
    fast_installer: Mutex<Option<std::sync::mpsc::Sender<(Side, u32, std::net::IpAddr)>>>,
    /// One line per packet (`ctc run --verdicts`): the queue's packet id,
    /// time, hook, input interface, verdict, ct state the filter chains
    /// saw, output interface, and the rule that decided.
    pub verdicts: Mutex<Option<Box<dyn std::io::Write + Send>>>,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared").field("stats", &self.stats()).finish_non_exhaustive()
    }
}

/// The wall clock in nanoseconds since the epoch: the live packet clock.
pub fn now_ns() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64)
}

/// A lock whose holder panicked is still usable: the pipeline's state is
/// consistent between packets.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Shared {
    /// The shared state for `pipeline` (whose host model is the live
    /// host's: [`crate::rtnl::read_host`]).
    pub fn new(mut pipeline: Pipeline) -> Arc<Shared> {
        pipeline.emulate_stack = false;
        pipeline.forwarded_in_out = false;
        // The host's own setting (of the network namespace ctc runs in).
        if let Ok(v) = std::fs::read_to_string("/proc/sys/net/ipv4/ip_forward_update_priority") {
            pipeline.forward_update_priority = v.trim() != "0";
        }
        pipeline.inputs = (0..pipeline.host.ifaces.len()).collect();
        Arc::new(Shared {
            pipeline: Mutex::new(pipeline),
            stop: AtomicBool::new(false),
            keep_events: AtomicBool::new(false),
            events: Mutex::new((Vec::new(), Vec::new())),
            stats: Mutex::new(RunStats::default()),
            stage2: Mutex::new(Stage2::new()),
            fast: Mutex::new(FastNat::default()),
            fast_installer: Mutex::new(None),
            verdicts: Mutex::new(None),
        })
    }

    /// Let the kernel write lone new addresses (`rules` installed
    /// its table): a thread adds each new address to the kernel's map.
    pub fn enable_fast_nat(self: &Arc<Shared>, rules: &HookRules) {
        if !rules.fast_nat() {
            return;
        }
        let (tx, rx) = std::sync::mpsc::channel::<(Side, u32, std::net::IpAddr)>();
        let shared = Arc::downgrade(self);
        let spawned = std::thread::Builder::new().name("ctc-nat-map".into()).spawn(move || {
            for (side, index, addr) in rx {
                let Some(shared) = shared.upgrade() else { return };
                match nft(&stage2::fast_element(FAST_TABLE, side, index, addr)) {
                    Ok(()) => lock(&shared.fast).installed(side, addr),
                    Err(_) => lock(&shared.stats).errors += 1,
                }
            }
        });
        if spawned.is_ok() {
            *lock(&self.fast_installer) = Some(tx);
            lock(&self.fast).enabled = true;
        }
    }

    /// The statistics of all workers.
    pub fn stats(&self) -> RunStats {
        *lock(&self.stats)
    }

    /// The connection and expectation events since the last call.
    pub fn take_events(&self) -> (Vec<ctc_conntrack::Event>, Vec<ctc_conntrack::ExpectEvent>) {
        std::mem::take(&mut *lock(&self.events))
    }

    /// The host changed (rtnetlink): its new model from the next packet on.
    pub fn replace_host(&self, host: crate::host::HostModel) {
        let mut pipe = lock(&self.pipeline);
        pipe.inputs = (0..host.ifaces.len()).collect();
        pipe.host = host;
    }

    /// The pipeline, for the control socket (between packets).
    pub fn pipeline(&self) -> MutexGuard<'_, Pipeline> {
        lock(&self.pipeline)
    }
}

/// One queue's worker: packets in, the shared pipeline, verdicts out.
#[derive(Debug)]
pub struct Worker {
    queue: Queue,
    sender: Sender,
    shared: Arc<Shared>,
    /// A batch's packets and verdicts (kept between batches).
    batch: Vec<Packet>,
    settled: Vec<(u32, Settled)>,
}

impl Worker {
    /// Bind queue `num`, which holds at most `maxlen` packets.
    pub fn new(shared: Arc<Shared>, num: u16, fail_open: bool, maxlen: u32) -> io::Result<Worker> {
        // GSO packets whole, with their skb info (the kernel sends the
        // info only with the GSO flag).
        let opts = QueueOptions { fail_open, gso: true, uid_gid: true, maxlen, ..QueueOptions::default() };
        let queue = Queue::open(num, &opts)?;
        queue.set_timeout(Some(std::time::Duration::from_millis(100)))?;
        Ok(Worker {
            queue,
            sender: Sender::new()?,
            shared,
            batch: Vec::with_capacity(BATCH),
            settled: Vec::with_capacity(BATCH),
        })
    }

    /// Settle packets until [`Shared::stop`] is set.
    pub fn run(mut self) -> io::Result<()> {
        while !self.shared.stop.load(Ordering::Relaxed) {
            self.step()?;
        }
        Ok(())
    }

    /// Wait (at most 100 ms) for packets and settle them all. Returns how
    /// many were handled.
    pub fn step(&mut self) -> io::Result<usize> {
        let mut batch = std::mem::take(&mut self.batch);
        let mut verdicts = std::mem::take(&mut self.settled);
        batch.clear();
        verdicts.clear();
        match self.queue.recv_many(&mut batch, BATCH) {
            Ok(_) => {}
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut | io::ErrorKind::Interrupted
                ) =>
            {
                self.batch = batch;
                self.settled = verdicts;
                return Ok(0);
            }
            Err(e) => return Err(e),
        }
        let started = std::time::Instant::now();
        let mut stats = RunStats::default();
        // One clock reading per batch: the packets came together.
        let now = now_ns();
        {
            let shared = Arc::clone(&self.shared);
            let mut pipe = lock(&shared.pipeline);
            // Each packet's conntrack lookup starts a few packets early
            // (Pipeline::look_ahead): the packets that enter conntrack at
            // prerouting or output.
            fn hint(p: Option<&Packet>) -> Option<(Link, &[u8])> {
                p.filter(|p| matches!(p.hook, HOOK_PREROUTING | HOOK_LOCAL_OUT)).map(|p| (Link::RawIp, &p.payload[..]))
            }
            let depth = pipe.begin_ahead();
            for i in 0..depth {
                pipe.look_ahead(hint(batch.get(i)));
            }
            let mut rest = batch.drain(..);
            while let Some(p) = rest.next() {
                pipe.look_ahead(hint(rest.as_slice().get(depth - 1)));
                let id = p.id;
                let settled = if matches!(p.hook, HOOK_POSTROUTING | HOOK_LOCAL_IN) {
                    self.second_stage(p, &mut stats)
                } else {
                    self.handle(&mut pipe, p, now, &mut stats)
                };
                verdicts.push((id, settled));
            }
        }
        for m in messages(&verdicts) {
            match m {
                Message::Batch { last, verdict, mark } => self.queue.verdict_batch(last, verdict, mark)?,
                Message::One(i) => {
                    let (id, s) = &verdicts[i];
                    self.queue.verdict(*id, s.verdict, s.payload.as_deref(), s.mark, s.priority)?
                }
            }
        }
        let n = verdicts.len();
        let took = started.elapsed().as_nanos() as u64;
        (stats.batches, stats.busy_ns, stats.max_batch_ns) = (1, took, took);
        lock(&self.shared.stats).add(&stats);
        self.batch = batch;
        self.settled = verdicts;
        Ok(n)
    }

    /// The verdict on one packet queued where it enters the IP layer, with
    /// its new bytes and mark when they changed.
    fn handle(&self, pipe: &mut Pipeline, p: Packet, now: u64, stats: &mut RunStats) -> Settled {
        stats.packets += 1;
        if p.skb_info & SKB_GSO != 0 {
            stats.gso += 1;
            stats.gso_max_len = stats.gso_max_len.max(p.cap_len.map_or(p.payload.len(), |c| c as usize) as u64);
        }
        // A GSO packet may be longer than a queue message carries (64 KiB
        // less an attribute header; TCP's and GRO's packets stay below):
        // with only part of it here, ctc could neither track its length
        // nor hand it back whole.
        if p.cap_len.is_some_and(|c| c as usize > p.payload.len()) {
            stats.truncated += 1;
            stats.dropped += 1;
            return Settled::DROP;
        }
        // The packet's bytes as the kernel gave them, to tell whether ctc
        // changed them.
        let mut iif = None;
        let (out, original) = match p.hook {
            HOOK_PREROUTING => {
                let Some(input) = pipe.host.ifaces.iter().position(|f| f.index == p.indev) else {
                    // An interface the host model does not know yet.
                    stats.accepted += 1;
                    return Settled::ACCEPT;
                };
                iif = Some(input);
                let frame = Frame {
                    time_ns: now,
                    input,
                    link: Link::RawIp,
                    data: p.payload,
                    // The queue has the GSO flag, so the kernel reports the
                    // checksum state.
                    l4_checksum: if p.skb_info & SKB_CSUMNOTREADY != 0 {
                        L4Checksum::NotReady
                    } else if p.skb_info & SKB_CSUM_NOTVERIFIED != 0 {
                        L4Checksum::NotVerified
                    } else {
                        L4Checksum::Verified
                    },
                    mark: p.mark,
                    priority: p.priority,
                };
                (pipe.process(&frame), frame.data)
            }
            HOOK_LOCAL_OUT => {
                let oif = pipe.host.ifaces.iter().position(|f| f.index == p.outdev);
                {
                    let sent = Sent { oif, mark: p.mark, priority: p.priority, sk_owner: p.sk_owner };
                    (pipe.process_output(p.payload.clone(), now, sent), p.payload)
                }
            }
            _ => {
                stats.accepted += 1;
                return Settled::ACCEPT;
            }
        };
        if let Some(w) = lock(&self.shared.verdicts).as_mut() {
            let name = |i: Option<usize>| i.map_or("-", |i| pipe.name_of(i));
            let _ = writeln!(
                w,
                "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
                p.id,
                time_text(now),
                if p.hook == HOOK_PREROUTING { "prerouting" } else { "output" },
                name(iif),
                out.verdict.as_str(),
                out.ct_state,
                name(out.oif),
                pipe.reason_text(&out.reason)
            );
            let _ = w.flush();
        }
        // `log` statements: to standard error (the journal, under
        // systemd), as replay writes them.
        if !out.logs.is_empty() {
            let mut e = io::stderr().lock();
            for l in &out.logs {
                let _ = writeln!(e, "{} {l}", time_text(now));
            }
        }
        let keep = self.shared.keep_events.load(Ordering::Relaxed);
        if let Some(t) = &mut pipe.ct {
            let x = t.take_expect_events();
            if keep {
                lock(&self.shared.events).1.extend(x);
            }
        }
        if keep {
            lock(&self.shared.events).0.extend(out.events.iter().cloned());
        }
        for (_, g) in out.generated() {
            match self.sender.send(g) {
                Ok(()) => stats.generated += 1,
                Err(_) => stats.errors += 1,
            }
        }
        if out.verdict != FinalVerdict::Accept {
            stats.dropped += 1;
            return Settled::DROP;
        }
        // `meta mark set`: the packet goes on with the chains' mark (the
        // kernel's policy routing, tc and later hooks see it).
        let set_mark = out.mark().filter(|&m| m != p.mark);
        let mark = set_mark.unwrap_or(p.mark);
        // `meta priority set`: given with the verdict, unless the kernel
        // sets the priority again after it (a forwarded IPv4 packet's, at
        // ip_forward): then at the second stage, after routing.
        let late_priority = out.priority().filter(|_| out.priority_after_routing && p.hook == HOOK_PREROUTING);
        let set_priority = out.priority().filter(|&v| late_priority.is_none() && v != p.priority);
        // The record of the second stage that gives `late_priority` to the
        // packet whose bytes go back as `pkt`: its mark.
        let priority_later =
            |pkt: &[u8]| late_priority.and_then(|prio| lock(&self.shared.stage2).priority_only(pkt, mark, prio));
        let Some(mut own) = out.own else {
            stats.accepted += 1;
            return Settled { mark: set_mark, priority: set_priority, ..Settled::ACCEPT };
        };
        if p.hook == HOOK_PREROUTING && out.oif.is_some() {
            raise_ttl(&mut own);
        }
        if own == original {
            stats.accepted += 1;
            if let Some(stage_mark) = priority_later(&original) {
                return Settled { mark: Some(stage_mark), ..Settled::ACCEPT };
            }
            return Settled { mark: set_mark, priority: set_priority, ..Settled::ACCEPT };
        }
        stage2::finish_checksum(&mut own, p.skb_info);
        stats.accepted += 1;
        stats.rewritten += 1;
        if p.hook != HOOK_PREROUTING {
            return Settled { verdict: Verdict::Accept, payload: Some(own), mark: set_mark, priority: set_priority };
        }
        let layout = stage2::Layout::of_pair(&own, &original);
        // One new address and nothing else: the kernel writes it (see
        // `stage2`), and the packet need not be copied back.
        let fast = layout
            .as_ref()
            .filter(|_| late_priority.is_none())
            .map(|l| lock(&self.shared.fast).mark_for(l, &own, &original, mark));
        match fast {
            Some(Ok(mark)) => {
                stats.kernel_nat += 1;
                return Settled { verdict: Verdict::Accept, payload: None, mark: Some(mark), priority: set_priority };
            }
            Some(Err(Some(new))) => {
                if let Some(tx) = lock(&self.shared.fast_installer).as_ref() {
                    let _ = tx.send(new);
                }
            }
            _ => {}
        }
        if stage2::source(&own) != stage2::source(&original) {
            // A new source (source NAT, or the reply of a destination
            // NAT) is written after routing, at the second stage.
            let Some(layout) = layout else {
                stats.errors += 1;
                return Settled::DROP;
            };
            let (now, stage_mark) = lock(&self.shared.stage2).first(&layout, &own, &original, mark, late_priority);
            let payload = (now != original).then_some(now);
            return Settled { verdict: Verdict::Accept, payload, mark: Some(stage_mark), priority: set_priority };
        }
        if let Some(stage_mark) = priority_later(&own) {
            return Settled { verdict: Verdict::Accept, payload: Some(own), mark: Some(stage_mark), priority: None };
        }
        Settled { verdict: Verdict::Accept, payload: Some(own), mark: set_mark, priority: set_priority }
    }

    /// A packet back at POSTROUTING or INPUT after its first stage: its
    /// new source written, its mark given back.
    fn second_stage(&self, p: Packet, stats: &mut RunStats) -> Settled {
        let mut pkt = p.payload;
        match lock(&self.shared.stage2).second(&mut pkt, p.mark) {
            Some(back) => {
                stats.second_stage += 1;
                let payload = back.rewritten.then_some(pkt);
                Settled { verdict: Verdict::Accept, payload, mark: Some(back.mark), priority: back.priority }
            }
            None => {
                stats.stale += 1;
                Settled::DROP
            }
        }
    }
}

/// A verdict message of a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Message {
    /// Every packet up to `last` (NFQNL_MSG_VERDICT_BATCH).
    Batch { last: u32, verdict: Verdict, mark: Option<u32> },
    /// The packet at this index of the batch, with its new bytes.
    One(usize),
}

/// The messages that settle `settled` (in queue order): consecutive
/// packets with the same verdict and mark and no new bytes or priority go in one batch
/// verdict (it covers every packet of the queue up to its id, and those
/// before are settled already).
fn messages(settled: &[(u32, Settled)]) -> Vec<Message> {
    let mut out = Vec::new();
    let mut run: Option<(Verdict, Option<u32>, u32)> = None;
    for (i, (id, s)) in settled.iter().enumerate() {
        match &mut run {
            Some((v, m, last)) if s.batchable() && (*v, *m) == (s.verdict, s.mark) => *last = *id,
            _ => {
                if let Some((verdict, mark, last)) = run.take() {
                    out.push(Message::Batch { last, verdict, mark });
                }
                if s.batchable() {
                    run = Some((s.verdict, s.mark, *id));
                } else {
                    out.push(Message::One(i));
                }
            }
        }
    }
    if let Some((verdict, mark, last)) = run {
        out.push(Message::Batch { last, verdict, mark });
    }
    out
}

/// What a worker tells the kernel about one packet.
#[derive(Debug)]
struct Settled {
    verdict: Verdict,
    /// The packet's new bytes.
    payload: Option<Vec<u8>>,
    /// The packet's new mark.
    mark: Option<u32>,
    /// The packet's new priority.
    priority: Option<u32>,
}

impl Settled {
    const ACCEPT: Settled = Settled { verdict: Verdict::Accept, payload: None, mark: None, priority: None };
    const DROP: Settled = Settled { verdict: Verdict::Drop, payload: None, mark: None, priority: None };

    /// A batch verdict can settle it: it carries a verdict and a mark,
    /// not new bytes nor a priority.
    fn batchable(&self) -> bool {
        self.payload.is_none() && self.priority.is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queue_specs() {
        assert_eq!(QueueSpec::parse("3"), Ok(QueueSpec { first: 3, last: 3 }));
        assert_eq!(QueueSpec::parse("0:3"), Ok(QueueSpec { first: 0, last: 3 }));
        assert!(QueueSpec::parse("3:1").is_err());
        assert!(QueueSpec::parse("70000").is_err());
        assert_eq!(
            QueueSpec::parse("2").unwrap().target(true),
            ["-j", "NFQUEUE", "--queue-num", "2", "--queue-bypass"]
        );
    }

    #[test]
    fn runs_of_like_verdicts_share_a_message() {
        let s = |verdict, payload: bool, mark| Settled {
            verdict,
            payload: payload.then(|| vec![0x45]),
            mark,
            priority: None,
        };
        let settled = [
            (1, s(Verdict::Accept, false, None)),
            (2, s(Verdict::Accept, false, None)),
            (3, s(Verdict::Accept, false, Some(7))),
            (4, s(Verdict::Accept, false, Some(7))),
            (5, s(Verdict::Accept, true, None)),
            (6, s(Verdict::Drop, false, None)),
            (7, s(Verdict::Accept, false, Some(8))),
            // A priority goes in a verdict of its own (batches carry none).
            (8, Settled { priority: Some(3), ..s(Verdict::Accept, false, Some(8)) }),
            (9, s(Verdict::Accept, false, Some(8))),
        ];
        let b = |last, verdict, mark| Message::Batch { last, verdict, mark };
        assert_eq!(
            messages(&settled),
            [
                b(2, Verdict::Accept, None),
                b(4, Verdict::Accept, Some(7)),
                Message::One(4),
                b(6, Verdict::Drop, None),
                b(7, Verdict::Accept, Some(8)),
                Message::One(7),
                b(9, Verdict::Accept, Some(8))
            ]
        );
        assert_eq!(messages(&[]), []);
    }

    #[test]
    fn the_ttl_goes_back_up_with_a_valid_checksum() {
        let mut p = vec![0x45, 0, 0, 20, 0, 0, 0, 0, 63, 17, 0, 0, 192, 0, 2, 2, 203, 0, 113, 47];
        let c = ctc_wire::checksum::checksum(&p);
        p[10..12].copy_from_slice(&c.to_be_bytes());
        raise_ttl(&mut p);
        assert_eq!(p[8], 64);
        assert_eq!(ctc_wire::checksum::checksum(&p), 0);
    }
}
