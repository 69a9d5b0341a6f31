//! Hashes the kernel's expressions compute: jhash (nft_hash.c's
//! `nft_jhash_eval`) and an approximation of the flow dissector's symmetric
//! hash (`nft_symhash_eval`), both scaled like the kernel's
//! `reciprocal_scale`.

/// The kernel's `rol32`.
#[inline]
fn rol(x: u32, k: u32) -> u32 {
    x.rotate_left(k)
}

/// `__jhash_mix` of include/linux/jhash.h (Bob Jenkins' lookup3 `mix`).
#[inline]
fn mix(a: &mut u32, b: &mut u32, c: &mut u32) {
    *a = a.wrapping_sub(*c);
    *a ^= rol(*c, 4);
    *c = c.wrapping_add(*b);
    *b = b.wrapping_sub(*a);
    *b ^= rol(*a, 6);
    *a = a.wrapping_add(*c);
    *c = c.wrapping_sub(*b);
    *c ^= rol(*b, 8);
    *b = b.wrapping_add(*a);
    *a = a.wrapping_sub(*c);
    *a ^= rol(*c, 16);
    *c = c.wrapping_add(*b);
    *b = b.wrapping_sub(*a);
    *b ^= rol(*a, 19);
    *a = a.wrapping_add(*c);
    *c = c.wrapping_sub(*b);
    *c ^= rol(*b, 4);
    *b = b.wrapping_add(*a);
}

/// `__jhash_final` of include/linux/jhash.h (lookup3 `final`).
#[inline]
fn fin(a: &mut u32, b: &mut u32, c: &mut u32) {
    *c ^= *b;
    *c = c.wrapping_sub(rol(*b, 14));
    *a ^= *c;
    *a = a.wrapping_sub(rol(*c, 11));
    *b ^= *a;
    *b = b.wrapping_sub(rol(*a, 25));
    *c ^= *b;
    *c = c.wrapping_sub(rol(*b, 16));
    *a ^= *c;
    *a = a.wrapping_sub(rol(*c, 4));
    *b ^= *a;
    *b = b.wrapping_sub(rol(*a, 14));
    *c ^= *b;
    *c = c.wrapping_sub(rol(*b, 24));
}

/// The kernel's `jhash(key, length, initval)` (include/linux/jhash.h).
///
/// Whole 12-byte blocks are read with `__get_unaligned_cpu32`, i.e. in the
/// CPU's byte order; like every machine ctc targets (x86-64, arm64) we take
/// little-endian, so the same key and seed give the kernel's value there.
/// The tail is added byte by byte exactly as the kernel's switch does.
pub fn jhash(key: &[u8], initval: u32) -> u32 {
    let init = 0xdead_beef_u32.wrapping_add(key.len() as u32).wrapping_add(initval);
    let (mut a, mut b, mut c) = (init, init, init);
    let mut k = key;
    let word = |s: &[u8]| u32::from_le_bytes([s[0], s[1], s[2], s[3]]);
    while k.len() > 12 {
        a = a.wrapping_add(word(&k[0..4]));
        b = b.wrapping_add(word(&k[4..8]));
        c = c.wrapping_add(word(&k[8..12]));
        mix(&mut a, &mut b, &mut c);
        k = &k[12..];
    }
    if k.is_empty() {
        return c;
    }
    // The kernel's fall-through switch on the remaining length (1..=12):
    // byte i goes to word i / 4 at bit position 8 * (i % 4).
    for (i, &byte) in k.iter().enumerate() {
        let v = (byte as u32) << (8 * (i % 4));
        match i / 4 {
            0 => a = a.wrapping_add(v),
            1 => b = b.wrapping_add(v),
            _ => c = c.wrapping_add(v),
        }
    }
    fin(&mut a, &mut b, &mut c);
    c
}

/// The kernel's `reciprocal_scale(val, ep_ro)`: `val` mapped onto
/// `[0, ep_ro)` by a multiply and shift (nft_hash, numgen random and
/// nfqueue use it instead of `%`).
#[inline]
pub fn reciprocal_scale(val: u32, ep_ro: u32) -> u32 {
    ((val as u64 * ep_ro as u64) >> 32) as u32
}
