//! The connection table and the packet path of nf_conntrack_core.c:
//! nf_conntrack_in (lookup or creation of an unconfirmed entry, the
//! protocol trackers, ICMP errors), __nf_conntrack_confirm (insertion,
//! clashes, NEW events), early_drop, the timers and event delivery.
//!
//! Layout: entries live in a slab; the hash table is the kernel's — an
//! array of bucket heads and, per entry, one chain link per direction (each
//! entry is hashed by both its tuples) — so early drop scans the same
//! chains, in the same order, as the kernel. The links live in an array of
//! their own, next to a 16-bit hash tag per node, so walking a chain reads
//! only the entries that may match (see [`Link`]). The hash is the same for
//! a tuple and its mirror image, so a connection without NAT has both its
//! nodes in one bucket and one link ([`tuple_hash`]). The big arrays are
//! [`BigVec`]s, on transparent huge pages. Timers are an indexed
//! min-heap keyed by expiry (one node per confirmed entry, moved lazily
//! when a refresh pushes the expiry later). Nothing here allocates per
//! packet except a new entry's slot and the events handed to the caller.

use core::net::IpAddr;

pub(crate) mod expect;
pub(crate) mod help;
pub(crate) mod nat;

use ctc_wire::{Frame, Layer, NetworkInfo, NetworkKind, TcpOption, TcpPacket};

use crate::mangle::be16;
use crate::memhint::BigVec;
use crate::tcp::{self, Segment, TcpAction, TcpConn, TcpState};
use crate::{
    Cold, Config, Conn, CtState, Dir, Entry, Event, EventKind, FAR, HZ, Handle, L3_IPV4, L3_IPV6, NO_TCP, Stats,
    TICK_NS, Tuple, Verdict, conn_flags, ipct, narrow, status,
};

const NIL: u32 = u32::MAX;
/// NF_CT_EVICTION_RANGE: buckets early_drop scans from the new tuple's.
const EVICTION_RANGE: usize = 8;

/// Where nf_conntrack_in runs: transport checksums are verified only at
/// prerouting (the kernel trusts locally generated packets).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hook {
    /// NF_INET_PRE_ROUTING (forwarded and incoming packets).
    Prerouting,
    /// NF_INET_LOCAL_OUT (packets the host itself sends).
    Output,
}

/// Where a slot stands in the insertion order and the timer heap: kept
/// apart from the slots (a dense array, 8 bytes per entry), as only
/// confirmation, destruction and the timers use them.
#[derive(Debug, Clone, Copy)]
struct Order {
    /// Confirmation number: confirmed entries in insertion order are the
    /// entries by increasing `seq` ([`Tracker::in_order`]); [`NIL`] for an
    /// entry not confirmed (or no longer). The numbers are given out from
    /// [`Tracker::next_seq`] and dealt afresh from 0 when they run out.
    seq: u32,
    /// Position in the timer heap.
    heap: u32,
}

const UNORDERED: Order = Order { seq: NIL, heap: NIL };

/// The capacity a full table array (slots, links, order, timers, side
/// slabs) grows to: by an eighth, where `Vec` would double, and by a
/// sixteenth from 64Ki elements on, so at most about 11 % of a small array
/// and 6 % of a large one is spare capacity (a doubling array is up to
/// half empty). The copies cost about sixteen moves per element over a
/// large table's growth (eight for a small one), none once it has reached
/// its size.
pub(crate) fn grown(cap: usize) -> usize {
    cap + (cap / if cap < 1 << 16 { 8 } else { 16 }).max(16)
}

/// A slab of what only some entries have (TCP window trackers, IPv6
/// addresses, cold parts), indexed by a `u32` kept in the entry; freed
/// places are reused.
#[derive(Debug)]
pub(crate) struct Side<T> {
    items: BigVec<Option<T>>,
    free: Vec<u32>,
}

impl<T> Side<T> {
    fn new() -> Side<T> {
        Side { items: BigVec::new(), free: Vec::new() }
    }

    /// Stores `v`; its index.
    pub(crate) fn put(&mut self, v: T) -> u32 {
        if let Some(i) = self.free.pop() {
            self.items[i as usize] = Some(v);
            return i;
        }
        self.items.push(Some(v));
        (self.items.len() - 1) as u32
    }

    /// Frees place `i` (nothing if it is free).
    pub(crate) fn take(&mut self, i: u32) -> Option<T> {
        let v = self.items.get_mut(i as usize)?.take();
        if v.is_some() {
            self.free.push(i);
        }
        v
    }

    #[inline(always)]
    pub(crate) fn get(&self, i: u32) -> Option<&T> {
        self.items.get(i as usize)?.as_ref()
    }

    #[inline(always)]
    pub(crate) fn get_mut(&mut self, i: u32) -> Option<&mut T> {
        self.items.get_mut(i as usize)?.as_mut()
    }
}

/// The addresses of a wide connection: original source and destination,
/// reply source and destination.
type WideAddrs = [[u8; 16]; 4];

/// The addresses of wide connections, in two slabs: a connection whose
/// reply addresses are its original ones swapped (every connection
/// without NAT) keeps only the original source and destination, 32 bytes;
/// any other all four, 64 bytes. A wide [`Conn`] holds the index in
/// `addr[0]` and which slab in `addr[1]` ([`MIRRORED`]: the first).
#[derive(Debug)]
struct Wide {
    mirrored: Side<[[u8; 16]; 2]>,
    full: Side<WideAddrs>,
}

/// `addr[1]` of a wide [`Conn`] whose addresses are in [`Wide::mirrored`].
const MIRRORED: u64 = 1;

impl Wide {
    fn new() -> Wide {
        Wide { mirrored: Side::new(), full: Side::new() }
    }

    /// Stores the addresses of `t`; what the [`Conn`]'s `addr` holds.
    fn put(&mut self, t: &[Tuple; 2]) -> [u64; 2] {
        if t[1].src == t[0].dst && t[1].dst == t[0].src {
            [u64::from(self.mirrored.put([t[0].src, t[0].dst])), MIRRORED]
        } else {
            [u64::from(self.full.put([t[0].src, t[0].dst, t[1].src, t[1].dst])), 0]
        }
    }

    /// The four addresses a wide connection's `addr` refers to.
    fn get(&self, addr: [u64; 2]) -> Option<WideAddrs> {
        if addr[1] == MIRRORED {
            self.mirrored.get(addr[0] as u32).map(|&[s, d]| [s, d, d, s])
        } else {
            self.full.get(addr[0] as u32).copied()
        }
    }

    /// Frees what a wide connection's `addr` refers to.
    fn take(&mut self, addr: [u64; 2]) {
        if addr[1] == MIRRORED {
            self.mirrored.take(addr[0] as u32);
        } else {
            self.full.take(addr[0] as u32);
        }
    }

    /// Addresses stored (of both kinds).
    #[cfg(test)]
    fn len(&self) -> usize {
        self.mirrored.items.iter().filter(|w| w.is_some()).count()
            + self.full.items.iter().filter(|w| w.is_some()).count()
    }
}

/// Stores both tuples in `c` (which must hold none in the wide slab yet):
/// compactly when all four addresses fit in four bytes, else in `wide`.
fn store_tuples(c: &mut Conn, t: &[Tuple; 2], wide: &mut Wide) {
    debug_assert!(t[0].l3 == t[1].l3 && t[0].proto == t[1].proto);
    debug_assert!(t[0].l3 == L3_IPV4 || t[0].l3 == L3_IPV6, "conntrack tracks IPv4 and IPv6");
    if t[0].l3 == L3_IPV6 {
        c.flags |= conn_flags::V6;
    } else {
        c.flags &= !conn_flags::V6;
    }
    c.proto = t[0].proto;
    c.ports = t.map(|t| u32::from(t.src_port) | u32::from(t.dst_port) << 16);
    if let (Some(a), Some(b), Some(x), Some(y)) =
        (narrow(&t[0].src), narrow(&t[0].dst), narrow(&t[1].src), narrow(&t[1].dst))
    {
        c.flags &= !conn_flags::WIDE;
        c.addr = [pair(a, b), pair(x, y)];
    } else {
        c.flags |= conn_flags::WIDE;
        c.addr = wide.put(t);
    }
}

/// The [`conn_flags::V6`] bit of entries of family `l3` ([`Conn::l3`]);
/// a family no entry has gives a value no entry's bit equals.
#[inline(always)]
fn family_flag(l3: u8) -> u8 {
    match l3 {
        L3_IPV4 => 0,
        L3_IPV6 => conn_flags::V6,
        _ => u8::MAX,
    }
}

/// Two IPv4 addresses as [`Conn::addr`] holds them.
#[inline(always)]
fn pair(src: [u8; 4], dst: [u8; 4]) -> u64 {
    u64::from(u32::from_le_bytes(src)) | u64::from(u32::from_le_bytes(dst)) << 32
}

/// A tuple as a lookup compares it with [`Conn`]s: the compact addresses
/// (when both fit in four bytes), the ports, family and protocol. A
/// narrow key stands for its whole tuple; a wide one needs the tuple's
/// addresses besides.
#[derive(Debug, Clone, Copy)]
struct Key {
    addr: u64,
    ports: u32,
    l3: u8,
    /// [`family_flag`] of `l3`, as entries of the family hold it.
    fam: u8,
    proto: u8,
    narrow: bool,
}

impl Key {
    #[inline(always)]
    fn of(t: &Tuple) -> Key {
        let ports = u32::from(t.src_port) | u32::from(t.dst_port) << 16;
        match (narrow(&t.src), narrow(&t.dst)) {
            (Some(a), Some(b)) => {
                Key { addr: pair(a, b), ports, l3: t.l3, fam: family_flag(t.l3), proto: t.proto, narrow: true }
            }
            _ => Key { addr: 0, ports, l3: t.l3, fam: family_flag(t.l3), proto: t.proto, narrow: false },
        }
    }

    /// The key of a compact (not wide) entry's tuple of direction `d`.
    #[inline(always)]
    fn of_conn(c: &Conn, d: usize) -> Key {
        let fam = c.flags & conn_flags::V6;
        Key { addr: c.addr[d], ports: c.ports[d], l3: c.l3(), fam, proto: c.proto, narrow: true }
    }

    /// The source and destination addresses of a narrow key, whole.
    fn addrs(&self) -> ([u8; 16], [u8; 16]) {
        let (mut s, mut d) = ([0u8; 16], [0u8; 16]);
        s[..4].copy_from_slice(&(self.addr as u32).to_le_bytes());
        d[..4].copy_from_slice(&((self.addr >> 32) as u32).to_le_bytes());
        (s, d)
    }

    /// [`tuple_hash`] of the key's tuple (narrow keys only).
    #[inline(always)]
    fn hash(&self, zone: u16) -> u32 {
        debug_assert!(self.narrow);
        narrow_hash(self.addr & 0xffff_ffff, self.addr >> 32, self.ports, self.l3, self.proto, zone)
    }
}

/// The bucket chain links of a slot, kept apart from the slots (a dense
/// array, 12 bytes per entry) so a chain walk reads a slot only where the
/// hash matches: the kernel's lists thread through the entries, where
/// every node passed over is a cache miss in a large table.
#[derive(Debug, Clone, Copy)]
struct Link {
    /// Next node in the bucket chain of `tuples[dir]`; a node is
    /// `idx << 1 | dir`.
    next: [u32; 2],
    /// The low 16 bits of the hash of `tuples[dir]` (in the entry's zone)
    /// when it was linked: a node whose tag differs from the hash of the
    /// tuple looked for cannot match it.
    tag: [u16; 2],
}

const UNLINKED: Link = Link { next: [NIL; 2], tag: [0; 2] };

/// The bucket heads: a word per bucket holding the first node of its
/// chain (`idx << 1 | dir`) in its low `node_bits` bits — all ones for an
/// empty chain — and above them a small filter of the chain's hashes: for
/// every node of the chain, one bit chosen by bits 1 to 3 of its hash (not
/// bit 0, which tells a tuple from its mirror image, [`tuple_hash`]: the
/// two nodes of a connection set one bit). A lookup whose bit is clear
/// finds nothing without walking the chain: in a large table the walk
/// costs a dependent cache miss per link, and most lookups that find
/// nothing — every new connection's, and its clash checks at confirmation
/// — end at the head. With one connection per bucket, about one such
/// lookup in eight still walks (a new flow in a 1M table: 473–477 → 336–361
/// ns for UDP, 532–548 → 423–434 ns for TCP). Lookups that find their
/// entry gain nothing; tables under [`Heads::FILTERED_FROM`] buckets,
/// whose links stay in cache, have no filter ([`Heads::filtered`]).
///
/// The filter has 8 bits while the node bits leave room (up to 2²³
/// slots), then 4, 2 or 1 ([`Heads::fit`] folds it as the slot array
/// grows), and none past 2³⁰ slots (every lookup walks). Bits are only
/// cleared when a chain empties ([`Heads::set_first`]). The kernel's
/// chains have no such filter; which nodes a lookup reads is not
/// observable.
struct Heads {
    words: BigVec<u32>,
    node_bits: u32,
    /// The node bits' mask: an empty chain's word.
    mask: u32,
    /// The filter bit, in place in the word, of a hash whose bits 1 to 3
    /// are `i` (several `i` share a bit in a narrower filter); all ones
    /// when there is no filter (every lookup walks).
    bits: [u32; 8],
    /// The words have a filter, which lookups read: in a table of
    /// [`Heads::FILTERED_FROM`] buckets or more. In a smaller one the
    /// chain's first link is in cache (12 bytes an entry: under 800 KB of
    /// links), the walk the filter saves is a few instructions, and
    /// reading it costs a lookup that finds its entry more than that (1.5
    /// ns per UDP packet at 1k, 36.5–37.4 against 35.0–35.6 ns): the words
    /// are then whole nodes.
    filtered: bool,
}

impl Heads {
    /// The fewest node bits (slot arrays up to 2¹⁶ entries).
    const MIN_NODE_BITS: u32 = 17;

    /// See [`Heads::filtered`].
    const FILTERED_FROM: usize = 1 << 16;

    fn new(buckets: usize) -> Heads {
        Heads::with_filter(buckets, buckets >= Heads::FILTERED_FROM)
    }

    /// Heads with a filter or without one (whole words of node, as fast
    /// to read as can be).
    fn with_filter(buckets: usize, filtered: bool) -> Heads {
        let node_bits = if filtered { Heads::MIN_NODE_BITS } else { 32 };
        let mut heads = Heads {
            words: BigVec::filled(Heads::mask_of(node_bits), buckets),
            node_bits,
            mask: 0,
            bits: [0; 8],
            filtered,
        };
        heads.set_node_bits(node_bits);
        heads
    }

    fn set_node_bits(&mut self, node_bits: u32) {
        let width = Heads::width_of(node_bits);
        self.node_bits = node_bits;
        self.mask = Heads::mask_of(node_bits);
        for (i, bit) in self.bits.iter_mut().enumerate() {
            *bit = if width == 0 { u32::MAX } else { 1 << (node_bits + (i as u32 & (width - 1))) };
        }
    }

    /// The node bits of a word: all ones in an empty chain's word.
    fn mask_of(node_bits: u32) -> u32 {
        ((1u64 << node_bits) - 1) as u32
    }

    /// The filter's width beside `node_bits` bits of node: a power of two.
    fn width_of(node_bits: u32) -> u32 {
        match 32 - node_bits {
            8.. => 8,
            4..=7 => 4,
            2..=3 => 2,
            spare => spare,
        }
    }

    fn len(&self) -> usize {
        self.words.len()
    }

    fn as_ptr(&self) -> *const u32 {
        self.words.as_ptr()
    }

    /// The filter bit of a node or lookup of hash `h` (its low 16 bits
    /// are enough: a [`Link`] tag), in place in the word; all ones when
    /// there is no filter.
    #[inline(always)]
    fn bit(&self, h: u32) -> u32 {
        self.bits[(h >> 1) as usize & 7]
    }

    /// The first node of bucket `b` (NIL: an empty chain).
    #[inline(always)]
    fn first(&self, b: usize) -> u32 {
        match self.words[b] & self.mask {
            n if n == self.mask => NIL,
            n => n,
        }
    }

    /// The first node of bucket `b` where its chain may hold hash `h`:
    /// NIL where the chain is empty or its filter says no node has `h`.
    #[inline(always)]
    fn first_for(&self, b: usize, h: u32) -> u32 {
        if !self.filtered {
            // Whole nodes: an empty chain's word is NIL.
            return self.words[b];
        }
        let node = self.first(b);
        if node != NIL && self.may_hold(b, h) { node } else { NIL }
    }

    /// The filter of bucket `b` lets hash `h` through (always, without a
    /// filter: its bit is all ones, and so is the node mask).
    #[inline(always)]
    fn may_hold(&self, b: usize, h: u32) -> bool {
        (self.words[b] | self.mask) & self.bit(h) != 0
    }

    /// Makes `node`, of hash `h`, the first of bucket `b` (its old first
    /// node follows it), and marks `h` in the filter.
    #[inline]
    fn push(&mut self, b: usize, node: u32, h: u32) {
        let mask = self.mask;
        debug_assert!(node < mask);
        self.words[b] = (self.words[b] & !mask) | node | (self.bit(h) & !mask);
    }

    /// Makes `node` (NIL: none) the first of bucket `b` after a removal.
    /// The filter keeps its bits (the node gone may share its bit with
    /// another), but an empty chain starts a clean one: with about one
    /// connection per bucket, chains empty often, and a bit left behind
    /// meanwhile only makes a lookup walk.
    fn set_first(&mut self, b: usize, node: u32) {
        let mask = self.mask;
        self.words[b] = if node == NIL { mask } else { (self.words[b] & !mask) | node };
    }

    /// Widens the node bits, if needed, for a slot array of `slots`
    /// entries (nodes up to `2 slots - 1`, below the empty chain's mask):
    /// each head keeps its node, and its filter folds onto the narrower
    /// one (bit i of the new filter is set where bit i or i + width of the
    /// old one was). Rare: at each doubling of the slot array past 2¹⁶
    /// entries.
    fn fit(&mut self, slots: usize) {
        let old = self.node_bits;
        let mut bits = old;
        while 2 * slots as u64 >= u64::from(Heads::mask_of(bits)) {
            bits += 1;
            assert!(bits <= 32, "{slots} slots: nodes past 32 bits");
        }
        if bits == old {
            return;
        }
        self.set_node_bits(bits);
        let (old_mask, new_mask) = (Heads::mask_of(old), Heads::mask_of(bits));
        let (old_width, new_width) = (Heads::width_of(old), Heads::width_of(bits));
        for w in self.words.iter_mut() {
            let node = *w & old_mask;
            let (mut filter, mut width) = ((u64::from(*w) >> old) as u32, old_width);
            // Halving to no width at all leaves no filter.
            while width > new_width {
                width /= 2;
                filter = (filter | filter >> width) & ((1 << width) - 1);
            }
            *w = filter.checked_shl(bits).unwrap_or(0) | if node == old_mask { new_mask } else { node };
        }
    }
}

/// A node of the timer heap: an expiry and the slot it belongs to, 8
/// bytes (one per confirmed entry). The expiry is a jiffy counted from the
/// tracker's timer epoch ([`Tracker::epoch_j`]) in 32 bits, as the
/// kernel's `ct->timeout` is a 32-bit jiffy count; an expiry that does not
/// fit is kept as the latest one that does. A key is a lower bound of the
/// entry's expiry in any case (see [`Tracker::refresh`]): a node that
/// comes due early is moved on to the entry's expiry by
/// [`Tracker::advance`], so expiry times are exact whatever the key.
#[derive(Debug, Clone, Copy)]
struct Timer {
    key: u32,
    idx: u32,
}

/// The key of expiry `at_ns` from epoch `epoch_j`: its jiffy, saturated to
/// what 32 bits hold (never later than the expiry).
#[inline]
fn timer_key(at_ns: u64, epoch_j: u64) -> u32 {
    jiffies(at_ns).saturating_sub(epoch_j).min(u64::from(u32::MAX)) as u32
}

/// Where a lookup ahead stands ([`Lookahead::at`]) while its bucket head
/// loads: never a node (nodes stay under the head mask, [`Heads::fit`]).
const HEAD: u32 = NIL - 1;

/// What a step of a lookup ahead at a chain node came to
/// ([`Tracker::link_ahead`]).
enum Step {
    /// On to this node (NIL: the chain's end), whose link and slot are
    /// loading.
    Next(u32),
    /// This node's tag is the packet's hash: the node is probably the
    /// packet's. The packet's lookup starts from it ([`Tracker::hinted`]).
    Found(u32),
}

/// The lookups run ahead of the packets of a batch
/// ([`Tracker::look_ahead`], [`Tracker::packet_batch`]): a ring of places,
/// one per packet, in arrays of their fields (a step reads and writes a
/// word or two, not a whole record).
#[derive(Debug, Clone)]
pub struct Lookahead {
    /// The hash each place's lookup looks for.
    h: [u32; Lookahead::RING],
    /// Where each lookup stands: [`HEAD`] (the bucket head of its hash
    /// loading), a chain node (its link and its entry's slot loading: in a
    /// table with as many buckets as connections, the first node of a
    /// chain is the packet's in about two lookups of three, and a step is
    /// saved where it is), or NIL (nothing more to do: not IPv4, the
    /// chain's end, or found).
    at: [u32; Lookahead::RING],
    /// The node each lookup found (NIL: none, [`Step::Found`]).
    found: [u32; Lookahead::RING],
    /// The packet is a TCP segment: its entry's window tracker is worth
    /// loading.
    tcp: [bool; Lookahead::RING],
    /// Packets whose lookup was started (or would have been, past the end
    /// of the batch).
    count: usize,
    /// Packets between two steps of a lookup: 2, or 3 in a table larger
    /// than the last-level cache ([`Tracker::begin_ahead`]).
    gap: usize,
}

impl Default for Lookahead {
    fn default() -> Lookahead {
        const N: usize = Lookahead::RING;
        Lookahead { h: [0; N], at: [NIL; N], found: [NIL; N], tcp: [false; N], count: 0, gap: 2 }
    }
}

impl Lookahead {
    /// Steps after the bucket head's load is started: the head, then the
    /// links of up to three nodes (their slots loaded beside them, the TCP
    /// state after where the tag matches). A connection takes one link of
    /// the walk (its two nodes are next to each other in their chain): in
    /// a table with as many buckets as connections, a lookup ahead finds
    /// its node in 90 % of packets with two link steps (measured; what a
    /// Poisson number of connections per bucket gives) and 98 % with three
    /// (computed). TCP in a 1M table: 137–140 → 124–130 ns per packet;
    /// UDP, which has no line after the slot, unchanged.
    const STEPS: usize = 4;
    /// How many packets ahead of the one handled its lookup starts, at
    /// most.
    const MAX_DEPTH: usize = 3 * (Self::STEPS + 1);
    /// The ring of lookups ahead: more places than packets ahead.
    const RING: usize = 16;
    /// Tables of fewer connections go without lookups ahead: their lines
    /// are in the core's caches, where a lookup ahead is only more work.
    /// Measured (`ct_profile`, ns per packet one at a time against batches
    /// of 32): UDP 36.8 / 49.7 at 1k, 38.4 / 45.5 at 2k, 45.6 / 46.7 at 6k,
    /// 53.0 / 53.2 at 10k; TCP 49.5 / 59.7 at 1k, 54.1 / 57.1 at 2k, 67.2
    /// / 59.8 at 4k.
    const FROM: usize = 2048;
    /// Tables of this many connections or more take a step every three
    /// packets instead of two: their slots (64 bytes each) fill three
    /// quarters of a 32 MiB last-level cache, and most of their lines come
    /// from memory, a miss longer than the time two packets take. Measured
    /// (`ct_profile`, batches of 32, frames parsed per batch, ns per packet
    /// with a gap of 2 against 3): UDP 56–57 / 59–61 at 100k, 63–65 / 65–67
    /// at 250k, 75–76 / 72–76 at 500k, 86–90 / 79–82 at 1M; TCP 74–77 /
    /// 78–79 at 100k, 93–99 / 89–92 at 250k, 100–105 / 97–99 at 500k,
    /// 111–114 / 104–108 at 1M.
    const FAR_FROM: usize = 3 << 17;
    const MASK: usize = Self::RING - 1;

    /// How many packets ahead of the one handled its lookup starts: the
    /// caller starts the lookup of the packet this many places after the
    /// one it handles next ([`Tracker::look_ahead`]).
    #[inline]
    pub fn depth(&self) -> usize {
        self.gap * (Self::STEPS + 1)
    }

    /// What the lookup ahead of the packet handled now found: the place
    /// [`Lookahead::depth`] behind the newest.
    #[inline]
    fn found(&self) -> u32 {
        self.found[self.count.wrapping_sub(self.depth() + 1) & Self::MASK]
    }

    /// The lookup of the next packet starts: `next` is its hash and
    /// whether it is a TCP segment, or `None` (nothing to look up).
    /// Returns its place.
    #[inline(always)]
    fn start(&mut self, next: Option<(u32, bool)>) -> usize {
        let i = self.count & Self::MASK;
        (self.h[i], self.at[i], self.tcp[i]) = match next {
            Some((h, tcp)) => (h, HEAD, tcp),
            None => (0, NIL, false),
        };
        self.found[i] = NIL;
        self.count = self.count.wrapping_add(1);
        i
    }
}

const _: () = assert!(Lookahead::MAX_DEPTH < Lookahead::RING && Lookahead::RING.is_power_of_two());

/// What [`refresh_conn`] leaves to the tracker (rarely anything).
struct Refreshed {
    /// The packet was not counted: the counters outgrow 32 bits
    /// ([`Tracker::account_spilled`]).
    spilled: bool,
    /// The timeout moved earlier, to this: the timer node may have to
    /// follow ([`Tracker::lower_timer`]).
    lower: Option<u64>,
    /// The new timeout (as [`Entry::timeout_at_ns`]), where the old or the
    /// new one does not fit in [`Conn::timeout`]: set by the tracker
    /// ([`Tracker::refresh_far`]).
    far: Option<u64>,
}

/// nf_ct_refresh_acct on the slot: the counters of the packet's direction
/// (unless they outgrow 32 bits) and the new timeout (unless
/// IPS_FIXED_TIMEOUT); what is left to do with the rest of the table in
/// the result, if anything ([`Tracker::refreshed`]). `epoch_j`: the slot
/// epoch.
#[inline(always)]
fn refresh_conn(e: &mut Conn, dir: Dir, secs: u64, len: u64, now_ns: u64, epoch_j: u64) -> Option<Refreshed> {
    let counted = e.count(dir as usize, len);
    if e.status & status::FIXED_TIMEOUT != 0 {
        return (!counted).then_some(Refreshed { spilled: true, lower: None, far: None });
    }
    let extra_j = secs.saturating_mul(HZ);
    if !e.is_confirmed() {
        // Relative until confirmation ("ct->timeout += nfct_time_stamp").
        if extra_j < u64::from(FAR) {
            e.timeout = extra_j as u32;
            return (!counted).then_some(Refreshed { spilled: true, lower: None, far: None });
        }
        return Some(Refreshed { spilled: !counted, lower: None, far: Some(extra_j.saturating_mul(TICK_NS)) });
    }
    let at_j = jiffies(now_ns).saturating_add(extra_j);
    match at_j.checked_sub(epoch_j) {
        Some(rel) if rel < u64::from(FAR) && e.timeout != FAR => {
            let old = core::mem::replace(&mut e.timeout, rel as u32);
            // The timer node's key is never later than the entry's
            // timeout: equal at confirmation, lowered with it here and by
            // the shrink of nf_tcp_handle_invalid, raised by `advance` only
            // to it. So a timeout that does not move earlier (the usual
            // refresh) leaves the heap alone without reading the node (a
            // cache miss per packet in a large table).
            if counted && rel >= u64::from(old) {
                return None;
            }
            Some(Refreshed { spilled: !counted, lower: (rel < u64::from(old)).then(|| at_j * TICK_NS), far: None })
        }
        _ => Some(Refreshed {
            spilled: !counted,
            lower: None,
            far: Some(jiffies(now_ns).saturating_mul(TICK_NS).saturating_add(extra_j.saturating_mul(TICK_NS))),
        }),
    }
}

/// time_after(jiffies, stream_ts) for a UDP entry whose `stream_ts` is not
/// in 32 bits from the slot epoch `epoch_j` ([`PAST`] or [`FAR`]; `cold`:
/// its cold part, which holds it).
#[cold]
#[inline(never)]
fn far_stream_due(l4: u32, now_j: u64, epoch_j: u64, cold: Option<&Cold>) -> bool {
    (l4 == PAST && now_j >= epoch_j) || now_j > cold.map_or(0, |k| k.stream_ts)
}

/// Whether conntrack verifies a packet's transport checksum: nf_checksum
/// runs at prerouting only (the kernel trusts the host's own packets),
/// with nf_conntrack_checksum on, and only where the device did not verify
/// it already ([`Frame::l4_checksum`]).
#[inline(always)]
fn checksum_due(cfg: &Config, hook: Hook, frame: &Frame) -> bool {
    hook == Hook::Prerouting && cfg.checksum && frame.l4_checksum.needs_verifying()
}

/// resolve_normal_ct: the packet's ctinfo (what `ct state` matches) from
/// its direction and the entry's status before nf_conntrack_in sets
/// SEEN_REPLY. The protocol trackers change neither SEEN_REPLY nor
/// EXPECTED, so this is the same before and after them.
#[inline(always)]
fn ct_state(status: u32, dir: Dir) -> CtState {
    if dir == Dir::Reply || status & status::SEEN_REPLY != 0 {
        CtState::Established
    } else if status & status::EXPECTED != 0 {
        CtState::Related
    } else {
        CtState::New
    }
}

/// nf_conntrack_in once the protocol tracker accepted a packet of entry
/// `e` (`dir`): the packet's ctinfo ([`ct_state`]), then a reply sets
/// IPS_SEEN_REPLY ([`seen_reply`]); the outcome has the entry's id, for the
/// packet's handle. Done where the tracker has the slot at hand, so that
/// it is not looked up again.
#[inline(always)]
fn accepted(e: &mut Conn, dir: Dir) -> Outcome {
    let state = ct_state(e.status, dir);
    seen_reply(e, dir);
    Outcome::Accept { id: e.id.get(), state }
}

/// nf_conntrack_in: a reply the protocol tracker accepted sets
/// IPS_SEEN_REPLY (and the REPLY event).
#[inline(always)]
fn seen_reply(e: &mut Conn, dir: Dir) {
    if dir == Dir::Reply && e.status & status::SEEN_REPLY == 0 {
        e.status |= status::SEEN_REPLY;
        e.add_pending(ipct::REPLY);
    }
}

/// What a protocol tracker made of a packet.
enum Outcome {
    /// Accepted, with [`accepted`] done: the entry's id and the packet's
    /// ctinfo (its results).
    Accept {
        id: u32,
        state: CtState,
    },
    Invalid(Option<&'static str>),
    /// The entry was destroyed and the packet starts a new connection
    /// (-NF_REPEAT).
    Repeat,
    /// The entry was destroyed by this packet (nf_ct_kill_acct): the packet
    /// passes with the dying entry, with this ctinfo.
    Killed {
        state: CtState,
    },
}

/// The connection tracker of one network namespace.
pub struct Tracker {
    cfg: Config,
    /// The entries; `None`: a free slot.
    slots: BigVec<Option<Conn>>,
    /// Chain links, indexed as `slots`.
    links: BigVec<Link>,
    /// Insertion order and timer positions, indexed as `slots`.
    order: BigVec<Order>,
    /// TCP window trackers ([`Conn::l4`]).
    tcp: Side<TcpConn>,
    /// Addresses of wide entries ([`Conn::wide`]).
    wide: Wide,
    /// Cold parts by slot ([`conn_flags::COLD`]): few entries have one.
    cold: ahash::AHashMap<u32, Cold>,
    /// The jiffy the slots' 32-bit times count from ([`Conn::timeout`],
    /// [`Conn::l4`] of UDP): set when the table is empty.
    slot_epoch_j: u64,
    free: Vec<u32>,
    heads: Heads,
    /// Entries allocated, confirmed or not (the kernel's `cnet->count`).
    count: usize,
    /// The next confirmation number ([`Order::seq`]).
    next_seq: u32,
    timers: BigVec<Timer>,
    /// The jiffy the timer keys count from ([`Timer`]): set when the heap
    /// is empty, moved by [`Tracker::rebase`].
    epoch_j: u64,
    events: Vec<Event>,
    stats: Stats,
    next_id: u32,
    /// early_drop found nothing: the gc worker evicts at its next run
    /// (conntrack_gc_work.early_drop).
    gc_early_drop: bool,
    /// Source-NATed entries by original source (nf_nat_bysource).
    bysource: ahash::AHashMap<nat::BySrc, Vec<u32>>,
    /// State of the generator behind NAT's random port choices.
    rng: u64,
    /// Expectations, oldest first (few: each helper master has one).
    expects: Vec<expect::Expectation>,
    expect_events: Vec<expect::ExpectEvent>,
    /// The packet clock's latest reading: when an unconfirmed entry is
    /// released without a time of its own, its expectations go then.
    clock_ns: u64,
    /// The hashes of the tuples of the entry made last, computed when it
    /// was made, for its confirmation (a memo: used only while the tuples
    /// and the zone are still these).
    made: Option<Made>,
    /// Tests only: every TCP segment takes the general path (no
    /// [`Tracker::tcp_established`]), to compare the two.
    #[cfg(test)]
    general_only: bool,
    /// Tests only: segments the fast path took.
    #[cfg(test)]
    fast_taken: u64,
    /// Tests only: [`Lookahead::FROM`] and [`Lookahead::FAR_FROM`], 0 and
    /// `FAR_FROM` unless a test says otherwise (the tests' small tables
    /// take the lookups ahead, with a gap of 2).
    #[cfg(test)]
    ahead_from: [usize; 2],
}

/// See [`Tracker::made`]: `hashes[d]` is the hash of `tuples[d]` in
/// `zone`.
#[derive(Debug, Clone, Copy)]
struct Made {
    tuples: [Tuple; 2],
    /// The tuples' compact form ([`Conn::addr`], [`Conn::ports`]), when
    /// they have one.
    compact: Option<([u64; 2], [u32; 2])>,
    zone: u16,
    hashes: [u32; 2],
}

impl core::fmt::Debug for Tracker {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Tracker").field("count", &self.count).field("stats", &self.stats).finish_non_exhaustive()
    }
}

fn addr_bytes(a: Option<IpAddr>) -> [u8; 16] {
    a.map_or([0; 16], crate::tuple::addr_bytes)
}

/// nf_ct_get_tuple: the l4 part of a tuple from the transport header at
/// `th` (bytes up to `end`): ports for the port-keyed protocols, type, code
/// and id for ICMP/ICMPv6 (dispatch on the protocol number alone, as the
/// kernel), nothing for the rest. `None` when the bytes it needs are
/// missing.
fn l4_tuple(pkt: &[u8], th: usize, end: usize, mut t: Tuple) -> Option<Tuple> {
    (t.src_port, t.dst_port) = l4_ports(pkt, th, end, t.proto)?;
    Some(t)
}

/// The l4 part of [`l4_tuple`]: (source port, destination port) as
/// [`Tuple`] keeps them.
#[inline(always)]
fn l4_ports(pkt: &[u8], th: usize, end: usize, proto: u8) -> Option<(u16, u16)> {
    let seg = pkt.get(th..end.min(pkt.len()))?;
    Some(match proto {
        1 | 58 => {
            let h = seg.get(..8)?;
            (be16(h, 4), u16::from(h[0]) << 8 | u16::from(h[1]))
        }
        6 | 17 | 136 | 132 | 33 => {
            let h = seg.get(..4)?;
            (be16(h, 0), be16(h, 2))
        }
        _ => (0, 0),
    })
}

/// The options of a TCP header the tracker uses (tcp_options, tcp_sack),
/// into `seg`. A header with timestamps alone in the layout stacks send
/// (NOP, NOP, timestamps: tcp_sack's TCPOLEN_TSTAMP_ALIGNED shortcut), as
/// most segments past the handshake carry, has none of them.
#[inline(never)]
fn read_options(opts: &[u8], seg: &mut Segment) {
    if opts.len() == 12 && opts[..4] == [1, 1, 8, 10] {
        return;
    }
    for o in ctc_wire::TcpOptionIter::new(opts) {
        match o {
            Ok(TcpOption::WindowScale(s)) => seg.wscale = Some(s),
            Ok(TcpOption::SackPermitted) => seg.sack_perm = true,
            Ok(o @ TcpOption::Sack(_)) => {
                for (_, right) in o.sack_blocks() {
                    seg.sack_max_right = sack_max(seg.sack_max_right, right);
                }
            }
            Ok(_) => {}
            Err(_) => break,
        }
    }
}

/// Highest SACK right edge in sequence space (tcp_sack).
fn sack_max(acc: Option<u32>, right: u32) -> Option<u32> {
    match acc {
        Some(a) if (right.wrapping_sub(a) as i32) <= 0 => Some(a),
        _ => Some(right),
    }
}

/// A TCP segment's fixed header fields as the tracker takes them (the
/// options are read apart, where the kernel reads them), read with one
/// bounds check (a parsed frame's TCP header has its 20 bytes), and the
/// header's length.
#[inline(always)]
fn segment_of(th: &TcpPacket<&[u8]>, frame: &Frame, n: &NetworkInfo) -> (Segment, usize) {
    let h: &[u8; 20] = th.clone().into_inner().first_chunk().expect("a 20-byte TCP header");
    let hlen = usize::from(h[12] >> 4) * 4;
    let off = frame.transport.map_or(0, |t| t.offset);
    let seg = Segment {
        flags: h[13],
        seq: u32::from_be_bytes([h[4], h[5], h[6], h[7]]),
        ack: u32::from_be_bytes([h[8], h[9], h[10], h[11]]),
        window: u16::from_be_bytes([h[14], h[15]]),
        data_len: n.end.saturating_sub(off + hlen) as u32,
        ..Segment::default()
    };
    (seg, hlen)
}

/// Seeds of [`tuple_hash`]. Fixed: bucket positions (and so early drop)
/// are reproducible run to run; the kernel's seed is random per boot.
const SEEDS: [u64; 6] = [
    0x6374_635f_6374_7261,
    0x6e66_5f63_6f6e_6e74,
    0x7472_6163_6b00_6374,
    0x0065_6172_6c79_6472,
    0x243f_6a88_85a3_08d3,
    0x1319_8a2e_0370_7344,
];

/// 64x64 -> 128-bit multiply folded to 64 bits (the "mum" mix of wyhash
/// and ahash's fallback).
#[inline(always)]
fn mum(a: u64, b: u64) -> u64 {
    let r = u128::from(a) * u128::from(b);
    (r as u64) ^ ((r >> 64) as u64)
}

/// The bucket hash of a tuple in a zone (hash_conntrack_raw hashes the
/// tuple and the zone id): a few independent multiplies and a final one,
/// cheaper per packet than a streaming hasher fed field by field.
///
/// Unlike the kernel's jhash, the hash does not depend on which endpoint
/// (address and port) is the source, and bit 0 of the result says whether
/// the destination endpoint is the smaller. So the two tuples of a
/// connection whose reply tuple is the original one turned round (TCP and
/// UDP without NAT, which is most of a table) land in the same bucket
/// ([`Tracker::bucket_of`] ignores bit 0), both of its nodes in one
/// [`Link`]: a lookup that misses walks half as many links (a chain holds
/// half as many connections), and confirmation checks and links the reply
/// tuple in the bucket the lookup of the original tuple has just walked —
/// in a large table, about four cache misses fewer per new connection.
/// Bit 0 is in the nodes' tags, so a lookup still compares only the node
/// of its own direction. Which bucket holds a tuple was never the
/// kernel's (its seed is random per boot); the chains, their order and
/// early drop's scan are as before.
#[inline]
fn tuple_hash(t: &Tuple, zone: u16) -> u32 {
    let k = Key::of(t);
    if k.narrow {
        return k.hash(zone);
    }
    let w = |b: &[u8; 16], i: usize| u64::from_le_bytes(b[i..i + 8].try_into().expect("8 bytes"));
    wide_hash(w(&t.src, 0), w(&t.dst, 0), w(&t.src, 8), w(&t.dst, 8), k.ports, t.l3, t.proto, zone)
}

/// [`tuple_hash`] of a tuple whose addresses both fit in four bytes
/// (`s`, `d`, below 2^32): each endpoint is one word, address then port,
/// and the multiply of the two words is the same either way round.
#[inline(always)]
fn narrow_hash(s: u64, d: u64, ports: u32, l3: u8, proto: u8, zone: u16) -> u32 {
    let src = s << 16 | u64::from(ports & 0xffff);
    let dst = d << 16 | u64::from(ports >> 16);
    let a = mum(src ^ SEEDS[0], dst ^ SEEDS[0]);
    let rest = u64::from(l3) | u64::from(proto) << 8 | u64::from(zone) << 16;
    let h = mum(a ^ SEEDS[4], mum(rest ^ SEEDS[1], SEEDS[5]));
    (h ^ h >> 32) as u32 & !1 | u32::from(src > dst)
}

/// [`tuple_hash`] of any other tuple, from its words: the addresses'
/// halves (little endian) and the ports (`src | dst << 16`). The
/// endpoints are put in order first — (upper half, lower half, port) —
/// and hashed by three independent multiplies and a final one. Out of
/// line: IPv6 packets take their own path ([`Tracker::packet_wide`]).
#[inline(never)]
#[allow(clippy::too_many_arguments)]
fn wide_hash(s0: u64, d0: u64, s8: u64, d8: u64, ports: u32, l3: u8, proto: u8, zone: u16) -> u32 {
    let swap = (s8, s0, ports & 0xffff) > (d8, d0, ports >> 16);
    let (s0, d0, s8, d8, ports) = if swap { (d0, s0, d8, s8, ports.rotate_left(16)) } else { (s0, d0, s8, d8, ports) };
    let ports = u64::from(ports) | u64::from(l3) << 32 | u64::from(proto) << 40 | u64::from(zone) << 48;
    let a = mum(s0 ^ SEEDS[0], d0 ^ SEEDS[1]);
    let b = mum(s8 ^ SEEDS[2], d8 ^ SEEDS[3]);
    let c = mum(ports ^ SEEDS[4], SEEDS[5]);
    let h = mum(a ^ SEEDS[4], b ^ c ^ SEEDS[5]);
    (h ^ h >> 32) as u32 & !1 | u32::from(swap)
}

fn jiffies(ns: u64) -> u64 {
    ns / TICK_NS
}

/// [`Conn::l4`] of a UDP entry whose `stream_ts` is before the slot epoch
/// (exact in [`Cold::stream_ts`]): passed for any clock from the epoch on.
const PAST: u32 = FAR - 1;

/// How far before the clock the slot epoch is set ([`Tracker::slot_epoch_j`]):
/// a clock that goes back by less still finds its times in 32 bits (about
/// 18 hours; about 180 days ahead remain).
const SLOT_EPOCH_MARGIN: u64 = 1 << 24;
/// The latest slot epoch: every time counted from it in 32 bits is a
/// jiffy whose nanoseconds fit in 64 bits.
const MAX_SLOT_EPOCH: u64 = u64::MAX / TICK_NS - u32::MAX as u64;
/// Jiffies after which [`Tracker::advance`] moves the slot epoch to the
/// clock when the table is not empty (about 99 days; times reach 180 days
/// past the epoch in 32 bits).
const SLOT_EPOCH_AGE: u64 = 1 << 31;

impl Tracker {
    /// An empty table with these settings.
    pub fn new(cfg: Config) -> Tracker {
        let buckets = cfg.buckets.max(1);
        Tracker {
            slots: BigVec::new(),
            links: BigVec::new(),
            order: BigVec::new(),
            tcp: Side::new(),
            wide: Wide::new(),
            cold: ahash::AHashMap::new(),
            slot_epoch_j: 0,
            free: Vec::new(),
            heads: Heads::new(buckets),
            count: 0,
            next_seq: 0,
            timers: BigVec::new(),
            epoch_j: 0,
            events: Vec::new(),
            stats: Stats::default(),
            next_id: 1,
            gc_early_drop: false,
            bysource: ahash::AHashMap::new(),
            rng: 0x6e66_5f6e_6174_2d31,
            expects: Vec::new(),
            expect_events: Vec::new(),
            clock_ns: 0,
            made: None,
            #[cfg(test)]
            general_only: false,
            #[cfg(test)]
            fast_taken: 0,
            #[cfg(test)]
            ahead_from: [0, Lookahead::FAR_FROM],
            cfg,
        }
    }

    /// The settings.
    pub fn config(&self) -> &Config {
        &self.cfg
    }

    /// Changes the settings (a sysctl write); the hash table keeps its
    /// size, as the kernel's does for `max`.
    pub fn config_mut(&mut self) -> &mut Config {
        &mut self.cfg
    }

    /// Statistics (`conntrack -S`).
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// Entries allocated, confirmed or not (`nf_conntrack_count`).
    pub fn count(&self) -> usize {
        self.count
    }

    /// The entry a handle refers to, if it still exists.
    #[inline]
    pub fn entry(&self, h: Handle) -> Option<Entry<'_>> {
        self.conn(h).map(|c| self.view(h.idx, c))
    }

    /// The stored entry a handle refers to.
    #[inline(always)]
    pub(crate) fn conn(&self, h: Handle) -> Option<&Conn> {
        self.slots.get(h.idx as usize)?.as_ref().filter(|e| e.id.get() == h.id)
    }

    /// The stored entry a handle refers to, mutable.
    #[inline(always)]
    pub(crate) fn conn_mut(&mut self, h: Handle) -> Option<&mut Conn> {
        self.slots.get_mut(h.idx as usize)?.as_mut().filter(|e| e.id.get() == h.id)
    }

    /// The snapshot of the entry stored in slot `idx`, `c`.
    fn view<'a>(&'a self, idx: u32, c: &'a Conn) -> Entry<'a> {
        let wide = self.wide_of(c);
        let cold = self.cold_of(idx, c);
        Entry {
            tuples: [c.tuple(0, wide.as_ref()), c.tuple(1, wide.as_ref())],
            zone: c.zone,
            status: c.ips(),
            id: c.id.get(),
            timeout_at_ns: self.timeout_ns(idx, c),
            counters: self.counters_of(idx, c),
            accounted: c.flags & conn_flags::ACCT != 0,
            timestamped: c.flags & conn_flags::TSTAMP != 0,
            start_ns: cold.map_or(0, |k| k.start_ns),
            mark: c.mark,
            helper: c.helper(),
            timeouts: cold.and_then(|k| k.timeouts.as_deref()),
            help: cold.and_then(|k| k.help.as_deref()),
            tcp: self.tcp_of(c),
        }
    }

    /// The cold part of the entry stored in slot `idx`, `c`.
    #[inline(always)]
    fn cold_of(&self, idx: u32, c: &Conn) -> Option<&Cold> {
        if c.has_cold() { self.cold.get(&idx) } else { None }
    }

    /// The timeout of the entry in slot `idx`, `c`, as
    /// [`Entry::timeout_at_ns`] shows it.
    #[inline(always)]
    fn timeout_ns(&self, idx: u32, c: &Conn) -> u64 {
        if c.timeout == FAR {
            return self.far_timeout_ns(idx, c);
        }
        self.timeout_j(idx, c) * TICK_NS
    }

    /// The timeout of the entry in slot `idx`, `c`, in jiffies: from the
    /// slot epoch once confirmed, relative before (as the kernel's
    /// `ct->timeout`); a [`FAR`] one from the cold part, rounded down to
    /// its jiffy.
    #[inline(always)]
    fn timeout_j(&self, idx: u32, c: &Conn) -> u64 {
        if c.timeout == FAR {
            return jiffies(self.far_timeout_ns(idx, c));
        }
        let base = if c.is_confirmed() { self.slot_epoch_j } else { 0 };
        base + u64::from(c.timeout)
    }

    /// A timeout kept in the cold part ([`FAR`]).
    #[cold]
    #[inline(never)]
    fn far_timeout_ns(&self, idx: u32, c: &Conn) -> u64 {
        self.cold_of(idx, c).map_or(0, |k| k.timeout_ns)
    }

    /// The timeout of slot `idx` is `ns` (as [`Entry::timeout_at_ns`]):
    /// in 32 bits where they hold it, else in the cold part.
    #[inline]
    fn set_timeout_ns(&mut self, idx: u32, ns: u64) {
        let epoch_j = self.slot_epoch_j;
        let e = self.em(idx);
        let base = if e.is_confirmed() { epoch_j } else { 0 };
        match (ns / TICK_NS).checked_sub(base) {
            Some(r) if ns.is_multiple_of(TICK_NS) && r < u64::from(FAR) => e.timeout = r as u32,
            _ => self.set_far_timeout(idx, ns),
        }
    }

    /// [`Tracker::set_timeout_ns`] of a timeout that 32 bits do not hold.
    #[cold]
    #[inline(never)]
    fn set_far_timeout(&mut self, idx: u32, ns: u64) {
        self.em(idx).timeout = FAR;
        self.cold_mut(idx).timeout_ns = ns;
    }

    /// Whether the confirmed entry in slot `idx` has timed out at jiffy
    /// `now_j` (its timeout is due: the kernel's nf_ct_is_expired).
    #[inline(always)]
    pub(crate) fn expired(&self, idx: u32, now_j: u64) -> bool {
        let c = self.e(idx);
        debug_assert!(c.is_confirmed());
        // `timeout_j` of a confirmed entry, without its test of
        // confirmation: this runs on every lookup.
        if c.timeout != FAR {
            return self.slot_epoch_j + u64::from(c.timeout) <= now_j;
        }
        jiffies(self.far_timeout_ns(idx, c)) <= now_j
    }

    /// A UDP entry's `stream_ts` (jiffies).
    pub(crate) fn stream_ts(&self, idx: u32, c: &Conn) -> u64 {
        if c.l4 < PAST { self.slot_epoch_j + u64::from(c.l4) } else { self.cold_of(idx, c).map_or(0, |k| k.stream_ts) }
    }

    /// Sets a UDP entry's `stream_ts` (jiffies).
    #[inline(always)]
    fn set_stream_ts(&mut self, idx: u32, j: u64) {
        match j.checked_sub(self.slot_epoch_j) {
            Some(r) if r < u64::from(PAST) => self.em(idx).l4 = r as u32,
            _ => self.set_far_stream_ts(idx, j),
        }
    }

    /// [`Tracker::set_stream_ts`] of a time that 32 bits from the epoch do
    /// not hold: [`PAST`] (before the epoch) or [`FAR`].
    #[cold]
    #[inline(never)]
    fn set_far_stream_ts(&mut self, idx: u32, j: u64) {
        self.em(idx).l4 = if j < self.slot_epoch_j { PAST } else { FAR };
        self.cold_mut(idx).stream_ts = j;
    }

    /// (packets, bytes) per direction of the entry in slot `idx`, `c`.
    fn counters_of(&self, idx: u32, c: &Conn) -> [(u64, u64); 2] {
        if c.flags & conn_flags::SPILLED != 0
            && let Some(a) = self.cold_of(idx, c).and_then(|k| k.acct.as_deref())
        {
            return *a;
        }
        c.acct.map(|[p, b]| (u64::from(p), u64::from(b)))
    }

    /// Counts a packet of `len` bytes in direction `d` of slot `idx`
    /// (nf_ct_acct_update: only a connection made while `acct` was on
    /// counts, [`conn_flags::ACCT`]).
    #[inline(always)]
    fn account(&mut self, idx: u32, d: usize, len: u64) {
        if !self.em(idx).count(d, len) {
            self.account_spilled(idx, d, len);
        }
    }

    /// [`Tracker::account`] past 32 bits: the counters move to (or are
    /// already in) the cold part.
    #[cold]
    #[inline(never)]
    fn account_spilled(&mut self, idx: u32, d: usize, len: u64) {
        let mut all = self.counters_of(idx, self.e(idx));
        all[d].0 += 1;
        all[d].1 += len;
        let e = self.em(idx);
        e.flags |= conn_flags::SPILLED;
        e.acct = [[u32::MAX, 0]; 2];
        **self.cold_mut(idx).acct.get_or_insert_with(Default::default) = all;
    }

    /// A wide entry's addresses.
    #[inline(always)]
    fn wide_of(&self, c: &Conn) -> Option<WideAddrs> {
        if c.is_wide() { self.wide.get(c.addr) } else { None }
    }

    /// A TCP entry's window tracker.
    #[inline(always)]
    fn tcp_of(&self, c: &Conn) -> Option<&TcpConn> {
        if c.proto == 6 && c.l4 != NO_TCP { self.tcp.get(c.l4) } else { None }
    }

    /// The TCP window tracker of slot `idx`, mutable.
    pub(crate) fn tcp_mut(&mut self, idx: u32) -> Option<&mut TcpConn> {
        let c = self.e(idx);
        if c.proto == 6 && c.l4 != NO_TCP { self.tcp.get_mut(c.l4) } else { None }
    }

    /// The tuple of direction `d` of slot `idx`.
    #[inline]
    pub(crate) fn tuple(&self, idx: u32, d: usize) -> Tuple {
        let c = self.e(idx);
        c.tuple(d, self.wide_of(c).as_ref())
    }

    /// The hash of slot `idx`'s tuple of direction `d` in its zone.
    fn hash_of(&self, idx: u32, d: usize) -> u32 {
        let c = self.e(idx);
        if c.is_wide() { tuple_hash(&self.tuple(idx, d), c.zone) } else { Key::of_conn(c, d).hash(c.zone) }
    }

    /// Both tuples of slot `idx`.
    pub(crate) fn tuples(&self, idx: u32) -> [Tuple; 2] {
        [self.tuple(idx, 0), self.tuple(idx, 1)]
    }

    /// Replaces the tuples of slot `idx` (NAT: the reply tuple of an
    /// unconfirmed entry).
    pub(crate) fn set_tuples(&mut self, idx: u32, t: &[Tuple; 2]) {
        let Tracker { slots, wide, .. } = self;
        let c = slots[idx as usize].as_mut().expect("live slot");
        if c.is_wide() {
            wide.take(c.addr);
        }
        store_tuples(c, t, wide);
    }

    /// The cold part of slot `idx`, if it has one.
    #[inline]
    pub(crate) fn cold(&self, idx: u32) -> Option<&Cold> {
        self.cold_of(idx, self.e(idx))
    }

    /// The cold part of slot `idx`, made if it has none.
    pub(crate) fn cold_mut(&mut self, idx: u32) -> &mut Cold {
        self.em(idx).flags |= conn_flags::COLD;
        self.cold.entry(idx).or_default()
    }

    /// Frees what slot `idx` holds in the side slabs.
    fn free_sides(&mut self, idx: u32) {
        let c = self.e(idx);
        let (wide, tcp, cold) = (c.is_wide().then_some(c.addr), c.proto == 6 && c.l4 != NO_TCP, c.has_cold());
        let l4 = c.l4;
        if let Some(w) = wide {
            self.wide.take(w);
        }
        if tcp {
            self.tcp.take(l4);
        }
        if cold {
            self.cold.remove(&idx);
        }
    }

    /// `ct mark set`: nft_ct_set_eval caches IPCT_MARK when the mark changes.
    pub fn set_mark(&mut self, h: Handle, mark: u32) {
        if let Some(e) = self.conn_mut(h)
            && e.mark != mark
        {
            e.mark = mark;
            e.add_pending(ipct::MARK);
        }
    }

    /// `ct helper set` (nft_ct_helper_obj_eval) and the like: attaches a
    /// helper to the connection. The caller decides when that is allowed
    /// (the kernel assigns one only to a connection not yet confirmed).
    pub fn set_helper(&mut self, h: Handle, helper: Option<crate::Helper>) {
        if let Some(e) = self.conn_mut(h) {
            e.set_helper(helper);
        }
    }

    /// Confirmed entries in insertion order.
    pub fn entries(&self) -> impl Iterator<Item = Entry<'_>> + '_ {
        self.in_order().into_iter().filter_map(move |i| self.slots[i as usize].as_ref().map(|c| self.view(i, c)))
    }

    /// The slots of the confirmed entries in insertion order (by
    /// confirmation number).
    fn in_order(&self) -> Vec<u32> {
        let mut v: Vec<(u32, u32)> =
            (self.order.iter().enumerate()).filter(|(_, o)| o.seq != NIL).map(|(i, o)| (o.seq, i as u32)).collect();
        v.sort_unstable();
        v.into_iter().map(|(_, i)| i).collect()
    }

    /// Gives the next confirmation number to slot `idx`; when the numbers
    /// run out, the confirmed entries are numbered again from 0 in their
    /// order.
    fn number(&mut self, idx: u32) {
        if self.next_seq == NIL {
            let all = self.in_order();
            for (n, &i) in all.iter().enumerate() {
                self.order[i as usize].seq = n as u32;
            }
            self.next_seq = all.len() as u32;
        }
        self.order[idx as usize].seq = self.next_seq;
        self.next_seq += 1;
    }

    /// The events delivered since the last call, oldest first.
    pub fn take_events(&mut self) -> Vec<Event> {
        core::mem::take(&mut self.events)
    }

    /// Moves the pending events into `out` (keeps both buffers' capacity).
    pub fn drain_events(&mut self, out: &mut Vec<Event>) {
        out.append(&mut self.events);
    }

    fn handle(&self, idx: u32) -> Handle {
        let id = self.slots[idx as usize].as_ref().map_or(0, |e| e.id.get());
        Handle { idx, id, reply: false }
    }

    #[inline(always)]
    fn e(&self, idx: u32) -> &Conn {
        self.slots[idx as usize].as_ref().expect("live slot")
    }

    #[inline(always)]
    fn em(&mut self, idx: u32) -> &mut Conn {
        self.slots[idx as usize].as_mut().expect("live slot")
    }

    /// The bucket of a hash: reciprocal_scale of a 32-bit hash, as
    /// hash_conntrack(), with bit 0 (which endpoint came first,
    /// [`tuple_hash`]) set either way, so a tuple and its mirror image
    /// share a bucket.
    #[inline]
    fn bucket_of(&self, h: u32) -> usize {
        ((u64::from(h | 1) * self.heads.len() as u64) >> 32) as usize
    }

    fn bucket(&self, t: &Tuple, zone: u16) -> usize {
        self.bucket_of(tuple_hash(t, zone))
    }

    /// The node whose tuple equals `t` in `zone` (no expiry check).
    fn find_raw(&self, t: &Tuple, zone: u16) -> Option<(u32, Dir)> {
        self.find_in(tuple_hash(t, zone), t, zone)
    }

    /// [`Tracker::find_raw`], `h` being `t`'s hash: walks the chain of its
    /// bucket in the link array and compares the entries whose tag
    /// matches (the same nodes, in the same order, as comparing every
    /// entry: a node whose tag differs cannot hold `t` in `zone`).
    #[inline(always)]
    fn find_in(&self, h: u32, t: &Tuple, zone: u16) -> Option<(u32, Dir)> {
        self.find_key(h, &Key::of(t), Some(t), zone)
    }

    /// [`Tracker::find_in`] by key: `t`, the key's tuple, may be left out
    /// for a narrow key.
    #[inline(always)]
    fn find_key(&self, h: u32, k: &Key, t: Option<&Tuple>, zone: u16) -> Option<(u32, Dir)> {
        let tag = h as u16;
        let mut node = self.heads.first_for(self.bucket_of(h), h);
        while node != NIL {
            let (idx, d) = (node >> 1, (node & 1) as usize);
            let l = &self.links[idx as usize];
            if l.tag[d] == tag && self.holds(self.e(idx), d, k, t, zone) {
                return Some((idx, if d == 0 { Dir::Original } else { Dir::Reply }));
            }
            node = l.next[d];
            // The chain goes on with the entry's other node (a connection
            // whose tuples share the bucket, linked one after the other):
            // its tag and next node are in the link just read.
            if node == (idx << 1 | d as u32) ^ 1 {
                if l.tag[d ^ 1] == tag && self.holds(self.e(idx), d ^ 1, k, t, zone) {
                    return Some((idx, if d == 0 { Dir::Reply } else { Dir::Original }));
                }
                node = l.next[d ^ 1];
            }
        }
        None
    }

    /// `c`'s tuple of direction `d` is the tuple of key `k` (`t`) in
    /// `zone`.
    #[inline(always)]
    fn holds(&self, c: &Conn, d: usize, k: &Key, t: Option<&Tuple>, zone: u16) -> bool {
        if c.ports[d] != k.ports || c.zone != zone || c.flags & conn_flags::V6 != k.fam || c.proto != k.proto {
            return false;
        }
        if c.is_wide() { self.wide_holds(c, d, k, t) } else { k.narrow && c.addr[d] == k.addr }
    }

    /// [`Tracker::holds`]' address comparison for a wide entry.
    #[cold]
    #[inline(never)]
    fn wide_holds(&self, c: &Conn, d: usize, k: &Key, t: Option<&Tuple>) -> bool {
        let (src, dst) = match t {
            Some(t) => (t.src, t.dst),
            None => k.addrs(),
        };
        self.wide_of(c).is_some_and(|w| w[2 * d] == src && w[2 * d + 1] == dst)
    }

    /// __nf_conntrack_find_get: an expired entry found on the way is
    /// destroyed (nf_ct_gc_expired) and not returned.
    #[inline(always)]
    fn find(&mut self, t: &Tuple, zone: u16, now_ns: u64) -> Option<(u32, Dir)> {
        self.find_at(tuple_hash(t, zone), t, zone, now_ns)
    }

    /// [`Tracker::find`], `h` being `t`'s hash.
    #[inline(always)]
    fn find_at(&mut self, h: u32, t: &Tuple, zone: u16, now_ns: u64) -> Option<(u32, Dir)> {
        self.find_key_at(h, &Key::of(t), Some(t), zone, now_ns)
    }

    /// [`Tracker::find_at`] by key (see [`Tracker::find_key`]).
    #[inline(always)]
    fn find_key_at(&mut self, h: u32, k: &Key, t: Option<&Tuple>, zone: u16, now_ns: u64) -> Option<(u32, Dir)> {
        let (idx, dir) = self.find_key(h, k, t, zone)?;
        if self.expired(idx, jiffies(now_ns)) {
            self.destroy_cold(idx, now_ns);
            return None;
        }
        Some((idx, dir))
    }

    /// [`Tracker::destroy`] out of the packet path's way.
    #[cold]
    #[inline(never)]
    fn destroy_cold(&mut self, idx: u32, now_ns: u64) {
        self.destroy(idx, now_ns);
    }

    // ---- the packet path -------------------------------------------------

    /// nf_conntrack_in at prerouting; see [`Tracker::packet_at`].
    #[inline]
    pub fn packet(&mut self, pkt: &[u8], frame: &Frame, now_ns: u64, zone: u16) -> Verdict {
        self.packet_at(pkt, frame, now_ns, zone, Hook::Prerouting)
    }

    /// nf_conntrack_in: classifies the packet and updates the table. A NEW
    /// packet gets an unconfirmed entry; whatever the state, when the
    /// verdict has a handle and the packet survives the last hook the
    /// caller calls [`Tracker::confirm`] (which also delivers the events
    /// the packet caused), or [`Tracker::abandon`] if it was dropped.
    pub fn packet_at(&mut self, pkt: &[u8], frame: &Frame, now_ns: u64, zone: u16, hook: Hook) -> Verdict {
        self.clock_ns = self.clock_ns.max(now_ns);
        self.packet_inner(pkt, frame, now_ns, zone, hook, NIL)
    }

    /// [`Tracker::packet_at`] for the packet whose lookup `la` started
    /// [`Lookahead::depth`] calls of [`Tracker::look_ahead`] ago (the
    /// packet handled now in a batch the caller runs itself): the lookup
    /// starts from the node the lookup ahead found, if any, and walks the
    /// chain only where that node is not the packet's. The same result as
    /// [`Tracker::packet_at`] whatever `la` holds ([`Tracker::hinted`]).
    pub fn packet_ahead(
        &mut self,
        la: &Lookahead,
        pkt: &[u8],
        frame: &Frame,
        now_ns: u64,
        zone: u16,
        hook: Hook,
    ) -> Verdict {
        self.clock_ns = self.clock_ns.max(now_ns);
        self.packet_inner(pkt, frame, now_ns, zone, hook, la.found())
    }

    /// A batch of packets (bytes and frame each) through
    /// [`Tracker::packet_at`], in order, with `then` called after each
    /// with its index and verdict — where the caller runs its hooks and
    /// [`Tracker::confirm`]s or [`Tracker::abandon`]s it — before the next
    /// packet. Exactly what the sequence of `packet_at` and `then` calls
    /// would do; the difference is speed in a large table, where each
    /// step of a lookup (bucket head, chain link, slot, TCP state) is a
    /// cache miss that depends on the one before. Here the lookups of the
    /// packets ahead are walked in steps, one step per packet handled: the
    /// bucket head of packet `i + 10` starts loading while packet `i` is
    /// handled, and each of the packets `i + 8`, `i + 6`, `i + 4` and
    /// `i + 2` takes one more step (every third packet instead of every
    /// second in a table larger than the cache, [`Tracker::begin_ahead`]),
    /// reading the line its last step loaded
    /// (by now in cache) and starting to load the next ones (see
    /// [`Lookahead::at`]). So the misses of several lookups are in flight
    /// at once, and the packet handled finds its lines loaded. What a
    /// lookup ahead found — the node whose tag is the packet's hash — is
    /// where the packet's own lookup starts ([`Tracker::packet_ahead`]):
    /// neither the hash nor the walk again where the node holds the
    /// packet's tuple. Only hints: the lookups ahead read and load, and a
    /// node found is checked (a chain changed in between is simply walked
    /// again). A table of fewer than [`Lookahead::FROM`] connections, in
    /// cache, is looked up without them.
    pub fn packet_batch<F>(&mut self, batch: &[(&[u8], &Frame)], now_ns: u64, zone: u16, hook: Hook, mut then: F)
    where
        F: FnMut(&mut Tracker, usize, Verdict),
    {
        if !self.worth_ahead() {
            for (i, &(pkt, frame)) in batch.iter().enumerate() {
                let v = self.packet_at(pkt, frame, now_ns, zone, hook);
                then(self, i, v);
            }
            return;
        }
        let mut la = Lookahead::default();
        let depth = self.begin_ahead(&mut la);
        // From `depth` packets before the first one: the lookups of the
        // first packets have gone their steps when those are handled.
        for i in 0..batch.len() + depth {
            let next = batch.get(i).and_then(|&(pkt, frame)| self.start_ahead(pkt, frame, zone));
            self.step_all(&mut la, next);
            if let Some(i) = i.checked_sub(depth) {
                let (pkt, frame) = batch[i];
                let v = self.packet_ahead(&la, pkt, frame, now_ns, zone, hook);
                then(self, i, v);
            }
        }
    }

    /// One packet further in a batch the caller runs through
    /// [`Tracker::packet_ahead`] itself (the datapath, which runs the raw
    /// chains before conntrack): starts the lookup of the packet
    /// [`Lookahead::depth`] places ahead — `next`, its bytes from the IP
    /// header on, or `None` past the end of the batch — and moves the
    /// lookups of the packets between on by a step, as
    /// [`Tracker::packet_batch`] does. Call [`Tracker::begin_ahead`] at the
    /// start of a batch, then this as many times as it says before the
    /// first packet (with the first packets of the batch), and once before
    /// each packet. Only hints, as there: IPv4 only, looked up
    /// in `zone` (a packet that ends in another zone, or untracked, has
    /// only loaded lines it does not use, and walks its chain).
    pub fn look_ahead(&self, la: &mut Lookahead, next: Option<&[u8]>, zone: u16) {
        if !self.worth_ahead() {
            la.start(None);
            return;
        }
        let next = next.and_then(|ip| self.start_ahead_ip(ip, zone));
        self.step_all(la, next);
    }

    /// [`Lookahead::FROM`] and [`Lookahead::FAR_FROM`].
    #[inline(always)]
    fn ahead_from(&self) -> [usize; 2] {
        #[cfg(test)]
        return self.ahead_from;
        #[cfg(not(test))]
        [Lookahead::FROM, Lookahead::FAR_FROM]
    }

    /// The table is large enough for lookups ahead ([`Lookahead::FROM`]).
    #[inline(always)]
    fn worth_ahead(&self) -> bool {
        self.count >= self.ahead_from()[0]
    }

    /// Before a batch the caller runs through [`Tracker::look_ahead`] and
    /// [`Tracker::packet_ahead`]: sets the steps of `la` for this table's
    /// size (a gap of 3 packets between steps from
    /// [`Lookahead::FAR_FROM`] connections, else 2) and returns
    /// [`Lookahead::depth`], how many packets ahead lookups start — the
    /// number of [`Tracker::look_ahead`] calls before the batch's first
    /// packet. (A table that grows past the bound within a batch keeps its
    /// steps until the next; lookups ahead are only hints, and changing the
    /// gap at any time changes only what they load.)
    pub fn begin_ahead(&self, la: &mut Lookahead) -> usize {
        la.gap = if self.count >= self.ahead_from()[1] { 3 } else { 2 };
        la.depth()
    }

    /// The schedule of [`Tracker::packet_batch`]: the lookup of the packet
    /// `la.count` starts (`next`: its hash, and whether it is a TCP
    /// segment), and those of the packets `gap`, `2 gap`, ... `STEPS gap`
    /// before it take a step each. A place's state follows from how far
    /// behind it is: a lookup `gap` behind is at its bucket head or done,
    /// further ones in the chain or done. A new `Lookahead` is done
    /// everywhere, so the places before the first packet need no check.
    #[inline]
    fn step_all(&self, la: &mut Lookahead, next: Option<(u32, bool)>) {
        // The places' distances as constants (a gap read from `la` costs
        // 13 instructions a packet).
        if la.gap == 3 { self.step_all_by::<3>(la, next) } else { self.step_all_by::<2>(la, next) }
    }

    /// [`Tracker::step_all`] with a gap of `GAP`.
    #[inline(always)]
    fn step_all_by<const GAP: usize>(&self, la: &mut Lookahead, next: Option<(u32, bool)>) {
        const MASK: usize = Lookahead::MASK;
        let c = la.start(next);
        let i = c.wrapping_sub(GAP) & MASK;
        if la.at[i] == HEAD {
            let h = la.h[i];
            la.at[i] = self.node_ahead(self.heads.first_for(self.bucket_of(h), h));
        }
        for s in 2..=Lookahead::STEPS {
            let i = c.wrapping_sub(GAP * s) & MASK;
            let node = la.at[i];
            if node != NIL {
                match self.link_ahead(la.h[i], node, la.tcp[i]) {
                    Step::Next(next) => la.at[i] = next,
                    Step::Found(node) => (la.at[i], la.found[i]) = (NIL, node),
                }
            }
        }
    }

    /// [`Tracker::start_ahead`] from the bytes of an IPv4 packet, without
    /// a parsed frame: the addresses, the protocol and the ports of a
    /// first fragment whose headers are whole; nothing for anything else.
    fn start_ahead_ip(&self, ip: &[u8], zone: u16) -> Option<(u32, bool)> {
        let h = ip.get(..20).filter(|h| h[0] >> 4 == 4)?;
        let (ihl, total) = (usize::from(h[0] & 0xf) * 4, usize::from(be16(h, 2)));
        if ihl < 20 || be16(h, 6) & 0x1fff != 0 {
            return None;
        }
        let proto = h[9];
        let ports = l4_ports(ip, ihl, total, proto)?;
        let addrs = (h[12..16].try_into().expect("4 bytes"), h[16..20].try_into().expect("4 bytes"));
        Some(self.ahead_v4(addrs, proto, ports, zone))
    }

    /// The first step of a lookup ahead, for an IPv4 packet's addresses,
    /// protocol and ports (as [`l4_ports`] reads them): the load of the
    /// bucket head of its key's hash. Returns the hash, and whether the
    /// packet is a TCP segment.
    #[inline]
    fn ahead_v4(&self, (src, dst): ([u8; 4], [u8; 4]), proto: u8, (sp, dp): (u16, u16), zone: u16) -> (u32, bool) {
        let ports = u32::from(sp) | u32::from(dp) << 16;
        let h = Key { addr: pair(src, dst), ports, l3: L3_IPV4, fam: 0, proto, narrow: true }.hash(zone);
        crate::memhint::prefetch(self.heads.as_ptr().wrapping_add(self.bucket_of(h)));
        (h, proto == 6)
    }

    /// Starts the lookup ahead of a packet of a batch: the load of the
    /// bucket head of its tuple. IPv4 only (the common case; other
    /// packets are looked up without help).
    #[inline]
    fn start_ahead(&self, pkt: &[u8], frame: &Frame, zone: u16) -> Option<(u32, bool)> {
        let n = frame.network.as_ref()?;
        let (Some(IpAddr::V4(s)), Some(IpAddr::V4(d)), Some(proto)) = (n.src, n.dst, n.protocol) else {
            return None;
        };
        let th = frame.transport.map(|t| t.offset).unwrap_or(n.offset + n.header_len);
        let ports = l4_ports(pkt, th, n.end, proto)?;
        Some(self.ahead_v4((s.octets(), d.octets()), proto, ports, zone))
    }

    /// A step of a lookup ahead to chain node `node` (NIL: the chain's
    /// end): starts loading its link and its entry's slot, and returns
    /// the node. Steps only read (any index is checked): the table may
    /// have changed since the last step, which then loads lines the
    /// packet does not need, or finds a node that is not the packet's
    /// ([`Tracker::hinted`] checks).
    #[inline]
    fn node_ahead(&self, node: u32) -> u32 {
        if node != NIL {
            let idx = (node >> 1) as usize;
            crate::memhint::prefetch(self.links.as_ptr().wrapping_add(idx));
            crate::memhint::prefetch(self.slots.as_ptr().wrapping_add(idx));
        }
        node
    }

    /// The step of a lookup ahead for hash `h` at chain node `node`, whose
    /// link (and slot) the last step started loading: the walk of
    /// `find_key`, by the tags only. The node if its tag matches, or its
    /// entry's other node where the chain goes on with that one and its
    /// tag matches; else on to the next node.
    #[inline]
    fn link_ahead(&self, h: u32, node: u32, tcp: bool) -> Step {
        let (idx, d) = (node >> 1, (node & 1) as usize);
        let Some(l) = self.links.get(idx as usize) else { return Step::Next(NIL) };
        let tag = h as u16;
        let node = if l.tag[d] == tag {
            node
        } else if l.next[d] != node ^ 1 {
            return Step::Next(self.node_ahead(l.next[d]));
        } else if l.tag[d ^ 1] == tag {
            node ^ 1
        } else {
            return Step::Next(self.node_ahead(l.next[d ^ 1]));
        };
        // A TCP segment's last line is its entry's window tracker: the
        // slot, loading with the link, names it. (Reading the slot here
        // rather than a step later was faster for TCP in large tables, and
        // slower for UDP, which has nothing to load after the slot.)
        if tcp
            && let Some(Some(c)) = self.slots.get(idx as usize)
            && c.proto == 6
            && c.l4 != NO_TCP
        {
            let p = self.tcp.items.as_ptr().wrapping_add(c.l4 as usize);
            crate::memhint::prefetch(p);
            crate::memhint::prefetch(p.cast::<u8>().wrapping_add(size_of::<Option<TcpConn>>() - 1));
        }
        Step::Found(node)
    }

    /// `ct timeout set` (nft_ct_timeout_obj_eval): a connection not
    /// confirmed yet gets its own timeouts, and its timeout restarts from
    /// the policy's first one (the state a new connection is in: TCP
    /// syn_sent, UDP unreplied, ICMP timeout). Nothing happens to a
    /// confirmed connection (measured on Linux 6.18: `ct timeout set` in a
    /// chain before conntrack, or on a later packet, changes nothing).
    pub fn set_timeouts(&mut self, h: Handle, timeouts: crate::Timeouts) -> bool {
        let Some(e) = self.conn(h) else { return false };
        if e.is_confirmed() || e.status & status::FIXED_TIMEOUT != 0 {
            return false;
        }
        let first = match e.proto() {
            6 => timeouts.tcp.timeout_syn_sent,
            17 | 136 => timeouts.udp,
            1 => timeouts.icmp,
            58 => timeouts.icmpv6,
            _ => timeouts.generic,
        };
        // Relative until confirmation, as refresh keeps it.
        self.set_timeout_ns(h.idx, first.saturating_mul(HZ).saturating_mul(TICK_NS));
        self.cold_mut(h.idx).timeouts = Some(Box::new(timeouts));
        true
    }

    /// nf_conntrack_in; `hint`: a node that may hold the packet's tuple
    /// ([`Tracker::hinted`]), or NIL. Inlined into [`Tracker::packet_at`],
    /// where the hint is NIL and its check goes, and into
    /// [`Tracker::packet_ahead`] (a call and the check cost the one
    /// packet at a time 17 instructions, 3 ns at 1k).
    #[inline(always)]
    fn packet_inner(&mut self, pkt: &[u8], frame: &Frame, now_ns: u64, zone: u16, hook: Hook, hint: u32) -> Verdict {
        let Some(n) = frame.network.as_ref() else { return Verdict::invalid(None) };
        let l3 = match n.kind {
            NetworkKind::Ipv4 => L3_IPV4,
            NetworkKind::Ipv6 => L3_IPV6,
            _ => return Verdict::invalid(None),
        };
        // A bad IP header never reaches the hooks (ip_rcv_core/ipv6_rcv).
        let Some(proto) = n.protocol else { return Verdict::invalid(None) };
        if matches!(frame.malformed, Some(m) if matches!(m.layer, Layer::Ipv4 | Layer::Ipv6 | Layer::Ipv6Ext)) {
            return Verdict::invalid(None);
        }
        // get_l4proto refuses non-first fragments (conntrack normally sees
        // reassembled datagrams: nf_defrag runs before it).
        if frame.is_later_fragment() {
            self.stats.invalid += 1;
            return Verdict::invalid(None);
        }
        if ((l3 == L3_IPV4 && proto == 1) || (l3 == L3_IPV6 && proto == 58))
            && let Some(v) = self.icmp_error(pkt, frame, n, l3, zone, hook, now_ns)
        {
            return v;
        }
        let th = frame.transport.map(|t| t.offset).unwrap_or(n.offset + n.header_len);
        let Some((src_port, dst_port)) = l4_ports(pkt, th, n.end, proto) else {
            self.stats.invalid += 1;
            return Verdict::invalid(None);
        };
        // IPv4: the key and the hash straight from the addresses; the
        // whole tuple is needed only for a new entry.
        let (Some(IpAddr::V4(s)), Some(IpAddr::V4(d))) = (&n.src, &n.dst) else {
            return self.packet_wide(src_port, dst_port, l3, proto, pkt, frame, n, zone, hook, now_ns);
        };
        let ports = u32::from(src_port) | u32::from(dst_port) << 16;
        let fam = family_flag(l3);
        let k = Key { addr: pair(s.octets(), d.octets()), ports, l3, fam, proto, narrow: true };
        if let Some((idx, dir)) = self.hinted(hint, &k, zone) {
            return self.packet_found(idx, dir, k, pkt, frame, n, zone, hook, now_ns);
        }
        self.packet_keyed(k.hash(zone), k, None, pkt, frame, n, zone, hook, now_ns)
    }

    /// The node of `hint` (`idx << 1 | dir`, NIL for none) if it holds the
    /// tuple of narrow key `k` in `zone`: what [`Tracker::find_key`] finds
    /// for it, without the hash or the chain walk. A confirmed entry is
    /// linked in the chains of both its tuples, and confirmation refuses an
    /// entry with a tuple already in the table: so a confirmed entry
    /// holding the tuple is the only one, and its node the one the walk
    /// finds — except in an entry whose two tuples are equal, where the
    /// walk finds the reply node first (linked after the original one, so
    /// nearer the head). Anything else (a free slot, an entry not confirmed
    /// or holding another tuple) is not the packet's: `None`, and the
    /// caller walks the chain.
    #[inline(always)]
    fn hinted(&self, hint: u32, k: &Key, zone: u16) -> Option<(u32, Dir)> {
        if hint == NIL {
            return None;
        }
        let (idx, d) = (hint >> 1, (hint & 1) as usize);
        let c = self.slots.get(idx as usize)?.as_ref()?;
        if !c.is_confirmed() || !self.holds(c, d, k, None, zone) {
            return None;
        }
        let reply = d == 1 || self.holds(c, 1, k, None, zone);
        Some((idx, if reply { Dir::Reply } else { Dir::Original }))
    }

    /// [`Tracker::packet_keyed`] for a packet whose entry was found by
    /// [`Tracker::hinted`]: the expiry check of [`Tracker::find_key_at`],
    /// then the protocol tracker; the key is hashed only where the packet
    /// goes on to a lookup again.
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    fn packet_found(
        &mut self,
        idx: u32,
        dir: Dir,
        k: Key,
        pkt: &[u8],
        frame: &Frame,
        n: &NetworkInfo,
        zone: u16,
        hook: Hook,
        now_ns: u64,
    ) -> Verdict {
        if self.expired(idx, jiffies(now_ns)) {
            self.destroy_cold(idx, now_ns);
            return self.packet_again(true, 3, k.hash(zone), k, None, pkt, frame, n, zone, hook, now_ns);
        }
        match self.track(idx, dir, false, k.proto, pkt, frame, n, hook, now_ns) {
            Some(v) => v,
            None => self.packet_again(false, 2, k.hash(zone), k, None, pkt, frame, n, zone, hook, now_ns),
        }
    }

    /// [`Tracker::packet_inner`] past the headers for a packet whose
    /// addresses are not both IPv4 ones: lookups take its whole tuple.
    #[inline(never)]
    #[allow(clippy::too_many_arguments)]
    fn packet_wide(
        &mut self,
        src_port: u16,
        dst_port: u16,
        l3: u8,
        proto: u8,
        pkt: &[u8],
        frame: &Frame,
        n: &NetworkInfo,
        zone: u16,
        hook: Hook,
        now_ns: u64,
    ) -> Verdict {
        let t = Tuple { src: addr_bytes(n.src), dst: addr_bytes(n.dst), src_port, dst_port, l3, proto };
        self.packet_keyed(tuple_hash(&t, zone), Key::of(&t), Some(&t), pkt, frame, n, zone, hook, now_ns)
    }

    /// [`Tracker::packet_inner`] from the packet's key `k` (its hash `h`,
    /// and its tuple `t` where lookups need it besides the key).
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    fn packet_keyed(
        &mut self,
        h: u32,
        k: Key,
        t: Option<&Tuple>,
        pkt: &[u8],
        frame: &Frame,
        n: &NetworkInfo,
        zone: u16,
        hook: Hook,
        now_ns: u64,
    ) -> Verdict {
        // The usual packet: one of an entry in the table, which its
        // protocol tracker accepts. Creation and the lookups again after a
        // reopened TCP connection are out of line.
        match self.find_key_at(h, &k, t, zone, now_ns) {
            Some((idx, dir)) => match self.track(idx, dir, false, k.proto, pkt, frame, n, hook, now_ns) {
                Some(v) => v,
                None => self.packet_again(false, 2, h, k, t, pkt, frame, n, zone, hook, now_ns),
            },
            None => self.packet_again(true, 3, h, k, t, pkt, frame, n, zone, hook, now_ns),
        }
    }

    /// The rest of [`Tracker::packet_inner`] when the packet does not end
    /// at its first lookup: up to `tries` rounds of lookup (or creation)
    /// and protocol tracker, as long as the tracker asks to reopen the
    /// connection (-NF_REPEAT). `missed`: the first round's lookup was done
    /// and found nothing. `k` is the packet's key (hash `h`), `t` its tuple
    /// where lookups need it besides the key (not both IPv4 addresses).
    #[inline(never)]
    #[allow(clippy::too_many_arguments)]
    fn packet_again(
        &mut self,
        mut missed: bool,
        tries: usize,
        h: u32,
        k: Key,
        t: Option<&Tuple>,
        pkt: &[u8],
        frame: &Frame,
        n: &NetworkInfo,
        zone: u16,
        hook: Hook,
        now_ns: u64,
    ) -> Verdict {
        // The whole tuple a new entry is made from.
        let whole = t.copied().unwrap_or_else(|| Tuple {
            src: addr_bytes(n.src),
            dst: addr_bytes(n.dst),
            src_port: k.ports as u16,
            dst_port: (k.ports >> 16) as u16,
            l3: k.l3,
            proto: k.proto,
        });
        for _ in 0..tries {
            let found = if core::mem::take(&mut missed) { None } else { self.find_key_at(h, &k, t, zone, now_ns) };
            let (idx, dir, new) = match found {
                Some((idx, dir)) => (idx, dir, false),
                None => match self.init_conntrack(&whole, h, zone, now_ns) {
                    Ok(idx) => (idx, Dir::Original, true),
                    Err(v) => return v,
                },
            };
            if let Some(v) = self.track(idx, dir, new, k.proto, pkt, frame, n, hook, now_ns) {
                return v;
            }
        }
        // The TCP tracker asked to reopen more than twice in a row.
        self.stats.invalid += 1;
        Verdict::invalid(None)
    }

    /// One round of [`Tracker::packet_inner`] on entry `idx` (found in
    /// direction `dir`, or `new`ly made): the packet's ctinfo
    /// (resolve_normal_ct), the protocol tracker, the packet's verdict.
    /// `None`: the tracker destroyed the entry and the packet starts a new
    /// connection (-NF_REPEAT).
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    fn track(
        &mut self,
        idx: u32,
        dir: Dir,
        new: bool,
        proto: u8,
        pkt: &[u8],
        frame: &Frame,
        n: &NetworkInfo,
        hook: Hook,
        now_ns: u64,
    ) -> Option<Verdict> {
        #[cfg(test)]
        let fast = !self.general_only;
        #[cfg(not(test))]
        let fast = true;
        if fast
            && !new
            && proto == 6
            && let Some(v) = self.tcp_established(idx, dir, pkt, frame, n, hook, now_ns)
        {
            #[cfg(test)]
            {
                self.fast_taken += 1;
            }
            return Some(v);
        }
        match self.handle_packet(idx, dir, new, proto, pkt, frame, n, hook, now_ns) {
            Outcome::Accept { id, state } => {
                let handle = Handle { idx, id, reply: false };
                Some(Verdict { handle: Some(handle), state, dir, reason: None, drop: false })
            }
            Outcome::Invalid(reason) => {
                if new {
                    self.release(idx);
                }
                self.stats.invalid += 1;
                Some(Verdict::invalid(reason))
            }
            Outcome::Repeat => None,
            Outcome::Killed { state } => Some(Verdict { handle: None, state, dir, reason: None, drop: false }),
        }
    }

    /// nf_conntrack_icmpv4_error / nf_conntrack_icmpv6_error and
    /// nf_conntrack_inet_error. `None`: not an error message, track the
    /// packet normally.
    #[inline(never)]
    #[allow(clippy::too_many_arguments)]
    fn icmp_error(
        &mut self,
        pkt: &[u8],
        frame: &Frame,
        n: &NetworkInfo,
        l3: u8,
        zone: u16,
        hook: Hook,
        now_ns: u64,
    ) -> Option<Verdict> {
        let v4 = l3 == L3_IPV4;
        let Some(t) = frame.transport.filter(|t| t.header_len > 0) else {
            self.stats.error += 1;
            return Some(Verdict::invalid(Some("short packet")));
        };
        if checksum_due(&self.cfg, hook, frame) && frame.l4_checksum_ok(pkt) == Some(false) {
            self.stats.error += 1;
            return Some(Verdict::invalid(Some(if v4 { "bad hw icmp checksum" } else { "ICMPv6 checksum failed" })));
        }
        let ty = pkt[t.offset];
        if v4 {
            // RFC 1122 3.2.2: unknown types (> NR_ICMP_TYPES = 18).
            if ty > 18 {
                self.stats.error += 1;
                return Some(Verdict::invalid(Some("invalid icmp type")));
            }
            // icmp_is_err: unreachable, source quench, redirect, time
            // exceeded, parameter problem.
            if !matches!(ty, 3 | 4 | 5 | 11 | 12) {
                return None;
            }
        } else {
            // noct_valid_new: MLD and neighbour discovery are untracked.
            if matches!(ty, 130..=136 | 143) {
                return Some(Verdict { state: CtState::Untracked, ..Verdict::invalid(None) });
            }
            if ty >= 128 {
                return None;
            }
        }
        // "Are they talking about one of our connections?" The quoted
        // header is parsed as the outer family; its tuple inverted must
        // match an entry.
        let related = frame.inner.and_then(|inner| {
            let th = inner.th_offset?;
            let base = Tuple {
                src: addr_bytes(Some(inner.src)),
                dst: addr_bytes(Some(inner.dst)),
                l3,
                proto: inner.protocol,
                ..Tuple::default()
            };
            l4_tuple(pkt, th, inner.end, base)?.invert()
        });
        let Some(inner) = related else {
            self.stats.error += 1;
            return Some(Verdict::invalid(None));
        };
        let Some((idx, dir)) = self.find(&inner, zone, now_ns) else {
            self.stats.error += 1;
            return Some(Verdict::invalid(None));
        };
        // The error must be addressed to where the connection's packets in
        // that direction go (conntrack[dir].dst == outer daddr).
        if self.tuple(idx, dir as usize).dst != addr_bytes(n.dst) {
            self.stats.error += 1;
            return Some(Verdict::invalid(Some("outer daddr != inner")));
        }
        Some(Verdict { handle: Some(self.handle(idx)), state: CtState::Related, dir, reason: None, drop: false })
    }

    /// init_conntrack: a new unconfirmed entry for `tuple` (of hash `h`),
    /// after early drop when the table is full.
    #[inline(never)]
    fn init_conntrack(&mut self, tuple: &Tuple, h: u32, zone: u16, now_ns: u64) -> Result<u32, Verdict> {
        let Some(reply) = tuple.invert() else {
            self.stats.invalid += 1;
            return Err(Verdict::invalid(None));
        };
        // Confirmation will link the reply tuple into its bucket: start
        // loading that bucket head now (a cache miss in a large table,
        // where the reply tuple is not this one turned round: ICMP).
        let rh = tuple_hash(&reply, zone);
        crate::memhint::prefetch(self.heads.as_ptr().wrapping_add(self.bucket_of(rh)));
        self.made = Some(Made { tuples: [*tuple, reply], compact: None, zone, hashes: [h, rh] });
        if self.cfg.max != 0 && self.count >= self.cfg.max && !self.early_drop(self.bucket_of(h), now_ns) {
            self.gc_early_drop = true;
            self.stats.drop += 1;
            return Err(Verdict { drop: true, ..Verdict::invalid(Some("table full, dropping packet")) });
        }
        let id = core::num::NonZeroU32::new(self.next_id).expect("ids start at 1");
        self.next_id = self.next_id.wrapping_add(1).max(1);
        if self.count == 0 {
            // No slot holds a time: count them from now on (less a margin
            // for a clock that goes back a little).
            self.slot_epoch_j = jiffies(now_ns).saturating_sub(SLOT_EPOCH_MARGIN).min(MAX_SLOT_EPOCH);
        }
        let mut conn = Conn {
            addr: [0; 2],
            ports: [0; 2],
            zone,
            proto: 0,
            // nf_ct_acct_ext_add, nf_ct_tstamp_ext_add: counters and times
            // for a connection made while they are on, for its whole life.
            flags: if self.cfg.acct { conn_flags::ACCT } else { 0 }
                | if self.cfg.timestamp { conn_flags::TSTAMP } else { 0 },
            status: 0,
            timeout: 0,
            l4: if tuple.proto == 6 { NO_TCP } else { 0 },
            acct: [[0; 2]; 2],
            id,
            mark: 0,
        };
        store_tuples(&mut conn, &[*tuple, reply], &mut self.wide);
        if let Some(m) = self.made.as_mut().filter(|_| !conn.is_wide()) {
            m.compact = Some((conn.addr, conn.ports));
        }
        let idx = match self.free.pop() {
            Some(i) => {
                self.slots[i as usize] = Some(conn);
                self.links[i as usize] = UNLINKED;
                self.order[i as usize] = UNORDERED;
                i
            }
            None => {
                // A full array grows into a fresh block backed by huge
                // pages, by a sixteenth or an eighth ([`BigVec`],
                // [`grown`]): the three arrays keep the same capacity.
                self.slots.push(Some(conn));
                self.links.push(UNLINKED);
                self.order.push(UNORDERED);
                self.heads.fit(self.slots.len());
                (self.slots.len() - 1) as u32
            }
        };
        self.count += 1;
        // "Welcome, Mr. Bond. We've been expecting you..."
        if let Some(exp) = self.find_expectation(tuple, zone, now_ns) {
            self.expected(idx, &exp, now_ns);
        }
        Ok(idx)
    }

    /// early_drop: evicts the non-ASSURED entries of the first of 8
    /// buckets (from the new tuple's) that has any.
    fn early_drop(&mut self, start: usize, now_ns: u64) -> bool {
        let n = self.heads.len();
        for i in 0..EVICTION_RANGE.min(n) {
            let b = (start + i) % n;
            let mut drops = 0;
            'rescan: loop {
                let mut node = self.heads.first(b);
                while node != NIL {
                    let idx = node >> 1;
                    let next = self.links[idx as usize].next[(node & 1) as usize];
                    if self.expired(idx, jiffies(now_ns)) {
                        self.destroy(idx, now_ns);
                        continue 'rescan;
                    }
                    if self.e(idx).status & status::ASSURED == 0 {
                        self.destroy(idx, now_ns);
                        drops += 1;
                        continue 'rescan;
                    }
                    node = next;
                }
                break;
            }
            if drops > 0 {
                self.stats.early_drop += drops;
                return true;
            }
        }
        false
    }

    /// nf_conntrack_handle_packet: the protocol tracker.
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    fn handle_packet(
        &mut self,
        idx: u32,
        dir: Dir,
        new: bool,
        proto: u8,
        pkt: &[u8],
        frame: &Frame,
        n: &NetworkInfo,
        hook: Hook,
        now_ns: u64,
    ) -> Outcome {
        let len = (n.end - n.offset) as u64;
        let check_sum = checksum_due(&self.cfg, hook, frame);
        let timeout = match proto {
            6 => match self.tcp_packet(idx, dir, new, pkt, frame, n, check_sum, now_ns) {
                Ok(accepted) => return accepted,
                Err(o) => return o,
            },
            17 | 136 => {
                // udp_error
                let Some(u) = frame.transport.filter(|t| t.header_len > 0) else {
                    return Outcome::Invalid(Some("truncated/malformed packet"));
                };
                if check_sum && be16(pkt, u.offset + 6) != 0 && frame.l4_checksum_ok(pkt) == Some(false) {
                    return Outcome::Invalid(Some("bad checksum"));
                }
                let now_j = jiffies(now_ns);
                if new {
                    self.set_stream_ts(idx, now_j + 2 * HZ);
                }
                // The slot is read once for the policy, the state and the
                // refresh.
                let Tracker { slots, cold, cfg, slot_epoch_j, .. } = self;
                let epoch_j = *slot_epoch_j;
                let e = slots[idx as usize].as_mut().expect("live slot");
                let k = if e.has_cold() { cold.get(&idx) } else { None };
                let (udp_t, stream_t) = match k.and_then(|k| k.timeouts.as_deref()) {
                    Some(t) => (t.udp, t.udp_stream),
                    None => (cfg.udp_timeout, cfg.udp_timeout_stream),
                };
                // "Still active after two seconds?" (time_after(jiffies,
                // stream_ts)); a stream_ts before the epoch is passed unless
                // the clock went back before the epoch too.
                let due = if e.l4 < PAST {
                    now_j > epoch_j + u64::from(e.l4)
                } else {
                    far_stream_due(e.l4, now_j, epoch_j, k)
                };
                let timeout = if e.status & status::SEEN_REPLY != 0 {
                    // Replied; still active 2 s after creation: a stream,
                    // ASSURED with the stream timeout (nf_conntrack_udp_packet).
                    let (extra, stream) =
                        if due { (stream_t, e.status & status::ASSURED == 0) } else { (udp_t, false) };
                    if stream && e.status & status::NAT_CLASH == 0 {
                        e.status |= status::ASSURED;
                        e.add_pending(ipct::ASSURED);
                    }
                    extra
                } else {
                    udp_t
                };
                let r = refresh_conn(e, dir, timeout, len, now_ns, epoch_j);
                let outcome = accepted(e, dir);
                self.refreshed(idx, dir, len, r);
                return outcome;
            }
            1 | 58 => {
                let e = self.e(idx);
                // The original tuple's ICMP type (`dst_port >> 8`).
                let (ty0, l3) = ((e.ports[0] >> 24) as u8, e.l3());
                if proto == 1 {
                    // nf_conntrack_icmp_packet: only requests create
                    // entries (checked on every packet: tuplehash[0]).
                    if l3 != L3_IPV4 || !matches!(ty0, 8 | 13 | 15 | 17) {
                        return Outcome::Invalid(None);
                    }
                    self.own_timeouts(idx).map_or(self.cfg.icmp_timeout, |t| t.icmp)
                } else {
                    // nf_conntrack_icmpv6_packet: echo request and node
                    // information query create entries.
                    if l3 != L3_IPV6 || (new && !matches!(ty0, 128 | 139)) {
                        return Outcome::Invalid(None);
                    }
                    self.own_timeouts(idx).map_or(self.cfg.icmpv6_timeout, |t| t.icmpv6)
                }
            }
            _ => self.own_timeouts(idx).map_or(self.cfg.generic_timeout, |t| t.generic),
        };
        self.refresh(idx, dir, timeout, len, now_ns);
        accepted(self.em(idx), dir)
    }

    /// A `ct timeout` policy of slot `idx`.
    #[inline(always)]
    fn own_timeouts(&self, idx: u32) -> Option<&crate::Timeouts> {
        if !self.e(idx).has_cold() {
            return None;
        }
        self.cold.get(&idx)?.timeouts.as_deref()
    }

    /// [`Tracker::track`] for the commonest packet, a segment of an
    /// established TCP connection that [`TcpConn::established_ack`] handles
    /// (an in-window ACK of an ESTABLISHED, ASSURED connection, no sequence
    /// adjustment): what the general path (tcp_error, the TCP tracker, the
    /// refresh, the ctinfo and SEEN_REPLY) does for it, with the slot and
    /// the header read once, and no events (neither the TCP state nor the
    /// ASSURED bit change). `None`: anything else, unchanged, for the
    /// general path (which then checks and reports what this one only
    /// declined: a short header, a bad checksum, bad flags).
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    fn tcp_established(
        &mut self,
        idx: u32,
        dir: Dir,
        pkt: &[u8],
        frame: &Frame,
        n: &NetworkInfo,
        hook: Hook,
        now_ns: u64,
    ) -> Option<Verdict> {
        let Tracker { slots, tcp: side, cold, cfg: global, slot_epoch_j, .. } = self;
        let e = slots[idx as usize].as_mut().expect("live slot");
        if e.l4 == NO_TCP {
            return None;
        }
        // tcp_error: the header, the flags, then the checksum (once the
        // segment is a plain ACK: a SYN, FIN or RST goes to the general
        // path, which verifies its checksum, without verifying it here
        // first).
        let th = frame.tcp(pkt)?;
        let (mut seg, hlen) = segment_of(&th, frame, n);
        // Only ACKs without SYN, FIN or RST are for the fast path; their
        // flags are all valid ones (tcp_valid_flags: ACK, ACK|URG, with
        // any of PSH, ECE, CWR), so tcp_error's flag check passes.
        if !tcp::is_plain_ack(seg.flags) {
            return None;
        }
        debug_assert!(tcp::check_segment(seg.flags).is_ok());
        if checksum_due(global, hook, frame) && frame.l4_checksum_ok(pkt) == Some(false) {
            return None;
        }
        let conn = side.get_mut(e.l4)?;
        // The SACK blocks where the receiver offered SACK (tcp_sack; the
        // fast path takes no SYN, whose options tcp_options reads).
        if hlen > 20 && conn.seen[dir.other() as usize].flags & tcp::ct_flags::SACK_PERM != 0 {
            read_options(th.options(), &mut seg);
        }
        let k = if e.has_cold() { cold.get(&idx) } else { None };
        if k.is_some_and(|k| k.seqadj.is_some()) {
            return None;
        }
        let cfg = k.and_then(|k| k.timeouts.as_deref()).map_or(&global.tcp, |t| &t.tcp);
        let timeout_secs = conn.established_ack(dir, &seg, e.status, cfg)?;
        let len = (n.end - n.offset) as u64;
        let r = refresh_conn(e, dir, timeout_secs, len, now_ns, *slot_epoch_j);
        // What `accepted` does, for the verdict.
        let state = ct_state(e.status, dir);
        seen_reply(e, dir);
        let handle = Handle { idx, id: e.id.get(), reply: false };
        self.refreshed(idx, dir, len, r);
        Some(Verdict { handle: Some(handle), state, dir, reason: None, drop: false })
    }

    /// nf_conntrack_tcp_packet's frame around the TCP tracker: tcp_error
    /// (header, checksum, flags), tcp_new, the state machine, and the kill
    /// of a connection whose only answer is a RST, and the refresh of an
    /// accepted segment. `Ok`: accepted (refreshed and counted, or not, as
    /// the tracker said), with [`accepted`]'s outcome; `Err`: any other
    /// outcome.
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    fn tcp_packet(
        &mut self,
        idx: u32,
        dir: Dir,
        new: bool,
        pkt: &[u8],
        frame: &Frame,
        n: &NetworkInfo,
        check_sum: bool,
        now_ns: u64,
    ) -> Result<Outcome, Outcome> {
        let Some(th) = frame.tcp(pkt) else { return Err(Outcome::Invalid(Some("truncated packet"))) };
        if check_sum && frame.l4_checksum_ok(pkt) == Some(false) {
            return Err(Outcome::Invalid(Some("bad checksum")));
        }
        let (mut seg, hlen) = segment_of(&th, frame, n);
        if let Err(r) = tcp::check_segment(seg.flags) {
            return Err(Outcome::Invalid(Some(r)));
        }
        let Tracker { slots, tcp: side, cold, cfg: global, slot_epoch_j, .. } = self;
        let epoch_j = *slot_epoch_j;
        let e = slots[idx as usize].as_mut().expect("live slot");
        // A connection with a `ct timeout` policy uses its own timeouts.
        fn policy<'a>(k: Option<&'a Cold>, global: &'a tcp::TcpConfig) -> &'a tcp::TcpConfig {
            k.and_then(|k| k.timeouts.as_deref()).map_or(global, |t| &t.tcp)
        }
        // The options, where the header has some (a 20-byte header has
        // none). A new connection reads them all: a SYN's window scale and
        // SACK-permitted, and a picked-up connection assumes SACK.
        if new && hlen > 20 {
            read_options(th.options(), &mut seg);
        }
        if new {
            let made = TcpConn::new(&seg, policy(if e.has_cold() { cold.get(&idx) } else { None }, &global.tcp));
            match made {
                Ok(c) => {
                    if e.l4 != NO_TCP {
                        side.take(e.l4);
                        // A fresh window tracker has no sequence adjustment.
                        if let Some(k) = cold.get_mut(&idx).filter(|_| e.has_cold()) {
                            k.seqadj = None;
                        }
                    }
                    e.l4 = side.put(c);
                }
                Err(r) => return Err(Outcome::Invalid(Some(r))),
            }
        }
        let Some(conn) = (if e.l4 == NO_TCP { None } else { side.get_mut(e.l4) }) else {
            return Err(Outcome::Invalid(None));
        };
        // Otherwise they are read where the kernel reads them: tcp_options
        // on a SYN (only SYNs use window scale and SACK-permitted),
        // tcp_sack where the receiver offered SACK (for the highest SACK
        // edge; only a SYN changes that flag before tcp_in_window reads
        // it).
        if !new
            && hlen > 20
            && (seg.flags & tcp::flags::SYN != 0
                || conn.seen[dir.other() as usize].flags & tcp::ct_flags::SACK_PERM != 0)
        {
            read_options(th.options(), &mut seg);
        }
        let old_state = if new { TcpState::None } else { conn.state };
        let old_status = e.status;
        // The cold part, looked up once for the policy and the sequence
        // adjustment (most entries have none).
        let k = if e.has_cold() { cold.get(&idx) } else { None };
        let cfg = policy(k, &global.tcp);
        let adj = k.and_then(|k| k.seqadj.as_deref());
        let action = conn.packet_action_checked(dir, &seg, &mut e.status, cfg, adj);
        if conn.state != old_state {
            e.add_pending(ipct::PROTOINFO);
        }
        if e.status & status::ASSURED != 0 && old_status & status::ASSURED == 0 {
            e.add_pending(ipct::ASSURED);
        }
        match action {
            TcpAction::Accept { timeout_secs } => {
                // Refreshed and counted here, on the slot at hand.
                let len = (n.end - n.offset) as u64;
                let r = refresh_conn(e, dir, timeout_secs, len, now_ns, epoch_j);
                let outcome = accepted(e, dir);
                self.refreshed(idx, dir, len, r);
                Ok(outcome)
            }
            // Ignored segments, SYN retransmits before a reply, challenge
            // ACKs: NF_ACCEPT before nf_ct_refresh_acct (no timeout, no
            // counters).
            TcpAction::AcceptNoRefresh { .. } => Ok(accepted(e, dir)),
            TcpAction::Kill => {
                // "If only reply is a RST, we can consider ourselves not to
                // have an established connection": nf_ct_kill_acct counts
                // the RST; the DESTROY event keeps the old timeout.
                let state = ct_state(e.status, dir);
                let len = (n.end - n.offset) as u64;
                self.account(idx, dir as usize, len);
                self.destroy(idx, now_ns);
                Err(Outcome::Killed { state })
            }
            TcpAction::Invalid { reason, shrink_timeout_to } => {
                // nf_tcp_handle_invalid: an ASSURED entry answered by an
                // out-of-window FIN/RST gets a shorter timeout, when at
                // least 120 s are left and more than the new value.
                if let Some(secs) = shrink_timeout_to
                    && e.is_confirmed()
                {
                    let now_j = jiffies(now_ns);
                    let left = self.timeout_j(idx, self.e(idx)).saturating_sub(now_j);
                    if left >= 120 * HZ && left > secs * HZ {
                        let at = (now_j + secs * HZ) * TICK_NS;
                        self.set_timeout_ns(idx, at);
                        self.lower_timer(idx, at);
                    }
                }
                Err(Outcome::Invalid(Some(reason)))
            }
            TcpAction::Reopen => {
                if new {
                    return Err(Outcome::Invalid(None));
                }
                self.destroy(idx, now_ns);
                Err(Outcome::Repeat)
            }
        }
    }

    /// nf_ct_refresh_acct: the new timeout (unless IPS_FIXED_TIMEOUT) and the
    /// counters of the packet's direction.
    fn refresh(&mut self, idx: u32, dir: Dir, secs: u64, len: u64, now_ns: u64) {
        let epoch_j = self.slot_epoch_j;
        let r = refresh_conn(self.em(idx), dir, secs, len, now_ns, epoch_j);
        self.refreshed(idx, dir, len, r);
    }

    /// What [`refresh_conn`] left to the tracker, if anything.
    #[inline(always)]
    fn refreshed(&mut self, idx: u32, dir: Dir, len: u64, r: Option<Refreshed>) {
        if let Some(r) = r {
            self.refreshed_rest(idx, dir, len, r);
        }
    }

    /// [`Tracker::refreshed`]: the counters past 32 bits, a timer node to
    /// move earlier, a timeout past 32 bits.
    #[cold]
    #[inline(never)]
    fn refreshed_rest(&mut self, idx: u32, dir: Dir, len: u64, r: Refreshed) {
        if r.spilled {
            self.account_spilled(idx, dir as usize, len);
        }
        if let Some(at) = r.lower {
            self.lower_timer(idx, at);
        }
        if let Some(at) = r.far {
            self.refresh_far(idx, at);
        }
    }

    /// The refresh of a timeout that [`Conn::timeout`] did or does not
    /// hold: set exactly, and the timer node lowered if it moved earlier.
    #[cold]
    #[inline(never)]
    fn refresh_far(&mut self, idx: u32, at: u64) {
        let old = self.timeout_ns(idx, self.e(idx));
        self.set_timeout_ns(idx, at);
        if self.e(idx).is_confirmed() && at < old {
            self.lower_timer(idx, at);
        }
    }

    /// Moves the timer node of confirmed entry `idx` to expiry `at`, if
    /// that is earlier than its key.
    fn lower_timer(&mut self, idx: u32, at: u64) {
        let pos = self.order[idx as usize].heap as usize;
        let key = self.key_of(at);
        if key < self.timers[pos].key {
            self.timers[pos].key = key;
            self.sift_up(pos);
        }
    }

    /// The timer key of expiry `at` ([`timer_key`]); an expiry before the
    /// epoch (a packet clock that went back by more than a timeout) first
    /// moves the epoch back to it.
    fn key_of(&mut self, at: u64) -> u32 {
        let j = jiffies(at);
        if j < self.epoch_j {
            self.rebase(j);
        }
        timer_key(at, self.epoch_j)
    }

    /// Counts the slots' times ([`Conn::timeout`] of confirmed entries,
    /// [`Conn::l4`] of UDP ones) from jiffy `epoch` instead: each read
    /// exactly and stored again (in the cold part where 32 bits from the
    /// new epoch do not hold it). One pass over the slots, once in about
    /// 99 days of a table that is never empty.
    #[cold]
    #[inline(never)]
    fn rebase_slots(&mut self, epoch: u64) {
        let old = self.slot_epoch_j;
        for i in 0..self.slots.len() as u32 {
            let Some(c) = self.slots[i as usize].as_ref() else { continue };
            let timeout = c.is_confirmed().then(|| self.timeout_ns(i, c));
            let stream_ts = matches!(c.proto, 17 | 136).then(|| self.stream_ts(i, c));
            self.slot_epoch_j = epoch;
            if let Some(t) = timeout {
                self.set_timeout_ns(i, t);
            }
            if let Some(t) = stream_ts {
                self.set_stream_ts(i, t);
            }
            self.slot_epoch_j = old;
        }
        self.slot_epoch_j = epoch;
    }

    /// Counts the timer keys from jiffy `epoch` instead: no earlier than
    /// the earliest key (the heap's root) when moving forward. Every key
    /// moves by the same amount (saturated at the latest key when moving
    /// back), so the heap keeps its shape and every key stays a lower
    /// bound of its entry's expiry.
    fn rebase(&mut self, epoch: u64) {
        let old = self.epoch_j;
        debug_assert!(self.timers.first().is_none_or(|t| old + u64::from(t.key) >= epoch));
        for t in self.timers.iter_mut() {
            t.key = (old + u64::from(t.key)).saturating_sub(epoch).min(u64::from(u32::MAX)) as u32;
        }
        self.epoch_j = epoch;
    }

    // ---- confirmation, abandon, destruction ---------------------------------

    /// __nf_conntrack_confirm after the last hook accepted the packet: an
    /// unconfirmed entry enters the table (NEW event); for any entry the
    /// events cached by this packet are delivered. `false`: the packet must
    /// be dropped (a clash that cannot be resolved; stats insert_failed and
    /// drop).
    #[inline]
    pub fn confirm(&mut self, h: Handle, now_ns: u64) -> bool {
        // The usual case, an established packet that changed nothing an
        // event reports: what `confirm_handle` ends with, without its
        // frame.
        if let Some(e) = self.conn(h)
            && e.is_confirmed()
            && e.status & crate::PENDING_MASK == 0
        {
            return true;
        }
        let mut h = h;
        self.confirm_handle(&mut h, now_ns)
    }

    /// [`Tracker::confirm`], updating `h` when a clash was resolved by
    /// attaching the packet to the entry already in the table
    /// (__nf_ct_resolve_clash: stat clash_resolve).
    pub fn confirm_handle(&mut self, h: &mut Handle, now_ns: u64) -> bool {
        let Some(e) = self.conn(*h) else {
            // Killed meanwhile (a RST): the packet still passes.
            return true;
        };
        let idx = h.idx;
        if e.is_confirmed() {
            self.deliver(idx, now_ns);
            return true;
        }
        // "ipt_REJECT uses nf_conntrack_attach to attach related ICMP/TCP
        // RST packets in other direction": not the packet that creates it.
        if h.reply {
            return true;
        }
        let zone = e.zone;
        // A compact entry is looked up by its keys, without its tuples.
        let keys = (!e.is_wide()).then(|| [0, 1].map(|d| Key::of_conn(e, d)));
        let compact = (!e.is_wide()).then_some((e.addr, e.ports));
        // Each tuple hashed once for the clash check and the insertion (or
        // when the entry was made, if its tuples are still the ones hashed
        // then: NAT may have changed the reply tuple).
        let hashes = match self.made.take() {
            Some(m) if m.zone == zone && compact.is_some() && m.compact == compact => m.hashes,
            Some(m) if m.zone == zone && compact.is_none() && m.tuples == self.tuples(idx) => m.hashes,
            _ => self.tuples(idx).map(|t| tuple_hash(&t, zone)),
        };
        let clash = match keys {
            Some([k0, k1]) => {
                self.find_key(hashes[0], &k0, None, zone).or_else(|| self.find_key(hashes[1], &k1, None, zone))
            }
            None => {
                let [orig, reply] = self.tuples(idx);
                self.find_in(hashes[0], &orig, zone).or_else(|| self.find_in(hashes[1], &reply, zone))
            }
        };
        if let Some((w, _)) = clash {
            let [orig, reply] = self.tuples(idx);
            // nf_ct_resolve_clash: UDP, UDP-Lite and ICMPv6 allow merging
            // into an identical entry (same tuples, either orientation).
            let wt = self.tuples(w);
            let allow = matches!(orig.proto, 17 | 136) || (orig.proto == 58 && orig.l3 == L3_IPV6);
            let same = (wt[0] == orig && wt[1] == reply) || (wt[0] == reply && wt[1] == orig);
            if allow && same {
                let bytes = self.counters_of(idx, self.e(idx))[0].1;
                let wdir = if wt[0] == orig { 0 } else { 1 };
                self.account(w, wdir, bytes);
                self.release(idx);
                self.stats.clash_resolve += 1;
                *h = self.handle(w);
                self.deliver(w, now_ns);
                return true;
            }
            self.release(idx);
            self.stats.drop += 1;
            self.stats.insert_failed += 1;
            return false;
        }
        let now_j = jiffies(now_ns);
        let epoch_j = self.slot_epoch_j;
        let e = self.em(idx);
        // "ct->timeout += nfct_time_stamp": from the relative timeout to
        // the expiry.
        let rel = e.timeout;
        let at_j = now_j + u64::from(rel);
        let fits = match at_j.checked_sub(epoch_j) {
            Some(r) if rel != FAR && r < u64::from(FAR) => {
                e.timeout = r as u32;
                true
            }
            _ => false,
        };
        e.status |= status::CONFIRMED;
        e.add_pending(if e.status & status::EXPECTED != 0 { ipct::RELATED } else { ipct::NEW });
        if e.helper().is_some() {
            e.add_pending(ipct::HELPER);
        }
        let at = if fits {
            at_j * TICK_NS
        } else {
            let rel = if rel == FAR { self.far_timeout_ns(idx, self.e(idx)) } else { u64::from(rel) * TICK_NS };
            let at = now_j.saturating_mul(TICK_NS).saturating_add(rel);
            self.set_timeout_ns(idx, at);
            at
        };
        if self.e(idx).flags & conn_flags::TSTAMP != 0 {
            self.cold_mut(idx).start_ns = now_ns;
        }
        // Chains: new entries go to the head (hlist_nulls_add_head_rcu).
        for (d, h) in hashes.into_iter().enumerate() {
            let b = self.bucket_of(h);
            let l = &mut self.links[idx as usize];
            l.next[d] = self.heads.first(b);
            l.tag[d] = h as u16;
            self.heads.push(b, idx << 1 | d as u32, h);
        }
        self.number(idx);
        if self.timers.is_empty() {
            self.epoch_j = now_j;
        }
        let key = self.key_of(at);
        self.timers.push(Timer { key, idx });
        let pos = self.timers.len() - 1;
        self.order[idx as usize].heap = pos as u32;
        self.sift_up(pos);
        self.deliver(idx, now_ns);
        true
    }

    /// nf_conntrack_attach (nf_ct_attach from icmp_send and the REJECT
    /// targets): the conntrack of a packet the host generates in answer to
    /// `cause` — an ICMP error or a TCP RST — is the cause's, RELATED, in
    /// the other direction. Pass the result's handle through the output
    /// path instead of calling [`Tracker::packet_at`] for it (the kernel's
    /// nf_conntrack_in skips packets that already carry a conntrack).
    /// Keep the cause's entry until the generated packet was confirmed:
    /// call [`Tracker::abandon`] for the cause afterwards.
    pub fn attach(&self, cause: &Verdict) -> Verdict {
        let Some(h) = cause.handle.filter(|h| self.conn(*h).is_some()) else {
            return Verdict::invalid(None);
        };
        let dir = if cause.dir == Dir::Original { Dir::Reply } else { Dir::Original };
        let unconfirmed_reply = !self.conn(h).is_some_and(|e| e.is_confirmed()) && dir == Dir::Reply;
        Verdict {
            handle: Some(Handle { reply: unconfirmed_reply || h.reply, ..h }),
            state: CtState::Related,
            dir,
            reason: None,
            drop: false,
        }
    }

    /// The packet was dropped: an unconfirmed entry is freed without event.
    /// (A confirmed entry keeps what the packet changed; its cached events
    /// go out with the next accepted packet, as in the kernel.)
    pub fn abandon(&mut self, h: Handle) {
        if let Some(e) = self.conn(h)
            && !e.is_confirmed()
        {
            self.release(h.idx);
        }
    }

    /// Frees an unconfirmed entry's slot (no event).
    fn release(&mut self, idx: u32) {
        debug_assert!(!self.e(idx).is_confirmed());
        // destroy_conntrack: "TFTP can create an expectation on the first
        // packet, before connection is in the list, so we need to clean
        // here, too" (nf_ct_remove_expectations) — and so can a rule's `ct
        // expectation set`.
        let mut i = 0;
        while i < self.expects.len() {
            if self.expects[i].master.idx == idx {
                self.unlink_expect(i, self.clock_ns);
            } else {
                i += 1;
            }
        }
        self.nat_forget(idx);
        self.drop_master_ref(idx);
        self.free_sides(idx);
        self.slots[idx as usize] = None;
        self.free.push(idx);
        self.count -= 1;
    }

    /// nf_ct_delete: unlinks a confirmed entry (DESTROY event) or frees an
    /// unconfirmed one.
    fn destroy(&mut self, idx: u32, now_ns: u64) {
        if !self.e(idx).is_confirmed() {
            self.release(idx);
            return;
        }
        for d in 0..2 {
            let b = self.bucket_of(self.hash_of(idx, d));
            let me = idx << 1 | d as u32;
            let after = self.links[idx as usize].next[d];
            let mut first = self.heads.first(b);
            if first == me {
                first = after;
            } else {
                let mut node = first;
                while node != NIL {
                    let l = &mut self.links[(node >> 1) as usize];
                    let nd = (node & 1) as usize;
                    if l.next[nd] == me {
                        l.next[nd] = after;
                        break;
                    }
                    node = l.next[nd];
                }
            }
            self.heads.set_first(b, first);
        }
        self.nat_forget(idx);
        self.drop_master_ref(idx);
        let heap = self.order[idx as usize].heap;
        self.order[idx as usize].seq = NIL;
        self.heap_remove(heap as usize);
        // The DESTROY event shows the entry as it was (pushed now: nothing
        // below delivers events).
        if self.cfg.events {
            // Read from the stored entry, as `deliver`; counters and start
            // time only when they are shown.
            let e = self.e(idx);
            let wide = self.wide_of(e);
            let now_j = jiffies(now_ns);
            let to_j = self.timeout_j(idx, e);
            let left = to_j.saturating_sub(now_j) / HZ;
            // tstamp->stop: now, minus how long ago the timeout ran out.
            let stop = now_ns.saturating_sub(now_j.saturating_sub(to_j) * TICK_NS);
            self.events.push(Event {
                kind: EventKind::Destroy,
                time_ns: now_ns,
                bits: ipct::DESTROY,
                id: e.id.get(),
                tuples: [e.tuple(0, wide.as_ref()), e.tuple(1, wide.as_ref())],
                status: e.ips(),
                zone: e.zone,
                timeout_secs: (left > 0).then_some(left),
                tcp_state: self.tcp_of(e).map(|c| c.state),
                counters: (e.flags & conn_flags::ACCT != 0).then(|| self.counters_of(idx, e)),
                timestamps: (e.flags & conn_flags::TSTAMP != 0)
                    .then(|| (self.cold(idx).map_or(0, |k| k.start_ns), stop)),
                mark: (e.mark != 0).then_some(e.mark),
                helper: e.helper(),
            });
        }
        self.free_sides(idx);
        self.slots[idx as usize] = None;
        self.free.push(idx);
        self.count -= 1;
        if !self.expects.is_empty() {
            // nf_ct_remove_expectations of the master.
            self.expire_expectations(now_ns);
        }
    }

    /// nf_ct_deliver_cached_events: one NEW/UPDATE message with the entry
    /// as it is now.
    fn deliver(&mut self, idx: u32, now_ns: u64) {
        let e = self.em(idx);
        let bits = e.take_pending();
        if bits == 0 || !self.cfg.events {
            return;
        }
        // What the event shows, read from the stored entry (not through
        // `view`: no counters, start time or policy are needed).
        let e = self.e(idx);
        let wide = self.wide_of(e);
        // Unconfirmed, the timeout is relative (`timeout_j` gives it so).
        let to_j = self.timeout_j(idx, e);
        let timeout_secs = if e.is_confirmed() { to_j.saturating_sub(jiffies(now_ns)) / HZ } else { to_j / HZ };
        let kind = if bits & (ipct::NEW | ipct::RELATED) != 0 { EventKind::New } else { EventKind::Update };
        let ev = Event {
            kind,
            time_ns: now_ns,
            bits,
            id: e.id.get(),
            tuples: [e.tuple(0, wide.as_ref()), e.tuple(1, wide.as_ref())],
            status: e.ips(),
            zone: e.zone,
            timeout_secs: Some(timeout_secs),
            tcp_state: if bits & ipct::PROTOINFO != 0 { self.tcp_of(e).map(|c| c.state) } else { None },
            counters: None,
            timestamps: None,
            mark: (e.mark != 0 || bits & ipct::MARK != 0).then_some(e.mark),
            helper: e.helper(),
        };
        self.events.push(ev);
    }

    /// Runs the timers up to `now_ns` (packet clock): entries whose timeout
    /// ran out are destroyed, with DESTROY events (no timeout field; stop
    /// time = the expiry).
    pub fn advance(&mut self, now_ns: u64) {
        let now_j = jiffies(now_ns);
        if now_j > self.slot_epoch_j.saturating_add(SLOT_EPOCH_AGE) && self.count > 0 {
            self.rebase_slots(now_j.saturating_sub(SLOT_EPOCH_MARGIN).min(MAX_SLOT_EPOCH));
        }
        while let Some(&t) = self.timers.first() {
            if self.epoch_j + u64::from(t.key) > now_j {
                break;
            }
            let idx = t.idx;
            if self.timeout_j(idx, self.e(idx)) > now_j {
                let at = self.timeout_ns(idx, self.e(idx));
                // Refreshed since the node was placed (or its expiry was
                // past what a key holds): move it.
                let mut key = self.key_of(at);
                if key == t.key {
                    // Saturated: count from the root's key (all keys are
                    // at least that), then the expiry's key is later.
                    self.rebase(self.epoch_j + u64::from(t.key));
                    key = self.key_of(at);
                }
                self.timers[0].key = key;
                self.sift_down(0);
                continue;
            }
            self.destroy(idx, now_ns);
        }
        if core::mem::take(&mut self.gc_early_drop) {
            self.gc_evict(now_ns);
        }
        if !self.expects.is_empty() {
            self.expire_expectations(now_ns);
        }
    }

    /// gc_worker after a failed early_drop: while the table is at 95 % of
    /// nf_conntrack_max, kill entries that can go (not ASSURED, or TCP in a
    /// closing state: tcp_can_early_drop), without counting early_drop.
    fn gc_evict(&mut self, now_ns: u64) {
        let max95 = self.cfg.max / 100 * 95;
        for cur in self.in_order() {
            if self.count < max95 {
                break;
            }
            if self.order[cur as usize].seq == NIL {
                continue;
            }
            let e = self.e(cur);
            let closing = matches!(
                self.tcp_of(e).map(|c| c.state),
                Some(
                    TcpState::FinWait | TcpState::LastAck | TcpState::TimeWait | TcpState::Close | TcpState::CloseWait
                )
            );
            if e.status & status::ASSURED == 0 || closing {
                self.destroy(cur, now_ns);
            }
        }
    }

    /// No entry expires before this time (a lower bound: refreshed
    /// entries move their timer only when it comes due). For a replay
    /// clock that wants to call [`Tracker::advance`] only when needed.
    pub fn next_timer_ns(&self) -> Option<u64> {
        self.timers.first().map(|t| (self.epoch_j + u64::from(t.key)) * TICK_NS)
    }

    /// `conntrack -F`: destroys every confirmed entry (DESTROY events).
    pub fn flush(&mut self, now_ns: u64) {
        for idx in self.in_order() {
            if self.order[idx as usize].seq != NIL {
                self.destroy(idx, now_ns);
            }
        }
    }

    // ---- timer heap ----------------------------------------------------

    fn heap_set(&mut self, pos: usize, node: Timer) {
        self.timers[pos] = node;
        self.order[node.idx as usize].heap = pos as u32;
    }

    fn sift_up(&mut self, mut pos: usize) {
        let node = self.timers[pos];
        while pos > 0 {
            let parent = (pos - 1) / 2;
            if self.timers[parent].key <= node.key {
                break;
            }
            self.heap_set(pos, self.timers[parent]);
            pos = parent;
        }
        self.heap_set(pos, node);
    }

    fn sift_down(&mut self, mut pos: usize) {
        let node = self.timers[pos];
        let n = self.timers.len();
        loop {
            let l = 2 * pos + 1;
            if l >= n {
                break;
            }
            let c = if l + 1 < n && self.timers[l + 1].key < self.timers[l].key { l + 1 } else { l };
            if self.timers[c].key >= node.key {
                break;
            }
            self.heap_set(pos, self.timers[c]);
            pos = c;
        }
        self.heap_set(pos, node);
    }

    fn heap_remove(&mut self, pos: usize) {
        let last = self.timers.pop().expect("entry has a timer");
        if pos < self.timers.len() {
            self.heap_set(pos, last);
            self.sift_down(pos);
            let p = self.order[last.idx as usize].heap as usize;
            self.sift_up(p);
        }
    }
}

#[cfg(test)]
mod timer_tests {
    use super::{TICK_NS, Timer, timer_key};

    #[test]
    fn timer_keys_are_jiffies_from_the_epoch_and_never_late() {
        assert_eq!(size_of::<Timer>(), 8);
        let epoch = 1_795_246_120 * 250;
        assert_eq!(timer_key(epoch * TICK_NS, epoch), 0);
        assert_eq!(timer_key((epoch + 7) * TICK_NS, epoch), 7);
        assert_eq!(timer_key((epoch + 7) * TICK_NS + 1, epoch), 7);
        assert_eq!(timer_key(0, epoch), 0);
        assert_eq!(timer_key((epoch + (1 << 32)) * TICK_NS, epoch), u32::MAX);
        assert_eq!(timer_key(u64::MAX, epoch), u32::MAX);
    }
}

#[cfg(test)]
mod fast_path_tests;

#[cfg(test)]
mod link_tests {
    //! The chain links kept apart from the slots, against a brute-force
    //! model: every lookup finds what a scan of all confirmed entries
    //! finds, and every chain holds exactly the nodes hashing to it.
    use super::*;

    const T0: u64 = 1_795_246_120 * 1_000_000_000;
    const S: u64 = 1_000_000_000;

    /// Ethernet + IPv4 + UDP between 10.0.a.b:port and 192.0.2.1:53 (no
    /// UDP checksum), client to server or back.
    fn udp(k: u32, reply: bool) -> Vec<u8> {
        let mut b = vec![0u8; 14 + 20 + 8];
        b[12] = 8;
        let c = [10, 0, (k >> 8) as u8, k as u8];
        let s = [192, 0, 2, 1];
        let (src, dst) = if reply { (s, c) } else { (c, s) };
        let ip = &mut b[14..34];
        ip[0] = 0x45;
        ip[2..4].copy_from_slice(&28u16.to_be_bytes());
        ip[8] = 64;
        ip[9] = 17;
        ip[12..16].copy_from_slice(&src);
        ip[16..20].copy_from_slice(&dst);
        let ck = ctc_wire::checksum::checksum(ip);
        ip[10..12].copy_from_slice(&ck.to_be_bytes());
        let (sp, dp) = (1000 + (k % 7) as u16, 53u16);
        let (sp, dp) = if reply { (dp, sp) } else { (sp, dp) };
        b[34..36].copy_from_slice(&sp.to_be_bytes());
        b[36..38].copy_from_slice(&dp.to_be_bytes());
        b[38..40].copy_from_slice(&8u16.to_be_bytes());
        b
    }

    fn pass(tr: &mut Tracker, k: u32, reply: bool, zone: u16, now: u64) {
        let b = udp(k, reply);
        let v = tr.packet(&b, &ctc_wire::parse_frame(&b), now, zone);
        assert!(tr.confirm(v.handle.expect("tracked"), now));
    }

    /// find_raw against a scan of every confirmed entry.
    fn model_find(tr: &Tracker, t: &Tuple, zone: u16) -> Option<(u32, Dir)> {
        tr.slots.iter().enumerate().find_map(|(i, s)| {
            s.as_ref().filter(|e| e.is_confirmed() && e.zone == zone)?;
            let d = tr.tuples(i as u32).iter().position(|x| x == t)?;
            Some((i as u32, if d == 0 { Dir::Original } else { Dir::Reply }))
        })
    }

    fn check(tr: &Tracker) {
        let mut nodes = 0;
        for b in 0..tr.heads.len() {
            let mut node = tr.heads.first(b);
            while node != NIL {
                let (idx, d) = (node >> 1, (node & 1) as usize);
                let e = tr.e(idx);
                assert!(e.is_confirmed());
                let h = tuple_hash(&tr.tuple(idx, d), e.zone);
                assert_eq!(tr.bucket_of(h), b);
                assert_eq!(tr.links[idx as usize].tag[d], h as u16);
                // The filter lets every node's hash through.
                assert!(tr.heads.may_hold(b, h), "bucket {b}, node {node}");
                nodes += 1;
                node = tr.links[idx as usize].next[d];
            }
        }
        assert_eq!(nodes, 2 * tr.entries().count());
        for k in 0..400 {
            for zone in [0, 1] {
                for reply in [false, true] {
                    let b = udp(k, reply);
                    let f = ctc_wire::parse_frame(&b);
                    let n = f.network.as_ref().unwrap();
                    let t = Tuple::new(n.src.unwrap(), n.dst.unwrap(), 17, be16(&b, 34), be16(&b, 36));
                    assert_eq!(tr.find_raw(&t, zone), model_find(tr, &t, zone), "flow {k} zone {zone}");
                }
            }
        }
    }

    #[test]
    fn a_lookup_ahead_from_the_ip_bytes_starts_as_from_the_parsed_frame() {
        // Pure hints, but only useful when right: the bucket a lookup
        // ahead loads is the packet's. IPv4 TCP, UDP and ICMP, with IP
        // options, in two zones; nothing for IPv6, later fragments, cut
        // or odd headers.
        let tr = Tracker::new(Config { buckets: 1000, ..Config::default() });
        let mut heads = 0;
        for k in 0..50u32 {
            let mut b = udp(k, k % 2 == 1);
            match k % 5 {
                1 => b[23] = 6,
                2 => b[23] = 1,
                3 => {
                    // Four bytes of IP options (NOPs and an end).
                    b.splice(34..34, [1, 1, 1, 0]);
                    b[14] = 0x46;
                    b[17] += 4;
                }
                _ => {}
            }
            let ihl = usize::from(b[14] & 0xf) * 4;
            b[24..26].fill(0);
            let ck = ctc_wire::checksum::checksum(&b[14..14 + ihl]);
            b[24..26].copy_from_slice(&ck.to_be_bytes());
            let f = ctc_wire::parse_frame(&b);
            for zone in [0, 3] {
                let a = tr.start_ahead(&b, &f, zone);
                assert!(a.is_some(), "{k}");
                assert_eq!(tr.start_ahead_ip(&b[14..], zone), a, "{k}");
                heads += 1;
            }
        }
        assert_eq!(heads, 100);
        let v4 = udp(1, false);
        let mut frag = v4.clone();
        frag[20] = 0x00;
        frag[21] = 0x08;
        let mut v6 = [0x60u8; 60];
        v6[6] = 17;
        for bad in [&frag[14..], &v4[14..30], &v6[..], &[0x45u8; 3][..], &[][..]] {
            assert_eq!(tr.start_ahead_ip(bad, 0), None, "{bad:?}");
        }
    }

    #[test]
    fn a_batch_does_what_its_packets_one_by_one_do() {
        batch_does_what_its_packets_one_by_one_do([0, usize::MAX]);
    }

    #[test]
    fn a_batch_in_a_small_table_does_what_its_packets_one_by_one_do() {
        // Without lookups ahead (as in a table under Lookahead::FROM).
        batch_does_what_its_packets_one_by_one_do([Lookahead::FROM, usize::MAX]);
    }

    #[test]
    fn a_batch_stepping_every_third_packet_does_what_its_packets_one_by_one_do() {
        // As in a table past Lookahead::FAR_FROM.
        batch_does_what_its_packets_one_by_one_do([0, 0]);
    }

    /// New flows, their replies in the same batch, repeats, an expired
    /// flow coming back: the batch must find and make what the sequence
    /// finds and makes. `ahead_from`: [`Tracker::ahead_from`] for the
    /// batch.
    fn batch_does_what_its_packets_one_by_one_do(ahead_from: [usize; 2]) {
        let frames: Vec<Vec<u8>> = (0..600u32).map(|i| udp((i * 7) % 150, (i / 150) % 2 == 1 && i % 5 != 0)).collect();
        let parsed: Vec<Frame> = frames.iter().map(|b| ctc_wire::parse_frame(b)).collect();
        let cfg = Config { buckets: 64, checksum: false, ..Config::default() };
        let (mut one, mut batch) = (Tracker::new(cfg.clone()), Tracker::new(cfg));
        batch.ahead_from = ahead_from;
        let (mut seen_one, mut seen_batch) = (Vec::new(), Vec::new());
        for (round, chunk) in (0..frames.len()).collect::<Vec<_>>().chunks(37).enumerate() {
            let now = T0 + round as u64 * 5 * S;
            for &i in chunk {
                let v = one.packet(&frames[i], &parsed[i], now, 0);
                if let Some(h) = v.handle {
                    assert!(one.confirm(h, now));
                }
                seen_one.push(v);
            }
            let b: Vec<(&[u8], &Frame)> = chunk.iter().map(|&i| (&frames[i][..], &parsed[i])).collect();
            batch.packet_batch(&b, now, 0, Hook::Prerouting, |tr, _, v| {
                if let Some(h) = v.handle {
                    assert!(tr.confirm(h, now));
                }
                seen_batch.push(v);
            });
            one.advance(now + 4 * S);
            batch.advance(now + 4 * S);
        }
        assert_eq!(seen_one, seen_batch);
        assert!(seen_one.iter().any(|v| v.state == CtState::New));
        assert!(seen_one.iter().any(|v| v.state == CtState::Established));
        // Flows expired and came back as new ones.
        assert!(seen_one.iter().filter(|v| v.state == CtState::New).count() > 150);
        assert_eq!(one.take_events(), batch.take_events());
        assert_eq!(one.stats(), batch.stats());
        assert_eq!(one.entries().collect::<Vec<_>>(), batch.entries().collect::<Vec<_>>());
        check(&batch);
    }

    #[test]
    fn a_batch_meets_expired_entries_as_its_packets_one_by_one() {
        // Entries past their timeout that no timer has collected yet: the
        // lookup that finds one destroys it and the packet makes a new one
        // — also when the lookup ahead handed the expired entry's node
        // over.
        let cfg = Config { buckets: 16, checksum: false, ..Config::default() };
        let (mut one, mut batch) = (Tracker::new(cfg.clone()), Tracker::new(cfg));
        for tr in [&mut one, &mut batch] {
            for k in 0..20 {
                pass(tr, k, false, 0, T0);
            }
            tr.take_events();
        }
        let now = T0 + 31 * S;
        let frames: Vec<Vec<u8>> = (0..40u32).map(|i| udp(i % 20, i >= 20)).collect();
        let parsed: Vec<Frame> = frames.iter().map(|b| ctc_wire::parse_frame(b)).collect();
        let mut seen_one = Vec::new();
        for (b, f) in frames.iter().zip(&parsed) {
            let v = one.packet(b, f, now, 0);
            assert!(one.confirm(v.handle.expect("tracked"), now));
            seen_one.push(v);
        }
        let mut seen_batch = Vec::new();
        let b: Vec<(&[u8], &Frame)> = frames.iter().map(|b| &b[..]).zip(&parsed).collect();
        batch.packet_batch(&b, now, 0, Hook::Prerouting, |tr, _, v| {
            assert!(tr.confirm(v.handle.expect("tracked"), now));
            seen_batch.push(v);
        });
        assert_eq!(seen_one, seen_batch);
        assert_eq!(seen_one.iter().filter(|v| v.state == CtState::New).count(), 20);
        let events = one.take_events();
        assert_eq!(events.iter().filter(|e| e.kind == EventKind::Destroy).count(), 20);
        assert_eq!(events, batch.take_events());
        assert_eq!(one.stats(), batch.stats());
        assert_eq!(one.entries().collect::<Vec<_>>(), batch.entries().collect::<Vec<_>>());
    }

    /// Ethernet + IPv4 + a 20-byte TCP header between 10.0.a.b:port and
    /// 192.0.2.1:80 (no checksum), client to server or back.
    fn tcp(k: u32, reply: bool, flags: u8, seq: u32, ack: u32) -> Vec<u8> {
        let mut b = udp(k, reply);
        b.resize(14 + 20 + 20, 0);
        b[16..18].copy_from_slice(&40u16.to_be_bytes());
        b[23] = 6;
        b[24..26].fill(0);
        let ck = ctc_wire::checksum::checksum(&b[14..34]);
        b[24..26].copy_from_slice(&ck.to_be_bytes());
        let at = if reply { 34 } else { 36 };
        b[at..at + 2].copy_from_slice(&80u16.to_be_bytes());
        b[38..42].copy_from_slice(&seq.to_be_bytes());
        b[42..46].copy_from_slice(&ack.to_be_bytes());
        b[46] = 0x50;
        b[47] = flags;
        b[48..50].copy_from_slice(&0xffffu16.to_be_bytes());
        b
    }

    #[test]
    fn a_batch_of_tcp_segments_does_what_they_do_one_by_one() {
        batch_of_tcp_segments_does_what_they_do_one_by_one([0, usize::MAX]);
    }

    #[test]
    fn a_batch_of_tcp_segments_stepping_every_third_does_what_they_do_one_by_one() {
        batch_of_tcp_segments_does_what_they_do_one_by_one([0, 0]);
    }

    /// `ahead_from`: [`Tracker::ahead_from`] for the batch.
    fn batch_of_tcp_segments_does_what_they_do_one_by_one(ahead_from: [usize; 2]) {
        // Handshakes, ACKs, FINs, RSTs, and SYNs reopening a reset
        // connection or hitting an established one, 120 connections interleaved in batches
        // that cross them (the lookups ahead see the chains change).
        const SYN: u8 = 0x02;
        const ACK: u8 = 0x10;
        const FIN: u8 = 0x01;
        const RST: u8 = 0x04;
        let mut frames = Vec::new();
        for phase in 0..6u32 {
            for j in 0..120u32 {
                let k = (j * 13) % 120;
                let (c, sv) = (k * 1000 + 1, k * 7777 + 5);
                let seg = match (phase, k % 3) {
                    (0, _) => tcp(k, false, SYN, c, 0),
                    (1, _) => tcp(k, true, SYN | ACK, sv, c + 1),
                    (2, _) => tcp(k, false, ACK, c + 1, sv + 1),
                    (3, _) => tcp(k, true, ACK, sv + 1, c + 1),
                    (4, 0) => tcp(k, false, FIN | ACK, c + 1, sv + 1),
                    (4, 1) => tcp(k, false, RST, c + 1, 0),
                    (4, _) => tcp(k, false, ACK, c + 1, sv + 1),
                    (_, 0) => tcp(k, true, FIN | ACK, sv + 1, c + 2),
                    (_, _) => tcp(k, false, SYN, c + 50_000, 0),
                };
                frames.push(seg);
            }
        }
        let parsed: Vec<Frame> = frames.iter().map(|b| ctc_wire::parse_frame(b)).collect();
        let cfg = Config { buckets: 32, checksum: false, ..Config::default() };
        let (mut one, mut batch) = (Tracker::new(cfg.clone()), Tracker::new(cfg));
        batch.ahead_from = ahead_from;
        let (mut seen_one, mut seen_batch) = (Vec::new(), Vec::new());
        for (round, chunk) in (0..frames.len()).collect::<Vec<_>>().chunks(37).enumerate() {
            let now = T0 + round as u64 * S;
            for &i in chunk {
                let v = one.packet(&frames[i], &parsed[i], now, 0);
                if let Some(h) = v.handle {
                    one.confirm(h, now);
                }
                seen_one.push(v);
            }
            let b: Vec<(&[u8], &Frame)> = chunk.iter().map(|&i| (&frames[i][..], &parsed[i])).collect();
            batch.packet_batch(&b, now, 0, Hook::Prerouting, |tr, _, v| {
                if let Some(h) = v.handle {
                    tr.confirm(h, now);
                }
                seen_batch.push(v);
            });
        }
        assert_eq!(seen_one, seen_batch);
        for state in [CtState::New, CtState::Established] {
            assert!(seen_one.iter().any(|v| v.state == state));
        }
        let tcp_states = |tr: &Tracker| tr.entries().map(|e| e.tcp.map(|t| t.state)).collect::<Vec<_>>();
        // Connections left established (a SYN into one is ignored), half
        // closed (FIN both ways: LAST_ACK) and reopened after their RST
        // (a new SYN_SENT entry).
        for state in [TcpState::Established, TcpState::LastAck, TcpState::SynSent] {
            assert!(tcp_states(&one).contains(&Some(state)), "{state:?}");
        }
        assert_eq!(tcp_states(&one), tcp_states(&batch));
        assert_eq!(one.take_events(), batch.take_events());
        assert_eq!(one.stats(), batch.stats());
        assert_eq!(one.entries().collect::<Vec<_>>(), batch.entries().collect::<Vec<_>>());
        check(&batch);
    }

    /// Live entries by id with their expiry's jiffy.
    fn expiries(tr: &Tracker) -> Vec<(u32, u64)> {
        let mut v: Vec<_> = tr.entries().map(|e| (e.id, e.timeout_at_ns / TICK_NS)).collect();
        v.sort_unstable();
        v
    }

    /// `advance(now)` leaves exactly the entries whose expiry is later.
    fn advance_exactly(tr: &mut Tracker, now: u64) {
        let mut want = expiries(tr);
        want.retain(|&(_, j)| j > now / TICK_NS);
        tr.advance(now);
        assert_eq!(expiries(tr), want, "at {now}");
    }

    #[test]
    fn expiries_past_what_a_timer_key_holds_are_exact() {
        // Streams time out after 300 days: more jiffies than a 32-bit
        // timer key counts; the other flows after 30 s.
        const DAY: u64 = 86_400 * S;
        let cfg = Config { buckets: 7, checksum: false, udp_timeout_stream: 300 * 86_400, ..Config::default() };
        let mut tr = Tracker::new(cfg);
        for k in 0..40 {
            pass(&mut tr, k, false, 0, T0 + u64::from(k) * S / 4);
            pass(&mut tr, k, true, 0, T0 + S + u64::from(k) * S / 4);
        }
        for k in (0..40).step_by(2) {
            pass(&mut tr, k, false, 0, T0 + 12 * S + u64::from(k) * S);
        }
        let mut now = T0;
        while now < T0 + 60 * S {
            now += S / 3;
            advance_exactly(&mut tr, now);
        }
        assert_eq!(tr.count(), 20);
        // Refreshed streams move on by 300 days again, some after 150
        // days, some after 290.
        for k in (0..40).step_by(4) {
            pass(&mut tr, k, false, 0, now + 150 * DAY + u64::from(k) * S);
        }
        for k in (2..40).step_by(4) {
            pass(&mut tr, k, true, 0, now + 290 * DAY + u64::from(k) * S);
        }
        while tr.count() > 0 {
            now += DAY / 7 + 13 * S;
            advance_exactly(&mut tr, now);
        }
        // A clock that goes back further than a timeout: the new entry's
        // expiry is before the timer epoch.
        pass(&mut tr, 1, false, 0, now);
        pass(&mut tr, 2, false, 0, now - 5 * DAY);
        pass(&mut tr, 3, false, 0, now + 10 * S);
        advance_exactly(&mut tr, now - 5 * DAY + 29 * S);
        advance_exactly(&mut tr, now - 5 * DAY + 30 * S);
        assert_eq!(tr.count(), 2);
        advance_exactly(&mut tr, now + 30 * S);
        advance_exactly(&mut tr, now + 40 * S);
        assert_eq!(tr.count(), 0);
    }

    #[test]
    fn only_connections_made_while_acct_is_on_count() {
        // nf_ct_acct_ext_add in init_conntrack: a connection counts if
        // nf_conntrack_acct was on when it was made, for its whole life,
        // whatever the setting is later; only such a connection shows
        // counters in listings and its DESTROY event.
        let mut tr = Tracker::new(Config { buckets: 16, checksum: false, ..Config::default() });
        assert!(!tr.config().acct);
        pass(&mut tr, 1, false, 0, T0);
        tr.config_mut().acct = true;
        pass(&mut tr, 2, false, 0, T0);
        for k in [1, 2] {
            pass(&mut tr, k, false, 0, T0 + S);
        }
        tr.config_mut().acct = false;
        for k in [1, 2] {
            pass(&mut tr, k, true, 0, T0 + 2 * S);
        }
        let (a, b) = (slot_of(&tr, 1), slot_of(&tr, 2));
        let (ea, eb) = (tr.entry(tr.handle(a)).unwrap(), tr.entry(tr.handle(b)).unwrap());
        assert!(!ea.accounted && eb.accounted);
        assert_eq!(ea.counters, [(0, 0); 2]);
        assert_eq!(eb.counters, [(2, 56), (1, 28)]);
        let list = |e: &Entry<'_>| crate::format::entry(e, T0 + 3 * S);
        assert!(!list(&ea).contains("packets="), "{}", list(&ea));
        assert!(list(&eb).contains("packets=2 bytes=56") && list(&eb).contains("packets=1 bytes=28"), "{}", list(&eb));
        tr.take_events();
        tr.flush(T0 + 3 * S);
        let counters: Vec<_> = tr.take_events().into_iter().map(|e| (e.tuples[0].src, e.counters)).collect();
        assert_eq!(counters.len(), 2);
        for (src, c) in counters {
            assert_eq!(c.is_some(), src[3] == 2, "{src:?}: {c:?}");
        }
    }

    #[test]
    fn only_connections_made_while_timestamp_is_on_keep_times() {
        // nf_ct_tstamp_ext_add in init_conntrack, as the counters: a
        // connection keeps its start (set at confirmation) and stop times
        // if nf_conntrack_timestamp was on when it was made.
        let mut tr = Tracker::new(Config { buckets: 16, checksum: false, ..Config::default() });
        assert!(!tr.config().timestamp);
        pass(&mut tr, 1, false, 0, T0);
        tr.config_mut().timestamp = true;
        pass(&mut tr, 2, false, 0, T0 + S);
        tr.config_mut().timestamp = false;
        pass(&mut tr, 3, false, 0, T0 + 2 * S);
        let e = |k| tr.entry(tr.handle(slot_of(&tr, k))).unwrap();
        assert_eq!([1, 2, 3].map(|k| (e(k).timestamped, e(k).start_ns)), [(false, 0), (true, T0 + S), (false, 0)]);
        let list = |k| crate::format::entry(&e(k), T0 + 5 * S);
        assert!(list(2).contains("delta-time=4 "), "{}", list(2));
        assert!(!list(1).contains("delta-time") && !list(3).contains("delta-time"), "{}", list(1));
        tr.take_events();
        tr.flush(T0 + 6 * S);
        let times: Vec<_> = tr.take_events().into_iter().map(|e| (e.tuples[0].src[3], e.timestamps)).collect();
        assert_eq!(times.len(), 3);
        for (k, t) in times {
            assert_eq!(t, (k == 2).then_some((T0 + S, T0 + 6 * S)), "flow {k}");
        }
    }

    /// The entry of flow `k` (client to server) in zone 0.
    fn slot_of(tr: &Tracker, k: u32) -> u32 {
        let b = udp(k, false);
        let f = ctc_wire::parse_frame(&b);
        let n = f.network.as_ref().unwrap();
        let t = Tuple::new(n.src.unwrap(), n.dst.unwrap(), 17, be16(&b, 34), be16(&b, 36));
        tr.find_raw(&t, 0).expect("flow in the table").0
    }

    #[test]
    fn times_past_32_bits_of_jiffies_are_exact() {
        const DAY: u64 = 86_400 * S;
        // Timeouts of 40 million seconds: 10^10 jiffies, past 32 bits both
        // as a timeout (unconfirmed) and as an expiry from the epoch.
        let far = 40_000_000;
        let cfg = Config { buckets: 7, checksum: false, udp_timeout: far, ..Config::default() };
        let mut tr = Tracker::new(cfg);
        pass(&mut tr, 1, false, 0, T0);
        let i = slot_of(&tr, 1);
        assert_eq!(tr.e(i).timeout, FAR);
        let at = |tr: &Tracker, i: u32| tr.entry(tr.handle(i)).unwrap().timeout_at_ns;
        assert_eq!(at(&tr, i), T0 + far * S);
        // A flow with a short timeout beside it, from a clock 30 days
        // back (before the slot epoch): exact too.
        tr.config_mut().udp_timeout = 30;
        pass(&mut tr, 2, false, 0, T0 - 30 * DAY + S / 3);
        let j = slot_of(&tr, 2);
        assert_eq!(tr.e(j).timeout, FAR);
        assert_eq!(at(&tr, j), (T0 - 30 * DAY + S / 3) / TICK_NS * TICK_NS + 30 * S);
        // Refreshed at T0: back in 32 bits; the far one refreshed at a
        // later clock stays exact.
        pass(&mut tr, 2, false, 0, T0 + S);
        assert_ne!(tr.e(j).timeout, FAR);
        assert_eq!(at(&tr, j), T0 + 31 * S);
        tr.config_mut().udp_timeout = far;
        pass(&mut tr, 1, false, 0, T0 + 7 * S);
        assert_eq!(at(&tr, i), T0 + 7 * S + far * S);
        // A far timeout lowered to a near one (the old one past 32 bits).
        tr.config_mut().udp_timeout = 10;
        pass(&mut tr, 1, false, 0, T0 + 8 * S);
        assert_eq!(at(&tr, i), T0 + 18 * S);
        advance_exactly(&mut tr, T0 + 18 * S);
        assert_eq!(tr.count(), 1);
        advance_exactly(&mut tr, T0 + 31 * S);
        assert_eq!(tr.count(), 0);

        // Timeouts that saturate the nanoseconds: u64::MAX, as before.
        let cfg = Config { buckets: 7, checksum: false, udp_timeout: u64::MAX, ..Config::default() };
        let mut tr = Tracker::new(cfg);
        let b = udp(3, false);
        let v = tr.packet(&b, &ctc_wire::parse_frame(&b), T0, 0);
        let h = v.handle.unwrap();
        assert_eq!(tr.entry(h).unwrap().timeout_at_ns, u64::MAX);
        assert!(tr.confirm(h, T0));
        assert_eq!(tr.entry(h).unwrap().timeout_at_ns, u64::MAX);
        let ev = tr.take_events();
        assert_eq!(ev[0].timeout_secs, Some((u64::MAX / TICK_NS - T0 / TICK_NS) / HZ));
        advance_exactly(&mut tr, T0 + 1000 * DAY);
        assert_eq!(tr.count(), 1);
    }

    #[test]
    fn the_slot_epoch_follows_a_table_that_is_never_empty() {
        // Streams time out after 60 days and are seen every 20 days for
        // 400 days (past the 180 days that 32 bits count from one epoch);
        // others come and go. Expiries stay exact, and the times keep to
        // 32 bits.
        const DAY: u64 = 86_400 * S;
        let cfg = Config { buckets: 7, checksum: false, udp_timeout_stream: 60 * 86_400, ..Config::default() };
        let mut tr = Tracker::new(cfg);
        for k in 0..8 {
            pass(&mut tr, k, false, 0, T0);
            pass(&mut tr, k, true, 0, T0 + S);
            pass(&mut tr, k, false, 0, T0 + 3 * S);
        }
        let first = tr.slot_epoch_j;
        let mut now = T0 + 3 * S;
        for day in 1..=400u64 {
            now = T0 + day * DAY;
            if day % 20 == 0 {
                for k in 0..8 {
                    pass(&mut tr, k, day % 40 == 0, 0, now + u64::from(k) * S);
                }
            }
            pass(&mut tr, 100 + (day % 50) as u32, false, 0, now);
            advance_exactly(&mut tr, now + 9 * S);
            assert!(tr.slots.iter().flatten().all(|c| c.timeout != FAR && c.l4 != FAR), "day {day}");
        }
        assert!(tr.slot_epoch_j > first + SLOT_EPOCH_AGE);
        for k in 0..8 {
            let i = slot_of(&tr, k);
            assert_ne!(tr.e(i).status & status::ASSURED, 0);
            // The stream_ts of day 0, before the epoch now: exact, in the
            // cold part.
            assert_eq!(tr.e(i).l4, PAST);
            assert_eq!(tr.stream_ts(i, tr.e(i)), T0 / TICK_NS + 2 * HZ);
        }
        while tr.count() > 0 {
            now += DAY / 3;
            advance_exactly(&mut tr, now);
        }
    }

    #[test]
    fn stream_times_past_32_bits_of_jiffies_are_exact() {
        const DAY: u64 = 86_400 * S;
        let cfg = Config { buckets: 7, checksum: false, ..Config::default() };
        let mut tr = Tracker::new(cfg);
        pass(&mut tr, 1, false, 0, T0);
        // A flow from a clock 10 days back: its stream_ts is before the
        // slot epoch.
        let t = T0 - 10 * DAY;
        pass(&mut tr, 2, false, 0, t);
        let j = slot_of(&tr, 2);
        assert_eq!(tr.e(j).l4, PAST);
        assert_eq!(tr.stream_ts(j, tr.e(j)), t / TICK_NS + 2 * HZ);
        let st = |tr: &Tracker| {
            let e = tr.entry(tr.handle(j)).unwrap();
            (e.status, e.timeout_at_ns)
        };
        // Replied, then seen again within 2 s: not a stream yet.
        pass(&mut tr, 2, true, 0, t + S);
        pass(&mut tr, 2, false, 0, t + 2 * S);
        assert_eq!(st(&tr).0 & status::ASSURED, 0);
        assert_eq!(st(&tr).1, t + 32 * S);
        // Seen again after 2 s: ASSURED, stream timeout.
        pass(&mut tr, 2, false, 0, t + 2 * S + TICK_NS);
        assert_ne!(st(&tr).0 & status::ASSURED, 0);
        assert_eq!(st(&tr).1, t + 2 * S + TICK_NS + 120 * S);
        // The same within the slot epoch's range.
        let i = slot_of(&tr, 1);
        assert_ne!(tr.e(i).l4, FAR);
        assert_eq!(tr.stream_ts(i, tr.e(i)), T0 / TICK_NS + 2 * HZ);
        // When the table is empty the epoch moves to the clock.
        tr.flush(T0);
        pass(&mut tr, 4, false, 0, T0 + 400 * DAY);
        let k = slot_of(&tr, 4);
        assert_ne!(tr.e(k).l4, FAR);
        assert_ne!(tr.e(k).timeout, FAR);
        assert_eq!(tr.stream_ts(k, tr.e(k)), (T0 + 400 * DAY) / TICK_NS + 2 * HZ);
        // A flow from a clock 300 days on (past 32 bits from the epoch):
        // FAR, exact, and a stream only after its 2 s.
        let u = T0 + 700 * DAY;
        pass(&mut tr, 5, false, 0, u);
        let m = slot_of(&tr, 5);
        assert_eq!(tr.e(m).l4, FAR);
        assert_eq!(tr.stream_ts(m, tr.e(m)), u / TICK_NS + 2 * HZ);
        pass(&mut tr, 5, true, 0, u + S);
        pass(&mut tr, 5, false, 0, u + 2 * S);
        assert_eq!(tr.e(m).status & status::ASSURED, 0);
        pass(&mut tr, 5, false, 0, u + 2 * S + TICK_NS);
        assert_ne!(tr.e(m).status & status::ASSURED, 0);
    }

    /// 160 entries in 5 buckets: entries whose two nodes share a bucket and
    /// a link, entries whose reply tuple is elsewhere (source or
    /// destination NAT, an ICMP echo: the reply's type differs) and
    /// entries whose tuples are equal (a tuple that is its own mirror
    /// image). Each with its slot and tuples.
    fn mixed_table() -> (Tracker, Vec<(u32, Tuple, Tuple)>) {
        let mut tr = Tracker::new(Config { buckets: 5, checksum: false, ..Config::default() });
        let ip = |a: [u8; 4]| IpAddr::from(a);
        let mut made = Vec::new();
        for k in 0..160u16 {
            let c = [192, 0, 2, (k % 50) as u8];
            let mut t = Tuple::new(ip(c), ip([198, 51, 100, 1]), 17, 1000 + k, 53);
            let mut r = t.invert().unwrap();
            match k % 5 {
                1 => r.dst = crate::tuple::addr_bytes(ip([203, 0, 113, k as u8])),
                2 => r.src_port = 5000 + k,
                3 => {
                    t = Tuple::new(ip([203, 0, 113, k as u8]), ip([203, 0, 113, k as u8]), 17, 7, 7);
                    r = t;
                }
                4 => {
                    t = Tuple::new(ip(c), ip([198, 51, 100, 2]), 1, k, 8 << 8);
                    r = t.invert().unwrap();
                    assert_ne!(r, Tuple { src: t.dst, dst: t.src, src_port: t.dst_port, dst_port: t.src_port, ..t });
                }
                _ => {}
            }
            let idx = tr.init_conntrack(&t, tuple_hash(&t, 0), 0, T0).unwrap();
            tr.set_tuples(idx, &[t, r]);
            assert!(tr.confirm(tr.handle(idx), T0), "{t:?}");
            made.push((idx, t, r));
        }
        (tr, made)
    }

    #[test]
    fn lookups_find_entries_whose_tuples_are_not_mirror_images() {
        // In the mixed table, a lookup of any tuple from either direction
        // finds what a scan finds, also after some of the entries went. An
        // entry whose tuples are equal is found by its reply node, which
        // is first in the chain (linked last), as in the kernel.
        let (mut tr, mut made) = mixed_table();
        let look = |tr: &Tracker, made: &[(u32, Tuple, Tuple)]| {
            for &(idx, t, r) in made {
                if t == r {
                    assert_eq!(tr.find_raw(&t, 0), Some((idx, Dir::Reply)));
                } else {
                    assert_eq!(tr.find_raw(&t, 0), model_find(tr, &t, 0), "{t:?}");
                    assert_eq!(tr.find_raw(&r, 0), model_find(tr, &r, 0), "{r:?}");
                }
                assert_eq!(tr.find_raw(&t, 1), None);
            }
        };
        look(&tr, &made);
        check(&tr);
        for &(idx, ..) in made.iter().step_by(3) {
            tr.destroy(idx, T0);
        }
        made.retain(|&(idx, ..)| tr.slots[idx as usize].is_some());
        assert_eq!(made.len(), tr.count());
        look(&tr, &made);
        check(&tr);
    }

    #[test]
    fn lookups_ahead_hand_each_packet_the_node_its_walk_finds() {
        // 300 connections in 256 buckets (chains of up to a few
        // connections), their packets in both directions in a mixed order:
        // at either gap, what the lookup ahead of each packet found when
        // the packet is handled is the node the walk finds — or nothing,
        // for a node further down its chain than the steps go (94 % are
        // found at either gap, at 1.2 connections a bucket).
        let mut tr = Tracker::new(Config { buckets: 256, checksum: false, ..Config::default() });
        for k in 0..300 {
            pass(&mut tr, k, false, 0, T0);
        }
        let order = |i: u32| ((i * 37) % 300, i % 3 == 1);
        let packets: Vec<Vec<u8>> = (0..1200).map(|i| udp(order(i).0, order(i).1)).collect();
        for (from, gap) in [(usize::MAX, 2), (0, 3)] {
            tr.ahead_from = [0, from];
            let mut la = Lookahead::default();
            let depth = tr.begin_ahead(&mut la);
            assert_eq!(depth, gap * (Lookahead::STEPS + 1));
            let ip = |i: usize| packets.get(i).map(|b| &b[14..]);
            for i in 0..depth {
                tr.look_ahead(&mut la, ip(i), 0);
            }
            let mut found = 0;
            for (i, b) in packets.iter().enumerate() {
                tr.look_ahead(&mut la, ip(i + depth), 0);
                let f = ctc_wire::parse_frame(b);
                let (k, reply) = order(i as u32);
                let (c, sp) = (IpAddr::from([10, 0, (k >> 8) as u8, k as u8]), 1000 + (k % 7) as u16);
                let srv = IpAddr::from([192, 0, 2, 1]);
                let t = if reply { Tuple::new(srv, c, 17, 53, sp) } else { Tuple::new(c, srv, 17, sp, 53) };
                let (idx, dir) = tr.find_raw(&t, 0).expect("in the table");
                match la.found() {
                    NIL => {}
                    node => {
                        assert_eq!(node, idx << 1 | dir as u32, "packet {i}, gap {gap}");
                        found += 1;
                    }
                }
                let v = tr.packet_ahead(&la, b, &f, T0 + S, 0, Hook::Prerouting);
                assert_eq!(v.handle.map(|h| h.idx), Some(idx));
            }
            assert!(found >= packets.len() * 9 / 10, "gap {gap}: {found} of {}", packets.len());
        }
    }

    #[test]
    fn a_hinted_lookup_finds_what_the_walk_finds_or_nothing() {
        // Whatever node a lookup ahead hands over — the right one, another
        // entry's, a free slot, an entry not confirmed yet, past the end of
        // the table — `hinted` gives what `find_key` finds or nothing; and
        // from the node the walk finds, it finds the same. In the mixed
        // table, then with a third of it gone and some slots reused by
        // entries not confirmed (one holding a tuple of a confirmed entry
        // gone, one a new tuple).
        let (mut tr, mut made) = mixed_table();
        let ip = |a: [u8; 4]| IpAddr::from(a);
        let absent = Tuple::new(ip([192, 0, 2, 200]), ip([198, 51, 100, 1]), 17, 999, 53);
        let probe = |tr: &Tracker, made: &[(u32, Tuple, Tuple)]| {
            let mut from_walk = 0;
            let nodes = 2 * tr.slots.len() as u32 + 4;
            let tuples = made.iter().flat_map(|&(_, t, r)| [(t, t == r), (r, t == r)]);
            for (t, equal) in tuples.chain([(absent, false)]) {
                for zone in [0, 1] {
                    let k = Key::of(&t);
                    assert!(k.narrow);
                    let walk = tr.find_key(tuple_hash(&t, zone), &k, None, zone);
                    if equal && zone == 0 {
                        assert!(matches!(walk, Some((_, Dir::Reply))), "{t:?}");
                    } else {
                        assert_eq!(walk, model_find(tr, &t, zone), "{t:?}");
                    }
                    for hint in (0..nodes).chain([NIL]) {
                        let hinted = tr.hinted(hint, &k, zone);
                        assert!(
                            hinted.is_none() || hinted == walk,
                            "{t:?} zone {zone} hint {hint}: {hinted:?}, {walk:?}"
                        );
                    }
                    if let Some((idx, dir)) = walk {
                        // The node itself, or for an entry whose tuples are
                        // equal, the original node too.
                        assert_eq!(tr.hinted(idx << 1 | dir as u32, &k, zone), walk);
                        if equal {
                            assert_eq!(tr.hinted(idx << 1, &k, zone), walk);
                        }
                        from_walk += 1;
                    }
                }
            }
            from_walk
        };
        // Both tuples of every entry found, in zone 0 only.
        assert_eq!(probe(&tr, &made), 2 * 160);
        for &(idx, ..) in made.iter().step_by(3) {
            tr.destroy(idx, T0);
        }
        let gone = made.iter().step_by(3).map(|m| m.1).collect::<Vec<_>>();
        made.retain(|&(idx, ..)| tr.slots[idx as usize].is_some());
        let mut unconfirmed = Vec::new();
        for t in [gone[1], gone[2], absent] {
            let idx = tr.init_conntrack(&t, tuple_hash(&t, 0), 0, T0).unwrap();
            unconfirmed.push((idx, t));
        }
        assert!(unconfirmed.iter().any(|&(idx, _)| made.iter().all(|m| m.0 != idx)));
        let found = probe(&tr, &made);
        assert_eq!(found, 2 * made.len());
        for &(idx, t) in &unconfirmed {
            assert_eq!(tr.hinted(idx << 1, &Key::of(&t), 0), None, "{t:?}");
        }
    }

    #[test]
    fn head_filters_let_every_node_through_as_they_narrow() {
        // Pushes into 64 buckets, then the node bits widened as for ever
        // larger slot arrays: the filter folds to 4 bits, 2, 1, then none.
        // Every node's hash must still pass its bucket's filter, the first
        // nodes stay, and while the filter has 2 bits or more it still
        // turns some hashes away.
        let mut heads = Heads::with_filter(64, true);
        let (mut pushed, mut first): (Vec<Vec<u32>>, Vec<u32>) = (vec![Vec::new(); 64], vec![NIL; 64]);
        let mut x = 0x9e37_79b9u32;
        for node in 0..40u32 {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            let b = (x % 64) as usize;
            heads.push(b, node << 1, x);
            pushed[b].push(x);
            first[b] = node << 1;
        }
        for slots in [0usize, 1 << 22, 1 << 24, 1 << 27, 1 << 29, (1 << 30) + 1] {
            heads.fit(slots);
            let mut turned_away = 0;
            for (b, hashes) in pushed.iter().enumerate() {
                assert_eq!(heads.first(b), first[b], "{slots} slots, bucket {b}");
                for &h in hashes {
                    assert_eq!(heads.first_for(b, h), first[b], "{slots} slots, bucket {b}, hash {h:#x}");
                }
                turned_away += (0..16u32).filter(|&t| first[b] != NIL && heads.first_for(b, t << 1) == NIL).count();
            }
            let width = Heads::width_of(heads.node_bits);
            assert_eq!(turned_away > 0, width >= 2, "{slots} slots: width {width}");
        }
        assert_eq!(heads.node_bits, 32);
    }

    #[test]
    fn lookups_find_every_entry_as_the_slot_array_outgrows_the_node_bits() {
        // 70,000 connections: the slot array passes 2^16 entries, the head
        // words give the node another bit and their filters, which the
        // lookups read in a table this size, stay right.
        let mut tr = Tracker::new(Config { buckets: Heads::FILTERED_FROM, checksum: false, ..Config::default() });
        assert!(tr.heads.filtered);
        let ip = |a: [u8; 4]| IpAddr::from(a);
        let tuple = |k: u32| {
            let c = [10, (k >> 16) as u8, (k >> 8) as u8, k as u8];
            Tuple::new(ip(c), ip([192, 0, 2, 1]), 17, 1000 + (k % 7) as u16, 53)
        };
        let bits = tr.heads.node_bits;
        for k in 0..70_000 {
            let t = tuple(k);
            let idx = tr.init_conntrack(&t, tuple_hash(&t, 0), 0, T0).unwrap();
            assert!(tr.confirm(tr.handle(idx), T0));
        }
        assert!(tr.heads.node_bits > bits);
        for k in (0..70_000).step_by(7) {
            let t = tuple(k);
            assert!(tr.find_raw(&t, 0).is_some_and(|(_, d)| d == Dir::Original), "{k}");
            assert!(tr.find_raw(&t.invert().unwrap(), 0).is_some_and(|(_, d)| d == Dir::Reply), "{k}");
        }
        assert_eq!(tr.find_raw(&tuple(70_001), 0), None);
        check(&tr);
    }

    #[test]
    fn chains_in_the_link_array_match_a_scan() {
        // Few buckets: long chains, both directions of many entries in
        // each. With whole node words in the heads (a table this small),
        // then with filters in them (as in a large one): `check` also
        // asserts that every node passes its bucket's filter, through
        // removals from the head and the middle of chains and chains that
        // empty.
        for filtered in [false, true] {
            chains_match_a_scan(filtered);
        }
    }

    fn chains_match_a_scan(filtered: bool) {
        let cfg = Config { buckets: 7, checksum: false, ..Config::default() };
        let mut tr = Tracker::new(cfg);
        tr.heads = Heads::with_filter(7, filtered);
        for k in 0..300 {
            pass(&mut tr, k, false, (k % 2) as u16, T0);
            if k % 3 == 0 {
                pass(&mut tr, k, true, (k % 2) as u16, T0);
            }
        }
        check(&tr);
        // Replied flows seen again after 2 s are streams (longer timeout).
        for k in (0..300).step_by(6) {
            pass(&mut tr, k, false, (k % 2) as u16, T0 + 3 * S);
        }
        check(&tr);
        // The others expire and are unlinked from the middle of chains.
        tr.advance(T0 + 40 * S);
        assert_eq!(tr.count(), 50);
        check(&tr);
        // Slots are reused with fresh links; a packet of an expired flow
        // starts a new entry.
        for k in 100..400 {
            pass(&mut tr, k, false, 0, T0 + 41 * S);
        }
        check(&tr);
        tr.flush(T0 + 42 * S);
        assert_eq!(tr.count(), 0);
        check(&tr);
    }
}

#[cfg(test)]
mod store_tests {
    //! The compact form of the tuples: every tuple comes back as stored,
    //! and a lookup finds exactly the tuples stored, compact or wide.
    use super::*;

    fn conn() -> Conn {
        Conn {
            addr: [0; 2],
            ports: [0; 2],
            zone: 0,
            proto: 0,
            flags: 0,
            status: 0,
            timeout: 0,
            l4: 0,
            acct: [[0; 2]; 2],
            id: core::num::NonZeroU32::MIN,
            mark: 0,
        }
    }

    #[test]
    fn narrow_keys_hash_as_their_tuples() {
        let mut x = 0x1234_5678_9abc_def0u64;
        for i in 0..2000u32 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let t = Tuple {
                src: crate::tuple::addr_bytes(IpAddr::from((x as u32).to_be_bytes())),
                dst: crate::tuple::addr_bytes(IpAddr::from(((x >> 32) as u32).to_be_bytes())),
                src_port: x as u16 ^ (x >> 48) as u16,
                dst_port: (x >> 16) as u16,
                l3: if i % 3 == 0 { L3_IPV4 } else { (x >> 40) as u8 },
                proto: (x >> 24) as u8,
            };
            let k = Key::of(&t);
            assert!(k.narrow);
            assert_eq!(k.addrs(), (t.src, t.dst));
            for zone in [0, 1, (x >> 8) as u16] {
                assert_eq!(k.hash(zone), tuple_hash(&t, zone));
            }
        }
    }

    #[test]
    fn a_tuple_and_its_mirror_image_share_a_bucket() {
        // Narrow and wide tuples, equal endpoints included: the hashes of
        // a tuple and of the tuple turned round differ in bit 0 only
        // (unless the tuple is its own mirror image), so they fall in one
        // bucket in a table of any size; bit 0 says which endpoint is the
        // smaller.
        let mut x = 0x0fed_cba9_8765_4321u64;
        let tables: Vec<Tracker> =
            [1, 7, 1000, 262_144].map(|b| Tracker::new(Config { buckets: b, ..Config::default() })).into();
        // Where bucket k begins: a hash and the one differing in bit 0
        // still share a bucket.
        for tr in &tables {
            let n = tr.heads.len() as u64;
            for k in 1..n.min(64) {
                let first = (k << 32).div_ceil(n);
                assert_eq!(tr.bucket_of(first as u32), tr.bucket_of(first as u32 ^ 1), "bucket {k} of {n}");
            }
        }
        for i in 0..3000u32 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let mut t = Tuple {
                src: crate::tuple::addr_bytes(IpAddr::from((x as u32).to_be_bytes())),
                dst: crate::tuple::addr_bytes(IpAddr::from(((x >> 32) as u32).to_be_bytes())),
                src_port: x as u16,
                dst_port: (x >> 16) as u16,
                l3: L3_IPV4,
                proto: if i % 2 == 0 { 6 } else { 17 },
            };
            match i % 5 {
                1 => t.src[4..].copy_from_slice(&x.to_le_bytes().repeat(2)[..12]),
                2 => t.dst[15] = x as u8 | 1,
                3 => (t.dst, t.dst_port) = (t.src, t.src_port),
                4 => t.dst_port = t.src_port,
                _ => {}
            }
            let r = Tuple { src: t.dst, dst: t.src, src_port: t.dst_port, dst_port: t.src_port, ..t };
            for zone in [0, 9] {
                let (h, g) = (tuple_hash(&t, zone), tuple_hash(&r, zone));
                assert_eq!(h ^ g, u32::from(t != r), "{t:?}");
                for tr in &tables {
                    assert_eq!(tr.bucket_of(h), tr.bucket_of(g));
                }
            }
        }
    }

    #[test]
    fn status_events_and_helper_share_a_word_without_mixing() {
        // Every IPS_* bit of the kernel (__IPS_MAX_BIT = 16) and every
        // IPCT_* bit (12) has its place.
        for b in [status::EXPECTED, status::HW_OFFLOAD, status::NAT_CLASH, status::DYING] {
            assert_eq!(b & !crate::STATUS_MASK, 0);
        }
        const { assert!(ipct::SYNPROXY < 1 << 12) };
        let helpers = [
            None,
            Some(crate::Helper::Ftp),
            Some(crate::Helper::Tftp),
            Some(crate::Helper::Irc),
            Some(crate::Helper::Sip),
            Some(crate::Helper::H323),
            Some(crate::Helper::Pptp),
            Some(crate::Helper::Amanda),
            Some(crate::Helper::Sane),
            Some(crate::Helper::Snmp),
            Some(crate::Helper::NetbiosNs),
        ];
        for ips in [0, 0xffff, status::ASSURED | status::CONFIRMED] {
            for pending in [0u16, 0xfff, ipct::NEW | ipct::DESTROY] {
                for h in helpers {
                    let mut c = conn();
                    c.status |= ips;
                    c.set_helper(h);
                    c.add_pending(pending);
                    assert_eq!((c.ips(), c.pending(), c.helper()), (ips, pending, h));
                    assert_eq!(c.is_confirmed(), ips & status::CONFIRMED != 0);
                    assert_eq!(c.take_pending(), pending);
                    assert_eq!((c.ips(), c.pending(), c.helper()), (ips, 0, h));
                    c.set_helper(None);
                    assert_eq!(c.status, ips);
                }
            }
        }
    }

    #[test]
    fn a_slot_is_64_bytes() {
        assert_eq!(crate::SLOT_BYTES, 64);
    }

    #[test]
    fn a_tcp_window_tracker_is_56_bytes() {
        assert_eq!(size_of::<Option<TcpConn>>(), 56);
    }

    #[test]
    fn tuples_round_trip() {
        let v4 = Tuple::new("192.0.2.2".parse().unwrap(), "203.0.113.9".parse().unwrap(), 6, 40000, 443);
        let v6 = Tuple::new("2001:db8::1".parse().unwrap(), "2001:db8::2".parse().unwrap(), 17, 53, 5353);
        // An IPv4 tuple built by hand with bytes past the fourth: kept
        // whole, and distinct from the tuple without them.
        let mut odd = v4;
        odd.dst[9] = 1;
        let icmp = Tuple::icmp("192.0.2.2".parse().unwrap(), "192.0.2.1".parse().unwrap(), 8, 0, 77);
        let mut side = Wide::new();
        for t in [v4, v6, odd, icmp] {
            // Without NAT (the reply's addresses mirrored) and with a
            // rewritten reply source.
            let mut nat = t.invert().unwrap();
            nat.src[3] ^= 1;
            for pair in [[t, t.invert().unwrap()], [t, nat]] {
                let mut c = conn();
                store_tuples(&mut c, &pair, &mut side);
                let w = if c.is_wide() { side.get(c.addr) } else { None };
                assert_eq!([c.tuple(0, w.as_ref()), c.tuple(1, w.as_ref())], pair);
                assert_eq!(c.is_wide(), t != v4 && t != icmp);
                assert_eq!(c.is_wide() && c.addr[1] == MIRRORED, (t == v6 || t == odd) && pair[1] != nat);
            }
        }
        assert_eq!((side.mirrored.items.len(), side.full.items.len()), (2, 2));
    }

    #[test]
    fn lookups_tell_compact_and_wide_tuples_apart() {
        let mut tr = Tracker::new(Config { buckets: 3, ..Config::default() });
        let v4 = Tuple::new("192.0.2.2".parse().unwrap(), "203.0.113.9".parse().unwrap(), 17, 40000, 53);
        let mut odd = v4;
        odd.src[15] = 7;
        let v6 = Tuple::new("2001:db8::1".parse().unwrap(), "2001:db8::2".parse().unwrap(), 17, 40000, 53);
        let now = 1_795_246_120 * 1_000_000_000;
        for t in [v4, odd, v6] {
            let h = tuple_hash(&t, 0);
            let idx = tr.init_conntrack(&t, h, 0, now).unwrap();
            assert!(tr.confirm(tr.handle(idx), now));
        }
        for t in [v4, odd, v6] {
            let (idx, dir) = tr.find_raw(&t, 0).unwrap();
            assert_eq!((tr.tuple(idx, 0), dir), (t, Dir::Original));
            let r = t.invert().unwrap();
            let (ridx, rdir) = tr.find_raw(&r, 0).unwrap();
            assert_eq!((ridx, rdir), (idx, Dir::Reply));
            assert!(tr.find_raw(&t, 1).is_none());
        }
        // NAT rewrites a reply tuple: it may become wide, or compact again.
        let (idx, _) = tr.find_raw(&v4, 0).unwrap();
        let mut r = v4.invert().unwrap();
        r.src[12] = 1;
        tr.set_tuples(idx, &[v4, r]);
        assert!(tr.e(idx).is_wide());
        assert_eq!(tr.tuples(idx), [v4, r]);
        tr.set_tuples(idx, &[v4, v4.invert().unwrap()]);
        assert!(!tr.e(idx).is_wide());
        assert_eq!(tr.wide.len(), 2);
        tr.flush(now);
        assert_eq!(tr.wide.len(), 0);
    }

    /// Listings follow the confirmation order, also across the renumbering
    /// when the confirmation numbers run out, and after entries went.
    #[test]
    fn entries_in_confirmation_order_across_renumbering() {
        let mut tr = Tracker::new(Config { buckets: 16, ..Config::default() });
        let now = 1_795_246_120 * 1_000_000_000;
        let t = |i: u16| Tuple::new("192.0.2.2".parse().unwrap(), "203.0.113.9".parse().unwrap(), 17, 1000 + i, 53);
        tr.next_seq = NIL - 3;
        // Made in one order, confirmed in another.
        let idx: Vec<u32> = (0..8).map(|i| tr.init_conntrack(&t(i), tuple_hash(&t(i), 0), 0, now).unwrap()).collect();
        let order = [5, 1, 7, 0, 3, 6, 2, 4];
        for &i in &order {
            assert!(tr.confirm(tr.handle(idx[i]), now));
        }
        assert_eq!(tr.next_seq, 8, "numbered again after the third");
        let ports = |tr: &Tracker| tr.entries().map(|e| e.tuples[0].src_port - 1000).collect::<Vec<_>>();
        assert_eq!(ports(&tr), order.map(|i| i as u16));
        tr.destroy(idx[7], now);
        tr.destroy(idx[5], now);
        let u = t(9);
        let j = tr.init_conntrack(&u, tuple_hash(&u, 0), 0, now).unwrap();
        assert!(tr.confirm(tr.handle(j), now));
        assert_eq!(ports(&tr), [1, 0, 3, 6, 2, 4, 9]);
        tr.flush(now);
        assert_eq!(tr.entries().count(), 0);
        let kinds: Vec<_> = tr.take_events().into_iter().filter(|e| e.kind == EventKind::Destroy).collect();
        assert_eq!(kinds.iter().map(|e| e.tuples[0].src_port - 1000).collect::<Vec<_>>(), [7, 5, 1, 0, 3, 6, 2, 4, 9]);
    }

    /// Counters past 32 bits move to the cold part and go on counting
    /// exactly; the cold part goes with the entry.
    #[test]
    fn counters_outgrow_32_bits() {
        let mut tr = Tracker::new(Config { buckets: 8, acct: true, ..Config::default() });
        let t = Tuple::new("192.0.2.2".parse().unwrap(), "203.0.113.9".parse().unwrap(), 17, 40000, 53);
        let now = 1_795_246_120 * 1_000_000_000;
        let idx = tr.init_conntrack(&t, tuple_hash(&t, 0), 0, now).unwrap();
        assert!(tr.confirm(tr.handle(idx), now));
        let counters = |tr: &Tracker| tr.entries().next().unwrap().counters;
        tr.account(idx, 0, 100);
        tr.account(idx, 1, 60);
        assert_eq!(counters(&tr), [(1, 100), (1, 60)]);
        assert_eq!(tr.e(idx).flags & conn_flags::SPILLED, 0);
        // Bytes of the original direction reach 2^32 - 1: still inline.
        tr.account(idx, 0, u64::from(u32::MAX) - 100);
        assert_eq!(counters(&tr), [(2, u64::from(u32::MAX)), (1, 60)]);
        assert_eq!(tr.e(idx).flags & conn_flags::SPILLED, 0);
        // One byte more does not fit: all four counters move.
        tr.account(idx, 0, 1);
        assert_ne!(tr.e(idx).flags & conn_flags::SPILLED, 0);
        assert_eq!(counters(&tr), [(3, 1 << 32), (1, 60)]);
        tr.account(idx, 1, 40);
        tr.account(idx, 0, 5 << 32);
        assert_eq!(counters(&tr), [(4, 6 << 32), (2, 100)]);
        // The packet counter alone past 32 bits spills too.
        let u = Tuple::new("192.0.2.3".parse().unwrap(), "203.0.113.9".parse().unwrap(), 17, 40000, 53);
        let j = tr.init_conntrack(&u, tuple_hash(&u, 0), 0, now).unwrap();
        assert!(tr.confirm(tr.handle(j), now));
        tr.em(j).acct[1] = [u32::MAX, 7];
        tr.account(j, 1, 3);
        assert_eq!(tr.entry(tr.handle(j)).unwrap().counters, [(0, 0), (1 << 32, 10)]);
        assert_eq!(tr.cold.len(), 2);
        tr.flush(now);
        assert_eq!(tr.cold.len(), 0);
    }
}
