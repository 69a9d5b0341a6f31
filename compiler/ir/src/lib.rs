//! ctc-ir: the one IR between the checker and the engines.
//!
//! The IR is the kernel's nf_tables register machine made explicit: a rule
//! is a straight sequence of [`Op`]s over a small register file; a test that
//! fails ends the rule (the kernel's NFT_BREAK) and evaluation goes on with
//! the next rule; a verdict ends the chain. The interpreter (`ctc-vm`) is the
//! specification of every op; the Cranelift backend (`ctc-jit`) must agree
//! with it on everything.
//!
//! Conventions every engine relies on (checked by [`verify`]):
//! - registers are 32-bit words; a value of `len` bytes occupies
//!   `ceil(len / 4)` consecutive words starting at its [`Reg`];
//! - register contents are big-endian (network order) byte strings, always:
//!   values the kernel keeps in host order (marks, interface indexes, ct
//!   state bits) are converted when loaded and when stored, so comparisons,
//!   ranges and set lookups are plain byte-string comparisons;
//! - a register is written before it is read within the same rule;
//! - the last op of a rule, if it is a verdict, is the only verdict.
//!
//! Modules: [`text`] (the `--emit ir` form), [`verify`] (the verifier and
//! [`VerifiedProgram`]), [`abi`] (the packet context and action record
//! shared by the interpreter, the JIT and the runtime).

pub mod abi;
pub mod text;
pub mod verify;

pub use verify::{VerifiedProgram, VerifyError, verify};

/// Number of 32-bit words in the register file (nft has 16; concatenations
/// of several IPv6 addresses need more).
pub const REG_WORDS: usize = 32;
/// The largest value a single op handles, in bytes.
pub const MAX_LEN: usize = REG_WORDS * 4;
/// How deep jumps may nest (the kernel's NFT_JUMP_STACK_SIZE).
pub const MAX_JUMP_DEPTH: usize = 16;

/// A register: index of the first 32-bit word of a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Reg(pub u8);

/// Words a value of `len` bytes occupies.
pub fn words(len: u8) -> usize {
    (len as usize).div_ceil(4)
}

macro_rules! id {
    ($($(#[$m:meta])* $name:ident),*) => {$(
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub u32);
        impl $name {
            pub fn index(self) -> usize { self.0 as usize }
        }
    )*};
}

id!(
    /// A chain of the program.
    ChainId,
    /// A set or map.
    SetId,
    /// A counter slot (rule counters and `counter` statements).
    CounterId,
    /// A token bucket of a `limit` statement.
    LimitId,
    /// A quota of a `quota` statement.
    QuotaId,
    /// A `log` statement's options.
    LogId,
    /// A table.
    TableId,
    /// A `ct timeout` policy.
    TimeoutId,
    /// A `ct expectation` object.
    ExpectId
);

/// Address families of tables the runtime executes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Family {
    Ip,
    Ip6,
    Inet,
}

impl Family {
    pub fn name(self) -> &'static str {
        match self {
            Family::Ip => "ip",
            Family::Ip6 => "ip6",
            Family::Inet => "inet",
        }
    }
}

/// Netfilter hooks of the ip/ip6/inet families.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Hook {
    Prerouting,
    Input,
    Forward,
    Output,
    Postrouting,
}

impl Hook {
    pub fn name(self) -> &'static str {
        match self {
            Hook::Prerouting => "prerouting",
            Hook::Input => "input",
            Hook::Forward => "forward",
            Hook::Output => "output",
            Hook::Postrouting => "postrouting",
        }
    }
    pub const ALL: [Hook; 5] = [Hook::Prerouting, Hook::Input, Hook::Forward, Hook::Output, Hook::Postrouting];
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChainType {
    Filter,
    Nat,
    Route,
}

impl ChainType {
    pub fn name(self) -> &'static str {
        match self {
            ChainType::Filter => "filter",
            ChainType::Nat => "nat",
            ChainType::Route => "route",
        }
    }
}

/// Where a payload offset counts from (the kernel's NFT_PAYLOAD_*_HEADER).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Base {
    /// Link layer header (Ethernet).
    Link,
    /// Network header (IPv4/IPv6).
    Network,
    /// Transport header (after IPv6 extension headers).
    Transport,
    /// Inner header: the payload after the transport header (tunnels), or
    /// for ICMP errors the quoted IP header.
    Inner,
}

impl Base {
    pub fn name(self) -> &'static str {
        match self {
            Base::Link => "ll",
            Base::Network => "nh",
            Base::Transport => "th",
            Base::Inner => "ih",
        }
    }
}

/// Meta keys the runtime provides (a subset of nft's meta keys; the rest are
/// compile errors naming the key).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MetaKey {
    /// Packet length (network header to end), 4 bytes.
    Len,
    /// NFPROTO_IPV4 (2) / NFPROTO_IPV6 (10), 1 byte.
    NfProto,
    /// Layer 4 protocol number, 1 byte.
    L4Proto,
    /// Ethertype of the frame, 2 bytes.
    Protocol,
    Mark,
    Iif,
    Oif,
    /// Interface name, 16 bytes, NUL padded.
    IifName,
    OifName,
    IifType,
    OifType,
    /// PACKET_HOST etc., 1 byte.
    PktType,
    /// skb->priority, 4 bytes.
    Priority,
    /// Seconds of the packet clock, nanoseconds since the epoch, 8 bytes.
    Time,
    /// Day of week 0 (Sunday) - 6, 1 byte.
    Day,
    /// Seconds since midnight, 4 bytes.
    Hour,
    /// Random 32-bit value.
    Random,
    Cpu,
    IifGroup,
    OifGroup,
    SkUid,
    SkGid,
}

/// Conntrack keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CtKey {
    /// Bits: invalid 1, established 2, related 4, new 8, untracked 64; 4 bytes.
    State,
    Direction,
    Status,
    Mark,
    /// Remaining lifetime in ms, 4 bytes.
    Expiration,
    /// Helper name, 16 bytes.
    Helper,
    L3Proto,
    Protocol,
    /// Address of the tuple of a direction; `len` 4 or 16.
    Saddr,
    Daddr,
    ProtoSrc,
    ProtoDst,
    Bytes,
    Packets,
    /// Bytes per packet of a direction (or both), rounded down: 0 for a
    /// connection without counters or packets (nft_ct_get_eval's
    /// NFT_CT_AVGPKT); 8 bytes.
    AvgPkt,
    Zone,
    Id,
    Label,
}

/// `original` / `reply`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dir {
    Original,
    Reply,
}

/// fib result kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FibResult {
    Oif,
    OifName,
    /// RTN_* address type, 4 bytes.
    Type,
}

/// fib input flags (NFTA_FIB_F_*).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct FibFlags {
    pub saddr: bool,
    pub daddr: bool,
    pub mark: bool,
    pub iif: bool,
    pub oif: bool,
    /// `fib ... exists|missing` / `present`.
    pub present: bool,
}

/// Comparison operators on big-endian byte strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl CmpOp {
    pub fn symbol(self) -> &'static str {
        match self {
            CmpOp::Eq => "==",
            CmpOp::Ne => "!=",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
        }
    }
    /// Whether `a OP b` holds for byte strings compared as big-endian integers.
    pub fn holds(self, a: &[u8], b: &[u8]) -> bool {
        let o = a.cmp(b);
        match self {
            CmpOp::Eq => o.is_eq(),
            CmpOp::Ne => o.is_ne(),
            CmpOp::Lt => o.is_lt(),
            CmpOp::Le => o.is_le(),
            CmpOp::Gt => o.is_gt(),
            CmpOp::Ge => o.is_ge(),
        }
    }
}

/// The end of a chain's evaluation, or a change of chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Verdict {
    Accept,
    Drop,
    /// Go on with the next rule (as if the rule did not match further).
    Continue,
    /// Back to the calling chain (the base chain's policy at the top level).
    Return,
    Jump(ChainId),
    Goto(ChainId),
    /// Hand the packet to userspace: NFQUEUE number range and flags.
    Queue {
        num: u16,
        range: u16,
        bypass: bool,
        fanout: bool,
    },
}

/// What `reject` sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reject {
    /// ICMP destination unreachable with this code (IPv4).
    Icmp(u8),
    /// ICMPv6 destination unreachable with this code.
    Icmpv6(u8),
    /// Family-independent code (NFT_REJECT_ICMPX_*): port-unreachable 1,
    /// admin-prohibited 3, no-route 0, host-unreachable 2.
    Icmpx(u8),
    TcpReset,
}

/// NAT statement kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
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
}

/// NAT range flags (NF_NAT_RANGE_*).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct NatFlags {
    pub random: bool,
    pub fully_random: bool,
    pub persistent: bool,
    pub netmap: bool,
}

/// A NAT request: registers holding the address range and port range (the
/// tracker picks the tuple).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Nat {
    pub kind: NatKind,
    /// 4 (IPv4) or 16 (IPv6) when an address is given.
    pub addr_len: u8,
    pub addr_min: Option<Reg>,
    pub addr_max: Option<Reg>,
    pub port_min: Option<Reg>,
    pub port_max: Option<Reg>,
    pub flags: NatFlags,
}

/// Keys `meta KEY set` may write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MetaSetKey {
    Mark,
    Priority,
    PktType,
    NfTrace,
}

/// Keys `ct KEY set` may write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CtSetKey {
    Mark,
    Zone,
    Label,
    Event,
}

/// How a payload write keeps checksums right.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Csum {
    None,
    /// The IPv4 header checksum.
    Network,
    /// The transport checksum, including the pseudo-header when the field is
    /// an address.
    Transport {
        pseudo: bool,
    },
}

/// One operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    /// `dst <- len bytes at base+offset`; breaks if the header is absent or
    /// the packet is too short.
    Payload {
        dst: Reg,
        base: Base,
        offset: u16,
        len: u8,
    },
    Meta {
        dst: Reg,
        key: MetaKey,
        len: u8,
    },
    /// Breaks when there is no conntrack entry and the key needs one (every
    /// key but `state`).
    Ct {
        dst: Reg,
        key: CtKey,
        dir: Option<Dir>,
        len: u8,
    },
    /// Route lookup on the host model.
    Fib {
        dst: Reg,
        flags: FibFlags,
        result: FibResult,
        len: u8,
    },
    /// IPv6 extension header `hdr` (protocol number): field bytes, or 1 byte
    /// 0/1 for presence when `len == 1 && present`.
    Exthdr {
        dst: Reg,
        hdr: u8,
        offset: u16,
        len: u8,
        present: bool,
    },
    /// TCP option `kind`: field bytes, or presence.
    TcpOpt {
        dst: Reg,
        kind: u8,
        offset: u16,
        len: u8,
        present: bool,
    },
    /// `dst <- data`.
    Immediate {
        dst: Reg,
        data: Vec<u8>,
    },
    /// `dst <- (src & mask) ^ xor` over `len` bytes.
    Bitwise {
        dst: Reg,
        src: Reg,
        len: u8,
        mask: Vec<u8>,
        xor: Vec<u8>,
    },
    /// `dst <- src << n` / `>> n`, the `len` bytes taken as one big-endian integer.
    Shift {
        dst: Reg,
        src: Reg,
        len: u8,
        left: bool,
        amount: u8,
    },
    /// `dst <- (jhash(src) or symhash) % modulus + offset`, 4 bytes.
    Hash {
        dst: Reg,
        src: Option<(Reg, u8)>,
        symmetric: bool,
        modulus: u32,
        seed: u32,
        offset: u32,
    },
    /// `dst <- numgen inc|random mod modulus + offset`, 4 bytes.
    Numgen {
        dst: Reg,
        random: bool,
        modulus: u32,
        offset: u32,
    },
    /// Break unless `src OP data`.
    Cmp {
        src: Reg,
        op: CmpOp,
        data: Vec<u8>,
    },
    /// Break unless `lo <= src <= hi` (or not, when `negate`).
    Range {
        src: Reg,
        lo: Vec<u8>,
        hi: Vec<u8>,
        negate: bool,
    },
    /// Break unless the `len`-byte key at `src` is in `set` (or not, when
    /// `negate`); for a map, the data of the element goes to `dst`.
    Lookup {
        src: Reg,
        len: u8,
        set: SetId,
        negate: bool,
        dst: Option<Reg>,
    },
    /// The verdict of a verdict map (continue when no element matches).
    VerdictMap {
        src: Reg,
        len: u8,
        set: SetId,
    },
    Verdict(Verdict),
    Counter(CounterId),
    /// Break unless the token bucket has room (or has none, when `over`).
    Limit(LimitId),
    /// Break unless under quota (or over, when inverted).
    Quota(QuotaId),
    Log(LogId),
    /// Send the reject packet and drop.
    Reject(Reject),
    MetaSet {
        key: MetaSetKey,
        src: Reg,
    },
    CtSet {
        key: CtSetKey,
        src: Reg,
        len: u8,
    },
    /// Rewrite packet bytes from a register.
    PayloadSet {
        base: Base,
        offset: u16,
        len: u8,
        src: Reg,
        csum: Csum,
    },
    Notrack,
    /// Assign the `ct helper` object (helper name, l4 protocol).
    CtHelper {
        name: String,
        l4proto: u8,
    },
    /// `ct timeout set "NAME"`: the connection the packet starts gets this
    /// timeout policy. As nft_ct_timeout_obj_eval, only for a connection not
    /// confirmed yet (its first packet, after NF_IP_PRI_CONNTRACK) and of
    /// the policy's protocol.
    CtTimeout(TimeoutId),
    /// `ct expectation set "NAME"`: the connection the packet starts
    /// expects another (nft_ct_expect_obj_eval): run by the host's
    /// connection tracker; the rule breaks when there is nothing to do
    /// (no connection, a confirmed one, the object's size reached) and the
    /// packet is dropped when the expectation cannot be made.
    CtExpect(ExpectId),
    Nat(Nat),
    /// `add|update|delete @set { key }` on a dynamic set. With `limit`,
    /// every element carries its own token bucket of that definition
    /// (nft_dynset with a stateful expression: `update @s { ip saddr limit
    /// rate over 4/minute }`); the rule breaks when the element's limit
    /// does not match.
    SetUpdate {
        set: SetId,
        src: Reg,
        len: u8,
        delete: bool,
        timeout_ms: Option<u64>,
        limit: Option<LimitId>,
    },
}

impl Op {
    /// Whether the op ends the rule with a verdict.
    pub fn is_verdict(&self) -> bool {
        matches!(self, Op::Verdict(_) | Op::Reject(_))
    }
}

/// Where a rule comes from: for `--verdicts` (`FILE:LINE`) and messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceLoc {
    pub file: String,
    pub line: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub ops: Vec<Op>,
    pub loc: SourceLoc,
    /// The rule's `counter` (the first `counter` statement), whose value
    /// `--counters` prints.
    pub counter: Option<CounterId>,
}

/// A base chain's place in the pipeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaseInfo {
    pub ty: ChainType,
    pub hook: Hook,
    pub priority: i32,
    /// `true`: accept, `false`: drop.
    pub policy_accept: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chain {
    pub name: String,
    pub table: TableId,
    pub base: Option<BaseInfo>,
    pub rules: Vec<Rule>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    pub family: Family,
    pub name: String,
}

/// One element of a set: a key, or a range of keys for interval sets, and
/// a map's data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Element {
    /// Lower bound (the key itself for exact sets), `key_len` bytes.
    pub lo: Vec<u8>,
    /// Upper bound, inclusive (equal to `lo` for exact elements).
    pub hi: Vec<u8>,
    pub data: Option<ElementData>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ElementData {
    Value(Vec<u8>),
    Verdict(Verdict),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Set {
    pub name: String,
    pub table: TableId,
    /// Bytes per key component (each padded to 4 bytes in registers).
    pub key_len: u8,
    pub data_len: u8,
    pub is_map: bool,
    pub verdict_map: bool,
    /// Some element is a range: the lookup structure is an interval one.
    pub interval: bool,
    /// Elements may be added at run time (`add @s ...`).
    pub dynamic: bool,
    pub timeout_ms: Option<u64>,
    pub elements: Vec<Element>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LimitDef {
    /// Units (packets or bytes) per `per_secs`.
    pub rate: u64,
    pub per_secs: u64,
    pub burst: u64,
    pub bytes: bool,
    pub over: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuotaDef {
    pub bytes: u64,
    pub used: u64,
    pub over: bool,
}

/// A `ct expectation` object (nft_ct_expect_obj).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpectObj {
    /// `TABLE NAME`.
    pub name: String,
    /// NFPROTO_IPV4 (2) or NFPROTO_IPV6 (10); 1 (NFPROTO_INET): the
    /// connection's own.
    pub l3num: u8,
    pub l4proto: u8,
    pub dport: u16,
    /// The value nft sends (milliseconds), which the kernel takes as
    /// seconds (`jiffies + priv->timeout * HZ`): `timeout 1m` makes an
    /// expectation of 60000 s (measured on Linux 6.18).
    pub timeout: u32,
    pub size: u8,
}

/// A `ct timeout` object: per-state timeouts for one protocol.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeoutPolicy {
    pub name: String,
    pub l4proto: u8,
    /// (state as nft names it, seconds).
    pub timeouts: Vec<(String, u32)>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LogDef {
    pub prefix: Option<String>,
    pub level: Option<u32>,
    pub group: Option<u16>,
    pub flags: u32,
}

/// A whole program: what one ruleset compiles to.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Program {
    pub tables: Vec<Table>,
    pub chains: Vec<Chain>,
    pub sets: Vec<Set>,
    /// Initial values (packets, bytes) of the counter slots.
    pub counters: Vec<(u64, u64)>,
    pub limits: Vec<LimitDef>,
    pub quotas: Vec<QuotaDef>,
    pub logs: Vec<LogDef>,
    pub timeouts: Vec<TimeoutPolicy>,
    pub expectations: Vec<ExpectObj>,
}

impl Program {
    /// Base chains of a hook in the order the kernel runs them (priority,
    /// then declaration order).
    pub fn hook_chains(&self, hook: Hook) -> Vec<ChainId> {
        let mut v: Vec<(i32, usize)> = self
            .chains
            .iter()
            .enumerate()
            .filter_map(|(i, c)| c.base.as_ref().filter(|b| b.hook == hook).map(|b| (b.priority, i)))
            .collect();
        v.sort();
        v.into_iter().map(|(_, i)| ChainId(i as u32)).collect()
    }
}
