//! ctc-jit: IR → Cranelift → one native function per chain.
//!
//! A [`Jit`] is built from a verified program: it owns the interpreter's
//! [`Vm`] of the same program (the set indexes, limit constants, hook
//! order) and a Cranelift `JITModule` holding the machine code. It runs
//! packets through [`Vm::run_hook_engine`]: the hook level (which base
//! chains run, family and NAT filters, how chain verdicts combine) is the
//! interpreter's own code, and each base chain runs natively. The mutable
//! [`State`] (counters, buckets, quotas, numgen, dynamic sets) is the
//! interpreter's type: native code adds to the same counter slots, and the
//! ops it does not translate inline run the interpreter's code on the same
//! objects (see [`translate`]). So a State carries over between the engines
//! and through reloads ([`State::adopt`]) unchanged.
//!
//! Code lifetime: the machine code lives as long as the `Jit`; dropping it
//! frees the code (`JITModule::free_memory`), so replacing a ruleset frees
//! the old one's code.
//!
//! Only little-endian hosts are supported: the generated code copies
//! packet bytes into registers as little-endian words (the bytes keep their
//! order), as the interpreter's byte-string registers hold them.

// Native code is entered through a function pointer and calls back into
// Rust helpers: the only unsafe code of the workspace, kept in this crate.
#![allow(unsafe_code)]

#[cfg(not(target_endian = "little"))]
compile_error!("ctc-jit generates code for little-endian hosts only");

pub mod classify;
mod env;
pub mod testgen;
mod translate;

use cranelift_codegen::settings::{self, Configurable};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
use cranelift_jit::{JITBuilder, JITModule};
use cranelift_module::{FuncId, Linkage, Module, default_libcall_names};
use ctc_ir::abi::{Actions, PacketCtx};
use ctc_ir::{ChainId, Hook, VerifiedProgram};
use ctc_vm::{ChainEngine, ChainOutcome, ChainVerdict, Decider, Frame, HookResult, Host, State, Vm};
use env::{Env, ret};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What went wrong while compiling (a Cranelift error: a bug, reported,
/// never a panic).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JitError(pub String);

impl std::fmt::Display for JitError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "JIT compilation failed: {}", self.0)
    }
}

impl std::error::Error for JitError {}

/// Compilation options.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// Use classifiers for long runs of 5-tuple rules (on by default; off
    /// gives straight-line code for every rule, which the differential
    /// tests compare too).
    pub classify: bool,
    /// The shortest run of classifiable rules compiled as a classifier.
    pub min_run: usize,
    /// Which structure the classifiers use.
    pub structure: classify::Structure,
    /// Keep the Cranelift IR text of each chain (`--emit clif`).
    pub clif: bool,
    /// Keep the machine code listing of each chain (`--emit asm`).
    pub asm: bool,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            classify: true,
            min_run: translate::MIN_RUN,
            structure: classify::Structure::Auto,
            clif: false,
            asm: false,
        }
    }
}

/// The listing of one compiled chain.
#[derive(Debug, Clone)]
pub struct Listing {
    pub chain: ChainId,
    /// `family table chain`.
    pub name: String,
    pub clif: Option<String>,
    pub asm: Option<String>,
    /// Bytes of machine code.
    pub code_size: usize,
}

type ChainFn = unsafe extern "C" fn(*mut Env) -> i64;

/// A compiled program (see the crate doc).
pub struct Jit {
    vm: Vm,
    /// Owns the code; `None` only during drop.
    module: Option<JITModule>,
    fns: Vec<ChainFn>,
    /// Function addresses by chain id, for jumps whose target is known at
    /// run time only (verdict maps). Boxed: native code holds its address
    /// (a constant in the code, not a field of every run's Env).
    #[allow(dead_code)] // read by native code only
    chain_table: Box<[usize]>,
    /// Classifiers the code points at (boxed: stable addresses).
    #[allow(clippy::vec_box)]
    classifiers: Vec<Box<classify::Classifier>>,
    listings: Vec<Listing>,
    compile_time: Duration,
}

impl std::fmt::Debug for Jit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Jit")
            .field("chains", &self.fns.len())
            .field("classifiers", &self.classifiers.len())
            .field("compile_time", &self.compile_time)
            .finish_non_exhaustive()
    }
}

// SAFETY: the code and the tables it reads are immutable once compiled;
// every run works on its own Env and the caller's `&mut State`.
unsafe impl Send for Jit {}
// SAFETY: as above — shared references only read the compiled tables.
unsafe impl Sync for Jit {}

impl Drop for Jit {
    fn drop(&mut self) {
        if let Some(m) = self.module.take() {
            // SAFETY: the function pointers into this module are in `self`
            // only, which is going away; no run can be in progress (it
            // would borrow `self`).
            unsafe { m.free_memory() };
        }
    }
}

impl Jit {
    /// Compile a program with the default options.
    pub fn compile(prog: impl Into<Arc<VerifiedProgram>>) -> Result<Jit, JitError> {
        Jit::with_options(prog, Options::default())
    }

    /// Compile a program.
    pub fn with_options(prog: impl Into<Arc<VerifiedProgram>>, opts: Options) -> Result<Jit, JitError> {
        let start = Instant::now();
        let vm = Vm::new(prog);
        let err = |e: &dyn std::fmt::Display| JitError(e.to_string());
        let mut flags = settings::builder();
        flags.set("opt_level", "speed").map_err(|e| err(&e))?;
        // Required by JITModule (code is placed anywhere in memory).
        flags.set("use_colocated_libcalls", "false").map_err(|e| err(&e))?;
        flags.set("is_pic", "false").map_err(|e| err(&e))?;
        let isa = cranelift_native::builder()
            .map_err(|e| err(&e))?
            .finish(settings::Flags::new(flags))
            .map_err(|e| err(&e))?;
        let mut module = JITModule::new(JITBuilder::with_isa(isa, default_libcall_names()));
        let call_conv = module.isa().default_call_conv();
        let chain_sig = translate::chain_signature(call_conv);
        let op_sig = translate::op_signature(call_conv);
        let cls_sig = {
            let mut s = cranelift_codegen::ir::Signature::new(call_conv);
            use cranelift_codegen::ir::{AbiParam, types};
            s.params.extend([AbiParam::new(types::I64), AbiParam::new(types::I64), AbiParam::new(types::I32)]);
            s.returns.push(AbiParam::new(types::I32));
            s
        };
        let rest_sig = {
            let mut s = cls_sig.clone();
            s.params.push(cranelift_codegen::ir::AbiParam::new(cranelift_codegen::ir::types::I32));
            s
        };
        let p = vm.program();
        if p.chains.iter().any(|c| c.rules.len() >= 1 << 24) {
            return Err(JitError("a chain has more than 16 million rules".into()));
        }
        let ids: Vec<FuncId> = (0..p.chains.len())
            .map(|i| module.declare_function(&format!("chain{i}"), Linkage::Local, &chain_sig).map_err(|e| err(&e)))
            .collect::<Result<_, _>>()?;
        let mut ctx = module.make_context();
        let mut fctx = FunctionBuilderContext::new();
        let mut classifiers = Vec::new();
        let mut listings = Vec::new();
        // Filled once the code is placed; the code holds its address.
        let mut chain_table: Box<[usize]> = vec![0; ids.len()].into_boxed_slice();
        for (i, chain) in p.chains.iter().enumerate() {
            ctx.func.signature = chain_sig.clone();
            ctx.set_disasm(opts.asm);
            let chain_refs = ids.iter().map(|&id| module.declare_func_in_func(id, &mut ctx.func)).collect();
            let chain_sig_ref = ctx.func.import_signature(chain_sig.clone());
            let op_sig_ref = ctx.func.import_signature(op_sig.clone());
            let cls_sig_ref = ctx.func.import_signature(cls_sig.clone());
            let rest_sig_ref = ctx.func.import_signature(rest_sig.clone());
            {
                let b = FunctionBuilder::new(&mut ctx.func, &mut fctx);
                let shared = translate::Shared {
                    vm: &vm,
                    chain_refs,
                    chain_sig: chain_sig_ref,
                    op_sig: op_sig_ref,
                    cls_sig: cls_sig_ref,
                    rest_sig: rest_sig_ref,
                    classify: opts.classify,
                    min_run: opts.min_run,
                    structure: opts.structure,
                    classifiers: &mut classifiers,
                    frontend: module.isa().frontend_config(),
                    chain_fns: chain_table.as_ptr() as i64,
                };
                translate::Tx::new(b, shared, ChainId(i as u32)).chain();
            }
            let clif = opts.clif.then(|| ctx.func.display().to_string());
            module.define_function(ids[i], &mut ctx).map_err(|e| JitError(format!("{e:?}")))?;
            let compiled = ctx.compiled_code();
            let asm = if opts.asm { compiled.and_then(|c| c.vcode.clone()) } else { None };
            let code_size = compiled.map_or(0, |c| c.code_info().total_size as usize);
            let table = &p.tables[chain.table.index()];
            listings.push(Listing {
                chain: ChainId(i as u32),
                name: format!("{} {} {}", table.family.name(), table.name, chain.name),
                clif,
                asm,
                code_size,
            });
            module.clear_context(&mut ctx);
        }
        module.finalize_definitions().map_err(|e| err(&e))?;
        let fns: Vec<ChainFn> = ids
            .iter()
            .map(|&id| {
                let ptr = module.get_finalized_function(id);
                // SAFETY: the function was compiled with the chain
                // signature `fn(*mut Env) -> i64` in the host's calling
                // convention.
                unsafe { std::mem::transmute::<*const u8, ChainFn>(ptr) }
            })
            .collect();
        for (slot, &id) in chain_table.iter_mut().zip(&ids) {
            *slot = module.get_finalized_function(id) as usize;
        }
        Ok(Jit { vm, module: Some(module), fns, chain_table, classifiers, listings, compile_time: start.elapsed() })
    }

    /// The interpreter of the same program (its State type, rule
    /// locations, program).
    pub fn vm(&self) -> &Vm {
        &self.vm
    }

    /// A fresh State for this program.
    pub fn new_state(&self) -> State {
        self.vm.new_state()
    }

    /// Time spent compiling.
    pub fn compile_time(&self) -> Duration {
        self.compile_time
    }

    /// The per-chain listings (texts when asked for in [`Options`]).
    pub fn listings(&self) -> &[Listing] {
        &self.listings
    }

    /// The classifiers built for runs of 5-tuple rules.
    pub fn classifiers(&self) -> &[Box<classify::Classifier>] {
        &self.classifiers
    }

    /// [`Vm::run_hook_window`], with the base chains run natively.
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
        self.vm.run_hook_engine(self, state, host, hook, pkt, ctx, actions, window)
    }

    /// [`Vm::run_hook`], with the base chains run natively.
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

impl ChainEngine for Jit {
    #[inline]
    fn run_chain(&self, f: &mut Frame<'_>, chain: ChainId) -> ChainOutcome {
        let raw = f.raw();
        let host: &dyn Host = f.host();
        // SAFETY: only the lifetime changes; the pointer is used (by the op
        // helper) only during the call below, while `f` borrows the host.
        let host = unsafe { std::mem::transmute::<&dyn Host, &'static dyn Host>(host) };
        // The frame's parts, not the frame: a chain that calls no op helper
        // leaves no frame in memory.
        let mut env = Env {
            regs: std::mem::MaybeUninit::uninit(),
            pkt: raw.pkt,
            pkt_len: raw.pkt_len,
            ctx: raw.ctx,
            work: raw.work,
            actions: raw.actions,
            counters: raw.counters,
            sp: 0,
            target: std::mem::MaybeUninit::uninit(),
            queue: std::mem::MaybeUninit::uninit(),
            keys: std::mem::MaybeUninit::uninit(),
            vals: std::mem::MaybeUninit::uninit(),
            present: std::mem::MaybeUninit::uninit(),
            vm: f.vm(),
            state: raw.state,
            host,
            hook: f.hook(),
        };
        // SAFETY: the code was compiled from this Jit's program for the Env
        // layout above; every pointer in `env` is valid for this call (they
        // come from `f`, borrowed for its duration).
        let r = unsafe { (self.fns[chain.index()])(&mut env) };
        let (rule_chain, rule) = (ChainId((r >> 32) as u32), ((r >> 8) & 0xff_ffff) as u32);
        match r & ret::KIND_MASK {
            ret::ACCEPT => ChainOutcome::by_rule(false, rule_chain, rule),
            ret::DROP => ChainOutcome::by_rule(true, rule_chain, rule),
            ret::QUEUE => {
                // SAFETY: written before any chain answers QUEUE (see Env).
                let q = unsafe { env.queue.assume_init() };
                let v =
                    ChainVerdict::Queue { num: q[0] as u16, range: q[1] as u16, bypass: q[2] != 0, fanout: q[3] != 0 };
                ChainOutcome::new(v, Decider::Rule { chain: rule_chain, rule })
            }
            _ => {
                let accept = self.vm.program().chains[chain.index()].base.as_ref().is_none_or(|b| b.policy_accept);
                let v = if accept { ChainVerdict::Accept } else { ChainVerdict::Drop };
                ChainOutcome::new(v, Decider::Policy { chain })
            }
        }
    }
}
