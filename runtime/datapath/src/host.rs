//! The host model: interfaces with their addresses, and routes.
//!
//! In replay it comes from `--iface IFACE=ADDR/LEN[,ADDR/LEN]...` and
//! `--route PREFIX=IFACE`; directly connected subnets come from the
//! interface addresses, as the kernel adds them. It answers the routing
//! decision (local delivery or forwarding, and the output interface) and
//! the `fib` expression.

use std::fmt;
use std::net::IpAddr;

/// RTN_* route types as `fib ... type` returns them (linux/rtnetlink.h).
pub mod rtn {
    pub const UNICAST: u32 = 1;
    pub const LOCAL: u32 = 2;
    pub const BROADCAST: u32 = 3;
    pub const MULTICAST: u32 = 5;
    pub const UNREACHABLE: u32 = 7;
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Iface {
    pub name: String,
    /// Interface index; `lo` is 1, the others follow in command-line order.
    pub index: u32,
    pub addrs: Vec<(IpAddr, u8)>,
    /// Learned from traffic: the interface's own MAC (destination of the
    /// unicast frames it receives) and its peer's (their source).
    pub own_mac: Option<[u8; 6]>,
    pub peer_mac: Option<[u8; 6]>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub net: IpAddr,
    pub len: u8,
    pub iface: usize,
}

#[derive(Debug, Clone, Default)]
pub struct HostModel {
    pub ifaces: Vec<Iface>,
    pub routes: Vec<Route>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostError(pub String);

impl fmt::Display for HostError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for HostError {}

fn parse_prefix(s: &str) -> Result<(IpAddr, u8), HostError> {
    let (a, l) = s.split_once('/').ok_or_else(|| HostError(format!("`{s}`: expected ADDRESS/LENGTH")))?;
    let addr: IpAddr = a.parse().map_err(|_| HostError(format!("`{a}` is not an IP address")))?;
    let max = if addr.is_ipv4() { 32 } else { 128 };
    let len: u8 = l
        .parse()
        .ok()
        .filter(|&n: &u8| n <= max)
        .ok_or_else(|| HostError(format!("`{l}` is not a prefix length for {a} (0-{max})")))?;
    Ok((addr, len))
}

fn same_family(a: IpAddr, b: IpAddr) -> bool {
    a.is_ipv4() == b.is_ipv4()
}

/// Whether `addr` is inside `net/len`.
pub fn in_prefix(addr: IpAddr, net: IpAddr, len: u8) -> bool {
    match (addr, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let mask = if len == 0 { 0 } else { u32::MAX << (32 - len as u32) };
            u32::from(a) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let mask = if len == 0 { 0 } else { u128::MAX << (128 - len as u32) };
            u128::from(a) & mask == u128::from(n) & mask
        }
        _ => false,
    }
}

impl HostModel {
    /// `IFACE=ADDR/LEN[,ADDR/LEN]...`
    pub fn add_iface(&mut self, arg: &str) -> Result<usize, HostError> {
        let (name, addrs) =
            arg.split_once('=').ok_or_else(|| HostError(format!("`{arg}`: expected IFACE=ADDR/LEN")))?;
        if name.is_empty() || name.len() > 15 {
            return Err(HostError(format!("`{name}` is not an interface name (1-15 characters)")));
        }
        let addrs = addrs.split(',').filter(|s| !s.is_empty()).map(parse_prefix).collect::<Result<Vec<_>, _>>()?;
        let idx = self.iface_or_insert(name);
        self.ifaces[idx].addrs.extend(addrs);
        Ok(idx)
    }

    /// `PREFIX=IFACE`
    pub fn add_route(&mut self, arg: &str) -> Result<(), HostError> {
        let (prefix, name) = arg.split_once('=').ok_or_else(|| HostError(format!("`{arg}`: expected PREFIX=IFACE")))?;
        let (net, len) = parse_prefix(prefix)?;
        let iface = self.iface_or_insert(name);
        self.routes.push(Route { net, len, iface });
        Ok(())
    }

    /// The interface of this name, created (without addresses) if new.
    pub fn iface_or_insert(&mut self, name: &str) -> usize {
        if let Some(i) = self.iface(name) {
            return i;
        }
        self.ifaces.push(Iface {
            name: name.to_string(),
            index: self.ifaces.len() as u32 + 2,
            addrs: Vec::new(),
            own_mac: None,
            peer_mac: None,
        });
        self.ifaces.len() - 1
    }

    pub fn iface(&self, name: &str) -> Option<usize> {
        self.ifaces.iter().position(|i| i.name == name)
    }

    pub fn by_index(&self, index: u32) -> Option<&Iface> {
        self.ifaces.iter().find(|i| i.index == index)
    }

    /// An address of this host (any interface, or loopback).
    pub fn is_local(&self, addr: IpAddr) -> bool {
        addr.is_loopback() || self.ifaces.iter().any(|i| i.addrs.iter().any(|(a, _)| *a == addr))
    }

    /// A subnet broadcast address of one of the interfaces (IPv4).
    pub fn is_broadcast(&self, addr: IpAddr) -> bool {
        let IpAddr::V4(a) = addr else { return false };
        if a.is_broadcast() {
            return true;
        }
        self.ifaces.iter().flat_map(|i| &i.addrs).any(|(net, len)| match net {
            IpAddr::V4(n) if *len < 31 => {
                let host = u32::MAX >> *len;
                u32::from(a) == (u32::from(*n) | host)
            }
            _ => false,
        })
    }

    /// The output interface for `dst`: longest prefix match over connected
    /// subnets and routes.
    pub fn route(&self, dst: IpAddr) -> Option<usize> {
        let connected = self.ifaces.iter().enumerate().flat_map(|(i, f)| f.addrs.iter().map(move |(a, l)| (i, *a, *l)));
        let routes = self.routes.iter().map(|r| (r.iface, r.net, r.len));
        connected
            .chain(routes)
            .filter(|(_, net, len)| same_family(dst, *net) && in_prefix(dst, *net, *len))
            .max_by_key(|(_, _, len)| *len)
            .map(|(i, _, _)| i)
    }

    /// The route type of an address, as `fib daddr type` answers.
    pub fn addr_type(&self, addr: IpAddr) -> u32 {
        if self.is_local(addr) {
            rtn::LOCAL
        } else if addr.is_multicast() {
            rtn::MULTICAST
        } else if self.is_broadcast(addr) {
            rtn::BROADCAST
        } else if self.route(addr).is_some() {
            rtn::UNICAST
        } else {
            rtn::UNREACHABLE
        }
    }

    /// A 16-byte NUL-padded interface name (`meta iifname`).
    pub fn name16(&self, index: u32) -> [u8; 16] {
        let mut out = [0u8; 16];
        let name: &str = if index == 1 { "lo" } else { self.by_index(index).map_or("", |i| i.name.as_str()) };
        let n = name.len().min(15);
        out[..n].copy_from_slice(&name.as_bytes()[..n]);
        out
    }

    /// inet_select_addr for masquerade: the address of `iface` whose subnet
    /// holds `dst` (the next hop), else its first address of that family.
    pub fn select_addr(&self, iface: usize, dst: IpAddr) -> Option<IpAddr> {
        let f = self.ifaces.get(iface)?;
        f.addrs
            .iter()
            .find(|(a, len)| same_family(*a, dst) && in_prefix(dst, *a, *len))
            .map(|(a, _)| *a)
            .or_else(|| self.iface_addr(iface, dst))
    }

    /// The first address of `iface` of the family of `like` (masquerade).
    pub fn iface_addr(&self, iface: usize, like: IpAddr) -> Option<IpAddr> {
        self.ifaces.get(iface)?.addrs.iter().map(|(a, _)| *a).find(|a| same_family(*a, like))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn oracle_gateway() -> HostModel {
        let mut h = HostModel::default();
        h.add_iface("gw-cli=192.0.2.1/24").unwrap();
        h.add_iface("gw-pub=198.51.100.32/24").unwrap();
        h.add_route("203.0.113.0/24=gw-pub").unwrap();
        h
    }

    #[test]
    fn routing_decisions() {
        let h = oracle_gateway();
        assert_eq!(h.route("203.0.113.47".parse().unwrap()), Some(1));
        assert_eq!(h.route("192.0.2.2".parse().unwrap()), Some(0));
        assert_eq!(h.route("8.8.8.8".parse().unwrap()), None);
        assert!(h.is_local("198.51.100.32".parse().unwrap()));
        assert_eq!(h.addr_type("192.0.2.1".parse().unwrap()), rtn::LOCAL);
        assert_eq!(h.addr_type("192.0.2.255".parse().unwrap()), rtn::BROADCAST);
        assert_eq!(h.addr_type("203.0.113.9".parse().unwrap()), rtn::UNICAST);
        assert_eq!(h.addr_type("8.8.8.8".parse().unwrap()), rtn::UNREACHABLE);
        assert_eq!(&h.name16(2)[..7], b"gw-cli\0");
        assert_eq!(h.ifaces[1].index, 3);
    }

    #[test]
    fn bad_arguments_are_errors() {
        let mut h = HostModel::default();
        assert!(h.add_iface("eth0").is_err());
        assert!(h.add_iface("eth0=1.2.3.4").is_err());
        assert!(h.add_iface("eth0=1.2.3.4/33").is_err());
        assert!(h.add_route("1.2.3.0/24").is_err());
        assert!(h.add_iface("eth0=2001:db8::1/64,192.0.2.1/24").is_ok());
    }
}
