//! ctc-wire: checked packet views and `Repr` parse/emit for the formats a
//! netfilter gateway sees (DESIGN.md §2, `runtime/wire`).
//!
//! Two levels, in the style of smoltcp's `wire` module:
//!
//! * **Views** — `Packet<T: AsRef<[u8]>>` per protocol ([`EthernetFrame`],
//!   [`VlanTag`], [`Ipv4Packet`], [`Ipv6Packet`], [`Ipv6ExtHeader`],
//!   [`Ipv6FragmentHeader`], [`TcpPacket`], [`UdpPacket`], [`Icmpv4Packet`],
//!   [`Icmpv6Packet`]). `new_checked` validates every length the header
//!   states against the buffer once; after that no getter panics and no
//!   accessor re-validates ("validate bytes once, then trust the view",
//!   DESIGN.md §6). `new_unchecked` is for emitting into a buffer the caller
//!   sized with `Repr::buffer_len`. Setters exist when `T: AsMut<[u8]>`.
//! * **Reprs** — a compact, owned-or-borrowed description of a header with
//!   `parse(&Packet)` and `emit(&mut Packet)`; `parse` followed by `emit`
//!   reproduces the bytes of well-formed input.
//!
//! [`parse_frame`] (Ethernet input) and [`parse_ip`] (LINKTYPE_RAW input)
//! classify a whole frame in one pass without allocating: link header and
//! VLAN tags, network header, transport header and, for ICMP errors, the
//! quoted inner header. Truncated or malformed input never panics: the
//! [`Frame`] carries a [`Malformed`] `{ layer, reason }` instead.
//!
//! [`checksum`] holds the RFC 1071 Internet checksum (with the TCP/UDP/ICMPv6
//! pseudo-headers) and the RFC 1624 incremental update used by NAT.
//!
//! References: IEEE 802.1Q (VLAN tags, 802.1ad S-tags), RFC 826 (ARP),
//! RFC 791 (IPv4), RFC 8200 (IPv6 and its extension headers), RFC 4302 (AH),
//! RFC 9293 (TCP), RFC 7323 (window scale, timestamps), RFC 2018 (SACK),
//! RFC 768 (UDP), RFC 792 (ICMP), RFC 4443 (ICMPv6), RFC 4861 (neighbor
//! discovery), RFC 1071 (checksum), RFC 1624 (incremental checksum update).
#![forbid(unsafe_code)]
#![warn(missing_docs)]

#[macro_use]
mod macros;
pub mod checksum;
mod error;
mod ethernet;
mod field;
mod frame;
mod icmpv4;
mod icmpv6;
mod ip;
mod ipv4;
mod ipv6;
mod ipv6ext;
mod tcp;
mod udp;

pub use error::{Error, Layer, Malformed, Result};
pub use ethernet::{
    ArpPacket, ETHERNET_HEADER_LEN, EtherType, EthernetAddress, EthernetFrame, EthernetRepr, VLAN_TAG_LEN, VlanRepr,
    VlanTag,
};
pub use frame::{
    FragmentInfo, Frame, InnerInfo, IpHeaders, L4Checksum, LinkInfo, MAX_VLAN_TAGS, NetworkInfo, NetworkKind,
    ParseOptions, TransportInfo, VlanInfo, ip_headers_of_frame, ip_headers_of_ip, parse_frame, parse_frame_general,
    parse_frame_with, parse_ip, parse_ip_general, parse_ip_with, with_ip_headers_of_frame, with_ip_headers_of_ip,
};
pub use icmpv4::{
    ICMPV4_HEADER_LEN, Icmpv4DstUnreachable, Icmpv4Message, Icmpv4Packet, Icmpv4Repr, Icmpv4TimeExceeded,
};
pub use icmpv6::{
    ICMPV6_HEADER_LEN, Icmpv6DstUnreachable, Icmpv6Message, Icmpv6Packet, Icmpv6Repr, Icmpv6TimeExceeded,
};
pub use ip::{IpProtocol, NfProto};
pub use ipv4::{IPV4_HEADER_LEN, Ipv4Option, Ipv4OptionIter, Ipv4Options, Ipv4Packet, Ipv4Repr};
pub use ipv6::{IPV6_HEADER_LEN, Ipv6Packet, Ipv6Repr};
pub use ipv6ext::{
    Ipv6ExtHeader, Ipv6ExtHeaderIter, Ipv6ExtInfo, Ipv6FragmentHeader, Ipv6FragmentRepr, Ipv6Option, Ipv6OptionIter,
    Ipv6Walk, MAX_IPV6_EXT_HEADERS,
};
pub use tcp::{TCP_HEADER_LEN, TcpFlags, TcpOption, TcpOptionIter, TcpPacket, TcpRepr};
pub use udp::{UDP_HEADER_LEN, UdpPacket, UdpRepr};

/// Address types used by the views (re-exported from `core::net`).
pub use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};
