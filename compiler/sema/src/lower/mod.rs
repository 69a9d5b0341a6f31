//! Lowering: the checked HIR → `ctc_ir::Program`, for the constructs the
//! runtime executes (families ip, ip6 and inet). Anything else is a
//! diagnostic naming the construct (E6001), never silently dropped.
//!
//! The code generated follows nft's own (`nft --debug=netlink`,
//! src/netlink_linearize.c, src/payload.c, src/evaluate.c):
//!
//! - **dependencies**: a header field gets the implicit checks nft inserts
//!   before it (inet network fields: `meta nfproto`; transport fields:
//!   `meta l4proto`, plus `meta nfproto` in inet for ICMP/ICMPv6/IGMP;
//!   IPv6 extension headers in inet: `meta nfproto ipv6`; link-layer fields:
//!   `meta iiftype ether`), unless an earlier match of the rule established
//!   it (`meta l4proto tcp`, `ip protocol tcp`, `meta nfproto ipv4`);
//! - **bit fields** (`ip dscp`, `tcp doff`, `@nh,4,4`): the covering bytes
//!   are loaded and masked; comparisons shift the constant to the field's
//!   position, lookups and stores shift the register instead ([`expr`]);
//! - **relational operators** ([`rule`]): flag types (ct state, ct status,
//!   tcp flags) with no operator test "any of these bits" (`& mask != 0`),
//!   `==` is exact; prefixes compare the prefix bytes (or a mask); ranges
//!   are `Range` ops; sets are `Lookup`s;
//! - **interface names** are 16 NUL-padded bytes; a wildcard `eth*` is a
//!   `Cmp` whose data is only the prefix (`eth`), as nft emits it: the
//!   comparison covers the first `data.len()` bytes of the register;
//! - **sets** ([`elems`]): anonymous sets become `__setN` in their table;
//!   concatenation components are padded to 32-bit words in registers and
//!   keys; range and prefix elements make an interval set whose elements
//!   are *per-word boxes* (see [`elems`]); `*` is the whole key space, last.
//!
//! Register contents are big-endian by the IR's convention, so host-order
//! kernel values (marks, interface indexes, ct state bits) are written as
//! plain big-endian constants of their declared width.

mod elems;
mod expr;
mod rule;

use crate::hir::{self, Family, MapData, ObjectKind};
use ctc_grammar::{Diagnostic, SourceMap, Span};
use ctc_ir as ir;
use std::collections::HashMap;

/// Lower a checked program. `sources` gives rules their `FILE:LINE`.
///
/// Every table of family ip, ip6 or inet is lowered; a table of another
/// family, or a construct the runtime cannot execute, is an E6001 error
/// naming it. The result is not yet verified (`ctc_ir::verify`).
pub fn lower(program: &hir::Program, sources: &SourceMap) -> Result<ir::Program, Vec<Diagnostic>> {
    let mut lw = Lowerer { sources, out: ir::Program::default(), diags: Vec::new() };
    for t in &program.tables {
        lw.table(t);
    }
    if lw.diags.is_empty() { Ok(lw.out) } else { Err(lw.diags) }
}

/// The E6001 diagnostic: `what` cannot be executed by the runtime.
pub(crate) fn not_executable(what: impl std::fmt::Display, span: Span, why: impl Into<String>) -> Diagnostic {
    Diagnostic::error("E6001", format!("{what} cannot be executed by ctc's runtime"))
        .with_label(span, why)
        .with_help("`ctc check` accepts it as nft does, but `ctc run` and `ctc replay` cannot execute it; remove it, or load this ruleset with nft")
}

/// An internal inconsistency between the checked HIR and the lowering
/// (a bug, reported rather than panicking).
pub(crate) fn internal(msg: impl Into<String>, span: Span) -> Diagnostic {
    Diagnostic::error("E6002", format!("internal error while compiling to the IR: {}", msg.into()))
        .with_label(span, "while compiling this")
        .with_help("this is a bug in ctc; please report it with the ruleset")
}

pub(crate) type R<T> = Result<T, Diagnostic>;

pub(crate) struct Lowerer<'a> {
    sources: &'a SourceMap,
    pub(crate) out: ir::Program,
    diags: Vec<Diagnostic>,
}

/// What a lowered named set needs to be referenced.
#[derive(Debug, Clone)]
pub(crate) struct SetInfo {
    pub id: ir::SetId,
    pub layout: elems::Layout,
}

/// The table being lowered: name → id maps.
pub(crate) struct TableCx<'a> {
    pub hir: &'a hir::Table,
    pub id: ir::TableId,
    pub family: Family,
    pub chains: HashMap<String, ir::ChainId>,
    pub sets: HashMap<String, SetInfo>,
    /// Named sets that cannot be used (object maps): the reason.
    pub unusable: HashMap<String, String>,
    /// Named counter objects: one shared slot each.
    pub counters: HashMap<String, ir::CounterId>,
    /// Anonymous sets created so far (`__setN`).
    pub anon: usize,
}

impl Lowerer<'_> {
    fn loc(&self, span: Span) -> ir::SourceLoc {
        if (span.file.0 as usize) < self.sources.len() {
            let f = self.sources.get(span.file);
            ir::SourceLoc { file: f.path.display().to_string(), line: f.line_col(span.start).0 as u32 }
        } else {
            ir::SourceLoc { file: "<unknown>".into(), line: 0 }
        }
    }

    fn table(&mut self, t: &hir::Table) {
        let family = match t.family {
            Family::Ip => ir::Family::Ip,
            Family::Ip6 => ir::Family::Ip6,
            Family::Inet => ir::Family::Inet,
            other => {
                self.diags.push(not_executable(
                    format!("a table of family `{}`", other.name()),
                    t.span,
                    format!("`{}` table", other.name()),
                ));
                return;
            }
        };
        let id = ir::TableId(self.out.tables.len() as u32);
        self.out.tables.push(ir::Table { family, name: t.name.clone() });
        for o in &t.objects {
            if o.kind == ObjectKind::Flowtable {
                self.diags.push(not_executable(
                    format!("flowtable `{}`", o.name),
                    o.span,
                    "flowtables offload flows past the ruleset; ctc has no fast path",
                ));
            }
        }
        let mut chains = HashMap::new();
        let first = self.out.chains.len();
        for c in &t.chains {
            let base = match &c.base {
                None => None,
                Some(b) => match self.base_info(b) {
                    Ok(b) => Some(b),
                    Err(d) => {
                        self.diags.push(d);
                        None
                    }
                },
            };
            chains.insert(c.name.clone(), ir::ChainId(self.out.chains.len() as u32));
            self.out.chains.push(ir::Chain { name: c.name.clone(), table: id, base, rules: Vec::new() });
        }
        let mut tcx = TableCx {
            hir: t,
            id,
            family: t.family,
            chains,
            sets: HashMap::new(),
            unusable: HashMap::new(),
            counters: HashMap::new(),
            anon: 0,
        };
        for o in &t.objects {
            if o.kind == ObjectKind::Counter {
                let num = |k: &str| o.props.iter().find(|(n, _)| n == k).and_then(|(_, v)| v.parse::<u64>().ok());
                let cid = ir::CounterId(self.out.counters.len() as u32);
                self.out.counters.push((num("packets").unwrap_or(0), num("bytes").unwrap_or(0)));
                tcx.counters.insert(o.name.clone(), cid);
            }
        }
        for s in &t.sets {
            if let Err(d) = self.named_set(&mut tcx, s) {
                // Rules using the set fail too, pointing back at this.
                tcx.unusable.insert(s.name.clone(), format!("@{} cannot be executed (see its declaration)", s.name));
                self.diags.push(d);
            }
        }
        for (ci, c) in t.chains.iter().enumerate() {
            for r in &c.rules {
                match rule::lower_rule(self, &mut tcx, r) {
                    Ok(rule) => self.out.chains[first + ci].rules.push(rule),
                    Err(d) => self.diags.push(d),
                }
            }
        }
    }

    fn base_info(&self, b: &hir::BaseChain) -> R<ir::BaseInfo> {
        let hook = match b.hook {
            hir::Hook::Prerouting => ir::Hook::Prerouting,
            hir::Hook::Input => ir::Hook::Input,
            hir::Hook::Forward => ir::Hook::Forward,
            hir::Hook::Output => ir::Hook::Output,
            hir::Hook::Postrouting => ir::Hook::Postrouting,
            h @ (hir::Hook::Ingress | hir::Hook::Egress) => {
                return Err(not_executable(
                    format!("a chain at the `{}` hook", h.name()),
                    b.span,
                    "ctc runs the prerouting, input, forward, output and postrouting hooks",
                ));
            }
        };
        let ty = match b.ty {
            hir::ChainType::Filter => ir::ChainType::Filter,
            hir::ChainType::Nat => ir::ChainType::Nat,
            hir::ChainType::Route => ir::ChainType::Route,
        };
        Ok(ir::BaseInfo { ty, hook, priority: b.priority, policy_accept: b.policy == hir::Policy::Accept })
    }

    /// A named set or map of the table, with its elements.
    fn named_set(&mut self, t: &mut TableCx<'_>, s: &hir::Set) -> R<()> {
        if let Some(MapData::Object(kind)) = &s.data {
            t.unusable.insert(
                s.name.clone(),
                format!("@{} is an object map (`: {}`); the runtime has no object maps", s.name, kind.as_str()),
            );
            return Ok(());
        }
        if s.counter {
            return Err(not_executable(
                format!("per-element counters of set @{}", s.name),
                s.span,
                "the runtime's sets keep no per-element state",
            ));
        }
        let layout = elems::Layout::of(&s.key, s.span)?;
        let data = match &s.data {
            None => elems::DataKind::None,
            Some(MapData::Verdict) => elems::DataKind::Verdict,
            Some(MapData::Value(kts)) => elems::DataKind::Value(elems::Layout::of(kts, s.span)?),
            Some(MapData::Object(_)) => elems::DataKind::None,
        };
        let dynamic = s.flags.iter().any(|f| f == "dynamic" || f == "timeout") || s.timeout_ms.is_some();
        let set = elems::build_set(
            &mut elems::SetCx { chains: &t.chains },
            &s.name,
            t.id,
            &layout,
            &data,
            &s.elements,
            s.is_interval(),
            dynamic,
            s.timeout_ms,
        )?;
        let id = ir::SetId(self.out.sets.len() as u32);
        self.out.sets.push(set);
        t.sets.insert(s.name.clone(), SetInfo { id, layout });
        Ok(())
    }
}
