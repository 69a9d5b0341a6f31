//! The decision structure for long runs of 5-tuple rules.
//!
//! A run is a sequence of consecutive rules of one chain whose match part
//! is only loads of a few fields (payload bytes, simple meta keys) and
//! tests of those fields (cmp, range, prefix mask + cmp, lookup in a static
//! set), followed by a tail that reads no register (counters, verdicts,
//! log, limit, …). Each test is a set of values of its field: a union of
//! intervals of the field read as one big-endian integer. A rule matches a
//! packet iff every field it loads is present and every test holds — the
//! ops of the match part have no side effect, so their order does not
//! matter.
//!
//! The structure is the bit-vector scheme of Lakshman & Stiliadis (1998)
//! with aggregation (Baboescu & Varghese, 2001): per field, the sorted
//! boundaries of all the rules' intervals cut the value space into
//! elementary intervals; each holds a bit vector of the run's rules whose
//! test on that field holds there (rules not testing the field: every
//! bit). A packet costs one binary search per field, then the AND of the
//! fields' vectors scanned from the first word, skipping words whose
//! summary bit is clear in some field. The first set bit at or after the
//! resume point is the first matching rule: first-match semantics stay
//! exact, and a rule that matched without ending the chain (a counter-only
//! rule, `continue`, a return from `jump`) resumes the search after
//! itself. Identical vectors are stored once.

use ctc_ir::{Base, CmpOp, CtKey, MetaKey, Op, Reg, Set};
use std::collections::HashMap;

/// Most distinct fields in one run (slots in the Env).
pub const MAX_FIELDS: usize = 8;

/// A load the classifier can make natively.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Load {
    Payload {
        base: Base,
        offset: u16,
        len: u8,
    },
    Meta {
        key: MetaKey,
        len: u8,
    },
    /// `ct state` (always there) or `ct mark` (absent without an entry).
    Ct {
        key: CtKey,
        len: u8,
    },
}

impl Load {
    pub fn bytes(self) -> u8 {
        match self {
            Load::Payload { len, .. } | Load::Meta { len, .. } | Load::Ct { len, .. } => len,
        }
    }
}

/// A field: a load the tests read, or a one-word load under a mask that is
/// not a prefix (`ct state new` is `state & 8 != 0`): the masked value is
/// a field of its own, on which the tests are intervals again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Field {
    pub load: Load,
    /// The mask's four bytes, for a masked field.
    pub mask: Option<[u8; 4]>,
}

impl Field {
    /// Bytes the field occupies in registers (whole words).
    pub(crate) fn width(self) -> usize {
        ctc_ir::words(self.load.bytes()) * 4
    }

    /// The field an op loads, if the classifier takes it.
    pub(crate) fn of(op: &Op) -> Option<(Reg, Field)> {
        let (dst, load) = match *op {
            Op::Payload { dst, base, offset, len } if len <= 16 => (dst, Load::Payload { base, offset, len }),
            Op::Meta { dst, key, len } if crate::translate::meta_native(key, len) => (dst, Load::Meta { key, len }),
            // The value these keys read does not depend on the direction.
            Op::Ct { dst, key: key @ (CtKey::State | CtKey::Mark), len: 4, .. } => (dst, Load::Ct { key, len: 4 }),
            _ => return None,
        };
        Some((dst, Field { load, mask: None }))
    }
}

/// Sorted, disjoint, non-adjacent inclusive intervals.
type Ivs = Vec<(u128, u128)>;

fn normalize(mut v: Ivs) -> Ivs {
    v.retain(|&(a, b)| a <= b);
    v.sort();
    let mut out: Ivs = Vec::with_capacity(v.len());
    for (a, b) in v {
        match out.last_mut() {
            Some(l) if a <= l.1.saturating_add(1) => l.1 = l.1.max(b),
            _ => out.push((a, b)),
        }
    }
    out
}

fn complement(v: &Ivs, max: u128) -> Ivs {
    let mut out = Vec::new();
    let mut next = 0u128;
    let mut done = false;
    for &(a, b) in v {
        if a > next {
            out.push((next, a - 1));
        }
        if b >= max {
            done = true;
            break;
        }
        next = b + 1;
    }
    if !done {
        out.push((next, max));
    }
    out
}

fn intersect(x: &Ivs, y: &Ivs) -> Ivs {
    let (mut i, mut j, mut out) = (0, 0, Vec::new());
    while i < x.len() && j < y.len() {
        let (a, b) = (x[i].0.max(y[j].0), x[i].1.min(y[j].1));
        if a <= b {
            out.push((a, b));
        }
        if x[i].1 < y[j].1 { i += 1 } else { j += 1 }
    }
    out
}

fn be(bytes: &[u8]) -> u128 {
    bytes.iter().fold(0u128, |a, &b| a << 8 | u128::from(b))
}

/// All values whose top `n` bytes (of `w`) lie between `lo` and `hi`.
fn prefix_range(lo: &[u8], hi: &[u8], w: usize) -> (u128, u128) {
    let s = 8 * (w - lo.len()) as u32;
    let low = if s == 0 { 0 } else { (1u128 << s) - 1 };
    (be(lo) << s, be(hi) << s | low)
}

fn max_of(w: usize) -> u128 {
    if w >= 16 { u128::MAX } else { (1u128 << (8 * w)) - 1 }
}

/// Words-wise (box-shaped) element, as the interpreter's set index reads
/// it: a lexicographic range.
fn box_shaped(lo: &[u8], hi: &[u8]) -> bool {
    let words = lo.len().div_ceil(4);
    let word = |w: usize| (w * 4, (w * 4 + 4).min(lo.len()));
    let mut w = 0;
    while w < words {
        let (a, b) = word(w);
        if lo[a..b] != hi[a..b] {
            break;
        }
        w += 1;
    }
    (w + 1..words).all(|w| {
        let (a, b) = word(w);
        lo[a..b].iter().all(|&x| x == 0) && hi[a..b].iter().all(|&x| x == 0xff)
    })
}

/// A register's contents during a rule's match part.
#[derive(Debug, Clone, Copy)]
enum RegVal {
    /// Field `f` as loaded.
    Raw(usize),
    /// Field `f` & mask (a prefix mask, xor 0), over the field's width.
    Masked(usize, u128),
}

/// One rule of a run, as the classifier sees it.
#[derive(Debug, Clone)]
pub(crate) struct RuleShape {
    /// Per field index of the run: `None` = not loaded, `Some(ivs)` = loaded,
    /// must hold a value in `ivs`.
    pub(crate) tests: Vec<(Field, Ivs)>,
    /// Index of the first tail op.
    pub(crate) tail: usize,
}

/// Ops a tail may hold: they read no register.
fn tail_op(op: &Op) -> bool {
    matches!(
        op,
        Op::Counter(_)
            | Op::Verdict(_)
            | Op::Log(_)
            | Op::Limit(_)
            | Op::Quota(_)
            | Op::Reject(_)
            | Op::Notrack
            | Op::CtHelper { .. }
            | Op::CtTimeout(_)
    )
}

/// A packet that satisfies a classifiable rule's tests, as field values
/// (each the field's `len` bytes): the lowest value of each test's first
/// interval; `None` when the rule is not classifiable or a test can hold
/// for no value. Benchmarks use it to make traffic that reaches a chosen
/// rule (which an earlier rule may still take first).
pub fn witness(ops: &[Op], sets: &[Set]) -> Option<Vec<(Field, Vec<u8>)>> {
    let sh = shape(ops, sets)?;
    sh.tests
        .iter()
        .map(|(f, ivs)| {
            let (lo, _) = *ivs.first()?;
            let len = f.load.bytes() as usize;
            let w = f.width();
            let bytes = lo.to_be_bytes();
            Some((*f, bytes[16 - w..16 - w + len].to_vec()))
        })
        .collect()
}

/// The shape of a rule, if the classifier can take it.
pub(crate) fn shape(ops: &[Op], sets: &[Set]) -> Option<RuleShape> {
    let mut fields: Vec<Field> = Vec::new();
    let mut tests: Vec<Option<Ivs>> = Vec::new();
    let mut regs: HashMap<u8, RegVal> = HashMap::new();
    let mut i = 0;
    let field_of = |fields: &mut Vec<Field>, tests: &mut Vec<Option<Ivs>>, f: Field| -> usize {
        match fields.iter().position(|&g| g == f) {
            Some(k) => k,
            None => {
                fields.push(f);
                tests.push(None);
                fields.len() - 1
            }
        }
    };
    // Registers a write of `len` bytes at `dst` clobbers.
    let clobber = |regs: &mut HashMap<u8, RegVal>, dst: Reg, len: usize| {
        for w in 0..len.div_ceil(4) {
            regs.remove(&(dst.0 + w as u8));
        }
        // A value starting earlier and running into these words is gone too.
        regs.retain(|&r, _| r < dst.0.saturating_sub(4) || r >= dst.0);
    };
    while i < ops.len() {
        let op = &ops[i];
        if tail_op(op) {
            break;
        }
        let add_test = |tests: &mut Vec<Option<Ivs>>, f: usize, ivs: Ivs| {
            let t = &mut tests[f];
            *t = Some(match t.take() {
                Some(old) => intersect(&old, &ivs),
                None => ivs,
            });
        };
        match op {
            _ if Field::of(op).is_some() => {
                let (dst, f) = Field::of(op)?;
                let k = field_of(&mut fields, &mut tests, f);
                clobber(&mut regs, dst, f.width());
                regs.insert(dst.0, RegVal::Raw(k));
            }
            Op::Bitwise { dst, src, len, mask, xor } => {
                let RegVal::Raw(k) = *regs.get(&src.0)? else { return None };
                let w = fields[k].width();
                if ctc_ir::words(*len) * 4 != w || xor.iter().any(|&x| x != 0) {
                    return None;
                }
                let mut m = [0u8; 16];
                m[..mask.len()].copy_from_slice(mask);
                let mv = be(&m[..w]);
                // A prefix mask (ones then zeros) keeps tests intervals of
                // the field itself; another mask on a one-word plain field
                // makes the masked value a field of its own.
                let inv = !mv & max_of(w);
                let val = if inv & inv.wrapping_add(1) == 0 {
                    RegVal::Masked(k, mv)
                } else if w == 4 && fields[k].mask.is_none() {
                    let f = Field { load: fields[k].load, mask: Some([m[0], m[1], m[2], m[3]]) };
                    RegVal::Raw(field_of(&mut fields, &mut tests, f))
                } else {
                    return None;
                };
                clobber(&mut regs, *dst, w);
                regs.insert(dst.0, val);
            }
            Op::Cmp { src, op: cop, data } => {
                let rv = *regs.get(&src.0)?;
                let k = match rv {
                    RegVal::Raw(k) | RegVal::Masked(k, _) => k,
                };
                let w = fields[k].width();
                if data.len() > w {
                    return None;
                }
                let max = max_of(w);
                let ivs = match rv {
                    RegVal::Raw(_) => {
                        let (eq_lo, eq_hi) = prefix_range(data, data, w);
                        match cop {
                            CmpOp::Eq => vec![(eq_lo, eq_hi)],
                            CmpOp::Ne => complement(&vec![(eq_lo, eq_hi)], max),
                            CmpOp::Lt if eq_lo == 0 => vec![],
                            CmpOp::Lt => vec![(0, eq_lo - 1)],
                            CmpOp::Le => vec![(0, eq_hi)],
                            CmpOp::Gt if eq_hi == max => vec![],
                            CmpOp::Gt => vec![(eq_hi + 1, max)],
                            CmpOp::Ge => vec![(eq_lo, max)],
                        }
                    }
                    RegVal::Masked(_, m) => {
                        if data.len() != w || !matches!(cop, CmpOp::Eq | CmpOp::Ne) {
                            return None;
                        }
                        let d = be(data);
                        let inside = if d & !m != 0 { vec![] } else { vec![(d, d | (!m & max))] };
                        if *cop == CmpOp::Eq { inside } else { complement(&inside, max) }
                    }
                };
                add_test(&mut tests, k, normalize(ivs));
            }
            Op::Range { src, lo, hi, negate } => {
                let RegVal::Raw(k) = *regs.get(&src.0)? else { return None };
                let w = fields[k].width();
                if lo.len() > w {
                    return None;
                }
                let inside = if lo.as_slice() <= hi.as_slice() { vec![prefix_range(lo, hi, w)] } else { vec![] };
                let ivs = if *negate { complement(&inside, max_of(w)) } else { inside };
                add_test(&mut tests, k, normalize(ivs));
            }
            Op::Lookup { src, len, set, negate, dst: None } => {
                let RegVal::Raw(k) = *regs.get(&src.0)? else { return None };
                let s = sets.get(set.index())?;
                let w = fields[k].width();
                if s.dynamic || *len as usize > w || s.key_len != *len {
                    return None;
                }
                let mut ivs = Vec::new();
                for e in &s.elements {
                    if e.lo.len() != *len as usize || e.hi.len() != *len as usize {
                        return None;
                    }
                    if e.lo != e.hi && !box_shaped(&e.lo, &e.hi) {
                        return None;
                    }
                    ivs.push(prefix_range(&e.lo, &e.hi, w));
                }
                let inside = normalize(ivs);
                let ivs = if *negate { complement(&inside, max_of(w)) } else { inside };
                add_test(&mut tests, k, normalize(ivs));
            }
            _ => return None,
        }
        i += 1;
    }
    if !ops[i..].iter().all(tail_op) {
        return None;
    }
    // A plain field loaded only to be masked needs no slot of its own: the
    // masked field is absent exactly when the load fails.
    let masked: Vec<Load> = fields.iter().filter(|f| f.mask.is_some()).map(|f| f.load).collect();
    let tests = fields
        .into_iter()
        .zip(tests)
        .filter(|(f, t)| !(t.is_none() && f.mask.is_none() && masked.contains(&f.load)))
        .map(|(f, t)| (f, t.unwrap_or_else(|| vec![(0, max_of(f.width()))])))
        .collect();
    Some(RuleShape { tests, tail: i })
}

/// Starts of the elementary intervals, the first 0: 64-bit for fields of
/// up to 8 bytes (every 5-tuple field), which halves the memory the binary
/// search walks.
#[derive(Debug)]
enum Bounds {
    /// Fields of one word (addresses, ports, protocols): the bounds, and
    /// per value of the top [`TOP_BITS`] bits the first bound at or above
    /// that bucket, so a lookup searches only its bucket's few bounds
    /// instead of the whole array (the binary search was the cost of a
    /// 10,000-rule classifier).
    Word {
        bounds: Vec<u32>,
        start: Vec<u32>,
    },
    Narrow(Vec<u64>),
    Wide(Vec<u128>),
}

/// Bits of a one-word value that pick its bucket.
const TOP_BITS: u32 = 12;

impl Bounds {
    fn new(bounds: Vec<u128>, width: usize) -> Bounds {
        match width {
            4 => {
                let b: Vec<u32> = bounds.iter().map(|&x| x as u32).collect();
                let start = (0..=1u64 << TOP_BITS)
                    .map(|k| b.partition_point(|&x| u64::from(x) < k << (32 - TOP_BITS)) as u32)
                    .collect();
                Bounds::Word { bounds: b, start }
            }
            0..=8 => Bounds::Narrow(bounds.iter().map(|&x| x as u64).collect()),
            _ => Bounds::Wide(bounds),
        }
    }
    fn index(&self, v: u128) -> usize {
        match self {
            Bounds::Word { bounds, start } => {
                let v = v as u32;
                let k = (v >> (32 - TOP_BITS)) as usize;
                let (lo, hi) = (start[k] as usize, start[k + 1] as usize);
                lo + bounds[lo..hi].partition_point(|&x| x <= v) - 1
            }
            Bounds::Narrow(b) => b.partition_point(|&x| u128::from(x) <= v) - 1,
            Bounds::Wide(b) => b.partition_point(|&x| x <= v) - 1,
        }
    }
    fn bytes(&self) -> usize {
        match self {
            Bounds::Word { bounds, start } => (bounds.len() + start.len()) * 4,
            Bounds::Narrow(b) => b.len() * 8,
            Bounds::Wide(b) => b.len() * 16,
        }
    }
}

/// One field's table.
#[derive(Debug)]
struct FieldTable {
    /// The field's slot in the Env's keys (its index in `fields`).
    slot: usize,
    width: usize,
    bounds: Bounds,
    /// Row of each elementary interval.
    row_of: Vec<u32>,
    /// Row of packets where the field is absent.
    absent_row: u32,
    /// Rules that do not test the field (set in every row).
    density: usize,
}

/// The classifier of one run.
#[derive(Debug)]
pub struct Classifier {
    pub(crate) fields: Vec<Field>,
    tables: Vec<FieldTable>,
    /// Words per row.
    words: usize,
    /// Summary words per row.
    swords: usize,
    /// Rows: `words` bit words each.
    rows: Vec<u64>,
    /// Summaries of the rows (bit j: word j of the row is not zero),
    /// `swords` each: apart from the rows, so that the summaries of all
    /// rows stay in cache together.
    sums: Vec<u64>,
    rules: usize,
}

impl Classifier {
    /// Build the classifier of a run of rule shapes.
    pub(crate) fn build(shapes: &[RuleShape]) -> Classifier {
        let mut fields: Vec<Field> = Vec::new();
        for s in shapes {
            for (f, _) in &s.tests {
                if !fields.contains(f) {
                    fields.push(*f);
                }
            }
        }
        let n = shapes.len();
        let words = n.div_ceil(64).max(1);
        let swords = words.div_ceil(64);
        let mut cls = Classifier {
            fields: fields.clone(),
            tables: Vec::new(),
            words,
            swords,
            rows: Vec::new(),
            sums: Vec::new(),
            rules: n,
        };
        let mut dedup: HashMap<Vec<u64>, u32> = HashMap::new();
        for f in fields {
            let w = f.width();
            let max = max_of(w);
            // Per rule: its intervals on this field, or None (not loaded).
            let per_rule: Vec<Option<&Ivs>> =
                shapes.iter().map(|s| s.tests.iter().find(|(g, _)| *g == f).map(|(_, v)| v)).collect();
            let mut bounds = vec![0u128];
            for ivs in per_rule.iter().flatten() {
                for &(a, b) in ivs.iter() {
                    bounds.push(a);
                    if b < max {
                        bounds.push(b + 1);
                    }
                }
            }
            bounds.sort_unstable();
            bounds.dedup();
            let idx = |v: u128| bounds.partition_point(|&b| b <= v) - 1;
            let mut on: Vec<Vec<u32>> = vec![Vec::new(); bounds.len() + 1];
            let mut off: Vec<Vec<u32>> = vec![Vec::new(); bounds.len() + 1];
            let mut cur = vec![0u64; words];
            let mut absent = vec![0u64; words];
            for (r, t) in per_rule.iter().enumerate() {
                match t {
                    None => {
                        cur[r / 64] |= 1 << (r % 64);
                        absent[r / 64] |= 1 << (r % 64);
                    }
                    Some(ivs) => {
                        for &(a, b) in ivs.iter() {
                            on[idx(a)].push(r as u32);
                            if b < max {
                                off[idx(b + 1)].push(r as u32);
                            }
                        }
                    }
                }
            }
            let mut row_of = Vec::with_capacity(bounds.len());
            for i in 0..bounds.len() {
                for &r in &off[i] {
                    cur[r as usize / 64] &= !(1 << (r % 64));
                }
                for &r in &on[i] {
                    cur[r as usize / 64] |= 1 << (r % 64);
                }
                row_of.push(cls.intern(&mut dedup, &cur));
            }
            let absent_row = cls.intern(&mut dedup, &absent);
            // How many rules the field's rows hold on average: sparse
            // fields first, so the AND of a word mostly ends early.
            let density = per_rule.iter().filter(|t| t.is_none()).count();
            let slot = cls.tables.len();
            cls.tables.push(FieldTable { slot, width: w, bounds: Bounds::new(bounds, w), row_of, absent_row, density });
        }
        cls.finish()
    }

    fn finish(mut self) -> Classifier {
        self.tables.sort_by_key(|t| t.density);
        self
    }

    fn intern(&mut self, dedup: &mut HashMap<Vec<u64>, u32>, bits: &[u64]) -> u32 {
        if let Some(&r) = dedup.get(bits) {
            return r;
        }
        let r = (self.rows.len() / self.words) as u32;
        self.rows.extend_from_slice(bits);
        let mut sum = vec![0u64; self.swords];
        for (j, &w) in bits.iter().enumerate() {
            if w != 0 {
                sum[j / 64] |= 1 << (j % 64);
            }
        }
        self.sums.extend_from_slice(&sum);
        dedup.insert(bits.to_vec(), r);
        r
    }

    /// Rules of the run.
    pub fn len(&self) -> usize {
        self.rules
    }

    /// Whether the run is empty.
    pub fn is_empty(&self) -> bool {
        self.rules == 0
    }

    /// Bytes the tables take.
    pub fn memory(&self) -> usize {
        (self.rows.len() + self.sums.len()) * 8
            + self.tables.iter().map(|t| t.bounds.bytes() + t.row_of.len() * 4).sum::<usize>()
    }

    /// The first rule at or after `from` matching the field values.
    pub(crate) fn first_match(&self, keys: &[[u8; 16]; MAX_FIELDS], present: u32, from: usize) -> Option<usize> {
        if from >= self.rules {
            return None;
        }
        let mut rows = [0usize; MAX_FIELDS];
        let mut sums = [0usize; MAX_FIELDS];
        for (i, t) in self.tables.iter().enumerate() {
            let key = &keys[t.slot];
            let row = if present & (1 << t.slot) == 0 {
                t.absent_row
            } else if let Bounds::Word { bounds, start } = &t.bounds {
                // The common case without 128-bit arithmetic.
                let v = u32::from_be_bytes([key[0], key[1], key[2], key[3]]);
                let k = (v >> (32 - TOP_BITS)) as usize;
                let (lo, hi) = (start[k] as usize, start[k + 1] as usize);
                t.row_of[lo + bounds[lo..hi].partition_point(|&x| x <= v) - 1]
            } else {
                let v = u128::from_be_bytes(*key) >> (8 * (16 - t.width));
                t.row_of[t.bounds.index(v)]
            } as usize;
            rows[i] = row * self.words;
            sums[i] = row * self.swords;
        }
        let nf = self.tables.len();
        let (rows, sums) = (&rows[..nf], &sums[..nf]);
        let w0 = from / 64;
        for sw in w0 / 64..self.swords {
            let mut s = !0u64;
            for &r in sums {
                s &= self.sums[r + sw];
            }
            if sw == w0 / 64 {
                s &= !0u64 << (w0 % 64);
            }
            while s != 0 {
                let j = sw * 64 + s.trailing_zeros() as usize;
                s &= s - 1;
                let mut w = !0u64;
                for &r in rows {
                    w &= self.rows[r + j];
                    if w == 0 {
                        break;
                    }
                }
                if j == w0 {
                    w &= !0u64 << (from % 64);
                }
                if w != 0 {
                    let k = j * 64 + w.trailing_zeros() as usize;
                    return (k < self.rules).then_some(k);
                }
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interval_algebra() {
        assert_eq!(complement(&vec![(2, 3)], 10), vec![(0, 1), (4, 10)]);
        assert_eq!(complement(&vec![(0, 10)], 10), vec![]);
        assert_eq!(complement(&vec![], 10), vec![(0, 10)]);
        assert_eq!(intersect(&vec![(0, 5), (8, 9)], &vec![(3, 8)]), vec![(3, 5), (8, 8)]);
        assert_eq!(normalize(vec![(5, 6), (0, 2), (3, 4)]), vec![(0, 6)]);
        assert_eq!(prefix_range(&[0, 80], &[0, 90], 4), (80 << 16, 90 << 16 | 0xffff));
    }
}
