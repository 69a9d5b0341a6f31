//! Tests of the FTP helper core against the kernel's behaviour. Vectors
//! marked "live 6.18" were checked on this machine's kernel (nft `ct
//! helper` of type "ftp" on a loopback connection, `conntrack -L expect`).

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::ftp::*;
use super::{FTP_POLICY, TFTP_POLICY, helper_by_name};
use crate::tcp::Dir::{self, Original as O, Reply as R};

fn v4(a: u8, b: u8, c: u8, d: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(a, b, c, d))
}

fn v6(s: &str) -> IpAddr {
    IpAddr::V6(s.parse::<Ipv6Addr>().unwrap())
}

/// The command `search` must find, with the exact text NAT would replace.
#[track_caller]
fn found(p: &[u8], dir: Dir, is_v6: bool, ty: FtpType, addr: Option<IpAddr>, port: u16, text: &str) {
    match search(p, dir, is_v6) {
        Found::Cmd(c) => {
            assert_eq!((c.ty, c.addr, c.port), (ty, addr, port), "{:?}", String::from_utf8_lossy(p));
            let got = &p[c.match_off..c.match_off + c.match_len];
            assert_eq!(got, text.as_bytes(), "match range of {:?}", String::from_utf8_lossy(p));
        }
        other => panic!("{:?}: expected a command, got {other:?}", String::from_utf8_lossy(p)),
    }
}

#[track_caller]
fn partial(p: &[u8], dir: Dir, is_v6: bool, ty: FtpType) {
    assert_eq!(search(p, dir, is_v6), Found::Partial(ty), "{:?}", String::from_utf8_lossy(p));
}

#[track_caller]
fn nothing(p: &[u8], dir: Dir, is_v6: bool) {
    assert_eq!(search(p, dir, is_v6), Found::Nothing, "{:?}", String::from_utf8_lossy(p));
}

use FtpType::{Eprt, Epsv, Pasv, Port};

#[test]
fn helpers_ftp_port_vectors() {
    let a = Some(v4(192, 168, 1, 2));
    // Case-insensitive pattern; the text starts after the first space.
    for p in ["PORT 192,168,1,2,4,5\r\n", "port 192,168,1,2,4,5\r\n", "PoRt 192,168,1,2,4,5\r\n"] {
        found(p.as_bytes(), O, false, Port, a, 1029, "192,168,1,2,4,5");
    }
    // Anything between the pattern and the first space is skipped (live 6.18).
    found(b"PORTX 192,168,1,2,4,5\r\n", O, false, Port, a, 1029, "192,168,1,2,4,5");
    // Data after the '\r' does not matter; the terminator is not in the range.
    found(b"PORT 192,168,1,2,4,5\rjunk", O, false, Port, a, 1029, "192,168,1,2,4,5");
    // Empty numbers count as 0 (try_number only counts separators).
    found(b"PORT ,,,,,\r\n", O, false, Port, Some(v4(0, 0, 0, 0)), 0, ",,,,,");
    // No range check (live 6.18: "PORT 127,0,0,1,256,22" expected port 22):
    // the port is (p1 << 8 | p2) cut to 16 bits, bits of a big number are ORed into the neighbouring byte.
    found(b"PORT 10,0,0,1,256,22\r\n", O, false, Port, Some(v4(10, 0, 0, 1)), 22, "10,0,0,1,256,22");
    found(b"PORT 1,2,3,300,0,1\r\n", O, false, Port, Some(v4(1, 2, 3, 44)), 1, "1,2,3,300,0,1");
    found(b"PORT 1,2,3,4,1,65536\r\n", O, false, Port, Some(v4(1, 2, 3, 4)), 256, "1,2,3,4,1,65536");
    // Huge numbers wrap in u32 without trouble.
    let big = b"PORT 99999999999999999999,2,3,4,5,6\r\n";
    assert!(matches!(search(big, O, false), Found::Cmd(_)));
    // The same command in the reply direction is not looked for.
    nothing(b"PORT 192,168,1,2,4,5\r\n", R, false);

    // Malformed after the pattern matched: partial, i.e. the packet is dropped.
    for p in [
        &b"PORT  1,2,3,4,5,6\r\n"[..], // second space is an unexpected character
        b"PORT 1,2,3,4,5,6\n",         // '\n' without '\r' (live 6.18: dropped)
        b"PORT 1,2,3,4,5,6",           // data ends before the terminator
        b"PORT 1,2,3,4,5,6 \r\n",      // space before the terminator
        b"PORT 1,2,3,4,5\r\n",         // five numbers
        b"PORT 1,2,3,4,5,6,7\r\n",     // seven numbers
        b"PORT 1.2.3.4.5.6\r\n",       // wrong separator
        b"PORT a,2,3,4,5,6\r\n",
        b"PORT\r\n",   // no space at all
        b"PORT ",      // nothing after the space
        b"PORTXXXXXX", // no space at all
        b"PORT",       // exactly the pattern: short packet, prefix matches
        b"POR",
        b"Po",
        b"p",
        b"", // strncasecmp(.., 0) == 0: the kernel's partial (help() never gets here)
    ] {
        partial(p, O, false, Port);
    }
    // Not at the start of the payload, or another command: nothing.
    for p in [
        &b" PORT 1,2,3,4,5,6\r\n"[..],
        b"\r\nPORT 1,2,3,4,5,6\r\n",
        b"NOOP\r\n",
        b"USER PORT 1,2,3,4,5,6\r\n",
        b"PX",
        b"PASV\r\n",
        b"\0ORT 1,2,3,4,5,6\r\n",
        b"P\0RT 1,2,3,4,5,6\r\n",
    ] {
        nothing(p, O, false);
    }
}

#[test]
fn helpers_ftp_eprt_vectors() {
    found(b"EPRT |1|132.235.1.2|6275|\r\n", O, false, Eprt, Some(v4(132, 235, 1, 2)), 6275, "|1|132.235.1.2|6275|");
    found(b"eprt |1|10.0.0.1|65535|\r\n", O, false, Eprt, Some(v4(10, 0, 0, 1)), 65535, "|1|10.0.0.1|65535|");
    found(b"EpRt |2|2001:db8::1|5282|\r\n", O, true, Eprt, Some(v6("2001:db8::1")), 5282, "|2|2001:db8::1|5282|");
    // Any printable non-digit delimiter, the same throughout.
    found(b"EPRT !1!1.2.3.4!99!\r\n", O, false, Eprt, Some(v4(1, 2, 3, 4)), 99, "!1!1.2.3.4!99!");
    found(b"EPRT ~2~::1~99~", O, true, Eprt, Some(v6("::1")), 99, "~2~::1~99~");
    // The terminator is not checked: the range ends at the last delimiter.
    found(b"EPRT |1|1.2.3.4|5|xyz", O, false, Eprt, Some(v4(1, 2, 3, 4)), 5, "|1|1.2.3.4|5|");
    // IPv6 forms accepted by in6_pton.
    found(b"EPRT |2|::|7|\r\n", O, true, Eprt, Some(v6("::")), 7, "|2|::|7|");
    found(b"EPRT |2|1:2:3:4:5:6:7:8|7|\r\n", O, true, Eprt, Some(v6("1:2:3:4:5:6:7:8")), 7, "|2|1:2:3:4:5:6:7:8|7|");
    found(b"EPRT |2|2001:DB8::A|7|\r\n", O, true, Eprt, Some(v6("2001:db8::a")), 7, "|2|2001:DB8::A|7|");
    found(b"EPRT |2|1::|7|\r\n", O, true, Eprt, Some(v6("1::")), 7, "|2|1::|7|");
    found(b"EPRT |2|::ffff:192.0.2.1|7|\r\n", O, true, Eprt, Some(v6("::ffff:192.0.2.1")), 7, "|2|::ffff:192.0.2.1|7|");
    found(
        b"EPRT |2|1:2:3:4:5:6:0.0.0.1|7|\r\n",
        O,
        true,
        Eprt,
        Some(v6("1:2:3:4:5:6:0:1")),
        7,
        "|2|1:2:3:4:5:6:0.0.0.1|7|",
    );
    found(
        b"EPRT |2|0001:0db8:0000:0000:0000:0000:0000:0001|7|",
        O,
        true,
        Eprt,
        Some(v6("1:db8::1")),
        7,
        "|2|0001:0db8:0000:0000:0000:0000:0000:0001|7|",
    );
    // in6_pton ends an address at a NUL too; get_port then starts one past
    // it, taking the NUL for the delimiter (live 6.18: expected port 1234).
    found(b"EPRT |2|::1\x001234|", O, true, Eprt, Some(v6("::1")), 1234, "|2|::1\x001234|");
    // A dotted quad ends at a ':' as at the delimiter; the port starts
    // after it (live 6.18: accepted, not dropped).
    found(b"EPRT |2|::1.2.3.4:99|\r\n", O, true, Eprt, Some(v6("::102:304")), 99, "|2|::1.2.3.4:99|");
    // The port wraps in a u16 (live 6.18: |70000| expected port 4464).
    found(b"EPRT |1|127.0.0.1|70000|\r\n", O, false, Eprt, Some(v4(127, 0, 0, 1)), 4464, "|1|127.0.0.1|70000|");
    // IPv4 octets are not range checked either (256 << 0 ORs into the third byte).
    found(b"EPRT |1|1.2.3.256|6|", O, false, Eprt, Some(v4(1, 2, 3, 0)), 6, "|1|1.2.3.256|6|");

    for (p, is_v6) in [
        (&b"EPRT |2|::1|5|\r\n"[..], false),        // family 2 on an IPv4 connection
        (b"EPRT |1|1.2.3.4|5|\r\n", true),          // family 1 on an IPv6 connection
        (b"EPRT |3|1.2.3.4|5|\r\n", false),         // unknown family
        (b"EPRT 212121.2.3.42599|\r\n", false),     // digit delimiter
        (b"EPRT  |1|1.2.3.4|5|\r\n", false),        // space delimiter (second space)
        (b"EPRT \x7f1\x7f1.2.3.4\x7f5\x7f", false), // DEL is not printable
        (b"EPRT \xa61\xa61.2.3.4\xa65\xa6", false), // nor is a byte above 126
        (b"EPRT |1!1.2.3.4|5|\r\n", false),         // second delimiter differs
        (b"EPRT |1|1.2.3.4|0|\r\n", false),         // port 0
        (b"EPRT |1|1.2.3.4|65536|\r\n", false),     // wraps to 0
        (b"EPRT |1|1.2.3.4||\r\n", false),          // empty port
        (b"EPRT |1|1.2.3.4|5\r\n", false),          // no closing delimiter
        (b"EPRT |1|1.2.3.4|5", false),              // data ends
        (b"EPRT |1|1.2.3.4|5x|", false),            // junk in the port
        (b"EPRT |1|1.2.3|5|\r\n", false),           // three octets
        (b"EPRT |1|1.2.3.4.5|6|\r\n", false),       // five octets
        (b"EPRT |1|1.2.3.4!5|\r\n", false),         // address not ended by the delimiter
        (b"EPRT |2|1:2:3:4:5:6:7:8:9|7|", true),    // nine groups
        (b"EPRT |2|12345::1|7|", true),             // five hex digits
        (b"EPRT |2|:::1|7|", true),
        (b"EPRT |2|1::2::3|7|", true),
        (b"EPRT |2|g::1|7|", true),
        (b"EPRT |2|1:2:3:4:5:6:7|7|", true), // seven groups, no "::"
        (b"EPRT |2|::1.2.3|7|", true),
        (b"EPRT |2|::1.2.3.999|7|", true),
        (b"EPRT |2|::1", true), // address runs to the end of the data
        (b"EPRT |2|", true),
        (b"EPRT |1|", false),
        (b"EPRT |1", false),
        (b"EPRT\r\n", false),
        (b"EPR", false),
        (b"E", true),
    ] {
        partial(p, O, is_v6, Eprt);
    }
}

#[test]
fn helpers_ftp_pasv_vectors() {
    let a = Some(v4(203, 0, 113, 47));
    // The classic reply; the range is the numbers inside the parentheses.
    found(b"227 Entering Passive Mode (203,0,113,47,234,101).\r\n", R, false, Pasv, a, 60005, "203,0,113,47,234,101");
    // RFC 1123: no parentheses, any text before the first digit.
    found(b"227 Entering Passive Mode 203,0,113,47,234,101\r\n", R, false, Pasv, a, 60005, "203,0,113,47,234,101");
    found(b"227 =203,0,113,47,234,101 ok\r\n", R, false, Pasv, a, 60005, "203,0,113,47,234,101");
    found(b"227 203,0,113,47,234,101\r\n", R, false, Pasv, a, 60005, "203,0,113,47,234,101");
    found(b"227 entering passive mode (203,0,113,47,234,101)", R, false, Pasv, a, 60005, "203,0,113,47,234,101");
    // Any non-digit non-comma after the sixth number ends it (term 0), even a NUL.
    found(b"227 (203,0,113,47,234,101\0", R, false, Pasv, a, 60005, "203,0,113,47,234,101");
    // On an IPv6 connection the parse is the same (help() merges the address).
    found(b"227 (203,0,113,47,234,101)\r\n", R, true, Pasv, a, 60005, "203,0,113,47,234,101");

    for p in [
        &b"227 Entering Passive Mode (203,0,113,47,234,101"[..], // data ends on the last digit
        b"227 Entering Passive Mode (203,0,113,47,234)\r\n",
        b"227 Entering Passive Mode (203,0,113,47,234,101,7)\r\n",
        b"227 Entering Passive Mode\r\n", // no digit at all
        // The first digit is taken even when it is not the address's
        // (live 6.18: dropped).
        b"227 Entering Passive Mode v2 (203,0,113,47,234,101)\r\n",
        b"227 ",
        b"227",
        b"22",
        b"2",
    ] {
        partial(p, R, false, Pasv);
    }
    for p in [
        &b"227-Entering Passive Mode (203,0,113,47,234,101)\r\n"[..], // continuation line
        b" 227 Entering Passive Mode (203,0,113,47,234,101)\r\n",
        b"200 PORT command successful\r\n",
        b"150 Here comes the directory listing.\r\n",
        b"2x",
    ] {
        nothing(p, R, false);
    }
    // 227 is a reply: not looked for in the client's direction.
    nothing(b"227 Entering Passive Mode (203,0,113,47,234,101).\r\n", O, false);
}

#[test]
fn helpers_ftp_epsv_vectors() {
    found(b"229 Entering Extended Passive Mode (|||60005|)\r\n", R, false, Epsv, None, 60005, "|||60005|");
    found(b"229 Entering Extended Passive Mode (|||60005|)\r\n", R, true, Epsv, None, 60005, "|||60005|");
    found(b"229 ok (!!!5!)", R, false, Epsv, None, 5, "!!!5!");
    // The ')' terminator is never checked.
    found(b"229 Entering Extended Passive Mode (|||60005|", R, false, Epsv, None, 60005, "|||60005|");
    found(b"229 (|||60005|junk", R, false, Epsv, None, 60005, "|||60005|");
    // The first '(' counts, whatever precedes it.
    found(b"229 x(|||1|)", R, false, Epsv, None, 1, "|||1|");
    // u16 wrapping (live 6.18 for EPRT; get_port is shared).
    found(b"229 (|||70000|)", R, false, Epsv, None, 4464, "|||70000|");

    for p in [
        &b"229 Entering Extended Passive Mode |||60005|\r\n"[..], // no '(' (live 6.18: dropped)
        b"229 Entering Extended Passive Mode (||60005|)\r\n",     // two delimiters
        b"229 (|||0|)\r\n",
        b"229 (|||65536|)\r\n",
        b"229 (|||60005)\r\n",
        b"229 (|||60005",
        b"229 (|||)",
        b"229 (|||",
        b"229 (111|)",
        b"229 (   5 )",
        b"229 (|!|5|)",
        b"229 (",
        b"229 x((|||1|)", // only the first '(' is skipped: '(' is taken as the delimiter
        b"229 ",
        b"229",
    ] {
        partial(p, R, false, Epsv);
    }
    nothing(b"229 Entering Extended Passive Mode (|||60005|)\r\n", O, false);
    nothing(b"228 Entering Long Passive Mode\r\n", R, false);
}

/// One helper run: `help` with the state and `ctl_src`, not loose.
fn run(st: &mut FtpSeqState, p: &[u8], seq: u32, dir: Dir, ctl: IpAddr) -> FtpDecision {
    help(st, p, seq, dir, ctl, false)
}

#[test]
fn helpers_ftp_help_needs_a_line_start() {
    let ctl = v4(10, 0, 0, 1);
    let mut st = FtpSeqState::default();
    let port = b"PORT 10,0,0,1,4,5\r\n";
    // The first segment each way is never searched (nothing remembered
    // yet, like the kernel's zeroed helper data), but its end is kept.
    assert_eq!(run(&mut st, port, 1000, O, ctl), FtpDecision::Accept);
    assert_eq!(st.remembered(O), &[1019]);
    assert!(st.remembered(R).is_empty());
    // The next one starts after that newline: searched.
    let d = run(&mut st, port, 1019, O, ctl);
    let FtpDecision::Expect { cmd, daddr_override: None } = d else { panic!("{d:?}") };
    assert_eq!((cmd.ty, cmd.port, cmd.match_off, cmd.match_len), (Port, 1029, 5, 12));
    assert_eq!(st.remembered(O), &[1019, 1038]);
    // A segment not ending in '\n' is searched but leaves nothing to remember,
    // so the segment after it is not searched.
    assert_eq!(run(&mut st, b"NOOP", 1038, O, ctl), FtpDecision::Accept);
    assert_eq!(st.remembered(O), &[1019, 1038]);
    assert_eq!(run(&mut st, port, 1042, O, ctl), FtpDecision::Accept);
    // ... but it ended in '\n': now 1061 is a line start.
    assert_eq!(st.remembered(O), &[1061, 1038]);
    assert!(matches!(run(&mut st, port, 1061, O, ctl), FtpDecision::Expect { .. }));
    // Directions are separate: the reply direction has nothing remembered.
    let pasv = b"227 Entering Passive Mode (10,0,0,2,4,5).\r\n";
    assert_eq!(run(&mut st, pasv, 1019, R, v4(10, 0, 0, 2)), FtpDecision::Accept);
    // Empty segments are ignored entirely.
    let before = st.clone();
    assert_eq!(run(&mut st, b"", 1080, O, ctl), FtpDecision::Accept);
    assert_eq!(st, before);
}

#[test]
fn helpers_ftp_help_split_command_is_dropped() {
    let ctl = v4(10, 0, 0, 1);
    let mut st = FtpSeqState::default();
    st.update_nl_seq(500, O);
    // "PO" then "RT ...": the first part is a partial match: dropped, and
    // the newline state is not touched (the kernel's `goto out`).
    assert_eq!(run(&mut st, b"PO", 500, O, ctl), FtpDecision::Drop("partial matching of `PORT'"));
    assert_eq!(run(&mut st, b"PORT 10,0,", 500, O, ctl), FtpDecision::Drop("partial matching of `PORT'"));
    assert_eq!(run(&mut st, b"EP", 500, O, ctl), FtpDecision::Drop("partial matching of `EPRT'"));
    // A malformed complete line is dropped too, even though it ends in '\n'.
    assert_eq!(run(&mut st, b"PORT 10,0,0,1,4\r\n", 500, O, ctl), FtpDecision::Drop("partial matching of `PORT'"));
    assert_eq!(st.remembered(O), &[500]);
    // The sender retransmits the whole line at the same sequence: accepted.
    assert!(matches!(run(&mut st, b"PORT 10,0,0,1,4,5\r\n", 500, O, ctl), FtpDecision::Expect { .. }));
    // Replies: the log names the reply pattern.
    st.update_nl_seq(9000, R);
    assert_eq!(run(&mut st, b"22", 9000, R, v4(10, 0, 0, 2)), FtpDecision::Drop("partial matching of `227 '"));
    assert_eq!(
        run(&mut st, b"229 Entering Extended Passive Mode\r\n", 9000, R, v4(10, 0, 0, 2)),
        FtpDecision::Drop("partial matching of `229 '")
    );
}

#[test]
fn helpers_ftp_help_bounce_and_loose() {
    let ctl = v4(10, 0, 0, 1);
    let bounce = b"PORT 192,0,2,99,0,25\r\n";
    let mut st = FtpSeqState::default();
    st.update_nl_seq(1, O);
    // Another host's address: no expectation (FTP bounce), accepted, and
    // the newline is still remembered.
    assert_eq!(run(&mut st, bounce, 1, O, ctl), FtpDecision::Accept);
    assert_eq!(st.remembered(O), &[1, 23]);
    // With loose: expected, towards the named address.
    let d = help(&mut st, bounce, 23, O, ctl, true);
    let FtpDecision::Expect { cmd, daddr_override } = d else { panic!("{d:?}") };
    assert_eq!((cmd.port, daddr_override), (25, Some(v4(192, 0, 2, 99))));
    // Loose but the same address: no override.
    let d = help(&mut st, b"EPRT |1|10.0.0.1|2000|\r\n", 45, O, ctl, true);
    assert!(matches!(d, FtpDecision::Expect { daddr_override: None, .. }), "{d:?}");
    // EPSV names no address: always the control connection's.
    let srv = v4(10, 0, 0, 2);
    st.update_nl_seq(7, R);
    let epsv = b"229 Entering Extended Passive Mode (|||60005|)\r\n";
    let d = run(&mut st, epsv, 7, R, srv);
    let FtpDecision::Expect { cmd, daddr_override: None } = d else { panic!("{d:?}") };
    assert_eq!((cmd.ty, cmd.addr, cmd.port), (Epsv, None, 60005));
    // A 227 naming another address (a partially NATed server) is a bounce too.
    let next = 7 + epsv.len() as u32;
    assert_eq!(run(&mut st, b"227 (10,9,9,9,1,1)\r\n", next, R, srv), FtpDecision::Accept);
    assert!(st.find_nl_seq(next + 20, R));
}

#[test]
fn helpers_ftp_help_ipv6() {
    let ctl = v6("2001:db8::1");
    let mut st = FtpSeqState::default();
    st.update_nl_seq(0, O);
    st.update_nl_seq(0, R);
    let eprt = b"EPRT |2|2001:db8::1|5282|\r\n";
    assert!(matches!(run(&mut st, eprt, 0, O, ctl), FtpDecision::Expect { daddr_override: None, .. }));
    // EPRT of another IPv6 host: bounce.
    let n = eprt.len() as u32;
    assert_eq!(run(&mut st, b"EPRT |2|2001:db8::99|5282|\r\n", n, O, ctl), FtpDecision::Accept);
    // EPRT |1| on an IPv6 connection: dropped (try_eprt rejects the family).
    let n = n + 28;
    assert_eq!(run(&mut st, b"EPRT |1|10.0.0.1|5|\r\n", n, O, ctl), FtpDecision::Drop("partial matching of `EPRT'"));
    // PORT on an IPv6 connection: the kernel writes the four numbers over
    // the first four bytes of the connection's address (cmd->u3.ip). Here
    // they equal them (2001:0db8 = 32,1,13,184): expected, no override
    // (live 6.18 over ::1: "PORT 0,0,0,0,4,5" expected [::1]:1029,
    // "PORT 1,2,3,4,4,6" expected nothing).
    let d = run(&mut st, b"PORT 32,1,13,184,4,5\r\n", n, O, ctl);
    assert!(matches!(d, FtpDecision::Expect { daddr_override: None, .. }), "{d:?}");
    // Otherwise a bounce; with loose the merged address is the target.
    let n = n + 22;
    assert_eq!(run(&mut st, b"PORT 10,0,0,1,4,5\r\n", n, O, ctl), FtpDecision::Accept);
    let d = help(&mut st, b"PORT 10,0,0,1,4,5\r\n", n + 19, O, ctl, true);
    assert_eq!(
        d,
        FtpDecision::Expect {
            cmd: FtpCmd { ty: Port, addr: Some(v4(10, 0, 0, 1)), port: 1029, match_off: 5, match_len: 12 },
            daddr_override: Some(v6("a00:1::1")),
        }
    );
    // EPSV over IPv6.
    let d = run(&mut st, b"229 Entering Extended Passive Mode (|||6446|)\r\n", 0, R, v6("2001:db8::2"));
    assert!(matches!(d, FtpDecision::Expect { daddr_override: None, .. }), "{d:?}");
}

#[test]
fn helpers_ftp_newline_memory() {
    let mut st = FtpSeqState::default();
    assert!(!st.find_nl_seq(0, O));
    st.update_nl_seq(100, O);
    st.update_nl_seq(100, O); // known: nothing changes
    assert_eq!(st.remembered(O), &[100]);
    st.update_nl_seq(200, O);
    assert_eq!(st.remembered(O), &[100, 200]);
    // A third replaces the older of the two.
    st.update_nl_seq(300, O);
    assert_eq!(st.remembered(O), &[300, 200]);
    st.update_nl_seq(400, O);
    assert_eq!(st.remembered(O), &[300, 400]);
    assert!(st.find_nl_seq(300, O) && st.find_nl_seq(400, O) && !st.find_nl_seq(200, O));
    // Older than the oldest: ignored ("we don't update if it's older").
    st.update_nl_seq(250, O);
    assert_eq!(st.remembered(O), &[300, 400]);
    // Between the two: replaces the oldest.
    st.update_nl_seq(350, O);
    assert_eq!(st.remembered(O), &[350, 400]);
    // Sequence space wraps: u32::MAX - 5 is before 10.
    let mut st = FtpSeqState::default();
    st.update_nl_seq(u32::MAX - 5, R);
    st.update_nl_seq(u32::MAX - 1, R);
    st.update_nl_seq(10, R);
    assert_eq!(st.remembered(R), &[10, u32::MAX - 1]);
    st.update_nl_seq(u32::MAX - 100, R); // before both
    assert_eq!(st.remembered(R), &[10, u32::MAX - 1]);
    assert!(st.remembered(O).is_empty());
    // help() computes seq + len with wrapping.
    let mut st = FtpSeqState::default();
    assert_eq!(help(&mut st, b"NOOP\r\n", u32::MAX - 1, O, v4(1, 1, 1, 1), false), FtpDecision::Accept);
    assert_eq!(st.remembered(O), &[4]);
}

#[test]
fn helpers_ftp_pickup() {
    let ctl = v4(10, 0, 0, 1);
    let port = b"PORT 10,0,0,1,4,5\r\n";
    let mut st = FtpSeqState::default();
    assert!(!st.take_pickup(O));
    st.set_pickup();
    // The first segment of each direction is searched wherever it starts.
    assert!(matches!(run(&mut st, port, 777, O, ctl), FtpDecision::Expect { .. }));
    // The flag is used up: a segment at an unknown position is not searched.
    assert_eq!(run(&mut st, port, 5, O, ctl), FtpDecision::Accept);
    assert!(!st.take_pickup(O));
    // The reply direction still has its flag.
    let pasv = b"227 (10,0,0,2,4,5)\r\n";
    assert!(matches!(run(&mut st, pasv, 31337, R, v4(10, 0, 0, 2)), FtpDecision::Expect { .. }));
    assert!(!st.take_pickup(R));
    // A remembered position does not consume the flag.
    let mut st = FtpSeqState::default();
    st.set_pickup();
    st.update_nl_seq(40, O);
    assert!(matches!(run(&mut st, port, 40, O, ctl), FtpDecision::Expect { .. }));
    assert!(st.take_pickup(O));
    // A partial match picked up clears the flag too (flags ^= PICKUP before searching).
    let mut st = FtpSeqState::default();
    st.set_pickup();
    assert_eq!(run(&mut st, b"PO", 1, O, ctl), FtpDecision::Drop("partial matching of `PORT'"));
    assert!(!st.take_pickup(O));
}

/// format_cmd's text put back where the parser found it parses to the same
/// address and port: the round trip NAT relies on.
#[track_caller]
fn round_trip(ty: FtpType, addr: IpAddr, port: u16) {
    let mut buf = [0u8; FORMAT_BUF_LEN];
    let n = format_cmd(ty, addr, port, &mut buf);
    assert!(n > 0 && n < FORMAT_BUF_LEN, "{ty:?} {addr} {port}");
    let text = &buf[..n];
    let (head, tail, dir): (&[u8], &[u8], Dir) = match ty {
        Port => (b"PORT ", b"\r\n", O),
        Eprt => (b"EPRT ", b"\r\n", O),
        Pasv => (b"227 Entering Passive Mode (", b").\r\n", R),
        Epsv => (b"229 Entering Extended Passive Mode (", b")\r\n", R),
    };
    let mut line = [0u8; 128];
    let len = head.len() + n + tail.len();
    line[..head.len()].copy_from_slice(head);
    line[head.len()..head.len() + n].copy_from_slice(text);
    line[head.len() + n..len].copy_from_slice(tail);
    let line = &line[..len];
    let Found::Cmd(c) = search(line, dir, addr.is_ipv6()) else { panic!("{:?}", String::from_utf8_lossy(line)) };
    let want_addr = match ty {
        Epsv => None,
        _ => Some(addr),
    };
    assert_eq!((c.ty, c.addr, c.port), (ty, want_addr, port));
    assert_eq!((c.match_off, c.match_len), (head.len(), n));
}

#[test]
fn helpers_ftp_format_cmd() {
    let mut buf = [0u8; FORMAT_BUF_LEN];
    let mut fmt = |ty, addr, port| {
        let n = format_cmd(ty, addr, port, &mut buf);
        String::from_utf8(buf[..n].to_vec()).unwrap()
    };
    assert_eq!(fmt(Port, v4(192, 0, 2, 7), 50001), "192,0,2,7,195,81");
    assert_eq!(fmt(Pasv, v4(203, 0, 113, 47), 60005), "203,0,113,47,234,101");
    assert_eq!(fmt(Eprt, v4(132, 235, 1, 2), 6275), "|1|132.235.1.2|6275|");
    // %pI6: all eight groups, four lowercase hex digits each.
    assert_eq!(fmt(Eprt, v6("2001:db8::1"), 5282), "|2|2001:0db8:0000:0000:0000:0000:0000:0001|5282|");
    assert_eq!(fmt(Epsv, v4(1, 2, 3, 4), 6446), "|||6446|");
    assert_eq!(fmt(Epsv, v6("::1"), 1), "|||1|");
    // PORT/227 of an IPv6 address: the kernel prints addr->ip, the first four bytes.
    assert_eq!(fmt(Port, v6("2001:db8::1"), 1029), "32,1,13,184,4,5");
    // The longest text fits the kernel's buffer.
    let max = fmt(Eprt, v6("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"), 65535);
    assert_eq!(max.len(), 49);
    // Too small an output: 0, as "cannot mangle".
    let mut small = [0u8; 10];
    assert_eq!(format_cmd(Port, v4(192, 0, 2, 7), 50001, &mut small), 0);
    assert_eq!(format_cmd(Epsv, v4(0, 0, 0, 0), 65535, &mut small), 9);
    assert_eq!(format_cmd(Epsv, v4(0, 0, 0, 0), 65535, &mut small[..8]), 0);

    // Round trips, fixed and pseudo-random.
    for ty in [Port, Pasv, Eprt, Epsv] {
        round_trip(ty, v4(192, 0, 2, 7), 50001);
        round_trip(ty, v4(255, 255, 255, 255), 65535);
        round_trip(ty, v4(0, 0, 0, 0), 1);
    }
    round_trip(Port, v4(0, 0, 0, 0), 0); // PORT may carry port 0; EPRT/EPSV cannot
    for a in ["2001:db8::1", "::", "::1", "fe80::1:2", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "::ffff:1.2.3.4"] {
        round_trip(Eprt, v6(a), 2121);
        round_trip(Epsv, v6(a), 2121);
    }
    let mut rng = Rng(0x5eed_f7b0);
    for _ in 0..2000 {
        let port = (rng.next() as u16).max(1);
        let a4 = v4(rng.next() as u8, rng.next() as u8, rng.next() as u8, rng.next() as u8);
        let a6 = IpAddr::V6(Ipv6Addr::from(u128::from(rng.next()) << 64 | u128::from(rng.next())));
        round_trip(Port, a4, port);
        round_trip(Pasv, a4, port);
        round_trip(Eprt, a4, port);
        round_trip(Eprt, a6, port);
        round_trip(Epsv, a6, port);
    }
}

/// NAT's use: replace the matched range with the translated text, search
/// again, and find the new address and port where the old ones were.
#[test]
fn helpers_ftp_mangle_and_reparse() {
    let orig = b"227 Entering Passive Mode (192,168,1,10,234,101).\r\n";
    let Found::Cmd(c) = search(orig, R, false) else { panic!() };
    let mut text = [0u8; FORMAT_BUF_LEN];
    let n = format_cmd(c.ty, v4(203, 0, 113, 1), 60006, &mut text);
    let mut out = [0u8; 128];
    let len = orig.len() - c.match_len + n;
    out[..c.match_off].copy_from_slice(&orig[..c.match_off]);
    out[c.match_off..c.match_off + n].copy_from_slice(&text[..n]);
    out[c.match_off + n..len].copy_from_slice(&orig[c.match_off + c.match_len..]);
    assert_eq!(&out[..len], b"227 Entering Passive Mode (203,0,113,1,234,102).\r\n");
    found(&out[..len], R, false, Pasv, Some(v4(203, 0, 113, 1)), 60006, "203,0,113,1,234,102");
}

#[test]
fn helpers_policies() {
    assert_eq!(helper_by_name("ftp").map(|h| (h.proto, h.policy)), Some((6, FTP_POLICY)));
    assert_eq!(helper_by_name("tftp").map(|h| (h.proto, h.policy)), Some((17, TFTP_POLICY)));
    assert_eq!(FTP_POLICY.max_expected, 1);
    assert_eq!(FTP_POLICY.timeout_secs, 300);
    assert!(helper_by_name("sip").is_none());
}

/// splitmix64: a seeded generator, so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Bytes FTP parsers care about, to make random payloads hit the parsers'
/// branches more often than uniform bytes would.
const ALPHABET: &[u8] = b"PORTEPRTport227 229 (),|!.:0123456789abcdefABCDEF\r\n\0 \xff\x7f";

const SEEDS: [&[u8]; 12] = [
    b"PORT 192,168,1,2,4,5\r\n",
    b"port 10,0,0,1,256,22\r\n",
    b"EPRT |1|132.235.1.2|6275|\r\n",
    b"EPRT |2|2001:db8::1|5282|\r\n",
    b"EPRT |2|::ffff:192.0.2.1|7|\r\n",
    b"EPRT |2|1:2:3:4:5:6:7:8|7|\r\n",
    b"227 Entering Passive Mode (203,0,113,47,234,101).\r\n",
    b"227 =203,0,113,47,234,101\r\n",
    b"229 Entering Extended Passive Mode (|||60005|)\r\n",
    b"229 (!!!5!)\r\n",
    b"NOOP\r\n",
    b"150 Opening data connection\r\n",
];

/// Checks every answer of `search` could be acted on safely.
#[track_caller]
fn check_found(p: &[u8], f: Found) {
    if let Found::Cmd(c) = f {
        let end = c.match_off.checked_add(c.match_len).unwrap();
        assert!(end <= p.len() && c.match_len > 0, "{c:?} for {p:?}");
        let text = &p[c.match_off..end];
        match c.ty {
            // Six numbers: digits and exactly five commas.
            Port | Pasv => {
                assert!(text.iter().all(|b| b.is_ascii_digit() || *b == b','), "{text:?}");
                assert_eq!(text.iter().filter(|b| **b == b',').count(), 5);
            }
            // Starts and ends with the same delimiter; EPSV's port is not 0.
            Eprt | Epsv => {
                assert_eq!(text.first(), text.last());
                assert!(text.len() >= 5);
                if c.ty == Epsv {
                    assert!(c.port != 0 && c.addr.is_none());
                }
            }
        }
        // The replacement can always be formatted.
        let mut buf = [0u8; FORMAT_BUF_LEN];
        let addr = c.addr.unwrap_or(v4(10, 0, 0, 1));
        assert!(format_cmd(c.ty, addr, c.port, &mut buf) > 0);
    }
}

#[test]
fn helpers_ftp_adversarial_payloads() {
    let mut rng = Rng(0xc7c_f7e5);
    let mut buf = [0u8; 256];
    let mut st = FtpSeqState::default();
    let mut cmds = 0;
    for n in 0..10_000 {
        // Half mutated commands, half random text from the alphabet or raw bytes.
        let len = if n % 2 == 0 {
            let seed = SEEDS[rng.below(SEEDS.len())];
            let mut len = seed.len();
            buf[..len].copy_from_slice(seed);
            for _ in 0..1 + rng.below(4) {
                match rng.below(5) {
                    // Flip bits of one byte.
                    0 if len > 0 => buf[rng.below(len)] ^= 1 << rng.below(8),
                    // Replace a byte with one from the alphabet.
                    1 if len > 0 => buf[rng.below(len)] = ALPHABET[rng.below(ALPHABET.len())],
                    // Truncate.
                    2 => len = rng.below(len + 1),
                    // Insert a byte.
                    3 if len < buf.len() => {
                        let at = rng.below(len + 1);
                        buf.copy_within(at..len, at + 1);
                        buf[at] = ALPHABET[rng.below(ALPHABET.len())];
                        len += 1;
                    }
                    // Delete a byte.
                    _ if len > 0 => {
                        let at = rng.below(len);
                        buf.copy_within(at + 1..len, at);
                        len -= 1;
                    }
                    _ => {}
                }
            }
            len
        } else {
            let len = rng.below(96);
            let raw = rng.below(4) == 0;
            for b in &mut buf[..len] {
                *b = if raw { rng.next() as u8 } else { ALPHABET[rng.below(ALPHABET.len())] };
            }
            len
        };
        let p = &buf[..len];
        for dir in [O, R] {
            for is_v6 in [false, true] {
                let f = search(p, dir, is_v6);
                cmds += usize::from(matches!(f, Found::Cmd(_)));
                check_found(p, f);
            }
        }
        // And through help(), with a state that sometimes lets it search.
        let seq = rng.next() as u32;
        if rng.below(2) == 0 {
            st.update_nl_seq(seq, O);
            st.update_nl_seq(seq, R);
        }
        if rng.below(50) == 0 {
            st.set_pickup();
        }
        let ctl = if rng.below(2) == 0 { v4(10, 0, 0, 1) } else { v6("2001:db8::1") };
        let dir = if rng.below(2) == 0 { O } else { R };
        match help(&mut st, p, seq, dir, ctl, rng.below(2) == 0) {
            FtpDecision::Expect { cmd, .. } => check_found(p, Found::Cmd(cmd)),
            FtpDecision::Drop(msg) => assert!(msg.starts_with("partial matching of `")),
            FtpDecision::Accept => {}
        }
        assert!(st.remembered(O).len() <= 2 && st.remembered(R).len() <= 2);
    }
    // The mutations keep enough commands intact to exercise the success paths.
    assert!(cmds > 500, "only {cmds} commands found");
}

#[test]
fn helpers_ftp_long_payloads() {
    // Long lines (a whole MSS and more, up to a 64 KiB GRO segment) parse
    // without trouble and the ranges stay in bounds.
    let mut big = [b'x'; 70_000];
    big[..4].copy_from_slice(b"PORT");
    assert_eq!(search(&big, O, false), Found::Partial(Port)); // no space anywhere
    big[69_990] = b' ';
    assert_eq!(search(&big, O, false), Found::Partial(Port)); // then junk
    let line = b" 1,2,3,4,5,6\r";
    big[69_980..69_980 + line.len()].copy_from_slice(line);
    let Found::Cmd(c) = search(&big, O, false) else { panic!() };
    assert_eq!((c.match_off, c.match_len, c.port), (69_981, 11, 1286));
    // A 227 whose numbers start far into the payload.
    let mut big = [b' '; 70_000];
    big[..4].copy_from_slice(b"227 ");
    big[65_600..65_600 + 12].copy_from_slice(b"1,2,3,4,5,6)");
    let Found::Cmd(c) = search(&big, R, false) else { panic!() };
    assert_eq!((c.match_off, c.match_len), (65_600, 11));
    // An EPRT whose address runs to the end of a long payload.
    let mut big = [b'1'; 70_000];
    big[..10].copy_from_slice(b"EPRT |2|::");
    assert_eq!(search(&big, O, true), Found::Partial(Eprt));
}
