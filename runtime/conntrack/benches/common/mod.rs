//! Shared by the tracker benchmarks: IPv4 packets with valid checksums, a
//! flow numbering (flow `k` is `10.a.b.c:port -> 192.0.2.1:53|80`, unique
//! for every `k < 2^32`), and tables filled with N confirmed flows.
//!
//! Frames are parsed once ([`ctc_wire::parse_frame`]); a benchmark that
//! needs a fresh tuple per packet rewrites the source address and port in
//! place ([`set_flow`]) and patches the checksums incrementally (RFC 1624),
//! so nothing is allocated or re-parsed in a timed loop.

#![allow(dead_code)]

use core::net::{IpAddr, Ipv4Addr};

use ctc_conntrack::{Config, Tracker};
use ctc_wire::Frame;

pub const S: u64 = 1_000_000_000;
/// A packet clock like the oracle's (epoch ns), on a jiffy boundary.
pub const T0: u64 = 1_795_246_120 * S;
pub const SERVER: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);
pub const UDP: u8 = 17;
pub const TCP: u8 = 6;
/// Every packet built here is this long (Ethernet + IPv4 + 8-byte UDP
/// header with 18 bytes of payload, or a 20-byte TCP header with 6).
pub const LEN: usize = 60;
const ETH: usize = 14;
const L4: usize = ETH + 20;

/// The client end of flow `k`.
pub fn client(k: u32) -> (Ipv4Addr, u16) {
    let a = 0x0a00_0000 | (k >> 16);
    (Ipv4Addr::from(a), k as u16)
}

fn sum16(data: &[u8], mut sum: u32) -> u32 {
    for c in data.chunks(2) {
        sum += u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]));
    }
    sum
}

fn fold(mut sum: u32) -> u16 {
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    sum as u16
}

/// One IPv4 packet in an Ethernet frame, checksums filled in.
pub struct Pkt {
    pub src: Ipv4Addr,
    pub dst: Ipv4Addr,
    pub sport: u16,
    pub dport: u16,
    pub proto: u8,
    pub tcp_flags: u8,
    pub seq: u32,
    pub ack: u32,
}

impl Pkt {
    pub fn write(&self, out: &mut [u8; LEN]) {
        out.fill(0);
        out[..12].copy_from_slice(&[2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2]);
        out[12..14].copy_from_slice(&[8, 0]);
        let ip = &mut out[ETH..L4];
        ip[0] = 0x45;
        ip[2..4].copy_from_slice(&((LEN - ETH) as u16).to_be_bytes());
        ip[4..9].copy_from_slice(&[0, 1, 0x40, 0, 64]);
        ip[9] = self.proto;
        ip[12..16].copy_from_slice(&self.src.octets());
        ip[16..20].copy_from_slice(&self.dst.octets());
        let c = !fold(sum16(ip, 0));
        ip[10..12].copy_from_slice(&c.to_be_bytes());
        let l4_len = LEN - L4;
        let l4 = &mut out[L4..];
        l4[0..2].copy_from_slice(&self.sport.to_be_bytes());
        l4[2..4].copy_from_slice(&self.dport.to_be_bytes());
        let ck_at = if self.proto == TCP {
            l4[4..8].copy_from_slice(&self.seq.to_be_bytes());
            l4[8..12].copy_from_slice(&self.ack.to_be_bytes());
            l4[12] = 0x50;
            l4[13] = self.tcp_flags;
            l4[14..16].copy_from_slice(&0xfaf0u16.to_be_bytes());
            16
        } else {
            l4[4..6].copy_from_slice(&(l4_len as u16).to_be_bytes());
            6
        };
        let mut pseudo = [0u8; 12];
        pseudo[..4].copy_from_slice(&self.src.octets());
        pseudo[4..8].copy_from_slice(&self.dst.octets());
        pseudo[9] = self.proto;
        pseudo[10..12].copy_from_slice(&(l4_len as u16).to_be_bytes());
        let c = !fold(sum16(l4, sum16(&pseudo, 0)));
        let c = if c == 0 && self.proto == UDP { 0xffff } else { c };
        l4[ck_at..ck_at + 2].copy_from_slice(&c.to_be_bytes());
    }
}

/// A client-to-server packet of flow `k`: a UDP datagram, or a TCP segment
/// with these flags and numbers.
pub fn request(k: u32, proto: u8, tcp_flags: u8, seq: u32, ack: u32) -> Pkt {
    let (src, sport) = client(k);
    let dport = if proto == TCP { 80 } else { 53 };
    Pkt { src, dst: SERVER, sport, dport, proto, tcp_flags, seq, ack }
}

/// The server-to-client packet of flow `k`.
pub fn reply(k: u32, proto: u8, tcp_flags: u8, seq: u32, ack: u32) -> Pkt {
    let q = request(k, proto, tcp_flags, seq, ack);
    Pkt { src: q.dst, dst: q.src, sport: q.dport, dport: q.sport, ..q }
}

/// RFC 1624 eqn. 3: the checksum after one 16-bit word changed.
fn csum_replace(ck: u16, old: u16, new: u16) -> u16 {
    !fold(u32::from(!ck) + u32::from(!old) + u32::from(new))
}

fn word(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

fn set_word(b: &mut [u8], at: usize, v: u16) {
    b[at..at + 2].copy_from_slice(&v.to_be_bytes());
}

/// Turns a request packet (and its parsed frame) of some flow into the
/// request of flow `k`: source address and port rewritten, IP and
/// transport checksums patched. No allocation, no re-parse.
#[inline]
pub fn set_flow(pkt: &mut [u8; LEN], frame: &mut Frame, k: u32) {
    let (src, sport) = client(k);
    let tck = if pkt[ETH + 9] == TCP { L4 + 16 } else { L4 + 6 };
    let o = src.octets();
    let mut ipck = word(pkt, ETH + 10);
    let mut l4ck = word(pkt, tck);
    for (i, at) in [ETH + 12, ETH + 14].into_iter().enumerate() {
        let (old, new) = (word(pkt, at), u16::from_be_bytes([o[2 * i], o[2 * i + 1]]));
        ipck = csum_replace(ipck, old, new);
        l4ck = csum_replace(l4ck, old, new);
        set_word(pkt, at, new);
    }
    l4ck = csum_replace(l4ck, word(pkt, L4), sport);
    set_word(pkt, L4, sport);
    set_word(pkt, ETH + 10, ipck);
    set_word(pkt, tck, l4ck);
    if let Some(n) = frame.network.as_mut() {
        n.src = Some(IpAddr::V4(src));
    }
}

/// Packets stored back to back with their parsed frames.
pub struct Pool {
    pub bytes: Vec<[u8; LEN]>,
    pub frames: Vec<Frame>,
}

impl Pool {
    pub fn new(pkts: impl IntoIterator<Item = Pkt>) -> Pool {
        let mut pool = Pool { bytes: Vec::new(), frames: Vec::new() };
        for p in pkts {
            let mut b = [0u8; LEN];
            p.write(&mut b);
            pool.frames.push(ctc_wire::parse_frame(&b));
            pool.bytes.push(b);
        }
        pool
    }

    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// Packet `*i` through `tr` and confirmed, as the datapath does with an
    /// accepted packet; `*i` moves on, round the pool.
    pub fn step(&self, tr: &mut Tracker, i: &mut usize, now: u64) -> ctc_conntrack::Verdict {
        let v = tr.packet(&self.bytes[*i], &self.frames[*i], now, 0);
        if let Some(h) = v.handle {
            std::hint::black_box(tr.confirm(h, now));
        }
        *i += 1;
        if *i == self.len() {
            *i = 0;
        }
        v
    }
}

/// A deterministic shuffle (xorshift64*, Fisher-Yates).
pub fn shuffle<T>(v: &mut [T], mut seed: u64) {
    for i in (1..v.len()).rev() {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let j = (seed.wrapping_mul(0x2545_f491_4f6c_dd1d) % (i as u64 + 1)) as usize;
        v.swap(i, j);
    }
}

/// The settings of a table sized for `n` entries: the kernel's defaults
/// (checksums verified, events on) with nf_conntrack_buckets = n (the
/// kernel's own ratio: max = buckets), `max` as given (0: no limit), and
/// the timeouts of established flows long enough that nothing set up
/// expires during a run: five days, the kernel's default for established
/// TCP (a value its sysctls and its 32-bit jiffy timeouts hold; the new-flow
/// runs move the clock by at most about 1.4 days).
pub fn config(n: usize, max: usize) -> Config {
    let mut c = Config { buckets: n.max(1), max, udp_timeout_stream: 432_000, ..Config::default() };
    c.tcp.timeout_established = 432_000;
    c
}

/// Batches of new flows (121 s of packet clock each, see the `new`
/// benchmarks) after which the established flows of the table get a
/// packet each, untimed ([`keep_alive`]), so that they outlive a run of
/// any length with the kernel's five-day timeouts ([`config`]).
pub const KEEP_ALIVE_BATCHES: u64 = 3000;

/// One packet of every established flow of `pool` through `tr` at `now`.
pub fn keep_alive(tr: &mut Tracker, pool: &Pool, now: u64) {
    let mut i = 0;
    for _ in 0..pool.len() {
        pool.step(tr, &mut i, now);
    }
}

/// The ISNs of flow `k`'s client and server.
pub fn isn(k: u32) -> (u32, u32) {
    (k.wrapping_mul(2_654_435_761), k.wrapping_mul(40_503).wrapping_add(7))
}

/// TCP flags.
pub const SYN: u8 = 0x02;
pub const ACK: u8 = 0x10;

/// Runs one packet through the tracker and confirms it.
pub fn pass(tr: &mut Tracker, p: &Pkt, now: u64) {
    let mut b = [0u8; LEN];
    p.write(&mut b);
    let v = tr.packet(&b, &ctc_wire::parse_frame(&b), now, 0);
    let h = v.handle.expect("tracked");
    assert!(tr.confirm(h, now));
}

/// A table of `n` confirmed flows `0..n` at time [`T0`] + 3 s: UDP flows
/// replied and seen again after 2 s (ASSURED streams), or TCP connections
/// after their handshake (ESTABLISHED, ASSURED). With `established =
/// false`, only the first packet of each flow (unreplied UDP, or TCP in
/// SYN_SENT: the entries early drop may evict).
pub fn filled(n: usize, max: usize, proto: u8, established: bool) -> Tracker {
    let mut tr = Tracker::new(config(n, max));
    let mut sink = Vec::new();
    for k in 0..n as u32 {
        let (c, s) = isn(k);
        if proto == UDP {
            pass(&mut tr, &request(k, UDP, 0, 0, 0), T0);
            if established {
                pass(&mut tr, &reply(k, UDP, 0, 0, 0), T0);
            }
        } else {
            pass(&mut tr, &request(k, TCP, SYN, c, 0), T0);
            if established {
                pass(&mut tr, &reply(k, TCP, SYN | ACK, s, c.wrapping_add(1)), T0);
                pass(&mut tr, &request(k, TCP, ACK, c.wrapping_add(1), s.wrapping_add(1)), T0);
            }
        }
        tr.drain_events(&mut sink);
        sink.clear();
    }
    if proto == UDP && established {
        // Seen again after 2 s: a stream, ASSURED.
        for k in 0..n as u32 {
            pass(&mut tr, &request(k, UDP, 0, 0, 0), T0 + 3 * S);
            tr.drain_events(&mut sink);
            sink.clear();
        }
    }
    assert_eq!(tr.count(), n);
    tr
}

/// The established packets of flows `0..n` in random order: the client's
/// (for TCP followed by the server's, so each connection alternates
/// directions and no segment is a retransmission of the previous one).
pub fn established_pool(n: usize, proto: u8) -> Pool {
    let mut order: Vec<u32> = (0..n as u32).collect();
    shuffle(&mut order, 0x9e37_79b9_7f4a_7c15 ^ n as u64);
    let mk = |k: u32, dir: usize| {
        let (c, s) = isn(k);
        match (proto, dir) {
            (UDP, 0) => request(k, UDP, 0, 0, 0),
            (UDP, _) => reply(k, UDP, 0, 0, 0),
            (_, 0) => request(k, TCP, ACK, c.wrapping_add(1), s.wrapping_add(1)),
            (_, _) => reply(k, TCP, ACK, s.wrapping_add(1), c.wrapping_add(1)),
        }
    };
    let dirs: &[usize] = if proto == UDP { &[0] } else { &[0, 1] };
    Pool::new(dirs.iter().flat_map(|&d| order.iter().map(move |&k| mk(k, d))))
}

/// The same pool with every frame marked as if the receiving device had
/// verified its transport checksum (`Frame::l4_checksum`, what NFQUEUE
/// reports when neither NFQA_SKB_CSUMNOTREADY nor
/// NFQA_SKB_CSUM_NOTVERIFIED is set): conntrack then skips the
/// verification.
pub fn device_verified(mut pool: Pool) -> Pool {
    for f in &mut pool.frames {
        f.l4_checksum = ctc_wire::L4Checksum::Verified;
    }
    pool
}

/// New flows `first, first + 1, ...`, one per packet of `bufs` (made by
/// [`request`], `frames` their parsed frames), through `tr` and confirmed:
/// one at a time for a single packet, else all through
/// `Tracker::packet_batch`. The packets are rewritten ([`set_flow`]).
/// Inlined, as the loops it serves were written before: the harness adds
/// as few instructions as it can to the per-flow figures.
#[inline(always)]
pub fn insert_flows(tr: &mut Tracker, bufs: &mut [[u8; LEN]], frames: &mut [Frame], first: u32, now: u64) {
    for (j, (b, f)) in bufs.iter_mut().zip(frames.iter_mut()).enumerate() {
        set_flow(b, f, first.wrapping_add(j as u32));
    }
    // At the limit, early drop may find no victim in its 8 buckets: the
    // packet is dropped (stat drop), as the kernel's.
    if let ([b], [f]) = (&*bufs, &*frames) {
        let v = tr.packet(b, f, now, 0);
        if let Some(h) = v.handle {
            std::hint::black_box(tr.confirm(h, now));
        }
        return;
    }
    let all: Vec<(&[u8], &Frame)> = bufs.iter().map(|b| &b[..]).zip(frames.iter()).collect();
    tr.packet_batch(&all, now, 0, ctc_conntrack::Hook::Prerouting, |tr, _, v| {
        if let Some(h) = v.handle {
            std::hint::black_box(tr.confirm(h, now));
        }
    });
}
