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
//! Two structures take a run; both answer "the first rule at or after
//! `from` whose tests all hold", so first-match semantics stay exact, and a
//! rule that matched without ending the chain (a counter-only rule,
//! `continue`, a return from `jump`, a limit over its rate) resumes the
//! search after itself.
//!
//! Bit vectors (Lakshman & Stiliadis, 1998, with the aggregation of
//! Baboescu & Varghese, 2001): per field, the sorted boundaries of all the
//! rules' intervals cut the value space into elementary intervals; each
//! holds a bit vector of the run's rules whose test on that field holds
//! there (rules not testing the field: every bit). A packet costs one
//! binary search per field, then the AND of the fields' vectors scanned
//! from the first word, skipping words whose summary bit is clear in some
//! field; the first set bit is the first matching rule. Identical vectors
//! are stored once. Cheap when few words pass the summaries (acl1: 1.2 per
//! packet), dear when many do (fw1: 11.8, each read from 12 MB of rows).
//!
//! Decision trees (when every field is one word, by default when trees
//! take at least half of the run's rules and are shallow, or the bit
//! vectors would read many candidate words): each rule is a box (one
//! interval per field; a test that is a union of intervals makes several
//! boxes), grouped by its narrowest field, as EffiCuts (Vamanan, Voskuilen
//! & Vijaykumar, 2010) separates rules so that wildcards do not get copied
//! into every part of a tree. Each group gets a tree: a table on the top
//! bits of the group's field, then nodes cutting one field at several
//! points chosen to balance the boxes on each side (HyperSplit-style, Qi
//! et al., 2009), then leaves listing their boxes inline in rule order,
//! searched linearly and exactly. A leaf's list ends at the first box
//! covering the leaf's whole region whose rule always ends the chain:
//! nothing after it can be reached there. Groups whose tree would copy
//! boxes into too many leaves (rules wide in every field), and rules that
//! would make too many boxes, go to bit vectors of their own. A packet
//! walks all trees side by side and takes the least rule found.

use ctc_ir::{Base, CmpOp, CtKey, MetaKey, Op, Reg, Set};
use std::collections::HashMap;

/// `$this.$f::<N>(args)` for `N` the run's number of fields (at most
/// [`MAX_FIELDS`]): the scans are unrolled for each.
macro_rules! by_fields {
    ($nf:expr, $f:ident($this:expr, $($arg:expr),*)) => {
        match $nf {
            0 => $this.$f::<0>($($arg),*),
            1 => $this.$f::<1>($($arg),*),
            2 => $this.$f::<2>($($arg),*),
            3 => $this.$f::<3>($($arg),*),
            4 => $this.$f::<4>($($arg),*),
            5 => $this.$f::<5>($($arg),*),
            6 => $this.$f::<6>($($arg),*),
            7 => $this.$f::<7>($($arg),*),
            _ => $this.$f::<8>($($arg),*),
        }
    };
}

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
    /// The tail always ends the chain (a terminal verdict or reject, no
    /// limit or quota before it): once the rule matched, no later rule of
    /// the run is looked at.
    pub(crate) fin: bool,
}

/// Whether a tail always ends the chain: its ops up to a terminal verdict
/// (or reject) always go on. The trees rely on it to drop the rules after
/// such a rule; an op not listed here as going on (a limit, a quota, one
/// added later) makes the tail not final.
fn final_tail(tail: &[Op]) -> bool {
    for op in tail {
        match op {
            // The interpreter's `exec_op` answers `Go` for these, always.
            Op::Counter(_) | Op::Log(_) | Op::Notrack | Op::CtHelper { .. } | Op::CtTimeout(_) => {}
            Op::Reject(_) => return true,
            Op::Verdict(v) => {
                return matches!(
                    v,
                    ctc_ir::Verdict::Accept
                        | ctc_ir::Verdict::Drop
                        | ctc_ir::Verdict::Return
                        | ctc_ir::Verdict::Goto(_)
                        | ctc_ir::Verdict::Queue { .. }
                );
            }
            _ => return false,
        }
    }
    false
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
    Some(RuleShape { tests, tail: i, fin: final_tail(&ops[i..]) })
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
    /// Fields of one word with few bounds: a plain binary search over a
    /// few cache lines, no bucket table.
    Small(Vec<u32>),
    /// Fields of one or two bytes (ports, protocols) in a large run: the
    /// elementary interval of every value of those bytes (`v >> shift`),
    /// read directly instead of searched (a one-word value's other bits
    /// are zero, as loads leave them; a value with any of them set is
    /// searched in `bounds`).
    Direct {
        shift: u32,
        index: Vec<u16>,
        bounds: Vec<u32>,
    },
    Narrow(Vec<u64>),
    Wide(Vec<u128>),
}

/// Most bounds of a one-word field searched without a bucket table.
const SMALL_BOUNDS: usize = 256;

/// Bits of a one-word value that pick its bucket.
const TOP_BITS: u32 = 12;

/// Rules from which a run is large: its fields of one or two bytes get
/// direct tables (128 KiB for two bytes, small beside the bit vectors of
/// such a run: 10,000 rules take megabytes). Wider buckets for addresses
/// (16 bits, 256 KiB) were tried: ClassBench acl1's address bounds
/// cluster within a /16, and the search within a bucket went from 4.9 to
/// 4.6 steps per field only.
const LARGE_RUN: usize = 2048;

impl Bounds {
    /// The bounds of a field `width` bytes wide in registers, loaded from
    /// `bytes` bytes, in a run of `rules` rules.
    fn new(bounds: Vec<u128>, width: usize, bytes: u8, rules: usize) -> Bounds {
        let large = rules >= LARGE_RUN;
        match width {
            4 if large && bytes <= 2 && bounds.len() <= 1 << 16 => {
                let b: Vec<u32> = bounds.iter().map(|&x| x as u32).collect();
                let shift = 32 - 8 * u32::from(bytes);
                let mut at = 0usize;
                let index = (0..1u64 << (8 * bytes))
                    .map(|k| {
                        let v = (k << shift) as u32;
                        while at + 1 < b.len() && b[at + 1] <= v {
                            at += 1;
                        }
                        at as u16
                    })
                    .collect();
                Bounds::Direct { shift, index, bounds: b }
            }
            4 if bounds.len() <= SMALL_BOUNDS => Bounds::Small(bounds.iter().map(|&x| x as u32).collect()),
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
    /// The elementary interval of a one-word value.
    #[inline(always)]
    fn word_index(&self, v: u32) -> usize {
        match self {
            Bounds::Word { bounds, start } => {
                // Without 128-bit arithmetic, searching the value's bucket.
                let k = (v >> (32 - TOP_BITS)) as usize;
                let (lo, hi) = (start[k] as usize, start[k + 1] as usize);
                lo + bounds[lo..hi].partition_point(|&x| x <= v) - 1
            }
            Bounds::Direct { shift, index, bounds } => {
                if v & ((1 << shift) - 1) == 0 {
                    usize::from(index[(v >> shift) as usize])
                } else {
                    bounds.partition_point(|&x| x <= v) - 1
                }
            }
            Bounds::Small(b) => b.partition_point(|&x| x <= v) - 1,
            b => b.index(u128::from(v)),
        }
    }
    fn index(&self, v: u128) -> usize {
        match self {
            Bounds::Word { .. } | Bounds::Direct { .. } | Bounds::Small(_) => self.word_index(v as u32),
            Bounds::Narrow(b) => b.partition_point(|&x| u128::from(x) <= v) - 1,
            Bounds::Wide(b) => b.partition_point(|&x| x <= v) - 1,
        }
    }
    fn bytes(&self) -> usize {
        match self {
            Bounds::Word { bounds, start, .. } => (bounds.len() + start.len()) * 4,
            Bounds::Direct { index, bounds, .. } => index.len() * 2 + bounds.len() * 4,
            Bounds::Small(b) => b.len() * 4,
            Bounds::Narrow(b) => b.len() * 8,
            Bounds::Wide(b) => b.len() * 16,
        }
    }
}

impl FieldTable {
    /// The row of a one-word field's value.
    #[inline(always)]
    fn row_of_word(&self, v: u32) -> u32 {
        self.row_of[self.bounds.word_index(v)]
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

/// Which structure classifies a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Structure {
    /// Trees when every field is one word, they take at least half of the
    /// rules (the others go to bit vectors of their own), and they are at
    /// most two levels deep below their tables or the bit vectors would
    /// read more than four candidate words per packet; else bit vectors.
    #[default]
    Auto,
    /// Trees whenever every field is one word and some tree can be built
    /// (tests).
    Trees,
    /// Hash tables of tuples whenever every field is one word and some
    /// table can be built (tests).
    Tuples,
    /// Always bit vectors.
    Bits,
}

/// Levels below the tables beyond which the trees must beat the bit
/// vectors' candidate words.
const MAX_DEPTH_OVER_BITS: usize = 2;

/// Candidate words per lookup above which deep trees still beat the bit
/// vectors.
const MAX_CANDIDATES: f64 = 4.0;

/// The classifier of one run: decision trees or bit vectors (see the
/// module's documentation).
#[derive(Debug)]
pub struct Classifier {
    pub(crate) fields: Vec<Field>,
    /// When every rule's tail is only an accept or drop verdict, a bit per
    /// rule of the run, set for accept (compiled code returns the chain's
    /// answer from it instead of jumping to the rule's code).
    pub(crate) accepts: Option<Vec<u32>>,
    rules: usize,
    imp: Imp,
}

#[derive(Debug)]
enum Imp {
    Trees(Forest),
    Tuples(Tuples),
    Bits(BitVectors),
}

impl Classifier {
    /// Build the classifier of a run of rule shapes.
    pub(crate) fn build(shapes: &[RuleShape], structure: Structure) -> Classifier {
        let mut fields: Vec<Field> = Vec::new();
        for s in shapes {
            for (f, _) in &s.tests {
                if !fields.contains(f) {
                    fields.push(*f);
                }
            }
        }
        if structure == Structure::Tuples
            && let Some(t) = Tuples::build(shapes, &fields)
        {
            return Classifier { fields, accepts: None, rules: shapes.len(), imp: Imp::Tuples(t) };
        }
        let forest = match structure {
            Structure::Bits | Structure::Tuples => None,
            Structure::Auto => Forest::build(shapes, &fields).filter(|f| f.rest_rules() * 2 <= shapes.len()),
            Structure::Trees => Forest::build(shapes, &fields),
        };
        let imp = match forest {
            // Deep trees read one node after the other: hash tables of
            // tuples that take nearly every rule do better (acl1_10k:
            // source trees four levels deep), else bit vectors that read
            // few candidate words.
            Some(f) if structure == Structure::Auto && f.depth() > MAX_DEPTH_OVER_BITS => {
                match Tuples::build(shapes, &fields).filter(|t| t.rest_rules() * TUPLE_REST <= shapes.len()) {
                    Some(t) => Imp::Tuples(t),
                    None => {
                        let bits = BitVectors::build(shapes, &fields, shapes.len());
                        if bits.mean_candidates(shapes, &fields) > MAX_CANDIDATES {
                            Imp::Trees(f)
                        } else {
                            Imp::Bits(bits)
                        }
                    }
                }
            }
            Some(f) => Imp::Trees(f),
            None => Imp::Bits(BitVectors::build(shapes, &fields, shapes.len())),
        };
        Classifier { fields, accepts: None, rules: shapes.len(), imp }
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
        match &self.imp {
            Imp::Trees(t) => t.memory(),
            Imp::Tuples(t) => t.memory(),
            Imp::Bits(b) => b.memory(),
        }
    }

    /// Which structure, in a few words (listings, `ctc bench classify`).
    pub fn structure(&self) -> String {
        match &self.imp {
            Imp::Trees(f) => {
                let trees: Vec<String> = f
                    .trees
                    .iter()
                    .map(|t| {
                        format!(
                            "{} boxes, {} nodes, {} leaves, depth {}, {} list entries",
                            t.boxes,
                            t.nodes.len(),
                            t.leaves,
                            t.depth,
                            t.entries()
                        )
                    })
                    .collect();
                let rest = f.rest_rules();
                let rest = if rest == 0 { String::new() } else { format!("; bit vectors for {rest} rules") };
                format!("{} decision tree(s): {}{rest}", trees.len(), trees.join("; "))
            }
            Imp::Tuples(t) => {
                let tables: Vec<String> = t
                    .tables
                    .iter()
                    .map(|h| {
                        let bits: Vec<String> = (0..t.nf).map(|f| h.masks[f].count_ones().to_string()).collect();
                        format!("({}) {} boxes in {} slots", bits.join(","), h.boxes, h.slots.len())
                    })
                    .collect();
                let tree = match &t.tree {
                    Some((t, _)) => {
                        format!("; a tree of {} boxes, depth {}, {} list entries", t.boxes, t.depth, t.entries())
                    }
                    None => String::new(),
                };
                let rest = t.rest_rules();
                let rest = if rest == 0 { String::new() } else { format!("; bit vectors for {rest} rules") };
                format!("{} hash table(s) of tuples: {}{tree}{rest}", tables.len(), tables.join("; "))
            }
            Imp::Bits(_) => "bit vectors".into(),
        }
    }

    /// The first rule at or after `from` matching the field values, where
    /// `from` is 0 or one past a rule that matched without ending the
    /// chain (the only resume points the compiled code makes).
    pub(crate) fn first_match(&self, keys: &[[u8; 16]; MAX_FIELDS], present: u32, from: usize) -> Option<usize> {
        if self.one_word() {
            // The one-word path, as compiled code takes it.
            return self.first_match_words(&words_of(keys, present), present, from);
        }
        match &self.imp {
            Imp::Trees(t) => t.first_match(keys, present, from),
            Imp::Tuples(t) => t.first_match_words(&words_of(keys, present), present, from),
            Imp::Bits(b) => b.first_match(keys, present, from),
        }
    }

    /// Whether every field is one word: compiled code then hands the
    /// classifier the fields' values as words ([`Classifier::first_match_words`])
    /// instead of their register bytes.
    pub(crate) fn one_word(&self) -> bool {
        self.fields.iter().all(|f| f.width() == 4)
    }

    /// [`Classifier::first_match`] for a run of one-word fields, given each
    /// field's value as a word (its big-endian bytes, left-aligned: a port
    /// is `port << 16`), 0 when absent.
    pub(crate) fn first_match_words(&self, v: &[u32; MAX_FIELDS], present: u32, from: usize) -> Option<usize> {
        match &self.imp {
            Imp::Trees(t) => t.first_match_words(v, present, from),
            Imp::Tuples(t) => t.first_match_words(v, present, from),
            Imp::Bits(b) => b.search_words(v, present, from),
        }
    }
}

/// One decision tree as compiled code walks it (see [`Tree`]): the
/// addresses of its tables, which stay put while the classifier lives.
#[derive(Debug, Clone, Copy)]
pub(crate) struct NativeTree {
    /// The root table, indexed by field `top_field` shifted right by
    /// `shift`; its entries are nodes or leaves ([`LEAF_BIT`]).
    pub top: *const u32,
    pub top_field: usize,
    pub shift: u32,
    /// Inner nodes, [`NODE_BYTES`] each: cut points (`u32` × 7), the field
    /// (byte 28) and the number of children (byte 29), the children (`u32`
    /// × 8 from byte 32).
    pub nodes: *const u8,
    /// Leaf lists: per box the rule, the fields it needs, `lo, hi` per
    /// field; [`END`] ends a list.
    pub lists: *const u32,
    /// Levels of nodes below the table at most.
    pub depth: usize,
    /// Whether an entry's needed fields must be checked (else no box
    /// holds the 0 an absent field reads as).
    pub need: bool,
}

/// Bytes of a tree node.
pub(crate) const NODE_BYTES: usize = std::mem::size_of::<Node>();
/// A child that is a leaf.
pub(crate) const NATIVE_LEAF_BIT: u32 = LEAF_BIT;
/// The end of a leaf list, and "no rule".
pub(crate) const NATIVE_END: u32 = END;

impl Classifier {
    /// The trees of a run of one-word fields, for compiled code to walk
    /// (its number of fields, the trees, the first of the rules left to bit
    /// vectors if any: [`Classifier::rest_best`] can only find a rule
    /// before the trees' answer if that answer comes after it); `None` for
    /// bit vectors.
    pub(crate) fn native_trees(&self) -> Option<(usize, Vec<NativeTree>, Option<u32>)> {
        let Imp::Trees(f) = &self.imp else { return None };
        if !self.one_word() {
            return None;
        }
        let trees = f.trees.iter().map(Tree::native).collect();
        Some((f.nf, trees, f.rest.as_ref().and_then(|(_, r)| r.first().copied())))
    }

    /// The least of `best` (the trees' answer, [`END`] for none) and the
    /// first rule at or after `from` the bit vectors of the rules no tree
    /// takes find (see [`Classifier::native_trees`]).
    #[inline]
    pub(crate) fn rest_best(&self, v: &[u32; MAX_FIELDS], present: u32, from: usize, best: u32) -> u32 {
        match &self.imp {
            Imp::Trees(f) => rest_best(&f.rest, v, present, from, best as usize) as u32,
            Imp::Tuples(t) => rest_best(&t.rest, v, present, from, best as usize) as u32,
            Imp::Bits(_) => best,
        }
    }
}

/// One hash table of tuples as compiled code reads it (see [`HashTable`]).
#[derive(Debug, Clone, Copy)]
pub(crate) struct NativeTable {
    /// Per field the mask of the key (0: not keyed).
    pub masks: [u32; MAX_FIELDS],
    /// `1 << bits` slots.
    pub bits: u32,
    /// Per slot where its list starts in `lists` (quads).
    pub slots: *const u32,
    /// Lists of boxes (see `HashTable::lists`): per entry a head quad
    /// (rule, needed fields), the fields' `lo` bounds, then their `hi`
    /// bounds, four fields to a quad.
    pub lists: *const Quad,
    /// As [`NativeTree::need`].
    pub need: bool,
}

/// The multiplier of the tables' hash (see `hash_slot`).
pub(crate) const NATIVE_HASH_K: u64 = HASH_K;

impl Classifier {
    /// The hash tables of a run of one-word fields, for compiled code to
    /// look up (its number of fields, the tables in order, the first of
    /// the rules left to bit vectors if any, as [`Classifier::native_trees`]).
    #[allow(clippy::type_complexity)]
    pub(crate) fn native_tuples(&self) -> Option<(usize, Vec<NativeTable>, Option<(NativeTree, u32)>, Option<u32>)> {
        let Imp::Tuples(t) = &self.imp else { return None };
        if !self.one_word() {
            return None;
        }
        let tables = t
            .tables
            .iter()
            .map(|h| NativeTable {
                masks: h.masks,
                bits: h.bits,
                slots: h.slots.as_ptr(),
                lists: h.lists.as_ptr(),
                need: h.need,
            })
            .collect();
        Some((
            t.nf,
            tables,
            t.tree.as_ref().map(|(t, min)| (t.native(), *min)),
            t.rest.as_ref().and_then(|(_, r)| r.first().copied()),
        ))
    }
}

/// The first word of each present field's key (0 for absent ones).
fn words_of(keys: &[[u8; 16]; MAX_FIELDS], present: u32) -> [u32; MAX_FIELDS] {
    let mut v = [0u32; MAX_FIELDS];
    for (f, x) in v.iter_mut().enumerate() {
        if present & (1 << f) != 0 {
            let k = &keys[f];
            *x = u32::from_be_bytes([k[0], k[1], k[2], k[3]]);
        }
    }
    v
}

/// Whether a list entry of one of these boxes may hold a packet that lacks
/// a field the box needs but for the check of the needed fields: an
/// absent field reads as 0, so only a box whose interval on a needed field
/// starts at 0 needs the check (compiled code leaves it out otherwise).
fn needs_check<'a>(boxes: impl IntoIterator<Item = &'a RuleBox>) -> bool {
    boxes.into_iter().any(|b| (0..MAX_FIELDS).any(|f| b.need & 1 << f != 0 && b.lo[f] == 0))
}

/// A tree may hold this many list entries per box of its group at most.
const SPREAD: usize = 4;

/// A group with fewer boxes than 1 / this of the run's joins the small
/// ones' group.
const SMALL_GROUP: usize = 16;

/// Trees searched side by side: at most this many.
const MAX_TREES: usize = 6;

/// A box is grouped by its narrowest field if that field's interval holds
/// fewer values than this, as values of the field's left-aligned word: an
/// address prefix of /16 or longer, a single port (a protocol byte never
/// is); else it goes to the group of boxes wide in every field.
const LARGE: u64 = 1 << 16;

/// The rules of a run as boxes if every field is one word, and the rules
/// that would make too many boxes (their tests are unions of many
/// intervals): those go to the bit vectors.
fn boxes_of(shapes: &[RuleShape], fields: &[Field]) -> Option<(Vec<RuleBox>, Vec<u32>)> {
    if fields.iter().any(|f| f.width() != 4) {
        return None;
    }
    let nf = fields.len();
    let mut boxes: Vec<RuleBox> = Vec::new();
    let mut many: Vec<u32> = Vec::new();
    'rule: for (r, s) in shapes.iter().enumerate() {
        let mut proto = RuleBox { rule: r as u32, need: 0, lo: [0; MAX_FIELDS], hi: [0; MAX_FIELDS], fin: s.fin };
        for k in 0..nf {
            proto.hi[k] = u32::MAX;
        }
        let mut partial = vec![proto];
        for (f, ivs) in &s.tests {
            let k = fields.iter().position(|g| g == f).expect("field of the run");
            if partial.len() * ivs.len() > MAX_BOXES_PER_RULE {
                many.push(r as u32);
                continue 'rule;
            }
            let mut next = Vec::with_capacity(partial.len() * ivs.len());
            for b in &partial {
                for &(a, z) in ivs {
                    let mut b = *b;
                    b.need |= 1 << k;
                    b.lo[k] = a as u32;
                    b.hi[k] = z as u32;
                    next.push(b);
                }
            }
            partial = next;
        }
        boxes.extend(partial);
    }
    Some((boxes, many))
}

/// Decision trees over one-word fields, one per group of boxes (grouped
/// by their narrowest field, EffiCuts-style, so that a box with a wildcard
/// address does not get copied into every part of a tree cut on
/// addresses), and bit vectors for what no tree takes. A packet walks
/// every tree, the walks interleaved level by level so that their memory
/// accesses overlap; the answer is the least rule found.
#[derive(Debug)]
struct Forest {
    /// Fields of the run (every tree's).
    nf: usize,
    /// Deepest first.
    trees: Vec<Tree>,
    /// Per step from the root tables, the trees that may still be above
    /// their leaf (the first so many).
    deeper: Vec<usize>,
    /// The rules of the groups no tree separates (their boxes overlap
    /// too much: a tree would copy them into too many leaves), as bit
    /// vectors, with the run's index of each of their rules.
    rest: Option<(BitVectors, Vec<u32>)>,
}

impl Forest {
    fn build(shapes: &[RuleShape], fields: &[Field]) -> Option<Forest> {
        let (boxes, many) = boxes_of(shapes, fields)?;
        let nf = fields.len();
        // The key of a box: its narrowest field, if narrower than LARGE
        // (the first such field on a tie).
        let key = |b: &RuleBox| {
            (0..nf).filter(|&f| u64::from(b.hi[f] - b.lo[f]) < LARGE).min_by_key(|&f| (b.hi[f] - b.lo[f], f))
        };
        // Groups: by key field, the boxes with none (slot nf), and the
        // small groups together (slot nf + 1): each tree costs a walk per
        // packet however few its boxes (five trees for fw1_10k, three of
        // them small and deep, took three times as long as two trees and
        // bit vectors for the 406 other rules).
        let mut count = [0usize; MAX_FIELDS + 2];
        for b in &boxes {
            count[key(b).unwrap_or(nf)] += 1;
        }
        let small: Vec<bool> = count.iter().map(|&c| c * SMALL_GROUP < boxes.len()).collect();
        let slot = |b: &RuleBox| {
            let g = key(b).unwrap_or(nf);
            if small[g] { nf + 1 } else { g }
        };
        let mut count = [0usize; MAX_FIELDS + 2];
        for b in &boxes {
            count[slot(b)] += 1;
        }
        // The largest groups get trees; the others join the rest.
        let mut order: Vec<usize> = (0..=nf + 1).filter(|&g| count[g] > 0).collect();
        order.sort_by_key(|&g| (std::cmp::Reverse(count[g]), g));
        order.truncate(MAX_TREES);
        let mut trees = Vec::new();
        let mut rest: Vec<u32> = many;
        let mut treed = [false; MAX_FIELDS + 2];
        for &g in &order {
            let part: Vec<RuleBox> = boxes.iter().filter(|b| slot(b) == g).copied().collect();
            // The table cuts the key field; boxes with none, the field
            // that separates them best.
            let whole = Region { lo: [0; MAX_FIELDS], hi: [u32::MAX; MAX_FIELDS] };
            let ids: Vec<u32> = (0..part.len() as u32).collect();
            let f = if g < nf { g } else { Tree::cut_field(nf, &part, &ids, &whole) };
            // A group whose tree would hold each box more than a few times
            // over goes to the bit vectors.
            if let Some(t) = Tree::build(nf, &part, SPREAD * part.len() + 1024, f) {
                trees.push(t);
                treed[g] = true;
            }
        }
        if trees.is_empty() {
            return None;
        }
        rest.extend(boxes.iter().filter(|b| !treed[slot(b)]).map(|b| b.rule));
        rest.sort_unstable();
        rest.dedup();
        let rest = (!rest.is_empty()).then(|| {
            let sub: Vec<RuleShape> = rest.iter().map(|&r| shapes[r as usize].clone()).collect();
            // Sized as the run is: its lookups are a large run's.
            (BitVectors::build(&sub, fields, shapes.len()), rest)
        });
        trees.sort_by_key(|t| std::cmp::Reverse(t.depth));
        let steps = trees.first().map_or(0, |t| t.depth);
        let deeper = (0..steps).map(|s| trees.iter().filter(|t| t.depth > s).count()).collect();
        Some(Forest { nf, trees, deeper, rest })
    }

    /// Levels below the tables of the deepest tree.
    fn depth(&self) -> usize {
        self.deeper.len()
    }

    /// Rules left to the bit vectors.
    fn rest_rules(&self) -> usize {
        self.rest.as_ref().map_or(0, |(_, r)| r.len())
    }

    fn memory(&self) -> usize {
        self.trees.iter().map(Tree::memory).sum::<usize>()
            + self.rest.as_ref().map_or(0, |(b, r)| b.memory() + r.len() * 4)
    }

    fn first_match(&self, keys: &[[u8; 16]; MAX_FIELDS], present: u32, from: usize) -> Option<usize> {
        self.first_match_words(&words_of(keys, present), present, from)
    }

    fn first_match_words(&self, v: &[u32; MAX_FIELDS], present: u32, from: usize) -> Option<usize> {
        // The leaf scans unrolled for the run's number of fields.
        let from32 = from as u32;
        let best = by_fields!(self.nf, tree_best(self, v, present, from32));
        let best = rest_best(&self.rest, v, present, from, best as usize);
        (best != END as usize).then_some(best)
    }

    /// The first rule at or after `from` the trees find ([`END`]: none).
    #[inline]
    fn tree_best<const NF: usize>(&self, v: &[u32; MAX_FIELDS], present: u32, from: u32) -> u32 {
        let mut at = [LEAF_BIT; MAX_TREES];
        for (a, t) in at.iter_mut().zip(&self.trees) {
            *a = t.top[(v[t.top_field] >> t.shift) as usize];
        }
        let nt = self.trees.len();
        // One level of every tree at a time, as many times as the deepest
        // tree needs: a tree at its leaf reads node 0 and stays.
        for &n in &self.deeper {
            for (a, t) in at[..n].iter_mut().zip(&self.trees) {
                let leaf = *a & LEAF_BIT != 0;
                let next = t.step(if leaf { 0 } else { *a }, v);
                *a = if leaf { *a } else { next };
            }
        }
        let mut best = END;
        for (a, t) in at[..nt].iter().zip(&self.trees) {
            best = scan::<NF>(&t.lists, *a & !LEAF_BIT, v, present, from, best);
        }
        best
    }
}

/// Bits of the field the root's table is indexed with.
const TOP: u32 = 16;
/// ... and at least this many.
const MIN_TOP: u32 = 4;

/// Rules a leaf holds at most unless no cut separates them.
const LEAF: usize = 6;
/// Children of a tree node at most: its cut points and its children fill
/// one cache line.
const FANOUT: usize = 8;
/// Deepest tree node.
const MAX_DEPTH: usize = 24;
/// Boxes (rules split into one interval per field) a rule may make.
const MAX_BOXES_PER_RULE: usize = 16;
/// A child that is a leaf: this bit, and where its list starts in
/// `Tree::lists`.
const LEAF_BIT: u32 = 1 << 31;
/// The end of a leaf's list (in place of a rule).
const END: u32 = u32::MAX;

/// An inner node of the tree: a cut of one field into up to [`FANOUT`]
/// ranges. Child `i` takes the values with `i` cut points at or below
/// them; it is a node (its index) or a leaf ([`LEAF_BIT`] | where its list
/// starts in `Tree::lists`).
#[derive(Debug, Clone, Copy)]
#[repr(C, align(64))]
struct Node {
    /// Cut points, ascending; unused ones `u32::MAX`.
    cut: [u32; FANOUT - 1],
    /// The field (low byte) and the number of children (next byte).
    field: u32,
    kid: [u32; FANOUT],
}

/// A rule as a box: one interval per field (a rule whose test on a field
/// is several intervals is several boxes).
#[derive(Debug, Clone, Copy)]
struct RuleBox {
    rule: u32,
    /// Fields the rule tests: they must be present.
    need: u32,
    lo: [u32; MAX_FIELDS],
    hi: [u32; MAX_FIELDS],
    fin: bool,
}

/// A part of the value space: one interval per field. An absent field
/// reads as 0, so a region holds the packets missing field `f` iff
/// `lo[f] == 0`.
#[derive(Debug, Clone, Copy)]
struct Region {
    lo: [u32; MAX_FIELDS],
    hi: [u32; MAX_FIELDS],
}

/// A decision tree over one-word fields, cut HyperSplit-style (each node
/// cuts one field at points that balance the rules on each side), with
/// small leaves searched linearly in rule order.
///
/// A packet walks from the root to a leaf, one node (two cache lines) per
/// level, reading an absent field as 0. The leaf lists every box that
/// overlaps its region, in rule order; each box (rule, fields needed, an
/// interval per field) is stored once, and the search tests the packet's
/// values against it exactly: the tree only narrows which rules are
/// tested. A list ends at the first box that covers its whole region (for
/// present and absent fields alike) and whose rule ends the chain: no
/// packet of the region gets past that rule, so later rules are dropped,
/// which is what keeps leaves small under wildcard rules. A rule that
/// matched without ending the chain resumes the search after itself in the
/// same list: every rule the interpreter would reach next is there.
#[derive(Debug)]
struct Tree {
    nf: usize,
    nodes: Vec<Node>,
    /// The first cut: the child of each value of the top [`TOP`] bits of
    /// field `top_field`.
    top_field: usize,
    /// 32 minus the bits the table is indexed with.
    shift: u32,
    top: Vec<u32>,
    /// Boxes in the run.
    boxes: usize,
    /// Whether a list entry's needed fields must be checked
    /// ([`needs_check`]).
    need: bool,
    /// The leaves' lists of boxes, in rule order, each box inline (`2 + 2
    /// * nf` words: rule, needed fields, then `lo, hi` per field) so that
    /// a leaf's boxes are read in sequence; each list ends with [`END`].
    lists: Vec<u32>,
    /// Boxes in all lists.
    entries: usize,
    leaves: usize,
    depth: usize,
}

impl Tree {
    fn native(&self) -> NativeTree {
        NativeTree {
            top: self.top.as_ptr(),
            top_field: self.top_field,
            shift: self.shift,
            nodes: self.nodes.as_ptr() as *const u8,
            lists: self.lists.as_ptr(),
            depth: self.depth,
            need: self.need,
        }
    }

    fn stride(&self) -> usize {
        2 + 2 * self.nf
    }

    fn entries(&self) -> usize {
        self.entries
    }

    fn memory(&self) -> usize {
        self.nodes.len() * std::mem::size_of::<Node>() + (self.lists.len() + self.top.len()) * 4
    }

    /// The tree of some boxes (in rule order), if it stays within `budget`
    /// list entries.
    fn build(nf: usize, boxes: &[RuleBox], budget: usize, top_field: usize) -> Option<Tree> {
        let mut t = Tree {
            nf,
            nodes: Vec::new(),
            top_field: 0,
            shift: 0,
            top: Vec::new(),
            boxes: boxes.len(),
            need: needs_check(boxes),
            lists: Vec::new(),
            entries: 0,
            leaves: 0,
            depth: 0,
        };
        // Node 0 is where a walk that reached its leaf keeps stepping.
        t.nodes.push(Node { cut: [u32::MAX; FANOUT - 1], field: 1 << 8, kid: [LEAF_BIT; FANOUT] });
        let whole = Region { lo: [0; MAX_FIELDS], hi: [u32::MAX; MAX_FIELDS] };
        // The first cut is a table on the top bits of the field the best
        // cut of the whole space would take; consecutive slots that the
        // same boxes overlap share one subtree, built for their union.
        let f = top_field;
        t.top_field = f;
        // About four slots per box, so a small tree has a small table.
        let bits = (usize::BITS - boxes.len().leading_zeros() + 2).clamp(MIN_TOP, TOP);
        let shift = 32 - bits;
        t.shift = shift;
        t.top = vec![0; 1 << bits];
        let mut starts: Vec<Vec<u32>> = vec![Vec::new(); 1 << bits];
        let mut ends: Vec<Vec<u32>> = vec![Vec::new(); 1 << bits];
        for (i, b) in boxes.iter().enumerate() {
            starts[(b.lo[f] >> shift) as usize].push(i as u32);
            ends[(b.hi[f] >> shift) as usize].push(i as u32);
        }
        let mut active: std::collections::BTreeSet<u32> = std::collections::BTreeSet::new();
        let mut run = 0usize;
        for k in 0..=1usize << bits {
            let change = k == 1 << bits || k == 0 || !starts[k].is_empty() || !ends[k - 1].is_empty();
            if change && k > 0 {
                // Slots run..k share the boxes in `active`.
                let mut reg = whole;
                reg.lo[f] = (run << shift) as u32;
                reg.hi[f] = ((k << shift) - 1) as u32;
                let child = t.node(boxes, active.iter().copied().collect(), reg, 0, budget)?;
                t.top[run..k].fill(child);
                run = k;
            }
            if k == 1 << bits {
                break;
            }
            if k > 0 {
                for i in &ends[k - 1] {
                    active.remove(i);
                }
            }
            active.extend(starts[k].iter().copied());
        }
        Some(t)
    }

    /// The child for the boxes `ids` (in rule order) overlapping `reg`: a
    /// node or a leaf; `None` when the lists grow past `budget` entries.
    fn node(&mut self, boxes: &[RuleBox], mut ids: Vec<u32>, reg: Region, depth: usize, budget: usize) -> Option<u32> {
        self.depth = self.depth.max(depth);
        let nf = self.nf;
        // Drop what follows the first final box covering the region.
        if let Some(p) = ids.iter().position(|&i| {
            let b = &boxes[i as usize];
            b.fin
                && (0..nf)
                    .all(|f| b.lo[f] <= reg.lo[f] && b.hi[f] >= reg.hi[f] && (b.need & 1 << f == 0 || reg.lo[f] > 0))
        }) {
            ids.truncate(p + 1);
        }
        let cut =
            if ids.len() <= LEAF || depth >= MAX_DEPTH { None } else { Tree::best_cut(self.nf, boxes, &ids, &reg) };
        let Some((field, cuts)) = cut else {
            self.leaves += 1;
            if self.entries() + ids.len() > budget {
                return None;
            }
            let start = self.lists.len();
            if start + ids.len() * self.stride() >= LEAF_BIT as usize {
                return None;
            }
            self.entries += ids.len();
            for &i in &ids {
                let b = &boxes[i as usize];
                self.lists.push(b.rule);
                self.lists.push(b.need);
                for f in 0..nf {
                    self.lists.push(b.lo[f]);
                    self.lists.push(b.hi[f]);
                }
            }
            self.lists.push(END);
            return Some(LEAF_BIT | start as u32);
        };
        let n = cuts.len() + 1;
        let at = self.nodes.len();
        if at >= LEAF_BIT as usize || at > budget {
            return None;
        }
        let mut c = [u32::MAX; FANOUT - 1];
        c[..cuts.len()].copy_from_slice(&cuts);
        self.nodes.push(Node { cut: c, field: field as u32 | (n as u32) << 8, kid: [0; FANOUT] });
        for i in 0..n {
            let lo = if i == 0 { reg.lo[field] } else { cuts[i - 1] };
            let hi = if i == n - 1 { reg.hi[field] } else { cuts[i] - 1 };
            let kids: Vec<u32> = ids
                .iter()
                .copied()
                .filter(|&j| boxes[j as usize].lo[field] <= hi && boxes[j as usize].hi[field] >= lo)
                .collect();
            let mut r = reg;
            r.lo[field] = lo;
            r.hi[field] = hi;
            let k = self.node(boxes, kids, r, depth + 1, budget)?;
            self.nodes[at].kid[i] = k;
        }
        Some(at as u32)
    }

    /// The field and cut points that split the boxes best: per field, the
    /// boxes' edges inside the region cut it into segments; cut points are
    /// chosen among the edges so that each child holds about the same
    /// number of boxes (counting each box in every segment it spans), and
    /// the field whose children have the least sum of squared sizes wins.
    /// `None` when no field leaves every child smaller than the node.
    /// The field of the best cut of some boxes (0 when none).
    fn cut_field(nf: usize, boxes: &[RuleBox], ids: &[u32], reg: &Region) -> usize {
        Tree::best_cut(nf, boxes, ids, reg).map_or(0, |(f, _)| f)
    }

    fn best_cut(nf: usize, boxes: &[RuleBox], ids: &[u32], reg: &Region) -> Option<(usize, Vec<u32>)> {
        let mut best: Option<(u64, usize, Vec<u32>)> = None;
        for f in 0..nf {
            if reg.lo[f] == reg.hi[f] {
                continue;
            }
            let span = |i: u32| {
                let b = &boxes[i as usize];
                (b.lo[f].max(reg.lo[f]), b.hi[f].min(reg.hi[f]))
            };
            let mut edges: Vec<u32> = Vec::with_capacity(2 * ids.len());
            for &i in ids {
                let (a, z) = span(i);
                if a > reg.lo[f] {
                    edges.push(a);
                }
                if z < reg.hi[f] {
                    edges.push(z + 1);
                }
            }
            if edges.is_empty() {
                continue;
            }
            edges.sort_unstable();
            edges.dedup();
            // Segment s: [edges[s-1], edges[s]) (segment 0 from reg.lo).
            let seg = |v: u32| edges.partition_point(|&e| e <= v);
            let mut diff = vec![0i64; edges.len() + 2];
            for &i in ids {
                let (a, z) = span(i);
                diff[seg(a)] += 1;
                diff[seg(z) + 1] -= 1;
            }
            let mut weight = Vec::with_capacity(edges.len() + 1);
            let mut cur = 0i64;
            for d in &diff[..=edges.len()] {
                cur += d;
                weight.push(cur as u64);
            }
            let total: u64 = weight.iter().sum();
            let k = FANOUT.min(edges.len() + 1) as u64;
            let mut cuts: Vec<u32> = Vec::new();
            let mut acc = 0u64;
            for (s, &w) in weight.iter().enumerate().take(edges.len()) {
                acc += w;
                // Cut after segment s (at edges[s]) when the children so
                // far hold their share.
                if acc * k >= total * (cuts.len() as u64 + 1) && cuts.len() + 1 < k as usize {
                    cuts.push(edges[s]);
                }
            }
            if cuts.is_empty() {
                continue;
            }
            let mut sizes = vec![0u64; cuts.len() + 1];
            let child = |v: u32| cuts.partition_point(|&c| c <= v);
            for &i in ids {
                let (a, z) = span(i);
                for s in &mut sizes[child(a)..=child(z)] {
                    *s += 1;
                }
            }
            if sizes.iter().any(|&s| s as usize >= ids.len()) {
                continue;
            }
            let cost: u64 = sizes.iter().map(|&s| s * s).sum();
            if best.as_ref().is_none_or(|b| cost < b.0) {
                best = Some((cost, f, cuts));
            }
        }
        best.map(|(_, f, c)| (f, c))
    }

    /// The leaf the values reach.
    fn leaf(&self, v: &[u32; MAX_FIELDS]) -> u32 {
        let mut at = self.top[(v[self.top_field] >> self.shift) as usize];
        while at & LEAF_BIT == 0 {
            at = self.step(at, v);
        }
        at
    }

    /// The child of inner node `at` the values take.
    #[inline]
    fn step(&self, at: u32, v: &[u32; MAX_FIELDS]) -> u32 {
        let node = &self.nodes[at as usize];
        let x = v[(node.field & 0xff) as usize];
        let c = node.cut.iter().map(|&c| usize::from(c <= x)).sum::<usize>();
        node.kid[c.min((node.field >> 8) as usize - 1)]
    }
}

/// The first rule at or after `from` and before `below` in the list of
/// boxes starting at `list` (a tree's leaf; a hash table's is
/// [`scan_table`]) whose box holds the values, else `below`. `NF` is the
/// run's number of fields (a constant, so that the tests of an entry are
/// unrolled).
#[inline(always)]
fn scan<const NF: usize>(lists: &[u32], list: u32, v: &[u32; MAX_FIELDS], present: u32, from: u32, below: u32) -> u32 {
    let stride = 2 + 2 * NF;
    let mut at = list as usize;
    'entry: loop {
        let rule = lists[at];
        // END (u32::MAX) is at or above any `below`.
        if rule >= below {
            return below;
        }
        let e = &lists[at..at + stride];
        at += stride;
        if rule < from || present & e[1] != e[1] {
            continue;
        }
        for f in 0..NF {
            let x = v[f];
            if x < e[2 + 2 * f] || x > e[3 + 2 * f] {
                continue 'entry;
            }
        }
        return rule;
    }
}

/// [`scan`] for a hash table's list of boxes (see [`HashTable::lists`]),
/// starting at quad `list`.
#[inline(always)]
fn scan_table<const NF: usize>(
    lists: &[Quad],
    list: u32,
    v: &[u32; MAX_FIELDS],
    present: u32,
    from: u32,
    below: u32,
) -> u32 {
    let nq = quads_of(NF);
    let mut at = list as usize;
    loop {
        let [rule, need, ..] = lists[at].0;
        // END (u32::MAX) is at or above any `below`.
        if rule >= below {
            return below;
        }
        if rule >= from && present & need == need && table_box_holds(lists, at, NF, v) {
            return rule;
        }
        at += 1 + 2 * nq;
    }
}

/// Whether the box of the hash-table entry at quad `at` holds the values
/// (the bounds of its `nf` fields; see [`HashTable::lists`]). Inlined
/// into [`scan_table`] with `nf` a constant, so the tests are unrolled.
#[inline(always)]
fn table_box_holds(lists: &[Quad], at: usize, nf: usize, v: &[u32; MAX_FIELDS]) -> bool {
    let nq = quads_of(nf);
    (0..nf).all(|f| {
        let (lo, hi) = (lists[at + 1 + f / 4].0[f % 4], lists[at + 1 + nq + f / 4].0[f % 4]);
        lo <= v[f] && v[f] <= hi
    })
}

/// The least of `best` and the first rule at or after `from` the bit
/// vectors of the rules no tree or table takes find.
#[inline]
fn rest_best(
    rest: &Option<(BitVectors, Vec<u32>)>,
    v: &[u32; MAX_FIELDS],
    present: u32,
    from: usize,
    mut best: usize,
) -> usize {
    if let Some((bits, rules)) = rest {
        let local = if from == 0 { 0 } else { rules.partition_point(|&r| (r as usize) < from) };
        if rules.get(local).is_some_and(|&r| (r as usize) < best)
            && let Some(k) = bits.search_words(v, present, local)
        {
            best = best.min(rules[k] as usize);
        }
    }
    best
}

/// Prefix lengths a table keys a field on: a box whose interval lies in
/// one block of a longer prefix is keyed on the next shorter of these
/// (TupleMerge's relaxation: rules of nearby lengths share a table).
const LEVELS: [u32; 4] = [0, 8, 16, 30];

/// Hash tables at most.
const MAX_TABLES: usize = 4;

/// A table with fewer boxes than 1 / this of the run's is merged into
/// another.
const MIN_TABLE: usize = 32;

/// With `Structure::Auto`, tables are taken when at most 1 / this of the
/// run's rules is left to bit vectors.
const TUPLE_REST: usize = 8;

/// The multiplier of the tables' hash.
const HASH_K: u64 = 0x9e37_79b9_7f4a_7c15;

/// The slot of values `v` in a table keyed on `masks`, of `1 << bits`
/// slots: per keyed field, xor the masked value in and multiply; the top
/// bits. Compiled code computes the same.
#[inline(always)]
fn hash_slot(masks: &[u32; MAX_FIELDS], nf: usize, v: &[u32; MAX_FIELDS], bits: u32) -> usize {
    let mut acc = 0u64;
    for f in 0..nf {
        if masks[f] != 0 {
            acc = (acc ^ u64::from(v[f] & masks[f])).wrapping_mul(HASH_K);
        }
    }
    (acc >> (64 - bits)) as usize
}

/// Four words, aligned as a 128-bit vector: the unit of a hash table's
/// lists, whose bounds compiled code compares four fields at a time.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[repr(C, align(16))]
pub(crate) struct Quad(pub [u32; 4]);

/// Vectors of four fields a hash table's entries hold their bounds in.
fn quads_of(nf: usize) -> usize {
    nf.div_ceil(4).max(1)
}

/// One hash table of boxes keyed on a tuple of prefix lengths, one per
/// field (see [`Tuples`]).
#[derive(Debug)]
struct HashTable {
    /// Per field, the mask of its prefix (0: not part of the key).
    masks: [u32; MAX_FIELDS],
    /// The table has `1 << bits` slots.
    bits: u32,
    /// Per slot, where its list starts in `lists`, in quads (an empty
    /// slot: at the [`END`] of quad 0).
    slots: Vec<u32>,
    /// The slots' lists of boxes, in rule order. An entry is a head quad
    /// (rule, needed fields, two unused words), then the `lo` bounds of
    /// the fields four to a quad, then their `hi` bounds likewise (fields
    /// beyond the run's: 0 and `u32::MAX`, which every value is within),
    /// so that compiled code tests a box with a few vector instructions. A
    /// list ends with a head quad whose rule is [`END`]; its bounds are
    /// not needed, but compiled code reads them with the head (whatever
    /// follows: the next list, or the quads of padding at the end), so as
    /// to decide with one branch per entry.
    lists: Vec<Quad>,
    /// The table's first rule: a packet that already matched a rule before
    /// it need not look here.
    min_rule: u32,
    boxes: usize,
    /// Whether a list entry's needed fields must be checked
    /// ([`needs_check`]).
    need: bool,
}

/// Hash tables of boxes by tuples of prefix lengths, in the manner of
/// TupleMerge (Daly, Liu & Torng, 2016): each box (a rule's interval per
/// field) lies in one block of a prefix of some length on each field; a
/// table keyed on shorter lengths takes it, at the slot of its blocks'
/// values. A packet looks up its own values in each table, in order of
/// the tables' first rules, and scans the slot's list in rule order, up
/// to the best rule found so far (the boxes are tested exactly, so
/// colliding keys and relaxed lengths cost time, not correctness); once a
/// table's first rule is past the best, no later table can beat it. Boxes
/// wide in every field (no table takes them: a table keyed on nothing is
/// one list) go to bit vectors, searched only when their first rule is
/// before the tables' answer.
#[derive(Debug)]
struct Tuples {
    nf: usize,
    /// In order of their first rules.
    tables: Vec<HashTable>,
    /// The boxes no table takes, if their tree stays small, and its first
    /// rule.
    tree: Option<(Tree, u32)>,
    /// Rules of too many boxes, and the boxes no table takes if their tree
    /// would not stay small, as bit vectors.
    rest: Option<(BitVectors, Vec<u32>)>,
}

impl Tuples {
    fn build(shapes: &[RuleShape], fields: &[Field]) -> Option<Tuples> {
        Tuples::build_with(shapes, fields, &LEVELS, MAX_TABLES, MIN_TABLE)
    }

    fn build_with(
        shapes: &[RuleShape],
        fields: &[Field],
        levels: &[u32],
        max_tables: usize,
        min_table: usize,
    ) -> Option<Tuples> {
        let (boxes, many) = boxes_of(shapes, fields)?;
        let nf = fields.len();
        // The prefix length of each box's interval on each field, and the
        // level it relaxes to.
        let plen = |b: &RuleBox, f: usize| (b.lo[f] ^ b.hi[f]).leading_zeros();
        let relax = |p: u32| levels.iter().copied().filter(|&l| l <= p).max().unwrap_or(0);
        let tuple_of = |b: &RuleBox| {
            let mut t = [0u8; MAX_FIELDS];
            for (f, x) in t.iter_mut().enumerate().take(nf) {
                *x = relax(plen(b, f)) as u8;
            }
            t
        };
        let fits = |t: &[u8; MAX_FIELDS], b: &RuleBox| (0..nf).all(|f| u32::from(t[f]) <= plen(b, f));
        let mut groups: HashMap<[u8; MAX_FIELDS], Vec<u32>> = HashMap::new();
        // Rules with too many boxes, and boxes no table takes.
        let mut rest: Vec<u32> = many;
        let mut loose: Vec<u32> = Vec::new();
        for (i, b) in boxes.iter().enumerate() {
            let t = tuple_of(b);
            if t.iter().all(|&x| x == 0) {
                loose.push(i as u32);
            } else {
                groups.entry(t).or_default().push(i as u32);
            }
        }
        // Small tables merge into the most specific table that can take
        // their boxes (or the rest), the smallest first.
        let min = boxes.len() / min_table;
        while let Some((&t, ids)) = groups.iter().min_by_key(|(t, ids)| (ids.len(), **t)) {
            if groups.len() <= max_tables && ids.len() >= min {
                break;
            }
            let ids = groups.remove(&t).expect("group");
            for i in ids {
                let b = &boxes[i as usize];
                let to = groups
                    .keys()
                    .filter(|u| fits(u, b))
                    .max_by_key(|u| (u.iter().map(|&x| u32::from(x)).sum::<u32>(), **u))
                    .copied();
                match to {
                    Some(u) => {
                        let g = groups.get_mut(&u).expect("group");
                        let at = g.partition_point(|&j| j < i);
                        g.insert(at, i);
                    }
                    None => loose.push(i),
                }
            }
        }
        if groups.is_empty() {
            return None;
        }
        let mut tables: Vec<HashTable> = groups
            .into_iter()
            .map(|(t, ids)| {
                let mut masks = [0u32; MAX_FIELDS];
                for f in 0..nf {
                    masks[f] = if t[f] == 0 { 0 } else { u32::MAX << (32 - u32::from(t[f])) };
                }
                let keys: std::collections::HashSet<[u32; MAX_FIELDS]> = ids
                    .iter()
                    .map(|&i| {
                        let mut k = [0u32; MAX_FIELDS];
                        for f in 0..nf {
                            k[f] = boxes[i as usize].lo[f] & masks[f];
                        }
                        k
                    })
                    .collect();
                // At least twice as many slots as keys.
                let bits = (usize::BITS - keys.len().leading_zeros() + 1).max(1);
                let mut per: Vec<Vec<u32>> = vec![Vec::new(); 1 << bits];
                for &i in &ids {
                    per[hash_slot(&masks, nf, &boxes[i as usize].lo, bits)].push(i);
                }
                let nq = quads_of(nf);
                let end = Quad([END, 0, 0, 0]);
                let mut lists = vec![end];
                let slots = per
                    .iter()
                    .map(|l| {
                        if l.is_empty() {
                            return 0;
                        }
                        let start = lists.len() as u32;
                        for &i in l {
                            let b = &boxes[i as usize];
                            lists.push(Quad([b.rule, b.need, 0, 0]));
                            let mut lo = vec![Quad([0; 4]); nq];
                            let mut hi = vec![Quad([u32::MAX; 4]); nq];
                            for f in 0..nf {
                                lo[f / 4].0[f % 4] = b.lo[f];
                                hi[f / 4].0[f % 4] = b.hi[f];
                            }
                            lists.extend(lo);
                            lists.extend(hi);
                        }
                        lists.push(end);
                        start
                    })
                    .collect();
                // The bounds compiled code reads after the last list's end.
                lists.extend(std::iter::repeat_n(Quad::default(), 2 * nq));
                let min_rule = ids.iter().map(|&i| boxes[i as usize].rule).min().expect("a box");
                let need = needs_check(ids.iter().map(|&i| &boxes[i as usize]));
                HashTable { masks, bits, slots, lists, min_rule, boxes: ids.len(), need }
            })
            .collect();
        tables.sort_by_key(|t| (t.min_rule, t.masks));
        // The loose boxes in a tree of their own if it stays small, else
        // to the bit vectors.
        loose.sort_unstable();
        let part: Vec<RuleBox> = loose.iter().map(|&i| boxes[i as usize]).collect();
        let tree = (!part.is_empty())
            .then(|| {
                let whole = Region { lo: [0; MAX_FIELDS], hi: [u32::MAX; MAX_FIELDS] };
                let ids: Vec<u32> = (0..part.len() as u32).collect();
                let f = Tree::cut_field(nf, &part, &ids, &whole);
                Tree::build(nf, &part, SPREAD * part.len() + 1024, f)
            })
            .flatten();
        if tree.is_none() {
            rest.extend(part.iter().map(|b| b.rule));
        }
        let tree = tree.map(|t| {
            let min_rule = part[0].rule;
            (t, min_rule)
        });
        rest.sort_unstable();
        rest.dedup();
        let rest = (!rest.is_empty()).then(|| {
            let sub: Vec<RuleShape> = rest.iter().map(|&r| shapes[r as usize].clone()).collect();
            (BitVectors::build(&sub, fields, shapes.len()), rest)
        });
        Some(Tuples { nf, tables, tree, rest })
    }

    /// Rules left to the bit vectors.
    fn rest_rules(&self) -> usize {
        self.rest.as_ref().map_or(0, |(_, r)| r.len())
    }

    fn memory(&self) -> usize {
        self.tables.iter().map(|t| t.slots.len() * 4 + t.lists.len() * 16).sum::<usize>()
            + self.tree.as_ref().map_or(0, |(t, _)| t.memory())
            + self.rest.as_ref().map_or(0, |(b, r)| b.memory() + r.len() * 4)
    }

    fn first_match_words(&self, v: &[u32; MAX_FIELDS], present: u32, from: usize) -> Option<usize> {
        let best = self.tables_best(v, present, from as u32);
        let best = rest_best(&self.rest, v, present, from, best as usize);
        (best != END as usize).then_some(best)
    }

    /// The first rule at or after `from` the tables find ([`END`]: none),
    /// the list scans unrolled for the run's number of fields.
    fn tables_best(&self, v: &[u32; MAX_FIELDS], present: u32, from32: u32) -> u32 {
        by_fields!(self.nf, table_best(self, v, present, from32))
    }

    /// The first rule at or after `from` the tables find ([`END`]: none).
    #[inline]
    fn table_best<const NF: usize>(&self, v: &[u32; MAX_FIELDS], present: u32, from: u32) -> u32 {
        let mut best = END;
        for t in &self.tables {
            if t.min_rule >= best {
                break;
            }
            let list = t.slots[hash_slot(&t.masks, NF, v, t.bits)];
            best = scan_table::<NF>(&t.lists, list, v, present, from, best);
        }
        if let Some((t, min)) = &self.tree
            && *min < best
        {
            best = scan::<NF>(&t.lists, t.leaf(v) & !LEAF_BIT, v, present, from, best);
        }
        best
    }

    /// Tables looked up and list entries read for one lookup (tuning).
    #[cfg(test)]
    fn cost(&self, v: &[u32; MAX_FIELDS], present: u32, per: &mut [usize]) -> (usize, usize) {
        let (mut probes, mut entries) = (0, 0);
        let mut best = END;
        let nq = quads_of(self.nf);
        for (ti, t) in self.tables.iter().enumerate() {
            if t.min_rule >= best {
                break;
            }
            probes += 1;
            let mut at = t.slots[hash_slot(&t.masks, self.nf, v, t.bits)] as usize;
            while t.lists[at].0[0] < best {
                entries += 1;
                per[ti] += 1;
                let [rule, need, ..] = t.lists[at].0;
                if present & need == need && table_box_holds(&t.lists, at, self.nf, v) {
                    best = rule;
                    break;
                }
                at += 1 + 2 * nq;
            }
        }
        (probes, entries)
    }
}

/// The bit-vector classifier of one run (any field widths).
#[derive(Debug)]
struct BitVectors {
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

impl BitVectors {
    /// The bit vectors of some rules of a run of `run` rules (which
    /// decides whether the run is large, see [`LARGE_RUN`]).
    fn build(shapes: &[RuleShape], fields: &[Field], run: usize) -> BitVectors {
        let n = shapes.len();
        let words = n.div_ceil(64).max(1);
        let swords = words.div_ceil(64);
        let mut cls = BitVectors { tables: Vec::new(), words, swords, rows: Vec::new(), sums: Vec::new(), rules: n };
        let mut dedup: HashMap<Vec<u64>, u32> = HashMap::new();
        for &f in fields {
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
            cls.tables.push(FieldTable {
                slot,
                width: w,
                bounds: Bounds::new(bounds, w, f.load.bytes(), run),
                row_of,
                absent_row,
                density,
            });
        }
        cls.finish()
    }

    fn finish(mut self) -> BitVectors {
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

    /// Bytes the tables take.
    fn memory(&self) -> usize {
        (self.rows.len() + self.sums.len()) * 8
            + self.tables.iter().map(|t| t.bounds.bytes() + t.row_of.len() * 4).sum::<usize>()
    }

    /// The first rule at or after `from` matching the field values.
    fn first_match(&self, keys: &[[u8; 16]; MAX_FIELDS], present: u32, from: usize) -> Option<usize> {
        self.search::<false>(keys, present, from, &mut 0)
    }

    /// [`BitVectors::first_match`] for one-word fields given as words
    /// (see [`Classifier::first_match_words`]).
    fn search_words(&self, v: &[u32; MAX_FIELDS], present: u32, from: usize) -> Option<usize> {
        if from >= self.rules {
            return None;
        }
        let mut rows = [0usize; MAX_FIELDS];
        let mut sums = [0usize; MAX_FIELDS];
        for (i, t) in self.tables.iter().enumerate() {
            let row = if present & (1 << t.slot) == 0 { t.absent_row } else { t.row_of_word(v[t.slot]) } as usize;
            rows[i] = row * self.words;
            sums[i] = row * self.swords;
        }
        let nf = self.tables.len();
        self.scan_rows::<false>(&rows[..nf], &sums[..nf], from, &mut 0)
    }

    /// Words of candidates (summary bits set in every field) the search
    /// reads, on average, for one point in each of up to 512 rules spread
    /// over the run (the lowest corner of the rule's first box).
    fn mean_candidates(&self, shapes: &[RuleShape], fields: &[Field]) -> f64 {
        let step = shapes.len().div_ceil(512).max(1);
        let (mut words, mut points) = (0usize, 0usize);
        for s in shapes.iter().step_by(step) {
            let mut keys = [[0u8; 16]; MAX_FIELDS];
            for (f, ivs) in &s.tests {
                let Some(&(lo, _)) = ivs.first() else { continue };
                let k = fields.iter().position(|g| g == f).expect("field of the run");
                let w = f.width();
                keys[k][..w].copy_from_slice(&lo.to_be_bytes()[16 - w..]);
            }
            self.search::<true>(&keys, (1 << fields.len()) - 1, 0, &mut words);
            points += 1;
        }
        words as f64 / points.max(1) as f64
    }

    /// [`BitVectors::first_match`], counting in `words` the candidate
    /// words read when `COUNT`.
    fn search<const COUNT: bool>(
        &self,
        keys: &[[u8; 16]; MAX_FIELDS],
        present: u32,
        from: usize,
        words: &mut usize,
    ) -> Option<usize> {
        if from >= self.rules {
            return None;
        }
        let mut rows = [0usize; MAX_FIELDS];
        let mut sums = [0usize; MAX_FIELDS];
        for (i, t) in self.tables.iter().enumerate() {
            let key = &keys[t.slot];
            let row = if present & (1 << t.slot) == 0 {
                t.absent_row
            } else if t.width == 4 {
                t.row_of_word(u32::from_be_bytes([key[0], key[1], key[2], key[3]]))
            } else {
                let v = u128::from_be_bytes(*key) >> (8 * (16 - t.width));
                t.row_of[t.bounds.index(v)]
            } as usize;
            rows[i] = row * self.words;
            sums[i] = row * self.swords;
        }
        let nf = self.tables.len();
        self.scan_rows::<COUNT>(&rows[..nf], &sums[..nf], from, words)
    }

    /// The first rule at or after `from` in the AND of the rows (each
    /// given by where it starts in `rows` and in `sums`).
    #[inline]
    fn scan_rows<const COUNT: bool>(
        &self,
        rows: &[usize],
        sums: &[usize],
        from: usize,
        words: &mut usize,
    ) -> Option<usize> {
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
                if COUNT {
                    *words += 1;
                }
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

    /// A xorshift64 generator from `seed`: each call a number below `n`.
    pub(super) fn below(seed: u64) -> impl FnMut(u64) -> u64 {
        let mut x = seed;
        move |n| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % n
        }
    }

    /// Whether a rule's tests all hold (the reference).
    fn holds(s: &RuleShape, fields: &[Field], keys: &[[u8; 16]; MAX_FIELDS], present: u32) -> bool {
        s.tests.iter().all(|(f, ivs)| {
            let k = fields.iter().position(|g| g == f).unwrap();
            let v = u128::from(u32::from_be_bytes([keys[k][0], keys[k][1], keys[k][2], keys[k][3]]));
            present & (1 << k) != 0 && ivs.iter().any(|&(a, b)| a <= v && v <= b)
        })
    }

    /// A run's fields as the classifier numbers them: in order of first
    /// use.
    pub(super) fn field_order(shapes: &[RuleShape]) -> Vec<Field> {
        let mut order: Vec<Field> = Vec::new();
        for s in shapes {
            for (fl, _) in &s.tests {
                if !order.contains(fl) {
                    order.push(*fl);
                }
            }
        }
        order
    }

    /// [`trail`] by a linear scan of the rules (the reference).
    pub(super) fn linear_trail(
        shapes: &[RuleShape],
        fields: &[Field],
        keys: &[[u8; 16]; MAX_FIELDS],
        present: u32,
    ) -> Vec<usize> {
        let mut out = Vec::new();
        for (r, s) in shapes.iter().enumerate() {
            if holds(s, fields, keys, present) {
                out.push(r);
                if s.fin {
                    break;
                }
            }
        }
        out
    }

    /// The rules the compiled code would run for a packet: first match,
    /// and after a rule that does not end the chain the next one.
    pub(super) fn trail(
        c: &Classifier,
        shapes: &[RuleShape],
        keys: &[[u8; 16]; MAX_FIELDS],
        present: u32,
    ) -> Vec<usize> {
        let mut out = Vec::new();
        let mut from = 0;
        while let Some(r) = c.first_match(keys, present, from) {
            out.push(r);
            if shapes[r].fin {
                break;
            }
            from = r + 1;
        }
        out
    }

    /// Random runs over a small alphabet of values (overlapping ranges and
    /// prefixes, wildcards, unions of intervals, tests that hold for
    /// nothing, rules that do not end the chain), random packets with
    /// absent fields: trees, bit vectors and a linear scan run the same
    /// rules for every packet.
    #[test]
    fn trees_and_bit_vectors_agree_with_a_linear_scan() {
        let mut next = below(0x9e37_79b9_7f4a_7c15);
        let alphabet: [u32; 8] = [0, 1, 0x0a00_0000, 0x0a00_00ff, 0x0a01_0000, 0x8000_0000, 0xffff_fffe, u32::MAX];
        let f = |offset| Field { load: Load::Payload { base: Base::Network, offset, len: 4 }, mask: None };
        let (mut built, mut hashed) = (0, 0);
        for case in 0..300 {
            let nf = 1 + next(5) as usize;
            let fields: Vec<Field> = (0..nf as u16).map(|i| f(4 * i)).collect();
            let n = 1 + next(if case % 10 == 0 { 600 } else { 120 }) as usize;
            let pick = |next: &mut dyn FnMut(u64) -> u64| {
                let a = alphabet[next(8) as usize];
                let b = alphabet[next(8) as usize];
                let (a, b) = (a.min(b), a.max(b));
                // Sometimes just past a value of the alphabet.
                (u128::from(a), u128::from(if next(4) == 0 { b.saturating_add(1) } else { b }))
            };
            let shapes: Vec<RuleShape> = (0..n)
                .map(|_| {
                    let mut tests = Vec::new();
                    for &fl in &fields {
                        match next(5) {
                            0 | 1 => {}
                            2 => tests.push((fl, normalize((0..1 + next(3)).map(|_| pick(&mut next)).collect()))),
                            3 if next(8) == 0 => tests.push((fl, vec![])),
                            _ => tests.push((fl, vec![pick(&mut next)])),
                        }
                    }
                    RuleShape { tests, tail: 0, fin: next(4) != 0 }
                })
                .collect();
            let order = field_order(&shapes);
            let trees = Classifier::build(&shapes, Structure::Trees);
            let bits = Classifier::build(&shapes, Structure::Bits);
            let tuples = Classifier::build(&shapes, Structure::Tuples);
            built += usize::from(matches!(trees.imp, Imp::Trees(_)));
            hashed += usize::from(matches!(tuples.imp, Imp::Tuples(_)));
            for _ in 0..200 {
                let mut keys = [[0u8; 16]; MAX_FIELDS];
                for k in keys.iter_mut().take(order.len()) {
                    let v = alphabet[next(8) as usize].wrapping_add(next(3) as u32);
                    k[..4].copy_from_slice(&v.to_be_bytes());
                }
                let all = (1u32 << order.len()) - 1;
                let present = if next(4) == 0 { all & !(1 << next(order.len().max(1) as u64)) } else { all };
                let want = linear_trail(&shapes, &order, &keys, present);
                for c in [&trees, &bits, &tuples] {
                    let got = trail(c, &shapes, &keys, present);
                    assert_eq!(got, want, "case {case} ({}), keys {keys:?} present {present:b}", c.structure());
                }
            }
        }
        assert!(built > 200, "trees built for only {built} of 300 runs");
        assert!(hashed > 200, "hash tables built for only {hashed} of 300 runs");
    }

    /// A run large enough for direct tables (ports, protocol), with
    /// bucketed addresses: the bit vectors, and the default structure,
    /// against a linear scan, for packet values as loads make them and
    /// for values with the other bits of a narrow field set (searched).
    #[test]
    fn large_runs_agree_with_a_linear_scan() {
        let mut next = below(0x2545_f491_4f6c_dd1d);
        let fields = [
            Field { load: Load::Payload { base: Base::Network, offset: 12, len: 4 }, mask: None },
            Field { load: Load::Payload { base: Base::Transport, offset: 2, len: 2 }, mask: None },
            Field { load: Load::Payload { base: Base::Network, offset: 9, len: 1 }, mask: None },
        ];
        // Hosts enough for bucket tables (more bounds than SMALL_BOUNDS).
        let hosts: Vec<u32> = (0..400).map(|_| (next(1 << 32) as u32) & !0xff).collect();
        let ports: [u32; 6] = [0, 22, 80, 443, 1024, 65535];
        let protos: [u32; 4] = [1, 6, 17, 255];
        let n = LARGE_RUN + 300;
        let shapes: Vec<RuleShape> = (0..n)
            .map(|_| {
                let mut tests = Vec::new();
                if next(4) != 0 {
                    let len = 16 + next(17) as u32;
                    let a = hosts[next(400) as usize] & (!0u32 << (32 - len));
                    tests.push((fields[0], vec![(u128::from(a), u128::from(a | !(!0u32 << (32 - len))))]));
                }
                if next(3) != 0 {
                    let a = ports[next(6) as usize];
                    let b = ports[next(6) as usize].max(a);
                    // Port tests as the translator makes them (the low
                    // half all ones), or bounds inside the low half.
                    let hi = if next(5) == 0 { b << 16 | 0x7f } else { b << 16 | 0xffff };
                    tests.push((fields[1], vec![(u128::from(a << 16), u128::from(hi))]));
                }
                if next(2) == 0 {
                    let p = protos[next(4) as usize] << 24;
                    tests.push((fields[2], vec![(u128::from(p), u128::from(p | 0x00ff_ffff))]));
                }
                RuleShape { tests, tail: 0, fin: next(4) != 0 }
            })
            .collect();
        let order = field_order(&shapes);
        let bits = Classifier::build(&shapes, Structure::Bits);
        let Imp::Bits(b) = &bits.imp else { panic!("bit vectors") };
        assert!(b.tables.iter().any(|t| matches!(t.bounds, Bounds::Direct { .. })));
        assert!(b.tables.iter().any(|t| matches!(t.bounds, Bounds::Word { .. })));
        let auto = Classifier::build(&shapes, Structure::Auto);
        let tuples = Classifier::build(&shapes, Structure::Tuples);
        assert!(matches!(tuples.imp, Imp::Tuples(_)));
        for i in 0..3000 {
            let mut keys = [[0u8; 16]; MAX_FIELDS];
            for (k, fl) in keys.iter_mut().zip(&order) {
                let v = if *fl == fields[0] {
                    hosts[next(400) as usize] | next(4) as u32
                } else if *fl == fields[1] {
                    let p = (ports[next(6) as usize] + next(2) as u32).min(65535) << 16;
                    // Now and then bits a load leaves zero.
                    if i % 7 == 0 { p | next(0x100) as u32 } else { p }
                } else {
                    protos[next(4) as usize] << 24
                };
                k[..4].copy_from_slice(&v.to_be_bytes());
            }
            let all = (1u32 << order.len()) - 1;
            let present = if next(5) == 0 { all & !(1 << next(order.len() as u64)) } else { all };
            let want = linear_trail(&shapes, &order, &keys, present);
            for c in [&bits, &auto, &tuples] {
                let got = trail(c, &shapes, &keys, present);
                assert_eq!(got, want, "{}, keys {keys:?} present {present:b}", c.structure());
            }
        }
    }

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

/// The trees against the bit vectors on the ClassBench seeds (skipped
/// without `../shared`), and a timing of both (`--ignored`).
#[cfg(test)]
mod classbench {
    use super::tests::trail;
    use super::*;

    /// A xorshift32 generator from `seed`.
    fn xorshift32(seed: u32) -> impl FnMut() -> u32 {
        let mut x = seed;
        move || {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x
        }
    }

    /// The rule shapes of a ClassBench filter file, as `gen-classbench`
    /// writes them; a rule in three does not end the chain, unless
    /// `all_fin` (every rule ends it, as `gen-classbench` writes them).
    fn parse(path: &std::path::Path, all_fin: bool) -> (Vec<RuleShape>, Vec<Field>) {
        let text = std::fs::read_to_string(path).unwrap();
        let f = |base, offset, len| Field { load: Load::Payload { base, offset, len }, mask: None };
        let fields = [
            f(Base::Network, 12, 4),
            f(Base::Network, 16, 4),
            f(Base::Transport, 0, 2),
            f(Base::Transport, 2, 2),
            Field { load: Load::Meta { key: MetaKey::L4Proto, len: 1 }, mask: None },
        ];
        let mut shapes = Vec::new();
        for (i, line) in text.lines().filter(|l| !l.trim().is_empty()).enumerate() {
            let t: Vec<&str> = line.trim_start_matches('@').split('\t').collect();
            let pfx = |s: &str| {
                let (a, l) = s.split_once('/').unwrap();
                let a: std::net::Ipv4Addr = a.parse().unwrap();
                let l: u32 = l.parse().unwrap();
                let m = if l == 0 { 0 } else { u32::MAX << (32 - l) };
                let a = u32::from(a) & m;
                (l > 0).then_some((u128::from(a), u128::from(a | !m)))
            };
            let port = |s: &str| {
                let (a, b) = s.split_once(" : ").unwrap();
                let (a, b): (u128, u128) = (a.trim().parse().unwrap(), b.trim().parse().unwrap());
                (!(a == 0 && b == 65535)).then_some((a << 16, b << 16 | 0xffff))
            };
            let (pv, pm) = t[4].split_once('/').unwrap();
            let pv = u128::from_str_radix(&pv[2..], 16).unwrap();
            let pm = u128::from_str_radix(&pm[2..], 16).unwrap();
            let proto = (pm != 0).then_some((pv << 24, pv << 24 | 0xff_ffff));
            let mut tests = Vec::new();
            for (k, iv) in [pfx(t[0]), pfx(t[1]), port(t[2]), port(t[3]), proto].into_iter().enumerate() {
                if let Some(iv) = iv {
                    tests.push((fields[k], vec![iv]));
                }
            }
            shapes.push(RuleShape { tests, tail: 0, fin: all_fin || i % 3 != 0 });
        }
        let used: Vec<Field> =
            fields.into_iter().filter(|f| shapes.iter().any(|s| s.tests.iter().any(|t| t.0 == *f))).collect();
        (shapes, used)
    }

    /// Packets aimed at every depth (a corner of the rule, other fields
    /// random), one in ten random; some fields absent.
    fn packets(shapes: &[RuleShape], fields: &[Field], n: usize) -> Vec<([[u8; 16]; MAX_FIELDS], u32)> {
        let mut next = xorshift32(0x2545_f491);
        let all = (1u32 << fields.len()) - 1;
        (0..n)
            .map(|i| {
                let mut k = [[0u8; 16]; MAX_FIELDS];
                for (key, f) in k.iter_mut().zip(fields) {
                    let len = f.load.bytes() as usize;
                    let r = next().to_be_bytes();
                    key[..len].copy_from_slice(&r[..len]);
                }
                if i % 10 != 9 {
                    let s = &shapes[(i * 7919) % shapes.len()];
                    for (f, ivs) in &s.tests {
                        let slot = fields.iter().position(|g| g == f).unwrap();
                        let (lo, hi) = ivs[0];
                        let v = if i % 3 == 0 { hi } else { lo };
                        k[slot][..4].copy_from_slice(&(v as u32).to_be_bytes());
                    }
                }
                let present = if i % 17 == 5 { all & !(1 << (next() as usize % fields.len())) } else { all };
                (k, present)
            })
            .collect()
    }

    /// The packets of `ctc bench classify --synthetic 20000` (its
    /// generator: nine in ten at the lowest corner of a rule, evenly over
    /// the depths, one in ten neutral), as field words.
    fn bench_packets(shapes: &[RuleShape], fields: &[Field]) -> Vec<([[u8; 16]; MAX_FIELDS], u32)> {
        let mut next = xorshift32(0x2545_f491);
        let n = 20000;
        let aimed = n - n / 10;
        let seeds: Vec<u32> = (0..n).map(|_| next()).collect();
        (0..n)
            .map(|i| {
                let seed = seeds[i];
                // src, dst, sport, dport, proto as the neutral frame has them.
                let mut v = [
                    u32::from_be_bytes([198, 18, (seed >> 8) as u8, seed as u8]),
                    u32::from_be_bytes([198, 19, (seed >> 16) as u8, (seed >> 4) as u8]),
                    (1024 + seed % 50_000) << 16,
                    (seed.wrapping_mul(7) & 0xffff) << 16,
                    6 << 24,
                ];
                let all = [
                    Load::Payload { base: Base::Network, offset: 12, len: 4 },
                    Load::Payload { base: Base::Network, offset: 16, len: 4 },
                    Load::Payload { base: Base::Transport, offset: 0, len: 2 },
                    Load::Payload { base: Base::Transport, offset: 2, len: 2 },
                    Load::Meta { key: MetaKey::L4Proto, len: 1 },
                ];
                if i < aimed {
                    let s = &shapes[i * shapes.len() / aimed];
                    for (f, ivs) in &s.tests {
                        let k = all.iter().position(|l| *l == f.load).unwrap();
                        v[k] = ivs[0].0 as u32;
                    }
                }
                let mut k = [[0u8; 16]; MAX_FIELDS];
                for (slot, f) in fields.iter().enumerate() {
                    let j = all.iter().position(|l| *l == f.load).unwrap();
                    k[slot][..4].copy_from_slice(&v[j].to_be_bytes());
                }
                (k, (1u32 << fields.len()) - 1)
            })
            .collect()
    }

    fn seeds() -> Vec<std::path::PathBuf> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/classbench");
        ["fw1_10k", "acl1_10k"].iter().map(|n| dir.join(n)).filter(|p| p.exists()).collect()
    }

    #[test]
    fn trees_agree_with_bit_vectors() {
        let seeds = seeds();
        if seeds.is_empty() {
            eprintln!("skipped: no ClassBench corpus in ../shared");
        }
        for path in seeds {
            let (shapes, fields) = parse(&path, false);
            let trees = Classifier::build(&shapes, Structure::Trees);
            let bits = Classifier::build(&shapes, Structure::Bits);
            let tuples = Classifier::build(&shapes, Structure::Tuples);
            assert!(matches!(trees.imp, Imp::Trees(_)), "{}: no trees", path.display());
            assert!(matches!(tuples.imp, Imp::Tuples(_)), "{}: no hash tables", path.display());
            let mut matched = 0;
            for (k, present) in packets(&shapes, &fields, 4000) {
                let t = trail(&trees, &shapes, &k, present);
                assert_eq!(t, trail(&bits, &shapes, &k, present), "{}: {k:?} {present:b}", path.display());
                assert_eq!(t, trail(&tuples, &shapes, &k, present), "{}: {k:?} {present:b}", path.display());
                matched += usize::from(!t.is_empty());
            }
            assert!(matched > 3000, "{}: only {matched} packets matched", path.display());
        }
    }

    /// The hash tables of tuples on the ClassBench seeds: their shape,
    /// tables looked up and list entries read per lookup (`--ignored`;
    /// tuning: `LEVELS=0,8,16,30 MAXT=4 MINT=32` build with other
    /// parameters, `BENCHPK=1` takes the packets of `ctc bench classify
    /// --synthetic 20000`, `ALLFIN=1` makes every rule end the chain, as
    /// `gen-classbench` writes them).
    #[test]
    #[ignore]
    fn tuple_costs() {
        for path in seeds() {
            let (shapes, fields) = parse(&path, std::env::var("ALLFIN").is_ok());
            let pkts = packets(&shapes, &fields, 20000);
            let levels: Vec<u32> = std::env::var("LEVELS")
                .map(|s| s.split(',').map(|x| x.parse().unwrap()).collect())
                .unwrap_or(LEVELS.to_vec());
            let maxt: usize = std::env::var("MAXT").map(|s| s.parse().unwrap()).unwrap_or(MAX_TABLES);
            let mint: usize = std::env::var("MINT").map(|s| s.parse().unwrap()).unwrap_or(MIN_TABLE);
            let pkts = if std::env::var("BENCHPK").is_ok() { bench_packets(&shapes, &fields) } else { pkts };
            let t0 = std::time::Instant::now();
            let t = Tuples::build_with(&shapes, &fields, &levels, maxt, mint).unwrap();
            let el = t0.elapsed();
            let c = Classifier { fields: fields.clone(), accepts: None, rules: shapes.len(), imp: Imp::Tuples(t) };
            eprintln!("{}: {} ({el:?}, {} KiB)", path.display(), c.structure(), c.memory() / 1024);
            let Imp::Tuples(t) = &c.imp else { panic!("tuples") };
            let (mut probes, mut entries, mut rest, mut tentries) = (0, 0, 0, 0);
            let mut per = vec![0usize; t.tables.len()];
            for (k, p) in &pkts {
                let v = words_of(k, *p);
                let (a, b) = t.cost(&v, *p, &mut per);
                probes += a;
                entries += b;
                let best = t.tables_best(&v, *p, 0);
                if let Some((_, r)) = &t.rest {
                    rest += usize::from(r[0] < best);
                }
                if let Some((tr, min)) = &t.tree
                    && *min < best
                {
                    rest += 1;
                    let mut at = tr.leaf(&v) & !LEAF_BIT;
                    while tr.lists[at as usize] < best {
                        tentries += 1;
                        let e = &tr.lists[at as usize..at as usize + tr.stride()];
                        if (0..t.nf).all(|f| e[2 + 2 * f] <= v[f] && v[f] <= e[3 + 2 * f]) {
                            break;
                        }
                        at += tr.stride() as u32;
                    }
                }
            }
            let n = pkts.len() as f64;
            eprintln!(
                "  {:.2} tables, {:.2} entries, rest searched {:.3} per lookup",
                probes as f64 / n,
                entries as f64 / n,
                rest as f64 / n
            );
            let per: Vec<String> = per.iter().map(|&e| format!("{:.2}", e as f64 / n)).collect();
            eprintln!("  entries per table: {}; tail tree entries {:.2}", per.join(" "), tentries as f64 / n);
        }
    }

    /// Lookups per second of both structures: `cargo test --release -p
    /// ctc-jit classbench -- --ignored --nocapture`.
    #[test]
    #[ignore]
    fn time_structures() {
        for path in seeds() {
            let (shapes, fields) = parse(&path, false);
            let pkts = packets(&shapes, &fields, 20000);
            let t0 = std::time::Instant::now();
            let auto = Classifier::build(&shapes, Structure::Auto);
            let ta = t0.elapsed();
            let trees = Classifier::build(&shapes, Structure::Trees);
            let bits = Classifier::build(&shapes, Structure::Bits);
            let tuples = Classifier::build(&shapes, Structure::Tuples);
            eprintln!("{}: auto picks {} ({ta:?})", path.display(), auto.structure());
            eprintln!(
                "  trees: {} KiB; bits: {} KiB; tuples: {} KiB",
                trees.memory() / 1024,
                bits.memory() / 1024,
                tuples.memory() / 1024
            );
            for round in 0..3 {
                for (label, c) in [("trees", &trees), ("bits", &bits), ("tuples", &tuples)] {
                    let t0 = std::time::Instant::now();
                    let mut acc = 0usize;
                    for _ in 0..10 {
                        for (k, p) in &pkts {
                            acc = acc.wrapping_add(c.first_match(k, *p, 0).unwrap_or(7));
                        }
                    }
                    let ns = t0.elapsed().as_nanos() as f64 / (10 * pkts.len()) as f64;
                    eprintln!("  round {round} {label}: {ns:.1} ns/lookup ({acc})");
                }
            }
        }
    }
}
