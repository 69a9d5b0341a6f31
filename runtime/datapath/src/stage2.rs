//! Address rewrites after routing (two stages, or the kernel's own
//! writes), and checksums of offloaded packets.
//!
//! ctc runs the whole pipeline when a packet is queued at PREROUTING, but a
//! packet whose source ctc changed (source NAT, or the reply of a
//! destination NAT) cannot be handed back there: the kernel's routing
//! would take a source address of its own for a martian and drop it. The
//! kernel itself changes sources after routing, at POSTROUTING (or INPUT),
//! and so does ctc: at PREROUTING the packet goes back with everything but
//! its source rewritten — source address and port (or echo id) as they
//! came, which is also what the kernel's ICMP errors about the packet
//! would quote — and a mark naming a [`Pending`] record. A second hook rule
//! queues packets with such a mark at POSTROUTING and INPUT, where ctc
//! writes the new source, the transport checksum it computed, and the
//! packet's own mark back. The packet crosses the routing with the
//! kernel's usual checks, GSO packets stay whole, and the kernel's own
//! forwarding (TTL, fragmentation needed, qdiscs) applies.
//!
//! The common case needs no second trip through ctc: when the rewrite is
//! the source address alone (masquerade or source NAT that kept the port)
//! and the packet has no mark of its own, the mark names the new address
//! in a map of the kernel's (`FAST_MARK | index`), and an nft rule at
//! POSTROUTING and INPUT writes it (`ip saddr set meta mark map @addr4`;
//! the kernel updates the checksums, GSO packets included) and clears the
//! mark. A lone new destination address (the replies of masquerade, a
//! port forward keeping the port) goes the same way, written at
//! PREROUTING right after ctc's queue rule (`FAST_DST_MARK`), so even
//! packets ctc rewrites need not be copied back whole. [`FastNat`] keeps
//! the addresses' indexes; a new address is added to the kernel's map off
//! the packet path, and its packets take the slow way until it is there.
//! A marked packet whose address is not in the map is dropped by the rule
//! after, never sent with its old address.
//!
//! Checksums: a packet ctc rewrites goes back with `CHECKSUM_NONE` (the
//! kernel's nfqnl_mangle), so its transport checksum must be complete —
//! except for a GSO packet, which the kernel segments on its way out
//! starting from the pseudo-header sum in the checksum field (the
//! `CHECKSUM_PARTIAL` convention; tcp4_gso_segment recomputes it,
//! __udp_gso_segment relies on it). A packet that came with
//! `CHECKSUM_PARTIAL` (NFQUEUE's `SKB_CSUMNOTREADY`) holds only that
//! pseudo-header sum, so [`finish_checksum`] recomputes the field from
//! scratch for it.

use crate::nfqueue::{SKB_CSUMNOTREADY, SKB_GSO};
use ctc_wire::checksum;
use std::net::IpAddr;
use std::ops::Range;

/// The marks of packets between the two stages: `STAGE_MARK | index`.
pub const STAGE_MARK: u32 = 0x6e61_0000;
/// The bits of the mark that say "second stage" (the rest is the index).
pub const STAGE_MASK: u32 = 0xffff_0000;
/// Records kept: the index is the mark's low 16 bits. A record is
/// overwritten 65,536 packets later, long after its packet came back (the
/// kernel reinjects a packet while ctc's verdict is being sent, and the
/// second stage holds at most a queue's length of them).
const SLOTS: usize = 1 << 16;

/// Which address of a packet the kernel writes for ctc.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Side {
    /// The source, after routing (POSTROUTING, INPUT).
    Src,
    /// The destination, before routing (PREROUTING, right after ctc's
    /// queue rule).
    Dst,
}

impl Side {
    /// The marks naming an entry of this side's maps: `mark | index`.
    pub fn mark(self) -> u32 {
        match self {
            Side::Src => FAST_MARK,
            Side::Dst => FAST_DST_MARK,
        }
    }

    fn map(self, v4: bool) -> &'static str {
        match (self, v4) {
            (Side::Src, true) => "addr4",
            (Side::Src, false) => "addr6",
            (Side::Dst, true) => "daddr4",
            (Side::Dst, false) => "daddr6",
        }
    }
}

/// The marks of packets whose new source address the kernel writes:
/// `FAST_MARK | index` into its address map.
pub const FAST_MARK: u32 = 0x6e62_0000;
/// The same for a new destination address.
pub const FAST_DST_MARK: u32 = 0x6e63_0000;

/// The kernel's half of the fast path: an nft table with an address map
/// per family and side; at PREROUTING right after ctc's queue rule
/// (priority -299) a destination is written, at POSTROUTING and INPUT
/// (raw priority: before the second stage's queue rule) a source. A
/// packet without such a mark passes one rule per hook; one with it jumps
/// to the chain that writes the address and clears the mark, or drops the
/// packet when its index is not in the map.
pub fn fast_table(table: &str) -> String {
    let write = |side: Side| {
        let field = if side == Side::Src { "saddr" } else { "daddr" };
        let (m4, m6) = (side.map(true), side.map(false));
        format!(
            "\t\tmeta nfproto ipv4 ip {field} set meta mark map @{m4} meta mark set 0 accept\n\
             \t\tmeta nfproto ipv6 ip6 {field} set meta mark map @{m6} meta mark set 0 accept\n\
             \t\tdrop\n"
        )
    };
    let hook = |name: &str, prio: i32, side: Side| {
        let (m, to) = (side.mark(), if side == Side::Src { "write_src" } else { "write_dst" });
        format!(
            "\tchain {name} {{\n\t\ttype filter hook {name} priority {prio}; policy accept;\n\
             \t\tmeta mark & 0x{STAGE_MASK:08x} == 0x{m:08x} jump {to}\n\t}}\n"
        )
    };
    format!(
        "table inet {table} {{\n\
         \tmap addr4 {{ type mark : ipv4_addr; }}\n\
         \tmap addr6 {{ type mark : ipv6_addr; }}\n\
         \tmap daddr4 {{ type mark : ipv4_addr; }}\n\
         \tmap daddr6 {{ type mark : ipv6_addr; }}\n\
         \tchain write_src {{\n{}\t}}\n\
         \tchain write_dst {{\n{}\t}}\n\
         {}{}{}}}\n",
        write(Side::Src),
        write(Side::Dst),
        hook("prerouting", -299, Side::Dst),
        hook("postrouting", -300, Side::Src),
        hook("input", -300, Side::Src),
    )
}

/// The `nft` command that adds `addr` at `index` to `side`'s map of
/// [`fast_table`].
pub fn fast_element(table: &str, side: Side, index: u32, addr: IpAddr) -> String {
    let map = side.map(addr.is_ipv4());
    format!("add element inet {table} {map} {{ 0x{:08x} : {addr} }}\n", side.mark() | index)
}

/// The addresses the kernel's maps have (or are getting).
#[derive(Debug, Default)]
pub struct FastNat {
    /// The kernel has the table: the fast path is on.
    pub enabled: bool,
    /// (side, address) → (index, in the kernel's map yet).
    addrs: std::collections::HashMap<(Side, IpAddr), (u32, bool)>,
    /// Indexes given out per side.
    next: [u32; 2],
}

impl FastNat {
    /// The mark for a packet queued at PREROUTING that leaves as `own` and
    /// came as `original` with mark `mark`, when the kernel can do its
    /// rewrite: one address is all that changes (the source, or else the
    /// destination), the packet has no mark, and the address is in the
    /// kernel's map. `Err(Some(..))`: it would be, but the address is not
    /// in the map yet (the caller has it added, then calls
    /// [`FastNat::installed`]); the packet takes the slow way meanwhile.
    /// `layout`: the headers' layout of both ([`Layout::of_pair`]).
    pub fn mark_for(
        &mut self,
        layout: &Layout,
        own: &[u8],
        original: &[u8],
        mark: u32,
    ) -> Result<u32, Option<(Side, u32, IpAddr)>> {
        if !self.enabled || mark != 0 || own.len() != original.len() {
            return Err(None);
        }
        // nft's address writes update the transport checksums that cover
        // the addresses for TCP, UDP, UDP-Lite and ICMPv6 only (ICMP's and
        // SCTP's do not cover them); DCCP's would be left wrong.
        if layout.proto == Some(33) {
            return Err(None);
        }
        let side = if own[layout.src.clone()] != original[layout.src.clone()] { Side::Src } else { Side::Dst };
        let field = if side == Side::Src { layout.src.clone() } else { layout.dst.clone() };
        // The kernel writes the address and updates the checksums that
        // cover it: `own` must be `original` but for those (and the IPv4
        // header's checksum, valid in `original`).
        let v4 = field.len() == 4;
        let mut skip = vec![field.clone()];
        skip.extend(layout.csum.clone());
        if v4 {
            skip.push(10..12);
        }
        skip.sort_by_key(|r| r.start);
        let mut at = 0;
        let mut differs = false;
        for r in skip.iter().chain(std::iter::once(&(own.len()..own.len()))) {
            differs |= own[at..r.start] != original[at..r.start];
            at = r.end;
        }
        let header_ok = !v4 || checksum::checksum(&original[..ipv4_header_len(original)]) == 0;
        if differs || !header_ok {
            return Err(None);
        }
        let addr = match field.len() {
            4 => IpAddr::from(<[u8; 4]>::try_from(&own[field]).expect("4 bytes")),
            _ => IpAddr::from(<[u8; 16]>::try_from(&own[field]).expect("16 bytes")),
        };
        match self.addrs.get(&(side, addr)) {
            Some(&(i, true)) => Ok(side.mark() | i),
            Some(_) => Err(None),
            None => {
                let next = &mut self.next[side as usize];
                if *next > !STAGE_MASK {
                    return Err(None);
                }
                let i = *next;
                *next += 1;
                self.addrs.insert((side, addr), (i, false));
                Err(Some((side, i, addr)))
            }
        }
    }

    /// The kernel's map has `addr` now.
    pub fn installed(&mut self, side: Side, addr: IpAddr) {
        if let Some(e) = self.addrs.get_mut(&(side, addr)) {
            e.1 = true;
        }
    }
}

/// Where an IP packet's fields are: the source address, the source port
/// or echo id, and the transport checksum (the fields a source rewrite
/// changes), and the destination address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    src: Range<usize>,
    dst: Range<usize>,
    sport: Option<Range<usize>>,
    csum: Option<Range<usize>>,
    /// The transport protocol, when its header is here.
    proto: Option<u8>,
}

impl Layout {
    /// The layout `own` (a packet as ctc hands it on) and `original` (as
    /// the kernel queued it) share; `None` if they do not share one (NAT
    /// changes no header's length, so it cannot happen for a rewrite).
    pub fn of_pair(own: &[u8], original: &[u8]) -> Option<Layout> {
        let layout = Layout::of(own)?;
        (Layout::of(original)? == layout).then_some(layout)
    }

    fn of(pkt: &[u8]) -> Option<Layout> {
        let f = ctc_wire::parse_ip(pkt);
        let n = f.network?;
        let (src, dst) = addr_ranges(pkt)?;
        // Only a first fragment (or a whole datagram) has the transport
        // header.
        let t = f.transport.filter(|t| t.header_len > 0 && n.fragment.is_none_or(|fr| fr.offset == 0));
        let (mut sport, mut csum) = (None, None);
        if let Some(t) = t {
            let th = t.offset;
            match t.protocol {
                6 => (sport, csum) = (Some(th..th + 2), Some(th + 16..th + 18)),
                17 | 136 | 33 => (sport, csum) = (Some(th..th + 2), Some(th + 6..th + 8)),
                132 => (sport, csum) = (Some(th..th + 2), Some(th + 8..th + 12)),
                1 | 58 => {
                    let ty = pkt[th];
                    let echo = if t.protocol == 1 {
                        matches!(ty, 0 | 8 | 13 | 14 | 15 | 16 | 17 | 18)
                    } else {
                        matches!(ty, 128 | 129 | 139 | 140)
                    };
                    if echo {
                        sport = Some(th + 4..th + 6);
                    }
                    csum = Some(th + 2..th + 4);
                }
                _ => {}
            }
        }
        let fits = |r: &Option<Range<usize>>| r.as_ref().is_none_or(|r| r.end <= pkt.len());
        (fits(&sport) && fits(&csum)).then_some(Layout { src, dst, sport, csum, proto: t.map(|t| t.protocol) })
    }

    /// The fields the second stage writes.
    fn rewritten(&self) -> impl Iterator<Item = Range<usize>> + '_ {
        std::iter::once(self.src.clone()).chain(self.sport.clone()).chain(self.csum.clone())
    }
}

/// What the second stage does to one packet.
#[derive(Debug, Clone)]
pub struct Pending {
    /// The packet as the first stage handed it back: its length, source
    /// and destination (checked when it comes back).
    len: usize,
    src: Vec<u8>,
    dst: Vec<u8>,
    /// The bytes to write: (offset, bytes).
    writes: Vec<(usize, Vec<u8>)>,
    /// The packet's mark when it was queued, given back.
    pub mark: u32,
    /// A priority the chains set after routing (which a forwarded IPv4
    /// packet's routing would overwrite), given at the second stage.
    pub priority: Option<u32>,
}

/// What the second stage gives a packet back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Back {
    /// Its own mark.
    pub mark: u32,
    /// Its priority, when the chains set one after routing.
    pub priority: Option<u32>,
    /// Its bytes changed (a new source): they go back with the verdict.
    pub rewritten: bool,
}

/// The records of packets between the stages, by index.
#[derive(Debug)]
pub struct Stage2 {
    slots: Vec<Option<Pending>>,
    next: usize,
}

impl Default for Stage2 {
    fn default() -> Self {
        Stage2::new()
    }
}

impl Stage2 {
    pub fn new() -> Stage2 {
        Stage2 { slots: Vec::new(), next: 0 }
    }

    /// Keep `p`; its index (the mark is `STAGE_MARK | index`).
    fn insert(&mut self, p: Pending) -> u32 {
        let i = self.next;
        self.next = (self.next + 1) % SLOTS;
        if self.slots.len() <= i {
            self.slots.push(Some(p));
        } else {
            self.slots[i] = Some(p);
        }
        i as u32
    }

    /// The first stage of a packet whose source ctc rewrote: `own` is the
    /// packet as it leaves (checksums finished, see [`finish_checksum`]),
    /// `original` as the kernel queued it, `mark` its mark. Returns the
    /// bytes to hand back now — `own` with the source fields of
    /// `original` — and the mark that names the record of what is left.
    /// `layout`: the headers' layout of both ([`Layout::of_pair`]);
    /// `priority`: one to give the packet after routing.
    pub fn first(
        &mut self,
        layout: &Layout,
        own: &[u8],
        original: &[u8],
        mark: u32,
        priority: Option<u32>,
    ) -> (Vec<u8>, u32) {
        let mut now = own.to_vec();
        let mut writes = Vec::new();
        for r in layout.rewritten() {
            writes.push((r.start, own[r.clone()].to_vec()));
            now[r.clone()].copy_from_slice(&original[r]);
        }
        fix_ipv4_header(&mut now);
        let p = Pending {
            len: now.len(),
            src: now[layout.src.clone()].to_vec(),
            dst: now[layout.dst.clone()].to_vec(),
            writes,
            mark,
            priority,
        };
        let idx = self.insert(p);
        (now, STAGE_MARK | idx)
    }

    /// The first stage of a packet whose only change after routing is a
    /// new priority (the chains set it after ip_forward recomputed it):
    /// `pkt` goes back as it is, with the returned mark; `None` for a
    /// packet that is not IP.
    pub fn priority_only(&mut self, pkt: &[u8], mark: u32, priority: u32) -> Option<u32> {
        let (src, dst) = addr_ranges(pkt)?;
        let p = Pending {
            len: pkt.len(),
            src: pkt[src].to_vec(),
            dst: pkt[dst].to_vec(),
            writes: Vec::new(),
            mark,
            priority: Some(priority),
        };
        Some(STAGE_MARK | self.insert(p))
    }

    /// The second stage: `pkt` came back with `mark`. Writes the new
    /// source into it and returns the mark it had (and a priority); `None`
    /// when no record fits (its record was overwritten, or the packet is
    /// not the one the record is for): the packet must not leave with the
    /// source it has.
    pub fn second(&mut self, pkt: &mut [u8], mark: u32) -> Option<Back> {
        if mark & STAGE_MASK != STAGE_MARK {
            return None;
        }
        let slot = self.slots.get_mut((mark & !STAGE_MASK) as usize)?;
        let p = slot.take()?;
        let layout = Layout::of(pkt)?;
        if pkt.len() != p.len || pkt[layout.src.clone()] != p.src[..] || pkt[layout.dst] != p.dst[..] {
            return None;
        }
        for (at, bytes) in &p.writes {
            pkt[*at..*at + bytes.len()].copy_from_slice(bytes);
        }
        let rewritten = !p.writes.is_empty();
        if rewritten {
            fix_ipv4_header(pkt);
        }
        Some(Back { mark: p.mark, priority: p.priority, rewritten })
    }
}

/// An IPv4 header's length, within the packet (at least 20).
fn ipv4_header_len(pkt: &[u8]) -> usize {
    (usize::from(pkt[0] & 0xf) * 4).clamp(20, pkt.len())
}

/// Recompute an IPv4 header's checksum.
pub fn fix_ipv4_header(pkt: &mut [u8]) {
    if pkt.first().map(|b| b >> 4) != Some(4) || pkt.len() < 20 {
        return;
    }
    let ihl = ipv4_header_len(pkt);
    pkt[10..12].copy_from_slice(&[0, 0]);
    let c = checksum::checksum(&pkt[..ihl]);
    pkt[10..12].copy_from_slice(&c.to_be_bytes());
}

/// Make the transport checksum of a packet ctc rewrote right for the way
/// the kernel takes it back (see the module doc): for a packet queued
/// with `SKB_CSUMNOTREADY`, recompute the field — the pseudo-header sum
/// for a GSO packet, the full checksum otherwise. Other packets already
/// carry a full checksum that ctc's rewrites kept up to date.
pub fn finish_checksum(pkt: &mut [u8], skb_info: u32) {
    if skb_info & SKB_CSUMNOTREADY == 0 {
        return;
    }
    let f = ctc_wire::parse_ip(pkt);
    let Some(n) = f.network else { return };
    let (Some(src), Some(dst)) = (n.src, n.dst) else { return };
    let Some(t) = f.transport.filter(|t| t.header_len > 0) else { return };
    if n.fragment.is_some() {
        return;
    }
    let (th, end) = (t.offset, n.end.min(pkt.len()));
    let at = match t.protocol {
        6 => th + 16,
        17 | 136 => th + 6,
        58 => th + 2,
        // ICMP has no pseudo-header.
        1 => {
            if skb_info & SKB_GSO == 0 && end >= th + 4 {
                pkt[th + 2..th + 4].copy_from_slice(&[0, 0]);
                let c = checksum::checksum(&pkt[th..end]);
                pkt[th + 2..th + 4].copy_from_slice(&c.to_be_bytes());
            }
            return;
        }
        _ => return,
    };
    if end < at + 2 {
        return;
    }
    let value = if skb_info & SKB_GSO != 0 {
        checksum::pseudo_header(src, dst, t.protocol, (end - th) as u32)
    } else {
        pkt[at..at + 2].copy_from_slice(&[0, 0]);
        let c = checksum::transport_checksum(src, dst, t.protocol, &pkt[th..end]);
        // UDP sends a computed 0 as 0xffff (0 means "no checksum").
        if c == 0 && matches!(t.protocol, 17 | 136) { 0xffff } else { c }
    };
    pkt[at..at + 2].copy_from_slice(&value.to_be_bytes());
}

/// Where the source and destination addresses of an IP packet lie, when
/// its header holds them.
fn addr_ranges(pkt: &[u8]) -> Option<(Range<usize>, Range<usize>)> {
    let (src, dst) = match pkt.first()? >> 4 {
        4 => (12..16, 16..20),
        6 => (8..24, 24..40),
        _ => return None,
    };
    (pkt.len() >= dst.end).then_some((src, dst))
}

/// The source address of an IP packet.
pub fn source(pkt: &[u8]) -> Option<IpAddr> {
    match pkt.first()? >> 4 {
        4 => Some(IpAddr::from(<[u8; 4]>::try_from(pkt.get(12..16)?).ok()?)),
        6 => Some(IpAddr::from(<[u8; 16]>::try_from(pkt.get(8..24)?).ok()?)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An IPv4 TCP segment 192.0.2.2:40000 → 203.0.113.47:80 with payload,
    /// checksums valid.
    fn tcp4(src: [u8; 4], sport: u16, ttl: u8) -> Vec<u8> {
        let payload = b"GET / HTTP/1.0\r\n\r\n";
        let len = 20 + 20 + payload.len();
        let mut p = vec![0x45, 0, 0, len as u8, 0, 1, 0x40, 0, ttl, 6, 0, 0];
        p.extend_from_slice(&src);
        p.extend_from_slice(&[203, 0, 113, 47]);
        p.extend_from_slice(&sport.to_be_bytes());
        p.extend_from_slice(&80u16.to_be_bytes());
        p.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x18, 0xff, 0xff, 0, 0, 0, 0]);
        p.extend_from_slice(payload);
        fix_ipv4_header(&mut p);
        let c = checksum::transport_checksum(IpAddr::from(src), IpAddr::from([203, 0, 113, 47]), 6, &p[20..]);
        p[36..38].copy_from_slice(&c.to_be_bytes());
        p
    }

    fn valid(p: &[u8]) -> bool {
        let s = source(p).unwrap();
        let d = IpAddr::from(<[u8; 4]>::try_from(&p[16..20]).unwrap());
        checksum::checksum(&p[..20]) == 0 && checksum::verify_transport(s, d, 6, &p[20..])
    }

    #[test]
    fn the_source_is_written_at_the_second_stage() {
        let original = tcp4([192, 0, 2, 2], 40000, 64);
        // As the pipeline leaves it: masqueraded to 198.51.100.1:61000
        // (the TTL is back where the kernel lowers it).
        let own = tcp4([198, 51, 100, 1], 61000, 64);
        let mut st = Stage2::new();
        let (now, mark) = st.first(&Layout::of_pair(&own, &original).unwrap(), &own, &original, 7, None);
        assert_eq!(mark & STAGE_MASK, STAGE_MARK);
        // Nothing but the source changed: the packet goes back as it came.
        assert_eq!(now, original);
        // The kernel forwards it (TTL 63, header checksum updated).
        let mut fwd = now.clone();
        fwd[8] = 63;
        fix_ipv4_header(&mut fwd);
        assert_eq!(st.second(&mut fwd, mark), Some(Back { mark: 7, priority: None, rewritten: true }));
        let mut want = tcp4([198, 51, 100, 1], 61000, 63);
        fix_ipv4_header(&mut want);
        assert_eq!(fwd, want);
        assert!(valid(&fwd));
        // A record serves once.
        let mut again = now.clone();
        assert_eq!(st.second(&mut again, mark), None);
    }

    #[test]
    fn other_rewrites_happen_at_the_first_stage() {
        let original = tcp4([192, 0, 2, 2], 40000, 64);
        // Source NAT and a destination NAT to 203.0.113.48.
        let mut own = tcp4([198, 51, 100, 1], 61000, 64);
        own[19] = 48;
        finish_full(&mut own);
        let mut st = Stage2::new();
        let (now, mark) = st.first(&Layout::of_pair(&own, &original).unwrap(), &own, &original, 0, Some(5));
        assert_eq!(&now[12..16], &[192, 0, 2, 2]);
        assert_eq!(&now[16..20], &[203, 0, 113, 48]);
        assert_eq!(&now[20..22], &40000u16.to_be_bytes());
        assert_eq!(checksum::checksum(&now[..20]), 0);
        let mut back = now.clone();
        // Another packet with the same mark, or a record overwritten: no.
        back[19] = 49;
        assert_eq!(st.clone_second(&mut back, mark), None);
        let mut back = now.clone();
        assert_eq!(st.second(&mut back, mark), Some(Back { mark: 0, priority: Some(5), rewritten: true }));
        assert_eq!(back, own);
        assert_eq!(st.second(&mut tcp4([1, 2, 3, 4], 1, 1), 0x1234_0000), None);
    }

    fn finish_full(p: &mut [u8]) {
        fix_ipv4_header(p);
        p[36..38].copy_from_slice(&[0, 0]);
        let (s, d) = (source(p).unwrap(), IpAddr::from(<[u8; 4]>::try_from(&p[16..20]).unwrap()));
        let c = checksum::transport_checksum(s, d, 6, &p[20..]);
        p[36..38].copy_from_slice(&c.to_be_bytes());
    }

    impl Stage2 {
        /// `second` without using the record up.
        fn clone_second(&mut self, pkt: &mut [u8], mark: u32) -> Option<Back> {
            let keep = self.slots.clone();
            let r = self.second(pkt, mark);
            self.slots = keep;
            r
        }
    }

    #[test]
    fn a_priority_alone_is_given_at_the_second_stage() {
        let pkt = tcp4([192, 0, 2, 2], 40000, 64);
        let mut st = Stage2::new();
        let mark = st.priority_only(&pkt, 0x2a, 0x10002).unwrap();
        assert_eq!(mark & STAGE_MASK, STAGE_MARK);
        // Forwarded: the TTL went down, nothing else.
        let mut fwd = pkt.clone();
        fwd[8] = 63;
        fix_ipv4_header(&mut fwd);
        let seen = fwd.clone();
        assert_eq!(st.second(&mut fwd, mark), Some(Back { mark: 0x2a, priority: Some(0x10002), rewritten: false }));
        assert_eq!(fwd, seen, "the bytes stay as they are");
        // Not an IP packet: nothing to record.
        assert_eq!(st.priority_only(&[0x10; 40], 0, 1), None);
    }

    #[test]
    fn the_kernel_writes_a_lone_new_address() {
        let original = tcp4([192, 0, 2, 2], 40000, 64);
        let masq = tcp4([198, 51, 100, 1], 40000, 64);
        let gw = IpAddr::from([198, 51, 100, 1]);
        let mut f = FastNat { enabled: true, ..FastNat::default() };
        // Not in the kernel's map yet: it is to be added, the packet takes
        // the second stage.
        assert_eq!(
            f.mark_for(&Layout::of_pair(&masq, &original).unwrap(), &masq, &original, 0),
            Err(Some((Side::Src, 0, gw)))
        );
        assert_eq!(f.mark_for(&Layout::of_pair(&masq, &original).unwrap(), &masq, &original, 0), Err(None));
        f.installed(Side::Src, gw);
        assert_eq!(f.mark_for(&Layout::of_pair(&masq, &original).unwrap(), &masq, &original, 0), Ok(FAST_MARK));
        // A packet with a mark of its own, a new port, or another rewrite
        // besides: the slow way.
        assert_eq!(f.mark_for(&Layout::of_pair(&masq, &original).unwrap(), &masq, &original, 5), Err(None));
        let port = tcp4([198, 51, 100, 1], 40001, 64);
        assert_eq!(f.mark_for(&Layout::of_pair(&port, &original).unwrap(), &port, &original, 0), Err(None));
        let mut both = masq.clone();
        both[19] = 48;
        finish_full(&mut both);
        assert_eq!(f.mark_for(&Layout::of_pair(&both, &original).unwrap(), &both, &original, 0), Err(None));
        // A lone new destination: the destination's map, its own indexes.
        let mut dnat = original.clone();
        dnat[19] = 48;
        finish_full(&mut dnat);
        let d = IpAddr::from([203, 0, 113, 48]);
        assert_eq!(
            f.mark_for(&Layout::of_pair(&dnat, &original).unwrap(), &dnat, &original, 0),
            Err(Some((Side::Dst, 0, d)))
        );
        f.installed(Side::Dst, d);
        assert_eq!(f.mark_for(&Layout::of_pair(&dnat, &original).unwrap(), &dnat, &original, 0), Ok(FAST_DST_MARK));
        assert!(fast_element("t", Side::Src, 3, gw).contains("addr4 { 0x6e620003 : 198.51.100.1 }"));
        assert!(fast_element("t", Side::Dst, 3, d).contains("daddr4 { 0x6e630003 : 203.0.113.48 }"));
    }

    #[test]
    fn partial_checksums_are_finished() {
        let full = tcp4([192, 0, 2, 2], 40000, 64);
        let seed = checksum::pseudo_header(
            IpAddr::from([192, 0, 2, 2]),
            IpAddr::from([203, 0, 113, 47]),
            6,
            (full.len() - 20) as u32,
        );
        let mut partial = full.clone();
        partial[36..38].copy_from_slice(&seed.to_be_bytes());
        // Not ready, not GSO: the full checksum.
        let mut p = partial.clone();
        finish_checksum(&mut p, SKB_CSUMNOTREADY);
        assert_eq!(p, full);
        // GSO: the pseudo-header sum stays the field's content.
        let mut p = full.clone();
        finish_checksum(&mut p, SKB_CSUMNOTREADY | SKB_GSO);
        assert_eq!(p, partial);
        // A complete checksum is left alone.
        let mut p = partial.clone();
        finish_checksum(&mut p, 0);
        assert_eq!(p, partial);
    }
}
