//! The environment native code runs in: one [`Env`] per base chain run,
//! addressed by offset from the generated code, and the `extern "C"`
//! helpers the code calls for the ops it leaves to the interpreter's
//! implementation.

use ctc_ir::abi::{Actions, PacketCtx};
use ctc_ir::{Hook, Op, Verdict};
use ctc_vm::{Frame, Host, OpOutcome, Regs, State, Vm, Work};
use std::mem::{MaybeUninit, offset_of};

/// What a chain function hands back (an `i64`): the kind in bits 0..8,
/// the deciding rule in bits 8..32, its chain in bits 32..64.
pub(crate) mod ret {
    /// The end of the chain or `return`: back to the caller (the policy
    /// at the base chain).
    pub const RETURN: i64 = 0;
    pub const ACCEPT: i64 = 1;
    pub const DROP: i64 = 2;
    /// Queue parameters in [`super::Env::queue`].
    pub const QUEUE: i64 = 3;
    pub const KIND_MASK: i64 = 0xff;
}

/// What the op helper answers (an `i32`).
pub(crate) mod step {
    pub const GO: i32 = 0;
    pub const BREAK: i32 = 1;
    pub const ACCEPT: i32 = 2;
    pub const DROP: i32 = 3;
    pub const CONTINUE: i32 = 4;
    pub const RETURN: i32 = 5;
    /// Parameters in [`super::Env::queue`].
    pub const QUEUE: i32 = 6;
    /// Target in [`super::Env::target`].
    pub const JUMP: i32 = 7;
    pub const GOTO: i32 = 8;
}

/// One base chain run. `repr(C)`: native code reads and writes its fields
/// by the offsets of [`off`].
///
/// The register file and the classifier slots are left uninitialised by
/// the Rust side (zeroing their 288 bytes was a fifth of a packet's fixed
/// cost): native code reads a register only after writing it (the
/// verifier: every read of a word written earlier in the same rule; loads
/// write whole words, the rest of the last one zeroed, as the interpreter
/// does), and a slot only after the run's loads wrote it. Rust reads them
/// only in the helpers, and every chain function that calls a helper
/// zeroes what that helper reads on entry (`Tx::chain`): the op helper
/// the registers, the classifier helpers the keys or the words. Values
/// left in them are never seen: no rule reads a register another rule
/// wrote, and a classifier reads only the bytes of a field its loads
/// wrote.
#[repr(C)]
pub(crate) struct Env {
    /// The register file, shared with the interpreter's ops.
    pub regs: MaybeUninit<Regs>,
    pub pkt: *mut u8,
    /// The frame's bytes, `pkt_len` of them at `pkt`. Native code computes
    /// the length it may read, `min(ctx.len, pkt_len)` (`Exec::frame_len`),
    /// and skb->len from it and the context's network offset
    /// (`Exec::skb_len`) where it needs them.
    pub pkt_len: usize,
    /// The context; its offsets are the payload bases (see
    /// [`off::C_BASES`]).
    pub ctx: *const PacketCtx,
    pub work: *mut Work,
    pub actions: *mut Actions,
    pub counters: *mut [u64; 2],
    /// Jumps on the stack (the interpreter's `sp`).
    pub sp: u32,
    /// Target chain of a dynamic jump/goto: written by the op helper
    /// before it answers `step::JUMP` or `step::GOTO`, read by native code
    /// only then.
    pub target: MaybeUninit<u32>,
    /// num, range, bypass, fanout of a queue verdict: written (by native
    /// code or the op helper) before a chain answers `ret::QUEUE`, read by
    /// `Jit::run_chain` only then.
    pub queue: MaybeUninit<[u32; 4]>,
    /// Field values of a classifier run (see `classify`): one 16-byte slot
    /// per field, big-endian as the registers hold them.
    pub keys: MaybeUninit<[[u8; 16]; crate::classify::MAX_FIELDS]>,
    /// The same values as words, for a run whose fields are all one word
    /// (see `Classifier::first_match_words`): 0 when absent.
    pub vals: MaybeUninit<[u32; crate::classify::MAX_FIELDS]>,
    /// Bit i: field i could be loaded; written by a run's loads before
    /// its helpers read it.
    pub present: MaybeUninit<u32>,
    /// The rest of the interpreter's [`Frame`], which the op helper makes
    /// again from these and the pointers above (`Jit::run_chain` keeps the
    /// parts, not the frame, so that a chain that never calls the helper
    /// costs no frame in memory).
    pub vm: *const Vm,
    pub state: *mut State,
    pub host: *const dyn Host,
    pub hook: Hook,
}

/// Field offsets for the generated code.
pub(crate) mod off {
    use super::*;
    pub const REGS: i32 = offset_of!(Env, regs) as i32;
    pub const PKT: i32 = offset_of!(Env, pkt) as i32;
    pub const PKT_LEN: i32 = offset_of!(Env, pkt_len) as i32;
    pub const CTX: i32 = offset_of!(Env, ctx) as i32;
    pub const WORK: i32 = offset_of!(Env, work) as i32;
    pub const COUNTERS: i32 = offset_of!(Env, counters) as i32;
    pub const SP: i32 = offset_of!(Env, sp) as i32;
    pub const TARGET: i32 = offset_of!(Env, target) as i32;
    pub const QUEUE: i32 = offset_of!(Env, queue) as i32;
    pub const KEYS: i32 = offset_of!(Env, keys) as i32;
    pub const KEYS_LEN: i32 = std::mem::size_of::<[[u8; 16]; crate::classify::MAX_FIELDS]>() as i32;
    pub const REGS_LEN: i32 = std::mem::size_of::<Regs>() as i32;
    pub const VALS_LEN: i32 = std::mem::size_of::<[u32; crate::classify::MAX_FIELDS]>() as i32;
    pub const VALS: i32 = offset_of!(Env, vals) as i32;
    pub const PRESENT: i32 = offset_of!(Env, present) as i32;

    pub const W_MARK: i32 = offset_of!(Work, mark) as i32;
    pub const W_PRIORITY: i32 = offset_of!(Work, priority) as i32;
    pub const W_CT_MARK: i32 = offset_of!(Work, ct_mark) as i32;
    pub const W_CT_STATE: i32 = offset_of!(Work, ct_state) as i32;
    pub const W_PKTTYPE: i32 = offset_of!(Work, pkttype) as i32;

    /// The payload bases Link, Network, Transport, Inner: the context's
    /// offsets, read where the context has them (one beyond the frame, or
    /// ABSENT, fails a load's bounds check `base + offset + len <=
    /// frame_len`) rather than copied to the Env for every chain run.
    pub const C_BASES: i32 = offset_of!(PacketCtx, ll_off) as i32;
    const _: () = {
        assert!(offset_of!(PacketCtx, nh_off) == offset_of!(PacketCtx, ll_off) + 4);
        assert!(offset_of!(PacketCtx, th_off) == offset_of!(PacketCtx, ll_off) + 8);
        assert!(offset_of!(PacketCtx, ih_off) == offset_of!(PacketCtx, ll_off) + 12);
    };
    pub const C_LEN: i32 = offset_of!(PacketCtx, len) as i32;
    pub const C_NFPROTO: i32 = offset_of!(PacketCtx, nfproto) as i32;
    pub const C_L4PROTO: i32 = offset_of!(PacketCtx, l4proto) as i32;
    pub const C_ETHERTYPE: i32 = offset_of!(PacketCtx, ethertype) as i32;
    pub const C_IIF: i32 = offset_of!(PacketCtx, iif) as i32;
    pub const C_OIF: i32 = offset_of!(PacketCtx, oif) as i32;
    pub const C_IIFNAME: i32 = offset_of!(PacketCtx, iifname) as i32;
    pub const C_OIFNAME: i32 = offset_of!(PacketCtx, oifname) as i32;
    pub const C_CT_HAS_ENTRY: i32 = (offset_of!(PacketCtx, ct) + offset_of!(ctc_ir::abi::CtInfo, has_entry)) as i32;
}

/// The op helper: run `op` with the interpreter's code on the Env's
/// registers, packet and State. Called by native code for every op it does
/// not translate inline (limits, quotas, dynamic sets, fib, hashes, large
/// sets, NAT, …), so those are the interpreter's objects and semantics.
///
/// # Safety
/// `env` is the Env of the running chain (its pointers set by
/// `Jit::run_chain` from the frame it borrows for the run), `op` points
/// into the program the code was compiled from, which the `Jit` keeps
/// alive.
pub(crate) unsafe extern "C" fn op_helper(env: *mut Env, op: *const Op, numgen_slot: u32) -> i32 {
    // SAFETY: see the function's contract; native code is suspended in
    // this call, so nothing else touches the Env or the frame meanwhile.
    let (env, op) = unsafe { (&mut *env, &*op) };
    // SAFETY: the parts of the `&mut Frame` run_chain borrowed for this
    // run (`Frame::raw`, `Frame::vm`, `Frame::host`, `Frame::hook`): each
    // reference made here is unique for its kind as the frame's own was,
    // and lives only for this call, while native code is suspended and
    // touches none of them.
    let mut frame = unsafe {
        Frame::new(
            &*env.vm,
            &mut *env.state,
            &*env.host,
            env.hook,
            std::slice::from_raw_parts_mut(env.pkt, env.pkt_len),
            &*env.ctx,
            &mut *env.work,
            &mut *env.actions,
        )
    };
    // SAFETY: the chain calling the helper zeroed the registers on entry
    // (see [`Env`]); native code writes only whole initialised words since.
    let regs = unsafe { env.regs.assume_init_mut() };
    match frame.exec_op(regs, op, numgen_slot) {
        OpOutcome::Go => step::GO,
        OpOutcome::Break => step::BREAK,
        OpOutcome::Verdict(v) => match v {
            Verdict::Accept => step::ACCEPT,
            Verdict::Drop => step::DROP,
            Verdict::Continue => step::CONTINUE,
            Verdict::Return => step::RETURN,
            Verdict::Queue { num, range, bypass, fanout } => {
                env.queue.write([num.into(), range.into(), bypass.into(), fanout.into()]);
                step::QUEUE
            }
            Verdict::Jump(c) => {
                env.target.write(c.0);
                step::JUMP
            }
            Verdict::Goto(c) => {
                env.target.write(c.0);
                step::GOTO
            }
        },
    }
}

/// The classifier helper: the first rule of a classified run, at or after
/// `from`, whose tests all hold for the field values in `env.keys`; -1 for
/// none.
///
/// # Safety
/// `env` is a live Env, `cls` a classifier the `Jit` owns.
pub(crate) unsafe extern "C" fn classify_helper(
    env: *const Env,
    cls: *const crate::classify::Classifier,
    from: u32,
) -> i32 {
    // SAFETY: see the function's contract.
    let (env, cls) = unsafe { (&*env, &*cls) };
    // SAFETY: the chain calling the helper zeroed the keys on entry.
    let keys = unsafe { env.keys.assume_init_ref() };
    // SAFETY: the run's loads wrote it before the call.
    let present = unsafe { env.present.assume_init() };
    cls.first_match(keys, present, from as usize).map_or(-1, |i| i as i32)
}

/// [`classify_helper`] for a run of one-word fields: their values as words
/// in `env.vals`.
///
/// # Safety
/// As [`classify_helper`].
pub(crate) unsafe extern "C" fn classify_words_helper(
    env: *const Env,
    cls: *const crate::classify::Classifier,
    from: u32,
) -> i32 {
    // SAFETY: see the function's contract.
    let (env, cls) = unsafe { (&*env, &*cls) };
    // SAFETY: the chain calling the helper zeroed the words on entry.
    let vals = unsafe { env.vals.assume_init_ref() };
    // SAFETY: the run's loads wrote it before the call.
    let present = unsafe { env.present.assume_init() };
    cls.first_match_words(vals, present, from as usize).map_or(-1, |i| i as i32)
}

/// The rest of a run whose trees compiled code walks: the least of `best`
/// and the first rule at or after `from` of the bit vectors that hold the
/// rules no tree takes (`Classifier::rest_best`); -1 for none.
///
/// # Safety
/// As [`classify_helper`].
pub(crate) unsafe extern "C" fn classify_rest_helper(
    env: *const Env,
    cls: *const crate::classify::Classifier,
    from: u32,
    best: u32,
) -> i32 {
    // SAFETY: see the function's contract.
    let (env, cls) = unsafe { (&*env, &*cls) };
    // SAFETY: the chain calling the helper zeroed the words on entry.
    let vals = unsafe { env.vals.assume_init_ref() };
    // SAFETY: the run's loads wrote it before the call.
    let present = unsafe { env.present.assume_init() };
    cls.rest_best(vals, present, from as usize, best) as i32
}
