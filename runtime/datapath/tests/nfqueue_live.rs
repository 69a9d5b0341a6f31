//! NFQUEUE against the real kernel (issue #7's foundation): a queue bound
//! in a fresh network namespace receives what an `iptables -j NFQUEUE`
//! rule queues, and its verdicts (accept, accept with a rewritten payload,
//! drop, a batch) decide what a socket receives.
//!
//! The test runs itself inside the namespace (`ip netns exec NS <this test
//! binary> --ignored nfqueue_child`): a queue is bound by the process that
//! lives in the namespace. It needs root, `ip` and `iptables` (in CI it
//! runs; elsewhere it says why it skips).

mod common;

use common::Netns;
use ctc_datapath::nfqueue::{Packet, Queue, QueueOptions, Verdict};
use std::net::UdpSocket;
use std::time::{Duration, Instant};

const QUEUE: u16 = 3;
const PORT: u16 = 9;

#[test]
fn nfqueue_verdicts_decide_what_the_socket_receives() {
    let Some(ns) = Netns::for_root_test("nfqueue_live", "ctcq", "network namespaces and NFQUEUE") else { return };
    let port = PORT.to_string();
    let queue = QUEUE.to_string();
    assert!(
        ns.exec(&[
            "iptables",
            "-t",
            "raw",
            "-A",
            "OUTPUT",
            "-p",
            "udp",
            "--dport",
            &port,
            "-j",
            "NFQUEUE",
            "--queue-num",
            &queue,
        ]),
        "iptables -j NFQUEUE (the iptables package is needed)"
    );
    ns.run_child("nfqueue_child");
}

/// Wait (bounded) for `n` packets on the queue.
fn packets(q: &mut Queue, n: usize) -> Vec<Packet> {
    let mut got = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(5);
    while got.len() < n {
        assert!(Instant::now() < deadline, "only {} of {n} packets queued", got.len());
        if let Err(e) = q.recv(&mut got) {
            assert!(matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut), "{e}");
        }
    }
    got
}

fn udp_payload(p: &Packet) -> &[u8] {
    let ihl = usize::from(p.payload[0] & 0xf) * 4;
    &p.payload[ihl + 8..]
}

#[test]
#[ignore = "run by nfqueue_verdicts_decide_what_the_socket_receives inside its namespace"]
fn nfqueue_child() {
    let mut q = Queue::open(QUEUE, &QueueOptions::default()).expect("bind the queue");
    q.set_timeout(Some(Duration::from_millis(200))).unwrap();
    let rx = UdpSocket::bind(("127.0.0.1", PORT)).unwrap();
    rx.set_read_timeout(Some(Duration::from_millis(500))).unwrap();
    let tx = UdpSocket::bind("127.0.0.1:0").unwrap();
    let recv = || -> Vec<u8> {
        let mut buf = [0u8; 2048];
        let n = rx.recv(&mut buf).expect("a datagram");
        buf[..n].to_vec()
    };

    // Accepted as it is.
    tx.send_to(b"one", ("127.0.0.1", PORT)).unwrap();
    let p = packets(&mut q, 1).remove(0);
    assert_eq!((p.hw_protocol, p.hook, p.payload[0] >> 4, p.payload[9]), (0x0800, 3, 4, 17), "{p:?}");
    assert_eq!(udp_payload(&p), b"one");
    q.verdict(p.id, Verdict::Accept, None, None, None).unwrap();
    assert_eq!(recv(), b"one");

    // Accepted with a new payload (the UDP checksum cleared: none, for IPv4).
    tx.send_to(b"two", ("127.0.0.1", PORT)).unwrap();
    let p = packets(&mut q, 1).remove(0);
    let mut new = p.payload.clone();
    let ihl = usize::from(new[0] & 0xf) * 4;
    new[ihl + 6..ihl + 8].copy_from_slice(&[0, 0]);
    let at = new.len() - 3;
    new[at..].copy_from_slice(b"TWO");
    q.verdict(p.id, Verdict::Accept, Some(&new), None, None).unwrap();
    assert_eq!(recv(), b"TWO");

    // Dropped.
    tx.send_to(b"three", ("127.0.0.1", PORT)).unwrap();
    let p = packets(&mut q, 1).remove(0);
    q.verdict(p.id, Verdict::Drop, None, None, None).unwrap();
    assert!(rx.recv(&mut [0u8; 64]).is_err(), "a dropped packet arrived");

    // Three at once, one batch verdict for all.
    for m in [b"4", b"5", b"6"] {
        tx.send_to(m, ("127.0.0.1", PORT)).unwrap();
    }
    let ps = packets(&mut q, 3);
    assert!(ps.windows(2).all(|w| w[0].id < w[1].id), "ids grow");
    q.verdict_batch(ps[2].id, Verdict::Accept, None).unwrap();
    let mut got: Vec<Vec<u8>> = (0..3).map(|_| recv()).collect();
    got.sort();
    assert_eq!(got, [b"4".to_vec(), b"5".to_vec(), b"6".to_vec()]);
}
