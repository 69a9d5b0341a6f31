//! Rewriting frames for NAT (nf_nat_proto.c): addresses and ports or ICMP
//! ids of IPv4/IPv6 × TCP, UDP, UDP-Lite, DCCP, SCTP, ICMP and ICMPv6, with
//! the checksums updated the way the kernel updates them for a packet whose
//! checksum is not offloaded (`inet_proto_csum_replace4`/`16`: RFC 1624
//! eqn. 3 over 32-bit words, so the result is bit for bit the kernel's),
//! and the translation of ICMP errors whose quoted packet belongs to a
//! NATed connection (nf_nat_icmp_reply_translation).
//!
//! Everything works on the frame's bytes with offsets (`nh`: the network
//! header, `end`: the end of the IP datagram, as `skb->len` bounds the
//! kernel's writes); nothing allocates.

use crate::Tuple;

/// Which side of a tuple a binding rewrites (enum nf_nat_manip_type).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Manip {
    /// Source NAT: snat, masquerade (postrouting and input).
    Src,
    /// Destination NAT: dnat, redirect (prerouting and output).
    Dst,
}

impl Manip {
    /// The other kind (`!manip` of nf_nat_icmp_reply_translation).
    pub fn other(self) -> Manip {
        match self {
            Manip::Src => Manip::Dst,
            Manip::Dst => Manip::Src,
        }
    }

    /// IPS_SRC_NAT / IPS_DST_NAT: the binding changed the tuple.
    pub fn nat_bit(self) -> u32 {
        match self {
            Manip::Src => crate::status::SRC_NAT,
            Manip::Dst => crate::status::DST_NAT,
        }
    }

    /// IPS_SRC_NAT_DONE / IPS_DST_NAT_DONE: the binding is set up.
    pub fn done_bit(self) -> u32 {
        match self {
            Manip::Src => crate::status::SRC_NAT_DONE,
            Manip::Dst => crate::status::DST_NAT_DONE,
        }
    }
}

fn add(a: u32, b: u32) -> u32 {
    let (s, c) = a.overflowing_add(b);
    s.wrapping_add(u32::from(c))
}

/// csum_fold: 32-bit ones-complement sum to the 16-bit checksum.
fn fold(s: u32) -> u16 {
    let s = (s & 0xffff) + (s >> 16);
    let s = (s & 0xffff) + (s >> 16);
    !(s as u16)
}

/// A big-endian 16-bit field (bounds checked by the callers).
pub(crate) fn be16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

fn put16(b: &mut [u8], at: usize, v: u16) {
    b[at..at + 2].copy_from_slice(&v.to_be_bytes());
}

/// A big-endian 32-bit field.
pub(crate) fn word(b: &[u8], i: usize) -> u32 {
    u32::from_be_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]])
}

/// csum_replace4 / inet_proto_csum_replace4 on a checksum that is not
/// offloaded: `~(~HC + ~from + to)` over 32-bit words (words read in
/// network order: ones-complement sums commute with byte swapping).
pub fn replace4(check: u16, from: u32, to: u32) -> u16 {
    fold(add(add(!u32::from(check), !from), to))
}

/// inet_proto_csum_replace2: a 16-bit field as a zero-extended word.
pub fn replace2(check: u16, from: u16, to: u16) -> u16 {
    replace4(check, u32::from(from), u32::from(to))
}

/// inet_proto_csum_replace16 (an IPv6 address in the pseudo-header).
pub fn replace16(check: u16, from: &[u8], to: &[u8]) -> u16 {
    let mut s = !u32::from(check);
    for i in (0..16).step_by(4) {
        s = add(s, !word(from, i));
    }
    for i in (0..16).step_by(4) {
        s = add(s, word(to, i));
    }
    fold(s)
}

/// The address a manip writes, and the one it replaces: (old, new) slices
/// of the packet's header and the target tuple.
fn addr_len(v6: bool) -> usize {
    if v6 { 16 } else { 4 }
}

/// nf_csum_update: the pseudo-header part of a transport checksum for the
/// address the manip changes (read before the IP header is rewritten).
fn pseudo_update(pkt: &[u8], nh: usize, v6: bool, check: u16, target: &Tuple, manip: Manip) -> u16 {
    let n = addr_len(v6);
    let (at, new) = match (manip, v6) {
        (Manip::Src, false) => (nh + 12, &target.src[..4]),
        (Manip::Dst, false) => (nh + 16, &target.dst[..4]),
        (Manip::Src, true) => (nh + 8, &target.src[..]),
        (Manip::Dst, true) => (nh + 24, &target.dst[..]),
    };
    let old = &pkt[at..at + n];
    if v6 { replace16(check, old, new) } else { replace4(check, word(old, 0), word(new, 0)) }
}

/// ipv6_skip_exthdr from `nh`: (transport offset, protocol, fragment
/// offset field), or `None` when the chain is cut short.
fn skip_exthdr(pkt: &[u8], nh: usize, end: usize) -> Option<(usize, u8, u16)> {
    let mut next = *pkt.get(nh + 6)?;
    let mut off = nh + 40;
    let mut frag = 0u16;
    // Bounded: every header is at least 8 bytes.
    for _ in 0..64 {
        match next {
            0 | 43 | 60 | 51 | 44 => {}
            _ => return Some((off, next, frag)),
        }
        if off + 8 > end {
            return None;
        }
        let h = &pkt[off..off + 8];
        let len = match next {
            44 => {
                frag = be16(h, 2) & !7;
                8
            }
            51 => (usize::from(h[1]) + 2) * 4,
            _ => (usize::from(h[1]) + 1) * 8,
        };
        if next == 44 && frag != 0 {
            // A later fragment: no transport header (the kernel stops at
            // the fragment header too).
            return Some((off + len, h[0], frag));
        }
        next = h[0];
        off += len;
    }
    None
}

/// The l4 part of nf_nat_ipv4_manip_pkt / nf_nat_ipv6_manip_pkt
/// (nf_nat_l4proto_manip_pkt): `false` when the header to rewrite is not
/// in the packet (the kernel's skb_ensure_writable failing: drop).
#[allow(clippy::too_many_arguments)]
fn l4_manip(pkt: &mut [u8], nh: usize, hdroff: usize, end: usize, v6: bool, target: &Tuple, manip: Manip) -> bool {
    let (port_at, new_port) = match manip {
        Manip::Src => (hdroff, target.src_port),
        Manip::Dst => (hdroff + 2, target.dst_port),
    };
    match target.proto {
        6 => {
            if end < hdroff + 8 {
                return false;
            }
            let old = be16(pkt, port_at);
            put16(pkt, port_at, new_port);
            // An ICMP error may quote only 8 bytes of the segment: the
            // checksum is outside them and stays as it is.
            if end < hdroff + 20 {
                return true;
            }
            let c = be16(pkt, hdroff + 16);
            let c = pseudo_update(pkt, nh, v6, c, target, manip);
            put16(pkt, hdroff + 16, replace2(c, old, new_port));
        }
        17 | 136 => {
            if end < hdroff + 8 {
                return false;
            }
            let old = be16(pkt, port_at);
            let c = be16(pkt, hdroff + 6);
            // UDP over IPv4 without checksum (0) keeps none; UDP-Lite's is
            // mandatory (__udp_manip_pkt's do_csum).
            if c != 0 || target.proto == 136 {
                let c = pseudo_update(pkt, nh, v6, c, target, manip);
                let c = replace2(c, old, new_port);
                // CSUM_MANGLED_0: 0 means "no checksum" on the wire.
                put16(pkt, hdroff + 6, if c == 0 { 0xffff } else { c });
            }
            put16(pkt, port_at, new_port);
        }
        33 => {
            // DCCP: ports, then the checksum (offset 6) like TCP's.
            if end < hdroff + 12 {
                return false;
            }
            let old = be16(pkt, port_at);
            put16(pkt, port_at, new_port);
            let c = be16(pkt, hdroff + 6);
            let c = pseudo_update(pkt, nh, v6, c, target, manip);
            put16(pkt, hdroff + 6, replace2(c, old, new_port));
        }
        132 => {
            // SCTP: ports, then the CRC32c over the whole packet again
            // (sctp_manip_pkt), when the packet holds all of it.
            if end < hdroff + 8 {
                return false;
            }
            put16(pkt, port_at, new_port);
            if end >= hdroff + 12 && pkt.len() >= end {
                pkt[hdroff + 8..hdroff + 12].fill(0);
                let crc = crc32c(&pkt[hdroff..end]);
                pkt[hdroff + 8..hdroff + 12].copy_from_slice(&crc.to_le_bytes());
            }
        }
        1 => {
            if end < hdroff + 8 {
                return false;
            }
            // icmp_manip_pkt: only the query/reply types carry an id.
            if matches!(pkt[hdroff], 0 | 8 | 13 | 14 | 15 | 16 | 17 | 18) {
                let old = be16(pkt, hdroff + 4);
                let c = be16(pkt, hdroff + 2);
                put16(pkt, hdroff + 2, replace2(c, old, target.src_port));
                put16(pkt, hdroff + 4, target.src_port);
            }
        }
        58 => {
            if end < hdroff + 8 {
                return false;
            }
            // icmpv6_manip_pkt: the pseudo-header always, the id of echo
            // messages.
            let c = be16(pkt, hdroff + 2);
            let mut c = pseudo_update(pkt, nh, v6, c, target, manip);
            if matches!(pkt[hdroff], 128 | 129) {
                let old = be16(pkt, hdroff + 4);
                c = replace2(c, old, target.src_port);
                put16(pkt, hdroff + 4, target.src_port);
            }
            put16(pkt, hdroff + 2, c);
        }
        _ => {}
    }
    true
}

/// CRC32c (Castagnoli, reflected), as SCTP's checksum.
fn crc32c(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 { (crc >> 1) ^ 0x82f6_3b78 } else { crc >> 1 };
        }
    }
    !crc
}

/// nf_nat_ipv4_manip_pkt / nf_nat_ipv6_manip_pkt: rewrite the packet whose
/// IP header is at `nh` so its source (`Manip::Src`) or destination is
/// `target`'s, transport part first (its checksum needs the old address),
/// then the address. `false`: the packet is too short (drop).
pub fn manip_pkt(pkt: &mut [u8], nh: usize, end: usize, target: &Tuple, manip: Manip) -> bool {
    let end = end.min(pkt.len());
    let Some(&vihl) = pkt.get(nh) else { return false };
    let v6 = vihl >> 4 == 6;
    if v6 {
        if end < nh + 40 {
            return false;
        }
        if let Some((hdroff, _, frag)) = skip_exthdr(pkt, nh, end)
            && frag == 0
            && !l4_manip(pkt, nh, hdroff, end, true, target, manip)
        {
            return false;
        }
        let (at, new) = match manip {
            Manip::Src => (nh + 8, &target.src),
            Manip::Dst => (nh + 24, &target.dst),
        };
        pkt[at..at + 16].copy_from_slice(new);
    } else {
        let ihl = usize::from(vihl & 0xf) * 4;
        if ihl < 20 || end < nh + ihl {
            return false;
        }
        // A later fragment carries no transport header; the kernel
        // rewrites what it finds there anyway only for the first one
        // (conntrack sees reassembled packets).
        let later_fragment = be16(pkt, nh + 6) & 0x1fff != 0;
        if !later_fragment && !l4_manip(pkt, nh, nh + ihl, end, false, target, manip) {
            return false;
        }
        let (at, new) = match manip {
            Manip::Src => (nh + 12, &target.src[..4]),
            Manip::Dst => (nh + 16, &target.dst[..4]),
        };
        let c = replace4(be16(pkt, nh + 10), word(pkt, at), word(new, 0));
        put16(pkt, nh + 10, c);
        pkt[at..at + 4].copy_from_slice(new);
    }
    true
}

/// The quoted packet of an ICMP error at `nh`: (offset of the ICMP
/// header, offset of the quoted IP header).
fn icmp_offsets(pkt: &[u8], nh: usize, end: usize) -> Option<(usize, usize)> {
    let vihl = *pkt.get(nh)?;
    let icmp = if vihl >> 4 == 6 {
        let (off, proto, frag) = skip_exthdr(pkt, nh, end)?;
        if proto != 58 || frag != 0 {
            return None;
        }
        off
    } else {
        nh + usize::from(vihl & 0xf) * 4
    };
    (end >= icmp + 8 + 20).then_some((icmp, icmp + 8))
}

/// nf_nat_icmp_reply_translation / nf_nat_icmpv6_reply_translation for an
/// ICMP error RELATED to a connection, at a NAT hook of kind `manip`,
/// travelling in direction `dir` (`reply` true: the reply direction).
/// `tuples` and `status` are the connection's. The quoted packet gets the
/// opposite manip from the tuple of the other direction (it looks like the
/// packet the error is about did when it left), the ICMP checksum is
/// computed anew, then the outer header gets the hook's manip. `None`:
/// drop (a redirect about a NATed connection, or a short packet);
/// `Some(false)`: nothing to do.
pub fn icmp_reply_translation(
    pkt: &mut [u8],
    nh: usize,
    end: usize,
    tuples: &[Tuple; 2],
    status: u32,
    reply: bool,
    manip: Manip,
) -> Option<bool> {
    use crate::status::{DST_NAT, DST_NAT_DONE, SRC_NAT, SRC_NAT_DONE};
    let end = end.min(pkt.len());
    let v6 = pkt.get(nh)? >> 4 == 6;
    let (icmp, inner) = icmp_offsets(pkt, nh, end)?;
    if !v6 && pkt[icmp] == 5 {
        // ICMP redirect: only about a connection fully set up without NAT.
        let done = SRC_NAT_DONE | DST_NAT_DONE;
        if status & done != done || status & (SRC_NAT | DST_NAT) != 0 {
            return None;
        }
    }
    let mut bit = manip.nat_bit();
    if reply {
        bit ^= SRC_NAT | DST_NAT;
    }
    if status & bit == 0 {
        return Some(false);
    }
    let other = &tuples[usize::from(!reply)];
    if !manip_pkt(pkt, inner, end, other, manip.other()) {
        return None;
    }
    // The error's checksum over the whole ICMP message, anew.
    put16(pkt, icmp + 2, 0);
    let c = if v6 {
        let src = core::net::Ipv6Addr::from(<[u8; 16]>::try_from(&pkt[nh + 8..nh + 24]).ok()?);
        let dst = core::net::Ipv6Addr::from(<[u8; 16]>::try_from(&pkt[nh + 24..nh + 40]).ok()?);
        ctc_wire::checksum::transport_checksum(src.into(), dst.into(), 58, &pkt[icmp..end])
    } else {
        ctc_wire::checksum::checksum(&pkt[icmp..end])
    };
    put16(pkt, icmp + 2, c);
    // The outer header looks like the reply to the packet that went out
    // (protocol ICMP: its per-protocol part is left alone).
    let mut target = other.invert().unwrap_or(Tuple { src: other.dst, dst: other.src, ..*other });
    target.proto = if v6 { 58 } else { 1 };
    if !manip_pkt(pkt, nh, end, &target, manip) {
        return None;
    }
    Some(true)
}

/// Recompute the transport checksum of a TCP segment whose payload a
/// helper rewrote (nf_nat_csum_recalc without offload: a full sum).
pub fn tcp_checksum_anew(pkt: &mut [u8], nh: usize, th: usize, end: usize) {
    let end = end.min(pkt.len());
    if end < th + 20 {
        return;
    }
    let v6 = pkt[nh] >> 4 == 6;
    let (src, dst): (core::net::IpAddr, core::net::IpAddr) = if v6 {
        let s: [u8; 16] = pkt[nh + 8..nh + 24].try_into().expect("16 bytes");
        let d: [u8; 16] = pkt[nh + 24..nh + 40].try_into().expect("16 bytes");
        (s.into(), d.into())
    } else {
        let s: [u8; 4] = pkt[nh + 12..nh + 16].try_into().expect("4 bytes");
        let d: [u8; 4] = pkt[nh + 16..nh + 20].try_into().expect("4 bytes");
        (s.into(), d.into())
    };
    put16(pkt, th + 16, 0);
    let c = ctc_wire::checksum::transport_checksum(src, dst, 6, &pkt[th..end]);
    put16(pkt, th + 16, c);
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::net::IpAddr;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    /// An IPv4 TCP SYN with valid checksums.
    fn tcp4(src: &str, dst: &str, sport: u16, dport: u16) -> Vec<u8> {
        let mut p = vec![0u8; 40];
        p[0] = 0x45;
        put16(&mut p, 2, 40);
        p[8] = 64;
        p[9] = 6;
        let (IpAddr::V4(s), IpAddr::V4(d)) = (ip(src), ip(dst)) else { unreachable!() };
        p[12..16].copy_from_slice(&s.octets());
        p[16..20].copy_from_slice(&d.octets());
        let c = ctc_wire::checksum::checksum(&p[..20]);
        put16(&mut p, 10, c);
        put16(&mut p, 20, sport);
        put16(&mut p, 22, dport);
        p[32] = 0x50;
        p[33] = 0x02;
        put16(&mut p, 34, 64240);
        tcp_checksum_anew(&mut p, 0, 20, 40);
        p
    }

    fn valid4(p: &[u8]) -> bool {
        let (s, d): ([u8; 4], [u8; 4]) = (p[12..16].try_into().unwrap(), p[16..20].try_into().unwrap());
        ctc_wire::checksum::checksum(&p[..20]) == 0
            && ctc_wire::checksum::verify_transport(s.into(), d.into(), p[9], &p[20..])
    }

    #[test]
    fn snat_rewrites_source_and_keeps_checksums_valid() {
        let mut p = tcp4("192.0.2.2", "203.0.113.47", 40401, 80);
        let target = Tuple::new(ip("198.51.100.32"), ip("203.0.113.47"), 6, 12983, 80);
        assert!(manip_pkt(&mut p, 0, 40, &target, Manip::Src));
        assert_eq!(&p[12..16], &[198, 51, 100, 32]);
        assert_eq!(be16(&p, 20), 12983);
        assert!(valid4(&p));
        // The incremental result equals a checksum computed anew.
        let mut q = p.clone();
        tcp_checksum_anew(&mut q, 0, 20, 40);
        assert_eq!(p, q);
    }

    #[test]
    fn dnat_rewrites_destination() {
        let mut p = tcp4("192.0.2.2", "198.51.100.32", 40000, 8080);
        let target = Tuple::new(ip("192.0.2.2"), ip("203.0.113.10"), 6, 40000, 80);
        assert!(manip_pkt(&mut p, 0, 40, &target, Manip::Dst));
        assert_eq!(&p[16..20], &[203, 0, 113, 10]);
        assert_eq!(be16(&p, 22), 80);
        assert!(valid4(&p));
    }

    #[test]
    fn udp_without_checksum_keeps_none() {
        let mut p = tcp4("192.0.2.2", "203.0.113.47", 1, 2);
        p[9] = 17;
        p.truncate(28);
        put16(&mut p, 2, 28);
        put16(&mut p, 10, 0);
        let c = ctc_wire::checksum::checksum(&p[..20]);
        put16(&mut p, 10, c);
        put16(&mut p, 24, 8);
        put16(&mut p, 26, 0);
        let target = Tuple::new(ip("198.51.100.32"), ip("203.0.113.47"), 17, 5000, 2);
        assert!(manip_pkt(&mut p, 0, 28, &target, Manip::Src));
        assert_eq!(be16(&p, 26), 0);
        assert_eq!(be16(&p, 20), 5000);
        assert_eq!(ctc_wire::checksum::checksum(&p[..20]), 0);
    }

    #[test]
    fn replace_matches_a_full_recomputation() {
        // RFC 1624's example: HC 0xdd2f, m 0x5555 -> m' 0x3285 gives 0x0000.
        assert_eq!(replace2(0xdd2f, 0x5555, 0x3285), 0x0000);
        // Replacing a word by itself changes nothing (0xffff, which no
        // computed checksum is, comes out as 0 as from the kernel's).
        assert_eq!(replace4(0xffff, 7, 7), 0);
        for c in [0u16, 1, 0x1234, 0xfffe] {
            assert_eq!(replace4(c, 0xc000_0202, 0xc000_0202), c, "{c:#x}");
        }
    }

    #[test]
    fn short_packets_are_refused_not_read_past() {
        let mut p = tcp4("192.0.2.2", "203.0.113.47", 1, 2);
        let target = Tuple::new(ip("198.51.100.32"), ip("203.0.113.47"), 6, 3, 2);
        assert!(!manip_pkt(&mut p[..24], 0, 24, &target, Manip::Src));
        assert!(!manip_pkt(&mut p[..10], 0, 40, &target, Manip::Src));
        assert!(!manip_pkt(&mut [], 0, 40, &target, Manip::Src));
    }

    #[test]
    fn crc32c_check_value() {
        assert_eq!(crc32c(b"123456789"), 0xe306_9283);
    }
}
