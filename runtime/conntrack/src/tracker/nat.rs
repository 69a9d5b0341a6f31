//! NAT bindings (nf_nat_core.c): choosing the translated tuple for a
//! connection's first packet (`get_unique_tuple`), storing it as the
//! entry's reply tuple, and the packet rewriting every later packet gets
//! in both directions (`nf_nat_packet`).
//!
//! A binding is made once per kind and connection, at the first NAT hook
//! of that kind the first packet passes (destination at prerouting and
//! output, source at postrouting and input); a connection no NAT rule
//! binds gets a null binding, which still moves its source port off a
//! port another connection's translated tuple already uses.

use super::{NIL, Tracker, jiffies};
use crate::mangle::{self, Manip};
use crate::{Dir, Handle, L3_IPV4, TcpState, Tuple, status};

/// NF_NAT_RANGE_* flags of a [`NatRange`].
pub mod range_flags {
    pub const MAP_IPS: u32 = 1;
    pub const PROTO_SPECIFIED: u32 = 2;
    pub const PROTO_RANDOM: u32 = 4;
    pub const PERSISTENT: u32 = 8;
    pub const PROTO_RANDOM_FULLY: u32 = 16;
    pub const PROTO_OFFSET: u32 = 32;
    pub const NETMAP: u32 = 64;
    /// NF_NAT_RANGE_PROTO_RANDOM_ALL.
    pub const PROTO_RANDOM_ALL: u32 = PROTO_RANDOM | PROTO_RANDOM_FULLY;
}
use range_flags as rf;

/// struct nf_nat_range2: what a NAT statement asks for. Addresses in
/// network order (IPv4 in the first four bytes), ports/ids in host order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct NatRange {
    pub flags: u32,
    pub min_addr: [u8; 16],
    pub max_addr: [u8; 16],
    pub min_proto: u16,
    pub max_proto: u16,
    pub base_proto: u16,
}

impl NatRange {
    /// One address, any port (masquerade, redirect, null bindings).
    pub fn addr(a: [u8; 16]) -> NatRange {
        NatRange { flags: rf::MAP_IPS, min_addr: a, max_addr: a, ..NatRange::default() }
    }
}

/// NF_NAT_MAX_ATTEMPTS: ports tried per round of the unique-port search.
const MAX_ATTEMPTS: u32 = 128;
/// NF_NAT_HARDER_THRESH: in the last attempts of a round, a TCP port held
/// by a connection in TIME_WAIT may be taken from it.
const HARDER_THRESH: u32 = MAX_ATTEMPTS / 4;

/// The key of the kernel's `nf_nat_bysource` table (hash_by_src): the
/// original source of a source-NATed connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) struct BySrc {
    zone: u16,
    l3: u8,
    proto: u8,
    port: u16,
    addr: [u8; 16],
}

impl BySrc {
    pub(super) fn of(t: &Tuple, zone: u16) -> BySrc {
        BySrc { zone, l3: t.l3, proto: t.proto, port: t.src_port, addr: t.src }
    }
}

fn word(a: &[u8; 16], i: usize) -> u32 {
    u32::from_be_bytes([a[4 * i], a[4 * i + 1], a[4 * i + 2], a[4 * i + 3]])
}

/// nf_nat_inet_in_range: the tuple's source address within the range.
fn addr_in_range(t: &Tuple, r: &NatRange) -> bool {
    let n = if t.l3 == L3_IPV4 { 4 } else { 16 };
    t.src[..n] >= r.min_addr[..n] && t.src[..n] <= r.max_addr[..n]
}

/// l4proto_in_range: the port (or ICMP id) the manip changes within the
/// range; protocols without ports always are.
fn l4_in_range(t: &Tuple, manip: Manip, min: u16, max: u16) -> bool {
    let v = match t.proto {
        1 | 58 => t.src_port,
        6 | 17 | 136 | 33 | 132 => match manip {
            Manip::Src => t.src_port,
            Manip::Dst => t.dst_port,
        },
        _ => return true,
    };
    v >= min && v <= max
}

/// nf_in_range (source manips only).
fn in_range(t: &Tuple, r: &NatRange) -> bool {
    if r.flags & rf::MAP_IPS != 0 && !addr_in_range(t, r) {
        return false;
    }
    r.flags & rf::PROTO_SPECIFIED == 0 || l4_in_range(t, Manip::Src, r.min_proto, r.max_proto)
}

/// jhash2 (the kernel's lookup3 over 32-bit words), for the address choice
/// of find_best_ips_proto. Words are the address as the kernel's memory
/// holds it (network order read as little-endian numbers).
fn jhash2(k: &[u32], initval: u32) -> u32 {
    let rot = |x: u32, r: u32| x.rotate_left(r);
    let mut a = 0xdead_beef_u32.wrapping_add((k.len() as u32) << 2).wrapping_add(initval);
    let (mut b, mut c) = (a, a);
    let mut k = k;
    while k.len() > 3 {
        a = a.wrapping_add(k[0]);
        b = b.wrapping_add(k[1]);
        c = c.wrapping_add(k[2]);
        // __jhash_mix
        a = a.wrapping_sub(c);
        a ^= rot(c, 4);
        c = c.wrapping_add(b);
        b = b.wrapping_sub(a);
        b ^= rot(a, 6);
        a = a.wrapping_add(c);
        c = c.wrapping_sub(b);
        c ^= rot(b, 8);
        b = b.wrapping_add(a);
        a = a.wrapping_sub(c);
        a ^= rot(c, 16);
        c = c.wrapping_add(b);
        b = b.wrapping_sub(a);
        b ^= rot(a, 19);
        a = a.wrapping_add(c);
        c = c.wrapping_sub(b);
        c ^= rot(b, 4);
        b = b.wrapping_add(a);
        k = &k[3..];
    }
    if k.len() == 3 {
        c = c.wrapping_add(k[2]);
    }
    if k.len() >= 2 {
        b = b.wrapping_add(k[1]);
    }
    if k.is_empty() {
        return c;
    }
    a = a.wrapping_add(k[0]);
    // __jhash_final
    c ^= b;
    c = c.wrapping_sub(rot(b, 14));
    a ^= c;
    a = a.wrapping_sub(rot(c, 11));
    b ^= a;
    b = b.wrapping_sub(rot(a, 25));
    c ^= b;
    c = c.wrapping_sub(rot(b, 16));
    a ^= c;
    a = a.wrapping_sub(rot(c, 4));
    b ^= a;
    b = b.wrapping_sub(rot(a, 14));
    c ^= b;
    c = c.wrapping_sub(rot(b, 24));
    c
}

fn reciprocal_scale(v: u32, n: u32) -> u32 {
    ((u64::from(v) * u64::from(n)) >> 32) as u32
}

/// find_best_ips_proto: the address from the range, spread by a hash of
/// the source (and, unless `persistent`, the destination) address, so a
/// client keeps its translated address.
fn best_ip(t: &mut Tuple, r: &NatRange, zone: u16, manip: Manip) {
    if r.flags & rf::MAP_IPS == 0 {
        return;
    }
    let v4 = t.l3 == L3_IPV4;
    let n = if v4 { 4 } else { 16 };
    let var = match manip {
        Manip::Src => &mut t.src,
        Manip::Dst => &mut t.dst,
    };
    if r.min_addr[..n] == r.max_addr[..n] {
        var[..n].copy_from_slice(&r.min_addr[..n]);
        return;
    }
    // Index of the address's last 32-bit word.
    let max = if v4 { 0 } else { 3 };
    let le = |a: &[u8; 16], i: usize| u32::from_le_bytes([a[4 * i], a[4 * i + 1], a[4 * i + 2], a[4 * i + 3]]);
    let src = [le(&t.src, 0), le(&t.src, 1), le(&t.src, 2), le(&t.src, 3)];
    let persistent = r.flags & rf::PERSISTENT != 0;
    let mut j = jhash2(&src, if persistent { 0 } else { le(&t.dst, max) ^ u32::from(zone) });
    let dst = t.dst;
    let mut full = false;
    let mut out = [0u8; 16];
    for i in 0..=max {
        let (minip, dist) = if full {
            (0, u32::MAX)
        } else {
            let (lo, hi) = (word(&r.min_addr, i), word(&r.max_addr, i));
            (lo, hi.wrapping_sub(lo).wrapping_add(1))
        };
        let v = minip.wrapping_add(reciprocal_scale(j, dist));
        out[4 * i..4 * i + 4].copy_from_slice(&v.to_be_bytes());
        if v != word(&r.max_addr, i) {
            full = true;
        }
        if !persistent {
            j ^= le(&dst, i);
        }
    }
    let var = match manip {
        Manip::Src => &mut t.src,
        Manip::Dst => &mut t.dst,
    };
    var[..n].copy_from_slice(&out[..n]);
}

impl Tracker {
    /// get_random_u16 on a seeded generator (xorshift64*): NAT port picks
    /// are reproducible run to run; the kernel's are random.
    pub(super) fn random_u16(&mut self) -> u16 {
        let mut x = self.rng;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.rng = x;
        (x.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 48) as u16
    }

    /// nf_conntrack_tuple_taken: another live connection uses `t` in
    /// either direction (entries with the same original tuple don't count:
    /// the clash is resolved at confirmation). Counts `found`.
    fn tuple_taken(&mut self, t: &Tuple, zone: u16, ignored: u32, now_ns: u64) -> bool {
        let ign_orig = self.tuple(ignored, 0);
        let mut node = self.heads.first(self.bucket(t, zone));
        while node != NIL {
            let (idx, d) = (node >> 1, (node & 1) as usize);
            node = self.links[idx as usize].next[d];
            let e = self.e(idx);
            if idx == ignored || e.zone != zone || self.tuple(idx, d) != *t {
                continue;
            }
            if self.expired(idx, jiffies(now_ns)) || self.tuple(idx, 0) == ign_orig {
                continue;
            }
            self.stats.found += 1;
            return true;
        }
        false
    }

    /// nf_nat_used_tuple: the reply of `t` is some other connection's.
    fn used_tuple(&mut self, t: &Tuple, zone: u16, ignored: u32, now_ns: u64) -> bool {
        match t.invert() {
            Some(r) => self.tuple_taken(&r, zone, ignored, now_ns),
            None => false,
        }
    }

    /// nf_nat_used_tuple_harder: [`Tracker::used_tuple`], except in the
    /// last [`HARDER_THRESH`] attempts for a new TCP connection (SYN_SENT):
    /// a source-NATed connection in TIME_WAIT or later (not dying, no fixed
    /// timeout) whose reply uses the tuple, and whose original direction's
    /// sequence numbers the new one has gone past, is killed (DESTROY) and
    /// the tuple is free. As nf_conntrack_find_get, it looks at live
    /// entries only, and finding none the tuple is free.
    fn used_tuple_harder(&mut self, t: &Tuple, zone: u16, ignored: u32, attempts_left: u32, now_ns: u64) -> bool {
        let new_tcp = (attempts_left <= HARDER_THRESH && t.proto == 6)
            .then(|| self.tcp_of(self.e(ignored)).map(|c| (c.state, c.seen[0].td_end)))
            .flatten();
        let Some((TcpState::SynSent, new_end)) = new_tcp else {
            return self.used_tuple(t, zone, ignored, now_ns);
        };
        let Some(reply) = t.invert() else { return false };
        let Some((idx, dir)) = self.find_raw(&reply, zone) else { return false };
        if self.expired(idx, jiffies(now_ns)) {
            return false;
        }
        let e = self.e(idx);
        if dir == Dir::Original || idx == ignored {
            return true;
        }
        // nf_nat_may_kill and nf_seq_has_advanced.
        let Some(old) = self.tcp_of(e).map(|c| (c.state, c.seen[0].td_end)) else { return true };
        let refused = e.status & (status::FIXED_TIMEOUT | status::DYING) != 0 || e.status & status::SRC_NAT == 0;
        if old.0 < TcpState::TimeWait || refused || (new_end.wrapping_sub(old.1) as i32) <= 0 {
            return true;
        }
        self.destroy(idx, now_ns);
        false
    }

    /// nf_nat_used_tuple_new: as [`Tracker::used_tuple`], but for the
    /// protocols that allow clashes, the exact reverse of a connection that
    /// is not NATed is no conflict (both ends opening at once).
    fn used_tuple_new(&mut self, t: &Tuple, zone: u16, ignored: u32, now_ns: u64) -> bool {
        if !self.used_tuple(t, zone, ignored, now_ns) {
            return false;
        }
        let allow_clash = matches!(t.proto, 17 | 136) || (t.proto == 58 && t.l3 != L3_IPV4);
        if !allow_clash {
            return true;
        }
        let Some((idx, dir)) = self.find_raw(t, zone) else { return true };
        if dir != Dir::Reply {
            return true;
        }
        let e = self.e(idx);
        if e.status & (status::SRC_NAT | status::DST_NAT | status::SEQ_ADJUST) != 0 {
            return true;
        }
        let (et, me) = (self.tuples(idx), self.tuples(ignored));
        !(et[0] == me[1] && et[1] == me[0])
    }

    /// find_appropriate_src: an existing source mapping of the same
    /// original source (newest first) that lies in the range.
    fn appropriate_src(&self, t: &Tuple, zone: u16, r: &NatRange) -> Option<Tuple> {
        let list = self.bysource.get(&BySrc::of(t, zone))?;
        list.iter().rev().find_map(|&idx| {
            self.slots.get(idx as usize)?.as_ref()?;
            let inv = self.tuple(idx, 1).invert()?;
            let res = Tuple { src: inv.src, src_port: inv.src_port, ..*t };
            in_range(&res, r).then_some(res)
        })
    }

    /// nf_nat_l4proto_unique_tuple: a port (or ICMP id) in the range that
    /// makes the tuple unique, from a random offset, at most 128 tries per
    /// round with ever smaller rounds.
    fn l4_unique(&mut self, t: &mut Tuple, r: &NatRange, manip: Manip, ignored: u32, zone: u16, now_ns: u64) {
        let icmp = matches!(t.proto, 1 | 58);
        let (min, range_size): (u32, u32);
        if icmp {
            if r.flags & rf::PROTO_SPECIFIED == 0 {
                (min, range_size) = (0, 65536);
            } else {
                min = u32::from(r.min_proto);
                // Unsigned arithmetic as the kernel's: 0..=65535 is 65536 ids.
                range_size = u32::from(r.max_proto).wrapping_sub(min).wrapping_add(1);
            }
        } else if matches!(t.proto, 6 | 17 | 136 | 132 | 33) {
            if r.flags & rf::PROTO_SPECIFIED == 0 {
                // A destination port is never changed unasked.
                if manip == Manip::Dst {
                    return;
                }
                let p = t.src_port;
                (min, range_size) = if p < 1024 {
                    // "Loose convention: >> 512 is credential passing".
                    if p < 512 { (1, 511) } else { (600, 1023 - 600 + 1) }
                } else {
                    (1024, 65535 - 1024 + 1)
                };
            } else {
                let (lo, hi) = (u32::from(r.min_proto.min(r.max_proto)), u32::from(r.min_proto.max(r.max_proto)));
                (min, range_size) = (lo, hi - lo + 1);
            }
        } else {
            return;
        }
        let range_size = range_size.max(1);
        fn key(t: &mut Tuple, on_src: bool) -> &mut u16 {
            if on_src { &mut t.src_port } else { &mut t.dst_port }
        }
        let on_src = icmp || manip == Manip::Src;
        let mut off: u32 = if r.flags & rf::PROTO_OFFSET != 0 {
            u32::from(key(t, on_src).wrapping_sub(r.base_proto))
        } else if r.flags & rf::PROTO_RANDOM_ALL != 0 || manip != Manip::Dst {
            u32::from(self.random_u16())
        } else {
            0
        };
        let mut attempts = range_size.min(MAX_ATTEMPTS);
        loop {
            for i in 0..attempts {
                *key(t, on_src) = (min + off % range_size) as u16;
                if !self.used_tuple_harder(t, zone, ignored, attempts - i, now_ns) {
                    return;
                }
                off = off.wrapping_add(1);
            }
            if attempts >= range_size || attempts < 16 {
                return;
            }
            attempts /= 2;
            off = u32::from(self.random_u16());
        }
    }

    /// get_unique_tuple: the translated original tuple for `orig` (the
    /// connection's tuple as the packet has it now).
    fn unique_tuple(&mut self, orig: &Tuple, r: &NatRange, idx: u32, manip: Manip, now_ns: u64) -> Tuple {
        let zone = self.e(idx).zone;
        // 1. A source manip keeps the source if it is in range and free,
        // or reuses the mapping an earlier connection of the same source
        // got.
        if manip == Manip::Src && r.flags & rf::PROTO_RANDOM_ALL == 0 {
            if in_range(orig, r) {
                if !self.used_tuple_new(orig, zone, idx, now_ns) {
                    return *orig;
                }
            } else if let Some(t) = self.appropriate_src(orig, zone, r)
                && !self.used_tuple(&t, zone, idx, now_ns)
            {
                return t;
            }
        }
        // 2. The address from the range.
        let mut t = *orig;
        best_ip(&mut t, r, zone, manip);
        // 3. The port, only if it is not already in range and unique.
        if r.flags & rf::PROTO_RANDOM_ALL == 0 {
            if r.flags & rf::PROTO_SPECIFIED != 0 {
                if r.flags & rf::PROTO_OFFSET == 0
                    && l4_in_range(&t, manip, r.min_proto, r.max_proto)
                    && (r.min_proto == r.max_proto || !self.used_tuple(&t, zone, idx, now_ns))
                {
                    return t;
                }
            } else if !self.used_tuple(&t, zone, idx, now_ns) {
                return t;
            }
        }
        self.l4_unique(&mut t, r, manip, idx, zone, now_ns);
        t
    }

    /// nf_nat_setup_info: bind the connection's `manip` translation from
    /// `range`. The reply tuple becomes the inverse of the translated
    /// original, so replies find the entry; IPS_SRC_NAT/IPS_DST_NAT tell the
    /// translation changed something, IPS_*_NAT_DONE that the binding is
    /// made. A connection already bound for that kind is left alone.
    pub fn nat_setup(&mut self, h: Handle, range: &NatRange, manip: Manip, now_ns: u64) -> bool {
        let Some(e) = self.entry(h) else { return false };
        if e.status & manip.done_bit() != 0 {
            return true;
        }
        let idx = h.idx;
        let confirmed = e.is_confirmed();
        let (zone, orig0) = (e.zone, e.tuples[0]);
        // The tuple as packets have it after the bindings made so far.
        let Some(curr) = e.tuples[1].invert() else {
            self.em(idx).status |= manip.done_bit();
            return true;
        };
        // A confirmed connection's reply tuple is in the table: it cannot
        // change (nf_conntrack_alter_reply); it only gets marked done.
        if !confirmed {
            let new = self.unique_tuple(&curr, range, idx, manip, now_ns);
            if new != curr
                && let Some(reply) = new.invert()
            {
                self.set_tuples(idx, &[orig0, reply]);
                self.em(idx).status |= manip.nat_bit();
            }
        }
        if manip == Manip::Src {
            self.bysource.entry(BySrc::of(&orig0, zone)).or_default().push(idx);
        }
        self.em(idx).status |= manip.done_bit();
        true
    }

    /// nf_nat_alloc_null_binding: the connection passed a NAT hook of this
    /// kind without a rule binding it: "translate" to its own address,
    /// which still picks another port when its tuple is taken.
    pub fn nat_null_binding(&mut self, h: Handle, manip: Manip, now_ns: u64) -> bool {
        let Some(e) = self.entry(h) else { return false };
        let a = match manip {
            Manip::Src => e.tuples[1].dst,
            Manip::Dst => e.tuples[1].src,
        };
        self.nat_setup(h, &NatRange::addr(a), manip, now_ns)
    }

    /// nf_nat_initialized: the binding of this kind is made.
    pub fn nat_initialized(&self, h: Handle, manip: Manip) -> bool {
        self.entry(h).is_some_and(|e| e.status & manip.done_bit() != 0)
    }

    /// nf_nat_packet: rewrite a packet of direction `dir` at a hook of kind
    /// `manip` if the connection's translation says so (the source of
    /// original packets at a source hook after SNAT, their destination on
    /// the way back, and so on). `nh`: the IP header's offset, `end`: the
    /// datagram's end. `Some(true)`: rewritten; `None`: drop (too short).
    pub fn nat_packet(&self, h: Handle, dir: Dir, manip: Manip, pkt: &mut [u8], nh: usize, end: usize) -> Option<bool> {
        let e = self.entry(h)?;
        let mut bit = manip.nat_bit();
        if dir == Dir::Reply {
            bit ^= status::SRC_NAT | status::DST_NAT;
        }
        if e.status & bit == 0 {
            return Some(false);
        }
        // The packet must look like the inverse of the other direction's
        // tuple.
        let target = e.tuples[1 - dir as usize].invert()?;
        mangle::manip_pkt(pkt, nh, end, &target, manip).then_some(true)
    }

    /// nf_nat_icmp_reply_translation for an ICMP error RELATED to the
    /// connection (see [`mangle::icmp_reply_translation`]).
    pub fn nat_icmp_error(
        &self,
        h: Handle,
        dir: Dir,
        manip: Manip,
        pkt: &mut [u8],
        nh: usize,
        end: usize,
    ) -> Option<bool> {
        let e = self.entry(h)?;
        mangle::icmp_reply_translation(pkt, nh, end, &e.tuples, e.status, dir == Dir::Reply, manip)
    }

    /// Forget a source-NATed entry's mapping (nf_nat_cleanup_conntrack).
    pub(super) fn nat_forget(&mut self, idx: u32) {
        let e = self.e(idx);
        if e.status & status::SRC_NAT_DONE == 0 {
            return;
        }
        let key = BySrc::of(&self.tuple(idx, 0), e.zone);
        if let Some(v) = self.bysource.get_mut(&key) {
            v.retain(|&i| i != idx);
            if v.is_empty() {
                self.bysource.remove(&key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jhash2_matches_the_kernel_lookup3() {
        // Values from the kernel's jhash2 (lookup3 hashword) for known
        // inputs: hashword of no words is the initval mix only.
        assert_eq!(jhash2(&[], 0), 0xdead_beef);
        // Deterministic and sensitive to each word and the seed.
        let a = jhash2(&[1, 2, 3, 4], 0);
        assert_ne!(a, jhash2(&[1, 2, 3, 5], 0));
        assert_ne!(a, jhash2(&[1, 2, 3, 4], 1));
        assert_eq!(a, jhash2(&[1, 2, 3, 4], 0));
    }

    #[test]
    fn best_ip_stays_in_the_range() {
        let r = NatRange {
            flags: rf::MAP_IPS,
            min_addr: [198, 51, 100, 10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
            max_addr: [198, 51, 100, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
            ..NatRange::default()
        };
        for last in 0..=255u8 {
            let mut t = Tuple::new([192, 0, 2, last].into(), [203, 0, 113, 7].into(), 6, 1000, 80);
            best_ip(&mut t, &r, 0, Manip::Src);
            assert!((10..=20).contains(&t.src[3]) && t.src[..3] == [198, 51, 100], "{:?}", t.src);
        }
    }
}
