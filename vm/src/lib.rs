//! ctc-vm: the reference interpreter of a verified IR program — the
//! executable specification every other engine must agree with.
//!
//! A [`Vm`] is built once from a [`VerifiedProgram`] (lookup structures for
//! sets and maps, limit constants, hook order); the mutable [`State`]
//! (counters, buckets, quotas, numgen, dynamic sets) lives apart so a
//! reload can carry it over. [`Vm::run_hook`] runs every base chain of a
//! hook for one packet with the semantics of nft(8) "OVERALL EVALUATION OF
//! THE RULESET" (the kernel's `nft_do_chain` and `nf_hook_slow`):
//!
//! - base chains of the hook run in priority order, those of tables whose
//!   family matches the packet only (ip: IPv4, ip6: IPv6, inet: both);
//! - `accept` ends the current base chain only: the next base chain of the
//!   hook still sees the packet; `drop` (and `reject`, which drops after
//!   sending its answer) ends the hook and the packet; `queue` ends the
//!   hook, the packet goes to userspace;
//! - `continue` (and a rule whose test fails: NFT_BREAK) goes on with the
//!   next rule; `jump` pushes a return point (at most [`MAX_JUMP_DEPTH`]),
//!   `goto` does not; `return`, or the end of a regular chain, pops the last
//!   return point; with none left (the end of the base chain, or `return`
//!   in it, or the end of a chain reached by `goto` from it) the base
//!   chain's policy applies: accept goes on with the next base chain, drop
//!   ends everything;
//! - a NAT statement ends its chain with accept, as the kernel's nft_nat
//!   returns NF_ACCEPT; NAT base chains only run for a tracked connection in
//!   state new or related that has no binding of their kind yet (the
//!   kernel's `nf_nat_inet_fn`: `ct.status` bits IPS_SRC_NAT_DONE /
//!   IPS_DST_NAT_DONE, which the datapath sets once it bound the
//!   connection).
//!
//! Register conventions are the IR's: 32-bit words, big-endian byte
//! strings; every load of `len` bytes zeroes the rest of its last word
//! (as the kernel's loads do), so padded concatenation keys compare equal.
//! Ops are documented one by one in [`ops`](crate::ops).

mod csum;
pub mod engine;
mod hash;
mod hdr;
mod host;
mod ops;
mod sets;
mod state;

pub use csum::{checksum, replace as csum_replace};
pub use engine::{ChainEngine, ChainOutcome, Frame, OpOutcome, RawFrame};
pub use hash::{jhash, reciprocal_scale};
pub use host::{ExpectOutcome, FibQuery, Host, NoHost, Route, rtn};
pub use ops::{Regs, Work};
pub use state::{DYNSET_MAX, State};

use ctc_ir::abi::{Actions, PacketCtx};
use ctc_ir::{ChainId, ChainType, Family, Hook, MAX_JUMP_DEPTH, Op, SourceLoc, Verdict, VerifiedProgram};
use sets::SetIndex;
use state::LimitParams;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// What a hook decided for the packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HookVerdict {
    /// Every base chain that saw the packet accepted it (or none ran).
    Accept,
    /// Dropped (a `drop` or `reject` verdict, or a drop policy).
    Drop,
    /// Handed to userspace queue `num` (of `range` queues from `num`).
    Queue { num: u16, range: u16, bypass: bool, fanout: bool },
}

/// What decided a hook's verdict, for `--verdicts`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Decider {
    /// No base chain of the hook saw the packet (the kernel accepts).
    NoChain,
    /// A rule's verdict (the rule index within the chain).
    Rule { chain: ChainId, rule: u32 },
    /// The policy of a base chain.
    Policy { chain: ChainId },
}

/// The outcome of [`Vm::run_hook`]: the final verdict and what decided it.
/// When every base chain accepted, `by` is the last accepting rule or
/// policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct HookResult {
    pub verdict: HookVerdict,
    pub by: Decider,
}

/// The outcome of one base chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChainVerdict {
    Accept,
    Drop,
    Queue { num: u16, range: u16, bypass: bool, fanout: bool },
}

/// IPS_SRC_NAT_DONE (bit 7) and IPS_DST_NAT_DONE (bit 8) of
/// include/uapi/linux/netfilter/nf_conntrack_common.h.
pub const IPS_SRC_NAT_DONE: u32 = 1 << 7;
pub const IPS_DST_NAT_DONE: u32 = 1 << 8;
/// IPS_CONFIRMED (bit 3).
pub const IPS_CONFIRMED: u32 = 1 << 3;

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// The interpreter of one verified program.
#[derive(Debug)]
pub struct Vm {
    prog: Arc<VerifiedProgram>,
    pub(crate) id: u64,
    /// Base chains per hook ([`Hook`] as index), in the kernel's order,
    /// as [`Vm::hook_with`] walks them for every packet: each with its
    /// effective priority (NAT chains at the NAT core's), families and
    /// whether it is a NAT chain, worked out once here.
    plan: [Box<[HookStep]>; 5],
    pub(crate) sets: Vec<SetIndex>,
    pub(crate) limits: Vec<LimitParams>,
    /// Per chain, per rule: the numgen slot of the rule's first `numgen inc`.
    pub(crate) numgen_base: Vec<Vec<u32>>,
    /// Modulus of each numgen slot.
    pub(crate) numgen_moduli: Vec<u32>,
}

/// One base chain of a hook, as [`Vm::hook_with`] walks them.
#[derive(Debug, Clone, Copy)]
struct HookStep {
    prio: i32,
    chain: ChainId,
    /// Families of packets the chain sees: bit 0 IPv4, bit 1 IPv6.
    families: u8,
    nat: bool,
}

/// A packet's family bit (see [`HookStep::families`]): 0 for neither IPv4
/// nor IPv6, which no chain sees.
fn family_bit(nfproto: u8) -> u8 {
    match nfproto {
        2 => 1,
        10 => 2,
        _ => 0,
    }
}

fn hook_index(h: Hook) -> usize {
    match h {
        Hook::Prerouting => 0,
        Hook::Input => 1,
        Hook::Forward => 2,
        Hook::Output => 3,
        Hook::Postrouting => 4,
    }
}

/// The base chains of `hook` in the order the kernel runs them: by
/// priority, then declaration order, except that NAT chains run inside the
/// NAT core hook (`nf_nat_register_fn`), registered at NF_IP_PRI_NAT_DST
/// (-100) at prerouting and output and NF_IP_PRI_NAT_SRC (100) at input and
/// postrouting, and ordered there by their own priority. A chain registered
/// later at an equal priority runs after the earlier ones
/// (`nf_hook_entries_grow`).
fn hook_order(p: &ctc_ir::Program, hook: Hook) -> Vec<(i32, ChainId)> {
    let mut v: Vec<(i32, i32, usize)> = p
        .chains
        .iter()
        .enumerate()
        .filter_map(|(i, c)| {
            let b = c.base.as_ref().filter(|b| b.hook == hook)?;
            let eff = match (b.ty, hook) {
                (ChainType::Nat, Hook::Prerouting | Hook::Output) => -100,
                (ChainType::Nat, _) => 100,
                _ => b.priority,
            };
            Some((eff, b.priority, i))
        })
        .collect();
    v.sort();
    v.into_iter().map(|(eff, _, i)| (eff, ChainId(i as u32))).collect()
}

impl Vm {
    /// Build the lookup structures of a program.
    pub fn new(prog: impl Into<Arc<VerifiedProgram>>) -> Vm {
        let prog: Arc<VerifiedProgram> = prog.into();
        let p = prog.program();
        let families: Vec<u8> = p
            .chains
            .iter()
            .map(|c| match p.tables.get(c.table.index()).map(|t| t.family) {
                Some(Family::Ip) => 1,
                Some(Family::Ip6) => 2,
                Some(Family::Inet) => 3,
                None => 0,
            })
            .collect();
        let plan = Hook::ALL.map(|h| {
            hook_order(p, h)
                .into_iter()
                .map(|(prio, chain)| HookStep {
                    prio,
                    chain,
                    families: families[chain.index()],
                    nat: p.chains[chain.index()].base.as_ref().is_some_and(|b| b.ty == ChainType::Nat),
                })
                .collect()
        });
        let sets = p.sets.iter().map(SetIndex::build).collect();
        let limits = p.limits.iter().map(LimitParams::new).collect();
        let mut numgen_moduli = Vec::new();
        let numgen_base = p
            .chains
            .iter()
            .map(|c| {
                c.rules
                    .iter()
                    .map(|r| {
                        let base = numgen_moduli.len() as u32;
                        for o in &r.ops {
                            if let Op::Numgen { random: false, modulus, .. } = o {
                                numgen_moduli.push(*modulus);
                            }
                        }
                        base
                    })
                    .collect()
            })
            .collect();
        Vm { id: NEXT_ID.fetch_add(1, Ordering::Relaxed), prog, plan, sets, limits, numgen_base, numgen_moduli }
    }

    /// The program.
    pub fn program(&self) -> &ctc_ir::Program {
        self.prog.program()
    }

    /// The verified program, shared.
    pub fn verified(&self) -> &Arc<VerifiedProgram> {
        &self.prog
    }

    /// A fresh [`State`] for this program.
    pub fn new_state(&self) -> State {
        State::new(self)
    }

    /// Where the rule that decided comes from (`None` for a policy or when
    /// no chain ran).
    pub fn rule_loc(&self, by: Decider) -> Option<&SourceLoc> {
        match by {
            Decider::Rule { chain, rule } => {
                self.program().chains.get(chain.index())?.rules.get(rule as usize).map(|r| &r.loc)
            }
            _ => None,
        }
    }

    /// The base chains of `hook` that see a packet of `nfproto`, in order.
    pub fn hook_chains(&self, hook: Hook, nfproto: u8) -> impl Iterator<Item = ChainId> + '_ {
        let family = family_bit(nfproto);
        self.plan[hook_index(hook)].iter().filter(move |s| s.families & family != 0).map(|s| s.chain)
    }

    /// Whether a NAT base chain at `hook` runs for this packet
    /// (`nf_nat_inet_fn`): only for a tracked connection, new or related,
    /// whose binding of the hook's kind (destination at prerouting and
    /// output, source at input and postrouting) is not set up yet.
    fn nat_chain_runs(ctx: &PacketCtx, work: &ops::Work, hook: Hook) -> bool {
        use ctc_ir::abi::ct_state::{NEW, RELATED};
        if ctx.ct.has_entry == 0 || work.ct_state & (NEW | RELATED) == 0 {
            return false;
        }
        // An ICMP error RELATED to a connection is translated as that
        // connection is (nf_nat_icmp_reply_translation): the chains never
        // see it (nf_nat_ipv4_fn / nf_nat_ipv6_fn return before them).
        let icmp = if ctx.nfproto == 2 { 1 } else { 58 };
        if work.ct_state & RELATED != 0 && ctx.l4proto == icmp {
            return false;
        }
        let done = match hook {
            Hook::Prerouting | Hook::Output => IPS_DST_NAT_DONE,
            Hook::Input | Hook::Postrouting | Hook::Forward => IPS_SRC_NAT_DONE,
        };
        (ctx.ct.status | work.nat_done) & done == 0
    }

    /// Run every base chain of `hook` for one packet (see the crate doc).
    ///
    /// `pkt` is the frame; `payload set` rewrites it in place (checksums
    /// updated) and sets [`ctc_ir::abi::actions::MANGLED`]. `actions`
    /// accumulates what the chains ask for; it may be carried across the
    /// hooks of one packet: a mark, priority or ct mark already set there is
    /// what `meta mark` / `meta priority` / `ct mark` read (the kernel
    /// changes the skb and the conntrack entry at once).
    #[inline]
    pub fn run_hook(
        &self,
        state: &mut State,
        host: &dyn Host,
        hook: Hook,
        pkt: &mut [u8],
        ctx: &PacketCtx,
        actions: &mut Actions,
    ) -> HookResult {
        self.run_hook_window(state, host, hook, pkt, ctx, actions, i32::MIN..=i32::MAX)
    }

    /// [`Vm::run_hook`] for the base chains whose (effective) priority is in
    /// `window` only. The pipeline runs a hook in parts around the kernel's
    /// own hooks: prerouting chains below -200 (raw) run before conntrack
    /// looks the packet up, the others after it (NF_IP_PRI_CONNTRACK).
    #[allow(clippy::too_many_arguments)]
    #[inline]
    pub fn run_hook_window(
        &self,
        state: &mut State,
        host: &dyn Host,
        hook: Hook,
        pkt: &mut [u8],
        ctx: &PacketCtx,
        actions: &mut Actions,
        window: std::ops::RangeInclusive<i32>,
    ) -> HookResult {
        self.hook_with(self, state, host, hook, pkt, ctx, actions, window)
    }

    /// The hook level shared by every engine (see the crate doc).
    #[allow(clippy::too_many_arguments)]
    #[inline]
    fn hook_with<E: ChainEngine + ?Sized>(
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
        assert_eq!(state.vm_id, self.id, "State built for another Vm: use State::adopt after a reload");
        let family = family_bit(ctx.nfproto);
        let mut work = ops::Work::new(ctx, actions);
        let mut result = HookResult { verdict: HookVerdict::Accept, by: Decider::NoChain };
        for s in self.plan[hook_index(hook)].iter() {
            if !window.contains(&s.prio) || s.families & family == 0 {
                continue;
            }
            if s.nat && !Self::nat_chain_runs(ctx, &work, hook) {
                continue;
            }
            let mut frame = Frame { vm: self, state, host, hook, pkt, ctx, work: &mut work, actions };
            let (v, by) = engine.run_chain(&mut frame, s.chain).get();
            match v {
                ChainVerdict::Accept => result = HookResult { verdict: HookVerdict::Accept, by },
                ChainVerdict::Drop => return HookResult { verdict: HookVerdict::Drop, by },
                ChainVerdict::Queue { num, range, bypass, fanout } => {
                    return HookResult { verdict: HookVerdict::Queue { num, range, bypass, fanout }, by };
                }
            }
        }
        result
    }

    /// Run one base chain (and the chains it jumps to) for one packet,
    /// without the family and NAT filters of [`Vm::run_hook`].
    #[allow(clippy::too_many_arguments)]
    pub fn run_base_chain(
        &self,
        state: &mut State,
        host: &dyn Host,
        hook: Hook,
        pkt: &mut [u8],
        ctx: &PacketCtx,
        actions: &mut Actions,
        chain: ChainId,
    ) -> (ChainVerdict, Decider) {
        assert_eq!(state.vm_id, self.id, "State built for another Vm: use State::adopt after a reload");
        let mut work = ops::Work::new(ctx, actions);
        self.run_chain(state, host, hook, pkt, ctx, &mut work, actions, chain)
    }

    /// `nft_do_chain`: the rules of a base chain in order, with a bounded
    /// stack of return points for `jump`.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn run_chain(
        &self,
        state: &mut State,
        host: &dyn Host,
        hook: Hook,
        pkt: &mut [u8],
        ctx: &PacketCtx,
        work: &mut ops::Work,
        actions: &mut Actions,
        base: ChainId,
    ) -> (ChainVerdict, Decider) {
        let p = self.program();
        let policy = |c: ChainId| {
            let accept = p.chains[c.index()].base.as_ref().is_none_or(|b| b.policy_accept);
            (if accept { ChainVerdict::Accept } else { ChainVerdict::Drop }, Decider::Policy { chain: c })
        };
        let mut stack = [(0u32, 0u32); MAX_JUMP_DEPTH];
        let mut sp = 0usize;
        let (mut chain, mut rule) = (base.0, 0u32);
        let mut regs = ops::Regs::new();
        let mut exec = ops::Exec { vm: self, state, host, hook, pkt, ctx, work, actions, regs: &mut regs };
        loop {
            let rules = &p.chains[chain as usize].rules;
            let Some(r) = rules.get(rule as usize) else {
                // End of the chain: back to the caller, or the policy.
                if sp == 0 {
                    return policy(base);
                }
                sp -= 1;
                (chain, rule) = stack[sp];
                continue;
            };
            let here = Decider::Rule { chain: ChainId(chain), rule };
            match exec.rule(chain, rule, r) {
                None | Some(Verdict::Continue) => rule += 1,
                Some(Verdict::Accept) => return (ChainVerdict::Accept, here),
                Some(Verdict::Drop) => return (ChainVerdict::Drop, here),
                Some(Verdict::Queue { num, range, bypass, fanout }) => {
                    return (ChainVerdict::Queue { num, range, bypass, fanout }, here);
                }
                Some(Verdict::Return) => {
                    if sp == 0 {
                        return policy(base);
                    }
                    sp -= 1;
                    (chain, rule) = stack[sp];
                }
                Some(Verdict::Jump(to)) => {
                    if sp >= MAX_JUMP_DEPTH {
                        // The verifier bounds the nesting; the kernel
                        // drops should the stack overflow anyway.
                        return (ChainVerdict::Drop, here);
                    }
                    stack[sp] = (chain, rule + 1);
                    sp += 1;
                    (chain, rule) = (to.0, 0);
                }
                Some(Verdict::Goto(to)) => (chain, rule) = (to.0, 0),
            }
        }
    }
}
