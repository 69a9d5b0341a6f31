//! The context a rule is checked in: family, table symbols, chain, and the
//! diagnostics sink.

use crate::hir::{ChainType, Family, Hook, MapData, ObjectKind, Set};
use ctc_grammar::{Diagnostic, Span};
use std::collections::HashMap;

/// What a rule may refer to in its table.
#[derive(Debug, Default, Clone)]
pub struct TableSymbols {
    pub family_name: &'static str,
    pub name: String,
    pub sets: HashMap<String, Set>,
    pub objects: HashMap<(ObjectKind, String), Span>,
    /// `ct helper` objects: name → (helper type, l4 protocol number).
    pub helpers: HashMap<String, (String, u8)>,
    /// Chains by name: span and base chain (type, hook) if any.
    pub chains: HashMap<String, (Span, Option<(ChainType, Hook)>)>,
    pub flowtables: HashMap<String, Span>,
}

impl TableSymbols {
    /// `inet filter`, as messages name a table.
    pub fn display(&self) -> String {
        format!("{} {}", self.family_name, self.name)
    }
    pub fn map_data(&self, set: &str) -> Option<&MapData> {
        self.sets.get(set).and_then(|s| s.data.as_ref())
    }
}

/// The chain a rule is in.
#[derive(Debug, Clone)]
pub struct ChainCtx {
    pub name: String,
    /// Chain type and hook of a base chain.
    pub base: Option<(ChainType, Hook)>,
}

/// The protocol context of a rule so far: what earlier matches (or the
/// table family) established. Payload matches imply and check dependencies
/// against it; NAT, reject and tproxy read it to know the address family and
/// transport protocol.
#[derive(Debug, Default, Clone)]
pub struct ProtoCtx {
    /// Network protocol (from the family, `meta nfproto`, `ether type`, or an
    /// `ip`/`ip6`/`arp` payload match) and where it was established.
    pub l3: Option<(ctc_proto::L3, Span)>,
    /// Transport protocol number (from `meta l4proto`, `ip protocol`,
    /// `ip6 nexthdr` or a transport header match).
    pub l4: Option<(u8, Span)>,
    /// Link layer ethertype (bridge and netdev families).
    pub ethertype: Option<(u16, Span)>,
    /// A matched UDP destination port (tunnels: vxlan 4789, geneve 6081).
    pub udp_dport: Option<(u16, Span)>,
}

/// Everything a rule check needs. Uses of sets, objects, chains are
/// recorded for reachability and for the hygiene lints.
#[derive(Debug)]
pub struct RuleCx<'a> {
    pub family: Family,
    pub table: &'a TableSymbols,
    pub chain: ChainCtx,
    pub diags: &'a mut Vec<Diagnostic>,
    /// Protocol context, reset per rule (l3 preset from the family).
    pub proto: ProtoCtx,
    /// Chains this rule jumps to or goes to (name, span, is_goto).
    pub jumps: Vec<(String, Span, bool)>,
    /// Named sets/maps used (name, span).
    pub used_sets: Vec<(String, Span)>,
    /// Named objects used.
    pub used_objects: Vec<(ObjectKind, String, Span)>,
    /// Anonymous chains found in this rule (`jump { ... }`): their bodies are
    /// checked by the resolver as chains of their own.
    pub anon_chains: Vec<ctc_grammar::ast::ChainBody>,
}

impl<'a> RuleCx<'a> {
    pub fn new(family: Family, table: &'a TableSymbols, chain: ChainCtx, diags: &'a mut Vec<Diagnostic>) -> RuleCx<'a> {
        RuleCx {
            family,
            table,
            chain,
            diags,
            proto: ProtoCtx {
                l3: match family {
                    Family::Ip => Some((ctc_proto::L3::Ipv4, Span::default())),
                    Family::Ip6 => Some((ctc_proto::L3::Ipv6, Span::default())),
                    Family::Arp => Some((ctc_proto::L3::Arp, Span::default())),
                    _ => None,
                },
                ..ProtoCtx::default()
            },
            jumps: Vec::new(),
            used_sets: Vec::new(),
            used_objects: Vec::new(),
            anon_chains: Vec::new(),
        }
    }
    pub fn error(&mut self, d: Diagnostic) {
        self.diags.push(d);
    }
}
