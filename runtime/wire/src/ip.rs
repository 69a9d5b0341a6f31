//! Protocol numbers shared by IPv4 and IPv6 (IANA "Assigned Internet
//! Protocol Numbers"; RFC 8200 §4 for the extension headers).

enum_with_unknown! {
    /// An IP protocol / IPv6 next-header number.
    pub enum IpProtocol(u8) {
        /// IPv6 hop-by-hop options (RFC 8200 §4.3).
        HopByHop = 0, "hop-by-hop",
        /// ICMP (RFC 792).
        Icmp = 1, "icmp",
        /// IGMP.
        Igmp = 2, "igmp",
        /// TCP (RFC 9293).
        Tcp = 6, "tcp",
        /// UDP (RFC 768).
        Udp = 17, "udp",
        /// IPv6 routing header (RFC 8200 §4.4).
        Ipv6Route = 43, "routing",
        /// IPv6 fragment header (RFC 8200 §4.5).
        Ipv6Frag = 44, "fragment",
        /// GRE.
        Gre = 47, "gre",
        /// ESP (RFC 4303).
        Esp = 50, "esp",
        /// AH (RFC 4302).
        Ah = 51, "ah",
        /// ICMPv6 (RFC 4443).
        Icmpv6 = 58, "icmpv6",
        /// IPv6 "no next header" (RFC 8200 §4.7).
        Ipv6NoNxt = 59, "no-next-header",
        /// IPv6 destination options (RFC 8200 §4.6).
        Ipv6Opts = 60, "dst-options",
        /// SCTP.
        Sctp = 132, "sctp",
        /// UDP-Lite.
        UdpLite = 136, "udplite",
    }
}

/// The netfilter family numbers the packet VM uses for `meta nfproto`
/// (`NFPROTO_IPV4 = 2`, `NFPROTO_IPV6 = 10` in `linux/netfilter.h`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum NfProto {
    /// IPv4.
    Ipv4 = 2,
    /// IPv6.
    Ipv6 = 10,
}
