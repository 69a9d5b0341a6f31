//! IPv6 fixed header (RFC 8200 §3).
//!
//! `new_checked` validates version 6, the 40-byte header and
//! `40 + payload length <= buffer` (a longer buffer is link padding;
//! `payload()` ends at the payload length). Jumbograms (RFC 2675, payload
//! length 0 with a hop-by-hop Jumbo option) are not supported: their
//! payload reads as empty. Extension headers are walked by
//! [`Ipv6Packet::walk`] (see `ipv6ext`).

use core::net::Ipv6Addr;

use crate::field::{get16, get32, set16, set32};
use crate::ip::IpProtocol;
use crate::ipv6ext::{Ipv6Walk, walk};
use crate::{Error, Result};

/// Length of the fixed IPv6 header.
pub const IPV6_HEADER_LEN: usize = 40;

/// A view of an IPv6 packet.
#[derive(Debug, Clone)]
pub struct Ipv6Packet<T: AsRef<[u8]>> {
    buffer: T,
}

fn addr_at(b: &[u8], at: usize) -> Ipv6Addr {
    let mut a = [0u8; 16];
    a.copy_from_slice(&b[at..at + 16]);
    Ipv6Addr::from(a)
}

impl<T: AsRef<[u8]>> Ipv6Packet<T> {
    /// Wraps without checking.
    pub const fn new_unchecked(buffer: T) -> Self {
        Ipv6Packet { buffer }
    }

    /// Wraps and validates (see the module docs).
    pub fn new_checked(buffer: T) -> Result<Self> {
        let p = Self::new_unchecked(buffer);
        p.check_len()?;
        Ok(p)
    }

    /// Wraps the header quoted in an ICMPv6 error (RFC 4443 §3): the fixed
    /// header must be complete, the payload may be cut short.
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
        if b[0] >> 4 != 6 {
            return Err(Error::BadVersion);
        }
        if b.len() < IPV6_HEADER_LEN {
            return Err(Error::Truncated);
        }
        Ok(())
    }

    /// Validates version, header and payload length.
    pub fn check_len(&self) -> Result<()> {
        self.check_header()?;
        if self.buffer.as_ref().len() < IPV6_HEADER_LEN + usize::from(self.payload_len()) {
            return Err(Error::Truncated);
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

    /// Traffic class (8 bits).
    pub fn traffic_class(&self) -> u8 {
        ((get16(self.buffer.as_ref(), 0) >> 4) & 0xff) as u8
    }

    /// Flow label (20 bits).
    pub fn flow_label(&self) -> u32 {
        get32(self.buffer.as_ref(), 0) & 0x000f_ffff
    }

    /// Payload length (extension headers included).
    pub fn payload_len(&self) -> u16 {
        get16(self.buffer.as_ref(), 4)
    }

    /// Next header of the fixed header.
    pub fn next_header(&self) -> IpProtocol {
        IpProtocol::from(self.buffer.as_ref()[6])
    }

    /// Hop limit.
    pub fn hop_limit(&self) -> u8 {
        self.buffer.as_ref()[7]
    }

    /// Source address.
    pub fn src_addr(&self) -> Ipv6Addr {
        addr_at(self.buffer.as_ref(), 8)
    }

    /// Destination address.
    pub fn dst_addr(&self) -> Ipv6Addr {
        addr_at(self.buffer.as_ref(), 24)
    }

    /// The payload after the fixed header, to the payload length, clamped
    /// to the buffer.
    pub fn payload(&self) -> &[u8] {
        let b = self.buffer.as_ref();
        let start = IPV6_HEADER_LEN.min(b.len());
        let end = (IPV6_HEADER_LEN + usize::from(self.payload_len())).clamp(start, b.len());
        &b[start..end]
    }

    /// Walks the extension headers to the upper-layer protocol (bounded;
    /// see [`Ipv6Walk`]). Offsets are relative to the start of this
    /// header.
    pub fn walk(&self) -> Result<Ipv6Walk> {
        walk(self.buffer.as_ref()[6], self.payload(), IPV6_HEADER_LEN)
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Ipv6Packet<T> {
    /// Sets version 6, traffic class and flow label.
    pub fn set_version_tc_flow(&mut self, traffic_class: u8, flow_label: u32) {
        let v = (6u32 << 28) | (u32::from(traffic_class) << 20) | (flow_label & 0x000f_ffff);
        set32(self.buffer.as_mut(), 0, v);
    }

    /// Sets the payload length.
    pub fn set_payload_len(&mut self, v: u16) {
        set16(self.buffer.as_mut(), 4, v);
    }

    /// Sets the next header.
    pub fn set_next_header(&mut self, p: IpProtocol) {
        self.buffer.as_mut()[6] = p.into();
    }

    /// Sets the hop limit.
    pub fn set_hop_limit(&mut self, v: u8) {
        self.buffer.as_mut()[7] = v;
    }

    /// Sets the source address.
    pub fn set_src_addr(&mut self, a: Ipv6Addr) {
        self.buffer.as_mut()[8..24].copy_from_slice(&a.octets());
    }

    /// Sets the destination address.
    pub fn set_dst_addr(&mut self, a: Ipv6Addr) {
        self.buffer.as_mut()[24..40].copy_from_slice(&a.octets());
    }

    /// Mutable payload.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let len = self.buffer.as_ref().len();
        let end = (IPV6_HEADER_LEN + usize::from(self.payload_len())).clamp(IPV6_HEADER_LEN, len);
        &mut self.buffer.as_mut()[IPV6_HEADER_LEN..end]
    }
}

/// The fields of an IPv6 fixed header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ipv6Repr {
    /// Source address.
    pub src_addr: Ipv6Addr,
    /// Destination address.
    pub dst_addr: Ipv6Addr,
    /// Next header.
    pub next_header: IpProtocol,
    /// Payload length.
    pub payload_len: usize,
    /// Hop limit.
    pub hop_limit: u8,
    /// Traffic class.
    pub traffic_class: u8,
    /// Flow label.
    pub flow_label: u32,
}

impl Ipv6Repr {
    /// Parses a checked packet.
    pub fn parse<T: AsRef<[u8]>>(p: &Ipv6Packet<T>) -> Result<Ipv6Repr> {
        p.check_len()?;
        Ok(Ipv6Repr {
            src_addr: p.src_addr(),
            dst_addr: p.dst_addr(),
            next_header: p.next_header(),
            payload_len: usize::from(p.payload_len()),
            hop_limit: p.hop_limit(),
            traffic_class: p.traffic_class(),
            flow_label: p.flow_label(),
        })
    }

    /// Fixed header length (40).
    pub const fn buffer_len(&self) -> usize {
        IPV6_HEADER_LEN
    }

    /// Writes the fixed header.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, p: &mut Ipv6Packet<T>) {
        p.set_version_tc_flow(self.traffic_class, self.flow_label);
        p.set_payload_len(self.payload_len as u16);
        p.set_next_header(self.next_header);
        p.set_hop_limit(self.hop_limit);
        p.set_src_addr(self.src_addr);
        p.set_dst_addr(self.dst_addr);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<u8> {
        let mut b = vec![0x6a, 0xb1, 0x23, 0x45, 0, 4, 59, 64];
        b.extend_from_slice(&"2001:db8::1".parse::<Ipv6Addr>().unwrap().octets());
        b.extend_from_slice(&"2001:db8::2".parse::<Ipv6Addr>().unwrap().octets());
        b.extend_from_slice(&[1, 2, 3, 4]);
        b
    }

    #[test]
    fn round_trip() {
        let b = sample();
        let p = Ipv6Packet::new_checked(&b[..]).unwrap();
        let r = Ipv6Repr::parse(&p).unwrap();
        assert_eq!(r.traffic_class, 0xab);
        assert_eq!(r.flow_label, 0x12345);
        assert_eq!(r.next_header, IpProtocol::Ipv6NoNxt);
        let mut out = vec![0u8; 44];
        out[40..].copy_from_slice(&b[40..]);
        r.emit(&mut Ipv6Packet::new_unchecked(&mut out[..]));
        assert_eq!(out, b);
    }

    #[test]
    fn malformed() {
        let b = sample();
        for n in 0..b.len() {
            assert_eq!(Ipv6Packet::new_checked(&b[..n]).unwrap_err(), Error::Truncated);
        }
        let mut v = b.clone();
        v[0] = 0x4a;
        assert_eq!(Ipv6Packet::new_checked(&v[..]).unwrap_err(), Error::BadVersion);
        assert!(Ipv6Packet::new_quoted(&b[..41]).is_ok());
    }
}
