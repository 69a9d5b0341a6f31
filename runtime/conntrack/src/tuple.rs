//! Connection tuples (struct nf_conntrack_tuple) and their inversion
//! (nf_ct_invert_tuple, nf_conntrack_invert_icmp{,v6}_tuple).

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// NFPROTO_IPV4.
pub const L3_IPV4: u8 = 2;
/// NFPROTO_IPV6.
pub const L3_IPV6: u8 = 10;

/// One direction of a connection as the kernel keys it: l3 family,
/// addresses, l4 protocol and the l4 "ports". For ICMP/ICMPv6 the kernel
/// keeps the echo identifier as the source "port" (`src.u.icmp.id`) and the
/// type and code in the destination "port" (`dst.u.icmp.type/code`); here
/// `dst_port` is `type << 8 | code`. Protocols without ports (generic
/// tracking) have both ports 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct Tuple {
    /// Source address; an IPv4 address fills the first 4 bytes, the rest
    /// are zero (the kernel's `union nf_inet_addr`).
    pub src: [u8; 16],
    /// Destination address, as `src`.
    pub dst: [u8; 16],
    /// Source port; ICMP/ICMPv6: the identifier.
    pub src_port: u16,
    /// Destination port; ICMP/ICMPv6: `type << 8 | code`.
    pub dst_port: u16,
    /// NFPROTO_IPV4 (2) or NFPROTO_IPV6 (10).
    pub l3: u8,
    /// IP protocol number.
    pub proto: u8,
}

/// ICMP types with a request/reply counterpart: `invmap` of
/// nf_conntrack_proto_icmp.c (echo, timestamp, info, address mask).
fn icmp_invert_type(t: u8) -> Option<u8> {
    Some(match t {
        8 => 0,
        0 => 8,
        13 => 14,
        14 => 13,
        15 => 16,
        16 => 15,
        17 => 18,
        18 => 17,
        _ => return None,
    })
}

/// ICMPv6 types with a counterpart: `invmap` of nf_conntrack_proto_icmpv6.c
/// (echo request/reply, node information query/reply).
fn icmpv6_invert_type(t: u8) -> Option<u8> {
    Some(match t {
        128 => 129,
        129 => 128,
        139 => 140,
        140 => 139,
        _ => return None,
    })
}

/// An address as a tuple holds it (IPv4 in the first four bytes).
pub(crate) fn addr_bytes(a: IpAddr) -> [u8; 16] {
    let mut b = [0u8; 16];
    match a {
        IpAddr::V4(v4) => b[..4].copy_from_slice(&v4.octets()),
        IpAddr::V6(v6) => b = v6.octets(),
    }
    b
}

impl Tuple {
    /// A tuple from addresses, protocol and ports (the l3 family follows
    /// the address type of `src`).
    pub fn new(src: IpAddr, dst: IpAddr, proto: u8, src_port: u16, dst_port: u16) -> Tuple {
        Tuple {
            src: addr_bytes(src),
            dst: addr_bytes(dst),
            src_port,
            dst_port,
            l3: if src.is_ipv4() { L3_IPV4 } else { L3_IPV6 },
            proto,
        }
    }

    /// An ICMP/ICMPv6 tuple (the protocol follows the address family).
    pub fn icmp(src: IpAddr, dst: IpAddr, icmp_type: u8, code: u8, id: u16) -> Tuple {
        let proto = if src.is_ipv4() { 1 } else { 58 };
        Tuple::new(src, dst, proto, id, u16::from(icmp_type) << 8 | u16::from(code))
    }

    fn addr(&self, b: &[u8; 16]) -> IpAddr {
        if self.l3 == L3_IPV4 {
            IpAddr::V4(Ipv4Addr::new(b[0], b[1], b[2], b[3]))
        } else {
            IpAddr::V6(Ipv6Addr::from(*b))
        }
    }

    /// Source address.
    pub fn src_addr(&self) -> IpAddr {
        self.addr(&self.src)
    }

    /// Destination address.
    pub fn dst_addr(&self) -> IpAddr {
        self.addr(&self.dst)
    }

    /// True for ICMP (over IPv4) and ICMPv6 (over IPv6) tuples.
    pub fn is_icmp(&self) -> bool {
        (self.proto == 1 && self.l3 == L3_IPV4) || (self.proto == 58 && self.l3 == L3_IPV6)
    }

    /// True when the protocol keys on ports (TCP, UDP, UDP-Lite, SCTP,
    /// DCCP: nf_ct_get_tuple_ports).
    pub fn has_ports(&self) -> bool {
        matches!(self.proto, 6 | 17 | 136 | 132 | 33)
    }

    /// ICMP type (`dst.u.icmp.type`).
    pub fn icmp_type(&self) -> u8 {
        (self.dst_port >> 8) as u8
    }

    /// ICMP code (`dst.u.icmp.code`).
    pub fn icmp_code(&self) -> u8 {
        self.dst_port as u8
    }

    /// ICMP identifier (`src.u.icmp.id`).
    pub fn icmp_id(&self) -> u16 {
        self.src_port
    }

    /// nf_ct_invert_tuple: the tuple of the other direction. Addresses and
    /// ports swap; ICMP keeps the id and maps the type to its reply (or
    /// request); `None` for an ICMP type without a counterpart (the kernel
    /// then creates no entry).
    pub fn invert(&self) -> Option<Tuple> {
        let mut t = Tuple { src: self.dst, dst: self.src, l3: self.l3, proto: self.proto, ..Tuple::default() };
        if self.proto == 1 || self.proto == 58 {
            // The kernel dispatches on the protocol number alone: ICMP (1)
            // inside IPv6 is inverted with the IPv4 table and vice versa.
            let ty = if self.proto == 1 {
                icmp_invert_type(self.icmp_type())?
            } else {
                icmpv6_invert_type(self.icmp_type())?
            };
            t.src_port = self.src_port;
            t.dst_port = u16::from(ty) << 8 | u16::from(self.icmp_code());
        } else {
            t.src_port = self.dst_port;
            t.dst_port = self.src_port;
        }
        Some(t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v4(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn ports_swap_on_inversion() {
        let t = Tuple::new(v4("192.0.2.2"), v4("203.0.113.47"), 17, 40201, 5300);
        let r = t.invert().unwrap();
        assert_eq!(r.src_addr(), v4("203.0.113.47"));
        assert_eq!(r.dst_addr(), v4("192.0.2.2"));
        assert_eq!((r.src_port, r.dst_port), (5300, 40201));
        assert_eq!(r.invert().unwrap(), t);
        assert_eq!(&t.src[4..], &[0u8; 12]);
    }

    #[test]
    fn icmp_echo_inverts_to_reply_and_keeps_id() {
        let t = Tuple::icmp(v4("192.0.2.2"), v4("203.0.113.47"), 8, 0, 4660);
        let r = t.invert().unwrap();
        assert_eq!((r.icmp_type(), r.icmp_code(), r.icmp_id()), (0, 0, 4660));
        assert_eq!(r.invert().unwrap(), t);
        for (req, rep) in [(13, 14), (15, 16), (17, 18)] {
            let t = Tuple::icmp(v4("192.0.2.2"), v4("192.0.2.1"), req, 0, 1);
            assert_eq!(t.invert().unwrap().icmp_type(), rep);
        }
        // Errors and unknown types have no counterpart.
        for ty in [3, 5, 11, 9, 10, 42] {
            assert!(Tuple::icmp(v4("192.0.2.2"), v4("192.0.2.1"), ty, 0, 0).invert().is_none());
        }
    }

    #[test]
    fn icmpv6_inversion() {
        let a: IpAddr = "2001:db8::1".parse().unwrap();
        let b: IpAddr = "2001:db8::2".parse().unwrap();
        let t = Tuple::icmp(a, b, 128, 0, 7);
        assert_eq!(t.proto, 58);
        assert_eq!(t.l3, L3_IPV6);
        assert_eq!(t.invert().unwrap().icmp_type(), 129);
        assert_eq!(Tuple::icmp(a, b, 139, 0, 7).invert().unwrap().icmp_type(), 140);
        assert!(Tuple::icmp(a, b, 135, 0, 0).invert().is_none());
        assert!(Tuple::icmp(a, b, 1, 4, 0).invert().is_none());
    }
}
