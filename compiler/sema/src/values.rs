//! Literal text to values: numbers, addresses, times, sizes.
//!
//! Pure functions over the literal's text; the caller knows the expected
//! type and reports errors with the literal's span.

use std::net::{Ipv4Addr, Ipv6Addr};

/// An integer as nft's scanner reads one: `0x` hexadecimal, octal after
/// a leading `0` (`010` is 8, as strtoull with base 8: measured, nft 1.0.6
/// loads `tcp dport 010` as port 8 and `ip length 010-020` as 8-16), else
/// decimal. A leading `0` followed by an 8 or a 9 is no number (nft then
/// takes the word as a string: an error for most types,
/// [`parse_decimal`] for ports).
pub fn parse_number(s: &str) -> Option<u128> {
    if let Some(h) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        u128::from_str_radix(h, 16).ok()
    } else if let Some(o) = s.strip_prefix('0').filter(|o| !o.is_empty()) {
        u128::from_str_radix(o, 8).ok().filter(|_| o.bytes().all(|b| b.is_ascii_digit()))
    } else {
        parse_decimal(s)
    }
}

/// Decimal digits only, leading zeros and all: how nft reads a port that
/// its scanner left as a word (`tcp dport 08` is port 8, measured).
pub fn parse_decimal(s: &str) -> Option<u128> {
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) { s.parse().ok() } else { None }
}

pub fn parse_ipv4(s: &str) -> Option<[u8; 4]> {
    s.parse::<Ipv4Addr>().ok().map(|a| a.octets())
}

pub fn parse_ipv6(s: &str) -> Option<[u8; 16]> {
    s.parse::<Ipv6Addr>().ok().map(|a| a.octets())
}

/// `00:11:22:33:44:55` (one or two hex digits per octet, as nft).
pub fn parse_mac(s: &str) -> Option<[u8; 6]> {
    let mut out = [0u8; 6];
    let mut n = 0;
    for part in s.split(':') {
        if n == 6 || part.is_empty() || part.len() > 2 {
            return None;
        }
        out[n] = u8::from_str_radix(part, 16).ok()?;
        n += 1;
    }
    (n == 6).then_some(out)
}

/// nft time strings: `1d2h3m4s5ms`, or a plain number of seconds. Returns
/// milliseconds. Units must appear in decreasing order, each at most once.
pub fn parse_time_ms(s: &str) -> Option<u64> {
    if let Some(n) = parse_number(s) {
        return u64::try_from(n).ok()?.checked_mul(1000);
    }
    const UNITS: &[(&str, u64)] = &[("d", 86_400_000), ("h", 3_600_000), ("ms", 1), ("m", 60_000), ("s", 1000)];
    let order = |u: &str| match u {
        "d" => 0,
        "h" => 1,
        "m" => 2,
        "s" => 3,
        "ms" => 4,
        _ => 5,
    };
    let mut rest = s;
    let mut total: u64 = 0;
    let mut last = -1i32;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        let value: u64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let (unit, mult) = UNITS.iter().find(|(u, _)| rest.starts_with(u))?;
        // `m` must not swallow the `m` of `ms`: UNITS lists `ms` first.
        let o = order(unit);
        if o <= last {
            return None;
        }
        last = o;
        rest = &rest[unit.len()..];
        total = total.checked_add(value.checked_mul(*mult)?)?;
    }
    Some(total)
}

/// Byte units of `limit rate` and `quota`: `bytes`, `kbytes`, `mbytes`,
/// `gbytes` → multiplier.
pub fn byte_unit(s: &str) -> Option<u64> {
    match s {
        "bytes" => Some(1),
        "kbytes" => Some(1024),
        "mbytes" => Some(1024 * 1024),
        "gbytes" => Some(1024 * 1024 * 1024),
        _ => None,
    }
}

/// Time units of rates (`/second`, `/minute`, ...) → seconds.
pub fn rate_unit(s: &str) -> Option<u64> {
    match s {
        "second" => Some(1),
        "minute" => Some(60),
        "hour" => Some(3600),
        "day" => Some(86_400),
        "week" => Some(604_800),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times() {
        assert_eq!(parse_time_ms("1h30m"), Some(5_400_000));
        assert_eq!(parse_time_ms("10ms"), Some(10));
        assert_eq!(parse_time_ms("2d"), Some(172_800_000));
        assert_eq!(parse_time_ms("30"), Some(30_000));
        assert_eq!(parse_time_ms("1m1h"), None);
        assert_eq!(parse_time_ms("1x"), None);
    }

    #[test]
    fn addresses() {
        assert_eq!(parse_ipv4("10.0.0.1"), Some([10, 0, 0, 1]));
        assert_eq!(parse_ipv4("10.0.0.256"), None);
        assert!(parse_ipv6("dead::beef").is_some());
        assert_eq!(parse_mac("0:1:2:3:4:ff"), Some([0, 1, 2, 3, 4, 255]));
        assert_eq!(parse_mac("dead::beef"), None);
        assert_eq!(parse_number("0x10"), Some(16));
        assert_eq!(parse_number("010"), Some(8));
        assert_eq!(parse_number("0"), Some(0));
        assert_eq!(parse_number("00"), Some(0));
        assert_eq!(parse_number("0123"), Some(83));
        assert_eq!(parse_number("10"), Some(10));
        assert_eq!(parse_number("08"), None);
        assert_eq!(parse_number("0+1"), None);
        assert_eq!(parse_decimal("08"), Some(8));
    }
}
