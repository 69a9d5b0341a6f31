//! Incremental Internet checksum update (RFC 1624), as nft_payload.c's
//! `nft_csum_replace` applies it after `payload set`.

/// One's complement sum of `data`, folded to 16 bits. `odd` says the first
/// byte sits at an odd offset from the start of the checksummed region, so
/// it is the low byte of its 16-bit word.
fn sum(data: &[u8], odd: bool) -> u16 {
    let mut s: u32 = 0;
    for (i, &b) in data.iter().enumerate() {
        if (i + odd as usize).is_multiple_of(2) {
            s += (b as u32) << 8;
        } else {
            s += b as u32;
        }
    }
    fold(s)
}

fn fold(mut s: u32) -> u16 {
    while s > 0xffff {
        s = (s & 0xffff) + (s >> 16);
    }
    s as u16
}

/// The checksum `hc` after the bytes `old` became `new` (RFC 1624
/// eqn. 3: `HC' = ~(~HC + ~m + m')`). Like the kernel's `nft_csum_replace`
/// a result of 0 is stored as 0xffff (CSUM_MANGLED_0): both are one's
/// complement zero, and 0 means "no checksum" to UDP.
pub fn replace(hc: u16, old: &[u8], new: &[u8], odd: bool) -> u16 {
    let s = (!hc) as u32 + (!sum(old, odd)) as u32 + sum(new, odd) as u32;
    let r = !fold(s);
    if r == 0 { 0xffff } else { r }
}

/// The full checksum of `data` (for tests and for callers that verify).
pub fn checksum(data: &[u8]) -> u16 {
    !sum(data, false)
}
