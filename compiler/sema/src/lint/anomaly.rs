//! Rule anomalies of a chain (Al-Shaer & Hamed, "Firewall Policy Advisor
//! for Anomaly Discovery and Rule Editing", 2003), computed over the match
//! space of [`super::space`].
//!
//! Each rule gets at most one finding, the first that applies:
//! 1. contradictory: its region is empty, it matches no packet;
//! 2. unreachable: an earlier rule of the chain matches every packet and
//!    ends the chain (unconditional `accept`, `drop`, `reject`, `goto`,
//!    `return`, ...);
//! 3. covered: the *first* earlier deciding rule whose match set contains
//!    this rule's decides all its packets, so this rule never runs. Same
//!    verdict: redundant; another verdict (or a rule without one): shadowed;
//! 4. correlated: an earlier deciding rule with another verdict shares some
//!    packets with this one, neither contains the other (both deciding),
//!    and some field is tested by both rules with different values (rules
//!    testing different fields only are the normal layering of a ruleset);
//! 5. redundant (forward): a later deciding rule with the same verdict
//!    contains this one, and every rule in between that shares packets with
//!    this one decides them the same way — removing this rule changes no
//!    decision. The chain's end counts as a last rule: the base chain's
//!    policy, or `return` for a regular chain.
//!
//! "Deciding" means the rule ends the chain for the packets it matches
//! (a verdict other than `jump`/`continue`, `reject`, NAT, `queue`, `fwd`)
//! and all its conditions are modelled. Rules that read a field an earlier
//! rule of the chain writes (`meta mark set` then `meta mark 1`), directly
//! or in a chain it jumps to, are left out: their conditions are not about
//! the packet that entered the chain.

use super::space::{self, Cube, DimKey, Modeler, RuleModel, SetConsts};
use crate::hir::{self, StmtKind, Verdict};
use ctc_grammar::{SourceMap, Span};
use std::collections::HashMap;

/// Chains longer than this get no pairwise analysis (shadowed, redundant,
/// correlated): it is quadratic, and no input may make a check hang. Ten
/// thousand rules take well under a second.
pub const MAX_PAIRWISE_RULES: usize = 30_000;

/// What a rule does with the packets it matches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Ends the chain with this decision (a canonical text of the verdict).
    Decides(String),
    /// Lets the packet go on (no verdict, `continue`, `jump`).
    Continues,
    /// Ends the chain for some packets in a way the model does not follow
    /// (a verdict map, `synproxy`).
    Opaque,
}

/// One finding. Indexes are rule indexes in the chain; `rules.len()` is
/// the chain's end (policy or implicit return).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finding {
    Contradictory { rule: usize, at: Span, earlier: Option<Span> },
    Unreachable { rule: usize, after: usize, count: usize },
    Shadowed { rule: usize, by: usize },
    Redundant { rule: usize, by: usize },
    Correlated { rule: usize, with: usize, others: usize },
}

impl Finding {
    pub fn rule(&self) -> usize {
        match *self {
            Finding::Contradictory { rule, .. }
            | Finding::Unreachable { rule, .. }
            | Finding::Shadowed { rule, .. }
            | Finding::Redundant { rule, .. }
            | Finding::Correlated { rule, .. } => rule,
        }
    }
}

/// The analysis of one chain.
#[derive(Debug)]
pub struct ChainReport {
    pub table: usize,
    pub chain: usize,
    pub findings: Vec<Finding>,
    /// Each rule's action; one more entry for the chain's end.
    pub actions: Vec<Action>,
    /// Each rule's model (over `dims`).
    pub models: Vec<RuleModel>,
    pub dims: space::Dims,
}

impl ChainReport {
    /// The dimension of a key in this chain, if a rule reads it.
    pub fn dim(&self, key: &DimKey) -> Option<u32> {
        self.dims.get(key)
    }
}

/// Every chain of every table.
pub fn analyze_program(p: &hir::Program, sources: &SourceMap) -> Vec<ChainReport> {
    let mut out = Vec::new();
    for (ti, t) in p.tables.iter().enumerate() {
        let consts = SetConsts::of_table(t);
        let writes = chain_writes(t);
        for (ci, c) in t.chains.iter().enumerate() {
            out.push(analyze_chain(ti, ci, t, c, &consts, &writes, sources));
        }
    }
    out
}

/// Per chain: the fields it or any chain it jumps to writes.
fn chain_writes(t: &hir::Table) -> HashMap<&str, Vec<DimKey>> {
    let mut own: HashMap<&str, (Vec<DimKey>, Vec<&str>)> = HashMap::new();
    for c in &t.chains {
        let mut w = Vec::new();
        let mut calls = Vec::new();
        for r in &c.rules {
            w.extend(space::writes(r));
            for s in &r.stmts {
                if let StmtKind::Verdict(Verdict::Jump(n) | Verdict::Goto(n)) = &s.kind {
                    calls.push(n.as_str());
                }
                for n in verdict_map_targets(s) {
                    calls.push(n);
                }
            }
        }
        own.insert(c.name.as_str(), (w, calls));
    }
    // Transitive closure (the jump graph is acyclic in a checked ruleset,
    // but a bounded fixed point costs nothing and survives any input).
    let names: Vec<&str> = own.keys().copied().collect();
    let mut all: HashMap<&str, Vec<DimKey>> = own.iter().map(|(k, (w, _))| (*k, w.clone())).collect();
    for _ in 0..names.len().min(64) {
        let mut changed = false;
        for n in &names {
            let calls = own[n].1.clone();
            for callee in calls {
                let add: Vec<DimKey> = all.get(callee).cloned().unwrap_or_default();
                let mine = all.get_mut(n).expect("every chain has an entry");
                for k in add {
                    if !mine.contains(&k) {
                        mine.push(k);
                        changed = true;
                    }
                }
            }
        }
        if !changed {
            break;
        }
    }
    all
}

/// Chains named by the verdicts of a verdict map statement.
fn verdict_map_targets(s: &hir::Stmt) -> Vec<&str> {
    let mut out = Vec::new();
    if let StmtKind::VerdictMap(e) = &s.kind
        && let hir::ExprKind::Map { map, .. } = &e.kind
        && let hir::ExprKind::SetLit(elems) = &map.kind
    {
        for el in elems {
            if let Some(d) = &el.data
                && let hir::ExprKind::Verdict(Verdict::Jump(n) | Verdict::Goto(n)) = &d.kind
            {
                out.push(n.as_str());
            }
        }
    }
    out
}

/// The action of a rule, and whether it has effects besides its verdict
/// (counters, logs, set updates, marks...).
pub fn action_of(r: &hir::Rule, sources: &SourceMap) -> (Action, bool) {
    let mut pure = true;
    let mut action = Action::Continues;
    for s in &r.stmts {
        match &s.kind {
            StmtKind::Match { .. } | StmtKind::Comment(_) => {}
            StmtKind::Verdict(v) => {
                action = match v {
                    Verdict::Accept => Action::Decides("accept".into()),
                    Verdict::Drop => Action::Decides("drop".into()),
                    Verdict::Return => Action::Decides("return".into()),
                    Verdict::Goto(n) => Action::Decides(format!("goto {n}")),
                    Verdict::Queue => Action::Decides("queue".into()),
                    Verdict::Continue => Action::Continues,
                    Verdict::Jump(_) => {
                        pure = false;
                        Action::Continues
                    }
                };
            }
            // A NAT statement that looks its address or port up in a map
            // decides only for packets whose key is in the map (a miss
            // ends the rule, NFT_BREAK): it does not decide for every
            // packet its matches let through.
            StmtKind::Nat(n)
                if [&n.addr, &n.port].into_iter().flatten().any(|e| matches!(e.kind, hir::ExprKind::Map { .. })) =>
            {
                pure = false;
                action = Action::Opaque;
            }
            StmtKind::Reject(_) | StmtKind::Nat(_) | StmtKind::Queue(_) | StmtKind::Fwd { .. } => {
                // The statement's text, blanks folded: two NAT statements
                // decide alike when they are written alike.
                let text = if (s.span.file.0 as usize) < sources.len() {
                    sources.get(s.span.file).slice(s.span).split_whitespace().collect::<Vec<_>>().join(" ")
                } else {
                    format!("{:?}", std::mem::discriminant(&s.kind))
                };
                action = Action::Decides(text);
            }
            StmtKind::VerdictMap(_) | StmtKind::Synproxy { .. } => {
                pure = false;
                action = Action::Opaque;
            }
            _ => pure = false,
        }
    }
    (action, pure)
}

struct RuleFacts {
    model: RuleModel,
    action: Action,
    pure: bool,
    /// Reads a field an earlier rule writes.
    tainted: bool,
    /// Usable as the containing rule of a relation: decides, exact.
    decides_exactly: bool,
    /// Dimensions read.
    reads: Vec<u32>,
    /// The one box as a dense array, when it is a box of single intervals
    /// (the fast path of the pairwise scan).
    dense: Option<Dense>,
    /// The action as a small number (equal actions, equal ids).
    action_id: u32,
}

/// One box of single intervals over a chain's (at most 64) dimensions.
struct Dense {
    /// Bit `d`: dimension `d` is constrained.
    has: u64,
    iv: Vec<(u128, u128)>,
}

impl Dense {
    fn of(m: &RuleModel, dims: usize) -> Option<Dense> {
        if dims > 64 || m.region.len() != 1 || !m.region[0].syms.is_empty() {
            return None;
        }
        let mut d = Dense { has: 0, iv: vec![(0, 0); dims] };
        for (dim, set) in &m.region[0].cons {
            let [iv] = set.0.as_slice() else { return None };
            d.has |= 1 << dim;
            d.iv[*dim as usize] = *iv;
        }
        Some(d)
    }
}

/// How two boxes relate.
#[derive(Debug, Clone, Copy)]
struct Rel {
    disjoint: bool,
    /// The first contains the second.
    a_sup_b: bool,
    b_sup_a: bool,
    /// Some dimension both constrain, with different values.
    crossed: bool,
}

/// What the pairwise scan reads of a rule besides its intervals.
#[derive(Debug, Clone, Copy)]
struct Row {
    has: u64,
    dense: bool,
    /// Decides exactly and matches something: may contain later rules.
    usable: bool,
    action: u32,
    decides_exactly: bool,
    tainted: bool,
    pure: bool,
    empty: bool,
    /// One box.
    single: bool,
}

/// The intervals of the dense rules, one row of `width` per rule; 64-bit
/// when every dimension of the chain fits (half the memory to scan).
enum Flat {
    Narrow(Vec<(u64, u64)>),
    Wide(Vec<(u128, u128)>),
}

impl Flat {
    #[inline]
    fn rel(&self, width: usize, a: usize, ahas: u64, b: usize, bhas: u64) -> Rel {
        match self {
            Flat::Narrow(v) => rel_flat(ahas, &v[a * width..(a + 1) * width], bhas, &v[b * width..(b + 1) * width]),
            Flat::Wide(v) => rel_flat(ahas, &v[a * width..(a + 1) * width], bhas, &v[b * width..(b + 1) * width]),
        }
    }
}

#[inline]
fn rel_flat<T: Copy + Ord>(ahas: u64, a: &[(T, T)], bhas: u64, b: &[(T, T)]) -> Rel {
    let mut r = Rel { disjoint: false, a_sup_b: ahas & !bhas == 0, b_sup_a: bhas & !ahas == 0, crossed: false };
    let mut both = ahas & bhas;
    while both != 0 {
        let d = both.trailing_zeros() as usize;
        both &= both - 1;
        let (x, y) = (a[d], b[d]);
        if x.0.max(y.0) > x.1.min(y.1) {
            r.disjoint = true;
            return r;
        }
        if !(x.0 <= y.0 && y.1 <= x.1) {
            r.a_sup_b = false;
        }
        if !(y.0 <= x.0 && x.1 <= y.1) {
            r.b_sup_a = false;
        }
        if x != y {
            r.crossed = true;
        }
    }
    r
}

/// Which pairs of a chain's dimensions are entangled (`None`: no pair is).
struct Entangled {
    n: usize,
    bits: Option<Vec<bool>>,
}

impl Entangled {
    fn of(dims: &space::Dims) -> Entangled {
        let n = dims.list.len();
        let mut bits = vec![false; n * n];
        let mut any = false;
        for a in 0..n {
            for b in 0..n {
                if space::entangled(&dims.list[a].key, &dims.list[b].key) {
                    bits[a * n + b] = true;
                    any = true;
                }
            }
        }
        Entangled { n, bits: any.then_some(bits) }
    }
    fn pair(&self, a: &[u32], b: &[u32]) -> bool {
        let Some(bits) = &self.bits else { return false };
        let all: Vec<usize> = a.iter().chain(b).map(|&d| d as usize).collect();
        all.iter().any(|&x| all.iter().any(|&y| bits[x * self.n + y]))
    }
}

fn analyze_chain(
    ti: usize,
    ci: usize,
    t: &hir::Table,
    c: &hir::Chain,
    consts: &SetConsts,
    writes: &HashMap<&str, Vec<DimKey>>,
    sources: &SourceMap,
) -> ChainReport {
    let mut m = Modeler::new(t.family, consts);
    let mut written: Vec<DimKey> = Vec::new();
    let mut facts = Vec::with_capacity(c.rules.len() + 1);
    for r in &c.rules {
        let model = m.rule(r);
        let (action, pure) = action_of(r, sources);
        let tainted = model.reads.iter().any(|d| written.iter().any(|w| w.overlaps(&m.dims.list[*d as usize].key)));
        let reads = model.reads.clone();
        written.extend(space::writes(r));
        for s in &r.stmts {
            if let StmtKind::Verdict(Verdict::Jump(n)) = &s.kind
                && let Some(w) = writes.get(n.as_str())
            {
                written.extend(w.iter().cloned());
            }
            if let StmtKind::VerdictMap(_) = &s.kind {
                for n in verdict_map_targets(s) {
                    if let Some(w) = writes.get(n) {
                        written.extend(w.iter().cloned());
                    }
                }
            }
        }
        let decides_exactly = matches!(action, Action::Decides(_)) && !model.opaque && !tainted;
        facts.push(RuleFacts { model, action, pure, tainted, decides_exactly, reads, dense: None, action_id: 0 });
    }
    // The chain's end: a rule matching everything with the policy's verdict.
    let end_action = match &c.base {
        Some(b) if b.policy == hir::Policy::Drop => "drop",
        Some(_) => "accept",
        None => "return",
    };
    facts.push(RuleFacts {
        model: RuleModel { region: vec![Cube::default()], ..RuleModel::default() },
        action: Action::Decides(end_action.into()),
        pure: true,
        tainted: false,
        decides_exactly: true,
        reads: Vec::new(),
        dense: None,
        action_id: 0,
    });
    let ent = Entangled::of(&m.dims);
    let mut ids: Vec<&Action> = Vec::new();
    let ndims = m.dims.list.len();
    let action_ids: Vec<u32> = facts
        .iter()
        .map(|f| match ids.iter().position(|a| **a == f.action) {
            Some(i) => i as u32,
            None => {
                ids.push(&f.action);
                ids.len() as u32 - 1
            }
        })
        .collect();
    for (f, id) in facts.iter_mut().zip(action_ids) {
        f.action_id = id;
        f.dense = Dense::of(&f.model, ndims);
    }
    let n = c.rules.len();
    let mut findings = Vec::new();
    let mut reported = vec![false; n];

    // 1. and 2.
    let mut unconditional: Option<usize> = None;
    for j in 0..n {
        let f = &facts[j];
        if let Some(u) = unconditional {
            findings.push(Finding::Unreachable { rule: j, after: u, count: n - j });
            for r in reported.iter_mut().skip(j) {
                *r = true;
            }
            break;
        }
        if f.model.is_empty() && !f.tainted {
            let (at, earlier) = f.model.conflict.unwrap_or((c.rules[j].span, None));
            findings.push(Finding::Contradictory { rule: j, at, earlier });
            reported[j] = true;
            continue;
        }
        if f.decides_exactly && f.model.is_everything() {
            unconditional = Some(j);
        }
    }

    // 3. and 4.: scan earlier rules.
    let limit = if n > MAX_PAIRWISE_RULES { 0 } else { unconditional.map_or(n, |u| u + 1) };
    // The pairwise scan is quadratic: keep what it reads contiguous (one
    // row of `ndims` intervals per rule) so 10,000 rules stay in cache.
    if limit == 0 {
        // No pairwise scan: no rows to build.
        for f in &mut facts {
            f.dense = None;
        }
    }
    // Dense rows only exist for chains of at most 64 dimensions (`Dense::of`).
    let width = if limit > 0 && ndims <= 64 { ndims.max(1) } else { 0 };
    let narrow = m.dims.list.iter().all(|d| d.domain.0.last().is_none_or(|iv| iv.1 <= u128::from(u64::MAX)));
    let mut wide: Vec<(u128, u128)> = vec![(0, 0); facts.len() * width];
    let mut rows: Vec<Row> = Vec::with_capacity(facts.len());
    for (k, f) in facts.iter().enumerate() {
        let dense = f.dense.as_ref();
        if let Some(d) = dense {
            wide[k * width..k * width + d.iv.len()].copy_from_slice(&d.iv);
        }
        rows.push(Row {
            has: dense.map_or(0, |d| d.has),
            dense: dense.is_some(),
            usable: f.decides_exactly && !f.model.is_empty(),
            action: f.action_id,
            decides_exactly: f.decides_exactly,
            tainted: f.tainted,
            pure: f.pure,
            empty: f.model.is_empty(),
            single: f.model.region.len() == 1,
        });
    }
    // Columns per dimension (lower and upper bounds, an unconstrained
    // dimension as the whole range) for a branch-free, vectorizable first
    // pass that finds which earlier rules intersect a rule at all.
    let cols: Option<Vec<(Vec<u64>, Vec<u64>)>> = (narrow && width > 0).then(|| {
        (0..ndims)
            .map(|d| {
                let mut lo = vec![0u64; facts.len()];
                let mut hi = vec![u64::MAX; facts.len()];
                for (k, r) in rows.iter().enumerate() {
                    if r.dense && r.has >> d & 1 == 1 {
                        let (a, b) = wide[k * width + d];
                        lo[k] = a as u64;
                        hi[k] = b as u64;
                    }
                }
                (lo, hi)
            })
            .collect()
    });
    let flat = if narrow {
        // Every value fits: the domains bound the intervals.
        Flat::Narrow(wide.iter().map(|&(a, b)| (a as u64, b as u64)).collect())
    } else {
        Flat::Wide(wide)
    };
    let mut alive: Vec<bool> = Vec::with_capacity(facts.len());
    for j in 0..limit {
        if reported[j] || facts[j].tainted {
            continue;
        }
        let fj = &facts[j];
        let mut corr: Option<usize> = None;
        let mut corr_count = 0usize;
        let mut covered: Option<usize> = None;
        let (rj, jdense) = (rows[j], rows[j].dense);
        alive.clear();
        alive.extend(rows[..j].iter().map(|r| r.usable));
        if jdense && let Some(cols) = &cols {
            for (lo, hi) in cols {
                let (lj, hj) = (lo[j], hi[j]);
                for ((a, l), h) in alive.iter_mut().zip(&lo[..j]).zip(&hi[..j]) {
                    *a &= (*l <= hj) & (lj <= *h);
                }
            }
        }
        for (i, ri) in rows.iter().enumerate().take(j) {
            if !alive[i] {
                continue;
            }
            let fi = &facts[i];
            if jdense && ri.dense {
                // Fast path: both single boxes of single intervals.
                let r = flat.rel(width, i, ri.has, j, rj.has);
                if r.disjoint {
                    continue;
                }
                if r.a_sup_b {
                    covered = Some(i);
                    break;
                }
                if rj.decides_exactly
                    && ri.action != rj.action
                    && !r.b_sup_a
                    && r.crossed
                    && !ent.pair(&fi.reads, &fj.reads)
                {
                    corr_count += 1;
                    corr.get_or_insert(i);
                }
                continue;
            }
            if space::region_contains(&fi.model.region, &fj.model.region) {
                covered = Some(i);
                break;
            }
            if fj.decides_exactly && fi.action_id != fj.action_id && correlated(fi, fj, &ent) {
                corr_count += 1;
                corr.get_or_insert(i);
            }
        }
        if let Some(i) = covered {
            reported[j] = true;
            findings.push(if facts[i].action == fj.action {
                Finding::Redundant { rule: j, by: i }
            } else {
                Finding::Shadowed { rule: j, by: i }
            });
        } else if let Some(i) = corr {
            reported[j] = true;
            findings.push(Finding::Correlated { rule: j, with: i, others: corr_count - 1 });
        }
    }

    // 5.: forward redundancy.
    for i in 0..limit {
        let ri = rows[i];
        if reported[i] || !ri.pure || ri.tainted || !matches!(facts[i].action, Action::Decides(_)) {
            continue;
        }
        let end = if unconditional.is_some_and(|u| u > i) { limit } else { n + 1 };
        for k in i + 1..end {
            let rk = rows[k];
            if rk.tainted {
                // A rule whose conditions the model cannot follow may take
                // some of this rule's packets.
                break;
            }
            let fast = (ri.dense && rk.dense).then(|| flat.rel(width, k, rk.has, i, ri.has));
            let disjoint = match fast {
                Some(r) => r.disjoint,
                None => rk.empty || space::region_disjoint(&facts[k].model.region, &facts[i].model.region),
            };
            if disjoint {
                continue;
            }
            let same = rk.action == ri.action;
            if k < n && reported[k] && rk.pure && same {
                // Never runs itself (covered by an earlier rule): it cannot be
                // the rule that makes this one removable.
                continue;
            }
            if same && rk.decides_exactly && rk.pure && rk.single {
                let contains = match fast {
                    Some(r) => r.a_sup_b,
                    None => space::region_contains(&facts[k].model.region, &facts[i].model.region),
                };
                if contains {
                    findings.push(Finding::Redundant { rule: i, by: k });
                    reported[i] = true;
                    break;
                }
                continue;
            }
            if rk.pure && (same || facts[k].action == Action::Continues) {
                // Decides the shared packets the same way, or lets them go on.
                continue;
            }
            break;
        }
    }
    findings.sort_by_key(Finding::rule);
    let mut actions = Vec::with_capacity(facts.len());
    let mut models = Vec::with_capacity(facts.len());
    for f in facts {
        actions.push(f.action);
        models.push(f.model);
    }
    models.pop();
    ChainReport { table: ti, chain: ci, findings, actions, models, dims: m.dims }
}

/// Both rules decide exactly, share some packets, and neither contains the
/// other; only claimed when the pair's dimensions are independent and no
/// set is symbolic.
fn correlated(a: &RuleFacts, b: &RuleFacts, ent: &Entangled) -> bool {
    if a.model.has_syms() || b.model.has_syms() || a.model.region.len() != 1 || b.model.region.len() != 1 {
        return false;
    }
    let (ca, cb) = (&a.model.region[0], &b.model.region[0]);
    if ca.disjoint(cb) || cb.contains(ca) || ca.contains(cb) {
        return false;
    }
    // Orthogonal rules (no field tested by both with different values,
    // like `ct state invalid drop` above `tcp dport 22 accept`) are how a
    // ruleset is layered, not an anomaly worth a warning.
    let crossed = ca.cons.iter().any(|(d, s)| cb.cons.iter().any(|(e, t)| d == e && s != t));
    crossed && !ent.pair(&a.reads, &b.reads)
}
