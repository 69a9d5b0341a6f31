//! The verifier: a [`VerifiedProgram`] can only be made here, so engines
//! may trust it (no bounds or graph checks on the packet path).
//!
//! Checked: every id in range; register reads and writes inside the
//! register file, every read of a word written earlier in the same rule;
//! constant lengths matching the operand length; a verdict only as the last
//! op of a rule; jumps and gotos only to regular chains; no jump cycle and at
//! most [`MAX_JUMP_DEPTH`] nested jumps below any base chain; set elements of
//! the set's key and data lengths.

use crate::*;
use std::fmt;

/// What is wrong, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyError {
    pub chain: String,
    pub rule: Option<usize>,
    pub message: String,
}

impl fmt::Display for VerifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.rule {
            Some(r) => write!(f, "chain {} rule {r}: {}", self.chain, self.message),
            None => write!(f, "chain {}: {}", self.chain, self.message),
        }
    }
}

impl std::error::Error for VerifyError {}

/// A program the verifier accepted.
#[derive(Debug, Clone)]
pub struct VerifiedProgram(Program);

impl VerifiedProgram {
    pub fn program(&self) -> &Program {
        &self.0
    }
    pub fn into_program(self) -> Program {
        self.0
    }
}

impl std::ops::Deref for VerifiedProgram {
    type Target = Program;
    fn deref(&self) -> &Program {
        &self.0
    }
}

struct Regs {
    written: [bool; REG_WORDS],
}

impl Regs {
    fn write(&mut self, r: Reg, len: u8) -> Result<(), String> {
        let (start, n) = (r.0 as usize, words(len));
        if len == 0 || start + n > REG_WORDS {
            return Err(format!("write of {len} bytes at r{} leaves the register file", r.0));
        }
        self.written[start..start + n].iter_mut().for_each(|w| *w = true);
        Ok(())
    }
    fn read(&self, r: Reg, len: u8) -> Result<(), String> {
        let (start, n) = (r.0 as usize, words(len));
        if len == 0 || start + n > REG_WORDS {
            return Err(format!("read of {len} bytes at r{} leaves the register file", r.0));
        }
        if self.written[start..start + n].iter().any(|w| !w) {
            return Err(format!("r{} is read before it is written", r.0));
        }
        Ok(())
    }
}

fn check_len(len: usize, what: &str) -> Result<u8, String> {
    if len == 0 || len > MAX_LEN {
        return Err(format!("{what} of {len} bytes"));
    }
    Ok(len as u8)
}

fn check_op(p: &Program, regs: &mut Regs, op: &Op) -> Result<(), String> {
    let chain_ok = |c: &ChainId| -> Result<(), String> {
        match p.chains.get(c.index()) {
            None => Err(format!("jump to unknown chain #{}", c.0)),
            Some(ch) if ch.base.is_some() => Err(format!("jump to base chain {}", ch.name)),
            Some(_) => Ok(()),
        }
    };
    let set_ok = |s: &SetId| p.sets.get(s.index()).ok_or_else(|| format!("unknown set #{}", s.0));
    match op {
        Op::Payload { dst, len, .. }
        | Op::Meta { dst, len, .. }
        | Op::Ct { dst, len, .. }
        | Op::Fib { dst, len, .. }
        | Op::Exthdr { dst, len, .. }
        | Op::TcpOpt { dst, len, .. } => regs.write(*dst, *len),
        Op::Immediate { dst, data } => regs.write(*dst, check_len(data.len(), "immediate")?),
        Op::Bitwise { dst, src, len, mask, xor } => {
            if mask.len() != *len as usize || xor.len() != *len as usize {
                return Err("bitwise mask/xor length differs from the operand".into());
            }
            regs.read(*src, *len)?;
            regs.write(*dst, *len)
        }
        Op::Shift { dst, src, len, amount, .. } => {
            if *amount as usize >= *len as usize * 8 {
                return Err(format!("shift by {amount} of a {len}-byte value"));
            }
            regs.read(*src, *len)?;
            regs.write(*dst, *len)
        }
        Op::Hash { dst, src, modulus, .. } => {
            if *modulus == 0 {
                return Err("hash modulus 0".into());
            }
            if let Some((s, l)) = src {
                regs.read(*s, *l)?;
            }
            regs.write(*dst, 4)
        }
        Op::Numgen { dst, modulus, .. } => {
            if *modulus == 0 {
                return Err("numgen modulus 0".into());
            }
            regs.write(*dst, 4)
        }
        Op::Cmp { src, data, .. } => regs.read(*src, check_len(data.len(), "comparison")?),
        Op::Range { src, lo, hi, .. } => {
            if lo.len() != hi.len() {
                return Err("range bounds of different lengths".into());
            }
            if lo > hi {
                return Err("range with low bound above high bound".into());
            }
            regs.read(*src, check_len(lo.len(), "range")?)
        }
        Op::Lookup { src, len, set, dst, negate } => {
            let s = set_ok(set)?;
            if s.key_len != *len {
                return Err(format!("lookup of {len} bytes in @{} whose keys have {}", s.name, s.key_len));
            }
            regs.read(*src, *len)?;
            match dst {
                // A negated lookup matches when there is no element, so
                // there is nothing to load: the kernel refuses
                // NFT_LOOKUP_F_INV with a destination register (EINVAL).
                Some(_) if *negate => Err(format!("negated lookup in @{} cannot load data", s.name)),
                Some(d) if s.is_map && !s.verdict_map => regs.write(*d, s.data_len),
                Some(_) => Err(format!("@{} has no data to load", s.name)),
                None => Ok(()),
            }
        }
        Op::VerdictMap { src, len, set } => {
            let s = set_ok(set)?;
            if !s.verdict_map || s.key_len != *len {
                return Err(format!("vmap lookup in @{}, which is not a verdict map of {len}-byte keys", s.name));
            }
            regs.read(*src, *len)
        }
        Op::Verdict(v) => match v {
            Verdict::Jump(c) | Verdict::Goto(c) => chain_ok(c),
            _ => Ok(()),
        },
        Op::Counter(c) => {
            (c.index() < p.counters.len()).then_some(()).ok_or_else(|| format!("unknown counter #{}", c.0))
        }
        Op::Limit(l) => (l.index() < p.limits.len()).then_some(()).ok_or_else(|| format!("unknown limit #{}", l.0)),
        Op::Quota(q) => (q.index() < p.quotas.len()).then_some(()).ok_or_else(|| format!("unknown quota #{}", q.0)),
        Op::Log(l) => (l.index() < p.logs.len()).then_some(()).ok_or_else(|| format!("unknown log #{}", l.0)),
        Op::Reject(_) | Op::Notrack | Op::CtHelper { .. } => Ok(()),
        Op::CtTimeout(t) => {
            (t.index() < p.timeouts.len()).then_some(()).ok_or_else(|| format!("unknown ct timeout #{}", t.0))
        }
        Op::CtExpect(e) => {
            (e.index() < p.expectations.len()).then_some(()).ok_or_else(|| format!("unknown ct expectation #{}", e.0))
        }
        Op::MetaSet { src, .. } => regs.read(*src, 4),
        Op::CtSet { src, len, .. } => regs.read(*src, *len),
        Op::PayloadSet { src, len, .. } => regs.read(*src, *len),
        Op::Nat(n) => {
            for r in [n.addr_min, n.addr_max].into_iter().flatten() {
                if n.addr_len != 4 && n.addr_len != 16 {
                    return Err(format!("NAT address of {} bytes", n.addr_len));
                }
                regs.read(r, n.addr_len)?;
            }
            for r in [n.port_min, n.port_max].into_iter().flatten() {
                regs.read(r, 2)?;
            }
            Ok(())
        }
        Op::SetUpdate { set, src, len, limit, .. } => {
            let s = set_ok(set)?;
            if let Some(l) = limit
                && l.index() >= p.limits.len()
            {
                return Err(format!("unknown limit #{}", l.0));
            }
            if s.key_len != *len {
                return Err(format!("update of @{} with a {len}-byte key", s.name));
            }
            regs.read(*src, *len)
        }
    }
}

fn check_sets(p: &Program) -> Result<(), VerifyError> {
    for s in &p.sets {
        let err = |m: String| VerifyError { chain: format!("(set @{})", s.name), rule: None, message: m };
        if s.table.index() >= p.tables.len() {
            return Err(err("set of an unknown table".into()));
        }
        for e in &s.elements {
            if e.lo.len() != s.key_len as usize || e.hi.len() != s.key_len as usize || e.lo > e.hi {
                return Err(err("element does not fit the key".into()));
            }
            match &e.data {
                Some(ElementData::Value(v)) if v.len() != s.data_len as usize => {
                    return Err(err("element data does not fit the map".into()));
                }
                Some(ElementData::Verdict(Verdict::Jump(c) | Verdict::Goto(c)))
                    if p.chains.get(c.index()).is_none_or(|ch| ch.base.is_some()) =>
                {
                    return Err(err("verdict map element jumps to a base or unknown chain".into()));
                }
                _ => {}
            }
        }
    }
    Ok(())
}

/// Chains a chain may continue to: jump/goto ops and verdict map elements.
fn successors(p: &Program, c: &Chain) -> Vec<usize> {
    let mut out = Vec::new();
    for r in &c.rules {
        for o in &r.ops {
            match o {
                Op::Verdict(Verdict::Jump(t) | Verdict::Goto(t)) => out.push(t.index()),
                Op::VerdictMap { set, .. } => {
                    if let Some(s) = p.sets.get(set.index()) {
                        for e in &s.elements {
                            if let Some(ElementData::Verdict(Verdict::Jump(t) | Verdict::Goto(t))) = &e.data {
                                out.push(t.index());
                            }
                        }
                    }
                }
                _ => {}
            }
        }
    }
    out
}

fn check_graph(p: &Program) -> Result<(), VerifyError> {
    let succ: Vec<Vec<usize>> = p.chains.iter().map(|c| successors(p, c)).collect();
    // Longest path from each chain, with cycle detection (0 new, 1 on path, 2 done).
    let mut state = vec![0u8; p.chains.len()];
    let mut depth = vec![0usize; p.chains.len()];
    for root in 0..p.chains.len() {
        if state[root] != 0 {
            continue;
        }
        let mut stack = vec![(root, 0usize)];
        state[root] = 1;
        while let Some(&mut (node, ref mut next)) = stack.last_mut() {
            if let Some(&to) = succ[node].get(*next) {
                *next += 1;
                match state.get(to) {
                    Some(0) => {
                        state[to] = 1;
                        stack.push((to, 0));
                    }
                    Some(1) => {
                        return Err(VerifyError {
                            chain: p.chains[node].name.clone(),
                            rule: None,
                            message: format!("jump loop through {}", p.chains[to].name),
                        });
                    }
                    _ => {}
                }
            } else {
                state[node] = 2;
                depth[node] = succ[node].iter().map(|&t| depth[t] + 1).max().unwrap_or(0);
                stack.pop();
            }
        }
    }
    for (i, c) in p.chains.iter().enumerate() {
        if c.base.is_some() && depth[i] >= MAX_JUMP_DEPTH {
            return Err(VerifyError {
                chain: c.name.clone(),
                rule: None,
                message: format!("jumps nest {} deep (at most {})", depth[i], MAX_JUMP_DEPTH - 1),
            });
        }
    }
    Ok(())
}

/// Verify a program.
pub fn verify(p: Program) -> Result<VerifiedProgram, VerifyError> {
    check_sets(&p)?;
    for c in &p.chains {
        if c.table.index() >= p.tables.len() {
            return Err(VerifyError { chain: c.name.clone(), rule: None, message: "unknown table".into() });
        }
        for (ri, r) in c.rules.iter().enumerate() {
            let mut regs = Regs { written: [false; REG_WORDS] };
            for (oi, o) in r.ops.iter().enumerate() {
                let err = |m: String| VerifyError { chain: c.name.clone(), rule: Some(ri), message: m };
                check_op(&p, &mut regs, o).map_err(err)?;
                if o.is_verdict() && oi + 1 != r.ops.len() {
                    return Err(err("a verdict is not the last op of its rule".into()));
                }
            }
            if let Some(ctr) = r.counter
                && ctr.index() >= p.counters.len()
            {
                return Err(VerifyError { chain: c.name.clone(), rule: Some(ri), message: "unknown counter".into() });
            }
        }
    }
    check_graph(&p)?;
    Ok(VerifiedProgram(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prog(rules: Vec<Vec<Op>>) -> Program {
        Program {
            tables: vec![Table { family: Family::Ip, name: "t".into() }],
            chains: vec![Chain {
                name: "c".into(),
                table: TableId(0),
                base: Some(BaseInfo { ty: ChainType::Filter, hook: Hook::Input, priority: 0, policy_accept: true }),
                rules: rules
                    .into_iter()
                    .map(|ops| Rule { ops, loc: SourceLoc { file: "f".into(), line: 1 }, counter: None })
                    .collect(),
            }],
            ..Program::default()
        }
    }

    #[test]
    fn accepts_a_well_formed_rule() {
        let p = prog(vec![vec![
            Op::Payload { dst: Reg(0), base: Base::Transport, offset: 2, len: 2 },
            Op::Cmp { src: Reg(0), op: CmpOp::Eq, data: vec![0, 22] },
            Op::Verdict(Verdict::Accept),
        ]]);
        assert!(verify(p).is_ok());
    }

    #[test]
    fn rejects_reads_before_writes_and_bad_lengths() {
        let e = verify(prog(vec![vec![Op::Cmp { src: Reg(1), op: CmpOp::Eq, data: vec![0, 22] }]])).unwrap_err();
        assert!(e.message.contains("before it is written"), "{e}");
        let e = verify(prog(vec![vec![Op::Immediate { dst: Reg(31), data: vec![0; 8] }]])).unwrap_err();
        assert!(e.message.contains("leaves the register file"), "{e}");
        let e = verify(prog(vec![vec![Op::Verdict(Verdict::Accept), Op::Counter(CounterId(0))]])).unwrap_err();
        assert!(e.message.contains("last op"), "{e}");
    }

    #[test]
    fn rejects_a_negated_lookup_that_loads_data() {
        // As the kernel's nft_lookup_init: no destination with NFT_LOOKUP_F_INV.
        let lookup = |negate| {
            let mut p = prog(vec![vec![
                Op::Payload { dst: Reg(0), base: Base::Network, offset: 12, len: 4 },
                Op::Lookup { src: Reg(0), len: 4, set: SetId(0), negate, dst: Some(Reg(1)) },
                Op::Cmp { src: Reg(1), op: CmpOp::Eq, data: vec![0, 0, 0, 1] },
                Op::Verdict(Verdict::Accept),
            ]]);
            p.sets.push(Set {
                name: "m".into(),
                table: TableId(0),
                key_len: 4,
                data_len: 4,
                is_map: true,
                verdict_map: false,
                interval: false,
                dynamic: false,
                timeout_ms: None,
                elements: Vec::new(),
            });
            verify(p)
        };
        assert!(lookup(false).is_ok());
        let e = lookup(true).unwrap_err();
        assert!(e.message.contains("cannot load data"), "{e}");
    }

    #[test]
    fn rejects_jumps_to_base_chains_and_loops() {
        let e = verify(prog(vec![vec![Op::Verdict(Verdict::Jump(ChainId(0)))]])).unwrap_err();
        assert!(e.message.contains("base chain"), "{e}");
        let mut p = prog(vec![vec![Op::Verdict(Verdict::Jump(ChainId(1)))]]);
        for (i, next) in [(1u32, 2u32), (2, 1)] {
            let _ = i;
            p.chains.push(Chain {
                name: format!("r{next}"),
                table: TableId(0),
                base: None,
                rules: vec![Rule {
                    ops: vec![Op::Verdict(Verdict::Jump(ChainId(next)))],
                    loc: SourceLoc { file: "f".into(), line: 1 },
                    counter: None,
                }],
            });
        }
        let e = verify(p).unwrap_err();
        assert!(e.message.contains("loop"), "{e}");
    }
}
