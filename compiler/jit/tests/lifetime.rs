//! Code lifetime: compiling a ruleset and replacing it 1,000 times leaves
//! memory flat — a dropped `Jit` frees its machine code and tables.
//!
//! Measured two ways: live heap bytes through a counting allocator (back to
//! the baseline after every drop), and the process's resident set (the
//! JIT's code pages are mapped apart from the heap), whose growth over
//! 1,000 cycles must stay far below what keeping every cycle's code would
//! take.

#![allow(unsafe_code)]

use ctc_ir::abi::{Actions, PacketCtx};
use ctc_ir::*;
use ctc_jit::Jit;
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};

struct Counting;
static LIVE: AtomicIsize = AtomicIsize::new(0);

// SAFETY: forwards to the system allocator, counting bytes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        LIVE.fetch_add(l.size() as isize, Ordering::Relaxed);
        // SAFETY: same contract as ours.
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        LIVE.fetch_sub(l.size() as isize, Ordering::Relaxed);
        // SAFETY: same contract as ours.
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        LIVE.fetch_add(new as isize - l.size() as isize, Ordering::Relaxed);
        // SAFETY: same contract as ours.
        unsafe { System.realloc(p, l, new) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Resident set size in bytes (Linux).
fn rss() -> usize {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    statm.split_whitespace().nth(1).and_then(|s| s.parse::<usize>().ok()).unwrap_or(0) * 4096
}

/// A forward chain of `n` 5-tuple rules with counters (a classifier run)
/// and a few rules of other shapes.
fn program(n: usize) -> VerifiedProgram {
    let mut rules = Vec::new();
    for i in 0..n {
        let ops = vec![
            Op::Payload { dst: Reg(0), base: Base::Network, offset: 16, len: 4 },
            Op::Cmp { src: Reg(0), op: CmpOp::Eq, data: vec![10, 0, (i >> 8) as u8, i as u8] },
            Op::Payload { dst: Reg(1), base: Base::Transport, offset: 2, len: 2 },
            Op::Range { src: Reg(1), lo: vec![0, 10], hi: vec![0, 200], negate: false },
            Op::Counter(CounterId(i as u32)),
            Op::Verdict(if i % 2 == 0 { Verdict::Accept } else { Verdict::Drop }),
        ];
        rules.push(Rule {
            ops,
            loc: SourceLoc { file: "t".into(), line: i as u32 + 1 },
            counter: Some(CounterId(i as u32)),
        });
    }
    rules.push(Rule {
        ops: vec![
            Op::Meta { dst: Reg(0), key: MetaKey::Mark, len: 4 },
            Op::Cmp { src: Reg(0), op: CmpOp::Ne, data: vec![0, 0, 0, 1] },
            Op::Limit(LimitId(0)),
        ],
        loc: SourceLoc { file: "t".into(), line: 9999 },
        counter: None,
    });
    let p = Program {
        tables: vec![Table { family: Family::Ip, name: "t".into() }],
        chains: vec![Chain {
            name: "fwd".into(),
            table: TableId(0),
            base: Some(BaseInfo { ty: ChainType::Filter, hook: Hook::Forward, priority: 0, policy_accept: true }),
            rules,
        }],
        counters: vec![(0, 0); n],
        limits: vec![LimitDef { rate: 10, per_secs: 1, burst: 5, bytes: false, over: false }],
        ..Program::default()
    };
    verify(p).expect("verifies")
}

fn cycle(prog: &VerifiedProgram, state: Option<ctc_vm::State>, old: Option<&Jit>) -> (Jit, ctc_vm::State) {
    let jit = Jit::compile(prog.clone()).expect("compiles");
    let mut st = match (state, old) {
        (Some(s), Some(o)) => ctc_vm::State::adopt(jit.vm(), &s, o.vm()),
        _ => jit.new_state(),
    };
    // Run a packet so the code is used, not only compiled.
    let mut pkt = vec![0u8; 60];
    pkt[14 + 16..14 + 20].copy_from_slice(&[10, 0, 0, 3]);
    pkt[34 + 2..34 + 4].copy_from_slice(&[0, 80]);
    let ctx = PacketCtx { ll_off: 0, nh_off: 14, th_off: 34, len: 60, nfproto: 2, l4proto: 6, ..PacketCtx::default() };
    let mut a = Actions::default();
    let r = jit.run_hook(&mut st, &ctc_vm::NoHost, Hook::Forward, &mut pkt, &ctx, &mut a);
    assert_eq!(r.verdict, ctc_vm::HookVerdict::Drop, "rule 3 drops");
    assert_eq!(st.counter(CounterId(3)), (1, 46));
    (jit, st)
}

#[test]
fn thousand_replacements_leave_memory_flat() {
    let prog = program(300);
    // Warm up: lazily built process state (thread locals, first mappings).
    let (mut jit, mut st) = cycle(&prog, None, None);
    for _ in 0..20 {
        let (j, s) = cycle(&prog, Some(st), Some(&jit));
        (jit, st) = (j, s);
    }
    let code = jit.listings().iter().map(|l| l.code_size).sum::<usize>();
    assert!(code > 20_000, "the program is big enough to show a leak ({code} bytes of code)");
    let (heap0, rss0) = (LIVE.load(Ordering::Relaxed), rss());
    for _ in 0..1000 {
        let (j, s) = cycle(&prog, Some(st), Some(&jit));
        (jit, st) = (j, s);
    }
    let (heap1, rss1) = (LIVE.load(Ordering::Relaxed), rss());
    // The live heap is the same size: same program, same state, one Jit.
    let heap_growth = heap1 - heap0;
    assert!(heap_growth.abs() < 64 * 1024, "live heap grew by {heap_growth} bytes over 1,000 replacements");
    // Keeping each cycle's code would add 1,000 × `code` bytes (> 20 MB).
    let rss_growth = rss1.saturating_sub(rss0);
    assert!(
        rss_growth < 8 << 20,
        "resident set grew by {rss_growth} bytes over 1,000 replacements ({code} bytes of code each)"
    );
}
