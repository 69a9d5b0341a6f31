//! Whole-frame classification: one pass over the bytes that finds every
//! header the packet VM and the conntrack need, without allocating.
//!
//! [`parse_frame`] takes an Ethernet II frame (LINKTYPE_ETHERNET, NFQUEUE
//! with the MAC header, AF_XDP); [`parse_ip`] a bare IP packet
//! (LINKTYPE_RAW, NFQUEUE's network-layer payload). The resulting
//! [`Frame`] gives:
//!
//! * the link header (MACs, the outer EtherType, up to [`MAX_VLAN_TAGS`]
//!   IEEE 802.1Q/802.1ad tags, the encapsulated EtherType);
//! * the network header: kind (IPv4, IPv6, ARP, another EtherType), offset,
//!   header length (IPv4 options or IPv6 extension headers included),
//!   datagram end (link padding excluded), addresses, l4 protocol and
//!   fragment fields;
//! * the transport header offset and validated length; non-first fragments
//!   have none, like nft's `pkt->fragoff != 0` (payload loads at the
//!   transport base fail, `meta l4proto` still works);
//! * for ICMP/ICMPv6 errors, the quoted ("inner") IP header and its
//!   transport offset, which conntrack uses to relate the error;
//! * `malformed: Some(Malformed { layer, reason })` when a header fails
//!   validation — parsing stops there, the layers before it stay filled.
//!   A fault in the quoted packet of an ICMP error is reported separately in
//!   `inner_malformed`: the outer packet is well formed, and the kernel
//!   passes it on with conntrack state INVALID.
//!
//! What is validated mirrors what the kernel checks before netfilter or in
//! conntrack's `*_error()` callbacks: IPv4 per `ip_rcv_core` (including the
//! header checksum, which [`ParseOptions`] can turn off), IPv6 per
//! `ipv6_rcv` plus the extension-header chain, TCP data offset, UDP length,
//! ICMP fixed part. Transport checksums are not verified here (they are
//! often left to offload in captures); see [`Frame::l4_checksum_ok`].

use core::net::IpAddr;

use crate::ethernet::{
    ArpPacket, ETHERNET_HEADER_LEN, EtherType, EthernetAddress, EthernetFrame, VLAN_TAG_LEN, VlanTag,
};
use crate::icmpv4::{ICMPV4_HEADER_LEN, Icmpv4Packet};
use crate::icmpv6::{ICMPV6_HEADER_LEN, Icmpv6Packet};
use crate::ip::NfProto;
use crate::ipv4::Ipv4Packet;
use crate::ipv6::Ipv6Packet;
use crate::tcp::TcpPacket;
use crate::udp::UdpPacket;
use crate::{Error, Layer, Malformed, checksum};

/// The most VLAN tags [`parse_frame`] walks (QinQ needs 2; more than 4 is
/// reported as [`Error::TooManyHeaders`]).
pub const MAX_VLAN_TAGS: usize = 4;

/// Knobs of the classifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParseOptions {
    /// Treat a bad IPv4 header checksum as malformed (the kernel drops
    /// such packets in `ip_rcv_core` before any hook). Default: true.
    pub verify_ipv4_checksum: bool,
}

impl Default for ParseOptions {
    fn default() -> Self {
        ParseOptions { verify_ipv4_checksum: true }
    }
}

/// One VLAN tag of the link header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct VlanInfo {
    /// The TPID that introduced the tag (0x8100, 0x88a8, 0x9100).
    pub tpid: u16,
    /// Priority code point.
    pub pcp: u8,
    /// Drop eligible indicator.
    pub dei: bool,
    /// VLAN id.
    pub vid: u16,
}

/// The Ethernet header and its VLAN tags.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LinkInfo {
    /// Destination MAC.
    pub dst: EthernetAddress,
    /// Source MAC.
    pub src: EthernetAddress,
    /// The EtherType field of the Ethernet header (a TPID when tagged;
    /// nft's `ether type`).
    pub outer_ethertype: EtherType,
    /// The EtherType after the last tag (the network protocol).
    pub ethertype: EtherType,
    /// Link header length: 14 + 4 per tag.
    pub header_len: usize,
    tags: [VlanInfo; MAX_VLAN_TAGS],
    tag_count: u8,
}

impl LinkInfo {
    /// The tags, outermost first.
    pub fn vlans(&self) -> &[VlanInfo] {
        &self.tags[..usize::from(self.tag_count)]
    }

    /// The outermost VLAN id (nft's `vlan id`).
    pub fn vlan_id(&self) -> Option<u16> {
        self.vlans().first().map(|t| t.vid)
    }
}

/// What the network header is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NetworkKind {
    /// IPv4.
    Ipv4,
    /// IPv6.
    Ipv6,
    /// ARP.
    Arp,
    /// Another EtherType, not interpreted.
    Other(EtherType),
}

/// Fragment fields of an IPv4 header or IPv6 fragment header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FragmentInfo {
    /// Offset in bytes.
    pub offset: u16,
    /// More fragments follow.
    pub more: bool,
    /// Identification (16 bits for IPv4, 32 for IPv6).
    pub ident: u32,
}

/// The network header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct NetworkInfo {
    /// Kind.
    pub kind: NetworkKind,
    /// Offset in the buffer (nft's network header base).
    pub offset: usize,
    /// Length up to the transport header: IPv4 IHL*4; IPv6 40 plus the
    /// extension headers walked; ARP its full length; 0 otherwise or when
    /// the header is malformed.
    pub header_len: usize,
    /// End of the datagram in the buffer (IPv4 total length, IPv6 40 +
    /// payload length); bytes after it are link padding.
    pub end: usize,
    /// Source address (IP only).
    pub src: Option<IpAddr>,
    /// Destination address (IP only).
    pub dst: Option<IpAddr>,
    /// The l4 protocol (nft's `meta l4proto`): IPv4's protocol field, or
    /// IPv6's upper-layer protocol after the extension headers.
    pub protocol: Option<u8>,
    /// Fragment fields, when the packet is a fragment (IPv4 MF or offset;
    /// IPv6 any fragment header).
    pub fragment: Option<FragmentInfo>,
}

/// The transport header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TransportInfo {
    /// Protocol number.
    pub protocol: u8,
    /// Offset in the buffer (nft's transport header base).
    pub offset: usize,
    /// Validated header length: TCP data offset * 4, UDP/ICMP/ICMPv6 8, 0
    /// for protocols this crate does not parse.
    pub header_len: usize,
    /// End of the segment (UDP: offset + UDP length; others: datagram end).
    pub end: usize,
}

/// The IP header quoted by an ICMP/ICMPv6 error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct InnerInfo {
    /// IPv4 or IPv6.
    pub kind: NetworkKind,
    /// Offset of the quoted IP header in the buffer.
    pub offset: usize,
    /// Quoted IP header length (options/extension headers included).
    pub header_len: usize,
    /// Quoted source address.
    pub src: IpAddr,
    /// Quoted destination address.
    pub dst: IpAddr,
    /// Quoted l4 protocol.
    pub protocol: u8,
    /// Offset of the quoted transport header, unless the quoted packet is a
    /// non-first fragment. At least `end - th_offset` bytes are present.
    pub th_offset: Option<usize>,
    /// End of the quote (end of the ICMP message).
    pub end: usize,
}

/// What the receiving side knows of a packet's transport checksum: the
/// kernel's `skb->ip_summed`, which NFQUEUE reports in `NFQA_SKB_INFO`.
/// Parsing never sets it (the bytes cannot tell): a parsed frame is
/// [`L4Checksum::NotVerified`], so replayed captures are verified as
/// before; a live source sets it from the queue's metadata.
///
/// Conntrack reads it at prerouting: nf_conntrack_{tcp,udp,icmp,icmpv6}
/// verify the checksum there (with `nf_conntrack_checksum=1`) through
/// `nf_ip_checksum`/`nf_ip6_checksum`, which compute it only for
/// CHECKSUM_NONE and CHECKSUM_COMPLETE and take it as good for
/// CHECKSUM_UNNECESSARY and CHECKSUM_PARTIAL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum L4Checksum {
    /// Nobody verified it (CHECKSUM_NONE or CHECKSUM_COMPLETE; NFQUEUE
    /// sets `NFQA_SKB_CSUM_NOTVERIFIED`; every frame read from a capture):
    /// conntrack verifies it. The default.
    #[default]
    NotVerified,
    /// The device verified it (CHECKSUM_UNNECESSARY; NFQUEUE sets neither
    /// `NFQA_SKB_CSUMNOTREADY` nor `NFQA_SKB_CSUM_NOTVERIFIED`): conntrack
    /// trusts it.
    Verified,
    /// Not filled in yet, the device will (CHECKSUM_PARTIAL: locally
    /// generated or GSO/GRO packets; NFQUEUE sets `NFQA_SKB_CSUMNOTREADY`):
    /// conntrack does not verify it.
    NotReady,
}

impl L4Checksum {
    /// Conntrack must compute the checksum to verify it (nf_ip_checksum's
    /// CHECKSUM_NONE/COMPLETE cases).
    #[inline]
    pub fn needs_verifying(self) -> bool {
        self == L4Checksum::NotVerified
    }
}

/// A classified frame; see the module docs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Frame {
    /// Link header; `None` for raw IP input.
    pub link: Option<LinkInfo>,
    /// Network header.
    pub network: Option<NetworkInfo>,
    /// Transport header.
    pub transport: Option<TransportInfo>,
    /// Quoted header of an ICMP error.
    pub inner: Option<InnerInfo>,
    /// The first header that failed validation; parsing stopped there.
    pub malformed: Option<Malformed>,
    /// A fault in the packet quoted by an ICMP error (outer packet fine).
    pub inner_malformed: Option<Malformed>,
    /// Whether the transport checksum still needs verifying: not from the
    /// bytes but from where the frame came from (see [`L4Checksum`]);
    /// [`L4Checksum::NotVerified`] after parsing.
    pub l4_checksum: L4Checksum,
}

impl Frame {
    const EMPTY: Frame = Frame {
        link: None,
        network: None,
        transport: None,
        inner: None,
        malformed: None,
        inner_malformed: None,
        l4_checksum: L4Checksum::NotVerified,
    };

    /// True when some header failed validation.
    pub fn is_malformed(&self) -> bool {
        self.malformed.is_some()
    }

    /// Offset of the link header (0), `None` for raw IP input.
    pub fn ll_offset(&self) -> Option<usize> {
        self.link.map(|_| 0)
    }

    /// Offset of the network header.
    pub fn nh_offset(&self) -> Option<usize> {
        self.network.map(|n| n.offset)
    }

    /// Offset of the transport header (`None` for non-first fragments and
    /// when it is malformed).
    pub fn th_offset(&self) -> Option<usize> {
        self.transport.map(|t| t.offset)
    }

    /// Offset of the quoted IP header of an ICMP error.
    pub fn inner_offset(&self) -> Option<usize> {
        self.inner.map(|i| i.offset)
    }

    /// `meta nfproto`: 2 for IPv4, 10 for IPv6.
    pub fn nfproto(&self) -> Option<NfProto> {
        match self.network?.kind {
            NetworkKind::Ipv4 => Some(NfProto::Ipv4),
            NetworkKind::Ipv6 => Some(NfProto::Ipv6),
            _ => None,
        }
    }

    /// `meta l4proto`.
    pub fn l4proto(&self) -> Option<u8> {
        self.network?.protocol
    }

    /// Fragment fields, if a fragment.
    pub fn fragment(&self) -> Option<FragmentInfo> {
        self.network?.fragment
    }

    /// True for a fragment other than the first (no transport header).
    pub fn is_later_fragment(&self) -> bool {
        matches!(self.fragment(), Some(f) if f.offset != 0)
    }

    fn slice<'a>(&self, buf: &'a [u8], start: usize, end: usize) -> Option<&'a [u8]> {
        buf.get(start..end)
    }

    /// The IPv4 header as a view (validated when the frame was parsed;
    /// `buf` must be the parsed buffer).
    pub fn ipv4<'a>(&self, buf: &'a [u8]) -> Option<Ipv4Packet<&'a [u8]>> {
        let n = self.network.filter(|n| n.kind == NetworkKind::Ipv4 && n.protocol.is_some())?;
        Some(Ipv4Packet::new_unchecked(self.slice(buf, n.offset, n.end)?))
    }

    /// The IPv6 header as a view.
    pub fn ipv6<'a>(&self, buf: &'a [u8]) -> Option<Ipv6Packet<&'a [u8]>> {
        let n = self.network.filter(|n| n.kind == NetworkKind::Ipv6 && n.protocol.is_some())?;
        Some(Ipv6Packet::new_unchecked(self.slice(buf, n.offset, n.end)?))
    }

    fn transport_bytes<'a>(&self, buf: &'a [u8], protocol: u8) -> Option<&'a [u8]> {
        let t = self.transport.filter(|t| t.protocol == protocol && t.header_len > 0)?;
        self.slice(buf, t.offset, t.end)
    }

    /// The TCP header as a view.
    pub fn tcp<'a>(&self, buf: &'a [u8]) -> Option<TcpPacket<&'a [u8]>> {
        self.transport_bytes(buf, 6).map(TcpPacket::new_unchecked)
    }

    /// The UDP header as a view.
    pub fn udp<'a>(&self, buf: &'a [u8]) -> Option<UdpPacket<&'a [u8]>> {
        self.transport_bytes(buf, 17).map(UdpPacket::new_unchecked)
    }

    /// The ICMP header as a view.
    pub fn icmpv4<'a>(&self, buf: &'a [u8]) -> Option<Icmpv4Packet<&'a [u8]>> {
        self.network.filter(|n| n.kind == NetworkKind::Ipv4)?;
        self.transport_bytes(buf, 1).map(Icmpv4Packet::new_unchecked)
    }

    /// The ICMPv6 header as a view.
    pub fn icmpv6<'a>(&self, buf: &'a [u8]) -> Option<Icmpv6Packet<&'a [u8]>> {
        self.network.filter(|n| n.kind == NetworkKind::Ipv6)?;
        self.transport_bytes(buf, 58).map(Icmpv6Packet::new_unchecked)
    }

    /// Verifies the transport checksum (TCP, UDP, ICMP, ICMPv6) the way
    /// conntrack's `nf_checksum()` would; `None` when there is no complete
    /// transport segment to check (other protocols, fragments).
    pub fn l4_checksum_ok(&self, buf: &[u8]) -> Option<bool> {
        let n = self.network.as_ref()?;
        if n.fragment.is_some() {
            return None;
        }
        let (src, dst) = (n.src?, n.dst?);
        let t = self.transport.as_ref().filter(|t| t.header_len > 0)?;
        let seg = self.slice(buf, t.offset, n.end)?;
        Some(match t.protocol {
            6 => checksum::verify_transport(src, dst, 6, seg),
            17 => UdpPacket::new_unchecked(seg).verify_checksum(src, dst),
            1 => checksum::sum(seg) == 0xffff,
            58 => checksum::verify_transport(src, dst, 58, seg),
            _ => return None,
        })
    }
}

fn fail(f: &mut Frame, layer: Layer, reason: Error) {
    f.malformed = Some(Malformed { layer, reason });
}

/// Classifies an Ethernet II frame with the default [`ParseOptions`].
pub fn parse_frame(buf: &[u8]) -> Frame {
    parse_frame_with(buf, &ParseOptions::default())
}

/// Classifies an Ethernet II frame.
pub fn parse_frame_with(buf: &[u8], opts: &ParseOptions) -> Frame {
    let mut f = Frame::EMPTY;
    let eth = match EthernetFrame::new_checked(buf) {
        Ok(e) => e,
        Err(e) => {
            fail(&mut f, Layer::Ethernet, e);
            return f;
        }
    };
    let mut link = LinkInfo {
        dst: eth.dst_addr(),
        src: eth.src_addr(),
        outer_ethertype: eth.ethertype(),
        ethertype: eth.ethertype(),
        header_len: ETHERNET_HEADER_LEN,
        tags: [VlanInfo::default(); MAX_VLAN_TAGS],
        tag_count: 0,
    };
    let mut off = ETHERNET_HEADER_LEN;
    while link.ethertype.is_vlan() {
        if usize::from(link.tag_count) == MAX_VLAN_TAGS {
            f.link = Some(link);
            fail(&mut f, Layer::Vlan, Error::TooManyHeaders);
            return f;
        }
        let tag = match VlanTag::new_checked(&buf[off..]) {
            Ok(t) => t,
            Err(e) => {
                f.link = Some(link);
                fail(&mut f, Layer::Vlan, e);
                return f;
            }
        };
        link.tags[usize::from(link.tag_count)] =
            VlanInfo { tpid: link.ethertype.0, pcp: tag.pcp(), dei: tag.dei(), vid: tag.vid() };
        link.tag_count += 1;
        link.ethertype = tag.ethertype();
        off += VLAN_TAG_LEN;
    }
    link.header_len = off;
    f.link = Some(link);
    match link.ethertype {
        EtherType::IPV4 => ipv4(&mut f, buf, off, opts),
        EtherType::IPV6 => ipv6(&mut f, buf, off),
        EtherType::ARP => {
            let arp = ArpPacket::new_checked(&buf[off..]);
            f.network = Some(NetworkInfo {
                kind: NetworkKind::Arp,
                offset: off,
                header_len: arp.as_ref().map(|a| a.header_len()).unwrap_or(0),
                end: buf.len(),
                src: None,
                dst: None,
                protocol: None,
                fragment: None,
            });
            if let Err(e) = arp {
                fail(&mut f, Layer::Arp, e);
            }
        }
        other => {
            f.network = Some(NetworkInfo {
                kind: NetworkKind::Other(other),
                offset: off,
                header_len: 0,
                end: buf.len(),
                src: None,
                dst: None,
                protocol: None,
                fragment: None,
            })
        }
    }
    f
}

/// Classifies a bare IP packet (LINKTYPE_RAW) by its version nibble, with
/// the default [`ParseOptions`].
pub fn parse_ip(buf: &[u8]) -> Frame {
    parse_ip_with(buf, &ParseOptions::default())
}

/// Classifies a bare IP packet by its version nibble.
pub fn parse_ip_with(buf: &[u8], opts: &ParseOptions) -> Frame {
    let mut f = Frame::EMPTY;
    match buf.first().map(|b| b >> 4) {
        Some(4) => ipv4(&mut f, buf, 0, opts),
        Some(6) => ipv6(&mut f, buf, 0),
        Some(_) => fail(&mut f, Layer::Ipv4, Error::BadVersion),
        None => fail(&mut f, Layer::Ipv4, Error::Truncated),
    }
    f
}

fn bare_network(kind: NetworkKind, offset: usize, end: usize) -> NetworkInfo {
    NetworkInfo { kind, offset, header_len: 0, end, src: None, dst: None, protocol: None, fragment: None }
}

fn ipv4(f: &mut Frame, buf: &[u8], off: usize, opts: &ParseOptions) {
    let p = match Ipv4Packet::new_checked(&buf[off..]) {
        Ok(p) => p,
        Err(e) => {
            f.network = Some(bare_network(NetworkKind::Ipv4, off, buf.len()));
            return fail(f, Layer::Ipv4, e);
        }
    };
    if opts.verify_ipv4_checksum && !p.verify_checksum() {
        f.network = Some(bare_network(NetworkKind::Ipv4, off, buf.len()));
        return fail(f, Layer::Ipv4, Error::BadChecksum);
    }
    let hlen = p.header_len();
    let end = off + usize::from(p.total_len());
    let protocol: u8 = p.protocol().into();
    let fragment = p.is_fragment().then(|| FragmentInfo {
        offset: p.frag_offset(),
        more: p.more_frags(),
        ident: u32::from(p.ident()),
    });
    f.network = Some(NetworkInfo {
        kind: NetworkKind::Ipv4,
        offset: off,
        header_len: hlen,
        end,
        src: Some(p.src_addr().into()),
        dst: Some(p.dst_addr().into()),
        protocol: Some(protocol),
        fragment,
    });
    if p.frag_offset() == 0 {
        transport(f, buf, off + hlen, end, protocol, NfProto::Ipv4, fragment.is_some());
    }
}

fn ipv6(f: &mut Frame, buf: &[u8], off: usize) {
    let p = match Ipv6Packet::new_checked(&buf[off..]) {
        Ok(p) => p,
        Err(e) => {
            f.network = Some(bare_network(NetworkKind::Ipv6, off, buf.len()));
            return fail(f, Layer::Ipv6, e);
        }
    };
    let end = off + crate::ipv6::IPV6_HEADER_LEN + usize::from(p.payload_len());
    let mut n = bare_network(NetworkKind::Ipv6, off, end);
    n.src = Some(p.src_addr().into());
    n.dst = Some(p.dst_addr().into());
    let w = match p.walk() {
        Ok(w) => w,
        Err(e) => {
            f.network = Some(n);
            return fail(f, Layer::Ipv6Ext, e);
        }
    };
    n.header_len = w.offset;
    n.protocol = Some(w.protocol);
    n.fragment =
        w.fragment.map(|(fr, _)| FragmentInfo { offset: fr.frag_offset, more: fr.more_frags, ident: fr.ident });
    f.network = Some(n);
    if !w.is_later_fragment() {
        transport(f, buf, off + w.offset, end, w.protocol, NfProto::Ipv6, n.fragment.is_some());
    }
}

/// `first_fragment`: the segment continues in later fragments, so lengths
/// that cover the whole datagram (UDP's) cannot be held against it.
fn transport(f: &mut Frame, buf: &[u8], off: usize, end: usize, protocol: u8, family: NfProto, first_fragment: bool) {
    let seg = &buf[off..end];
    let mut t = TransportInfo { protocol, offset: off, header_len: 0, end };
    match (protocol, family) {
        (17, _) if first_fragment => {
            if seg.len() < crate::udp::UDP_HEADER_LEN {
                return fail(f, Layer::Udp, Error::Truncated);
            }
            t.header_len = crate::udp::UDP_HEADER_LEN;
        }
        (6, _) => match TcpPacket::new_checked(seg) {
            Ok(p) => t.header_len = p.header_len(),
            Err(e) => return fail(f, Layer::Tcp, e),
        },
        (17, _) => match UdpPacket::new_checked(seg) {
            Ok(p) => {
                t.header_len = crate::udp::UDP_HEADER_LEN;
                t.end = off + usize::from(p.len());
            }
            Err(e) => return fail(f, Layer::Udp, e),
        },
        (1, NfProto::Ipv4) => match Icmpv4Packet::new_checked(seg) {
            Ok(p) => {
                t.header_len = ICMPV4_HEADER_LEN;
                if p.msg_type().is_error() {
                    inner_v4(f, buf, off + ICMPV4_HEADER_LEN, end);
                }
            }
            Err(e) => return fail(f, Layer::Icmp, e),
        },
        (58, NfProto::Ipv6) => match Icmpv6Packet::new_checked(seg) {
            Ok(p) => {
                t.header_len = ICMPV6_HEADER_LEN;
                if p.msg_type().is_error() {
                    inner_v6(f, buf, off + ICMPV6_HEADER_LEN, end);
                }
            }
            Err(e) => return fail(f, Layer::Icmpv6, e),
        },
        // Other protocols (ESP, SCTP, GRE, no-next-header ...): the offset
        // is known, the header is not interpreted.
        _ => {}
    }
    f.transport = Some(t);
}

fn inner_v4(f: &mut Frame, buf: &[u8], off: usize, end: usize) {
    match Ipv4Packet::new_quoted(&buf[off..end]) {
        Ok(q) => {
            let hlen = q.header_len();
            f.inner = Some(InnerInfo {
                kind: NetworkKind::Ipv4,
                offset: off,
                header_len: hlen,
                src: q.src_addr().into(),
                dst: q.dst_addr().into(),
                protocol: q.protocol().into(),
                th_offset: (q.frag_offset() == 0).then_some(off + hlen),
                end,
            });
        }
        Err(e) => f.inner_malformed = Some(Malformed { layer: Layer::Ipv4, reason: e }),
    }
}

fn inner_v6(f: &mut Frame, buf: &[u8], off: usize, end: usize) {
    let q = match Ipv6Packet::new_quoted(&buf[off..end]) {
        Ok(q) => q,
        Err(e) => {
            f.inner_malformed = Some(Malformed { layer: Layer::Ipv6, reason: e });
            return;
        }
    };
    match q.walk() {
        Ok(w) => {
            f.inner = Some(InnerInfo {
                kind: NetworkKind::Ipv6,
                offset: off,
                header_len: w.offset,
                src: q.src_addr().into(),
                dst: q.dst_addr().into(),
                protocol: w.protocol,
                th_offset: (!w.is_later_fragment()).then_some(off + w.offset),
                end,
            });
        }
        Err(e) => f.inner_malformed = Some(Malformed { layer: Layer::Ipv6Ext, reason: e }),
    }
}
