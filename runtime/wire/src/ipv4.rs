//! IPv4 (RFC 791): header view with options and fragment fields.
//!
//! `new_checked` validates what the kernel's `ip_rcv_core` does before
//! netfilter sees the packet: version 4, IHL >= 5, the header inside the
//! buffer, `IHL*4 <= total length <= buffer` (a longer buffer is Ethernet
//! padding: `payload()` ends at the total length), well-formed options
//! (RFC 791 §3.1: EOL and NOP are single bytes, others are type-length-data
//! with length >= 2), and fragment offset + length within 65535 (a larger
//! sum is the "ping of death", RFC 791 §3.2 limits a datagram to 65535).
//! The header checksum is checked by [`Ipv4Repr::parse`] and
//! [`Ipv4Packet::verify_checksum`], not by `new_checked`.

use core::net::Ipv4Addr;

use crate::checksum;
use crate::field::{get16, set16};
use crate::ip::IpProtocol;
use crate::{Error, Result};

/// Length of an IPv4 header without options.
pub const IPV4_HEADER_LEN: usize = 20;
/// Largest options area (IHL 15).
const MAX_OPTIONS_LEN: usize = 40;

/// A view of an IPv4 packet.
#[derive(Debug, Clone)]
pub struct Ipv4Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Ipv4Packet<T> {
    /// Wraps without checking.
    pub const fn new_unchecked(buffer: T) -> Self {
        Ipv4Packet { buffer }
    }

    /// Wraps and validates (see the module docs).
    pub fn new_checked(buffer: T) -> Result<Self> {
        let p = Self::new_unchecked(buffer);
        p.check_len()?;
        Ok(p)
    }

    /// Wraps the IP header quoted in an ICMP error (RFC 792): the header
    /// and its options must be complete, but the quoted datagram is cut
    /// short, so the total length is not held against the buffer.
    /// `payload()` then returns what is present.
    pub fn new_quoted(buffer: T) -> Result<Self> {
        let p = Self::new_unchecked(buffer);
        p.check_header()?;
        Ok(p)
    }

    fn check_header(&self) -> Result<()> {
        let b = self.buffer.as_ref();
        if b.is_empty() {
            return Err(Error::Truncated);
        }
        if b[0] >> 4 != 4 {
            return Err(Error::BadVersion);
        }
        if b.len() < IPV4_HEADER_LEN {
            return Err(Error::Truncated);
        }
        let hlen = self.header_len();
        if hlen < IPV4_HEADER_LEN {
            return Err(Error::BadHeaderLength);
        }
        if b.len() < hlen {
            return Err(Error::Truncated);
        }
        if usize::from(self.total_len()) < hlen {
            return Err(Error::BadTotalLength);
        }
        for opt in self.options_iter() {
            opt?;
        }
        Ok(())
    }

    /// Validates the header, the total length against the buffer and the
    /// fragment bounds.
    pub fn check_len(&self) -> Result<()> {
        self.check_header()?;
        let total = usize::from(self.total_len());
        if self.buffer.as_ref().len() < total {
            return Err(Error::Truncated);
        }
        if usize::from(self.frag_offset()) + (total - self.header_len()) > 0xffff {
            return Err(Error::BadFragment);
        }
        Ok(())
    }

    /// The wrapped buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// Version nibble.
    pub fn version(&self) -> u8 {
        self.buffer.as_ref()[0] >> 4
    }

    /// Header length in bytes (IHL * 4).
    pub fn header_len(&self) -> usize {
        usize::from(self.buffer.as_ref()[0] & 0x0f) * 4
    }

    /// DSCP (6 bits, RFC 2474).
    pub fn dscp(&self) -> u8 {
        self.buffer.as_ref()[1] >> 2
    }

    /// ECN (2 bits, RFC 3168).
    pub fn ecn(&self) -> u8 {
        self.buffer.as_ref()[1] & 3
    }

    /// Total length of the datagram.
    pub fn total_len(&self) -> u16 {
        get16(self.buffer.as_ref(), 2)
    }

    /// Identification.
    pub fn ident(&self) -> u16 {
        get16(self.buffer.as_ref(), 4)
    }

    /// The reserved "evil" bit (RFC 3514), kept for completeness.
    pub fn reserved_flag(&self) -> bool {
        self.buffer.as_ref()[6] & 0x80 != 0
    }

    /// Don't Fragment.
    pub fn dont_frag(&self) -> bool {
        self.buffer.as_ref()[6] & 0x40 != 0
    }

    /// More Fragments.
    pub fn more_frags(&self) -> bool {
        self.buffer.as_ref()[6] & 0x20 != 0
    }

    /// Fragment offset in bytes (the field counts 8-byte units).
    pub fn frag_offset(&self) -> u16 {
        (get16(self.buffer.as_ref(), 6) & 0x1fff) << 3
    }

    /// True for any fragment (MF set or offset non-zero).
    pub fn is_fragment(&self) -> bool {
        self.more_frags() || self.frag_offset() != 0
    }

    /// Time to live.
    pub fn ttl(&self) -> u8 {
        self.buffer.as_ref()[8]
    }

    /// Protocol of the payload.
    pub fn protocol(&self) -> IpProtocol {
        IpProtocol::from(self.buffer.as_ref()[9])
    }

    /// Header checksum.
    pub fn checksum(&self) -> u16 {
        get16(self.buffer.as_ref(), 10)
    }

    /// Source address.
    pub fn src_addr(&self) -> Ipv4Addr {
        let b = self.buffer.as_ref();
        Ipv4Addr::new(b[12], b[13], b[14], b[15])
    }

    /// Destination address.
    pub fn dst_addr(&self) -> Ipv4Addr {
        let b = self.buffer.as_ref();
        Ipv4Addr::new(b[16], b[17], b[18], b[19])
    }

    /// The raw options area (between byte 20 and IHL*4).
    pub fn options(&self) -> &[u8] {
        let b = self.buffer.as_ref();
        let end = self.header_len().clamp(IPV4_HEADER_LEN, b.len().max(IPV4_HEADER_LEN));
        b.get(IPV4_HEADER_LEN..end).unwrap_or(&[])
    }

    /// Iterates the options (RFC 791 §3.1).
    pub fn options_iter(&self) -> Ipv4OptionIter<'_> {
        Ipv4OptionIter { data: self.options() }
    }

    /// True when the header checksum verifies (RFC 791 §3.1, RFC 1071).
    pub fn verify_checksum(&self) -> bool {
        let b = self.buffer.as_ref();
        let hlen = self.header_len().min(b.len());
        checksum::sum(&b[..hlen]) == 0xffff
    }

    /// The payload: from IHL*4 to the total length, clamped to the buffer
    /// (quoted headers are cut short).
    pub fn payload(&self) -> &[u8] {
        let b = self.buffer.as_ref();
        let start = self.header_len().min(b.len());
        let end = usize::from(self.total_len()).clamp(start, b.len());
        &b[start..end]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Ipv4Packet<T> {
    /// Sets version 4 and the header length (must be a multiple of 4).
    pub fn set_version_and_header_len(&mut self, header_len: usize) {
        self.buffer.as_mut()[0] = 0x40 | ((header_len / 4) as u8 & 0x0f);
    }

    /// Sets DSCP and ECN.
    pub fn set_dscp_ecn(&mut self, dscp: u8, ecn: u8) {
        self.buffer.as_mut()[1] = (dscp << 2) | (ecn & 3);
    }

    /// Sets the total length.
    pub fn set_total_len(&mut self, v: u16) {
        set16(self.buffer.as_mut(), 2, v);
    }

    /// Sets the identification.
    pub fn set_ident(&mut self, v: u16) {
        set16(self.buffer.as_mut(), 4, v);
    }

    /// Sets the flags and fragment offset (offset in bytes, multiple of 8).
    pub fn set_frag(&mut self, dont_frag: bool, more_frags: bool, offset: u16) {
        let v = (u16::from(dont_frag) << 14) | (u16::from(more_frags) << 13) | ((offset >> 3) & 0x1fff);
        set16(self.buffer.as_mut(), 6, v);
    }

    /// Sets the TTL.
    pub fn set_ttl(&mut self, v: u8) {
        self.buffer.as_mut()[8] = v;
    }

    /// Sets the protocol.
    pub fn set_protocol(&mut self, p: IpProtocol) {
        self.buffer.as_mut()[9] = p.into();
    }

    /// Sets the checksum field.
    pub fn set_checksum(&mut self, v: u16) {
        set16(self.buffer.as_mut(), 10, v);
    }

    /// Sets the source address.
    pub fn set_src_addr(&mut self, a: Ipv4Addr) {
        self.buffer.as_mut()[12..16].copy_from_slice(&a.octets());
    }

    /// Sets the destination address.
    pub fn set_dst_addr(&mut self, a: Ipv4Addr) {
        self.buffer.as_mut()[16..20].copy_from_slice(&a.octets());
    }

    /// Recomputes the header checksum from scratch.
    pub fn fill_checksum(&mut self) {
        self.set_checksum(0);
        let hlen = self.header_len().min(self.buffer.as_ref().len());
        let c = checksum::checksum(&self.buffer.as_ref()[..hlen]);
        self.set_checksum(c);
    }

    /// Rewrites the source address and updates the header checksum
    /// incrementally (RFC 1624); returns the old address so the caller can
    /// fix the transport checksum's pseudo-header too.
    pub fn rewrite_src_addr(&mut self, a: Ipv4Addr) -> Ipv4Addr {
        let old = self.src_addr();
        let c = checksum::update_bytes(self.checksum(), &old.octets(), &a.octets());
        self.set_src_addr(a);
        self.set_checksum(c);
        old
    }

    /// As [`Ipv4Packet::rewrite_src_addr`] for the destination.
    pub fn rewrite_dst_addr(&mut self, a: Ipv4Addr) -> Ipv4Addr {
        let old = self.dst_addr();
        let c = checksum::update_bytes(self.checksum(), &old.octets(), &a.octets());
        self.set_dst_addr(a);
        self.set_checksum(c);
        old
    }

    /// Decrements the TTL with an incremental checksum update (RFC 1624 §4
    /// uses exactly this case: TTL shares a word with the protocol).
    pub fn decrement_ttl(&mut self) {
        let b = self.buffer.as_ref();
        let old = get16(b, 8);
        let new = (u16::from(b[8].wrapping_sub(1)) << 8) | u16::from(b[9]);
        let c = checksum::update16(self.checksum(), old, new);
        set16(self.buffer.as_mut(), 8, new);
        self.set_checksum(c);
    }

    /// Mutable options area.
    pub fn options_mut(&mut self) -> &mut [u8] {
        let hlen = self.header_len();
        &mut self.buffer.as_mut()[IPV4_HEADER_LEN..hlen]
    }

    /// Mutable payload (to the total length).
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let len = self.buffer.as_ref().len();
        let start = self.header_len().min(len);
        let end = usize::from(self.total_len()).clamp(start, len);
        &mut self.buffer.as_mut()[start..end]
    }
}

/// One IPv4 option.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ipv4Option<'a> {
    /// End of option list (type 0): the rest of the area is padding.
    EndOfList,
    /// No operation (type 1).
    NoOperation,
    /// Any other option: its type octet and the bytes after the length.
    Other {
        /// Option type (copied flag, class, number).
        kind: u8,
        /// Option data (after type and length).
        data: &'a [u8],
    },
}

/// Iterator over IPv4 options; yields `Err(BadOption)` once and stops on a
/// malformed length, stops after EOL.
#[derive(Debug, Clone)]
pub struct Ipv4OptionIter<'a> {
    data: &'a [u8],
}

impl<'a> Iterator for Ipv4OptionIter<'a> {
    type Item = Result<Ipv4Option<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        let (&kind, rest) = self.data.split_first()?;
        match kind {
            0 => {
                self.data = &[];
                Some(Ok(Ipv4Option::EndOfList))
            }
            1 => {
                self.data = rest;
                Some(Ok(Ipv4Option::NoOperation))
            }
            _ => {
                let len = rest.first().map(|&l| usize::from(l));
                match len {
                    Some(len) if len >= 2 && len <= self.data.len() => {
                        let opt = Ipv4Option::Other { kind, data: &self.data[2..len] };
                        self.data = &self.data[len..];
                        Some(Ok(opt))
                    }
                    _ => {
                        self.data = &[];
                        Some(Err(Error::BadOption))
                    }
                }
            }
        }
    }
}

/// Raw options of an [`Ipv4Repr`], stored inline (at most 40 bytes) so the
/// repr stays `Copy` and allocation-free.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ipv4Options {
    bytes: [u8; MAX_OPTIONS_LEN],
    len: u8,
}

impl Ipv4Options {
    /// No options.
    pub const EMPTY: Ipv4Options = Ipv4Options { bytes: [0; MAX_OPTIONS_LEN], len: 0 };

    /// Options from raw bytes; `Err(BadOption)` when longer than 40 bytes,
    /// not a multiple of 4, or not well formed.
    pub fn new(raw: &[u8]) -> Result<Ipv4Options> {
        if raw.len() > MAX_OPTIONS_LEN || !raw.len().is_multiple_of(4) {
            return Err(Error::BadOption);
        }
        for o in (Ipv4OptionIter { data: raw }) {
            o?;
        }
        let mut bytes = [0; MAX_OPTIONS_LEN];
        bytes[..raw.len()].copy_from_slice(raw);
        Ok(Ipv4Options { bytes, len: raw.len() as u8 })
    }

    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }
}

impl core::fmt::Debug for Ipv4Options {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_list().entries(Ipv4OptionIter { data: self.as_bytes() }).finish()
    }
}

impl Default for Ipv4Options {
    fn default() -> Self {
        Self::EMPTY
    }
}

/// The fields of an IPv4 header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ipv4Repr {
    /// Source address.
    pub src_addr: Ipv4Addr,
    /// Destination address.
    pub dst_addr: Ipv4Addr,
    /// Payload protocol.
    pub protocol: IpProtocol,
    /// Payload length (total length - header length).
    pub payload_len: usize,
    /// Time to live.
    pub ttl: u8,
    /// DSCP.
    pub dscp: u8,
    /// ECN.
    pub ecn: u8,
    /// Identification.
    pub ident: u16,
    /// Don't Fragment.
    pub dont_frag: bool,
    /// More Fragments.
    pub more_frags: bool,
    /// Fragment offset in bytes.
    pub frag_offset: u16,
    /// Options (raw, padded to a multiple of 4).
    pub options: Ipv4Options,
}

impl Ipv4Repr {
    /// Parses a checked packet; also verifies the header checksum.
    pub fn parse<T: AsRef<[u8]>>(p: &Ipv4Packet<T>) -> Result<Ipv4Repr> {
        p.check_len()?;
        if !p.verify_checksum() {
            return Err(Error::BadChecksum);
        }
        Ok(Ipv4Repr {
            src_addr: p.src_addr(),
            dst_addr: p.dst_addr(),
            protocol: p.protocol(),
            payload_len: usize::from(p.total_len()) - p.header_len(),
            ttl: p.ttl(),
            dscp: p.dscp(),
            ecn: p.ecn(),
            ident: p.ident(),
            dont_frag: p.dont_frag(),
            more_frags: p.more_frags(),
            frag_offset: p.frag_offset(),
            options: Ipv4Options::new(p.options())?,
        })
    }

    /// Header length (20 + options).
    pub fn buffer_len(&self) -> usize {
        IPV4_HEADER_LEN + self.options.as_bytes().len()
    }

    /// Writes the header and fills the checksum. The buffer must hold
    /// `buffer_len()` bytes; the payload is the caller's.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, p: &mut Ipv4Packet<T>) {
        let hlen = self.buffer_len();
        p.set_version_and_header_len(hlen);
        p.set_dscp_ecn(self.dscp, self.ecn);
        p.set_total_len((hlen + self.payload_len) as u16);
        p.set_ident(self.ident);
        p.set_frag(self.dont_frag, self.more_frags, self.frag_offset);
        p.set_ttl(self.ttl);
        p.set_protocol(self.protocol);
        p.set_src_addr(self.src_addr);
        p.set_dst_addr(self.dst_addr);
        p.options_mut().copy_from_slice(self.options.as_bytes());
        p.fill_checksum();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // An ICMP echo request 192.168.1.1 -> 192.168.1.2, ttl 64, DF, with a
    // Router Alert option (RFC 2113: 94 04 00 00); checksum hand-verified.
    fn sample() -> Vec<u8> {
        let mut b = vec![
            0x46, 0x00, 0x00, 0x20, 0x12, 0x34, 0x40, 0x00, 0x40, 0x01, 0x00, 0x00, 192, 168, 1, 1, 192, 168, 1, 2,
            0x94, 0x04, 0x00, 0x00, 8, 0, 0xf7, 0xff, 0, 0, 0, 0,
        ];
        let c = checksum::checksum(&b[..24]);
        b[10..12].copy_from_slice(&c.to_be_bytes());
        b
    }

    #[test]
    fn known_checksum() {
        // 20-byte header of an 84-byte ping on lo; 0x0e61 computed by hand
        // (sum of the words 4500 0054 2e46 4000 4001 7f00 0001 7f00 0001).
        let hdr = [
            0x45, 0x00, 0x00, 0x54, 0x2e, 0x46, 0x40, 0x00, 0x40, 0x01, 0x0e, 0x61, 0x7f, 0x00, 0x00, 0x01, 0x7f, 0x00,
            0x00, 0x01,
        ];
        assert!(Ipv4Packet::new_unchecked(&hdr[..]).verify_checksum());
        let mut z = hdr;
        z[10] = 0;
        z[11] = 0;
        assert_eq!(checksum::checksum(&z), 0x0e61);
    }

    #[test]
    fn round_trip_with_options() {
        let b = sample();
        let p = Ipv4Packet::new_checked(&b[..]).unwrap();
        let r = Ipv4Repr::parse(&p).unwrap();
        assert_eq!(r.options.as_bytes(), &[0x94, 4, 0, 0]);
        assert_eq!(p.options_iter().next(), Some(Ok(Ipv4Option::Other { kind: 0x94, data: &[0, 0] })));
        assert!(r.dont_frag && !r.more_frags && r.frag_offset == 0);
        let mut out = vec![0u8; r.buffer_len() + r.payload_len];
        out[24..].copy_from_slice(&b[24..]);
        r.emit(&mut Ipv4Packet::new_unchecked(&mut out[..]));
        assert_eq!(out, b);
    }

    #[test]
    fn malformed() {
        let b = sample();
        for n in 0..b.len() {
            let e = Ipv4Packet::new_checked(&b[..n]).unwrap_err();
            assert_eq!(e, Error::Truncated, "len {n}");
        }
        let mut v = b.clone();
        v[0] = 0x66;
        assert_eq!(Ipv4Packet::new_checked(&v[..]).unwrap_err(), Error::BadVersion);
        let mut v = b.clone();
        v[0] = 0x44;
        assert_eq!(Ipv4Packet::new_checked(&v[..]).unwrap_err(), Error::BadHeaderLength);
        let mut v = b.clone();
        v[3] = 20;
        assert_eq!(Ipv4Packet::new_checked(&v[..]).unwrap_err(), Error::BadTotalLength);
        let mut v = b.clone();
        v[21] = 9; // option length past the header
        assert_eq!(Ipv4Packet::new_checked(&v[..]).unwrap_err(), Error::BadOption);
        let mut v = b.clone();
        v[21] = 1; // option length below 2
        assert_eq!(Ipv4Packet::new_checked(&v[..]).unwrap_err(), Error::BadOption);
        let mut v = b.clone();
        v[6] = 0x1f; // offset 0x1fff * 8 + 8 > 65535
        v[7] = 0xff;
        assert_eq!(Ipv4Packet::new_checked(&v[..]).unwrap_err(), Error::BadFragment);
        let mut v = b.clone();
        v[11] ^= 1;
        let p = Ipv4Packet::new_checked(&v[..]).unwrap();
        assert_eq!(Ipv4Repr::parse(&p).unwrap_err(), Error::BadChecksum);
    }

    #[test]
    fn padding_is_not_payload() {
        let mut b = sample();
        b.extend_from_slice(&[0xee; 10]);
        let p = Ipv4Packet::new_checked(&b[..]).unwrap();
        assert_eq!(p.payload().len(), 8);
    }

    #[test]
    fn quoted_header_may_be_cut() {
        let b = sample();
        let p = Ipv4Packet::new_quoted(&b[..26]).unwrap();
        assert_eq!(p.payload(), &b[24..26]);
        assert_eq!(Ipv4Packet::new_checked(&b[..26]).unwrap_err(), Error::Truncated);
    }

    #[test]
    fn incremental_rewrites_keep_checksum_valid() {
        let mut b = sample();
        let mut p = Ipv4Packet::new_unchecked(&mut b[..]);
        p.rewrite_src_addr(Ipv4Addr::new(10, 9, 8, 7));
        p.rewrite_dst_addr(Ipv4Addr::new(203, 0, 113, 200));
        p.decrement_ttl();
        assert!(p.verify_checksum());
        let c = p.checksum();
        p.fill_checksum();
        assert_eq!(p.checksum(), c);
    }
}
