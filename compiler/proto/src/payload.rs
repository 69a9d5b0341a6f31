//! Protocol header fields (doc/payload-expression.txt): for every protocol nft
//! knows, its base (link, network, transport, inner), its fields with bit
//! offset, width and type, and the dependency it implies (`tcp dport` implies
//! `meta l4proto tcp`).

use crate::types::Ty;

/// Where a header sits; the kernel's payload base.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Base {
    /// Link layer (`ether`, `vlan`, `arp` in bridge/netdev).
    Link,
    /// Network header (`ip`, `ip6`, `arp`).
    Network,
    /// Transport header (`tcp`, `udp`, `icmp`, ...).
    Transport,
    /// Inner header of a tunnel (`vxlan`, `geneve`, `gre`, `gretap`).
    Inner,
}

/// The network layer protocol a header needs underneath it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum L3 {
    Ipv4,
    Ipv6,
    Arp,
    /// Either IPv4 or IPv6 (transport headers).
    Any,
}

/// What using a header implies (and what conflicts with it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dep {
    pub l3: Option<L3>,
    /// Required layer 4 protocol number (`meta l4proto`).
    pub l4proto: Option<u8>,
    /// Required ethertype at the link layer (bridge/netdev families).
    pub ethertype: Option<u16>,
    /// Tunnels carried in UDP need a destination port (vxlan 4789, geneve 6081).
    pub udp_dport: Option<u16>,
}

/// One header field.
#[derive(Debug)]
pub struct Field {
    pub name: &'static str,
    /// Offset from the start of the header, in bits.
    pub offset: u32,
    /// Width in bits.
    pub bits: u32,
    pub ty: Ty,
}

/// One protocol header.
#[derive(Debug)]
pub struct Proto {
    pub name: &'static str,
    pub base: Base,
    pub dep: Dep,
    pub fields: &'static [Field],
}

impl Proto {
    pub fn field(&self, name: &str) -> Option<&'static Field> {
        self.fields.iter().find(|f| f.name == name)
    }
}

/// Protocol headers usable as `PROTO FIELD`.
pub static PROTOCOLS: &[Proto] = &[];

/// IPv6 extension headers (`exthdr NAME FIELD`, `NAME FIELD` for frag/hbh/...).
pub static IP6_EXTHDRS: &[Proto] = &[];

/// A TCP, IP or SCTP option/chunk template (`tcp option maxseg size`).
#[derive(Debug)]
pub struct OptionTemplate {
    pub name: &'static str,
    /// Option kind number (also accepted as `tcp option 254`).
    pub kind: u8,
    pub fields: &'static [Field],
}

pub static TCP_OPTIONS: &[OptionTemplate] = &[];
pub static IP_OPTIONS: &[OptionTemplate] = &[];
pub static SCTP_CHUNKS: &[OptionTemplate] = &[];

pub fn protocol(name: &str) -> Option<&'static Proto> {
    PROTOCOLS.iter().find(|p| p.name == name)
}
pub fn ip6_exthdr(name: &str) -> Option<&'static Proto> {
    IP6_EXTHDRS.iter().find(|p| p.name == name)
}
