//! The evaluation semantics of nft.txt "OVERALL EVALUATION OF THE RULESET"
//! (DESIGN §1), checked through `ctc replay` on crafted packets.
//!
//! Each test writes a small ruleset whose interesting rules end with a
//! `# MARKER` comment, replays real Ethernet frames (correct checksums)
//! through the pipeline, and checks each frame's verdict line (verdict,
//! DECIDED-BY `FILE:LINE` or `policy`, output interface) and the rules'
//! counters. The host model is a router between two subnets:
//! in0 192.0.2.1/24, 2001:db8:1::1/64 (frames enter here) and out0
//! 198.51.100.1/24, 2001:db8:2::1/64; 198.51.100.x is forwarded, 192.0.2.1
//! is local. One test runs the binary on the same inputs and compares.

use ctc_datapath::capture::{Frame, Link};
use ctc_datapath::pipeline::Sent;
use ctc_tests::packets::{self, L4, tcp_flags};
use ctc_tests::replay::{Replay, TempDir, VerdictLine, counter_in_listing, ctc_binary, line_of};
use std::net::IpAddr;
use std::process::Command;

const NAME: &str = "sem.nft";
const IFACES: [&str; 2] = ["in0=192.0.2.1/24,2001:db8:1::1/64", "out0=198.51.100.1/24,2001:db8:2::1/64"];
const CLIENT4: &str = "192.0.2.10";
const CLIENT6: &str = "2001:db8:1::10";

fn replay(text: &str) -> Replay {
    Replay::new(NAME, text, &IFACES, &[], &["in0"]).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

fn addr(s: &str) -> IpAddr {
    s.parse().unwrap()
}

/// A TCP SYN from the client (v4 or v6 by `dst`) to `dst`:`dport`.
fn syn(dst: &str, dport: u16) -> Vec<u8> {
    let d = addr(dst);
    let s = if d.is_ipv4() { addr(CLIENT4) } else { addr(CLIENT6) };
    packets::eth_ip(s, d, 64, &L4::Tcp { sport: 40000, dport, flags: tcp_flags::SYN }, &[])
}

fn udp(dst: &str, dport: u16) -> Vec<u8> {
    let d = addr(dst);
    let s = if d.is_ipv4() { addr(CLIENT4) } else { addr(CLIENT6) };
    packets::eth_ip(s, d, 64, &L4::Udp { sport: 40000, dport }, b"payload")
}

/// What a verdict line must say: the verdict and the decider, given as a
/// marker of the ruleset (`FILE:LINE`) or a literal (`policy`, `no-route`...).
fn expect(text: &str, lines: &[VerdictLine], i: usize, verdict: &str, by: &str, oif: &str) {
    let l = &lines[i];
    let want_by = if by.chars().next().is_some_and(|c| c.is_ascii_uppercase()) {
        format!("{NAME}:{}", line_of(text, by))
    } else {
        by.to_string()
    };
    assert_eq!(
        (l.verdict.as_str(), l.decided_by.as_str(), l.oif.as_str()),
        (verdict, want_by.as_str(), oif),
        "frame {i}: want {verdict} by {by} ({want_by}) out {oif}, got {l:?}\nruleset:\n{text}"
    );
}

fn counter(r: &Replay, text: &str, marker: &str) -> u64 {
    r.counter_at_line(line_of(text, marker)).unwrap_or_else(|| panic!("no counter on the line of {marker}")).0
}

// Two base chains on one hook run by priority, whatever their order in the
// file; `accept` ends only its own base chain, the next one still runs and
// may drop. A packet every chain accepts is decided by the last acceptor.
const TWO_BASE_CHAINS: &str = "\
table ip t {
\tchain late {
\t\ttype filter hook forward priority filter + 10; policy accept;
\t\tcounter # LATE_SEEN
\t\tip daddr 198.51.100.20 counter drop # LATE_DROP
\t}
\tchain early {
\t\ttype filter hook forward priority filter - 10; policy accept;
\t\tip daddr 198.51.100.20 counter accept # EARLY_ACCEPT
\t\tip daddr 198.51.100.21 counter accept # EARLY_ACCEPT_21
\t\tcounter # EARLY_REST
\t}
}
";

#[test]
fn accept_in_an_earlier_base_chain_then_drop_in_a_later_one() {
    let mut r = replay(TWO_BASE_CHAINS);
    let lines =
        r.run_bytes(1_000_000_000, &[syn("198.51.100.20", 80), syn("198.51.100.21", 80), syn("198.51.100.22", 80)]);
    expect(TWO_BASE_CHAINS, &lines, 0, "drop", "LATE_DROP", "out0");
    // Accepted by early's rule, then late's policy: the last acceptor decides.
    expect(TWO_BASE_CHAINS, &lines, 1, "accept", "policy", "out0");
    expect(TWO_BASE_CHAINS, &lines, 2, "accept", "policy", "out0");
    let t = TWO_BASE_CHAINS;
    assert_eq!(counter(&r, t, "EARLY_ACCEPT"), 1);
    assert_eq!(counter(&r, t, "EARLY_ACCEPT_21"), 1);
    // The accepting rule ended `early`: its later rules never saw .20/.21.
    assert_eq!(counter(&r, t, "EARLY_REST"), 1);
    // `late` (priority +10) ran after `early` for all three packets.
    assert_eq!(counter(&r, t, "LATE_SEEN"), 3);
    assert_eq!(counter(&r, t, "LATE_DROP"), 1);
}

// `drop` ends everything: later base chains of the hook, base chains of
// other tables, and later hooks (postrouting) never see the packet.
const DROP_ENDS_EVERYTHING: &str = "\
table ip a {
\tchain forward {
\t\ttype filter hook forward priority filter; policy accept;
\t\tip daddr 198.51.100.30 counter drop # A_DROP
\t\tcounter # A_REST
\t}
\tchain fwd2 {
\t\ttype filter hook forward priority filter + 5; policy accept;
\t\tcounter # A_FWD2
\t}
\tchain post {
\t\ttype filter hook postrouting priority filter; policy accept;
\t\tcounter # A_POST
\t}
}
table ip b {
\tchain forward {
\t\ttype filter hook forward priority filter + 1; policy accept;
\t\tcounter # B_FWD
\t}
}
";

#[test]
fn drop_in_the_first_base_chain_ends_everything() {
    let t = DROP_ENDS_EVERYTHING;
    let mut r = replay(t);
    let lines = r.run_bytes(1_000_000_000, &[syn("198.51.100.30", 22), syn("198.51.100.31", 22)]);
    expect(t, &lines, 0, "drop", "A_DROP", "out0");
    expect(t, &lines, 1, "accept", "policy", "out0");
    assert_eq!(counter(&r, t, "A_DROP"), 1);
    // Only the second packet went on, through every later chain.
    for m in ["A_REST", "A_FWD2", "A_POST", "B_FWD"] {
        assert_eq!(counter(&r, t, m), 1, "{m}");
    }
}

// jump pushes a return point; return (explicit, or the end of a regular
// chain) resumes after the jump; the base policy applies after that.
const JUMP_RETURN: &str = "\
table inet t {
\tchain sub {
\t\tcounter # SUB_SEEN
\t\tip daddr 198.51.100.40 return # SUB_RETURN
\t\tip daddr 198.51.100.41 accept # SUB_ACCEPT
\t\tcounter # SUB_END
\t}
\tchain forward {
\t\ttype filter hook forward priority filter; policy drop;
\t\tcounter jump sub # JUMP
\t\tip daddr 198.51.100.40 counter accept # AFTER_RETURN
\t\tip daddr 198.51.100.42 counter accept # AFTER_END
\t\tcounter # FALLTHROUGH
\t}
}
";

#[test]
fn jump_and_return_continue_after_the_jump() {
    let t = JUMP_RETURN;
    let mut r = replay(t);
    let frames = [syn("198.51.100.40", 1), syn("198.51.100.41", 1), syn("198.51.100.42", 1), syn("198.51.100.43", 1)];
    let lines = r.run_bytes(1_000_000_000, &frames);
    expect(t, &lines, 0, "accept", "AFTER_RETURN", "out0");
    expect(t, &lines, 1, "accept", "SUB_ACCEPT", "out0");
    // The end of `sub` returns like `return` does.
    expect(t, &lines, 2, "accept", "AFTER_END", "out0");
    // Back from `sub`, nothing matches: the base chain's policy drop.
    expect(t, &lines, 3, "drop", "policy", "out0");
    assert_eq!(counter(&r, t, "JUMP"), 4);
    assert_eq!(counter(&r, t, "SUB_SEEN"), 4);
    assert_eq!(counter(&r, t, "SUB_END"), 2); // .42 and .43
    assert_eq!(counter(&r, t, "AFTER_RETURN"), 1);
    assert_eq!(counter(&r, t, "AFTER_END"), 1);
    assert_eq!(counter(&r, t, "FALLTHROUGH"), 1); // .43 only
}

// goto does not push a return point: at the end of the goto'd chain the
// base chain's remaining rules are skipped and its policy applies. A goto
// inside a jumped-to chain returns to the jump's caller.
const GOTO: &str = "\
table ip t {
\tchain g {
\t\tip daddr 198.51.100.50 accept # G_ACCEPT
\t\tcounter # G_END
\t}
\tchain leaf {
\t\tcounter # LEAF
\t}
\tchain mid {
\t\tgoto leaf # MID_GOTO
\t\tcounter # MID_AFTER_GOTO
\t}
\tchain forward {
\t\ttype filter hook forward priority filter; policy drop;
\t\tip daddr 198.51.100.50-198.51.100.51 goto g # GOTO
\t\tip daddr 198.51.100.52 jump mid # JUMP_MID
\t\tcounter accept # AFTER
\t}
}
";

#[test]
fn goto_never_returns_to_the_base_chain() {
    let t = GOTO;
    let mut r = replay(t);
    let frames = [syn("198.51.100.50", 1), syn("198.51.100.51", 1), syn("198.51.100.52", 1), syn("198.51.100.53", 1)];
    let lines = r.run_bytes(1_000_000_000, &frames);
    expect(t, &lines, 0, "accept", "G_ACCEPT", "out0");
    // End of `g`: the policy (drop), not the `counter accept` after the goto.
    expect(t, &lines, 1, "drop", "policy", "out0");
    // jump mid → goto leaf → end of leaf: back after the jump in `fwd`.
    expect(t, &lines, 2, "accept", "AFTER", "out0");
    expect(t, &lines, 3, "accept", "AFTER", "out0");
    assert_eq!(counter(&r, t, "G_END"), 1);
    assert_eq!(counter(&r, t, "LEAF"), 1);
    assert_eq!(counter(&r, t, "MID_AFTER_GOTO"), 0);
    assert_eq!(counter(&r, t, "AFTER"), 2); // .52 and .53, never .50/.51
}

// `continue` goes on with the next rule; `return` in a base chain applies
// its policy; a rule after an accepting rule is not reached; a counter in
// the same rule before the verdict counts.
const CONTINUE_RETURN: &str = "\
table ip t {
\tchain forward {
\t\ttype filter hook forward priority filter; policy drop;
\t\tip daddr 198.51.100.60 counter continue # CONT
\t\tip daddr 198.51.100.60 counter accept # ACCEPT_60
\t\tip daddr 198.51.100.60 counter drop # NEVER
\t\tip daddr 198.51.100.61 counter return # BASE_RETURN
\t\tcounter accept # LAST
\t}
}
";

#[test]
fn continue_and_return_in_a_base_chain_and_rules_after_a_verdict() {
    let t = CONTINUE_RETURN;
    let mut r = replay(t);
    let lines =
        r.run_bytes(1_000_000_000, &[syn("198.51.100.60", 1), syn("198.51.100.61", 1), syn("198.51.100.62", 1)]);
    expect(t, &lines, 0, "accept", "ACCEPT_60", "out0");
    expect(t, &lines, 1, "drop", "policy", "out0");
    expect(t, &lines, 2, "accept", "LAST", "out0");
    assert_eq!(counter(&r, t, "CONT"), 1);
    assert_eq!(counter(&r, t, "ACCEPT_60"), 1);
    assert_eq!(counter(&r, t, "NEVER"), 0);
    assert_eq!(counter(&r, t, "BASE_RETURN"), 1);
    assert_eq!(counter(&r, t, "LAST"), 1);
    // The bytes counted are the IP datagram's length (the kernel's skb->len
    // at the IP hooks): a 40-byte TCP SYN.
    assert_eq!(r.counter_at_line(line_of(t, "LAST")), Some((1, 40)));
    // The same values in the `--counters` listing.
    let listing = r.counters();
    assert_eq!(counter_in_listing(&listing, "198.51.100.60 counter packets"), Some((1, 40)), "{listing}");
    assert!(listing.contains("ip daddr 198.51.100.60 counter packets 0 bytes 0 drop"), "{listing}");
}

// Accept at forward does not skip postrouting: a later hook can still drop.
const ACCEPT_THEN_POSTROUTING: &str = "\
table ip t {
\tchain forward {
\t\ttype filter hook forward priority filter; policy drop;
\t\tcounter accept # FWD_ACCEPT
\t}
\tchain post {
\t\ttype filter hook postrouting priority filter; policy accept;
\t\tudp dport 9 counter drop # POST_DROP
\t}
}
";

#[test]
fn accept_ends_the_hook_not_the_packets_path() {
    let t = ACCEPT_THEN_POSTROUTING;
    let mut r = replay(t);
    let lines = r.run_bytes(1_000_000_000, &[udp("198.51.100.70", 9), udp("198.51.100.70", 10)]);
    expect(t, &lines, 0, "drop", "POST_DROP", "out0");
    expect(t, &lines, 1, "accept", "policy", "out0");
    assert_eq!(counter(&r, t, "FWD_ACCEPT"), 2);
    assert_eq!(counter(&r, t, "POST_DROP"), 1);
}

// An ip table sees IPv4 only, an ip6 table IPv6 only, inet both; none sees
// ARP.
const FAMILIES: &str = "\
table ip t4 {
\tchain forward {
\t\ttype filter hook forward priority filter; policy accept;
\t\tcounter # IP
\t}
}
table ip6 t6 {
\tchain forward {
\t\ttype filter hook forward priority filter; policy accept;
\t\tudp dport 53 counter drop # IP6_DROP
\t\tcounter # IP6
\t}
}
table inet ti {
\tchain forward {
\t\ttype filter hook forward priority filter + 1; policy accept;
\t\tcounter # INET
\t}
}
";

#[test]
fn ip_ip6_and_inet_tables_see_their_families() {
    let t = FAMILIES;
    let mut r = replay(t);
    let mut arp = vec![0u8; 28];
    arp[..8].copy_from_slice(&[0, 1, 8, 0, 6, 4, 0, 1]);
    let frames = [
        udp("198.51.100.80", 53),
        syn("198.51.100.80", 80),
        udp("2001:db8:2::80", 53),
        syn("2001:db8:2::80", 80),
        udp("2001:db8:2::81", 123),
        packets::ethernet(None, Some(0x0806), &arp),
    ];
    let lines = r.run_bytes(1_000_000_000, &frames);
    // IPv4 DNS is not seen by the ip6 table's drop.
    expect(t, &lines, 0, "accept", "policy", "out0");
    expect(t, &lines, 1, "accept", "policy", "out0");
    expect(t, &lines, 2, "drop", "IP6_DROP", "out0");
    expect(t, &lines, 3, "accept", "policy", "out0");
    expect(t, &lines, 4, "accept", "policy", "out0");
    expect(t, &lines, 5, "accept", "not-ip", "-");
    assert_eq!(counter(&r, t, "IP"), 2);
    assert_eq!(counter(&r, t, "IP6_DROP"), 1);
    assert_eq!(counter(&r, t, "IP6"), 2);
    // The dropped IPv6 packet never reached the inet chain (priority +1).
    assert_eq!(counter(&r, t, "INET"), 4);
}

// The host model decides input or forward: local addresses and subnet
// broadcasts go to input, others are forwarded by the routes (connected
// subnets here), no route is a drop before forward, and so is TTL 1.
const INPUT_FORWARD: &str = "\
table inet f {
\tchain input {
\t\ttype filter hook input priority filter; policy drop;
\t\ttcp dport 22 counter accept # IN_SSH
\t\tcounter # IN_REST
\t}
\tchain forward {
\t\ttype filter hook forward priority filter; policy accept;
\t\tcounter # FWD
\t}
}
";

#[test]
fn input_or_forward_by_the_host_model() {
    let t = INPUT_FORWARD;
    let mut r = replay(t);
    let c4 = addr(CLIENT4);
    let ttl1 = packets::eth_ip(c4, addr("198.51.100.90"), 1, &L4::Udp { sport: 1, dport: 2 }, &[]);
    let frames = [
        syn("192.0.2.1", 22),      // local, v4
        syn("198.51.100.1", 80),   // local: the address of the other interface
        syn("2001:db8:1::1", 22),  // local, v6
        udp("192.0.2.255", 67),    // subnet broadcast → input
        syn("198.51.100.90", 22),  // forwarded
        syn("2001:db8:2::90", 22), // forwarded, v6
        syn("203.0.113.9", 22),    // no route
        ttl1,                      // TTL 1 is not forwarded
    ];
    let lines = r.run_bytes(1_000_000_000, &frames);
    expect(t, &lines, 0, "accept", "IN_SSH", "-");
    expect(t, &lines, 1, "drop", "policy", "-");
    expect(t, &lines, 2, "accept", "IN_SSH", "-");
    expect(t, &lines, 3, "drop", "policy", "-");
    expect(t, &lines, 4, "accept", "policy", "out0");
    expect(t, &lines, 5, "accept", "policy", "out0");
    expect(t, &lines, 6, "drop", "no-route", "-");
    expect(t, &lines, 7, "drop", "ttl-exceeded", "-");
    // Each packet starts a connection: conntrack sees every one as new.
    assert!(lines.iter().all(|l| l.iif == "in0" && l.ct_state == "new"), "{lines:?}");
    assert_eq!(counter(&r, t, "IN_SSH"), 2);
    assert_eq!(counter(&r, t, "IN_REST"), 2);
    assert_eq!(counter(&r, t, "FWD"), 2);
}

/// The binary on the jump/return ruleset: verdict lines equal the
/// in-process ones, and `--counters` prints the same counters.
#[test]
fn binary_agrees_with_the_library() {
    let t = JUMP_RETURN;
    let tmp = TempDir::new("eval");
    std::fs::write(tmp.path().join(NAME), t).unwrap();
    let frames = [syn("198.51.100.40", 1), syn("198.51.100.41", 1), syn("198.51.100.42", 1), syn("198.51.100.43", 1)];
    packets::write_pcap(&tmp.path().join("in0.pcap"), 1_000_000_000, &frames);
    let out = Command::new(ctc_binary())
        .current_dir(tmp.path())
        .args(["replay", "--ruleset", NAME, "--in", "in0=in0.pcap"])
        .args(IFACES.iter().flat_map(|i| ["--iface", i]))
        .args(["--verdicts", "verdicts.tsv", "--counters"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let got = VerdictLine::parse_all(&std::fs::read_to_string(tmp.path().join("verdicts.tsv")).unwrap()).unwrap();
    let mut r = replay(t);
    let want = r.run_bytes(1_000_000_000, &frames);
    assert_eq!(got, want);
    assert_eq!(stdout, r.counters());
    assert_eq!(counter_in_listing(&stdout, "counter packets 4 bytes 160 jump sub"), Some((4, 160)), "{stdout}");
    assert!(stdout.contains("ip daddr 198.51.100.42 counter packets 1 bytes 40 accept"), "{stdout}");
}

// The kernel validates only the IP header before the hooks (`ip_rcv_core`):
// a TCP header with data offset 4, a UDP length beyond the datagram and a
// 4-byte ICMP message are all forwarded through `policy accept`, each seen
// by the forward chain (verified on Linux 6.18 in network namespaces: a
// router with `meta l4proto tcp counter` etc. in its forward chain, raw
// packets sent from the client; every counter went to 1 and the far end
// received all three). ctc drops them as `malformed` before any hook.
const TRANSPORT_FAULTS: &str = "\
table ip t {
\tchain forward {
\t\ttype filter hook forward priority filter; policy accept;
\t\tmeta l4proto tcp counter # TCP
\t\tmeta l4proto udp counter # UDP
\t\tmeta l4proto icmp counter # ICMP
\t}
}
";

/// Measured on Linux 6.18 (three namespaces): TCP with data offset 4, UDP
/// with a length past its segment and a 4-byte ICMP message are all
/// forwarded and counted by `meta l4proto`.
#[test]
fn malformed_transport_headers_still_reach_the_hooks() {
    let t = TRANSPORT_FAULTS;
    let mut r = replay(t);
    let (s, d) = (addr(CLIENT4), addr("198.51.100.20"));
    let ip_of =
        |bytes: &[u8], proto: u8| packets::ethernet(None, None, &packets::ip(s, d, 64, &L4::Raw { proto, bytes }, &[]));
    // TCP: ports, seq, ack, data offset 4 (16 bytes, below the minimum 20).
    let tcp = [0x9c, 0x40, 0, 80, 0, 0, 0, 1, 0, 0, 0, 0, 4 << 4, tcp_flags::SYN, 0x03, 0xe8, 0, 0, 0, 0];
    // UDP: length 100 in a 12-byte segment.
    let udp = [0x9c, 0x40, 0, 53, 0, 100, 0, 0, b'a', b'b', b'c', b'd'];
    // ICMP: 4 bytes (echo request without identifier and sequence).
    let icmp = [8, 0, 0xf7, 0xff];
    let lines = r.run_bytes(1_000_000_000, &[ip_of(&tcp, 6), ip_of(&udp, 17), ip_of(&icmp, 1)]);
    for (i, l) in lines.iter().enumerate() {
        assert_eq!(
            (l.verdict.as_str(), l.decided_by.as_str(), l.oif.as_str()),
            ("accept", "policy", "out0"),
            "frame {i}: {l:?}"
        );
    }
    assert_eq!(counter(&r, t, "TCP"), 1);
    assert_eq!(counter(&r, t, "UDP"), 1);
    assert_eq!(counter(&r, t, "ICMP"), 1);
}

// `ct state != established,related` is a value comparison in nft: `nft
// --debug=netlink` (1.0.6, and the corpus dumps of 1.1.6 list it back as
// `ct state != established | related`) gives `cmp neq reg 1 0x00000006`,
// not a bit test. A packet has exactly one state, so every packet passes it,
// the replies of accepted connections included; `ct state !
// established,related` (`& 0x06 == 0`) is the bit test the author meant.
// Checked on the kernel (a network namespace, `ping 127.0.0.1` with
// `icmp type echo-request accept` then the rule in an input chain): the echo
// reply is dropped under `!=` and delivered under `!`.
const CT_STATE_NE_LIST: &str = "\
table ip t {
\tchain forward {
\t\ttype filter hook forward priority filter; policy accept;
\t\tip saddr 192.0.2.10 counter accept # OUT
\t\tct state OP established,related counter drop # NOT_EST
\t\tcounter accept # REST
\t}
}
";

#[test]
fn ct_state_ne_with_several_states_compares_the_value() {
    let (c, s) = (addr(CLIENT4), addr("198.51.100.20"));
    let out = packets::eth_ip(c, s, 64, &L4::Udp { sport: 40000, dport: 53 }, b"query");
    let back = packets::eth_ip(s, c, 64, &L4::Udp { sport: 53, dport: 40000 }, b"reply");
    let frames: Vec<Frame> = [(0, out), (1, back)]
        .into_iter()
        .enumerate()
        .map(|(i, (input, data))| Frame::captured(1_000_000_000 + i as u64 * 1_000_000, input, Link::Ethernet, data))
        .collect();
    for (op, reply_verdict, by) in [("!=", "drop", "NOT_EST"), ("!", "accept", "REST")] {
        let t = CT_STATE_NE_LIST.replace("OP", op);
        let mut r = Replay::new(NAME, &t, &IFACES, &[], &["in0", "out0"]).unwrap_or_else(|e| panic!("{e}\n{t}"));
        let lines = r.run(&frames);
        expect(&t, &lines, 0, "accept", "OUT", "out0");
        assert_eq!(lines[1].ct_state, "established", "{op}: {:?}", lines[1]);
        expect(&t, &lines, 1, reply_verdict, by, "in0");
    }
}

// A packet's mark and priority as the kernel hands it over (a live queue
// reports them) are what `meta mark` / `meta priority` read; a forwarded
// IPv4 packet's priority is set from its TOS by ip_forward before the
// forward hook (net.ipv4.ip_forward_update_priority, on by default), so one
// set at prerouting is gone there, while an IPv6 packet keeps it; the
// output chains' `meta mark set` goes on with a host's own packet and its
// `ct mark set` reaches the connection. The TOS-to-priority table is the
// one the live harness checks against the kernel (scenario meta_priority).
const META_ACROSS_HOOKS: &str = "\
table inet t {
\tchain pre {
\t\ttype filter hook prerouting priority filter; policy accept;
\t\tmeta mark 0x55 counter # MARK_IN
\t\tudp dport 5311 meta priority set 7
\t\tct mark 0x88 counter # CT_MARK_BACK
\t}
\tchain forward {
\t\ttype filter hook forward priority filter; policy accept;
\t\tmeta priority 7 counter # KEPT
\t\tmeta priority 6 counter # FROM_TOS
\t\tudp dport 5312 meta priority set 1:5
\t}
\tchain output {
\t\ttype filter hook output priority filter; policy accept;
\t\tmeta mark 0x66 meta mark set 0x77 ct mark set 0x88 counter # OUT
\t\tmeta skuid 1000 meta skgid 100 counter # OWNER
\t}
\tchain post {
\t\ttype filter hook postrouting priority filter; policy accept;
\t\tmeta mark 0x77 counter # POST_MARK
\t\tmeta priority 1:5 counter # POST_PRIORITY
\t}
}
";

fn frame(data: Vec<u8>, mark: u32, priority: u32) -> Frame {
    Frame { mark, priority, ..Frame::captured(1_000_000_000, 0, Link::Ethernet, data) }
}

/// An IPv4 frame with the TOS byte `tos` (header checksum redone).
fn with_tos(mut f: Vec<u8>, tos: u8) -> Vec<u8> {
    f[15] = tos;
    f[24..26].copy_from_slice(&[0, 0]);
    let c = ctc_wire::checksum::checksum(&f[14..34]);
    f[24..26].copy_from_slice(&c.to_be_bytes());
    f
}

#[test]
fn marks_and_priorities_cross_the_hooks_as_in_the_kernel() {
    let t = META_ACROSS_HOOKS;
    let mut r = Replay::new(NAME, t, &IFACES, &[], &["in0", "out0"]).unwrap_or_else(|e| panic!("{e}\n{t}"));
    // IPv4, TOS "low delay" (priority 6 after ip_forward), mark 0x55.
    let o = r.pipe.process(&frame(with_tos(udp("198.51.100.20", 5311), 0x10), 0x55, 3));
    assert_eq!(o.verdict.as_str(), "accept");
    assert_eq!((counter(&r, t, "MARK_IN"), counter(&r, t, "KEPT"), counter(&r, t, "FROM_TOS")), (1, 0, 1));
    assert!(o.priority_after_routing);
    assert_eq!(o.priority(), None, "the prerouting priority does not outlive ip_forward");
    // IPv6 keeps the priority set at prerouting.
    let o = r.pipe.process(&frame(udp("2001:db8:2::20", 5311), 0, 0));
    assert_eq!((counter(&r, t, "MARK_IN"), counter(&r, t, "KEPT"), counter(&r, t, "FROM_TOS")), (1, 1, 1));
    assert!(!o.priority_after_routing);
    assert_eq!(o.priority(), Some(7));
    // Set in the forward chain: it lasts, to postrouting and out.
    let o = r.pipe.process(&frame(udp("198.51.100.20", 5312), 0, 0));
    assert_eq!(o.priority(), Some(0x1_0005));
    assert_eq!(counter(&r, t, "POST_PRIORITY"), 1);
    // Without ip_forward_update_priority, the prerouting priority stays.
    r.pipe.forward_update_priority = false;
    r.pipe.process(&frame(with_tos(udp("198.51.100.21", 5311), 0x10), 0, 0));
    assert_eq!((counter(&r, t, "KEPT"), counter(&r, t, "FROM_TOS")), (2, 1));

    // The host's own packet with a socket's mark 0x66.
    let (gw, peer) = (addr("198.51.100.1"), addr("198.51.100.30"));
    let own = packets::ip(gw, peer, 64, &L4::Udp { sport: 41000, dport: 5313 }, b"own");
    let sent = Sent { mark: 0x66, sk_owner: Some((1000, 100)), ..Sent::default() };
    let o = r.pipe.process_output(own.clone(), 2_000_000_000, sent);
    assert_eq!(o.verdict.as_str(), "accept");
    assert_eq!(o.mark(), Some(0x77));
    assert_eq!((counter(&r, t, "OUT"), counter(&r, t, "POST_MARK"), counter(&r, t, "OWNER")), (1, 1, 1));
    // Without a socket (or of another owner) `meta skuid` does not match.
    r.pipe.process_output(own.clone(), 2_000_000_000, Sent::default());
    r.pipe.process_output(own, 2_000_000_000, Sent { sk_owner: Some((1001, 100)), ..Sent::default() });
    assert_eq!(counter(&r, t, "OWNER"), 1);
    // Its reply finds the connection's mark.
    let back = packets::eth_ip(peer, gw, 64, &L4::Udp { sport: 5313, dport: 41000 }, b"back");
    let mut f = frame(back, 0, 0);
    f.input = 1;
    f.time_ns = 2_100_000_000;
    r.pipe.process(&f);
    assert_eq!(counter(&r, t, "CT_MARK_BACK"), 1);
}

// nf_nat_used_tuple_harder: when a new TCP connection's source NAT finds
// the port it tries taken by a source-NATed connection in TIME_WAIT, in the
// last 32 attempts of the search (here: a range of one port), and its SYN
// is past that connection's sequence numbers, the old entry is killed
// (DESTROY) and the port reused; a SYN behind them leaves it alone.
const ONE_PORT_SNAT: &str = "\
table ip nat {
\tchain post {
\t\ttype nat hook postrouting priority srcnat; policy accept;
\t\ttcp dport 80 snat ip to 198.51.100.1:20000
\t}
}
";

/// A 20-byte TCP segment (checksum left 0: the frames say it was verified).
fn tcp_seg(sport: u16, dport: u16, seq: u32, ack: u32, flags: u8) -> Vec<u8> {
    let mut s = Vec::with_capacity(20);
    s.extend_from_slice(&sport.to_be_bytes());
    s.extend_from_slice(&dport.to_be_bytes());
    s.extend_from_slice(&seq.to_be_bytes());
    s.extend_from_slice(&ack.to_be_bytes());
    s.extend_from_slice(&[0x50, flags, 0xfa, 0xf0, 0, 0, 0, 0]);
    s
}

#[test]
fn a_time_wait_connection_gives_up_its_nat_port_to_a_later_syn() {
    use ctc_conntrack::EventKind;
    use tcp_flags::{ACK, FIN, SYN};
    let (srv, gw) = (addr("198.51.100.20"), addr("198.51.100.1"));
    for (b_seq, evicted) in [(2000u32, true), (500, false)] {
        let mut r = Replay::new(NAME, ONE_PORT_SNAT, &IFACES, &[], &["in0", "out0"]).unwrap();
        let mut t = 1_000_000_000u64;
        let mut send = |r: &mut Replay, input: usize, src: IpAddr, dst: IpAddr, seg: Vec<u8>| {
            t += 1_000_000;
            let data = packets::eth_ip(src, dst, 64, &L4::Raw { proto: 6, bytes: &seg }, &[]);
            let f = Frame { input, time_ns: t, l4_checksum: ctc_wire::L4Checksum::Verified, ..frame(data, 0, 0) };
            r.pipe.process(&f)
        };
        let a = addr("192.0.2.10");
        // A: handshake, the client closes first, then the server: TIME_WAIT.
        send(&mut r, 0, a, srv, tcp_seg(40000, 80, 1000, 0, SYN));
        send(&mut r, 1, srv, gw, tcp_seg(80, 20000, 5000, 1001, SYN | ACK));
        send(&mut r, 0, a, srv, tcp_seg(40000, 80, 1001, 5001, ACK));
        send(&mut r, 0, a, srv, tcp_seg(40000, 80, 1001, 5001, FIN | ACK));
        send(&mut r, 1, srv, gw, tcp_seg(80, 20000, 5001, 1002, FIN | ACK));
        send(&mut r, 0, a, srv, tcp_seg(40000, 80, 1002, 5002, ACK));
        // B from another client, to the same server port: only port 20000.
        let b = addr("192.0.2.11");
        let o = send(&mut r, 0, b, srv, tcp_seg(40001, 80, b_seq, 0, SYN));
        let destroyed = o.events.iter().any(|e| e.kind == EventKind::Destroy && e.tuples[0].src_port == 40000);
        assert_eq!(destroyed, evicted, "SYN seq {b_seq}: events {:?}", o.events);
        if evicted {
            assert_eq!(o.verdict.as_str(), "accept");
            let own = o.own.as_ref().expect("B goes out");
            assert_eq!(&own[34..36], &20000u16.to_be_bytes(), "B took the port");
        }
    }
}

/// A rule that reads a connection's counters (`ct packets`, `ct bytes`,
/// `ct avgpkt`) turns conntrack accounting on when it is loaded
/// (nft_ct_get_init's nf_ct_set_acct; the kernel's
/// net.netfilter.nf_conntrack_acct goes from 0 to 1), so the listing and
/// the DESTROY events show the counters; a ruleset without such a rule
/// leaves the setting alone (off by default).
#[test]
fn a_rule_reading_ct_counters_turns_accounting_on() {
    let chain = |rule: &str| {
        format!("table ip t {{\n\tchain c {{\n\t\ttype filter hook input priority 0;\n\t\t{rule}\n\t}}\n}}\n")
    };
    let cases = [
        (chain("ct original packets > 1 counter"), true),
        (chain("ct avgpkt > 0 counter"), true),
        (chain("ct state new counter"), false),
    ];
    for (text, on) in &cases {
        let (text, on) = (text.as_str(), *on);
        let mut r = replay(text);
        assert_eq!(r.pipe.ct.as_ref().unwrap().config().acct, on, "{text}");
        let frames = [udp("192.0.2.1", 53), udp("192.0.2.1", 53), udp("192.0.2.1", 53)];
        r.run_bytes(1_000_000_000, &frames);
        let t = r.pipe.ct.as_mut().unwrap();
        let entry = t.entries().next().expect("one entry");
        let line = ctc_conntrack::format::entry(&entry, 2_000_000_000);
        assert_eq!(line.contains("packets=3 "), on, "{line}");
        t.flush(3_000_000_000);
        let destroy = t.take_events().into_iter().find(|e| e.kind == ctc_conntrack::EventKind::Destroy).unwrap();
        assert_eq!(destroy.counters.is_some(), on);
    }
}

// A table of thousands of connections: conntrack looks up the packets of a
// batch ahead of them (replay takes the capture as one batch) once the
// table holds `Lookahead::FROM` connections or more, and the states and
// counters must be what they are in a small table. 3000 UDP flows (by
// source port) to two servers, their replies in another order, then the
// clients again.
const MANY_FLOWS: &str = "\
table ip t {
\tchain forward {
\t\ttype filter hook forward priority filter; policy drop;
\t\tct state established counter accept # EST
\t\tct state new iifname \"in0\" counter accept # NEW
\t}
}
";

#[test]
fn thousands_of_connections_keep_their_states() {
    const FLOWS: u16 = 3000;
    let c = addr(CLIENT4);
    let servers = [addr("198.51.100.20"), addr("198.51.100.21")];
    let flow = |k: u16| (10_000 + k, servers[usize::from(k % 2)]);
    let out = |k: u16| {
        let (port, s) = flow(k);
        (0, packets::eth_ip(c, s, 64, &L4::Udp { sport: port, dport: 53 }, b"query"))
    };
    let back = |k: u16| {
        let (port, s) = flow(k);
        (1, packets::eth_ip(s, c, 64, &L4::Udp { sport: 53, dport: port }, b"reply"))
    };
    // Replies in an order unlike the requests' (7 is prime to 3000).
    let mut all: Vec<(usize, Vec<u8>)> = (0..FLOWS).map(out).collect();
    all.extend((0..FLOWS).map(|k| back((k * 7 + 11) % FLOWS)));
    all.extend((0..FLOWS).rev().map(out));
    let frames: Vec<Frame> = all
        .into_iter()
        .enumerate()
        .map(|(i, (input, data))| Frame::captured(1_000_000_000 + i as u64 * 1_000_000, input, Link::Ethernet, data))
        .collect();
    let mut r = Replay::new(NAME, MANY_FLOWS, &IFACES, &[], &["in0", "out0"]).unwrap_or_else(|e| panic!("{e}"));
    let lines = r.run(&frames);
    assert_eq!(lines.len(), frames.len());
    let n = usize::from(FLOWS);
    for (i, l) in lines.iter().enumerate() {
        let want = if i < n { "new" } else { "established" };
        assert_eq!((l.verdict.as_str(), l.ct_state.as_str()), ("accept", want), "frame {i}: {l:?}");
    }
    assert_eq!(counter(&r, MANY_FLOWS, "NEW"), u64::from(FLOWS));
    assert_eq!(counter(&r, MANY_FLOWS, "EST"), 2 * u64::from(FLOWS));
}
