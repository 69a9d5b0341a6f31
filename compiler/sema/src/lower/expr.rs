//! Expressions into registers: payload, meta, ct, fib, exthdr and TCP
//! option loads, bit fields, binary operations, concatenations, map
//! lookups, hashes and number generators; and the implicit protocol
//! dependencies nft inserts before header fields.
//!
//! A loaded value ([`Val`]) may be a *bit field*: `len` covering bytes in
//! the register, masked to the field, whose lowest bit is `shift` bits
//! above the end of those bytes (`ip dscp`: 1 byte, mask 0xfc, shift 2).
//! Comparisons shift their constant by `shift` (as nft: `ip dscp cs1` is
//! `& 0xfc == 0x20`); keys, map data and stores need the plain value, so
//! [`Rb::normalize`] moves the field to the start of the register instead,
//! right-aligned in its own width (`ip6 dscp`: 2 bytes `& 0x0fc0`, then
//! `<< 2` leaves the 6 bits at the end of the first byte).

use super::elems::{self, Layout, be, klen};
use super::rule::Rb;
use super::{R, internal, not_executable};
use crate::hir::{BinOp, Expr, ExprKind, ExprType, Family, KeyType};
use ctc_grammar::Span;
use ctc_ir::{self as ir, Op, Reg};
use ctc_proto as proto;

/// A value in registers.
#[derive(Debug, Clone)]
pub(crate) struct Val {
    pub reg: Reg,
    /// Bytes written (the covering bytes of a bit field).
    pub len: usize,
    /// Bytes of the value's own type.
    pub klen: usize,
    /// Bits between the field's lowest bit and the end of the `len` bytes.
    pub shift: u32,
    /// Width of the field in bits.
    pub bits: u32,
}

impl Val {
    fn plain(reg: Reg, len: usize) -> Val {
        Val { reg, len, klen: len, shift: 0, bits: len as u32 * 8 }
    }
    pub fn is_plain(&self) -> bool {
        self.len == self.klen && self.shift == 0
    }
}

/// An implicit check nft inserts before a header field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dep {
    /// `meta nfproto` (2 IPv4, 10 IPv6), inet tables only.
    NfProto(u8),
    /// `meta l4proto`.
    L4(u8),
    /// `meta iiftype ether` for link-layer headers.
    IifTypeEther,
    /// `ether type 0x8100` under a VLAN header.
    VlanTag,
}

/// `value` (big-endian bytes) placed `shift` bits up inside `len` bytes.
pub(crate) fn place(value: &[u8], len: usize, shift: u32) -> Vec<u8> {
    let mut out = vec![0u8; len];
    let vbits = value.len() * 8;
    for i in 0..vbits {
        let byte = value[value.len() - 1 - i / 8];
        if byte >> (i % 8) & 1 == 1 {
            let t = i + shift as usize;
            if t < len * 8 {
                out[len - 1 - t / 8] |= 1 << (t % 8);
            }
        }
    }
    out
}

/// The mask of a `bits`-wide field `shift` bits up inside `len` bytes.
pub(crate) fn field_mask(len: usize, shift: u32, bits: u32) -> Vec<u8> {
    let mut out = vec![0u8; len];
    for i in shift as usize..(shift + bits) as usize {
        if i < len * 8 {
            out[len - 1 - i / 8] |= 1 << (i % 8);
        }
    }
    out
}

fn ir_base(b: proto::Base) -> ir::Base {
    match b {
        proto::Base::Link => ir::Base::Link,
        proto::Base::Network => ir::Base::Network,
        proto::Base::Transport => ir::Base::Transport,
        proto::Base::Inner => ir::Base::Inner,
    }
}

/// The meta keys the runtime provides, with their register width.
fn meta_key(name: &str) -> Option<(ir::MetaKey, usize)> {
    use ir::MetaKey as M;
    Some(match name {
        "length" => (M::Len, 4),
        "nfproto" => (M::NfProto, 1),
        "l4proto" => (M::L4Proto, 1),
        "protocol" => (M::Protocol, 2),
        "mark" => (M::Mark, 4),
        "iif" => (M::Iif, 4),
        "oif" => (M::Oif, 4),
        "iifname" => (M::IifName, 16),
        "oifname" => (M::OifName, 16),
        "iiftype" => (M::IifType, 2),
        "oiftype" => (M::OifType, 2),
        "pkttype" => (M::PktType, 1),
        "priority" => (M::Priority, 4),
        "time" => (M::Time, 8),
        "day" => (M::Day, 1),
        "hour" => (M::Hour, 4),
        "random" => (M::Random, 4),
        "cpu" => (M::Cpu, 4),
        "iifgroup" => (M::IifGroup, 4),
        "oifgroup" => (M::OifGroup, 4),
        "skuid" => (M::SkUid, 4),
        "skgid" => (M::SkGid, 4),
        _ => return None,
    })
}

/// Why a meta key has no meaning in ctc's runtime.
fn meta_unsupported(name: &str) -> &'static str {
    match name {
        "cgroup" => "ctc does not see the cgroups of local sockets",
        "rtclassid" => "the host model has no routing realms",
        "ipsec" | "secpath" => "ctc does not see IPsec state",
        "secmark" => "ctc has no security marks",
        "nftrace" => "ctc has no rule tracing",
        "iifkind" | "oifkind" | "sdif" | "sdifname" => "the host model has no device kinds or VRFs",
        _ => "this key exists only in bridge tables",
    }
}

fn ct_key(name: &str, bits: u32) -> Option<(ir::CtKey, usize)> {
    use ir::CtKey as C;
    Some(match name {
        "state" => (C::State, 4),
        "direction" => (C::Direction, 1),
        "status" => (C::Status, 4),
        "mark" => (C::Mark, 4),
        "expiration" => (C::Expiration, 4),
        "helper" => (C::Helper, 16),
        "l3proto" => (C::L3Proto, 1),
        "protocol" => (C::Protocol, 1),
        "saddr" => (C::Saddr, bits as usize / 8),
        "daddr" => (C::Daddr, bits as usize / 8),
        "proto-src" => (C::ProtoSrc, 2),
        "proto-dst" => (C::ProtoDst, 2),
        "label" => (C::Label, 16),
        "bytes" => (C::Bytes, 8),
        "packets" => (C::Packets, 8),
        "avgpkt" => (C::AvgPkt, 8),
        "zone" => (C::Zone, 2),
        "id" => (C::Id, 4),
        _ => return None,
    })
}

pub(crate) fn scalar(e: &Expr) -> Option<&KeyType> {
    match &e.ty {
        ExprType::Scalar(k) => Some(k),
        _ => None,
    }
}

/// The key types of a key expression (one, or a concatenation's).
pub(crate) fn key_types(e: &Expr) -> R<Vec<KeyType>> {
    match &e.ty {
        ExprType::Scalar(k) => Ok(vec![k.clone()]),
        ExprType::Concat(ks) => Ok(ks.clone()),
        _ => Err(internal("a key without a type", e.span)),
    }
}

impl Rb<'_, '_, '_> {
    /// Allocate `len` bytes of registers (word aligned).
    pub(crate) fn alloc(&mut self, len: usize, span: Span) -> R<Reg> {
        let w = len.div_ceil(4).max(1);
        if self.reg as usize + w > ir::REG_WORDS {
            return Err(not_executable(
                "an expression this large",
                span,
                format!("it needs more than the {} bytes of the register file", ir::MAX_LEN),
            ));
        }
        let r = Reg(self.reg);
        self.reg += w as u8;
        Ok(r)
    }

    /// The dependencies of `e`, in nft's order.
    pub(crate) fn deps(&self, e: &Expr, out: &mut Vec<Dep>) {
        let inet = self.family == Family::Inet;
        let l3 = |l: Option<proto::L3>, out: &mut Vec<Dep>| {
            if inet {
                match l {
                    Some(proto::L3::Ipv4) => out.push(Dep::NfProto(2)),
                    Some(proto::L3::Ipv6) => out.push(Dep::NfProto(10)),
                    _ => {}
                }
            }
        };
        match &e.kind {
            ExprKind::Payload { proto: name, .. } => {
                let Some(p) = proto::protocol(name) else { return };
                match p.base {
                    proto::Base::Link => {
                        out.push(Dep::IifTypeEther);
                        if *name == "vlan" {
                            out.push(Dep::VlanTag);
                        }
                    }
                    proto::Base::Network => l3(p.dep.l3, out),
                    proto::Base::Transport | proto::Base::Inner => {
                        if let Some(n) = p.dep.l4proto {
                            l3(p.dep.l3, out);
                            out.push(Dep::L4(n));
                        }
                    }
                }
            }
            ExprKind::Exthdr { .. } => l3(Some(proto::L3::Ipv6), out),
            // nft's ct_gen_nh_dependency: a tuple address in inet needs the
            // network protocol (`ct original ip saddr` → `meta nfproto ipv4`).
            ExprKind::Ct { key: "saddr" | "daddr", .. } => {
                let v6 = scalar(e).is_some_and(|k| k.bits == 128);
                l3(Some(if v6 { proto::L3::Ipv6 } else { proto::L3::Ipv4 }), out);
            }
            ExprKind::Opt { proto: "tcp", .. } => out.push(Dep::L4(6)),
            ExprKind::Concat(parts) => parts.iter().for_each(|p| self.deps(p, out)),
            ExprKind::Binop { lhs, rhs, .. } => {
                self.deps(lhs, out);
                self.deps(rhs, out);
            }
            ExprKind::Map { key, .. } => self.deps(key, out),
            ExprKind::Hash { input: Some(i), .. } => self.deps(i, out),
            _ => {}
        }
    }

    /// Emit the checks of `deps` the rule has not established yet.
    pub(crate) fn emit_deps(&mut self, deps: &[Dep], span: Span) -> R<()> {
        for d in deps {
            match *d {
                Dep::NfProto(n) if self.nfproto != Some(n) => {
                    let r = self.alloc(1, span)?;
                    self.ops.push(Op::Meta { dst: r, key: ir::MetaKey::NfProto, len: 1 });
                    self.ops.push(Op::Cmp { src: r, op: ir::CmpOp::Eq, data: vec![n] });
                    self.nfproto = Some(n);
                }
                Dep::L4(n) if self.l4 != Some(n) => {
                    let r = self.alloc(1, span)?;
                    self.ops.push(Op::Meta { dst: r, key: ir::MetaKey::L4Proto, len: 1 });
                    self.ops.push(Op::Cmp { src: r, op: ir::CmpOp::Eq, data: vec![n] });
                    self.l4 = Some(n);
                }
                Dep::IifTypeEther if !self.iiftype => {
                    let r = self.alloc(2, span)?;
                    self.ops.push(Op::Meta { dst: r, key: ir::MetaKey::IifType, len: 2 });
                    // ARPHRD_ETHER.
                    self.ops.push(Op::Cmp { src: r, op: ir::CmpOp::Eq, data: vec![0, 1] });
                    self.iiftype = true;
                }
                Dep::VlanTag if !self.vlan => {
                    let r = self.alloc(2, span)?;
                    self.ops.push(Op::Payload { dst: r, base: ir::Base::Link, offset: 12, len: 2 });
                    self.ops.push(Op::Cmp { src: r, op: ir::CmpOp::Eq, data: vec![0x81, 0x00] });
                    self.vlan = true;
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Load `bits` bits at bit `off` with `mk(dst, byte_offset, len)`.
    fn load_bits(&mut self, off: u64, bits: u32, span: Span, mk: impl Fn(Reg, u16, u8) -> Op) -> R<Val> {
        let byte = off / 8;
        let bit_in = (off % 8) as u32;
        let len = (bit_in + bits).div_ceil(8) as usize;
        let Ok(byte) = u16::try_from(byte) else {
            return Err(not_executable(
                "a header offset beyond 65535 bytes",
                span,
                "the runtime addresses headers with 16-bit offsets",
            ));
        };
        if len > ir::MAX_LEN {
            return Err(internal("a field wider than the register file", span));
        }
        let reg = self.alloc(len, span)?;
        self.ops.push(mk(reg, byte, len as u8));
        let shift = len as u32 * 8 - bit_in - bits;
        if bit_in != 0 || !bits.is_multiple_of(8) {
            self.ops.push(Op::Bitwise {
                dst: reg,
                src: reg,
                len: len as u8,
                mask: field_mask(len, shift, bits),
                xor: vec![0; len],
            });
        }
        Ok(Val { reg, len, klen: (bits as usize).div_ceil(8), shift, bits })
    }

    /// Move a bit field to the start of its register, right-aligned in its
    /// own width (the form keys, map data and stores use).
    pub(crate) fn normalize(&mut self, v: Val) -> Val {
        if v.is_plain() {
            return v;
        }
        let net = 8 * (v.len as i64 - v.klen as i64) - i64::from(v.shift);
        if net != 0 {
            self.ops.push(Op::Shift {
                dst: v.reg,
                src: v.reg,
                len: v.len as u8,
                left: net > 0,
                amount: net.unsigned_abs() as u8,
            });
        }
        Val { reg: v.reg, len: v.klen, klen: v.klen, shift: 0, bits: v.klen as u32 * 8 }
    }

    /// The value of `v` as a `want`-byte big-endian integer at a register.
    pub(crate) fn coerce(&mut self, v: Val, want: usize, span: Span) -> R<Val> {
        let v = self.normalize(v);
        if v.klen == want {
            return Ok(v);
        }
        if v.klen > want {
            // Keep the low bytes: shift them to the front.
            self.ops.push(Op::Shift {
                dst: v.reg,
                src: v.reg,
                len: v.klen as u8,
                left: true,
                amount: (8 * (v.klen - want)) as u8,
            });
            return Ok(Val::plain(v.reg, want));
        }
        // Widen: copy into a zeroed `want`-byte register, then shift right.
        let reg = if want.div_ceil(4) == v.klen.div_ceil(4) {
            v.reg
        } else {
            let r = self.alloc(want, span)?;
            self.ops.push(Op::Immediate { dst: r, data: vec![0; want] });
            self.ops.push(Op::Bitwise {
                dst: r,
                src: v.reg,
                len: v.klen as u8,
                mask: vec![0xff; v.klen],
                xor: vec![0; v.klen],
            });
            r
        };
        self.ops.push(Op::Shift {
            dst: reg,
            src: reg,
            len: want as u8,
            left: false,
            amount: (8 * (want - v.klen)) as u8,
        });
        Ok(Val::plain(reg, want))
    }

    /// Load an expression (a bit field stays masked in place).
    pub(crate) fn load(&mut self, e: &Expr) -> R<Val> {
        match &e.kind {
            ExprKind::Payload { proto: name, offset, bits, .. } => {
                let p = proto::protocol(name).ok_or_else(|| internal(format!("unknown protocol {name}"), e.span))?;
                let base = ir_base(p.base);
                let off = u64::from(proto::link_offset(name).unwrap_or(0)) + u64::from(*offset);
                self.load_bits(off, *bits, e.span, |dst, offset, len| Op::Payload { dst, base, offset, len })
            }
            ExprKind::Raw { base, offset, bits } => {
                let b = match base.as_str() {
                    "ll" => ir::Base::Link,
                    "nh" => ir::Base::Network,
                    "th" => ir::Base::Transport,
                    "ih" => ir::Base::Inner,
                    _ => return Err(internal(format!("raw payload base @{base}"), e.span)),
                };
                self.load_bits(u64::from(*offset), *bits, e.span, |dst, offset, len| Op::Payload {
                    dst,
                    base: b,
                    offset,
                    len,
                })
            }
            ExprKind::Exthdr { hdr, field, offset, bits } => {
                let (num, rt) =
                    proto::ip6_exthdr_number(hdr).ok_or_else(|| internal(format!("extension header {hdr}"), e.span))?;
                if let Some(ty) = rt {
                    // rt0/rt2/srh: nft matches the routing type first.
                    let r = self.alloc(1, e.span)?;
                    self.ops.push(Op::Exthdr { dst: r, hdr: num, offset: 2, len: 1, present: false });
                    self.ops.push(Op::Cmp { src: r, op: ir::CmpOp::Eq, data: vec![ty] });
                }
                if field.is_none() {
                    let r = self.alloc(1, e.span)?;
                    self.ops.push(Op::Exthdr { dst: r, hdr: num, offset: 0, len: 1, present: true });
                    return Ok(Val::plain(r, 1));
                }
                self.load_bits(u64::from(*offset), *bits, e.span, |dst, offset, len| Op::Exthdr {
                    dst,
                    hdr: num,
                    offset,
                    len,
                    present: false,
                })
            }
            ExprKind::Opt { proto: "tcp", kind, field, offset, bits, .. } => {
                let kind = *kind;
                if field.is_none() {
                    let r = self.alloc(1, e.span)?;
                    self.ops.push(Op::TcpOpt { dst: r, kind, offset: 0, len: 1, present: true });
                    return Ok(Val::plain(r, 1));
                }
                self.load_bits(u64::from(*offset), *bits, e.span, |dst, offset, len| Op::TcpOpt {
                    dst,
                    kind,
                    offset,
                    len,
                    present: false,
                })
            }
            ExprKind::Opt { proto: p, .. } => {
                let what = match *p {
                    "sctp" => "`sctp chunk` matches",
                    "ip" => "`ip option` matches",
                    _ => "`dccp option` matches",
                };
                Err(not_executable(what, e.span, "the runtime parses TCP options only"))
            }
            ExprKind::Inner { tunnel, .. } => Err(not_executable(
                format!("headers inside a `{tunnel}` tunnel"),
                e.span,
                "the runtime does not parse encapsulated packets",
            )),
            ExprKind::Meta { key } => {
                let Some((k, len)) = meta_key(key) else {
                    return Err(not_executable(format!("`meta {key}`"), e.span, meta_unsupported(key)));
                };
                let r = self.alloc(len, e.span)?;
                self.ops.push(Op::Meta { dst: r, key: k, len: len as u8 });
                Ok(Val::plain(r, len))
            }
            ExprKind::Ct { key, dir } => {
                let bits = scalar(e).map_or(32, |k| k.bits);
                let Some((k, len)) = ct_key(key, bits) else {
                    return Err(not_executable(
                        format!("`ct {key}`"),
                        e.span,
                        "the runtime's tracker does not provide this key",
                    ));
                };
                let dir = dir.map(|d| if d == "reply" { ir::Dir::Reply } else { ir::Dir::Original });
                let r = self.alloc(len, e.span)?;
                self.ops.push(Op::Ct { dst: r, key: k, dir, len: len as u8 });
                Ok(Val::plain(r, len))
            }
            ExprKind::Fib { flags, result } => self.load_fib(flags, result, false, e.span),
            ExprKind::Key { expr, key, .. } => {
                let why = match *expr {
                    "osf" => "ctc has no passive OS fingerprint database",
                    "socket" => "packets handled by ctc have no local socket",
                    "ipsec" => "ctc does not see IPsec state",
                    "rt" => "the host model has no route attributes",
                    _ => "not available in the runtime",
                };
                Err(not_executable(format!("`{expr} {key}`"), e.span, why))
            }
            ExprKind::Numgen { mode, modulus, offset } => {
                let r = self.alloc(4, e.span)?;
                self.ops.push(Op::Numgen { dst: r, random: mode == "random", modulus: *modulus, offset: *offset });
                Ok(Val::plain(r, 4))
            }
            ExprKind::Hash { kind, input, modulus, seed, offset } => {
                let src = match input {
                    Some(i) if *kind == "jhash" => {
                        let (reg, len) = self.load_key(i)?;
                        Some((reg, len as u8))
                    }
                    _ => None,
                };
                let r = self.alloc(4, e.span)?;
                // The kernel picks a random seed when none is given; ctc uses
                // 0 so replays are reproducible.
                self.ops.push(Op::Hash {
                    dst: r,
                    src,
                    symmetric: *kind == "symhash",
                    modulus: *modulus,
                    seed: seed.unwrap_or(0),
                    offset: *offset,
                });
                Ok(Val::plain(r, 4))
            }
            ExprKind::Binop { op, lhs, rhs } => self.load_binop(e, *op, lhs, rhs),
            ExprKind::Concat(_) => {
                let (reg, len) = self.load_key(e)?;
                Ok(Val::plain(reg, len))
            }
            ExprKind::Map { key, map, verdict: false } => self.load_map(e, key, map),
            ExprKind::Value(v) => {
                let kt = scalar(e).ok_or_else(|| internal("a value without a type", e.span))?;
                let len = klen(kt);
                let data = elems::value_bytes(v, kt, len, e.span)?;
                let r = self.alloc(len, e.span)?;
                self.ops.push(Op::Immediate { dst: r, data });
                Ok(Val::plain(r, len))
            }
            ExprKind::List(_) => {
                let kt = scalar(e).ok_or_else(|| internal("a list without a type", e.span))?;
                let len = klen(kt);
                let v = elems::const_int(e).ok_or_else(|| internal("a non-constant list", e.span))?;
                let r = self.alloc(len, e.span)?;
                self.ops.push(Op::Immediate { dst: r, data: be(v, len) });
                Ok(Val::plain(r, len))
            }
            _ => Err(internal("an expression that produces no value", e.span)),
        }
    }

    /// `fib FLAGS RESULT`; with `present`, the 1-byte existence of a route.
    pub(crate) fn load_fib(&mut self, flags: &[String], result: &str, present: bool, span: Span) -> R<Val> {
        let has = |f: &str| flags.iter().any(|x| x == f);
        let present = present || result == "check";
        let f = ir::FibFlags {
            saddr: has("saddr"),
            daddr: has("daddr"),
            mark: has("mark"),
            iif: has("iif"),
            oif: has("oif"),
            present,
        };
        let (res, len) = match result {
            "oifname" => (ir::FibResult::OifName, 16),
            "type" => (ir::FibResult::Type, 4),
            _ => (ir::FibResult::Oif, 4),
        };
        let len = if present { 1 } else { len };
        let r = self.alloc(len, span)?;
        self.ops.push(Op::Fib { dst: r, flags: f, result: res, len: len as u8 });
        Ok(Val::plain(r, len))
    }

    /// `lhs OP constant`: a bitwise operation or shift of the result width.
    fn load_binop(&mut self, e: &Expr, op: BinOp, lhs: &Expr, rhs: &Expr) -> R<Val> {
        let Some(c) = elems::const_int(rhs) else {
            return Err(not_executable(
                "a bitwise operation between two packet values",
                e.span,
                "the runtime's bitwise operations take one constant operand",
            ));
        };
        let want = scalar(e).map_or(4, klen);
        let l = self.load(lhs)?;
        let v = self.coerce(l, want, e.span)?;
        let len = v.len;
        match op {
            BinOp::And | BinOp::Or | BinOp::Xor => {
                let cb = be(c, len);
                let (mask, xor) = match op {
                    BinOp::And => (cb, vec![0; len]),
                    BinOp::Or => (cb.iter().map(|b| !b).collect(), cb),
                    _ => (vec![0xff; len], cb),
                };
                self.ops.push(Op::Bitwise { dst: v.reg, src: v.reg, len: len as u8, mask, xor });
            }
            BinOp::Shl | BinOp::Shr => {
                if c >= len as u128 * 8 {
                    // Everything shifted out: nft folds this to zero.
                    self.ops.push(Op::Immediate { dst: v.reg, data: vec![0; len] });
                } else if c > 0 {
                    self.ops.push(Op::Shift {
                        dst: v.reg,
                        src: v.reg,
                        len: len as u8,
                        left: op == BinOp::Shl,
                        amount: c as u8,
                    });
                }
            }
        }
        Ok(v)
    }

    /// A key (one value or a concatenation) in the set layout: each
    /// component normalized, concatenation components on word boundaries.
    /// Returns the register and the key length.
    pub(crate) fn load_key(&mut self, e: &Expr) -> R<(Reg, usize)> {
        let parts: Vec<&Expr> = match &e.kind {
            ExprKind::Concat(parts) => parts.iter().collect(),
            _ => {
                let kt = scalar(e).cloned();
                let v = self.load(e)?;
                let want = kt.as_ref().map_or(v.klen, klen);
                let v = self.coerce(v, want, e.span)?;
                return Ok((v.reg, v.len));
            }
        };
        let kts = key_types(e)?;
        let layout = Layout::of(&kts, e.span)?;
        let total = layout.len();
        let base = self.alloc(total, e.span)?;
        let mut slot = base.0;
        for (p, kt) in parts.iter().zip(&kts) {
            let want = klen(kt);
            // Load in place; temporaries may use the slots after this one,
            // which are written later.
            self.reg = slot;
            let v = self.load(p)?;
            let v = self.coerce(v, want, p.span)?;
            if v.reg.0 != slot {
                self.ops.push(Op::Bitwise {
                    dst: Reg(slot),
                    src: v.reg,
                    len: want as u8,
                    mask: vec![0xff; want],
                    xor: vec![0; want],
                });
            }
            slot += want.div_ceil(4) as u8;
        }
        self.reg = self.reg.max(base.0 + total.div_ceil(4) as u8);
        Ok((base, total))
    }

    /// `KEY map { ... }` / `KEY map @m` as a value: the element's data.
    fn load_map(&mut self, e: &Expr, key: &Expr, map: &Expr) -> R<Val> {
        let (set, layout_len, data_len) = self.map_set(e, key, map, false)?;
        let (reg, len) = self.load_key(key)?;
        if len != layout_len {
            return Err(internal(format!("a {len}-byte key for a map of {layout_len}-byte keys"), key.span));
        }
        let dst = self.alloc(data_len, e.span)?;
        self.ops.push(Op::Lookup { src: reg, len: len as u8, set, negate: false, dst: Some(dst) });
        Ok(Val::plain(dst, data_len))
    }
}
