//! `ctc run`: the ruleset on the host's live traffic (see
//! `ctc_datapath::live` for how packets reach ctc and go back).

use crate::{EXIT_INPUT, EXIT_USAGE, RunArgs, not_built, runtime_program};
use ctc_datapath::live::{HookRules, QueueSpec, Runner};
use ctc_datapath::pipeline::Pipeline;
use std::io::Write as _;

pub(crate) fn run(a: &RunArgs) -> u8 {
    if a.xdp.is_some() {
        return not_built("ctc run --xdp", "AF_XDP comes after NFQUEUE in issue #7; use --queue");
    }
    if a.control.is_some() {
        return not_built("ctc run --control", "the control socket (`ctc reload`, `ctc ct`) lands with issue #7");
    }
    if a.workers.is_some_and(|w| w > 1) {
        return not_built("ctc run --workers", "one worker for now");
    }
    let Some(q) = &a.queue else {
        errln!("error: `ctc run` needs --queue N (the NFQUEUE number to use)");
        return EXIT_USAGE;
    };
    let spec = match QueueSpec::parse(q) {
        Ok(s) => s,
        Err(e) => {
            errln!("error: --queue {q}: {e}");
            return EXIT_USAGE;
        }
    };
    if spec.first != spec.last {
        return not_built("ctc run --queue N:M", "several queues need a shared tracker; use one queue");
    }
    let mut ct_config = ctc_conntrack::Config::default();
    for (name, value) in &a.sysctls {
        if let Err(e) = ct_config.set_sysctl(name, value) {
            errln!("error: --sysctl {name}={value}: {e}");
            return EXIT_USAGE;
        }
    }
    let program = match runtime_program(&a.ruleset, "not started") {
        Ok((_, p)) => p,
        Err(code) => return code,
    };
    let verified = match ctc_driver::ir::verify(program) {
        Ok(v) => v,
        Err(e) => {
            errln!("error[E6002]: internal error: the compiled program does not verify: {e}");
            return EXIT_INPUT;
        }
    };
    let engine = match ctc_datapath::engine::Engine::new(a.engine.kind(), verified) {
        Ok(e) => e,
        Err(e) => {
            errln!("error: {e}");
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
    // The queue first, then the rules that feed it: no packet meets an
    // unbound queue (which would drop it).
    let mut runner = match Runner::new(pipeline, spec.first, a.fail_open) {
        Ok(r) => r,
        Err(e) => {
            errln!("error: binding NFQUEUE {}: {e} (root is needed; is another program using it?)", spec.first);
            return EXIT_USAGE;
        }
    };
    runner.verdicts = match &a.verdicts {
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
    errln!(
        "ctc run: queue {} bound, hook rules installed (raw PREROUTING and OUTPUT, IPv4 and IPv6); {nifaces} interfaces; {} engine",
        spec.first,
        runner.pipeline.vm.kind().name()
    );
    let code = loop {
        match ctc_datapath::sys::take_signal() {
            Some(libc_sig) if libc_sig == sig::HUP => {
                errln!("ctc run: SIGHUP: reloading is not built yet (issue #7); the running ruleset stays");
            }
            Some(_) => break 0,
            None => {}
        }
        if let Err(e) = runner.step() {
            errln!("error: the queue failed: {e}");
            break EXIT_INPUT;
        }
    };
    rules.remove();
    let s = runner.stats;
    errln!(
        "ctc run: stopped; hook rules removed; {} packets: {} accepted ({} rewritten, {} sent by ctc), {} dropped, {} generated, {} errors",
        s.packets,
        s.accepted + s.sent,
        s.rewritten,
        s.sent,
        s.dropped,
        s.generated,
        s.errors
    );
    code
}

/// Signal numbers (Linux).
mod sig {
    pub const HUP: i32 = 1;
}
