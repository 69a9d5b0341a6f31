//! IR → Cranelift: one function per chain, one `translate_*` per op.
//!
//! Every chain (base or regular) becomes `fn(env: *mut Env) -> i64`
//! answering [`ret`]: a terminal verdict with the deciding rule, or
//! RETURN (the end of the chain, `return`) — the caller goes on after its
//! `jump`, and at a base chain the policy applies (decided in Rust). A
//! rule is a straight line of blocks: a failed test jumps to the next
//! rule's block. `jump` calls the target's function (the jump depth kept
//! in the Env as the interpreter keeps its stack), `goto` calls it and
//! hands its answer back as its own, which is the interpreter's
//! replacement of the current chain.
//!
//! Ops translated inline: loads of payload bytes, the common meta keys,
//! `ct state` and `ct mark`, immediates, bitwise, cmp, range, lookups in
//! small static sets, counters, verdicts. The rest (ops that reach into
//! the State's objects or the host, or that are rare) call the op helper,
//! which runs the interpreter's own code on the same registers and State.
//! Long runs of 5-tuple rules go through a [`Classifier`].
//!
//! Registers: a rule's register words are Cranelift values (`Tx::words`);
//! the Env's register file is written only just before an op helper call,
//! which reads and writes it (the words the rule wrote so far are stored,
//! the helper's are read back from the Env). Nothing else reads it: a rule
//! reads only registers it wrote itself (the verifier), so what a rule
//! leaves in them is dead at its end, and jumps are a rule's last op. The
//! Env's registers are zeroed on entry only in chains that call the
//! helper (`Tx::entry`). The values are the interpreter's bytes word for
//! word (loads zero the rest of their last word in the value itself).

use crate::classify::{self, Classifier, Field, Load};
use crate::env::{self, off, ret, step};
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{
    AbiParam, Block, BlockArg, FuncRef, InstBuilder, JumpTableData, MemFlagsData, SigRef, Signature, Type, Value, types,
};
use cranelift_frontend::FunctionBuilder;
use ctc_ir::abi::ABSENT;
use ctc_ir::{Base, ChainId, CmpOp, CtKey, MetaKey, Op, Program, Verdict};
use ctc_vm::Vm;

const I32: Type = types::I32;
const I64: Type = types::I64;
const I8: Type = types::I8;
const I16: Type = types::I16;
const I32X4: Type = types::I32X4;

/// Shortest run of classifiable rules worth a classifier by default. Below
/// it straight-line code is faster (measured on ClassBench fw1: 100 rules
/// 101 ns/packet straight, 128 ns classified; 1,000 rules 975 ns straight,
/// 135 ns classified).
pub(crate) const MIN_RUN: usize = 160;
/// Largest set tested inline with a compare chain.
const SMALL_SET: usize = 16;

/// Meta keys loaded inline (and usable as classifier fields), with the
/// length their value has.
pub(crate) fn meta_native(key: MetaKey, len: u8) -> bool {
    matches!(
        (key, len),
        (MetaKey::NfProto | MetaKey::L4Proto | MetaKey::PktType, 1)
            | (MetaKey::Protocol, 2)
            | (MetaKey::Mark | MetaKey::Priority | MetaKey::Iif | MetaKey::Oif | MetaKey::Len, 4)
            | (MetaKey::IifName | MetaKey::OifName, 16)
    )
}

fn trusted() -> MemFlagsData {
    MemFlagsData::trusted()
}

/// Env fields and context bytes that do not change while a chain runs
/// (packet pointer, lengths, header offsets, the context): readonly and
/// movable, so Cranelift loads each once per function instead of once per
/// use.
fn fixed() -> MemFlagsData {
    MemFlagsData::trusted().with_readonly().with_can_move()
}

/// Loads from the packet and the register file: no trap, maybe unaligned.
fn loose() -> MemFlagsData {
    MemFlagsData::new().with_notrap()
}

fn base_index(b: Base) -> i32 {
    match b {
        Base::Link => 0,
        Base::Network => 1,
        Base::Transport => 2,
        Base::Inner => 3,
    }
}

/// Big-endian value of up to 16 bytes.
fn be(bytes: &[u8]) -> u128 {
    bytes.iter().fold(0u128, |a, &b| a << 8 | u128::from(b))
}

/// What compiling a chain needs from the module.
pub(crate) struct Shared<'a> {
    pub vm: &'a Vm,
    pub chain_refs: Vec<FuncRef>,
    pub chain_sig: SigRef,
    pub op_sig: SigRef,
    pub cls_sig: SigRef,
    pub rest_sig: SigRef,
    pub classify: bool,
    pub min_run: usize,
    pub structure: classify::Structure,
    // Boxed: native code holds their addresses while the Vec grows.
    #[allow(clippy::vec_box)]
    pub classifiers: &'a mut Vec<Box<Classifier>>,
    pub frontend: cranelift_codegen::isa::TargetFrontendConfig,
    /// Address of the table of chain functions by ChainId (dynamic
    /// jumps): the `Jit`'s `chain_table`, filled once the code is placed.
    pub chain_fns: i64,
}

pub(crate) fn chain_signature(call_conv: cranelift_codegen::isa::CallConv) -> Signature {
    let mut s = Signature::new(call_conv);
    s.params.push(AbiParam::new(I64));
    s.returns.push(AbiParam::new(I64));
    s
}

pub(crate) fn op_signature(call_conv: cranelift_codegen::isa::CallConv) -> Signature {
    let mut s = Signature::new(call_conv);
    s.params.extend([AbiParam::new(I64), AbiParam::new(I64), AbiParam::new(I32)]);
    s.returns.push(AbiParam::new(I32));
    s
}

/// The translator of one chain.
pub(crate) struct Tx<'a, 'b> {
    pub b: FunctionBuilder<'b>,
    pub s: Shared<'a>,
    env: Value,
    chain: ChainId,
    /// The function's first block: it zeroes what the helpers the chain
    /// calls read of the Env (filled in last, once that is known), then
    /// goes to the rules.
    entry: Block,
    body: Block,
    /// The chain calls the op helper: the registers are zeroed on entry.
    zero_regs: bool,
    /// The chain calls a classifier helper on register bytes: the key
    /// slots are zeroed on entry.
    zero_keys: bool,
    /// The chain calls a classifier helper on words: they are zeroed on
    /// entry.
    zero_vals: bool,
    /// Register words the current rule wrote, as values (by Env offset),
    /// and which of them the Env does not hold yet: only the op helper
    /// reads the Env's registers, so they are stored just before it is
    /// called (`call_op`), and never when no helper runs. Emptied at every
    /// rule's start (the values are defined in the rule's own blocks, and
    /// no rule reads a register another wrote: the verifier).
    words: std::collections::BTreeMap<i32, Value>,
    dirty: std::collections::BTreeSet<i32>,
}

impl<'a, 'b> Tx<'a, 'b> {
    pub(crate) fn new(mut b: FunctionBuilder<'b>, s: Shared<'a>, chain: ChainId) -> Tx<'a, 'b> {
        let entry = b.create_block();
        b.append_block_params_for_function_params(entry);
        let env = b.block_params(entry)[0];
        // First in the layout (the function's entry), filled last.
        b.func.layout.append_block(entry);
        let body = b.create_block();
        b.switch_to_block(body);
        Tx {
            b,
            s,
            env,
            chain,
            entry,
            body,
            zero_regs: false,
            zero_keys: false,
            zero_vals: false,
            words: Default::default(),
            dirty: Default::default(),
        }
    }

    /// The entry block: the Env's register file, key slots or words zeroed
    /// as the helpers this chain calls need them initialised (see
    /// `env::Env`; native code itself never reads what it did not write).
    fn entry(&mut self) {
        self.b.switch_to_block(self.entry);
        let mut spans = Vec::new();
        if self.zero_regs {
            spans.push((off::REGS, off::REGS_LEN));
        }
        if self.zero_keys {
            spans.push((off::KEYS, off::KEYS_LEN));
        }
        if self.zero_vals {
            spans.push((off::VALS, off::VALS_LEN));
        }
        if !spans.is_empty() {
            let z = self.b.ins().iconst(I64, 0);
            for (at, len) in spans {
                for o in (0..len).step_by(8) {
                    self.b.ins().store(trusted(), z, self.env, at + o);
                }
            }
        }
        let body = self.body;
        self.b.ins().jump(body, &[]);
    }

    fn prog(&self) -> &'a Program {
        self.s.vm.program()
    }

    /// The whole chain.
    pub(crate) fn chain(mut self) {
        let prog = self.prog();
        let rules = &prog.chains[self.chain.index()].rules;
        let shapes: Vec<Option<classify::RuleShape>> = if self.s.classify {
            rules.iter().map(|r| classify::shape(&r.ops, &prog.sets)).collect()
        } else {
            vec![None; rules.len()]
        };
        let mut i = 0;
        while i < rules.len() {
            // The longest run from i within MAX_FIELDS fields.
            let mut j = i;
            let mut fields: Vec<Field> = Vec::new();
            while let Some(Some(sh)) = shapes.get(j) {
                let mut f2 = fields.clone();
                for (f, _) in &sh.tests {
                    if !f2.contains(f) {
                        f2.push(*f);
                    }
                }
                if f2.len() > classify::MAX_FIELDS {
                    break;
                }
                fields = f2;
                j += 1;
            }
            let next = self.b.create_block();
            if j - i >= self.s.min_run.max(1) {
                let run: Vec<classify::RuleShape> = shapes[i..j].iter().map(|s| s.clone().expect("in run")).collect();
                self.translate_run(i, &run, next);
                // What its helper reads: the words of a one-word run (the
                // word helpers), the register bytes of the others.
                if self.s.classifiers.last().is_some_and(|c| c.one_word()) {
                    self.zero_vals = true;
                } else {
                    self.zero_keys = true;
                }
                i = j;
            } else {
                self.rule(i, next);
                i += 1;
            }
            self.b.switch_to_block(next);
        }
        let r = self.b.ins().iconst(I64, ret::RETURN);
        self.b.ins().return_(&[r]);
        self.entry();
        self.b.seal_all_blocks();
        self.b.finalize(self.s.frontend);
    }

    /// The answer of rule `rule` deciding with `kind`.
    fn here(&self, rule: usize, kind: i64) -> i64 {
        kind | (rule as i64) << 8 | i64::from(self.chain.0) << 32
    }

    fn ret_const(&mut self, v: i64) {
        let r = self.b.ins().iconst(I64, v);
        self.b.ins().return_(&[r]);
    }

    /// One rule; a failed test jumps to `next`.
    fn rule(&mut self, r: usize, next: Block) {
        self.forget_words();
        let prog = self.prog();
        let ops = &prog.chains[self.chain.index()].rules[r].ops;
        let mut numgen = self.s.vm.numgen_slot(self.chain, r);
        for op in ops {
            let slot = numgen;
            if let Op::Numgen { random: false, .. } = op {
                numgen += 1;
            }
            if !self.op(op, r, slot, next) {
                return;
            }
        }
        self.b.ins().jump(next, &[]);
    }

    /// A run of classified rules `start..start + run.len()`.
    fn translate_run(&mut self, start: usize, run: &[classify::RuleShape], next: Block) {
        let mut cls = Box::new(Classifier::build(run, self.s.structure));
        {
            // Rules that only accept or drop once matched answer from a
            // table: one jump to per-rule code (an indirect branch over the
            // run's rules, nearly always mispredicted) fewer. The table is
            // a bit per rule (accept or drop), the rest of the answer
            // (`here`) computed from the rule's index: 1.2 KiB for 10,000
            // rules stays in the L1 cache, where a word per rule (78 KiB)
            // missed it nearly every packet.
            let prog = self.prog();
            let rules = &prog.chains[self.chain.index()].rules;
            let accepts: Option<Vec<bool>> = run
                .iter()
                .enumerate()
                .map(|(i, sh)| match &rules[start + i].ops[sh.tail..] {
                    [Op::Verdict(Verdict::Accept)] => Some(true),
                    [Op::Verdict(Verdict::Drop)] => Some(false),
                    _ => None,
                })
                .collect();
            cls.accepts = accepts.map(|a| {
                let mut bits = vec![0u32; a.len().div_ceil(32)];
                for (i, &accept) in a.iter().enumerate() {
                    bits[i / 32] |= u32::from(accept) << (i % 32);
                }
                bits
            });
        }
        let outcomes = cls.accepts.as_ref().map(|b| b.as_ptr() as i64);
        let fields = cls.fields.clone();
        let cls_ptr = &*cls as *const Classifier as i64;
        let cls_words = cls.one_word();
        let native = cls.native_trees();
        let tuples = cls.native_tuples();
        self.s.classifiers.push(cls);
        let from = self.b.declare_var(I32);
        let zero = self.b.ins().iconst(I32, 0);
        self.b.def_var(from, zero);
        let lp = self.b.create_block();
        self.b.ins().jump(lp, &[]);
        self.b.switch_to_block(lp);
        let env = self.env;
        let z = self.b.ins().iconst(I32, 0);
        let walked = if let Some((nf, trees, rest)) = native {
            // The trees walked here, the bit vectors of the rules no tree
            // takes through the helper.
            let (vals, present) = self.load_words(&fields, z);
            debug_assert_eq!(vals.len(), nf);
            let fromv = self.b.use_var(from);
            let none = self.b.ins().iconst(I32, i64::from(classify::NATIVE_END as i32));
            Some((self.walk_trees(&trees, &vals, present, fromv, none), rest, fromv))
        } else if let Some((nf, tables, tree, rest)) = tuples {
            // The hash tables looked up here, then the tree of the boxes no
            // table takes if the best so far comes after its first rule;
            // the rest as for trees.
            let (vals, present) = self.load_words(&fields, z);
            debug_assert_eq!(vals.len(), nf);
            let fromv = self.b.use_var(from);
            // A run answering from the table never resumes: `from` is 0.
            let resumes = outcomes.is_none().then_some(fromv);
            let mut best = self.probe_tables(&tables, &vals, present, resumes);
            if let Some((t, min)) = tree {
                let (walk, done) = (self.b.create_block(), self.b.create_block());
                self.b.append_block_param(done, I32);
                let after = self.b.ins().icmp_imm_u(IntCC::UnsignedGreaterThan, best, i64::from(min));
                self.b.ins().brif(after, walk, &[], done, &[BlockArg::Value(best)]);
                self.b.switch_to_block(walk);
                let b = self.walk_trees(&[t], &vals, present, fromv, best);
                self.b.ins().jump(done, &[BlockArg::Value(b)]);
                self.b.switch_to_block(done);
                best = self.b.block_params(done)[0];
            }
            Some((best, rest, fromv))
        } else {
            None
        };
        let k = if let Some((best, rest, fromv)) = walked {
            if let Some(first) = rest {
                // Only when the trees' answer (END for none) comes after
                // the first of those rules.
                let (search, done) = (self.b.create_block(), self.b.create_block());
                self.b.append_block_param(done, I32);
                let after = self.b.ins().icmp_imm_u(IntCC::UnsignedGreaterThan, best, i64::from(first));
                self.b.ins().brif(after, search, &[], done, &[BlockArg::Value(best)]);
                self.b.switch_to_block(search);
                let helper = self.b.ins().iconst(I64, env::classify_rest_helper as *const () as i64);
                let clsv = self.b.ins().iconst(I64, cls_ptr);
                let call = self.b.ins().call_indirect(self.s.rest_sig, helper, &[env, clsv, fromv, best]);
                let r = self.b.inst_results(call)[0];
                self.b.ins().jump(done, &[BlockArg::Value(r)]);
                self.b.switch_to_block(done);
                self.b.block_params(done)[0]
            } else {
                best
            }
        } else {
            if cls_words {
                self.load_words(&fields, z);
            } else {
                self.load_keys(&fields, z);
            }
            let helper = if cls_words {
                env::classify_words_helper as *const () as i64
            } else {
                env::classify_helper as *const () as i64
            };
            let helper = self.b.ins().iconst(I64, helper);
            let clsv = self.b.ins().iconst(I64, cls_ptr);
            let fromv = self.b.use_var(from);
            let call = self.b.ins().call_indirect(self.s.cls_sig, helper, &[env, clsv, fromv]);
            self.b.inst_results(call)[0]
        };
        if let Some(table) = outcomes {
            // Every rule's tail is an accept or drop: its answer from the
            // table, no jump to per-rule code.
            let hit = self.b.create_block();
            let inside = self.b.ins().icmp_imm_u(IntCC::UnsignedLessThan, k, run.len() as i64);
            self.b.ins().brif(inside, hit, &[], next, &[]);
            self.b.switch_to_block(hit);
            // here(start + k, ACCEPT or DROP): DROP less the rule's bit.
            debug_assert_eq!(ret::ACCEPT, ret::DROP - 1);
            let word = self.b.ins().ushr_imm_u(k, 5);
            let at = self.b.ins().uextend(I64, word);
            let at = self.b.ins().ishl_imm_u(at, 2);
            let at = self.b.ins().iadd_imm_u(at, table);
            let bits = self.b.ins().load(I32, MemFlagsData::trusted().with_readonly(), at, 0);
            // Cranelift shifts by the amount modulo 32: bit k % 32.
            let bit = self.b.ins().ushr(bits, k);
            let bit = self.b.ins().band_imm_u(bit, 1);
            let bit = self.b.ins().uextend(I64, bit);
            let k = self.b.ins().uextend(I64, k);
            let r = self.b.ins().ishl_imm_u(k, 8);
            let base = self.here(start, ret::DROP);
            let r = self.b.ins().iadd_imm_u(r, base);
            let r = self.b.ins().isub(r, bit);
            self.b.ins().return_(&[r]);
            return;
        }
        let actions: Vec<Block> = (0..run.len()).map(|_| self.b.create_block()).collect();
        let dflt = self.b.func.dfg.block_call(next, &[]);
        let calls: Vec<_> = actions.iter().map(|&a| self.b.func.dfg.block_call(a, &[])).collect();
        let jt = self.b.create_jump_table(JumpTableData::new(dflt, &calls));
        // -1 (no match) is out of the table's range as an unsigned index.
        self.b.ins().br_table(k, jt);
        let prog = self.prog();
        let rules = &prog.chains[self.chain.index()].rules;
        for (i, sh) in run.iter().enumerate() {
            let r = start + i;
            self.b.switch_to_block(actions[i]);
            self.forget_words();
            let cont = self.b.create_block();
            let mut open = true;
            for op in &rules[r].ops[sh.tail..] {
                if !self.op(op, r, 0, cont) {
                    open = false;
                    break;
                }
            }
            if open {
                self.b.ins().jump(cont, &[]);
            }
            self.b.switch_to_block(cont);
            let n = self.b.ins().iconst(I32, (i + 1) as i64);
            self.b.def_var(from, n);
            self.b.ins().jump(lp, &[]);
        }
    }

    /// The fields of a run to the Env's key slots (register bytes), which
    /// fields are present to `present`.
    fn load_keys(&mut self, fields: &[Field], zero: Value) {
        let env = self.env;
        self.b.ins().store(trusted(), zero, env, off::PRESENT);
        for (k, f) in fields.iter().enumerate() {
            let (ok, skip) = (self.b.create_block(), self.b.create_block());
            let dst = off::KEYS + 16 * k as i32;
            match f.load {
                Load::Payload { base, offset, len } => self.load_payload(base, offset, len, dst, skip),
                Load::Meta { key, len } => self.load_meta(key, len, dst, skip),
                Load::Ct { key, .. } => self.load_ct(key, dst, skip),
            }
            if let Some(m) = f.mask {
                let v = self.b.ins().load(I32, trusted(), env, dst);
                let v = self.b.ins().band_imm_u(v, i64::from(u32::from_le_bytes(m)));
                self.b.ins().store(trusted(), v, env, dst);
            }
            self.b.ins().jump(ok, &[]);
            self.b.switch_to_block(ok);
            let p = self.b.ins().load(I32, trusted(), env, off::PRESENT);
            let p = self.b.ins().bor_imm_u(p, 1i64 << k);
            self.b.ins().store(trusted(), p, env, off::PRESENT);
            self.b.ins().jump(skip, &[]);
            self.b.switch_to_block(skip);
        }
    }

    /// The fields of a run, all one word, as words to the Env's `vals`
    /// (big-endian values left-aligned, 0 when absent), which fields are
    /// present to `present`.
    fn load_words(&mut self, fields: &[Field], zero: Value) -> (Vec<Value>, Value) {
        let env = self.env;
        let mut present = zero;
        let mut vals = Vec::with_capacity(fields.len());
        for (k, f) in fields.iter().enumerate() {
            let (ok, fail, skip) = (self.b.create_block(), self.b.create_block(), self.b.create_block());
            self.b.append_block_param(skip, I32);
            self.b.append_block_param(skip, I32);
            // The register bytes go through the key slot, as for other
            // runs, and are read back as one word.
            let dst = off::KEYS + 16 * k as i32;
            match f.load {
                Load::Payload { base, offset, len } => self.load_payload(base, offset, len, dst, fail),
                Load::Meta { key, len } => self.load_meta(key, len, dst, fail),
                Load::Ct { key, .. } => self.load_ct(key, dst, fail),
            }
            self.b.ins().jump(ok, &[]);
            self.b.switch_to_block(fail);
            self.b.ins().jump(skip, &[BlockArg::Value(zero), BlockArg::Value(present)]);
            self.b.switch_to_block(ok);
            let v = self.b.ins().load(I32, trusted(), env, dst);
            let v = match f.mask {
                Some(m) => self.b.ins().band_imm_u(v, i64::from(u32::from_le_bytes(m))),
                None => v,
            };
            let v = self.b.ins().bswap(v);
            let p = self.b.ins().bor_imm_u(present, 1i64 << k);
            self.b.ins().jump(skip, &[BlockArg::Value(v), BlockArg::Value(p)]);
            self.b.switch_to_block(skip);
            let v = self.b.block_params(skip)[0];
            present = self.b.block_params(skip)[1];
            self.b.ins().store(trusted(), v, env, off::VALS + 4 * k as i32);
            vals.push(v);
        }
        self.b.ins().store(trusted(), present, env, off::PRESENT);
        (vals, present)
    }

    /// The first rule at or after `from` and before `best` the trees of a
    /// run find (else `best`; `classify::NATIVE_END`, -1, for none), walked
    /// here: per tree, the root table, the nodes down to a leaf, the leaf's
    /// boxes in rule order (`scan` of `classify`, the same structure and
    /// answer). `vals`
    /// are the field values as words, also in the Env's `vals`, which the
    /// nodes index by field.
    fn walk_trees(
        &mut self,
        trees: &[classify::NativeTree],
        vals: &[Value],
        present: Value,
        from: Value,
        mut best: Value,
    ) -> Value {
        let env = self.env;
        // The tables never change while the Jit lives.
        let table = || MemFlagsData::trusted().with_readonly();
        let absent = self.b.ins().bnot(present);
        for t in trees {
            // The root table.
            let idx = self.b.ins().ushr_imm_u(vals[t.top_field], i64::from(t.shift));
            let idx = self.b.ins().uextend(I64, idx);
            let idx = self.b.ins().ishl_imm_u(idx, 2);
            let at = self.b.ins().iadd_imm_u(idx, t.top as i64);
            let mut child = self.b.ins().load(I32, table(), at, 0);
            // The nodes: at most `depth` of them.
            let leaf = self.b.create_block();
            self.b.append_block_param(leaf, I32);
            for _ in 0..t.depth {
                let step = self.b.create_block();
                let is_leaf = self.b.ins().band_imm_u(child, i64::from(classify::NATIVE_LEAF_BIT));
                self.b.ins().brif(is_leaf, leaf, &[BlockArg::Value(child)], step, &[]);
                self.b.switch_to_block(step);
                let node = self.b.ins().uextend(I64, child);
                let node = self.b.ins().imul_imm_u(node, classify::NODE_BYTES as i64);
                let node = self.b.ins().iadd_imm_u(node, t.nodes as i64);
                let field = self.b.ins().uload8(I32, table(), node, 28);
                let kids = self.b.ins().uload8(I32, table(), node, 29);
                let field = self.b.ins().uextend(I64, field);
                let field = self.b.ins().ishl_imm_u(field, 2);
                let field = self.b.ins().iadd(env, field);
                let x = self.b.ins().load(I32, trusted(), field, off::VALS);
                let mut c = self.b.ins().iconst(I32, 0);
                for i in 0..7 {
                    let cut = self.b.ins().load(I32, table(), node, 4 * i);
                    let le = self.b.ins().icmp(IntCC::UnsignedLessThanOrEqual, cut, x);
                    let le = self.b.ins().uextend(I32, le);
                    c = self.b.ins().iadd(c, le);
                }
                let last = self.b.ins().iadd_imm_u(kids, -1);
                let c = self.b.ins().umin(c, last);
                let c = self.b.ins().uextend(I64, c);
                let c = self.b.ins().ishl_imm_u(c, 2);
                let at = self.b.ins().iadd(node, c);
                child = self.b.ins().load(I32, table(), at, 32);
            }
            self.b.ins().jump(leaf, &[BlockArg::Value(child)]);
            self.b.switch_to_block(leaf);
            let child = self.b.block_params(leaf)[0];
            // The leaf's list, in rule order, up to the first box that
            // holds the values, or a rule at or past the best so far (END
            // ends every list: it is at or past any best).
            let list = self.b.ins().band_imm_u(child, i64::from(!classify::NATIVE_LEAF_BIT));
            let list = self.b.ins().uextend(I64, list);
            let list = self.b.ins().ishl_imm_u(list, 2);
            let start = self.b.ins().iadd_imm_u(list, t.lists as i64);
            best = self.scan_list(start, vals, t.need.then_some(absent), from, best);
        }
        best
    }

    /// The first rule at or after `from` and before `best` in the list of
    /// boxes at address `start` (a tree's leaf) whose box holds `vals`,
    /// else `best` (`scan` of `classify`).
    /// `absent`: the fields the packet lacks, when an entry's needed fields
    /// must be checked.
    fn scan_list(&mut self, start: Value, vals: &[Value], absent: Option<Value>, from: Value, best: Value) -> Value {
        let table = || MemFlagsData::trusted().with_readonly();
        let stride = 4 * (2 + 2 * vals.len() as i64);
        let (entry, next, done) = (self.b.create_block(), self.b.create_block(), self.b.create_block());
        self.b.append_block_param(entry, I64);
        self.b.append_block_param(next, I64);
        self.b.append_block_param(done, I32);
        self.b.ins().jump(entry, &[BlockArg::Value(start)]);
        self.b.switch_to_block(entry);
        let p = self.b.block_params(entry)[0];
        let rule = self.b.ins().load(I32, table(), p, 0);
        let past = self.b.ins().icmp(IntCC::UnsignedGreaterThanOrEqual, rule, best);
        let test = self.b.create_block();
        self.b.ins().brif(past, done, &[BlockArg::Value(best)], test, &[]);
        self.b.switch_to_block(test);
        let before = self.b.ins().icmp(IntCC::UnsignedLessThan, rule, from);
        self.guard_not(before, next, p);
        if let Some(absent) = absent {
            let need = self.b.ins().load(I32, table(), p, 4);
            let missing = self.b.ins().band(need, absent);
            self.guard_not(missing, next, p);
        }
        for (f, &v) in vals.iter().enumerate() {
            let lo = self.b.ins().load(I32, table(), p, 8 + 8 * f as i32);
            let below = self.b.ins().icmp(IntCC::UnsignedLessThan, v, lo);
            self.guard_not(below, next, p);
            let hi = self.b.ins().load(I32, table(), p, 12 + 8 * f as i32);
            let above = self.b.ins().icmp(IntCC::UnsignedGreaterThan, v, hi);
            self.guard_not(above, next, p);
        }
        self.b.ins().jump(done, &[BlockArg::Value(rule)]);
        self.b.switch_to_block(next);
        let p = self.b.block_params(next)[0];
        let p = self.b.ins().iadd_imm_u(p, stride);
        self.b.ins().jump(entry, &[BlockArg::Value(p)]);
        self.b.switch_to_block(done);
        self.b.block_params(done)[0]
    }

    /// The first rule at or after `from` the hash tables of a run find
    /// (`classify::NATIVE_END` for none), looked up here in order: in each
    /// table the slot of the values' hash (`hash_slot` of `classify`) and
    /// its list up to the best so far ([`Tx::scan_table`]). Every table is
    /// scanned, even one whose first rule is at or past the best (its
    /// list's first entry then ends the scan): a branch skipping it was
    /// mispredicted about half the time (whether the packet's rule comes
    /// before a table's first rule), and acl1_10k ran faster without it.
    /// `from`: `None` when it is 0 (the run never resumes).
    fn probe_tables(
        &mut self,
        tables: &[classify::NativeTable],
        vals: &[Value],
        present: Value,
        from: Option<Value>,
    ) -> Value {
        let mut best = self.b.ins().iconst(I32, i64::from(classify::NATIVE_END as i32));
        let absent = self.b.ins().bnot(present);
        // The values as vectors of four fields, as the entries hold their
        // bounds (lanes beyond the run's fields are within any entry's
        // bounds there, 0 and u32::MAX, whatever they hold).
        let vecs: Vec<Value> = vals
            .chunks(4)
            .map(|c| {
                let mut x = self.b.ins().scalar_to_vector(I32X4, c[0]);
                for (l, &v) in c.iter().enumerate().skip(1) {
                    x = self.b.ins().insertlane(x, v, l as u8);
                }
                x
            })
            .collect();
        let vecs = if vecs.is_empty() {
            // No field: every box holds the packet (bounds 0 and u32::MAX).
            let z = self.b.ins().iconst(I32, 0);
            vec![self.b.ins().splat(I32X4, z)]
        } else {
            vecs
        };
        // Every table's slot read first, their loads issued together
        // rather than each after the previous table's list scan.
        let starts: Vec<Value> = tables.iter().map(|t| self.slot_start(t, vals)).collect();
        for (t, &start) in tables.iter().zip(&starts) {
            best = self.scan_table(start, &vecs, t.need.then_some(absent), from, best);
        }
        best
    }

    /// Where the list of the values' slot in table `t` starts.
    fn slot_start(&mut self, t: &classify::NativeTable, vals: &[Value]) -> Value {
        let table = || MemFlagsData::trusted().with_readonly();
        let mut acc: Option<Value> = None;
        for (f, &v) in vals.iter().enumerate() {
            if t.masks[f] == 0 {
                continue;
            }
            let x = if t.masks[f] == u32::MAX { v } else { self.b.ins().band_imm_u(v, i64::from(t.masks[f])) };
            let x = self.b.ins().uextend(I64, x);
            let x = match acc {
                Some(a) => self.b.ins().bxor(a, x),
                None => x,
            };
            acc = Some(self.b.ins().imul_imm_u(x, classify::NATIVE_HASH_K as i64));
        }
        let slot = match acc {
            Some(a) => {
                let s = self.b.ins().ushr_imm_u(a, i64::from(64 - t.bits));
                self.b.ins().ishl_imm_u(s, 2)
            }
            None => self.b.ins().iconst(I64, 0),
        };
        let at = self.b.ins().iadd_imm_u(slot, t.slots as i64);
        let list = self.b.ins().load(I32, table(), at, 0);
        let list = self.b.ins().uextend(I64, list);
        let list = self.b.ins().ishl_imm_u(list, 4);
        self.b.ins().iadd_imm_u(list, t.lists as i64)
    }

    /// The first rule at or after `from` and before `best` in a hash
    /// table's list at address `start` whose box holds the values `vecs`
    /// (four fields to a vector), else `best` (`scan_table` of
    /// `classify`). One branch per entry: a box holds the values when
    /// clamping them to its bounds changes none (`umin(umax(v, lo), hi) ==
    /// v`, lane by lane), and the scan stops at the first entry that holds
    /// them or whose rule is at or past `best` (the list's END is past
    /// any), answering the lesser of its rule and `best`.
    /// `absent`: the fields the packet lacks, when an entry's needed fields
    /// must be checked; `from`: `None` when 0.
    fn scan_table(
        &mut self,
        start: Value,
        vecs: &[Value],
        absent: Option<Value>,
        from: Option<Value>,
        best: Value,
    ) -> Value {
        let table = || MemFlagsData::trusted().with_readonly();
        let nq = vecs.len() as i32;
        let stride = 16 * (1 + 2 * i64::from(nq));
        let (entry, done) = (self.b.create_block(), self.b.create_block());
        self.b.append_block_param(entry, I64);
        self.b.append_block_param(done, I32);
        self.b.ins().jump(entry, &[BlockArg::Value(start)]);
        self.b.switch_to_block(entry);
        let p = self.b.block_params(entry)[0];
        let rule = self.b.ins().load(I32, table(), p, 0);
        let mut ok: Option<Value> = None;
        for (q, &v) in vecs.iter().enumerate() {
            let lo = self.b.ins().load(I32X4, table(), p, 16 * (1 + q as i32));
            let hi = self.b.ins().load(I32X4, table(), p, 16 * (1 + nq + q as i32));
            let c = self.b.ins().umax(v, lo);
            let c = self.b.ins().umin(c, hi);
            let same = self.b.ins().icmp(IntCC::Equal, c, v);
            let all = self.b.ins().vall_true(same);
            ok = Some(match ok {
                Some(o) => self.b.ins().band(o, all),
                None => all,
            });
        }
        let mut ok = ok.expect("a vector");
        if let Some(absent) = absent {
            let need = self.b.ins().load(I32, table(), p, 4);
            let missing = self.b.ins().band(need, absent);
            let m = self.b.ins().icmp_imm_u(IntCC::Equal, missing, 0);
            ok = self.b.ins().band(ok, m);
        }
        if let Some(from) = from {
            let after = self.b.ins().icmp(IntCC::UnsignedGreaterThanOrEqual, rule, from);
            ok = self.b.ins().band(ok, after);
        }
        let past = self.b.ins().icmp(IntCC::UnsignedGreaterThanOrEqual, rule, best);
        let stop = self.b.ins().bor(ok, past);
        let next = self.b.ins().iadd_imm_u(p, stride);
        self.b.ins().brif(stop, done, &[BlockArg::Value(rule)], entry, &[BlockArg::Value(next)]);
        self.b.switch_to_block(done);
        let rule = self.b.block_params(done)[0];
        self.b.ins().umin(rule, best)
    }

    /// Go on here unless `cond`; else to `next` with `p`.
    fn guard_not(&mut self, cond: Value, next: Block, p: Value) {
        let ok = self.b.create_block();
        self.b.ins().brif(cond, next, &[BlockArg::Value(p)], ok, &[]);
        self.b.switch_to_block(ok);
    }

    /// Translate one op; `false` when it ended the block (a verdict).
    fn op(&mut self, op: &Op, rule: usize, numgen: u32, next: Block) -> bool {
        match op {
            Op::Payload { dst, base, offset, len } => self.translate_payload(dst.0, *base, *offset, *len, next),
            Op::Meta { dst, key, len } => self.translate_meta(op, dst.0, *key, *len, next),
            Op::Ct { dst, key, len, .. } => self.translate_ct(op, dst.0, *key, *len, next),
            Op::Fib { .. } => self.translate_fib(op, next),
            Op::Exthdr { .. } => self.translate_exthdr(op, next),
            Op::TcpOpt { .. } => self.translate_tcpopt(op, next),
            Op::Immediate { dst, data } => self.translate_immediate(dst.0, data),
            Op::Bitwise { dst, src, len, mask, xor } => self.translate_bitwise(dst.0, src.0, *len, mask, xor),
            Op::Shift { .. } => self.translate_shift(op, next),
            Op::Hash { .. } => self.translate_hash(op, next),
            Op::Numgen { .. } => self.translate_numgen(op, numgen, next),
            Op::Cmp { src, op: c, data } => self.translate_cmp(op, src.0, *c, data, next),
            Op::Range { src, lo, hi, negate } => self.translate_range(op, src.0, lo, hi, *negate, next),
            Op::Lookup { .. } => self.translate_lookup(op, next),
            Op::VerdictMap { .. } => return self.translate_verdict_map(op, rule, next),
            Op::Verdict(v) => return self.translate_verdict(*v, rule, next),
            Op::Counter(c) => self.translate_counter(c.index()),
            Op::Limit(_) => self.translate_limit(op, next),
            Op::Quota(_) => self.translate_quota(op, next),
            Op::Log(_) => self.translate_log(op, next),
            Op::Reject(_) => return self.translate_reject(op, rule, next),
            Op::MetaSet { .. } => self.translate_meta_set(op, next),
            Op::CtSet { .. } => self.translate_ct_set(op, next),
            Op::PayloadSet { .. } => self.translate_payload_set(op, next),
            Op::Notrack => self.translate_notrack(op, next),
            Op::CtHelper { .. } => self.translate_ct_helper(op, next),
            Op::CtTimeout(_) => self.translate_ct_timeout(op, next),
            Op::CtExpect(_) => return self.translate_ct_expect(op, rule, next),
            Op::Nat(_) => return self.translate_nat(op, rule, next),
            Op::SetUpdate { .. } => self.translate_set_update(op, next),
        }
        true
    }

    // ----- helpers -----

    /// Go on when `cond` is true, else to `next`.
    fn guard(&mut self, cond: Value, next: Block) {
        let ok = self.b.create_block();
        self.b.ins().brif(cond, ok, &[], next, &[]);
        self.b.switch_to_block(ok);
    }

    /// Call the op helper; the step code.
    fn call_op(&mut self, op: &Op, numgen: u32) -> Value {
        self.zero_regs = true;
        // The helper reads and writes the Env's registers.
        self.flush_words();
        self.forget_words();
        let f = self.b.ins().iconst(I64, env::op_helper as *const () as i64);
        let p = self.b.ins().iconst(I64, op as *const Op as i64);
        let n = self.b.ins().iconst(I32, i64::from(numgen));
        let call = self.b.ins().call_indirect(self.s.op_sig, f, &[self.env, p, n]);
        self.b.inst_results(call)[0]
    }

    /// An op run by the helper that cannot give a verdict: go on or break.
    fn slow(&mut self, op: &Op, numgen: u32, next: Block) {
        let r = self.call_op(op, numgen);
        let go = self.b.ins().icmp_imm_u(IntCC::Equal, r, i64::from(step::GO));
        self.guard(go, next);
    }

    /// An op run by the helper that may give a verdict: dispatch on its
    /// step code. Ends the block.
    fn slow_verdict(&mut self, op: &Op, rule: usize, next: Block) -> bool {
        let r = self.call_op(op, 0);
        let go = self.b.create_block();
        let mk = |tx: &mut Self| tx.b.create_block();
        let (accept, drop, ret_b, queue, jump, goto) = (mk(self), mk(self), mk(self), mk(self), mk(self), mk(self));
        // Indexed by the step codes of env::step.
        let targets = [go, next, accept, drop, next, ret_b, queue, jump, goto];
        let calls: Vec<_> = targets.iter().map(|&t| self.b.func.dfg.block_call(t, &[])).collect();
        let dflt = self.b.func.dfg.block_call(drop, &[]);
        let jt = self.b.create_jump_table(JumpTableData::new(dflt, &calls));
        self.b.ins().br_table(r, jt);
        self.b.switch_to_block(accept);
        self.ret_const(self.here(rule, ret::ACCEPT));
        self.b.switch_to_block(drop);
        self.ret_const(self.here(rule, ret::DROP));
        self.b.switch_to_block(ret_b);
        self.ret_const(ret::RETURN);
        self.b.switch_to_block(queue);
        self.ret_const(self.here(rule, ret::QUEUE));
        for (blk, is_jump) in [(jump, true), (goto, false)] {
            self.b.switch_to_block(blk);
            let t = self.b.ins().load(I32, trusted(), self.env, off::TARGET);
            let t = self.b.ins().uextend(I64, t);
            let t = self.b.ins().imul_imm_u(t, 8);
            let table = self.b.ins().iconst(I64, self.s.chain_fns);
            let slot = self.b.ins().iadd(table, t);
            let f = self.b.ins().load(I64, trusted(), slot, 0);
            self.call_chain(Callee::Indirect(f), rule, next, is_jump);
        }
        self.b.switch_to_block(go);
        true
    }

    /// `jump` (push a return point, go on at `next` after a RETURN) or
    /// `goto` (the callee's answer is this chain's). Ends the block.
    fn call_chain(&mut self, callee: Callee, rule: usize, next: Block, is_jump: bool) {
        let env = self.env;
        if is_jump {
            let sp = self.b.ins().load(I32, trusted(), env, off::SP);
            let full = self.b.ins().icmp_imm_u(IntCC::UnsignedGreaterThanOrEqual, sp, ctc_ir::MAX_JUMP_DEPTH as i64);
            let (over, ok) = (self.b.create_block(), self.b.create_block());
            self.b.ins().brif(full, over, &[], ok, &[]);
            self.b.switch_to_block(over);
            // The interpreter drops when its stack would overflow.
            self.ret_const(self.here(rule, ret::DROP));
            self.b.switch_to_block(ok);
            let sp1 = self.b.ins().iadd_imm_u(sp, 1);
            self.b.ins().store(trusted(), sp1, env, off::SP);
            let r = self.emit_call(callee);
            self.b.ins().store(trusted(), sp, env, off::SP);
            let kind = self.b.ins().band_imm_u(r, ret::KIND_MASK);
            let back = self.b.ins().icmp_imm_u(IntCC::Equal, kind, ret::RETURN);
            let out = self.b.create_block();
            self.b.ins().brif(back, next, &[], out, &[]);
            self.b.switch_to_block(out);
            self.b.ins().return_(&[r]);
        } else {
            let r = self.emit_call(callee);
            self.b.ins().return_(&[r]);
        }
    }

    fn emit_call(&mut self, callee: Callee) -> Value {
        let call = match callee {
            Callee::Direct(f) => self.b.ins().call(f, &[self.env]),
            Callee::Indirect(p) => self.b.ins().call_indirect(self.s.chain_sig, p, &[self.env]),
        };
        self.b.inst_results(call)[0]
    }

    /// Copy `len` packet bytes at `base + offset` to the Env at `dst`
    /// (whole words, the rest of the last word zeroed); `fail` when the
    /// base is absent or the bytes run past the frame.
    fn load_payload(&mut self, base: Base, offset: u16, len: u8, dst: i32, fail: Block) {
        let env = self.env;
        let ctx = self.b.ins().load(I64, fixed(), env, off::CTX);
        let b = self.fixed_uload(I32, I64, ctx, off::C_BASES + 4 * base_index(base));
        // ABSENT (u32::MAX) + offset + len exceeds any frame length, and so
        // does a base beyond the frame: one bounds check covers all cases.
        let end = self.b.ins().iadd_imm_u(b, i64::from(offset) + i64::from(len));
        let fl = self.frame_len();
        let inside = self.b.ins().icmp(IntCC::UnsignedLessThanOrEqual, end, fl);
        self.guard(inside, fail);
        let pkt = self.b.ins().load(I64, fixed(), env, off::PKT);
        let addr = self.b.ins().iadd(pkt, b);
        let o = i32::from(offset);
        for w in 0..ctc_ir::words(len) as i32 {
            let rem = i32::from(len) - 4 * w;
            let at = o + 4 * w;
            let v = match rem {
                1 => self.b.ins().uload8(I32, loose(), addr, at),
                2 => self.b.ins().uload16(I32, loose(), addr, at),
                3 => {
                    let lo = self.b.ins().uload16(I32, loose(), addr, at);
                    let hi = self.b.ins().uload8(I32, loose(), addr, at + 2);
                    let hi = self.b.ins().ishl_imm_u(hi, 16);
                    self.b.ins().bor(lo, hi)
                }
                _ => self.b.ins().load(I32, loose(), addr, at),
            };
            self.put_word(dst + 4 * w, v);
        }
    }

    /// A narrow field that does not change during the run, zero-extended
    /// to `to`: a plain `load` of `ty` and an `uextend`, not an `uload*`,
    /// which Cranelift treats as a side effect and so loads again in
    /// every block that uses it (only `load` with these flags is pure to
    /// its e-graph, loaded once and reused where it dominates).
    fn fixed_uload(&mut self, ty: Type, to: Type, base: Value, offset: i32) -> Value {
        let v = self.b.ins().load(ty, fixed(), base, offset);
        self.b.ins().uextend(to, v)
    }

    /// The frame length the ops may read (`Exec::frame_len`): the
    /// context's, within the frame's bytes. Computed from loads of what
    /// does not change during the run, so Cranelift computes it once per
    /// function, where it is first needed (a chain that reads no payload
    /// and counts nothing never does).
    fn frame_len(&mut self) -> Value {
        let ctx = self.b.ins().load(I64, fixed(), self.env, off::CTX);
        let len = self.fixed_uload(I32, I64, ctx, off::C_LEN);
        let bytes = self.b.ins().load(I64, fixed(), self.env, off::PKT_LEN);
        self.b.ins().umin(len, bytes)
    }

    /// Whether the network header is there (`Exec::base(Network)`: not
    /// ABSENT and within the frame, one comparison with a limit below
    /// ABSENT), and its offset.
    fn network_header(&mut self) -> (Value, Value) {
        let ctx = self.b.ins().load(I64, fixed(), self.env, off::CTX);
        let nh = self.fixed_uload(I32, I64, ctx, off::C_BASES + 4);
        let fl = self.frame_len();
        let limit = self.b.ins().iconst(I64, i64::from(ABSENT) - 1);
        let limit = self.b.ins().umin(fl, limit);
        (self.b.ins().icmp(IntCC::UnsignedLessThanOrEqual, nh, limit), nh)
    }

    /// `skb->len` as counters and `meta len` see it (`Exec::skb_len`): from
    /// the network header to the end of the frame, the whole frame without
    /// one.
    fn skb_len(&mut self) -> Value {
        let (has, nh) = self.network_header();
        let zero = self.b.ins().iconst(I64, 0);
        let nh = self.b.ins().select(has, nh, zero);
        let fl = self.frame_len();
        self.b.ins().isub(fl, nh)
    }

    /// A meta key of [`meta_native`] to the Env at `dst`.
    fn load_meta(&mut self, key: MetaKey, len: u8, dst: i32, fail: Block) {
        debug_assert!(meta_native(key, len));
        let env = self.env;
        let ctx = self.b.ins().load(I64, fixed(), env, off::CTX);
        let work = self.b.ins().load(I64, fixed(), env, off::WORK);
        let v = match key {
            MetaKey::NfProto => self.fixed_uload(I8, I32, ctx, off::C_NFPROTO),
            MetaKey::L4Proto => {
                let (has, _) = self.network_header();
                self.guard(has, fail);
                self.fixed_uload(I8, I32, ctx, off::C_L4PROTO)
            }
            MetaKey::PktType => self.b.ins().uload8(I32, trusted(), work, off::W_PKTTYPE),
            MetaKey::Protocol => {
                // Host-order u16 to its two big-endian bytes.
                let v = self.fixed_uload(I16, I32, ctx, off::C_ETHERTYPE);
                let hi = self.b.ins().ushr_imm_u(v, 8);
                let lo = self.b.ins().band_imm_u(v, 0xff);
                let lo = self.b.ins().ishl_imm_u(lo, 8);
                self.b.ins().bor(hi, lo)
            }
            MetaKey::Mark | MetaKey::Priority => {
                let o = if key == MetaKey::Mark { off::W_MARK } else { off::W_PRIORITY };
                let v = self.b.ins().load(I32, trusted(), work, o);
                self.b.ins().bswap(v)
            }
            MetaKey::Iif | MetaKey::Oif => {
                let o = if key == MetaKey::Iif { off::C_IIF } else { off::C_OIF };
                let v = self.b.ins().load(I32, trusted(), ctx, o);
                self.b.ins().bswap(v)
            }
            MetaKey::Len => {
                let v = self.skb_len();
                let v = self.b.ins().ireduce(I32, v);
                self.b.ins().bswap(v)
            }
            MetaKey::IifName | MetaKey::OifName => {
                let o = if key == MetaKey::IifName { off::C_IIFNAME } else { off::C_OIFNAME };
                for w in 0..4 {
                    let v = self.b.ins().load(I32, loose(), ctx, o + 4 * w);
                    self.put_word(dst + 4 * w, v);
                }
                return;
            }
            _ => unreachable!("meta_native"),
        };
        self.put_word(dst, v);
    }

    fn reg(r: u8) -> i32 {
        off::REGS + 4 * i32::from(r)
    }

    /// Write the word at Env offset `at`: a register word is kept as a
    /// value (see `Tx::words`), anything else (classifier key slots)
    /// stored.
    fn put_word(&mut self, at: i32, v: Value) {
        if (off::REGS..off::REGS + off::REGS_LEN).contains(&at) {
            self.words.insert(at, v);
            self.dirty.insert(at);
        } else {
            self.b.ins().store(trusted(), v, self.env, at);
        }
    }

    /// The register word at Env offset `at`: the rule's value, else the
    /// Env's (written by the op helper).
    fn get_word(&mut self, at: i32) -> Value {
        match self.words.get(&at) {
            Some(&v) => v,
            None => self.b.ins().load(I32, loose(), self.env, at),
        }
    }

    /// Store the register words the Env does not hold yet.
    fn flush_words(&mut self) {
        for at in std::mem::take(&mut self.dirty) {
            let v = self.words[&at];
            self.b.ins().store(trusted(), v, self.env, at);
        }
    }

    /// A new rule (or what the op helper may have written): no word known.
    fn forget_words(&mut self) {
        self.words.clear();
        self.dirty.clear();
    }

    /// The first `n` (1..=8) bytes of register `r` as a big-endian integer.
    fn be_value(&mut self, r: u8, byte: i32, n: usize) -> (Value, Type) {
        let at = Self::reg(r) + byte;
        if n <= 4 {
            let v = self.get_word(at);
            let v = self.b.ins().bswap(v);
            let v = if n < 4 { self.b.ins().ushr_imm_u(v, 8 * (4 - n as i64)) } else { v };
            (v, I32)
        } else {
            let v = if self.words.contains_key(&at) || self.words.contains_key(&(at + 4)) {
                // The two words, as the little-endian load would read them.
                let (lo, hi) = (self.get_word(at), self.get_word(at + 4));
                let lo = self.b.ins().uextend(I64, lo);
                let hi = self.b.ins().uextend(I64, hi);
                let hi = self.b.ins().ishl_imm_u(hi, 32);
                self.b.ins().bor(lo, hi)
            } else {
                self.b.ins().load(I64, loose(), self.env, at)
            };
            let v = self.b.ins().bswap(v);
            let v = if n < 8 { self.b.ins().ushr_imm_u(v, 8 * (8 - n as i64)) } else { v };
            (v, I64)
        }
    }

    fn konst(&mut self, ty: Type, v: u128) -> Value {
        let v = if ty == I32 { i64::from(v as u32) } else { v as u64 as i64 };
        self.b.ins().iconst(ty, v)
    }

    /// Whether the first `data.len()` bytes of `r` equal `data`.
    fn eq_bytes(&mut self, r: u8, data: &[u8]) -> Value {
        let mut acc: Option<Value> = None;
        for (c, chunk) in data.chunks(8).enumerate() {
            let (v, ty) = self.be_value(r, 8 * c as i32, chunk.len());
            let k = self.konst(ty, be(chunk));
            let e = self.b.ins().icmp(IntCC::Equal, v, k);
            acc = Some(match acc {
                Some(a) => self.b.ins().band(a, e),
                None => e,
            });
        }
        acc.expect("data is never empty")
    }

    // ----- one translate_* per op -----

    fn translate_payload(&mut self, dst: u8, base: Base, offset: u16, len: u8, next: Block) {
        self.load_payload(base, offset, len, Self::reg(dst), next);
    }

    fn translate_meta(&mut self, op: &Op, dst: u8, key: MetaKey, len: u8, next: Block) {
        if meta_native(key, len) {
            self.load_meta(key, len, Self::reg(dst), next);
        } else {
            // Time, day, hour, random (the State's generator), cpu, groups,
            // interface types, socket ids: rare, the interpreter's code.
            self.slow(op, 0, next);
        }
    }

    fn translate_ct(&mut self, op: &Op, dst: u8, key: CtKey, len: u8, next: Block) {
        match (key, len) {
            (CtKey::State | CtKey::Mark, 4) => self.load_ct(key, Self::reg(dst), next),
            // Tuple fields, counters, helper, label: the interpreter's code.
            _ => self.slow(op, 0, next),
        }
    }

    /// `ct state` (the working copy: after notrack, untracked) or `ct
    /// mark` (the working copy; `fail` without a conntrack entry), 4 bytes
    /// big-endian, to the Env at `dst`.
    fn load_ct(&mut self, key: CtKey, dst: i32, fail: Block) {
        let env = self.env;
        let o = if key == CtKey::State {
            off::W_CT_STATE
        } else {
            let ctx = self.b.ins().load(I64, fixed(), env, off::CTX);
            let has = self.fixed_uload(I8, I32, ctx, off::C_CT_HAS_ENTRY);
            self.guard(has, fail);
            off::W_CT_MARK
        };
        let work = self.b.ins().load(I64, fixed(), env, off::WORK);
        let v = self.b.ins().load(I32, trusted(), work, o);
        let v = self.b.ins().bswap(v);
        self.put_word(dst, v);
    }

    /// Route lookups ask the host model: the helper.
    fn translate_fib(&mut self, op: &Op, next: Block) {
        self.slow(op, 0, next);
    }

    /// The IPv6 extension header walk: the helper.
    fn translate_exthdr(&mut self, op: &Op, next: Block) {
        self.slow(op, 0, next);
    }

    /// The TCP option walk: the helper.
    fn translate_tcpopt(&mut self, op: &Op, next: Block) {
        self.slow(op, 0, next);
    }

    fn translate_immediate(&mut self, dst: u8, data: &[u8]) {
        for (w, chunk) in data.chunks(4).enumerate() {
            let mut b = [0u8; 4];
            b[..chunk.len()].copy_from_slice(chunk);
            // The register holds the bytes in order: on a little-endian
            // host a word's bytes read as u32::from_le_bytes.
            let v = self.b.ins().iconst(I32, i64::from(u32::from_le_bytes(b)));
            self.put_word(Self::reg(dst) + 4 * w as i32, v);
        }
    }

    fn translate_bitwise(&mut self, dst: u8, src: u8, len: u8, mask: &[u8], xor: &[u8]) {
        let n = ctc_ir::words(len);
        let word = |s: &[u8], w: usize| {
            let mut b = [0u8; 4];
            for (i, x) in b.iter_mut().enumerate() {
                *x = s.get(4 * w + i).copied().unwrap_or(0);
            }
            i64::from(u32::from_le_bytes(b))
        };
        // All words read before any is written: dst may overlap src.
        let vals: Vec<Value> = (0..n)
            .map(|w| {
                let v = self.get_word(Self::reg(src) + 4 * w as i32);
                let v = self.b.ins().band_imm_u(v, word(mask, w));
                self.b.ins().bxor_imm_u(v, word(xor, w))
            })
            .collect();
        for (w, v) in vals.into_iter().enumerate() {
            self.put_word(Self::reg(dst) + 4 * w as i32, v);
        }
    }

    /// Shifts of multi-word integers: rare, the helper.
    fn translate_shift(&mut self, op: &Op, next: Block) {
        self.slow(op, 0, next);
    }

    /// jhash and the symmetric flow hash: the helper (the interpreter's
    /// jhash, so values are bit-identical).
    fn translate_hash(&mut self, op: &Op, next: Block) {
        self.slow(op, 0, next);
    }

    /// The State's numgen counters and generator: the helper, with the
    /// op's counter slot.
    fn translate_numgen(&mut self, op: &Op, slot: u32, next: Block) {
        self.slow(op, slot, next);
    }

    fn translate_cmp(&mut self, op: &Op, src: u8, c: CmpOp, data: &[u8], next: Block) {
        let n = data.len();
        let cond = if n <= 8 {
            let (v, ty) = self.be_value(src, 0, n);
            let k = self.konst(ty, be(data));
            let cc = match c {
                CmpOp::Eq => IntCC::Equal,
                CmpOp::Ne => IntCC::NotEqual,
                CmpOp::Lt => IntCC::UnsignedLessThan,
                CmpOp::Le => IntCC::UnsignedLessThanOrEqual,
                CmpOp::Gt => IntCC::UnsignedGreaterThan,
                CmpOp::Ge => IntCC::UnsignedGreaterThanOrEqual,
            };
            self.b.ins().icmp(cc, v, k)
        } else {
            match c {
                CmpOp::Eq => self.eq_bytes(src, data),
                CmpOp::Ne => {
                    let e = self.eq_bytes(src, data);
                    self.b.ins().bxor_imm_u(e, 1)
                }
                // Orderings of IPv6 addresses and other wide values: rare.
                _ => return self.slow(op, 0, next),
            }
        };
        self.guard(cond, next);
    }

    fn translate_range(&mut self, op: &Op, src: u8, lo: &[u8], hi: &[u8], negate: bool, next: Block) {
        let n = lo.len();
        if n > 8 {
            return self.slow(op, 0, next);
        }
        let (v, ty) = self.be_value(src, 0, n);
        let (l, h) = (self.konst(ty, be(lo)), self.konst(ty, be(hi)));
        let a = self.b.ins().icmp(IntCC::UnsignedGreaterThanOrEqual, v, l);
        let c = self.b.ins().icmp(IntCC::UnsignedLessThanOrEqual, v, h);
        let inside = self.b.ins().band(a, c);
        let cond = if negate { self.b.ins().bxor_imm_u(inside, 1) } else { inside };
        self.guard(cond, next);
    }

    /// Small static sets: a compare chain over the elements; maps, large
    /// or dynamic sets: the helper, which searches the interpreter's index
    /// (hash of exact keys, sorted ranges) and the State's dynamic
    /// elements.
    fn translate_lookup(&mut self, op: &Op, next: Block) {
        let Op::Lookup { src, len, set, negate, dst: None } = op else { return self.slow(op, 0, next) };
        let s = &self.prog().sets[set.index()];
        let n = *len as usize;
        let simple = |e: &ctc_ir::Element| e.lo.len() == n && e.hi.len() == n && (n <= 4 || e.lo == e.hi);
        if s.dynamic || n > 8 || s.elements.len() > SMALL_SET || !s.elements.iter().all(simple) {
            return self.slow(op, 0, next);
        }
        let (v, ty) = self.be_value(src.0, 0, n);
        let mut found = self.b.ins().iconst(types::I8, 0);
        for e in &s.elements {
            let (lo, hi) = (be(&e.lo), be(&e.hi));
            let hit = if lo == hi {
                let k = self.konst(ty, lo);
                self.b.ins().icmp(IntCC::Equal, v, k)
            } else {
                let (l, h) = (self.konst(ty, lo), self.konst(ty, hi));
                let a = self.b.ins().icmp(IntCC::UnsignedGreaterThanOrEqual, v, l);
                let c = self.b.ins().icmp(IntCC::UnsignedLessThanOrEqual, v, h);
                self.b.ins().band(a, c)
            };
            found = self.b.ins().bor(found, hit);
        }
        let cond = if *negate { self.b.ins().bxor_imm_u(found, 1) } else { found };
        self.guard(cond, next);
    }

    /// Verdict maps: the helper finds the element (the interpreter's
    /// index), native code acts on its verdict.
    fn translate_verdict_map(&mut self, op: &Op, rule: usize, next: Block) -> bool {
        // The helper's answer names a jump target at run time: the call
        // goes through the chain table.
        self.slow_verdict(op, rule, next)
    }

    fn translate_verdict(&mut self, v: Verdict, rule: usize, next: Block) -> bool {
        match v {
            Verdict::Accept => self.ret_const(self.here(rule, ret::ACCEPT)),
            Verdict::Drop => self.ret_const(self.here(rule, ret::DROP)),
            Verdict::Continue => {
                self.b.ins().jump(next, &[]);
            }
            Verdict::Return => self.ret_const(ret::RETURN),
            Verdict::Queue { num, range, bypass, fanout } => {
                for (i, x) in
                    [u32::from(num), u32::from(range), u32::from(bypass), u32::from(fanout)].iter().enumerate()
                {
                    let c = self.b.ins().iconst(I32, i64::from(*x));
                    self.b.ins().store(trusted(), c, self.env, off::QUEUE + 4 * i as i32);
                }
                self.ret_const(self.here(rule, ret::QUEUE));
            }
            Verdict::Jump(c) | Verdict::Goto(c) => {
                let f = self.s.chain_refs[c.index()];
                self.call_chain(Callee::Direct(f), rule, next, matches!(v, Verdict::Jump(_)));
            }
        }
        false
    }

    /// packets += 1, bytes += skb->len, in the State's slot.
    fn translate_counter(&mut self, id: usize) {
        let env = self.env;
        let base = self.b.ins().load(I64, fixed(), env, off::COUNTERS);
        let at = 16 * id as i32;
        let p = self.b.ins().load(I64, trusted(), base, at);
        let p = self.b.ins().iadd_imm_u(p, 1);
        self.b.ins().store(trusted(), p, base, at);
        let bytes = self.b.ins().load(I64, trusted(), base, at + 8);
        let len = self.skb_len();
        let bytes = self.b.ins().iadd(bytes, len);
        self.b.ins().store(trusted(), bytes, base, at + 8);
    }

    /// The State's token bucket: the helper.
    fn translate_limit(&mut self, op: &Op, next: Block) {
        self.slow(op, 0, next);
    }

    /// The State's quota: the helper.
    fn translate_quota(&mut self, op: &Op, next: Block) {
        self.slow(op, 0, next);
    }

    /// Log records (and the State's overflow count): the helper.
    fn translate_log(&mut self, op: &Op, next: Block) {
        self.slow(op, 0, next);
    }

    /// Records the reject in the action record and drops: the helper.
    fn translate_reject(&mut self, op: &Op, rule: usize, next: Block) -> bool {
        self.slow_verdict(op, rule, next);
        // The helper always answers drop; `go` is unreachable, but the
        // block must end.
        self.ret_const(self.here(rule, ret::DROP));
        false
    }

    fn translate_meta_set(&mut self, op: &Op, next: Block) {
        self.slow(op, 0, next);
    }

    fn translate_ct_set(&mut self, op: &Op, next: Block) {
        self.slow(op, 0, next);
    }

    /// Packet rewriting with incremental checksums: the helper.
    fn translate_payload_set(&mut self, op: &Op, next: Block) {
        self.slow(op, 0, next);
    }

    fn translate_notrack(&mut self, op: &Op, next: Block) {
        self.slow(op, 0, next);
    }

    fn translate_ct_helper(&mut self, op: &Op, next: Block) {
        self.slow(op, 0, next);
    }

    fn translate_ct_timeout(&mut self, op: &Op, next: Block) {
        self.slow(op, 0, next);
    }

    /// The host's connection tracker makes the expectation: the helper,
    /// whose step goes on, breaks or drops.
    fn translate_ct_expect(&mut self, op: &Op, rule: usize, next: Block) -> bool {
        self.slow_verdict(op, rule, next)
    }

    /// Records the NAT request and accepts: the helper.
    /// The interpreter's code records the request and ends the chain with
    /// accept, or goes on with the rule when the statement is for the other
    /// family (nft_nat_inet_eval): the step it returns decides.
    fn translate_nat(&mut self, op: &Op, rule: usize, next: Block) -> bool {
        self.slow_verdict(op, rule, next)
    }

    /// Dynamic sets live in the State: the helper.
    fn translate_set_update(&mut self, op: &Op, next: Block) {
        self.slow(op, 0, next);
    }
}

/// The chain a jump calls.
#[derive(Clone, Copy)]
enum Callee {
    Direct(FuncRef),
    Indirect(Value),
}
