//! The data shared by the interpreter, the JIT and the runtime: the packet
//! context the chains read, and the action record they write.
//!
//! Both are `#[repr(C)]` with fixed-size fields so native code can address
//! them by offset; the packet bytes themselves are passed beside the
//! context. Nothing here allocates.

/// An offset that is not there (no transport header in a non-first
/// fragment, no inner header).
pub const ABSENT: u32 = u32::MAX;

/// ct state bits (NF_CT_STATE_*_BIT as nft's `ct state` sees them).
pub mod ct_state {
    pub const INVALID: u32 = 1;
    pub const ESTABLISHED: u32 = 2;
    pub const RELATED: u32 = 4;
    pub const NEW: u32 = 8;
    pub const UNTRACKED: u32 = 64;
}

/// What the tracker knows of the packet's connection (zeroed, with
/// `state == 0`, before conntrack has seen the packet).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CtInfo {
    /// One of [`ct_state`]'s bits; 0 = not looked up yet.
    pub state: u32,
    /// IPS_* status bits.
    pub status: u32,
    pub mark: u32,
    /// Remaining lifetime in milliseconds.
    pub expiration_ms: u32,
    pub id: u32,
    pub zone: u16,
    /// 0 original, 1 reply.
    pub dir: u8,
    /// An entry exists (not untracked, not invalid without entry).
    pub has_entry: u8,
    pub l3proto: u8,
    pub protocol: u8,
    pub _pad: [u8; 2],
    /// Per direction [original, reply]: addresses (IPv4 in the first 4 bytes).
    pub saddr: [[u8; 16]; 2],
    pub daddr: [[u8; 16]; 2],
    /// Per direction: ports or ICMP id, network order.
    pub proto_src: [[u8; 2]; 2],
    pub proto_dst: [[u8; 2]; 2],
    pub packets: [u64; 2],
    pub bytes: [u64; 2],
    /// NUL-padded helper name.
    pub helper: [u8; 16],
    pub label: [u8; 16],
}

impl CtInfo {
    /// Nothing known (`CtInfo::default()`), as a constant: a context built
    /// with it gets its bytes zeroed in place (the derived `default()`,
    /// inlined into a context's literal, was made aside and copied in).
    pub const NONE: CtInfo = CtInfo {
        state: 0,
        status: 0,
        mark: 0,
        expiration_ms: 0,
        id: 0,
        zone: 0,
        dir: 0,
        has_entry: 0,
        l3proto: 0,
        protocol: 0,
        _pad: [0; 2],
        saddr: [[0; 16]; 2],
        daddr: [[0; 16]; 2],
        proto_src: [[0; 2]; 2],
        proto_dst: [[0; 2]; 2],
        packets: [0; 2],
        bytes: [0; 2],
        helper: [0; 16],
        label: [0; 16],
    };
}

/// Everything a chain reads about a packet besides its bytes.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PacketCtx {
    /// Offsets into the frame, or [`ABSENT`].
    pub ll_off: u32,
    pub nh_off: u32,
    pub th_off: u32,
    pub ih_off: u32,
    /// Length of the frame.
    pub len: u32,
    /// 2 (IPv4) or 10 (IPv6).
    pub nfproto: u8,
    pub l4proto: u8,
    /// PACKET_HOST 0, BROADCAST 1, MULTICAST 2, OTHERHOST 3.
    pub pkttype: u8,
    pub _pad: u8,
    pub ethertype: u16,
    pub _pad2: u16,
    pub iif: u32,
    pub oif: u32,
    pub iiftype: u16,
    pub oiftype: u16,
    pub mark: u32,
    pub priority: u32,
    /// Packet time, nanoseconds since the epoch.
    pub time_ns: u64,
    pub iifname: [u8; 16],
    pub oifname: [u8; 16],
    pub ct: CtInfo,
    /// The owner (fsuid, fsgid of the file) of the packet's socket, when
    /// it has a full one with a file (`meta skuid`, `meta skgid`: a host's
    /// own packets; `has_sk` 0: they break).
    pub sk_uid: u32,
    pub sk_gid: u32,
    pub has_sk: u8,
}

impl Default for PacketCtx {
    #[inline]
    fn default() -> Self {
        PacketCtx {
            ll_off: ABSENT,
            nh_off: ABSENT,
            th_off: ABSENT,
            ih_off: ABSENT,
            len: 0,
            nfproto: 0,
            l4proto: 0,
            pkttype: 0,
            _pad: 0,
            ethertype: 0,
            _pad2: 0,
            iif: 0,
            oif: 0,
            iiftype: 0,
            oiftype: 0,
            mark: 0,
            priority: 0,
            time_ns: 0,
            iifname: [0; 16],
            oifname: [0; 16],
            ct: CtInfo::NONE,
            sk_uid: 0,
            sk_gid: 0,
            has_sk: 0,
        }
    }
}

/// A NAT request for the tracker (addresses in network order, IPv4 in the
/// first 4 bytes).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct NatAction {
    /// 0 none, 1 snat, 2 dnat, 3 masquerade, 4 redirect.
    pub kind: u8,
    /// 0, 4 or 16.
    pub addr_len: u8,
    pub has_port: u8,
    /// NF_NAT_RANGE_* flags: random 4, persistent 8, fully random 16, netmap 64.
    pub flags: u8,
    pub addr_min: [u8; 16],
    pub addr_max: [u8; 16],
    pub port_min: u16,
    pub port_max: u16,
}

/// Logs one packet may produce before the rest are counted as dropped.
pub const MAX_LOGS: usize = 8;

/// What the chains decided and asked for, besides the verdict.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Actions {
    /// `meta mark set`: the packet's mark after the chains.
    pub mark: u32,
    pub priority: u32,
    /// Bit flags of [`actions`] saying which fields were set.
    pub set: u32,
    pub ct_mark: u32,
    pub ct_zone: u16,
    /// Reject: 0 none, 1 icmp, 2 icmpv6, 3 icmpx, 4 tcp reset.
    pub reject_kind: u8,
    pub reject_code: u8,
    pub nat: NatAction,
    /// `ct helper set`: NUL-padded name and its protocol.
    pub helper: [u8; 16],
    pub helper_l4proto: u8,
    pub n_logs: u8,
    /// `meta pkttype set`: the new PACKET_* type (with [`actions::PKTTYPE`]).
    pub pkttype: u8,
    pub _pad: u8,
    /// LogIds of the `log` statements run, in order.
    pub logs: [u32; MAX_LOGS],
    /// `ct timeout set`: the TimeoutId of the policy (see [`actions::CT_TIMEOUT`]).
    pub ct_timeout: u32,
}

/// Bits of [`Actions::set`].
pub mod actions {
    pub const MARK: u32 = 1;
    pub const PRIORITY: u32 = 2;
    pub const CT_MARK: u32 = 4;
    pub const CT_ZONE: u32 = 8;
    pub const NOTRACK: u32 = 16;
    pub const HELPER: u32 = 32;
    pub const NAT: u32 = 64;
    pub const REJECT: u32 = 128;
    pub const PKTTYPE: u32 = 256;
    /// The packet bytes were rewritten (payload set): checksums updated.
    pub const MANGLED: u32 = 512;
    /// A `ct timeout` policy was assigned (`Actions::ct_timeout`).
    pub const CT_TIMEOUT: u32 = 1024;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_constant_is_the_default() {
        assert_eq!(CtInfo::NONE, CtInfo::default());
    }
}
