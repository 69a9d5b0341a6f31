//! ICMPv6 (RFC 4443) and the neighbor discovery types (RFC 4861), which
//! are passed through.
//!
//! The checksum covers the message and the IPv6 pseudo-header (RFC 4443
//! §2.3, RFC 8200 §8.1). Error messages have types below 128 (RFC 4443
//! §2.1; the kernel's `icmpv6_error()` relates exactly those) and quote as
//! much of the offending packet as fits in the minimum MTU;
//! [`Icmpv6Packet::quoted_ipv6`] views it.

use core::net::{IpAddr, Ipv6Addr};

use crate::checksum;
use crate::field::{get16, get32, set16, set32};
use crate::ipv6::Ipv6Packet;
use crate::{Error, Result};

/// Fixed part of every ICMPv6 message.
pub const ICMPV6_HEADER_LEN: usize = 8;

enum_with_unknown! {
    /// ICMPv6 message types (RFC 4443, RFC 4861, RFC 3810).
    pub enum Icmpv6Message(u8) {
        /// Destination unreachable.
        DstUnreachable = 1, "destination-unreachable",
        /// Packet too big (MTU in bytes 4-7).
        PktTooBig = 2, "packet-too-big",
        /// Time exceeded.
        TimeExceeded = 3, "time-exceeded",
        /// Parameter problem (pointer in bytes 4-7).
        ParamProblem = 4, "parameter-problem",
        /// Echo request.
        EchoRequest = 128, "echo-request",
        /// Echo reply.
        EchoReply = 129, "echo-reply",
        /// Multicast listener query.
        MldQuery = 130, "mld-listener-query",
        /// Multicast listener report.
        MldReport = 131, "mld-listener-report",
        /// Multicast listener done.
        MldDone = 132, "mld-listener-done",
        /// Router solicitation.
        RouterSolicit = 133, "nd-router-solicit",
        /// Router advertisement.
        RouterAdvert = 134, "nd-router-advert",
        /// Neighbor solicitation.
        NeighborSolicit = 135, "nd-neighbor-solicit",
        /// Neighbor advertisement.
        NeighborAdvert = 136, "nd-neighbor-advert",
        /// Redirect.
        Redirect = 137, "nd-redirect",
        /// MLDv2 report (RFC 3810).
        MldV2Report = 143, "mld2-listener-report",
    }
}

impl Icmpv6Message {
    /// Error messages: types 0-127 (RFC 4443 §2.1).
    pub fn is_error(self) -> bool {
        u8::from(self) < 128
    }

    /// Neighbor discovery messages (RFC 4861 §4), which conntrack leaves
    /// untracked.
    pub fn is_ndisc(self) -> bool {
        matches!(u8::from(self), 133..=137)
    }
}

enum_with_unknown! {
    /// Destination unreachable codes (RFC 4443 §3.1); names as nft's
    /// `icmpv6_code` type.
    pub enum Icmpv6DstUnreachable(u8) {
        /// No route to destination.
        NoRoute = 0, "no-route",
        /// Communication administratively prohibited.
        AdminProhibit = 1, "admin-prohibited",
        /// Beyond scope of source address.
        BeyondScope = 2, "beyond-scope",
        /// Address unreachable.
        AddrUnreachable = 3, "addr-unreachable",
        /// Port unreachable.
        PortUnreachable = 4, "port-unreachable",
        /// Source address failed ingress/egress policy.
        FailedPolicy = 5, "policy-fail",
        /// Reject route to destination.
        RejectRoute = 6, "reject-route",
    }
}

enum_with_unknown! {
    /// Time exceeded codes (RFC 4443 §3.3).
    pub enum Icmpv6TimeExceeded(u8) {
        /// Hop limit exceeded in transit.
        HopLimitExceeded = 0, "hop-limit-exceeded",
        /// Fragment reassembly time exceeded.
        FragReassemExceeded = 1, "reassembly-time-exceeded",
    }
}

/// A view of an ICMPv6 message.
#[derive(Debug, Clone)]
pub struct Icmpv6Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Icmpv6Packet<T> {
    /// Wraps without checking.
    pub const fn new_unchecked(buffer: T) -> Self {
        Icmpv6Packet { buffer }
    }

    /// Wraps, checking the 8-byte fixed part.
    pub fn new_checked(buffer: T) -> Result<Self> {
        let p = Self::new_unchecked(buffer);
        p.check_len()?;
        Ok(p)
    }

    /// See [`Icmpv6Packet::new_checked`].
    pub fn check_len(&self) -> Result<()> {
        if self.buffer.as_ref().len() < ICMPV6_HEADER_LEN { Err(Error::Truncated) } else { Ok(()) }
    }

    /// The wrapped buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// Message type.
    pub fn msg_type(&self) -> Icmpv6Message {
        Icmpv6Message::from(self.buffer.as_ref()[0])
    }

    /// Message code.
    pub fn msg_code(&self) -> u8 {
        self.buffer.as_ref()[1]
    }

    /// Checksum.
    pub fn checksum(&self) -> u16 {
        get16(self.buffer.as_ref(), 2)
    }

    /// Echo identifier.
    pub fn echo_ident(&self) -> u16 {
        get16(self.buffer.as_ref(), 4)
    }

    /// Echo sequence number.
    pub fn echo_seq_no(&self) -> u16 {
        get16(self.buffer.as_ref(), 6)
    }

    /// Bytes 4-7 (MTU of packet-too-big, pointer of parameter problem).
    pub fn rest_of_header(&self) -> u32 {
        get32(self.buffer.as_ref(), 4)
    }

    /// The data after the fixed part.
    pub fn data(&self) -> &[u8] {
        &self.buffer.as_ref()[ICMPV6_HEADER_LEN..]
    }

    /// For an error message, the quoted IPv6 packet (fixed header complete,
    /// payload possibly cut).
    pub fn quoted_ipv6(&self) -> Option<Result<Ipv6Packet<&[u8]>>> {
        self.msg_type().is_error().then(|| Ipv6Packet::new_quoted(self.data()))
    }

    /// True when the checksum verifies with the pseudo-header.
    pub fn verify_checksum(&self, src: Ipv6Addr, dst: Ipv6Addr) -> bool {
        checksum::verify_transport(IpAddr::V6(src), IpAddr::V6(dst), 58, self.buffer.as_ref())
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Icmpv6Packet<T> {
    /// Sets the type.
    pub fn set_msg_type(&mut self, t: Icmpv6Message) {
        self.buffer.as_mut()[0] = t.into();
    }

    /// Sets the code.
    pub fn set_msg_code(&mut self, c: u8) {
        self.buffer.as_mut()[1] = c;
    }

    /// Sets the checksum field.
    pub fn set_checksum(&mut self, v: u16) {
        set16(self.buffer.as_mut(), 2, v);
    }

    /// Sets the echo identifier.
    pub fn set_echo_ident(&mut self, v: u16) {
        set16(self.buffer.as_mut(), 4, v);
    }

    /// Sets bytes 4-7.
    pub fn set_rest_of_header(&mut self, v: u32) {
        set32(self.buffer.as_mut(), 4, v);
    }

    /// Mutable data.
    pub fn data_mut(&mut self) -> &mut [u8] {
        &mut self.buffer.as_mut()[ICMPV6_HEADER_LEN..]
    }

    /// Computes the checksum with the pseudo-header.
    pub fn fill_checksum(&mut self, src: Ipv6Addr, dst: Ipv6Addr) {
        self.set_checksum(0);
        let c = checksum::transport_checksum(IpAddr::V6(src), IpAddr::V6(dst), 58, self.buffer.as_ref());
        self.set_checksum(c);
    }

    /// Rewrites the echo identifier with an incremental checksum update.
    pub fn rewrite_echo_ident(&mut self, v: u16) {
        let c = checksum::update16(self.checksum(), self.echo_ident(), v);
        self.set_echo_ident(v);
        self.set_checksum(c);
    }

    /// Updates the checksum for a pseudo-header address change.
    pub fn update_checksum_for_addr(&mut self, old: Ipv6Addr, new: Ipv6Addr) {
        let c = checksum::update_bytes(self.checksum(), &old.octets(), &new.octets());
        self.set_checksum(c);
    }
}

/// The fields of an ICMPv6 message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Icmpv6Repr<'a> {
    /// Echo request.
    EchoRequest {
        /// Identifier.
        ident: u16,
        /// Sequence number.
        seq_no: u16,
        /// Data.
        data: &'a [u8],
    },
    /// Echo reply.
    EchoReply {
        /// Identifier.
        ident: u16,
        /// Sequence number.
        seq_no: u16,
        /// Data.
        data: &'a [u8],
    },
    /// An error (type < 128) with the quoted packet.
    Error {
        /// Type.
        msg_type: Icmpv6Message,
        /// Code.
        code: u8,
        /// Bytes 4-7 (unused, MTU or pointer).
        rest: u32,
        /// The quoted packet.
        quoted: &'a [u8],
    },
    /// Any other message (neighbor discovery, MLD, ...), passed through.
    Other {
        /// Type.
        msg_type: Icmpv6Message,
        /// Code.
        code: u8,
        /// Bytes 4-7.
        rest: u32,
        /// Data.
        data: &'a [u8],
    },
}

impl<'a> Icmpv6Repr<'a> {
    /// Parses a message; with `addrs`, verifies the checksum first.
    pub fn parse<T: AsRef<[u8]> + ?Sized>(
        p: &Icmpv6Packet<&'a T>,
        addrs: Option<(Ipv6Addr, Ipv6Addr)>,
    ) -> Result<Self> {
        p.check_len()?;
        if let Some((s, d)) = addrs
            && !p.verify_checksum(s, d)
        {
            return Err(Error::BadChecksum);
        }
        let buf: &'a T = p.buffer;
        let data = &buf.as_ref()[ICMPV6_HEADER_LEN..];
        let (t, code, rest) = (p.msg_type(), p.msg_code(), p.rest_of_header());
        Ok(match t {
            Icmpv6Message::EchoRequest if code == 0 => {
                Icmpv6Repr::EchoRequest { ident: p.echo_ident(), seq_no: p.echo_seq_no(), data }
            }
            Icmpv6Message::EchoReply if code == 0 => {
                Icmpv6Repr::EchoReply { ident: p.echo_ident(), seq_no: p.echo_seq_no(), data }
            }
            t if t.is_error() => {
                Ipv6Packet::new_quoted(data)?;
                Icmpv6Repr::Error { msg_type: t, code, rest, quoted: data }
            }
            t => Icmpv6Repr::Other { msg_type: t, code, rest, data },
        })
    }

    /// Message length.
    pub fn buffer_len(&self) -> usize {
        ICMPV6_HEADER_LEN
            + match self {
                Icmpv6Repr::EchoRequest { data, .. }
                | Icmpv6Repr::EchoReply { data, .. }
                | Icmpv6Repr::Other { data, .. } => data.len(),
                Icmpv6Repr::Error { quoted, .. } => quoted.len(),
            }
    }

    /// Writes the message into `buffer_len()` bytes and fills the checksum.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, p: &mut Icmpv6Packet<T>, src: Ipv6Addr, dst: Ipv6Addr) {
        let (t, code, rest, data) = match *self {
            Icmpv6Repr::EchoRequest { ident, seq_no, data } => {
                (Icmpv6Message::EchoRequest, 0, (u32::from(ident) << 16) | u32::from(seq_no), data)
            }
            Icmpv6Repr::EchoReply { ident, seq_no, data } => {
                (Icmpv6Message::EchoReply, 0, (u32::from(ident) << 16) | u32::from(seq_no), data)
            }
            Icmpv6Repr::Error { msg_type, code, rest, quoted } => (msg_type, code, rest, quoted),
            Icmpv6Repr::Other { msg_type, code, rest, data } => (msg_type, code, rest, data),
        };
        p.set_msg_type(t);
        p.set_msg_code(code);
        p.set_rest_of_header(rest);
        p.data_mut()[..data.len()].copy_from_slice(data);
        p.fill_checksum(src, dst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addrs() -> (Ipv6Addr, Ipv6Addr) {
        ("fe80::1".parse().unwrap(), "ff02::1:ff00:2".parse().unwrap())
    }

    #[test]
    fn neighbor_solicitation_passes_through() {
        let (s, d) = addrs();
        let target: Ipv6Addr = "fe80::2".parse().unwrap();
        let mut data = target.octets().to_vec();
        data.extend_from_slice(&[1, 1, 2, 0, 0, 0, 0, 1]); // source link-layer address option
        let r = Icmpv6Repr::Other { msg_type: Icmpv6Message::NeighborSolicit, code: 0, rest: 0, data: &data };
        let mut out = vec![0u8; r.buffer_len()];
        r.emit(&mut Icmpv6Packet::new_unchecked(&mut out[..]), s, d);
        let p = Icmpv6Packet::new_checked(&out[..]).unwrap();
        assert!(p.msg_type().is_ndisc());
        assert_eq!(Icmpv6Repr::parse(&p, Some((s, d))).unwrap(), r);
    }

    #[test]
    fn echo_and_errors() {
        let (s, d) = addrs();
        let r = Icmpv6Repr::EchoRequest { ident: 7, seq_no: 9, data: b"ping" };
        let mut out = vec![0u8; r.buffer_len()];
        r.emit(&mut Icmpv6Packet::new_unchecked(&mut out[..]), s, d);
        let mut p = Icmpv6Packet::new_checked(&mut out[..]).unwrap();
        p.rewrite_echo_ident(1000);
        let ns: Ipv6Addr = "2001:db8::5".parse().unwrap();
        p.update_checksum_for_addr(s, ns);
        assert!(p.verify_checksum(ns, d));
        // Packet too big quoting an IPv6 header + 8 bytes.
        let mut inner = vec![0x60, 0, 0, 0, 0, 8, 17, 64];
        inner.extend_from_slice(&d.octets());
        inner.extend_from_slice(&s.octets());
        inner.extend_from_slice(&[0, 1, 0, 2, 0, 8, 0, 0]);
        let e = Icmpv6Repr::Error { msg_type: Icmpv6Message::PktTooBig, code: 0, rest: 1280, quoted: &inner };
        let mut out = vec![0u8; e.buffer_len()];
        e.emit(&mut Icmpv6Packet::new_unchecked(&mut out[..]), s, d);
        let p = Icmpv6Packet::new_checked(&out[..]).unwrap();
        assert_eq!(Icmpv6Repr::parse(&p, Some((s, d))).unwrap(), e);
        let q = p.quoted_ipv6().unwrap().unwrap();
        assert_eq!(q.walk().unwrap().protocol, 17);
        assert_eq!(Icmpv6DstUnreachable::from(4).to_string(), "port-unreachable");
    }

    #[test]
    fn malformed() {
        let (s, d) = addrs();
        let b = [128u8, 0, 0, 0, 0, 1, 0, 1];
        for n in 0..8 {
            assert_eq!(Icmpv6Packet::new_checked(&b[..n]).unwrap_err(), Error::Truncated);
        }
        let p = Icmpv6Packet::new_checked(&b[..]).unwrap();
        assert_eq!(Icmpv6Repr::parse(&p, Some((s, d))).unwrap_err(), Error::BadChecksum);
    }
}
