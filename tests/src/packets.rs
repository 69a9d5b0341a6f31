//! Frames built byte by byte for the replay tests, and a tiny deterministic
//! random number generator.
//!
//! Every frame is a real Ethernet II frame (optionally 802.1Q tagged) with
//! a correct IPv4 header checksum and correct TCP/UDP/ICMP/ICMPv6
//! checksums (RFC 1071 through `ctc_wire::checksum`), so the engine sees
//! what a capture of real traffic would hold. [`L4::Raw`] leaves the bytes
//! after the IP header entirely to the caller (any protocol number).

use ctc_wire::checksum;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::Path;

/// xorshift64* (Vigna): small, fast and deterministic; the seed goes
/// through splitmix64 first so that seeds 0, 1, 2... give unrelated
/// streams.
#[derive(Debug, Clone)]
pub struct XorShift(u64);

impl XorShift {
    pub fn new(seed: u64) -> XorShift {
        let mut z = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        XorShift(if z == 0 { 0x2545_f491_4f6c_dd1d } else { z })
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    pub fn next_u32(&mut self) -> u32 {
        (self.next_u64() >> 32) as u32
    }

    /// Uniform in `0..n` (`n > 0`; the modulo bias is irrelevant here).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    /// Uniform in `lo..=hi`.
    pub fn range_u32(&mut self, lo: u32, hi: u32) -> u32 {
        let span = u64::from(hi - lo) + 1;
        lo + self.below(span) as u32
    }

    /// Uniform in `lo..=hi`.
    pub fn range_u16(&mut self, lo: u16, hi: u16) -> u16 {
        self.range_u32(u32::from(lo), u32::from(hi)) as u16
    }

    /// True with probability `num / den`.
    pub fn chance(&mut self, num: u64, den: u64) -> bool {
        self.below(den) < num
    }

    pub fn fill(&mut self, buf: &mut [u8]) {
        for chunk in buf.chunks_mut(8) {
            let r = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&r[..chunk.len()]);
        }
    }

    /// One element of a non-empty slice.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

/// The MAC of the peer that sends the test frames.
pub const PEER_MAC: [u8; 6] = [0x02, 0, 0, 0, 0, 0x0a];
/// The MAC of the engine's input interface (unicast destination).
pub const HOST_MAC: [u8; 6] = [0x02, 0, 0, 0, 0, 0x01];

/// The transport part of a packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum L4<'a> {
    /// A 20-byte TCP header (data offset 5) with these flags.
    Tcp { sport: u16, dport: u16, flags: u8 },
    /// UDP; the length covers the payload.
    Udp { sport: u16, dport: u16 },
    /// ICMP in IPv4, ICMPv6 in IPv6: type, code, and the 4 bytes after the
    /// checksum (identifier and sequence of an echo).
    Icmp { ty: u8, code: u8, rest: [u8; 4] },
    /// Protocol `proto`, the bytes after the IP header as given (no payload
    /// appended, no checksum computed).
    Raw { proto: u8, bytes: &'a [u8] },
}

/// TCP flag bits.
pub mod tcp_flags {
    pub const FIN: u8 = 0x01;
    pub const SYN: u8 = 0x02;
    pub const RST: u8 = 0x04;
    pub const PSH: u8 = 0x08;
    pub const ACK: u8 = 0x10;
}

/// The transport segment with its checksum, and its protocol number.
pub fn segment(src: IpAddr, dst: IpAddr, l4: &L4<'_>, payload: &[u8]) -> (u8, Vec<u8>) {
    match *l4 {
        L4::Tcp { sport, dport, flags } => {
            let mut s = Vec::with_capacity(20 + payload.len());
            s.extend_from_slice(&sport.to_be_bytes());
            s.extend_from_slice(&dport.to_be_bytes());
            s.extend_from_slice(&0x1000_0000u32.to_be_bytes()); // sequence
            let ack: u32 = if flags & tcp_flags::ACK != 0 { 0x2000_0000 } else { 0 };
            s.extend_from_slice(&ack.to_be_bytes());
            s.push(5 << 4);
            s.push(flags);
            s.extend_from_slice(&64240u16.to_be_bytes()); // window
            s.extend_from_slice(&[0, 0, 0, 0]); // checksum, urgent pointer
            s.extend_from_slice(payload);
            let c = checksum::transport_checksum(src, dst, 6, &s);
            s[16..18].copy_from_slice(&c.to_be_bytes());
            (6, s)
        }
        L4::Udp { sport, dport } => {
            let len = (8 + payload.len()) as u16;
            let mut s = Vec::with_capacity(8 + payload.len());
            s.extend_from_slice(&sport.to_be_bytes());
            s.extend_from_slice(&dport.to_be_bytes());
            s.extend_from_slice(&len.to_be_bytes());
            s.extend_from_slice(&[0, 0]);
            s.extend_from_slice(payload);
            // RFC 768: a computed 0 is sent as all ones.
            let c = match checksum::transport_checksum(src, dst, 17, &s) {
                0 => 0xffff,
                c => c,
            };
            s[6..8].copy_from_slice(&c.to_be_bytes());
            (17, s)
        }
        L4::Icmp { ty, code, rest } => {
            let mut s = vec![ty, code, 0, 0];
            s.extend_from_slice(&rest);
            s.extend_from_slice(payload);
            let (proto, c) = match (src, dst) {
                (IpAddr::V4(_), IpAddr::V4(_)) => (1, checksum::checksum(&s)),
                _ => (58, checksum::transport_checksum(src, dst, 58, &s)),
            };
            s[2..4].copy_from_slice(&c.to_be_bytes());
            (proto, s)
        }
        L4::Raw { proto, bytes } => (proto, bytes.to_vec()),
    }
}

/// An IPv4 packet (20-byte header, correct header checksum, DF clear).
pub fn ipv4(src: Ipv4Addr, dst: Ipv4Addr, ttl: u8, l4: &L4<'_>, payload: &[u8]) -> Vec<u8> {
    let (proto, seg) = segment(src.into(), dst.into(), l4, payload);
    let total = (20 + seg.len()) as u16;
    let mut p = Vec::with_capacity(usize::from(total));
    p.extend_from_slice(&[0x45, 0]);
    p.extend_from_slice(&total.to_be_bytes());
    p.extend_from_slice(&[0x12, 0x34, 0, 0, ttl, proto, 0, 0]);
    p.extend_from_slice(&src.octets());
    p.extend_from_slice(&dst.octets());
    let c = checksum::checksum(&p[..20]);
    p[10..12].copy_from_slice(&c.to_be_bytes());
    p.extend_from_slice(&seg);
    p
}

/// An IPv6 packet without extension headers.
pub fn ipv6(src: Ipv6Addr, dst: Ipv6Addr, hop_limit: u8, l4: &L4<'_>, payload: &[u8]) -> Vec<u8> {
    let (proto, seg) = segment(src.into(), dst.into(), l4, payload);
    let mut p = Vec::with_capacity(40 + seg.len());
    p.extend_from_slice(&[0x60, 0, 0, 0]);
    p.extend_from_slice(&(seg.len() as u16).to_be_bytes());
    p.push(proto);
    p.push(hop_limit);
    p.extend_from_slice(&src.octets());
    p.extend_from_slice(&dst.octets());
    p.extend_from_slice(&seg);
    p
}

/// An IP packet of either family (`src` and `dst` of the same family).
pub fn ip(src: IpAddr, dst: IpAddr, ttl: u8, l4: &L4<'_>, payload: &[u8]) -> Vec<u8> {
    match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => ipv4(s, d, ttl, l4, payload),
        (IpAddr::V6(s), IpAddr::V6(d)) => ipv6(s, d, ttl, l4, payload),
        _ => panic!("ip(): {src} and {dst} are of different families"),
    }
}

/// An Ethernet II frame from [`PEER_MAC`] to [`HOST_MAC`] around `packet`,
/// with an 802.1Q tag when `vlan` is given. The EtherType comes from the IP
/// version nibble (0x0800 or 0x86dd), or is `ethertype` when given.
pub fn ethernet(vlan: Option<u16>, ethertype: Option<u16>, packet: &[u8]) -> Vec<u8> {
    let et = ethertype.unwrap_or(match packet.first().map(|b| b >> 4) {
        Some(6) => 0x86dd,
        _ => 0x0800,
    });
    let mut f = Vec::with_capacity(18 + packet.len());
    f.extend_from_slice(&HOST_MAC);
    f.extend_from_slice(&PEER_MAC);
    if let Some(vid) = vlan {
        f.extend_from_slice(&0x8100u16.to_be_bytes());
        f.extend_from_slice(&(vid & 0x0fff).to_be_bytes());
    }
    f.extend_from_slice(&et.to_be_bytes());
    f.extend_from_slice(packet);
    f
}

/// `ethernet(None, None, ip(...))`: the common case.
pub fn eth_ip(src: IpAddr, dst: IpAddr, ttl: u8, l4: &L4<'_>, payload: &[u8]) -> Vec<u8> {
    ethernet(None, None, &ip(src, dst, ttl, l4, payload))
}

/// Write Ethernet frames to a pcap file, the i-th at `start_ns + i` ms.
pub fn write_pcap(path: &Path, start_ns: u64, frames: &[Vec<u8>]) {
    use ctc_datapath::capture::{Link, Writer};
    let mut w = Writer::create(path, Link::Ethernet).unwrap_or_else(|e| panic!("creating {}: {e}", path.display()));
    for (i, f) in frames.iter().enumerate() {
        w.write(start_ns + i as u64 * 1_000_000, f).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksums_verify_under_the_wire_parser() {
        let (s4, d4): (IpAddr, IpAddr) = ("192.0.2.10".parse().unwrap(), "203.0.113.9".parse().unwrap());
        let (s6, d6): (IpAddr, IpAddr) = ("2001:db8::1".parse().unwrap(), "2001:db8:1::2".parse().unwrap());
        for (s, d) in [(s4, d4), (s6, d6)] {
            for l4 in [
                L4::Tcp { sport: 40000, dport: 80, flags: tcp_flags::SYN },
                L4::Udp { sport: 5353, dport: 53 },
                L4::Icmp { ty: if s.is_ipv4() { 8 } else { 128 }, code: 0, rest: [0, 1, 0, 2] },
            ] {
                let f = eth_ip(s, d, 64, &l4, b"hello");
                let parsed = ctc_wire::parse_frame(&f);
                assert!(parsed.malformed.is_none(), "{l4:?}: {:?}", parsed.malformed);
                assert_eq!(parsed.l4_checksum_ok(&f), Some(true), "{l4:?} over {s}");
            }
        }
        let f = ethernet(
            Some(7),
            None,
            &ipv4("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap(), 9, &L4::Udp { sport: 1, dport: 2 }, &[]),
        );
        let parsed = ctc_wire::parse_frame(&f);
        assert_eq!(parsed.link.and_then(|l| l.vlan_id()), Some(7));
        assert!(parsed.malformed.is_none());
    }

    #[test]
    fn xorshift_is_deterministic_and_spreads() {
        let a: Vec<u64> = (0..4)
            .map({
                let mut r = XorShift::new(1);
                move |_| r.next_u64()
            })
            .collect();
        let b: Vec<u64> = (0..4)
            .map({
                let mut r = XorShift::new(1);
                move |_| r.next_u64()
            })
            .collect();
        assert_eq!(a, b);
        let mut r = XorShift::new(0);
        let mut seen = [false; 10];
        for _ in 0..1000 {
            let v = r.range_u16(5, 14);
            assert!((5..=14).contains(&v));
            seen[usize::from(v - 5)] = true;
        }
        assert!(seen.iter().all(|&s| s));
    }
}
