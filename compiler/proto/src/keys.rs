//! Non-payload expression keys (doc/primary-expression.txt): meta, ct, fib,
//! rt, socket, osf, ipsec, numgen/hash.

use crate::types::Ty;

/// `meta KEY` (and the unqualified forms like `iifname`, `mark`).
#[derive(Debug)]
pub struct MetaKey {
    pub name: &'static str,
    pub ty: Ty,
    /// Width in bits of the register value.
    pub bits: u32,
    /// May be written without `meta` (`iifname eth0`, `mark 1`).
    pub unqualified: bool,
    /// `meta KEY set VALUE` is allowed.
    pub settable: bool,
}

/// Whether a ct key takes a direction (`ct original saddr`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CtDir {
    /// Never takes a direction (`ct state`).
    Never,
    /// Direction optional (`ct bytes`, `ct packets`, `ct zone`).
    Optional,
    /// Direction required (`ct original saddr`).
    Required,
}

/// `ct [original|reply] KEY`.
#[derive(Debug)]
pub struct CtKey {
    pub name: &'static str,
    pub ty: Ty,
    pub bits: u32,
    pub dir: CtDir,
    /// Address keys whose type is decided by the family or by an `ip`/`ip6`
    /// qualifier (`ct original ip saddr`).
    pub l3_addr: bool,
    /// `ct KEY set VALUE` is allowed.
    pub settable: bool,
}

/// A simple named key with a type: rt, socket, osf, ipsec, fib results.
#[derive(Debug)]
pub struct Key {
    pub name: &'static str,
    pub ty: Ty,
    pub bits: u32,
}

const fn meta(name: &'static str, ty: Ty, bits: u32, unqualified: bool, settable: bool) -> MetaKey {
    MetaKey { name, ty, bits, unqualified, settable }
}

/// `meta` keys (nft meta.c `meta_templates`, kernel nft_meta.c).
///
/// The byte order of a key is its type's ([`Ty::info`]): plain integer keys
/// use the host-order `IntegerN` types, as the kernel stores them in host
/// order; `Ty::Integer` (network order) marks a key nft treats as big-endian.
/// `bits` is the register width and wins over the type's width (a boolean
/// key loads one byte; `nftrace` is one bit of an integer).
///
/// `unqualified`: the key appears in nft's `meta_key_unqualified` grammar
/// rule, so `mark 1` means `meta mark 1`. `settable`: the kernel's
/// `nft_meta_set_init` (or the bridge one) accepts the key; anything else is
/// rejected with EOPNOTSUPP.
pub static META_KEYS: &[MetaKey] = &[
    // skb->len.
    meta("length", Ty::Integer32, 32, false, false),
    // skb->protocol (ethertype, network order).
    meta("protocol", Ty::EtherType, 16, false, false),
    // The hook's family (NFPROTO_*); meaningful in inet tables.
    meta("nfproto", Ty::NfProto, 8, false, false),
    // Transport protocol after IPv6 extension headers.
    meta("l4proto", Ty::InetProto, 8, false, false),
    // skb->priority, a tc handle; `meta priority set` feeds qdiscs.
    meta("priority", Ty::Classid, 32, false, true),
    meta("mark", Ty::Mark, 32, true, true),
    meta("iif", Ty::IfaceIndex, 32, true, false),
    meta("iifname", Ty::Ifname, 128, true, false),
    meta("iiftype", Ty::IfaceType, 16, true, false),
    meta("oif", Ty::IfaceIndex, 32, true, false),
    meta("oifname", Ty::Ifname, 128, true, false),
    meta("oiftype", Ty::IfaceType, 16, true, false),
    // Owner of the originating socket (output path only).
    meta("skuid", Ty::Uid, 32, true, false),
    meta("skgid", Ty::Gid, 32, true, false),
    // One bit; only `set 1` is meaningful (the kernel sets skb->nf_trace).
    meta("nftrace", Ty::Integer8, 1, true, true),
    // Routing realm of the route (skb_dst tclassid).
    meta("rtclassid", Ty::Realm, 32, true, false),
    // Bridge port's bridge device name (bridge family).
    meta("ibrname", Ty::Ifname, 128, true, false),
    meta("obrname", Ty::Ifname, 128, true, false),
    // Pre-0.9 spellings of ibrname/obrname: nft still reads `meta ibriport`.
    meta("ibriport", Ty::Ifname, 128, false, false),
    meta("obriport", Ty::Ifname, 128, false, false),
    // skb->pkt_type; settable (e.g. to make a broadcast look unicast).
    meta("pkttype", Ty::PktType, 8, true, true),
    meta("cpu", Ty::Cpu, 32, true, false),
    meta("iifgroup", Ty::Devgroup, 32, true, false),
    meta("oifgroup", Ty::Devgroup, 32, true, false),
    // net_cls classid of the socket's cgroup (cgroup v1).
    meta("cgroup", Ty::Integer32, 32, true, false),
    // prandom_u32(): qualified only (`meta random`). nft types it big-endian
    // on purpose (a random number has no byte order worth converting).
    meta("random", Ty::Integer, 32, false, false),
    // Whether the packet went through IPsec (skb secpath); one byte.
    meta("ipsec", Ty::Boolean, 8, true, false),
    // Old spelling of ipsec, still parsed by nft (`meta secpath exists`).
    meta("secpath", Ty::Boolean, 8, false, false),
    // rtnl_link_ops kind of the device ("vrf", "veth", ...).
    meta("iifkind", Ty::Ifname, 128, false, false),
    meta("oifkind", Ty::Ifname, 128, false, false),
    // Bridge port VLAN id and protocol (bridge family).
    meta("ibrpvid", Ty::Integer16, 16, false, false),
    meta("ibrvproto", Ty::EtherType, 16, false, false),
    // Bridge device MAC address, for `ether daddr set meta ibrhwaddr`.
    meta("ibrhwaddr", Ty::EtherAddr, 48, false, false),
    // Packet time: ns since the epoch (written as a date), day of week,
    // seconds since midnight UTC.
    meta("time", Ty::Time, 64, true, false),
    meta("day", Ty::Day, 8, true, false),
    meta("hour", Ty::Hour, 32, true, false),
    // skb->secmark (set from a secmark object or a value).
    meta("secmark", Ty::Secmark, 32, false, true),
    // Slave device of a VRF (l3mdev): index and name.
    meta("sdif", Ty::IfaceIndex, 32, false, false),
    meta("sdifname", Ty::Ifname, 128, false, false),
    // Bridge family: `meta broute set 1` sends the frame up the IP stack
    // (kernel nft_meta_bridge, prerouting of bridge tables only).
    meta("broute", Ty::Integer8, 1, false, true),
];

/// The keys nft prints without `meta` (meta.c `meta_key_is_unqualified`):
/// `iifname "eth0"` but `meta mark 0x1`. Parsing accepts more (see
/// [`MetaKey::unqualified`]); this is only about the canonical printer.
pub fn meta_prints_unqualified(name: &str) -> bool {
    matches!(name, "iif" | "oif" | "iifname" | "oifname" | "iifgroup" | "oifgroup")
}

const fn ct(name: &'static str, ty: Ty, bits: u32, dir: CtDir, settable: bool) -> CtKey {
    CtKey { name, ty, bits, dir, l3_addr: false, settable }
}

/// `ct` keys (nft ct.c `ct_templates`, parser `ct_key`/`ct_key_dir`,
/// kernel nft_ct.c).
///
/// Directions: the kernel demands one for tuple addresses and ports
/// (`ct original saddr`); for `l3proto`/`protocol` it is optional (both
/// directions agree; nft prints `ct original protocol 17` as
/// `ct protocol 17`); `bytes`/`packets`/`avgpkt`/`zone` may be per direction
/// or total. Settable keys are those of `nft_ct_set_init`. `ct helper set`,
/// `ct timeout set` and `ct expectation set` assign objects, not keys: see
/// [`CT_OBJECT_SETS`].
pub static CT_KEYS: &[CtKey] = &[
    ct("state", Ty::CtState, 32, CtDir::Never, false),
    ct("direction", Ty::CtDir, 8, CtDir::Never, false),
    ct("status", Ty::CtStatus, 32, CtDir::Never, false),
    ct("mark", Ty::Mark, 32, CtDir::Never, true),
    // Remaining lifetime in milliseconds.
    ct("expiration", Ty::Time, 32, CtDir::Never, false),
    // Name of the assigned helper (NF_CT_HELPER_NAME_LEN = 16 bytes).
    ct("helper", Ty::String, 128, CtDir::Never, false),
    ct("l3proto", Ty::NfProto, 8, CtDir::Optional, false),
    ct("protocol", Ty::InetProto, 8, CtDir::Optional, false),
    // Tuple addresses: IPv4 or IPv6 depending on the family, or on an
    // explicit `ip`/`ip6` (`ct original ip saddr`); the row carries IPv4.
    CtKey { name: "saddr", ty: Ty::Ipv4Addr, bits: 32, dir: CtDir::Required, l3_addr: true, settable: false },
    CtKey { name: "daddr", ty: Ty::Ipv4Addr, bits: 32, dir: CtDir::Required, l3_addr: true, settable: false },
    ct("proto-src", Ty::InetService, 16, CtDir::Required, false),
    ct("proto-dst", Ty::InetService, 16, CtDir::Required, false),
    // 128 label bits (connlabel.conf names); `ct label set` sets one bit.
    ct("label", Ty::CtLabel, 128, CtDir::Never, true),
    // Accounting (needs nf_conntrack_acct).
    ct("bytes", Ty::Integer64, 64, CtDir::Optional, false),
    ct("packets", Ty::Integer64, 64, CtDir::Optional, false),
    ct("avgpkt", Ty::Integer64, 64, CtDir::Optional, false),
    // Zone id; `ct zone set` only works before conntrack (raw priority).
    ct("zone", Ty::Integer16, 16, CtDir::Optional, true),
    // Event mask reported for this connection (ctnetlink).
    ct("event", Ty::CtEvent, 32, CtDir::Never, true),
    ct("secmark", Ty::Secmark, 32, CtDir::Never, true),
    ct("id", Ty::CtId, 32, CtDir::Never, false),
];

/// `ct KEY set "NAME"` forms that assign a named object (ct helper, ct
/// timeout, ct expectation) rather than a value.
pub static CT_OBJECT_SETS: &[&str] = &["helper", "timeout", "expectation"];

/// The type of an address key (ct saddr, rt nexthop, ipsec saddr) once the
/// network protocol is known.
pub fn l3_addr_ty(ipv6: bool) -> (Ty, u32) {
    if ipv6 { (Ty::Ipv6Addr, 128) } else { (Ty::Ipv4Addr, 32) }
}

const fn key(name: &'static str, ty: Ty, bits: u32) -> Key {
    Key { name, ty, bits }
}

/// `rt [ip|ip6] KEY` (nft rt.c, kernel nft_rt.c).
pub static RT_KEYS: &[Key] = &[
    // Route realm (dst->tclassid).
    key("classid", Ty::Realm, 32),
    // Gateway of the route; IPv6 with `rt ip6 nexthop` or in ip6 tables
    // (see [`l3_addr_ty`]).
    key("nexthop", Ty::Ipv4Addr, 32),
    // TCP MSS derived from the route MTU (NFT_RT_TCPMSS), 16 bits host order.
    key("mtu", Ty::Integer16, 16),
    // Whether the route does IPsec (dst->xfrm); `rt ipsec exists|missing`.
    key("ipsec", Ty::Boolean, 8),
];

/// `socket KEY` (`cgroupv2 level N` takes a level) (nft socket.c).
pub static SOCKET_KEYS: &[Key] = &[
    // IP_TRANSPARENT set on the socket found; 0 or 1.
    key("transparent", Ty::Integer8, 8),
    key("mark", Ty::Mark, 32),
    // Socket bound to the wildcard address; 0 or 1.
    key("wildcard", Ty::Integer8, 8),
    // Ancestor cgroup id at the given level.
    key("cgroupv2", Ty::CgroupV2, 64),
];

/// `osf [ttl loose|skip] KEY`: passive OS fingerprint (NFT_OSF_MAXGENRELEN = 16).
pub static OSF_KEYS: &[Key] = &[key("name", Ty::String, 128), key("version", Ty::String, 128)];

/// `ipsec in|out [spnum N] [ip|ip6] KEY` (nft xfrm.c).
pub static IPSEC_KEYS: &[Key] = &[
    // Host order, unlike spi.
    key("reqid", Ty::Integer32, 32),
    // Network order, as in the ESP/AH header.
    key("spi", Ty::Integer, 32),
    // Tunnel endpoints; IPv6 with the `ip6` qualifier (see [`l3_addr_ty`]).
    key("saddr", Ty::Ipv4Addr, 32),
    key("daddr", Ty::Ipv4Addr, 32),
];

/// `fib FLAG[ . FLAG]... RESULT`: the results (kernel nft_fib.h).
pub static FIB_RESULTS: &[Key] = &[
    key("oif", Ty::IfaceIndex, 32),
    key("oifname", Ty::Ifname, 128),
    // RTN_* type of the address (`fib daddr type local`).
    key("type", Ty::FibAddrType, 32),
];

/// `fib` input flags (`saddr`, `daddr`, `mark`, `iif`, `oif`). Exactly one of
/// saddr/daddr is required; iif and oif exclude each other.
pub static FIB_FLAGS: &[&str] = &["saddr", "daddr", "mark", "iif", "oif"];

pub fn meta_key(name: &str) -> Option<&'static MetaKey> {
    META_KEYS.iter().find(|k| k.name == name)
}
pub fn ct_key(name: &str) -> Option<&'static CtKey> {
    CT_KEYS.iter().find(|k| k.name == name)
}
pub fn find_key(table: &'static [Key], name: &str) -> Option<&'static Key> {
    table.iter().find(|k| k.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn unique_names() {
        let mut seen = HashSet::new();
        for k in META_KEYS {
            assert!(seen.insert(k.name), "duplicate meta key {}", k.name);
        }
        let mut seen = HashSet::new();
        for k in CT_KEYS {
            assert!(seen.insert(k.name), "duplicate ct key {}", k.name);
        }
        for table in [RT_KEYS, SOCKET_KEYS, OSF_KEYS, IPSEC_KEYS, FIB_RESULTS] {
            let mut seen = HashSet::new();
            for k in table {
                assert!(seen.insert(k.name), "duplicate key {}", k.name);
            }
        }
    }

    #[test]
    fn meta_flags() {
        let mark = meta_key("mark").unwrap();
        assert!(mark.unqualified && mark.settable);
        assert_eq!((mark.ty, mark.bits), (Ty::Mark, 32));
        assert!(meta_key("iifname").unwrap().unqualified);
        assert!(!meta_key("l4proto").unwrap().unqualified);
        assert!(!meta_key("random").unwrap().unqualified);
        assert!(!meta_key("iif").unwrap().settable);
        assert!(meta_key("nftrace").unwrap().settable);
        assert!(meta_prints_unqualified("iifname"));
        assert!(!meta_prints_unqualified("mark"));
    }

    #[test]
    fn ct_flags() {
        assert_eq!(ct_key("saddr").unwrap().dir, CtDir::Required);
        assert!(ct_key("saddr").unwrap().l3_addr);
        assert_eq!(ct_key("protocol").unwrap().dir, CtDir::Optional);
        assert_eq!(ct_key("bytes").unwrap().dir, CtDir::Optional);
        assert_eq!(ct_key("state").unwrap().dir, CtDir::Never);
        assert!(ct_key("mark").unwrap().settable);
        assert!(!ct_key("state").unwrap().settable);
        assert_eq!(find_key(FIB_RESULTS, "type").unwrap().ty, Ty::FibAddrType);
    }
}
