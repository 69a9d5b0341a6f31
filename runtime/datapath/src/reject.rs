//! The frames `reject` sends: TCP resets and ICMP/ICMPv6 destination
//! unreachable errors, built as the kernel builds them
//! (net/ipv4/netfilter/nf_reject_ipv4.c, net/ipv6/netfilter/nf_reject_ipv6.c,
//! icmp_send/icmpv6_send), and sent back out of the interface the packet came in.

use crate::host::HostModel;
use ctc_ir::Reject;
use ctc_wire::checksum;
use ctc_wire::{Frame, NetworkKind};
use std::net::IpAddr;

/// The kernel's default TTL / hop limit (net.ipv4.ip_default_ttl,
/// net.ipv6.conf.*.hop_limit).
const DEFAULT_TTL: u8 = 64;
/// icmp_send quotes at most this much, whole reply included (RFC 1812 4.3.2.3).
const ICMP_MAX: usize = 576;
/// icmpv6_send: the IPv6 minimum MTU (RFC 4443 2.4(c)).
const ICMPV6_MAX: usize = 1280;
/// IPTOS_PREC_INTERNETCONTROL, which icmp_send sets for errors.
const TOS_INTERNETCONTROL: u8 = 0xc0;

const ICMP_DEST_UNREACH: u8 = 3;
const ICMP_TIME_EXCEEDED: u8 = 11;
const ICMPV6_DEST_UNREACH: u8 = 1;
const ICMPV6_TIME_EXCEED: u8 = 3;

/// The ICMP/ICMPv6 time exceeded (code 0, TTL/hop limit exceeded in
/// transit) that ip_forward / ip6_forward send for a packet whose TTL runs
/// out, or `None` where no error may be sent.
pub fn time_exceeded(buf: &[u8], frame: &Frame, host: &HostModel, iif: Option<usize>) -> Option<Vec<u8>> {
    let net = frame.network?;
    let dst = net.dst?;
    if frame.is_later_fragment() || dst.is_multicast() || host.is_broadcast(dst) {
        return None;
    }
    if net.kind == NetworkKind::Ipv6 {
        icmp6(buf, frame, host, iif, ICMPV6_TIME_EXCEED, 0)
    } else {
        icmp4(buf, frame, host, iif, ICMP_TIME_EXCEEDED, 0)
    }
}

/// NFT_REJECT_ICMPX_* → ICMP and ICMPv6 codes (nft_reject_icmp_code,
/// nft_reject_icmpv6_code).
fn icmpx(code: u8) -> (u8, u8) {
    match code {
        0 => (0, 0),  // no-route: net unreachable / no route
        2 => (1, 3),  // host-unreachable: host unreachable / address unreachable
        3 => (13, 1), // admin-prohibited: packet filtered / administratively prohibited
        _ => (3, 4),  // port-unreachable
    }
}

fn link_header(out: &mut Vec<u8>, frame: &Frame, ethertype: u16) {
    if let Some(l) = frame.link {
        out.extend_from_slice(&l.src.0);
        out.extend_from_slice(&l.dst.0);
        out.extend_from_slice(&ethertype.to_be_bytes());
    }
}

fn ipv4_header(out: &mut Vec<u8>, tos: u8, total: usize, df: bool, proto: u8, src: [u8; 4], dst: [u8; 4]) {
    let start = out.len();
    out.extend_from_slice(&[0x45, tos]);
    out.extend_from_slice(&(total as u16).to_be_bytes());
    out.extend_from_slice(&[0, 0]); // id: 0, as for DF segments with no socket
    out.extend_from_slice(&(if df { 0x4000u16 } else { 0 }).to_be_bytes());
    out.extend_from_slice(&[DEFAULT_TTL, proto, 0, 0]);
    out.extend_from_slice(&src);
    out.extend_from_slice(&dst);
    let c = checksum::checksum(&out[start..start + 20]);
    out[start + 10..start + 12].copy_from_slice(&c.to_be_bytes());
}

fn ipv6_header(out: &mut Vec<u8>, payload: usize, next: u8, src: [u8; 16], dst: [u8; 16]) {
    out.extend_from_slice(&[0x60, 0, 0, 0]);
    out.extend_from_slice(&(payload as u16).to_be_bytes());
    out.extend_from_slice(&[next, DEFAULT_TTL]);
    out.extend_from_slice(&src);
    out.extend_from_slice(&dst);
}

fn v4(a: IpAddr) -> Option<[u8; 4]> {
    match a {
        IpAddr::V4(a) => Some(a.octets()),
        IpAddr::V6(_) => None,
    }
}

fn v6(a: IpAddr) -> Option<[u8; 16]> {
    match a {
        IpAddr::V6(a) => Some(a.octets()),
        IpAddr::V4(_) => None,
    }
}

/// The reply `reject` sends for the packet `buf` (parsed as `frame`) that
/// came in on interface `iif`, or `None` where the kernel sends nothing
/// (a reset for a reset, an error about an error, later fragments,
/// broadcasts and multicasts, non-TCP packets for `tcp reset`).
pub fn build(kind: Reject, buf: &[u8], frame: &Frame, host: &HostModel, iif: Option<usize>) -> Option<Vec<u8>> {
    let net = frame.network?;
    let (src, dst) = (net.src?, net.dst?);
    if frame.is_later_fragment() || dst.is_multicast() || host.is_broadcast(dst) || frame.malformed.is_some() {
        return None;
    }
    let ipv6 = net.kind == NetworkKind::Ipv6;
    match kind {
        Reject::TcpReset => tcp_reset(buf, frame, ipv6),
        Reject::Icmp(code) if !ipv6 => icmp4(buf, frame, host, iif, ICMP_DEST_UNREACH, code),
        Reject::Icmpv6(code) if ipv6 => icmp6(buf, frame, host, iif, ICMPV6_DEST_UNREACH, code),
        Reject::Icmpx(code) => {
            let (c4, c6) = icmpx(code);
            if ipv6 {
                icmp6(buf, frame, host, iif, ICMPV6_DEST_UNREACH, c6)
            } else {
                icmp4(buf, frame, host, iif, ICMP_DEST_UNREACH, c4)
            }
        }
        _ => {
            let _ = (src, dst);
            None
        }
    }
}

fn tcp_reset(buf: &[u8], frame: &Frame, ipv6: bool) -> Option<Vec<u8>> {
    let net = frame.network?;
    let th = frame.transport.filter(|t| t.protocol == 6)?;
    let tcp = buf.get(th.offset..th.end)?;
    if tcp.len() < 20 {
        return None;
    }
    let flags = tcp[13];
    let (fin, syn, rst, ack) = (flags & 1 != 0, flags & 2 != 0, flags & 4 != 0, flags & 16 != 0);
    if rst {
        return None; // never answer a reset
    }
    let seq = u32::from_be_bytes([tcp[4], tcp[5], tcp[6], tcp[7]]);
    let ack_seq = u32::from_be_bytes([tcp[8], tcp[9], tcp[10], tcp[11]]);
    let doff = ((tcp[12] >> 4) as usize) * 4;
    let payload = tcp.len().saturating_sub(doff) as u32;
    // nf_reject_ip_tcphdr_put: with ACK, the reset takes the acknowledged
    // sequence number; without, it acknowledges everything the segment used.
    let (nseq, nack, nflags) =
        if ack { (ack_seq, 0, 0x04) } else { (0, seq.wrapping_add(syn as u32 + fin as u32 + payload), 0x14) };
    let mut seg = Vec::with_capacity(20);
    seg.extend_from_slice(&tcp[2..4]);
    seg.extend_from_slice(&tcp[0..2]);
    seg.extend_from_slice(&nseq.to_be_bytes());
    seg.extend_from_slice(&nack.to_be_bytes());
    seg.extend_from_slice(&[5 << 4, nflags, 0, 0, 0, 0, 0, 0]);
    let (src, dst) = (net.dst?, net.src?);
    let c = checksum::transport_checksum(src, dst, 6, &seg);
    seg[16..18].copy_from_slice(&c.to_be_bytes());
    let mut out = Vec::new();
    if ipv6 {
        link_header(&mut out, frame, 0x86dd);
        ipv6_header(&mut out, seg.len(), 6, v6(src)?, v6(dst)?);
    } else {
        link_header(&mut out, frame, 0x0800);
        ipv4_header(&mut out, 0, 20 + seg.len(), true, 6, v4(src)?, v4(dst)?);
    }
    out.extend_from_slice(&seg);
    Some(out)
}

/// The source of an ICMP error: the packet's destination when it was for
/// this host, else this host's address on the interface it came in on.
fn error_source(frame: &Frame, host: &HostModel, iif: Option<usize>) -> Option<IpAddr> {
    let dst = frame.network?.dst?;
    if host.is_local(dst) {
        return Some(dst);
    }
    host.iface_addr(iif?, dst)
}

fn is_icmp_error(buf: &[u8], frame: &Frame, proto: u8) -> bool {
    frame
        .transport
        .filter(|t| t.protocol == proto)
        .and_then(|t| buf.get(t.offset).copied())
        .is_some_and(|ty| if proto == 1 { matches!(ty, 3 | 4 | 5 | 11 | 12) } else { ty < 128 })
}

fn icmp4(buf: &[u8], frame: &Frame, host: &HostModel, iif: Option<usize>, ty: u8, code: u8) -> Option<Vec<u8>> {
    let net = frame.network?;
    if is_icmp_error(buf, frame, 1) {
        return None;
    }
    let src = v4(error_source(frame, host, iif)?)?;
    let dst = v4(net.src?)?;
    let orig = buf.get(net.offset..net.end)?;
    let quote = &orig[..orig.len().min(ICMP_MAX - 20 - 8)];
    let mut icmp = vec![ty, code, 0, 0, 0, 0, 0, 0];
    icmp.extend_from_slice(quote);
    let c = checksum::checksum(&icmp);
    icmp[2..4].copy_from_slice(&c.to_be_bytes());
    let tos = (orig[1] & 0x1e) | TOS_INTERNETCONTROL;
    let mut out = Vec::new();
    link_header(&mut out, frame, 0x0800);
    ipv4_header(&mut out, tos, 20 + icmp.len(), false, 1, src, dst);
    out.extend_from_slice(&icmp);
    Some(out)
}

fn icmp6(buf: &[u8], frame: &Frame, host: &HostModel, iif: Option<usize>, ty: u8, code: u8) -> Option<Vec<u8>> {
    let net = frame.network?;
    if is_icmp_error(buf, frame, 58) {
        return None;
    }
    let src = error_source(frame, host, iif)?;
    let dst = net.src?;
    let orig = buf.get(net.offset..net.end)?;
    let quote = &orig[..orig.len().min(ICMPV6_MAX - 40 - 8)];
    let mut icmp = vec![ty, code, 0, 0, 0, 0, 0, 0];
    icmp.extend_from_slice(quote);
    let c = checksum::transport_checksum(src, dst, 58, &icmp);
    icmp[2..4].copy_from_slice(&c.to_be_bytes());
    let mut out = Vec::new();
    link_header(&mut out, frame, 0x86dd);
    ipv6_header(&mut out, icmp.len(), 58, v6(src)?, v6(dst)?);
    out.extend_from_slice(&icmp);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ctc_wire::parse_frame;

    /// 192.0.2.2:40000 → 203.0.113.47:22 SYN, Ethernet.
    fn syn() -> Vec<u8> {
        let mut f = vec![2, 0, 0, 0, 2, 1, 2, 0, 0, 0, 2, 2, 0x08, 0x00];
        let mut ip = vec![0x45, 0, 0, 40, 0x12, 0x34, 0x40, 0, 64, 6, 0, 0, 192, 0, 2, 2, 203, 0, 113, 47];
        let c = checksum::checksum(&ip);
        ip[10..12].copy_from_slice(&c.to_be_bytes());
        let mut tcp = vec![0x9c, 0x40, 0, 22, 0, 0, 0x10, 0, 0, 0, 0, 0, 0x50, 0x02, 0xff, 0xff, 0, 0, 0, 0];
        let c = checksum::transport_checksum("192.0.2.2".parse().unwrap(), "203.0.113.47".parse().unwrap(), 6, &tcp);
        tcp[16..18].copy_from_slice(&c.to_be_bytes());
        f.extend(ip);
        f.extend(tcp);
        f
    }

    fn host() -> HostModel {
        let mut h = HostModel::default();
        h.add_iface("gw-cli=192.0.2.1/24").unwrap();
        h.add_iface("gw-pub=198.51.100.32/24").unwrap();
        h
    }

    #[test]
    fn tcp_reset_answers_a_syn() {
        let f = syn();
        let parsed = parse_frame(&f);
        let r = build(Reject::TcpReset, &f, &parsed, &host(), Some(0)).unwrap();
        let p = parse_frame(&r);
        assert!(p.malformed.is_none());
        assert_eq!(&r[0..6], &f[6..12], "back to the sender's MAC");
        assert_eq!(p.network.unwrap().src, Some("203.0.113.47".parse().unwrap()));
        let t = p.transport.unwrap();
        assert_eq!(&r[t.offset..t.offset + 4], &[0, 22, 0x9c, 0x40]);
        assert_eq!(r[t.offset + 13], 0x14, "RST|ACK");
        assert_eq!(&r[t.offset + 8..t.offset + 12], &[0, 0, 0x10, 1], "acks seq+1");
        assert!(p.l4_checksum_ok(&r).unwrap());
        assert!(build(Reject::TcpReset, &r, &p, &host(), Some(0)).is_none(), "no reset for a reset");
    }

    #[test]
    fn icmp_port_unreachable_quotes_the_packet() {
        let f = syn();
        let parsed = parse_frame(&f);
        let r = build(Reject::Icmp(3), &f, &parsed, &host(), Some(0)).unwrap();
        let p = parse_frame(&r);
        assert!(p.malformed.is_none(), "{:?}", p.malformed);
        assert_eq!(p.network.unwrap().src, Some("192.0.2.1".parse().unwrap()), "from the input interface");
        let t = p.transport.unwrap();
        assert_eq!(&r[t.offset..t.offset + 2], &[3, 3]);
        assert_eq!(&r[t.offset + 8..], &f[14..]);
        assert!(p.inner.is_some());
        assert!(build(Reject::Icmp(3), &r, &p, &host(), Some(0)).is_none(), "no error about an error");
    }
}
