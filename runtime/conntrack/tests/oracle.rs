//! Replays recorded kernel cases (../shared/oracle) through the tracker and
//! compares the event stream with the kernel's `conntrack -E` (ids and
//! times aside) and the mid-run `conntrack -L` snapshots (order aside).
//!
//! Frames: `in-gw-*.pcap` merged by time at prerouting; frames the gateway
//! generated itself (source address one of its own, found in `out-*.pcap`)
//! at output. Every packet is taken as accepted — these rulesets accept the
//! recorded traffic — except forwarded IPv4 packets with TTL <= 1, which the
//! gateway's forward path drops (the unconfirmed entry is discarded).

use std::fs::File;
use std::path::{Path, PathBuf};

use ctc_conntrack::{Config, Hook, Tracker, format};
use pcap_file::pcap::PcapReader;

const GW_ADDRS: [[u8; 4]; 2] = [[192, 0, 2, 1], [198, 51, 100, 32]];

fn oracle_dir() -> Option<PathBuf> {
    let d = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/oracle");
    d.is_dir().then_some(d)
}

fn read_pcap(p: &Path) -> Vec<(u64, Vec<u8>)> {
    let mut r = PcapReader::new(File::open(p).unwrap()).unwrap();
    let mut v = Vec::new();
    while let Some(pkt) = r.next_packet() {
        let pkt = pkt.unwrap();
        v.push((pkt.timestamp.as_nanos() as u64, pkt.data.into_owned()));
    }
    v
}

fn src_v4(f: &[u8]) -> Option<[u8; 4]> {
    (f.len() >= 34 && f[12..14] == [8, 0]).then(|| [f[26], f[27], f[28], f[29]])
}

fn dst_v4(f: &[u8]) -> Option<[u8; 4]> {
    (f.len() >= 34 && f[12..14] == [8, 0]).then(|| [f[30], f[31], f[32], f[33]])
}

struct Replay {
    tracker: Tracker,
    events: Vec<String>,
    snapshots: Vec<(String, Vec<String>)>,
}

fn replay(case: &Path, until_secs: u64) -> Replay {
    let mut cfg = Config::default();
    cfg.set_sysctl("acct", "1").unwrap();
    cfg.set_sysctl("timestamp", "1").unwrap();
    if let Ok(s) = std::fs::read_to_string(case.join("gw-sysctl.conf")) {
        for line in s.lines().filter(|l| l.contains('=')) {
            let (k, v) = line.split_once('=').unwrap();
            cfg.set_sysctl(k.trim(), v.trim()).unwrap();
        }
    }
    let mut frames: Vec<(u64, Hook, Vec<u8>)> = Vec::new();
    for name in ["in-gw-cli.pcap", "in-gw-pub.pcap"] {
        frames.extend(read_pcap(&case.join(name)).into_iter().map(|(t, d)| (t, Hook::Prerouting, d)));
    }
    for name in ["out-gw-cli.pcap", "out-gw-pub.pcap"] {
        for (t, d) in read_pcap(&case.join(name)) {
            if src_v4(&d).is_some_and(|s| GW_ADDRS.contains(&s)) {
                frames.push((t, Hook::Output, d));
            }
        }
    }
    frames.sort_by_key(|f| f.0);
    // Snapshot times (### EPOCH.USEC label).
    let snaps_txt = std::fs::read_to_string(case.join("snapshots.txt")).unwrap_or_default();
    let mut snap_times: Vec<(u64, String)> = snaps_txt
        .lines()
        .filter_map(|l| l.strip_prefix("### "))
        .map(|l| {
            let (t, label) = l.split_once(' ').unwrap_or((l, ""));
            let (s, us) = t.split_once('.').unwrap();
            (s.parse::<u64>().unwrap() * 1_000_000_000 + us.parse::<u64>().unwrap() * 1000, label.to_string())
        })
        .collect();
    snap_times.reverse();
    let mut tr = Tracker::new(cfg);
    let mut out = Replay { tracker: Tracker::new(Config::default()), events: Vec::new(), snapshots: Vec::new() };
    let take = |tr: &mut Tracker, out: &mut Replay| {
        for ev in tr.take_events() {
            out.events.push(format::event(&ev));
        }
    };
    let snapshot = |tr: &mut Tracker, out: &mut Replay, t: u64, label: String| {
        tr.advance(t);
        let mut lines: Vec<String> =
            tr.entries().map(|e| format::entry_with(&e, t, format::Output::EXTENDED_ID)).collect();
        lines.sort();
        out.snapshots.push((label, lines));
    };
    let last = frames.last().map_or(0, |f| f.0);
    // The packet the gateway dropped for TTL expiry: its ICMP time-exceeded
    // carries its conntrack (nf_ct_attach).
    let mut dropped: Option<ctc_conntrack::Verdict> = None;
    for (t, hook, data) in &frames {
        while snap_times.last().is_some_and(|s| s.0 < *t) {
            let (st, label) = snap_times.pop().unwrap();
            snapshot(&mut tr, &mut out, st, label);
            take(&mut tr, &mut out);
        }
        tr.advance(*t);
        let f = ctc_wire::parse_frame(data);
        let is_icmp_time_exceeded = data.get(23) == Some(&1) && data.get(34) == Some(&11);
        if *hook == Hook::Output && is_icmp_time_exceeded {
            let cause = dropped.take().expect("time-exceeded follows a dropped packet");
            let v = tr.attach(&cause);
            assert_eq!(v.state, ctc_conntrack::CtState::Related);
            assert!(tr.confirm(v.handle.unwrap(), *t));
            tr.abandon(cause.handle.unwrap());
            take(&mut tr, &mut out);
            continue;
        }
        let v = tr.packet_at(data, &f, *t, 0, *hook);
        let forwarded = dst_v4(data).is_some_and(|d| !GW_ADDRS.contains(&d));
        let ttl_expires = *hook == Hook::Prerouting && forwarded && data.get(22).is_some_and(|&ttl| ttl <= 1);
        if ttl_expires {
            dropped = Some(v);
        } else if let Some(h) = v.handle {
            assert!(tr.confirm(h, *t));
        }
        take(&mut tr, &mut out);
    }
    while let Some((st, label)) = snap_times.pop() {
        snapshot(&mut tr, &mut out, st, label);
        take(&mut tr, &mut out);
    }
    tr.advance(last + until_secs * 1_000_000_000);
    take(&mut tr, &mut out);
    out.tracker = tr;
    out
}

/// An oracle line without the `[time]\t` prefix and the `id=` field.
fn normalize(line: &str) -> String {
    let l = line.split_once('\t').map_or(line, |(_, r)| r);
    match l.rsplit_once(' ') {
        Some((head, last)) if last.starts_with("id=") => head.to_string(),
        _ => l.to_string(),
    }
}

fn expected_events(case: &Path) -> Vec<String> {
    std::fs::read_to_string(case.join("events.txt")).unwrap().lines().map(normalize).collect()
}

fn expected_snapshots(case: &Path) -> Vec<(String, Vec<String>)> {
    let txt = std::fs::read_to_string(case.join("snapshots.txt")).unwrap();
    let mut v: Vec<(String, Vec<String>)> = Vec::new();
    for l in txt.lines() {
        if let Some(h) = l.strip_prefix("### ") {
            v.push((h.split_once(' ').map_or("", |x| x.1).to_string(), Vec::new()));
        } else if !l.trim().is_empty() {
            v.last_mut().unwrap().1.push(normalize(l));
        }
    }
    for s in &mut v {
        s.1.sort();
    }
    v
}

/// Same line, but the kernel printed a remaining timeout one lower: its
/// jiffy phase differs from the packet clock's (oracle README: N-1).
fn same_but_tick(got: &str, want: &str) -> bool {
    let (g, w): (Vec<&str>, Vec<&str>) = (got.split(' ').collect(), want.split(' ').collect());
    g.len() == w.len()
        && g.iter()
            .zip(&w)
            .all(|(a, b)| a == b || matches!((a.parse::<u64>(), b.parse::<u64>()), (Ok(x), Ok(y)) if x == y + 1))
}

fn check_case(name: &str, until_secs: u64, sort_tail_destroys: bool, snapshots: bool) {
    let Some(dir) = oracle_dir() else {
        eprintln!("oracle not found; skipping {name}");
        return;
    };
    let case = dir.join(name);
    let r = replay(&case, until_secs);
    let mut got: Vec<String> = r.events.iter().map(|l| normalize(l)).collect();
    let mut want = expected_events(&case);
    if sort_tail_destroys {
        // The kernel reports expired entries in table-walk order.
        for v in [&mut got, &mut want] {
            let k = v.iter().rposition(|l| !l.starts_with("[DESTROY]")).map_or(0, |i| i + 1);
            v[k..].sort();
        }
    }
    let ok = got.len() == want.len() && got.iter().zip(&want).all(|(g, w)| g == w || same_but_tick(g, w));
    assert!(ok, "{name}: events differ\n--- got\n{}\n--- want\n{}", got.join("\n"), want.join("\n"));
    if !snapshots {
        return;
    }
    let got_snaps: Vec<(String, Vec<String>)> =
        r.snapshots.iter().map(|(l, s)| (l.clone(), s.iter().map(|x| normalize(x)).collect())).collect();
    let want_snaps = expected_snapshots(&case);
    assert_eq!(got_snaps.len(), want_snaps.len(), "{name}: snapshot count");
    for (g, w) in got_snaps.iter().zip(&want_snaps) {
        let ok = g.1.len() == w.1.len() && g.1.iter().zip(&w.1).all(|(a, b)| a == b || same_but_tick(a, b));
        assert!(ok, "{name}: snapshot '{}'\n--- got\n{}\n--- want\n{}", w.0, g.1.join("\n"), w.1.join("\n"));
    }
    assert_eq!(format::stats(r.tracker.stats()), {
        let s = std::fs::read_to_string(case.join("stats.txt")).unwrap();
        s.lines().next().unwrap().to_string()
    });
}

#[test]
fn udp_basic() {
    check_case("udp_basic", 0, false, true);
}

#[test]
fn icmp_echo() {
    check_case("icmp_echo", 0, false, true);
}

#[test]
fn icmp_error_related() {
    check_case("icmp_error_related", 0, false, true);
}

#[test]
fn tcp_basic() {
    check_case("tcp_basic", 0, false, true);
}

#[test]
fn tcp_rst() {
    check_case("tcp_rst", 15, true, true);
}

#[test]
fn tcp_loose_ack() {
    check_case("tcp_loose_ack", 0, false, false);
}
