//! Hand-built programs, packets and a host model for the VM tests.
#![allow(dead_code)]

use ctc_ir::abi::{ABSENT, Actions, PacketCtx};
use ctc_ir::*;
use ctc_vm::{FibQuery, HookResult, Host, Route, State, Vm, rtn};

/// A program under construction: tables 0 `ip t4`, 1 `ip6 t6`, 2 `inet t`.
pub struct P {
    pub prog: Program,
    line: u32,
}

pub const T4: TableId = TableId(0);
pub const T6: TableId = TableId(1);
pub const TI: TableId = TableId(2);

impl P {
    pub fn new() -> P {
        P {
            prog: Program {
                tables: vec![
                    Table { family: Family::Ip, name: "t4".into() },
                    Table { family: Family::Ip6, name: "t6".into() },
                    Table { family: Family::Inet, name: "t".into() },
                ],
                ..Program::default()
            },
            line: 0,
        }
    }

    pub fn base_typed(
        &mut self,
        t: TableId,
        name: &str,
        ty: ChainType,
        hook: Hook,
        prio: i32,
        accept: bool,
    ) -> ChainId {
        self.prog.chains.push(Chain {
            name: name.into(),
            table: t,
            base: Some(BaseInfo { ty, hook, priority: prio, policy_accept: accept }),
            rules: vec![],
        });
        ChainId(self.prog.chains.len() as u32 - 1)
    }

    pub fn base(&mut self, t: TableId, name: &str, hook: Hook, prio: i32, accept: bool) -> ChainId {
        self.base_typed(t, name, ChainType::Filter, hook, prio, accept)
    }

    pub fn chain(&mut self, t: TableId, name: &str) -> ChainId {
        self.prog.chains.push(Chain { name: name.into(), table: t, base: None, rules: vec![] });
        ChainId(self.prog.chains.len() as u32 - 1)
    }

    /// Add a rule; its source line is 10 * (number of rules so far + 1).
    pub fn rule(&mut self, c: ChainId, ops: Vec<Op>) -> u32 {
        self.line += 10;
        let counter = ops.iter().find_map(|o| if let Op::Counter(c) = o { Some(*c) } else { None });
        let rules = &mut self.prog.chains[c.index()].rules;
        rules.push(Rule { ops, loc: SourceLoc { file: "t.nft".into(), line: self.line }, counter });
        rules.len() as u32 - 1
    }

    pub fn counter(&mut self) -> CounterId {
        self.prog.counters.push((0, 0));
        CounterId(self.prog.counters.len() as u32 - 1)
    }

    pub fn limit(&mut self, d: LimitDef) -> LimitId {
        self.prog.limits.push(d);
        LimitId(self.prog.limits.len() as u32 - 1)
    }

    pub fn quota(&mut self, d: QuotaDef) -> QuotaId {
        self.prog.quotas.push(d);
        QuotaId(self.prog.quotas.len() as u32 - 1)
    }

    pub fn log(&mut self) -> LogId {
        self.prog.logs.push(LogDef::default());
        LogId(self.prog.logs.len() as u32 - 1)
    }

    pub fn set(&mut self, s: Set) -> SetId {
        self.prog.sets.push(s);
        SetId(self.prog.sets.len() as u32 - 1)
    }

    pub fn vm(self) -> Vm {
        Vm::new(verify(self.prog).expect("program verifies"))
    }
}

pub fn set(name: &str, key_len: u8, elements: Vec<Element>) -> Set {
    Set {
        name: name.into(),
        table: T4,
        key_len,
        data_len: 0,
        is_map: false,
        verdict_map: false,
        interval: elements.iter().any(|e| e.lo != e.hi),
        dynamic: false,
        timeout_ms: None,
        elements,
    }
}

pub fn key(k: &[u8]) -> Element {
    Element { lo: k.to_vec(), hi: k.to_vec(), data: None }
}

pub fn range(lo: &[u8], hi: &[u8]) -> Element {
    Element { lo: lo.to_vec(), hi: hi.to_vec(), data: None }
}

// ---- op shorthands ----

pub fn pl(dst: u8, base: Base, offset: u16, len: u8) -> Op {
    Op::Payload { dst: Reg(dst), base, offset, len }
}
pub fn meta(dst: u8, key: MetaKey, len: u8) -> Op {
    Op::Meta { dst: Reg(dst), key, len }
}
pub fn imm(dst: u8, data: &[u8]) -> Op {
    Op::Immediate { dst: Reg(dst), data: data.to_vec() }
}
pub fn cmp(src: u8, op: CmpOp, data: &[u8]) -> Op {
    Op::Cmp { src: Reg(src), op, data: data.to_vec() }
}
pub fn eq(src: u8, data: &[u8]) -> Op {
    cmp(src, CmpOp::Eq, data)
}
pub fn v(v: Verdict) -> Op {
    Op::Verdict(v)
}
pub const ACCEPT: Op = Op::Verdict(Verdict::Accept);
pub const DROP: Op = Op::Verdict(Verdict::Drop);
/// `tcp dport N` (payload + cmp).
pub fn dport(n: u16) -> [Op; 2] {
    [pl(0, Base::Transport, 2, 2), eq(0, &n.to_be_bytes())]
}

// ---- packets ----

/// A frame and its context.
#[derive(Clone)]
pub struct Pkt {
    pub bytes: Vec<u8>,
    pub ctx: PacketCtx,
}

fn fold(mut s: u32) -> u16 {
    while s > 0xffff {
        s = (s & 0xffff) + (s >> 16);
    }
    s as u16
}

fn sum(data: &[u8]) -> u32 {
    data.chunks(2).map(|c| ((c[0] as u32) << 8) | *c.get(1).unwrap_or(&0) as u32).sum()
}

/// Whether the IPv4 header checksum verifies.
pub fn ipv4_csum_ok(p: &Pkt) -> bool {
    let nh = p.ctx.nh_off as usize;
    let ihl = (p.bytes[nh] & 0xf) as usize * 4;
    fold(sum(&p.bytes[nh..nh + ihl])) == 0xffff
}

/// Whether the transport checksum (with pseudo-header) verifies.
pub fn l4_csum_ok(p: &Pkt) -> bool {
    let nh = p.ctx.nh_off as usize;
    let th = p.ctx.th_off as usize;
    let seg = &p.bytes[th..];
    let mut s = sum(seg);
    if p.ctx.nfproto == 2 {
        s += sum(&p.bytes[nh + 12..nh + 20]);
    } else {
        s += sum(&p.bytes[nh + 8..nh + 40]);
    }
    s += p.ctx.l4proto as u32 + seg.len() as u32;
    fold(s) == 0xffff
}

fn fill_l4_csum(b: &mut [u8], nh: usize, th: usize, proto: u8, v6: bool) {
    let at = th + if proto == 6 { 16 } else { 6 };
    b[at] = 0;
    b[at + 1] = 0;
    let seg = &b[th..];
    let mut s = sum(seg);
    s += if v6 { sum(&b[nh + 8..nh + 40]) } else { sum(&b[nh + 12..nh + 20]) };
    s += proto as u32 + seg.len() as u32;
    let c = !fold(s);
    b[at..at + 2].copy_from_slice(&c.to_be_bytes());
}

/// TCP header with options (padded to 4 bytes) and `flags`.
fn tcp_hdr(sport: u16, dport: u16, flags: u8, opts: &[u8]) -> Vec<u8> {
    let mut o = opts.to_vec();
    while !o.len().is_multiple_of(4) {
        o.push(0);
    }
    let doff = (20 + o.len()) / 4;
    let mut t = vec![0u8; 20];
    t[0..2].copy_from_slice(&sport.to_be_bytes());
    t[2..4].copy_from_slice(&dport.to_be_bytes());
    t[4..8].copy_from_slice(&1000u32.to_be_bytes());
    t[12] = (doff as u8) << 4;
    t[13] = flags;
    t[14..16].copy_from_slice(&64240u16.to_be_bytes());
    t.extend_from_slice(&o);
    t
}

fn udp_hdr(sport: u16, dport: u16, payload: usize) -> Vec<u8> {
    let mut u = vec![0u8; 8 + payload];
    u[0..2].copy_from_slice(&sport.to_be_bytes());
    u[2..4].copy_from_slice(&dport.to_be_bytes());
    u[4..6].copy_from_slice(&((8 + payload) as u16).to_be_bytes());
    u
}

fn eth(ethertype: u16) -> Vec<u8> {
    let mut e = vec![0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1];
    e.extend_from_slice(&ethertype.to_be_bytes());
    e
}

fn ctx_for(len: usize, nfproto: u8, l4: u8, th: u32) -> PacketCtx {
    let mut iifname = [0u8; 16];
    iifname[..4].copy_from_slice(b"eth0");
    PacketCtx {
        ll_off: 0,
        nh_off: 14,
        th_off: th,
        len: len as u32,
        nfproto,
        l4proto: l4,
        ethertype: if nfproto == 2 { 0x0800 } else { 0x86dd },
        iif: 1,
        iiftype: 1,
        iifname,
        time_ns: 1_700_000_000_000_000_000,
        ..PacketCtx::default()
    }
}

fn ipv4(src: [u8; 4], dst: [u8; 4], proto: u8, l4: Vec<u8>) -> Pkt {
    let mut b = eth(0x0800);
    let total = 20 + l4.len();
    let mut ip = vec![0x45, 0, 0, 0, 0, 1, 0x40, 0, 64, proto, 0, 0];
    ip[2..4].copy_from_slice(&(total as u16).to_be_bytes());
    ip.extend_from_slice(&src);
    ip.extend_from_slice(&dst);
    let c = !fold(sum(&ip));
    ip[10..12].copy_from_slice(&c.to_be_bytes());
    b.extend_from_slice(&ip);
    b.extend_from_slice(&l4);
    let len = b.len();
    Pkt { ctx: ctx_for(len, 2, proto, 34), bytes: b }
}

pub fn tcp4(src: [u8; 4], dst: [u8; 4], sport: u16, dport: u16) -> Pkt {
    tcp4_opts(src, dst, sport, dport, 0x02, &[])
}

pub fn tcp4_opts(src: [u8; 4], dst: [u8; 4], sport: u16, dport: u16, flags: u8, opts: &[u8]) -> Pkt {
    let mut p = ipv4(src, dst, 6, tcp_hdr(sport, dport, flags, opts));
    fill_l4_csum(&mut p.bytes, 14, 34, 6, false);
    p
}

pub fn udp4(src: [u8; 4], dst: [u8; 4], sport: u16, dport: u16, payload: usize, with_csum: bool) -> Pkt {
    let mut p = ipv4(src, dst, 17, udp_hdr(sport, dport, payload));
    if with_csum {
        fill_l4_csum(&mut p.bytes, 14, 34, 17, false);
    }
    p
}

/// IPv6 + extension headers (`(type, bytes)` in order) + TCP.
pub fn tcp6_ext(src: [u8; 16], dst: [u8; 16], exts: &[(u8, Vec<u8>)], dport: u16) -> Pkt {
    let mut b = eth(0x86dd);
    let tcp = tcp_hdr(40000, dport, 0x02, &[]);
    let ext_len: usize = exts.iter().map(|(_, e)| e.len()).sum();
    let mut ip = vec![0x60, 0, 0, 0];
    ip.extend_from_slice(&((ext_len + tcp.len()) as u16).to_be_bytes());
    ip.push(exts.first().map_or(6, |e| e.0));
    ip.push(64);
    ip.extend_from_slice(&src);
    ip.extend_from_slice(&dst);
    b.extend_from_slice(&ip);
    for (i, (_, e)) in exts.iter().enumerate() {
        let mut e = e.clone();
        e[0] = exts.get(i + 1).map_or(6, |n| n.0);
        b.extend_from_slice(&e);
    }
    let th = b.len();
    b.extend_from_slice(&tcp);
    fill_l4_csum(&mut b, 14, th, 6, true);
    let len = b.len();
    Pkt { ctx: ctx_for(len, 10, 6, th as u32), bytes: b }
}

pub fn tcp6(src: [u8; 16], dst: [u8; 16], dport: u16) -> Pkt {
    tcp6_ext(src, dst, &[], dport)
}

pub fn v6(last: u8) -> [u8; 16] {
    let mut a = [0u8; 16];
    a[..4].copy_from_slice(&[0x20, 0x01, 0x0d, 0xb8]);
    a[15] = last;
    a
}

/// A context with no transport header (a non-first fragment).
pub fn no_th(mut p: Pkt) -> Pkt {
    p.ctx.th_off = ABSENT;
    p
}

// ---- host ----

/// eth0 (1) 192.168.1.1/24 LAN, eth1 (2) 203.0.113.2/24 WAN with the
/// default route, lo (3).
pub struct TestHost;

impl Host for TestHost {
    fn route(&self, q: &FibQuery<'_>) -> Option<Route> {
        if q.nfproto != 2 {
            return None;
        }
        let a = q.dst;
        Some(match a {
            [192, 168, 1, 1] | [203, 0, 113, 2] => Route { oif: 3, rtype: rtn::LOCAL },
            [192, 168, 1, _] => Route { oif: 1, rtype: rtn::UNICAST },
            [10, 66, _, _] => Route { oif: 2, rtype: rtn::UNREACHABLE },
            _ => Route { oif: 2, rtype: rtn::UNICAST },
        })
    }
    fn addr_type(&self, _nfproto: u8, addr: &[u8], dev: Option<u32>) -> u32 {
        match (addr, dev) {
            ([192, 168, 1, 1], None | Some(1)) | ([203, 0, 113, 2], None | Some(2)) => rtn::LOCAL,
            ([192, 168, 1, 255], _) => rtn::BROADCAST,
            ([224..=239, ..], _) => rtn::MULTICAST,
            _ => rtn::UNICAST,
        }
    }
    fn ifname(&self, ifindex: u32) -> Option<[u8; 16]> {
        let n: &[u8] = match ifindex {
            1 => b"eth0",
            2 => b"eth1",
            3 => b"lo",
            _ => return None,
        };
        let mut a = [0u8; 16];
        a[..n.len()].copy_from_slice(n);
        Some(a)
    }
    fn is_loopback(&self, ifindex: u32) -> bool {
        ifindex == 3
    }
}

/// Run `hook` once with fresh actions.
pub fn run(vm: &Vm, st: &mut State, hook: Hook, p: &mut Pkt) -> (HookResult, Actions) {
    let mut a = Actions::default();
    let ctx = p.ctx;
    let r = vm.run_hook(st, &TestHost, hook, &mut p.bytes, &ctx, &mut a);
    (r, a)
}
