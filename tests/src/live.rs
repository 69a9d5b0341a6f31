//! The live differential harness (issue #4): record scenarios through the
//! real kernel, then replay the captures through ctc and compare.
//!
//! Recording (`tests/live/record.sh`, driven by [`record`]): three fresh
//! network namespaces per scenario (client, gateway, server; unique names),
//! the stateful gateway ruleset `tests/live/gateway.nft`, `conntrack -E`
//! and `tcpdump -Q in` on each gateway interface, the scenario's traffic
//! (`tests/live/scenarios.py`: real sockets, or frames crafted with scapy
//! with silent end hosts), then `conntrack -L`, `conntrack -S`, the nft
//! counters. The case directory has the layout of `../shared/oracle`.
//!
//! Recording checks ([`check_recording`]): the captures are readable and not
//! empty (a crafted scenario's captures hold exactly the frames it sent),
//! the event stream parses, and the scenario's own `checks.txt` holds (the
//! kernel did what the scenario means to show: SYN_SENT2, a RETRANS
//! timeout, INVALID counts...).
//!
//! Comparison ([`compare_with_ctc`]): `ctc replay --ruleset ruleset.nft
//! $(replay.args) --events --expect-events --table --out`, and again with
//! `--counters`, under the JIT and the interpreter (which must agree
//! exactly); the difference with the kernel's record is computed the way
//! `../shared/oracle/README.md` says a fair comparison works:
//! - where the kernel picked a NAT port or ICMP id at random (a clash), the
//!   case is first made consistent with ctc's choice (`kernel_diff`);
//! - events are compared per flow (the original tuple), in order, ignoring
//!   the event timestamps and conntrack ids; a remaining timeout may differ
//!   by 1 s (the kernel's 4 ms ticks);
//! - DESTROY events: one the kernel delivered before the last captured frame
//!   must be there; a later one (the kernel reports expiry lazily) may be
//!   missing; ctc may destroy an entry the kernel destroyed later or that is
//!   gone from the kernel's final table; timeouts and delta-time of DESTROY
//!   lines are not compared;
//! - expectation events: equal, in order, without their times, the
//!   remaining timeout within 1 s;
//! - frames out of an interface that received nothing are compared from
//!   the EtherType on (ctc learns MAC addresses from received frames);
//! - the rule counters must be equal, rule by rule;
//! - the final table: same entries with the same state, flags and counters;
//!   the kernel took its table `elapsed` seconds after the last frame, so its
//!   remaining timeouts may be up to `elapsed + 1` lower than ctc's (and an
//!   entry that ctc shows expiring within that time may be gone);
//! - the frames leaving the gateway (`tcpdump -Q out` on each interface):
//!   byte for byte, in order within each flow, the IPv4 id of packets the
//!   gateway originates masked (it is random).

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// `tests/live`: the recorder, the scenarios, the gateway ruleset.
pub fn live_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("live")
}

/// Whether this process runs as root (effective uid 0, from
/// `/proc/self/status`).
pub fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("Uid:")).and_then(|l| l.split_whitespace().nth(2).map(|euid| euid == "0"))
        })
        .unwrap_or(false)
}

fn runs_ok(cmd: &mut Command) -> bool {
    cmd.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok_and(|s| s.success())
}

/// Why the live tests cannot run here, or `None` when they can: the only
/// reasons to skip are not being root and `ip netns` being unavailable.
pub fn skip_reason() -> Option<String> {
    if !is_root() {
        return Some("not root: the live conntrack harness needs network namespaces".into());
    }
    if !runs_ok(Command::new("ip").args(["netns", "list"])) {
        return Some("`ip netns` is not available".into());
    }
    None
}

/// The tools the recorder needs that are missing (empty when all are there).
pub fn missing_tools() -> Vec<&'static str> {
    const TOOLS: &[(&str, &str)] = &[
        ("bash", "bash"),
        ("nft", "nftables"),
        ("conntrack", "conntrack"),
        ("tcpdump", "tcpdump"),
        ("ethtool", "ethtool"),
        ("stdbuf", "coreutils"),
        ("timeout", "coreutils"),
    ];
    TOOLS
        .iter()
        .filter(|(bin, _)| !runs_ok(Command::new("sh").args(["-c", &format!("command -v {bin}")])))
        .map(|(_, pkg)| *pkg)
        .collect()
}

/// A Python interpreter that can import scapy and pyftpdlib (the NAT
/// scenarios' FTP server): `$CTC_LIVE_PYTHON`, else `python3` on the PATH,
/// else `/usr/bin/python3` (Debian's python3-scapy and python3-pyftpdlib).
pub fn python_with_scapy() -> Result<String, String> {
    static PY: OnceLock<Result<String, String>> = OnceLock::new();
    PY.get_or_init(|| {
        let mut candidates = Vec::new();
        if let Ok(p) = std::env::var("CTC_LIVE_PYTHON") {
            candidates.push(p);
        }
        candidates.push("python3".into());
        candidates.push("/usr/bin/python3".into());
        candidates
            .iter()
            .find(|py| runs_ok(Command::new(py.as_str()).args(["-c", "import scapy.all, pyftpdlib"])))
            .cloned()
            .ok_or_else(|| {
                format!(
                    "none of {candidates:?} can `import scapy.all, pyftpdlib` (install python3-scapy python3-pyftpdlib)"
                )
            })
    })
    .clone()
}

/// The scenario names `scenarios.py list` gives.
pub fn scenario_names(python: &str) -> Result<Vec<String>, String> {
    let out = Command::new(python)
        .arg(live_dir().join("scenarios.py"))
        .arg("list")
        .output()
        .map_err(|e| format!("running scenarios.py list: {e}"))?;
    if !out.status.success() {
        return Err(format!("scenarios.py list failed: {}", String::from_utf8_lossy(&out.stderr)));
    }
    Ok(String::from_utf8_lossy(&out.stdout).lines().map(str::to_string).collect())
}

/// How long one recording may take before it is killed.
pub const RECORD_TIMEOUT: Duration = Duration::from_secs(120);

fn unique_suffix() -> String {
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    format!("{:x}{n}{:04x}", std::process::id(), nanos & 0xffff)
}

/// Remove what a killed recorder may have left: the processes inside its
/// namespaces (all started by it) and the namespaces.
fn cleanup_namespaces(sfx: &str) {
    for role in ["cli", "gw", "srv"] {
        let ns = format!("ctcl-{sfx}-{role}");
        if let Ok(out) = Command::new("ip").args(["netns", "pids", &ns]).output() {
            for pid in String::from_utf8_lossy(&out.stdout).split_whitespace() {
                let _ = Command::new("kill").args(["-KILL", pid]).status();
            }
        }
        let _ = Command::new("ip").args(["netns", "del", &ns]).stderr(Stdio::null()).status();
    }
}

/// Record scenario `name` into `out` (created or emptied). The recorder's
/// own log is `out/.record.log`; the error carries it.
pub fn record(python: &str, name: &str, out: &Path) -> Result<(), String> {
    use std::os::unix::process::CommandExt;
    let _ = std::fs::remove_dir_all(out);
    std::fs::create_dir_all(out).map_err(|e| format!("creating {}: {e}", out.display()))?;
    let log_path = out.join(".record.log");
    let log = std::fs::File::create(&log_path).map_err(|e| format!("{}: {e}", log_path.display()))?;
    let log2 = log.try_clone().map_err(|e| e.to_string())?;
    let sfx = unique_suffix();
    let mut child = Command::new("bash")
        .arg(live_dir().join("record.sh"))
        .arg(name)
        .arg(out)
        .arg(&sfx)
        .env("PYTHON", python)
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(log2)
        // Its own process group: on a timeout the whole group goes.
        .process_group(0)
        .spawn()
        .map_err(|e| format!("starting record.sh: {e}"))?;
    let deadline = Instant::now() + RECORD_TIMEOUT;
    let status = loop {
        match child.try_wait() {
            Ok(Some(st)) => break Ok(st),
            Ok(None) if Instant::now() > deadline => {
                let _ = Command::new("kill").args(["-KILL", "--", &format!("-{}", child.id())]).status();
                let _ = child.wait();
                break Err(format!("record.sh {name} took longer than {RECORD_TIMEOUT:?}: killed"));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(50)),
            Err(e) => break Err(format!("waiting for record.sh: {e}")),
        }
    };
    // The recorder removes its namespaces itself (trap on exit); this only
    // matters when it was killed.
    cleanup_namespaces(&sfx);
    let log = std::fs::read_to_string(&log_path).unwrap_or_default();
    match status {
        Ok(st) if st.success() => Ok(()),
        Ok(st) => Err(format!("record.sh {name} failed ({st}):\n{log}")),
        Err(e) => Err(format!("{e}\n{log}")),
    }
}

// --------------------------------------------------------------------------
// conntrack-tools lines
// --------------------------------------------------------------------------

/// One line of `conntrack -E` (an event) or `conntrack -L` (an entry), in
/// conntrack-tools' default format.
#[derive(Debug, Clone, PartialEq)]
pub struct CtLine {
    /// The `[SECONDS.MICROS]` prefix of an event line, when there is one.
    pub time: Option<f64>,
    /// `NEW`, `UPDATE`, `DESTROY` for events; `None` for table entries.
    pub kind: Option<String>,
    /// `tcp`, `udp`, `icmp`, `icmpv6`, ...
    pub proto: String,
    /// The remaining timeout (a DESTROY event may have none).
    pub timeout: Option<u64>,
    /// The words after the protocol number and timeout, without the
    /// conntrack id of an event (`id=` last) and without `delta-time=`
    /// and `use=` (they depend on when the line was printed).
    pub rest: Vec<String>,
    /// The original tuple: the flow this line is about.
    pub key: String,
}

const TUPLE_FIELDS: &[&str] = &["src=", "dst=", "sport=", "dport=", "type=", "code=", "id="];

impl CtLine {
    /// Parse an event line (`event` true: a `[NEW]`/`[UPDATE]`/`[DESTROY]`
    /// word, maybe a timestamp, and a trailing conntrack id) or a table line.
    pub fn parse(line: &str, event: bool) -> Result<CtLine, String> {
        let mut text = line.trim();
        let mut time = None;
        // `[1795246059.174191]` first (expectation events may pad with
        // blanks); `[NEW]` and the like are not timestamps.
        if event
            && text.starts_with('[')
            && let Some(end) = text.find(']')
            && let Ok(t) = text[1..end].trim().parse::<f64>()
        {
            time = Some(t);
            text = text[end + 1..].trim();
        }
        let mut words: Vec<&str> = text.split_whitespace().collect();
        let kind = if event {
            let k = words.first().ok_or_else(|| format!("empty event line {line:?}"))?;
            let k = k
                .strip_prefix('[')
                .and_then(|k| k.strip_suffix(']'))
                .filter(|k| matches!(*k, "NEW" | "UPDATE" | "DESTROY"))
                .ok_or_else(|| format!("no [NEW]/[UPDATE]/[DESTROY] in {line:?}"))?;
            let k = k.to_string();
            words.remove(0);
            // The conntrack id (`-o id`) is the last word.
            if words.last().is_some_and(|w| w.starts_with("id=")) {
                words.pop();
            }
            Some(k)
        } else {
            None
        };
        if words.len() < 3 {
            return Err(format!("too short: {line:?}"));
        }
        let proto = words[0].to_string();
        words[1].parse::<u8>().map_err(|_| format!("no protocol number in {line:?}"))?;
        let (timeout, rest_from) = match words[2].parse::<u64>() {
            Ok(t) => (Some(t), 3),
            Err(_) => (None, 2),
        };
        let rest: Vec<String> = words[rest_from..]
            .iter()
            .filter(|w| !w.starts_with("delta-time=") && !w.starts_with("use="))
            .map(|w| w.to_string())
            .collect();
        let mut key = vec![proto.clone()];
        let mut seen_src = false;
        for w in &rest {
            if w.starts_with("src=") {
                if seen_src {
                    break;
                }
                seen_src = true;
            }
            if TUPLE_FIELDS.iter().any(|f| w.starts_with(f)) {
                key.push(w.clone());
            }
        }
        Ok(CtLine { time, kind, proto, timeout, rest, key: key.join(" ") })
    }

    /// Every word of the line as printed (kind, protocol, timeout, rest),
    /// without timestamp and conntrack id: what `checks.txt` matches.
    pub fn words(&self) -> Vec<String> {
        let mut w = Vec::new();
        if let Some(k) = &self.kind {
            w.push(format!("[{k}]"));
        }
        w.push(self.proto.clone());
        if let Some(t) = self.timeout {
            w.push(t.to_string());
        }
        w.extend(self.rest.iter().cloned());
        w
    }

    /// The line as compared: kind, protocol and the rest (no timeout).
    pub fn shape(&self) -> String {
        format!("{} {} {}", self.kind.as_deref().unwrap_or("-"), self.proto, self.rest.join(" "))
    }
}

/// The event lines of a `conntrack -E` output (the closing tally line and
/// blank lines are skipped).
pub fn parse_events(text: &str) -> Result<Vec<CtLine>, String> {
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with("conntrack v"))
        .map(|l| CtLine::parse(l, true))
        .collect()
}

/// The entries of a `conntrack -L` output: lines whose second word is a
/// protocol number (headers, tallies and anything else are skipped).
pub fn parse_table(text: &str) -> Result<Vec<CtLine>, String> {
    text.lines()
        .filter(|l| l.split_whitespace().nth(1).is_some_and(|w| w.parse::<u8>().is_ok()))
        .map(|l| CtLine::parse(l, false))
        .collect()
}

/// The rule counters of an `nft list ruleset` listing, in order: the rule's
/// comment (or its text without the counter numbers), packets, bytes.
pub fn parse_counters(listing: &str) -> Vec<(String, u64, u64)> {
    let mut out = Vec::new();
    for line in listing.lines() {
        let Some(at) = line.find("counter packets ") else { continue };
        let mut w = line[at + "counter packets ".len()..].split_whitespace();
        let packets = w.next().and_then(|p| p.parse().ok());
        let bytes = if w.next() == Some("bytes") { w.next().and_then(|b| b.parse().ok()) } else { None };
        let (Some(packets), Some(bytes)) = (packets, bytes) else { continue };
        let name = match line.find("comment \"") {
            Some(c) => line[c + 9..].trim_end().trim_end_matches('"').to_string(),
            None => format!("{} counter", line[..at].trim()),
        };
        out.push((name, packets, bytes));
    }
    out
}

// --------------------------------------------------------------------------
// The recording's own checks
// --------------------------------------------------------------------------

/// What a recorded case holds, parsed.
#[derive(Debug)]
pub struct Recording {
    pub dir: PathBuf,
    pub events: Vec<CtLine>,
    pub table: Vec<CtLine>,
    pub counters: Vec<(String, u64, u64)>,
    /// Frames in `in-gw-cli.pcap`, `in-gw-pub.pcap`.
    pub frames: (usize, usize),
    /// `conntrack -E expect` lines, without their times.
    pub expect_events: Vec<String>,
    /// How many rules of `ruleset.nft` have a counter.
    pub ruleset_counters: usize,
    /// Time of the last captured frame (epoch seconds).
    pub last_frame: f64,
    /// When the kernel's table was taken (epoch seconds).
    pub table_time: f64,
    /// The kernel's `log` lines (log.txt, of scenarios that log), without
    /// their times.
    pub logs: Option<Vec<String>>,
}

fn read(dir: &Path, file: &str) -> Result<String, String> {
    std::fs::read_to_string(dir.join(file)).map_err(|e| format!("{}/{file}: {e}", dir.display()))
}

/// Read a recorded case directory.
pub fn load(dir: &Path) -> Result<Recording, String> {
    let events = parse_events(&read(dir, "events.txt")?)?;
    let table = parse_table(&read(dir, "table.txt")?)?;
    let counters = parse_counters(&read(dir, "counters.txt")?);
    let mut n = [0usize; 2];
    let mut last_ns = 0u64;
    for (i, f) in ["in-gw-cli.pcap", "in-gw-pub.pcap"].iter().enumerate() {
        let frames = ctc_datapath::capture::read(&dir.join(f), i).map_err(|e| e.to_string())?;
        n[i] = frames.len();
        last_ns = last_ns.max(frames.iter().map(|f| f.time_ns).max().unwrap_or(0));
    }
    let table_time = read(dir, "table.time")?.trim().parse::<f64>().map_err(|e| format!("table.time: {e}"))?;
    let expect_events = crate::kernel_diff::expect_events(&read(dir, "expect_events.txt")?);
    let ruleset_counters = read(dir, "ruleset.nft")?
        .lines()
        .filter(|l| !l.trim_start().starts_with('#') && l.split_whitespace().any(|w| w == "counter"))
        .count();
    Ok(Recording {
        dir: dir.to_path_buf(),
        events,
        table,
        counters,
        frames: (n[0], n[1]),
        expect_events,
        ruleset_counters,
        last_frame: last_ns as f64 / 1e9,
        table_time,
        logs: read(dir, "log.txt").ok().map(|t| log_lines(&t)),
    })
}

/// The `log` lines of a run (prefixes `ctcl-...`), trimmed, without the
/// kernel's `[time]` or ctc's leading time, in order.
pub fn log_lines(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| {
            let at = l.find("ctcl-")?;
            Some(l[at..].trim_end().to_string())
        })
        .collect()
}

/// The differences between the kernel's log lines and ctc's (as multisets:
/// the two may order lines of packets that crossed the gateway in opposite
/// directions at once differently).
fn diff_logs(kernel: &[String], ctc: &[String]) -> Vec<String> {
    let (mut k, mut c) = (kernel.to_vec(), ctc.to_vec());
    k.sort();
    c.sort();
    if k == c {
        return Vec::new();
    }
    let only = |a: &[String], b: &[String]| -> Vec<String> {
        let mut rest = b.to_vec();
        a.iter()
            .filter(|l| match rest.iter().position(|r| r == *l) {
                Some(i) => {
                    rest.swap_remove(i);
                    false
                }
                None => true,
            })
            .cloned()
            .collect()
    };
    let mut bad = Vec::new();
    for l in only(&k, &c) {
        bad.push(format!("log line of the kernel only: {l}"));
    }
    for l in only(&c, &k) {
        bad.push(format!("log line of ctc only: {l}"));
    }
    bad
}

/// The failures of the recording's own checks (empty when it is good):
/// captures, events, counters, and every line of `checks.txt`.
pub fn check_recording(rec: &Recording) -> Vec<String> {
    let mut bad = Vec::new();
    if rec.frames.0 == 0 {
        bad.push("in-gw-cli.pcap holds no frame".to_string());
    }
    if let Ok(sent) = read(&rec.dir, "sent.txt") {
        let sent: usize = sent.trim().parse().unwrap_or(usize::MAX);
        if rec.frames.0 + rec.frames.1 != sent {
            bad.push(format!(
                "the scenario sent {sent} crafted frames, the captures hold {} + {}",
                rec.frames.0, rec.frames.1
            ));
        }
    }
    if rec.logs.as_ref().is_some_and(|l| l.is_empty()) {
        bad.push("log.txt: the kernel logged no line of the ruleset's".into());
    }
    if rec.counters.len() != rec.ruleset_counters {
        bad.push(format!(
            "counters.txt: expected the {} counters of ruleset.nft, found {:?}",
            rec.ruleset_counters, rec.counters
        ));
    }
    let checks = match read(&rec.dir, "checks.txt") {
        Ok(c) => c,
        Err(e) => return [bad, vec![e]].concat(),
    };
    let expects_no_event = checks.lines().any(|l| l.trim() == "eventcount\t0");
    if rec.events.is_empty() && !expects_no_event {
        bad.push("the kernel produced no conntrack event".into());
    }
    let holds = |l: &CtLine, want: &[&str]| {
        let w = l.words();
        want.iter().all(|x| w.iter().any(|y| y == x))
    };
    let has = |lines: &[CtLine], want: &[&str]| lines.iter().any(|l| holds(l, want));
    // A MIN MAX pair of a check (unreadable bounds match nothing).
    let range = |lo: &str, hi: &str| lo.parse().unwrap_or(u64::MAX)..=hi.parse().unwrap_or(0);
    for line in checks.lines().filter(|l| !l.trim().is_empty()) {
        let f: Vec<&str> = line.split('\t').collect();
        let ok = match (f[0], &f[1..]) {
            ("event", want) => has(&rec.events, want),
            ("noevent", want) => !has(&rec.events, want),
            ("table", want) => has(&rec.table, want),
            ("expect", want) => rec.expect_events.iter().any(|l| {
                let w: Vec<&str> = l.split_whitespace().collect();
                want.iter().all(|x| w.contains(x))
            }),
            ("outpayload", [iface, text]) => {
                let path = rec.dir.join(format!("out-{iface}.pcap"));
                let needle = text.as_bytes();
                ctc_datapath::capture::read(&path, 0)
                    .is_ok_and(|fs| fs.iter().any(|f| f.data.windows(needle.len()).any(|w| w == needle)))
            }
            ("notable", want) => !has(&rec.table, want),
            ("log", want) => rec
                .logs
                .as_ref()
                .is_some_and(|ls| ls.iter().any(|l| want.iter().all(|w| l.split_whitespace().any(|x| x == *w)))),
            ("eventcount", [n]) => n.parse::<usize>().is_ok_and(|n| n == rec.events.len()),
            ("counter", [name, op, n]) => {
                let n: u64 = n.parse().unwrap_or(u64::MAX);
                rec.counters.iter().find(|c| c.0 == *name).is_some_and(|c| match *op {
                    "==" => c.1 == n,
                    ">=" => c.1 >= n,
                    _ => false,
                })
            }
            // An event with these words whose timeout is within lo..=hi:
            // the kernel computes it when it builds the event, rounded down,
            // so a tick after the update it reads a second less.
            ("eventtimeout", [words @ .., lo, hi]) => {
                let r = range(lo, hi);
                rec.events.iter().any(|l| holds(l, words) && l.timeout.is_some_and(|t| r.contains(&t)))
            }
            ("timeout", [word, lo, hi]) => {
                let r = range(lo, hi);
                rec.table
                    .iter()
                    .find(|l| l.rest.iter().any(|w| w == word))
                    .and_then(|l| l.timeout)
                    .is_some_and(|t| r.contains(&t))
            }
            _ => {
                bad.push(format!("checks.txt: unknown check {line:?}"));
                continue;
            }
        };
        if !ok {
            bad.push(format!("kernel recording fails check `{}`", f.join(" ")));
        }
    }
    bad
}

/// One line per scenario for the report: the kernel's events per flow
/// (kind and state), the counters, the final table.
pub fn summary(rec: &Recording) -> String {
    let mut flows: Vec<(String, Vec<String>)> = Vec::new();
    for e in &rec.events {
        let state =
            e.rest.first().filter(|w| w.chars().all(|c| c.is_ascii_uppercase() || c == '_' || c.is_ascii_digit()));
        let mut s = e.kind.clone().unwrap_or_default();
        if let Some(st) = state {
            s.push(' ');
            s.push_str(st);
        }
        if let Some(t) = e.timeout {
            s.push_str(&format!(" {t}"));
        }
        if e.rest.iter().any(|w| w == "[ASSURED]") && e.kind.as_deref() == Some("UPDATE") {
            s.push_str(" A");
        }
        match flows.iter_mut().find(|(k, _)| *k == e.key) {
            Some((_, v)) => v.push(s),
            None => flows.push((e.key.clone(), vec![s])),
        }
    }
    let ev: Vec<String> = flows.iter().map(|(k, v)| format!("{k}: {}", v.join(" > "))).collect();
    let ct: Vec<String> = rec.counters.iter().filter(|c| c.1 > 0).map(|c| format!("{}={}", c.0, c.1)).collect();
    let tb: Vec<String> = rec
        .table
        .iter()
        .map(|l| {
            let st = l.rest.first().filter(|w| !w.contains('=')).cloned().unwrap_or_default();
            format!("{} {} {}", l.key, st, l.timeout.unwrap_or(0))
        })
        .collect();
    format!(
        "frames {}+{} | events {} | counters {} | table {}",
        rec.frames.0,
        rec.frames.1,
        if ev.is_empty() { "none".into() } else { ev.join(" ; ") },
        ct.join(" "),
        if tb.is_empty() { "empty".into() } else { tb.join(" ; ") }
    )
}

// --------------------------------------------------------------------------
// The comparison with ctc
// --------------------------------------------------------------------------

/// Flip to `true` to enforce the comparison with ctc regardless of
/// [`ctc_events_available`]; it is enforced anyway as soon as `ctc replay
/// --events` works.
pub const ENFORCE_CTC_DIFF: bool = false;

/// Whether the comparison with ctc is enforced: [`ENFORCE_CTC_DIFF`], or
/// `ctc replay --events ... --table` succeeding on a trivial case.
pub fn ctc_diff_enforced() -> bool {
    ENFORCE_CTC_DIFF || ctc_events_available()
}

/// `ctc replay --events FILE --table` on one UDP frame through the live
/// gateway ruleset exits 0 (it exits 2 until the connection tracker lands).
pub fn ctc_events_available() -> bool {
    static OK: OnceLock<bool> = OnceLock::new();
    *OK.get_or_init(|| {
        use crate::packets::{L4, eth_ip, write_pcap};
        let tmp = crate::replay::TempDir::new("live-probe");
        let frame = eth_ip(
            "192.0.2.2".parse().expect("address"),
            "203.0.113.47".parse().expect("address"),
            64,
            &L4::Udp { sport: 40000, dport: 5300 },
            b"probe",
        );
        let pcap = tmp.path().join("in-gw-cli.pcap");
        write_pcap(&pcap, 1_700_000_000_000_000_000, &[frame]);
        let status = Command::new(crate::replay::ctc_binary())
            .current_dir(tmp.path())
            .arg("replay")
            .arg("--ruleset")
            .arg(live_dir().join("gateway.nft"))
            .args(["--in", "gw-cli=in-gw-cli.pcap", "--iface", "gw-cli=192.0.2.1/24", "--iface"])
            .args(["gw-pub=198.51.100.32/24", "--route", "203.0.113.0/24=gw-pub"])
            .args(["--events", "events.txt", "--table"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        status.is_ok_and(|s| s.success())
    })
}

/// What ctc produced for a case.
#[derive(Debug)]
pub struct CtcRun {
    pub events: Vec<CtLine>,
    pub table: Vec<CtLine>,
    pub counters: Vec<(String, u64, u64)>,
    /// The raw outputs: events, expectation events, table, counters.
    pub texts: [String; 4],
    /// The frames sent out of gw-cli and gw-pub.
    pub out: [Vec<(u64, Vec<u8>)>; 2],
    /// The `log` lines (standard error).
    pub logs: Vec<String>,
}

fn replay_args(dir: &Path) -> Result<Vec<String>, String> {
    Ok(read(dir, "replay.args")?.split_whitespace().map(str::to_string).collect())
}

/// The gateway's interfaces, as the captures name them.
pub const IFACES: [&str; 2] = ["gw-cli", "gw-pub"];

/// The gateway's own addresses (its IPv4 packets carry a random id, its
/// IPv6 ones a flow label from a random hash), and 203.0.113.99, which
/// nat-gateway.nft redirects to the gateway (no host has it: what comes
/// from it, the gateway answered).
const GATEWAY: [std::net::IpAddr; 5] = [
    std::net::IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 1)),
    std::net::IpAddr::V4(std::net::Ipv4Addr::new(198, 51, 100, 32)),
    std::net::IpAddr::V4(std::net::Ipv4Addr::new(203, 0, 113, 99)),
    std::net::IpAddr::V6(std::net::Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, 1)),
    std::net::IpAddr::V6(std::net::Ipv6Addr::new(0x2001, 0xdb8, 0x100, 0, 0, 0, 0, 0x32)),
];

/// Replay the case's captures through the `ctc` binary with `engine`: once
/// with `--events --expect-events --table --out`, once with `--counters`.
/// ctc's files are written beside the recording (`ctc-*`, `ENGINE` in
/// their names).
pub fn run_ctc(dir: &Path, engine: &str) -> Result<CtcRun, String> {
    let bin = crate::replay::ctc_binary();
    let args = replay_args(dir)?;
    let events = format!("ctc-{engine}-events.txt");
    let xevents = format!("ctc-{engine}-expect-events.txt");
    let outs: Vec<String> = IFACES.iter().map(|i| format!("ctc-{engine}-out-{i}.pcap")).collect();
    let run = |extra: &[String]| -> Result<(String, String), String> {
        let out = Command::new(&bin)
            .current_dir(dir)
            .args(["replay", "--ruleset", "ruleset.nft", "--engine", engine])
            .args(&args)
            .args(extra)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("running ctc: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "ctc replay --engine {engine} {} exited {}: {}",
                extra.join(" "),
                out.status,
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        Ok((String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned()))
    };
    let mut extra = vec!["--events".to_string(), events.clone(), "--expect-events".into(), xevents.clone()];
    extra.push("--table".into());
    for (i, o) in IFACES.iter().zip(&outs) {
        extra.push("--out".into());
        extra.push(format!("{i}={o}"));
    }
    let (table_text, stderr) = run(&extra)?;
    std::fs::write(dir.join(format!("ctc-{engine}-table.txt")), &table_text).map_err(|e| e.to_string())?;
    let (listing, _) = run(&["--counters".to_string()])?;
    std::fs::write(dir.join(format!("ctc-{engine}-counters.txt")), &listing).map_err(|e| e.to_string())?;
    let events_text = read(dir, &events)?;
    let xevents_text = read(dir, &xevents)?;
    let out = [crate::kernel_diff::frames(&dir.join(&outs[0])), crate::kernel_diff::frames(&dir.join(&outs[1]))];
    Ok(CtcRun {
        events: parse_events(&events_text)?,
        table: parse_table(&table_text)?,
        counters: parse_counters(&listing),
        texts: [events_text, xevents_text, table_text, listing],
        out,
        logs: log_lines(&stderr),
    })
}

/// Events grouped by flow, each flow's events in order.
fn by_flow(events: &[CtLine]) -> BTreeMap<String, Vec<&CtLine>> {
    let mut m: BTreeMap<String, Vec<&CtLine>> = BTreeMap::new();
    for e in events {
        m.entry(e.key.clone()).or_default().push(e);
    }
    m
}

fn timeouts_close(a: Option<u64>, b: Option<u64>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => a.abs_diff(b) <= 1,
        (None, None) => true,
        _ => false,
    }
}

fn show(l: &CtLine) -> String {
    l.words().join(" ")
}

/// The differences between the kernel's event stream and ctc's (empty when
/// they agree), by the rules in this module's documentation. `last_frame`
/// is the time of the last captured frame; `kernel_table` the kernel's
/// final table.
pub fn diff_events(kernel: &[CtLine], ctc: &[CtLine], last_frame: f64, kernel_table: &[CtLine]) -> Vec<String> {
    let mut bad = Vec::new();
    let k = by_flow(kernel);
    let c = by_flow(ctc);
    let is_destroy = |e: &&CtLine| e.kind.as_deref() == Some("DESTROY");
    for key in k.keys().chain(c.keys().filter(|key| !k.contains_key(*key))) {
        let ke: &[&CtLine] = k.get(key).map_or(&[], |v| v.as_slice());
        let ce: &[&CtLine] = c.get(key).map_or(&[], |v| v.as_slice());
        let (kd, kl): (Vec<&CtLine>, Vec<&CtLine>) = ke.iter().copied().partition(is_destroy);
        let (cd, cl): (Vec<&CtLine>, Vec<&CtLine>) = ce.iter().copied().partition(is_destroy);
        for i in 0..kl.len().max(cl.len()) {
            match (kl.get(i), cl.get(i)) {
                (Some(a), Some(b)) if a.shape() == b.shape() && timeouts_close(a.timeout, b.timeout) => {}
                (Some(a), Some(b)) => {
                    bad.push(format!("flow {key}, event {i}: kernel `{}`, ctc `{}`", show(a), show(b)))
                }
                (Some(a), None) => bad.push(format!("flow {key}, event {i}: kernel `{}`, ctc has none", show(a))),
                (None, Some(b)) => bad.push(format!("flow {key}, event {i}: ctc `{}`, the kernel has none", show(b))),
                (None, None) => {}
            }
        }
        // DESTROY: compared by shape only (no timeout, no delta-time).
        for d in &kd {
            let in_traffic = d.time.is_some_and(|t| t <= last_frame + 0.05);
            if in_traffic && !cd.iter().any(|x| x.shape() == d.shape()) {
                bad.push(format!("flow {key}: kernel `{}` during the traffic, ctc has no such DESTROY", show(d)));
            }
        }
        for d in &cd {
            let matched = kd.iter().any(|x| x.shape() == d.shape());
            let gone = !kernel_table.iter().any(|t| t.key == d.key);
            if !matched && !gone {
                bad.push(format!("flow {key}: ctc `{}`, but the kernel kept the entry", show(d)));
            }
        }
    }
    bad
}

/// The differences between the rule counters.
pub fn diff_counters(kernel: &[(String, u64, u64)], ctc: &[(String, u64, u64)]) -> Vec<String> {
    let mut bad = Vec::new();
    if kernel.len() != ctc.len() {
        bad.push(format!("{} counters in the kernel's listing, {} in ctc's", kernel.len(), ctc.len()));
    }
    for (a, b) in kernel.iter().zip(ctc) {
        if a != b {
            bad.push(format!(
                "counter `{}`: kernel packets {} bytes {}, ctc `{}` packets {} bytes {}",
                a.0, a.1, a.2, b.0, b.1, b.2
            ));
        }
    }
    bad
}

/// The differences between the final tables; the kernel's was taken
/// `elapsed` seconds after the last frame.
pub fn diff_tables(kernel: &[CtLine], ctc: &[CtLine], elapsed: f64) -> Vec<String> {
    let mut bad = Vec::new();
    let slack = elapsed.ceil() as u64 + 1;
    let k: HashMap<&str, &CtLine> = kernel.iter().map(|l| (l.key.as_str(), l)).collect();
    let c: HashMap<&str, &CtLine> = ctc.iter().map(|l| (l.key.as_str(), l)).collect();
    for (key, kl) in &k {
        match c.get(key) {
            None => bad.push(format!("table: kernel has `{}`, ctc has no such entry", show(kl))),
            Some(cl) => {
                let (kt, ct) = (kl.timeout.unwrap_or(0), cl.timeout.unwrap_or(0));
                if kl.shape() != cl.shape() || kt > ct + 1 || kt + slack < ct {
                    bad.push(format!("table: kernel `{}`, ctc `{}`", show(kl), show(cl)));
                }
            }
        }
    }
    for (key, cl) in &c {
        if !k.contains_key(key) && cl.timeout.unwrap_or(0) > slack {
            bad.push(format!("table: ctc has `{}`, the kernel has no such entry", show(cl)));
        }
    }
    bad.sort();
    bad
}

/// Expectation events agree: the same lines in the same order, except
/// that the remaining timeout (the second word) may differ by 1 s — the
/// kernel counts it in 4 ms ticks from when the expectation was made, so an
/// expectation met a few milliseconds later shows 299 or 300.
fn same_expect_events(kernel: &[String], ctc: &[String]) -> bool {
    let split = |l: &str| -> (Option<u64>, String) {
        let w: Vec<&str> = l.split_whitespace().collect();
        match w.get(1).and_then(|t| t.parse::<u64>().ok()) {
            Some(t) => (Some(t), format!("{} {}", w[0], w[2..].join(" "))),
            None => (None, w.join(" ")),
        }
    };
    kernel.len() == ctc.len()
        && kernel.iter().zip(ctc).all(|(k, c)| {
            let ((kt, kr), (ct, cr)) = (split(k), split(c));
            kr == cr && timeouts_close(kt, ct)
        })
}

/// Replay a recorded case through ctc and list every difference with the
/// kernel (events, expectation events, counters, table, the frames leaving
/// the gateway), under the JIT, and every difference between the JIT's and
/// the interpreter's outputs. Where the kernel picked a NAT port or ICMP id
/// at random on a clash, the case is first made consistent with ctc's
/// choices ([`crate::kernel_diff`]), in `DIR/consistent-N`. `Err` when ctc
/// could not be run.
pub fn compare_with_ctc(rec: &Recording) -> Result<Vec<String>, String> {
    use crate::kernel_diff::{compare_out, frames};
    let (dir, mapped_total, run) = crate::kernel_diff::settle(
        &rec.dir,
        |round| rec.dir.join(format!("consistent-{round}")),
        |dir| run_ctc(dir, "jit").map(|r| (r.texts[0].clone(), r)),
    )?;
    let mapped;
    let rec = if dir == rec.dir {
        rec
    } else {
        eprintln!("{}: {mapped_total} random NAT choices of the kernel mapped to ctc's", rec.dir.display());
        mapped = load(&dir)?;
        &mapped
    };
    let mut bad = diff_events(&rec.events, &run.events, rec.last_frame, &rec.table);
    let ctc_x = crate::kernel_diff::expect_events(&run.texts[1]);
    if !same_expect_events(&rec.expect_events, &ctc_x) {
        bad.push(format!(
            "expectation events differ\n  kernel:\n    {}\n  ctc:\n    {}",
            rec.expect_events.join("\n    "),
            ctc_x.join("\n    ")
        ));
    }
    bad.extend(diff_counters(&rec.counters, &run.counters));
    if let Some(k) = &rec.logs {
        bad.extend(diff_logs(k, &run.logs));
    }
    bad.extend(diff_tables(&rec.table, &run.table, (rec.table_time - rec.last_frame).max(0.0)));
    for (i, iface) in IFACES.iter().enumerate() {
        let want = frames(&rec.dir.join(format!("out-{iface}.pcap")));
        let mut got = run.out[i].clone();
        // ctc learns link addresses from the frames it is given: when
        // nothing came in on the interface (udp_oneway's silent server) it
        // cannot know the neighbour's or its own MAC address there; the
        // kernel had them configured. Compare from the EtherType on.
        let received = if i == 0 { rec.frames.0 } else { rec.frames.1 };
        if received == 0 {
            for (g, w) in got.iter_mut().zip(&want) {
                if g.1.len() >= 12 && w.1.len() >= 12 {
                    g.1[..12].copy_from_slice(&w.1[..12]);
                }
            }
        }
        bad.extend(compare_out("out", iface, &GATEWAY, &want, &got));
    }
    // The reference interpreter must give exactly what the JIT gave.
    let interp = run_ctc(&rec.dir, "interp")?;
    for (what, (a, b)) in
        ["events", "expectation events", "table", "counters"].iter().zip(run.texts.iter().zip(&interp.texts))
    {
        if a != b {
            bad.push(format!("the JIT's and the interpreter's {what} differ"));
        }
    }
    if run.out != interp.out {
        bad.push("the JIT's and the interpreter's frames out differ".into());
    }
    if run.logs != interp.logs {
        bad.push("the JIT's and the interpreter's log lines differ".into());
    }
    Ok(bad)
}

#[cfg(test)]
mod tests {
    use super::*;

    const K: &str = "[1795246059.174191]\t    [NEW] tcp      6 120 SYN_SENT src=192.0.2.2 dst=203.0.113.47 sport=40001 dport=80 [UNREPLIED] src=203.0.113.47 dst=192.0.2.2 sport=80 dport=40001 id=4257863428
[1795246059.174226]\t [UPDATE] tcp      6 60 SYN_RECV src=192.0.2.2 dst=203.0.113.47 sport=40001 dport=80 src=203.0.113.47 dst=192.0.2.2 sport=80 dport=40001 id=4257863428
[1795246059.174231]\t [UPDATE] tcp      6 432000 ESTABLISHED src=192.0.2.2 dst=203.0.113.47 sport=40001 dport=80 src=203.0.113.47 dst=192.0.2.2 sport=80 dport=40001 [ASSURED] id=4257863428
[1795246074.806564]\t    [NEW] tcp      6 300 ESTABLISHED src=192.0.2.2 dst=203.0.113.47 sport=41101 dport=10 [UNREPLIED] src=203.0.113.47 dst=192.0.2.2 sport=10 dport=41101 id=4036068635
[1795246074.806583]\t[DESTROY] tcp      6 300 CLOSE src=192.0.2.2 dst=203.0.113.47 sport=41101 dport=10 packets=1 bytes=40 [UNREPLIED] src=203.0.113.47 dst=192.0.2.2 sport=10 dport=41101 packets=1 bytes=40 delta-time=0 id=4036068635
";

    #[test]
    fn event_lines_parse_without_id_and_time() {
        let ev = parse_events(K).unwrap();
        assert_eq!(ev.len(), 5);
        assert_eq!(ev[0].kind.as_deref(), Some("NEW"));
        assert_eq!(ev[0].timeout, Some(120));
        assert_eq!(ev[0].key, "tcp src=192.0.2.2 dst=203.0.113.47 sport=40001 dport=80");
        assert!(!ev[2].rest.iter().any(|w| w.starts_with("id=")));
        assert!(ev[4].rest.iter().all(|w| !w.starts_with("delta-time")));
        let icmp = CtLine::parse(
            "[1.5]\t [NEW] icmp     1 30 src=192.0.2.2 dst=203.0.113.47 type=8 code=0 id=4660 [UNREPLIED] src=203.0.113.47 dst=192.0.2.2 type=0 code=0 id=4660 id=99",
            true,
        )
        .unwrap();
        assert_eq!(icmp.key, "icmp src=192.0.2.2 dst=203.0.113.47 type=8 code=0 id=4660");
        assert_eq!(icmp.rest.last().map(String::as_str), Some("id=4660"));
        let destroy =
            CtLine::parse("[2.0]\t[DESTROY] tcp      6 CLOSE src=1.2.3.4 dst=5.6.7.8 sport=1 dport=2", true).unwrap();
        assert_eq!((destroy.timeout, destroy.rest[0].as_str()), (None, "CLOSE"));
    }

    #[test]
    fn the_same_stream_with_other_ids_and_times_agrees() {
        let k = parse_events(K).unwrap();
        let other: String = K
            .lines()
            .map(|l| {
                let l = l.replace("id=4257863428", "id=1").replace("[1795246059.", "[1795246070.");
                // A remaining timeout one tick lower.
                l.replace(" 60 SYN_RECV", " 59 SYN_RECV") + "\n"
            })
            .collect();
        let c = parse_events(&other).unwrap();
        assert_eq!(diff_events(&k, &c, 1795246080.0, &[]), Vec::<String>::new());
    }

    #[test]
    fn a_different_state_or_missing_event_is_reported() {
        let k = parse_events(K).unwrap();
        let c = parse_events(&K.replace("SYN_RECV", "SYN_SENT2")).unwrap();
        assert_eq!(diff_events(&k, &c, 1795246080.0, &[]).len(), 1);
        let c = parse_events(&K.replace(" 432000 ESTABLISHED", " 300 ESTABLISHED")).unwrap();
        assert_eq!(diff_events(&k, &c, 1795246080.0, &[]).len(), 1);
        let fewer: String = K.lines().skip(1).map(|l| format!("{l}\n")).collect();
        assert!(!diff_events(&k, &parse_events(&fewer).unwrap(), 1795246080.0, &[]).is_empty());
    }

    #[test]
    fn late_kernel_destroys_may_be_missing_early_ones_may_not() {
        let k = parse_events(K).unwrap();
        let without: String = K.lines().filter(|l| !l.contains("DESTROY")).map(|l| format!("{l}\n")).collect();
        let c = parse_events(&without).unwrap();
        // The DESTROY came after the last frame: fine to miss.
        assert!(diff_events(&k, &c, 1795246074.0, &[]).is_empty());
        // It came during the traffic: ctc must have it.
        assert_eq!(diff_events(&k, &c, 1795246075.0, &[]).len(), 1);
        // ctc destroying an entry the kernel still lists is a difference.
        let table =
            parse_table("tcp      6 117 ESTABLISHED src=192.0.2.2 dst=203.0.113.47 sport=40001 dport=80 packets=8 bytes=440 src=203.0.113.47 dst=192.0.2.2 sport=80 dport=40001 packets=6 bytes=336 [ASSURED] mark=0 delta-time=3 use=1\n").unwrap();
        let extra = format!(
            "{K}[1795246075.0]\t[DESTROY] tcp      6 src=192.0.2.2 dst=203.0.113.47 sport=40001 dport=80 packets=1 bytes=1 id=5\n"
        );
        assert_eq!(diff_events(&k, &parse_events(&extra).unwrap(), 1795246080.0, &table).len(), 1);
        assert!(diff_events(&k, &parse_events(&extra).unwrap(), 1795246080.0, &[]).is_empty());
    }

    #[test]
    fn tables_allow_the_kernel_its_later_dump() {
        let line = |t: u64| {
            format!(
                "tcp      6 {t} TIME_WAIT src=192.0.2.2 dst=203.0.113.47 sport=40001 dport=80 packets=8 bytes=440 src=203.0.113.47 dst=192.0.2.2 sport=80 dport=40001 packets=6 bytes=336 [ASSURED] mark=0 delta-time=3 use=1\n"
            )
        };
        let k =
            parse_table(&format!("conntrack v1.4.7 (conntrack-tools): 1 flow entries have been shown.\n{}", line(118)))
                .unwrap();
        assert_eq!(k.len(), 1);
        assert!(diff_tables(&k, &parse_table(&line(120)).unwrap(), 0.6).is_empty());
        assert_eq!(diff_tables(&k, &parse_table(&line(125)).unwrap(), 0.6).len(), 1);
        assert_eq!(diff_tables(&k, &parse_table(&line(120).replace("bytes=440", "bytes=441")).unwrap(), 0.6).len(), 1);
        assert_eq!(diff_tables(&k, &[], 0.6).len(), 1);
    }

    #[test]
    fn counters_are_compared_rule_by_rule() {
        let l = "\t\tct state invalid counter packets 2 bytes 80 drop comment \"invalid\"\n\t\tcounter packets 0 bytes 0 comment \"dropped by policy\"\n";
        let k = parse_counters(l);
        assert_eq!(k, vec![("invalid".to_string(), 2, 80), ("dropped by policy".to_string(), 0, 0)]);
        assert!(diff_counters(&k, &k).is_empty());
        assert_eq!(diff_counters(&k, &parse_counters(&l.replace("packets 2", "packets 3"))).len(), 1);
    }
}
