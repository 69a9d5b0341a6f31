//! Set and map elements: keys as byte strings in the register layout, and
//! the interval elements of ranges, prefixes, wildcards and catch-alls.
//!
//! Layout (as nft): a single-component key is its value's bytes
//! (`inet_service`: 2 bytes); each component of a concatenation is padded
//! with zero bytes to a multiple of 4 (`ipv4_addr . inet_service`: 8 bytes),
//! because each component starts on its own 32-bit register word.
//!
//! Interval elements are **per-word boxes**: an element `lo..hi` matches a
//! key when every 32-bit word of the key lies between the same words of
//! `lo` and `hi` (compared as big-endian integers; a key shorter than a
//! multiple of 4 is compared as if padded with zero bytes). This is what a
//! concatenation of ranges means (nft's pipapo sets: `10.0.0.0/8 . 80-90`
//! is a box, not the lexicographic interval between its corners), and for
//! ranges inside one multi-word component (an IPv6 range) the lowering
//! splits the range into boxes whose union is exactly the range, so each
//! element is also an ordinary interval of the whole key. Elements are in
//! priority order: the first that matches wins; the catch-all `*` (the
//! whole key space) comes last.

use super::{R, internal, not_executable};
use crate::hir::{Expr, ExprKind, KeyType, SetElem, Value, Verdict};
use ctc_grammar::Span;
use ctc_ir as ir;
use ctc_proto::{BaseKind, Ty};
use std::collections::HashMap;

/// At most this many IR elements from one set (interval splitting and
/// concatenation cross products multiply).
const MAX_ELEMENTS: usize = 1 << 20;

/// The byte layout of a key or of map data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Layout {
    pub comps: Vec<KeyType>,
    pub concat: bool,
}

/// Bytes a value of `kt` occupies (bits rounded up to bytes).
pub(crate) fn klen(kt: &KeyType) -> usize {
    (kt.bits as usize).div_ceil(8).max(1)
}

fn round4(n: usize) -> usize {
    n.div_ceil(4) * 4
}

impl Layout {
    pub fn of(kts: &[KeyType], span: Span) -> R<Layout> {
        if kts.is_empty() {
            return Err(internal("a key without components", span));
        }
        for k in kts {
            if k.bits == 0 {
                return Err(not_executable(
                    format!("a key of type {} without a width", k.ty.info().name),
                    span,
                    "the runtime needs fixed-width keys",
                ));
            }
        }
        let l = Layout { comps: kts.to_vec(), concat: kts.len() > 1 };
        if l.len() > ir::MAX_LEN {
            return Err(not_executable(
                format!("a key of {} bytes", l.len()),
                span,
                format!("at most {} bytes fit the register file", ir::MAX_LEN),
            ));
        }
        Ok(l)
    }
    /// Total bytes of the key (padded components for a concatenation).
    pub fn len(&self) -> usize {
        if self.concat { self.comps.iter().map(|k| round4(klen(k))).sum() } else { klen(&self.comps[0]) }
    }
}

/// What a set's elements carry.
#[derive(Debug, Clone)]
pub(crate) enum DataKind {
    None,
    Verdict,
    Value(Layout),
    /// One value of this (single component) layout, or a range or prefix
    /// of it: stored as its low then its high end (a NAT map to address
    /// ranges: `snat ip prefix to ip saddr map { A/24 : B/24 }`).
    Interval(Layout),
}

pub(crate) struct SetCx<'a> {
    pub chains: &'a HashMap<String, ir::ChainId>,
}

/// `v` as `len` big-endian bytes (high bytes dropped, or zero-extended).
pub(crate) fn be(v: u128, len: usize) -> Vec<u8> {
    let b = v.to_be_bytes();
    if len <= 16 {
        b[16 - len..].to_vec()
    } else {
        let mut out = vec![0; len - 16];
        out.extend_from_slice(&b);
        out
    }
}

/// A constant integer: a value, a flag list (OR of its items), or address
/// bytes read as a big-endian integer.
pub(crate) fn const_int(e: &Expr) -> Option<u128> {
    match &e.kind {
        ExprKind::Value(Value::Int(v)) => Some(*v),
        ExprKind::Value(Value::Bytes(b)) if b.len() <= 16 => {
            Some(b.iter().fold(0u128, |a, x| (a << 8) | u128::from(*x)))
        }
        ExprKind::List(items) => items.iter().try_fold(0u128, |a, i| const_int(i).map(|v| a | v)),
        ExprKind::Binop { .. } => None,
        _ => None,
    }
}

/// A constant of type `kt` as `len` bytes in the IR's byte order.
///
/// Integers are big-endian of the declared width (host-order kernel values
/// included: the engines convert at load). A ct label is a bit number: its
/// constant is the 128-bit integer with that bit set. Strings (interface
/// names, helper names) are NUL padded.
pub(crate) fn value_bytes(v: &Value, kt: &KeyType, len: usize, span: Span) -> R<Vec<u8>> {
    match v {
        Value::Int(n) if kt.ty == Ty::CtLabel => {
            if *n > 127 {
                return Err(internal(format!("ct label bit {n}"), span));
            }
            Ok(be(1u128 << n, len))
        }
        Value::Int(n) => Ok(be(*n, len)),
        Value::Bytes(b) if b.len() == len => Ok(b.clone()),
        Value::Bytes(b) if b.len() < len => {
            let mut out = vec![0; len - b.len()];
            out.extend_from_slice(b);
            Ok(out)
        }
        Value::Bytes(b) => Err(internal(format!("a {}-byte value where {len} bytes are expected", b.len()), span)),
        Value::Str(s) if kt.ty.info().kind == BaseKind::String => {
            let mut out: Vec<u8> = s.as_bytes().iter().copied().take(len).collect();
            out.resize(len, 0);
            Ok(out)
        }
        Value::Str(s) => Err(not_executable(
            format!("the name \"{s}\" as a value of type {}", kt.ty.info().name),
            span,
            "ctc does not resolve names of users, groups, labels or security contexts",
        )),
    }
}

/// An interface-name wildcard (`"eth*"`): the prefix before the `*`.
pub(crate) fn wildcard(v: &Value, kt: &KeyType) -> Option<String> {
    if kt.ty.info().kind != BaseKind::String {
        return None;
    }
    v.wildcard_prefix().map(str::to_string)
}

/// Largest value of a component: all real bytes 0xff.
fn max_bytes(len: usize) -> Vec<u8> {
    vec![0xff; len]
}

/// The [lo, hi] ranges (`klen(kt)` bytes each) one element component covers.
fn comp_bounds(e: &Expr, kt: &KeyType) -> R<Vec<(Vec<u8>, Vec<u8>)>> {
    let len = klen(kt);
    match &e.kind {
        ExprKind::Catchall => Ok(vec![(vec![0; len], max_bytes(len))]),
        ExprKind::Value(v) => {
            if let Some(prefix) = wildcard(v, kt) {
                let mut lo: Vec<u8> = prefix.as_bytes().iter().copied().take(len).collect();
                let mut hi = lo.clone();
                lo.resize(len, 0);
                hi.resize(len, 0xff);
                return Ok(vec![(lo, hi)]);
            }
            let b = value_bytes(v, kt, len, e.span)?;
            Ok(vec![(b.clone(), b)])
        }
        ExprKind::List(_) => {
            let v = const_int(e).ok_or_else(|| internal("a non-constant flag list", e.span))?;
            let b = be(v, len);
            Ok(vec![(b.clone(), b)])
        }
        ExprKind::Range { lo, hi } => {
            let (l, _) = single(comp_bounds(lo, kt)?, e.span)?;
            let (h, _) = single(comp_bounds(hi, kt)?, e.span)?;
            if l <= h {
                Ok(vec![(l, h)])
            } else {
                // A range across the wrap point (`meta hour "22:00"-"02:00"`,
                // `meta day "Saturday"-"Monday"`): both ends of the space.
                Ok(vec![(l, max_bytes(len)), (vec![0; len], h)])
            }
        }
        ExprKind::Prefix { value, len: plen } => {
            let (v, _) = single(comp_bounds(value, kt)?, e.span)?;
            let (lo, hi) = prefix_bounds(&v, *plen as usize);
            Ok(vec![(lo, hi)])
        }
        _ => Err(internal("an element that is not a constant", e.span)),
    }
}

fn single(mut v: Vec<(Vec<u8>, Vec<u8>)>, span: Span) -> R<(Vec<u8>, Vec<u8>)> {
    if v.len() == 1 { Ok(v.remove(0)) } else { Err(internal("a range bound that is not one value", span)) }
}

/// Low and high ends of the prefix `v/plen` (`plen` bits from the left).
pub(crate) fn prefix_bounds(v: &[u8], plen: usize) -> (Vec<u8>, Vec<u8>) {
    let mut lo = v.to_vec();
    let mut hi = v.to_vec();
    for (i, (l, h)) in lo.iter_mut().zip(hi.iter_mut()).enumerate() {
        let keep = plen.saturating_sub(i * 8).min(8);
        let mask: u8 = if keep == 0 { 0 } else { 0xffu8 << (8 - keep) };
        *l &= mask;
        *h |= !mask;
    }
    (lo, hi)
}

fn to_words(b: &[u8]) -> Vec<u32> {
    b.chunks(4)
        .map(|c| {
            let mut w = [0u8; 4];
            w[..c.len()].copy_from_slice(c);
            u32::from_be_bytes(w)
        })
        .collect()
}

fn from_words(w: &[u32], len: usize) -> Vec<u8> {
    let mut out: Vec<u8> = w.iter().flat_map(|x| x.to_be_bytes()).collect();
    out.truncate(len);
    out
}

/// Split the interval [lo, hi] of word strings into per-word boxes whose
/// union is the interval (`maxw`: each word's largest value, padding bytes
/// 0). Each box: equal leading words, one ranged word, full trailing words.
fn boxes(lo: &[u32], hi: &[u32], maxw: &[u32]) -> Vec<(Vec<u32>, Vec<u32>)> {
    if lo.is_empty() {
        return vec![(Vec::new(), Vec::new())];
    }
    let prepend = |w: u32, v: Vec<(Vec<u32>, Vec<u32>)>| {
        v.into_iter()
            .map(|(mut l, mut h)| {
                l.insert(0, w);
                h.insert(0, w);
                (l, h)
            })
            .collect::<Vec<_>>()
    };
    if lo[0] == hi[0] {
        return prepend(lo[0], boxes(&lo[1..], &hi[1..], &maxw[1..]));
    }
    let zeros = vec![0u32; lo.len() - 1];
    let full = &maxw[1..];
    let mut out = Vec::new();
    let mid_lo = if lo[1..] == zeros[..] {
        lo[0]
    } else {
        out.extend(prepend(lo[0], boxes(&lo[1..], full, full)));
        lo[0] + 1
    };
    let mut tail = Vec::new();
    let mid_hi = if hi[1..] == *full {
        hi[0]
    } else {
        tail = prepend(hi[0], boxes(&zeros, &hi[1..], full));
        hi[0] - 1
    };
    if mid_lo <= mid_hi {
        let mut l = vec![mid_lo];
        l.extend_from_slice(&zeros);
        let mut h = vec![mid_hi];
        h.extend_from_slice(full);
        out.push((l, h));
    }
    out.extend(tail);
    out
}

/// The per-word boxes of one component range, each `round4(klen)` bytes.
fn comp_boxes(lo: &[u8], hi: &[u8]) -> Vec<(Vec<u8>, Vec<u8>)> {
    let padded = round4(lo.len());
    if lo == hi {
        let mut l = lo.to_vec();
        l.resize(padded, 0);
        return vec![(l.clone(), l)];
    }
    let mut maxb = vec![0xffu8; lo.len()];
    maxb.resize(padded, 0);
    let maxw = to_words(&maxb);
    boxes(&to_words(lo), &to_words(hi), &maxw)
        .into_iter()
        .map(|(l, h)| (from_words(&l, padded), from_words(&h, padded)))
        .collect()
}

/// The elements (lo, hi) a key expression of layout `l` stands for.
pub(crate) fn key_elements(l: &Layout, key: &Expr) -> R<Vec<(Vec<u8>, Vec<u8>)>> {
    if matches!(key.kind, ExprKind::Catchall) {
        // All zeros to all ones, padding included: the form engines
        // recognise as nft's catch-all (matched only when nothing else is).
        return Ok(vec![(vec![0; l.len()], vec![0xff; l.len()])]);
    }
    let parts: Vec<&Expr> = match (&key.kind, l.concat) {
        (ExprKind::Concat(parts), true) => parts.iter().collect(),
        (_, false) => vec![key],
        _ => return Err(internal("a concatenated key without its components", key.span)),
    };
    if parts.len() != l.comps.len() {
        return Err(internal(
            format!("an element of {} components for a key of {}", parts.len(), l.comps.len()),
            key.span,
        ));
    }
    let mut acc: Vec<(Vec<u8>, Vec<u8>)> = vec![(Vec::new(), Vec::new())];
    for (p, kt) in parts.iter().zip(&l.comps) {
        let mut pieces = Vec::new();
        for (lo, hi) in comp_bounds(p, kt)? {
            pieces.extend(comp_boxes(&lo, &hi));
        }
        if acc.len().saturating_mul(pieces.len()) > MAX_ELEMENTS {
            return Err(not_executable(
                "a set element that expands to more than a million intervals",
                key.span,
                "too many ranges in one concatenated element",
            ));
        }
        let mut next = Vec::with_capacity(acc.len() * pieces.len());
        for (al, ah) in &acc {
            for (pl, ph) in &pieces {
                let mut l2 = al.clone();
                l2.extend_from_slice(pl);
                let mut h2 = ah.clone();
                h2.extend_from_slice(ph);
                next.push((l2, h2));
            }
        }
        acc = next;
    }
    let total = l.len();
    for (lo, hi) in &mut acc {
        lo.truncate(total);
        hi.truncate(total);
    }
    Ok(acc)
}

/// Constant data of a map element (`: 192.0.2.1 . 80`).
pub(crate) fn data_bytes(l: &Layout, e: &Expr) -> R<Vec<u8>> {
    let parts: Vec<&Expr> = match (&e.kind, l.concat) {
        (ExprKind::Concat(parts), true) => parts.iter().collect(),
        (_, false) => vec![e],
        _ => return Err(internal("concatenated map data without its components", e.span)),
    };
    if parts.len() != l.comps.len() {
        return Err(internal("map data of the wrong shape", e.span));
    }
    let mut out = Vec::new();
    for (p, kt) in parts.iter().zip(&l.comps) {
        let len = klen(kt);
        let mut b = match &p.kind {
            ExprKind::Value(v) => value_bytes(v, kt, len, p.span)?,
            ExprKind::List(_) => be(const_int(p).unwrap_or(0), len),
            _ => {
                return Err(not_executable(
                    "map data that is a range or prefix",
                    p.span,
                    "the runtime's maps carry single values",
                ));
            }
        };
        if l.concat {
            b.resize(round4(len), 0);
        }
        out.extend(b);
    }
    Ok(out)
}

/// A verdict of the HIR in the IR (jumps by name within the table).
pub(crate) fn verdict(v: &Verdict, chains: &HashMap<String, ir::ChainId>, span: Span) -> R<ir::Verdict> {
    Ok(match v {
        Verdict::Accept => ir::Verdict::Accept,
        Verdict::Drop => ir::Verdict::Drop,
        Verdict::Continue => ir::Verdict::Continue,
        Verdict::Return => ir::Verdict::Return,
        Verdict::Queue => ir::Verdict::Queue { num: 0, range: 1, bypass: false, fanout: false },
        Verdict::Jump(c) | Verdict::Goto(c) => {
            let id = *chains.get(c).ok_or_else(|| internal(format!("jump to unknown chain `{c}`"), span))?;
            if matches!(v, Verdict::Jump(_)) { ir::Verdict::Jump(id) } else { ir::Verdict::Goto(id) }
        }
    })
}

/// Build a set or map from HIR elements.
#[allow(clippy::too_many_arguments)]
pub(crate) fn build_set(
    cx: &mut SetCx<'_>,
    name: &str,
    table: ir::TableId,
    key: &Layout,
    data: &DataKind,
    elems: &[SetElem],
    interval: bool,
    dynamic: bool,
    timeout_ms: Option<u64>,
) -> R<ir::Set> {
    let mut out = Vec::new();
    let mut last = Vec::new();
    for el in elems {
        if let Some(s) = el.stmts.first() {
            return Err(not_executable(
                "a set element with its own statements",
                s.span,
                "the runtime's sets keep no per-element state",
            ));
        }
        let d = match (data, &el.data) {
            (DataKind::None, _) => None,
            (DataKind::Verdict, Some(Expr { kind: ExprKind::Verdict(v), span, .. })) => {
                Some(ir::ElementData::Verdict(verdict(v, cx.chains, *span)?))
            }
            (DataKind::Value(l), Some(e)) => Some(ir::ElementData::Value(data_bytes(l, e)?)),
            (DataKind::Interval(l), Some(e)) => {
                let kt = l.comps.first().ok_or_else(|| internal("interval data without a type", e.span))?;
                let (mut lo, hi) = single(comp_bounds(e, kt)?, e.span)?;
                lo.extend(hi);
                Some(ir::ElementData::Value(lo))
            }
            (_, _) => return Err(internal("a map element without data", el.span)),
        };
        let target = if matches!(el.key.kind, ExprKind::Catchall) { &mut last } else { &mut out };
        for (lo, hi) in key_elements(key, &el.key)? {
            target.push(ir::Element { lo, hi, data: d.clone() });
        }
        if out.len() + last.len() > MAX_ELEMENTS {
            return Err(not_executable(
                format!("set @{name} with more than a million elements"),
                el.span,
                "too many elements",
            ));
        }
    }
    out.extend(last);
    let interval = interval || out.iter().any(|e| e.lo != e.hi);
    let (data_len, is_map, verdict_map) = match data {
        DataKind::None => (0, false, false),
        DataKind::Verdict => (0, true, true),
        DataKind::Value(l) => (l.len() as u8, true, false),
        DataKind::Interval(l) => (2 * l.len() as u8, true, false),
    };
    Ok(ir::Set {
        name: name.to_string(),
        table,
        key_len: key.len() as u8,
        data_len,
        is_map,
        verdict_map,
        interval,
        dynamic,
        timeout_ms,
        elements: out,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_and_boxes() {
        let (lo, hi) = prefix_bounds(&[10, 1, 2, 3], 8);
        assert_eq!((lo.as_slice(), hi.as_slice()), (&[10, 0, 0, 0][..], &[10, 255, 255, 255][..]));
        // An IPv6 /48 is one box.
        let mut v = vec![0x20, 0x01, 0x0d, 0xb8, 0x0b, 0xad];
        v.resize(16, 0);
        let (lo, hi) = prefix_bounds(&v, 48);
        assert_eq!(comp_boxes(&lo, &hi).len(), 1);
        // ::5 - ::1:0 over four words splits into boxes covering exactly it.
        let mut lo = vec![0u8; 16];
        lo[15] = 5;
        let mut hi = vec![0u8; 16];
        hi[13] = 1;
        let b = comp_boxes(&lo, &hi);
        assert_eq!(b.len(), 1, "{b:?}");
        let mut hi2 = vec![0u8; 16];
        hi2[11] = 1;
        hi2[15] = 3;
        let b = comp_boxes(&lo, &hi2);
        // [::0:5, ::0:ffffffff], [::1:0:0, ::1:0:3]
        assert_eq!(b.len(), 2, "{b:?}");
        assert_eq!(b[0].0[15], 5);
        assert_eq!(b[1].1[15], 3);
        // Ethernet addresses pad their second word with zeros.
        let b = comp_boxes(&[0, 0, 0, 0, 0, 1], &[0, 0, 0, 1, 0, 0]);
        for (l, h) in &b {
            assert_eq!((l.len(), l[6], l[7], h[6], h[7]), (8, 0, 0, 0, 0));
        }
    }
}
