//! The `log` statement's line, in the kernel's format
//! (net/netfilter/nf_log_syslog.c: nf_log_ip_packet / dump_ipv4_packet /
//! dump_ipv6_packet), e.g.
//! `ssh: IN=wan0 OUT= MAC=02:..:08:00 SRC=192.0.2.2 DST=192.0.2.1 LEN=60
//! TOS=0x00 PREC=0x00 TTL=64 ID=1 DF PROTO=TCP SPT=40000 DPT=22 WINDOW=64240
//! RES=0x00 SYN URGP=0`.
//!
//! The headers are read as the kernel reads them from the skb: within the
//! datagram (the kernel trims link padding before the IP hooks), a header
//! that is not all there ends the line with `TRUNCATED` or `INCOMPLETE [N
//! bytes]`. ICMP and ICMPv6 errors show the packet they quote in brackets
//! (one level deep). The `log` flags add IP options or IPv6 extension
//! headers (`flags ip options`), TCP sequence numbers and options (`flags
//! tcp sequence,options`), the socket's owner (`flags skuid`) and the
//! decoded Ethernet header (`flags ether`). The packet's mark ends the line.

use ctc_wire::{Frame, NetworkKind};
use std::fmt::Write;

/// NF_LOG_TCPSEQ: print sequence numbers.
pub const LOG_TCPSEQ: u32 = 0x01;
/// NF_LOG_TCPOPT: print TCP options.
pub const LOG_TCPOPT: u32 = 0x02;
/// NF_LOG_IPOPT: print IPv4 options, IPv6 extension headers.
pub const LOG_IPOPT: u32 = 0x04;
/// NF_LOG_UID: print the owner of the packet's socket.
pub const LOG_UID: u32 = 0x08;
/// NF_LOG_MACDECODE: the Ethernet header as fields, not bytes.
pub const LOG_MACDECODE: u32 = 0x20;

/// What the kernel logs of the packet's skb besides its bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Skb {
    /// skb->mark (`MARK=0x..` when not 0).
    pub mark: u32,
    /// The owner (uid, gid) of its socket (`UID= GID=` with
    /// [`LOG_UID`]).
    pub sk_owner: Option<(u32, u32)>,
}

fn u16_at(b: &[u8], i: usize) -> u16 {
    b.get(i..i + 2).map_or(0, |s| u16::from_be_bytes([s[0], s[1]]))
}

fn u32_at(b: &[u8], i: usize) -> u32 {
    b.get(i..i + 4).map_or(0, |s| u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
}

/// An IPv6 address as the kernel's `%pI6` prints it: eight groups of
/// four hex digits, nothing compressed.
fn ipv6_full(a: &[u8]) -> String {
    let mut s = String::with_capacity(39);
    for (i, g) in a.chunks(2).enumerate() {
        if i > 0 {
            s.push(':');
        }
        let _ = write!(s, "{:02x}{:02x}", g[0], g[1]);
    }
    s
}

fn mac(b: &[u8]) -> String {
    let parts: Vec<String> = b.iter().map(|x| format!("{x:02x}")).collect();
    parts.join(":")
}

fn hex_upper(s: &mut String, b: &[u8]) {
    for x in b {
        let _ = write!(s, "{x:02X}");
    }
}

/// How a dump ended: on, or cut short (a header not all there: the line
/// ends without the socket's owner and mark).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dump {
    Whole,
    Cut,
}

/// One log line for packet `buf` (parsed as `frame`): the interfaces, the
/// link header when the packet came in on one, the network and transport
/// headers, then the socket's owner and the mark, as nf_log_syslog ends its
/// IPv4 and IPv6 dumps.
pub fn line(prefix: &str, flags: u32, iif: &str, oif: &str, buf: &[u8], frame: &Frame, skb: Skb) -> String {
    let mut s = String::new();
    let _ = write!(s, "{prefix}IN={iif} OUT={oif} ");
    if let Some(l) = frame.link
        && !iif.is_empty()
    {
        if flags & LOG_MACDECODE != 0 {
            let _ = write!(s, "MACSRC={} MACDST={} ", mac(&buf[6..12]), mac(&buf[..6]));
            if let Some(t) = l.vlans().first() {
                let _ = write!(s, "VPROTO={:04x} VID={} ", t.tpid, t.vid);
            }
            let _ = write!(s, "MACPROTO={:04x} ", l.ethertype.0);
        } else {
            let _ = write!(s, "MAC={} ", mac(&buf[..l.header_len.min(buf.len())]));
        }
    }
    let Some(net) = frame.network else { return s };
    // The skb as the IP hooks see it: the datagram, without link padding.
    let b = &buf[..net.end.min(buf.len())];
    let dump = match net.kind {
        NetworkKind::Ipv4 => ipv4(&mut s, flags, b, net.offset, true),
        NetworkKind::Ipv6 => ipv6(&mut s, flags, b, net.offset, true),
        _ => return s,
    };
    if dump == Dump::Whole {
        if flags & LOG_UID != 0
            && let Some((uid, gid)) = skb.sk_owner
        {
            let _ = write!(s, "UID={uid} GID={gid} ");
        }
        if skb.mark != 0 {
            let _ = write!(s, "MARK=0x{:x} ", skb.mark);
        }
    }
    s
}

/// `INCOMPLETE [N bytes] `: what is left of the skb from `at`.
fn incomplete(s: &mut String, b: &[u8], at: usize) {
    let _ = write!(s, "INCOMPLETE [{} bytes] ", b.len().saturating_sub(at));
}

/// dump_ipv4_packet: the header at `off`; `top` for the packet itself (an
/// ICMP error's quote is dumped once, not its own quote again).
fn ipv4(s: &mut String, flags: u32, b: &[u8], off: usize, top: bool) -> Dump {
    let Some(ih) = b.get(off..off + 20) else {
        s.push_str("TRUNCATED");
        return Dump::Cut;
    };
    let _ = write!(
        s,
        "SRC={} DST={} LEN={} TOS=0x{:02X} PREC=0x{:02X} TTL={} ID={} ",
        std::net::Ipv4Addr::new(ih[12], ih[13], ih[14], ih[15]),
        std::net::Ipv4Addr::new(ih[16], ih[17], ih[18], ih[19]),
        u16_at(ih, 2),
        ih[1] & 0x1e,
        ih[1] & 0xe0,
        ih[8],
        u16_at(ih, 4)
    );
    let frag = u16_at(ih, 6);
    for (bit, name) in [(0x8000, "CE "), (0x4000, "DF "), (0x2000, "MF ")] {
        if frag & bit != 0 {
            s.push_str(name);
        }
    }
    let offset = frag & 0x1fff;
    if offset != 0 {
        let _ = write!(s, "FRAG:{offset} ");
    }
    let ihl = usize::from(ih[0] & 0xf) * 4;
    if flags & LOG_IPOPT != 0 && ihl > 20 {
        let Some(opt) = b.get(off + 20..off + ihl) else {
            s.push_str("TRUNCATED");
            return Dump::Cut;
        };
        s.push_str("OPT (");
        hex_upper(s, opt);
        s.push_str(") ");
    }
    let fragment = offset != 0;
    let th = off + ihl;
    match ih[9] {
        6 => return tcp(s, flags, b, th, fragment),
        17 | 136 => return udp(s, ih[9], b, th, fragment),
        1 => {
            s.push_str("PROTO=ICMP ");
            if fragment {
                return Dump::Whole;
            }
            let Some(ic) = b.get(th..th + 8) else {
                incomplete(s, b, th);
                return Dump::Whole;
            };
            let (ty, code) = (ic[0], ic[1]);
            let _ = write!(s, "TYPE={ty} CODE={code} ");
            // required_len: what each type must carry to be dumped.
            let need = match ty {
                0 | 8 => 4,
                3 | 4 | 5 | 11 | 12 => 8 + 20,
                13 | 14 => 20,
                17 | 18 => 12,
                _ => 0,
            };
            if b.len().saturating_sub(th) < need {
                incomplete(s, b, th);
                return Dump::Whole;
            }
            match ty {
                0 | 8 => {
                    let _ = write!(s, "ID={} SEQ={} ", u16_at(b, th + 4), u16_at(b, th + 6));
                }
                12 => {
                    let _ = write!(s, "PARAMETER={} ", b[th + 4]);
                }
                3 | 4 | 5 | 11 => {
                    if ty == 5 {
                        let g = &b[th + 4..th + 8];
                        let _ = write!(s, "GATEWAY={} ", std::net::Ipv4Addr::new(g[0], g[1], g[2], g[3]));
                    }
                    if top {
                        s.push('[');
                        ipv4(s, flags, b, th + 8, false);
                        s.push_str("] ");
                    }
                    if ty == 3 && code == 4 {
                        let _ = write!(s, "MTU={} ", u16_at(b, th + 6));
                    }
                }
                _ => {}
            }
        }
        51 | 50 => {
            if fragment {
                return Dump::Whole;
            }
            s.push_str(if ih[9] == 51 { "PROTO=AH " } else { "PROTO=ESP " });
            // The SPI: AH's after next header, length and reserved; ESP's first.
            let spi_at = if ih[9] == 51 { th + 4 } else { th };
            let need = if ih[9] == 51 { 12 } else { 8 };
            if b.len() < th + need {
                incomplete(s, b, th);
                return Dump::Whole;
            }
            let _ = write!(s, "SPI=0x{:x} ", u32_at(b, spi_at));
        }
        p => {
            let _ = write!(s, "PROTO={p} ");
        }
    }
    Dump::Whole
}

/// nf_log_dump_tcp_header.
fn tcp(s: &mut String, flags: u32, b: &[u8], th: usize, fragment: bool) -> Dump {
    s.push_str("PROTO=TCP ");
    if fragment {
        return Dump::Whole;
    }
    let Some(t) = b.get(th..th + 20) else {
        incomplete(s, b, th);
        return Dump::Cut;
    };
    let _ = write!(s, "SPT={} DPT={} ", u16_at(t, 0), u16_at(t, 2));
    if flags & LOG_TCPSEQ != 0 {
        let _ = write!(s, "SEQ={} ACK={} ", u32_at(t, 4), u32_at(t, 8));
    }
    // The reserved bits as the kernel shifts them out of the flag word.
    let _ = write!(s, "WINDOW={} RES=0x{:02x} ", u16_at(t, 14), (t[12] & 0x0f) << 2);
    for (bit, name) in [
        (0x80, "CWR"),
        (0x40, "ECE"),
        (0x20, "URG"),
        (0x10, "ACK"),
        (0x08, "PSH"),
        (0x04, "RST"),
        (0x02, "SYN"),
        (0x01, "FIN"),
    ] {
        if t[13] & bit != 0 {
            let _ = write!(s, "{name} ");
        }
    }
    let _ = write!(s, "URGP={} ", u16_at(t, 18));
    let doff = usize::from(t[12] >> 4) * 4;
    if flags & LOG_TCPOPT != 0 && doff > 20 {
        let Some(opt) = b.get(th + 20..th + doff) else {
            s.push_str("OPT (TRUNCATED)");
            return Dump::Cut;
        };
        s.push_str("OPT (");
        hex_upper(s, opt);
        s.push_str(") ");
    }
    Dump::Whole
}

/// nf_log_dump_udp_header.
fn udp(s: &mut String, proto: u8, b: &[u8], th: usize, fragment: bool) -> Dump {
    s.push_str(if proto == 17 { "PROTO=UDP " } else { "PROTO=UDPLITE " });
    if fragment {
        return Dump::Whole;
    }
    let Some(u) = b.get(th..th + 8) else {
        incomplete(s, b, th);
        return Dump::Cut;
    };
    let _ = write!(s, "SPT={} DPT={} LEN={} ", u16_at(u, 0), u16_at(u, 2), u16_at(u, 4));
    Dump::Whole
}

/// dump_ipv6_packet: the header at `off`; `top` as for [`ipv4`].
fn ipv6(s: &mut String, flags: u32, b: &[u8], off: usize, top: bool) -> Dump {
    let Some(ih) = b.get(off..off + 40) else {
        s.push_str("TRUNCATED");
        return Dump::Cut;
    };
    let word = u32_at(ih, 0);
    let _ = write!(
        s,
        "SRC={} DST={} LEN={} TC={} HOPLIMIT={} FLOWLBL={} ",
        ipv6_full(&ih[8..24]),
        ipv6_full(&ih[24..40]),
        usize::from(u16_at(ih, 4)) + 40,
        (word >> 20) & 0xff,
        ih[7],
        word & 0xfffff
    );
    let ipopt = flags & LOG_IPOPT != 0;
    let mut fragment = false;
    let mut at = off + 40;
    let mut next = ih[6];
    // nf_ip6_ext_hdr: hop-by-hop, routing, fragment, ESP, AH, destination
    // options (no next header ends the walk).
    while matches!(next, 0 | 43 | 44 | 50 | 51 | 60) {
        let Some(h) = b.get(at..at + 2) else {
            s.push_str("TRUNCATED");
            return Dump::Cut;
        };
        if ipopt {
            s.push_str("OPT ( ");
        }
        let len = match next {
            44 => {
                s.push_str("FRAG:");
                let Some(fh) = b.get(at..at + 8) else {
                    s.push_str("TRUNCATED ");
                    return Dump::Cut;
                };
                let fo = u16_at(fh, 2);
                let _ = write!(s, "{} ", fo & 0xfff8);
                if fo & 1 != 0 {
                    s.push_str("INCOMPLETE ");
                }
                let _ = write!(s, "ID:{:08x} ", u32_at(fh, 4));
                if fo & 0xfff8 != 0 {
                    fragment = true;
                }
                8
            }
            0 | 43 | 60 => {
                if fragment {
                    if ipopt {
                        s.push(')');
                    }
                    return Dump::Cut;
                }
                (usize::from(h[1]) + 1) * 8
            }
            51 => {
                if ipopt {
                    s.push_str("AH ");
                    if fragment {
                        s.push(')');
                        return Dump::Cut;
                    }
                    if b.len() < at + 12 {
                        let _ = write!(s, "INCOMPLETE [{} bytes] )", b.len().saturating_sub(at));
                        return Dump::Cut;
                    }
                    let _ = write!(s, "SPI=0x{:x} ", u32_at(b, at + 4));
                }
                (usize::from(h[1]) + 2) * 4
            }
            _ => {
                // ESP: nothing after it can be read.
                if ipopt {
                    s.push_str("ESP ");
                    if fragment {
                        s.push(')');
                        return Dump::Cut;
                    }
                    if b.len() < at + 8 {
                        let _ = write!(s, "INCOMPLETE [{} bytes] )", b.len().saturating_sub(at));
                        return Dump::Cut;
                    }
                    let _ = write!(s, "SPI=0x{:x} )", u32_at(b, at));
                }
                return Dump::Cut;
            }
        };
        if ipopt {
            s.push_str(") ");
        }
        next = h[0];
        at += len;
    }
    match next {
        6 => return tcp(s, flags, b, at, fragment),
        17 | 136 => return udp(s, next, b, at, fragment),
        58 => {
            s.push_str("PROTO=ICMPv6 ");
            if fragment {
                return Dump::Whole;
            }
            let Some(ic) = b.get(at..at + 8) else {
                incomplete(s, b, at);
                return Dump::Cut;
            };
            let (ty, code) = (ic[0], ic[1]);
            let _ = write!(s, "TYPE={ty} CODE={code} ");
            match ty {
                128 | 129 => {
                    let _ = write!(s, "ID={} SEQ={} ", u16_at(ic, 4), u16_at(ic, 6));
                }
                1..=4 => {
                    if ty == 4 {
                        let _ = write!(s, "POINTER={:08x} ", u32_at(ic, 4));
                    }
                    if top {
                        s.push('[');
                        ipv6(s, flags, b, at + 8, false);
                        s.push_str("] ");
                    }
                    if ty == 2 {
                        let _ = write!(s, "MTU={} ", u32_at(ic, 4));
                    }
                }
                _ => {}
            }
        }
        p => {
            let _ = write!(s, "PROTO={p} ");
        }
    }
    Dump::Whole
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(f: &[u8]) -> Frame {
        ctc_wire::parse_frame_with(f, &ctc_wire::ParseOptions { verify_ipv4_checksum: false })
    }

    #[test]
    fn tcp_syn_line() {
        let mut f = vec![2, 0, 0, 0, 2, 1, 2, 0, 0, 0, 2, 2, 0x08, 0x00];
        f.extend([0x45, 0, 0, 40, 0, 1, 0x40, 0, 64, 6, 0, 0, 192, 0, 2, 2, 192, 0, 2, 1]);
        f.extend([0x9c, 0x40, 0, 22, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02, 0xfa, 0xf0, 0, 0, 0, 0]);
        let frame = parsed(&f);
        let l = line("ssh: ", 0, "wan0", "", &f, &frame, Skb::default());
        let want = "ssh: IN=wan0 OUT= MAC=02:00:00:00:02:01:02:00:00:00:02:02:08:00 SRC=192.0.2.2 DST=192.0.2.1 LEN=40 TOS=0x00 PREC=0x00 TTL=64 ID=1 DF PROTO=TCP SPT=40000 DPT=22 WINDOW=64240 RES=0x00 SYN URGP=0 ";
        assert_eq!(l, want);
        // The socket's owner (with `flags skuid`) and the mark end the line.
        let skb = Skb { mark: 0x2a, sk_owner: Some((1000, 100)) };
        assert_eq!(line("ssh: ", 0, "wan0", "", &f, &frame, skb), format!("{want}MARK=0x2a "));
        assert_eq!(line("ssh: ", LOG_UID, "wan0", "", &f, &frame, skb), format!("{want}UID=1000 GID=100 MARK=0x2a "));
        assert_eq!(line("ssh: ", LOG_UID, "wan0", "", &f, &frame, Skb::default()), want);
        // `flags ether`: the Ethernet header as fields.
        let l = line("", LOG_MACDECODE, "wan0", "", &f, &frame, Skb::default());
        assert!(
            l.starts_with("IN=wan0 OUT= MACSRC=02:00:00:00:02:02 MACDST=02:00:00:00:02:01 MACPROTO=0800 SRC="),
            "{l}"
        );
    }

    #[test]
    fn ipv6_addresses_are_written_in_full() {
        let a = [0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2];
        assert_eq!(ipv6_full(&a), "2001:0db8:0001:0000:0000:0000:0000:0002");
    }

    #[test]
    fn a_cut_transport_header_ends_the_line() {
        // A UDP datagram whose total length leaves 4 bytes of its header.
        let mut f = vec![2, 0, 0, 0, 2, 1, 2, 0, 0, 0, 2, 2, 0x08, 0x00];
        f.extend([0x45, 0, 0, 24, 0, 1, 0, 0, 64, 17, 0, 0, 192, 0, 2, 2, 192, 0, 2, 1]);
        f.extend([0x9c, 0x40, 0, 53, 0, 0, 0, 0]);
        let frame = parsed(&f);
        let l = line("", 0, "", "out0", &f, &frame, Skb { mark: 1, sk_owner: None });
        assert!(l.ends_with("PROTO=UDP INCOMPLETE [4 bytes] "), "{l}");
    }
}
