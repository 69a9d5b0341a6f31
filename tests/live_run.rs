//! `ctc run` end to end (issue #7), on the live kernel: client - gateway -
//! server network namespaces, `ctc run --queue 0` on the gateway with
//! `tests/live/run-gateway.nft`, and real traffic through it
//! (`tests/live/run_e2e.py`): ping, 300 kB each way over TCP (IPv4, IPv6) and UDP through
//! masquerade (the server sees the gateway's address), a rejected port
//! (the TCP reset ctc generates), a dropped port, the policy dropping a new
//! connection from the public side, a port forward, FTP passive and active
//! through masquerade with a real FTP server (the helper, its
//! expectations, the PORT rewrite and sequence adjustment); the control
//! socket (`ctc ct list`, `ctc ct events`, `ctc status`); a reload while a
//! TCP connection and an FTP session are open (both go on, the new rule
//! applies to new connections) and a broken reload (nothing changes, the
//! diagnostics come back, exit 1). Then SIGTERM: ctc exits 0, its hook
//! rules and control socket are gone. The same on two queues, and under
//! overload (a flood into a 4-packet queue).
//!
//! Needs root, `ip netns`, iptables and a Python with pyftpdlib; without
//! root or namespaces it says why and passes (skips); in CI it runs.

use ctc_tests::live;
use std::process::Command;

#[test]
fn ctc_run_is_the_gateways_firewall() {
    run_e2e("0");
}

/// The same on two queues: the kernel spreads flows over them by address
/// pair, so a connection and its NAT'ed replies, an FTP control connection
/// and its data connection, meet different workers — which share one
/// tracker.
///
/// This one starts without the ruleset's nat tables and reloads the whole
/// ruleset first: the hook rules NAT needs come with that reload.
#[test]
fn ctc_run_on_two_queues() {
    run_e2e_with("0:1", &[("CTC_E2E_START_PLAIN", "1")], &[&CHECKS[..], &["the hook rules for NAT come"]].concat());
}

/// Overload: a UDP flood into a queue that holds 4 packets. The drops
/// are counted in `ctc status` (with the workers' lag), ctc's memory stays
/// bounded, and connections go through afterwards.
#[test]
fn ctc_run_under_overload() {
    run_e2e_with(
        "0",
        &[("CTC_RUN_QUEUE_LEN", "4"), ("CTC_E2E_MODE", "overload")],
        &["overload:", "connections go through after the flood"],
    );
}

/// What every full run must have checked.
const CHECKS: [&str; 10] = [
    "ping",
    "tcp through masquerade",
    "tcp6 through masquerade",
    "rejected port",
    "policy drop",
    "port forward",
    "ftp passive and active",
    "gso packets and the second stage",
    "log statements write to standard error",
    "the kernel gives ctc the packets' marks and sees the marks and priorities the ruleset sets",
];

fn run_e2e(queues: &str) {
    run_e2e_with(queues, &[], &CHECKS);
}

fn run_e2e_with(queues: &str, env: &[(&str, &str)], checks: &[&str]) {
    if let Some(why) = live::skip_reason() {
        eprintln!("SKIP live_run: {why}");
        return;
    }
    let python = live::python_with_scapy().unwrap_or_else(|e| panic!("{e}"));
    let sfx = format!("{:x}{}{}", std::process::id(), queues.len(), env.len());
    let out = Command::new("timeout")
        .args(["300", "bash"])
        .arg(live::live_dir().join("run_e2e.sh"))
        .arg(ctc_tests::replay::ctc_binary())
        .arg(&sfx)
        .env("PYTHON", &python)
        .env("CTC_RUN_QUEUES", queues)
        .envs(env.iter().copied())
        .output()
        .expect("run run_e2e.sh");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    eprintln!("{text}");
    assert!(out.status.success() && text.contains("run_e2e: all checks passed"), "ctc run end to end failed");
    for check in checks {
        assert!(text.contains(&format!("ok {check}")), "check `{check}` did not run");
    }
}
