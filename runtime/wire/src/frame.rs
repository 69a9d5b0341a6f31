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
//!
//! # Fast path
//!
//! [`parse_frame_with`] and [`parse_ip_with`] first try one straight-line
//! scan of the common shape: Ethernet II without tags (or raw IP), IPv4
//! without options that is not a fragment or IPv6 without extension
//! headers, then TCP, UDP, an ICMP/ICMPv6 message that is not an error, or
//! a protocol the walk does not interpret. It checks what the walk checks
//! on that shape and writes the same [`Frame`] once; anything else, or any
//! check failing, goes to the general walk ([`parse_frame_general`],
//! [`parse_ip_general`]), which reports the fault. The property tests
//! (`tests/props.rs`, `fast_path_agrees_*`) compare both on generated,
//! mutated, truncated and arbitrary frames, as frames and as raw IP, with
//! and without the checksum check.
//!
//! Cost, in instructions per packet under callgrind (`valgrind
//! --tool=callgrind --toggle-collect='*ctc_datapath*bench*pass*' ctc bench
//! classify --ruleset fw1_10k.nft --synthetic 20000`, the ruleset from
//! `gen-classbench` on ClassBench's fw1_10k seed as in
//! `benches/scripts/jit-classify.sh`; Ir divided by the packets of the
//! untimed and timed passes): the parse went from 403 to 125 (measured as
//! the out-of-line call; the ICMP and GRE packets of the mix take the fast
//! path too, under 0.1% still go to the walk); parse, context and bench
//! loop, everything but the hook walk and the classifier, from 530 to 220;
//! the whole packet from 1,327 to 1,016 (acl1_10k: 1,556 to 1,246). The
//! bench does not verify the IPv4 header checksum; replay and run do, about
//! 25 instructions more on this path.
//!
//! What a packet context is built from alone — the offsets of the headers,
//! the EtherType, the IP version, the l4 protocol ([`IpHeaders`]) — comes
//! from [`ip_headers_of_frame`] and [`ip_headers_of_ip`] without building
//! the [`Frame`] on the fast path's shape (its MACs, tags and addresses,
//! written and read back: 43 instructions a packet in `ctc bench
//! classify`); they answer `Frame::ip_headers` of the parsed frame, which
//! the property tests check on the same frames as the fast path.

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
use crate::udp::{UDP_HEADER_LEN, UdpPacket};
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

    #[inline]
    fn transport_bytes<'a>(&self, buf: &'a [u8], protocol: u8) -> Option<&'a [u8]> {
        let t = self.transport.filter(|t| t.protocol == protocol && t.header_len > 0)?;
        self.slice(buf, t.offset, t.end)
    }

    /// The TCP header as a view.
    #[inline]
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
        let t = self.transport.as_ref().filter(|t| t.header_len > 0)?;
        let seg = self.slice(buf, t.offset, n.end)?;
        // TCP and UDP over IPv4, most of the traffic: the same sums without
        // the family dispatch and the pseudo-header's separate fold.
        if let (Some(IpAddr::V4(src)), Some(IpAddr::V4(dst))) = (n.src, n.dst) {
            let seg = match t.protocol {
                6 => seg,
                // UdpPacket::verify_checksum: 0 is "no checksum" over IPv4;
                // the sum ends at the length field.
                17 if seg.len() >= UDP_HEADER_LEN => {
                    if seg[6] == 0 && seg[7] == 0 {
                        return Some(true);
                    }
                    &seg[..usize::from(u16::from_be_bytes([seg[4], seg[5]])).min(seg.len())]
                }
                _ => return Self::l4_checksum_ok_generic(n, t.protocol, seg),
            };
            return Some(checksum::verify_transport_v4(src, dst, t.protocol, seg));
        }
        Self::l4_checksum_ok_generic(n, t.protocol, seg)
    }

    /// [`Frame::l4_checksum_ok`] of `seg`, the transport segment, for any
    /// family and protocol.
    #[inline(never)]
    fn l4_checksum_ok_generic(n: &NetworkInfo, protocol: u8, seg: &[u8]) -> Option<bool> {
        let (src, dst) = (n.src?, n.dst?);
        Some(match protocol {
            6 => checksum::verify_transport(src, dst, 6, seg),
            17 => UdpPacket::new_unchecked(seg).verify_checksum(src, dst),
            1 => checksum::sum(seg) == 0xffff,
            58 => checksum::verify_transport(src, dst, 58, seg),
            _ => return None,
        })
    }
}

/// Where an IP packet's headers are and what they carry: what a packet
/// context is built from. [`Frame::ip_headers`] of a parsed frame, or
/// [`ip_headers_of_frame`] / [`ip_headers_of_ip`] straight from the bytes
/// (the same answer, without building the whole [`Frame`] — the MACs,
/// tags and addresses — on the fast path's shape).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct IpHeaders {
    /// The EtherType after the link header's tags; `None` for raw IP.
    pub ethertype: Option<EtherType>,
    /// IPv6 (else IPv4).
    pub v6: bool,
    /// Offset of the network header.
    pub nh: usize,
    /// End of the datagram (see [`NetworkInfo::end`]).
    pub end: usize,
    /// The l4 protocol ([`NetworkInfo::protocol`]).
    pub protocol: Option<u8>,
    /// Offset of the transport header ([`Frame::th_offset`]).
    pub th: Option<usize>,
    /// Offset of the quoted IP header of an ICMP error ([`Frame::inner_offset`]).
    pub inner: Option<usize>,
}

impl Frame {
    /// The IP headers (`None` when the network header is not IPv4 or
    /// IPv6), malformed or not, as far as parsing got.
    #[inline]
    pub fn ip_headers(&self) -> Option<IpHeaders> {
        let n = self.network.filter(|n| matches!(n.kind, NetworkKind::Ipv4 | NetworkKind::Ipv6))?;
        Some(IpHeaders {
            ethertype: self.link.map(|l| l.ethertype),
            v6: n.kind == NetworkKind::Ipv6,
            nh: n.offset,
            end: n.end,
            protocol: n.protocol,
            th: self.th_offset(),
            inner: self.inner_offset(),
        })
    }
}

/// `parse_frame_with(buf, opts).ip_headers()`: the fast path's shape
/// without building the [`Frame`], anything else through the walk.
#[inline(always)]
pub fn ip_headers_of_frame(buf: &[u8], opts: &ParseOptions) -> Option<IpHeaders> {
    with_ip_headers_of_frame(buf, opts, |h| *h)
}

/// `ip_headers_of_frame(buf, opts).map(|h| f(&h))`, with `f` called on
/// each path apart: on the fast path's headers, whose shape is known there
/// (an Ethernet header, a transport header, no inner one), what `f`
/// derives from them folds to constants instead of being chosen at run
/// time after the paths meet.
#[inline(always)]
pub fn with_ip_headers_of_frame<R>(buf: &[u8], opts: &ParseOptions, f: impl Fn(&IpHeaders) -> R) -> Option<R> {
    match fast::scan_frame(buf, opts) {
        Some(s) => Some(f(&s.headers())),
        None => parse_frame_general(buf, opts).ip_headers().map(|h| f(&h)),
    }
}

/// [`with_ip_headers_of_frame`] for a bare IP packet.
#[inline(always)]
pub fn with_ip_headers_of_ip<R>(buf: &[u8], opts: &ParseOptions, f: impl Fn(&IpHeaders) -> R) -> Option<R> {
    match fast::scan_ip(buf, opts) {
        Some(s) => Some(f(&s.headers())),
        None => parse_ip_general(buf, opts).ip_headers().map(|h| f(&h)),
    }
}

/// `parse_ip_with(buf, opts).ip_headers()` (see [`ip_headers_of_frame`]).
#[inline(always)]
pub fn ip_headers_of_ip(buf: &[u8], opts: &ParseOptions) -> Option<IpHeaders> {
    with_ip_headers_of_ip(buf, opts, |h| *h)
}

fn fail(f: &mut Frame, layer: Layer, reason: Error) {
    f.malformed = Some(Malformed { layer, reason });
}

/// Classifies an Ethernet II frame with the default [`ParseOptions`].
pub fn parse_frame(buf: &[u8]) -> Frame {
    parse_frame_with(buf, &ParseOptions::default())
}

/// Classifies an Ethernet II frame.
#[inline]
pub fn parse_frame_with(buf: &[u8], opts: &ParseOptions) -> Frame {
    match fast::scan_frame(buf, opts) {
        Some(s) => s.frame(buf),
        None => parse_frame_general(buf, opts),
    }
}

/// [`parse_frame_with`] without its fast path: every frame through the
/// general walk. The two return the same [`Frame`] for every input (the
/// fast path only takes frames the walk classifies as it does); exported
/// for the tests that check it.
#[doc(hidden)]
#[inline(never)]
pub fn parse_frame_general(buf: &[u8], opts: &ParseOptions) -> Frame {
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
#[inline]
pub fn parse_ip_with(buf: &[u8], opts: &ParseOptions) -> Frame {
    match fast::scan_ip(buf, opts) {
        Some(s) => s.frame(buf),
        None => parse_ip_general(buf, opts),
    }
}

/// [`parse_ip_with`] without its fast path (see [`parse_frame_general`]).
#[doc(hidden)]
#[inline(never)]
pub fn parse_ip_general(buf: &[u8], opts: &ParseOptions) -> Frame {
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

/// The common case in one straight pass: Ethernet II without VLAN tags (or
/// raw IP), IPv4 without options that is not a fragment or IPv6 without
/// extension headers, then TCP, UDP, an ICMP/ICMPv6 message that is not an
/// error, or a protocol the walk does not interpret (GRE, ESP ...), every
/// check passing. The scan reads the few fields that decide it and checks
/// them as the general walk does; anything else (tags, ARP, options,
/// fragments, extension headers, ICMP errors, any fault) makes it give up,
/// and the general walk
/// classifies the frame (and reports the fault). When the scan succeeds,
/// [`FastScan::frame`] writes the [`Frame`] the walk would have built, once,
/// in place.
mod fast {
    use super::*;
    use crate::ethernet::EthernetAddress;
    use core::net::{Ipv4Addr, Ipv6Addr};

    /// What the scan found: the offsets and lengths the frame is built from
    /// (the addresses and MACs are read from the buffer again when it is).
    #[derive(Clone, Copy)]
    pub(super) struct FastScan {
        /// An Ethernet header (14 bytes, no tags) before the IP header.
        ethernet: bool,
        /// The EtherType of the Ethernet header.
        ethertype: u16,
        v6: bool,
        /// Network header offset (0 or 14).
        nh: usize,
        /// Network header length (20 or 40).
        nh_len: usize,
        /// Datagram end.
        end: usize,
        protocol: u8,
        /// Transport header length (TCP data offset * 4, UDP and ICMP 8,
        /// 0 for other protocols).
        th_len: usize,
        /// Segment end (UDP: its length field; TCP: the datagram end).
        th_end: usize,
    }

    #[inline(always)]
    fn be16(b: &[u8], i: usize) -> usize {
        usize::from(u16::from_be_bytes([b[i], b[i + 1]]))
    }

    /// An Ethernet II frame (see the module docs).
    #[inline(always)]
    pub(super) fn scan_frame(buf: &[u8], opts: &ParseOptions) -> Option<FastScan> {
        let eth = buf.first_chunk::<ETHERNET_HEADER_LEN>()?;
        let ethertype = u16::from_be_bytes([eth[12], eth[13]]);
        let v6 = match EtherType(ethertype) {
            EtherType::IPV4 => false,
            EtherType::IPV6 => true,
            _ => return None,
        };
        scan_l3(buf, ETHERNET_HEADER_LEN, v6, true, ethertype, opts)
    }

    /// A bare IP packet.
    #[inline(always)]
    pub(super) fn scan_ip(buf: &[u8], opts: &ParseOptions) -> Option<FastScan> {
        let v6 = match buf.first()? >> 4 {
            4 => false,
            6 => true,
            _ => return None,
        };
        scan_l3(buf, 0, v6, false, 0, opts)
    }

    #[inline(always)]
    fn scan_l3(
        buf: &[u8],
        nh: usize,
        v6: bool,
        ethernet: bool,
        ethertype: u16,
        opts: &ParseOptions,
    ) -> Option<FastScan> {
        let p = &buf[nh..];
        let (nh_len, len, protocol) = if v6 {
            // Ipv6Packet::check_len; no extension header: the walk stops
            // at once, the transport header follows the fixed header.
            let h = p.first_chunk::<{ crate::ipv6::IPV6_HEADER_LEN }>()?;
            if h[0] >> 4 != 6 {
                return None;
            }
            let len = crate::ipv6::IPV6_HEADER_LEN + be16(h, 4);
            if p.len() < len {
                return None;
            }
            (crate::ipv6::IPV6_HEADER_LEN, len, h[6])
        } else {
            // Ipv4Packet::check_len with IHL 5 (no options) and no
            // fragment fields (MF clear, offset 0: the fragment bound
            // holds), then the header checksum.
            let h = p.first_chunk::<{ crate::ipv4::IPV4_HEADER_LEN }>()?;
            if h[0] != 0x45 || h[6] & 0x3f != 0 || h[7] != 0 {
                return None;
            }
            let len = be16(h, 2);
            if len < crate::ipv4::IPV4_HEADER_LEN || p.len() < len {
                return None;
            }
            if opts.verify_ipv4_checksum && checksum::sum(h) != 0xffff {
                return None;
            }
            (crate::ipv4::IPV4_HEADER_LEN, len, h[9])
        };
        let th = nh + nh_len;
        let end = nh + len;
        let seg = &buf[th..end];
        let (th_len, th_end) = match (protocol, v6) {
            // TcpPacket::check_len.
            (6, _) => {
                if seg.len() < crate::tcp::TCP_HEADER_LEN {
                    return None;
                }
                let hlen = usize::from(seg[12] >> 4) * 4;
                if hlen < crate::tcp::TCP_HEADER_LEN || seg.len() < hlen {
                    return None;
                }
                (hlen, end)
            }
            // UdpPacket::check_len (not a fragment: the length counts).
            (17, _) => {
                if seg.len() < crate::udp::UDP_HEADER_LEN {
                    return None;
                }
                let ulen = be16(seg, 4);
                if ulen < crate::udp::UDP_HEADER_LEN || seg.len() < ulen {
                    return None;
                }
                (crate::udp::UDP_HEADER_LEN, th + ulen)
            }
            // Icmpv4Packet/Icmpv6Packet::check_len; an error quotes a
            // packet, which the general walk parses.
            (1, false) | (58, true) => {
                let hlen = if v6 { ICMPV6_HEADER_LEN } else { ICMPV4_HEADER_LEN };
                if seg.len() < hlen {
                    return None;
                }
                let error = if v6 {
                    crate::icmpv6::Icmpv6Message::from(seg[0]).is_error()
                } else {
                    crate::icmpv4::Icmpv4Message::from(seg[0]).is_error()
                };
                if error {
                    return None;
                }
                (hlen, end)
            }
            // An IPv6 extension header: the walk goes on.
            (p, true) if crate::ipv6ext::is_ext_header(p) => return None,
            // Other protocols: the offset is known, the header is not
            // interpreted.
            _ => (0, end),
        };
        Some(FastScan { ethernet, ethertype, v6, nh, nh_len, end, protocol, th_len, th_end })
    }

    impl FastScan {
        /// [`Frame::ip_headers`] of [`FastScan::frame`].
        #[inline(always)]
        pub(super) fn headers(self) -> IpHeaders {
            IpHeaders {
                ethertype: self.ethernet.then_some(EtherType(self.ethertype)),
                v6: self.v6,
                nh: self.nh,
                end: self.end,
                protocol: Some(self.protocol),
                th: Some(self.nh + self.nh_len),
                inner: None,
            }
        }

        /// The frame the general walk builds for the scanned buffer.
        #[inline(always)]
        pub(super) fn frame(self, buf: &[u8]) -> Frame {
            let link = self.ethernet.then(|| LinkInfo {
                dst: EthernetAddress(*buf.first_chunk::<6>().unwrap()),
                src: EthernetAddress(*buf[6..].first_chunk::<6>().unwrap()),
                outer_ethertype: EtherType(self.ethertype),
                ethertype: EtherType(self.ethertype),
                header_len: ETHERNET_HEADER_LEN,
                tags: [VlanInfo::default(); MAX_VLAN_TAGS],
                tag_count: 0,
            });
            let h = &buf[self.nh..];
            let (kind, src, dst) = if self.v6 {
                (
                    NetworkKind::Ipv6,
                    IpAddr::V6(Ipv6Addr::from(*h[8..].first_chunk::<16>().unwrap())),
                    IpAddr::V6(Ipv6Addr::from(*h[24..].first_chunk::<16>().unwrap())),
                )
            } else {
                (
                    NetworkKind::Ipv4,
                    IpAddr::V4(Ipv4Addr::from(*h[12..].first_chunk::<4>().unwrap())),
                    IpAddr::V4(Ipv4Addr::from(*h[16..].first_chunk::<4>().unwrap())),
                )
            };
            Frame {
                link,
                network: Some(NetworkInfo {
                    kind,
                    offset: self.nh,
                    header_len: self.nh_len,
                    end: self.end,
                    src: Some(src),
                    dst: Some(dst),
                    protocol: Some(self.protocol),
                    fragment: None,
                }),
                transport: Some(TransportInfo {
                    protocol: self.protocol,
                    offset: self.nh + self.nh_len,
                    header_len: self.th_len,
                    end: self.th_end,
                }),
                inner: None,
                malformed: None,
                inner_malformed: None,
                l4_checksum: L4Checksum::NotVerified,
            }
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        /// Ethernet + IPv4 (good checksum) + TCP or UDP, 4 bytes of data
        /// and 6 of link padding.
        fn v4(proto: u8) -> Vec<u8> {
            let mut b = vec![2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x08, 0x00];
            let l4 = if proto == 6 { 20 } else { 8 };
            let len = (20 + l4 + 4) as u16;
            b.extend_from_slice(&[0x45, 0, 0, 0, 0, 1, 0x40, 0, 64, proto, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2]);
            b[16..18].copy_from_slice(&len.to_be_bytes());
            let c = checksum::checksum(&b[14..34]);
            b[24..26].copy_from_slice(&c.to_be_bytes());
            let mut t = vec![0u8; l4 + 4];
            t[..4].copy_from_slice(&[0x30, 0x39, 0, 80]);
            if proto == 6 {
                t[12] = 0x50;
            } else {
                t[4..6].copy_from_slice(&((l4 + 4) as u16).to_be_bytes());
            }
            b.extend_from_slice(&t);
            b.extend_from_slice(&[0; 6]);
            b
        }

        fn v6(proto: u8) -> Vec<u8> {
            let mut b = vec![2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x86, 0xdd];
            let l4 = if proto == 6 { 20 } else { 8 };
            b.extend_from_slice(&[0x60, 0, 0, 0, 0, (l4 + 4) as u8, proto, 64]);
            b.extend((0..32).map(|i| i as u8));
            let mut t = vec![0u8; l4 + 4];
            if proto == 6 {
                t[12] = 0x60;
                t.extend_from_slice(&[0; 4]);
                b[19] += 4;
            } else {
                t[4..6].copy_from_slice(&((l4 + 4) as u16).to_be_bytes());
            }
            b.extend_from_slice(&t);
            b
        }

        /// Whether the scan takes `b` as a frame and its IP packet as raw
        /// IP; what it builds when it does is what the walk builds.
        fn taken(b: &[u8], opts: &ParseOptions) -> (bool, bool) {
            let s = scan_frame(b, opts);
            if let Some(s) = s {
                assert_eq!(s.frame(b), parse_frame_general(b, opts));
            }
            let r = scan_ip(&b[14..], opts);
            if let Some(r) = r {
                assert_eq!(r.frame(&b[14..]), parse_ip_general(&b[14..], opts));
            }
            (s.is_some(), r.is_some())
        }

        /// `b` (IPv4) with another protocol and first transport byte.
        fn with_proto(b: &[u8], proto: u8, first: u8) -> Vec<u8> {
            let mut b = b.to_vec();
            b[23] = proto;
            b[24..26].copy_from_slice(&[0, 0]);
            let c = checksum::checksum(&b[14..34]);
            b[24..26].copy_from_slice(&c.to_be_bytes());
            b[34] = first;
            b
        }

        #[test]
        fn the_common_shapes_take_the_fast_path() {
            let o = ParseOptions::default();
            // ICMP echo, GRE; ICMPv6 echo, no next header.
            let mut more = vec![with_proto(&v4(17), 1, 8), with_proto(&v4(17), 47, 0)];
            for (nh, first) in [(58, 128), (59, 0)] {
                let mut b = v6(17);
                b[20] = nh;
                b[54] = first;
                more.push(b);
            }
            for b in [v4(6), v4(17), v6(6), v6(17)].into_iter().chain(more) {
                assert_eq!(taken(&b, &o), (true, true), "{b:02x?}");
                assert!(parse_frame_general(&b, &o).transport.is_some());
            }
        }

        #[test]
        fn other_shapes_and_faults_go_the_general_way() {
            let o = ParseOptions::default();
            let mut cases = Vec::new();
            // ICMP, another EtherType, a VLAN tag, IPv4 options, MF,
            // a fragment offset, a bad checksum, a short UDP length, a TCP
            // data offset past the segment, truncation, an IPv6 extension
            // header.
            for (at, v) in [(12, 0x88), (14, 0x46), (20, 0x60), (21, 1), (39, 4)] {
                let mut b = v4(17);
                b[at] = v;
                if (14..34).contains(&at) {
                    b[24..26].copy_from_slice(&[0, 0]);
                    let c = checksum::checksum(&b[14..34]);
                    b[24..26].copy_from_slice(&c.to_be_bytes());
                }
                cases.push(b);
            }
            let mut b = v4(17);
            b[24] ^= 0xff;
            cases.push(b);
            // ICMP errors (destination unreachable).
            cases.push(with_proto(&v4(17), 1, 3));
            let mut b = v6(17);
            b[20] = 58;
            b[54] = 1;
            cases.push(b);
            let mut b = v4(6);
            b[46] = 0xf0;
            cases.push(b);
            let mut b = v4(6);
            b.truncate(40);
            cases.push(b);
            let mut b = v6(17);
            b[20] = 0;
            cases.push(b);
            let mut b = v4(17);
            b[12..14].copy_from_slice(&[0x81, 0x00]);
            b.splice(14..14, [0, 5, 0x08, 0x00]);
            assert!(parse_frame_general(&b, &o).transport.is_some());
            cases.push(b);
            for b in cases {
                assert!(!taken(&b, &o).0, "{b:02x?}");
            }
            // A bad checksum is the fast path's when it is not verified.
            let mut b = v4(17);
            b[24] ^= 1;
            assert_eq!(taken(&b, &ParseOptions { verify_ipv4_checksum: false }), (true, true));
        }
    }
}
