//! Rules and statements: matches (comparisons, flags, prefixes, ranges,
//! set lookups), verdicts and verdict maps, counters, limits, quotas, logs,
//! reject, NAT, meta/ct/payload writes, notrack, ct helpers, set updates.
//!
//! Registers are allocated per statement from r0, as nft reuses reg 1 for
//! each relational expression; dependencies an earlier statement checked
//! are not repeated.

use super::elems::{self, DataKind, Layout, value_bytes, wildcard};
use super::expr::{Dep, Val, key_types, place, scalar};
use super::{Lowerer, R, TableCx, internal, not_executable};
use crate::hir::{
    self, Expr, ExprKind, ExprType, Family, KeyType, NfFamily, ObjTarget, ObjectKind, RejectKind, RelOp, Stmt,
    StmtKind, Value,
};
use ctc_grammar::Span;
use ctc_ir::{self as ir, CmpOp, Op, Reg};
use ctc_proto::{BaseKind, Ty};

/// The rule being built.
pub(crate) struct Rb<'l, 'a, 't> {
    lw: &'l mut Lowerer<'a>,
    t: &'l mut TableCx<'t>,
    pub ops: Vec<Op>,
    /// Next free register word of the current statement.
    pub reg: u8,
    pub family: Family,
    /// Protocols the rule has established (explicitly or by a dependency).
    pub nfproto: Option<u8>,
    pub l4: Option<u8>,
    pub iiftype: bool,
    pub vlan: bool,
    counter: Option<ir::CounterId>,
}

pub(crate) fn lower_rule(lw: &mut Lowerer<'_>, t: &mut TableCx<'_>, r: &hir::Rule) -> R<ir::Rule> {
    let loc = lw.loc(r.span);
    let family = t.family;
    let nfproto = match family {
        Family::Ip => Some(2),
        Family::Ip6 => Some(10),
        _ => None,
    };
    let mut b =
        Rb { lw, t, ops: Vec::new(), reg: 0, family, nfproto, l4: None, iiftype: false, vlan: false, counter: None };
    for s in &r.stmts {
        b.reg = 0;
        b.stmt(s)?;
    }
    Ok(ir::Rule { ops: b.ops, loc, counter: b.counter })
}

fn cmp_op(op: RelOp) -> CmpOp {
    match op {
        RelOp::Implicit | RelOp::Eq => CmpOp::Eq,
        RelOp::Ne => CmpOp::Ne,
        RelOp::Lt => CmpOp::Lt,
        RelOp::Gt => CmpOp::Gt,
        RelOp::Le => CmpOp::Le,
        RelOp::Ge => CmpOp::Ge,
    }
}

fn is_bitmask(kt: &KeyType) -> bool {
    kt.ty.info().kind == BaseKind::Bitmask
}

/// Whether an expression tree contains a string value (an interface name
/// where an index is declared: `iif "lo"`).
fn has_str(e: &Expr) -> bool {
    match &e.kind {
        ExprKind::Value(Value::Str(_)) => true,
        ExprKind::Value(_) => false,
        ExprKind::SetLit(elems) => elems.iter().any(|el| has_str(&el.key)),
        ExprKind::Range { lo, hi } => has_str(lo) || has_str(hi),
        ExprKind::Map { map, .. } => has_str(map),
        _ => false,
    }
}

fn has_int(e: &Expr) -> bool {
    match &e.kind {
        ExprKind::Value(Value::Int(_)) => true,
        ExprKind::SetLit(elems) => elems.iter().any(|el| has_int(&el.key)),
        ExprKind::Range { lo, hi } => has_int(lo) || has_int(hi),
        _ => false,
    }
}

impl Rb<'_, '_, '_> {
    /// Register a `limit` definition; its id.
    fn limit_def(&mut self, l: &hir::Limit) -> ir::LimitId {
        let id = ir::LimitId(self.lw.out.limits.len() as u32);
        self.lw.out.limits.push(ir::LimitDef {
            rate: l.rate,
            per_secs: l.per_secs,
            burst: l.burst,
            bytes: l.unit == hir::LimitUnit::Bytes,
            over: l.over,
        });
        id
    }

    fn stmt(&mut self, s: &Stmt) -> R<()> {
        match &s.kind {
            StmtKind::Match { lhs, op, rhs } => self.matches(s, lhs, *op, rhs),
            StmtKind::Verdict(v) => {
                let v = elems::verdict(v, &self.t.chains, s.span)?;
                self.ops.push(Op::Verdict(v));
                Ok(())
            }
            StmtKind::VerdictMap(e) => {
                let ExprKind::Map { key, map, verdict: true } = &e.kind else {
                    return Err(internal("a verdict map statement without a map", s.span));
                };
                self.with_deps(e, s.span)?;
                let (set, klen, _) = self.map_set(e, key, map, true)?;
                let (src, len) = self.load_key(key)?;
                if len != klen {
                    return Err(internal("verdict map key of the wrong width", s.span));
                }
                self.ops.push(Op::VerdictMap { src, len: len as u8, set });
                Ok(())
            }
            StmtKind::AnonChain { .. } => Err(internal("an anonymous chain left in the HIR", s.span)),
            StmtKind::Counter { packets, bytes } => {
                let id = ir::CounterId(self.lw.out.counters.len() as u32);
                self.lw.out.counters.push((*packets, *bytes));
                self.counter.get_or_insert(id);
                self.ops.push(Op::Counter(id));
                Ok(())
            }
            StmtKind::Limit(l) => {
                let id = self.limit_def(l);
                self.ops.push(Op::Limit(id));
                Ok(())
            }
            StmtKind::Quota(q) => {
                let id = ir::QuotaId(self.lw.out.quotas.len() as u32);
                self.lw.out.quotas.push(ir::QuotaDef { bytes: q.bytes, used: q.used, over: q.over });
                self.ops.push(Op::Quota(id));
                Ok(())
            }
            StmtKind::Log(l) => {
                let id = ir::LogId(self.lw.out.logs.len() as u32);
                self.lw.out.logs.push(ir::LogDef {
                    prefix: l.prefix.clone(),
                    level: l.level,
                    group: l.group,
                    flags: l.flags,
                });
                self.ops.push(Op::Log(id));
                Ok(())
            }
            StmtKind::Reject(k) => self.reject(*k, s.span),
            StmtKind::Queue(q) => match &q.target {
                hir::QueueTarget::Range(lo, hi) => {
                    let range = hi.saturating_sub(*lo).saturating_add(1);
                    self.ops.push(Op::Verdict(ir::Verdict::Queue {
                        num: *lo,
                        range,
                        bypass: q.bypass,
                        fanout: q.fanout,
                    }));
                    Ok(())
                }
                hir::QueueTarget::Expr(e) => Err(not_executable(
                    "a queue number computed from an expression",
                    e.span,
                    "the runtime queues to fixed queue numbers",
                )),
            },
            StmtKind::MetaSet { key, value } => self.meta_set(key, value, s.span),
            StmtKind::CtSet { key, dir, value } => self.ct_set(key, *dir, value, s.span),
            StmtKind::PayloadSet { target, value } => self.payload_set(target, value, s.span),
            StmtKind::Notrack => {
                self.ops.push(Op::Notrack);
                Ok(())
            }
            StmtKind::Nat(n) => self.nat(n, s.span),
            StmtKind::SetUpdate { op, set, key, data, timeout_ms, stmts, .. } => {
                // One per-element `limit` is executable (each element gets its
                // own bucket); other per-element state is not.
                let limit = match stmts.as_slice() {
                    [] => None,
                    [one] if *op != hir::SetOp::Delete && matches!(one.kind, StmtKind::Limit(_)) => {
                        let StmtKind::Limit(l) = &one.kind else { unreachable!("matched above") };
                        Some(self.limit_def(l))
                    }
                    [.., inner] => {
                        let inner = stmts.iter().find(|x| !matches!(x.kind, StmtKind::Limit(_))).unwrap_or(inner);
                        return Err(not_executable(
                            format!("per-element statements in `{} @{set}`", op.name()),
                            inner.span,
                            "the runtime's dynamic sets keep one per-element `limit`, no counter, quota or second statement",
                        ));
                    }
                };
                if let Some(d) = data {
                    return Err(not_executable(
                        format!("updating the data of map @{set}"),
                        d.span,
                        "the runtime's dynamic sets carry keys only",
                    ));
                }
                let info = self.named(set, s.span)?;
                self.with_deps(key, s.span)?;
                let (src, len) = self.load_key(key)?;
                if len != info.layout.len() {
                    return Err(internal("set update key of the wrong width", key.span));
                }
                let default = self.lw.out.sets[info.id.index()].timeout_ms;
                self.lw.out.sets[info.id.index()].dynamic = true;
                self.ops.push(Op::SetUpdate {
                    set: info.id,
                    src,
                    len: len as u8,
                    delete: *op == hir::SetOp::Delete,
                    timeout_ms: timeout_ms.or(default),
                    limit,
                });
                Ok(())
            }
            StmtKind::ObjRef { kind, target } => self.obj_ref(*kind, target, s.span),
            StmtKind::Comment(_) => Ok(()),
            StmtKind::Last { .. } => Err(not_executable("`last`", s.span, "the runtime keeps no last-use time")),
            StmtKind::ConnLimit { .. } => {
                Err(not_executable("`ct count`", s.span, "the runtime has no connection limits"))
            }
            StmtKind::OptStrip { option } => Err(not_executable(
                format!("`reset tcp option {option}`"),
                s.span,
                "the runtime does not rewrite TCP options",
            )),
            StmtKind::Tproxy { .. } => {
                Err(not_executable("`tproxy`", s.span, "packets handled by ctc have no local sockets"))
            }
            StmtKind::Synproxy { .. } => Err(not_executable("`synproxy`", s.span, "the runtime has no SYN proxy")),
            StmtKind::Dup { .. } => Err(not_executable("`dup`", s.span, "the runtime does not duplicate packets")),
            StmtKind::Fwd { .. } => Err(not_executable("`fwd`", s.span, "`fwd` belongs to the netdev family")),
            StmtKind::Meter { name, .. } => Err(not_executable(
                format!("meter `{name}`"),
                s.span,
                "meters keep per-element state; the runtime's sets keep none",
            )),
            StmtKind::FlowOffload { flowtable } => Err(not_executable(
                format!("`flow add @{flowtable}`"),
                s.span,
                "flowtables offload flows past the ruleset; ctc has no fast path",
            )),
            StmtKind::Other { keyword, .. } => {
                Err(not_executable(format!("`{keyword}`"), s.span, "not available in the runtime"))
            }
        }
    }

    /// Emit the dependencies of `e`.
    fn with_deps(&mut self, e: &Expr, span: Span) -> R<()> {
        let mut deps = Vec::new();
        self.deps(e, &mut deps);
        self.emit_deps(&deps, span)
    }

    fn named(&self, name: &str, span: Span) -> R<super::SetInfo> {
        if let Some(why) = self.t.unusable.get(name) {
            return Err(not_executable(format!("a rule using @{name}"), span, why.clone()));
        }
        self.t.sets.get(name).cloned().ok_or_else(|| internal(format!("unknown set @{name}"), span))
    }

    /// An anonymous set in the current table.
    fn anon_set(&mut self, key: &Layout, data: &DataKind, elems: &[hir::SetElem]) -> R<ir::SetId> {
        let name = format!("__set{}", self.t.anon);
        self.t.anon += 1;
        let set = elems::build_set(
            &mut elems::SetCx { chains: &self.t.chains },
            &name,
            self.t.id,
            key,
            data,
            elems,
            false,
            false,
            None,
        )?;
        let id = ir::SetId(self.lw.out.sets.len() as u32);
        self.lw.out.sets.push(set);
        Ok(id)
    }

    /// The set a map expression looks up: (set, key length, data length).
    pub(crate) fn map_set(&mut self, e: &Expr, key: &Expr, map: &Expr, verdict: bool) -> R<(ir::SetId, usize, usize)> {
        let layout = Layout::of(&key_types(key)?, key.span)?;
        match &map.kind {
            ExprKind::SetLit(elems) => {
                let data = if verdict {
                    DataKind::Verdict
                } else {
                    let kts = match &e.ty {
                        ExprType::Scalar(k) => vec![k.clone()],
                        ExprType::Concat(ks) => ks.clone(),
                        _ => return Err(internal("map data without a type", e.span)),
                    };
                    DataKind::Value(Layout::of(&kts, e.span)?)
                };
                let dlen = match &data {
                    DataKind::Value(l) => l.len(),
                    _ => 0,
                };
                let id = self.anon_set(&layout, &data, elems)?;
                Ok((id, layout.len(), dlen))
            }
            ExprKind::SetRef { name } => {
                let info = self.named(name, map.span)?;
                let s = &self.lw.out.sets[info.id.index()];
                if verdict != s.verdict_map || !s.is_map {
                    return Err(internal(format!("@{name} is not the kind of map used here"), map.span));
                }
                Ok((info.id, info.layout.len(), s.data_len as usize))
            }
            _ => Err(internal("a map that is neither a literal nor @name", map.span)),
        }
    }

    // ------------------------------------------------------------ matches

    fn matches(&mut self, s: &Stmt, lhs: &Expr, op: RelOp, rhs: &Expr) -> R<()> {
        self.with_deps(lhs, s.span)?;
        // `iif "lo"`: nft resolves the name to an index when the rule is
        // loaded; ctc's host model is only known at run time, so the
        // match is on the name (equivalent unless the device is renamed).
        if let ExprKind::Meta { key: k @ ("iif" | "oif") } = &lhs.kind
            && has_str(rhs)
        {
            if has_int(rhs) {
                return Err(not_executable(
                    "a match mixing interface indexes and names",
                    rhs.span,
                    "write either names or indexes",
                ));
            }
            let name_kt = KeyType { ty: Ty::Ifname, bits: 128 };
            let by_name = Expr {
                kind: ExprKind::Meta { key: if *k == "iif" { "iifname" } else { "oifname" } },
                ty: ExprType::Scalar(name_kt),
                span: lhs.span,
            };
            return self.matches(s, &by_name, op, rhs);
        }
        match &rhs.kind {
            ExprKind::SetLit(elems) => {
                let layout = Layout::of(&key_types(lhs)?, lhs.span)?;
                let set = self.anon_set(&layout, &DataKind::None, elems)?;
                let (src, len) = self.load_key(lhs)?;
                self.lookup(src, len, set, op, rhs.span)
            }
            ExprKind::SetRef { name } => {
                let info = self.named(name, rhs.span)?;
                let (src, len) = self.load_key(lhs)?;
                if len != info.layout.len() {
                    return Err(internal(
                        format!("a {len}-byte key for @{name} of {}-byte keys", info.layout.len()),
                        rhs.span,
                    ));
                }
                self.lookup(src, len, info.id, op, rhs.span)
            }
            ExprKind::Concat(parts) => {
                let kts = key_types(lhs)?;
                let layout = Layout::of(&kts, lhs.span)?;
                let all_values = parts.iter().all(|p| matches!(p.kind, ExprKind::Value(_)));
                if !all_values || !matches!(op, RelOp::Implicit | RelOp::Eq | RelOp::Ne) {
                    // Ranges or prefixes in a concatenation: a one-element set.
                    let el = hir::SetElem {
                        key: rhs.clone(),
                        data: None,
                        timeout_ms: None,
                        expires_ms: None,
                        comment: None,
                        stmts: Vec::new(),
                        span: rhs.span,
                    };
                    let set = self.anon_set(&layout, &DataKind::None, std::slice::from_ref(&el))?;
                    let (src, len) = self.load_key(lhs)?;
                    return self.lookup(src, len, set, op, rhs.span);
                }
                let data = elems::data_bytes(&layout, rhs)?;
                let (src, _) = self.load_key(lhs)?;
                self.ops.push(Op::Cmp { src, op: cmp_op(op), data });
                Ok(())
            }
            _ => self.scalar_match(s, lhs, op, rhs),
        }?;
        self.establish(lhs, op, rhs);
        Ok(())
    }

    /// Record what an explicit match established (nft's protocol context).
    fn establish(&mut self, lhs: &Expr, op: RelOp, rhs: &Expr) {
        if !matches!(op, RelOp::Implicit | RelOp::Eq) {
            return;
        }
        let Some(v) = elems::const_int(rhs).filter(|_| matches!(rhs.kind, ExprKind::Value(_))) else { return };
        match &lhs.kind {
            ExprKind::Meta { key: "nfproto" } => self.nfproto = u8::try_from(v).ok(),
            ExprKind::Meta { key: "l4proto" } => self.l4 = u8::try_from(v).ok(),
            ExprKind::Meta { key: "iiftype" } => self.iiftype = v == 1,
            ExprKind::Payload { proto: "ip", field: "protocol", .. }
            | ExprKind::Payload { proto: "ip6", field: "nexthdr", .. } => self.l4 = u8::try_from(v).ok(),
            _ => {}
        }
    }

    fn lookup(&mut self, src: Reg, len: usize, set: ir::SetId, op: RelOp, span: Span) -> R<()> {
        let negate = match op {
            RelOp::Implicit | RelOp::Eq => false,
            RelOp::Ne => true,
            _ => return Err(internal("an ordering operator with a set", span)),
        };
        self.ops.push(Op::Lookup { src, len: len as u8, set, negate, dst: None });
        Ok(())
    }

    /// A constant of the rhs as the bytes a comparison with `v` needs.
    fn cmp_const(&self, v: &Val, kt: &KeyType, e: &Expr, time_ns: bool) -> R<Vec<u8>> {
        let raw = match &e.kind {
            ExprKind::Value(val) => value_bytes(val, kt, v.klen, e.span)?,
            ExprKind::List(_) => {
                elems::be(elems::const_int(e).ok_or_else(|| internal("a non-constant list", e.span))?, v.klen)
            }
            _ => return Err(internal("a comparison with a non-constant", e.span)),
        };
        let raw = if time_ns {
            // `meta time` constants are seconds since the epoch; the
            // register holds nanoseconds.
            let secs = raw.iter().fold(0u128, |a, x| (a << 8) | u128::from(*x));
            elems::be(secs.saturating_mul(1_000_000_000), v.klen)
        } else {
            raw
        };
        Ok(if v.is_plain() { raw } else { place(&raw, v.len, v.shift) })
    }

    fn scalar_match(&mut self, _s: &Stmt, lhs: &Expr, op: RelOp, rhs: &Expr) -> R<()> {
        let kt = match scalar(lhs) {
            Some(k) => k.clone(),
            None => return Err(internal("a match on an untyped expression", lhs.span)),
        };
        let time_ns = matches!(lhs.kind, ExprKind::Meta { key: "time" });
        // Existence tests on fib results (`fib daddr oif missing`).
        let v = match (&lhs.kind, scalar(rhs)) {
            (ExprKind::Fib { flags, result }, Some(rk)) if rk.ty == Ty::Boolean || *result == "check" => {
                let v = self.load_fib(flags, result, true, lhs.span)?;
                let kt = KeyType { ty: Ty::Boolean, bits: 8 };
                let data = self.cmp_const(&v, &kt, rhs, false)?;
                self.ops.push(Op::Cmp { src: v.reg, op: cmp_op(op), data });
                return Ok(());
            }
            _ => self.load(lhs)?,
        };
        match &rhs.kind {
            ExprKind::Value(val) => {
                if let Some(prefix) = wildcard(val, &kt) {
                    // `iifname "eth*"`: compare the prefix bytes only (as nft).
                    if prefix.is_empty() {
                        return match op {
                            RelOp::Ne => {
                                Err(not_executable("`!= \"*\"`, which matches nothing", rhs.span, "remove the rule"))
                            }
                            _ => Ok(()),
                        };
                    }
                    let data: Vec<u8> = prefix.as_bytes().iter().copied().take(v.len).collect();
                    self.ops.push(Op::Cmp { src: v.reg, op: cmp_op(op), data });
                    return Ok(());
                }
                self.flags_or_cmp(&v, &kt, lhs, op, rhs, time_ns)
            }
            ExprKind::List(_) => self.flags_or_cmp(&v, &kt, lhs, op, rhs, time_ns),
            ExprKind::Prefix { value, len: plen } => {
                let full = self.cmp_const(&Val { len: v.klen, shift: 0, ..v.clone() }, &kt, value, time_ns)?;
                let plen = *plen as usize;
                let width = v.klen * 8;
                if v.is_plain() && plen.is_multiple_of(8) {
                    if plen == 0 {
                        // `/0` matches every packet that has the field.
                        return Ok(());
                    }
                    // Compare the prefix bytes only (nft: `cmp eq reg 1 0x0000a8c0`
                    // for a /24 loads and compares 3 bytes).
                    let data = full[..plen / 8].to_vec();
                    self.ops.push(Op::Cmp { src: v.reg, op: cmp_op(op), data });
                    return Ok(());
                }
                let (lo, _) = elems::prefix_bounds(&full, plen);
                let pmask = elems::prefix_bounds(&vec![0xffu8; v.klen], plen).0;
                let (mask, data) = if v.is_plain() {
                    (pmask, lo)
                } else {
                    // A prefix of a bit field: the field's top bits.
                    let field_prefix = place(&pmask, v.len, v.shift);
                    let keep = crate::lower::expr::field_mask(v.len, v.shift, v.bits);
                    let m: Vec<u8> = field_prefix.iter().zip(&keep).map(|(a, b)| a & b).collect();
                    (m, place(&lo, v.len, v.shift))
                };
                let _ = width;
                self.ops.push(Op::Bitwise { dst: v.reg, src: v.reg, len: v.len as u8, mask, xor: vec![0; v.len] });
                self.ops.push(Op::Cmp { src: v.reg, op: cmp_op(op), data });
                Ok(())
            }
            ExprKind::Range { lo, hi } => {
                let l = self.cmp_const(&v, &kt, lo, time_ns)?;
                let h = self.cmp_const(&v, &kt, hi, time_ns)?;
                let negate = match op {
                    RelOp::Implicit | RelOp::Eq => false,
                    RelOp::Ne => true,
                    _ => return Err(internal("an ordering operator with a range", rhs.span)),
                };
                if l <= h {
                    self.ops.push(Op::Range { src: v.reg, lo: l, hi: h, negate });
                } else {
                    // A range across the wrap point (`meta hour "22:00"-"02:00"`):
                    // outside of (hi, lo).
                    let (Some(nl), Some(nh)) = (inc(&h), dec(&l)) else {
                        return Err(internal("an empty wrapped range", rhs.span));
                    };
                    if nl <= nh {
                        self.ops.push(Op::Range { src: v.reg, lo: nl, hi: nh, negate: !negate });
                    } else if negate {
                        // Everything is inside: `!=` never matches.
                        self.ops.push(Op::Range {
                            src: v.reg,
                            lo: vec![0; v.len],
                            hi: vec![0xff; v.len],
                            negate: true,
                        });
                    }
                }
                Ok(())
            }
            ExprKind::Map { .. } | ExprKind::Payload { .. } | ExprKind::Meta { .. } | ExprKind::Ct { .. } => {
                Err(not_executable(
                    "a comparison between two packet values",
                    rhs.span,
                    "the runtime compares with constants",
                ))
            }
            _ => Err(not_executable("this comparison", rhs.span, "not available in the runtime")),
        }
    }

    /// A value or flag list: a bit test for flag types with no operator
    /// (`ct state established,related` is `& 0x06 != 0`), a comparison
    /// otherwise (`tcp flags == syn`, `tcp flags syn / syn,ack` after sema
    /// made it `& 0x12 == 0x02`).
    fn flags_or_cmp(&mut self, v: &Val, kt: &KeyType, lhs: &Expr, op: RelOp, rhs: &Expr, time_ns: bool) -> R<()> {
        let data = self.cmp_const(v, kt, rhs, time_ns)?;
        let binop = matches!(lhs.kind, ExprKind::Binop { .. });
        if op == RelOp::Implicit && is_bitmask(kt) && !binop {
            self.ops.push(Op::Bitwise { dst: v.reg, src: v.reg, len: v.len as u8, mask: data, xor: vec![0; v.len] });
            self.ops.push(Op::Cmp { src: v.reg, op: CmpOp::Ne, data: vec![0; v.len] });
        } else {
            self.ops.push(Op::Cmp { src: v.reg, op: cmp_op(op), data });
        }
        Ok(())
    }

    // ------------------------------------------------------------ statements

    fn reject(&mut self, k: RejectKind, span: Span) -> R<()> {
        let r = match k {
            RejectKind::Icmp(c) => {
                if self.family == Family::Inet {
                    self.emit_deps(&[Dep::NfProto(2)], span)?;
                }
                ir::Reject::Icmp(c)
            }
            RejectKind::Icmpv6(c) => {
                if self.family == Family::Inet {
                    self.emit_deps(&[Dep::NfProto(10)], span)?;
                }
                ir::Reject::Icmpv6(c)
            }
            RejectKind::Icmpx(c) => ir::Reject::Icmpx(c),
            // nft: `reject with tcp reset` implies `meta l4proto tcp`.
            RejectKind::TcpReset => {
                self.emit_deps(&[Dep::L4(6)], span)?;
                ir::Reject::TcpReset
            }
            // Port unreachable of the table's family.
            RejectKind::Default => match self.family {
                Family::Ip => ir::Reject::Icmp(3),
                Family::Ip6 => ir::Reject::Icmpv6(4),
                _ => ir::Reject::Icmpx(1),
            },
        };
        self.ops.push(Op::Reject(r));
        Ok(())
    }

    /// Evaluate `e` into a `want`-byte register (constants as immediates).
    fn value_into(&mut self, e: &Expr, want: usize, kt: Option<&KeyType>) -> R<Reg> {
        match &e.kind {
            ExprKind::Value(v) => {
                let k = scalar(e).or(kt).cloned().unwrap_or(KeyType { ty: Ty::Integer, bits: want as u32 * 8 });
                let data = value_bytes(v, &k, want, e.span)?;
                let r = self.alloc(want, e.span)?;
                self.ops.push(Op::Immediate { dst: r, data });
                Ok(r)
            }
            ExprKind::List(_) => {
                let c = elems::const_int(e).ok_or_else(|| internal("a non-constant list", e.span))?;
                let r = self.alloc(want, e.span)?;
                self.ops.push(Op::Immediate { dst: r, data: elems::be(c, want) });
                Ok(r)
            }
            _ => {
                let v = self.load(e)?;
                Ok(self.coerce(v, want, e.span)?.reg)
            }
        }
    }

    fn meta_set(&mut self, key: &str, value: &Expr, span: Span) -> R<()> {
        let (k, len) = match key {
            "mark" => (ir::MetaSetKey::Mark, 4),
            "priority" => (ir::MetaSetKey::Priority, 4),
            "pkttype" => (ir::MetaSetKey::PktType, 1),
            "nftrace" => (ir::MetaSetKey::NfTrace, 1),
            _ => {
                return Err(not_executable(
                    format!("`meta {key} set`"),
                    span,
                    "the runtime sets mark, priority, pkttype and nftrace",
                ));
            }
        };
        self.with_deps(value, span)?;
        let src = self.value_into(value, len, None)?;
        self.ops.push(Op::MetaSet { key: k, src });
        Ok(())
    }

    fn ct_set(&mut self, key: &str, dir: Option<&str>, value: &Expr, span: Span) -> R<()> {
        let (k, len) = match (key, dir) {
            ("mark", None) => (ir::CtSetKey::Mark, 4),
            ("zone", None) => (ir::CtSetKey::Zone, 2),
            ("label", None) => (ir::CtSetKey::Label, 16),
            ("event", None) => (ir::CtSetKey::Event, 4),
            _ => {
                let d = dir.map(|d| format!("{d} ")).unwrap_or_default();
                return Err(not_executable(
                    format!("`ct {d}{key} set`"),
                    span,
                    "the runtime sets ct mark, zone, label and event",
                ));
            }
        };
        self.with_deps(value, span)?;
        let kt = KeyType { ty: if key == "label" { Ty::CtLabel } else { Ty::Integer }, bits: len as u32 * 8 };
        let src = self.value_into(value, len, Some(&kt))?;
        self.ops.push(Op::CtSet { key: k, src, len: len as u8 });
        Ok(())
    }

    /// `FIELD set VALUE`: a rewrite with the checksum nft would fix.
    fn payload_set(&mut self, target: &Expr, value: &Expr, span: Span) -> R<()> {
        let (base, off, bits, csum) = match &target.kind {
            ExprKind::Payload { proto: name, field, offset, bits } => {
                let p = ctc_proto::protocol(name).ok_or_else(|| internal("unknown protocol", target.span))?;
                let csum = match (*name, *field) {
                    // Addresses are in the TCP/UDP pseudo-header (and, for
                    // IPv4, covered by the header checksum): nft's
                    // csum_type INET + NFT_PAYLOAD_L4CSUM_PSEUDOHDR.
                    ("ip" | "ip6", "saddr" | "daddr") => ir::Csum::Transport { pseudo: true },
                    ("ip", _) => ir::Csum::Network,
                    ("tcp" | "udp" | "udplite" | "dccp" | "icmp" | "icmpv6" | "igmp" | "th", _) => {
                        ir::Csum::Transport { pseudo: false }
                    }
                    _ => ir::Csum::None,
                };
                let off = u64::from(ctc_proto::link_offset(name).unwrap_or(0)) + u64::from(*offset);
                let base = match p.base {
                    ctc_proto::Base::Link => ir::Base::Link,
                    ctc_proto::Base::Network => ir::Base::Network,
                    ctc_proto::Base::Transport => ir::Base::Transport,
                    ctc_proto::Base::Inner => ir::Base::Inner,
                };
                (base, off, *bits, csum)
            }
            ExprKind::Raw { base, offset, bits } => {
                let b = match base.as_str() {
                    "ll" => ir::Base::Link,
                    "nh" => ir::Base::Network,
                    "th" => ir::Base::Transport,
                    _ => ir::Base::Inner,
                };
                (b, u64::from(*offset), *bits, ir::Csum::None)
            }
            ExprKind::Exthdr { .. } => {
                return Err(not_executable(
                    "writing IPv6 extension headers",
                    span,
                    "the runtime does not rewrite them",
                ));
            }
            ExprKind::Opt { .. } => {
                return Err(not_executable("writing TCP options", span, "the runtime does not rewrite TCP options"));
            }
            _ => return Err(not_executable("this write", span, "the runtime rewrites header fields only")),
        };
        self.with_deps(target, span)?;
        self.with_deps(value, span)?;
        let byte = u16::try_from(off / 8)
            .map_err(|_| not_executable("a write beyond 65535 bytes", span, "offset too large"))?;
        let bit_in = (off % 8) as u32;
        let len = (bit_in + bits).div_ceil(8) as usize;
        let shift = len as u32 * 8 - bit_in - bits;
        if bit_in == 0 && bits.is_multiple_of(8) {
            let src = self.value_into(value, len, scalar(target))?;
            self.ops.push(Op::PayloadSet { base, offset: byte, len: len as u8, src, csum });
            return Ok(());
        }
        // A bit field: read the covering bytes, replace the field, write
        // them back (nft: payload load, bitwise, payload write).
        let Some(c) = elems::const_int(value) else {
            return Err(not_executable(
                "writing a bit field from a packet value",
                value.span,
                "the runtime writes constants into bit fields",
            ));
        };
        let reg = self.alloc(len, span)?;
        self.ops.push(Op::Payload { dst: reg, base, offset: byte, len: len as u8 });
        let fm = crate::lower::expr::field_mask(len, shift, bits);
        let vb = place(&elems::be(c, (bits as usize).div_ceil(8)), len, shift);
        let xor: Vec<u8> = vb.iter().zip(&fm).map(|(v, m)| v & m).collect();
        self.ops.push(Op::Bitwise { dst: reg, src: reg, len: len as u8, mask: fm.iter().map(|m| !m).collect(), xor });
        self.ops.push(Op::PayloadSet { base, offset: byte, len: len as u8, src: reg, csum });
        Ok(())
    }

    fn nat(&mut self, n: &hir::Nat, span: Span) -> R<()> {
        let kind = match n.kind {
            hir::NatKind::Snat => ir::NatKind::Snat,
            hir::NatKind::Dnat => ir::NatKind::Dnat,
            hir::NatKind::Masquerade => ir::NatKind::Masquerade,
            hir::NatKind::Redirect => ir::NatKind::Redirect,
        };
        // No address and no family in an inet table (`masquerade`,
        // `redirect`, `snat to :PORT`): the statement serves both families
        // (nft_masq/nft_redir's inet evaluation follows the packet), marked
        // by an address length of 0.
        let addr_len: usize = match (n.family, self.family) {
            (Some(NfFamily::Ipv6), _) | (None, Family::Ip6) => 16,
            (None, Family::Inet) if n.addr.is_none() => 0,
            _ => 4,
        };
        let addr_kt =
            KeyType { ty: if addr_len == 16 { Ty::Ipv6Addr } else { Ty::Ipv4Addr }, bits: addr_len as u32 * 8 };
        let port_kt = KeyType { ty: Ty::InetService, bits: 16 };
        let mut nat = ir::Nat {
            kind,
            addr_len: addr_len as u8,
            addr_min: None,
            addr_max: None,
            port_min: None,
            port_max: None,
            flags: ir::NatFlags {
                random: n.flags.random,
                fully_random: n.flags.fully_random,
                persistent: n.flags.persistent,
                netmap: n.flags.netmap,
            },
        };
        if let Some(a) = &n.addr {
            self.with_deps(a, span)?;
            match &a.kind {
                ExprKind::Range { lo, hi } => {
                    nat.addr_min = Some(self.value_into(lo, addr_len, Some(&addr_kt))?);
                    nat.addr_max = Some(self.value_into(hi, addr_len, Some(&addr_kt))?);
                }
                ExprKind::Prefix { value, len } => {
                    let ExprKind::Value(v) = &value.kind else {
                        return Err(internal("a prefix of a non-constant", a.span));
                    };
                    let b = value_bytes(v, &addr_kt, addr_len, a.span)?;
                    let (lo, hi) = elems::prefix_bounds(&b, *len as usize);
                    let r1 = self.alloc(addr_len, a.span)?;
                    self.ops.push(Op::Immediate { dst: r1, data: lo });
                    let r2 = self.alloc(addr_len, a.span)?;
                    self.ops.push(Op::Immediate { dst: r2, data: hi });
                    nat.addr_min = Some(r1);
                    nat.addr_max = Some(r2);
                }
                ExprKind::Map { key, map, verdict: false } if n.concat => {
                    // The map yields `address . port`: the port is the
                    // next word-aligned component.
                    let (set, klen_, dlen) = self.map_set(a, key, map, false)?;
                    let (src, len) = self.load_key(key)?;
                    if len != klen_ || dlen < addr_len.div_ceil(4) * 4 + 2 {
                        return Err(internal("NAT map of the wrong shape", a.span));
                    }
                    let dst = self.alloc(dlen, a.span)?;
                    self.ops.push(Op::Lookup { src, len: len as u8, set, negate: false, dst: Some(dst) });
                    nat.addr_min = Some(dst);
                    nat.port_min = Some(Reg(dst.0 + addr_len.div_ceil(4) as u8));
                }
                ExprKind::Map { key, map, verdict: false } if nat_map_to_ranges(map) => {
                    // Map data that are ranges or prefixes (nft's interval
                    // data: two registers, the range's low and high ends).
                    let ExprKind::SetLit(elems) = &map.kind else {
                        return Err(internal("a NAT range map that is not a literal", a.span));
                    };
                    let layout = Layout::of(&key_types(key)?, key.span)?;
                    let data = Layout { comps: vec![addr_kt.clone()], concat: false };
                    let set = self.anon_set(&layout, &DataKind::Interval(data), elems)?;
                    let (src, len) = self.load_key(key)?;
                    if len != layout.len() {
                        return Err(internal("NAT map of the wrong shape", a.span));
                    }
                    let dst = self.alloc(2 * addr_len, a.span)?;
                    self.ops.push(Op::Lookup { src, len: len as u8, set, negate: false, dst: Some(dst) });
                    nat.addr_min = Some(dst);
                    nat.addr_max = Some(Reg(dst.0 + (addr_len / 4) as u8));
                }
                _ => nat.addr_min = Some(self.value_into(a, addr_len, Some(&addr_kt))?),
            }
        }
        if let Some(p) = &n.port {
            self.with_deps(p, span)?;
            match &p.kind {
                ExprKind::Range { lo, hi } => {
                    nat.port_min = Some(self.value_into(lo, 2, Some(&port_kt))?);
                    nat.port_max = Some(self.value_into(hi, 2, Some(&port_kt))?);
                }
                _ => nat.port_min = Some(self.value_into(p, 2, Some(&port_kt))?),
            }
        }
        self.ops.push(Op::Nat(nat));
        Ok(())
    }

    fn obj_ref(&mut self, kind: ObjectKind, target: &ObjTarget, span: Span) -> R<()> {
        let name = match target {
            ObjTarget::Name(n) => n,
            ObjTarget::Map(e) => {
                return Err(not_executable(
                    format!("a {} chosen by a map", kind.as_str()),
                    e.span,
                    "the runtime has no object maps",
                ));
            }
        };
        match kind {
            ObjectKind::CtHelper => {
                let o = self
                    .t
                    .hir
                    .object(ObjectKind::CtHelper, name)
                    .ok_or_else(|| internal(format!("unknown ct helper `{name}`"), span))?;
                let h = o.helper.as_ref().ok_or_else(|| internal("a ct helper without its type", o.span))?;
                self.ops.push(Op::CtHelper { name: h.name.clone(), l4proto: h.protocol });
                Ok(())
            }
            ObjectKind::CtTimeout => {
                let o = self
                    .t
                    .hir
                    .object(ObjectKind::CtTimeout, name)
                    .ok_or_else(|| internal(format!("unknown ct timeout `{name}`"), span))?;
                let spec = o.timeout.as_ref().ok_or_else(|| internal("a ct timeout without its policy", o.span))?;
                let qualified = format!("{} {}", self.t.hir.name, name);
                let timeouts = &mut self.lw.out.timeouts;
                let id = match timeouts.iter().position(|p| p.name == qualified) {
                    Some(i) => i,
                    None => {
                        timeouts.push(ir::TimeoutPolicy {
                            name: qualified,
                            l4proto: spec.protocol,
                            timeouts: spec
                                .policy
                                .iter()
                                .map(|(s, v)| (s.clone(), (*v).min(u32::MAX as u64) as u32))
                                .collect(),
                        });
                        timeouts.len() - 1
                    }
                };
                self.ops.push(Op::CtTimeout(ir::TimeoutId(id as u32)));
                Ok(())
            }
            ObjectKind::CtExpectation => {
                let o = self
                    .t
                    .hir
                    .object(ObjectKind::CtExpectation, name)
                    .ok_or_else(|| internal(format!("unknown ct expectation `{name}`"), span))?;
                let spec =
                    o.expect.as_ref().ok_or_else(|| internal("a ct expectation without its properties", o.span))?;
                let qualified = format!("{} {}", self.t.hir.name, name);
                let l3num = match spec.l3proto.unwrap_or(self.family) {
                    Family::Ip => 2,
                    Family::Ip6 => 10,
                    _ => 1,
                };
                let list = &mut self.lw.out.expectations;
                let id = match list.iter().position(|e| e.name == qualified) {
                    Some(i) => i,
                    None => {
                        list.push(ir::ExpectObj {
                            name: qualified,
                            l3num,
                            l4proto: spec.protocol,
                            dport: spec.dport,
                            timeout: spec.timeout_ms.min(u64::from(u32::MAX)) as u32,
                            size: spec.size,
                        });
                        list.len() - 1
                    }
                };
                self.ops.push(Op::CtExpect(ir::ExpectId(id as u32)));
                Ok(())
            }
            ObjectKind::Counter => {
                let id =
                    *self.t.counters.get(name).ok_or_else(|| internal(format!("unknown counter `{name}`"), span))?;
                self.counter.get_or_insert(id);
                self.ops.push(Op::Counter(id));
                Ok(())
            }
            other => Err(not_executable(
                format!("the named {} `{name}`", other.as_str()),
                span,
                "the runtime has no shared stateful objects of this kind",
            )),
        }
    }
}

/// A literal NAT map any of whose data is a range or a prefix: its data
/// are address ranges.
fn nat_map_to_ranges(map: &Expr) -> bool {
    let ExprKind::SetLit(elems) = &map.kind else { return false };
    elems
        .iter()
        .any(|e| e.data.as_ref().is_some_and(|d| matches!(d.kind, ExprKind::Range { .. } | ExprKind::Prefix { .. })))
}

/// `b + 1` / `b - 1` as big-endian integers (None on overflow).
fn inc(b: &[u8]) -> Option<Vec<u8>> {
    let mut v = b.to_vec();
    for x in v.iter_mut().rev() {
        let (n, o) = x.overflowing_add(1);
        *x = n;
        if !o {
            return Some(v);
        }
    }
    None
}

fn dec(b: &[u8]) -> Option<Vec<u8>> {
    let mut v = b.to_vec();
    for x in v.iter_mut().rev() {
        let (n, o) = x.overflowing_sub(1);
        *x = n;
        if !o {
            return Some(v);
        }
    }
    None
}
