//! IPv6 extension headers (RFC 8200 §4) and the walker that finds the
//! upper-layer header.
//!
//! Hop-by-hop (0), routing (43) and destination options (60) share the
//! layout next-header, `Hdr Ext Len` in 8-octet units not counting the
//! first 8, then data (RFC 8200 §4.3, §4.4, §4.6). AH (51) counts 4-octet
//! units minus 2 (RFC 4302 §2.2). The fragment header (44) is a fixed 8
//! bytes (RFC 8200 §4.5).
//!
//! The walker mirrors the kernel's `ipv6_find_hdr()` as nft uses it
//! (`nft_set_pktinfo_ipv6`): it follows extension headers until a
//! protocol that is not one (TCP, UDP, ICMPv6, ESP, "no next header" 59,
//! ...), which becomes the l4 protocol. At a fragment header with a
//! non-zero offset it stops: the fragment's next header is the l4 protocol,
//! and there is no transport header to read. Iteration is bounded by
//! [`MAX_IPV6_EXT_HEADERS`] as well as by the payload length.

use crate::field::{get16, get32, set16, set32};
use crate::ip::IpProtocol;
use crate::{Error, Result};

/// The most extension headers the walker follows before reporting
/// [`Error::TooManyHeaders`].
pub const MAX_IPV6_EXT_HEADERS: usize = 16;

/// True for the next-header values the walker treats as extension headers.
pub(crate) fn is_ext_header(nh: u8) -> bool {
    matches!(nh, 0 | 43 | 44 | 51 | 60)
}

/// Length in bytes of the extension header `kind` whose first bytes are
/// `b` (at least 2 bytes).
fn ext_len(kind: u8, b: &[u8]) -> usize {
    match kind {
        44 => 8,
        51 => (usize::from(b[1]) + 2) * 4,
        _ => (usize::from(b[1]) + 1) * 8,
    }
}

/// A view of a generic extension header (hop-by-hop, routing, destination
/// options, AH); the kind decides how its length field is read.
#[derive(Debug, Clone)]
pub struct Ipv6ExtHeader<T: AsRef<[u8]>> {
    buffer: T,
    kind: u8,
}

impl<T: AsRef<[u8]>> Ipv6ExtHeader<T> {
    /// Wraps without checking.
    pub fn new_unchecked(buffer: T, kind: IpProtocol) -> Self {
        Ipv6ExtHeader { buffer, kind: kind.into() }
    }

    /// Wraps, checking that the header the length field announces fits and,
    /// for hop-by-hop and destination options, that its options are well
    /// formed (the kernel drops malformed hop-by-hop options in
    /// `ipv6_rcv` before netfilter).
    pub fn new_checked(buffer: T, kind: IpProtocol) -> Result<Self> {
        let h = Self::new_unchecked(buffer, kind);
        h.check_len()?;
        Ok(h)
    }

    /// See [`Ipv6ExtHeader::new_checked`].
    pub fn check_len(&self) -> Result<()> {
        let b = self.buffer.as_ref();
        let min = if self.kind == 44 { 8 } else { 2 };
        if b.len() < min || b.len() < self.header_len() {
            return Err(Error::Truncated);
        }
        if matches!(self.kind, 0 | 60) {
            for o in self.options_iter() {
                o?;
            }
        }
        Ok(())
    }

    /// Which extension header this is.
    pub fn kind(&self) -> IpProtocol {
        IpProtocol::from(self.kind)
    }

    /// Next header.
    pub fn next_header(&self) -> IpProtocol {
        IpProtocol::from(self.buffer.as_ref()[0])
    }

    /// Total length of this header in bytes.
    pub fn header_len(&self) -> usize {
        ext_len(self.kind, self.buffer.as_ref())
    }

    /// The bytes after next-header and length, to the end of the header.
    pub fn data(&self) -> &[u8] {
        let b = self.buffer.as_ref();
        let end = self.header_len().min(b.len());
        &b[2.min(end)..end]
    }

    /// Options of a hop-by-hop or destination options header (RFC 8200
    /// §4.2).
    pub fn options_iter(&self) -> Ipv6OptionIter<'_> {
        Ipv6OptionIter { data: if matches!(self.kind, 0 | 60) { self.data() } else { &[] } }
    }

    /// Routing type (routing header only, RFC 8200 §4.4).
    pub fn routing_type(&self) -> Option<u8> {
        (self.kind == 43).then(|| self.data().first().copied()).flatten()
    }

    /// Segments left (routing header only).
    pub fn segments_left(&self) -> Option<u8> {
        (self.kind == 43).then(|| self.data().get(1).copied()).flatten()
    }

    /// The bytes after this header.
    pub fn payload(&self) -> &[u8] {
        let b = self.buffer.as_ref();
        &b[self.header_len().min(b.len())..]
    }
}

/// One option of a hop-by-hop or destination options header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ipv6Option<'a> {
    /// Pad1 (type 0), a single byte.
    Pad1,
    /// PadN (type 1) with its data length.
    PadN(u8),
    /// Any other option (the two high bits of `kind` say what a node that
    /// does not know it must do, RFC 8200 §4.2).
    Other {
        /// Option type.
        kind: u8,
        /// Option data.
        data: &'a [u8],
    },
}

/// Iterator over TLV-encoded IPv6 options; yields `Err(BadOption)` once on
/// an option running past the header.
#[derive(Debug, Clone)]
pub struct Ipv6OptionIter<'a> {
    data: &'a [u8],
}

impl<'a> Iterator for Ipv6OptionIter<'a> {
    type Item = Result<Ipv6Option<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        let (&kind, rest) = self.data.split_first()?;
        if kind == 0 {
            self.data = rest;
            return Some(Ok(Ipv6Option::Pad1));
        }
        match rest.first().map(|&l| usize::from(l)) {
            Some(len) if 2 + len <= self.data.len() => {
                let data = &self.data[2..2 + len];
                self.data = &self.data[2 + len..];
                Some(Ok(if kind == 1 { Ipv6Option::PadN(len as u8) } else { Ipv6Option::Other { kind, data } }))
            }
            _ => {
                self.data = &[];
                Some(Err(Error::BadOption))
            }
        }
    }
}

/// A view of the IPv6 fragment header (RFC 8200 §4.5).
#[derive(Debug, Clone)]
pub struct Ipv6FragmentHeader<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Ipv6FragmentHeader<T> {
    /// Wraps without checking.
    pub const fn new_unchecked(buffer: T) -> Self {
        Ipv6FragmentHeader { buffer }
    }

    /// Wraps, checking the 8 bytes are present.
    pub fn new_checked(buffer: T) -> Result<Self> {
        if buffer.as_ref().len() < 8 {
            return Err(Error::Truncated);
        }
        Ok(Self::new_unchecked(buffer))
    }

    /// Next header of the fragmentable part.
    pub fn next_header(&self) -> IpProtocol {
        IpProtocol::from(self.buffer.as_ref()[0])
    }

    /// Fragment offset in bytes.
    pub fn frag_offset(&self) -> u16 {
        get16(self.buffer.as_ref(), 2) & !7
    }

    /// M flag: more fragments follow.
    pub fn more_frags(&self) -> bool {
        self.buffer.as_ref()[3] & 1 != 0
    }

    /// Identification.
    pub fn ident(&self) -> u32 {
        get32(self.buffer.as_ref(), 4)
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Ipv6FragmentHeader<T> {
    /// Sets the next header.
    pub fn set_next_header(&mut self, p: IpProtocol) {
        let b = self.buffer.as_mut();
        b[0] = p.into();
        b[1] = 0;
    }

    /// Sets offset (bytes, multiple of 8) and the M flag.
    pub fn set_frag(&mut self, offset: u16, more: bool) {
        set16(self.buffer.as_mut(), 2, (offset & !7) | u16::from(more));
    }

    /// Sets the identification.
    pub fn set_ident(&mut self, v: u32) {
        set32(self.buffer.as_mut(), 4, v);
    }
}

/// The fields of an IPv6 fragment header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ipv6FragmentRepr {
    /// Next header.
    pub next_header: IpProtocol,
    /// Offset in bytes.
    pub frag_offset: u16,
    /// More fragments.
    pub more_frags: bool,
    /// Identification.
    pub ident: u32,
}

impl Ipv6FragmentRepr {
    /// Parses a fragment header.
    pub fn parse<T: AsRef<[u8]>>(h: &Ipv6FragmentHeader<T>) -> Result<Ipv6FragmentRepr> {
        if h.buffer.as_ref().len() < 8 {
            return Err(Error::Truncated);
        }
        Ok(Ipv6FragmentRepr {
            next_header: h.next_header(),
            frag_offset: h.frag_offset(),
            more_frags: h.more_frags(),
            ident: h.ident(),
        })
    }

    /// Header length (8).
    pub const fn buffer_len(&self) -> usize {
        8
    }

    /// Writes the header.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, h: &mut Ipv6FragmentHeader<T>) {
        h.set_next_header(self.next_header);
        h.set_frag(self.frag_offset, self.more_frags);
        h.set_ident(self.ident);
    }
}

/// One extension header found by [`Ipv6ExtHeaderIter`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ipv6ExtInfo<'a> {
    /// Which header.
    pub kind: IpProtocol,
    /// Offset from the start of the IPv6 header.
    pub offset: usize,
    /// The header's bytes (its full length).
    pub bytes: &'a [u8],
}

/// Iterator over the extension headers of an IPv6 payload. After it ends
/// (returns `None`), [`Ipv6ExtHeaderIter::upper_layer`] gives the
/// upper-layer protocol and its offset.
#[derive(Debug, Clone)]
pub struct Ipv6ExtHeaderIter<'a> {
    payload: &'a [u8],
    base: usize,
    pos: usize,
    nh: u8,
    count: usize,
    stopped: bool,
}

impl<'a> Ipv6ExtHeaderIter<'a> {
    /// Walks `payload` (the bytes after the fixed header), whose first
    /// header is `next_header`; `base` is added to the offsets reported
    /// (40 to make them relative to the IPv6 header).
    pub fn new(next_header: u8, payload: &'a [u8], base: usize) -> Self {
        Ipv6ExtHeaderIter { payload, base, pos: 0, nh: next_header, count: 0, stopped: false }
    }

    /// The protocol after the last header walked and its offset (relative
    /// to `base`'s origin).
    pub fn upper_layer(&self) -> (u8, usize) {
        (self.nh, self.base + self.pos)
    }
}

impl<'a> Iterator for Ipv6ExtHeaderIter<'a> {
    type Item = Result<Ipv6ExtInfo<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.stopped || !is_ext_header(self.nh) {
            return None;
        }
        if self.count >= MAX_IPV6_EXT_HEADERS {
            self.stopped = true;
            return Some(Err(Error::TooManyHeaders));
        }
        let kind = self.nh;
        let rest = &self.payload[self.pos..];
        let min = if kind == 44 { 8 } else { 2 };
        if rest.len() < min {
            self.stopped = true;
            return Some(Err(Error::Truncated));
        }
        let len = ext_len(kind, rest);
        if rest.len() < len {
            self.stopped = true;
            return Some(Err(Error::Truncated));
        }
        let bytes = &rest[..len];
        if matches!(kind, 0 | 60) {
            let h = Ipv6ExtHeader::new_unchecked(bytes, IpProtocol::from(kind));
            if let Some(Err(e)) = h.options_iter().find(|o| o.is_err()) {
                self.stopped = true;
                return Some(Err(e));
            }
        }
        let info = Ipv6ExtInfo { kind: IpProtocol::from(kind), offset: self.base + self.pos, bytes };
        self.count += 1;
        self.pos += len;
        self.nh = bytes[0];
        if kind == 44 && get16(bytes, 2) & !7 != 0 {
            // A non-first fragment: what follows is fragment data, not a
            // header (RFC 8200 §4.5); the kernel's ipv6_find_hdr stops too.
            self.stopped = true;
        }
        Some(Ok(info))
    }
}

/// The result of walking an IPv6 header chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ipv6Walk {
    /// The upper-layer protocol (l4proto): the first next-header value that
    /// is not an extension header, or the next header of a non-first
    /// fragment.
    pub protocol: u8,
    /// Offset of the upper-layer header from the start of the IPv6 header
    /// (for a non-first fragment: of the fragment data).
    pub offset: usize,
    /// The fragment header, if any, and its offset.
    pub fragment: Option<(Ipv6FragmentRepr, usize)>,
    /// How many extension headers were walked.
    pub ext_headers: usize,
}

impl Ipv6Walk {
    /// True when the upper-layer header is absent because this is a
    /// fragment with a non-zero offset.
    pub fn is_later_fragment(&self) -> bool {
        matches!(self.fragment, Some((f, _)) if f.frag_offset != 0)
    }
}

pub(crate) fn walk(next_header: u8, payload: &[u8], base: usize) -> Result<Ipv6Walk> {
    let mut it = Ipv6ExtHeaderIter::new(next_header, payload, base);
    let mut fragment = None;
    let mut n = 0;
    for h in it.by_ref() {
        let h = h?;
        n += 1;
        if h.kind == IpProtocol::Ipv6Frag {
            let f = Ipv6FragmentRepr::parse(&Ipv6FragmentHeader::new_unchecked(h.bytes))?;
            fragment = Some((f, h.offset));
        }
    }
    let (protocol, offset) = it.upper_layer();
    Ok(Ipv6Walk { protocol, offset, fragment, ext_headers: n })
}

#[cfg(test)]
mod tests {
    use super::*;

    // hop-by-hop (router alert, RFC 2711) -> routing (type 0, 0 segments)
    // -> fragment (offset 0, M) -> destination options (PadN) -> TCP.
    fn chain() -> Vec<u8> {
        let mut b = vec![43, 0, 5, 2, 0, 0, 1, 0]; // HBH: router alert + PadN(0)
        b.extend_from_slice(&[44, 0, 0, 0, 0, 0, 0, 0]); // routing
        b.extend_from_slice(&[60, 0, 0x00, 0x01, 0xde, 0xad, 0xbe, 0xef]); // fragment
        b.extend_from_slice(&[6, 0, 1, 4, 0, 0, 0, 0]); // dest opts: PadN(4)
        b
    }

    #[test]
    fn walks_the_chain() {
        let b = chain();
        let w = walk(0, &b, 40).unwrap();
        assert_eq!(w.protocol, 6);
        assert_eq!(w.offset, 40 + 32);
        assert_eq!(w.ext_headers, 4);
        let (f, off) = w.fragment.unwrap();
        assert_eq!(off, 56);
        assert_eq!(
            f,
            Ipv6FragmentRepr { next_header: IpProtocol::Ipv6Opts, frag_offset: 0, more_frags: true, ident: 0xdeadbeef }
        );
        assert!(!w.is_later_fragment());
        let h = Ipv6ExtHeader::new_checked(&b[..8], IpProtocol::HopByHop).unwrap();
        let opts: Vec<_> = h.options_iter().collect();
        assert_eq!(opts, vec![Ok(Ipv6Option::Other { kind: 5, data: &[0, 0] }), Ok(Ipv6Option::PadN(0))]);
        let r = Ipv6ExtHeader::new_checked(&b[8..16], IpProtocol::Ipv6Route).unwrap();
        assert_eq!((r.routing_type(), r.segments_left()), (Some(0), Some(0)));
    }

    #[test]
    fn later_fragment_stops() {
        let b = [17, 0, 0x05, 0x00, 0, 0, 0, 1, 0xff, 0xff];
        let w = walk(44, &b, 40).unwrap();
        assert_eq!(w.protocol, 17);
        assert_eq!(w.offset, 48);
        assert!(w.is_later_fragment());
        assert_eq!(w.fragment.unwrap().0.frag_offset, 0x500);
    }

    #[test]
    fn esp_and_no_next_header_end_the_walk() {
        let b = [50, 0, 0, 0, 0, 0, 0, 0];
        assert_eq!(walk(60, &b, 40).unwrap().protocol, 50);
        assert_eq!(walk(59, &[], 40).unwrap().protocol, 59);
        // AH: length counts 4-octet units minus 2 (RFC 4302).
        let ah = [6, 4, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];
        let w = walk(51, &ah, 0).unwrap();
        assert_eq!((w.protocol, w.offset), (6, 24));
    }

    #[test]
    fn malformed_chains() {
        let b = chain();
        for n in 0..b.len() {
            let e = walk(0, &b[..n], 40);
            assert_eq!(e.unwrap_err(), Error::Truncated, "len {n}");
        }
        let mut v = b.clone();
        v[3] = 9; // router alert length past the header
        assert_eq!(walk(0, &v, 40).unwrap_err(), Error::BadOption);
        let many: Vec<u8> = (0..20).flat_map(|_| [60u8, 0, 1, 4, 0, 0, 0, 0]).collect();
        assert_eq!(walk(60, &many, 40).unwrap_err(), Error::TooManyHeaders);
    }

    #[test]
    fn fragment_repr_round_trip() {
        let r = Ipv6FragmentRepr { next_header: IpProtocol::Udp, frag_offset: 1448, more_frags: false, ident: 7 };
        let mut out = [0u8; 8];
        r.emit(&mut Ipv6FragmentHeader::new_unchecked(&mut out[..]));
        assert_eq!(Ipv6FragmentRepr::parse(&Ipv6FragmentHeader::new_checked(&out[..]).unwrap()).unwrap(), r);
    }
}
