//! A UDP sender for `benches/scripts/run-gateway.sh`: 64-byte datagrams
//! to one address as fast as the threads go, for a time, each thread from
//! its own source port (several flows).
//!
//!     udp_blast DST PORT SECONDS THREADS
//!
//! Prints how many datagrams it sent.

use std::net::UdpSocket;
use std::time::{Duration, Instant};

fn main() {
    let a: Vec<String> = std::env::args().collect();
    if a.len() != 5 {
        eprintln!("usage: udp_blast DST PORT SECONDS THREADS");
        std::process::exit(2);
    }
    let dst = format!("{}:{}", a[1], a[2]);
    let secs: f64 = a[3].parse().expect("seconds");
    let threads: usize = a[4].parse().expect("threads");
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let dst = dst.clone();
            std::thread::spawn(move || {
                let s = UdpSocket::bind("0.0.0.0:0").expect("bind");
                s.connect(&dst).expect("connect");
                let buf = [0x42u8; 64];
                let end = Instant::now() + Duration::from_secs_f64(secs);
                let mut n: u64 = 0;
                while Instant::now() < end {
                    for _ in 0..64 {
                        // A full socket buffer or an ICMP error: keep going.
                        if s.send(&buf).is_ok() {
                            n += 1;
                        }
                    }
                }
                n
            })
        })
        .collect();
    let total: u64 = handles.into_iter().map(|h| h.join().expect("thread")).sum();
    println!("{total}");
}
