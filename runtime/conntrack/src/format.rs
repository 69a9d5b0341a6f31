//! conntrack-tools' text formats (libnetfilter_conntrack's
//! `__snprintf_conntrack_default`): `conntrack -E` event lines, `conntrack
//! -L` lines (default and `-o extended`), `conntrack -S`.
//!
//! Field order, as the library prints them: `[EVENT]` (right-aligned in 9
//! columns), [l3 name and number], protocol name (left-aligned in 8) and
//! number, timeout, TCP state, original tuple, its counters, `[UNREPLIED]`,
//! reply tuple, its counters, `[ASSURED]`, `mark=`, `zone=`, `delta-time=`,
//! `[start=] [stop=]` (extended), `helper=`, `use=`, `id=`.

use core::fmt::Write;

use crate::{Entry, Event, EventKind, Helper, L3_IPV4, Stats, TcpState, Tuple, status};

/// libnetfilter_conntrack's proto2str (names it knows; others "unknown").
pub fn proto_name(proto: u8) -> &'static str {
    match proto {
        6 => "tcp",
        17 => "udp",
        136 => "udplite",
        1 => "icmp",
        58 => "icmpv6",
        132 => "sctp",
        47 => "gre",
        33 => "dccp",
        _ => "unknown",
    }
}

fn l3_name(l3: u8) -> &'static str {
    if l3 == L3_IPV4 { "ipv4" } else { "ipv6" }
}

fn tuple(s: &mut String, t: &Tuple) {
    let _ = write!(s, "src={} dst={} ", t.src_addr(), t.dst_addr());
    if t.is_icmp() {
        let _ = write!(s, "type={} code={} id={} ", t.icmp_type(), t.icmp_code(), t.icmp_id());
    } else if t.has_ports() {
        let _ = write!(s, "sport={} dport={} ", t.src_port, t.dst_port);
    }
}

/// An expectation's tuple with its own address keys (`mask-src=`,
/// `master-src=`, ...), ports always (`__snprintf_proto`).
fn expect_tuple(s: &mut String, t: &Tuple, src: &str, dst: &str) {
    let _ = write!(s, "{src}={} {dst}={} ", t.src_addr(), t.dst_addr());
    if t.is_icmp() {
        let _ = write!(s, "type={} code={} id={} ", t.icmp_type(), t.icmp_code(), t.icmp_id());
    } else if t.has_ports() {
        let _ = write!(s, "sport={} dport={} ", t.src_port, t.dst_port);
    }
}

/// An expectation as `conntrack -L expect` prints it (libnetfilter_conntrack's
/// default expectation format): timeout, protocol, the expected tuple, its
/// mask, the master's tuple, class and helper.
pub fn expectation(e: &crate::Expectation, timeout_secs: u64) -> String {
    let mut s = String::new();
    let _ = write!(s, "{timeout_secs} proto={} ", e.tuple.proto);
    expect_tuple(&mut s, &e.tuple, "src", "dst");
    expect_tuple(&mut s, &e.mask, "mask-src", "mask-dst");
    expect_tuple(&mut s, &e.master_tuple, "master-src", "master-dst");
    let _ = write!(s, "class={}", e.class);
    // The master's helper; an expectation a rule made (`ct expectation
    // set`) for a connection without one prints none.
    if let Some(h) = e.helper {
        let _ = write!(s, " helper={}", h.name());
    }
    s
}

/// A `conntrack -E expect` line without the timestamp prefix, e.g.
/// `    [NEW] 300 proto=6 src=... class=0 helper=ftp`.
pub fn expect_event(ev: &crate::ExpectEvent) -> String {
    let kind = match ev.kind {
        EventKind::New => "[NEW]",
        EventKind::Update => "[UPDATE]",
        EventKind::Destroy => "[DESTROY]",
    };
    format!("{kind:>9} {}", expectation(&ev.exp, ev.timeout_secs))
}

fn counters(s: &mut String, c: (u64, u64)) {
    let _ = write!(s, "packets={} bytes={} ", c.0, c.1);
}

/// conntrack-tools' `-o` options that change a line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Output {
    /// `-o extended`: the l3 protocol first (`ipv4     2 `).
    pub layer3: bool,
    /// `-o ktimestamp`: `[start=...]` (and `[stop=...]` in DESTROY events).
    pub ktimestamp: bool,
    /// `-o id`: `id=N` last.
    pub id: bool,
}

impl Output {
    /// `-o id`.
    pub const ID: Output = Output { layer3: false, ktimestamp: false, id: true };
    /// `-o extended,id`.
    pub const EXTENDED_ID: Output = Output { layer3: true, ktimestamp: false, id: true };
    /// `-o extended,ktimestamp,id`.
    pub const EXTENDED_KTIMESTAMP_ID: Output = Output { layer3: true, ktimestamp: true, id: true };
}

/// What one line shows; events and listings fill it differently.
struct Line<'a> {
    kind: Option<EventKind>,
    out: Output,
    tuples: &'a [Tuple; 2],
    status: u32,
    timeout: Option<u64>,
    tcp_state: Option<TcpState>,
    counters: Option<[(u64, u64); 2]>,
    mark: Option<u32>,
    zone: u16,
    /// (start, stop) in ns since the epoch; delta-time = stop - start in
    /// whole seconds of each (conntrack-tools' __snprintf_timestamp_delta).
    times: Option<(u64, Option<u64>)>,
    now_ns: u64,
    helper: Option<Helper>,
    use_count: Option<u32>,
    id: u32,
}

fn render(l: &Line<'_>) -> String {
    let mut s = String::with_capacity(256);
    if let Some(k) = l.kind {
        let w = match k {
            EventKind::New => "[NEW]",
            EventKind::Update => "[UPDATE]",
            EventKind::Destroy => "[DESTROY]",
        };
        let _ = write!(s, "{w:>9} ");
    }
    let t0 = &l.tuples[0];
    if l.out.layer3 {
        let _ = write!(s, "{:<8} {} ", l3_name(t0.l3), t0.l3);
    }
    let _ = write!(s, "{:<8} {} ", proto_name(t0.proto), t0.proto);
    if let Some(t) = l.timeout {
        let _ = write!(s, "{t} ");
    }
    if let Some(st) = l.tcp_state {
        let _ = write!(s, "{} ", st.name());
    }
    tuple(&mut s, t0);
    if let Some(c) = l.counters {
        counters(&mut s, c[0]);
    }
    if l.status & status::SEEN_REPLY == 0 {
        s.push_str("[UNREPLIED] ");
    }
    tuple(&mut s, &l.tuples[1]);
    if let Some(c) = l.counters {
        counters(&mut s, c[1]);
    }
    if l.status & status::ASSURED != 0 {
        s.push_str("[ASSURED] ");
    }
    if let Some(m) = l.mark {
        let _ = write!(s, "mark={m} ");
    }
    if l.zone != 0 {
        let _ = write!(s, "zone={} ", l.zone);
    }
    if let Some((start, stop)) = l.times {
        let stop_s = stop.unwrap_or(l.now_ns) / 1_000_000_000;
        let _ = write!(s, "delta-time={} ", stop_s.saturating_sub(start / 1_000_000_000));
        if l.out.ktimestamp {
            let _ = write!(s, "[start={}] ", ctime(start / 1_000_000_000));
            if let Some(stop) = stop {
                let _ = write!(s, "[stop={}] ", ctime(stop / 1_000_000_000));
            }
        }
    }
    if let Some(h) = l.helper {
        let _ = write!(s, "helper={} ", h.name());
    }
    if let Some(u) = l.use_count {
        let _ = write!(s, "use={u} ");
    }
    if l.out.id {
        let _ = write!(s, "id={} ", l.id);
    }
    s.pop();
    s
}

/// An event line with the given `-o` options (without the `-o timestamp`
/// prefix; see [`timestamp_prefix`]).
pub fn event_with(ev: &Event, out: Output) -> String {
    render(&Line {
        kind: Some(ev.kind),
        out,
        tuples: &ev.tuples,
        status: ev.status,
        timeout: ev.timeout_secs,
        tcp_state: ev.tcp_state,
        counters: ev.counters,
        mark: ev.mark,
        zone: ev.zone,
        times: ev.timestamps.map(|(a, b)| (a, Some(b))),
        now_ns: ev.time_ns,
        helper: ev.helper,
        use_count: None,
        id: ev.id,
    })
}

/// A `conntrack -E -o id` line without the timestamp prefix, e.g.
/// `    [NEW] udp      17 30 src=... [UNREPLIED] src=... id=7`.
pub fn event(ev: &Event) -> String {
    event_with(ev, Output::ID)
}

/// A `conntrack -E -o extended,ktimestamp,id` line (`ipv4     2 ` and, in
/// DESTROY events with timestamps, `[start=...] [stop=...]`).
pub fn event_extended(ev: &Event) -> String {
    event_with(ev, Output::EXTENDED_KTIMESTAMP_ID)
}

/// The `[SECONDS.MICROS]\t` prefix of `conntrack -E -o timestamp`.
pub fn timestamp_prefix(ns: u64) -> String {
    format!("[{}.{:06}]\t", ns / 1_000_000_000, ns % 1_000_000_000 / 1000)
}

/// A `conntrack -L` line at `now_ns` with the given `-o` options:
/// `packets=/bytes=` for an entry that counts, `mark=` always,
/// `delta-time=` for one that keeps times (both decided when it was made,
/// by `acct` and `timestamp`), `use=` (1 plus the expected connections it
/// is master of).
pub fn entry_with(e: &Entry<'_>, now_ns: u64, out: Output) -> String {
    render(&Line {
        kind: None,
        out,
        tuples: &e.tuples,
        status: e.status,
        timeout: Some(e.timeout_secs(now_ns)),
        tcp_state: e.tcp_state(),
        counters: e.accounted.then_some(e.counters),
        mark: Some(e.mark),
        zone: e.zone,
        times: e.timestamped.then_some((e.start_ns, None)),
        now_ns,
        helper: e.helper,
        // The entry's references: the table's, and one per expected
        // connection whose master it is (ct->master holds a reference).
        use_count: Some(1 + e.help.as_ref().map_or(0, |h| h.children)),
        id: e.id,
    })
}

/// A `conntrack -L` line (no `-o` options).
pub fn entry(e: &Entry<'_>, now_ns: u64) -> String {
    entry_with(e, now_ns, Output::default())
}

/// A `conntrack -L -o extended,ktimestamp,id` line (`ipv4     2 ...`,
/// `[start=...]`, `id=`).
pub fn entry_extended(e: &Entry<'_>, now_ns: u64) -> String {
    entry_with(e, now_ns, Output::EXTENDED_KTIMESTAMP_ID)
}

/// conntrack-tools' summary on stderr after a listing.
pub fn summary(n: usize) -> String {
    format!("conntrack v1.4.7 (conntrack-tools): {n} flow entries have been shown.")
}

/// The `conntrack -S` line (one CPU: this tracker is one table).
pub fn stats(s: &Stats) -> String {
    format!(
        "cpu=0   \tfound={} invalid={} insert={} insert_failed={} drop={} early_drop={} error={} search_restart={} clash_resolve={} chaintoolong={} ",
        s.found,
        s.invalid,
        s.insert,
        s.insert_failed,
        s.drop,
        s.early_drop,
        s.error,
        s.search_restart,
        s.clash_resolve,
        s.chaintoolong
    )
}

/// ctime(3) without the newline, in UTC (`Sat Nov 21 07:28:40 2026`).
pub fn ctime(secs: u64) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let days = secs / 86_400;
    let rem = secs % 86_400;
    // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{} {} {:2} {:02}:{:02}:{:02} {}",
        DAYS[(days % 7) as usize],
        MONTHS[(m - 1) as usize],
        d,
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        y
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ctime_matches_the_oracle() {
        assert_eq!(ctime(1_795_246_120), "Sat Nov 21 07:28:40 2026");
        assert_eq!(ctime(0), "Thu Jan  1 00:00:00 1970");
        assert_eq!(ctime(951_782_400), "Tue Feb 29 00:00:00 2000");
    }

    #[test]
    fn stats_line() {
        assert_eq!(
            stats(&Stats::default()),
            "cpu=0   \tfound=0 invalid=0 insert=0 insert_failed=0 drop=0 early_drop=0 error=0 search_restart=0 clash_resolve=0 chaintoolong=0 "
        );
    }
}
