//! The semantics of every op: the specification the JIT must agree with.
//!
//! An op either goes on, breaks the rule (a failed test or a value that
//! cannot be had: the kernel's NFT_BREAK, evaluation goes on with the next
//! rule), or gives a verdict. Loads write big-endian byte strings and zero
//! the rest of their last 32-bit word. Kernel values kept in host order
//! (marks, interface indexes, lengths, ct state and status, counters, hash
//! results) are stored big-endian.
//!
//! | op | semantics |
//! |---|---|
//! | Payload | `len` bytes at base + offset; breaks when the base is [`ABSENT`] (no transport header in a non-first fragment, no inner header) or the bytes run past the frame (nft_payload_eval's `skb_copy_bits` failing) |
//! | Meta | see [`Exec::meta`] |
//! | Ct | see [`Exec::ct`] |
//! | Fib | see [`Exec::fib`] |
//! | Exthdr | the IPv6 extension header `hdr` found like `ipv6_find_hdr`: the field's bytes (break when absent or truncated), or with `present` one byte 1/0 |
//! | TcpOpt | the TCP option `kind` found like `nft_exthdr_tcp_eval`: its bytes (break when absent, or shorter than offset + len), or with `present` one byte 1/0 |
//! | Immediate | the constant |
//! | Bitwise | `(src & mask) ^ xor`, byte by byte |
//! | Shift | the `len` bytes as one big-endian integer shifted by `amount` bits, zeros shifted in |
//! | Hash | `reciprocal_scale(jhash(src, seed), modulus) + offset` (nft_jhash_eval); symmetric: see [`Exec::symhash`] |
//! | Numgen | inc: per-op counter 0, 1, … modulus-1, 0, … (nft_ng_inc_gen) + offset; random: `reciprocal_scale(random, modulus) + offset` from the State's deterministic generator |
//! | Cmp | the first `data.len()` bytes of `src` against `data` as big-endian integers (byte-string order); a shorter `data` compares a prefix (interface name wildcards `"eth*"`) |
//! | Range | `lo <= src <= hi` over `lo.len()` bytes, negated with `negate` |
//! | Lookup | key in set (dynamic contents first, then static elements); break unless found (or not found with `negate`); a map copies the element's data to `dst` |
//! | VerdictMap | the element's verdict; no element: break (nft_lookup: NFT_BREAK); an element verdict `continue` goes on with the next op |
//! | Verdict | ends the rule; `continue` goes on with the next rule |
//! | Counter | packets += 1, bytes += skb->len: the network-layer length (frame length minus the network header offset), as the kernel counts at ip/ip6/inet hooks |
//! | Limit | token bucket on the packet clock (nft_limit_eval), see [`State`] |
//! | Quota | consumed += skb->len; over when consumed >= quota; break when over (or when under with `over`) (nft_quota) |
//! | Log | LogId recorded in [`Actions::logs`] (beyond [`MAX_LOGS`]: `State::logs_dropped`) |
//! | Reject | recorded in [`Actions`], verdict drop |
//! | MetaSet | mark, priority: recorded and seen at once by later reads; pkttype: only between valid types (host, broadcast, multicast, otherhost), as nft_meta_set_eval; nftrace: ignored |
//! | CtSet | mark: only with a conntrack entry (nft_ct_set_eval), seen at once by `ct mark`; zone: only before the packet has an entry (nft_ct_set_zone_eval); label, event: not modelled (no effect) |
//! | PayloadSet | writes the frame in place; checksums per [`Csum`] (RFC 1624), see [`Exec::payload_set`]; break when out of bounds |
//! | Notrack | only for a packet without entry (nft_notrack_eval): recorded, `ct state` then reads untracked |
//! | CtHelper | only for an entry not yet confirmed, without helper, of the helper's protocol (nft_ct_helper_obj_eval) |
//! | Nat | recorded, then the chain ends with accept (nft_nat_eval returns nf_nat_setup_info's NF_ACCEPT) |
//! | SetUpdate | add/refresh (`timeout` from the op or the set, on the packet clock) or delete a key of a dynamic set; a full set breaks; a static set is not changed |
//!
//! [`ABSENT`]: ctc_ir::abi::ABSENT
//! [`MAX_LOGS`]: ctc_ir::abi::MAX_LOGS
//! [`State`]: crate::State
//! [`Csum`]: ctc_ir::Csum

use crate::hash::{jhash, reciprocal_scale};
use crate::host::{FibQuery, Host, rtn};
use crate::{State, Vm, csum, hdr};
use ctc_ir::abi::{ABSENT, Actions, MAX_LOGS, PacketCtx, actions as act, ct_state};
use ctc_ir::{
    Base, CtKey, CtSetKey, Dir, ElementData, FibFlags, FibResult, Hook, MAX_LEN, MetaKey, MetaSetKey, NatKind, Op, Reg,
    Reject, Rule, Verdict,
};

/// The register file: [`MAX_LEN`] bytes, big-endian values in 32-bit
/// words. Transparent so compiled code (`ctc-jit`) can address its bytes
/// directly and share the file with the ops it leaves to the interpreter.
#[repr(transparent)]
#[derive(Debug, Clone)]
pub struct Regs(pub [u8; MAX_LEN]);

impl Default for Regs {
    fn default() -> Regs {
        Regs::new()
    }
}

impl Regs {
    pub fn new() -> Regs {
        Regs([0; MAX_LEN])
    }
    fn get(&self, r: Reg, len: usize) -> &[u8] {
        let a = r.0 as usize * 4;
        &self.0[a..a + len]
    }
    /// `len` bytes at `r`, the rest of the last word zeroed, filled from
    /// `val` (shorter values are zero-extended on the right).
    fn put(&mut self, r: Reg, len: u8, val: &[u8]) {
        let a = r.0 as usize * 4;
        let w = (len as usize).div_ceil(4) * 4;
        let dst = &mut self.0[a..a + w];
        dst.fill(0);
        let n = val.len().min(len as usize);
        dst[..n].copy_from_slice(&val[..n]);
    }
}

/// The mutable part of the packet's context, as the chains see it: what
/// `meta mark set` & co. changed is what later reads see. `repr(C)` so
/// compiled code reads the fields by offset.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct Work {
    pub mark: u32,
    pub priority: u32,
    pub ct_mark: u32,
    /// `ct state` bit as the chains read it.
    pub ct_state: u32,
    /// IPS_*_NAT_DONE bits of bindings requested in this hook.
    pub nat_done: u32,
    pub pkttype: u8,
}

impl Work {
    pub(crate) fn new(ctx: &PacketCtx, a: &Actions) -> Work {
        let has = |bit: u32| a.set & bit != 0;
        // The kernel's nft_ct_get_eval for `ct state`: the state bit of the
        // conntrack attached to the packet, as the tracker stated it — also
        // when the entry itself is gone (a RST that killed the connection
        // still carries it: `ct state established`); without one, untracked
        // when notrack'ed, else invalid (also before conntrack has seen the
        // packet).
        let ct_state = if ctx.ct.state != 0 && ctx.ct.state != ct_state::UNTRACKED && !has(act::NOTRACK) {
            ctx.ct.state
        } else if ctx.ct.state == ct_state::UNTRACKED || has(act::NOTRACK) {
            ct_state::UNTRACKED
        } else {
            ct_state::INVALID
        };
        Work {
            mark: if has(act::MARK) { a.mark } else { ctx.mark },
            priority: if has(act::PRIORITY) { a.priority } else { ctx.priority },
            pkttype: if has(act::PKTTYPE) { a.pkttype } else { ctx.pkttype },
            ct_mark: if has(act::CT_MARK) { a.ct_mark } else { ctx.ct.mark },
            ct_state,
            nat_done: 0,
        }
    }
}

/// One packet's evaluation.
pub(crate) struct Exec<'a> {
    pub(crate) vm: &'a Vm,
    pub(crate) state: &'a mut State,
    pub(crate) host: &'a dyn Host,
    pub(crate) hook: Hook,
    pub(crate) pkt: &'a mut [u8],
    pub(crate) ctx: &'a PacketCtx,
    pub(crate) work: &'a mut Work,
    pub(crate) actions: &'a mut Actions,
    pub(crate) regs: &'a mut Regs,
}

/// What an op does to the rule.
pub(crate) enum Step {
    Go,
    Break,
    Verdict(Verdict),
}

fn go(ok: bool) -> Step {
    if ok { Step::Go } else { Step::Break }
}

fn be32(v: u32) -> [u8; 4] {
    v.to_be_bytes()
}

impl Exec<'_> {
    /// The frame length the ops may read: the context's, within the bytes.
    pub(crate) fn frame_len(&self) -> usize {
        (self.ctx.len as usize).min(self.pkt.len())
    }

    fn base(&self, b: Base) -> Option<usize> {
        let off = match b {
            Base::Link => self.ctx.ll_off,
            Base::Network => self.ctx.nh_off,
            Base::Transport => self.ctx.th_off,
            Base::Inner => self.ctx.ih_off,
        };
        (off != ABSENT && (off as usize) <= self.frame_len()).then_some(off as usize)
    }

    /// `skb->len` at ip/ip6/inet hooks: from the network header to the end.
    pub(crate) fn skb_len(&self) -> u64 {
        let f = self.frame_len();
        match self.base(Base::Network) {
            Some(nh) => (f - nh) as u64,
            None => f as u64,
        }
    }

    fn bytes(&self, start: usize, len: usize) -> Option<&[u8]> {
        let end = start.checked_add(len)?;
        (end <= self.frame_len()).then(|| &self.pkt[start..end])
    }

    /// The packet's addresses (saddr, daddr) per `ctx.nfproto`.
    fn addrs(&self) -> Option<(&[u8], &[u8])> {
        let nh = self.base(Base::Network)?;
        match self.ctx.nfproto {
            2 => Some((self.bytes(nh + 12, 4)?, self.bytes(nh + 16, 4)?)),
            10 => Some((self.bytes(nh + 8, 16)?, self.bytes(nh + 24, 16)?)),
            _ => None,
        }
    }

    /// Run one rule: `None` when it breaks or ends without verdict.
    pub(crate) fn rule(&mut self, chain: u32, rule: u32, r: &Rule) -> Option<Verdict> {
        let mut numgen = self.vm.numgen_base[chain as usize][rule as usize];
        for op in &r.ops {
            match self.op(op, &mut numgen) {
                Step::Go => {}
                Step::Break => return None,
                Step::Verdict(v) => return Some(v),
            }
        }
        None
    }

    pub(crate) fn op(&mut self, op: &Op, numgen: &mut u32) -> Step {
        match op {
            Op::Payload { dst, base, offset, len } => {
                let Some(b) = self.base(*base) else { return Step::Break };
                let Some(v) = self.bytes(b + *offset as usize, *len as usize) else { return Step::Break };
                let mut buf = [0u8; MAX_LEN];
                buf[..v.len()].copy_from_slice(v);
                self.regs.put(*dst, *len, &buf[..*len as usize]);
                Step::Go
            }
            Op::Meta { dst, key, len } => self.meta(*dst, *key, *len),
            Op::Ct { dst, key, dir, len } => self.ct(*dst, *key, *dir, *len),
            Op::Fib { dst, flags, result, len } => self.fib(*dst, *flags, *result, *len),
            Op::Exthdr { dst, hdr: h, offset, len, present } => {
                let found = match (self.ctx.nfproto, self.base(Base::Network)) {
                    (10, Some(nh)) => hdr::ipv6_find_hdr(&self.pkt[..self.frame_len()], nh, *h),
                    _ => None,
                };
                self.field_or_presence(*dst, found, *offset, *len, *present)
            }
            Op::TcpOpt { dst, kind, offset, len, present } => {
                let found = self.tcp_opt(*kind, *offset as usize + *len as usize);
                self.field_or_presence(*dst, found, *offset, *len, *present)
            }
            Op::Immediate { dst, data } => {
                self.regs.put(*dst, data.len() as u8, data);
                Step::Go
            }
            Op::Bitwise { dst, src, len, mask, xor } => {
                let mut buf = [0u8; MAX_LEN];
                let n = *len as usize;
                for (i, b) in self.regs.get(*src, n).iter().enumerate() {
                    buf[i] = (b & mask[i]) ^ xor[i];
                }
                self.regs.put(*dst, *len, &buf[..n]);
                Step::Go
            }
            Op::Shift { dst, src, len, left, amount } => {
                let n = *len as usize;
                let mut buf = [0u8; MAX_LEN];
                shift(self.regs.get(*src, n), &mut buf[..n], *left, *amount as usize);
                self.regs.put(*dst, *len, &buf[..n]);
                Step::Go
            }
            Op::Hash { dst, src, symmetric, modulus, seed, offset } => {
                let h = match src {
                    Some((s, l)) if !symmetric => jhash(self.regs.get(*s, *l as usize), *seed),
                    _ => self.symhash(),
                };
                let v = reciprocal_scale(h, *modulus).wrapping_add(*offset);
                self.regs.put(*dst, 4, &be32(v));
                Step::Go
            }
            Op::Numgen { dst, random, modulus, offset } => {
                let v = if *random {
                    reciprocal_scale(self.state.random(), *modulus)
                } else {
                    // nft_ng_inc_gen: the counter starts at modulus - 1.
                    let c = &mut self.state.numgen[*numgen as usize];
                    *numgen += 1;
                    *c = if c.wrapping_add(1) < *modulus { *c + 1 } else { 0 };
                    *c
                };
                self.regs.put(*dst, 4, &be32(v.wrapping_add(*offset)));
                Step::Go
            }
            Op::Cmp { src, op, data } => go(op.holds(self.regs.get(*src, data.len()), data)),
            Op::Range { src, lo, hi, negate } => {
                let v = self.regs.get(*src, lo.len());
                let inside = lo.as_slice() <= v && v <= hi.as_slice();
                go(inside != *negate)
            }
            Op::Lookup { src, len, set, negate, dst } => {
                let found = self.find(set.index(), *src, *len as usize);
                if found.is_some() == *negate {
                    return Step::Break;
                }
                if let (Some(d), Some(hit)) = (dst, found) {
                    let s = &self.vm.program().sets[set.index()];
                    match hit.and_then(|i| s.elements[i as usize].data.as_ref()) {
                        Some(ElementData::Value(v)) => self.regs.put(*d, s.data_len, v),
                        // A key added at run time carries no data.
                        _ => self.regs.put(*d, s.data_len, &[]),
                    }
                }
                Step::Go
            }
            Op::VerdictMap { src, len, set } => {
                let s = &self.vm.program().sets[set.index()];
                match self.find(set.index(), *src, *len as usize) {
                    Some(Some(i)) => match &s.elements[i as usize].data {
                        Some(ElementData::Verdict(Verdict::Continue)) => Step::Go,
                        Some(ElementData::Verdict(v)) => Step::Verdict(*v),
                        _ => Step::Break,
                    },
                    _ => Step::Break,
                }
            }
            Op::Verdict(v) => Step::Verdict(*v),
            Op::Counter(c) => {
                let len = self.skb_len();
                let e = &mut self.state.counters[c.index()];
                e[0] = e[0].wrapping_add(1);
                e[1] = e[1].wrapping_add(len);
                Step::Go
            }
            Op::Limit(l) => {
                let len = self.skb_len();
                go(self.state.limit(l.index(), &self.vm.limits[l.index()], self.ctx.time_ns, len))
            }
            Op::Quota(q) => {
                let d = &self.vm.program().quotas[q.index()];
                let len = self.skb_len();
                go(self.state.quota(q.index(), d.bytes, d.over, len))
            }
            Op::Log(l) => {
                let n = self.actions.n_logs as usize;
                if n < MAX_LOGS {
                    self.actions.logs[n] = l.0;
                    self.actions.n_logs += 1;
                } else {
                    self.state.logs_dropped += 1;
                }
                Step::Go
            }
            Op::Reject(r) => {
                let (kind, code) = match r {
                    Reject::Icmp(c) => (1, *c),
                    Reject::Icmpv6(c) => (2, *c),
                    Reject::Icmpx(c) => (3, *c),
                    Reject::TcpReset => (4, 0),
                };
                self.actions.reject_kind = kind;
                self.actions.reject_code = code;
                self.actions.set |= act::REJECT;
                Step::Verdict(Verdict::Drop)
            }
            Op::MetaSet { key, src } => {
                let v = self.regs.get(*src, 4);
                let word = u32::from_be_bytes([v[0], v[1], v[2], v[3]]);
                match key {
                    MetaSetKey::Mark => {
                        self.work.mark = word;
                        self.actions.mark = word;
                        self.actions.set |= act::MARK;
                    }
                    MetaSetKey::Priority => {
                        self.work.priority = word;
                        self.actions.priority = word;
                        self.actions.set |= act::PRIORITY;
                    }
                    MetaSetKey::PktType => {
                        // skb_pkt_type_ok: up to PACKET_OTHERHOST (3).
                        let t = v[0];
                        if t != self.work.pkttype && t <= 3 && self.work.pkttype <= 3 {
                            self.work.pkttype = t;
                            self.actions.pkttype = t;
                            self.actions.set |= act::PKTTYPE;
                        }
                    }
                    MetaSetKey::NfTrace => {}
                }
                Step::Go
            }
            Op::CtSet { key, src, len } => {
                let v = self.regs.get(*src, *len as usize);
                let has_ct = self.ctx.ct.has_entry != 0;
                match key {
                    CtSetKey::Mark if has_ct && v.len() >= 4 => {
                        let m = u32::from_be_bytes([v[0], v[1], v[2], v[3]]);
                        self.work.ct_mark = m;
                        self.actions.ct_mark = m;
                        self.actions.set |= act::CT_MARK;
                    }
                    CtSetKey::Zone if !has_ct && v.len() >= 2 => {
                        self.actions.ct_zone = u16::from_be_bytes([v[0], v[1]]);
                        self.actions.set |= act::CT_ZONE;
                    }
                    _ => {}
                }
                Step::Go
            }
            Op::PayloadSet { base, offset, len, src, csum } => self.payload_set(*base, *offset, *len, *src, *csum),
            Op::Notrack => {
                if self.ctx.ct.has_entry == 0 {
                    self.actions.set |= act::NOTRACK;
                    self.work.ct_state = ct_state::UNTRACKED;
                }
                Step::Go
            }
            Op::CtTimeout(t) => {
                // nft_ct_timeout_obj_eval: only for a conntrack entry that
                // is not confirmed yet (the first packet of a connection,
                // after NF_IP_PRI_CONNTRACK), of the policy's protocol
                // (measured on Linux 6.18: in a raw-priority chain, or on a
                // later packet, nothing happens).
                let policy = &self.vm.program().timeouts[t.index()];
                let ct = &self.ctx.ct;
                if ct.has_entry != 0 && ct.status & crate::IPS_CONFIRMED == 0 && self.ctx.l4proto == policy.l4proto {
                    self.actions.ct_timeout = t.0;
                    self.actions.set |= act::CT_TIMEOUT;
                }
                Step::Go
            }
            Op::CtHelper { name, l4proto } => {
                const IPS_HELPER: u32 = 1 << 13;
                let ct = &self.ctx.ct;
                if ct.has_entry != 0
                    && ct.status & (crate::IPS_CONFIRMED | IPS_HELPER) == 0
                    && ct.protocol == *l4proto
                    && self.actions.set & act::HELPER == 0
                {
                    let mut n = [0u8; 16];
                    let b = name.as_bytes();
                    let k = b.len().min(15);
                    n[..k].copy_from_slice(&b[..k]);
                    self.actions.helper = n;
                    self.actions.helper_l4proto = *l4proto;
                    self.actions.set |= act::HELPER;
                }
                Step::Go
            }
            Op::CtExpect(e) => match self.host.ct_expect(&self.vm.program().expectations[e.index()]) {
                crate::ExpectOutcome::Made => Step::Go,
                crate::ExpectOutcome::Break => Step::Break,
                crate::ExpectOutcome::Drop => Step::Verdict(Verdict::Drop),
            },
            Op::Nat(n) => {
                // nft_nat_inet_eval: in an inet table, `snat ip to ...` does
                // nothing to an IPv6 packet (and `ip6` forms to IPv4 ones):
                // the rule goes on as if the statement were not there.
                let fam = match n.addr_len {
                    4 => 2,
                    16 => 10,
                    _ => self.ctx.nfproto,
                };
                if fam != self.ctx.nfproto {
                    return Step::Go;
                }
                let mut a = ctc_ir::abi::NatAction {
                    kind: match n.kind {
                        NatKind::Snat => 1,
                        NatKind::Dnat => 2,
                        NatKind::Masquerade => 3,
                        NatKind::Redirect => 4,
                    },
                    ..Default::default()
                };
                if let Some(lo) = n.addr_min {
                    let l = n.addr_len as usize;
                    a.addr_len = n.addr_len;
                    a.addr_min[..l].copy_from_slice(self.regs.get(lo, l));
                    let hi = n.addr_max.unwrap_or(lo);
                    a.addr_max[..l].copy_from_slice(self.regs.get(hi, l));
                }
                if let Some(lo) = n.port_min {
                    let p = self.regs.get(lo, 2);
                    a.has_port = 1;
                    a.port_min = u16::from_be_bytes([p[0], p[1]]);
                    let p = self.regs.get(n.port_max.unwrap_or(lo), 2);
                    a.port_max = u16::from_be_bytes([p[0], p[1]]);
                }
                let f = n.flags;
                // NF_NAT_RANGE_PROTO_RANDOM 4, PERSISTENT 8, PROTO_RANDOM_FULLY 16, NETMAP 64.
                for (on, bit) in [(f.random, 4), (f.persistent, 8), (f.fully_random, 16), (f.netmap, 64)] {
                    if on {
                        a.flags |= bit;
                    }
                }
                self.actions.nat = a;
                self.actions.set |= act::NAT;
                self.work.nat_done |= match n.kind {
                    NatKind::Snat | NatKind::Masquerade => crate::IPS_SRC_NAT_DONE,
                    NatKind::Dnat | NatKind::Redirect => crate::IPS_DST_NAT_DONE,
                };
                Step::Verdict(Verdict::Accept)
            }
            Op::SetUpdate { set, src, len, delete, timeout_ms, limit } => {
                let now = self.ctx.time_ns;
                let timeout = timeout_ms.or(self.vm.program().sets[set.index()].timeout_ms);
                let key = self.regs.get(*src, *len as usize);
                match self.state.dynsets[set.index()].as_mut() {
                    // nft_dynset: delete always goes on.
                    Some(d) if *delete => {
                        d.elems.remove(key);
                        d.buckets.remove(key);
                        Step::Go
                    }
                    Some(d) => {
                        let expiry = timeout.map(|t| now.saturating_add(t.saturating_mul(1_000_000)));
                        if !d.update(key, expiry, now) {
                            return Step::Break;
                        }
                        // nft_dynset: the element's expression runs; its
                        // NFT_BREAK ends the rule.
                        match limit {
                            Some(l) => {
                                let len = self.ctx.len as u64 - u64::from(self.ctx.nh_off.min(self.ctx.len));
                                go(d.limit(key, &self.vm.limits[l.index()], now, len))
                            }
                            None => Step::Go,
                        }
                    }
                    None => Step::Go,
                }
            }
        }
    }

    /// A set lookup: `Some(Some(i))` for static element `i`, `Some(None)`
    /// for a key a dynamic set holds at packet time.
    fn find(&self, set: usize, src: Reg, len: usize) -> Option<Option<u32>> {
        let key = self.regs.get(src, len);
        if let Some(d) = &self.state.dynsets[set]
            && d.contains(key, self.ctx.time_ns)
        {
            return Some(None);
        }
        self.vm.sets[set].find(&self.vm.program().sets[set].elements, key).map(Some)
    }

    /// Exthdr/TcpOpt result: the field's bytes at `found + offset`, or the
    /// presence byte. nft_exthdr stores presence as a whole register word.
    fn field_or_presence(&mut self, dst: Reg, found: Option<usize>, offset: u16, len: u8, present: bool) -> Step {
        if present {
            self.regs.put(dst, len, &[found.is_some() as u8]);
            return Step::Go;
        }
        let Some(at) = found else { return Step::Break };
        let Some(v) = self.bytes(at + offset as usize, len as usize) else { return Step::Break };
        let mut buf = [0u8; MAX_LEN];
        buf[..v.len()].copy_from_slice(v);
        self.regs.put(dst, len, &buf[..len as usize]);
        Step::Go
    }

    /// Frame offset of TCP option `kind` (nft_exthdr_tcp_eval): a TCP
    /// packet with its whole header (`doff * 4` bytes, at least 20) in the
    /// frame, the option at least `need` bytes long.
    fn tcp_opt(&self, kind: u8, need: usize) -> Option<usize> {
        if self.ctx.l4proto != 6 {
            return None;
        }
        let th = self.base(Base::Transport)?;
        let doff = *self.bytes(th + 12, 1)?.first()? >> 4;
        let hl = doff as usize * 4;
        if hl < 20 {
            return None;
        }
        let tcph = self.bytes(th, hl)?;
        hdr::tcp_find_opt(tcph, kind, need).map(|i| th + i)
    }

    /// `meta KEY` (nft_meta_get_eval).
    ///
    /// - len: skb->len (network header to the end), 4 bytes;
    /// - nfproto, l4proto (break without network header), 1 byte;
    /// - protocol: the ethertype, 2 bytes;
    /// - mark, priority: the working copy (after `meta ... set`), 4 bytes;
    /// - iif, oif: interface index, 0 without device, 4 bytes; iifname,
    ///   oifname: 16 bytes NUL padded, empty without device; iiftype,
    ///   oiftype (2 bytes), iifgroup, oifgroup (4 bytes, always the default
    ///   group 0: groups are not modelled): break without device;
    /// - pkttype: 1 byte;
    /// - time: ns since the epoch of the packet clock, 8 bytes; day: day of
    ///   week, 0 = Sunday, of the packet time in UTC (the kernel uses the
    ///   system time zone; hosts run in UTC), 1 byte; hour: seconds since
    ///   midnight UTC, 4 bytes;
    /// - random: the State's deterministic generator; cpu: always 0;
    /// - skuid, skgid: the socket owner's, 4 bytes; break without socket.
    fn meta(&mut self, dst: Reg, key: MetaKey, len: u8) -> Step {
        let ctx = self.ctx;
        let mut buf = [0u8; 16];
        let n = match key {
            MetaKey::Len => {
                buf[..4].copy_from_slice(&be32(self.skb_len() as u32));
                4
            }
            MetaKey::NfProto => {
                buf[0] = ctx.nfproto;
                1
            }
            MetaKey::L4Proto => {
                if self.base(Base::Network).is_none() {
                    return Step::Break;
                }
                buf[0] = ctx.l4proto;
                1
            }
            MetaKey::Protocol => {
                buf[..2].copy_from_slice(&ctx.ethertype.to_be_bytes());
                2
            }
            MetaKey::Mark => {
                buf[..4].copy_from_slice(&be32(self.work.mark));
                4
            }
            MetaKey::Priority => {
                buf[..4].copy_from_slice(&be32(self.work.priority));
                4
            }
            MetaKey::Iif | MetaKey::Oif => {
                let i = if key == MetaKey::Iif { ctx.iif } else { ctx.oif };
                buf[..4].copy_from_slice(&be32(i));
                4
            }
            MetaKey::IifName => {
                buf = ctx.iifname;
                16
            }
            MetaKey::OifName => {
                buf = ctx.oifname;
                16
            }
            MetaKey::IifType | MetaKey::OifType => {
                let (i, t) = if key == MetaKey::IifType { (ctx.iif, ctx.iiftype) } else { (ctx.oif, ctx.oiftype) };
                if i == 0 {
                    return Step::Break;
                }
                buf[..2].copy_from_slice(&t.to_be_bytes());
                2
            }
            MetaKey::IifGroup | MetaKey::OifGroup => {
                let i = if key == MetaKey::IifGroup { ctx.iif } else { ctx.oif };
                if i == 0 {
                    return Step::Break;
                }
                4
            }
            MetaKey::PktType => {
                buf[0] = self.work.pkttype;
                1
            }
            MetaKey::Time => {
                buf[..8].copy_from_slice(&ctx.time_ns.to_be_bytes());
                8
            }
            MetaKey::Day => {
                // nft_meta_weekday: 1970-01-01 was a Thursday (4).
                let days = ctx.time_ns / 1_000_000_000 / 86_400;
                buf[0] = ((4 + days) % 7) as u8;
                1
            }
            MetaKey::Hour => {
                let secs = ctx.time_ns / 1_000_000_000 % 86_400;
                buf[..4].copy_from_slice(&be32(secs as u32));
                4
            }
            MetaKey::Random => {
                let r = self.state.random();
                buf[..4].copy_from_slice(&be32(r));
                4
            }
            MetaKey::Cpu => 4,
            MetaKey::SkUid | MetaKey::SkGid => {
                if ctx.has_sk == 0 {
                    return Step::Break;
                }
                let id = if key == MetaKey::SkUid { ctx.sk_uid } else { ctx.sk_gid };
                buf[..4].copy_from_slice(&be32(id));
                4
            }
        };
        self.regs.put(dst, len, &buf[..n]);
        Step::Go
    }

    /// `ct KEY` (nft_ct_get_eval).
    ///
    /// - state: the entry's bit; without entry untracked (after notrack)
    ///   or invalid (also before conntrack looked the packet up), 4 bytes;
    /// - every other key breaks without entry;
    /// - direction, l3proto, protocol: 1 byte; status, mark (working copy,
    ///   after `ct mark set`), expiration (ms), id: 4 bytes; zone: 2 bytes;
    /// - helper: 16 bytes, break when the entry has none;
    /// - saddr, daddr (4 or 16 bytes per `len`), proto-src, proto-dst
    ///   (2 bytes): the tuple of `dir` (original when not given);
    /// - bytes, packets: 8 bytes, of `dir`, or both directions summed;
    /// - label: the 16 bytes as stored.
    fn ct(&mut self, dst: Reg, key: CtKey, dir: Option<Dir>, len: u8) -> Step {
        let ct = &self.ctx.ct;
        if key == CtKey::State {
            self.regs.put(dst, len, &be32(self.work.ct_state));
            return Step::Go;
        }
        if ct.has_entry == 0 {
            return Step::Break;
        }
        let d = match dir {
            Some(Dir::Reply) => 1,
            _ => 0,
        };
        let mut buf = [0u8; 16];
        let v: &[u8] = match key {
            CtKey::State => unreachable!("handled above"),
            CtKey::Direction => &[ct.dir],
            CtKey::Status => {
                buf[..4].copy_from_slice(&be32(ct.status));
                &buf[..4]
            }
            CtKey::Mark => {
                buf[..4].copy_from_slice(&be32(self.work.ct_mark));
                &buf[..4]
            }
            CtKey::Expiration => {
                buf[..4].copy_from_slice(&be32(ct.expiration_ms));
                &buf[..4]
            }
            CtKey::Id => {
                buf[..4].copy_from_slice(&be32(ct.id));
                &buf[..4]
            }
            CtKey::Helper => {
                if ct.helper[0] == 0 {
                    return Step::Break;
                }
                &ct.helper
            }
            CtKey::L3Proto => &[ct.l3proto],
            CtKey::Protocol => &[ct.protocol],
            CtKey::Saddr => &ct.saddr[d][..(len as usize).min(16)],
            CtKey::Daddr => &ct.daddr[d][..(len as usize).min(16)],
            CtKey::ProtoSrc => &ct.proto_src[d],
            CtKey::ProtoDst => &ct.proto_dst[d],
            CtKey::Bytes | CtKey::Packets | CtKey::AvgPkt => {
                // nft_ct_get_eval_counter: a direction's counter, or both
                // added up.
                let count = |c: &[u64; 2]| match dir {
                    Some(_) => c[d],
                    None => c[0].wrapping_add(c[1]),
                };
                let n = match key {
                    CtKey::Bytes => count(&ct.bytes),
                    CtKey::Packets => count(&ct.packets),
                    // NFT_CT_AVGPKT: bytes / packets, 0 without packets.
                    _ => count(&ct.bytes).checked_div(count(&ct.packets)).unwrap_or(0),
                };
                buf[..8].copy_from_slice(&n.to_be_bytes());
                &buf[..8]
            }
            CtKey::Zone => {
                buf[..2].copy_from_slice(&ct.zone.to_be_bytes());
                &buf[..2]
            }
            CtKey::Label => &ct.label,
        };
        self.regs.put(dst, len, v);
        Step::Go
    }

    /// `fib` (nft_fib4_eval / nft_fib6_eval and their `_type` variants).
    ///
    /// The address looked up is the packet's daddr (`fib daddr`) or saddr;
    /// `iif`/`oif` restrict the answer to the packet's input/output
    /// interface (when it has one).
    /// - type: [`Host::addr_type`] of the address on that interface (any
    ///   interface without `iif`/`oif`), 4 bytes;
    /// - oif / oifname: at prerouting a packet from a loopback interface
    ///   answers its input interface; an IPv4 packet from 0.0.0.0 to
    ///   255.255.255.255 or 224.0.0.0/24 answers its own interface (DHCP);
    ///   otherwise [`Host::route`]: a unicast, broadcast or multicast route
    ///   answers its interface, unless restricted to another interface; no
    ///   route, local, blackhole, unreachable, prohibit routes answer
    ///   nothing (index 0, empty name). With `present` (`exists`/`missing`)
    ///   one byte 1/0 instead.
    fn fib(&mut self, dst: Reg, flags: FibFlags, result: FibResult, len: u8) -> Step {
        let Some((saddr, daddr)) = self.addrs() else { return Step::Break };
        let ctx = self.ctx;
        let (addr, other) = if flags.daddr { (daddr, saddr) } else { (saddr, daddr) };
        let dev = match (flags.iif, flags.oif) {
            (true, _) if ctx.iif != 0 => Some(ctx.iif),
            (false, true) if ctx.oif != 0 => Some(ctx.oif),
            _ => None,
        };
        if result == FibResult::Type {
            let t = self.host.addr_type(ctx.nfproto, addr, dev);
            self.regs.put(dst, len, &be32(t));
            return Step::Go;
        }
        let own = if ctx.iif != 0 { ctx.iif } else { ctx.oif };
        let zeronet =
            ctx.nfproto == 2 && saddr == [0, 0, 0, 0] && (daddr == [255, 255, 255, 255] || daddr[..3] == [224, 0, 0]);
        let found = if self.hook == Hook::Prerouting && ctx.iif != 0 && self.host.is_loopback(ctx.iif) {
            ctx.iif
        } else if zeronet {
            own
        } else {
            let q = FibQuery {
                nfproto: ctx.nfproto,
                dst: addr,
                src: other,
                mark: flags.mark.then_some(self.work.mark),
                iif: ctx.iif,
                oif: ctx.oif,
            };
            match self.host.route(&q) {
                Some(r) if matches!(r.rtype, rtn::UNICAST | rtn::BROADCAST | rtn::MULTICAST) => match dev {
                    Some(d) if d != r.oif => 0,
                    _ => r.oif,
                },
                _ => 0,
            }
        };
        if flags.present {
            self.regs.put(dst, len, &[(found != 0) as u8]);
            return Step::Go;
        }
        match result {
            FibResult::Oif => self.regs.put(dst, len, &be32(found)),
            _ => {
                let name = if found == 0 { [0; 16] } else { self.host.ifname(found).unwrap_or([0; 16]) };
                self.regs.put(dst, len, &name);
            }
        }
        Step::Go
    }

    /// `symhash`: the kernel hashes the flow dissector's keys with
    /// `__skb_get_hash_symmetric` and a random boot-time seed, so its values
    /// cannot be reproduced; we keep its property — both directions of a
    /// flow hash alike — with jhash (seed 0) over the lower (address, port)
    /// endpoint, the higher one and the l4 protocol. Ports count for TCP,
    /// UDP, UDP-Lite and SCTP with a transport header.
    fn symhash(&self) -> u32 {
        let mut buf = [0u8; 41];
        let Some((s, d)) = self.addrs() else { return jhash(&[], 0) };
        let ports = match (self.ctx.l4proto, self.base(Base::Transport)) {
            (6 | 17 | 132 | 136, Some(th)) => self.bytes(th, 4),
            _ => None,
        };
        let (sp, dp) = ports.map_or(([0u8; 2], [0u8; 2]), |p| ([p[0], p[1]], [p[2], p[3]]));
        let (a, pa, b, pb) = if (d, dp) < (s, sp) { (d, dp, s, sp) } else { (s, sp, d, dp) };
        let l = a.len();
        buf[..l].copy_from_slice(a);
        buf[l..2 * l].copy_from_slice(b);
        buf[2 * l..2 * l + 2].copy_from_slice(&pa);
        buf[2 * l + 2..2 * l + 4].copy_from_slice(&pb);
        buf[2 * l + 4] = self.ctx.l4proto;
        jhash(&buf[..2 * l + 5], 0)
    }

    /// `payload set` (nft_payload_set_eval): write the register into the
    /// frame, keeping checksums right (RFC 1624 incremental update):
    /// - `Csum::None`: bytes only;
    /// - `Csum::Network`: the IPv4 header checksum (nh + 10) of an IPv4
    ///   packet;
    /// - `Csum::Transport { pseudo: false }`: the transport checksum (TCP
    ///   th + 16; UDP and UDP-Lite th + 6, left alone when 0 = no checksum;
    ///   ICMP and ICMPv6 th + 2);
    /// - `Csum::Transport { pseudo: true }`: a field of the pseudo-header
    ///   (an address): the transport checksum (ICMP has no pseudo-header),
    ///   and the IPv4 header checksum when the field is in an IPv4 header
    ///   (as nft's `ip saddr set`, which asks for both).
    ///
    /// The transport checksum is left alone in a non-first fragment (no
    /// transport header) as the kernel's nft_payload_l4csum_offset. Fields
    /// at odd offsets are summed at their true byte position, so any
    /// alignment is right.
    fn payload_set(&mut self, base: Base, offset: u16, len: u8, src: Reg, csum: ctc_ir::Csum) -> Step {
        let Some(b) = self.base(base) else { return Step::Break };
        let start = b + offset as usize;
        let n = len as usize;
        if self.bytes(start, n).is_none() {
            return Step::Break;
        }
        let mut old = [0u8; MAX_LEN];
        old[..n].copy_from_slice(&self.pkt[start..start + n]);
        let mut new = [0u8; MAX_LEN];
        new[..n].copy_from_slice(self.regs.get(src, n));
        let (old, new) = (&old[..n], &new[..n]);
        let nh = self.base(Base::Network);
        let th = self.base(Base::Transport);
        let (ip4_hdr, l4, pseudo) = match csum {
            ctc_ir::Csum::None => (false, false, false),
            ctc_ir::Csum::Network => (true, false, false),
            ctc_ir::Csum::Transport { pseudo } => (pseudo && base == Base::Network, true, pseudo),
        };
        if ip4_hdr
            && self.ctx.nfproto == 2
            && let Some(nh) = nh
            && start >= nh
        {
            self.fix_csum(nh + 10, old, new, (start - nh) % 2 == 1, false);
        }
        if l4 && let Some(th) = th {
            let at = match self.ctx.l4proto {
                6 => Some((16, false)),
                17 | 136 => Some((6, true)),
                1 if !pseudo => Some((2, false)),
                58 => Some((2, false)),
                _ => None,
            };
            if let Some((at, zero_is_none)) = at {
                // Parity within the checksummed region: pseudo-header fields
                // keep their network-header parity, others count from th.
                let rel = if pseudo { nh.map_or(0, |nh| start.wrapping_sub(nh)) } else { start.wrapping_sub(th) };
                self.fix_csum(th + at, old, new, rel % 2 == 1, zero_is_none);
            }
        }
        self.pkt[start..start + n].copy_from_slice(new);
        self.actions.set |= act::MANGLED;
        Step::Go
    }

    fn fix_csum(&mut self, at: usize, old: &[u8], new: &[u8], odd: bool, zero_is_none: bool) {
        if at + 2 > self.frame_len() {
            return;
        }
        let hc = u16::from_be_bytes([self.pkt[at], self.pkt[at + 1]]);
        if zero_is_none && hc == 0 {
            return;
        }
        let v = csum::replace(hc, old, new, odd);
        self.pkt[at..at + 2].copy_from_slice(&v.to_be_bytes());
    }
}

/// `dst = src << amount` (or `>>`), `src` one big-endian integer.
fn shift(src: &[u8], dst: &mut [u8], left: bool, amount: usize) {
    let n = src.len();
    let (bytes, bits) = (amount / 8, (amount % 8) as u32);
    let at = |i: isize| -> u32 { if i >= 0 && (i as usize) < n { src[i as usize] as u32 } else { 0 } };
    for (i, d) in dst.iter_mut().enumerate() {
        let i = i as isize;
        *d = if left {
            let hi = at(i + bytes as isize);
            let lo = at(i + bytes as isize + 1);
            (((hi << 8 | lo) << bits) >> 8) as u8
        } else {
            let hi = at(i - bytes as isize - 1);
            let lo = at(i - bytes as isize);
            ((hi << 8 | lo) >> bits) as u8
        };
    }
}

#[cfg(test)]
mod tests {
    use super::shift;

    #[test]
    fn shifts_are_big_endian_integer_shifts() {
        let mut d = [0u8; 4];
        shift(&[0x00, 0x00, 0x01, 0x80], &mut d, true, 1);
        assert_eq!(d, [0x00, 0x00, 0x03, 0x00]);
        shift(&[0x00, 0x00, 0x01, 0x80], &mut d, false, 8);
        assert_eq!(d, [0x00, 0x00, 0x00, 0x01]);
        shift(&[0x12, 0x34, 0x56, 0x78], &mut d, true, 12);
        assert_eq!(d, [0x45, 0x67, 0x80, 0x00]);
        shift(&[0x12, 0x34, 0x56, 0x78], &mut d, false, 20);
        assert_eq!(d, [0x00, 0x00, 0x01, 0x23]);
    }
}
