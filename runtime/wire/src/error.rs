//! The one error type of the crate: why bytes are not a valid header.

use core::fmt;

/// Why a buffer is not a well-formed header. The `Display` text is the
/// reason printed in a per-frame `malformed: <layer>: <reason>` report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Error {
    /// The buffer ends before the fixed part of the header, or before the
    /// length the header itself states.
    Truncated,
    /// A header-length field is below the protocol minimum (IPv4 IHL < 5,
    /// TCP data offset < 5) or otherwise impossible.
    BadHeaderLength,
    /// A total/payload length field contradicts the header (IPv4 total
    /// length < IHL*4, UDP length < 8).
    BadTotalLength,
    /// The IP version nibble is not the one of the view.
    BadVersion,
    /// A checksum does not verify.
    BadChecksum,
    /// An option (IPv4, IPv6 hop-by-hop/destination, TCP) has a length that
    /// runs past its header or contradicts its kind.
    BadOption,
    /// Fragment fields are impossible (offset + length beyond 65535).
    BadFragment,
    /// More stacked headers (VLAN tags, IPv6 extension headers) than the
    /// bounded walker accepts.
    TooManyHeaders,
    /// A field value a `Repr` cannot represent (e.g. a SACK option with
    /// more blocks than fit).
    Unrecognized,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Error::Truncated => "truncated",
            Error::BadHeaderLength => "bad header length",
            Error::BadTotalLength => "bad total length",
            Error::BadVersion => "bad version",
            Error::BadChecksum => "bad checksum",
            Error::BadOption => "bad option",
            Error::BadFragment => "bad fragment",
            Error::TooManyHeaders => "too many headers",
            Error::Unrecognized => "unrecognized field value",
        })
    }
}

impl std::error::Error for Error {}

/// Result alias of the crate.
pub type Result<T> = core::result::Result<T, Error>;

/// The header in which [`parse_frame`](crate::parse_frame) found a fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Layer {
    /// Ethernet II header.
    Ethernet,
    /// An IEEE 802.1Q / 802.1ad tag.
    Vlan,
    /// ARP (RFC 826).
    Arp,
    /// IPv4 header (RFC 791).
    Ipv4,
    /// IPv6 fixed header (RFC 8200).
    Ipv6,
    /// An IPv6 extension header (RFC 8200 §4).
    Ipv6Ext,
    /// TCP header (RFC 9293).
    Tcp,
    /// UDP header (RFC 768).
    Udp,
    /// ICMP header (RFC 792).
    Icmp,
    /// ICMPv6 header (RFC 4443).
    Icmpv6,
}

impl Layer {
    /// The lower-case name used in reports.
    pub fn name(self) -> &'static str {
        match self {
            Layer::Ethernet => "ethernet",
            Layer::Vlan => "vlan",
            Layer::Arp => "arp",
            Layer::Ipv4 => "ipv4",
            Layer::Ipv6 => "ipv6",
            Layer::Ipv6Ext => "ipv6 extension header",
            Layer::Tcp => "tcp",
            Layer::Udp => "udp",
            Layer::Icmp => "icmp",
            Layer::Icmpv6 => "icmpv6",
        }
    }
}

impl fmt::Display for Layer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A classified fault: which header, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Malformed {
    /// The header that failed validation.
    pub layer: Layer,
    /// The reason.
    pub reason: Error,
}

impl fmt::Display for Malformed {
    /// `ipv4: truncated`, to be printed after `malformed: `.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.layer, self.reason)
    }
}
