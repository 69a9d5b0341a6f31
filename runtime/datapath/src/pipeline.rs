//! The packet pipeline of DESIGN §1 for one frame: prerouting (raw chains,
//! then the conntrack lookup at NF_IP_PRI_CONNTRACK, then the other
//! chains), the routing decision on the host model, input or forward,
//! postrouting, then confirmation of the connection and the frame leaves
//! (TTL decremented, MACs of the output link) or is delivered locally.
//! Frames the engine generates itself (reject replies, ICMP time exceeded)
//! are attached to the connection that caused them, as the kernel's
//! nf_conntrack_attach does.

use crate::capture::{Frame, Link};
use crate::engine::Engine;
use crate::host::HostModel;
use crate::log;
use crate::nat;
use crate::reject;
use ctc_conntrack::{CtState, Event, Manip, Tracker, Verdict as CtVerdict};
use ctc_ir::abi::{ABSENT, Actions, PacketCtx, actions, ct_state};
use ctc_ir::{Hook, Reject};
use ctc_vm::{Decider, HookVerdict, State};
use ctc_wire::{Layer, NetworkKind, ParseOptions};
use std::net::IpAddr;

/// The highest priority of a "raw" chain: NF_IP_PRI_CONNTRACK (-200) is
/// where conntrack looks the packet up; chains below it run before.
const RAW_MAX: i32 = -201;
/// NF_IP_PRI_NAT_DST: the NAT core's hook at prerouting and output (the
/// NAT chains run inside it; chains at higher priorities see the
/// translated destination).
const NAT_DST: i32 = -100;
/// NF_IP_PRI_NAT_SRC: the NAT core's hook at postrouting and input.
const NAT_SRC: i32 = 100;

/// Parse a frame (again, after NAT rewrote it).
fn parse(pkt: &[u8], link: Link) -> ctc_wire::Frame {
    let opts = ParseOptions { verify_ipv4_checksum: true };
    match link {
        Link::Ethernet => ctc_wire::parse_frame_with(pkt, &opts),
        Link::RawIp => ctc_wire::parse_ip_with(pkt, &opts),
    }
}

/// ip_decrease_ttl's checksum update, bit for bit: the kernel adds
/// htons(0x0100) to the checksum as a host-order (little-endian) number
/// and folds the carry, which turns a result of 0xffff into 0.
fn ttl_decrease_check(check: u16) -> u16 {
    let c = u32::from(check.swap_bytes()) + 1;
    let c = c + u32::from(c >= 0xffff);
    (c as u16).swap_bytes()
}

/// The frame is dropped for `reason` (not a rule's decision).
fn ended(mut out: Outcome, reason: Reason, acts: Actions) -> Outcome {
    out.verdict = FinalVerdict::Drop;
    out.reason = reason;
    out.acts = acts;
    out
}

/// Bits of [`Pipeline::nat_families`].
const NAT_V4: u8 = 1;
const NAT_V6: u8 = 2;

/// Whether `p` has NAT chains (any family): its packets' addresses may be
/// rewritten.
pub fn has_nat(p: &ctc_ir::Program) -> bool {
    nat_families(p) != 0
}

/// Whether a live datapath needs its second stage after routing for `p`:
/// NAT may rewrite sources, and a priority set in the forward or
/// postrouting chains must be given after ip_forward sets its own.
pub fn needs_second_stage(p: &ctc_ir::Program) -> bool {
    has_nat(p) || any_op(p, |op| matches!(op, ctc_ir::Op::MetaSet { key: ctc_ir::MetaSetKey::Priority, .. }))
}

/// Whether some rule of `p` has an op for which `f` holds.
fn any_op(p: &ctc_ir::Program, f: impl Fn(&ctc_ir::Op) -> bool) -> bool {
    p.chains.iter().flat_map(|c| &c.rules).any(|r| r.ops.iter().any(&f))
}

/// Whether `p` reads a connection's counters (`ct packets`, `ct bytes`, `ct avgpkt`,
/// either direction): loading such a rule turns conntrack accounting on
/// for the namespace (nft_ct_get_init calls nf_ct_set_acct; measured on
/// Linux 6.18: net.netfilter.nf_conntrack_acct goes from 0 to 1 when the
/// rule is loaded and stays 1 after the ruleset is flushed), so listings
/// and DESTROY events show the counters from then on.
pub fn reads_ct_counters(p: &ctc_ir::Program) -> bool {
    use ctc_ir::CtKey::{AvgPkt, Bytes, Packets};
    any_op(p, |op| matches!(op, ctc_ir::Op::Ct { key: Packets | Bytes | AvgPkt, .. }))
}

/// nf_ct_set_acct for a program that reads counters ([`reads_ct_counters`]):
/// on, never back off.
fn set_acct(ct: &mut Option<Tracker>, p: &ctc_ir::Program) {
    if let Some(t) = ct.as_mut().filter(|_| reads_ct_counters(p)) {
        t.config_mut().acct = true;
    }
}

/// Which families have NAT chains: the kernel registers its NAT hooks for
/// a family once a nat chain of it exists, and from then on every new
/// connection of the family gets bindings (null ones at least).
fn nat_families(p: &ctc_ir::Program) -> u8 {
    let mut f = 0;
    for c in &p.chains {
        if c.base.as_ref().is_some_and(|b| b.ty == ctc_ir::ChainType::Nat) {
            f |= match p.tables.get(c.table.index()).map(|t| t.family) {
                Some(ctc_ir::Family::Ip) => NAT_V4,
                Some(ctc_ir::Family::Ip6) => NAT_V6,
                Some(ctc_ir::Family::Inet) => NAT_V4 | NAT_V6,
                None => 0,
            };
        }
    }
    f
}

/// The final verdict of a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FinalVerdict {
    Accept,
    Drop,
    Queue(u16),
}

impl FinalVerdict {
    pub fn as_str(self) -> String {
        match self {
            FinalVerdict::Accept => "accept".into(),
            FinalVerdict::Drop => "drop".into(),
            FinalVerdict::Queue(n) => format!("queue:{n}"),
        }
    }
}

/// Why the frame ended as it did, when no rule or policy decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    /// A rule (`FILE:LINE`) or a base chain policy.
    Decider(Decider),
    /// Not an IPv4/IPv6 packet: the ip/ip6/inet hooks never see it.
    NotIp,
    /// Dropped before any hook (the kernel's ip_rcv_core checks).
    Malformed(String),
    /// No route to the destination.
    NoRoute,
    /// TTL or hop limit exhausted in forwarding.
    TtlExceeded,
    /// Conntrack dropped it: the table is full, or the new entry clashed.
    ConntrackDrop,
    /// NAT dropped it: no address to masquerade to, no room in the range,
    /// a packet too short to rewrite.
    NatDrop,
    /// The connection's helper dropped it (the kernel's helper log text).
    HelperDrop(&'static str),
}

/// What happened to one frame.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub verdict: FinalVerdict,
    pub reason: Reason,
    /// The ct state the filter chains saw.
    pub ct_state: &'static str,
    /// Why conntrack found the packet INVALID (the kernel's log text).
    pub invalid_reason: Option<&'static str>,
    /// Output interface (index into the host model) of a forwarded frame.
    pub oif: Option<usize>,
    /// Frames that leave the host: (interface, bytes).
    pub out: Vec<(usize, Vec<u8>)>,
    /// `log` lines.
    pub logs: Vec<String>,
    /// Conntrack events this frame caused (and timers that fired before it).
    pub events: Vec<Event>,
    /// What the chains asked for (ct mark, helper, ...), applied to the
    /// connection when the frame is finished.
    acts: Actions,
    /// Replies the host generates for this packet, sent through the local
    /// output path: reject replies and ICMP errors (attached to the
    /// packet's connection, before it is dropped), echo replies (after it
    /// was accepted and confirmed).
    local: Vec<Vec<u8>>,
    /// The packet itself as it goes on when accepted (forwarded: also the
    /// first entry of `out`; delivered to the host; or sent by it), with
    /// NAT applied: what a live datapath hands back to the kernel.
    pub own: Option<Vec<u8>>,
    /// `own` is also the first frame of `out` (a forwarded packet, when
    /// [`Pipeline::forwarded_in_out`]).
    own_in_out: bool,
    /// The kernel recomputes this packet's priority after the point where
    /// a live datapath gives its verdict: a forwarded IPv4 packet's, from
    /// its TOS, in ip_forward (see [`Pipeline::forward_update_priority`]).
    /// A priority the chains set after that must be written after routing.
    pub priority_after_routing: bool,
}

impl Outcome {
    /// An outcome nothing has happened to yet.
    fn new(verdict: FinalVerdict, reason: Reason, oif: Option<usize>) -> Outcome {
        Outcome {
            verdict,
            reason,
            ct_state: "-",
            invalid_reason: None,
            oif,
            out: Vec::new(),
            logs: Vec::new(),
            events: Vec::new(),
            acts: Actions::default(),
            local: Vec::new(),
            own: None,
            own_in_out: false,
            priority_after_routing: false,
        }
    }

    /// The packet's mark as the chains left it (`meta mark set`), when
    /// they set one.
    pub fn mark(&self) -> Option<u32> {
        (self.acts.set & actions::MARK != 0).then_some(self.acts.mark)
    }

    /// The packet's priority as the chains left it (`meta priority set`),
    /// when they set one (for a forwarded IPv4 packet: after ip_forward
    /// recomputed it, see [`Outcome::priority_after_routing`]).
    pub fn priority(&self) -> Option<u32> {
        (self.acts.set & actions::PRIORITY != 0).then_some(self.acts.priority)
    }

    /// Frames the host generated for this packet (rejects, ICMP errors;
    /// echo replies when the pipeline emulates the host's stack), each with
    /// its output interface: every frame of `out` but the packet itself.
    pub fn generated(&self) -> &[(usize, Vec<u8>)] {
        let skip = usize::from(self.own_in_out);
        &self.out[skip..]
    }
}

/// The IPv4 or IPv6 packet in a frame of link type `link`: after an
/// Ethernet header (and one VLAN tag), or the whole of a raw IP frame.
fn ip_of(link: Link, data: &[u8]) -> Option<&[u8]> {
    match link {
        Link::RawIp => Some(data),
        Link::Ethernet => match data.get(12..14)? {
            [0x81, 0x00] => data.get(18..).filter(|_| matches!(data.get(16..18), Some([0x08, 0x00] | [0x86, 0xdd]))),
            [0x08, 0x00] | [0x86, 0xdd] => data.get(14..),
            _ => None,
        },
    }
}

/// The pipeline: a program, its state and the host model.
#[derive(Debug)]
pub struct Pipeline {
    /// The engine running the chains (named `vm` as before engines could
    /// be chosen).
    pub vm: Engine,
    pub state: State,
    pub host: HostModel,
    /// Names of the `--in` interfaces, by input index → host model index.
    pub inputs: Vec<usize>,
    /// The connection tracker; `None`: every packet is untracked.
    pub ct: Option<Tracker>,
    /// The conntrack verdict of the frame being processed.
    cur: Option<CtVerdict>,
    /// The conntrack lookups started ahead of the frames of a batch
    /// ([`Pipeline::look_ahead`]).
    ahead: ctc_conntrack::Lookahead,
    /// [`NAT_V4`] / [`NAT_V6`]: the families whose NAT hooks exist.
    nat_families: u8,
    /// Answer like the host's own stack (echo replies): in replay, where
    /// there is no host; not on a live host, whose kernel answers itself.
    pub emulate_stack: bool,
    /// Put a forwarded packet in [`Outcome::out`] besides `own` (replay
    /// writes `out` to its pcaps; a live datapath needs `own` only and
    /// saves the copy).
    pub forwarded_in_out: bool,
    /// net.ipv4.ip_forward_update_priority (on by default): ip_forward sets
    /// a forwarded IPv4 packet's priority from its TOS before the forward
    /// hook, so a priority set at prerouting does not last.
    pub forward_update_priority: bool,
}

/// What the live kernel tells of a packet the host itself sends
/// ([`Pipeline::process_output`]): the interface it routed it to (host
/// model index), its mark and priority (a socket's SO_MARK and
/// SO_PRIORITY), and the owner (uid, gid) of its socket. The replies the
/// pipeline generates have none of these (`Sent::default()`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sent {
    pub oif: Option<usize>,
    pub mark: u32,
    pub priority: u32,
    pub sk_owner: Option<(u32, u32)>,
}

/// The chains' `ct mark set` and `ct timeout` on the packet's connection.
fn apply_ct_actions(t: &mut Tracker, program: &ctc_ir::Program, h: ctc_conntrack::Handle, acts: &Actions) {
    if acts.set & actions::CT_MARK != 0 {
        t.set_mark(h, acts.ct_mark);
    }
    if acts.set & actions::CT_TIMEOUT != 0
        && let Some(p) = program.timeouts.get(acts.ct_timeout as usize)
    {
        let mut tm = ctc_conntrack::Timeouts::from_config(t.config());
        for (state, secs) in &p.timeouts {
            // Sema checked the names against the protocol's states.
            let known = tm.set(p.l4proto, state, u64::from(*secs));
            debug_assert!(known, "ct timeout state {state} of protocol {}", p.l4proto);
        }
        t.set_timeouts(h, tm);
    }
}

/// What one hook's `meta mark set` and `meta priority set` leave on the
/// packet for the hooks after it.
fn carry_meta(ctx: &mut PacketCtx, acts: &Actions) {
    if acts.set & actions::MARK != 0 {
        ctx.mark = acts.mark;
    }
    if acts.set & actions::PRIORITY != 0 {
        ctx.priority = acts.priority;
    }
}

/// rt_tos2priority: the priority ip_forward gives a packet with this TOS
/// byte (the kernel's ip_tos2prio, indexed by the four TOS bits: best
/// effort, bulk, interactive, interactive bulk; the cost bit changes
/// nothing).
fn tos_priority(tos: u8) -> u32 {
    const TC_PRIO_BESTEFFORT: u32 = 0;
    const TC_PRIO_BULK: u32 = 2;
    const TC_PRIO_INTERACTIVE_BULK: u32 = 4;
    const TC_PRIO_INTERACTIVE: u32 = 6;
    match (tos >> 3) & 3 {
        0 => TC_PRIO_BESTEFFORT,
        1 => TC_PRIO_BULK,
        2 => TC_PRIO_INTERACTIVE,
        _ => TC_PRIO_INTERACTIVE_BULK,
    }
}

/// The packet context every path starts from: header offsets, protocols and
/// the time (`th_off`: the transport header as the caller decided it).
#[inline]
pub(crate) fn packet_ctx(
    parsed: &ctc_wire::Frame,
    net: &ctc_wire::NetworkInfo,
    th_off: Option<usize>,
    frame_len: usize,
    time_ns: u64,
) -> PacketCtx {
    let h = ctc_wire::IpHeaders {
        ethertype: parsed.link.map(|l| l.ethertype),
        v6: net.kind == NetworkKind::Ipv6,
        nh: net.offset,
        end: net.end,
        protocol: net.protocol,
        th: th_off,
        inner: parsed.inner_offset(),
    };
    ctx_of_fields(HeaderFields::of(&h, frame_len), time_ns)
}

/// What a context takes from the headers: [`HeaderFields::of`] can be
/// computed where the headers are found (`ctc_wire::with_ip_headers_of_frame`),
/// before the context is built from it ([`ctx_of_fields`]).
#[derive(Debug, Clone, Copy)]
pub(crate) struct HeaderFields {
    ll_off: u32,
    nh_off: u32,
    th_off: u32,
    ih_off: u32,
    len: u32,
    nfproto: u8,
    l4proto: u8,
    ethertype: u16,
}

impl HeaderFields {
    #[inline(always)]
    pub(crate) fn of(h: &ctc_wire::IpHeaders, frame_len: usize) -> HeaderFields {
        HeaderFields {
            ll_off: if h.ethertype.is_some() { 0 } else { ABSENT },
            nh_off: h.nh as u32,
            th_off: h.th.map_or(ABSENT, |o| o as u32),
            ih_off: h.inner.map_or(ABSENT, |o| o as u32),
            len: h.end.min(frame_len) as u32,
            nfproto: if h.v6 { 10 } else { 2 },
            l4proto: h.protocol.unwrap_or(0),
            ethertype: h.ethertype.map_or(if h.v6 { 0x86dd } else { 0x0800 }, |e| e.0),
        }
    }
}

/// The context of [`packet_ctx`] from its header fields (`ctc bench
/// classify` computes them on each path of the frame scan).
#[inline(always)]
pub(crate) fn ctx_of_fields(d: HeaderFields, time_ns: u64) -> PacketCtx {
    PacketCtx {
        ll_off: d.ll_off,
        nh_off: d.nh_off,
        th_off: d.th_off,
        ih_off: d.ih_off,
        len: d.len,
        nfproto: d.nfproto,
        l4proto: d.l4proto,
        ethertype: d.ethertype,
        time_ns,
        ..PacketCtx::default()
    }
}

/// What `ct ...` expressions read, from the tracker's verdict and entry.
fn ct_info(t: &Tracker, v: &CtVerdict, now: u64) -> ctc_ir::abi::CtInfo {
    let mut c = ctc_ir::abi::CtInfo {
        state: match v.state {
            CtState::New => ct_state::NEW,
            CtState::Established => ct_state::ESTABLISHED,
            CtState::Related => ct_state::RELATED,
            CtState::Invalid => ct_state::INVALID,
            CtState::Untracked => ct_state::UNTRACKED,
        },
        dir: v.dir as u8,
        ..Default::default()
    };
    let Some(e) = v.handle.and_then(|h| t.entry(h)) else { return c };
    c.has_entry = 1;
    c.status = e.status;
    c.mark = e.mark;
    c.zone = e.zone;
    c.id = e.id;
    c.expiration_ms =
        e.timeout_at_ns.saturating_sub(now).checked_div(1_000_000).unwrap_or(0).min(u32::MAX as u64) as u32;
    c.l3proto = e.tuples[0].l3;
    c.protocol = e.tuples[0].proto;
    for d in 0..2 {
        c.saddr[d] = e.tuples[d].src;
        c.daddr[d] = e.tuples[d].dst;
        c.proto_src[d] = e.tuples[d].src_port.to_be_bytes();
        c.proto_dst[d] = e.tuples[d].dst_port.to_be_bytes();
        c.packets[d] = e.counters[d].0;
        c.bytes[d] = e.counters[d].1;
    }
    // `ct helper` reads the master's helper (nft_ct_get_eval).
    if let Some(h) = v.handle.and_then(|h| t.master_helper(h)) {
        let n = h.name().as_bytes();
        let k = n.len().min(15);
        c.helper[..k].copy_from_slice(&n[..k]);
    }
    c
}

fn ct_state_name(bits: u32) -> &'static str {
    match bits {
        ct_state::NEW => "new",
        ct_state::ESTABLISHED => "established",
        ct_state::RELATED => "related",
        ct_state::INVALID => "invalid",
        ct_state::UNTRACKED => "untracked",
        _ => "-",
    }
}

/// An address as the VM passes it: 4 or 16 bytes, network order.
fn ip_from(bytes: &[u8]) -> Option<IpAddr> {
    match bytes.len() {
        4 => <[u8; 4]>::try_from(bytes).ok().map(IpAddr::from),
        16 => <[u8; 16]>::try_from(bytes).ok().map(IpAddr::from),
        _ => None,
    }
}

impl ctc_vm::Host for HostModel {
    fn route(&self, q: &ctc_vm::FibQuery<'_>) -> Option<ctc_vm::Route> {
        let dst = ip_from(q.dst)?;
        if self.is_local(dst) {
            // Local routes point at the loopback device (index 1).
            return Some(ctc_vm::Route { oif: 1, rtype: crate::host::rtn::LOCAL });
        }
        let i = self.route(dst)?;
        Some(ctc_vm::Route { oif: self.ifaces[i].index, rtype: self.addr_type(dst) })
    }

    fn addr_type(&self, _nfproto: u8, addr: &[u8], _dev: Option<u32>) -> u32 {
        ip_from(addr).map_or(crate::host::rtn::UNREACHABLE, |a| HostModel::addr_type(self, a))
    }

    fn ifname(&self, ifindex: u32) -> Option<[u8; 16]> {
        (ifindex == 1 || self.by_index(ifindex).is_some()).then(|| self.name16(ifindex))
    }

    fn is_loopback(&self, ifindex: u32) -> bool {
        ifindex == 1
    }
}

/// The host the rules of one hook see: the host model, and the connection
/// tracker with the packet's connection for `ct expectation set`.
struct HookHost<'a> {
    model: &'a HostModel,
    ct: std::cell::RefCell<Option<&'a mut Tracker>>,
    cur: Option<CtVerdict>,
    now: u64,
}

impl ctc_vm::Host for HookHost<'_> {
    fn route(&self, q: &ctc_vm::FibQuery<'_>) -> Option<ctc_vm::Route> {
        ctc_vm::Host::route(self.model, q)
    }

    fn addr_type(&self, nfproto: u8, addr: &[u8], dev: Option<u32>) -> u32 {
        ctc_vm::Host::addr_type(self.model, nfproto, addr, dev)
    }

    fn ifname(&self, ifindex: u32) -> Option<[u8; 16]> {
        ctc_vm::Host::ifname(self.model, ifindex)
    }

    fn is_loopback(&self, ifindex: u32) -> bool {
        ctc_vm::Host::is_loopback(self.model, ifindex)
    }

    fn ct_expect(&self, obj: &ctc_ir::ExpectObj) -> ctc_vm::ExpectOutcome {
        use ctc_conntrack::RuleExpectOutcome as O;
        // nft_ct_expect_obj_eval: no connection (untracked, invalid) or
        // no tracker: the rule breaks.
        let Some(v) = self.cur else { return ctc_vm::ExpectOutcome::Break };
        let (Some(h), mut ct) = (v.handle, self.ct.borrow_mut()) else { return ctc_vm::ExpectOutcome::Break };
        let Some(t) = ct.as_deref_mut() else { return ctc_vm::ExpectOutcome::Break };
        // RELATED ICMP errors carry the connection they quote: the kernel
        // sees that connection, confirmed, and breaks as well.
        let r = ctc_conntrack::RuleExpect {
            l3num: obj.l3num,
            proto: obj.l4proto,
            dport: obj.dport,
            timeout_secs: u64::from(obj.timeout),
            size: obj.size,
        };
        match t.expect_from_rule(h, v.dir, &r, self.now) {
            O::Made => ctc_vm::ExpectOutcome::Made,
            O::Break => ctc_vm::ExpectOutcome::Break,
            O::Drop => ctc_vm::ExpectOutcome::Drop,
        }
    }
}

impl Pipeline {
    /// Run the chains of `hook` in `window` for a packet of connection
    /// `cur`.
    fn hook(
        &mut self,
        hook: Hook,
        pkt: &mut [u8],
        ctx: &PacketCtx,
        acts: &mut Actions,
        window: std::ops::RangeInclusive<i32>,
        cur: Option<CtVerdict>,
    ) -> ctc_vm::HookResult {
        let host = HookHost { model: &self.host, ct: std::cell::RefCell::new(self.ct.as_mut()), cur, now: ctx.time_ns };
        self.vm.run_hook_window(&mut self.state, &host, hook, pkt, ctx, acts, window)
    }

    /// A pipeline running `program` on the host model; `inputs` maps each
    /// `--in` capture to its interface in the host model.
    pub fn new(program: ctc_ir::VerifiedProgram, host: HostModel, inputs: Vec<usize>, ct: Option<Tracker>) -> Pipeline {
        Pipeline::with_engine(Engine::Interp(ctc_vm::Vm::new(program)), host, inputs, ct)
    }

    /// [`Pipeline::new`] with a chosen engine ([`Engine::new`]).
    pub fn with_engine(vm: Engine, host: HostModel, inputs: Vec<usize>, mut ct: Option<Tracker>) -> Pipeline {
        let nat_families = nat_families(vm.program());
        set_acct(&mut ct, vm.program());
        let state = vm.new_state();
        Pipeline {
            vm,
            state,
            host,
            inputs,
            ct,
            cur: None,
            ahead: ctc_conntrack::Lookahead::default(),
            nat_families,
            emulate_stack: true,
            forwarded_in_out: true,
            forward_update_priority: true,
        }
    }

    /// Learn each link's MACs from a whole capture before replaying it:
    /// ours is where its unicast frames go, the peer's where they come
    /// from (the recorded hosts have static neighbours, so the first frame
    /// the host sends on a link already carries the right addresses).
    pub fn learn_links(&mut self, frames: &[Frame]) {
        for f in frames {
            let Some(&i) = self.inputs.get(f.input) else { continue };
            if f.link != Link::Ethernet || f.data.len() < 14 {
                continue;
            }
            let Some(iface) = self.host.ifaces.get_mut(i) else { continue };
            let (dst, src): ([u8; 6], [u8; 6]) =
                (f.data[0..6].try_into().expect("6 bytes"), f.data[6..12].try_into().expect("6 bytes"));
            if dst[0] & 1 == 0 && iface.own_mac.is_none() {
                iface.own_mac = Some(dst);
            }
            if iface.peer_mac.is_none() {
                iface.peer_mac = Some(src);
            }
        }
    }

    /// Let the clock run to `now_ns` (timers fire: DESTROY events).
    pub fn advance(&mut self, now_ns: u64) -> Vec<Event> {
        match &mut self.ct {
            Some(t) => {
                t.advance(now_ns);
                t.take_events()
            }
            None => Vec::new(),
        }
    }

    /// Counter values of the program's counter slots.
    pub fn counter(&self, id: ctc_ir::CounterId) -> (u64, u64) {
        self.state.counter(id)
    }

    /// Live reload: run `engine`'s program from now on. The connection
    /// tracker (entries, NAT bindings, expectations) is kept; dynamic sets
    /// keep their elements (`State::adopt`); each `(old, new)` pair of
    /// `counters` carries a counter's value over to the new program (the
    /// caller pairs the counters of unchanged rules); the rest start at
    /// their declared values.
    pub fn replace_engine(&mut self, engine: Engine, counters: &[(ctc_ir::CounterId, ctc_ir::CounterId)]) {
        let mut st = State::adopt(engine.vm(), &self.state, self.vm.vm());
        for (old, new) in counters {
            let (p, b) = self.state.counter(*old);
            if let Some(slot) = st.counter_slots_mut().get_mut(new.index()) {
                *slot = [p, b];
            }
        }
        self.nat_families = nat_families(engine.program());
        set_acct(&mut self.ct, engine.program());
        self.vm = engine;
        self.state = st;
    }

    /// At the start of a batch of frames (a queue's read, a capture): how
    /// many frames ahead [`Pipeline::look_ahead`] starts a conntrack
    /// lookup in this batch (more in a table larger than the cache,
    /// [`Tracker::begin_ahead`]).
    pub fn begin_ahead(&mut self) -> usize {
        match &self.ct {
            Some(t) => t.begin_ahead(&mut self.ahead),
            None => self.ahead.depth(),
        }
    }

    /// In a batch of frames, before each frame: start the conntrack lookup
    /// of the frame [`Pipeline::begin_ahead`] places ahead (`next`, its
    /// link type and bytes; `None` past the end of the batch) and move
    /// those of the frames between on, so that in a large table their
    /// cache misses overlap ([`Tracker::look_ahead`]). Call it as many
    /// times as [`Pipeline::begin_ahead`] says with the first frames before
    /// the first [`Pipeline::process`] of a batch. Only hints: what a frame
    /// finds does not depend on them (its conntrack lookup starts from the
    /// node found ahead only where that holds its tuple,
    /// [`Tracker::packet_ahead`]). Its lookup is started in zone 0 (the raw
    /// chains, which may set a zone or `notrack`, have not run yet).
    pub fn look_ahead(&mut self, next: Option<(Link, &[u8])>) {
        if let Some(t) = &self.ct {
            t.look_ahead(&mut self.ahead, next.and_then(|(link, data)| ip_of(link, data)), 0);
        }
    }

    /// Run one frame through the hooks, then finish its connection: an
    /// accepted packet confirms it (a new entry becomes visible, pending
    /// events go out), a dropped one abandons an unconfirmed entry after the
    /// replies the engine generated for it were attached to it.
    pub fn process(&mut self, frame: &Frame) -> Outcome {
        let now = frame.time_ns;
        let mut events = self.advance(now);
        self.cur = None;
        let mut out = self.run(frame);
        if let (Some(t), Some(cv)) = (&mut self.ct, self.cur.take())
            && let Some(mut h) = cv.handle
        {
            apply_ct_actions(t, self.vm.program(), h, &out.acts);
            if out.verdict == FinalVerdict::Accept {
                if !t.confirm_handle(&mut h, now) {
                    // __nf_conntrack_confirm refused it (clash): NF_DROP.
                    out.verdict = FinalVerdict::Drop;
                    out.reason = Reason::ConntrackDrop;
                    out.out.retain(|(i, _)| Some(*i) != out.oif);
                    out.local.clear();
                    out.own = None;
                    out.own_in_out = false;
                }
            } else {
                // The replies generated for a dropped packet leave before
                // it is freed, attached to its connection (nf_send_reset,
                // icmp_send: nf_conntrack_attach makes them RELATED).
                for reply in std::mem::take(&mut out.local) {
                    self.local_out(reply, frame.link, now, Some(cv), Sent::default(), &mut out);
                }
                if let Some(t) = &mut self.ct {
                    t.abandon(h);
                }
            }
        }
        // Replies of the host's own stack to an accepted packet (echo
        // replies), or generated ones when nothing is tracked.
        for reply in std::mem::take(&mut out.local) {
            self.local_out(reply, frame.link, now, None, Sent::default(), &mut out);
        }
        if let Some(t) = &mut self.ct {
            events.extend(t.take_events());
        }
        out.events = events;
        out
    }

    /// A packet the host itself sends: the routing decision, conntrack at
    /// LOCAL_OUT (or the connection it is attached to), the output chains
    /// (raw ones before conntrack), postrouting, confirmation, and out of
    /// its interface. Its chains' counters count it; its verdict does not
    /// change the frame that caused it. Returns what its chains asked for.
    fn local_out(
        &mut self,
        mut pkt: Vec<u8>,
        link: Link,
        now: u64,
        attach: Option<CtVerdict>,
        sent: Sent,
        out: &mut Outcome,
    ) -> Actions {
        let opts = ParseOptions { verify_ipv4_checksum: true };
        let parsed = match link {
            Link::Ethernet => ctc_wire::parse_frame_with(&pkt, &opts),
            Link::RawIp => ctc_wire::parse_ip_with(&pkt, &opts),
        };
        let Some(net) = parsed.network.filter(|n| matches!(n.kind, NetworkKind::Ipv4 | NetworkKind::Ipv6)) else {
            return Actions::default();
        };
        let Some(dst) = net.dst else { return Actions::default() };
        // A live host's kernel has routed its own packet already (the
        // interface it gives wins: multicast, link-local, policy routes).
        let Some(oif) = sent.oif.or_else(|| self.host.route(dst)) else { return Actions::default() };
        let oif_index = self.host.ifaces[oif].index;
        let mut ctx = PacketCtx {
            oif: oif_index,
            oiftype: 1,
            oifname: self.host.name16(oif_index),
            mark: sent.mark,
            priority: sent.priority,
            sk_uid: sent.sk_owner.map_or(0, |o| o.0),
            sk_gid: sent.sk_owner.map_or(0, |o| o.1),
            has_sk: u8::from(sent.sk_owner.is_some()),
            ..packet_ctx(&parsed, &net, parsed.th_offset(), pkt.len(), now)
        };
        let mut acts = Actions::default();
        let mut logged = 0u8;
        let mut last = Decider::NoChain;
        let mut cur: Option<CtVerdict> = None;
        let mut sink = Outcome::new(FinalVerdict::Accept, Reason::NotIp, Some(oif));
        let mut parsed = parsed;
        let mut dropped = false;
        let place = |parsed: &ctc_wire::Frame| nat::Place {
            iif: None,
            oif: Some(oif),
            local_out: true,
            src: parsed.network.and_then(|n| n.src).unwrap_or(dst),
            dst: parsed.network.and_then(|n| n.dst).unwrap_or(dst),
        };
        for (i, window) in [i32::MIN..=RAW_MAX, RAW_MAX + 1..=NAT_DST, NAT_DST + 1..=i32::MAX].into_iter().enumerate() {
            if i == 1 {
                cur = self.conntrack(&pkt, &parsed, &mut ctx, &acts, ctc_conntrack::Hook::Output, attach);
            }
            if i == 2 {
                let at = place(&parsed);
                if !self.nat_hook(&mut pkt, &mut parsed, link, &mut ctx, &mut acts, Manip::Dst, cur, at) {
                    dropped = true;
                    break;
                }
            }
            let r = self.hook(Hook::Output, &mut pkt, &ctx, &mut acts, window, cur);
            self.logs(out, &acts, &mut logged, &pkt, &parsed, &ctx);
            if self.finish_hook(r, &mut last, &mut sink).is_some() {
                dropped = true;
                break;
            }
        }
        if !dropped {
            for (i, window) in [i32::MIN..=NAT_SRC, NAT_SRC + 1..=i32::MAX].into_iter().enumerate() {
                if i == 1 {
                    let at = place(&parsed);
                    if !self.nat_hook(&mut pkt, &mut parsed, link, &mut ctx, &mut acts, Manip::Src, cur, at) {
                        dropped = true;
                        break;
                    }
                }
                let r = self.hook(Hook::Postrouting, &mut pkt, &ctx, &mut acts, window, cur);
                self.logs(out, &acts, &mut logged, &pkt, &parsed, &ctx);
                if self.finish_hook(r, &mut last, &mut sink).is_some() {
                    dropped = true;
                    break;
                }
            }
        }
        if !dropped && self.helper_stage(&mut pkt, link, &acts, cur, now).is_err() {
            dropped = true;
        }
        if let (Some(t), Some(v)) = (&mut self.ct, cur)
            && let Some(mut h) = v.handle
        {
            apply_ct_actions(t, self.vm.program(), h, &acts);
            if dropped {
                t.abandon(h);
            } else if !t.confirm_handle(&mut h, now) {
                dropped = true;
            }
        }
        if !dropped {
            out.out.push((oif, pkt));
        }
        acts
    }

    /// A packet the host itself sends (a live host's LOCAL_OUT), from its
    /// IP header on: the output path of [`Pipeline::process`]'s replies —
    /// the routing decision, conntrack, output and postrouting chains,
    /// confirmation. Accepted: `own` is the packet as it leaves, `oif` its
    /// interface. `sent`: what the kernel told of it.
    pub fn process_output(&mut self, pkt: Vec<u8>, now: u64, sent: Sent) -> Outcome {
        let mut events = self.advance(now);
        let mut out = Outcome::new(FinalVerdict::Drop, Reason::NoRoute, None);
        out.acts = self.local_out(pkt, Link::RawIp, now, None, sent, &mut out);
        if let Some((oif, p)) = out.out.pop() {
            out.verdict = FinalVerdict::Accept;
            out.reason = Reason::Decider(Decider::NoChain);
            out.oif = Some(oif);
            out.own = Some(p);
        }
        if let Some(t) = &mut self.ct {
            events.extend(t.take_events());
        }
        out.events = events;
        out
    }

    fn run(&mut self, frame: &Frame) -> Outcome {
        let iif = self.inputs.get(frame.input).copied().unwrap_or(0);
        let mut pkt = frame.data.clone();
        let mut parsed = parse(&pkt, frame.link);
        parsed.l4_checksum = frame.l4_checksum;
        let mut out = Outcome::new(FinalVerdict::Accept, Reason::NotIp, None);
        // Learn the link's MACs: ours is where unicast frames go, the
        // peer's is where they come from (veth links have one peer).
        if let Some(l) = parsed.link
            && let Some(f) = self.host.ifaces.get_mut(iif)
        {
            if l.dst.0[0] & 1 == 0 {
                f.own_mac = Some(l.dst.0);
            }
            f.peer_mac = Some(l.src.0);
        }
        let Some(net) = parsed.network.filter(|n| matches!(n.kind, NetworkKind::Ipv4 | NetworkKind::Ipv6)) else {
            return out;
        };
        // The kernel validates only the IP header before the hooks
        // (ip_rcv_core, ipv6_rcv); a broken transport header still reaches
        // the chains, where transport payload reads see whatever is there
        // (measured on Linux 6.18: a TCP segment with data offset 4 is
        // forwarded and counted by `meta l4proto tcp`).
        let mut th_off = parsed.th_offset();
        if let Some(m) = parsed.malformed {
            match m.layer {
                Layer::Tcp | Layer::Udp | Layer::Icmp | Layer::Icmpv6 => {
                    // The transport header starts right after the network
                    // header (and its extension headers), whatever it holds.
                    if !parsed.is_later_fragment() && net.header_len > 0 {
                        th_off = th_off.or(Some(net.offset + net.header_len));
                    }
                }
                // ipv6_find_hdr fails: no transport header for nft.
                Layer::Ipv6Ext => th_off = None,
                _ => {
                    out.verdict = FinalVerdict::Drop;
                    out.reason = Reason::Malformed(m.to_string());
                    return out;
                }
            }
        }
        let (Some(src), Some(dst)) = (net.src, net.dst) else {
            out.verdict = FinalVerdict::Drop;
            out.reason = Reason::Malformed("no addresses".into());
            return out;
        };
        let iif_index = self.host.ifaces.get(iif).map_or(0, |f| f.index);
        let mut ctx = PacketCtx {
            iif: iif_index,
            iiftype: 1, // ARPHRD_ETHER
            iifname: self.host.name16(iif_index),
            mark: frame.mark,
            priority: frame.priority,
            ..packet_ctx(&parsed, &net, th_off, pkt.len(), frame.time_ns)
        };
        ctx.pkttype = match parsed.link {
            Some(l) if l.dst.0 == [0xff; 6] => 1,
            Some(l) if l.dst.0[0] & 1 == 1 => 2,
            _ => 0,
        };
        let mut acts = Actions::default();
        let mut logged = 0u8;
        let mut last = Decider::NoChain;

        // prerouting: the raw chains (priority < NF_IP_PRI_CONNTRACK, -200)
        // run before conntrack sees the packet (`notrack`, `ct zone set`),
        // the others after it; the NAT core at -100 binds and rewrites the
        // destination.
        let place = |parsed: &ctc_wire::Frame, oif: Option<usize>| nat::Place {
            iif: Some(iif),
            oif,
            local_out: false,
            src: parsed.network.and_then(|n| n.src).unwrap_or(src),
            dst: parsed.network.and_then(|n| n.dst).unwrap_or(dst),
        };
        for (i, window) in [i32::MIN..=RAW_MAX, RAW_MAX + 1..=NAT_DST, NAT_DST + 1..=i32::MAX].into_iter().enumerate() {
            if i == 2 {
                let (cur, at) = (self.cur, place(&parsed, None));
                if !self.nat_hook(&mut pkt, &mut parsed, frame.link, &mut ctx, &mut acts, Manip::Dst, cur, at) {
                    return ended(out, Reason::NatDrop, acts);
                }
            }
            if i == 1 {
                self.cur = self.conntrack(&pkt, &parsed, &mut ctx, &acts, ctc_conntrack::Hook::Prerouting, None);
                out.ct_state = ct_state_name(ctx.ct.state);
                out.invalid_reason = self.cur.and_then(|v| v.reason).filter(|_| out.ct_state == "invalid");
                if self.cur.is_some_and(|v| v.drop) {
                    // The table is full and nothing could be evicted.
                    out.verdict = FinalVerdict::Drop;
                    out.reason = Reason::ConntrackDrop;
                    return out;
                }
            }
            let r = self.hook(Hook::Prerouting, &mut pkt, &ctx, &mut acts, window, self.cur);
            self.logs(&mut out, &acts, &mut logged, &pkt, &parsed, &ctx);
            if let Some(done) = self.finish_hook(r, &mut last, &mut out) {
                return self.dropped(done, out, &pkt, &parsed, iif, acts);
            }
        }
        carry_meta(&mut ctx, &acts);
        // A destination NAT changed where the packet goes.
        let Some(net) = parsed.network else { return out };
        let Some(dst) = net.dst else { return out };

        // The routing decision.
        let local = self.host.is_local(dst) || dst.is_multicast() || self.host.is_broadcast(dst);
        if local {
            for (i, window) in [i32::MIN..=NAT_SRC, NAT_SRC + 1..=i32::MAX].into_iter().enumerate() {
                if i == 1 {
                    let (cur, at) = (self.cur, place(&parsed, None));
                    if !self.nat_hook(&mut pkt, &mut parsed, frame.link, &mut ctx, &mut acts, Manip::Src, cur, at) {
                        return ended(out, Reason::NatDrop, acts);
                    }
                }
                let r = self.hook(Hook::Input, &mut pkt, &ctx, &mut acts, window, self.cur);
                self.logs(&mut out, &acts, &mut logged, &pkt, &parsed, &ctx);
                if let Some(done) = self.finish_hook(r, &mut last, &mut out) {
                    return self.dropped(done, out, &pkt, &parsed, iif, acts);
                }
                carry_meta(&mut ctx, &acts);
            }
            out.reason = Reason::Decider(last);
            out.acts = acts;
            if let Err(m) = self.helper_stage(&mut pkt, frame.link, &acts, self.cur, frame.time_ns) {
                return ended(out, Reason::HelperDrop(m), acts);
            }
            // The host's own stack answers what it was sent.
            let unicast = self.host.is_local(dst) && ctx.pkttype == 0;
            if self.emulate_stack
                && let Some(reply) = crate::stack::echo_reply(&pkt, &parsed, unicast)
            {
                out.local.push(reply);
            }
            out.own = Some(pkt);
            return out;
        }
        let Some(oif) = self.host.route(dst) else {
            out.verdict = FinalVerdict::Drop;
            out.reason = Reason::NoRoute;
            out.acts = acts;
            return out;
        };
        // ip_forward: an exhausted TTL is dropped before the forward hook,
        // and the host answers with ICMP time exceeded.
        let ttl_at = net.offset + if net.kind == NetworkKind::Ipv4 { 8 } else { 7 };
        if pkt.get(ttl_at).is_none_or(|&t| t <= 1) {
            out.verdict = FinalVerdict::Drop;
            out.reason = Reason::TtlExceeded;
            if let Some(reply) = reject::time_exceeded(&pkt, &parsed, &self.host, Some(iif)) {
                out.local.push(reply);
            }
            out.acts = acts;
            return out;
        }
        ctx.oif = self.host.ifaces[oif].index;
        ctx.oifname = self.host.name16(ctx.oif);
        ctx.oiftype = 1;
        out.oif = Some(oif);
        // ip_forward / ip6_forward: the TTL or hop limit goes down before
        // the forward hook (its chains see the new value).
        pkt[ttl_at] -= 1;
        if net.kind == NetworkKind::Ipv4 {
            let c = net.offset + 10;
            let hc = u16::from_be_bytes([pkt[c], pkt[c + 1]]);
            pkt[c..c + 2].copy_from_slice(&ttl_decrease_check(hc).to_be_bytes());
            // ip_forward: the priority from the TOS; a priority the
            // prerouting chains set is gone.
            if self.forward_update_priority {
                ctx.priority = tos_priority(pkt[net.offset + 1]);
                acts.set &= !actions::PRIORITY;
                out.priority_after_routing = true;
            }
        }
        let windows = [
            (Hook::Forward, i32::MIN..=i32::MAX),
            (Hook::Postrouting, i32::MIN..=NAT_SRC),
            (Hook::Postrouting, NAT_SRC + 1..=i32::MAX),
        ];
        for (i, (hook, window)) in windows.into_iter().enumerate() {
            if i == 2 {
                let (cur, at) = (self.cur, place(&parsed, Some(oif)));
                if !self.nat_hook(&mut pkt, &mut parsed, frame.link, &mut ctx, &mut acts, Manip::Src, cur, at) {
                    return ended(out, Reason::NatDrop, acts);
                }
            }
            let r = self.hook(hook, &mut pkt, &ctx, &mut acts, window, self.cur);
            self.logs(&mut out, &acts, &mut logged, &pkt, &parsed, &ctx);
            if let Some(done) = self.finish_hook(r, &mut last, &mut out) {
                return self.dropped(done, out, &pkt, &parsed, iif, acts);
            }
            carry_meta(&mut ctx, &acts);
        }
        out.reason = Reason::Decider(last);
        out.acts = acts;
        if let Err(m) = self.helper_stage(&mut pkt, frame.link, &acts, self.cur, frame.time_ns) {
            return ended(out, Reason::HelperDrop(m), acts);
        }
        // The output link's MACs.
        if let Some(l) = parsed.link
            && l.header_len >= 12
        {
            let f = &self.host.ifaces[oif];
            if let Some(peer) = f.peer_mac {
                pkt[0..6].copy_from_slice(&peer);
            }
            if let Some(own) = f.own_mac {
                pkt[6..12].copy_from_slice(&own);
            }
        }
        if self.forwarded_in_out {
            out.own = Some(pkt.clone());
            out.out.push((oif, pkt));
            out.own_in_out = true;
        } else {
            out.own = Some(pkt);
        }
        out
    }

    /// Record a hook's decider; `Some(verdict)` when the packet ends here.
    fn finish_hook(&self, r: ctc_vm::HookResult, last: &mut Decider, out: &mut Outcome) -> Option<FinalVerdict> {
        if r.by != Decider::NoChain {
            *last = r.by;
        }
        match r.verdict {
            HookVerdict::Accept => None,
            HookVerdict::Drop => {
                out.reason = Reason::Decider(r.by);
                Some(FinalVerdict::Drop)
            }
            HookVerdict::Queue { num, .. } => {
                out.reason = Reason::Decider(r.by);
                Some(FinalVerdict::Queue(num))
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn dropped(
        &self,
        v: FinalVerdict,
        mut out: Outcome,
        pkt: &[u8],
        parsed: &ctc_wire::Frame,
        iif: usize,
        acts: Actions,
    ) -> Outcome {
        out.verdict = v;
        if acts.set & actions::REJECT != 0 {
            let kind = match acts.reject_kind {
                1 => Some(Reject::Icmp(acts.reject_code)),
                2 => Some(Reject::Icmpv6(acts.reject_code)),
                3 => Some(Reject::Icmpx(acts.reject_code)),
                4 => Some(Reject::TcpReset),
                _ => None,
            };
            if let Some(reply) = kind.and_then(|k| reject::build(k, pkt, parsed, &self.host, Some(iif))) {
                out.local.push(reply);
            }
        }
        out.acts = acts;
        out
    }

    /// nf_conntrack_in at NF_IP_PRI_CONNTRACK (prerouting, or output for the
    /// host's own packets): look the packet up (or not, after `notrack`) —
    /// or, for a reply the host generated about `cause`, attach it to that
    /// connection (nf_conntrack_attach) — and give the chains what it found.
    fn conntrack(
        &mut self,
        pkt: &[u8],
        parsed: &ctc_wire::Frame,
        ctx: &mut PacketCtx,
        acts: &Actions,
        hook: ctc_conntrack::Hook,
        cause: Option<CtVerdict>,
    ) -> Option<CtVerdict> {
        let Some(t) = &mut self.ct else {
            ctx.ct.state = ct_state::UNTRACKED;
            return None;
        };
        if acts.set & actions::NOTRACK != 0 {
            ctx.ct.state = ct_state::UNTRACKED;
            return None;
        }
        let v = match cause {
            Some(c) => t.attach(&c),
            None => {
                let zone = if acts.set & actions::CT_ZONE != 0 { acts.ct_zone } else { 0 };
                // The lookup starts from the node the lookup ahead of this
                // frame found, where it holds the packet's tuple (the same
                // result as without it, for any packet).
                t.packet_ahead(&self.ahead, pkt, parsed, ctx.time_ns, zone, hook)
            }
        };
        ctx.ct = ct_info(t, &v, ctx.time_ns);
        Some(v)
    }

    /// nf_confirm's steps before the confirmation itself: a helper asked for
    /// with `ct helper set` is attached to a connection not confirmed yet,
    /// then the connection's helper looks at the packet and the TCP
    /// sequence adjustment applies (see `Tracker::help`). `Err`: the
    /// helper dropped the packet.
    fn helper_stage(
        &mut self,
        pkt: &mut Vec<u8>,
        link: Link,
        acts: &Actions,
        cur: Option<CtVerdict>,
        now: u64,
    ) -> Result<(), &'static str> {
        let (Some(t), Some(v)) = (&mut self.ct, cur) else { return Ok(()) };
        let Some(h) = v.handle else { return Ok(()) };
        if acts.set & actions::HELPER != 0
            && let Some(e) = t.entry(h)
            && !e.is_confirmed()
            && e.helper.is_none()
        {
            let name = &acts.helper;
            let name = String::from_utf8_lossy(&name[..name.iter().position(|&c| c == 0).unwrap_or(16)]).into_owned();
            t.set_helper(h, ctc_conntrack::Helper::from_name(&name));
        }
        let Some(e) = t.entry(h) else { return Ok(()) };
        if e.helper.is_none() && e.status & ctc_conntrack::status::SEQ_ADJUST == 0 {
            return Ok(());
        }
        let parsed = parse(pkt, link);
        let (Some(n), Some(th)) = (parsed.network, parsed.th_offset()) else { return Ok(()) };
        match t.help(&v, pkt, n.offset, th, n.end, now) {
            ctc_conntrack::HelpVerdict::Accept => Ok(()),
            ctc_conntrack::HelpVerdict::Drop(m) => Err(m),
        }
    }

    /// The NAT core at a hook of kind `manip` (nf_nat_ipv4_fn and
    /// nf_nat_inet_fn): an ICMP error RELATED to a connection is translated
    /// as the connection is; a new or related connection not bound for this
    /// kind yet is bound, from the NAT chains' request or with a null
    /// binding; then the packet is rewritten per the binding
    /// (nf_nat_packet). `false`: the packet is dropped.
    #[allow(clippy::too_many_arguments)]
    fn nat_hook(
        &mut self,
        pkt: &mut [u8],
        parsed: &mut ctc_wire::Frame,
        link: Link,
        ctx: &mut PacketCtx,
        acts: &mut Actions,
        manip: Manip,
        cur: Option<CtVerdict>,
        place: nat::Place,
    ) -> bool {
        let fam = if ctx.nfproto == 2 { NAT_V4 } else { NAT_V6 };
        if self.nat_families & fam == 0 {
            return true;
        }
        let (Some(t), Some(v)) = (&mut self.ct, cur) else { return true };
        let (Some(h), Some(n)) = (v.handle, parsed.network) else { return true };
        let (nh, end, now) = (n.offset, n.end, ctx.time_ns);
        let icmp = if ctx.nfproto == 2 { 1 } else { 58 };
        // What `ct` expressions read changes only when a binding is made
        // (the reply tuple, the NAT status bits).
        let mut bound = false;
        let changed = if v.state == CtState::Related && ctx.l4proto == icmp {
            t.nat_icmp_error(h, v.dir, manip, pkt, nh, end)
        } else {
            if matches!(v.state, CtState::New | CtState::Related) && !t.nat_initialized(h, manip) {
                bound = true;
                if acts.set & actions::NAT != 0 && nat::manip_of(&acts.nat) == Some(manip) {
                    acts.set &= !actions::NAT;
                    match nat::range_of(&acts.nat, &self.host, &place) {
                        Ok(r) => t.nat_setup(h, &r, manip, now),
                        Err(()) => return false,
                    };
                } else {
                    t.nat_null_binding(h, manip, now);
                }
            }
            t.nat_packet(h, v.dir, manip, pkt, nh, end)
        };
        let Some(changed) = changed else { return false };
        if bound {
            ctx.ct = ct_info(t, &v, now);
        }
        if changed {
            *parsed = parse(pkt, link);
        }
        true
    }

    /// The lines of the `log` statements a hook just ran (those after the
    /// first `*logged`), as the kernel writes them there: the packet as
    /// the hook leaves it (before later NAT, TTL and interfaces), its mark
    /// and its socket's owner.
    fn logs(
        &self,
        out: &mut Outcome,
        acts: &Actions,
        logged: &mut u8,
        pkt: &[u8],
        parsed: &ctc_wire::Frame,
        ctx: &PacketCtx,
    ) {
        if acts.n_logs <= *logged {
            return;
        }
        let name =
            |b: &[u8; 16]| String::from_utf8_lossy(&b[..b.iter().position(|&c| c == 0).unwrap_or(16)]).into_owned();
        let (iif, oif) = (name(&ctx.iifname), name(&ctx.oifname));
        let skb = log::Skb {
            mark: if acts.set & actions::MARK != 0 { acts.mark } else { ctx.mark },
            sk_owner: (ctx.has_sk != 0).then_some((ctx.sk_uid, ctx.sk_gid)),
        };
        for &id in acts.logs.iter().take(acts.n_logs as usize).skip(usize::from(*logged)) {
            let def = self.vm.program().logs.get(id as usize);
            let prefix = def.and_then(|d| d.prefix.clone()).unwrap_or_default();
            let flags = def.map_or(0, |d| d.flags);
            out.logs.push(log::line(&prefix, flags, &iif, &oif, pkt, parsed, skb));
        }
        *logged = acts.n_logs;
    }

    /// `FILE:LINE` of a rule, `policy`, or why no rule decided.
    pub fn reason_text(&self, r: &Reason) -> String {
        match r {
            Reason::Decider(d @ Decider::Rule { .. }) => {
                self.vm.rule_loc(*d).map_or_else(|| "rule".to_string(), |l| format!("{}:{}", l.file, l.line))
            }
            Reason::Decider(Decider::Policy { .. }) => "policy".into(),
            Reason::Decider(Decider::NoChain) => "no-chain".into(),
            Reason::NotIp => "not-ip".into(),
            Reason::Malformed(m) => format!("malformed: {m}"),
            Reason::NoRoute => "no-route".into(),
            Reason::TtlExceeded => "ttl-exceeded".into(),
            Reason::ConntrackDrop => "conntrack".into(),
            Reason::NatDrop => "nat".into(),
            Reason::HelperDrop(m) => format!("helper: {m}"),
        }
    }

    /// The name of interface `i` of the host model.
    pub fn name_of(&self, i: usize) -> &str {
        self.host.ifaces.get(i).map_or("", |f| f.name.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookups_ahead_find_the_ip_packet_of_a_frame() {
        let ip = [0x45u8, 0, 0, 20];
        let eth = |ty: [u8; 2], rest: &[u8]| [&[0u8; 12][..], &ty, rest].concat();
        assert_eq!(ip_of(Link::RawIp, &ip), Some(&ip[..]));
        assert_eq!(ip_of(Link::Ethernet, &eth([0x08, 0x00], &ip)), Some(&ip[..]));
        assert_eq!(ip_of(Link::Ethernet, &eth([0x86, 0xdd], &ip)), Some(&ip[..]));
        let tagged = eth([0x81, 0x00], &[&[0, 5, 0x08, 0x00][..], &ip].concat());
        assert_eq!(ip_of(Link::Ethernet, &tagged), Some(&ip[..]));
        assert_eq!(ip_of(Link::Ethernet, &eth([0x81, 0x00], &[0, 5, 0x08, 0x06])), None);
        assert_eq!(ip_of(Link::Ethernet, &eth([0x08, 0x06], &ip)), None);
        assert_eq!(ip_of(Link::Ethernet, &[0u8; 13]), None);
    }
}
