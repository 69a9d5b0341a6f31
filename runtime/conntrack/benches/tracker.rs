//! Criterion benchmarks of the connection table (issue #4), at 1k, 100k
//! and 1M entries:
//!
//! - `established/{udp,tcp}/N`: one packet of a random existing flow,
//!   `packet()` + `confirm()` (lookup, protocol tracker, refresh, event
//!   check). Packets are built and parsed once, in random flow order, and
//!   cycled through; TCP alternates directions so no segment is a
//!   retransmission. Checksums are verified (nf_conntrack_checksum=1,
//!   frames as parsed: `L4Checksum::NotVerified`).
//! - `established_csum_verified/{udp,tcp}/N`: the same packets marked as
//!   checksum-verified by the device (`Frame::l4_checksum =
//!   L4Checksum::Verified`, CHECKSUM_UNNECESSARY): conntrack skips the
//!   verification, as the kernel does for such packets.
//! - `established_batch/{udp,tcp}/N`: the same packets (checksums
//!   verified), 32 at a time through `packet_batch()` (which prefetches
//!   the bucket and entry of packets a few ahead), `confirm()` for each in
//!   its callback. Criterion's time is per batch of 32: divide by 32 for
//!   the time per packet, to compare with `established`.
//! - `new/{udp,tcp}/N`: a packet that creates and confirms a new flow (a
//!   UDP datagram, a TCP SYN) in a table of N established flows with no
//!   limit; between timed batches of at most N/10 the clock moves on and
//!   the new flows expire (untimed), so the table stays near N.
//! - `new_batch/{udp,tcp}/N`: the same new flows 32 at a time through
//!   `packet_batch()` (time per flow).
//! - `new_at_limit/{udp,tcp}/N`: the same into a full table (`max = N`) of
//!   unreplied flows: every insertion first early-drops one.
//!
//! Events are on (the kernel's default): each new flow delivers a NEW
//! event (and at the limit the victim a DESTROY) into the tracker's
//! buffer, drained outside the timed region.
//!
//! `cargo bench -p ctc-conntrack --bench tracker`

mod common;

use std::hint::black_box;
use std::time::{Duration, Instant};

use common::*;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use ctc_conntrack::Tracker;

const SIZES: [usize; 3] = [1_000, 100_000, 1_000_000];

fn name(proto: u8) -> &'static str {
    if proto == UDP { "udp" } else { "tcp" }
}

fn established(c: &mut Criterion) {
    established_group(c, "established", false);
    established_group(c, "established_csum_verified", true);
}

/// `verified`: the frames say the device verified their checksums.
fn established_group(c: &mut Criterion, group: &str, verified: bool) {
    let mut g = c.benchmark_group(group);
    g.throughput(Throughput::Elements(1));
    for proto in [UDP, TCP] {
        for n in SIZES {
            // Built on first use: criterion calls the closure only for
            // benchmarks its filter selects.
            let mut state = None;
            let now = T0 + 3 * S;
            let mut i = 0;
            let pool_of = |n, proto| {
                let pool = established_pool(n, proto);
                if verified { device_verified(pool) } else { pool }
            };
            g.bench_function(BenchmarkId::new(name(proto), n), |b| {
                let (tr, pool) = state.get_or_insert_with(|| (filled(n, 0, proto, true), pool_of(n, proto)));
                b.iter(|| black_box(pool.step(tr, &mut i, now)))
            });
            if let Some((mut tr, _)) = state {
                // Nothing changed that an event reports.
                assert!(tr.take_events().is_empty());
            }
        }
    }
    g.finish();
}

/// Packets per batch in `established_batch`.
const BATCH: usize = 32;

fn established_batch(c: &mut Criterion) {
    let mut g = c.benchmark_group("established_batch");
    g.throughput(Throughput::Elements(BATCH as u64));
    for proto in [UDP, TCP] {
        for n in SIZES {
            let mut state = None;
            let now = T0 + 3 * S;
            let mut i = 0;
            g.bench_function(BenchmarkId::new(name(proto), n), |b| {
                let (tr, pool) = state.get_or_insert_with(|| (filled(n, 0, proto, true), established_pool(n, proto)));
                // Whole batches only: the pool's length rounded down.
                let len = pool.len() / BATCH * BATCH;
                b.iter(|| {
                    let mut batch: [(&[u8], &ctc_wire::Frame); BATCH] = [(&[], &pool.frames[0]); BATCH];
                    for (j, slot) in batch.iter_mut().enumerate() {
                        *slot = (&pool.bytes[i + j][..], &pool.frames[i + j]);
                    }
                    tr.packet_batch(&batch, now, 0, ctc_conntrack::Hook::Prerouting, |tr, _, v| {
                        if let Some(h) = v.handle {
                            black_box(tr.confirm(h, now));
                        }
                        black_box(v);
                    });
                    i += BATCH;
                    if i == len {
                        i = 0;
                    }
                })
            });
            if let Some((mut tr, _)) = state {
                assert!(tr.take_events().is_empty());
            }
        }
    }
    g.finish();
}

/// Inserts `iters` new flows in batches of at most `batch` (between which
/// the events are drained); returns the time spent in packet() +
/// confirm() only. `size` > 1: the flows go `size` at a time through
/// `packet_batch()`.
fn insert_new(
    tr: &mut Tracker,
    proto: u8,
    iters: u64,
    batch: u64,
    size: usize,
    next: &mut u32,
    now: &mut u64,
) -> Duration {
    let mut p = [0u8; LEN];
    let flags = if proto == TCP { SYN } else { 0 };
    request(*next, proto, flags, 1, 0).write(&mut p);
    let frame = ctc_wire::parse_frame(&p);
    let (mut bufs, mut frames) = (vec![p; size], vec![frame; size]);
    let mut sink = Vec::new();
    let mut total = Duration::ZERO;
    let mut left = iters;
    while left > 0 {
        let k = left.min(batch);
        let t = Instant::now();
        let mut done = 0;
        while done < k {
            let m = (k - done).min(size as u64) as usize;
            insert_flows(tr, &mut bufs[..m], &mut frames[..m], *next, *now);
            *next = next.wrapping_add(m as u32);
            done += m as u64;
        }
        total += t.elapsed();
        left -= k;
        tr.drain_events(&mut sink);
        sink.clear();
    }
    total
}

fn new_flows(c: &mut Criterion) {
    new_flows_group(c, "new", 1);
}

fn new_flows_batch(c: &mut Criterion) {
    new_flows_group(c, "new_batch", BATCH);
}

fn new_flows_group(c: &mut Criterion, group: &str, size: usize) {
    let mut g = c.benchmark_group(group);
    g.throughput(Throughput::Elements(1));
    for proto in [UDP, TCP] {
        for n in SIZES {
            let mut state = None;
            let mut now = T0 + 3 * S;
            // Flow numbers above the table's: every packet is a new flow.
            let mut next = 1u32 << 28;
            let batch = (n as u64 / 10).max(64);
            let mut batches = 0;
            g.bench_function(BenchmarkId::new(name(proto), n), |b| {
                let (tr, pool) = state.get_or_insert_with(|| (filled(n, 0, proto, true), established_pool(n, proto)));
                b.iter_custom(|iters| {
                    let mut total = Duration::ZERO;
                    let mut left = iters;
                    while left > 0 {
                        let k = left.min(batch);
                        total += insert_new(tr, proto, k, batch, size, &mut next, &mut now);
                        left -= k;
                        // Let the batch expire (UDP 30 s, SYN_SENT 120 s),
                        // untimed: the table is back to n.
                        now += 121 * S;
                        tr.advance(now);
                        tr.drain_events(&mut Vec::new());
                        batches += 1;
                        if batches % KEEP_ALIVE_BATCHES == 0 {
                            keep_alive(tr, pool, now);
                        }
                    }
                    total
                })
            });
            if let Some((tr, _)) = state {
                assert_eq!(tr.count(), n);
            }
        }
    }
    g.finish();
}

fn new_flows_at_limit(c: &mut Criterion) {
    let mut g = c.benchmark_group("new_at_limit");
    g.throughput(Throughput::Elements(1));
    for proto in [UDP, TCP] {
        for n in SIZES {
            let mut state = None;
            let mut now = T0;
            let mut next = 1u32 << 28;
            let batch = (n as u64 / 10).max(64);
            g.bench_function(BenchmarkId::new(name(proto), n), |b| {
                let (tr, _) = state.get_or_insert_with(|| {
                    let tr = filled(n, n, proto, false);
                    let drops = tr.stats().early_drop;
                    (tr, drops)
                });
                b.iter_custom(|iters| insert_new(tr, proto, iters, batch, 1, &mut next, &mut now))
            });
            let Some((tr, drops)) = state else { continue };
            let st = tr.stats();
            assert!(st.early_drop > drops);
            // Almost every new flow found a victim.
            assert!(st.drop * 1000 < st.early_drop, "{st:?}");
            eprintln!("new_at_limit/{}/{n}: early_drop {} drop {}", name(proto), st.early_drop - drops, st.drop);
        }
    }
    g.finish();
}

criterion_group!(benches, established, established_batch, new_flows, new_flows_batch, new_flows_at_limit);
criterion_main!(benches);
