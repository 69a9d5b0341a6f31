//! The match space of a rule: a union of boxes over packet fields.
//!
//! A dimension is one field a rule can test ([`DimKey`]): header bits at an
//! offset of a base (`tcp dport` and `udp dport` are both transport bits
//! 16..32, told apart by their `meta l4proto` dependency, as nft lowers
//! them), a meta key, a conntrack key. A box constrains some dimensions to
//! sets of values ([`IvSet`], sorted intervals over `u128`); a dimension a
//! box does not mention is unconstrained (any value, or no value at all: a
//! packet without a transport header has no `th dport`). Named sets whose
//! contents are not known when the ruleset loads are symbolic atoms
//! (`ip saddr @blocklist`).
//!
//! The model is sound in one direction only, which is all the anomaly lints
//! need: a rule's real match set is its region intersected with the
//! packets that can exist; when a rule has conditions outside the model
//! (`limit`, `numgen`, `fib`, a wide bitmask test, ...) they are dropped
//! and the rule is marked [`RuleModel::opaque`]: its region is then only an
//! upper bound. Containment of an upper bound in an exact region, and
//! emptiness of a region, are then facts about real packets; claims that
//! two rules *do* overlap need both exact and no entangled dimensions
//! ([`entangled`]).

use crate::hir::{self, BinOp, Expr, ExprKind, ExprType, Family, RelOp, StmtKind, Value};
use ctc_proto::{BaseKind, Ty};
use std::collections::HashMap;

/// One closed interval.
pub type Iv = (u128, u128);

/// A set of values: sorted, disjoint, non-adjacent closed intervals.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct IvSet(pub Vec<Iv>);

impl IvSet {
    pub fn empty() -> IvSet {
        IvSet(Vec::new())
    }
    pub fn point(v: u128) -> IvSet {
        IvSet(vec![(v, v)])
    }
    pub fn range(lo: u128, hi: u128) -> IvSet {
        if lo <= hi { IvSet(vec![(lo, hi)]) } else { IvSet::empty() }
    }
    /// The full range of a `bits`-wide field.
    pub fn full(bits: u32) -> IvSet {
        IvSet::range(0, max_of(bits))
    }
    /// Sort and merge.
    pub fn from_vec(mut v: Vec<Iv>) -> IvSet {
        v.retain(|(a, b)| a <= b);
        v.sort_unstable();
        let mut out: Vec<Iv> = Vec::with_capacity(v.len());
        for (a, b) in v {
            match out.last_mut() {
                Some(last) if a <= last.1.saturating_add(1) => last.1 = last.1.max(b),
                _ => out.push((a, b)),
            }
        }
        IvSet(out)
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    pub fn intersect(&self, o: &IvSet) -> IvSet {
        let (a, b) = (&self.0, &o.0);
        let (mut i, mut j) = (0, 0);
        let mut out = Vec::new();
        while i < a.len() && j < b.len() {
            let lo = a[i].0.max(b[j].0);
            let hi = a[i].1.min(b[j].1);
            if lo <= hi {
                out.push((lo, hi));
            }
            if a[i].1 < b[j].1 { i += 1 } else { j += 1 }
        }
        IvSet(out)
    }
    pub fn intersects(&self, o: &IvSet) -> bool {
        let (a, b) = (&self.0, &o.0);
        let (mut i, mut j) = (0, 0);
        while i < a.len() && j < b.len() {
            if a[i].0.max(b[j].0) <= a[i].1.min(b[j].1) {
                return true;
            }
            if a[i].1 < b[j].1 { i += 1 } else { j += 1 }
        }
        false
    }
    /// `self ⊆ o`.
    pub fn subset_of(&self, o: &IvSet) -> bool {
        let b = &o.0;
        let mut j = 0;
        for &(lo, hi) in &self.0 {
            while j < b.len() && b[j].1 < lo {
                j += 1;
            }
            if j == b.len() || b[j].0 > lo || b[j].1 < hi {
                return false;
            }
        }
        true
    }
    pub fn union(&self, o: &IvSet) -> IvSet {
        let mut v = self.0.clone();
        v.extend_from_slice(&o.0);
        IvSet::from_vec(v)
    }
    /// `domain \ self`.
    pub fn complement_in(&self, domain: &IvSet) -> IvSet {
        let mut out = Vec::new();
        for &(dlo, dhi) in &domain.0 {
            let mut lo = dlo;
            let mut open = true;
            for &(a, b) in &self.0 {
                if b < lo || a > dhi {
                    continue;
                }
                if a > lo {
                    out.push((lo, a - 1));
                }
                if b >= dhi {
                    open = false;
                    break;
                }
                lo = b + 1;
            }
            if open && lo <= dhi {
                out.push((lo, dhi));
            }
        }
        IvSet(out)
    }
    /// How many values (saturating).
    pub fn count(&self) -> u128 {
        self.0.iter().fold(0u128, |n, (a, b)| n.saturating_add(b - a).saturating_add(1))
    }
}

pub fn max_of(bits: u32) -> u128 {
    if bits >= 128 { u128::MAX } else { (1u128 << bits) - 1 }
}

/// A field a rule can test.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum DimKey {
    /// Header bits: base 0 link, 1 network, 2 transport, 3 inner.
    Payload {
        base: u8,
        offset: u32,
        bits: u32,
    },
    Meta(&'static str),
    /// A conntrack key; the direction is part of the key.
    Ct {
        key: &'static str,
        dir: Option<&'static str>,
    },
}

impl DimKey {
    /// Whether a write of `self` changes what a read of `other` sees.
    pub fn overlaps(&self, other: &DimKey) -> bool {
        match (self, other) {
            (DimKey::Payload { base: a, offset: oa, bits: ba }, DimKey::Payload { base: b, offset: ob, bits: bb }) => {
                a == b && *oa < ob + bb && *ob < oa + ba
            }
            (DimKey::Ct { key: "*", .. }, DimKey::Ct { .. }) | (DimKey::Ct { .. }, DimKey::Ct { key: "*", .. }) => true,
            (DimKey::Ct { key: a, .. }, DimKey::Ct { key: b, .. }) => a == b,
            (a, b) => a == b,
        }
    }
}

/// Two different dimensions whose values are not independent: a box may
/// pair values of them that no packet has. Overlapping header bits, and
/// the pairs nft keeps apart in meaning but not in the packet.
pub fn entangled(a: &DimKey, b: &DimKey) -> bool {
    if a == b {
        return false;
    }
    if a.overlaps(b) {
        return true;
    }
    let key = |d: &DimKey| match d {
        DimKey::Meta(k) => Some(*k),
        DimKey::Payload { base: 1, offset: 48, bits: 8 } => Some("ip6 nexthdr"),
        DimKey::Payload { base: 0, offset: 96, bits: 16 } => Some("ether type"),
        DimKey::Ct { key: k @ ("saddr" | "daddr" | "proto-src" | "proto-dst" | "protocol" | "l3proto"), .. } => {
            Some(*k)
        }
        _ => None,
    };
    let groups: &[&[&str]] = &[
        &["l4proto", "ip6 nexthdr", "protocol"],
        &["nfproto", "protocol", "ether type", "l3proto"],
        &["iif", "iifname", "iiftype", "iifgroup", "iifkind"],
        &["oif", "oifname", "oiftype", "oifgroup", "oifkind"],
    ];
    match (key(a), key(b)) {
        (Some(x), Some(y)) => groups.iter().any(|g| g.contains(&x) && g.contains(&y)),
        // Conntrack tuple fields mirror the packet's own for one direction.
        _ => {
            matches!((a, b), (DimKey::Ct { .. }, DimKey::Payload { .. }) | (DimKey::Payload { .. }, DimKey::Ct { .. }))
                && [a, b]
                    .iter()
                    .any(|d| matches!(d, DimKey::Ct { key: "saddr" | "daddr" | "proto-src" | "proto-dst", .. }))
        }
    }
}

/// A dimension of a chain: key, the values it can take, and whether every
/// packet has it (then a constraint to the whole domain is no constraint).
#[derive(Debug, Clone)]
pub struct DimInfo {
    pub key: DimKey,
    pub domain: IvSet,
    pub always: bool,
}

/// The dimensions of one chain, interned.
#[derive(Debug, Default)]
pub struct Dims {
    pub list: Vec<DimInfo>,
    index: HashMap<DimKey, u32>,
}

impl Dims {
    fn intern(&mut self, key: DimKey, domain: IvSet, always: bool) -> u32 {
        if let Some(&i) = self.index.get(&key) {
            return i;
        }
        let i = self.list.len() as u32;
        self.index.insert(key.clone(), i);
        self.list.push(DimInfo { key, domain, always });
        i
    }
    pub fn get(&self, key: &DimKey) -> Option<u32> {
        self.index.get(key).copied()
    }
}

/// One box: constraints sorted by dimension, and symbolic named-set atoms
/// `(dimension, set, negated)`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Cube {
    pub cons: Vec<(u32, IvSet)>,
    pub syms: Vec<(u32, u32, bool)>,
}

impl Cube {
    /// Add a constraint (intersecting with one already there). Returns
    /// false when the box became empty.
    pub fn constrain(&mut self, dim: u32, set: IvSet) -> bool {
        match self.cons.binary_search_by_key(&dim, |(d, _)| *d) {
            Ok(i) => {
                let s = self.cons[i].1.intersect(&set);
                let empty = s.is_empty();
                self.cons[i].1 = s;
                !empty
            }
            Err(i) => {
                let empty = set.is_empty();
                self.cons.insert(i, (dim, set));
                !empty
            }
        }
    }
    pub fn is_empty(&self) -> bool {
        self.cons.iter().any(|(_, s)| s.is_empty())
            || self.syms.iter().any(|&(d, s, n)| self.syms.contains(&(d, s, !n)))
    }
    /// The intersection, or `None` when it is certainly empty.
    pub fn meet(&self, o: &Cube) -> Option<Cube> {
        let mut c = self.clone();
        for (d, s) in &o.cons {
            if !c.constrain(*d, s.clone()) {
                return None;
            }
        }
        for s in &o.syms {
            if !c.syms.contains(s) {
                c.syms.push(*s);
            }
        }
        (!c.is_empty()).then_some(c)
    }
    /// `self ⊇ o`: every constraint of `self` holds in `o`.
    pub fn contains(&self, o: &Cube) -> bool {
        let mut j = 0;
        for (d, s) in &self.cons {
            while j < o.cons.len() && o.cons[j].0 < *d {
                j += 1;
            }
            if j == o.cons.len() || o.cons[j].0 != *d || !o.cons[j].1.subset_of(s) {
                return false;
            }
        }
        self.syms.iter().all(|s| o.syms.contains(s))
    }
    /// Certainly no common packet.
    pub fn disjoint(&self, o: &Cube) -> bool {
        let (mut i, mut j) = (0, 0);
        while i < self.cons.len() && j < o.cons.len() {
            let (da, db) = (self.cons[i].0, o.cons[j].0);
            if da == db {
                if !self.cons[i].1.intersects(&o.cons[j].1) {
                    return true;
                }
                i += 1;
                j += 1;
            } else if da < db {
                i += 1;
            } else {
                j += 1;
            }
        }
        self.syms.iter().any(|&(d, s, n)| o.syms.contains(&(d, s, !n)))
    }
}

/// The region of a rule and what the model knows about it.
#[derive(Debug, Clone, Default)]
pub struct RuleModel {
    /// Union of boxes; empty: the rule matches nothing.
    pub region: Vec<Cube>,
    /// Conditions outside the model were dropped: `region` is an upper
    /// bound of the real match set, not the set itself.
    pub opaque: bool,
    /// The match statement that made the region empty, and the earlier one
    /// it contradicts (for `contradictory-match`).
    pub conflict: Option<(ctc_grammar::Span, Option<ctc_grammar::Span>)>,
    /// Dimensions the rule reads.
    pub reads: Vec<u32>,
}

impl RuleModel {
    pub fn is_empty(&self) -> bool {
        self.region.is_empty()
    }
    /// Matches every packet (exactly).
    pub fn is_everything(&self) -> bool {
        !self.opaque && self.region.len() == 1 && self.region[0].cons.is_empty() && self.region[0].syms.is_empty()
    }
    /// Whether the region uses symbolic sets (then overlaps are unknown).
    pub fn has_syms(&self) -> bool {
        self.region.iter().any(|c| !c.syms.is_empty())
    }
}

/// Most boxes one rule's region may have (concatenation sets multiply).
pub const MAX_CUBES: usize = 256;
/// Most intervals an enumerated bitmask test may produce.
const MAX_ENUM_INTERVALS: usize = 1024;

/// Most box pairs one region comparison looks at; beyond, the answer is
/// the safe one ("not contained", "maybe overlapping"), so that rules with
/// large concatenation sets cannot make the quadratic scan explode.
const MAX_BOX_PAIRS: usize = 4096;

/// `a ⊇ b` for regions: every box of `b` inside one box of `a` (sufficient;
/// exact when `a` has one box).
pub fn region_contains(a: &[Cube], b: &[Cube]) -> bool {
    a.len() * b.len() <= MAX_BOX_PAIRS && b.iter().all(|cb| a.iter().any(|ca| ca.contains(cb)))
}

/// Certainly no common packet.
pub fn region_disjoint(a: &[Cube], b: &[Cube]) -> bool {
    a.len() * b.len() <= MAX_BOX_PAIRS && a.iter().all(|ca| b.iter().all(|cb| ca.disjoint(cb)))
}

/// Named sets whose elements are known when the ruleset loads: declared
/// with elements, not dynamic, no timeouts, not updated from the packet
/// path. The others are symbolic.
#[derive(Debug, Default)]
pub struct SetConsts {
    /// Per set name: for each key component, nothing (symbolic) or the
    /// elements as boxes over the components (one `Vec<IvSet>` per element).
    consts: HashMap<String, Option<Vec<Vec<IvSet>>>>,
    /// The constant sets of one-component keys, as one set of values.
    scalar: HashMap<String, IvSet>,
    names: HashMap<String, u32>,
}

impl SetConsts {
    pub fn of_table(t: &hir::Table) -> SetConsts {
        let mut updated: Vec<&str> = Vec::new();
        for c in &t.chains {
            for r in &c.rules {
                for s in &r.stmts {
                    match &s.kind {
                        StmtKind::SetUpdate { set, .. } => updated.push(set),
                        StmtKind::Meter { name, .. } => updated.push(name),
                        _ => {}
                    }
                }
            }
        }
        let mut out = SetConsts::default();
        for (i, s) in t.sets.iter().enumerate() {
            out.names.insert(s.name.clone(), i as u32);
            let dynamic = s.flags.iter().any(|f| f == "dynamic" || f == "timeout")
                || s.timeout_ms.is_some()
                || updated.contains(&s.name.as_str())
                || s.elements.is_empty();
            let value = if dynamic {
                None
            } else {
                let widths: Vec<u32> = s.key.iter().map(|k| k.bits).collect();
                s.elements.iter().map(|e| element_boxes(&e.key, &widths)).collect::<Option<Vec<_>>>()
            };
            if let Some(v) = &value
                && s.key.len() == 1
                && let Some(u) = union_of(v.iter().map(|b| b.first().cloned()))
            {
                out.scalar.insert(s.name.clone(), u);
            }
            out.consts.insert(s.name.clone(), value);
        }
        out
    }
    fn get(&self, name: &str) -> Option<&Vec<Vec<IvSet>>> {
        self.consts.get(name).and_then(|v| v.as_ref())
    }
    fn sym(&self, name: &str) -> u32 {
        self.names.get(name).copied().unwrap_or(u32::MAX)
    }
}

/// An element key as one set of values per key component.
pub fn element_boxes(key: &Expr, widths: &[u32]) -> Option<Vec<IvSet>> {
    match &key.kind {
        ExprKind::Concat(parts) if parts.len() == widths.len() => {
            parts.iter().zip(widths).map(|(p, w)| value_set(p, *w)).collect()
        }
        _ if widths.len() == 1 => Some(vec![value_set(key, widths[0])?]),
        _ => None,
    }
}

/// The values of a constant expression (value, prefix, range) in a field of
/// `bits` bits.
pub fn value_set(e: &Expr, bits: u32) -> Option<IvSet> {
    match &e.kind {
        ExprKind::Value(v) => value_point(v, bits),
        ExprKind::Prefix { value, len } => {
            let v = match &value.kind {
                ExprKind::Value(Value::Bytes(b)) if b.len() <= 16 => bytes_key(b),
                ExprKind::Value(Value::Int(i)) => *i,
                _ => return None,
            };
            let width = match &value.kind {
                ExprKind::Value(Value::Bytes(b)) => b.len() as u32 * 8,
                _ => bits,
            };
            if *len > width || width > 128 {
                return None;
            }
            let host = max_of(width - len);
            Some(IvSet::range(v & !host, v | host))
        }
        ExprKind::Range { lo, hi } => {
            let (ExprKind::Value(a), ExprKind::Value(b)) = (&lo.kind, &hi.kind) else { return None };
            let (a, b) = (value_point(a, bits)?.0[0].0, value_point(b, bits)?.0[0].1);
            // A range across the wrap point (`meta hour "22:00"-"02:00"`)
            // is not modelled.
            (a <= b).then(|| IvSet::range(a, b))
        }
        ExprKind::List(items) => union_of(items.iter().map(|i| value_set(i, bits))),
        _ => None,
    }
}

/// The union of sets, merged once (`None` if one is unknown).
fn union_of(sets: impl Iterator<Item = Option<IvSet>>) -> Option<IvSet> {
    let mut all = Vec::new();
    for s in sets {
        all.extend(s?.0);
    }
    Some(IvSet::from_vec(all))
}

fn bytes_key(b: &[u8]) -> u128 {
    b.iter().fold(0u128, |a, x| (a << 8) | u128::from(*x))
}

/// One value; an interface name with a `*` suffix is the range of names
/// starting with the prefix (names are 16 bytes, NUL-padded).
fn value_point(v: &Value, bits: u32) -> Option<IvSet> {
    match v {
        Value::Int(i) => (bits >= 128 || *i <= max_of(bits)).then(|| IvSet::point(*i)),
        Value::Bytes(b) if b.len() <= 16 => Some(IvSet::point(bytes_key(b))),
        Value::Bytes(_) => None,
        Value::Str(s) => {
            if bits != 128 {
                return None;
            }
            let (prefix, wild) = match v.wildcard_prefix() {
                Some(p) => (p, true),
                None => (s.as_str(), false),
            };
            let p = prefix.as_bytes();
            if p.len() > 16 || (!wild && p.len() > 15) {
                return None;
            }
            let mut lo = [0u8; 16];
            lo[..p.len()].copy_from_slice(p);
            let mut hi = lo;
            if wild {
                hi[p.len()..].fill(0xff);
            }
            Some(IvSet::range(bytes_key(&lo), bytes_key(&hi)))
        }
    }
}

/// Legal values of `ct state`: one bit each (invalid, established, related,
/// new, untracked).
const CT_STATES: [u128; 5] = [1, 2, 4, 8, 64];

/// Builds rule models for the chains of one table.
#[derive(Debug)]
pub struct Modeler<'a> {
    pub family: Family,
    pub sets: &'a SetConsts,
    pub dims: Dims,
}

/// A field as the model sees it: its dimension and the dependencies nft
/// adds under it.
struct Field {
    dim: u32,
    bits: u32,
    bitmask: bool,
    deps: Vec<(u32, IvSet)>,
}

impl<'a> Modeler<'a> {
    pub fn new(family: Family, sets: &'a SetConsts) -> Modeler<'a> {
        Modeler { family, sets, dims: Dims::default() }
    }

    fn nfproto_dep(&mut self, l3: Option<ctc_proto::L3>, deps: &mut Vec<(u32, IvSet)>) {
        if self.family != Family::Inet {
            return;
        }
        let v = match l3 {
            Some(ctc_proto::L3::Ipv4) => 2,
            Some(ctc_proto::L3::Ipv6) => 10,
            _ => return,
        };
        let d = self.meta_dim("nfproto", 8);
        deps.push((d, IvSet::point(v)));
    }

    fn meta_dim(&mut self, key: &'static str, bits: u32) -> u32 {
        let (domain, always) = match key {
            "nfproto" if self.family == Family::Inet => (IvSet::from_vec(vec![(2, 2), (10, 10)]), true),
            "nfproto" | "l4proto" | "mark" | "iifname" | "oifname" | "pkttype" => (IvSet::full(bits), true),
            _ => (IvSet::full(bits), false),
        };
        self.dims.intern(DimKey::Meta(key), domain, always)
    }

    /// The dimension and dependencies of a match's left-hand side, or
    /// `None` when the model does not cover it.
    fn field(&mut self, lhs: &Expr, rhs: &Expr) -> Option<Field> {
        let kt = match &lhs.ty {
            ExprType::Scalar(k) => k.clone(),
            _ => return None,
        };
        let bitmask = kt.ty.info().kind == BaseKind::Bitmask;
        let mut kt = kt;
        let mut deps = Vec::new();
        let dim = match &lhs.kind {
            ExprKind::Payload { proto: "ip", field: "protocol", .. } => {
                self.nfproto_dep(Some(ctc_proto::L3::Ipv4), &mut deps);
                self.meta_dim("l4proto", 8)
            }
            ExprKind::Payload { proto, offset, bits, .. } => {
                let p = ctc_proto::protocol(proto)?;
                let base = match p.base {
                    ctc_proto::Base::Link => {
                        let d = self.meta_dim("iiftype", 16);
                        deps.push((d, IvSet::point(1)));
                        if *proto == "vlan" {
                            let v = self.dims.intern(
                                DimKey::Payload { base: 0, offset: 96, bits: 16 },
                                IvSet::full(16),
                                false,
                            );
                            deps.push((v, IvSet::point(0x8100)));
                        }
                        0
                    }
                    ctc_proto::Base::Network => {
                        self.nfproto_dep(p.dep.l3, &mut deps);
                        1
                    }
                    ctc_proto::Base::Transport => {
                        if let Some(n) = p.dep.l4proto {
                            self.nfproto_dep(p.dep.l3, &mut deps);
                            let d = self.meta_dim("l4proto", 8);
                            deps.push((d, IvSet::point(u128::from(n))));
                        }
                        2
                    }
                    ctc_proto::Base::Inner => return None,
                };
                if *bits == 0 || *bits > 128 {
                    return None;
                }
                self.dims.intern(DimKey::Payload { base, offset: *offset, bits: *bits }, IvSet::full(*bits), false)
            }
            ExprKind::Raw { base, offset, bits } => {
                let b = match base.as_str() {
                    "ll" => 0,
                    "nh" => 1,
                    "th" => 2,
                    _ => return None,
                };
                if *bits == 0 || *bits > 128 {
                    return None;
                }
                self.dims.intern(DimKey::Payload { base: b, offset: *offset, bits: *bits }, IvSet::full(*bits), false)
            }
            ExprKind::Meta { key } => {
                // `iif "lo"` is a match on the name (as the lowering does).
                let key = match *key {
                    "iif" if has_str(rhs) => "iifname",
                    "oif" if has_str(rhs) => "oifname",
                    k => k,
                };
                if matches!(key, "iifname" | "oifname") {
                    // Names are IFNAMSIZ (16) bytes, whatever the written key.
                    kt.bits = 128;
                }
                if kt.bits == 0 || kt.bits > 128 {
                    return None;
                }
                self.meta_dim(key, kt.bits)
            }
            ExprKind::Ct { key, dir } => {
                if matches!(*key, "saddr" | "daddr") {
                    let l3 = if kt.bits == 128 { ctc_proto::L3::Ipv6 } else { ctc_proto::L3::Ipv4 };
                    self.nfproto_dep(Some(l3), &mut deps);
                }
                if kt.bits == 0 || kt.bits > 128 {
                    return None;
                }
                let (domain, always) = if *key == "state" {
                    (IvSet::from_vec(CT_STATES.iter().map(|&v| (v, v)).collect()), true)
                } else {
                    (IvSet::full(kt.bits), false)
                };
                self.dims.intern(DimKey::Ct { key, dir: *dir }, domain, always)
            }
            _ => return None,
        };
        Some(Field { dim, bits: kt.bits, bitmask, deps })
    }

    /// The values of `rhs` under `op` for a field, over its domain.
    fn values(&mut self, f: &Field, op: RelOp, rhs: &Expr) -> Option<IvSet> {
        let domain = self.dims.list[f.dim as usize].domain.clone();
        let is_ct_state = matches!(self.dims.list[f.dim as usize].key, DimKey::Ct { key: "state", .. });
        // Flag types, as nft lowers them (`nft --debug=netlink`): no
        // operator is a bit test (`ct state established,related` is
        // `state & 0x06 != 0`); `==` and `!=` compare the whole value with
        // the flags OR-ed together (`ct state != established,related` is
        // `state != 0x06`, which every packet passes: a packet has one
        // state). Flags are read from the written values (adjacent values
        // such as `fin,syn` merge into one interval in `set`).
        let flags = matches!(rhs.kind, ExprKind::Value(_) | ExprKind::List(_))
            || matches!(rhs.kind, ExprKind::Binop { op: BinOp::Or, .. });
        if f.bitmask && flags {
            let mask = const_int(rhs)?;
            let keep = |v: u128| match op {
                RelOp::Implicit => Some(v & mask != 0),
                RelOp::Eq => Some(v == mask),
                RelOp::Ne => Some(v != mask),
                _ => None,
            };
            keep(0)?;
            if is_ct_state {
                return Some(IvSet::from_vec(
                    CT_STATES.iter().filter(|&&v| keep(v) == Some(true)).map(|&v| (v, v)).collect(),
                ));
            }
            return match op {
                RelOp::Implicit => enumerate(f.bits, |v| v & mask != 0).map(|s| s.intersect(&domain)),
                RelOp::Eq => Some(IvSet::point(mask).intersect(&domain)),
                _ => Some(IvSet::point(mask).complement_in(&IvSet::full(f.bits)).intersect(&domain)),
            };
        }
        let set = match &rhs.kind {
            ExprKind::SetLit(elems) => {
                let s = union_of(elems.iter().map(|e| value_set(&e.key, f.bits)))?;
                return match op {
                    RelOp::Implicit | RelOp::Eq => Some(s.intersect(&domain)),
                    RelOp::Ne => Some(s.complement_in(&domain)),
                    _ => None,
                };
            }
            ExprKind::SetRef { name } => {
                let s = self.sets.scalar.get(name)?.clone();
                return match op {
                    RelOp::Implicit | RelOp::Eq => Some(s.intersect(&domain)),
                    RelOp::Ne => Some(s.complement_in(&domain)),
                    _ => None,
                };
            }
            _ => value_set(rhs, f.bits)?,
        };
        let max = max_of(f.bits);
        let single = || (set.0.len() == 1 && set.0[0].0 == set.0[0].1).then(|| set.0[0].0);
        let out = match op {
            RelOp::Implicit | RelOp::Eq => set,
            RelOp::Ne => set.complement_in(&IvSet::full(f.bits)),
            RelOp::Lt => IvSet::range(0, single()?.checked_sub(1)?),
            RelOp::Le => IvSet::range(0, single()?),
            RelOp::Gt => IvSet::range(single()?.checked_add(1)?, max),
            RelOp::Ge => IvSet::range(single()?, max),
        };
        Some(out.intersect(&domain))
    }

    /// The boxes of one match statement (several for a concatenation set),
    /// or `None` when the model does not cover it.
    fn match_cubes(&mut self, lhs: &Expr, op: RelOp, rhs: &Expr, reads: &mut Vec<u32>) -> Option<Vec<Cube>> {
        // `(X & mask) OP value` on a narrow field (or on ct state, whose
        // values are its five states: `ct state ! established,related` is
        // `state & 0x06 == 0`): enumerate X.
        if let ExprKind::Binop { op: BinOp::And, lhs: inner, rhs: mask } = &lhs.kind {
            let m = const_int(mask)?;
            let f = self.field(inner, rhs)?;
            let c = const_int(rhs)?;
            let keep = |v: u128| {
                let x = v & m;
                match op {
                    RelOp::Implicit | RelOp::Eq => x == c,
                    RelOp::Ne => x != c,
                    RelOp::Lt => x < c,
                    RelOp::Le => x <= c,
                    RelOp::Gt => x > c,
                    RelOp::Ge => x >= c,
                }
            };
            let set = if matches!(self.dims.list[f.dim as usize].key, DimKey::Ct { key: "state", .. }) {
                IvSet::from_vec(CT_STATES.iter().filter(|&&v| keep(v)).map(|&v| (v, v)).collect())
            } else {
                enumerate(f.bits, keep)?
            };
            return Some(vec![self.cube_of(&f, set, reads)]);
        }
        if let ExprKind::Concat(parts) = &lhs.kind {
            let mut fields = Vec::new();
            for p in parts {
                fields.push(self.field(p, rhs)?);
            }
            let widths: Vec<u32> = fields.iter().map(|f| f.bits).collect();
            let elems: Vec<Vec<IvSet>> = match (&rhs.kind, op) {
                (ExprKind::SetLit(es), RelOp::Implicit | RelOp::Eq) => {
                    es.iter().map(|e| element_boxes(&e.key, &widths)).collect::<Option<_>>()?
                }
                (ExprKind::SetRef { name }, RelOp::Implicit | RelOp::Eq) => self.sets.get(name)?.clone(),
                (ExprKind::Concat(_), RelOp::Implicit | RelOp::Eq) => vec![element_boxes(rhs, &widths)?],
                _ => return None,
            };
            if elems.len() > MAX_CUBES {
                return None;
            }
            let mut out = Vec::new();
            for e in elems {
                let mut c = Cube::default();
                let mut ok = true;
                for (f, s) in fields.iter().zip(e) {
                    let s = s.intersect(&self.dims.list[f.dim as usize].domain);
                    ok &= self.constrain_field(&mut c, f, s, reads);
                }
                if ok {
                    out.push(c);
                }
            }
            return Some(out);
        }
        let f = self.field(lhs, rhs)?;
        if let (ExprKind::SetRef { name }, RelOp::Implicit | RelOp::Eq | RelOp::Ne) = (&rhs.kind, op)
            && self.sets.get(name).is_none()
        {
            // A set filled at run time: a symbolic atom.
            let mut c = Cube::default();
            for (d, s) in &f.deps {
                c.constrain(*d, s.clone());
                reads.push(*d);
            }
            reads.push(f.dim);
            c.syms.push((f.dim, self.sets.sym(name), op == RelOp::Ne));
            return Some(vec![c]);
        }
        let set = self.values(&f, op, rhs)?;
        Some(vec![self.cube_of(&f, set, reads)])
    }

    fn constrain_field(&self, c: &mut Cube, f: &Field, set: IvSet, reads: &mut Vec<u32>) -> bool {
        let mut ok = true;
        for (d, s) in &f.deps {
            ok &= c.constrain(*d, s.clone());
            reads.push(*d);
        }
        reads.push(f.dim);
        let info = &self.dims.list[f.dim as usize];
        if info.always && set == info.domain {
            return ok;
        }
        ok & c.constrain(f.dim, set)
    }

    fn cube_of(&self, f: &Field, set: IvSet, reads: &mut Vec<u32>) -> Cube {
        let mut c = Cube::default();
        self.constrain_field(&mut c, f, set, reads);
        c
    }

    /// The model of a rule's matches. Statements that may stop the rule
    /// without being modelled (`limit`, `quota`, `ct count`, ...) make it
    /// opaque.
    pub fn rule(&mut self, r: &hir::Rule) -> RuleModel {
        let mut m = RuleModel { region: vec![Cube::default()], ..RuleModel::default() };
        let mut last_on: HashMap<u32, ctc_grammar::Span> = HashMap::new();
        // Fields written by earlier statements of the rule: a match on them
        // reads the new value, not the packet's.
        let mut written: Vec<DimKey> = Vec::new();
        for s in &r.stmts {
            stmt_writes(s, &mut written);
            match &s.kind {
                StmtKind::Match { lhs, op, rhs } => {
                    let mut reads = Vec::new();
                    let Some(cubes) = self.match_cubes(lhs, *op, rhs, &mut reads) else {
                        m.opaque = true;
                        continue;
                    };
                    if reads.iter().any(|d| written.iter().any(|w| w.overlaps(&self.dims.list[*d as usize].key))) {
                        m.opaque = true;
                        continue;
                    }
                    if m.region.is_empty() {
                        continue;
                    }
                    let mut next = Vec::new();
                    for a in &m.region {
                        for b in &cubes {
                            if let Some(c) = a.meet(b) {
                                next.push(c);
                            }
                        }
                    }
                    if next.len() > MAX_CUBES {
                        m.opaque = true;
                        continue;
                    }
                    if next.is_empty() {
                        let earlier = reads.iter().rev().find_map(|d| last_on.get(d).copied());
                        m.conflict = Some((s.span, earlier));
                    }
                    for d in &reads {
                        last_on.insert(*d, s.span);
                    }
                    m.reads.extend(reads);
                    m.region = next;
                }
                StmtKind::Limit(_)
                | StmtKind::Quota(_)
                | StmtKind::ConnLimit { .. }
                | StmtKind::Meter { .. }
                | StmtKind::Synproxy { .. }
                | StmtKind::Other { .. }
                | StmtKind::ObjRef { kind: hir::ObjectKind::Limit | hir::ObjectKind::Quota, .. } => m.opaque = true,
                // `add @s { ... }` fails when the set is full, and ends the
                // rule; a limit or quota inside an element is a condition.
                StmtKind::SetUpdate { op, stmts, .. } if *op == hir::SetOp::Add || !stmts.is_empty() => m.opaque = true,
                _ => {}
            }
        }
        m.reads.sort_unstable();
        m.reads.dedup();
        m
    }
}

/// A constant integer: a value, a flag list (`syn,ack`) or `a | b`.
fn const_int(e: &Expr) -> Option<u128> {
    match &e.kind {
        ExprKind::Value(Value::Int(v)) => Some(*v),
        ExprKind::List(xs) => xs.iter().try_fold(0u128, |a, x| Some(a | const_int(x)?)),
        ExprKind::Binop { op: BinOp::Or, lhs, rhs } => Some(const_int(lhs)? | const_int(rhs)?),
        _ => None,
    }
}

fn has_str(e: &Expr) -> bool {
    match &e.kind {
        ExprKind::Value(Value::Str(_)) => true,
        ExprKind::SetLit(es) => es.iter().any(|x| has_str(&x.key)),
        ExprKind::List(xs) => xs.iter().any(has_str),
        _ => false,
    }
}

/// The values of a field of at most 16 bits that satisfy `keep`, as
/// intervals (`None` for wider fields or too many intervals).
fn enumerate(bits: u32, keep: impl Fn(u128) -> bool) -> Option<IvSet> {
    if bits > 16 {
        return None;
    }
    let mut out: Vec<Iv> = Vec::new();
    for v in 0..=max_of(bits) {
        if keep(v) {
            match out.last_mut() {
                Some(l) if l.1 + 1 == v => l.1 = v,
                _ => {
                    if out.len() == MAX_ENUM_INTERVALS {
                        return None;
                    }
                    out.push((v, v));
                }
            }
        }
    }
    Some(IvSet(out))
}

/// What the rule's statements write that later rules may read: meta and
/// ct keys set, payload rewritten, `notrack` (every ct key).
pub fn writes(r: &hir::Rule) -> Vec<DimKey> {
    let mut out = Vec::new();
    for s in &r.stmts {
        stmt_writes(s, &mut out);
    }
    out
}

/// What one statement writes (see [`writes`]).
pub fn stmt_writes(s: &hir::Stmt, out: &mut Vec<DimKey>) {
    {
        match &s.kind {
            StmtKind::MetaSet { key, .. } => out.push(DimKey::Meta(key)),
            StmtKind::CtSet { key, .. } => out.push(DimKey::Ct { key, dir: None }),
            StmtKind::Notrack => out.push(DimKey::Ct { key: "*", dir: None }),
            StmtKind::ObjRef { kind: hir::ObjectKind::CtHelper, .. } => {
                out.push(DimKey::Ct { key: "helper", dir: None })
            }
            StmtKind::PayloadSet { target, .. } => match &target.kind {
                ExprKind::Payload { proto, offset, bits, .. } => {
                    let base = match ctc_proto::protocol(proto).map(|p| p.base) {
                        Some(ctc_proto::Base::Link) => 0,
                        Some(ctc_proto::Base::Network) => 1,
                        Some(ctc_proto::Base::Transport) => 2,
                        _ => 3,
                    };
                    out.push(DimKey::Payload { base, offset: *offset, bits: *bits });
                }
                // Anything else rewritten (options, exthdrs): every header
                // bit may have moved.
                _ => {
                    for base in 0..4 {
                        out.push(DimKey::Payload { base, offset: 0, bits: u32::MAX / 2 });
                    }
                }
            },
            _ => {}
        }
    }
}

/// Whether `ty` is a bitmask type (for other modules' use).
pub fn is_bitmask(ty: Ty) -> bool {
    ty.info().kind == BaseKind::Bitmask
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interval_sets() {
        let a = IvSet::from_vec(vec![(5, 10), (1, 2), (3, 4), (20, 30)]);
        assert_eq!(a.0, vec![(1, 10), (20, 30)]);
        let b = IvSet::range(8, 22);
        assert_eq!(a.intersect(&b).0, vec![(8, 10), (20, 22)]);
        assert!(IvSet::range(21, 22).subset_of(&a));
        assert!(!IvSet::range(10, 20).subset_of(&a));
        assert!(!a.intersects(&IvSet::range(11, 19)));
        assert_eq!(a.complement_in(&IvSet::full(8)).0, vec![(0, 0), (11, 19), (31, 255)]);
        assert_eq!(IvSet::full(128).complement_in(&IvSet::full(128)).0, vec![]);
        assert_eq!(IvSet::point(0).complement_in(&IvSet::full(128)).0, vec![(1, u128::MAX)]);
    }

    #[test]
    fn interface_wildcards_are_prefix_ranges() {
        let eth = value_point(&Value::Str("eth*".into()), 128).expect("a range");
        let eth0 = value_point(&Value::Str("eth0".into()), 128).expect("a point");
        let wlan0 = value_point(&Value::Str("wlan0".into()), 128).expect("a point");
        assert!(eth0.subset_of(&eth));
        assert!(!wlan0.intersects(&eth));
    }

    #[test]
    fn cube_relations() {
        let mut a = Cube::default();
        a.constrain(0, IvSet::range(0, 10));
        let mut b = a.clone();
        b.constrain(1, IvSet::point(3));
        assert!(a.contains(&b) && !b.contains(&a));
        let mut c = Cube::default();
        c.constrain(0, IvSet::range(11, 20));
        assert!(a.disjoint(&c) && !a.disjoint(&b));
    }
}
