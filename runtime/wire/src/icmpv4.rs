//! ICMP for IPv4 (RFC 792).
//!
//! Every message has type, code and checksum (over the whole ICMP message,
//! no pseudo-header), then 4 bytes whose meaning depends on the type (echo
//! identifier and sequence number, the gateway of a redirect, the pointer
//! of a parameter problem, the next-hop MTU of "fragmentation needed",
//! RFC 1191), then data. Error messages (destination unreachable, source
//! quench, redirect, time exceeded, parameter problem — the kernel's
//! `icmp_is_err()`) quote the offending IP header and at least 8 bytes of
//! its payload; [`Icmpv4Packet::quoted_ipv4`] views it.

use crate::checksum;
use crate::field::{get16, get32, set16, set32};
use crate::ipv4::Ipv4Packet;
use crate::{Error, Result};

/// Fixed part of every ICMP message.
pub const ICMPV4_HEADER_LEN: usize = 8;

enum_with_unknown! {
    /// ICMP message types (RFC 792; RFC 950 for address mask).
    pub enum Icmpv4Message(u8) {
        /// Echo reply.
        EchoReply = 0, "echo-reply",
        /// Destination unreachable.
        DstUnreachable = 3, "destination-unreachable",
        /// Source quench (deprecated, RFC 6633).
        SourceQuench = 4, "source-quench",
        /// Redirect.
        Redirect = 5, "redirect",
        /// Echo request.
        EchoRequest = 8, "echo-request",
        /// Router advertisement (RFC 1256).
        RouterAdvert = 9, "router-advertisement",
        /// Router solicitation (RFC 1256).
        RouterSolicit = 10, "router-solicitation",
        /// Time exceeded.
        TimeExceeded = 11, "time-exceeded",
        /// Parameter problem.
        ParamProblem = 12, "parameter-problem",
        /// Timestamp request.
        Timestamp = 13, "timestamp-request",
        /// Timestamp reply.
        TimestampReply = 14, "timestamp-reply",
        /// Information request.
        InfoRequest = 15, "info-request",
        /// Information reply.
        InfoReply = 16, "info-reply",
        /// Address mask request.
        AddressMaskRequest = 17, "address-mask-request",
        /// Address mask reply.
        AddressMaskReply = 18, "address-mask-reply",
    }
}

impl Icmpv4Message {
    /// True for the error messages that quote a datagram (the kernel's
    /// `icmp_is_err()`; conntrack relates them to the quoted connection).
    pub fn is_error(self) -> bool {
        matches!(
            self,
            Self::DstUnreachable | Self::SourceQuench | Self::Redirect | Self::TimeExceeded | Self::ParamProblem
        )
    }

    /// True for the query types conntrack tracks as request/reply pairs.
    pub fn is_query(self) -> bool {
        matches!(self, Self::EchoRequest | Self::Timestamp | Self::InfoRequest | Self::AddressMaskRequest)
    }
}

enum_with_unknown! {
    /// Destination unreachable codes (RFC 792, RFC 1122 §3.2.2.1, RFC 1812
    /// §5.2.7.1); names as nft's `icmp_code` type spells them where it has
    /// one.
    pub enum Icmpv4DstUnreachable(u8) {
        /// Network unreachable.
        NetUnreachable = 0, "net-unreachable",
        /// Host unreachable.
        HostUnreachable = 1, "host-unreachable",
        /// Protocol unreachable.
        ProtoUnreachable = 2, "prot-unreachable",
        /// Port unreachable.
        PortUnreachable = 3, "port-unreachable",
        /// Fragmentation needed and DF set (RFC 1191: MTU in bytes 6-7).
        FragRequired = 4, "frag-needed",
        /// Source route failed.
        SrcRouteFailed = 5, "source-route-failed",
        /// Destination network unknown.
        DstNetUnknown = 6, "net-unknown",
        /// Destination host unknown.
        DstHostUnknown = 7, "host-unknown",
        /// Source host isolated.
        SrcHostIsolated = 8, "host-isolated",
        /// Network administratively prohibited.
        NetProhibited = 9, "net-prohibited",
        /// Host administratively prohibited.
        HostProhibited = 10, "host-prohibited",
        /// Network unreachable for ToS.
        NetUnreachToS = 11, "net-unreachable-tos",
        /// Host unreachable for ToS.
        HostUnreachToS = 12, "host-unreachable-tos",
        /// Communication administratively prohibited (RFC 1812).
        CommProhibited = 13, "admin-prohibited",
        /// Host precedence violation.
        HostPrecedViol = 14, "host-precedence-violation",
        /// Precedence cutoff in effect.
        PrecedCutoff = 15, "precedence-cutoff",
    }
}

enum_with_unknown! {
    /// Time exceeded codes (RFC 792).
    pub enum Icmpv4TimeExceeded(u8) {
        /// TTL exceeded in transit.
        TtlExpired = 0, "ttl-exceeded",
        /// Fragment reassembly time exceeded.
        FragExpired = 1, "reassembly-time-exceeded",
    }
}

/// A view of an ICMP message.
#[derive(Debug, Clone)]
pub struct Icmpv4Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Icmpv4Packet<T> {
    /// Wraps without checking.
    pub const fn new_unchecked(buffer: T) -> Self {
        Icmpv4Packet { buffer }
    }

    /// Wraps, checking the 8-byte fixed part (the kernel's `icmp_error()`
    /// requires it too).
    pub fn new_checked(buffer: T) -> Result<Self> {
        let p = Self::new_unchecked(buffer);
        p.check_len()?;
        Ok(p)
    }

    /// See [`Icmpv4Packet::new_checked`].
    pub fn check_len(&self) -> Result<()> {
        if self.buffer.as_ref().len() < ICMPV4_HEADER_LEN { Err(Error::Truncated) } else { Ok(()) }
    }

    /// The wrapped buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// Message type.
    pub fn msg_type(&self) -> Icmpv4Message {
        Icmpv4Message::from(self.buffer.as_ref()[0])
    }

    /// Message code.
    pub fn msg_code(&self) -> u8 {
        self.buffer.as_ref()[1]
    }

    /// Checksum.
    pub fn checksum(&self) -> u16 {
        get16(self.buffer.as_ref(), 2)
    }

    /// Echo (and timestamp, info, mask) identifier, bytes 4-5.
    pub fn echo_ident(&self) -> u16 {
        get16(self.buffer.as_ref(), 4)
    }

    /// Echo sequence number, bytes 6-7.
    pub fn echo_seq_no(&self) -> u16 {
        get16(self.buffer.as_ref(), 6)
    }

    /// Bytes 4-7 as one word (gateway, pointer, MTU ...).
    pub fn rest_of_header(&self) -> u32 {
        get32(self.buffer.as_ref(), 4)
    }

    /// Next-hop MTU of "fragmentation needed" (RFC 1191), bytes 6-7.
    pub fn next_hop_mtu(&self) -> u16 {
        get16(self.buffer.as_ref(), 6)
    }

    /// The data after the 8-byte fixed part (echo data, or the quoted
    /// datagram of an error).
    pub fn data(&self) -> &[u8] {
        &self.buffer.as_ref()[ICMPV4_HEADER_LEN..]
    }

    /// For an error message, the quoted IP header as a view whose header
    /// (with options) is complete; its payload is what was quoted.
    pub fn quoted_ipv4(&self) -> Option<Result<Ipv4Packet<&[u8]>>> {
        self.msg_type().is_error().then(|| Ipv4Packet::new_quoted(self.data()))
    }

    /// True when the checksum over the message verifies (RFC 792).
    pub fn verify_checksum(&self) -> bool {
        checksum::sum(self.buffer.as_ref()) == 0xffff
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Icmpv4Packet<T> {
    /// Sets the type.
    pub fn set_msg_type(&mut self, t: Icmpv4Message) {
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

    /// Sets the echo sequence number.
    pub fn set_echo_seq_no(&mut self, v: u16) {
        set16(self.buffer.as_mut(), 6, v);
    }

    /// Sets bytes 4-7.
    pub fn set_rest_of_header(&mut self, v: u32) {
        set32(self.buffer.as_mut(), 4, v);
    }

    /// Mutable data.
    pub fn data_mut(&mut self) -> &mut [u8] {
        &mut self.buffer.as_mut()[ICMPV4_HEADER_LEN..]
    }

    /// Computes the checksum over the whole buffer.
    pub fn fill_checksum(&mut self) {
        self.set_checksum(0);
        let c = checksum::checksum(self.buffer.as_ref());
        self.set_checksum(c);
    }

    /// Rewrites the echo identifier (NAT maps it like a port) with an
    /// incremental checksum update.
    pub fn rewrite_echo_ident(&mut self, v: u16) {
        let c = checksum::update16(self.checksum(), self.echo_ident(), v);
        self.set_echo_ident(v);
        self.set_checksum(c);
    }

    /// Mutable view of the quoted datagram (NAT rewrites the quoted
    /// addresses and ports of an error, then fixes this checksum).
    pub fn quoted_mut(&mut self) -> &mut [u8] {
        self.data_mut()
    }
}

/// The fields of an ICMP message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Icmpv4Repr<'a> {
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
    /// An error message (types 3, 4, 5, 11, 12).
    Error {
        /// Type.
        msg_type: Icmpv4Message,
        /// Code.
        code: u8,
        /// Bytes 4-7 (unused, MTU, gateway or pointer).
        rest: u32,
        /// The quoted datagram.
        quoted: &'a [u8],
    },
    /// Any other message, passed through.
    Other {
        /// Type.
        msg_type: Icmpv4Message,
        /// Code.
        code: u8,
        /// Bytes 4-7.
        rest: u32,
        /// Data.
        data: &'a [u8],
    },
}

impl<'a> Icmpv4Repr<'a> {
    /// Parses a message; verifies the checksum when `verify` is set.
    pub fn parse<T: AsRef<[u8]> + ?Sized>(p: &Icmpv4Packet<&'a T>, verify: bool) -> Result<Self> {
        p.check_len()?;
        if verify && !p.verify_checksum() {
            return Err(Error::BadChecksum);
        }
        let buf: &'a T = p.buffer;
        let data = &buf.as_ref()[ICMPV4_HEADER_LEN..];
        let (t, code, rest) = (p.msg_type(), p.msg_code(), p.rest_of_header());
        Ok(match t {
            Icmpv4Message::EchoRequest if code == 0 => {
                Icmpv4Repr::EchoRequest { ident: p.echo_ident(), seq_no: p.echo_seq_no(), data }
            }
            Icmpv4Message::EchoReply if code == 0 => {
                Icmpv4Repr::EchoReply { ident: p.echo_ident(), seq_no: p.echo_seq_no(), data }
            }
            t if t.is_error() => {
                Ipv4Packet::new_quoted(data)?;
                Icmpv4Repr::Error { msg_type: t, code, rest, quoted: data }
            }
            t => Icmpv4Repr::Other { msg_type: t, code, rest, data },
        })
    }

    /// Message length.
    pub fn buffer_len(&self) -> usize {
        ICMPV4_HEADER_LEN
            + match self {
                Icmpv4Repr::EchoRequest { data, .. }
                | Icmpv4Repr::EchoReply { data, .. }
                | Icmpv4Repr::Other { data, .. } => data.len(),
                Icmpv4Repr::Error { quoted, .. } => quoted.len(),
            }
    }

    /// Writes the message into `buffer_len()` bytes and fills the checksum.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, p: &mut Icmpv4Packet<T>) {
        let (t, code, rest, data) = match *self {
            Icmpv4Repr::EchoRequest { ident, seq_no, data } => {
                (Icmpv4Message::EchoRequest, 0, (u32::from(ident) << 16) | u32::from(seq_no), data)
            }
            Icmpv4Repr::EchoReply { ident, seq_no, data } => {
                (Icmpv4Message::EchoReply, 0, (u32::from(ident) << 16) | u32::from(seq_no), data)
            }
            Icmpv4Repr::Error { msg_type, code, rest, quoted } => (msg_type, code, rest, quoted),
            Icmpv4Repr::Other { msg_type, code, rest, data } => (msg_type, code, rest, data),
        };
        p.set_msg_type(t);
        p.set_msg_code(code);
        p.set_rest_of_header(rest);
        p.data_mut()[..data.len()].copy_from_slice(data);
        p.fill_checksum();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // `ping -c1 127.0.0.1` echo request (id 0x1c2b, seq 1, 8 data bytes);
    // checksum computed by hand over the 16 bytes.
    fn echo() -> Vec<u8> {
        let mut b = vec![8, 0, 0, 0, 0x1c, 0x2b, 0, 1, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68];
        let c = checksum::checksum(&b);
        b[2..4].copy_from_slice(&c.to_be_bytes());
        b
    }

    #[test]
    fn echo_round_trip() {
        let b = echo();
        assert_eq!(&b[2..4], &[0x4a, 0x3e]);
        let p = Icmpv4Packet::new_checked(&b[..]).unwrap();
        let r = Icmpv4Repr::parse(&p, true).unwrap();
        assert_eq!(r, Icmpv4Repr::EchoRequest { ident: 0x1c2b, seq_no: 1, data: b"abcdefgh" });
        let mut out = vec![0u8; r.buffer_len()];
        r.emit(&mut Icmpv4Packet::new_unchecked(&mut out[..]));
        assert_eq!(out, b);
        let mut v = b.clone();
        Icmpv4Packet::new_unchecked(&mut v[..]).rewrite_echo_ident(4242);
        assert!(Icmpv4Packet::new_unchecked(&v[..]).verify_checksum());
    }

    #[test]
    fn error_quotes_inner_header() {
        // Port unreachable quoting a UDP datagram 10.0.0.1:5000 -> 10.0.0.2:53.
        let mut inner =
            vec![0x45, 0, 0, 36, 0, 1, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2, 0x13, 0x88, 0, 53, 0, 16, 0, 0];
        let c = checksum::checksum(&inner[..20]);
        inner[10..12].copy_from_slice(&c.to_be_bytes());
        let r = Icmpv4Repr::Error { msg_type: Icmpv4Message::DstUnreachable, code: 3, rest: 0, quoted: &inner };
        let mut out = vec![0u8; r.buffer_len()];
        r.emit(&mut Icmpv4Packet::new_unchecked(&mut out[..]));
        let p = Icmpv4Packet::new_checked(&out[..]).unwrap();
        assert_eq!(Icmpv4Repr::parse(&p, true).unwrap(), r);
        let q = p.quoted_ipv4().unwrap().unwrap();
        assert_eq!(q.dst_addr(), core::net::Ipv4Addr::new(10, 0, 0, 2));
        assert_eq!(q.payload().len(), 8);
        assert_eq!(Icmpv4DstUnreachable::from(p.msg_code()), Icmpv4DstUnreachable::PortUnreachable);
        assert_eq!(Icmpv4DstUnreachable::CommProhibited.to_string(), "admin-prohibited");
        // The quoted header cut inside itself is an error of the message.
        let mut cut = out[..8 + 12].to_vec();
        Icmpv4Packet::new_unchecked(&mut cut[..]).fill_checksum();
        assert_eq!(
            Icmpv4Repr::parse(&Icmpv4Packet::new_checked(&cut[..]).unwrap(), true).unwrap_err(),
            Error::Truncated
        );
    }

    #[test]
    fn malformed() {
        let b = echo();
        for n in 0..8 {
            assert_eq!(Icmpv4Packet::new_checked(&b[..n]).unwrap_err(), Error::Truncated);
        }
        let mut v = b.clone();
        v[3] ^= 1;
        assert_eq!(
            Icmpv4Repr::parse(&Icmpv4Packet::new_checked(&v[..]).unwrap(), true).unwrap_err(),
            Error::BadChecksum
        );
    }
}
