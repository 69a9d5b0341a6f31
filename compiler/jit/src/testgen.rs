//! Random programs and packets for differential testing of the JIT against
//! the interpreter (the proptest in `tests/differential.rs` and the
//! `jit_diff` fuzz target). Entropy comes from a byte string (the fuzzer's
//! input, or bytes a seeded generator makes), so any failure replays from
//! its bytes.
//!
//! Programs use every IR op, exact/interval sets, maps, verdict maps,
//! dynamic sets, jumps and gotos between regular chains (only forward, so
//! there is no loop), NAT, ct matches and ct/meta writes; some chains
//! hold long runs of 5-tuple rules so the classifiers are exercised.
//! Values come from small alphabets so that tests match often. Packets are
//! random frames with random header offsets and random ct info.

use crate::classify::Structure;
use crate::{Jit, Options};
use ctc_ir::abi::{ABSENT, Actions, CtInfo, PacketCtx};
use ctc_ir::*;
use ctc_vm::{FibQuery, Host, Route, State, Vm, rtn};

/// The classifier's minimum run in the differential tests: short, so that
/// small programs exercise it.
pub const TEST_MIN_RUN: usize = 12;

/// A byte-driven generator; past the end of the input a xorshift stream
/// seeded by the input's length goes on.
#[derive(Debug)]
pub struct Gen<'a> {
    data: &'a [u8],
    pos: usize,
    x: u64,
}

impl<'a> Gen<'a> {
    pub fn new(data: &'a [u8]) -> Gen<'a> {
        Gen { data, pos: 0, x: 0x9e37_79b9_7f4a_7c15 ^ data.len() as u64 }
    }
    pub fn byte(&mut self) -> u8 {
        if let Some(&b) = self.data.get(self.pos) {
            self.pos += 1;
            return b;
        }
        self.x ^= self.x << 13;
        self.x ^= self.x >> 7;
        self.x ^= self.x << 17;
        (self.x >> 24) as u8
    }
    pub fn below(&mut self, n: usize) -> usize {
        if n <= 1 {
            return 0;
        }
        let v = u16::from_le_bytes([self.byte(), self.byte()]) as usize;
        v % n
    }
    pub fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
    pub fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.below(xs.len())]
    }
    /// A byte from a small alphabet, so compares and packets meet.
    pub fn val(&mut self) -> u8 {
        match self.below(8) {
            0 => 0,
            1 => 1,
            2 => 2,
            3 => 0xff,
            4 => 0x80,
            5 => 6,
            6 => 17,
            _ => self.byte(),
        }
    }
    pub fn vals(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.val()).collect()
    }
    pub fn u32(&mut self) -> u32 {
        u32::from_le_bytes([self.byte(), self.byte(), self.byte(), self.byte()])
    }
}

const META_KEYS: [(MetaKey, u8); 22] = [
    (MetaKey::Len, 4),
    (MetaKey::NfProto, 1),
    (MetaKey::L4Proto, 1),
    (MetaKey::Protocol, 2),
    (MetaKey::Mark, 4),
    (MetaKey::Iif, 4),
    (MetaKey::Oif, 4),
    (MetaKey::IifName, 16),
    (MetaKey::OifName, 16),
    (MetaKey::IifType, 2),
    (MetaKey::OifType, 2),
    (MetaKey::PktType, 1),
    (MetaKey::Priority, 4),
    (MetaKey::Time, 8),
    (MetaKey::Day, 1),
    (MetaKey::Hour, 4),
    (MetaKey::Random, 4),
    (MetaKey::Cpu, 4),
    (MetaKey::IifGroup, 4),
    (MetaKey::OifGroup, 4),
    (MetaKey::SkUid, 4),
    (MetaKey::SkGid, 4),
];

const CT_KEYS: [(CtKey, u8); 19] = [
    (CtKey::State, 4),
    (CtKey::Direction, 1),
    (CtKey::Status, 4),
    (CtKey::Mark, 4),
    (CtKey::Expiration, 4),
    (CtKey::Helper, 16),
    (CtKey::L3Proto, 1),
    (CtKey::Protocol, 1),
    (CtKey::Saddr, 4),
    (CtKey::Daddr, 16),
    (CtKey::ProtoSrc, 2),
    (CtKey::ProtoDst, 2),
    (CtKey::Bytes, 8),
    (CtKey::Packets, 8),
    (CtKey::AvgPkt, 8),
    (CtKey::Zone, 2),
    (CtKey::Id, 4),
    (CtKey::Label, 16),
    (CtKey::Saddr, 16),
];

const BASES: [Base; 4] = [Base::Link, Base::Network, Base::Transport, Base::Inner];

struct Builder<'g, 'a> {
    g: &'g mut Gen<'a>,
    p: Program,
    /// Regular chains, in creation order (jumps go forward only).
    regular: Vec<ChainId>,
    /// Written registers of the rule being built: (start word, bytes).
    written: Vec<(u8, u8)>,
}

impl Builder<'_, '_> {
    fn reg_for(&mut self, len: u8) -> Reg {
        let words = ctc_ir::words(len);
        Reg(self.g.below(REG_WORDS.min(12) - words + 1) as u8)
    }

    fn wrote(&mut self, r: Reg, len: u8) -> Reg {
        self.written.push((r.0, len));
        r
    }

    /// A written value of at least `min` bytes: (reg, its length).
    fn some_value(&mut self, min: u8) -> Option<(Reg, u8)> {
        let c: Vec<(u8, u8)> = self.written.iter().copied().filter(|&(_, l)| l >= min).collect();
        if c.is_empty() {
            return None;
        }
        let (r, l) = self.g.pick(&c);
        Some((Reg(r), l))
    }

    fn load(&mut self) -> Op {
        match self.g.below(10) {
            0..=4 => {
                let len = self.g.pick(&[1u8, 2, 2, 4, 4, 4, 3, 6, 8, 16]);
                let dst = self.reg_for(len);
                let dst = self.wrote(dst, len);
                Op::Payload { dst, base: self.g.pick(&BASES), offset: self.g.below(48) as u16, len }
            }
            5 | 6 => {
                let (key, len) = self.g.pick(&META_KEYS);
                let dst = self.reg_for(len);
                let dst = self.wrote(dst, len);
                Op::Meta { dst, key, len }
            }
            7 | 8 => {
                let (key, len) = self.g.pick(&CT_KEYS);
                let dst = self.reg_for(len);
                let dst = self.wrote(dst, len);
                let dir = self.g.pick(&[None, Some(Dir::Original), Some(Dir::Reply)]);
                Op::Ct { dst, key, dir, len }
            }
            _ => {
                let len = self.g.pick(&[1u8, 2, 4, 8]);
                let data = self.g.vals(len as usize);
                let dst = self.reg_for(len);
                let dst = self.wrote(dst, len);
                Op::Immediate { dst, data }
            }
        }
    }

    fn set(&mut self, key_len: u8, kind: u8) -> SetId {
        // kind: 0 set, 1 map, 2 verdict map, 3 dynamic set.
        let n = self.g.pick(&[1usize, 2, 3, 5, 20, 40]);
        let interval = kind != 3 && self.g.chance(50);
        let mut elements = Vec::new();
        for _ in 0..n {
            let lo = self.g.vals(key_len as usize);
            let hi = if interval && self.g.chance(60) {
                let mut hi = lo.clone();
                let k = self.g.below(key_len as usize);
                hi[k] = hi[k].saturating_add(self.g.byte() / 4);
                for b in &mut hi[k + 1..] {
                    *b = 0xff;
                }
                hi
            } else {
                lo.clone()
            };
            let data = match kind {
                1 => Some(ElementData::Value(self.g.vals(4))),
                2 => Some(ElementData::Verdict(self.verdict(true))),
                _ => None,
            };
            elements.push(Element { lo, hi, data });
        }
        if kind != 3 && self.g.chance(10) {
            // The catch-all element.
            let data = match kind {
                1 => Some(ElementData::Value(vec![9, 9, 9, 9])),
                2 => Some(ElementData::Verdict(Verdict::Drop)),
                _ => None,
            };
            elements.push(Element { lo: vec![0; key_len as usize], hi: vec![0xff; key_len as usize], data });
        }
        self.p.sets.push(Set {
            name: format!("s{}", self.p.sets.len()),
            table: TableId(0),
            key_len,
            data_len: if kind == 1 { 4 } else { 0 },
            is_map: kind == 1 || kind == 2,
            verdict_map: kind == 2,
            interval,
            dynamic: kind == 3,
            timeout_ms: (kind == 3 && self.g.chance(50)).then_some(1000),
            elements,
        });
        SetId(self.p.sets.len() as u32 - 1)
    }

    /// A verdict; `from_map`: targets any regular chain after the current
    /// ones (maps are built before the chains that use them, so only the
    /// last regular chain, which uses no verdict map).
    fn verdict(&mut self, from_map: bool) -> Verdict {
        let target = if from_map { self.regular.last().copied() } else { None };
        match self.g.below(10) {
            0 | 1 => Verdict::Accept,
            2 | 3 => Verdict::Drop,
            4 => Verdict::Continue,
            5 => Verdict::Return,
            6 => Verdict::Queue { num: self.g.below(4) as u16, range: 1, bypass: self.g.chance(50), fanout: false },
            7 | 8 if target.is_some() => {
                let t = target.expect("checked");
                if self.g.chance(50) { Verdict::Jump(t) } else { Verdict::Goto(t) }
            }
            _ => Verdict::Accept,
        }
    }

    /// Ops of one rule in chain position `pos` (regular chains after it
    /// may be jumped to).
    fn rule(&mut self, later: &[ChainId], last_regular: bool) -> Vec<Op> {
        self.written.clear();
        let mut ops = Vec::new();
        let n = self.g.below(6);
        for _ in 0..n {
            let op = match self.g.below(30) {
                0..=7 => self.load(),
                8..=11 => {
                    let Some((src, len)) = self.some_value(1) else { continue };
                    let n = (self.g.below(len as usize) + 1).min(len as usize);
                    let op =
                        self.g.pick(&[CmpOp::Eq, CmpOp::Eq, CmpOp::Ne, CmpOp::Lt, CmpOp::Le, CmpOp::Gt, CmpOp::Ge]);
                    Op::Cmp { src, op, data: self.g.vals(n) }
                }
                12 => {
                    let Some((src, len)) = self.some_value(1) else { continue };
                    let mut lo = self.g.vals(len as usize);
                    let mut hi = self.g.vals(len as usize);
                    if lo > hi {
                        std::mem::swap(&mut lo, &mut hi);
                    }
                    Op::Range { src, lo, hi, negate: self.g.chance(30) }
                }
                13 => {
                    let Some((src, len)) = self.some_value(1) else { continue };
                    let dst = self.reg_for(len);
                    let dst = self.wrote(dst, len);
                    let mask = (0..len)
                        .map(|_| {
                            let r = self.g.byte();
                            self.g.pick(&[0xffu8, 0xff, 0xf0, 0, r])
                        })
                        .collect();
                    let xor = (0..len).map(|_| if self.g.chance(80) { 0 } else { self.g.byte() }).collect();
                    Op::Bitwise { dst, src, len, mask, xor }
                }
                14 => {
                    let Some((src, len)) = self.some_value(1) else { continue };
                    let dst = self.reg_for(len);
                    let dst = self.wrote(dst, len);
                    Op::Shift { dst, src, len, left: self.g.chance(50), amount: self.g.below(len as usize * 8) as u8 }
                }
                15 => {
                    let src = self.some_value(1).filter(|_| self.g.chance(70));
                    let dst = self.reg_for(4);
                    let dst = self.wrote(dst, 4);
                    Op::Hash {
                        dst,
                        src,
                        symmetric: src.is_none(),
                        modulus: self.g.pick(&[1u32, 2, 7, 100]),
                        seed: self.g.u32(),
                        offset: self.g.below(3) as u32,
                    }
                }
                16 => {
                    let dst = self.reg_for(4);
                    let dst = self.wrote(dst, 4);
                    Op::Numgen { dst, random: self.g.chance(30), modulus: self.g.pick(&[1u32, 2, 3]), offset: 0 }
                }
                17 | 18 => {
                    let Some((src, len)) = self.some_value(1) else { continue };
                    let kind = if self.g.chance(30) {
                        1
                    } else if self.g.chance(20) {
                        3
                    } else {
                        0
                    };
                    let set = self.set(len, kind);
                    let dst = if kind == 1 && self.g.chance(70) {
                        let d = self.reg_for(4);
                        Some(self.wrote(d, 4))
                    } else {
                        None
                    };
                    Op::Lookup { src, len, set, negate: self.g.chance(25), dst }
                }
                19 => Op::Counter(CounterId(self.g.below(self.p.counters.len()) as u32)),
                20 => Op::Limit(LimitId(self.g.below(self.p.limits.len()) as u32)),
                21 => Op::Quota(QuotaId(self.g.below(self.p.quotas.len()) as u32)),
                22 => Op::Log(LogId(0)),
                23 => {
                    let Some((src, _)) = self.some_value(4) else { continue };
                    Op::MetaSet {
                        key: self.g.pick(&[MetaSetKey::Mark, MetaSetKey::Priority, MetaSetKey::PktType]),
                        src,
                    }
                }
                24 => {
                    let Some((src, len)) = self.some_value(2) else { continue };
                    Op::CtSet { key: self.g.pick(&[CtSetKey::Mark, CtSetKey::Zone, CtSetKey::Label]), src, len }
                }
                25 => {
                    let Some((src, len)) = self.some_value(1) else { continue };
                    let csum = self.g.pick(&[
                        Csum::None,
                        Csum::Network,
                        Csum::Transport { pseudo: false },
                        Csum::Transport { pseudo: true },
                    ]);
                    Op::PayloadSet { base: self.g.pick(&BASES), offset: self.g.below(40) as u16, len, src, csum }
                }
                26 => match self.g.below(3) {
                    0 => Op::Notrack,
                    1 => Op::CtHelper { name: "ftp".into(), l4proto: 6 },
                    _ => Op::CtTimeout(TimeoutId(0)),
                },
                27 => {
                    let Some((src, len)) = self.some_value(1) else { continue };
                    let set = self.set(len, 3);
                    Op::SetUpdate {
                        set,
                        src,
                        len,
                        delete: self.g.chance(20),
                        timeout_ms: self.g.chance(30).then_some(500),
                        limit: self.g.chance(30).then_some(LimitId(0)),
                    }
                }
                28 => {
                    let addr = self.some_value(4).filter(|_| self.g.chance(70));
                    let port = self.some_value(2).filter(|_| self.g.chance(50));
                    let kind = self.g.pick(&[NatKind::Snat, NatKind::Dnat, NatKind::Masquerade, NatKind::Redirect]);
                    Op::Nat(Nat {
                        kind,
                        addr_len: 4,
                        addr_min: addr.map(|a| a.0),
                        addr_max: addr.map(|a| a.0),
                        port_min: port.map(|a| a.0),
                        port_max: port.map(|a| a.0),
                        flags: NatFlags { random: self.g.chance(20), ..Default::default() },
                    })
                }
                _ => match self.g.below(3) {
                    0 => Op::Fib {
                        dst: {
                            let r = self.reg_for(16);
                            self.wrote(r, 16)
                        },
                        flags: FibFlags {
                            daddr: self.g.chance(50),
                            saddr: self.g.chance(50),
                            iif: self.g.chance(40),
                            oif: self.g.chance(20),
                            mark: self.g.chance(10),
                            present: self.g.chance(30),
                        },
                        result: self.g.pick(&[FibResult::Oif, FibResult::OifName, FibResult::Type]),
                        len: 16,
                    },
                    1 => {
                        let len = self.g.pick(&[1u8, 2, 4]);
                        let dst = self.reg_for(len);
                        let dst = self.wrote(dst, len);
                        Op::Exthdr {
                            dst,
                            hdr: self.g.pick(&[0u8, 43, 44, 60, 6]),
                            offset: self.g.below(8) as u16,
                            len,
                            present: self.g.chance(40),
                        }
                    }
                    _ => {
                        let len = self.g.pick(&[1u8, 2, 4]);
                        let dst = self.reg_for(len);
                        let dst = self.wrote(dst, len);
                        Op::TcpOpt {
                            dst,
                            kind: self.g.pick(&[2u8, 3, 4, 8]),
                            offset: self.g.below(4) as u16,
                            len,
                            present: self.g.chance(40),
                        }
                    }
                },
            };
            ops.push(op);
        }
        // The end: a verdict, a verdict map, or nothing.
        match self.g.below(10) {
            0..=4 => {
                let v = match self.g.below(4) {
                    0 if !later.is_empty() => {
                        let t = self.g.pick(later);
                        if self.g.chance(60) { Verdict::Jump(t) } else { Verdict::Goto(t) }
                    }
                    _ => self.verdict(false),
                };
                ops.push(Op::Verdict(v));
            }
            5 if !last_regular => {
                if let Some((src, len)) = self.some_value(1) {
                    let set = self.set(len, 2);
                    ops.push(Op::VerdictMap { src, len, set });
                }
            }
            6 => ops.push(Op::Reject(self.g.pick(&[
                Reject::Icmp(3),
                Reject::Icmpv6(1),
                Reject::Icmpx(1),
                Reject::TcpReset,
            ]))),
            _ => {}
        }
        ops
    }

    /// A run of 5-tuple rules the classifier takes.
    fn tuple_rules(&mut self, n: usize, later: &[ChainId]) -> Vec<Vec<Op>> {
        let fields: [(Base, u16, u8); 5] = [
            (Base::Network, 12, 4),
            (Base::Network, 16, 4),
            (Base::Transport, 0, 2),
            (Base::Transport, 2, 2),
            (Base::Network, 9, 1),
        ];
        // Now and then a run whose rules only accept or drop, as ClassBench
        // rulesets are: the compiled code answers those from a table.
        let plain = self.g.chance(30);
        let mut rules = Vec::new();
        for _ in 0..n {
            let mut ops = Vec::new();
            for &(base, offset, len) in &fields {
                if self.g.chance(45) {
                    continue;
                }
                let r = Reg(self.g.below(4) as u8);
                ops.push(Op::Payload { dst: r, base, offset, len });
                match self.g.below(6) {
                    0 if len == 4 => {
                        let bits = self.g.below(33) as u32;
                        let m = if bits == 0 { 0 } else { u32::MAX << (32 - bits) };
                        let v = u32::from_be_bytes([self.g.val(), self.g.val(), self.g.val(), self.g.val()]) & m;
                        ops.push(Op::Bitwise { dst: r, src: r, len, mask: m.to_be_bytes().to_vec(), xor: vec![0; 4] });
                        let op = if self.g.chance(85) { CmpOp::Eq } else { CmpOp::Ne };
                        ops.push(Op::Cmp { src: r, op, data: v.to_be_bytes().to_vec() });
                    }
                    1 => {
                        let mut lo = self.g.vals(len as usize);
                        let mut hi = self.g.vals(len as usize);
                        if lo > hi {
                            std::mem::swap(&mut lo, &mut hi);
                        }
                        ops.push(Op::Range { src: r, lo, hi, negate: self.g.chance(20) });
                    }
                    2 => {
                        let set = self.set(len, 0);
                        ops.push(Op::Lookup { src: r, len, set, negate: self.g.chance(20), dst: None });
                    }
                    3 => {
                        let op = self.g.pick(&[CmpOp::Lt, CmpOp::Le, CmpOp::Gt, CmpOp::Ge, CmpOp::Ne]);
                        ops.push(Op::Cmp { src: r, op, data: self.g.vals(len as usize) });
                    }
                    _ => ops.push(Op::Cmp { src: r, op: CmpOp::Eq, data: self.g.vals(len as usize) }),
                }
            }
            if self.g.chance(30) {
                // A state bit test (`ct state new`, `ct state
                // established,related`): a masked field of its own.
                let r = Reg(4 + self.g.below(2) as u8);
                // A long run keeps to one mask, so that it stays within
                // the classifier's fields.
                let bits = if n > 100 { 8 } else { self.g.pick(&[8u8, 6, 1, 64, 72, 0xff]) };
                ops.push(Op::Ct { dst: r, key: CtKey::State, dir: None, len: 4 });
                ops.push(Op::Bitwise { dst: r, src: r, len: 4, mask: vec![0, 0, 0, bits], xor: vec![0; 4] });
                let op = if self.g.chance(80) { CmpOp::Ne } else { CmpOp::Eq };
                ops.push(Op::Cmp { src: r, op, data: vec![0, 0, 0, if self.g.chance(80) { 0 } else { bits & 8 }] });
            }
            if self.g.chance(10) {
                let r = Reg(6);
                ops.push(Op::Ct { dst: r, key: CtKey::Mark, dir: None, len: 4 });
                ops.push(Op::Cmp { src: r, op: CmpOp::Eq, data: vec![0, 0, 0, self.g.pick(&[0u8, 1, 0xff])] });
            }
            if plain {
                ops.push(Op::Verdict(self.g.pick(&[Verdict::Accept, Verdict::Drop])));
                rules.push(ops);
                continue;
            }
            if self.g.chance(30) {
                ops.push(Op::Counter(CounterId(self.g.below(self.p.counters.len()) as u32)));
            }
            match self.g.below(10) {
                0 => {}
                1 if !later.is_empty() => ops.push(Op::Verdict(Verdict::Jump(self.g.pick(later)))),
                2 => ops.push(Op::Verdict(Verdict::Continue)),
                3 => ops.push(Op::Limit(LimitId(0))),
                _ => ops.push(Op::Verdict(self.g.pick(&[Verdict::Accept, Verdict::Drop]))),
            }
            rules.push(ops);
        }
        rules
    }
}

/// A random program (not verified yet: a few are rejected).
pub fn program(g: &mut Gen<'_>) -> Program {
    let mut b = Builder { g, p: Program::default(), regular: Vec::new(), written: Vec::new() };
    b.p.tables = vec![
        Table { family: Family::Ip, name: "t4".into() },
        Table { family: Family::Ip6, name: "t6".into() },
        Table { family: Family::Inet, name: "t".into() },
    ];
    b.p.counters = vec![(0, 0); 4];
    b.p.limits = vec![
        LimitDef { rate: 3, per_secs: 1, burst: 2, bytes: false, over: false },
        LimitDef { rate: 1000, per_secs: 1, burst: 0, bytes: true, over: true },
    ];
    b.p.quotas = vec![QuotaDef { bytes: 500, used: 0, over: false }, QuotaDef { bytes: 2000, used: 100, over: true }];
    b.p.logs = vec![LogDef::default()];
    b.p.timeouts = vec![TimeoutPolicy { name: "to".into(), l4proto: 6, timeouts: vec![] }];
    let n_regular = b.g.below(4);
    let n_base = 1 + b.g.below(3);
    // Regular chains first (ids 0..n_regular), so jumps from a regular
    // chain go to higher ids only.
    for i in 0..n_regular {
        b.p.chains.push(Chain { name: format!("r{i}"), table: TableId(2), base: None, rules: vec![] });
        b.regular.push(ChainId(i as u32));
    }
    for i in 0..n_base {
        let hook = b.g.pick(&Hook::ALL);
        let ty = if b.g.chance(20) { ChainType::Nat } else { ChainType::Filter };
        b.p.chains.push(Chain {
            name: format!("b{i}"),
            table: TableId(b.g.below(3) as u32),
            base: Some(BaseInfo {
                ty,
                hook,
                priority: b.g.pick(&[-300, -150, 0, 0, 10, 100]),
                policy_accept: b.g.chance(70),
            }),
            rules: vec![],
        });
    }
    let total = b.p.chains.len();
    for c in 0..total {
        let later: Vec<ChainId> = if c < n_regular { b.regular[c + 1..].to_vec() } else { b.regular.clone() };
        let last_regular = c + 1 == n_regular;
        let mut rules = Vec::new();
        let n = b.g.below(8);
        for _ in 0..n {
            rules.push(b.rule(&later, last_regular));
        }
        if b.g.chance(35) {
            let at = b.g.below(rules.len() + 1);
            // Now and then a run long enough for the bit vectors to read
            // several candidate words, where the default picks trees.
            let n = if b.g.chance(4) { 300 + b.g.below(200) } else { TEST_MIN_RUN + b.g.below(60) };
            let run = b.tuple_rules(n, &later);
            rules.splice(at..at, run);
        }
        let line0 = 100 * (c as u32 + 1);
        b.p.chains[c].rules = rules
            .into_iter()
            .enumerate()
            .map(|(i, ops)| Rule { ops, loc: SourceLoc { file: "gen".into(), line: line0 + i as u32 }, counter: None })
            .collect();
    }
    b.p
}

/// A deterministic host model: routes and address types from the
/// address's last byte.
#[derive(Debug, Clone, Copy)]
pub struct GenHost;

impl Host for GenHost {
    fn route(&self, q: &FibQuery<'_>) -> Option<Route> {
        let last = *q.dst.last()?;
        match last % 5 {
            0 => None,
            1 => Some(Route { oif: 1, rtype: rtn::LOCAL }),
            2 => Some(Route { oif: 3, rtype: rtn::UNREACHABLE }),
            _ => Some(Route { oif: u32::from(last % 4), rtype: rtn::UNICAST }),
        }
    }
    fn addr_type(&self, _nfproto: u8, addr: &[u8], dev: Option<u32>) -> u32 {
        u32::from(addr.last().copied().unwrap_or(0) % 4) + dev.unwrap_or(0)
    }
    fn ifname(&self, ifindex: u32) -> Option<[u8; 16]> {
        (ifindex < 4).then(|| {
            let mut n = [0u8; 16];
            n[..4].copy_from_slice(b"eth0");
            n[3] = b'0' + ifindex as u8;
            n
        })
    }
    fn is_loopback(&self, ifindex: u32) -> bool {
        ifindex == 1
    }
}

/// A random packet: frame bytes and context.
pub fn packet(g: &mut Gen<'_>) -> (Vec<u8>, PacketCtx, Actions) {
    let len = g.pick(&[0usize, 20, 40, 54, 60, 80, 120]);
    let mut frame: Vec<u8> = (0..len).map(|_| g.val()).collect();
    let nfproto = g.pick(&[2u8, 10]);
    let off = |g: &mut Gen<'_>, at: u32| if g.chance(15) { ABSENT } else { at + g.below(4) as u32 * 2 };
    let ll = off(g, 0);
    let nh = off(g, 14);
    let th = off(g, 34);
    let ih = off(g, 42);
    if nfproto == 10 && len > 60 && g.chance(50) {
        // An IPv6 header with an extension header chain.
        frame[14 + 6] = g.pick(&[0u8, 43, 44, 60, 6]);
    }
    let name = |g: &mut Gen<'_>| {
        let mut n = [0u8; 16];
        if g.chance(70) {
            n[..4].copy_from_slice(b"eth0");
            n[3] = b'0' + g.below(4) as u8;
        }
        n
    };
    let addr = |g: &mut Gen<'_>| {
        let mut a = [0u8; 16];
        for b in &mut a {
            *b = g.val();
        }
        a
    };
    let ct = CtInfo {
        state: g.pick(&[0u32, 1, 2, 4, 8, 64, 8]),
        status: g.pick(&[0u32, 1 << 3, 1 << 7, 1 << 8, 1 << 13, 0x188]),
        mark: g.pick(&[0u32, 1, 0xff]),
        expiration_ms: g.u32(),
        id: g.u32(),
        zone: g.below(3) as u16,
        dir: g.below(2) as u8,
        has_entry: g.below(2) as u8,
        l3proto: nfproto,
        protocol: g.pick(&[6u8, 17, 1]),
        _pad: [0; 2],
        saddr: [addr(g), addr(g)],
        daddr: [addr(g), addr(g)],
        proto_src: [[g.val(), g.val()], [g.val(), g.val()]],
        proto_dst: [[g.val(), g.val()], [g.val(), g.val()]],
        packets: [g.u32().into(), 3],
        bytes: [g.u32().into(), 7],
        helper: name(g),
        label: addr(g),
    };
    let ctx = PacketCtx {
        ll_off: ll,
        nh_off: nh,
        th_off: th,
        ih_off: ih,
        len: if g.chance(90) { len as u32 } else { g.below(len + 10) as u32 },
        nfproto,
        l4proto: g.pick(&[6u8, 17, 1, 58, 47]),
        pkttype: g.below(5) as u8,
        _pad: 0,
        ethertype: g.pick(&[0x0800u16, 0x86dd]),
        _pad2: 0,
        iif: g.below(4) as u32,
        oif: g.below(4) as u32,
        iiftype: 1,
        oiftype: 772,
        mark: g.pick(&[0u32, 1, 0x80]),
        priority: g.below(3) as u32,
        time_ns: 1_700_000_000_000_000_000 + g.below(5000) as u64 * 1_000_000,
        iifname: name(g),
        oifname: name(g),
        ct,
        sk_uid: g.pick(&[0u32, 1000]),
        sk_gid: g.pick(&[0u32, 100]),
        has_sk: g.below(2) as u8,
    };
    let mut actions = Actions::default();
    if g.chance(20) {
        actions.set = ctc_ir::abi::actions::MARK;
        actions.mark = 7;
    }
    (frame, ctx, actions)
}

/// Everything observable of a State.
fn state_view(vm: &Vm, st: &State) -> String {
    let p = vm.program();
    let mut sets = Vec::new();
    for i in 0..p.sets.len() {
        let mut e = st.set_elements(SetId(i as u32), 0);
        e.sort();
        sets.push(e);
    }
    let quotas: Vec<u64> = (0..p.quotas.len()).map(|i| st.quota_used(QuotaId(i as u32))).collect();
    format!("counters {:?} quotas {:?} sets {:?} logs_dropped {}", st.counters(), quotas, sets, st.logs_dropped)
}

/// Run `packets` through every hook of `prog` with the interpreter and with
/// the JIT (with classifiers as chosen, with trees wherever they can be
/// built, with hash tables of tuples wherever they can be built, and
/// without classifiers): verdicts, deciders, action records,
/// rewritten packets and States must be identical.
pub fn agree(prog: VerifiedProgram, packets: &[(Vec<u8>, PacketCtx, Actions)]) -> Result<(), String> {
    let vm = Vm::new(prog.clone());
    let jits = [
        Jit::with_options(prog.clone(), Options { min_run: TEST_MIN_RUN, ..Options::default() })
            .map_err(|e| e.to_string())?,
        Jit::with_options(
            prog.clone(),
            Options { min_run: TEST_MIN_RUN, structure: Structure::Trees, ..Options::default() },
        )
        .map_err(|e| e.to_string())?,
        Jit::with_options(
            prog.clone(),
            Options { min_run: TEST_MIN_RUN, structure: Structure::Tuples, ..Options::default() },
        )
        .map_err(|e| e.to_string())?,
        Jit::with_options(prog, Options { classify: false, ..Options::default() }).map_err(|e| e.to_string())?,
    ];
    let mut st_i = vm.new_state();
    let mut st_j: Vec<State> = jits.iter().map(|j| j.new_state()).collect();
    for (n, (frame, ctx, acts)) in packets.iter().enumerate() {
        for hook in Hook::ALL {
            let window = if hook == Hook::Prerouting && n % 2 == 0 { -200..=i32::MAX } else { i32::MIN..=i32::MAX };
            let (mut f_i, mut a_i) = (frame.clone(), *acts);
            let r_i = vm.run_hook_window(&mut st_i, &GenHost, hook, &mut f_i, ctx, &mut a_i, window.clone());
            for (k, jit) in jits.iter().enumerate() {
                let (mut f_j, mut a_j) = (frame.clone(), *acts);
                let r_j = jit.run_hook_window(&mut st_j[k], &GenHost, hook, &mut f_j, ctx, &mut a_j, window.clone());
                let which = ["jit", "jit (trees)", "jit (hash tables)", "jit (no classifier)"][k];
                if r_i != r_j {
                    return Err(format!("packet {n} hook {hook:?}: interp {r_i:?}, {which} {r_j:?}"));
                }
                if a_i != a_j {
                    return Err(format!("packet {n} hook {hook:?}: actions differ\ninterp {a_i:?}\n{which} {a_j:?}"));
                }
                if f_i != f_j {
                    return Err(format!("packet {n} hook {hook:?}: rewritten frames differ"));
                }
                let (v_i, v_j) = (state_view(&vm, &st_i), state_view(jit.vm(), &st_j[k]));
                if v_i != v_j {
                    return Err(format!("packet {n} hook {hook:?}: states differ\ninterp {v_i}\n{which} {v_j}"));
                }
            }
        }
    }
    Ok(())
}

/// One differential case from bytes: a program and packets; `Ok` also when
/// the verifier rejects the program (nothing to compare).
pub fn case(data: &[u8]) -> Result<(), String> {
    let mut g = Gen::new(data);
    let prog = program(&mut g);
    let n = 1 + g.below(24);
    let packets: Vec<_> = (0..n).map(|_| packet(&mut g)).collect();
    match ctc_ir::verify(prog) {
        Ok(v) => agree(v, &packets),
        Err(_) => Ok(()),
    }
}
