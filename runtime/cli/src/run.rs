//! `ctc run`: the ruleset on the host's live traffic (see
//! `ctc_datapath::live` for how packets reach ctc and go back), with its
//! control socket (`ctc_datapath::control`): `ctc reload`, `ctc ct`,
//! `ctc status`.

use crate::{EXIT_INPUT, EXIT_USAGE, RuleKey, RunArgs, counter_slots, counters_listing, not_built, runtime_program};
use ctc_datapath::control::{self, ControlServer, Feed, Request};
use ctc_datapath::engine::{Engine, EngineKind};
use ctc_datapath::live::{HookRules, QueueSpec, Shared, Worker, now_ns};
use ctc_datapath::pipeline::Pipeline;
use ctc_driver::Checked;
use ctc_driver::ir::CounterId;
use std::collections::HashMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime};

/// A compiled ruleset, or its diagnostics as text.
type LoadResult = Result<(Loaded, Engine), String>;

/// A ruleset compiled for the runtime, with what the control socket needs.
struct Loaded {
    path: PathBuf,
    checked: Checked,
    /// Which rule carries which counter slot (`--counters`-style listing).
    counter_of: HashMap<RuleKey, CounterId>,
    /// Each counter slot's rule, as (family, table, chain, rule text): a
    /// reload carries the counters of rules whose text is unchanged.
    counter_rule: HashMap<CounterId, (String, String, String, String)>,
    digest: String,
    loaded_at: SystemTime,
}

/// FNV-1a, 64 bits: the ruleset digest `ctc status` shows.
fn digest(bytes: &[u8]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}")
}

/// Check, lower, verify and compile a ruleset. `Err`: the diagnostics (and
/// why, ending with `{nothing}`), as text without colour.
/// Where the program hands packets to a queue (`FILE:LINE` of the rule,
/// or the verdict map), if it does.
fn queue_statement(program: &ctc_driver::ir::Program) -> Option<String> {
    use ctc_driver::ir::{ElementData, Op, Verdict};
    let is_queue = |v: &Verdict| matches!(v, Verdict::Queue { .. });
    for rule in program.chains.iter().flat_map(|c| &c.rules) {
        if rule.ops.iter().any(|op| matches!(op, Op::Verdict(v) if is_queue(v))) {
            return Some(format!("{}:{}", rule.loc.file, rule.loc.line));
        }
    }
    program
        .sets
        .iter()
        .find(|s| s.elements.iter().any(|e| matches!(&e.data, Some(ElementData::Verdict(v)) if is_queue(v))))
        .map(|s| format!("the verdict map @{}", s.name))
}

fn load(path: &Path, kind: EngineKind, nothing: &str) -> LoadResult {
    let bytes = std::fs::read(path).map_err(|e| format!("error: {}: {e}", path.display()))?;
    let (checked, program) = runtime_program(path, nothing, false)?;
    if let Some(at) = queue_statement(&program) {
        return Err(format!(
            "error: {at}: `queue` cannot run under `ctc run`: ctc reads the kernel's queue itself, and a packet it \
             handed to another queue would not come back to it (nft resumes the ruleset after the reader's \
             verdict); `ctc replay` shows where packets would be queued; {nothing}"
        ));
    }
    let counter_of = counter_slots(&program);
    // Each counter slot's rule text, found through the HIR (the IR's rule
    // indexes are the HIR's).
    let mut counter_rule = HashMap::new();
    for ((family, table, chain, ri), id) in &counter_of {
        let text = checked
            .program
            .tables
            .iter()
            .find(|h| h.name == *table && h.family.name() == family)
            .and_then(|h| h.chains.iter().find(|hc| hc.name == *chain))
            .and_then(|hc| hc.rules.get(*ri))
            .map(|hr| {
                let src = checked.sources.get(hr.span.file).slice(hr.span);
                src.split_whitespace().collect::<Vec<_>>().join(" ")
            })
            .unwrap_or_default();
        counter_rule.insert(*id, (family.clone(), table.clone(), chain.clone(), text));
    }
    let verified = ctc_driver::ir::verify(program)
        .map_err(|e| format!("error[E6002]: internal error: the compiled program does not verify: {e}"))?;
    let engine = Engine::new(kind, verified).map_err(|e| format!("error: {e}"))?;
    let loaded = Loaded {
        path: path.to_path_buf(),
        checked,
        counter_of,
        counter_rule,
        digest: digest(&bytes),
        loaded_at: SystemTime::now(),
    };
    Ok((loaded, engine))
}

/// Counter pairs (old, new) of rules present, unchanged, in both rulesets.
fn carried(old: &Loaded, new: &Loaded) -> Vec<(CounterId, CounterId)> {
    let by_rule: HashMap<&(String, String, String, String), CounterId> =
        old.counter_rule.iter().map(|(id, k)| (k, *id)).collect();
    new.counter_rule.iter().filter_map(|(id, k)| by_rule.get(k).map(|o| (*o, *id))).collect()
}

fn secs(t: SystemTime) -> u64 {
    t.duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// What the running datapath keeps besides the runner.
struct Daemon {
    loaded: Loaded,
    kind: EngineKind,
    started: Instant,
    queues: QueueSpec,
    /// Reloads compiling off the packet path: the requests waiting for
    /// them, and where their results come back.
    reloads: Vec<(Option<Request>, mpsc::Receiver<LoadResult>)>,
    reloads_done: u64,
}

/// `/proc/net/netfilter/nfnetlink_queue` for queue `q`: (waiting, dropped
/// for lack of room, dropped because the socket was full).
fn queue_counters(q: u16) -> Option<(u64, u64, u64)> {
    let text = std::fs::read_to_string("/proc/net/netfilter/nfnetlink_queue").ok()?;
    text.lines().find_map(|l| {
        let w: Vec<u64> = l.split_whitespace().filter_map(|x| x.parse().ok()).collect();
        (w.len() >= 7 && w[0] == u64::from(q)).then(|| (w[2], w[5], w[6]))
    })
}

/// The second stage's hook rules (and the kernel's address writes), put in
/// before the first ruleset with NAT (or priorities set after routing)
/// runs.
fn nat_hooks(program: &ctc_driver::ir::Program, rules: &mut HookRules, shared: &Arc<Shared>) -> Result<(), String> {
    if ctc_datapath::pipeline::needs_second_stage(program) && !rules.has_nat() {
        rules.install_nat()?;
        shared.enable_fast_nat(rules);
    }
    Ok(())
}

impl Daemon {
    fn start_reload(&mut self, req: Option<Request>, path: Option<PathBuf>) {
        let path = path.unwrap_or_else(|| self.loaded.path.clone());
        let kind = self.kind;
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(load(&path, kind, "the running ruleset stays"));
        });
        self.reloads.push((req, rx));
    }

    /// Swap in the reloads that finished compiling (between packets).
    fn finish_reloads(&mut self, shared: &Arc<Shared>, rules: &mut HookRules) {
        let mut i = 0;
        while i < self.reloads.len() {
            let result = match self.reloads[i].1.try_recv() {
                Ok(r) => r,
                Err(mpsc::TryRecvError::Empty) => {
                    i += 1;
                    continue;
                }
                Err(mpsc::TryRecvError::Disconnected) => Err("error: the compiler thread failed".into()),
            };
            let (req, _) = self.reloads.remove(i);
            match result {
                Ok((loaded, engine)) => {
                    if let Err(e) = nat_hooks(engine.program(), rules, shared) {
                        let text = format!("error: installing the hook rules for NAT: {e}");
                        errln!("ctc run: reload failed; the running ruleset stays\n{text}");
                        if let Some(r) = req {
                            r.reply(false, &text);
                        }
                        continue;
                    }
                    let pairs = carried(&self.loaded, &loaded);
                    let mut pipe = shared.pipeline();
                    pipe.replace_engine(engine, &pairs);
                    let msg = format!(
                        "ruleset {} loaded (digest {}); {} of its counters carried over; connections kept: {}",
                        loaded.path.display(),
                        loaded.digest,
                        pairs.len(),
                        pipe.ct.as_ref().map_or(0, |t| t.entries().count())
                    );
                    drop(pipe);
                    errln!("ctc run: {msg}");
                    self.loaded = loaded;
                    self.reloads_done += 1;
                    if let Some(r) = req {
                        r.reply(true, &msg);
                    }
                }
                Err(text) => {
                    errln!("ctc run: reload failed; the running ruleset stays\n{text}");
                    if let Some(r) = req {
                        r.reply(false, &text);
                    }
                }
            }
        }
    }

    fn status(&self, shared: &Shared) -> String {
        let s = &shared.stats();
        let mut queues = String::new();
        for q in self.queues.first..=self.queues.last {
            let (waiting, full, sock) = queue_counters(q).unwrap_or((0, 0, 0));
            queues.push_str(&format!(
                "queue {q}: {waiting} waiting, {full} dropped (queue full), {sock} dropped (socket full)\n"
            ));
        }
        let conns = shared.pipeline().ct.as_ref().map_or(0, |t| t.entries().count());
        format!(
            "ruleset: {} digest {} loaded at {} (epoch s), {} reloads\n\
             uptime: {} s\n\
             engine: {}\n\
             {queues}\
             packets: {}\n\
             dropped by ctc's datapath: {} stale at the second stage, {} longer than a queue message\n\
             gso: {} packets queued whole, the longest {} bytes\n\
             workers: {} batches, busy {:.1}% of the uptime, the longest batch {} us\n\
             connections: {conns}\n",
            self.loaded.path.display(),
            self.loaded.digest,
            secs(self.loaded.loaded_at),
            self.reloads_done,
            self.started.elapsed().as_secs(),
            self.kind.name(),
            s.packets_text(),
            s.stale,
            s.truncated,
            s.gso,
            s.gso_max_len,
            s.batches,
            s.busy_ns as f64 / 1e7 / self.started.elapsed().as_secs_f64().max(1e-9),
            s.max_batch_ns / 1000
        )
    }

    /// Answer one control request.
    fn serve(&mut self, req: Request, shared: &Shared, server: &mut ControlServer) {
        let words: Vec<&str> = req.words.iter().map(String::as_str).collect();
        let now = now_ns();
        match words.as_slice() {
            ["list"] | ["list", "extended"] => {
                let pipe = shared.pipeline();
                let Some(t) = &pipe.ct else { return req.reply(true, "") };
                let mut body = String::new();
                for e in t.entries() {
                    let line = if words.len() == 2 {
                        ctc_conntrack::format::entry_extended(&e, now)
                    } else {
                        ctc_conntrack::format::entry(&e, now)
                    };
                    body.push_str(&line);
                    body.push('\n');
                }
                body.push_str(&ctc_conntrack::format::summary(t.entries().count()));
                req.reply(true, &body);
            }
            ["expect"] => {
                let pipe = shared.pipeline();
                let Some(t) = &pipe.ct else { return req.reply(true, "") };
                let mut body = String::new();
                for e in t.expectations() {
                    body.push_str(&ctc_conntrack::format::expectation(e, e.timeout_secs(now)));
                    body.push('\n');
                }
                body.push_str(&format!(
                    "conntrack v1.4.7 (conntrack-tools): {} expectations have been shown.",
                    t.expectations().count()
                ));
                req.reply(true, &body);
            }
            ["stats"] => {
                let body =
                    shared.pipeline().ct.as_ref().map_or(String::new(), |t| ctc_conntrack::format::stats(t.stats()));
                req.reply(true, &body);
            }
            ["flush"] => {
                if let Some(t) = &mut shared.pipeline().ct {
                    t.flush(now);
                }
                req.reply(true, "conntrack v1.4.7 (conntrack-tools): connection tracking table has been emptied.");
            }
            ["counters"] => {
                let body = counters_listing(&self.loaded.checked, &self.loaded.counter_of, &shared.pipeline());
                req.reply(true, &body);
            }
            ["status"] => {
                let body = self.status(shared);
                req.reply(true, &body);
            }
            ["reload"] => self.start_reload(Some(req), None),
            ["reload", path] => {
                let p = PathBuf::from(path);
                self.start_reload(Some(req), Some(p));
            }
            ["events"] => {
                shared.keep_events.store(true, Ordering::Relaxed);
                server.subscribe(req, Feed::Conntrack);
            }
            ["events", "expect"] => {
                shared.keep_events.store(true, Ordering::Relaxed);
                server.subscribe(req, Feed::Expect);
            }
            _ => {
                let msg = format!("unknown request `{}`", req.words.join(" "));
                req.reply(false, &msg);
            }
        }
    }
}

pub(crate) fn run(a: &RunArgs) -> u8 {
    if a.xdp.is_some() {
        return not_built("ctc run --xdp", "the AF_XDP datapath does not exist yet; use --queue (NFQUEUE)");
    }
    let Some(q) = &a.queue else {
        errln!("error: `ctc run` needs --queue N or --queue N:M (the NFQUEUE numbers to use)");
        return EXIT_USAGE;
    };
    let spec = match QueueSpec::parse(q) {
        Ok(s) => s,
        Err(e) => {
            errln!("error: --queue {q}: {e}");
            return EXIT_USAGE;
        }
    };
    let nqueues = u32::from(spec.last - spec.first) + 1;
    if let Some(w) = a.workers
        && w != nqueues
    {
        errln!("error: --workers {w}: one worker serves each queue; --queue {q} has {nqueues}");
        return EXIT_USAGE;
    }
    let mut ct_config = ctc_conntrack::Config::default();
    for (name, value) in &a.sysctls {
        if let Err(e) = ct_config.set_sysctl(name, value) {
            errln!("error: --sysctl {name}={value}: {e}");
            return EXIT_USAGE;
        }
    }
    let kind = a.engine.kind();
    let (loaded, engine) = match load(&a.ruleset, kind, "not started") {
        Ok(x) => x,
        Err(text) => {
            errln!("{text}");
            return EXIT_INPUT;
        }
    };
    let host = match ctc_datapath::rtnl::read_host() {
        Ok(h) => h,
        Err(e) => {
            errln!("error: reading the host's interfaces and routes over rtnetlink: {e}");
            return EXIT_USAGE;
        }
    };
    let nifaces = host.ifaces.len();
    let pipeline = Pipeline::with_engine(engine, host, Vec::new(), Some(ctc_conntrack::Tracker::new(ct_config)));
    if let Err(e) = ctc_datapath::sys::catch_signals() {
        errln!("error: catching signals: {e}");
        return EXIT_USAGE;
    }
    let control_path = a.control.clone().unwrap_or_else(|| PathBuf::from(control::DEFAULT_PATH));
    let mut server = match ControlServer::bind(&control_path) {
        Ok(s) => s,
        Err(e) => {
            errln!("error: the control socket {}: {e}", control_path.display());
            return EXIT_USAGE;
        }
    };
    // The queues first, then the rules that feed them: no packet meets an
    // unbound queue (which would drop it).
    let shared = Shared::new(pipeline);
    let mut workers = Vec::new();
    for num in spec.first..=spec.last {
        match Worker::new(std::sync::Arc::clone(&shared), num, a.fail_open, a.queue_len) {
            Ok(w) => workers.push(w),
            Err(e) => {
                errln!("error: binding NFQUEUE {num}: {e} (root is needed; is another program using it?)");
                return EXIT_USAGE;
            }
        }
    }
    *shared.verdicts.lock().unwrap_or_else(|e| e.into_inner()) = match &a.verdicts {
        None => None,
        Some(p) if p.as_os_str() == "-" => Some(Box::new(std::io::stdout())),
        Some(p) => match std::fs::File::create(p) {
            Ok(f) => Some(Box::new(std::io::BufWriter::new(f))),
            Err(e) => {
                errln!("error: {}: {e}", p.display());
                return EXIT_USAGE;
            }
        },
    };
    let mut rules = match HookRules::install(spec, a.fail_open) {
        Ok(r) => r,
        Err(e) => {
            errln!("error: installing the hook rules: {e}");
            return EXIT_USAGE;
        }
    };
    if let Err(e) = nat_hooks(shared.pipeline().vm.program(), &mut rules, &shared) {
        errln!("error: installing the hook rules for NAT: {e}");
        return EXIT_USAGE;
    }
    let threads: Vec<_> = workers
        .into_iter()
        .map(|w| std::thread::Builder::new().name("ctc-worker".into()).spawn(move || w.run()))
        .collect();
    errln!(
        "ctc run: queue {} bound, hook rules installed ({}, raw priority, PREROUTING and OUTPUT{}{}, IPv4 and IPv6); {nifaces} interfaces; {} engine; control socket {}",
        if spec.first == spec.last { spec.first.to_string() } else { format!("{}:{}", spec.first, spec.last) },
        rules.mechanism(),
        if rules.has_nat() { ", second stage at POSTROUTING and INPUT" } else { "" },
        if rules.fast_nat() { ", lone new addresses written by nft" } else { "" },
        kind.name(),
        control_path.display()
    );
    let mut daemon =
        Daemon { loaded, kind, started: Instant::now(), queues: spec, reloads: Vec::new(), reloads_done: 0 };
    let mut watcher = match ctc_datapath::rtnl::Watcher::new() {
        Ok(w) => Some(w),
        Err(e) => {
            errln!("warning: not following interface and route changes: {e}");
            None
        }
    };
    let mut code = 0;
    loop {
        if let Some(w) = &mut watcher
            && w.changed()
        {
            match ctc_datapath::rtnl::read_host() {
                Ok(h) => shared.replace_host(h),
                Err(e) => errln!("warning: reading the host's interfaces and routes again: {e}"),
            }
        }
        match ctc_datapath::sys::take_signal() {
            Some(sig::HUP) => {
                errln!("ctc run: SIGHUP: reloading {}", daemon.loaded.path.display());
                daemon.start_reload(None, None);
            }
            Some(_) => break,
            None => {}
        }
        if threads.iter().any(|t| t.as_ref().map_or(true, |h| h.is_finished())) {
            errln!("error: a worker stopped");
            code = EXIT_INPUT;
            break;
        }
        daemon.finish_reloads(&shared, &mut rules);
        for req in server.poll() {
            daemon.serve(req, &shared, &mut server);
        }
        if shared.keep_events.load(Ordering::Relaxed) {
            let (ev, xev) = shared.take_events();
            let lines: Vec<String> = ev
                .iter()
                .map(|e| {
                    format!("{}{}", ctc_conntrack::format::timestamp_prefix(e.time_ns), ctc_conntrack::format::event(e))
                })
                .collect();
            server.publish(Feed::Conntrack, &lines);
            let xlines: Vec<String> = xev
                .iter()
                .map(|e| {
                    format!(
                        "{}{}",
                        ctc_conntrack::format::timestamp_prefix(e.time_ns),
                        ctc_conntrack::format::expect_event(e)
                    )
                })
                .collect();
            server.publish(Feed::Expect, &xlines);
            shared.keep_events.store(server.wants(Feed::Conntrack) || server.wants(Feed::Expect), Ordering::Relaxed);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    // The rules first (with no reader, a queue drops what reaches it).
    rules.remove();
    shared.stop.store(true, Ordering::Relaxed);
    for t in threads.into_iter().flatten() {
        match t.join() {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                errln!("error: the queue failed: {e}");
                code = EXIT_INPUT;
            }
            Err(_) => code = EXIT_INPUT,
        }
    }
    let s = shared.stats();
    errln!("ctc run: stopped; hook rules removed; packets: {}", s.packets_text());
    code
}

/// Signal numbers (Linux).
mod sig {
    pub const HUP: i32 = 1;
}

/// The control socket's path of a client command.
fn control_path(p: &Option<PathBuf>) -> PathBuf {
    p.clone().unwrap_or_else(|| PathBuf::from(control::DEFAULT_PATH))
}

/// A client command: send `request`, print the body (stdout, or stderr
/// for an error). Exit 0, 1 when the daemon answered `error`, 2 when it
/// could not be reached.
pub(crate) fn client(path: &Option<PathBuf>, request: &str, timeout: Duration) -> u8 {
    let p = control_path(path);
    match control::request(&p, request, timeout) {
        Ok((true, body)) => {
            let _ = write!(std::io::stdout().lock(), "{body}");
            0
        }
        Ok((false, body)) => {
            errln!("{}", body.trim_end());
            EXIT_INPUT
        }
        Err(e) => {
            errln!("error: the control socket {}: {e} (is `ctc run` running, with this --control?)", p.display());
            EXIT_USAGE
        }
    }
}

/// `ctc ct events`: follow the daemon's events until interrupted.
pub(crate) fn follow(path: &Option<PathBuf>, request: &str) -> u8 {
    let p = control_path(path);
    let out = std::io::stdout();
    match control::follow(&p, request, |line| {
        let mut o = out.lock();
        writeln!(o, "{line}").and_then(|_| o.flush()).is_ok()
    }) {
        Ok(()) => 0,
        Err(e) => {
            errln!("error: the control socket {}: {e}", p.display());
            EXIT_USAGE
        }
    }
}
