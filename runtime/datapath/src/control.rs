//! The control socket of `ctc run` (issue #7): a unix stream socket,
//! readable and writable by its owner only (root), through which `ctc
//! reload`, `ctc ct ...` and `ctc status` talk to the running datapath.
//!
//! The protocol is lines of text. The client sends one request line (words
//! separated by blanks: `list`, `list extended`, `expect`, `stats`,
//! `flush`, `counters`, `status`, `reload [FILE]`, `events`, `events
//! expect`); the server answers `ok` or `error` on the first line, then the
//! body, and closes — except for `events`, which stay open and receive one
//! line per event until the client goes away.
//!
//! The server never blocks the packet path: it is polled between batches
//! of packets, accepts without waiting, gives a client one second to send
//! its request, and drops a subscriber that cannot take its events.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Where `ctc run` listens unless told otherwise.
pub const DEFAULT_PATH: &str = "/run/ctc.sock";

/// The longest request line read.
const MAX_REQUEST: u64 = 4096;

/// One client's request, answered with [`Request::reply`] (or turned into
/// a subscriber).
#[derive(Debug)]
pub struct Request {
    /// The words of the request line.
    pub words: Vec<String>,
    stream: UnixStream,
}

impl Request {
    /// Answer and close: `ok` or `error`, then `body`.
    pub fn reply(mut self, ok: bool, body: &str) {
        let _ = self.stream.set_write_timeout(Some(Duration::from_secs(2)));
        let _ = write!(self.stream, "{}\n{body}", if ok { "ok" } else { "error" });
        if !body.is_empty() && !body.ends_with('\n') {
            let _ = self.stream.write_all(b"\n");
        }
    }
}

/// Which events a subscriber wants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Feed {
    /// Connection events (`conntrack -E`).
    Conntrack,
    /// Expectation events (`conntrack -E expect`).
    Expect,
}

/// The listening socket and the event subscribers.
#[derive(Debug)]
pub struct ControlServer {
    listener: UnixListener,
    path: PathBuf,
    subscribers: Vec<(Feed, UnixStream)>,
}

impl ControlServer {
    /// Listen on `path` (mode 0600). A socket file nobody answers on (a
    /// ctc that was killed) is replaced; one in use is an error.
    pub fn bind(path: &Path) -> io::Result<ControlServer> {
        if path.exists() {
            if UnixStream::connect(path).is_ok() {
                return Err(io::Error::new(
                    io::ErrorKind::AddrInUse,
                    format!("{} is in use (is another ctc run running?)", path.display()),
                ));
            }
            std::fs::remove_file(path)?;
        }
        let listener = UnixListener::bind(path)?;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
        listener.set_nonblocking(true)?;
        Ok(ControlServer { listener, path: path.to_path_buf(), subscribers: Vec::new() })
    }

    /// The requests of the clients that connected since the last call.
    pub fn poll(&mut self) -> Vec<Request> {
        let mut out = Vec::new();
        while let Ok((stream, _)) = self.listener.accept() {
            let _ = stream.set_nonblocking(false);
            let _ = stream.set_read_timeout(Some(Duration::from_secs(1)));
            let mut line = String::new();
            let read = BufReader::new((&stream).take(MAX_REQUEST)).read_line(&mut line);
            if read.is_err() || line.is_empty() {
                continue;
            }
            let words: Vec<String> = line.split_whitespace().map(str::to_string).collect();
            if !words.is_empty() {
                out.push(Request { words, stream });
            }
        }
        out
    }

    /// Keep `req`'s connection open for events of `feed`.
    pub fn subscribe(&mut self, req: Request, feed: Feed) {
        let mut s = req.stream;
        let _ = s.set_nonblocking(true);
        if s.write_all(b"ok\n").is_ok() {
            self.subscribers.push((feed, s));
        }
    }

    /// Whether anyone listens to `feed`.
    pub fn wants(&self, feed: Feed) -> bool {
        self.subscribers.iter().any(|(f, _)| *f == feed)
    }

    /// Send event lines to the subscribers of `feed`; a subscriber that is
    /// gone or too slow to take them is dropped.
    pub fn publish(&mut self, feed: Feed, lines: &[String]) {
        if lines.is_empty() {
            return;
        }
        let mut text = lines.join("\n");
        text.push('\n');
        self.subscribers.retain_mut(|(f, s)| *f != feed || s.write_all(text.as_bytes()).is_ok());
    }
}

impl Drop for ControlServer {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Client side: send `request`, return (`ok`, body). `timeout` bounds the
/// wait for the answer (a reload compiles first).
pub fn request(path: &Path, request: &str, timeout: Duration) -> io::Result<(bool, String)> {
    let mut s = UnixStream::connect(path)?;
    s.set_read_timeout(Some(timeout))?;
    writeln!(s, "{request}")?;
    let mut text = String::new();
    s.read_to_string(&mut text)?;
    let (status, body) = text.split_once('\n').unwrap_or((text.as_str(), ""));
    match status {
        "ok" => Ok((true, body.to_string())),
        "error" => Ok((false, body.to_string())),
        _ => Err(io::Error::new(io::ErrorKind::InvalidData, format!("unexpected answer {status:?}"))),
    }
}

/// Client side of `events`: call `each` for every event line until the
/// server goes away or `each` returns false.
pub fn follow(path: &Path, request: &str, mut each: impl FnMut(&str) -> bool) -> io::Result<()> {
    let mut s = UnixStream::connect(path)?;
    writeln!(s, "{request}")?;
    let mut r = BufReader::new(s);
    let mut line = String::new();
    r.read_line(&mut line)?;
    if line.trim_end() != "ok" {
        let mut rest = String::new();
        let _ = r.read_to_string(&mut rest);
        return Err(io::Error::other(rest.trim().to_string()));
    }
    loop {
        line.clear();
        if r.read_line(&mut line)? == 0 || !each(line.trim_end_matches('\n')) {
            return Ok(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_answers_and_events() {
        let dir = std::env::temp_dir().join(format!("ctc-control-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("ctc.sock");
        let mut srv = ControlServer::bind(&path).unwrap();
        // The next request (bounded: 2 s).
        let next = |srv: &mut ControlServer| {
            for _ in 0..200 {
                if let Some(r) = srv.poll().pop() {
                    return r;
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            panic!("no request");
        };
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert!(ControlServer::bind(&path).is_err(), "a socket in use is not taken over");
        let p2 = path.clone();
        let client = std::thread::spawn(move || request(&p2, "list extended", Duration::from_secs(5)).unwrap());
        let r = next(&mut srv);
        assert_eq!(r.words, ["list", "extended"]);
        r.reply(true, "line 1\nline 2");
        assert_eq!(client.join().unwrap(), (true, "line 1\nline 2\n".to_string()));

        let p3 = path.clone();
        let follower = std::thread::spawn(move || {
            let mut got = Vec::new();
            follow(&p3, "events", |l| {
                got.push(l.to_string());
                got.len() < 2
            })
            .unwrap();
            got
        });
        let r = next(&mut srv);
        srv.subscribe(r, Feed::Conntrack);
        assert!(srv.wants(Feed::Conntrack) && !srv.wants(Feed::Expect));
        srv.publish(Feed::Expect, &["not for it".into()]);
        srv.publish(Feed::Conntrack, &["[NEW] a".into(), "[DESTROY] a".into()]);
        assert_eq!(follower.join().unwrap(), ["[NEW] a", "[DESTROY] a"]);
        drop(srv);
        assert!(!path.exists(), "the socket file goes with the server");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
