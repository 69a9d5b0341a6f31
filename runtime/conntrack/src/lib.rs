//! ctc-conntrack: a sans-IO reimplementation of Linux nf_conntrack.
//!
//! [`Tracker`] is the connection table of one network namespace: the
//! caller passes each packet (bytes, the [`ctc_wire::Frame`] classifying
//! them, and the packet time) to [`Tracker::packet`] at the conntrack hook
//! (priority -200 of prerouting/output, the kernel's `nf_conntrack_in`),
//! then [`Tracker::confirm`] once the last hook accepted the packet
//! (`nf_conntrack_confirm` after postrouting/input) or
//! [`Tracker::abandon`] when it was dropped. Timers run on the packet clock
//! ([`Tracker::advance`]); events come out of [`Tracker::take_events`] and
//! print with [`format`] as conntrack-tools would. [`Tracker::packet_batch`]
//! does the same for a slice of packets, prefetching a few ahead.
//!
//! Checksums: at prerouting, with `nf_conntrack_checksum` on, the
//! transport checksum is verified unless the frame says the device already
//! did (`ctc_wire::Frame::l4_checksum`, from NFQUEUE's `NFQA_SKB_INFO`), as
//! the kernel's nf_ip_checksum trusts CHECKSUM_UNNECESSARY and
//! CHECKSUM_PARTIAL packets.
//!
//! Time: the kernel keeps conntrack timeouts in jiffies (HZ = 250 on these
//! machines) and prints remaining seconds by integer division; this crate
//! does the same on the packet clock (one jiffy = 4 ms of packet time), so
//! timeouts in events and listings round as the kernel's.
#![deny(unsafe_code)]

mod config;
pub mod format;
pub mod helpers;
pub mod mangle;
mod memhint;
pub mod tcp;
mod tracker;
mod tuple;

pub use config::{Config, SYSCTL_NAMES, Timeouts};
pub use mangle::Manip;
pub use tcp::{Dir, TcpConn, TcpState};
pub use tracker::expect::{ExpectError, ExpectEvent, ExpectNat, Expectation, RuleExpect, RuleExpectOutcome};
pub use tracker::help::{HelpState, HelpVerdict};
pub use tracker::nat::{NatRange, range_flags};
pub use tracker::{Hook, Lookahead, Tracker};
pub use tuple::{L3_IPV4, L3_IPV6, Tuple};

/// Connection status bits (enum ip_conntrack_status, IPS_*).
pub mod status {
    pub const EXPECTED: u32 = 1 << 0;
    pub const SEEN_REPLY: u32 = 1 << 1;
    pub const ASSURED: u32 = 1 << 2;
    pub const CONFIRMED: u32 = 1 << 3;
    pub const SRC_NAT: u32 = 1 << 4;
    pub const DST_NAT: u32 = 1 << 5;
    pub const SEQ_ADJUST: u32 = 1 << 6;
    pub const SRC_NAT_DONE: u32 = 1 << 7;
    pub const DST_NAT_DONE: u32 = 1 << 8;
    pub const DYING: u32 = 1 << 9;
    pub const FIXED_TIMEOUT: u32 = 1 << 10;
    pub const TEMPLATE: u32 = 1 << 11;
    pub const NAT_CLASH: u32 = 1 << 12;
    pub const HELPER: u32 = 1 << 13;
    pub const OFFLOAD: u32 = 1 << 14;
    pub const HW_OFFLOAD: u32 = 1 << 15;
}

/// Event bits (enum ip_conntrack_events, IPCT_*): what changed since the
/// last delivery; the kernel caches them per entry and delivers them when a
/// packet of the entry is confirmed (nf_ct_deliver_cached_events).
pub mod ipct {
    pub const NEW: u16 = 1 << 0;
    pub const RELATED: u16 = 1 << 1;
    pub const DESTROY: u16 = 1 << 2;
    pub const REPLY: u16 = 1 << 3;
    pub const ASSURED: u16 = 1 << 4;
    pub const PROTOINFO: u16 = 1 << 5;
    pub const HELPER: u16 = 1 << 6;
    pub const MARK: u16 = 1 << 7;
    pub const SEQADJ: u16 = 1 << 8;
    pub const SECMARK: u16 = 1 << 9;
    pub const LABEL: u16 = 1 << 10;
    pub const SYNPROXY: u16 = 1 << 11;
}

/// Jiffies per second on these machines (CONFIG_HZ=250).
pub const HZ: u64 = 250;
/// One jiffy in nanoseconds.
pub const TICK_NS: u64 = 1_000_000_000 / HZ;

/// What `ct state` sees for a packet (enum ip_conntrack_info folded to the
/// nft state bits).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CtState {
    /// IP_CT_NEW: the first packet(s) of a connection, before a reply.
    New,
    /// IP_CT_ESTABLISHED / IP_CT_ESTABLISHED_REPLY.
    Established,
    /// IP_CT_RELATED(_REPLY): an ICMP error about a known connection, or an
    /// expected connection's first packets.
    Related,
    /// No conntrack attached (not trackable, or refused by a tracker).
    Invalid,
    /// IP_CT_UNTRACKED: `notrack`, or ICMPv6 neighbour discovery / MLD.
    Untracked,
}

impl CtState {
    /// The name nft and conntrack-tools use.
    pub fn name(self) -> &'static str {
        match self {
            CtState::New => "new",
            CtState::Established => "established",
            CtState::Related => "related",
            CtState::Invalid => "invalid",
            CtState::Untracked => "untracked",
        }
    }
}

/// Refers to an entry, confirmed or not yet; stale handles (the entry went
/// away) are detected, never confused with a later entry in the same slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Handle {
    pub(crate) idx: u32,
    pub(crate) id: u32,
    /// The packet travels in the reply direction of a not yet confirmed
    /// entry (a reply generated for it: [`Tracker::attach`]); confirming
    /// such a packet does not insert the entry (__nf_conntrack_confirm).
    pub(crate) reply: bool,
}

/// What [`Tracker::packet`] decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verdict {
    /// The entry the packet belongs to (`skb->_nfct`): for NEW packets an
    /// unconfirmed entry the caller must [`Tracker::confirm`] or
    /// [`Tracker::abandon`]; for RELATED ICMP errors the connection they
    /// quote. `None` for INVALID and UNTRACKED.
    pub handle: Option<Handle>,
    /// What `ct state` matches.
    pub state: CtState,
    /// The packet's direction (`ct direction`); RELATED errors travel in
    /// the direction opposite to the quoted packet.
    pub dir: Dir,
    /// Why the packet is INVALID: the kernel's nf_log text when it logs one.
    pub reason: Option<&'static str>,
    /// The tracker drops the packet itself (NF_DROP: the table is full and
    /// early drop found nothing to evict; stat `drop`).
    pub drop: bool,
}

impl Verdict {
    pub(crate) fn invalid(reason: Option<&'static str>) -> Verdict {
        Verdict { handle: None, state: CtState::Invalid, dir: Dir::Original, reason, drop: false }
    }

    /// ctinfo is IP_CT_NEW (what `ct status`-free rules see as `new`).
    pub fn is_new(&self) -> bool {
        self.state == CtState::New
    }
}

/// Conntrack helpers that can be attached to an entry (the kernel keeps a
/// pointer to the helper; a one-byte id keeps entries small).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Helper {
    Ftp,
    Tftp,
    Irc,
    Sip,
    H323,
    Pptp,
    Amanda,
    Sane,
    Snmp,
    NetbiosNs,
}

impl Helper {
    /// The helper's name (`helper=ftp`, nft `ct helper "ftp"` objects' type).
    pub fn name(self) -> &'static str {
        match self {
            Helper::Ftp => "ftp",
            Helper::Tftp => "tftp",
            Helper::Irc => "irc",
            Helper::Sip => "sip",
            Helper::H323 => "RAS",
            Helper::Pptp => "pptp",
            Helper::Amanda => "amanda",
            Helper::Sane => "sane",
            Helper::Snmp => "snmp",
            Helper::NetbiosNs => "netbios-ns",
        }
    }

    /// The helper of a name, as `ct helper` objects spell it.
    pub fn from_name(name: &str) -> Option<Helper> {
        Some(match name {
            "ftp" => Helper::Ftp,
            "tftp" => Helper::Tftp,
            "irc" => Helper::Irc,
            "sip" => Helper::Sip,
            "RAS" | "Q.931" | "h323" => Helper::H323,
            "pptp" => Helper::Pptp,
            "amanda" => Helper::Amanda,
            "sane" => Helper::Sane,
            "snmp" => Helper::Snmp,
            "netbios-ns" => Helper::NetbiosNs,
            _ => return None,
        })
    }
}

/// One connection (struct nf_conn) as the table stores it: 64 bytes (one
/// cache line) for an IPv4 connection, everything a lookup and an
/// established packet read. What most connections lack lives in side
/// slabs of the tracker, reached by a 32-bit index (the kernel's extension
/// scheme, with indices instead of an extension area): the TCP window
/// tracker ([`TcpConn`], `l4` is its index) and the addresses of IPv6 (any
/// "wide") connections; the cold part ([`Cold`]: `ct timeout` policy,
/// helper data, start time, sequence adjustment, counters past 32 bits,
/// times past 32 bits of jiffies) is found by the slot's index
/// ([`conn_flags::COLD`] says there is one). Read it through [`Entry`].
///
/// Times are 32-bit jiffy counts as the kernel's `ct->timeout` and
/// `stream_ts` are, counted from the tracker's slot epoch
/// ([`Tracker::slot_epoch_j`]); a time they cannot hold is [`FAR`] here
/// and kept exactly in the cold part.
///
/// `repr(C)`: the fields a chain walk compares first, then those an
/// established packet updates; aligned to 64 bytes, so that a slot is
/// exactly one cache line (the allocator's 16-byte alignment would split
/// every slot over two).
#[derive(Debug, Clone)]
#[repr(C, align(64))]
pub(crate) struct Conn {
    /// Per direction ([`Dir`]), the source and destination IPv4 addresses
    /// as `u64::from_le_bytes(src ‖ dst)`. A `wide` connection's
    /// addresses are in the tracker's wide slab instead, at index
    /// `addr[0] as u32`.
    pub(crate) addr: [u64; 2],
    /// Per direction, `src_port | dst_port << 16` (ICMP: id and
    /// `type << 8 | code`, as [`Tuple`]).
    pub(crate) ports: [u32; 2],
    /// Conntrack zone.
    pub(crate) zone: u16,
    /// IP protocol of both tuples.
    pub(crate) proto: u8,
    /// [`conn_flags`] bits: the family, where the addresses, counters and
    /// cold part are.
    pub(crate) flags: u8,
    /// IPS_* bits ([`status`]: all the kernel's fit in the low 16 bits),
    /// then the event bits cached for the next delivery ([`ipct`], 12
    /// bits, from bit [`PENDING_SHIFT`]) and the attached helper (4 bits,
    /// from bit [`HELPER_SHIFT`]: 0 for none, else 1 + its index in
    /// [`HELPERS`]).
    pub(crate) status: u32,
    /// Expiry, in jiffies: while unconfirmed the timeout itself (relative
    /// to confirmation, as the kernel's `ct->timeout`), once confirmed the
    /// expiry's jiffy counted from the slot epoch; [`FAR`]: in the cold
    /// part as nanoseconds ([`Cold::timeout_ns`]). See
    /// [`Entry::timeout_at_ns`].
    pub(crate) timeout: u32,
    /// Protocol state: UDP (and UDP-Lite) `stream_ts`, the jiffy (from the
    /// slot epoch; [`FAR`]: in [`Cold::stream_ts`]) after which a replied
    /// flow seen again counts as a stream; TCP: the index of its
    /// [`TcpConn`] in the TCP slab ([`NO_TCP`] until it has one); 0 for
    /// the rest (ICMP pairs and generic protocols keep no state).
    pub(crate) l4: u32,
    /// [packets, bytes] per direction, bytes counted from the IP header,
    /// while every one fits in 32 bits; once one would not
    /// ([`conn_flags::SPILLED`]), all four are in the cold part, 64 bits
    /// each as the kernel's (these then hold `u32::MAX` packets, so that
    /// [`Conn::count`] always turns to the cold part).
    pub(crate) acct: [[u32; 2]; 2],
    /// Deterministic id (the kernel's are hashes, random per boot); never
    /// 0, which gives `Option<Conn>` its free-slot niche.
    pub(crate) id: core::num::NonZeroU32,
    /// ct mark.
    pub(crate) mark: u32,
}

/// [`Conn::timeout`] or [`Conn::l4`] (UDP) of a time that 32 bits from the
/// slot epoch do not hold: the exact value is in the cold part.
pub(crate) const FAR: u32 = u32::MAX;
/// Where the pending event bits start in [`Conn::status`].
pub(crate) const PENDING_SHIFT: u32 = 16;
/// The pending event bits in [`Conn::status`].
pub(crate) const PENDING_MASK: u32 = 0xfff << PENDING_SHIFT;
/// Where the helper starts in [`Conn::status`].
pub(crate) const HELPER_SHIFT: u32 = 28;
/// The IPS_* bits in [`Conn::status`].
pub(crate) const STATUS_MASK: u32 = 0xffff;
/// The helpers by their number in [`Conn::status`] (minus one).
const HELPERS: [Helper; 10] = [
    Helper::Ftp,
    Helper::Tftp,
    Helper::Irc,
    Helper::Sip,
    Helper::H323,
    Helper::Pptp,
    Helper::Amanda,
    Helper::Sane,
    Helper::Snmp,
    Helper::NetbiosNs,
];

/// [`Conn::flags`] bits.
pub(crate) mod conn_flags {
    /// Some address does not fit in 4 bytes (IPv6; or an IPv4 tuple with
    /// bytes set beyond the first four, which only a caller building
    /// tuples by hand makes): the addresses are in the wide slab.
    pub(crate) const WIDE: u8 = 1 << 0;
    /// The counters outgrew [`super::Conn::acct`]: they are in the cold
    /// part ([`super::Cold::acct`]).
    pub(crate) const SPILLED: u8 = 1 << 1;
    /// The tuples are IPv6 ([`super::L3_IPV6`]); else IPv4, the only other
    /// family conntrack tracks.
    pub(crate) const V6: u8 = 1 << 2;
    /// The connection has a cold part ([`super::Cold`]).
    pub(crate) const COLD: u8 = 1 << 3;
    /// The connection counts its packets and bytes: nf_conntrack_acct was
    /// on when it was made (the kernel's acct extension, added by
    /// init_conntrack then or never). Listings and DESTROY events show the
    /// counters of such a connection only, and `ct packets`/`ct bytes`
    /// read 0 for the others.
    pub(crate) const ACCT: u8 = 1 << 4;
    /// The connection keeps its start and stop times: nf_conntrack_timestamp
    /// was on when it was made (the kernel's tstamp extension, likewise
    /// added by init_conntrack then or never). Listings and DESTROY events
    /// show the times of such a connection only.
    pub(crate) const TSTAMP: u8 = 1 << 5;
}

/// Bytes of one stored entry (a slot of the table's slab; the side slabs
/// of TCP, IPv6 and cold parts not counted).
pub const SLOT_BYTES: usize = size_of::<Option<Conn>>();

/// [`Conn::l4`] of a TCP connection without window tracker yet.
pub(crate) const NO_TCP: u32 = u32::MAX;

/// What few connections have (the kernel's optional extensions), out of
/// the common entry: allocated in the tracker's cold slab when first
/// needed, freed with the entry.
#[derive(Debug, Clone, Default)]
pub(crate) struct Cold {
    /// When the entry was confirmed (nf_conntrack_timestamp's start):
    /// recorded only with `timestamp` on, as the kernel adds its tstamp
    /// extension only then.
    pub(crate) start_ns: u64,
    /// A `ct timeout` policy assigned to the connection.
    pub(crate) timeouts: Option<Box<Timeouts>>,
    /// The helper's data about the connection (FTP: where lines start),
    /// and an expected connection's master.
    pub(crate) help: Option<Box<HelpState>>,
    /// NAT sequence adjustment per direction of a TCP connection
    /// (nf_ct_seqadj): only when a NAT helper changed a payload length, as
    /// the kernel's seqadj extension; freed with the window tracker.
    pub(crate) seqadj: Option<Box<[tcp::SeqAdj; 2]>>,
    /// The counters of a connection whose counters outgrew 32 bits
    /// ([`conn_flags::SPILLED`]): (packets, bytes) per direction.
    pub(crate) acct: Option<Box<[(u64, u64); 2]>>,
    /// The timeout in nanoseconds (as [`Entry::timeout_at_ns`]) when
    /// [`Conn::timeout`] is [`FAR`].
    pub(crate) timeout_ns: u64,
    /// A UDP connection's `stream_ts` in jiffies when [`Conn::l4`] is
    /// [`FAR`].
    pub(crate) stream_ts: u64,
}

/// Four bytes of an address that fits in them (the rest zero).
#[inline(always)]
pub(crate) fn narrow(a: &[u8; 16]) -> Option<[u8; 4]> {
    let w = u128::from_le_bytes(*a);
    (w >> 32 == 0).then(|| (w as u32).to_le_bytes())
}

impl Conn {
    /// The connection's tuple of direction `d`; `wide`: its addresses in
    /// the wide slab when it is wide.
    #[inline]
    pub(crate) fn tuple(&self, d: usize, wide: Option<&[[u8; 16]; 4]>) -> Tuple {
        let (mut src, mut dst) = ([0u8; 16], [0u8; 16]);
        match wide {
            Some(w) if self.is_wide() => (src, dst) = (w[2 * d], w[2 * d + 1]),
            _ => {
                let b = self.addr[d].to_le_bytes();
                src[..4].copy_from_slice(&b[..4]);
                dst[..4].copy_from_slice(&b[4..]);
            }
        }
        Tuple {
            src,
            dst,
            src_port: self.ports[d] as u16,
            dst_port: (self.ports[d] >> 16) as u16,
            l3: self.l3(),
            proto: self.proto,
        }
    }

    /// Confirmed (in the table, visible to lookups and listings).
    #[inline]
    pub(crate) fn is_confirmed(&self) -> bool {
        self.status & status::CONFIRMED != 0
    }

    /// NFPROTO of both tuples.
    #[inline(always)]
    pub(crate) fn l3(&self) -> u8 {
        const { assert!(L3_IPV4 + 2 * conn_flags::V6 == L3_IPV6) };
        L3_IPV4 + 2 * (self.flags & conn_flags::V6)
    }

    /// The IPS_* bits.
    #[inline(always)]
    pub(crate) fn ips(&self) -> u32 {
        self.status & STATUS_MASK
    }

    /// The event bits cached for the next delivery.
    #[inline(always)]
    pub(crate) fn pending(&self) -> u16 {
        ((self.status & PENDING_MASK) >> PENDING_SHIFT) as u16
    }

    /// Caches event bits for the next delivery.
    #[inline(always)]
    pub(crate) fn add_pending(&mut self, bits: u16) {
        debug_assert!(u32::from(bits) << PENDING_SHIFT & !PENDING_MASK == 0);
        self.status |= u32::from(bits) << PENDING_SHIFT;
    }

    /// Takes the cached event bits.
    #[inline(always)]
    pub(crate) fn take_pending(&mut self) -> u16 {
        let p = self.pending();
        self.status &= !PENDING_MASK;
        p
    }

    /// The attached helper.
    #[inline]
    pub(crate) fn helper(&self) -> Option<Helper> {
        const BY_NUMBER: [Option<Helper>; 16] = {
            let mut t = [None; 16];
            let mut i = 0;
            while i < HELPERS.len() {
                t[i + 1] = Some(HELPERS[i]);
                i += 1;
            }
            t
        };
        BY_NUMBER[(self.status >> HELPER_SHIFT) as usize]
    }

    /// Attaches a helper (or none).
    pub(crate) fn set_helper(&mut self, h: Option<Helper>) {
        let n = h.map_or(0, |h| HELPERS.iter().position(|&x| x == h).expect("a helper") as u32 + 1);
        self.status = self.status & !(0xf << HELPER_SHIFT) | n << HELPER_SHIFT;
    }

    /// Counts a packet of `len` bytes in direction `d` in [`Conn::acct`]
    /// (nothing for a connection that does not count,
    /// [`conn_flags::ACCT`]); `false` (nothing done) when the counters are
    /// spilled or would not fit in 32 bits any more.
    /// (A spilled connection's packet counters are left at `u32::MAX`, so
    /// no flag needs testing for that.)
    #[inline(always)]
    pub(crate) fn count(&mut self, d: usize, len: u64) -> bool {
        if self.flags & conn_flags::ACCT == 0 {
            return true;
        }
        let c = &mut self.acct[d];
        let (p, b) = (u64::from(c[0]) + 1, u64::from(c[1]) + len);
        if (p | b) >> 32 != 0 {
            return false;
        }
        *c = [p as u32, b as u32];
        true
    }

    /// The connection has a cold part ([`conn_flags::COLD`]).
    #[inline(always)]
    pub(crate) fn has_cold(&self) -> bool {
        self.flags & conn_flags::COLD != 0
    }

    /// The addresses are in the wide slab ([`conn_flags::WIDE`]).
    #[inline(always)]
    pub(crate) fn is_wide(&self) -> bool {
        self.flags & conn_flags::WIDE != 0
    }

    /// The l4 protocol number.
    #[inline]
    pub(crate) fn proto(&self) -> u8 {
        self.proto
    }
}

/// One connection as [`Tracker::entry`] and [`Tracker::entries`] show it
/// (struct nf_conn): a snapshot of its fields with references to its
/// protocol state and extensions, put together from the table's compact
/// form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry<'a> {
    /// Original and reply tuples, indexed by [`Dir`].
    pub tuples: [Tuple; 2],
    /// Conntrack zone.
    pub zone: u16,
    /// IPS_* bits ([`status`]).
    pub status: u32,
    /// Deterministic id (the kernel's are hashes, random per boot).
    pub id: u32,
    /// Expiry on the packet clock, jiffy-aligned. While the entry is
    /// unconfirmed it holds the timeout relative to confirmation, as the
    /// kernel's `ct->timeout` does.
    pub timeout_at_ns: u64,
    /// (packets, bytes) per direction, bytes counted from the IP header;
    /// zero where the connection does not count (`accounted`).
    pub counters: [(u64, u64); 2],
    /// The connection counts its packets (nf_conntrack_acct was on when it
    /// was made): listings show its counters.
    pub accounted: bool,
    /// When the entry was confirmed (nf_conntrack_timestamp's start; 0
    /// unless the entry keeps times, `timestamped`).
    pub start_ns: u64,
    /// The entry keeps its start and stop times (nf_conntrack_timestamp
    /// was on when it was made): listings show them.
    pub timestamped: bool,
    /// ct mark.
    pub mark: u32,
    /// Attached helper.
    pub helper: Option<Helper>,
    /// A `ct timeout` policy assigned to the connection (`None`: the
    /// global timeouts).
    pub timeouts: Option<&'a Timeouts>,
    /// The helper's data about the connection.
    pub help: Option<&'a HelpState>,
    /// The TCP window tracker, for TCP entries.
    pub tcp: Option<&'a TcpConn>,
}

impl Entry<'_> {
    /// Confirmed (in the table, visible to lookups and listings).
    pub fn is_confirmed(&self) -> bool {
        self.status & status::CONFIRMED != 0
    }

    /// The l4 protocol number.
    pub fn proto(&self) -> u8 {
        self.tuples[0].proto
    }

    /// The TCP state, for TCP entries.
    pub fn tcp_state(&self) -> Option<TcpState> {
        self.tcp.map(|c| c.state)
    }

    /// Seconds until expiry as conntrack-tools prints them (jiffies / HZ,
    /// 0 once expired).
    pub fn timeout_secs(&self, now_ns: u64) -> u64 {
        if !self.is_confirmed() {
            return self.timeout_at_ns / TICK_NS / HZ;
        }
        (self.timeout_at_ns / TICK_NS).saturating_sub(now_ns / TICK_NS) / HZ
    }
}

/// Kind of a conntrack event (the ctnetlink message group).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventKind {
    New,
    Update,
    Destroy,
}

/// One conntrack event: what ctnetlink put in the message when it was
/// delivered (ctnetlink_conntrack_event), so it prints as `conntrack -E`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub kind: EventKind,
    /// The packet clock when the event was delivered.
    pub time_ns: u64,
    /// The IPCT_* bits delivered.
    pub bits: u16,
    pub id: u32,
    pub tuples: [Tuple; 2],
    pub status: u32,
    pub zone: u16,
    /// Remaining seconds; absent from DESTROY events of entries whose
    /// timeout ran out (ctnetlink_dump_timeout with skip_zero).
    pub timeout_secs: Option<u64>,
    /// TCP state: in NEW/UPDATE events only when it changed
    /// (IPCT_PROTOINFO); always in DESTROY events.
    pub tcp_state: Option<TcpState>,
    /// Counters (DESTROY events, nf_conntrack_acct=1).
    pub counters: Option<[(u64, u64); 2]>,
    /// (start, stop) wall-clock ns (DESTROY events, nf_conntrack_timestamp=1).
    pub timestamps: Option<(u64, u64)>,
    /// The mark, when non-zero or just set (IPCT_MARK).
    pub mark: Option<u32>,
    pub helper: Option<Helper>,
}

/// Tracker statistics (`conntrack -S`, struct ip_conntrack_stat).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    pub found: u64,
    pub invalid: u64,
    pub insert: u64,
    pub insert_failed: u64,
    pub drop: u64,
    pub early_drop: u64,
    pub error: u64,
    pub search_restart: u64,
    pub clash_resolve: u64,
    pub chaintoolong: u64,
}
