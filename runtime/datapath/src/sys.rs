//! The two system calls of the live datapath that rustix does not wrap:
//! SO_MARK on a socket and catching SIGINT/SIGTERM/SIGHUP. The only unsafe
//! code of the crate, each call with its safety argument.
#![allow(unsafe_code)]

use std::io;
use std::os::fd::{AsFd, AsRawFd};
use std::sync::atomic::{AtomicU32, Ordering};

/// Set SO_MARK on a socket: the packets it sends carry this mark.
pub fn set_mark(fd: impl AsFd, mark: u32) -> io::Result<()> {
    let v: libc::c_int = mark as libc::c_int;
    // SAFETY: a valid, open descriptor (borrowed for the call); the option
    // value points at a live c_int of the size passed.
    let r = unsafe {
        libc::setsockopt(
            fd.as_fd().as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_MARK,
            (&v as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if r == 0 { Ok(()) } else { Err(io::Error::last_os_error()) }
}

/// Signals received since [`catch_signals`], one bit per signal number.
static PENDING: AtomicU32 = AtomicU32::new(0);

extern "C" fn on_signal(sig: libc::c_int) {
    // Async-signal-safe: one atomic operation.
    if (0..32).contains(&sig) {
        PENDING.fetch_or(1 << sig, Ordering::SeqCst);
    }
}

/// Catch SIGINT, SIGTERM and SIGHUP: they are recorded for [`take_signal`]
/// instead of ending the process (blocking calls return EINTR, SA_RESTART
/// is not set).
pub fn catch_signals() -> io::Result<()> {
    for sig in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
        // SAFETY: a zeroed sigaction is valid; the handler is an extern "C"
        // fn that only touches an atomic; the old action is not needed.
        let r = unsafe {
            let mut sa: libc::sigaction = std::mem::zeroed();
            sa.sa_sigaction = on_signal as *const () as usize;
            libc::sigemptyset(&mut sa.sa_mask);
            libc::sigaction(sig, &sa, std::ptr::null_mut())
        };
        if r != 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

/// A signal caught and not yet taken (SIGTERM and SIGINT before SIGHUP).
pub fn take_signal() -> Option<i32> {
    [libc::SIGTERM, libc::SIGINT, libc::SIGHUP]
        .into_iter()
        .find(|&sig| PENDING.fetch_and(!(1 << sig), Ordering::SeqCst) & (1 << sig) != 0)
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_caught_signal_is_taken_once() {
        super::catch_signals().unwrap();
        std::process::Command::new("kill").args(["-HUP", &std::process::id().to_string()]).status().unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        let mut got = None;
        while got.is_none() && std::time::Instant::now() < deadline {
            got = super::take_signal();
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        assert_eq!(got, Some(libc::SIGHUP));
        assert_eq!(super::take_signal(), None);
    }
}
