//! The protocol core of the FTP helper: Linux 6.x `nf_conntrack_ftp.c`
//! (`help()`, `find_pattern()`, the number parsers, newline sequence
//! tracking) and the text formatting of `nf_nat_ftp.c`
//! (`nf_nat_ftp_fmt_cmd()`).
//!
//! Sans-IO: the caller hands in the TCP payload, its sequence number and
//! direction and the control connection's address; nothing here touches a
//! tuple table, a clock or an expectation list.
//!
//! Faithful to the kernel on these machines (6.18), including what looks
//! odd, because the differential tests compare expectations and dropped
//! packets with the real kernel:
//! - The numbers of PORT/227/EPRT(IPv4) are *not* range checked: each is
//!   accumulated in a `u32` and the address/port are assembled by shifting,
//!   so `PORT 10,0,0,1,256,22` expects port 22 (`(256 << 8 | 22) as u16`).
//!   The EPRT/EPSV port is accumulated in a `u16` and wraps: `|||70000|`
//!   expects port 4464. Both checked against the live 6.18 kernel (a
//!   range check was only proposed upstream in 2026).
//! - Any failure after a pattern matched (no skip character, bad number,
//!   missing terminator, wrong EPRT family) is a "partial match": the
//!   kernel drops the packet (`partial matching of `PORT'`), it does not
//!   just ignore the line.
//! - A 227 reply is parsed as RFC 1123 says (first digit after "227 ",
//!   parentheses optional, any non-digit non-comma ends the sixth number);
//!   a 229 reply needs '(' and the `|||port|` text right after it; the ')'
//!   is never checked.

use core::fmt::Write as _;
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::tcp::Dir;

/// What a matched line asks for (enum nf_ct_ftp_type, kernel values).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FtpType {
    /// `PORT h1,h2,h3,h4,p1,p2` from the client (NF_CT_FTP_PORT).
    Port = 0,
    /// `227 ... h1,h2,h3,h4,p1,p2` from the server (NF_CT_FTP_PASV).
    Pasv = 1,
    /// `EPRT |af|addr|port|` from the client (NF_CT_FTP_EPRT).
    Eprt = 2,
    /// `229 ... (|||port|)` from the server (NF_CT_FTP_EPSV).
    Epsv = 3,
}

impl FtpType {
    /// The search pattern of this type, as the kernel's `search[][]` table
    /// spells it (what `nf_ct_helper_log` prints on a partial match).
    pub fn pattern(self) -> &'static str {
        match self {
            FtpType::Port => "PORT",
            FtpType::Pasv => "227 ",
            FtpType::Eprt => "EPRT",
            FtpType::Epsv => "229 ",
        }
    }

    /// The message `help()` logs when it drops a packet for a partial
    /// match: `nf_ct_helper_log(skb, ct, "partial matching of `%s'",
    /// search[dir][i].pattern)`.
    pub fn partial_log(self) -> &'static str {
        match self {
            FtpType::Port => "partial matching of `PORT'",
            FtpType::Pasv => "partial matching of `227 '",
            FtpType::Eprt => "partial matching of `EPRT'",
            FtpType::Epsv => "partial matching of `229 '",
        }
    }
}

/// A command or reply that carries an address and port, and where its text
/// lies in the payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FtpCmd {
    /// Which pattern matched.
    pub ty: FtpType,
    /// The address as written: IPv4 for PORT, 227 and `EPRT |1|`, IPv6 for
    /// `EPRT |2|`, `None` for EPSV (the kernel keeps the control
    /// connection's address there). On an IPv6 connection PORT and 227 still
    /// carry an IPv4 address: [`help`] merges it as the kernel does.
    pub addr: Option<IpAddr>,
    /// The port (after the kernel's truncation, see the module doc).
    pub port: u16,
    /// Offset in the payload of the text NAT replaces (`matchoff`): the
    /// first number of PORT/227, the first delimiter of EPRT/EPSV.
    pub match_off: usize,
    /// Length of that text (`matchlen`): up to, not including, the
    /// terminator of PORT/227; through the closing delimiter of EPRT/EPSV.
    pub match_len: usize,
}

/// Result of [`search`] (`find_pattern()` over the direction's patterns).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Found {
    /// No pattern starts the payload (`find_pattern` returned 0).
    Nothing,
    /// A pattern matched but the rest did not parse, or the payload is a
    /// prefix of a pattern (-1): the kernel drops the packet. Carries the
    /// pattern for the log message.
    Partial(FtpType),
    /// A full match (1).
    Cmd(FtpCmd),
}

/// The number parser of one search row (the kernel's `getnum` pointer),
/// as an enum so dispatch is static.
#[derive(Debug, Clone, Copy)]
enum GetNum {
    /// try_rfc959: `h1,h2,h3,h4,p1,p2` ended by the row's terminator.
    Rfc959,
    /// try_rfc1123: skip to the first digit, then try_rfc959 with no
    /// terminator (any other character ends the numbers).
    Rfc1123,
    /// try_eprt: `<d>1<d>a.b.c.d<d>port<d>` or `<d>2<d>v6<d>port<d>`.
    Eprt,
    /// try_epsv_response: `<d><d><d>port<d>`.
    EpsvResponse,
}

/// One row of the kernel's `struct ftp_search`.
#[derive(Debug)]
struct Search {
    /// Matched case-insensitively at the very start of the payload.
    pattern: &'static [u8; 4],
    /// Skip up to and past the first occurrence of this character after
    /// the pattern; `None`: the numbers parser starts right after it.
    skip: Option<u8>,
    /// Terminator passed to the parser (0: any character terminates).
    term: u8,
    ty: FtpType,
    getnum: GetNum,
}

/// The kernel's `search[IP_CT_DIR_MAX][2]`, tried in order; the first row
/// that does not answer "no match" decides.
static SEARCH: [[Search; 2]; 2] = [
    // IP_CT_DIR_ORIGINAL: commands from the client.
    [
        // RFC 959 PORT: skip to the first ' ' after "PORT", six numbers
        // separated by ',' that must end with '\r' (a bare '\n' is a
        // partial match, so the packet is dropped).
        Search { pattern: b"PORT", skip: Some(b' '), term: b'\r', ty: FtpType::Port, getnum: GetNum::Rfc959 },
        // RFC 2428 EPRT: skip to the first ' '; the row's '\r' is passed
        // but try_eprt ends at its own delimiter and ignores it.
        Search { pattern: b"EPRT", skip: Some(b' '), term: b'\r', ty: FtpType::Eprt, getnum: GetNum::Eprt },
    ],
    // IP_CT_DIR_REPLY: replies from the server.
    [
        // 227 (PASV reply): no skip, no terminator; try_rfc1123 scans for
        // the first digit because RFC 1123 4.1.2.6 says the parentheses of
        // RFC 959 are not reliable.
        Search { pattern: b"227 ", skip: None, term: 0, ty: FtpType::Pasv, getnum: GetNum::Rfc1123 },
        // 229 (EPSV reply, RFC 2428 3): skip to '(' and read `|||port|`
        // right after it; the ')' terminator is passed but never checked.
        Search { pattern: b"229 ", skip: Some(b'('), term: b')', ty: FtpType::Epsv, getnum: GetNum::EpsvResponse },
    ],
];

/// Find a command (original direction: PORT, EPRT) or reply (reply
/// direction: 227, 229) at the start of `payload`, as `help()` loops
/// `find_pattern()` over `search[dir]`. `v6`: the connection's family
/// (EPRT must name it).
///
/// An empty payload is a partial match of the first pattern, as in the
/// kernel (`strncasecmp(data, pattern, 0) == 0`); `help()` never gets
/// there because it ignores segments without data.
pub fn search(payload: &[u8], dir: Dir, v6: bool) -> Found {
    for row in &SEARCH[dir as usize] {
        match find_pattern(payload, row, v6) {
            Found::Nothing => continue,
            found => return found,
        }
    }
    Found::Nothing
}

/// `find_pattern()`: 1 → `Cmd`, 0 → `Nothing`, -1 → `Partial`.
fn find_pattern(data: &[u8], row: &Search, v6: bool) -> Found {
    let pattern = &row.pattern[..];
    let plen = pattern.len();
    let partial = Found::Partial(row.ty);
    // Short packet: a prefix of the pattern is a partial match. The
    // kernel's strncasecmp also stops at a NUL, but the patterns hold none
    // and a NUL in the data differs from every pattern byte, so an ASCII
    // case-insensitive comparison is the same (the kernel's Latin-1
    // tolower never maps a byte >= 0x80 to ASCII).
    if data.len() <= plen {
        return if eq_ignore_case(data, &pattern[..data.len()]) { partial } else { Found::Nothing };
    }
    if !eq_ignore_case(&data[..plen], pattern) {
        return Found::Nothing;
    }
    let mut i = plen;
    if let Some(skip) = row.skip {
        // The first skip character at or after the pattern's end; none
        // before the last byte is a partial match.
        match data[plen..].iter().position(|&b| b == skip) {
            Some(k) => i = plen + k + 1,
            None => return partial,
        }
    }
    let rest = &data[i..];
    let parsed = match row.getnum {
        GetNum::Rfc959 => try_rfc959(rest, row.term).map(|(len, a, p)| (0, len, Some(IpAddr::V4(a)), p)),
        GetNum::Rfc1123 => try_rfc1123(rest).map(|(off, len, a, p)| (off, len, Some(IpAddr::V4(a)), p)),
        GetNum::Eprt => try_eprt(rest, v6).map(|(len, a, p)| (0, len, Some(a), p)),
        GetNum::EpsvResponse => try_epsv_response(rest).map(|(len, p)| (0, len, None, p)),
    };
    match parsed {
        Some((off, len, addr, port)) => {
            Found::Cmd(FtpCmd { ty: row.ty, addr, port, match_off: i + off, match_len: len })
        }
        None => partial,
    }
}

fn eq_ignore_case(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.eq_ignore_ascii_case(y))
}

/// `try_number()`: `N` decimal numbers separated by `sep`, ended by `term`
/// (or by any character when `term` is 0) right after the last number.
/// Returns the length up to the terminator. Numbers are accumulated in a
/// wrapping `u32` without a range check, as the 6.18 kernel does. Running
/// out of data, an unexpected character, or more than `N` numbers fail.
fn try_number<const N: usize>(data: &[u8], sep: u8, term: u8) -> Option<(usize, [u32; N])> {
    let mut array = [0u32; N];
    let mut i = 0;
    for (len, &c) in data.iter().enumerate() {
        if i >= N {
            // `for (...; len < dlen && i < array_size; ...)`: the N-th
            // separator ends the loop without a terminator.
            return None;
        }
        if c.is_ascii_digit() {
            array[i] = array[i].wrapping_mul(10).wrapping_add(u32::from(c - b'0'));
        } else if c == sep {
            i += 1;
        } else {
            // Unexpected character: fine if it is the terminator (or none
            // is wanted) and all numbers are there.
            return if (c == term || term == 0) && i == N - 1 { Some((len, array)) } else { None };
        }
    }
    None
}

/// `try_rfc959()`: returns (length, address, port). The address and port
/// are assembled from unchecked numbers by shifting: bits of a number above
/// 255 land in the neighbouring byte or are cut off, as in the kernel.
fn try_rfc959(data: &[u8], term: u8) -> Option<(usize, Ipv4Addr, u16)> {
    let (len, a) = try_number::<6>(data, b',', term)?;
    let ip = (a[0] << 24) | (a[1] << 16) | (a[2] << 8) | a[3];
    // htons() of a u32 expression: truncated to 16 bits.
    let port = ((a[4] << 8) | a[5]) as u16;
    Some((len, Ipv4Addr::from(ip), port))
}

/// `try_rfc1123()`: skip to the first digit, then `try_rfc959()` with no
/// terminator. Returns (offset of the first digit, length, address, port).
fn try_rfc1123(data: &[u8]) -> Option<(usize, usize, Ipv4Addr, u16)> {
    let off = data.iter().position(u8::is_ascii_digit)?;
    let (len, ip, port) = try_rfc959(&data[off..], 0)?;
    Some((off, len, ip, port))
}

/// `get_port()`: decimal digits from `start` up to `delim`; returns the
/// index after the delimiter. The port is accumulated in a `u16` and wraps
/// (the 6.18 kernel's `u_int16_t tmp_port`); a port of 0 (after wrapping)
/// fails.
fn get_port(data: &[u8], start: usize, delim: u8) -> Option<(usize, u16)> {
    let mut port: u16 = 0;
    for (i, &c) in data.iter().enumerate().skip(start) {
        if c == delim {
            return if port == 0 { None } else { Some((i + 1, port)) };
        } else if c.is_ascii_digit() {
            port = port.wrapping_mul(10).wrapping_add(u16::from(c - b'0'));
        } else {
            return None;
        }
    }
    None
}

/// The delimiter test shared by try_eprt and try_epsv_response: printable
/// ASCII other than space and digits (RFC 2428 suggests '|').
fn valid_delim(d: u8) -> bool {
    !d.is_ascii_digit() && (33..=126).contains(&d)
}

/// `try_eprt()`: `<d>1<d>a.b.c.d<d>port<d>` (IPv4 connection) or
/// `<d>2<d>addr<d>port<d>` (IPv6 connection); the family digit must be the
/// connection's. Returns (length through the last delimiter, address,
/// port).
fn try_eprt(data: &[u8], v6: bool) -> Option<(usize, IpAddr, u16)> {
    if data.len() <= 3 {
        return None;
    }
    let delim = data[0];
    if !valid_delim(delim) || data[2] != delim {
        return None;
    }
    if (!v6 && data[1] != b'1') || (v6 && data[1] != b'2') {
        return None;
    }
    let (length, addr) = if data[1] == b'1' {
        let (len, a) = try_number::<4>(&data[3..], b'.', delim)?;
        let ip = (a[0] << 24) | (a[1] << 16) | (a[2] << 8) | a[3];
        (len, IpAddr::V4(Ipv4Addr::from(ip)))
    } else {
        // get_ipv6_addr(): in6_pton with the delimiter, length up to where
        // it stopped.
        let (end, a) = in6_pton(&data[3..], delim)?;
        (end, IpAddr::V6(Ipv6Addr::from(a)))
    };
    if length == 0 {
        return None;
    }
    // The port starts after "|1|", the address and the delimiter that
    // ended it (the kernel assumes that character was the delimiter; for
    // in6_pton it may also be a NUL or, after a dotted quad, a ':').
    let (end, port) = get_port(data, 3 + length + 1, delim)?;
    Some((end, addr, port))
}

/// `try_epsv_response()`: `<d><d><d>port<d>`. Returns (length through the
/// last delimiter, port).
fn try_epsv_response(data: &[u8]) -> Option<(usize, u16)> {
    if data.len() <= 3 {
        return None;
    }
    let delim = data[0];
    if !valid_delim(delim) || data[1] != delim || data[2] != delim {
        return None;
    }
    get_port(data, 3, delim)
}

// Character classes of the kernel's xdigit2bin() (net/core/utils.c).
const IN6PTON_XDIGIT: u32 = 0x0001_0000;
const IN6PTON_DIGIT: u32 = 0x0002_0000;
const IN6PTON_COLON_MASK: u32 = 0x0070_0000;
/// A single ':' is allowed.
const IN6PTON_COLON_1: u32 = 0x0010_0000;
/// The second ':' of "::" is allowed.
const IN6PTON_COLON_2: u32 = 0x0020_0000;
/// "::" is allowed.
const IN6PTON_COLON_1_2: u32 = 0x0040_0000;
const IN6PTON_DOT: u32 = 0x0080_0000;
const IN6PTON_DELIM: u32 = 0x1000_0000;
/// At the start or after "::" at the end: no word to store yet.
const IN6PTON_NULL: u32 = 0x2000_0000;
const IN6PTON_UNKNOWN: u32 = 0x4000_0000;

/// xdigit2bin(): the delimiter and NUL both end the address.
fn xdigit2bin(c: u8, delim: u8) -> u32 {
    if c == delim || c == 0 {
        return IN6PTON_DELIM;
    }
    if c == b':' {
        return IN6PTON_COLON_MASK;
    }
    if c == b'.' {
        return IN6PTON_DOT;
    }
    match (c as char).to_digit(16) {
        Some(v) => v | IN6PTON_XDIGIT | if v < 10 { IN6PTON_DIGIT } else { 0 },
        None => IN6PTON_UNKNOWN,
    }
}

/// The kernel's `in4_pton()` as in6_pton uses it for a trailing dotted
/// quad: reads `srclen` bytes of `src` (past them a NUL, i.e. the end),
/// returns where it stopped and, on success, the four bytes. Like the
/// kernel, the accumulator carries the class bits of xdigit2bin and only
/// its low 16 bits are range checked (equivalent to a decimal check); a
/// ':' ends the quad like the delimiter.
fn in4_pton(src: &[u8], mut srclen: usize, delim: u8) -> (usize, Option<[u8; 4]>) {
    let mut dbuf = [0u8; 4];
    let mut s = 0;
    let mut i = 0;
    let mut w: u32 = 0;
    loop {
        let ch = if srclen > 0 { src.get(s).copied().unwrap_or(0) } else { 0 };
        let c = xdigit2bin(ch, delim);
        if c & (IN6PTON_DIGIT | IN6PTON_DOT | IN6PTON_DELIM | IN6PTON_COLON_MASK) == 0 {
            return (s, None);
        }
        if c & (IN6PTON_DOT | IN6PTON_DELIM | IN6PTON_COLON_MASK) != 0 {
            if w == 0 {
                return (s, None);
            }
            let Some(slot) = dbuf.get_mut(i) else { return (s, None) };
            *slot = w as u8;
            w = 0;
            i += 1;
            if c & (IN6PTON_DELIM | IN6PTON_COLON_MASK) != 0 {
                if i != 4 {
                    return (s, None);
                }
                return (s, Some(dbuf));
            }
        } else {
            w = w.wrapping_mul(10).wrapping_add(c);
            if (w & 0xffff) > 255 {
                return (s, None);
            }
        }
        if i >= 4 {
            return (s, None);
        }
        s += 1;
        srclen = srclen.saturating_sub(1);
    }
}

/// The kernel's `in6_pton()` with a delimiter, as get_ipv6_addr() calls it
/// (at most 0xffff bytes). Returns the offset where parsing stopped (the
/// delimiter, a NUL, a ':' after a dotted quad, or the end of the data)
/// and the address. A line-by-line port of the state machine, so the same
/// texts are accepted (e.g. "::", "::ffff:1.2.3.4", full 8-group forms,
/// at most 4 hex digits per group).
fn in6_pton(src: &[u8], delim: u8) -> Option<(usize, [u8; 16])> {
    const LEN: usize = 16;
    let mut srclen = src.len().min(0xffff);
    let mut dbuf = [0u8; LEN];
    let mut s = 0usize;
    let mut tok: Option<usize> = None;
    let mut d = 0usize;
    let mut dc: Option<usize> = None;
    let mut state = IN6PTON_COLON_1_2 | IN6PTON_XDIGIT | IN6PTON_NULL;
    let mut w: u32 = 0;
    loop {
        let ch = if srclen > 0 { src.get(s).copied().unwrap_or(0) } else { 0 };
        let c = xdigit2bin(ch, delim);
        if c & state == 0 {
            return None;
        }
        if c & (IN6PTON_DELIM | IN6PTON_COLON_MASK) != 0 {
            // Process one 16-bit word.
            if state & IN6PTON_NULL == 0 {
                let slot = dbuf.get_mut(d..d + 2)?;
                slot.copy_from_slice(&(w as u16).to_be_bytes());
                d += 2;
            }
            w = 0;
            if c & IN6PTON_DELIM != 0 {
                break;
            }
            // COLON_1 => XDIGIT; COLON_2 => XDIGIT|DELIM; COLON_1_2 => COLON_2
            state = match state & IN6PTON_COLON_MASK {
                IN6PTON_COLON_2 => {
                    dc = Some(d);
                    let mut st = IN6PTON_XDIGIT | IN6PTON_DELIM;
                    if d >= LEN {
                        st |= IN6PTON_NULL;
                    }
                    st
                }
                x if x == IN6PTON_COLON_1 | IN6PTON_COLON_1_2 => IN6PTON_XDIGIT | IN6PTON_COLON_2,
                IN6PTON_COLON_1 => IN6PTON_XDIGIT,
                IN6PTON_COLON_1_2 => IN6PTON_COLON_2,
                _ => 0,
            };
            tok = Some(s + 1);
        } else if c & IN6PTON_DOT != 0 {
            // A dotted quad: reparse the current token as IPv4. DOT is only
            // allowed after a ':' so `tok` is set; the kernel's fallback to
            // `s` is kept anyway.
            let t = tok.unwrap_or(s);
            let (end, quad) = in4_pton(src.get(t..)?, srclen + (s - t), delim);
            s = t + end;
            let quad = quad?;
            dbuf.get_mut(d..d + 4)?.copy_from_slice(&quad);
            d += 4;
            break;
        } else {
            w = (w << 4) | (c & 0xff);
            state = IN6PTON_COLON_1 | IN6PTON_DELIM;
            if w & 0xf000 == 0 {
                state |= IN6PTON_XDIGIT;
            }
            if dc.is_none() && d + 2 < LEN {
                state |= IN6PTON_COLON_1_2;
                state &= !IN6PTON_DELIM;
            }
            if d + 2 >= LEN {
                state &= !(IN6PTON_COLON_1 | IN6PTON_COLON_1_2);
            }
        }
        // cont:
        if (dc.is_some() && d + 4 < LEN) || d + 4 == LEN {
            state |= IN6PTON_DOT;
        }
        if d >= LEN {
            state &= !(IN6PTON_XDIGIT | IN6PTON_COLON_MASK);
        }
        s += 1;
        srclen = srclen.saturating_sub(1);
    }
    // Move the words after "::" to the end, zero the gap.
    let mut dst = [0u8; LEN];
    match dc {
        Some(dc) => {
            let (head, tail) = dbuf.get(..d)?.split_at(dc.min(d));
            dst.get_mut(..head.len())?.copy_from_slice(head);
            dst.get_mut(LEN.checked_sub(tail.len())?..)?.copy_from_slice(tail);
        }
        None => dst = dbuf,
    }
    Some((s, dst))
}

/// Longest text [`format_cmd`] writes, plus one: the kernel's buffer
/// `sizeof("|1||65535|") + INET6_ADDRSTRLEN` (11 + 46).
pub const FORMAT_BUF_LEN: usize = 57;

/// `nf_nat_ftp_fmt_cmd()`: the replacement text for the matched range.
/// PORT and 227: `h1,h2,h3,h4,p1,p2` (for an IPv6 address the kernel reads
/// `addr->ip`, its first four bytes); EPRT: `|1|a.b.c.d|port|` or
/// `|2|<%pI6>|port|`, where %pI6 is the full uncompressed form
/// (`2001:0db8:0000:...`, lowercase); EPSV: `|||port|`. The EPRT family
/// follows the address (the kernel's follows the connection, whose
/// translated address it formats). Returns the length written, 0 if `out`
/// is too short ([`FORMAT_BUF_LEN`] always suffices).
pub fn format_cmd(ty: FtpType, addr: IpAddr, port: u16, out: &mut [u8]) -> usize {
    let mut w = SliceWriter { buf: out, len: 0 };
    let ok = match ty {
        FtpType::Port | FtpType::Pasv => {
            let o = match addr {
                IpAddr::V4(a) => a.octets(),
                IpAddr::V6(a) => {
                    let o = a.octets();
                    [o[0], o[1], o[2], o[3]]
                }
            };
            write!(w, "{},{},{},{},{},{}", o[0], o[1], o[2], o[3], port >> 8, port & 0xff)
        }
        FtpType::Eprt => match addr {
            IpAddr::V4(a) => write!(w, "|1|{a}|{port}|"),
            IpAddr::V6(a) => {
                let s = a.segments();
                write!(
                    w,
                    "|2|{:04x}:{:04x}:{:04x}:{:04x}:{:04x}:{:04x}:{:04x}:{:04x}|{port}|",
                    s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7]
                )
            }
        },
        FtpType::Epsv => write!(w, "|||{port}|"),
    };
    if ok.is_ok() { w.len } else { 0 }
}

/// `core::fmt::Write` into a byte slice, failing when it is full (no
/// allocation on the packet path).
struct SliceWriter<'a> {
    buf: &'a mut [u8],
    len: usize,
}

impl core::fmt::Write for SliceWriter<'_> {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        let end = self.len.checked_add(s.len()).ok_or(core::fmt::Error)?;
        self.buf.get_mut(self.len..end).ok_or(core::fmt::Error)?.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

/// NUM_SEQ_TO_REMEMBER: newline positions kept per direction.
const NUM_SEQ_TO_REMEMBER: usize = 2;
/// NF_CT_FTP_SEQ_PICKUP: parse the next segment of this direction even if
/// it does not start after a remembered newline.
const NF_CT_FTP_SEQ_PICKUP: u16 = 1 << 0;

/// Per-connection helper state (`struct nf_ct_ftp_master`): for each
/// direction the sequence numbers just after the last two segments that
/// ended in '\n', and the pickup flag.
#[derive(Default, Clone, Debug, PartialEq, Eq)]
pub struct FtpSeqState {
    seq_aft_nl: [[u32; NUM_SEQ_TO_REMEMBER]; 2],
    seq_aft_nl_num: [u16; 2],
    flags: [u16; 2],
}

/// `before(a, b)`: a precedes b in sequence space.
fn before(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) < 0
}

/// `after(a, b)`.
fn after(a: u32, b: u32) -> bool {
    before(b, a)
}

impl FtpSeqState {
    /// `find_nl_seq()`: does a segment starting at `seq` start right after
    /// a remembered newline?
    pub fn find_nl_seq(&self, seq: u32, dir: Dir) -> bool {
        self.remembered(dir).contains(&seq)
    }

    /// The remembered positions of `dir`, in insertion-slot order.
    pub fn remembered(&self, dir: Dir) -> &[u32] {
        let d = dir as usize;
        let n = usize::from(self.seq_aft_nl_num[d]).min(NUM_SEQ_TO_REMEMBER);
        &self.seq_aft_nl[d][..n]
    }

    /// `update_nl_seq()`: remember `nl_seq`. Known already: nothing. Fewer
    /// than two: append. Otherwise the older of the two (by `before()`) is
    /// replaced, but only if `nl_seq` is after it ("we don't update if
    /// it's older than what we have").
    pub fn update_nl_seq(&mut self, nl_seq: u32, dir: Dir) {
        let d = dir as usize;
        if self.find_nl_seq(nl_seq, dir) {
            return;
        }
        let n = usize::from(self.seq_aft_nl_num[d]);
        if n < NUM_SEQ_TO_REMEMBER {
            self.seq_aft_nl[d][n] = nl_seq;
            self.seq_aft_nl_num[d] += 1;
        } else {
            let s = &mut self.seq_aft_nl[d];
            let oldest = if before(s[0], s[1]) { 0 } else { 1 };
            if after(nl_seq, s[oldest]) {
                s[oldest] = nl_seq;
            }
        }
    }

    /// Set the pickup flag in both directions, as
    /// `nf_ct_ftp_from_nlattr()` does for an entry injected from user
    /// space (conntrackd failover): the first segment each way is parsed
    /// wherever it starts.
    pub fn set_pickup(&mut self) {
        self.flags[0] |= NF_CT_FTP_SEQ_PICKUP;
        self.flags[1] |= NF_CT_FTP_SEQ_PICKUP;
    }

    /// If the pickup flag of `dir` is set, clear it and return true
    /// (`flags[dir] ^= NF_CT_FTP_SEQ_PICKUP` in help()).
    pub fn take_pickup(&mut self, dir: Dir) -> bool {
        let f = &mut self.flags[dir as usize];
        let set = *f & NF_CT_FTP_SEQ_PICKUP != 0;
        *f &= !NF_CT_FTP_SEQ_PICKUP;
        set
    }
}

/// What `help()` decided for one segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FtpDecision {
    /// NF_ACCEPT and no expectation: no data, not after a newline, no
    /// command, or a command naming another address without `loose`.
    Accept,
    /// NF_DROP, with the message the kernel passes to `nf_ct_helper_log`.
    Drop(&'static str),
    /// Expect a TCP connection from the other side, then NF_ACCEPT (or
    /// hand to NAT, see the module doc of `helpers`). The expectation is
    /// `nf_ct_expect_init(exp, CLASS_DEFAULT, family,
    /// &tuple[!dir].src.u3, daddr, IPPROTO_TCP, NULL, &port)`:
    /// source address `tuple[!dir].src`, any source port, destination
    /// `daddr_override` or else `tuple[!dir].dst`, destination port
    /// `cmd.port`.
    Expect {
        /// The matched command (NAT rewrites `match_off..+match_len`).
        cmd: FtpCmd,
        /// `Some(addr)` only with `loose` when the command names an address
        /// other than the control connection's: the kernel then expects
        /// the connection to go there (`daddr = &cmd.u3`).
        daddr_override: Option<IpAddr>,
    },
}

/// The address the kernel compares with the control connection's: its
/// `cmd.u3` starts as `tuple[dir].src.u3` and the parser overwrites what
/// it read. EPSV reads none; PORT/227 on an IPv6 connection overwrite only
/// the first four bytes (`cmd->u3.ip`).
fn command_addr(cmd: &FtpCmd, ctl_src: IpAddr) -> IpAddr {
    match (cmd.addr, ctl_src) {
        (None, _) => ctl_src,
        (Some(IpAddr::V4(a)), IpAddr::V6(src)) => {
            let mut o = src.octets();
            o[..4].copy_from_slice(&a.octets());
            IpAddr::V6(Ipv6Addr::from(o))
        }
        (Some(a), _) => a,
    }
}

/// The per-segment decision of the kernel's `help()`, without the tracker.
///
/// Call it for every TCP segment of a connection that has the FTP helper
/// when conntrack classifies it ESTABLISHED or ESTABLISHED_REPLY (the
/// kernel looks at nothing else, "until there's been traffic both ways"),
/// at the point where the kernel runs helpers (`nf_confirm`, after NAT of
/// the headers but before the sequence adjustment of this segment). `seq`:
/// the segment's sequence number as it arrived; `payload`: its TCP data;
/// `ctl_src`: `tuple[dir].src`, the control connection's source address in
/// this direction, whose family is the connection's; `loose`: the
/// helper's `loose` parameter (default false).
///
/// Only a segment starting right after a remembered newline (or the first
/// one after [`FtpSeqState::set_pickup`]) is searched; every segment that
/// is not dropped and ends in '\n' remembers `seq + len`, also when it was
/// not searched and also when it led to an expectation the tracker then
/// fails to add (the kernel's `out_update_nl` path). A drop for a partial
/// match leaves the state alone, so the retransmission is searched again.
pub fn help(state: &mut FtpSeqState, payload: &[u8], seq: u32, dir: Dir, ctl_src: IpAddr, loose: bool) -> FtpDecision {
    // "No data?": nothing is looked at or remembered.
    let Some(&last) = payload.last() else { return FtpDecision::Accept };
    let ends_in_nl = last == b'\n';
    // datalen is an unsigned int in the kernel: sequence space wraps.
    let nl_seq = seq.wrapping_add(payload.len() as u32);

    let decision = if !state.find_nl_seq(seq, dir) && !state.take_pickup(dir) {
        // Not at the start of a line: don't look, but remember the end.
        FtpDecision::Accept
    } else {
        match search(payload, dir, ctl_src.is_ipv6()) {
            // Dropped before out_update_nl.
            Found::Partial(ty) => return FtpDecision::Drop(ty.partial_log()),
            Found::Nothing => FtpDecision::Accept,
            Found::Cmd(cmd) => {
                let addr = command_addr(&cmd, ctl_src);
                if addr == ctl_src {
                    FtpDecision::Expect { cmd, daddr_override: None }
                } else if loose {
                    // Enrico Scholz's passive FTP to a partially RNAT'd
                    // server: expect the connection to the named address.
                    FtpDecision::Expect { cmd, daddr_override: Some(addr) }
                } else {
                    // FTP bounce protection: a command may not open a hole
                    // to a third host (or the firewall itself).
                    FtpDecision::Accept
                }
            }
        }
    };
    if ends_in_nl {
        state.update_nl_seq(nl_seq, dir);
    }
    decision
}
