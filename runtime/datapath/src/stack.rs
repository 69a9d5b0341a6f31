//! What the host's own network stack answers to packets the input chains
//! accepted. Only ICMP and ICMPv6 echo are answered (icmp_echo /
//! icmpv6_echo_reply): the replay has no sockets, so the host's TCP and UDP
//! ports are closed and unobservable beyond what the chains saw.

use ctc_wire::checksum;
use ctc_wire::{Frame, NetworkKind};

/// The kernel's TTL / hop limit for its own packets.
const DEFAULT_TTL: u8 = 64;

/// The echo reply the host sends for an echo request addressed to it, or
/// `None` when the packet is not one (or must not be answered: broadcast and
/// multicast echoes, net.ipv4.icmp_echo_ignore_broadcasts=1).
pub fn echo_reply(buf: &[u8], frame: &Frame, to_host_unicast: bool) -> Option<Vec<u8>> {
    let net = frame.network?;
    let t = frame.transport?;
    if !to_host_unicast || frame.fragment().is_some() {
        return None;
    }
    let (src, dst) = (net.src?, net.dst?);
    let icmp = buf.get(t.offset..net.end)?;
    let (want, reply_type, proto) = match net.kind {
        NetworkKind::Ipv4 => (8u8, 0u8, 1u8),
        NetworkKind::Ipv6 => (128, 129, 58),
        _ => return None,
    };
    if t.protocol != proto || icmp.len() < 8 || icmp[0] != want || icmp[1] != 0 {
        return None;
    }
    let mut body = icmp.to_vec();
    body[0] = reply_type;
    body[2..4].copy_from_slice(&[0, 0]);
    let c = if proto == 1 { checksum::checksum(&body) } else { checksum::transport_checksum(dst, src, 58, &body) };
    body[2..4].copy_from_slice(&c.to_be_bytes());
    let mut out = Vec::with_capacity(14 + 40 + body.len());
    if let Some(l) = frame.link {
        out.extend_from_slice(&l.src.0);
        out.extend_from_slice(&l.dst.0);
        out.extend_from_slice(&(if proto == 1 { 0x0800u16 } else { 0x86dd }).to_be_bytes());
    }
    match (src, dst) {
        (std::net::IpAddr::V4(s), std::net::IpAddr::V4(d)) => {
            let start = out.len();
            let tos = buf.get(net.offset + 1).copied().unwrap_or(0);
            out.extend_from_slice(&[0x45, tos]);
            out.extend_from_slice(&((20 + body.len()) as u16).to_be_bytes());
            out.extend_from_slice(&[0, 0, 0, 0, DEFAULT_TTL, 1, 0, 0]);
            out.extend_from_slice(&d.octets());
            out.extend_from_slice(&s.octets());
            let c = checksum::checksum(&out[start..start + 20]);
            out[start + 10..start + 12].copy_from_slice(&c.to_be_bytes());
        }
        (std::net::IpAddr::V6(s), std::net::IpAddr::V6(d)) => {
            out.extend_from_slice(&[0x60, 0, 0, 0]);
            out.extend_from_slice(&(body.len() as u16).to_be_bytes());
            out.extend_from_slice(&[58, DEFAULT_TTL]);
            out.extend_from_slice(&d.octets());
            out.extend_from_slice(&s.octets());
        }
        _ => return None,
    }
    out.extend_from_slice(&body);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_an_echo_request_with_the_same_id_sequence_and_data() {
        let mut f = vec![2, 0, 0, 0, 2, 1, 2, 0, 0, 0, 2, 2, 0x08, 0x00];
        let mut ip = vec![0x45, 0, 0, 36, 0, 7, 0x40, 0, 64, 1, 0, 0, 192, 0, 2, 2, 192, 0, 2, 1];
        let c = checksum::checksum(&ip);
        ip[10..12].copy_from_slice(&c.to_be_bytes());
        let mut icmp = vec![8, 0, 0, 0, 0x12, 0x34, 0, 1, b'p', b'i', b'n', b'g', b'!', b'!', b'!', b'!'];
        let c = checksum::checksum(&icmp);
        icmp[2..4].copy_from_slice(&c.to_be_bytes());
        f.extend(ip);
        f.extend(icmp);
        let parsed = ctc_wire::parse_frame(&f);
        let r = echo_reply(&f, &parsed, true).unwrap();
        let p = ctc_wire::parse_frame(&r);
        assert!(p.malformed.is_none(), "{:?}", p.malformed);
        assert_eq!(p.network.unwrap().src, Some("192.0.2.1".parse().unwrap()));
        let t = p.transport.unwrap();
        assert_eq!(r[t.offset], 0, "echo reply");
        assert_eq!(&r[t.offset + 4..], &f[14 + 20 + 4..], "same id, sequence and data");
        assert_eq!(checksum::checksum(&r[t.offset..]), 0);
        assert!(echo_reply(&f, &parsed, false).is_none(), "broadcast echoes are ignored");
        assert!(echo_reply(&r, &p, true).is_none(), "a reply is not answered");
    }
}
