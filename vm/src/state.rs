//! The mutable state of a program, apart from the program itself so a
//! reload can carry it over: counters, token buckets, quotas, numgen
//! counters and the contents of dynamic sets.

use crate::Vm;
use ahash::AHashMap;
use ctc_ir::{LimitDef, SetId};

/// Most elements a dynamic set holds (the kernel's default set size for
/// sets filled from the packet path, `NFT_SET_MAXSIZE`-like bound: no input
/// may grow memory without bound). A full set makes `add`/`update` break
/// the rule, as the kernel's nft_dynset does.
pub const DYNSET_MAX: usize = 65536;

/// A token bucket, nft_limit.c's `struct nft_limit` plus its constants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Bucket {
    /// Tokens in nanoseconds of credit.
    tokens: u64,
    /// Packet time of the last evaluation; `None` before the first packet.
    last: Option<u64>,
}

impl Bucket {
    /// nft_limit_eval: refill with the time elapsed on the packet clock
    /// (capped at the bucket size), then take the packet's cost if there is
    /// room. Whether the limit matches (inverted with `over`).
    pub(crate) fn take(&mut self, p: &LimitParams, now: u64, skb_len: u64) -> bool {
        let b = self;
        let tokens = match b.last {
            None => p.tokens_max,
            Some(last) => b.tokens.saturating_add(now.saturating_sub(last)).min(p.tokens_max),
        };
        b.last = Some(now);
        let cost = if p.bytes {
            if p.rate == 0 {
                u64::MAX
            } else {
                (p.nsecs as u128 * skb_len as u128 / p.rate as u128).min(u64::MAX as u128) as u64
            }
        } else {
            p.cost
        };
        if tokens >= cost {
            b.tokens = tokens - cost;
            !p.invert
        } else {
            b.tokens = tokens;
            p.invert
        }
    }
}

/// The constants nft_limit_init derives from a `limit` statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct LimitParams {
    /// `unit * NSEC_PER_SEC`.
    nsecs: u64,
    rate: u64,
    /// Bucket size in nanoseconds of credit.
    tokens_max: u64,
    /// Cost of one packet (packet mode).
    cost: u64,
    bytes: bool,
    invert: bool,
}

impl LimitParams {
    /// nft_limit_init: `nsecs = unit * NSEC_PER_SEC`; packet mode: burst 0
    /// means 5 (NFT_LIMIT_PKT_BURST_DEFAULT), cost `nsecs / rate`, bucket
    /// `cost * burst`; byte mode: bucket `nsecs * (rate + burst) / rate`
    /// and each packet costs `nsecs * skb->len / rate`. A rate of 0 (the
    /// kernel refuses it) never has room. Overflows saturate where the
    /// kernel refuses the rule.
    pub(crate) fn new(d: &LimitDef) -> LimitParams {
        let nsecs = d.per_secs.saturating_mul(1_000_000_000);
        let rate = d.rate;
        let (cost, tokens_max) = if rate == 0 {
            (u64::MAX, 0)
        } else if d.bytes {
            let max = (nsecs as u128 * (rate as u128 + d.burst as u128)) / rate as u128;
            (0, max.min(u64::MAX as u128) as u64)
        } else {
            let burst = if d.burst == 0 { 5 } else { d.burst };
            let cost = nsecs / rate;
            (cost, cost.saturating_mul(burst))
        };
        LimitParams { nsecs, rate, tokens_max, cost, bytes: d.bytes, invert: d.over }
    }
}

/// What a dynamic set holds at run time.
#[derive(Debug, Clone, Default)]
pub(crate) struct DynSet {
    /// Key → expiry (packet time in ns), `None`: no timeout.
    pub(crate) elems: AHashMap<Box<[u8]>, Option<u64>>,
    /// Per-element token buckets (`update @s { KEY limit rate ... }`).
    pub(crate) buckets: AHashMap<Box<[u8]>, Bucket>,
}

impl DynSet {
    pub(crate) fn contains(&self, key: &[u8], now: u64) -> bool {
        match self.elems.get(key) {
            Some(Some(exp)) => now < *exp,
            Some(None) => true,
            None => false,
        }
    }

    /// Add or refresh `key` (nft_dynset `update`: an existing element gets
    /// its timeout renewed). `false` when the set is full.
    pub(crate) fn update(&mut self, key: &[u8], expiry: Option<u64>, now: u64) -> bool {
        if let Some(e) = self.elems.get_mut(key) {
            *e = expiry;
            return true;
        }
        if self.elems.len() >= DYNSET_MAX {
            self.elems.retain(|_, e| e.is_none_or(|x| now < x));
            let elems = &self.elems;
            self.buckets.retain(|k, _| elems.contains_key(k));
            if self.elems.len() >= DYNSET_MAX {
                return false;
            }
        }
        // The only allocation of the packet path: a new element of a
        // dynamic set (bounded by DYNSET_MAX).
        self.elems.insert(key.into(), expiry);
        // A new element starts with a fresh (full) bucket, as the kernel
        // initialises the element's expression when it creates it.
        self.buckets.remove(key);
        true
    }

    /// The element's own limit (it exists: `update` just ran).
    pub(crate) fn limit(&mut self, key: &[u8], p: &LimitParams, now: u64, skb_len: u64) -> bool {
        if let Some(b) = self.buckets.get_mut(key) {
            return b.take(p, now, skb_len);
        }
        let mut b = Bucket { tokens: 0, last: None };
        let verdict = b.take(p, now, skb_len);
        self.buckets.insert(key.into(), b);
        verdict
    }
}

/// Counters, buckets, quotas, numgen counters and dynamic sets of one
/// program.
#[derive(Debug, Clone)]
pub struct State {
    pub(crate) vm_id: u64,
    /// [packets, bytes] per counter slot: an array, whose layout is
    /// fixed, because compiled code adds to the slots in place.
    pub(crate) counters: Vec<[u64; 2]>,
    pub(crate) buckets: Vec<Bucket>,
    /// Bytes consumed per quota.
    pub(crate) quotas: Vec<u64>,
    /// Last value of each `numgen inc`.
    pub(crate) numgen: Vec<u32>,
    /// Per set: `Some` for dynamic sets.
    pub(crate) dynsets: Vec<Option<DynSet>>,
    /// xorshift64* state for `meta random` and `numgen random`.
    pub(crate) rng: u64,
    /// `log` statements beyond [`ctc_ir::abi::MAX_LOGS`] in one packet.
    pub logs_dropped: u64,
}

/// Seed of the deterministic generator behind `meta random` / `numgen
/// random`: runs are reproducible.
const RNG_SEED: u64 = 0x9e37_79b9_7f4a_7c15;

impl State {
    /// Fresh state for `vm`: counters and quotas from the program's initial
    /// values, full token buckets, numgen counters at `modulus - 1` (the
    /// kernel's nft_ng_inc_init: the first value is 0), dynamic sets
    /// holding their declared exact elements without timeout.
    pub fn new(vm: &Vm) -> State {
        let p = vm.program();
        State {
            vm_id: vm.id,
            counters: p.counters.iter().map(|&(a, b)| [a, b]).collect(),
            buckets: vec![Bucket { tokens: 0, last: None }; p.limits.len()],
            quotas: p.quotas.iter().map(|q| q.used).collect(),
            numgen: vm.numgen_moduli.iter().map(|m| m.wrapping_sub(1)).collect(),
            dynsets: p
                .sets
                .iter()
                .map(|s| {
                    s.dynamic.then(|| {
                        let mut d = DynSet::default();
                        for e in s.elements.iter().filter(|e| e.lo == e.hi) {
                            d.elems.entry(e.lo.clone().into_boxed_slice()).or_insert(None);
                        }
                        d
                    })
                })
                .collect(),
            rng: RNG_SEED,
            logs_dropped: 0,
        }
    }

    /// State for `new_vm` after a reload from `old_vm`: the contents of
    /// dynamic sets carry over to the set of the same table (family and
    /// name) and name with the same key length; counters, limits, quotas and
    /// numgen start afresh, as after `nft -f` with `flush ruleset`.
    pub fn adopt(new_vm: &Vm, old: &State, old_vm: &Vm) -> State {
        let mut st = State::new(new_vm);
        let (np, op) = (new_vm.program(), old_vm.program());
        let key = |p: &ctc_ir::Program, s: &ctc_ir::Set| {
            let t = &p.tables[s.table.index()];
            (t.family, t.name.clone(), s.name.clone(), s.key_len)
        };
        for (i, s) in np.sets.iter().enumerate() {
            let Some(dst) = st.dynsets[i].as_mut() else { continue };
            let k = key(np, s);
            if let Some(j) = op.sets.iter().position(|o| key(op, o) == k)
                && let Some(Some(src)) = old.dynsets.get(j)
            {
                for (e, exp) in &src.elems {
                    dst.elems.insert(e.clone(), *exp);
                }
            }
        }
        st.rng = old.rng;
        st
    }

    /// (packets, bytes) of a counter slot.
    pub fn counter(&self, id: ctc_ir::CounterId) -> (u64, u64) {
        self.counters.get(id.index()).map_or((0, 0), |c| (c[0], c[1]))
    }

    /// Every counter slot, by [`ctc_ir::CounterId`] index.
    pub fn counters(&self) -> Vec<(u64, u64)> {
        self.counters.iter().map(|c| (c[0], c[1])).collect()
    }

    /// The counter slots for compiled code, which updates them in place
    /// (`ctc-jit`): `[packets, bytes]` per [`ctc_ir::CounterId`] index.
    pub fn counter_slots_mut(&mut self) -> &mut [[u64; 2]] {
        &mut self.counters
    }

    /// Bytes a quota has consumed.
    pub fn quota_used(&self, id: ctc_ir::QuotaId) -> u64 {
        self.quotas.get(id.index()).copied().unwrap_or(0)
    }

    /// The live elements of a dynamic set at packet time `now_ns`, with
    /// their expiry (ns), in no particular order. Empty for static sets.
    pub fn set_elements(&self, set: SetId, now_ns: u64) -> Vec<(Vec<u8>, Option<u64>)> {
        match self.dynsets.get(set.index()) {
            Some(Some(d)) => {
                d.elems.iter().filter(|(_, e)| e.is_none_or(|x| now_ns < x)).map(|(k, e)| (k.to_vec(), *e)).collect()
            }
            _ => Vec::new(),
        }
    }

    /// nft_limit_eval on the packet clock: the bucket gains one token per
    /// nanosecond since the last packet, capped at the bucket size; a packet
    /// passes when it can pay its cost. Returns whether the rule goes on
    /// (`limit rate over` inverts). The first packet finds the bucket full
    /// (the kernel fills it when the rule is loaded, and it cannot hold
    /// more). A clock going backwards adds nothing (the kernel's unsigned
    /// arithmetic would refill the bucket).
    pub(crate) fn limit(&mut self, i: usize, p: &LimitParams, now: u64, skb_len: u64) -> bool {
        self.buckets[i].take(p, now, skb_len)
    }

    /// nft_quota's `nft_overquota`: every packet reaching the statement is
    /// consumed, then the quota is over when consumed >= quota; the rule
    /// goes on while under (`quota over` inverts).
    pub(crate) fn quota(&mut self, i: usize, bytes: u64, invert: bool, skb_len: u64) -> bool {
        let c = &mut self.quotas[i];
        *c = c.saturating_add(skb_len);
        let over = *c >= bytes;
        over == invert
    }

    /// xorshift64*: deterministic stand-in for the kernel's prandom.
    pub(crate) fn random(&mut self) -> u32 {
        let mut x = self.rng;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.rng = x;
        (x.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 32) as u32
    }
}
