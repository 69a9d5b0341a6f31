//! Protocol header fields (doc/payload-expression.txt): for every protocol nft
//! knows, its base (link, network, transport, inner), its fields with bit
//! offset, width and type, and the dependency it implies (`tcp dport` implies
//! `meta l4proto tcp`).

use crate::types::Ty;

/// Where a header sits; the kernel's payload base.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Base {
    /// Link layer (`ether`, `vlan`, `arp` in bridge/netdev).
    Link,
    /// Network header (`ip`, `ip6`, `arp`).
    Network,
    /// Transport header (`tcp`, `udp`, `icmp`, ...).
    Transport,
    /// Start of the transport payload: the tunnel headers carried in UDP
    /// (`vxlan`, `geneve`). `gre`/`gretap` sit at the transport base; what
    /// follows any tunnel keyword (`gre ip saddr`) is the inner packet.
    Inner,
}

/// The network layer protocol a header needs underneath it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum L3 {
    Ipv4,
    Ipv6,
    Arp,
    /// Either IPv4 or IPv6 (transport headers).
    Any,
}

/// What using a header implies (and what conflicts with it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dep {
    pub l3: Option<L3>,
    /// Required layer 4 protocol number (`meta l4proto`).
    pub l4proto: Option<u8>,
    /// Required ethertype at the link layer (bridge/netdev families).
    pub ethertype: Option<u16>,
    /// Tunnels carried in UDP need a destination port (vxlan 4789, geneve 6081).
    pub udp_dport: Option<u16>,
}

/// One header field.
#[derive(Debug)]
pub struct Field {
    pub name: &'static str,
    /// Offset from the start of the header, in bits.
    pub offset: u32,
    /// Width in bits.
    pub bits: u32,
    pub ty: Ty,
}

/// One protocol header.
#[derive(Debug)]
pub struct Proto {
    pub name: &'static str,
    pub base: Base,
    pub dep: Dep,
    pub fields: &'static [Field],
}

impl Proto {
    pub fn field(&self, name: &str) -> Option<&'static Field> {
        self.fields.iter().find(|f| f.name == name)
    }
}

/// Shorthand for a field row.
const fn f(name: &'static str, offset: u32, bits: u32, ty: Ty) -> Field {
    Field { name, offset, bits, ty }
}

const NO_DEP: Dep = Dep { l3: None, l4proto: None, ethertype: None, udp_dport: None };

/// A network header: needs that L3, and at the link layer (bridge, netdev)
/// that ethertype.
const fn l3(l3: L3, ethertype: u16) -> Dep {
    Dep { l3: Some(l3), l4proto: None, ethertype: Some(ethertype), udp_dport: None }
}

/// A transport header: needs that L3 and `meta l4proto NUM`.
const fn l4(l3: L3, proto: u8) -> Dep {
    Dep { l3: Some(l3), l4proto: Some(proto), ethertype: None, udp_dport: None }
}

/// A tunnel carried in UDP on a well-known port. nft does not invent this
/// dependency: `vxlan vni 10` alone is rejected, the rule must itself match
/// `udp dport 4789` first (tests/py/inet/vxlan.t). Sema checks the context.
const fn udp_tunnel(port: u16) -> Dep {
    Dep { l3: Some(L3::Any), l4proto: Some(17), ethertype: None, udp_dport: Some(port) }
}

use Ty::Integer as Int;

// Header layouts. Offsets are bits from the start of the header; fields are
// big-endian as on the wire. Cited: the RFC of each header.

/// Ethernet II (IEEE 802.3): usable in bridge and netdev, or in ip/ip6/inet
/// input paths where nft adds `meta iiftype ether`.
static ETHER: &[Field] =
    &[f("daddr", 0, 48, Ty::EtherAddr), f("saddr", 48, 48, Ty::EtherAddr), f("type", 96, 16, Ty::EtherType)];

/// IEEE 802.1Q tag as nft models it: the header starts *after* the Ethernet
/// header's type field (which holds the TPID 0x8100), i.e. 14 bytes into the
/// frame ([`link_offset`]), and is TCI (PCP 3, DEI 1, VID 12) followed by the
/// encapsulated ethertype. So `vlan id` is bits 4..16 of that header, loaded
/// by nft as `payload @ link header + 14` masked with 0x0fff.
static VLAN: &[Field] = &[
    f("pcp", 0, 3, Int),
    f("dei", 3, 1, Int),
    // Old name of dei (Canonical Format Indicator), same bit.
    f("cfi", 3, 1, Int),
    f("id", 4, 12, Ty::VlanId),
    f("type", 16, 16, Ty::EtherType),
];

/// ARP for Ethernet/IPv4 (RFC 826). The address fields sit at fixed offsets
/// only for hlen 6 / plen 4, which is what nft assumes. Two-word field names
/// are stored with a space: `arp saddr ip` is field "saddr ip".
static ARP: &[Field] = &[
    f("htype", 0, 16, Int),
    f("ptype", 16, 16, Ty::EtherType),
    f("hlen", 32, 8, Int),
    f("plen", 40, 8, Int),
    f("operation", 48, 16, Ty::ArpOp),
    f("saddr ether", 64, 48, Ty::EtherAddr),
    f("saddr ip", 112, 32, Ty::Ipv4Addr),
    f("daddr ether", 144, 48, Ty::EtherAddr),
    f("daddr ip", 192, 32, Ty::Ipv4Addr),
];

/// IPv4 (RFC 791; DSCP/ECN split of the TOS byte per RFC 2474/3168).
static IP: &[Field] = &[
    f("version", 0, 4, Int),
    // In 32-bit words (IHL).
    f("hdrlength", 4, 4, Int),
    f("dscp", 8, 6, Ty::Dscp),
    f("ecn", 14, 2, Ty::Ecn),
    f("length", 16, 16, Int),
    f("id", 32, 16, Int),
    // Whole 16 bits: flags (3) + fragment offset (13), as nft loads it.
    f("frag-off", 48, 16, Int),
    f("ttl", 64, 8, Int),
    f("protocol", 72, 8, Ty::InetProto),
    f("checksum", 80, 16, Int),
    f("saddr", 96, 32, Ty::Ipv4Addr),
    f("daddr", 128, 32, Ty::Ipv4Addr),
];

/// ICMP (RFC 792). id/sequence only mean something for echo and timestamp,
/// gateway for redirect, mtu for frag-needed (RFC 1191); nft adds a `type`
/// dependency for them.
static ICMP: &[Field] = &[
    f("type", 0, 8, Ty::IcmpType),
    f("code", 8, 8, Ty::IcmpCode),
    f("checksum", 16, 16, Int),
    f("id", 32, 16, Int),
    f("sequence", 48, 16, Int),
    f("gateway", 32, 32, Int),
    // Next-hop MTU: the low 16 bits of the second word.
    f("mtu", 48, 16, Int),
];

/// IGMP (RFC 2236).
static IGMP: &[Field] = &[
    f("type", 0, 8, Ty::IgmpType),
    // Max response time.
    f("mrt", 8, 8, Int),
    f("checksum", 16, 16, Int),
    f("group", 32, 32, Int),
];

/// IPv6 (RFC 8200); traffic class split into DSCP and ECN.
static IP6: &[Field] = &[
    f("version", 0, 4, Int),
    f("dscp", 4, 6, Ty::Dscp),
    f("ecn", 10, 2, Ty::Ecn),
    f("flowlabel", 12, 20, Int),
    // Payload length (without the fixed 40-byte header).
    f("length", 32, 16, Int),
    f("nexthdr", 48, 8, Ty::InetProto),
    f("hoplimit", 56, 8, Int),
    f("saddr", 64, 128, Ty::Ipv6Addr),
    f("daddr", 192, 128, Ty::Ipv6Addr),
];

/// ICMPv6 (RFC 4443, ND per RFC 4861, MLD per RFC 2710).
static ICMPV6: &[Field] = &[
    f("type", 0, 8, Ty::Icmpv6Type),
    f("code", 8, 8, Ty::Icmpv6Code),
    f("checksum", 16, 16, Int),
    // Pointer of a parameter-problem message.
    f("parameter-problem", 32, 32, Int),
    // MTU of a packet-too-big message; nft prints it as `mtu`.
    f("mtu", 32, 32, Int),
    f("packet-too-big", 32, 32, Int),
    f("id", 32, 16, Int),
    f("sequence", 48, 16, Int),
    // Maximum response delay of an MLD query.
    f("max-delay", 32, 16, Int),
    // ND target address (after 4 reserved bytes) of NS/NA/redirect.
    f("taddr", 64, 128, Ty::Ipv6Addr),
    // Destination address of an ND redirect (after the target).
    f("daddr", 192, 128, Ty::Ipv6Addr),
];

/// TCP (RFC 9293; ECE/CWR per RFC 3168).
static TCP: &[Field] = &[
    f("sport", 0, 16, Ty::InetService),
    f("dport", 16, 16, Ty::InetService),
    f("sequence", 32, 32, Int),
    f("ackseq", 64, 32, Int),
    // Data offset in 32-bit words.
    f("doff", 96, 4, Int),
    f("reserved", 100, 4, Int),
    f("flags", 104, 8, Ty::TcpFlag),
    f("window", 112, 16, Int),
    f("checksum", 128, 16, Int),
    f("urgptr", 144, 16, Int),
];

/// UDP (RFC 768).
static UDP: &[Field] = &[
    f("sport", 0, 16, Ty::InetService),
    f("dport", 16, 16, Ty::InetService),
    f("length", 32, 16, Int),
    f("checksum", 48, 16, Int),
];

/// UDP-Lite (RFC 3828): the length field is the checksum coverage.
static UDPLITE: &[Field] = &[
    f("sport", 0, 16, Ty::InetService),
    f("dport", 16, 16, Ty::InetService),
    f("csumcov", 32, 16, Int),
    f("checksum", 48, 16, Int),
];

/// SCTP common header (RFC 9260 section 3.1); chunks are [`SCTP_CHUNKS`].
static SCTP: &[Field] = &[
    f("sport", 0, 16, Ty::InetService),
    f("dport", 16, 16, Ty::InetService),
    f("vtag", 32, 32, Int),
    // CRC32c.
    f("checksum", 64, 32, Int),
];

/// DCCP generic header (RFC 4340 section 5.1): the type is 4 bits of byte 8
/// after 3 reserved bits.
static DCCP: &[Field] =
    &[f("sport", 0, 16, Ty::InetService), f("dport", 16, 16, Ty::InetService), f("type", 67, 4, Ty::DccpPktType)];

/// IPsec AH (RFC 4302).
static AH: &[Field] = &[
    f("nexthdr", 0, 8, Ty::InetProto),
    f("hdrlength", 8, 8, Int),
    f("reserved", 16, 16, Int),
    f("spi", 32, 32, Int),
    f("sequence", 64, 32, Int),
];

/// IPsec ESP (RFC 4303): only the clear-text part.
static ESP: &[Field] = &[f("spi", 0, 32, Int), f("sequence", 32, 32, Int)];

/// IPComp (RFC 3173).
static COMP: &[Field] = &[f("nexthdr", 0, 8, Ty::InetProto), f("flags", 8, 8, Int), f("cpi", 16, 16, Int)];

/// `th`: the ports every port-carrying transport (tcp, udp, udplite, sctp,
/// dccp) has at the same place. Needs a transport protocol but not a
/// particular one; nft adds `meta l4proto { tcp, udp, udplite, sctp, dccp }`
/// only when the context does not already say.
static TH: &[Field] = &[f("sport", 0, 16, Ty::InetService), f("dport", 16, 16, Ty::InetService)];

/// GRE (RFC 2784, 2890): C/R/K/S/s flag bits, version, protocol type.
static GRE: &[Field] = &[f("flags", 0, 5, Int), f("version", 13, 3, Int), f("protocol", 16, 16, Ty::EtherType)];

/// VXLAN (RFC 7348), at the start of the UDP payload.
static VXLAN: &[Field] = &[f("flags", 0, 8, Int), f("vni", 32, 24, Int)];

/// Geneve (RFC 8926), at the start of the UDP payload. nft names only the
/// protocol type and the VNI (version, option length and the O/C bits have
/// no field).
static GENEVE: &[Field] = &[f("type", 16, 16, Ty::EtherType), f("vni", 32, 24, Int)];

/// Protocol headers usable as `PROTO FIELD`.
///
/// Tunnel rows (gre, gretap, vxlan, geneve) may be followed by an inner
/// `ether`/`vlan`/`ip`/`ip6`/transport expression (`vxlan ip saddr`), which
/// uses the rows of this same table relative to the inner packet (gre carries
/// no inner link layer: `gre ether saddr` is rejected by nft).
pub static PROTOCOLS: &[Proto] = &[
    Proto { name: "ether", base: Base::Link, dep: NO_DEP, fields: ETHER },
    // 8021q; an 802.1ad outer tag (0x88a8) is accepted by nft as well.
    Proto { name: "vlan", base: Base::Link, dep: Dep { ethertype: Some(0x8100), ..NO_DEP }, fields: VLAN },
    Proto { name: "arp", base: Base::Network, dep: l3(L3::Arp, 0x0806), fields: ARP },
    Proto { name: "ip", base: Base::Network, dep: l3(L3::Ipv4, 0x0800), fields: IP },
    Proto { name: "ip6", base: Base::Network, dep: l3(L3::Ipv6, 0x86dd), fields: IP6 },
    Proto { name: "icmp", base: Base::Transport, dep: l4(L3::Ipv4, 1), fields: ICMP },
    Proto { name: "igmp", base: Base::Transport, dep: l4(L3::Ipv4, 2), fields: IGMP },
    Proto { name: "icmpv6", base: Base::Transport, dep: l4(L3::Ipv6, 58), fields: ICMPV6 },
    Proto { name: "tcp", base: Base::Transport, dep: l4(L3::Any, 6), fields: TCP },
    Proto { name: "udp", base: Base::Transport, dep: l4(L3::Any, 17), fields: UDP },
    Proto { name: "udplite", base: Base::Transport, dep: l4(L3::Any, 136), fields: UDPLITE },
    Proto { name: "sctp", base: Base::Transport, dep: l4(L3::Any, 132), fields: SCTP },
    Proto { name: "dccp", base: Base::Transport, dep: l4(L3::Any, 33), fields: DCCP },
    Proto { name: "ah", base: Base::Transport, dep: l4(L3::Any, 51), fields: AH },
    Proto { name: "esp", base: Base::Transport, dep: l4(L3::Any, 50), fields: ESP },
    Proto { name: "comp", base: Base::Transport, dep: l4(L3::Any, 108), fields: COMP },
    // Any port-carrying transport: l4proto left open (see TH).
    Proto { name: "th", base: Base::Transport, dep: Dep { l3: Some(L3::Any), ..NO_DEP }, fields: TH },
    // GRE's own header is at the transport base (nft: PROTO_BASE_TRANSPORT_HDR);
    // what follows `gre` (`gre ip saddr`) is the inner packet.
    Proto { name: "gre", base: Base::Transport, dep: l4(L3::Any, 47), fields: GRE },
    // Ethernet over GRE: no fields of its own, only `gretap ether ...` etc.;
    // like gre, nft puts it at the transport base.
    Proto { name: "gretap", base: Base::Transport, dep: l4(L3::Any, 47), fields: &[] },
    Proto { name: "vxlan", base: Base::Inner, dep: udp_tunnel(4789), fields: VXLAN },
    Proto { name: "geneve", base: Base::Inner, dep: udp_tunnel(6081), fields: GENEVE },
];

/// Where a link-layer header starts, in bits from the start of the frame
/// (nft's `link header + N`): Ethernet at 0, the first 802.1Q tag right
/// after the 14-byte Ethernet header. `None` for headers at other bases.
pub fn link_offset(proto: &str) -> Option<u32> {
    match proto {
        "ether" => Some(0),
        // After daddr, saddr and the TPID in ether's type field.
        "vlan" => Some(14 * 8),
        _ => None,
    }
}

/// Protocols that carry ports at offsets 0 and 16 (`th sport`/`th dport`),
/// with their l4proto numbers: tcp, udp, udplite, sctp, dccp.
pub static PORT_PROTOCOLS: &[(&str, u8)] = &[("tcp", 6), ("udp", 17), ("udplite", 136), ("sctp", 132), ("dccp", 33)];

/// Fields of an IPv6 hop-by-hop or destination options header (RFC 8200 4.3/4.6).
static EXT_OPTS: &[Field] = &[f("nexthdr", 0, 8, Ty::InetProto), f("hdrlength", 8, 8, Int)];

/// Generic routing header (RFC 8200 section 4.4).
static EXT_RT: &[Field] =
    &[f("nexthdr", 0, 8, Ty::InetProto), f("hdrlength", 8, 8, Int), f("type", 16, 8, Int), f("seg-left", 24, 8, Int)];

/// Type 0 routing header (RFC 2460, deprecated by RFC 5095): the common part,
/// a reserved word, then addresses. nft writes the addresses `addr[N]`,
/// N counting from 1.
static EXT_RT0: &[Field] = &[
    f("nexthdr", 0, 8, Ty::InetProto),
    f("hdrlength", 8, 8, Int),
    f("type", 16, 8, Int),
    f("seg-left", 24, 8, Int),
    f("reserved", 32, 32, Int),
    f("addr[1]", 64, 128, Ty::Ipv6Addr),
];

/// Type 2 routing header (RFC 6275 section 6.4): one home address.
static EXT_RT2: &[Field] = &[
    f("nexthdr", 0, 8, Ty::InetProto),
    f("hdrlength", 8, 8, Int),
    f("type", 16, 8, Int),
    f("seg-left", 24, 8, Int),
    f("reserved", 32, 32, Int),
    f("addr", 64, 128, Ty::Ipv6Addr),
];

/// Segment routing header (RFC 8754 section 2): segments `sid[N]`, N from 1.
static EXT_SRH: &[Field] = &[
    f("nexthdr", 0, 8, Ty::InetProto),
    f("hdrlength", 8, 8, Int),
    f("type", 16, 8, Int),
    f("seg-left", 24, 8, Int),
    f("last-entry", 32, 8, Int),
    f("flags", 40, 8, Int),
    f("tag", 48, 16, Int),
    f("sid[1]", 64, 128, Ty::Ipv6Addr),
];

/// Fragment header (RFC 8200 section 4.5).
static EXT_FRAG: &[Field] = &[
    f("nexthdr", 0, 8, Ty::InetProto),
    f("reserved", 8, 8, Int),
    // 13-bit offset in 8-byte units.
    f("frag-off", 16, 13, Int),
    f("reserved2", 29, 2, Int),
    f("more-fragments", 31, 1, Int),
    f("id", 32, 32, Int),
];

/// Mobility header (RFC 6275 section 6.1.1).
static EXT_MH: &[Field] = &[
    f("nexthdr", 0, 8, Ty::InetProto),
    f("hdrlength", 8, 8, Int),
    f("type", 16, 8, Ty::MhType),
    f("reserved", 24, 8, Int),
    f("checksum", 32, 16, Int),
];

const fn ip6_ext() -> Dep {
    Dep { l3: Some(L3::Ipv6), l4proto: None, ethertype: None, udp_dport: None }
}

/// IPv6 extension headers (`exthdr NAME FIELD`, `NAME FIELD` for frag/hbh/...).
///
/// Found by walking the extension header chain (kernel `ipv6_find_hdr`), so
/// the only dependency is IPv6. rt0/rt2/srh are routing headers of type
/// 0/2/4: nft adds `rt type N` to the match.
pub static IP6_EXTHDRS: &[Proto] = &[
    Proto { name: "hbh", base: Base::Network, dep: ip6_ext(), fields: EXT_OPTS },
    Proto { name: "rt", base: Base::Network, dep: ip6_ext(), fields: EXT_RT },
    Proto { name: "rt0", base: Base::Network, dep: ip6_ext(), fields: EXT_RT0 },
    Proto { name: "rt2", base: Base::Network, dep: ip6_ext(), fields: EXT_RT2 },
    Proto { name: "srh", base: Base::Network, dep: ip6_ext(), fields: EXT_SRH },
    Proto { name: "frag", base: Base::Network, dep: ip6_ext(), fields: EXT_FRAG },
    Proto { name: "dst", base: Base::Network, dep: ip6_ext(), fields: EXT_OPTS },
    Proto { name: "mh", base: Base::Network, dep: ip6_ext(), fields: EXT_MH },
];

/// The IPv6 extension header number (nexthdr value) of an [`IP6_EXTHDRS`] row,
/// and the routing type nft adds for the typed routing headers.
pub fn ip6_exthdr_number(name: &str) -> Option<(u8, Option<u8>)> {
    Some(match name {
        "hbh" => (0, None),
        "rt" => (43, None),
        "rt0" => (43, Some(0)),
        "rt2" => (43, Some(2)),
        "srh" => (43, Some(4)),
        "frag" => (44, None),
        "dst" => (60, None),
        "mh" => (135, None),
        _ => return None,
    })
}

/// A TCP, IP or SCTP option/chunk template (`tcp option maxseg size`).
#[derive(Debug)]
pub struct OptionTemplate {
    pub name: &'static str,
    /// Option kind number (also accepted as `tcp option 254`).
    pub kind: u8,
    pub fields: &'static [Field],
}

impl OptionTemplate {
    pub fn field(&self, name: &str) -> Option<&'static Field> {
        self.fields.iter().find(|f| f.name == name)
    }
}

/// Fields every TCP option of kind >= 2 has (RFC 9293 section 3.1).
const TCPOPT_KIND: Field = f("kind", 0, 8, Int);
const TCPOPT_LENGTH: Field = f("length", 8, 8, Int);

/// TCP options (`tcp option NAME FIELD`, `tcp option NAME exists`). Offsets
/// are from the start of the option. `sack0`..`sack3` select the N-th SACK
/// block (RFC 2018): same kind, left/right edges 64 bits further per block;
/// `sack` is `sack0`.
pub static TCP_OPTIONS: &[OptionTemplate] = &[
    // End of option list: a single byte.
    OptionTemplate { name: "eol", kind: 0, fields: &[TCPOPT_KIND] },
    // No-operation padding: a single byte.
    OptionTemplate { name: "nop", kind: 1, fields: &[TCPOPT_KIND] },
    // Spelling of older nft versions and docs.
    OptionTemplate { name: "noop", kind: 1, fields: &[TCPOPT_KIND] },
    OptionTemplate { name: "maxseg", kind: 2, fields: &[TCPOPT_KIND, TCPOPT_LENGTH, f("size", 16, 16, Int)] },
    // Window scale (RFC 7323 section 2): shift count.
    OptionTemplate { name: "window", kind: 3, fields: &[TCPOPT_KIND, TCPOPT_LENGTH, f("count", 16, 8, Int)] },
    OptionTemplate { name: "sack-perm", kind: 4, fields: &[TCPOPT_KIND, TCPOPT_LENGTH] },
    // Older spelling of sack-perm.
    OptionTemplate { name: "sack-permitted", kind: 4, fields: &[TCPOPT_KIND, TCPOPT_LENGTH] },
    OptionTemplate {
        name: "sack",
        kind: 5,
        fields: &[TCPOPT_KIND, TCPOPT_LENGTH, f("left", 16, 32, Int), f("right", 48, 32, Int)],
    },
    OptionTemplate {
        name: "sack0",
        kind: 5,
        fields: &[TCPOPT_KIND, TCPOPT_LENGTH, f("left", 16, 32, Int), f("right", 48, 32, Int)],
    },
    OptionTemplate {
        name: "sack1",
        kind: 5,
        fields: &[TCPOPT_KIND, TCPOPT_LENGTH, f("left", 80, 32, Int), f("right", 112, 32, Int)],
    },
    OptionTemplate {
        name: "sack2",
        kind: 5,
        fields: &[TCPOPT_KIND, TCPOPT_LENGTH, f("left", 144, 32, Int), f("right", 176, 32, Int)],
    },
    OptionTemplate {
        name: "sack3",
        kind: 5,
        fields: &[TCPOPT_KIND, TCPOPT_LENGTH, f("left", 208, 32, Int), f("right", 240, 32, Int)],
    },
    // RFC 7323 section 3.
    OptionTemplate {
        name: "timestamp",
        kind: 8,
        fields: &[TCPOPT_KIND, TCPOPT_LENGTH, f("tsval", 16, 32, Int), f("tsecr", 48, 32, Int)],
    },
    // TCP MD5 signature (RFC 2385).
    OptionTemplate { name: "md5sig", kind: 19, fields: &[TCPOPT_KIND, TCPOPT_LENGTH] },
    // Multipath TCP (RFC 8684 section 3): 4-bit subtype after the length.
    OptionTemplate { name: "mptcp", kind: 30, fields: &[TCPOPT_KIND, TCPOPT_LENGTH, f("subtype", 16, 4, Int)] },
    // TCP Fast Open cookie (RFC 7413).
    OptionTemplate { name: "fastopen", kind: 34, fields: &[TCPOPT_KIND, TCPOPT_LENGTH] },
];

/// Source-route style IPv4 options: type, length, pointer, first address.
const IPOPT_ROUTE: &[Field] =
    &[f("type", 0, 8, Int), f("length", 8, 8, Int), f("ptr", 16, 8, Int), f("addr", 24, 32, Ty::Ipv4Addr)];

/// IPv4 options (`ip option NAME FIELD`); kinds are the full option type
/// byte (copied flag, class, number) of RFC 791.
pub static IP_OPTIONS: &[OptionTemplate] = &[
    // Loose source and record route (0x83).
    OptionTemplate { name: "lsrr", kind: 131, fields: IPOPT_ROUTE },
    // Record route (0x07).
    OptionTemplate { name: "rr", kind: 7, fields: IPOPT_ROUTE },
    // Strict source and record route (0x89).
    OptionTemplate { name: "ssrr", kind: 137, fields: IPOPT_ROUTE },
    // Router alert (RFC 2113, 0x94): a 16-bit value.
    OptionTemplate {
        name: "ra",
        kind: 148,
        fields: &[f("type", 0, 8, Int), f("length", 8, 8, Int), f("value", 16, 16, Int)],
    },
];

/// The 4-byte header every SCTP chunk starts with (RFC 9260 section 3.2).
const CHUNK_TYPE: Field = f("type", 0, 8, Int);
const CHUNK_FLAGS: Field = f("flags", 8, 8, Int);
const CHUNK_LENGTH: Field = f("length", 16, 16, Int);
const CHUNK_COMMON: &[Field] = &[CHUNK_TYPE, CHUNK_FLAGS, CHUNK_LENGTH];

/// INIT and INIT ACK share their fixed part (RFC 9260 sections 3.3.2, 3.3.3).
const CHUNK_INIT: &[Field] = &[
    CHUNK_TYPE,
    CHUNK_FLAGS,
    CHUNK_LENGTH,
    f("init-tag", 32, 32, Int),
    f("a-rwnd", 64, 32, Int),
    f("num-outbound-streams", 96, 16, Int),
    f("num-inbound-streams", 112, 16, Int),
    f("initial-tsn", 128, 32, Int),
];

/// SCTP chunks (`sctp chunk NAME FIELD`, `sctp chunk NAME exists`).
pub static SCTP_CHUNKS: &[OptionTemplate] = &[
    // RFC 9260 3.3.1: TSN, stream id, stream sequence number, payload protocol id.
    OptionTemplate {
        name: "data",
        kind: 0,
        fields: &[
            CHUNK_TYPE,
            CHUNK_FLAGS,
            CHUNK_LENGTH,
            f("tsn", 32, 32, Int),
            f("stream", 64, 16, Int),
            f("ssn", 80, 16, Int),
            f("ppid", 96, 32, Int),
        ],
    },
    OptionTemplate { name: "init", kind: 1, fields: CHUNK_INIT },
    OptionTemplate { name: "init-ack", kind: 2, fields: CHUNK_INIT },
    // RFC 9260 3.3.4.
    OptionTemplate {
        name: "sack",
        kind: 3,
        fields: &[
            CHUNK_TYPE,
            CHUNK_FLAGS,
            CHUNK_LENGTH,
            f("cum-tsn-ack", 32, 32, Int),
            f("a-rwnd", 64, 32, Int),
            f("num-gap-ack-blocks", 96, 16, Int),
            f("num-dup-tsns", 112, 16, Int),
        ],
    },
    OptionTemplate { name: "heartbeat", kind: 4, fields: CHUNK_COMMON },
    OptionTemplate { name: "heartbeat-ack", kind: 5, fields: CHUNK_COMMON },
    OptionTemplate { name: "abort", kind: 6, fields: CHUNK_COMMON },
    // RFC 9260 3.3.8.
    OptionTemplate {
        name: "shutdown",
        kind: 7,
        fields: &[CHUNK_TYPE, CHUNK_FLAGS, CHUNK_LENGTH, f("cum-tsn-ack", 32, 32, Int)],
    },
    OptionTemplate { name: "shutdown-ack", kind: 8, fields: CHUNK_COMMON },
    OptionTemplate { name: "error", kind: 9, fields: CHUNK_COMMON },
    OptionTemplate { name: "cookie-echo", kind: 10, fields: CHUNK_COMMON },
    OptionTemplate { name: "cookie-ack", kind: 11, fields: CHUNK_COMMON },
    // ECN echo (RFC 9260 appendix A): lowest TSN seen with CE.
    OptionTemplate {
        name: "ecne",
        kind: 12,
        fields: &[CHUNK_TYPE, CHUNK_FLAGS, CHUNK_LENGTH, f("lowest-tsn", 32, 32, Int)],
    },
    // Congestion window reduced (appendix A).
    OptionTemplate {
        name: "cwr",
        kind: 13,
        fields: &[CHUNK_TYPE, CHUNK_FLAGS, CHUNK_LENGTH, f("lowest-tsn", 32, 32, Int)],
    },
    OptionTemplate { name: "shutdown-complete", kind: 14, fields: CHUNK_COMMON },
    // Address configuration (RFC 5061 section 4.1): serial number.
    OptionTemplate {
        name: "asconf-ack",
        kind: 0x80,
        fields: &[CHUNK_TYPE, CHUNK_FLAGS, CHUNK_LENGTH, f("seqno", 32, 32, Int)],
    },
    // Partial reliability (RFC 3758 section 3.2).
    OptionTemplate {
        name: "forward-tsn",
        kind: 0xc0,
        fields: &[CHUNK_TYPE, CHUNK_FLAGS, CHUNK_LENGTH, f("new-cum-tsn", 32, 32, Int)],
    },
    OptionTemplate {
        name: "asconf",
        kind: 0xc1,
        fields: &[CHUNK_TYPE, CHUNK_FLAGS, CHUNK_LENGTH, f("seqno", 32, 32, Int)],
    },
];

pub fn tcp_option(name: &str) -> Option<&'static OptionTemplate> {
    TCP_OPTIONS.iter().find(|o| o.name == name)
}
pub fn ip_option(name: &str) -> Option<&'static OptionTemplate> {
    IP_OPTIONS.iter().find(|o| o.name == name)
}
pub fn sctp_chunk(name: &str) -> Option<&'static OptionTemplate> {
    SCTP_CHUNKS.iter().find(|o| o.name == name)
}

pub fn protocol(name: &str) -> Option<&'static Proto> {
    PROTOCOLS.iter().find(|p| p.name == name)
}
pub fn ip6_exthdr(name: &str) -> Option<&'static Proto> {
    IP6_EXTHDRS.iter().find(|p| p.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn check_fields(what: &str, fields: &[Field]) {
        let mut seen = HashSet::new();
        for fl in fields {
            assert!(seen.insert(fl.name), "{what}: duplicate field {}", fl.name);
            assert!(fl.bits > 0, "{what} {}: zero width", fl.name);
            let tbits = fl.ty.info().bits;
            // A typed field is exactly as wide as its type (raw integers and
            // strings take the field's width).
            if tbits > 1 && fl.ty != Ty::Integer {
                assert_eq!(tbits, fl.bits, "{what} {}: type width", fl.name);
            }
        }
    }

    #[test]
    fn tables_are_well_formed() {
        let mut names = HashSet::new();
        for p in PROTOCOLS {
            assert!(names.insert(p.name), "duplicate protocol {}", p.name);
            check_fields(p.name, p.fields);
        }
        let mut names = HashSet::new();
        for p in IP6_EXTHDRS {
            assert!(names.insert(p.name), "duplicate exthdr {}", p.name);
            assert!(ip6_exthdr_number(p.name).is_some());
            check_fields(p.name, p.fields);
        }
        for (table, what) in [(TCP_OPTIONS, "tcp option"), (IP_OPTIONS, "ip option"), (SCTP_CHUNKS, "sctp chunk")] {
            let mut names = HashSet::new();
            for o in table {
                assert!(names.insert(o.name), "duplicate {what} {}", o.name);
                check_fields(o.name, o.fields);
            }
        }
    }

    #[test]
    fn tcp_dport() {
        let f = protocol("tcp").unwrap().field("dport").unwrap();
        assert_eq!((f.offset, f.bits, f.ty), (16, 16, Ty::InetService));
        let tcp = protocol("tcp").unwrap();
        assert_eq!(tcp.dep.l4proto, Some(6));
        assert_eq!(tcp.dep.l3, Some(L3::Any));
        let flags = tcp.field("flags").unwrap();
        assert_eq!((flags.offset, flags.bits, flags.ty), (104, 8, Ty::TcpFlag));
    }

    #[test]
    fn deps() {
        let icmp = protocol("icmp").unwrap();
        assert_eq!(icmp.dep.l3, Some(L3::Ipv4));
        assert_eq!(icmp.dep.l4proto, Some(1));
        let icmpv6 = protocol("icmpv6").unwrap();
        assert_eq!((icmpv6.dep.l3, icmpv6.dep.l4proto), (Some(L3::Ipv6), Some(58)));
        assert_eq!(protocol("ip").unwrap().dep.l3, Some(L3::Ipv4));
        assert_eq!(protocol("ip6").unwrap().dep.ethertype, Some(0x86dd));
        assert_eq!(protocol("arp").unwrap().dep.l3, Some(L3::Arp));
        assert_eq!(protocol("vlan").unwrap().dep.ethertype, Some(0x8100));
        assert_eq!(protocol("vxlan").unwrap().dep.udp_dport, Some(4789));
        assert_eq!(protocol("geneve").unwrap().dep.udp_dport, Some(6081));
        assert_eq!(protocol("th").unwrap().dep.l4proto, None);
    }

    #[test]
    fn layouts() {
        let ip = protocol("ip").unwrap();
        let saddr = ip.field("saddr").unwrap();
        assert_eq!((saddr.offset, saddr.bits, saddr.ty), (96, 32, Ty::Ipv4Addr));
        let dscp = ip.field("dscp").unwrap();
        assert_eq!((dscp.offset, dscp.bits), (8, 6));
        let daddr6 = protocol("ip6").unwrap().field("daddr").unwrap();
        assert_eq!((daddr6.offset, daddr6.bits), (192, 128));
        let vid = protocol("vlan").unwrap().field("id").unwrap();
        assert_eq!((vid.offset, vid.bits), (4, 12));
        assert_eq!(link_offset("vlan"), Some(112));
        let sip = protocol("arp").unwrap().field("saddr ip").unwrap();
        assert_eq!((sip.offset, sip.bits, sip.ty), (112, 32, Ty::Ipv4Addr));
        let dccp = protocol("dccp").unwrap().field("type").unwrap();
        assert_eq!((dccp.offset, dccp.bits), (67, 4));
        let frag = ip6_exthdr("frag").unwrap().field("more-fragments").unwrap();
        assert_eq!((frag.offset, frag.bits), (31, 1));
    }

    #[test]
    fn options() {
        let mss = tcp_option("maxseg").unwrap();
        assert_eq!(mss.kind, 2);
        let size = mss.field("size").unwrap();
        assert_eq!((size.offset, size.bits), (16, 16));
        assert_eq!(tcp_option("sack3").unwrap().field("right").unwrap().offset, 240);
        assert_eq!(tcp_option("timestamp").unwrap().kind, 8);
        assert_eq!(ip_option("ra").unwrap().kind, 148);
        let data = sctp_chunk("data").unwrap();
        assert_eq!(data.kind, 0);
        assert_eq!(data.field("ppid").unwrap().offset, 96);
        assert_eq!(sctp_chunk("asconf").unwrap().kind, 0xc1);
    }
}
