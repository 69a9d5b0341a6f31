//! The checked HIR: the ruleset as it stands after a script's commands, every
//! name resolved, every expression typed. Built fresh from the AST.

pub mod expr;
pub mod stmt;

use ctc_grammar::Span;
pub use ctc_proto::{ChainType, Family, Hook, Ty};
pub use expr::*;
pub use stmt::*;

#[derive(Debug, Default, Clone)]
pub struct Program {
    pub tables: Vec<Table>,
}

impl Program {
    pub fn table(&self, family: Family, name: &str) -> Option<&Table> {
        self.tables.iter().find(|t| t.family == family && t.name == name)
    }
}

#[derive(Debug, Clone)]
pub struct Table {
    pub family: Family,
    pub name: String,
    /// Where the table was first declared.
    pub span: Span,
    pub flags: Vec<String>,
    pub comment: Option<String>,
    pub chains: Vec<Chain>,
    pub sets: Vec<Set>,
    pub objects: Vec<Object>,
}

impl Table {
    pub fn chain(&self, name: &str) -> Option<&Chain> {
        self.chains.iter().find(|c| c.name == name)
    }
    pub fn set(&self, name: &str) -> Option<&Set> {
        self.sets.iter().find(|s| s.name == name)
    }
    pub fn object(&self, kind: ObjectKind, name: &str) -> Option<&Object> {
        self.objects.iter().find(|o| o.kind == kind && o.name == name)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    Accept,
    Drop,
}

#[derive(Debug, Clone)]
pub struct BaseChain {
    pub ty: ChainType,
    pub hook: Hook,
    pub priority: i32,
    pub policy: Policy,
    pub devices: Vec<String>,
    /// The `type ... hook ...` line.
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct Chain {
    pub name: String,
    pub span: Span,
    pub base: Option<BaseChain>,
    pub rules: Vec<Rule>,
    pub comment: Option<String>,
    /// An anonymous chain (`jump { ... }`), named after its parent.
    pub anonymous: bool,
}

#[derive(Debug, Clone)]
pub struct Rule {
    pub span: Span,
    pub stmts: Vec<Stmt>,
    pub comment: Option<String>,
}

/// A named set or map.
#[derive(Debug, Clone)]
pub struct Set {
    pub name: String,
    pub span: Span,
    pub is_map: bool,
    /// Key type; several for a concatenation.
    pub key: Vec<KeyType>,
    /// Data type of a map (`: verdict`, `: ipv4_addr`, `: counter`).
    pub data: Option<MapData>,
    pub flags: Vec<String>,
    /// Default element timeout in milliseconds.
    pub timeout_ms: Option<u64>,
    pub size: Option<u64>,
    pub elements: Vec<SetElem>,
    pub comment: Option<String>,
    /// `counter` line: every element counts.
    pub counter: bool,
    pub auto_merge: bool,
}

impl Set {
    pub fn is_interval(&self) -> bool {
        self.flags.iter().any(|f| f == "interval")
    }
}

/// One component of a set key or map data type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyType {
    pub ty: Ty,
    /// Width in bits (from the type, or from the `typeof` expression).
    pub bits: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MapData {
    Verdict,
    Value(Vec<KeyType>),
    /// An object map (`: counter`, `: quota`, `: ct helper`, ...).
    Object(ObjectKind),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ObjectKind {
    Counter,
    Quota,
    Limit,
    Synproxy,
    Secmark,
    CtHelper,
    CtTimeout,
    CtExpectation,
    Flowtable,
}

impl ObjectKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ObjectKind::Counter => "counter",
            ObjectKind::Quota => "quota",
            ObjectKind::Limit => "limit",
            ObjectKind::Synproxy => "synproxy",
            ObjectKind::Secmark => "secmark",
            ObjectKind::CtHelper => "ct helper",
            ObjectKind::CtTimeout => "ct timeout",
            ObjectKind::CtExpectation => "ct expectation",
            ObjectKind::Flowtable => "flowtable",
        }
    }
}

/// A named stateful object or flowtable, its properties kept as written
/// after validation.
#[derive(Debug, Clone)]
pub struct Object {
    pub kind: ObjectKind,
    pub name: String,
    pub span: Span,
    /// For `ct helper`: the helper type (`"ftp"`), protocol and l3proto.
    pub helper: Option<HelperSpec>,
    /// For `ct timeout`: the protocol and the timeouts per state.
    pub timeout: Option<TimeoutSpec>,
    /// For `ct expectation`: what the expectation it makes expects.
    pub expect: Option<ExpectSpec>,
    pub props: Vec<(String, String)>,
}

/// A `ct expectation` object: `protocol tcp; dport 5001; timeout 1m; size
/// 4; [l3proto ip;]` (nft_ct_expect_obj). All four first properties are
/// required (nft: "missing options"; the kernel: -EINVAL).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpectSpec {
    /// Layer 4 protocol number (6 tcp, 17 udp).
    pub protocol: u8,
    pub dport: u16,
    /// As nft writes it to the kernel: milliseconds.
    pub timeout_ms: u64,
    /// At most this many expectations per connection.
    pub size: u8,
    pub l3proto: Option<Family>,
}

/// A `ct timeout` object: `protocol tcp; l3proto ip; policy = { established:
/// 100, close: 10 }` (nf_conntrack_timeout, nft_ct_timeout_obj).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeoutSpec {
    /// Layer 4 protocol number.
    pub protocol: u8,
    pub l3proto: Option<Family>,
    /// (state name as nft writes it, seconds).
    pub policy: Vec<(String, u64)>,
}

/// The states a `ct timeout` policy may name, per protocol (nft's
/// timeout_protocol tables: the kernel's per-protocol timeout indexes).
pub fn timeout_states(protocol: u8) -> &'static [&'static str] {
    match protocol {
        6 => &[
            "syn_sent",
            "syn_recv",
            "established",
            "fin_wait",
            "close_wait",
            "last_ack",
            "time_wait",
            "close",
            "syn_sent2",
            "retrans",
            "unacknowledged",
        ],
        17 | 136 => &["unreplied", "replied"],
        1 | 58 => &["timeout"],
        _ => &["timeout"],
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HelperSpec {
    pub name: String,
    /// Layer 4 protocol number (6 tcp, 17 udp).
    pub protocol: u8,
    pub l3proto: Option<Family>,
}
