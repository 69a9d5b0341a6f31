//! The engine that runs the chains, chosen once per ruleset: the reference
//! interpreter or the Cranelift JIT. Both take the same [`State`] type and
//! give the same results (the JIT is tested against the interpreter); the
//! pipeline only sees this enum, dispatched statically.

use ctc_ir::abi::{Actions, PacketCtx};
use ctc_ir::{Hook, Program, SourceLoc, VerifiedProgram};
use ctc_jit::{Jit, JitError};
use ctc_vm::{Decider, HookResult, Host, State, Vm};
use std::ops::RangeInclusive;

/// Which engine runs the chains.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EngineKind {
    /// Native code compiled with Cranelift (the default).
    #[default]
    Jit,
    /// The reference interpreter.
    Interp,
}

impl EngineKind {
    pub fn name(self) -> &'static str {
        match self {
            EngineKind::Jit => "jit",
            EngineKind::Interp => "interp",
        }
    }
    /// Both engines, for tests that run under each.
    pub const ALL: [EngineKind; 2] = [EngineKind::Jit, EngineKind::Interp];
}

/// A compiled ruleset. Dropping it frees the JIT's code.
// One per ruleset, built once and never moved per packet: the size of the
// interpreter's variant does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum Engine {
    Interp(Vm),
    Jit(Box<Jit>),
}

impl Engine {
    /// Build the engine of `kind` for a program.
    pub fn new(kind: EngineKind, program: VerifiedProgram) -> Result<Engine, JitError> {
        Ok(match kind {
            EngineKind::Interp => Engine::Interp(Vm::new(program)),
            EngineKind::Jit => Engine::Jit(Box::new(Jit::compile(program)?)),
        })
    }

    pub fn kind(&self) -> EngineKind {
        match self {
            Engine::Interp(_) => EngineKind::Interp,
            Engine::Jit(_) => EngineKind::Jit,
        }
    }

    /// The interpreter of the program (the JIT keeps one: set indexes,
    /// rule locations, the State's layout).
    pub fn vm(&self) -> &Vm {
        match self {
            Engine::Interp(vm) => vm,
            Engine::Jit(j) => j.vm(),
        }
    }

    pub fn program(&self) -> &Program {
        self.vm().program()
    }

    pub fn new_state(&self) -> State {
        self.vm().new_state()
    }

    /// Where the rule that decided comes from.
    pub fn rule_loc(&self, by: Decider) -> Option<&SourceLoc> {
        self.vm().rule_loc(by)
    }

    /// Run the base chains of `hook` whose priority is in `window`
    /// ([`Vm::run_hook_window`]).
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
        window: RangeInclusive<i32>,
    ) -> HookResult {
        match self {
            Engine::Interp(vm) => vm.run_hook_window(state, host, hook, pkt, ctx, actions, window),
            Engine::Jit(j) => j.run_hook_window(state, host, hook, pkt, ctx, actions, window),
        }
    }

    /// Run every base chain of `hook` ([`Vm::run_hook`]).
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
}
