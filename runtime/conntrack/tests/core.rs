//! The tracker on crafted packets: tuples, UDP/ICMP/ICMPv6/generic
//! tracking and timeouts, ICMP errors, expiry, the table limit, statistics
//! and the text formats.

use core::net::IpAddr;

use ctc_conntrack::{Config, CtState, Dir, EventKind, Hook, Tracker, Tuple, Verdict, format, status};

const S: u64 = 1_000_000_000;
/// A packet clock like the oracle's (epoch ns), on a jiffy boundary.
const T0: u64 = 1_795_246_120 * S;

fn csum(data: &[u8], init: u32) -> u16 {
    let mut sum = init;
    for c in data.chunks(2) {
        sum += u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]));
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

fn pseudo(src: IpAddr, dst: IpAddr, proto: u8, len: usize) -> u32 {
    let mut b = Vec::new();
    match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            b.extend_from_slice(&s.octets());
            b.extend_from_slice(&d.octets());
            b.extend_from_slice(&[0, proto]);
            b.extend_from_slice(&(len as u16).to_be_bytes());
        }
        (IpAddr::V6(s), IpAddr::V6(d)) => {
            b.extend_from_slice(&s.octets());
            b.extend_from_slice(&d.octets());
            b.extend_from_slice(&(len as u32).to_be_bytes());
            b.extend_from_slice(&[0, 0, 0, proto]);
        }
        _ => unreachable!(),
    }
    u32::from(!csum(&b, 0))
}

/// An Ethernet frame carrying `l4` (checksum field zero, filled here for
/// TCP, UDP (IPv6), ICMP and ICMPv6).
fn ip(src: &str, dst: &str, proto: u8, ttl: u8, mut l4: Vec<u8>) -> Vec<u8> {
    let (s, d): (IpAddr, IpAddr) = (src.parse().unwrap(), dst.parse().unwrap());
    let ck_at = match proto {
        6 => Some(16),
        17 if s.is_ipv6() => Some(6),
        1 | 58 => Some(2),
        _ => None,
    };
    if let Some(at) = ck_at {
        let init = if proto == 1 { 0 } else { pseudo(s, d, proto, l4.len()) };
        let c = csum(&l4, init);
        l4[at..at + 2].copy_from_slice(&c.to_be_bytes());
    }
    let mut f = vec![2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2];
    match (s, d) {
        (IpAddr::V4(s4), IpAddr::V4(d4)) => {
            f.extend_from_slice(&[8, 0]);
            let mut h = vec![0x45, 0];
            h.extend_from_slice(&((20 + l4.len()) as u16).to_be_bytes());
            h.extend_from_slice(&[0, 1, 0x40, 0, ttl, proto, 0, 0]);
            h.extend_from_slice(&s4.octets());
            h.extend_from_slice(&d4.octets());
            let c = csum(&h, 0);
            h[10..12].copy_from_slice(&c.to_be_bytes());
            f.extend_from_slice(&h);
        }
        (IpAddr::V6(s6), IpAddr::V6(d6)) => {
            f.extend_from_slice(&[0x86, 0xdd, 0x60, 0, 0, 0]);
            f.extend_from_slice(&(l4.len() as u16).to_be_bytes());
            f.extend_from_slice(&[proto, ttl]);
            f.extend_from_slice(&s6.octets());
            f.extend_from_slice(&d6.octets());
        }
        _ => unreachable!(),
    }
    f.extend_from_slice(&l4);
    f
}

fn udp(src: &str, sport: u16, dst: &str, dport: u16, payload: &[u8]) -> Vec<u8> {
    let mut l4 = Vec::new();
    l4.extend_from_slice(&sport.to_be_bytes());
    l4.extend_from_slice(&dport.to_be_bytes());
    l4.extend_from_slice(&((8 + payload.len()) as u16).to_be_bytes());
    l4.extend_from_slice(&[0, 0]);
    l4.extend_from_slice(payload);
    ip(src, dst, 17, 64, l4)
}

fn icmp(src: &str, dst: &str, ty: u8, code: u8, id: u16, data: &[u8]) -> Vec<u8> {
    let v6 = src.contains(':');
    let mut l4 = vec![ty, code, 0, 0];
    l4.extend_from_slice(&id.to_be_bytes());
    l4.extend_from_slice(&[0, 1]);
    l4.extend_from_slice(data);
    ip(src, dst, if v6 { 58 } else { 1 }, 64, l4)
}

/// An ICMP error quoting `quoted` (a frame: its IP packet is quoted).
fn icmp_error(src: &str, dst: &str, ty: u8, code: u8, quoted: &[u8]) -> Vec<u8> {
    let v6 = src.contains(':');
    let mut l4 = vec![ty, code, 0, 0, 0, 0, 0, 0];
    l4.extend_from_slice(&quoted[14..]);
    ip(src, dst, if v6 { 58 } else { 1 }, 64, l4)
}

fn tcp(src: &str, sport: u16, dst: &str, dport: u16, flags: u8, seq: u32, ack: u32) -> Vec<u8> {
    let mut l4 = Vec::new();
    l4.extend_from_slice(&sport.to_be_bytes());
    l4.extend_from_slice(&dport.to_be_bytes());
    l4.extend_from_slice(&seq.to_be_bytes());
    l4.extend_from_slice(&ack.to_be_bytes());
    l4.extend_from_slice(&[0x50, flags, 0xfa, 0xf0, 0, 0, 0, 0]);
    ip(src, dst, 6, 64, l4)
}

fn cfg() -> Config {
    let mut c = Config::default();
    c.set_sysctl("acct", "1").unwrap();
    c.set_sysctl("timestamp", "1").unwrap();
    c
}

/// nf_conntrack_in + confirmation of an accepted packet.
fn pass(tr: &mut Tracker, f: &[u8], now: u64) -> Verdict {
    pass_at(tr, f, now, Hook::Prerouting)
}

fn pass_at(tr: &mut Tracker, f: &[u8], now: u64, hook: Hook) -> Verdict {
    tr.advance(now);
    let v = tr.packet_at(f, &ctc_wire::parse_frame(f), now, 0, hook);
    if let Some(h) = v.handle {
        assert!(tr.confirm(h, now));
    }
    v
}

fn events(tr: &mut Tracker) -> Vec<String> {
    tr.take_events().iter().map(format::event).collect()
}

const CLI: &str = "192.0.2.2";
const SRV: &str = "203.0.113.47";

#[test]
fn udp_request_reply_then_stream() {
    let mut tr = Tracker::new(cfg());
    let q = udp(CLI, 40202, SRV, 5300, b"ping 0");
    let r = udp(SRV, 5300, CLI, 40202, b"PING 0");
    let v = pass(&mut tr, &q, T0);
    assert_eq!((v.state, v.dir), (CtState::New, Dir::Original));
    let v = pass(&mut tr, &r, T0 + S / 1000);
    assert_eq!((v.state, v.dir), (CtState::Established, Dir::Reply));
    // The oracle's udp_basic lines for flow B (ids aside).
    assert_eq!(
        events(&mut tr),
        [
            "    [NEW] udp      17 30 src=192.0.2.2 dst=203.0.113.47 sport=40202 dport=5300 [UNREPLIED] src=203.0.113.47 dst=192.0.2.2 sport=5300 dport=40202 id=1",
            " [UPDATE] udp      17 30 src=192.0.2.2 dst=203.0.113.47 sport=40202 dport=5300 src=203.0.113.47 dst=192.0.2.2 sport=5300 dport=40202 id=1",
        ]
    );
    // Within 2 s of creation: no stream yet, 30 s again, no event.
    let v = pass(&mut tr, &q, T0 + S);
    assert_eq!(v.state, CtState::Established);
    assert!(events(&mut tr).is_empty());
    let e = tr.entries().next().unwrap();
    assert_eq!(e.timeout_secs(T0 + S), 30);
    assert_eq!(e.status & status::ASSURED, 0);
    // After 2 s: ASSURED, 120 s stream timeout, one UPDATE.
    pass(&mut tr, &q, T0 + 2 * S + S / 2);
    assert_eq!(
        events(&mut tr),
        [
            " [UPDATE] udp      17 120 src=192.0.2.2 dst=203.0.113.47 sport=40202 dport=5300 src=203.0.113.47 dst=192.0.2.2 sport=5300 dport=40202 [ASSURED] id=1"
        ]
    );
    pass(&mut tr, &r, T0 + 2 * S + S / 2);
    let e = tr.entries().next().unwrap();
    assert_eq!(e.counters, [(3, 3 * 34), (2, 2 * 34)]);
    assert_eq!(
        format::entry(&e, T0 + 5 * S),
        "udp      17 117 src=192.0.2.2 dst=203.0.113.47 sport=40202 dport=5300 packets=3 bytes=102 src=203.0.113.47 dst=192.0.2.2 sport=5300 dport=40202 packets=2 bytes=68 [ASSURED] mark=0 delta-time=5 use=1"
    );
    assert_eq!(
        format::entry_extended(&e, T0 + 5 * S),
        "ipv4     2 udp      17 117 src=192.0.2.2 dst=203.0.113.47 sport=40202 dport=5300 packets=3 bytes=102 src=203.0.113.47 dst=192.0.2.2 sport=5300 dport=40202 packets=2 bytes=68 [ASSURED] mark=0 delta-time=5 [start=Sat Nov 21 07:28:40 2026] use=1 id=1"
    );
}

#[test]
fn udp_unreplied_expires_after_30s_with_destroy() {
    let mut tr = Tracker::new(cfg());
    let q = udp(CLI, 40203, SRV, 5301, b"sink 0");
    pass(&mut tr, &q, T0);
    pass(&mut tr, &q, T0 + 3 * S / 10);
    let e = tr.entries().next().unwrap();
    assert_eq!(
        format::entry(&e, T0 + 2 * S),
        "udp      17 28 src=192.0.2.2 dst=203.0.113.47 sport=40203 dport=5301 packets=2 bytes=68 [UNREPLIED] src=203.0.113.47 dst=192.0.2.2 sport=5301 dport=40203 packets=0 bytes=0 mark=0 delta-time=2 use=1"
    );
    events(&mut tr);
    tr.advance(T0 + 3 * S / 10 + 30 * S - 1);
    assert_eq!(tr.count(), 1);
    tr.advance(T0 + 3 * S / 10 + 30 * S);
    assert_eq!(tr.count(), 0);
    assert_eq!(
        events(&mut tr),
        [
            "[DESTROY] udp      17 src=192.0.2.2 dst=203.0.113.47 sport=40203 dport=5301 packets=2 bytes=68 [UNREPLIED] src=203.0.113.47 dst=192.0.2.2 sport=5301 dport=40203 packets=0 bytes=0 delta-time=30 id=1"
        ]
    );
}

#[test]
fn a_packet_after_expiry_starts_a_new_entry() {
    let mut tr = Tracker::new(cfg());
    let q = udp(CLI, 40203, SRV, 5301, b"x");
    pass(&mut tr, &q, T0);
    // No advance(): the lookup itself finds the entry expired.
    let f = ctc_wire::parse_frame(&q);
    let v = tr.packet(&q, &f, T0 + 31 * S, 0);
    assert_eq!(v.state, CtState::New);
    let kinds: Vec<EventKind> = tr.take_events().iter().map(|e| e.kind).collect();
    assert_eq!(kinds, [EventKind::New, EventKind::Destroy]);
    tr.confirm(v.handle.unwrap(), T0 + 31 * S);
    assert_eq!(tr.take_events()[0].kind, EventKind::New);
}

#[test]
fn icmp_echo_pairs_request_and_reply() {
    let mut tr = Tracker::new(cfg());
    let req = icmp(CLI, SRV, 8, 0, 4660, &[0; 56]);
    let rep = icmp(SRV, CLI, 0, 0, 4660, &[0; 56]);
    assert_eq!(pass(&mut tr, &req, T0).state, CtState::New);
    assert_eq!(pass(&mut tr, &rep, T0 + S / 10).state, CtState::Established);
    assert_eq!(pass(&mut tr, &req, T0 + S / 5).state, CtState::Established);
    assert_eq!(
        events(&mut tr),
        [
            "    [NEW] icmp     1 30 src=192.0.2.2 dst=203.0.113.47 type=8 code=0 id=4660 [UNREPLIED] src=203.0.113.47 dst=192.0.2.2 type=0 code=0 id=4660 id=1",
            " [UPDATE] icmp     1 30 src=192.0.2.2 dst=203.0.113.47 type=8 code=0 id=4660 src=203.0.113.47 dst=192.0.2.2 type=0 code=0 id=4660 id=1",
        ]
    );
    let e = tr.entries().next().unwrap();
    assert_eq!(e.counters, [(2, 168), (1, 84)]);
    assert_eq!(e.timeout_secs(T0 + 3 * S), 27);
    // A reply nobody asked for, another id: INVALID, no entry.
    let stray = icmp(SRV, CLI, 0, 0, 9, &[]);
    let v = pass(&mut tr, &stray, T0 + S);
    assert_eq!((v.state, v.handle), (CtState::Invalid, None));
    // Router advertisement: no counterpart type, INVALID.
    assert_eq!(pass(&mut tr, &icmp(SRV, CLI, 9, 0, 0, &[]), T0 + S).state, CtState::Invalid);
    assert_eq!(tr.stats().invalid, 2);
    assert_eq!(tr.count(), 1);
    tr.advance(T0 + S / 5 + 30 * S);
    assert_eq!(tr.count(), 0);
    // Timestamp request/reply are tracked the same way.
    assert_eq!(pass(&mut tr, &icmp(CLI, SRV, 13, 0, 5, &[0; 12]), T0 + 40 * S).state, CtState::New);
    assert_eq!(pass(&mut tr, &icmp(SRV, CLI, 14, 0, 5, &[0; 12]), T0 + 40 * S).state, CtState::Established);
}

#[test]
fn icmp_errors_are_related_to_udp_and_tcp_and_create_nothing() {
    let mut tr = Tracker::new(cfg());
    let q = udp(CLI, 40301, SRV, 9999, b"hello\n");
    pass(&mut tr, &q, T0);
    let unreach = icmp_error(SRV, CLI, 3, 3, &q);
    let v = pass(&mut tr, &unreach, T0 + S / 100);
    assert_eq!((v.state, v.dir), (CtState::Related, Dir::Reply));
    assert_eq!(tr.entry(v.handle.unwrap()).unwrap().tuples[0].dst_port, 9999);
    // No reply seen, no counters for the error, only the NEW event.
    let e = tr.entries().next().unwrap();
    assert_eq!(e.status & status::SEEN_REPLY, 0);
    assert_eq!(e.counters[1], (0, 0));
    assert_eq!(events(&mut tr).len(), 1);
    // An error from a router on the way (another source) is fine too.
    let v = pass(&mut tr, &icmp_error("198.51.100.47", CLI, 11, 0, &q), T0 + S);
    assert_eq!(v.state, CtState::Related);
    // An error sent in the original direction (about the reply).
    let r = udp(SRV, 9999, CLI, 40301, b"x");
    let v = pass(&mut tr, &icmp_error(CLI, SRV, 3, 3, &r), T0 + S);
    assert_eq!((v.state, v.dir), (CtState::Related, Dir::Original));
    // TCP SYN rejected with admin-prohibited.
    let syn = tcp(CLI, 40302, SRV, 9998, 0x02, 1000, 0);
    let _ = pass(&mut tr, &syn, T0 + 2 * S);
    if tr.count() == 2 {
        let v = pass(&mut tr, &icmp_error(SRV, CLI, 3, 13, &syn), T0 + 2 * S);
        assert_eq!(v.state, CtState::Related);
    }
    assert_eq!(tr.stats().error, 0);
    // Errors about unknown flows: INVALID, stat error.
    let other = udp(CLI, 1, SRV, 2, b"");
    let v = pass(&mut tr, &icmp_error(SRV, CLI, 3, 3, &other), T0 + 3 * S);
    assert_eq!((v.state, v.handle), (CtState::Invalid, None));
    // Addressed elsewhere than the connection's endpoint: INVALID.
    let v = pass(&mut tr, &icmp_error(SRV, "192.0.2.9", 3, 3, &q), T0 + 3 * S);
    assert_eq!(v.state, CtState::Invalid);
    assert_eq!(v.reason, Some("outer daddr != inner"));
    // A bad checksum at prerouting.
    let mut bad = icmp_error(SRV, CLI, 3, 3, &q);
    bad[36] ^= 0xff;
    assert_eq!(pass(&mut tr, &bad, T0 + 3 * S).reason, Some("bad hw icmp checksum"));
    assert_eq!(tr.stats().error, 3);
    assert_eq!(tr.stats().invalid, 0);
    assert!(events(&mut tr).iter().all(|e| !e.contains("icmp")));
}

#[test]
fn icmpv6_echo_errors_and_neighbour_discovery() {
    let a = "2001:db8::2";
    let b = "2001:db8:1::47";
    let mut tr = Tracker::new(cfg());
    assert_eq!(pass(&mut tr, &icmp(a, b, 128, 0, 77, &[1; 8]), T0).state, CtState::New);
    assert_eq!(pass(&mut tr, &icmp(b, a, 129, 0, 77, &[1; 8]), T0).state, CtState::Established);
    assert_eq!(
        events(&mut tr),
        [
            "    [NEW] icmpv6   58 30 src=2001:db8::2 dst=2001:db8:1::47 type=128 code=0 id=77 [UNREPLIED] src=2001:db8:1::47 dst=2001:db8::2 type=129 code=0 id=77 id=1",
            " [UPDATE] icmpv6   58 30 src=2001:db8::2 dst=2001:db8:1::47 type=128 code=0 id=77 src=2001:db8:1::47 dst=2001:db8::2 type=129 code=0 id=77 id=1",
        ]
    );
    // Neighbour solicitation and MLD: untracked.
    assert_eq!(pass(&mut tr, &icmp(a, "ff02::1:ff00:47", 135, 0, 0, &[0; 16]), T0).state, CtState::Untracked);
    assert_eq!(pass(&mut tr, &icmp(a, "ff02::16", 143, 0, 0, &[]), T0).state, CtState::Untracked);
    // A reply without request: INVALID.
    assert_eq!(pass(&mut tr, &icmp(b, a, 129, 0, 78, &[]), T0).state, CtState::Invalid);
    // Errors about a UDP flow.
    let q = udp(a, 5000, b, 53, b"query");
    pass(&mut tr, &q, T0);
    let v = pass(&mut tr, &icmp_error(b, a, 1, 4, &q), T0 + S);
    assert_eq!((v.state, v.dir), (CtState::Related, Dir::Reply));
    let v = pass(&mut tr, &icmp_error("2001:db8:ffff::1", a, 3, 0, &q), T0 + S);
    assert_eq!(v.state, CtState::Related);
    let v = pass(&mut tr, &icmp_error(b, a, 1, 4, &udp(a, 5001, b, 53, b"")), T0 + S);
    assert_eq!(v.state, CtState::Invalid);
    assert_eq!(tr.stats().error, 1);
    assert_eq!(tr.count(), 2);
}

#[test]
fn generic_protocols_live_600s() {
    let mut tr = Tracker::new(cfg());
    let gre = ip(CLI, SRV, 47, 64, vec![0; 8]);
    let back = ip(SRV, CLI, 47, 64, vec![0; 8]);
    assert_eq!(pass(&mut tr, &gre, T0).state, CtState::New);
    assert_eq!(pass(&mut tr, &back, T0 + S).state, CtState::Established);
    let e = tr.entries().next().unwrap();
    assert_eq!(e.timeout_secs(T0 + S), 600);
    assert_eq!(
        format::entry(&e, T0 + S),
        "gre      47 600 src=192.0.2.2 dst=203.0.113.47 packets=1 bytes=28 src=203.0.113.47 dst=192.0.2.2 packets=1 bytes=28 mark=0 delta-time=1 use=1"
    );
    tr.advance(T0 + 601 * S);
    assert_eq!(tr.count(), 0);
    let mut c = cfg();
    c.set_sysctl("generic_timeout", "5").unwrap();
    let mut tr = Tracker::new(c);
    pass(&mut tr, &ip(CLI, SRV, 50, 64, vec![0; 8]), T0);
    tr.advance(T0 + 5 * S);
    assert_eq!(tr.count(), 0);
}

#[test]
fn a_dropped_first_packet_leaves_nothing() {
    let mut tr = Tracker::new(cfg());
    let q = udp(CLI, 1234, SRV, 53, b"q");
    let v = tr.packet(&q, &ctc_wire::parse_frame(&q), T0, 0);
    assert_eq!(v.state, CtState::New);
    assert_eq!(tr.count(), 1);
    assert_eq!(tr.entries().count(), 0);
    tr.abandon(v.handle.unwrap());
    assert_eq!(tr.count(), 0);
    assert!(tr.take_events().is_empty());
    assert!(tr.confirm(v.handle.unwrap(), T0), "a stale handle confirms to nothing");
    assert_eq!(tr.entries().count(), 0);
}

#[test]
fn full_table_early_drops_unassured_entries_or_drops_the_packet() {
    let mut c = cfg();
    c.set_sysctl("max", "3").unwrap();
    // One bucket: early drop always finds the whole table (the kernel
    // scans 8 buckets of nf_conntrack_buckets).
    c.set_sysctl("buckets", "1").unwrap();
    let mut tr = Tracker::new(c);
    // An ASSURED stream and two unreplied flows.
    let q = udp(CLI, 1000, SRV, 53, b"q");
    pass(&mut tr, &q, T0);
    pass(&mut tr, &udp(SRV, 53, CLI, 1000, b"r"), T0);
    pass(&mut tr, &q, T0 + 3 * S);
    pass(&mut tr, &udp(CLI, 1001, SRV, 53, b"q"), T0 + 3 * S);
    pass(&mut tr, &udp(CLI, 1002, SRV, 53, b"q"), T0 + 3 * S);
    assert_eq!(tr.count(), 3);
    events(&mut tr);
    // A fourth: every non-assured entry of the scanned chain goes.
    let v = pass(&mut tr, &udp(CLI, 1003, SRV, 53, b"q"), T0 + 4 * S);
    assert_eq!(v.state, CtState::New);
    assert_eq!(tr.stats().early_drop, 2);
    let evs = tr.take_events();
    assert_eq!(evs.iter().filter(|e| e.kind == EventKind::Destroy).count(), 2);
    assert_eq!(tr.count(), 2);
    // Only ASSURED entries (and a fresh one, once assured) left: fill up and
    // assure, then nothing can go: the packet is dropped.
    let r = udp(SRV, 53, CLI, 1003, b"r");
    pass(&mut tr, &r, T0 + 4 * S);
    pass(&mut tr, &udp(CLI, 1003, SRV, 53, b"q"), T0 + 7 * S);
    pass(&mut tr, &udp(CLI, 1004, SRV, 53, b"q"), T0 + 7 * S);
    pass(&mut tr, &udp(SRV, 53, CLI, 1004, b"r"), T0 + 7 * S);
    pass(&mut tr, &udp(CLI, 1004, SRV, 53, b"q"), T0 + 10 * S);
    assert_eq!(tr.count(), 3);
    assert!(tr.entries().all(|e| e.status & status::ASSURED != 0));
    let f = udp(CLI, 1005, SRV, 53, b"q");
    let v = tr.packet(&f, &ctc_wire::parse_frame(&f), T0 + 10 * S, 0);
    assert!(v.drop);
    assert_eq!((v.state, v.handle), (CtState::Invalid, None));
    assert_eq!(tr.stats().drop, 1);
    assert_eq!(tr.stats().early_drop, 2);
    assert_eq!(
        format::stats(tr.stats()),
        "cpu=0   \tfound=0 invalid=0 insert=0 insert_failed=0 drop=1 early_drop=2 error=0 search_restart=0 clash_resolve=0 chaintoolong=0 "
    );
}

#[test]
fn after_a_failed_early_drop_the_gc_evicts_unassured_entries() {
    let mut c = cfg();
    c.set_sysctl("max", "4").unwrap();
    let mut tr = Tracker::new(c);
    for p in 0..4 {
        pass(&mut tr, &udp(CLI, 2000 + p, SRV, 53, b"q"), T0);
    }
    // 262144 buckets: the 8 scanned from the new tuple's are empty.
    let f = udp(CLI, 2100, SRV, 53, b"q");
    let v = pass(&mut tr, &f, T0);
    assert!(v.drop);
    assert_eq!(tr.stats().early_drop, 0);
    tr.take_events();
    tr.advance(T0 + S);
    assert!(tr.count() < 4);
    assert!(tr.take_events().iter().all(|e| e.kind == EventKind::Destroy));
    assert_eq!(pass(&mut tr, &f, T0 + S).state, CtState::New);
}

#[test]
fn two_unconfirmed_entries_for_one_udp_flow_merge_on_confirmation() {
    let mut tr = Tracker::new(cfg());
    let q = udp(CLI, 1000, SRV, 53, b"q");
    let f = ctc_wire::parse_frame(&q);
    let a = tr.packet(&q, &f, T0, 0);
    let b = tr.packet(&q, &f, T0, 0);
    assert_ne!(a.handle, b.handle);
    assert!(tr.confirm(a.handle.unwrap(), T0));
    let mut hb = b.handle.unwrap();
    assert!(tr.confirm_handle(&mut hb, T0));
    assert_eq!(hb, a.handle.unwrap());
    assert_eq!(tr.stats().clash_resolve, 1);
    assert_eq!(tr.entries().count(), 1);
    assert_eq!(tr.entries().next().unwrap().counters[0], (2, 29 * 2));
}

#[test]
fn mark_changes_are_reported() {
    let mut tr = Tracker::new(cfg());
    let q = udp(CLI, 1000, SRV, 53, b"q");
    let v = tr.packet(&q, &ctc_wire::parse_frame(&q), T0, 0);
    tr.set_mark(v.handle.unwrap(), 0x2a);
    tr.confirm(v.handle.unwrap(), T0);
    assert!(
        events(&mut tr)[0].contains(" [UNREPLIED] src=203.0.113.47 dst=192.0.2.2 sport=53 dport=1000 mark=42 id=1")
    );
}

#[test]
fn malformed_and_fragments() {
    let mut tr = Tracker::new(cfg());
    // A later IPv4 fragment: invalid (conntrack sees reassembled packets).
    let mut frag = udp(CLI, 1, SRV, 2, b"abcdefgh");
    frag[20] = 0x00;
    frag[21] = 0x10;
    let c = csum(
        &{
            let mut h = frag[14..34].to_vec();
            h[10] = 0;
            h[11] = 0;
            h
        },
        0,
    );
    frag[24..26].copy_from_slice(&c.to_be_bytes());
    assert_eq!(pass(&mut tr, &frag, T0).state, CtState::Invalid);
    assert_eq!(tr.stats().invalid, 1);
    // A UDP length larger than the datagram.
    let mut bad = udp(CLI, 1, SRV, 2, b"abcd");
    bad[38..40].copy_from_slice(&40u16.to_be_bytes());
    assert_eq!(pass(&mut tr, &bad, T0).state, CtState::Invalid);
    // Not IP at all.
    let arp = vec![0xff; 60];
    assert_eq!(pass(&mut tr, &arp, T0).state, CtState::Invalid);
    assert_eq!(tr.count(), 0);
    // Locally generated packets skip the checksum check.
    let mut q = ip("2001:db8::1", "2001:db8::2", 17, 64, {
        let mut l4 = vec![0, 1, 0, 2, 0, 9, 0, 0, 7];
        l4[6] = 0;
        l4
    });
    let n = q.len();
    q[n - 3] ^= 0x55; // break the UDP checksum
    assert_eq!(pass_at(&mut tr, &q, T0, Hook::Prerouting).reason, Some("bad checksum"));
    assert_eq!(pass_at(&mut tr, &q, T0, Hook::Output).state, CtState::New);
}

#[test]
fn tuples_from_packets() {
    let mut tr = Tracker::new(cfg());
    let q = udp(CLI, 40201, SRV, 5300, b"x");
    let v = pass(&mut tr, &q, T0);
    let e = tr.entry(v.handle.unwrap()).unwrap();
    let t = Tuple::new(CLI.parse().unwrap(), SRV.parse().unwrap(), 17, 40201, 5300);
    assert_eq!(e.tuples, [t, t.invert().unwrap()]);
    let v = pass(&mut tr, &icmp(CLI, SRV, 8, 0, 0x1234, &[]), T0);
    let e = tr.entry(v.handle.unwrap()).unwrap();
    assert_eq!((e.tuples[0].icmp_type(), e.tuples[0].icmp_id()), (8, 0x1234));
    assert_eq!((e.tuples[1].icmp_type(), e.tuples[1].icmp_id()), (0, 0x1234));
}

#[test]
fn entry_stays_small() {
    let entry = ctc_conntrack::SLOT_BYTES;
    let tcp = core::mem::size_of::<ctc_conntrack::TcpConn>();
    eprintln!("stored entry = {entry} bytes (TcpConn {tcp}, in its own slab)");
    assert!(entry <= 96, "the stored entry grew to {entry} bytes");
}

/// A TCP segment with data (ACK|PSH).
fn tcp_data(src: &str, sport: u16, dst: &str, dport: u16, seq: u32, ack: u32, data: &[u8]) -> Vec<u8> {
    let mut l4 = Vec::new();
    l4.extend_from_slice(&sport.to_be_bytes());
    l4.extend_from_slice(&dport.to_be_bytes());
    l4.extend_from_slice(&seq.to_be_bytes());
    l4.extend_from_slice(&ack.to_be_bytes());
    l4.extend_from_slice(&[0x50, 0x18, 0xfa, 0xf0, 0, 0, 0, 0]);
    l4.extend_from_slice(data);
    ip(src, dst, 6, 64, l4)
}

/// An FTP control connection CLI:40000 -> SRV:21 with the ftp helper
/// (assigned before confirmation, as `ct helper set` does), handshake done.
/// Returns the next client and server sequence numbers.
fn ftp_control(tr: &mut Tracker) -> (u32, u32) {
    let syn = tcp(CLI, 40000, SRV, 21, 0x02, 1000, 0);
    tr.advance(T0);
    let v = tr.packet_at(&syn, &ctc_wire::parse_frame(&syn), T0, 0, Hook::Prerouting);
    let h = v.handle.unwrap();
    tr.set_helper(h, Some(ctc_conntrack::Helper::Ftp));
    assert!(tr.confirm(h, T0));
    pass(tr, &tcp(SRV, 21, CLI, 40000, 0x12, 5000, 1001), T0 + 1000);
    pass(tr, &tcp(CLI, 40000, SRV, 21, 0x10, 1001, 5001), T0 + 2000);
    (1001, 5001)
}

/// A data segment through conntrack and the helper step; its verdict.
fn ftp_send(tr: &mut Tracker, f: Vec<u8>, now: u64) -> ctc_conntrack::HelpVerdict {
    tr.advance(now);
    let v = tr.packet_at(&f, &ctc_wire::parse_frame(&f), now, 0, Hook::Prerouting);
    let mut pkt = f;
    let end = pkt.len();
    let hv = tr.help(&v, &mut pkt, 14, 34, end, now);
    if let (Some(h), ctc_conntrack::HelpVerdict::Accept) = (v.handle, hv) {
        assert!(tr.confirm(h, now));
    }
    hv
}

#[test]
fn ftp_port_expects_the_data_connection_and_it_is_related() {
    use ctc_conntrack::HelpVerdict::Accept;
    let mut tr = Tracker::new(cfg());
    let (c, s) = ftp_control(&mut tr);
    let user = b"USER anonymous\r\n";
    assert_eq!(ftp_send(&mut tr, tcp_data(CLI, 40000, SRV, 21, c, s, user), T0 + 3000), Accept);
    let c = c + user.len() as u32;
    let port = b"PORT 192,0,2,2,156,65\r\n";
    assert_eq!(ftp_send(&mut tr, tcp_data(CLI, 40000, SRV, 21, c, s, port), T0 + 4000), Accept);
    let exps: Vec<String> = tr.expectations().map(|e| format::expectation(e, e.timeout_secs(T0 + 4000))).collect();
    assert_eq!(
        exps,
        [
            "300 proto=6 src=203.0.113.47 dst=192.0.2.2 sport=0 dport=40001 mask-src=255.255.255.255 mask-dst=255.255.255.255 sport=0 dport=65535 master-src=192.0.2.2 master-dst=203.0.113.47 sport=40000 dport=21 class=0 helper=ftp"
        ]
    );
    // The server's active data connection from port 20 is RELATED, and
    // takes the expectation out of the table.
    let v = pass(&mut tr, &tcp(SRV, 20, CLI, 40001, 0x02, 9000, 0), T0 + 5000);
    assert_eq!(v.state, CtState::Related);
    assert_eq!(tr.master_helper(v.handle.unwrap()), Some(ctc_conntrack::Helper::Ftp));
    assert_eq!(tr.expectations().count(), 0);
    let kinds: Vec<EventKind> = tr.take_expect_events().iter().map(|e| e.kind).collect();
    assert_eq!(kinds, [EventKind::New, EventKind::Destroy]);
}

#[test]
fn ftp_bounce_gets_no_expectation() {
    use ctc_conntrack::HelpVerdict::Accept;
    let mut tr = Tracker::new(cfg());
    let (c, s) = ftp_control(&mut tr);
    let user = b"USER anonymous\r\n";
    ftp_send(&mut tr, tcp_data(CLI, 40000, SRV, 21, c, s, user), T0 + 3000);
    let c = c + user.len() as u32;
    // A PORT naming a third host (the FTP bounce attack): accepted, but no
    // hole is opened.
    let bounce = b"PORT 198,51,100,9,0,25\r\n";
    assert_eq!(ftp_send(&mut tr, tcp_data(CLI, 40000, SRV, 21, c, s, bounce), T0 + 4000), Accept);
    assert_eq!(tr.expectations().count(), 0);
    let v = pass(&mut tr, &tcp(SRV, 20, "198.51.100.9", 25, 0x02, 9000, 0), T0 + 5000);
    assert_eq!(v.state, CtState::New);
}

#[test]
fn ftp_command_split_across_segments_is_dropped() {
    let mut tr = Tracker::new(cfg());
    let (c, s) = ftp_control(&mut tr);
    let user = b"USER anonymous\r\n";
    ftp_send(&mut tr, tcp_data(CLI, 40000, SRV, 21, c, s, user), T0 + 3000);
    let c = c + user.len() as u32;
    let hv = ftp_send(&mut tr, tcp_data(CLI, 40000, SRV, 21, c, s, b"PO"), T0 + 4000);
    assert_eq!(hv, ctc_conntrack::HelpVerdict::Drop("partial matching of `PORT'"));
    assert_eq!(tr.expectations().count(), 0);
}

#[test]
fn ftp_keeps_one_expectation_per_master() {
    let mut tr = Tracker::new(cfg());
    let (mut c, s) = ftp_control(&mut tr);
    let user = b"USER anonymous\r\n";
    ftp_send(&mut tr, tcp_data(CLI, 40000, SRV, 21, c, s, user), T0 + 3000);
    c += user.len() as u32;
    for (i, p) in [40001u16, 40002, 40003].into_iter().enumerate() {
        let cmd = format!("PORT 192,0,2,2,{},{}\r\n", p >> 8, p & 0xff);
        ftp_send(&mut tr, tcp_data(CLI, 40000, SRV, 21, c, s, cmd.as_bytes()), T0 + 4000 + i as u64);
        c += cmd.len() as u32;
        // ftp_exp_policy.max_expected = 1: the newest replaces the oldest.
        let ports: Vec<u16> = tr.expectations().map(|e| e.tuple.dst_port).collect();
        assert_eq!(ports, [p]);
    }
    let kinds: Vec<EventKind> = tr.take_expect_events().iter().map(|e| e.kind).collect();
    assert_eq!(kinds, [EventKind::New, EventKind::Destroy, EventKind::New, EventKind::Destroy, EventKind::New]);
    // The master going away takes its expectation with it.
    tr.flush(T0 + 10 * S);
    assert_eq!(tr.expectations().count(), 0);
}

/// `ct expectation set` (nft_ct_expect_obj_eval), as measured on Linux 6.18
/// (tests/live ct_expectation_callback): only the first packet of a
/// connection makes one; it expects the peer to call this side's address
/// on `dport` from any port; another connection needing the same
/// expectation is refused (the packet is dropped); `size` bounds each
/// connection's; a first packet that is dropped takes its expectations
/// along.
#[test]
fn rule_expectations_as_nft_ct_expect_obj_eval() {
    use ctc_conntrack::{RuleExpect, RuleExpectOutcome as O};
    let r = RuleExpect { l3num: 2, proto: 6, dport: 5001, timeout_secs: 10_000, size: 1 };
    let mut tr = Tracker::new(cfg());
    let q = udp(CLI, 1234, SRV, 53, b"q");
    let v = tr.packet(&q, &ctc_wire::parse_frame(&q), T0, 0);
    let h = v.handle.unwrap();
    assert_eq!(tr.expect_from_rule(h, v.dir, &r, T0), O::Made);
    let e = tr.expectations().next().unwrap().clone();
    assert_eq!((e.tuple.src_addr().to_string(), e.tuple.dst_addr().to_string()), (SRV.into(), CLI.into()));
    assert_eq!((e.tuple.src_port, e.tuple.dst_port, e.mask.src_port, e.helper), (0, 5001, 0, None));
    assert_eq!(e.timeout_secs(T0), 10_000);
    let line = format::expectation(&e, 10_000);
    assert!(line.ends_with("class=0"), "no helper printed: {line}");
    // The object's size: one per connection.
    assert_eq!(tr.expect_from_rule(h, v.dir, &r, T0), O::Break);
    // Another connection from the same client: the same expectation for
    // another master clashes.
    let q2 = udp(CLI, 1235, SRV, 53, b"q");
    let v2 = tr.packet(&q2, &ctc_wire::parse_frame(&q2), T0, 0);
    assert_eq!(tr.expect_from_rule(v2.handle.unwrap(), v2.dir, &r, T0), O::Drop);
    tr.abandon(v2.handle.unwrap());
    // Confirmed: nothing more.
    assert!(tr.confirm(h, T0));
    let r2 = RuleExpect { dport: 6000, size: 4, ..r };
    assert_eq!(tr.expect_from_rule(h, v.dir, &r2, T0), O::Break);
    assert_eq!(tr.expectations().count(), 1);
    // An unconfirmed connection dropped: its expectation goes (DESTROY).
    let q3 = udp(CLI, 1236, SRV, 53, b"q");
    let v3 = tr.packet(&q3, &ctc_wire::parse_frame(&q3), T0 + S, 0);
    assert_eq!(tr.expect_from_rule(v3.handle.unwrap(), v3.dir, &r2, T0 + S), O::Made);
    assert_eq!(tr.expectations().count(), 2);
    tr.abandon(v3.handle.unwrap());
    assert_eq!(tr.expectations().count(), 1);
    let kinds: Vec<EventKind> = tr.take_expect_events().iter().map(|e| e.kind).collect();
    assert_eq!(kinds, [EventKind::New, EventKind::New, EventKind::Destroy]);
}

/// Frame::l4_checksum: conntrack verifies the transport checksum at
/// prerouting only when nobody did (nf_ip_checksum computes it for
/// CHECKSUM_NONE/COMPLETE, takes CHECKSUM_UNNECESSARY and
/// CHECKSUM_PARTIAL as good); a parsed frame is NotVerified.
#[test]
fn a_checksum_the_device_verified_is_not_verified_again() {
    use ctc_wire::L4Checksum;
    let mut broken = vec![
        tcp(CLI, 40000, SRV, 80, 0x02, 1000, 0),
        icmp(CLI, SRV, 8, 0, 7, b"ping"),
        ip("2001:db8::1", "2001:db8::2", 17, 64, vec![0, 1, 0, 2, 0, 9, 0, 0, 7]),
    ];
    for f in &mut broken {
        let n = f.len();
        f[n - 1] ^= 0x55;
    }
    for f in &broken {
        assert_eq!(ctc_wire::parse_frame(f).l4_checksum, L4Checksum::NotVerified);
        let mut tr = Tracker::new(cfg());
        let v = pass(&mut tr, f, T0);
        assert_eq!(v.state, CtState::Invalid);
        assert!(v.reason.is_some_and(|r| r.contains("checksum")), "{:?}", v.reason);
        for csum in [L4Checksum::Verified, L4Checksum::NotReady] {
            let mut tr = Tracker::new(cfg());
            let mut frame = ctc_wire::parse_frame(f);
            frame.l4_checksum = csum;
            let v = tr.packet(f, &frame, T0, 0);
            assert_eq!(v.state, CtState::New, "{csum:?}");
            assert!(tr.confirm(v.handle.unwrap(), T0));
            assert_eq!(tr.count(), 1);
        }
    }
}

/// A TCP segment with these option bytes (a multiple of 4 long).
#[allow(clippy::too_many_arguments)]
fn tcp_opts(src: &str, sport: u16, dst: &str, dport: u16, flags: u8, seq: u32, ack: u32, opts: &[u8]) -> Vec<u8> {
    assert_eq!(opts.len() % 4, 0);
    let mut l4 = Vec::new();
    l4.extend_from_slice(&sport.to_be_bytes());
    l4.extend_from_slice(&dport.to_be_bytes());
    l4.extend_from_slice(&seq.to_be_bytes());
    l4.extend_from_slice(&ack.to_be_bytes());
    l4.extend_from_slice(&[((20 + opts.len()) as u8 / 4) << 4, flags, 0xfa, 0xf0, 0, 0, 0, 0]);
    l4.extend_from_slice(opts);
    ip(src, dst, 6, 64, l4)
}

/// The options are read where the kernel reads them: window scale and
/// SACK-permitted on SYNs (tcp_options), the SACK blocks where the
/// receiver offered SACK (tcp_sack), whatever else the segment carries.
/// A SACK edge past what the receiver sent is "ACK is over upper bound"
/// when the receiver offered SACK, and not looked at otherwise; a header
/// with timestamps alone (NOP, NOP, timestamps) changes nothing.
#[test]
fn tcp_options_are_read_where_the_kernel_reads_them() {
    const TS: [u8; 12] = [1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0];
    // MSS, SACK-permitted, timestamps, NOP, window scale 7.
    const SYN_OPTS: [u8; 20] = [2, 4, 5, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7];
    // MSS and window scale only.
    const SYN_NO_SACK: [u8; 8] = [2, 4, 5, 0xb4, 1, 3, 3, 7];
    let (c, s) = (1000u32, 5000u32);
    // Timestamps, then a SACK block [s + 1, right).
    let ts_sack = |right: u32| {
        let mut o = TS.to_vec();
        o.extend_from_slice(&[1, 1, 5, 10]);
        o.extend_from_slice(&(s + 1).to_be_bytes());
        o.extend_from_slice(&right.to_be_bytes());
        o
    };
    for (syn_opts, sack_perm) in [(&SYN_OPTS[..], true), (&SYN_NO_SACK[..], false)] {
        for (opts, over) in [
            (TS.to_vec(), false),
            (ts_sack(s + 1), false),
            (ts_sack(s + 100), true),
            // The SACK option alone, without timestamps.
            (ts_sack(s + 100)[12..].to_vec(), true),
        ] {
            let mut tr = Tracker::new(cfg());
            assert_eq!(pass(&mut tr, &tcp_opts(CLI, 40000, SRV, 80, 0x02, c, 0, syn_opts), T0).state, CtState::New);
            let v = pass(&mut tr, &tcp_opts(SRV, 80, CLI, 40000, 0x12, s, c + 1, syn_opts), T0);
            assert_eq!(v.state, CtState::Established);
            let v = pass(&mut tr, &tcp_opts(CLI, 40000, SRV, 80, 0x10, c + 1, s + 1, &opts), T0);
            if over && sack_perm {
                assert_eq!(v.state, CtState::Invalid, "{opts:?}");
                assert_eq!(v.reason, Some(ctc_conntrack::tcp::reason::ACK_OVER));
            } else {
                assert_eq!(v.state, CtState::Established, "{opts:?} {:?}", v.reason);
            }
        }
    }
}
