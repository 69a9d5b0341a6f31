//! The NFQUEUE ceiling for `benches/scripts/run-gateway.sh`: a program
//! that accepts every packet of a queue and does nothing else, with the
//! same queue setup as `ctc run` (large socket buffer and queue length,
//! batch verdicts).
//!
//!     nfq_accept QUEUE [--gso]
//!
//! Runs until SIGINT or SIGTERM, then prints how many packets it accepted.

use ctc_datapath::nfqueue::{Queue, QueueOptions, Verdict};
use std::time::Duration;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let Some(num) = args.get(1).and_then(|a| a.parse::<u16>().ok()) else {
        eprintln!("usage: nfq_accept QUEUE [--gso]");
        std::process::exit(2);
    };
    let gso = args.iter().any(|a| a == "--gso");
    ctc_datapath::sys::catch_signals().expect("signals");
    let mut q = Queue::open(num, &QueueOptions { gso, ..QueueOptions::default() }).expect("bind the queue");
    q.set_timeout(Some(Duration::from_millis(100))).expect("timeout");
    eprintln!("nfq_accept: queue {num} bound{}", if gso { " (GSO)" } else { "" });
    let mut batch = Vec::new();
    let mut total: u64 = 0;
    while ctc_datapath::sys::take_signal().is_none() {
        batch.clear();
        match q.recv_many(&mut batch, 64) {
            Ok(_) => {}
            Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::Interrupted) => continue,
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => continue,
            Err(e) => {
                eprintln!("nfq_accept: {e}");
                std::process::exit(1);
            }
        }
        if let Some(last) = batch.iter().map(|p| p.id).max() {
            q.verdict_batch(last, Verdict::Accept, None).expect("verdict");
            total += batch.len() as u64;
        }
    }
    eprintln!("nfq_accept: {total} packets accepted");
}
