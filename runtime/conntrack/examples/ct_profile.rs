//! A fixed workload for instruction counting (`valgrind --tool=callgrind`
//! counts instructions repeatably where wall-clock benchmarks on a shared
//! machine are noisy): builds a table of N established flows, then runs
//! P packets of the `tracker` benchmark's kind through it.
//!
//! `cargo build --release -p ctc-conntrack --example ct_profile`, then
//! `valgrind --tool=callgrind target/release/examples/ct_profile KIND N P`
//! with KIND one of `udp`, `tcp` (established), `udp-hw`, `tcp-hw`
//! (established, checksums marked as verified by the device:
//! `Frame::l4_checksum`), `tcp-ts`, `tcp-hw-ts` (the TCP ones with the
//! timestamps option on every segment), `new-udp`, `new-tcp`; and the
//! established kinds
//! with `-batch` (`udp-hw-batch`, ...): the same packets `BATCH` at a time
//! through `Tracker::packet_batch`, as the `established_batch` benchmark
//! (times and counts are still per packet), and `new-udp-batch`,
//! `new-tcp-batch` for new flows. `BATCH` is 32 unless the
//! environment variable `CT_BATCH` says otherwise. With `CT_FRAMES=parsed`
//! the established `-batch` kinds parse each batch's frames just before it
//! goes through the tracker, as the datapath does, instead of reading a
//! pool of frames parsed beforehand (see `parsed_batches`); only the
//! tracker's part is timed.

#[path = "../benches/common/mod.rs"]
mod common;

use std::hint::black_box;

use common::*;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let kind = args.get(1).map_or("udp", String::as_str);
    let n: usize = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(1000);
    let packets: usize = args.get(3).and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let proto = if kind.contains("tcp") { TCP } else { UDP };
    let mut tr = filled(n, 0, proto, true);
    let mut now = T0 + 3 * S;
    // Set once the packets are built: at 1M flows building and parsing
    // them takes about as long as running 1M of them through the table.
    let start;
    if kind.starts_with("new") {
        let mut p = [0u8; LEN];
        let flags = if proto == TCP { SYN } else { 0 };
        request(1 << 28, proto, flags, 1, 0).write(&mut p);
        let frame = ctc_wire::parse_frame(&p);
        // `new-udp-batch`, `new-tcp-batch`: the new flows BATCH at a time
        // through `packet_batch`.
        let size = if kind.ends_with("-batch") { batch_size() } else { 1 };
        let (mut bufs, mut frames) = (vec![p; size], vec![frame; size]);
        let mut sink = Vec::new();
        let pool = established_pool(n, proto);
        // As the benchmark: batches of N/10 new flows, then the clock
        // moves on and they expire.
        let batch = (n / 10).max(64) as u32;
        let mut timed = std::time::Duration::ZERO;
        let mut t = std::time::Instant::now();
        let packets = packets / size * size;
        for k in (0..packets as u32).step_by(size) {
            insert_flows(&mut tr, &mut bufs, &mut frames, (1 << 28) + k, now);
            let end = k + size as u32;
            if end / batch > k / batch {
                timed += t.elapsed();
                tr.drain_events(&mut sink);
                sink.clear();
                now += 121 * S;
                tr.advance(now);
                tr.drain_events(&mut sink);
                sink.clear();
                if u64::from(end / batch) % KEEP_ALIVE_BATCHES == 0 {
                    keep_alive(&mut tr, &pool, now);
                }
                t = std::time::Instant::now();
            }
        }
        timed += t.elapsed();
        // Only packet() + confirm(), as the benchmark times them.
        let ns = timed.as_nanos() as f64 / packets as f64;
        println!("{kind} n={n} packets={packets}: {ns:.1} ns/packet");
        return;
    } else if let Some(base) = kind.strip_suffix("-batch")
        && std::env::var("CT_FRAMES").as_deref() == Ok("parsed")
    {
        parsed_batches(&mut tr, kind, base, n, packets, now);
        return;
    } else if let Some(kind) = kind.strip_suffix("-batch") {
        let pool = established_pool(n, proto);
        let pool = if kind.ends_with("-hw") { device_verified(pool) } else { pool };
        let size = batch_size();
        let all: Vec<(&[u8], &ctc_wire::Frame)> =
            pool.bytes.iter().zip(&pool.frames).map(|(b, f)| (&b[..], f)).collect();
        // Whole batches only, round the pool.
        let batches = all.chunks_exact(size).collect::<Vec<_>>();
        start = std::time::Instant::now();
        for k in 0..packets / size {
            tr.packet_batch(batches[k % batches.len()], now, 0, ctc_conntrack::Hook::Prerouting, |tr, _, v| {
                if let Some(h) = v.handle {
                    black_box(tr.confirm(h, now));
                }
                black_box(v);
            });
        }
    } else if let Some(kind) = kind.strip_suffix("-ts") {
        // The same segments with the timestamps option, as most segments
        // of real connections carry it: 12 bytes of options (NOP, NOP,
        // timestamps), the header 32 bytes long.
        let pool = established_pool(n, proto);
        let bytes: Vec<Vec<u8>> = pool.bytes.iter().map(|b| with_timestamps(b)).collect();
        let frames: Vec<ctc_wire::Frame> = bytes
            .iter()
            .map(|b| {
                let mut f = ctc_wire::parse_frame(b);
                if kind.ends_with("-hw") {
                    f.l4_checksum = ctc_wire::L4Checksum::Verified;
                }
                f
            })
            .collect();
        // The options change nothing for the tracker: the first segment is
        // tracked as the others will be.
        let v = tr.packet(&bytes[0], &frames[0], now, 0);
        assert!(v.handle.is_some() && v.reason.is_none(), "timestamped segment not tracked: {v:?}");
        let mut i = 1 % bytes.len();
        start = std::time::Instant::now();
        for _ in 0..packets {
            let v = tr.packet(&bytes[i], &frames[i], now, 0);
            if let Some(h) = v.handle {
                black_box(tr.confirm(h, now));
            }
            i += 1;
            if i == bytes.len() {
                i = 0;
            }
        }
    } else {
        let pool = established_pool(n, proto);
        let pool = if kind.ends_with("-hw") { device_verified(pool) } else { pool };
        let mut i = 0;
        start = std::time::Instant::now();
        for _ in 0..packets {
            pool.step(&mut tr, &mut i, now);
        }
    }
    let dt = start.elapsed();
    println!("{kind} n={n} packets={packets}: {:.1} ns/packet", dt.as_nanos() as f64 / packets as f64);
}

/// The `-batch` kinds as the datapath meets its packets: the pool's bytes
/// back to back, each batch copied out and parsed just before it goes
/// through `packet_batch` (a queue's read lands in the datapath's buffer,
/// which parses each frame just before the hooks), only `packet_batch`
/// timed. The pool of parsed frames the other kinds read (256-byte frames:
/// 316 bytes a packet with its bytes) streams five lines per packet from
/// memory beside the table's in a large table, and at 100k entries (31 MB
/// of pool) pushes the table out of the last-level cache: the benchmark's
/// cost, not the tracker's.
fn parsed_batches(tr: &mut ctc_conntrack::Tracker, kind: &str, base: &str, n: usize, packets: usize, now: u64) {
    let proto = if base.starts_with("tcp") { TCP } else { UDP };
    let raw = established_pool(n, proto).bytes;
    let size = batch_size();
    let (mut bufs, mut frames) = (Vec::with_capacity(size), Vec::with_capacity(size));
    let mut at = 0;
    let mut timed = std::time::Duration::ZERO;
    for _ in 0..packets / size {
        bufs.clear();
        frames.clear();
        for _ in 0..size {
            bufs.push(raw[at]);
            at = (at + 1) % raw.len();
        }
        for b in &bufs {
            let mut f = ctc_wire::parse_frame(b);
            if base.ends_with("-hw") {
                f.l4_checksum = ctc_wire::L4Checksum::Verified;
            }
            frames.push(f);
        }
        let batch: Vec<(&[u8], &ctc_wire::Frame)> = bufs.iter().map(|b| &b[..]).zip(&frames).collect();
        let t = std::time::Instant::now();
        tr.packet_batch(&batch, now, 0, ctc_conntrack::Hook::Prerouting, |tr, _, v| {
            if let Some(h) = v.handle {
                black_box(tr.confirm(h, now));
            }
            black_box(v);
        });
        timed += t.elapsed();
    }
    let packets = (packets / size * size).max(1);
    println!(
        "{kind} n={n} packets={packets} (frames parsed per batch): {:.1} ns/packet",
        timed.as_nanos() as f64 / packets as f64
    );
}

/// A TCP packet of the pool with the timestamps option added in the layout
/// stacks send (NOP, NOP, kind 8, length 10, TSval, TSecr), the lengths and
/// both checksums made right again.
fn with_timestamps(b: &[u8]) -> Vec<u8> {
    use ctc_wire::checksum::{checksum, transport_checksum};
    const ETH: usize = 14;
    const L4: usize = ETH + 20;
    let mut p = Vec::with_capacity(b.len() + 12);
    p.extend_from_slice(&b[..L4 + 20]);
    p.extend_from_slice(&[1, 1, 8, 10]);
    p.extend_from_slice(&0x0102_0304u32.to_be_bytes());
    p.extend_from_slice(&0x0506_0708u32.to_be_bytes());
    p.extend_from_slice(&b[L4 + 20..]);
    let total = (p.len() - ETH) as u16;
    p[ETH + 2..ETH + 4].copy_from_slice(&total.to_be_bytes());
    p[ETH + 10..ETH + 12].fill(0);
    let ip = checksum(&p[ETH..L4]);
    p[ETH + 10..ETH + 12].copy_from_slice(&ip.to_be_bytes());
    p[L4 + 12] = 0x80;
    p[L4 + 16..L4 + 18].fill(0);
    let addr = |at: usize| std::net::IpAddr::from(<[u8; 4]>::try_from(&p[at..at + 4]).expect("4 bytes"));
    let ck = transport_checksum(addr(ETH + 12), addr(ETH + 16), 6, &p[L4..]);
    p[L4 + 16..L4 + 18].copy_from_slice(&ck.to_be_bytes());
    p
}

/// `BATCH`: the environment's `CT_BATCH`, or 32.
fn batch_size() -> usize {
    std::env::var("CT_BATCH").ok().and_then(|b| b.parse().ok()).filter(|&b| b > 0).unwrap_or(32)
}
