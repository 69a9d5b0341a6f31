//! Bytes per entry, measured: a counting global allocator reports the heap
//! the tracker holds after confirming N flows minus what it held before,
//! divided by N, at 1k, 100k and 1M entries (IPv4 UDP and TCP flows, and
//! IPv6 UDP flows, whose addresses go to a side slab). "table"
//! counts what the entries add (slab, timer heap, their vectors' spare
//! capacity); "+ buckets" adds the bucket array (nf_conntrack_buckets = N,
//! allocated when the table is created).
//!
//! It also checks that the packet path allocates nothing: an established
//! flow's packet + confirm, and, once the table is full, a new flow that
//! early-drops another (slots and heap nodes are reused; events go to a
//! buffer that is drained between rounds).
//!
//! `cargo bench -p ctc-conntrack --bench memory`

#![allow(unsafe_code)]

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

use common::*;
use ctc_conntrack::{TcpConn, Tracker, Tuple};

struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static ALLOCS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards to the system allocator, only counting.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        LIVE.fetch_add(l.size(), Relaxed);
        ALLOCS.fetch_add(1, Relaxed);
        // SAFETY: the caller's contract is System's.
        unsafe { System.alloc(l) }
    }

    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        LIVE.fetch_sub(l.size(), Relaxed);
        // SAFETY: as above.
        unsafe { System.dealloc(p, l) }
    }

    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        LIVE.fetch_add(new, Relaxed);
        LIVE.fetch_sub(l.size(), Relaxed);
        ALLOCS.fetch_add(1, Relaxed);
        // SAFETY: as above.
        unsafe { System.realloc(p, l, new) }
    }
}

#[global_allocator]
static A: Counting = Counting;

/// Confirms flows `0..n` (the first packet of each and, for `established`,
/// the rest of the exchange) into `tr`, with no allocation outside the
/// tracker: one packet buffer rewritten in place, events drained into a
/// buffer that keeps its capacity.
fn insert(tr: &mut Tracker, n: usize, proto: u8, established: bool, sink: &mut Vec<ctc_conntrack::Event>) {
    let mut b = [0u8; LEN];
    for k in 0..n as u32 {
        let (c, s) = isn(k);
        let pkts = if proto == UDP {
            [Some(request(k, UDP, 0, 0, 0)), established.then(|| reply(k, UDP, 0, 0, 0)), None]
        } else {
            [
                Some(request(k, TCP, SYN, c, 0)),
                established.then(|| reply(k, TCP, SYN | ACK, s, c.wrapping_add(1))),
                established.then(|| request(k, TCP, ACK, c.wrapping_add(1), s.wrapping_add(1))),
            ]
        };
        for p in pkts.iter().flatten() {
            p.write(&mut b);
            let f = ctc_wire::parse_frame(&b);
            let v = tr.packet(&b, &f, T0, 0);
            assert!(tr.confirm(v.handle.expect("tracked"), T0));
            tr.drain_events(sink);
            sink.clear();
        }
    }
}

fn per_entry(n: usize, proto: u8) {
    let mut sink = Vec::with_capacity(16);
    let before_new = LIVE.load(Relaxed);
    let mut tr = Tracker::new(config(n, 0));
    let before = LIVE.load(Relaxed);
    insert(&mut tr, n, proto, true, &mut sink);
    let after = LIVE.load(Relaxed);
    assert_eq!(tr.count(), n);
    let table = (after - before) as f64 / n as f64;
    let all = (after - before_new) as f64 / n as f64;
    let name = if proto == UDP { "udp" } else { "tcp" };
    println!("bytes/entry {name:>3} n={n:>9}: table {table:7.1}  + buckets {all:7.1}");
    drop(tr);
}

/// An IPv6 UDP datagram in an Ethernet frame between `2001:db8::k` port
/// `k` and `2001:db8:ffff::1` port 53 (or back), checksum left zero: the
/// frames say the device verified it.
fn udp6(k: u32, reply: bool, out: &mut Vec<u8>) {
    let c = core::net::Ipv6Addr::from(0x2001_0db8_0000_0000_0000_0000_0000_0000u128 | u128::from(k)).octets();
    let s = core::net::Ipv6Addr::new(0x2001, 0xdb8, 0xffff, 0, 0, 0, 0, 1).octets();
    let (src, dst, sp, dp) = if reply { (s, c, 53, k as u16) } else { (c, s, k as u16, 53) };
    out.clear();
    out.extend_from_slice(&[2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x86, 0xdd]);
    out.extend_from_slice(&[0x60, 0, 0, 0, 0, 12, 17, 64]);
    out.extend_from_slice(&src);
    out.extend_from_slice(&dst);
    out.extend_from_slice(&u16::to_be_bytes(sp));
    out.extend_from_slice(&u16::to_be_bytes(dp));
    out.extend_from_slice(&[0, 12, 0, 0, 1, 2, 3, 4]);
}

/// As [`per_entry`] for IPv6 UDP flows (replied: ASSURED).
fn per_entry_v6(n: usize) {
    let mut sink = Vec::with_capacity(16);
    let before_new = LIVE.load(Relaxed);
    let mut tr = Tracker::new(config(n, 0));
    let before = LIVE.load(Relaxed);
    let mut b = Vec::with_capacity(128);
    for k in 0..n as u32 {
        for reply in [false, true] {
            udp6(k, reply, &mut b);
            let mut f = ctc_wire::parse_frame(&b);
            f.l4_checksum = ctc_wire::L4Checksum::Verified;
            let v = tr.packet(&b, &f, T0, 0);
            assert!(tr.confirm(v.handle.expect("tracked"), T0));
            tr.drain_events(&mut sink);
            sink.clear();
        }
    }
    let after = LIVE.load(Relaxed);
    assert_eq!(tr.count(), n);
    let table = (after - before) as f64 / n as f64;
    let all = (after - before_new) as f64 / n as f64;
    println!("bytes/entry udp6 n={n:>8}: table {table:7.1}  + buckets {all:7.1}");
    drop(tr);
}

/// Allocations made by `f`.
fn allocs(f: impl FnOnce()) -> usize {
    let a = ALLOCS.load(Relaxed);
    f();
    ALLOCS.load(Relaxed) - a
}

fn no_alloc_on_packet_path(proto: u8) {
    let n = 10_000;
    let name = if proto == UDP { "udp" } else { "tcp" };
    // Established flows: packet() + confirm().
    let mut tr = filled(n, 0, proto, true);
    let pool = established_pool(n, proto);
    let now = T0 + 3 * S;
    let count = allocs(|| {
        for _ in 0..3 {
            for (b, f) in pool.bytes.iter().zip(&pool.frames) {
                let v = tr.packet(b, f, now, 0);
                assert!(tr.confirm(v.handle.expect("tracked"), now));
            }
        }
    });
    println!("allocations, {} established {name} packets: {count}", 3 * pool.len());
    assert_eq!(count, 0, "the established packet path allocates");
    drop((tr, pool));

    // New flows into a full table (early drop frees a slot first).
    let mut tr = filled(n, n, proto, false);
    let mut sink = Vec::with_capacity(4 * n);
    tr.drain_events(&mut sink);
    sink.clear();
    let mut p = [0u8; LEN];
    let flags = if proto == TCP { SYN } else { 0 };
    request(1 << 28, proto, flags, 1, 0).write(&mut p);
    let mut frame = ctc_wire::parse_frame(&p);
    // Rounds to bring every buffer to its steady size.
    let mut round = |tr: &mut Tracker, base: u32| {
        for k in 0..n as u32 {
            set_flow(&mut p, &mut frame, base + k);
            let v = tr.packet(&p, &frame, T0, 0);
            assert!(tr.confirm(v.handle.expect("tracked"), T0));
        }
        tr.drain_events(&mut sink);
        sink.clear();
    };
    for r in 0..3 {
        round(&mut tr, (1 << 28) + r * n as u32);
    }
    let count = allocs(|| round(&mut tr, (1 << 28) + 3 * n as u32));
    println!("allocations, {n} new {name} flows into a full table: {count}");
    // Buffers may still grow to a new high-water mark now and then (the
    // free list when one early drop evicts several entries); nothing is
    // allocated per flow.
    assert!(count * 100 < n, "creating a flow allocates");
}

fn main() {
    // `cargo test --benches` runs this too: keep it to the small table.
    let sizes: &[usize] =
        if std::env::args().any(|a| a == "--bench") { &[1_000, 100_000, 1_000_000] } else { &[1_000] };
    println!(
        "size_of: stored entry {} Tuple {} TcpConn {} Event {}",
        ctc_conntrack::SLOT_BYTES,
        size_of::<Tuple>(),
        size_of::<TcpConn>(),
        size_of::<ctc_conntrack::Event>()
    );
    for proto in [UDP, TCP] {
        for &n in sizes {
            per_entry(n, proto);
        }
    }
    for &n in sizes {
        per_entry_v6(n);
    }
    for proto in [UDP, TCP] {
        no_alloc_on_packet_path(proto);
    }
}
