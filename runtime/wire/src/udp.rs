//! UDP (RFC 768).
//!
//! `new_checked` validates the 8-byte header and `8 <= length <= buffer`,
//! as conntrack's `udp_error()` does; `payload()` ends at the UDP length
//! (bytes after it are not part of the datagram). A zero checksum means
//! "none" over IPv4 (RFC 768) and is invalid over IPv6 (RFC 8200 §8.1).

use core::net::IpAddr;

use crate::checksum;
use crate::field::{get16, set16};
use crate::{Error, Result};

/// Length of the UDP header.
pub const UDP_HEADER_LEN: usize = 8;

/// A view of a UDP datagram.
#[derive(Debug, Clone)]
pub struct UdpPacket<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> UdpPacket<T> {
    /// Wraps without checking.
    pub const fn new_unchecked(buffer: T) -> Self {
        UdpPacket { buffer }
    }

    /// Wraps and validates the length field.
    pub fn new_checked(buffer: T) -> Result<Self> {
        let p = Self::new_unchecked(buffer);
        p.check_len()?;
        Ok(p)
    }

    /// See [`UdpPacket::new_checked`].
    pub fn check_len(&self) -> Result<()> {
        let b = self.buffer.as_ref();
        if b.len() < UDP_HEADER_LEN {
            return Err(Error::Truncated);
        }
        let len = usize::from(self.len());
        if len < UDP_HEADER_LEN {
            return Err(Error::BadTotalLength);
        }
        if b.len() < len {
            return Err(Error::Truncated);
        }
        Ok(())
    }

    /// The wrapped buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// Source port.
    pub fn src_port(&self) -> u16 {
        get16(self.buffer.as_ref(), 0)
    }

    /// Destination port.
    pub fn dst_port(&self) -> u16 {
        get16(self.buffer.as_ref(), 2)
    }

    /// Length field (header + data).
    pub fn len(&self) -> u16 {
        get16(self.buffer.as_ref(), 4)
    }

    /// True when the length field says there is no data.
    pub fn is_empty(&self) -> bool {
        usize::from(self.len()) <= UDP_HEADER_LEN
    }

    /// Checksum (0 = none over IPv4).
    pub fn checksum(&self) -> u16 {
        get16(self.buffer.as_ref(), 6)
    }

    /// The data, to the length field (clamped to the buffer).
    pub fn payload(&self) -> &[u8] {
        let b = self.buffer.as_ref();
        let start = UDP_HEADER_LEN.min(b.len());
        &b[start..usize::from(self.len()).clamp(start, b.len())]
    }

    /// Verifies the checksum: a zero checksum passes over IPv4 and fails
    /// over IPv6 (RFC 8200 §8.1; the kernel's `udp6_csum_init` rejects it).
    pub fn verify_checksum(&self, src: IpAddr, dst: IpAddr) -> bool {
        if self.checksum() == 0 {
            return src.is_ipv4();
        }
        let b = self.buffer.as_ref();
        let end = usize::from(self.len()).min(b.len());
        checksum::verify_transport(src, dst, 17, &b[..end])
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> UdpPacket<T> {
    /// Sets the source port.
    pub fn set_src_port(&mut self, v: u16) {
        set16(self.buffer.as_mut(), 0, v);
    }

    /// Sets the destination port.
    pub fn set_dst_port(&mut self, v: u16) {
        set16(self.buffer.as_mut(), 2, v);
    }

    /// Sets the length field.
    pub fn set_len(&mut self, v: u16) {
        set16(self.buffer.as_mut(), 4, v);
    }

    /// Sets the checksum field.
    pub fn set_checksum(&mut self, v: u16) {
        set16(self.buffer.as_mut(), 6, v);
    }

    /// Mutable data (to the length field).
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let end = usize::from(self.len()).clamp(UDP_HEADER_LEN, self.buffer.as_ref().len());
        &mut self.buffer.as_mut()[UDP_HEADER_LEN..end]
    }

    /// Computes the checksum over the datagram; a computed 0 is stored as
    /// 0xffff (RFC 768).
    pub fn fill_checksum(&mut self, src: IpAddr, dst: IpAddr) {
        self.set_checksum(0);
        let end = usize::from(self.len()).min(self.buffer.as_ref().len());
        let c = checksum::transport_checksum(src, dst, 17, &self.buffer.as_ref()[..end]);
        self.set_checksum(checksum::udp_nonzero(c));
    }

    /// Rewrites the source port; the checksum follows incrementally and a
    /// zero ("none") checksum stays zero.
    pub fn rewrite_src_port(&mut self, v: u16) {
        let c = checksum::udp_update16(self.checksum(), self.src_port(), v);
        self.set_src_port(v);
        self.set_checksum(c);
    }

    /// As [`UdpPacket::rewrite_src_port`] for the destination port.
    pub fn rewrite_dst_port(&mut self, v: u16) {
        let c = checksum::udp_update16(self.checksum(), self.dst_port(), v);
        self.set_dst_port(v);
        self.set_checksum(c);
    }

    /// Updates the checksum for a pseudo-header address change.
    pub fn update_checksum_for_addr(&mut self, old: IpAddr, new: IpAddr) {
        let c = checksum::udp_update_addr(self.checksum(), old, new);
        self.set_checksum(c);
    }
}

/// The fields of a UDP datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UdpRepr<'a> {
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// Data.
    pub payload: &'a [u8],
}

impl<'a> UdpRepr<'a> {
    /// Parses a checked datagram, verifying the checksum when `addrs` is
    /// given.
    pub fn parse<T: AsRef<[u8]> + ?Sized>(p: &UdpPacket<&'a T>, addrs: Option<(IpAddr, IpAddr)>) -> Result<Self> {
        p.check_len()?;
        if let Some((s, d)) = addrs
            && !p.verify_checksum(s, d)
        {
            return Err(Error::BadChecksum);
        }
        let buf: &'a T = p.buffer;
        let b = buf.as_ref();
        Ok(UdpRepr {
            src_port: p.src_port(),
            dst_port: p.dst_port(),
            payload: &b[UDP_HEADER_LEN..usize::from(p.len())],
        })
    }

    /// Header + data.
    pub fn buffer_len(&self) -> usize {
        UDP_HEADER_LEN + self.payload.len()
    }

    /// Writes the datagram into `buffer_len()` bytes and fills the checksum.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, p: &mut UdpPacket<T>, src: IpAddr, dst: IpAddr) {
        p.set_src_port(self.src_port);
        p.set_dst_port(self.dst_port);
        p.set_len(self.buffer_len() as u16);
        p.payload_mut().copy_from_slice(self.payload);
        p.fill_checksum(src, dst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::net::{Ipv4Addr, Ipv6Addr};

    // The start of a DNS query from 10.0.0.1:53000 to 10.0.0.53:53 sent
    // without a checksum (0: "none", legal over IPv4 only).
    const DGRAM: [u8; 12] = [0xcf, 0x08, 0x00, 0x35, 0x00, 0x0c, 0x00, 0x00, 0x12, 0x34, 0x01, 0x00];

    fn v4() -> (IpAddr, IpAddr) {
        (Ipv4Addr::new(10, 0, 0, 1).into(), Ipv4Addr::new(10, 0, 0, 53).into())
    }

    #[test]
    fn round_trip() {
        let (s, d) = v4();
        let r = UdpRepr { src_port: 53000, dst_port: 53, payload: &DGRAM[8..] };
        let mut out = [0u8; 12];
        r.emit(&mut UdpPacket::new_unchecked(&mut out[..]), s, d);
        let p = UdpPacket::new_checked(&out[..]).unwrap();
        assert!(p.verify_checksum(s, d));
        assert_eq!(UdpRepr::parse(&p, Some((s, d))).unwrap(), r);
    }

    #[test]
    fn zero_checksum() {
        let (s, d) = v4();
        let p = UdpPacket::new_checked(&DGRAM[..]).unwrap();
        assert!(p.verify_checksum(s, d));
        let (s6, d6): (IpAddr, IpAddr) = (Ipv6Addr::LOCALHOST.into(), Ipv6Addr::LOCALHOST.into());
        assert!(!p.verify_checksum(s6, d6));
        let mut b = DGRAM;
        let mut p = UdpPacket::new_unchecked(&mut b[..]);
        p.rewrite_src_port(1);
        p.update_checksum_for_addr(s, Ipv4Addr::new(1, 2, 3, 4).into());
        assert_eq!(p.checksum(), 0);
    }

    #[test]
    fn malformed() {
        for n in 0..DGRAM.len() {
            assert_eq!(UdpPacket::new_checked(&DGRAM[..n]).unwrap_err(), Error::Truncated);
        }
        let mut b = DGRAM;
        b[5] = 7;
        assert_eq!(UdpPacket::new_checked(&b[..]).unwrap_err(), Error::BadTotalLength);
        // A length shorter than the IP payload is legal: trailing bytes are ignored.
        b[5] = 9;
        assert_eq!(UdpPacket::new_checked(&b[..]).unwrap().payload(), &[0x12]);
    }
}
