//! The Internet checksum: full computation (RFC 1071), the pseudo-headers of
//! TCP/UDP/ICMPv6 (RFC 9293 §3.1, RFC 768, RFC 8200 §8.1, RFC 4443 §2.3),
//! and incremental update (RFC 1624).
//!
//! Terms: a *sum* is the folded 16-bit one's complement sum of the data
//! (not inverted); a *checksum* is its complement, the value stored in a
//! header. A header verifies when the sum over it (checksum field included)
//! is `0xffff`.
//!
//! NAT rewrites addresses, ports and ICMP ids; it updates the stored
//! checksums with [`update16`], [`update32`] and [`update_bytes`] (RFC 1624
//! eqn. 3, `HC' = ~(~HC + ~m + m')`), which costs O(changed bytes) instead of
//! O(packet) and keeps a bad checksum bad, as the kernel's
//! `inet_proto_csum_replace*` do. UDP over IPv4 has a special case: a stored
//! checksum of 0 means "no checksum" (RFC 768) and must stay 0, and a
//! computed 0 is sent as `0xffff`; use the `udp_*` variants for it.

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Folds a 64-bit accumulator of 16-bit words into a 16-bit one's
/// complement sum (end-around carry, RFC 1071 §4.1).
///
/// Four fixed end-around-carry steps instead of a loop: each keeps the
/// value modulo 0xffff and nonzero when it was, and after them it is below
/// 2^16 (64 bits -> < 2^33 -> < 2^17 + 2^16 -> <= 0x10001 -> <= 0xffff),
/// so the result is the loop's: 0 only for 0, else the representative in
/// 1..=0xffff.
#[inline]
pub fn fold(acc: u64) -> u16 {
    let a = (acc & 0xffff_ffff) + (acc >> 32);
    let a = (a & 0xffff) + (a >> 16);
    let a = (a & 0xffff) + (a >> 16);
    let a = (a & 0xffff) + (a >> 16);
    a as u16
}

/// Adds the bytes of `data` as big-endian 16-bit words to `acc` (an odd
/// trailing byte is padded with zero, RFC 1071 §4.1). Not folded: the
/// result is congruent to the word sum modulo 0xffff and zero only when
/// the sum is (all a fold needs).
///
/// Eight bytes are added at a time as one big-endian 64-bit word with
/// end-around carry: since 2^16 ≡ 1 (mod 2^16 − 1), a 64-bit word is
/// congruent to the sum of its four 16-bit words (RFC 1071 §2(C), "parallel
/// summation"), and 2^64 − 1 is a multiple of 2^16 − 1, so a one's
/// complement sum in 64 bits keeps the value modulo 0xffff (and is zero
/// only when every word is). The result is below 2^34.
#[inline(always)]
pub fn accumulate(acc: u64, data: &[u8]) -> u64 {
    let mut s = acc;
    let mut chunks = data.chunks_exact(8);
    for c in &mut chunks {
        let (r, carry) = s.overflowing_add(u64::from_be_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]));
        // r + 1 cannot overflow when the addition carried.
        s = r + u64::from(carry);
    }
    // Back to 33 bits (2^32 − 1 is a multiple of 2^16 − 1 too).
    let mut acc = (s & 0xffff_ffff) + (s >> 32);
    let mut rest = chunks.remainder();
    if let [a, b, c, d, tail @ ..] = rest {
        acc += u64::from(u32::from_be_bytes([*a, *b, *c, *d]));
        rest = tail;
    }
    if let [a, b, tail @ ..] = rest {
        acc += u64::from(u16::from_be_bytes([*a, *b]));
        rest = tail;
    }
    if let [last] = rest {
        acc += u64::from(*last) << 8;
    }
    acc
}

/// The folded one's complement sum of `data` (not inverted).
#[inline]
pub fn sum(data: &[u8]) -> u16 {
    fold(accumulate(0, data))
}

/// One's complement addition of folded sums.
#[inline]
pub fn combine(sums: &[u16]) -> u16 {
    fold(sums.iter().map(|&s| u64::from(s)).sum())
}

/// The checksum to store for `data` (RFC 1071): `!sum(data)`.
#[inline]
pub fn checksum(data: &[u8]) -> u16 {
    !sum(data)
}

/// Sum of the IPv4 pseudo-header (RFC 9293 §3.1, RFC 768): source,
/// destination, zero, protocol, transport length.
pub fn pseudo_header_v4(src: Ipv4Addr, dst: Ipv4Addr, protocol: u8, length: u16) -> u16 {
    // An address as a big-endian u32 is congruent to the sum of its two
    // 16-bit words (as in `accumulate`).
    let acc = u64::from(src.to_bits()) + u64::from(dst.to_bits()) + u64::from(protocol) + u64::from(length);
    fold(acc)
}

/// Sum of the IPv6 pseudo-header (RFC 8200 §8.1): source, destination,
/// 32-bit upper-layer length, three zero bytes, next header.
pub fn pseudo_header_v6(src: Ipv6Addr, dst: Ipv6Addr, protocol: u8, length: u32) -> u16 {
    let mut acc = accumulate(0, &src.octets());
    acc = accumulate(acc, &dst.octets());
    acc += u64::from(length >> 16) + u64::from(length & 0xffff) + u64::from(protocol);
    fold(acc)
}

/// Sum of the pseudo-header for either family. Mixed families (a v4 source
/// with a v6 destination) cannot occur in a packet; they are summed as the
/// v6-mapped forms so the function stays total.
#[inline]
pub fn pseudo_header(src: IpAddr, dst: IpAddr, protocol: u8, length: u32) -> u16 {
    match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => pseudo_header_v4(s, d, protocol, length as u16),
        (s, d) => pseudo_header_v6(to_v6(s), to_v6(d), protocol, length),
    }
}

fn to_v6(a: IpAddr) -> Ipv6Addr {
    match a {
        IpAddr::V4(a) => a.to_ipv6_mapped(),
        IpAddr::V6(a) => a,
    }
}

/// The checksum of a transport segment (TCP, UDP, ICMPv6) including the
/// pseudo-header; `segment` must have its checksum field zeroed, or else
/// the result is 0 exactly when the stored checksum verifies.
#[inline]
pub fn transport_checksum(src: IpAddr, dst: IpAddr, protocol: u8, segment: &[u8]) -> u16 {
    let ph = pseudo_header(src, dst, protocol, segment.len() as u32);
    !fold(accumulate(u64::from(ph), segment))
}

/// True when `segment` (checksum field included) verifies under the
/// pseudo-header: the total sum is `0xffff` (RFC 1071 §1 step 3).
#[inline]
pub fn verify_transport(src: IpAddr, dst: IpAddr, protocol: u8, segment: &[u8]) -> bool {
    transport_checksum(src, dst, protocol, segment) == 0
}

/// [`verify_transport`] over IPv4 (the common case, so without the
/// family dispatch): the pseudo-header's words are added to the segment's
/// accumulator unfolded and the total folded once. Same result: an
/// accumulator stays congruent to its words' sum modulo 0xffff and is zero
/// only when they all are, folded or not.
#[inline(always)]
pub fn verify_transport_v4(src: Ipv4Addr, dst: Ipv4Addr, protocol: u8, segment: &[u8]) -> bool {
    // As in `pseudo_header_v4`: each address as one 32-bit word; the
    // length truncated to 16 bits as the pseudo-header holds it.
    let ph =
        u64::from(src.to_bits()) + u64::from(dst.to_bits()) + u64::from(protocol) + (segment.len() as u64 & 0xffff);
    fold(accumulate(ph, segment)) == 0xffff
}

/// RFC 1624 eqn. 3: the new checksum after a 16-bit field changes from
/// `old` to `new`: `HC' = ~(~HC + ~m + m')`.
#[inline]
pub fn update16(hc: u16, old: u16, new: u16) -> u16 {
    !fold(u64::from(!hc) + u64::from(!old) + u64::from(new))
}

/// RFC 1624 for a 32-bit field (two 16-bit words, e.g. a TCP sequence
/// number or an IPv4 address as `u32`).
#[inline]
pub fn update32(hc: u16, old: u32, new: u32) -> u16 {
    let acc = u64::from(!hc)
        + u64::from(!(old >> 16) as u16)
        + u64::from(!(old as u16))
        + u64::from((new >> 16) as u16)
        + u64::from(new as u16);
    !fold(acc)
}

/// RFC 1624 for a field of any even length at an even offset in the
/// checksummed data (4-byte IPv4 and 16-byte IPv6 addresses). `old` and
/// `new` must have the same length; an odd trailing byte is treated as the
/// high byte of a word, which is right only when the field starts at an
/// even offset.
pub fn update_bytes(hc: u16, old: &[u8], new: &[u8]) -> u16 {
    debug_assert_eq!(old.len(), new.len());
    // ~m summed word by word equals ~(sum m) in one's complement.
    let old_sum = sum(old);
    let new_sum = sum(new);
    !fold(u64::from(!hc) + u64::from(!old_sum) + u64::from(new_sum))
}

/// [`update_bytes`] for an address change (4 or 16 bytes; the families
/// must match, mismatches fall back to the v6-mapped forms).
pub fn update_addr(hc: u16, old: IpAddr, new: IpAddr) -> u16 {
    match (old, new) {
        (IpAddr::V4(o), IpAddr::V4(n)) => update_bytes(hc, &o.octets(), &n.octets()),
        (o, n) => update_bytes(hc, &to_v6(o).octets(), &to_v6(n).octets()),
    }
}

/// UDP over IPv4 (RFC 768): a stored 0 means "no checksum" and stays 0;
/// an updated value of 0 is sent as `0xffff`, its one's complement twin.
#[inline]
pub fn udp_update16(hc: u16, old: u16, new: u16) -> u16 {
    if hc == 0 { 0 } else { udp_nonzero(update16(hc, old, new)) }
}

/// [`udp_update16`] for a byte field (addresses).
pub fn udp_update_bytes(hc: u16, old: &[u8], new: &[u8]) -> u16 {
    if hc == 0 { 0 } else { udp_nonzero(update_bytes(hc, old, new)) }
}

/// [`udp_update16`] for an address change.
pub fn udp_update_addr(hc: u16, old: IpAddr, new: IpAddr) -> u16 {
    if hc == 0 { 0 } else { udp_nonzero(update_addr(hc, old, new)) }
}

/// A computed UDP checksum of 0 is transmitted as all ones (RFC 768; RFC
/// 8200 §8.1 for IPv6).
#[inline]
pub fn udp_nonzero(c: u16) -> u16 {
    if c == 0 { 0xffff } else { c }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc1071_example() {
        // RFC 1071 §3 numerical example: 00 01 f2 03 f4 f5 f6 f7 sums to ddf2.
        assert_eq!(sum(&[0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]), 0xddf2);
        assert_eq!(checksum(&[0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]), !0xddf2);
    }

    #[test]
    fn odd_length_pads_with_zero() {
        assert_eq!(sum(&[0x12, 0x34, 0x56]), 0x1234 + 0x5600);
        assert_eq!(sum(&[0xff]), 0xff00);
        assert_eq!(sum(&[]), 0);
    }

    #[test]
    fn long_buffers_match_wordwise() {
        let data: Vec<u8> = (0..1001u32).map(|i| (i * 7 + 3) as u8).collect();
        let mut acc = 0u64;
        for c in data.chunks(2) {
            acc += u64::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]));
        }
        assert_eq!(sum(&data), fold(acc));
    }

    #[test]
    fn rfc1624_example() {
        // RFC 1624 §4: HC = 0xdd2f, m = 0x5555 -> m' = 0x3285 gives HC' = 0x0000.
        assert_eq!(update16(0xdd2f, 0x5555, 0x3285), 0x0000);
    }

    #[test]
    fn udp_zero_stays_zero() {
        assert_eq!(udp_update16(0, 1234, 4321), 0);
        // A result of 0 becomes 0xffff.
        assert_eq!(udp_update16(0xdd2f, 0x5555, 0x3285), 0xffff);
        assert_eq!(udp_update_addr(0, Ipv4Addr::LOCALHOST.into(), Ipv4Addr::BROADCAST.into()), 0);
    }

    #[test]
    fn update32_is_two_update16() {
        let hc = 0x1c46;
        let (o, n) = (0xc0a8_0001u32, 0x0a00_0002u32);
        let two = update16(update16(hc, (o >> 16) as u16, (n >> 16) as u16), o as u16, n as u16);
        assert_eq!(update32(hc, o, n), two);
        assert_eq!(update_bytes(hc, &o.to_be_bytes(), &n.to_be_bytes()), two);
    }
}

#[cfg(test)]
mod wide_sum_tests {
    use super::*;

    /// RFC 1071's definition: 16-bit big-endian words, end-around carry
    /// until the sum fits in 16 bits.
    fn by_words(data: &[u8]) -> u16 {
        let mut acc: u64 = 0;
        for c in data.chunks(2) {
            acc += u64::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]));
        }
        loop_fold(acc)
    }

    /// The folding loop [`fold`] unrolls.
    fn loop_fold(mut acc: u64) -> u16 {
        while acc >> 16 != 0 {
            acc = (acc & 0xffff) + (acc >> 16);
        }
        acc as u16
    }

    proptest::proptest! {
        #[test]
        fn fold_equals_the_loop(x: u64, shift in 0u32..64) {
            proptest::prop_assert_eq!(fold(x), loop_fold(x));
            proptest::prop_assert_eq!(fold(x >> shift), loop_fold(x >> shift));
        }

        #[test]
        fn pseudo_header_v4_equals_the_byte_sum(s: u32, d: u32, p: u8, l: u16) {
            let (s, d) = (Ipv4Addr::from_bits(s), Ipv4Addr::from_bits(d));
            let mut bytes = [0u8; 12];
            bytes[..4].copy_from_slice(&s.octets());
            bytes[4..8].copy_from_slice(&d.octets());
            bytes[9] = p;
            bytes[10..].copy_from_slice(&l.to_be_bytes());
            proptest::prop_assert_eq!(pseudo_header_v4(s, d, p, l), by_words(&bytes));
        }

        #[test]
        fn v4_verification_equals_the_generic_one(s: u32, d: u32, p: u8, data: Vec<u8>, fix: bool) {
            let (s, d) = (Ipv4Addr::from_bits(s), Ipv4Addr::from_bits(d));
            let mut data = data;
            // Half the time make the segment verify: its first word set so
            // that the total is 0xffff (odd lengths and all).
            if fix && data.len() >= 2 {
                data[..2].fill(0);
                let rest = transport_checksum(s.into(), d.into(), p, &data);
                data[..2].copy_from_slice(&rest.to_be_bytes());
            }
            let generic = verify_transport(s.into(), d.into(), p, &data);
            proptest::prop_assert_eq!(verify_transport_v4(s, d, p, &data), generic);
            // Against the definition: pseudo-header bytes, then the data.
            let mut bytes = [0u8; 12].to_vec();
            bytes[..4].copy_from_slice(&s.octets());
            bytes[4..8].copy_from_slice(&d.octets());
            bytes[9] = p;
            bytes[10..].copy_from_slice(&(data.len() as u16).to_be_bytes());
            let by_def = fold(u64::from(by_words(&bytes)) + u64::from(by_words(&data))) == 0xffff;
            proptest::prop_assert_eq!(generic, by_def);
        }

        #[test]
        fn sums_equal_the_word_sum(data: Vec<u8>, cut: usize) {
            proptest::prop_assert_eq!(sum(&data), by_words(&data));
            let cut = (cut % (data.len() + 1)) & !1;
            proptest::prop_assert_eq!(fold(accumulate(accumulate(0, &data[..cut]), &data[cut..])), by_words(&data));
        }
    }

    #[test]
    fn edge_values_fold_as_the_loop() {
        for x in [
            0,
            1,
            0xffff,
            0x1_0000,
            0x1_fffe,
            0xffff_ffff,
            0x1_0000_0000,
            u64::MAX,
            u64::MAX - 1,
            0xffff_0000_0000_0000,
        ] {
            assert_eq!(fold(x), loop_fold(x), "{x:#x}");
        }
        // All-ones data: every carry path.
        for len in 0..64 {
            assert_eq!(sum(&vec![0xff; len]), by_words(&vec![0xff; len]), "len {len}");
        }
    }

    #[test]
    fn wide_summation_equals_the_word_by_word_sum() {
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for len in 0..600usize {
            for fill in [None, Some(0u8), Some(0xff)] {
                let data: Vec<u8> = (0..len)
                    .map(|_| {
                        x ^= x << 13;
                        x ^= x >> 7;
                        x ^= x << 17;
                        fill.unwrap_or(x as u8)
                    })
                    .collect();
                assert_eq!(sum(&data), by_words(&data), "len {len} fill {fill:?}");
                // Accumulating in two parts gives the same sum.
                let cut = len / 3;
                assert_eq!(fold(accumulate(accumulate(0, &data[..cut & !1]), &data[cut & !1..])), by_words(&data));
            }
        }
    }
}
