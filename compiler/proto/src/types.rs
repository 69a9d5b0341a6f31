//! Data types of nft values (`nft describe`, doc/data-types.txt): width, byte
//! order, base kind and symbolic constants.

/// How the kernel stores a value in a register; decides whether `&`/`|` and
/// ranges compare in network order (DESIGN "byte-order rules").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ByteOrder {
    /// Network byte order (payload fields, addresses, ports).
    Big,
    /// Host byte order (meta mark, ct mark, interface index, ...).
    Host,
}

/// The base shape of a type: what literal syntax it accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BaseKind {
    /// Unsigned integer, decimal or hex, symbols allowed.
    Integer,
    /// Integer whose symbols are single bits that combine with `,` and `|`
    /// (tcp flags, ct state, ct status).
    Bitmask,
    /// Dotted quad.
    Ipv4,
    /// RFC 4291 text form.
    Ipv6,
    /// Six colon-separated hex octets.
    Ether,
    /// A string (interface names, with `*` wildcard suffix).
    String,
    /// A verdict (`accept`, `drop`, `jump CHAIN`, ...).
    Verdict,
    /// A boolean (`exists`/`missing`, `true`/`false`).
    Boolean,
    /// A time interval (`1h30m`, or seconds).
    Time,
}

/// Every data type the language knows. `info()` gives its row in [`DATATYPES`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Ty {
    Integer8,
    Integer16,
    Integer32,
    Integer64,
    /// Generic integer of a width only known from the field (raw payload).
    Integer,
    Boolean,
    String,
    Ifname,
    Ipv4Addr,
    Ipv6Addr,
    EtherAddr,
    EtherType,
    InetProto,
    InetService,
    NfProto,
    Mark,
    Realm,
    Classid,
    IfaceIndex,
    IfaceType,
    Devgroup,
    PktType,
    Uid,
    Gid,
    Cpu,
    CgroupV2,
    Time,
    Day,
    Hour,
    Verdict,
    CtState,
    CtStatus,
    CtDir,
    CtLabel,
    CtEvent,
    CtId,
    ArpOp,
    IcmpType,
    IcmpCode,
    Icmpv6Type,
    Icmpv6Code,
    IcmpxCode,
    IgmpType,
    TcpFlag,
    Dscp,
    Ecn,
    DccpPktType,
    MhType,
    FibAddrType,
    VlanId,
    Secmark,
    Priority,
    Policy,
    Level,
    Ip6ExthdrType,
    SctpChunkType,
}

/// One row of the data type table.
#[derive(Debug)]
pub struct DataType {
    pub ty: Ty,
    /// The name nft prints and accepts in `type` declarations (`ipv4_addr`).
    pub name: &'static str,
    pub desc: &'static str,
    /// Width in bits; 0 for variable width (strings) or width taken from the field.
    pub bits: u32,
    pub order: ByteOrder,
    pub kind: BaseKind,
    /// Symbolic constants accepted for this type (`ssh` = 22, `established` = 2).
    pub symbols: &'static [(&'static str, u64)],
}

impl Ty {
    /// This type's row in [`DATATYPES`].
    pub fn info(self) -> &'static DataType {
        DATATYPES.iter().find(|d| d.ty == self).expect("every Ty has a DATATYPES row (checked by a unit test)")
    }
    /// Look a symbolic constant up (case-sensitive, as nft).
    pub fn symbol(self, name: &str) -> Option<u64> {
        self.info().symbols.iter().find(|(n, _)| *n == name).map(|&(_, v)| v)
    }
    /// Type named by a set declaration (`type ipv4_addr . inet_service`).
    pub fn by_name(name: &str) -> Option<Ty> {
        DATATYPES.iter().find(|d| d.name == name).map(|d| d.ty)
    }
}

use crate::symbols as sym;

const NONE: &[(&str, u64)] = &[];

/// Shorthand for a table row.
const fn row(
    ty: Ty,
    name: &'static str,
    desc: &'static str,
    bits: u32,
    order: ByteOrder,
    kind: BaseKind,
    symbols: &'static [(&'static str, u64)],
) -> DataType {
    DataType { ty, name, desc, bits, order, kind, symbols }
}

use BaseKind as K;
use ByteOrder::{Big, Host};

/// The table: one row per [`Ty`].
///
/// Names are the ones `nft describe` prints; rows marked "ctc name" have no
/// datatype of their own in nft (nft types them `integer` or `string`) and
/// carry an internal name so every row is addressable. Byte order follows
/// nft's datatype.c/meta.c/ct.c: payload fields, addresses and ports are
/// big-endian, values the kernel computes (marks, indexes, uids) host-endian.
#[rustfmt::skip]
pub static DATATYPES: &[DataType] = &[
    // ctc names for integers of a known width (nft: `integer`, host order
    // unless the field says otherwise).
    row(Ty::Integer8, "integer8", "8-bit integer", 8, Host, K::Integer, NONE),
    row(Ty::Integer16, "integer16", "16-bit integer", 16, Host, K::Integer, NONE),
    row(Ty::Integer32, "integer32", "32-bit integer", 32, Host, K::Integer, NONE),
    row(Ty::Integer64, "integer64", "64-bit integer", 64, Host, K::Integer, NONE),
    // Raw payload integers: width from the field, network order.
    row(Ty::Integer, "integer", "integer", 0, Big, K::Integer, NONE),
    // nft's boolean is one bit; keys that return it load a byte.
    row(Ty::Boolean, "boolean", "boolean type", 1, Host, K::Boolean, sym::BOOLEANS),
    row(Ty::String, "string", "string", 0, Host, K::String, NONE),
    // IFNAMSIZ = 16 bytes, compared as a NUL-padded string.
    row(Ty::Ifname, "ifname", "network interface name", 128, Host, K::String, NONE),
    row(Ty::Ipv4Addr, "ipv4_addr", "IPv4 address", 32, Big, K::Ipv4, NONE),
    row(Ty::Ipv6Addr, "ipv6_addr", "IPv6 address", 128, Big, K::Ipv6, NONE),
    row(Ty::EtherAddr, "ether_addr", "Ethernet address", 48, Big, K::Ether, NONE),
    row(Ty::EtherType, "ether_type", "Ethernet protocol", 16, Big, K::Integer, sym::ETHER_TYPES),
    row(Ty::InetProto, "inet_proto", "Internet protocol", 8, Big, K::Integer, sym::INET_PROTOS),
    row(Ty::InetService, "inet_service", "internet network service", 16, Big, K::Integer, sym::INET_SERVICES),
    // meta nfproto: NFPROTO_* in one byte.
    row(Ty::NfProto, "nf_proto", "netfilter protocol", 8, Host, K::Integer, sym::NF_PROTOS),
    // skb->mark, ct mark, socket mark.
    row(Ty::Mark, "mark", "packet mark", 32, Host, K::Integer, NONE),
    // Routing realm (rt classid, meta rtclassid).
    row(Ty::Realm, "realm", "routing realm", 32, Host, K::Integer, sym::REALMS),
    // tc handle (meta priority): printed major:minor.
    row(Ty::Classid, "classid", "TC classid", 32, Host, K::Integer, sym::CLASSIDS),
    row(Ty::IfaceIndex, "iface_index", "network interface index", 32, Host, K::Integer, NONE),
    // ARPHRD_* of the device (meta iiftype).
    row(Ty::IfaceType, "iface_type", "network interface type", 16, Host, K::Integer, sym::IFACE_TYPES),
    row(Ty::Devgroup, "devgroup", "devgroup name", 32, Host, K::Integer, sym::DEVGROUPS),
    row(Ty::PktType, "pkt_type", "packet type", 8, Host, K::Integer, sym::PKT_TYPES),
    row(Ty::Uid, "uid", "user ID", 32, Host, K::Integer, NONE),
    row(Ty::Gid, "gid", "group ID", 32, Host, K::Integer, NONE),
    // ctc name (nft: integer), meta cpu.
    row(Ty::Cpu, "cpu", "CPU number", 32, Host, K::Integer, NONE),
    // socket cgroupv2: the cgroup inode id (nft's name has the plural).
    row(Ty::CgroupV2, "cgroupsv2", "cgroupsv2 path", 64, Host, K::Integer, NONE),
    // Relative time: ct expiration and timeouts (ms), meta time (ns since
    // the epoch, written as a date); the key gives the width.
    row(Ty::Time, "time", "relative time", 64, Host, K::Time, NONE),
    row(Ty::Day, "day", "Day of week of packet reception", 8, Host, K::Integer, sym::DAYS),
    // Seconds since midnight UTC, written "HH:MM[:SS]".
    row(Ty::Hour, "hour", "Hour of day of packet reception", 32, Host, K::Integer, NONE),
    row(Ty::Verdict, "verdict", "netfilter verdict", 32, Host, K::Verdict, sym::VERDICTS),
    row(Ty::CtState, "ct_state", "conntrack state", 32, Host, K::Bitmask, sym::CT_STATES),
    row(Ty::CtStatus, "ct_status", "conntrack status", 32, Host, K::Bitmask, sym::CT_STATUSES),
    row(Ty::CtDir, "ct_dir", "conntrack direction", 8, Host, K::Integer, sym::CT_DIRS),
    // 128 label bits; names come from connlabel.conf (none built in).
    row(Ty::CtLabel, "ct_label", "conntrack label", 128, Host, K::Bitmask, NONE),
    row(Ty::CtEvent, "ct_event", "conntrack event bits", 32, Host, K::Bitmask, sym::CT_EVENTS),
    // ctc name (nft: integer): the conntrack id is exported big-endian.
    row(Ty::CtId, "ct_id", "conntrack id", 32, Big, K::Integer, NONE),
    row(Ty::ArpOp, "arp_op", "ARP operation", 16, Big, K::Integer, sym::ARP_OPS),
    row(Ty::IcmpType, "icmp_type", "ICMP type", 8, Big, K::Integer, sym::ICMP_TYPES),
    row(Ty::IcmpCode, "icmp_code", "icmp code", 8, Big, K::Integer, sym::ICMP_CODES),
    row(Ty::Icmpv6Type, "icmpv6_type", "ICMPv6 type", 8, Big, K::Integer, sym::ICMPV6_TYPES),
    row(Ty::Icmpv6Code, "icmpv6_code", "icmpv6 code", 8, Big, K::Integer, sym::ICMPV6_CODES),
    row(Ty::IcmpxCode, "icmpx_code", "icmpx code", 8, Big, K::Integer, sym::ICMPX_CODES),
    row(Ty::IgmpType, "igmp_type", "IGMP type", 8, Big, K::Integer, sym::IGMP_TYPES),
    row(Ty::TcpFlag, "tcp_flag", "TCP flag", 8, Big, K::Bitmask, sym::TCP_FLAGS),
    row(Ty::Dscp, "dscp", "Differentiated Services Code Point", 6, Big, K::Integer, sym::DSCPS),
    row(Ty::Ecn, "ecn", "Explicit Congestion Notification", 2, Big, K::Integer, sym::ECNS),
    // A 4-bit field inside byte 8 of the DCCP header.
    row(Ty::DccpPktType, "dccp_pkttype", "DCCP packet type", 4, Big, K::Integer, sym::DCCP_PKTTYPES),
    row(Ty::MhType, "mh_type", "Mobility Header Type", 8, Big, K::Integer, sym::MH_TYPES),
    // RTN_* returned by `fib ... type`.
    row(Ty::FibAddrType, "fib_addrtype", "fib address type", 32, Host, K::Integer, sym::FIB_ADDRTYPES),
    // ctc name (nft: integer): the 12-bit VID of an 802.1Q tag.
    row(Ty::VlanId, "vlan_id", "VLAN identifier", 12, Big, K::Integer, NONE),
    // ctc name (nft: integer): meta/ct secmark, a security context id.
    row(Ty::Secmark, "secmark", "security mark", 32, Host, K::Integer, NONE),
    // Chain priority (signed 32 bits). Named priorities depend on family
    // and hook: see `chains::priority_by_name`.
    row(Ty::Priority, "priority", "chain priority", 32, Host, K::Integer, NONE),
    row(Ty::Policy, "policy", "chain policy", 32, Host, K::Integer, sym::POLICIES),
    row(Ty::Level, "level", "log level", 32, Host, K::Integer, sym::LOG_LEVELS),
    // ctc name: IPv6 extension header kinds (`exthdr hbh exists`).
    row(Ty::Ip6ExthdrType, "ip6_exthdr", "IPv6 extension header type", 8, Big, K::Integer, sym::IP6_EXTHDR_TYPES),
    // ctc name: SCTP chunk types (`sctp chunk data exists`).
    row(Ty::SctpChunkType, "sctp_chunk_type", "SCTP chunk type", 8, Big, K::Integer, sym::SCTP_CHUNK_TYPES),
];

/// Every [`Ty`] variant, in declaration order (for exhaustive checks).
pub const ALL_TYS: &[Ty] = &[
    Ty::Integer8,
    Ty::Integer16,
    Ty::Integer32,
    Ty::Integer64,
    Ty::Integer,
    Ty::Boolean,
    Ty::String,
    Ty::Ifname,
    Ty::Ipv4Addr,
    Ty::Ipv6Addr,
    Ty::EtherAddr,
    Ty::EtherType,
    Ty::InetProto,
    Ty::InetService,
    Ty::NfProto,
    Ty::Mark,
    Ty::Realm,
    Ty::Classid,
    Ty::IfaceIndex,
    Ty::IfaceType,
    Ty::Devgroup,
    Ty::PktType,
    Ty::Uid,
    Ty::Gid,
    Ty::Cpu,
    Ty::CgroupV2,
    Ty::Time,
    Ty::Day,
    Ty::Hour,
    Ty::Verdict,
    Ty::CtState,
    Ty::CtStatus,
    Ty::CtDir,
    Ty::CtLabel,
    Ty::CtEvent,
    Ty::CtId,
    Ty::ArpOp,
    Ty::IcmpType,
    Ty::IcmpCode,
    Ty::Icmpv6Type,
    Ty::Icmpv6Code,
    Ty::IcmpxCode,
    Ty::IgmpType,
    Ty::TcpFlag,
    Ty::Dscp,
    Ty::Ecn,
    Ty::DccpPktType,
    Ty::MhType,
    Ty::FibAddrType,
    Ty::VlanId,
    Ty::Secmark,
    Ty::Priority,
    Ty::Policy,
    Ty::Level,
    Ty::Ip6ExthdrType,
    Ty::SctpChunkType,
];

/// Compile-time guard: adding a [`Ty`] variant without listing it in
/// [`ALL_TYS`] (and so, by the unit test, in [`DATATYPES`]) fails here.
const _: fn(Ty) = |t| match t {
    Ty::Integer8
    | Ty::Integer16
    | Ty::Integer32
    | Ty::Integer64
    | Ty::Integer
    | Ty::Boolean
    | Ty::String
    | Ty::Ifname
    | Ty::Ipv4Addr
    | Ty::Ipv6Addr
    | Ty::EtherAddr
    | Ty::EtherType
    | Ty::InetProto
    | Ty::InetService
    | Ty::NfProto
    | Ty::Mark
    | Ty::Realm
    | Ty::Classid
    | Ty::IfaceIndex
    | Ty::IfaceType
    | Ty::Devgroup
    | Ty::PktType
    | Ty::Uid
    | Ty::Gid
    | Ty::Cpu
    | Ty::CgroupV2
    | Ty::Time
    | Ty::Day
    | Ty::Hour
    | Ty::Verdict
    | Ty::CtState
    | Ty::CtStatus
    | Ty::CtDir
    | Ty::CtLabel
    | Ty::CtEvent
    | Ty::CtId
    | Ty::ArpOp
    | Ty::IcmpType
    | Ty::IcmpCode
    | Ty::Icmpv6Type
    | Ty::Icmpv6Code
    | Ty::IcmpxCode
    | Ty::IgmpType
    | Ty::TcpFlag
    | Ty::Dscp
    | Ty::Ecn
    | Ty::DccpPktType
    | Ty::MhType
    | Ty::FibAddrType
    | Ty::VlanId
    | Ty::Secmark
    | Ty::Priority
    | Ty::Policy
    | Ty::Level
    | Ty::Ip6ExthdrType
    | Ty::SctpChunkType => {}
};

impl Ty {
    /// Reverse lookup: the first symbol naming `value`, for printers
    /// (`ct state 2` prints as `established`).
    pub fn symbol_name(self, value: u64) -> Option<&'static str> {
        self.info().symbols.iter().find(|&&(_, v)| v == value).map(|&(n, _)| n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn every_ty_has_exactly_one_row() {
        for &t in ALL_TYS {
            let n = DATATYPES.iter().filter(|d| d.ty == t).count();
            assert_eq!(n, 1, "{t:?} has {n} rows");
        }
        assert_eq!(DATATYPES.len(), ALL_TYS.len());
    }

    #[test]
    fn names_are_unique() {
        let mut seen = HashSet::new();
        for d in DATATYPES {
            assert!(seen.insert(d.name), "duplicate type name {}", d.name);
            assert_eq!(Ty::by_name(d.name), Some(d.ty));
        }
    }

    #[test]
    fn no_duplicate_symbols_and_values_fit() {
        for d in DATATYPES {
            let mut seen = HashSet::new();
            for &(name, value) in d.symbols {
                assert!(seen.insert(name), "{}: duplicate symbol {name}", d.name);
                if d.bits > 0 && d.bits < 64 {
                    assert!(value < (1u64 << d.bits), "{}: {name}={value} too wide", d.name);
                }
            }
        }
    }

    #[test]
    fn well_known_symbols() {
        assert_eq!(Ty::InetService.symbol("ssh"), Some(22));
        assert_eq!(Ty::InetService.symbol("https"), Some(443));
        assert_eq!(Ty::InetService.symbol("domain"), Some(53));
        assert_eq!(Ty::InetService.symbol("ntp"), Some(123));
        assert_eq!(Ty::InetService.symbol("SSH"), None);
        assert_eq!(Ty::InetProto.symbol("tcp"), Some(6));
        assert_eq!(Ty::InetProto.symbol("icmpv6"), Some(58));
        assert_eq!(Ty::CtState.symbol("established"), Some(2));
        assert_eq!(Ty::CtState.symbol("untracked"), Some(64));
        assert_eq!(Ty::CtStatus.symbol("dying"), Some(512));
        assert_eq!(Ty::TcpFlag.symbol("syn"), Some(2));
        assert_eq!(Ty::IcmpType.symbol("echo-request"), Some(8));
        assert_eq!(Ty::Icmpv6Type.symbol("nd-neighbor-solicit"), Some(135));
        assert_eq!(Ty::Dscp.symbol("ef"), Some(0x2e));
        assert_eq!(Ty::EtherType.symbol("ip6"), Some(0x86dd));
        assert_eq!(Ty::Day.symbol("Saturday"), Some(6));
        assert_eq!(Ty::NfProto.symbol("ipv6"), Some(10));
        assert_eq!(Ty::CtState.symbol_name(8), Some("new"));
    }

    #[test]
    fn byte_orders() {
        assert_eq!(Ty::Mark.info().order, ByteOrder::Host);
        assert_eq!(Ty::IfaceIndex.info().order, ByteOrder::Host);
        assert_eq!(Ty::InetService.info().order, ByteOrder::Big);
        assert_eq!(Ty::Ipv4Addr.info().order, ByteOrder::Big);
        assert_eq!(Ty::Ipv6Addr.info().bits, 128);
        assert_eq!(Ty::by_name("ipv4_addr"), Some(Ty::Ipv4Addr));
    }
}
