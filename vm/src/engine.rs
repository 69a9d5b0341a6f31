//! What a compiled engine (`ctc-jit`) shares with the interpreter, so both
//! agree by construction on everything but the rules' own code:
//!
//! - the hook level ([`Vm::run_hook_engine`]): which base chains run, in
//!   which order, the family and NAT filters, how chain verdicts combine —
//!   one implementation, the interpreter's, takes a [`ChainEngine`] that
//!   runs one base chain;
//! - the ops a compiled engine does not translate to native code (limits,
//!   quotas, dynamic sets, fib, hashes, …): [`Frame::exec_op`] runs one op
//!   with the interpreter's own code, on the engine's register file and on
//!   the same [`State`] (counters, buckets, sets), so the objects are the
//!   same ones;
//! - the raw view ([`Frame::raw`]) native code reads: the packet bytes,
//!   the context, the working copy of mark & co. ([`Work`]), the action
//!   record and the counter slots.

use crate::ops::{Exec, Regs, Step, Work};
use crate::{ChainVerdict, Decider, HookResult, Host, State, Vm};
use ctc_ir::abi::{Actions, PacketCtx};
use ctc_ir::{ChainId, Hook, Op, Verdict};

/// One base chain's evaluation context, as [`Vm::run_hook_engine`] hands it
/// to a [`ChainEngine`].
pub struct Frame<'a> {
    pub(crate) vm: &'a Vm,
    pub(crate) state: &'a mut State,
    pub(crate) host: &'a dyn Host,
    pub(crate) hook: Hook,
    pub(crate) pkt: &'a mut [u8],
    pub(crate) ctx: &'a PacketCtx,
    pub(crate) work: &'a mut Work,
    pub(crate) actions: &'a mut Actions,
}

impl std::fmt::Debug for Frame<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Frame").field("hook", &self.hook).field("ctx", &self.ctx).finish_non_exhaustive()
    }
}

/// What one op did, for [`Frame::exec_op`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpOutcome {
    /// Go on with the next op of the rule.
    Go,
    /// The rule ends without verdict (NFT_BREAK).
    Break,
    /// The rule ends with this verdict.
    Verdict(Verdict),
}

/// Raw pointers into a [`Frame`] for native code. Valid while the frame is
/// borrowed by the engine's `run_chain`; native code and
/// [`Frame::exec_op`] take turns (never both at once).
#[derive(Debug, Clone, Copy)]
pub struct RawFrame {
    pub pkt: *mut u8,
    /// The frame's bytes: `pkt_len` of them at `pkt`. The frame length the
    /// ops may read is `min(ctx.len, pkt_len)` (`Exec::frame_len`), and
    /// skb->len is counted from the context's network offset
    /// (`Exec::skb_len`): native code computes both where it needs them.
    pub pkt_len: usize,
    /// The context, whose offsets (`ll_off` .. `ih_off`) native code uses
    /// as the payload bases as they are: one beyond the frame fails every
    /// load's bounds check (`base + offset + len <= frame_len`), as ABSENT
    /// does, since `frame_len` is at most `u32::MAX`.
    pub ctx: *const PacketCtx,
    pub work: *mut Work,
    pub actions: *mut Actions,
    /// `[packets, bytes]` per counter slot.
    pub counters: *mut [u64; 2],
    /// The rest of the frame, for an engine that keeps these pointers
    /// instead of the [`Frame`] and makes one ([`Frame::new`]) only when
    /// an op needs it: its State.
    pub state: *mut State,
}

impl<'a> Frame<'a> {
    /// A frame from its parts, as [`Vm::run_hook_engine`] makes it (an
    /// engine that kept the parts of [`Frame::raw`] makes it again from
    /// them for [`Frame::exec_op`]).
    #[allow(clippy::too_many_arguments)]
    #[inline]
    pub fn new(
        vm: &'a Vm,
        state: &'a mut State,
        host: &'a dyn Host,
        hook: Hook,
        pkt: &'a mut [u8],
        ctx: &'a PacketCtx,
        work: &'a mut Work,
        actions: &'a mut Actions,
    ) -> Frame<'a> {
        Frame { vm, state, host, hook, pkt, ctx, work, actions }
    }

    /// The program's interpreter.
    #[inline]
    pub fn vm(&self) -> &'a Vm {
        self.vm
    }

    /// The host the ops ask (routes, fib, expectations).
    #[inline]
    pub fn host(&self) -> &'a dyn Host {
        self.host
    }

    /// The hook the chains run at.
    #[inline]
    pub fn hook(&self) -> Hook {
        self.hook
    }

    fn exec<'b>(&'b mut self, regs: &'b mut Regs) -> Exec<'b> {
        Exec {
            vm: self.vm,
            state: &mut *self.state,
            host: self.host,
            hook: self.hook,
            pkt: &mut *self.pkt,
            ctx: self.ctx,
            work: &mut *self.work,
            actions: &mut *self.actions,
            regs,
        }
    }

    /// Run one op with the interpreter's semantics on `regs`. `numgen_slot`
    /// is the State slot of a `numgen inc` op: [`Vm::numgen_slot`] of its
    /// rule plus the number of `numgen inc` ops before it in the rule.
    pub fn exec_op(&mut self, regs: &mut Regs, op: &Op, numgen_slot: u32) -> OpOutcome {
        let mut slot = numgen_slot;
        match self.exec(regs).op(op, &mut slot) {
            Step::Go => OpOutcome::Go,
            Step::Break => OpOutcome::Break,
            Step::Verdict(v) => OpOutcome::Verdict(v),
        }
    }

    /// The packet's context.
    pub fn ctx(&self) -> &PacketCtx {
        self.ctx
    }

    /// Pointers for native code (see [`RawFrame`]).
    #[inline]
    pub fn raw(&mut self) -> RawFrame {
        RawFrame {
            pkt: self.pkt.as_mut_ptr(),
            pkt_len: self.pkt.len(),
            ctx: self.ctx,
            work: &mut *self.work,
            actions: &mut *self.actions,
            counters: self.state.counters.as_mut_ptr(),
            state: &mut *self.state,
        }
    }
}

/// A chain's verdict and what decided it, packed in one `u128` so that it
/// comes back in registers: the `(ChainVerdict, Decider)` tuple came back
/// through memory, written field by field and read back whole, and that
/// store-forwarding stall was a quarter of a packet's fixed cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChainOutcome(u128);

impl ChainOutcome {
    // Bits: 0..2 verdict (0 accept, 1 drop, 2 queue), 2..4 decider (0 no
    // chain, 1 rule, 2 policy), 4 bypass, 5 fanout, 8..24 queue num,
    // 24..40 queue range, 64..96 chain, 96..128 rule.
    pub fn new(v: ChainVerdict, by: Decider) -> ChainOutcome {
        let mut x: u128 = match v {
            ChainVerdict::Accept => 0,
            ChainVerdict::Drop => 1,
            ChainVerdict::Queue { num, range, bypass, fanout } => {
                2 | u128::from(bypass) << 4 | u128::from(fanout) << 5 | u128::from(num) << 8 | u128::from(range) << 24
            }
        };
        x |= match by {
            Decider::NoChain => 0,
            Decider::Rule { chain, rule } => 1 << 2 | u128::from(chain.0) << 64 | u128::from(rule) << 96,
            Decider::Policy { chain } => 2 << 2 | u128::from(chain.0) << 64,
        };
        ChainOutcome(x)
    }

    /// `new(Accept or Drop, Decider::Rule { chain, rule })`: what compiled
    /// code answers most, packed without going through the enums.
    #[inline]
    pub fn by_rule(drop: bool, chain: ChainId, rule: u32) -> ChainOutcome {
        ChainOutcome(u128::from(drop) | 1 << 2 | u128::from(chain.0) << 64 | u128::from(rule) << 96)
    }

    pub fn get(self) -> (ChainVerdict, Decider) {
        let x = self.0;
        let v = match x & 3 {
            0 => ChainVerdict::Accept,
            1 => ChainVerdict::Drop,
            _ => ChainVerdict::Queue {
                num: (x >> 8) as u16,
                range: (x >> 24) as u16,
                bypass: x >> 4 & 1 != 0,
                fanout: x >> 5 & 1 != 0,
            },
        };
        let chain = ChainId((x >> 64) as u32);
        let by = match x >> 2 & 3 {
            1 => Decider::Rule { chain, rule: (x >> 96) as u32 },
            2 => Decider::Policy { chain },
            _ => Decider::NoChain,
        };
        (v, by)
    }
}

/// An engine that runs one base chain (and the chains it jumps to): the
/// part of [`Vm::run_hook_engine`] that differs between engines.
pub trait ChainEngine {
    /// The chain's verdict and what decided it, exactly as the
    /// interpreter's `nft_do_chain` would give them.
    fn run_chain(&self, frame: &mut Frame<'_>, chain: ChainId) -> ChainOutcome;
}

/// The interpreter as a [`ChainEngine`].
impl ChainEngine for Vm {
    fn run_chain(&self, f: &mut Frame<'_>, chain: ChainId) -> ChainOutcome {
        let (v, by) = self.run_chain(f.state, f.host, f.hook, f.pkt, f.ctx, f.work, f.actions, chain);
        ChainOutcome::new(v, by)
    }
}

impl Vm {
    /// [`Vm::run_hook_window`] with the base chains run by `engine`: the
    /// hook-level semantics stay the interpreter's.
    #[allow(clippy::too_many_arguments)]
    #[inline]
    pub fn run_hook_engine<E: ChainEngine + ?Sized>(
        &self,
        engine: &E,
        state: &mut State,
        host: &dyn Host,
        hook: Hook,
        pkt: &mut [u8],
        ctx: &PacketCtx,
        actions: &mut Actions,
        window: std::ops::RangeInclusive<i32>,
    ) -> HookResult {
        self.hook_with(engine, state, host, hook, pkt, ctx, actions, window)
    }

    /// The State slot of the first `numgen inc` op of a rule.
    pub fn numgen_slot(&self, chain: ChainId, rule: usize) -> u32 {
        self.numgen_base[chain.index()][rule]
    }

    /// Whether `state` was made for this program (by [`Vm::new_state`] or
    /// [`State::adopt`]).
    pub fn owns(&self, state: &State) -> bool {
        state.vm_id == self.id
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_round_trip() {
        let c = ChainId(7);
        for v in [
            ChainVerdict::Accept,
            ChainVerdict::Drop,
            ChainVerdict::Queue { num: 65535, range: 3, bypass: true, fanout: false },
            ChainVerdict::Queue { num: 1, range: 65535, bypass: false, fanout: true },
        ] {
            for by in [Decider::NoChain, Decider::Rule { chain: c, rule: u32::MAX }, Decider::Policy { chain: c }] {
                assert_eq!(ChainOutcome::new(v, by).get(), (v, by));
            }
        }
        for (drop, v) in [(false, ChainVerdict::Accept), (true, ChainVerdict::Drop)] {
            for (chain, rule) in [(ChainId(0), 0), (c, 12), (ChainId(u32::MAX), u32::MAX)] {
                let by = Decider::Rule { chain, rule };
                assert_eq!(ChainOutcome::by_rule(drop, chain, rule), ChainOutcome::new(v, by));
            }
        }
    }
}
