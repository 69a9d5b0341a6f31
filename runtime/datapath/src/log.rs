//! The `log` statement's line, in the kernel's format
//! (net/netfilter/nf_log_syslog.c: nf_log_ip_packet / dump_ipv4_packet /
//! dump_ipv6_packet), e.g.
//! `ssh: IN=wan0 OUT= MAC=02:..:08:00 SRC=192.0.2.2 DST=192.0.2.1 LEN=60
//! TOS=0x00 PREC=0x00 TTL=64 ID=1 DF PROTO=TCP SPT=40000 DPT=22 WINDOW=64240
//! RES=0x00 SYN URGP=0`.

use ctc_wire::{Frame, NetworkKind};
use std::fmt::Write;

/// NF_LOG_TCPSEQ: print sequence numbers.
pub const LOG_TCPSEQ: u32 = 0x01;
/// NF_LOG_UID: print the owner of the packet's socket.
pub const LOG_UID: u32 = 0x08;

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

fn u32_at(b: &[u8], i: usize) -> u32 {
    b.get(i..i + 4).map_or(0, |s| u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
}

/// One log line for packet `buf` (parsed as `frame`): the headers, then
/// (when the IP header was there to print) the socket's owner and the mark,
/// as nf_log_syslog ends its IPv4 and IPv6 dumps.
pub fn line(prefix: &str, flags: u32, iif: &str, oif: &str, buf: &[u8], frame: &Frame, skb: Skb) -> String {
    let (mut s, ip) = headers(prefix, flags, iif, oif, buf, frame);
    if ip {
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

/// The line up to the end of the transport header; whether the IP header
/// was printed.
fn headers(prefix: &str, flags: u32, iif: &str, oif: &str, buf: &[u8], frame: &Frame) -> (String, bool) {
    let mut s = String::new();
    let _ = write!(s, "{prefix}IN={iif} OUT={oif} ");
    if let Some(l) = frame.link
        && !iif.is_empty()
    {
        s.push_str("MAC=");
        for (i, b) in buf.iter().take(l.header_len).enumerate() {
            if i > 0 {
                s.push(':');
            }
            let _ = write!(s, "{b:02x}");
        }
        s.push(' ');
    }
    let Some(net) = frame.network else { return (s, false) };
    let ip = &buf[net.offset.min(buf.len())..net.end.min(buf.len())];
    match net.kind {
        NetworkKind::Ipv4 if ip.len() >= 20 => {
            let _ = write!(
                s,
                "SRC={} DST={} LEN={} TOS=0x{:02X} PREC=0x{:02X} TTL={} ID={} ",
                std::net::Ipv4Addr::new(ip[12], ip[13], ip[14], ip[15]),
                std::net::Ipv4Addr::new(ip[16], ip[17], ip[18], ip[19]),
                u16_at(ip, 2),
                ip[1] & 0x1e,
                ip[1] & 0xe0,
                ip[8],
                u16_at(ip, 4)
            );
            let frag = u16_at(ip, 6);
            if frag & 0x8000 != 0 {
                s.push_str("CE ");
            }
            if frag & 0x4000 != 0 {
                s.push_str("DF ");
            }
            if frag & 0x2000 != 0 {
                s.push_str("MF ");
            }
            if frag & 0x1fff != 0 {
                let _ = write!(s, "FRAG:{} ", frag & 0x1fff);
            }
        }
        NetworkKind::Ipv6 if ip.len() >= 40 => {
            let word = u32_at(ip, 0);
            let _ = write!(
                s,
                "SRC={} DST={} LEN={} TC={} HOPLIMIT={} FLOWLBL={} ",
                ipv6_full(&ip[8..24]),
                ipv6_full(&ip[24..40]),
                ip.len(),
                (word >> 20) & 0xff,
                ip[7],
                word & 0xfffff
            );
        }
        _ => return (s, false),
    }
    let Some(t) = frame.transport else {
        if let Some(p) = net.protocol {
            let _ = write!(s, "PROTO={p} ");
        }
        return (s, true);
    };
    let th = &buf[t.offset.min(buf.len())..t.end.min(buf.len())];
    match t.protocol {
        6 if th.len() >= 20 => {
            let _ = write!(s, "PROTO=TCP SPT={} DPT={} ", u16_at(th, 0), u16_at(th, 2));
            if flags & LOG_TCPSEQ != 0 {
                let _ = write!(s, "SEQ={} ACK={} ", u32_at(th, 4), u32_at(th, 8));
            }
            let _ = write!(s, "WINDOW={} RES=0x{:02x} ", u16_at(th, 14), th[12] & 0x0f);
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
                if th[13] & bit != 0 {
                    let _ = write!(s, "{name} ");
                }
            }
            let _ = write!(s, "URGP={} ", u16_at(th, 18));
        }
        17 | 136 if th.len() >= 8 => {
            let name = if t.protocol == 17 { "UDP" } else { "UDPLITE" };
            let _ = write!(s, "PROTO={name} SPT={} DPT={} LEN={} ", u16_at(th, 0), u16_at(th, 2), u16_at(th, 4));
        }
        1 | 58 if th.len() >= 4 => {
            let name = if t.protocol == 1 { "ICMP" } else { "ICMPv6" };
            let _ = write!(s, "PROTO={name} TYPE={} CODE={} ", th[0], th[1]);
            let echo = if t.protocol == 1 { matches!(th[0], 0 | 8) } else { matches!(th[0], 128 | 129) };
            if echo && th.len() >= 8 {
                let _ = write!(s, "ID={} SEQ={} ", u16_at(th, 4), u16_at(th, 6));
            }
        }
        p => {
            let _ = write!(s, "PROTO={p} ");
        }
    }
    (s, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tcp_syn_line() {
        let mut f = vec![2, 0, 0, 0, 2, 1, 2, 0, 0, 0, 2, 2, 0x08, 0x00];
        f.extend([0x45, 0, 0, 40, 0, 1, 0x40, 0, 64, 6, 0, 0, 192, 0, 2, 2, 192, 0, 2, 1]);
        f.extend([0x9c, 0x40, 0, 22, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02, 0xfa, 0xf0, 0, 0, 0, 0]);
        let frame = ctc_wire::parse_frame_with(&f, &ctc_wire::ParseOptions { verify_ipv4_checksum: false });
        let l = line("ssh: ", 0, "wan0", "", &f, &frame, Skb::default());
        let want = "ssh: IN=wan0 OUT= MAC=02:00:00:00:02:01:02:00:00:00:02:02:08:00 SRC=192.0.2.2 DST=192.0.2.1 LEN=40 TOS=0x00 PREC=0x00 TTL=64 ID=1 DF PROTO=TCP SPT=40000 DPT=22 WINDOW=64240 RES=0x00 SYN URGP=0 ";
        assert_eq!(l, want);
        // The socket's owner (with `flags skuid`) and the mark end the line.
        let skb = Skb { mark: 0x2a, sk_owner: Some((1000, 100)) };
        assert_eq!(line("ssh: ", 0, "wan0", "", &f, &frame, skb), format!("{want}MARK=0x2a "));
        assert_eq!(line("ssh: ", LOG_UID, "wan0", "", &f, &frame, skb), format!("{want}UID=1000 GID=100 MARK=0x2a "));
        assert_eq!(line("ssh: ", LOG_UID, "wan0", "", &f, &frame, Skb::default()), want);
    }

    #[test]
    fn ipv6_addresses_are_written_in_full() {
        let a = [0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2];
        assert_eq!(ipv6_full(&a), "2001:0db8:0001:0000:0000:0000:0000:0002");
    }
}
