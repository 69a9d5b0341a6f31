//! TCP (RFC 9293 §3.1) with its options: MSS (RFC 9293 §3.2), window scale
//! and timestamps (RFC 7323), SACK-permitted and SACK (RFC 2018).
//!
//! `new_checked` validates the 20-byte header and the data offset (>= 5,
//! within the buffer) — what conntrack's `tcp_error()` rejects. Option
//! contents are *not* validated there: the kernel forwards segments with
//! odd options and its tracker (`tcp_options()`) just stops at a bad one,
//! so a malformed option is reported by the iterator and by
//! [`TcpRepr::parse`] instead of making the segment unclassifiable.

use core::net::IpAddr;

use crate::checksum;
use crate::field::{get16, get32, set16, set32};
use crate::{Error, Result};

/// Length of a TCP header without options.
pub const TCP_HEADER_LEN: usize = 20;

/// The TCP control bits (the low 9 bits of bytes 12-13; RFC 9293 §3.1,
/// RFC 3168 for CWR/ECE; NS from RFC 3540 is historic but kept).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct TcpFlags(pub u16);

impl TcpFlags {
    /// FIN.
    pub const FIN: u16 = 0x001;
    /// SYN.
    pub const SYN: u16 = 0x002;
    /// RST.
    pub const RST: u16 = 0x004;
    /// PSH.
    pub const PSH: u16 = 0x008;
    /// ACK.
    pub const ACK: u16 = 0x010;
    /// URG.
    pub const URG: u16 = 0x020;
    /// ECE.
    pub const ECE: u16 = 0x040;
    /// CWR.
    pub const CWR: u16 = 0x080;
    /// NS (historic).
    pub const NS: u16 = 0x100;

    /// True when every bit of `mask` is set.
    pub fn contains(self, mask: u16) -> bool {
        self.0 & mask == mask
    }

    /// The byte nft's `tcp flags` reads (byte 13).
    pub fn byte(self) -> u8 {
        self.0 as u8
    }
}

/// A view of a TCP segment.
#[derive(Debug, Clone)]
pub struct TcpPacket<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> TcpPacket<T> {
    /// Wraps without checking.
    pub const fn new_unchecked(buffer: T) -> Self {
        TcpPacket { buffer }
    }

    /// Wraps and validates the header length.
    pub fn new_checked(buffer: T) -> Result<Self> {
        let p = Self::new_unchecked(buffer);
        p.check_len()?;
        Ok(p)
    }

    /// See [`TcpPacket::new_checked`].
    pub fn check_len(&self) -> Result<()> {
        let b = self.buffer.as_ref();
        if b.len() < TCP_HEADER_LEN {
            return Err(Error::Truncated);
        }
        let hlen = self.header_len();
        if hlen < TCP_HEADER_LEN {
            return Err(Error::BadHeaderLength);
        }
        if b.len() < hlen {
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

    /// Sequence number.
    pub fn seq_number(&self) -> u32 {
        get32(self.buffer.as_ref(), 4)
    }

    /// Acknowledgment number.
    pub fn ack_number(&self) -> u32 {
        get32(self.buffer.as_ref(), 8)
    }

    /// Header length in bytes (data offset * 4).
    pub fn header_len(&self) -> usize {
        usize::from(self.buffer.as_ref()[12] >> 4) * 4
    }

    /// Control bits.
    pub fn flags(&self) -> TcpFlags {
        TcpFlags(get16(self.buffer.as_ref(), 12) & 0x01ff)
    }

    /// FIN set.
    pub fn fin(&self) -> bool {
        self.flags().contains(TcpFlags::FIN)
    }

    /// SYN set.
    pub fn syn(&self) -> bool {
        self.flags().contains(TcpFlags::SYN)
    }

    /// RST set.
    pub fn rst(&self) -> bool {
        self.flags().contains(TcpFlags::RST)
    }

    /// PSH set.
    pub fn psh(&self) -> bool {
        self.flags().contains(TcpFlags::PSH)
    }

    /// ACK set.
    pub fn ack(&self) -> bool {
        self.flags().contains(TcpFlags::ACK)
    }

    /// URG set.
    pub fn urg(&self) -> bool {
        self.flags().contains(TcpFlags::URG)
    }

    /// Window (unscaled).
    pub fn window_len(&self) -> u16 {
        get16(self.buffer.as_ref(), 14)
    }

    /// Checksum.
    pub fn checksum(&self) -> u16 {
        get16(self.buffer.as_ref(), 16)
    }

    /// Urgent pointer.
    pub fn urgent_at(&self) -> u16 {
        get16(self.buffer.as_ref(), 18)
    }

    /// The raw options area.
    pub fn options(&self) -> &[u8] {
        let b = self.buffer.as_ref();
        let end = self.header_len().clamp(TCP_HEADER_LEN.min(b.len()), b.len());
        &b[TCP_HEADER_LEN.min(end)..end]
    }

    /// Iterates the options.
    pub fn options_iter(&self) -> TcpOptionIter<'_> {
        TcpOptionIter { data: self.options() }
    }

    /// The segment data.
    pub fn payload(&self) -> &[u8] {
        let b = self.buffer.as_ref();
        &b[self.header_len().min(b.len())..]
    }

    /// Segment length as sequence space: data + SYN + FIN.
    pub fn segment_len(&self) -> usize {
        self.payload().len() + usize::from(self.syn()) + usize::from(self.fin())
    }

    /// True when the checksum verifies over the whole buffer (header and
    /// data) with the pseudo-header of `src`/`dst` (RFC 9293 §3.1).
    pub fn verify_checksum(&self, src: IpAddr, dst: IpAddr) -> bool {
        checksum::verify_transport(src, dst, 6, self.buffer.as_ref())
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> TcpPacket<T> {
    /// Sets the source port.
    pub fn set_src_port(&mut self, v: u16) {
        set16(self.buffer.as_mut(), 0, v);
    }

    /// Sets the destination port.
    pub fn set_dst_port(&mut self, v: u16) {
        set16(self.buffer.as_mut(), 2, v);
    }

    /// Sets the sequence number.
    pub fn set_seq_number(&mut self, v: u32) {
        set32(self.buffer.as_mut(), 4, v);
    }

    /// Sets the acknowledgment number.
    pub fn set_ack_number(&mut self, v: u32) {
        set32(self.buffer.as_mut(), 8, v);
    }

    /// Sets data offset (from a byte length, multiple of 4) and flags.
    pub fn set_header_len_and_flags(&mut self, header_len: usize, flags: TcpFlags) {
        let v = ((header_len as u16 / 4) << 12) | (flags.0 & 0x01ff);
        set16(self.buffer.as_mut(), 12, v);
    }

    /// Sets the window.
    pub fn set_window_len(&mut self, v: u16) {
        set16(self.buffer.as_mut(), 14, v);
    }

    /// Sets the checksum field.
    pub fn set_checksum(&mut self, v: u16) {
        set16(self.buffer.as_mut(), 16, v);
    }

    /// Sets the urgent pointer.
    pub fn set_urgent_at(&mut self, v: u16) {
        set16(self.buffer.as_mut(), 18, v);
    }

    /// Mutable options area.
    pub fn options_mut(&mut self) -> &mut [u8] {
        let hlen = self.header_len();
        &mut self.buffer.as_mut()[TCP_HEADER_LEN..hlen]
    }

    /// Mutable segment data.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let hlen = self.header_len();
        &mut self.buffer.as_mut()[hlen..]
    }

    /// Computes and stores the checksum over the whole buffer.
    pub fn fill_checksum(&mut self, src: IpAddr, dst: IpAddr) {
        self.set_checksum(0);
        let c = checksum::transport_checksum(src, dst, 6, self.buffer.as_ref());
        self.set_checksum(c);
    }

    /// Rewrites the source port with an incremental checksum update.
    pub fn rewrite_src_port(&mut self, v: u16) {
        let c = checksum::update16(self.checksum(), self.src_port(), v);
        self.set_src_port(v);
        self.set_checksum(c);
    }

    /// Rewrites the destination port with an incremental checksum update.
    pub fn rewrite_dst_port(&mut self, v: u16) {
        let c = checksum::update16(self.checksum(), self.dst_port(), v);
        self.set_dst_port(v);
        self.set_checksum(c);
    }

    /// Updates the checksum for an address change in the pseudo-header
    /// (NAT rewrote the IP header).
    pub fn update_checksum_for_addr(&mut self, old: IpAddr, new: IpAddr) {
        let c = checksum::update_addr(self.checksum(), old, new);
        self.set_checksum(c);
    }
}

/// One TCP option.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TcpOption<'a> {
    /// End of option list (kind 0).
    EndOfList,
    /// No operation (kind 1).
    NoOperation,
    /// Maximum segment size (kind 2, length 4).
    MaxSegmentSize(u16),
    /// Window scale shift count (kind 3, length 3, RFC 7323 §2).
    WindowScale(u8),
    /// SACK permitted (kind 4, length 2, RFC 2018).
    SackPermitted,
    /// SACK blocks (kind 5, length 2 + 8n, n in 1..=4, RFC 2018 §3): the
    /// raw left/right edge pairs; see [`TcpOption::sack_blocks`].
    Sack(&'a [u8]),
    /// Timestamps (kind 8, length 10, RFC 7323 §3): TSval, TSecr.
    Timestamps(u32, u32),
    /// An option of another kind, kept as bytes.
    Unknown {
        /// Option kind.
        kind: u8,
        /// Option data (after kind and length).
        data: &'a [u8],
    },
}

impl<'a> TcpOption<'a> {
    /// The (left, right) edges of a SACK option.
    pub fn sack_blocks(&self) -> impl Iterator<Item = (u32, u32)> + 'a {
        let data: &'a [u8] = if let TcpOption::Sack(d) = *self { d } else { &[] };
        data.chunks_exact(8).map(|c| (get32(c, 0), get32(c, 4)))
    }

    /// Encoded length.
    pub fn buffer_len(&self) -> usize {
        match self {
            TcpOption::EndOfList | TcpOption::NoOperation => 1,
            TcpOption::MaxSegmentSize(_) => 4,
            TcpOption::WindowScale(_) => 3,
            TcpOption::SackPermitted => 2,
            TcpOption::Sack(d) => 2 + d.len(),
            TcpOption::Timestamps(..) => 10,
            TcpOption::Unknown { data, .. } => 2 + data.len(),
        }
    }

    /// Writes the option at the start of `b`; returns the rest.
    pub fn emit<'b>(&self, b: &'b mut [u8]) -> &'b mut [u8] {
        let len = self.buffer_len();
        match *self {
            TcpOption::EndOfList => b[0] = 0,
            TcpOption::NoOperation => b[0] = 1,
            TcpOption::MaxSegmentSize(v) => {
                b[..2].copy_from_slice(&[2, 4]);
                set16(b, 2, v);
            }
            TcpOption::WindowScale(v) => b[..3].copy_from_slice(&[3, 3, v]),
            TcpOption::SackPermitted => b[..2].copy_from_slice(&[4, 2]),
            TcpOption::Sack(d) => {
                b[..2].copy_from_slice(&[5, len as u8]);
                b[2..len].copy_from_slice(d);
            }
            TcpOption::Timestamps(v, e) => {
                b[..2].copy_from_slice(&[8, 10]);
                set32(b, 2, v);
                set32(b, 6, e);
            }
            TcpOption::Unknown { kind, data } => {
                b[..2].copy_from_slice(&[kind, len as u8]);
                b[2..len].copy_from_slice(data);
            }
        }
        &mut b[len..]
    }
}

/// Iterator over TCP options; yields `Err(BadOption)` once and stops when a
/// length runs past the options area or contradicts the kind; stops after
/// EOL (RFC 9293 §3.1: the rest is padding).
#[derive(Debug, Clone)]
pub struct TcpOptionIter<'a> {
    data: &'a [u8],
}

impl<'a> TcpOptionIter<'a> {
    /// Iterates raw option bytes.
    pub fn new(data: &'a [u8]) -> Self {
        TcpOptionIter { data }
    }
}

impl<'a> Iterator for TcpOptionIter<'a> {
    type Item = Result<TcpOption<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        let (&kind, rest) = self.data.split_first()?;
        match kind {
            0 => {
                self.data = &[];
                return Some(Ok(TcpOption::EndOfList));
            }
            1 => {
                self.data = rest;
                return Some(Ok(TcpOption::NoOperation));
            }
            _ => {}
        }
        let len = match rest.first() {
            Some(&l) if l >= 2 && usize::from(l) <= self.data.len() => usize::from(l),
            _ => {
                self.data = &[];
                return Some(Err(Error::BadOption));
            }
        };
        let data = &self.data[2..len];
        let opt = match (kind, len) {
            (2, 4) => TcpOption::MaxSegmentSize(get16(data, 0)),
            (3, 3) => TcpOption::WindowScale(data[0]),
            (4, 2) => TcpOption::SackPermitted,
            (5, l) if l >= 10 && (l - 2) % 8 == 0 => TcpOption::Sack(data),
            (8, 10) => TcpOption::Timestamps(get32(data, 0), get32(data, 4)),
            (2..=5 | 8, _) => {
                self.data = &[];
                return Some(Err(Error::BadOption));
            }
            _ => TcpOption::Unknown { kind, data },
        };
        self.data = &self.data[len..];
        Some(Ok(opt))
    }
}

/// The fields of a TCP header, options decoded, plus the segment data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpRepr<'a> {
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// Sequence number.
    pub seq_number: u32,
    /// Acknowledgment number (meaningful with ACK).
    pub ack_number: u32,
    /// Control bits.
    pub flags: TcpFlags,
    /// Window (unscaled).
    pub window_len: u16,
    /// Urgent pointer.
    pub urgent_at: u16,
    /// MSS option.
    pub max_seg_size: Option<u16>,
    /// Window scale option.
    pub window_scale: Option<u8>,
    /// SACK-permitted option.
    pub sack_permitted: bool,
    /// SACK blocks (at most 4 fit in 40 bytes of options).
    pub sack_ranges: [Option<(u32, u32)>; 4],
    /// Timestamps option (TSval, TSecr).
    pub timestamp: Option<(u32, u32)>,
    /// Segment data.
    pub payload: &'a [u8],
}

impl<'a> TcpRepr<'a> {
    /// Parses a checked segment. With `addrs`, the checksum is verified
    /// against the pseudo-header first. Unknown option kinds are skipped;
    /// malformed ones are `Err(BadOption)`.
    pub fn parse<T: AsRef<[u8]> + ?Sized>(p: &TcpPacket<&'a T>, addrs: Option<(IpAddr, IpAddr)>) -> Result<Self> {
        p.check_len()?;
        if let Some((s, d)) = addrs
            && !p.verify_checksum(s, d)
        {
            return Err(Error::BadChecksum);
        }
        let mut r = TcpRepr {
            src_port: p.src_port(),
            dst_port: p.dst_port(),
            seq_number: p.seq_number(),
            ack_number: p.ack_number(),
            flags: p.flags(),
            window_len: p.window_len(),
            urgent_at: p.urgent_at(),
            max_seg_size: None,
            window_scale: None,
            sack_permitted: false,
            sack_ranges: [None; 4],
            timestamp: None,
            payload: {
                let buf: &'a T = p.buffer;
                &buf.as_ref()[p.header_len()..]
            },
        };
        for opt in p.options_iter() {
            match opt? {
                TcpOption::MaxSegmentSize(v) => r.max_seg_size = Some(v),
                TcpOption::WindowScale(v) => r.window_scale = Some(v),
                TcpOption::SackPermitted => r.sack_permitted = true,
                o @ TcpOption::Sack(_) => {
                    for (slot, b) in r.sack_ranges.iter_mut().zip(o.sack_blocks()) {
                        *slot = Some(b);
                    }
                }
                TcpOption::Timestamps(v, e) => r.timestamp = Some((v, e)),
                _ => {}
            }
        }
        Ok(r)
    }

    fn sack_count(&self) -> usize {
        self.sack_ranges.iter().flatten().count()
    }

    /// Length of the options as [`TcpRepr::emit`] lays them out (Linux's
    /// `tcp_options_write` order, so Linux segments re-emit byte for byte).
    pub fn options_len(&self) -> usize {
        let mut n = 0;
        if self.max_seg_size.is_some() {
            n += 4;
        }
        if self.timestamp.is_some() {
            n += 12; // SACK-permitted shares this word, or NOP NOP
        } else if self.sack_permitted {
            n += 4;
        }
        if self.window_scale.is_some() {
            n += 4;
        }
        let s = self.sack_count();
        if s > 0 {
            n += 4 + 8 * s;
        }
        n
    }

    /// Header length (20 + options).
    pub fn header_len(&self) -> usize {
        TCP_HEADER_LEN + self.options_len()
    }

    /// Header and data length.
    pub fn buffer_len(&self) -> usize {
        self.header_len() + self.payload.len()
    }

    /// Writes header, options and data into a buffer of exactly
    /// `buffer_len()` bytes (the checksum covers the whole buffer) and
    /// fills the checksum for `src`/`dst`.
    ///
    /// Options go in Linux's order: MSS; SACK-permitted + timestamps (or
    /// NOP NOP + timestamps, or NOP NOP + SACK-permitted); NOP + window
    /// scale; NOP NOP + SACK blocks.
    ///
    /// The options must fit the 40 bytes a TCP header has (RFC 9293 §3.1):
    /// with timestamps, at most 3 SACK blocks (as Linux sends). Every repr
    /// that [`TcpRepr::parse`] returns fits.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, p: &mut TcpPacket<T>, src: IpAddr, dst: IpAddr) {
        debug_assert!(self.options_len() <= 40, "TCP options exceed 40 bytes");
        let hlen = self.header_len();
        p.set_src_port(self.src_port);
        p.set_dst_port(self.dst_port);
        p.set_seq_number(self.seq_number);
        p.set_ack_number(self.ack_number);
        p.set_header_len_and_flags(hlen, self.flags);
        p.set_window_len(self.window_len);
        p.set_urgent_at(self.urgent_at);
        {
            let mut o = p.options_mut();
            if let Some(v) = self.max_seg_size {
                o = TcpOption::MaxSegmentSize(v).emit(o);
            }
            if let Some((v, e)) = self.timestamp {
                o = if self.sack_permitted {
                    TcpOption::SackPermitted.emit(o)
                } else {
                    TcpOption::NoOperation.emit(TcpOption::NoOperation.emit(o))
                };
                o = TcpOption::Timestamps(v, e).emit(o);
            } else if self.sack_permitted {
                o = TcpOption::NoOperation.emit(TcpOption::NoOperation.emit(o));
                o = TcpOption::SackPermitted.emit(o);
            }
            if let Some(ws) = self.window_scale {
                o = TcpOption::WindowScale(ws).emit(TcpOption::NoOperation.emit(o));
            }
            let s = self.sack_count();
            if s > 0 {
                o = TcpOption::NoOperation.emit(TcpOption::NoOperation.emit(o));
                o[0] = 5;
                o[1] = (2 + 8 * s) as u8;
                for (i, (l, r)) in self.sack_ranges.iter().flatten().enumerate() {
                    set32(o, 2 + 8 * i, *l);
                    set32(o, 6 + 8 * i, *r);
                }
            }
        }
        p.payload_mut()[..self.payload.len()].copy_from_slice(self.payload);
        p.fill_checksum(src, dst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::net::Ipv4Addr;

    fn addrs() -> (IpAddr, IpAddr) {
        (Ipv4Addr::new(10, 0, 0, 1).into(), Ipv4Addr::new(10, 0, 0, 2).into())
    }

    // A Linux SYN: MSS 1460, SACK-permitted, TS, NOP, wscale 7.
    fn syn() -> Vec<u8> {
        let mut b = vec![
            0xa4, 0x10, 0x00, 0x50, 0x12, 0x34, 0x56, 0x78, 0, 0, 0, 0, 0xa0, 0x02, 0xfa, 0xf0, 0, 0, 0, 0, 2, 4, 0x05,
            0xb4, 4, 2, 8, 10, 0x00, 0x01, 0x02, 0x03, 0, 0, 0, 0, 1, 3, 3, 7,
        ];
        let (s, d) = addrs();
        let c = checksum::transport_checksum(s, d, 6, &b);
        b[16..18].copy_from_slice(&c.to_be_bytes());
        b
    }

    #[test]
    fn parse_linux_syn_and_reemit() {
        let b = syn();
        let (s, d) = addrs();
        let p = TcpPacket::new_checked(&b[..]).unwrap();
        let r = TcpRepr::parse(&p, Some((s, d))).unwrap();
        assert_eq!(r.max_seg_size, Some(1460));
        assert_eq!(r.window_scale, Some(7));
        assert!(r.sack_permitted);
        assert_eq!(r.timestamp, Some((0x00010203, 0)));
        assert!(p.syn() && !p.ack());
        assert_eq!(p.segment_len(), 1);
        let mut out = vec![0u8; r.buffer_len()];
        r.emit(&mut TcpPacket::new_unchecked(&mut out[..]), s, d);
        assert_eq!(out, b);
    }

    #[test]
    fn sack_round_trip_with_payload() {
        let (s, d) = addrs();
        let r = TcpRepr {
            src_port: 80,
            dst_port: 42000,
            seq_number: 1,
            ack_number: 1000,
            flags: TcpFlags(TcpFlags::ACK | TcpFlags::PSH),
            window_len: 501,
            urgent_at: 0,
            max_seg_size: None,
            window_scale: None,
            sack_permitted: false,
            sack_ranges: [Some((2000, 3000)), Some((4000, 5000)), None, None],
            timestamp: Some((7, 8)),
            payload: b"hello",
        };
        let mut out = vec![0u8; r.buffer_len()];
        r.emit(&mut TcpPacket::new_unchecked(&mut out[..]), s, d);
        let p = TcpPacket::new_checked(&out[..]).unwrap();
        assert!(p.verify_checksum(s, d));
        assert_eq!(TcpRepr::parse(&p, Some((s, d))).unwrap(), r);
        let sack = p.options_iter().flatten().find(|o| matches!(o, TcpOption::Sack(_))).unwrap();
        assert_eq!(sack.sack_blocks().collect::<Vec<_>>(), vec![(2000, 3000), (4000, 5000)]);
    }

    #[test]
    fn unknown_options_are_kept() {
        let opts = [30, 4, 0xaa, 0xbb, 1, 0, 9, 9];
        let v: Vec<_> = TcpOptionIter::new(&opts).collect();
        assert_eq!(
            v,
            vec![
                Ok(TcpOption::Unknown { kind: 30, data: &[0xaa, 0xbb] }),
                Ok(TcpOption::NoOperation),
                Ok(TcpOption::EndOfList)
            ]
        );
    }

    #[test]
    fn malformed() {
        let b = syn();
        for n in 0..b.len() {
            assert_eq!(TcpPacket::new_checked(&b[..n]).unwrap_err(), Error::Truncated, "len {n}");
        }
        let mut v = b.clone();
        v[12] = 0x40;
        assert_eq!(TcpPacket::new_checked(&v[..]).unwrap_err(), Error::BadHeaderLength);
        for bad in [&[2u8, 3, 5][..], &[3, 4, 1, 1], &[5, 6, 0, 0, 0, 0], &[8, 9, 0], &[2, 1], &[2], &[30, 9, 0]] {
            let e: Vec<_> = TcpOptionIter::new(bad).collect();
            assert_eq!(e.last(), Some(&Err(Error::BadOption)), "{bad:?}");
        }
        let mut v = b.clone();
        v[21] = 5; // MSS length 5
        let p = TcpPacket::new_checked(&v[..]).unwrap();
        assert_eq!(TcpRepr::parse(&p, None).unwrap_err(), Error::BadOption);
        let (s, d) = addrs();
        let mut v = b.clone();
        v[17] ^= 0x40;
        let p = TcpPacket::new_checked(&v[..]).unwrap();
        assert_eq!(TcpRepr::parse(&p, Some((s, d))).unwrap_err(), Error::BadChecksum);
    }

    #[test]
    fn nat_rewrites_keep_checksum_valid() {
        let mut b = syn();
        let (s, d) = addrs();
        let ns: IpAddr = Ipv4Addr::new(192, 0, 2, 77).into();
        let mut p = TcpPacket::new_unchecked(&mut b[..]);
        p.rewrite_src_port(61000);
        p.rewrite_dst_port(8080);
        p.update_checksum_for_addr(s, ns);
        assert!(p.verify_checksum(ns, d));
    }
}
