//! A test that must run inside a network namespace of its own: the
//! namespace (removed when dropped), and the test binary run again inside
//! it for one `#[ignore]`d child test.

use std::process::Command;

/// Whether this process runs as root (effective uid 0).
pub fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("Uid:")).and_then(|l| l.split_whitespace().nth(2).map(|u| u == "0"))
        })
        .unwrap_or(false)
}

/// A fresh network namespace, deleted on drop (also when the test fails).
#[derive(Debug)]
pub struct Netns(pub String);

impl Netns {
    /// A namespace for the test `test` when it runs as root; else `None`,
    /// after saying why the test skips (`needs`: what needs root).
    pub fn for_root_test(test: &str, prefix: &str, needs: &str) -> Option<Netns> {
        if !is_root() {
            eprintln!("SKIP {test}: not root ({needs} need it)");
            return None;
        }
        Some(Netns::new(prefix))
    }

    /// `ip netns add PREFIX-PID`, with loopback up.
    pub fn new(prefix: &str) -> Netns {
        let ns = Netns(format!("{prefix}-{}", std::process::id()));
        assert!(Command::new("ip").args(["netns", "add", &ns.0]).status().is_ok_and(|s| s.success()), "ip netns add");
        assert!(ns.exec(&["ip", "link", "set", "lo", "up"]), "lo up");
        ns
    }

    /// Run a command inside; whether it succeeded.
    pub fn exec(&self, args: &[&str]) -> bool {
        Command::new("ip").args(["netns", "exec", &self.0]).args(args).status().is_ok_and(|s| s.success())
    }

    /// Run this test binary's ignored test `child` inside (at most 60 s)
    /// and fail unless it passed.
    pub fn run_child(&self, child: &str) {
        let exe = std::env::current_exe().expect("test binary");
        let out = Command::new("timeout")
            .args(["60", "ip", "netns", "exec", &self.0])
            .arg(exe)
            .args(["--ignored", "--exact", child, "--nocapture", "--test-threads=1"])
            .output()
            .expect("run the child");
        let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert!(out.status.success() && text.contains("1 passed"), "the child failed:\n{text}");
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.0]).status();
    }
}
