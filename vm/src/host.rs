//! What a program asks of the host model: routes, address types and
//! interface names. The datapath implements [`Host`] from its interfaces,
//! addresses and routes (flags in replay, rtnetlink on a live host).

/// RTN_* route / address types (include/uapi/linux/rtnetlink.h), as
/// `fib ... type` stores them.
pub mod rtn {
    pub const UNSPEC: u32 = 0;
    /// A gateway or direct route.
    pub const UNICAST: u32 = 1;
    /// Accept locally.
    pub const LOCAL: u32 = 2;
    /// Accept locally as broadcast, send as broadcast.
    pub const BROADCAST: u32 = 3;
    pub const ANYCAST: u32 = 4;
    pub const MULTICAST: u32 = 5;
    pub const BLACKHOLE: u32 = 6;
    /// Destination is unreachable.
    pub const UNREACHABLE: u32 = 7;
    pub const PROHIBIT: u32 = 8;
    pub const THROW: u32 = 9;
    pub const NAT: u32 = 10;
    pub const XRESOLVE: u32 = 11;
}

/// The result of a route lookup.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    /// Output interface index.
    pub oif: u32,
    /// One of [`rtn`]: the kernel's `res.type` of the matched route.
    pub rtype: u32,
}

/// One route lookup, as nft_fib4_eval/nft_fib6_eval build the flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FibQuery<'a> {
    /// 2 (IPv4) or 10 (IPv6).
    pub nfproto: u8,
    /// The address looked up (the packet's daddr with `fib daddr`, its
    /// saddr with `fib saddr`), 4 or 16 bytes, network order.
    pub dst: &'a [u8],
    /// The other address of the packet (the flow's source address).
    pub src: &'a [u8],
    /// `fib ... mark`: the packet's mark, else `None`.
    pub mark: Option<u32>,
    /// The packet's input interface (0: none).
    pub iif: u32,
    /// The packet's output interface (0: none).
    pub oif: u32,
}

/// The host model a program reads through `fib` and interface names.
pub trait Host {
    /// The route the host would use to reach `q.dst`, or `None` when no
    /// route matches (the kernel's fib_lookup error: unreachable).
    fn route(&self, q: &FibQuery<'_>) -> Option<Route>;
    /// The kernel's inet_dev_addr_type / __nft_fib6_eval_type: the type of
    /// `addr` as seen on interface `dev` (any interface when `None`):
    /// [`rtn::LOCAL`] for an address of the host, [`rtn::BROADCAST`],
    /// [`rtn::MULTICAST`], [`rtn::UNICAST`] for a routable address,
    /// [`rtn::UNREACHABLE`] when there is no route.
    fn addr_type(&self, nfproto: u8, addr: &[u8], dev: Option<u32>) -> u32;
    /// The NUL-padded name of an interface.
    fn ifname(&self, ifindex: u32) -> Option<[u8; 16]>;
    /// Whether the interface is a loopback one (IFF_LOOPBACK):
    /// nft_fib_is_loopback answers with the input interface itself.
    fn is_loopback(&self, _ifindex: u32) -> bool {
        false
    }
    /// `ct expectation set`: make the expectation `obj` describes for the
    /// packet's connection (nft_ct_expect_obj_eval). A host without a
    /// connection tracker has no connection: [`ExpectOutcome::Break`].
    fn ct_expect(&self, _obj: &ctc_ir::ExpectObj) -> ExpectOutcome {
        ExpectOutcome::Break
    }
}

/// What became of a `ct expectation set`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpectOutcome {
    /// The expectation exists (made, or an identical one of the same
    /// connection refreshed): the rule goes on.
    Made,
    /// Nothing to do: no connection, one already confirmed, or the
    /// object's `size` reached (NFT_BREAK: the rule ends).
    Break,
    /// It could not be made (it clashes with another connection's, or a
    /// limit): NF_DROP.
    Drop,
}

/// A host with no interfaces and no routes: every lookup misses.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoHost;

impl Host for NoHost {
    fn route(&self, _q: &FibQuery<'_>) -> Option<Route> {
        None
    }
    fn addr_type(&self, _nfproto: u8, _addr: &[u8], _dev: Option<u32>) -> u32 {
        rtn::UNREACHABLE
    }
    fn ifname(&self, _ifindex: u32) -> Option<[u8; 16]> {
        None
    }
}
