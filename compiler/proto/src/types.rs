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
        DATATYPES
            .iter()
            .find(|d| d.ty == self)
            .expect("every Ty has a DATATYPES row (checked by a unit test)")
    }
    /// Look a symbolic constant up (case-sensitive, as nft).
    pub fn symbol(self, name: &str) -> Option<u64> {
        self.info()
            .symbols
            .iter()
            .find(|(n, _)| *n == name)
            .map(|&(_, v)| v)
    }
    /// Type named by a set declaration (`type ipv4_addr . inet_service`).
    pub fn by_name(name: &str) -> Option<Ty> {
        DATATYPES.iter().find(|d| d.name == name).map(|d| d.ty)
    }
}

/// The table: one row per [`Ty`].
pub static DATATYPES: &[DataType] = &[];
