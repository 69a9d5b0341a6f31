//! The TCP fast path ([`Tracker::tcp_established`]) against the general
//! path: two tables, one of them with the fast path off, get the same
//! random segments (handshakes with and without SACK and window scaling,
//! then ACKs with data, timestamps and SACK blocks, in and out of window,
//! FINs, RSTs, SYNs, bad checksums, `ct timeout` policies); after every
//! segment their verdicts, entries (TCP state and windows, status,
//! counters, timeouts), events and statistics must be the same.

use proptest::prelude::*;

use super::*;
use crate::Timeouts;

const T0: u64 = 1_795_246_120 * 1_000_000_000;
const MS: u64 = 1_000_000;

const FIN: u8 = 0x01;
const SYN: u8 = 0x02;
const RST: u8 = 0x04;
const PSH: u8 = 0x08;
const ACK: u8 = 0x10;

/// Connection `k`'s client (10.0.0.k:4000+k) and server (192.0.2.1:80).
fn ends(k: u8) -> ([u8; 4], u16, [u8; 4], u16) {
    ([10, 0, 0, k], 4000 + u16::from(k), [192, 0, 2, 1], 80)
}

/// Ethernet + IPv4 + TCP with these options and `data` bytes of payload,
/// both checksums right unless `bad_checksum`.
#[allow(clippy::too_many_arguments)]
fn segment(
    k: u8,
    reply: bool,
    flags: u8,
    seq: u32,
    ack: u32,
    window: u16,
    opts: &[u8],
    data: usize,
    bad_checksum: bool,
) -> Vec<u8> {
    let (c, cp, s, sp) = ends(k);
    let (src, sport, dst, dport) = if reply { (s, sp, c, cp) } else { (c, cp, s, sp) };
    assert!(opts.len().is_multiple_of(4) && opts.len() <= 40);
    let tcp_len = 20 + opts.len() + data;
    let mut b = vec![0u8; 14 + 20 + tcp_len];
    b[12..14].copy_from_slice(&[8, 0]);
    let ip = &mut b[14..34];
    ip[0] = 0x45;
    ip[2..4].copy_from_slice(&((20 + tcp_len) as u16).to_be_bytes());
    ip[8] = 64;
    ip[9] = 6;
    ip[12..16].copy_from_slice(&src);
    ip[16..20].copy_from_slice(&dst);
    let ck = ctc_wire::checksum::checksum(ip);
    ip[10..12].copy_from_slice(&ck.to_be_bytes());
    let t = &mut b[34..];
    t[0..2].copy_from_slice(&sport.to_be_bytes());
    t[2..4].copy_from_slice(&dport.to_be_bytes());
    t[4..8].copy_from_slice(&seq.to_be_bytes());
    t[8..12].copy_from_slice(&ack.to_be_bytes());
    t[12] = (((20 + opts.len()) / 4) << 4) as u8;
    t[13] = flags;
    t[14..16].copy_from_slice(&window.to_be_bytes());
    t[20..20 + opts.len()].copy_from_slice(opts);
    for (i, d) in t[20 + opts.len()..].iter_mut().enumerate() {
        *d = i as u8;
    }
    let ck = ctc_wire::checksum::transport_checksum(IpAddr::from(src), IpAddr::from(dst), 6, t);
    let ck = if bad_checksum { ck ^ 0x0101 } else { ck };
    t[16..18].copy_from_slice(&ck.to_be_bytes());
    b
}

/// The options of a SYN: MSS, then SACK-permitted and window scale as
/// offered.
fn syn_options(sack: bool, wscale: Option<u8>) -> Vec<u8> {
    let mut o = vec![2, 4, 0x05, 0xb4];
    if sack {
        o.extend_from_slice(&[1, 1, 4, 2]);
    }
    if let Some(ws) = wscale {
        o.extend_from_slice(&[1, 3, 3, ws]);
    }
    o
}

/// The options of a later segment: none, timestamps (the layout stacks
/// send), timestamps and a SACK block, or a SACK block alone (the block
/// ending `sack_right`).
fn later_options(kind: u8, sack_right: u32) -> Vec<u8> {
    let ts = [1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2];
    let mut sack = vec![1, 1, 5, 10];
    sack.extend_from_slice(&sack_right.wrapping_sub(100).to_be_bytes());
    sack.extend_from_slice(&sack_right.to_be_bytes());
    match kind % 4 {
        0 => Vec::new(),
        1 => ts.to_vec(),
        2 => [&ts[..], &sack[..]].concat(),
        _ => sack,
    }
}

/// Both tables: `general` with the fast path off.
struct Pair {
    fast: Tracker,
    general: Tracker,
}

impl Pair {
    /// One segment through both tables (confirmed where it was tracked),
    /// then everything compared. The handle, to set a policy on before
    /// confirmation when `policy` is given.
    fn send(&mut self, b: &[u8], now: u64, policy: Option<&Timeouts>) -> Result<(), TestCaseError> {
        let frame = ctc_wire::parse_frame(b);
        let vf = self.fast.packet(b, &frame, now, 0);
        let vg = self.general.packet(b, &frame, now, 0);
        prop_assert_eq!(vf, vg);
        if let Some(h) = vf.handle {
            if let Some(t) = policy {
                self.fast.set_timeouts(h, t.clone());
                self.general.set_timeouts(h, t.clone());
            }
            prop_assert_eq!(self.fast.confirm(h, now), self.general.confirm(h, now));
        }
        prop_assert_eq!(self.fast.entries().collect::<Vec<_>>(), self.general.entries().collect::<Vec<_>>());
        prop_assert_eq!(self.fast.take_events(), self.general.take_events());
        prop_assert_eq!(self.fast.stats(), self.general.stats());
        Ok(())
    }
}

#[derive(Debug, Clone)]
struct Step {
    conn: u8,
    reply: bool,
    flags: u8,
    /// From the next sequence number the sender would use, and from the
    /// one the receiver would use (the ACK), as tracked by the test.
    seq: i32,
    ack: i32,
    window: u16,
    data: usize,
    options: u8,
    sack: i32,
    bad_checksum: bool,
    ms: u64,
}

fn delta() -> impl Strategy<Value = i32> {
    prop_oneof![6 => Just(0i32), 3 => -3000..=3000i32, 1 => any::<i32>()]
}

fn step(conns: u8) -> impl Strategy<Value = Step> {
    (
        (0..conns, any::<bool>()),
        prop_oneof![
            12 => prop::sample::select(vec![ACK, ACK | PSH, ACK | 0x20, ACK | 0xc0]),
            1 => prop::sample::select(vec![FIN | ACK, RST, RST | ACK, SYN, SYN | ACK, FIN, 0]),
        ],
        (delta(), delta()),
        prop_oneof![Just(0u16), any::<u16>(), Just(65535u16)],
        prop_oneof![2 => Just(0usize), 3 => 1..600usize],
        (any::<u8>(), -2000..=2000i32),
        prop::bool::weighted(0.05),
        0..3000u64,
    )
        .prop_map(|((conn, reply), flags, (seq, ack), window, data, (options, sack), bad_checksum, ms)| Step {
            conn,
            reply,
            flags,
            seq,
            ack,
            window,
            data,
            options,
            sack,
            bad_checksum,
            ms,
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn the_tcp_fast_path_leaves_what_the_general_path_leaves(
        checksum in any::<bool>(),
        be_liberal in prop::bool::weighted(0.2),
        handshakes in prop::collection::vec((any::<bool>(), prop::option::of(0..15u8), any::<bool>(), prop::option::of(0..15u8), any::<bool>()), 4),
        steps in prop::collection::vec(step(4), 1..120),
    ) {
        let mut cfg = Config { buckets: 16, checksum, ..Config::default() };
        cfg.tcp.be_liberal = be_liberal;
        let mut pair = Pair { fast: Tracker::new(cfg.clone()), general: Tracker::new(cfg.clone()) };
        pair.general.general_only = true;
        let mut policy = Timeouts::from_config(&cfg);
        policy.tcp.timeout_established = 1000;
        policy.tcp.timeout_unacknowledged = 200;
        // Next sequence number of each side: [conn][client, server].
        let mut next = [[0u32; 2]; 4];
        let mut now = T0;
        for (k, &(c_sack, c_ws, s_sack, s_ws, with_policy)) in handshakes.iter().enumerate() {
            let k = k as u8;
            let (c, s) = (u32::from(k).wrapping_mul(0x9e37_79b9), u32::from(k).wrapping_mul(0x7f4a_7c15) ^ 0xdead_0000);
            let syn = segment(k, false, SYN, c, 0, 64240, &syn_options(c_sack, c_ws), 0, false);
            pair.send(&syn, now, with_policy.then_some(&policy))?;
            let synack = segment(k, true, SYN | ACK, s, c.wrapping_add(1), 65160, &syn_options(s_sack, s_ws), 0, false);
            pair.send(&synack, now, None)?;
            pair.send(&segment(k, false, ACK, c.wrapping_add(1), s.wrapping_add(1), 502, &[], 0, false), now, None)?;
            next[k as usize] = [c.wrapping_add(1), s.wrapping_add(1)];
        }
        for st in steps {
            let k = st.conn as usize;
            let (d, o) = if st.reply { (1, 0) } else { (0, 1) };
            let seq = next[k][d].wrapping_add(st.seq as u32);
            let ack = next[k][o].wrapping_add(st.ack as u32);
            let opts = later_options(st.options, ack.wrapping_add(st.sack as u32));
            let b = segment(st.conn, st.reply, st.flags, seq, ack, st.window, &opts, st.data, st.bad_checksum);
            now += st.ms * MS;
            pair.send(&b, now, None)?;
            // The sender moves on by what it sent (as the other side will
            // ACK it).
            if st.seq == 0 {
                next[k][d] = seq.wrapping_add(st.data as u32);
            }
        }
    }
}

/// The fast path is taken for an in-window ACK of an established
/// connection (else the property above would hold of a fast path that
/// takes nothing), and not for its FIN.
#[test]
fn the_fast_path_takes_an_established_ack() {
    let mut tr = Tracker::new(Config { buckets: 16, ..Config::default() });
    let send = |tr: &mut Tracker, b: &[u8]| {
        let v = tr.packet(b, &ctc_wire::parse_frame(b), T0, 0);
        let h = v.handle.expect("tracked");
        assert!(tr.confirm(h, T0));
        v
    };
    send(&mut tr, &segment(1, false, SYN, 1000, 0, 64240, &syn_options(true, Some(7)), 0, false));
    send(&mut tr, &segment(1, true, SYN | ACK, 5000, 1001, 65160, &syn_options(true, Some(7)), 0, false));
    send(&mut tr, &segment(1, false, ACK, 1001, 5001, 502, &[], 0, false));
    assert_eq!(tr.fast_taken, 0);
    let v = send(&mut tr, &segment(1, false, ACK | PSH, 1001, 5001, 502, &later_options(1, 0), 100, false));
    assert_eq!((tr.fast_taken, v.state), (1, CtState::Established));
    send(&mut tr, &segment(1, true, ACK, 5001, 1101, 509, &later_options(2, 1101), 0, false));
    assert_eq!(tr.fast_taken, 2);
    send(&mut tr, &segment(1, false, FIN | ACK, 1101, 5001, 502, &[], 0, false));
    assert_eq!(tr.fast_taken, 2);
}
