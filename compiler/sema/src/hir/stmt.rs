//! Statements of the HIR: one precise variant per nftables statement, with
//! its arguments checked and typed (doc/statements.txt,
//! doc/stateful-objects.txt).

use super::ObjectKind;
use super::expr::{Expr, RelOp, Verdict};
use ctc_grammar::Span;
use ctc_proto::HookedStmt;

#[derive(Debug, Clone)]
pub struct Stmt {
    pub kind: StmtKind,
    pub span: Span,
}

/// `limit rate` in packets or bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitUnit {
    Packets,
    Bytes,
}

/// `limit rate [over] RATE/UNIT [burst N packets|bytes]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limit {
    /// Packets or bytes per `per_secs` seconds.
    pub rate: u64,
    pub per_secs: u64,
    pub unit: LimitUnit,
    /// Burst in packets (default 5) or bytes (default 0).
    pub burst: u64,
    /// `over`: matches once the rate is exceeded (NFT_LIMIT_F_INV).
    pub over: bool,
}

/// `quota [over|until] N UNIT [used N UNIT]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quota {
    pub bytes: u64,
    pub used: u64,
    /// `over`: matches once the quota is exhausted (NFT_QUOTA_F_INV).
    pub over: bool,
}

/// `log` options (nft's log_stmt; kernel nft_log).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Log {
    pub prefix: Option<String>,
    /// Syslog level 0..=7 or 8 (`audit`).
    pub level: Option<u32>,
    /// nflog group: the packet goes to userspace instead of the kernel log.
    pub group: Option<u16>,
    pub snaplen: Option<u32>,
    pub queue_threshold: Option<u16>,
    /// NF_LOG_* flags: TCPSEQ 0x01, TCPOPT 0x02, IPOPT 0x04, UID 0x08,
    /// MACDECODE 0x20 (all: 0x2f).
    pub flags: u32,
}

/// The ICMP flavour of `reject`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RejectKind {
    /// `reject with icmp CODE` (IPv4 only).
    Icmp(u8),
    /// `reject with icmpv6 CODE` (IPv6 only).
    Icmpv6(u8),
    /// `reject with icmpx CODE`: family-independent code (inet, bridge, netdev).
    Icmpx(u8),
    /// `reject with tcp reset`.
    TcpReset,
    /// `reject` without arguments: port-unreachable of the packet's family.
    Default,
}

/// `queue` target.
#[derive(Debug, Clone)]
pub enum QueueTarget {
    /// Fixed queue number or range `lo-hi` (lo == hi for one queue).
    Range(u16, u16),
    /// An expression computing the queue number (`symhash mod 2`, a map).
    Expr(Expr),
}

#[derive(Debug, Clone)]
pub struct Queue {
    pub target: QueueTarget,
    pub bypass: bool,
    pub fanout: bool,
}

/// The four NAT statements.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NatKind {
    Snat,
    Dnat,
    Masquerade,
    Redirect,
}

impl NatKind {
    pub fn name(self) -> &'static str {
        match self {
            NatKind::Snat => "snat",
            NatKind::Dnat => "dnat",
            NatKind::Masquerade => "masquerade",
            NatKind::Redirect => "redirect",
        }
    }
    pub fn hooked(self) -> HookedStmt {
        match self {
            NatKind::Snat => HookedStmt::Snat,
            NatKind::Dnat => HookedStmt::Dnat,
            NatKind::Masquerade => HookedStmt::Masquerade,
            NatKind::Redirect => HookedStmt::Redirect,
        }
    }
}

/// Network family of a NAT/tproxy/fwd address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NfFamily {
    Ipv4,
    Ipv6,
}

impl NfFamily {
    pub fn keyword(self) -> &'static str {
        match self {
            NfFamily::Ipv4 => "ip",
            NfFamily::Ipv6 => "ip6",
        }
    }
}

/// NAT range flags (NF_NAT_RANGE_*).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NatFlags {
    pub random: bool,
    pub fully_random: bool,
    pub persistent: bool,
    /// `snat ip prefix to ...` (NF_NAT_RANGE_NETMAP).
    pub netmap: bool,
}

#[derive(Debug, Clone)]
pub struct Nat {
    pub kind: NatKind,
    /// Address family of `addr`; `None` for masquerade/redirect and
    /// port-only NAT in inet tables.
    pub family: Option<NfFamily>,
    /// Address, range, prefix, or a map giving an address (or an
    /// `address . port` concatenation when `concat`).
    pub addr: Option<Expr>,
    /// Port or port range, or a port expression.
    pub port: Option<Expr>,
    /// The address map yields `address . port` (one lookup sets both).
    pub concat: bool,
    pub flags: NatFlags,
}

/// `add`/`update`/`delete` of a dynamic set element.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetOp {
    Add,
    Update,
    Delete,
}

impl SetOp {
    pub fn name(self) -> &'static str {
        match self {
            SetOp::Add => "add",
            SetOp::Update => "update",
            SetOp::Delete => "delete",
        }
    }
}

/// A named object reference: a fixed name, or a map lookup giving the name.
#[derive(Debug, Clone)]
pub enum ObjTarget {
    Name(String),
    Map(Expr),
}

#[derive(Debug, Clone)]
pub enum StmtKind {
    /// A match: `LHS [OP] RHS`.
    Match {
        lhs: Expr,
        op: RelOp,
        rhs: Expr,
    },
    Verdict(Verdict),
    /// `vmap` as a statement: `KEY vmap { ... }` / `KEY vmap @m`.
    VerdictMap(Expr),
    /// `jump { ... }` / `goto { ... }`: the body is `cx.anon_chains[index]`
    /// of the rule being checked.
    AnonChain {
        goto: bool,
        index: usize,
    },
    Counter {
        packets: u64,
        bytes: u64,
    },
    Limit(Limit),
    Quota(Quota),
    /// `last [used never|used TIME]`: milliseconds since last use.
    Last {
        used_ms: Option<u64>,
    },
    /// `ct count [over] N` (connlimit).
    ConnLimit {
        count: u32,
        over: bool,
    },
    Log(Log),
    Reject(RejectKind),
    Queue(Queue),
    /// `meta KEY set VALUE`.
    MetaSet {
        key: &'static str,
        value: Expr,
    },
    /// `ct [DIR] KEY set VALUE`.
    CtSet {
        key: &'static str,
        dir: Option<&'static str>,
        value: Expr,
    },
    /// `PAYLOAD set VALUE`, `exthdr ... set`, `tcp option ... set`: the
    /// target expression as parsed.
    PayloadSet {
        target: Expr,
        value: Expr,
    },
    /// `reset tcp option NAME`: strip a TCP option.
    OptStrip {
        option: &'static str,
    },
    Notrack,
    Nat(Nat),
    /// `tproxy [ip|ip6] to [ADDR][:PORT]`.
    Tproxy {
        family: Option<NfFamily>,
        addr: Option<Expr>,
        port: Option<Expr>,
    },
    /// `synproxy [mss N] [wscale N] [timestamp] [sack-perm]`.
    Synproxy {
        mss: Option<u16>,
        wscale: Option<u8>,
        timestamp: bool,
        sack_perm: bool,
    },
    /// `dup to ADDR [device DEV]` (ip, ip6) / `dup to DEV` (netdev).
    Dup {
        addr: Option<Expr>,
        dev: Option<Expr>,
    },
    /// `fwd to DEV` / `fwd ip|ip6 to ADDR device DEV` (netdev).
    Fwd {
        family: Option<NfFamily>,
        addr: Option<Expr>,
        dev: Expr,
    },
    /// `add|update|delete @set { KEY [timeout T] [stateful...] [: DATA] }`.
    SetUpdate {
        op: SetOp,
        set: String,
        key: Expr,
        data: Option<Expr>,
        timeout_ms: Option<u64>,
        expires_ms: Option<u64>,
        stmts: Vec<Stmt>,
    },
    /// `meter NAME [size N] { KEY STMT }` (the older form of a dynamic set).
    Meter {
        name: String,
        size: Option<u32>,
        key: Expr,
        stmt: Box<Stmt>,
    },
    /// `flow add @ft` / `flow offload @ft`.
    FlowOffload {
        flowtable: String,
    },
    /// A named stateful object: `counter name "c"`, `quota name ...`,
    /// `limit name ...`, `synproxy name ...`, `ct helper set "h"`,
    /// `ct timeout set "t"`, `ct expectation set "e"`, `meta secmark set "s"`.
    ObjRef {
        kind: ObjectKind,
        target: ObjTarget,
    },
    /// The rule's `comment "..."` (the rule loop moves it to `Rule::comment`).
    Comment(String),
    /// Anything else, as checked: the statement keyword and its arguments.
    /// Kept for compatibility; the statement module produces precise
    /// variants only.
    Other {
        keyword: &'static str,
        args: Vec<(String, Expr)>,
    },
}

impl Stmt {
    /// The hook/chain-type restriction this statement carries, if any: the
    /// chain post-pass checks it against every base chain reaching the
    /// regular chain the statement sits in.
    pub fn restriction(&self) -> Option<HookedStmt> {
        match &self.kind {
            StmtKind::Nat(n) => Some(n.kind.hooked()),
            StmtKind::Reject(_) => Some(HookedStmt::Reject),
            StmtKind::Tproxy { .. } => Some(HookedStmt::Tproxy),
            StmtKind::Fwd { .. } => Some(HookedStmt::Fwd),
            StmtKind::Dup { .. } => Some(HookedStmt::Dup),
            StmtKind::Synproxy { .. } => Some(HookedStmt::Synproxy),
            StmtKind::ObjRef { kind: ObjectKind::Synproxy, .. } => Some(HookedStmt::Synproxy),
            _ => None,
        }
    }

    /// Whether nothing after this statement can run (nft's
    /// STMT_F_TERMINAL): verdicts, reject, NAT, queue, fwd. nft rejects a
    /// rule with a statement after a terminal one ("Statement after
    /// terminal statement has no effect").
    pub fn is_terminal(&self) -> bool {
        matches!(
            self.kind,
            StmtKind::Verdict(_)
                | StmtKind::AnonChain { .. }
                | StmtKind::Reject(_)
                | StmtKind::Nat(_)
                | StmtKind::Queue(_)
                | StmtKind::Fwd { .. }
        )
    }

    /// Whether the statement keeps state per element when used inside a
    /// set element (`add @s { ip saddr limit rate 10/second }`).
    pub fn is_stateful(&self) -> bool {
        matches!(
            self.kind,
            StmtKind::Counter { .. }
                | StmtKind::Limit(_)
                | StmtKind::Quota(_)
                | StmtKind::ConnLimit { .. }
                | StmtKind::Last { .. }
        )
    }
}
