//! The host model of a live host, read over rtnetlink (issue #7): its
//! interfaces (kernel indexes, names, MAC addresses), their addresses, and
//! the main table's unicast routes, as `ip link`, `ip addr` and `ip route`
//! show them.
//!
//! The loopback interface is left out (the host model treats index 1 and
//! loopback addresses as local by itself), and so are the routes the kernel
//! makes for each address's subnet (`proto kernel`): the host model derives
//! connected subnets from the addresses, as the kernel does. Routes with
//! several next hops are not read (the first one is taken when the route
//! also names an output interface).

use crate::host::{HostModel, Iface, Route};
use rustix::net::{AddressFamily, RecvFlags, SendFlags, SocketType, netlink};
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::netlink::{self as nl, NLMSG_DONE, NLMSG_ERROR};

const NLM_F_DUMP: u16 = 0x300;

const RTM_NEWLINK: u16 = 16;
const RTM_GETLINK: u16 = 18;
const RTM_NEWADDR: u16 = 20;
const RTM_GETADDR: u16 = 22;
const RTM_NEWROUTE: u16 = 24;
const RTM_GETROUTE: u16 = 26;

const IFLA_ADDRESS: u16 = 1;
const IFLA_IFNAME: u16 = 3;
const IFA_ADDRESS: u16 = 1;
const IFA_LOCAL: u16 = 2;
const RTA_DST: u16 = 1;
const RTA_OIF: u16 = 4;
const RTA_TABLE: u16 = 15;

const RT_TABLE_MAIN: u32 = 254;
const RTN_UNICAST: u8 = 1;
const RTPROT_KERNEL: u8 = 2;
const AF_INET: u8 = 2;
const AF_INET6: u8 = 10;

/// A dump request: netlink header and the family's header (`hdr_len`
/// bytes, family first, the rest zero: AF_UNSPEC, every family).
fn dump_request(msg_type: u16, seq: u32, hdr_len: usize) -> Vec<u8> {
    let mut b = nl::header(msg_type, NLM_F_DUMP, seq);
    b.resize(16 + hdr_len, 0);
    nl::finish(b)
}

/// Attributes of a message body after its fixed header (`start` bytes):
/// (type, data), up to a malformed one.
fn attrs(body: &[u8], start: usize) -> Vec<(u16, &[u8])> {
    nl::attrs(body, start).map_while(Result::ok).collect()
}

fn addr_of(family: u8, data: &[u8]) -> Option<IpAddr> {
    match family {
        AF_INET => Some(IpAddr::V4(Ipv4Addr::from(<[u8; 4]>::try_from(data.get(..4)?).ok()?))),
        AF_INET6 => Some(IpAddr::V6(Ipv6Addr::from(<[u8; 16]>::try_from(data.get(..16)?).ok()?))),
        _ => None,
    }
}

fn u32_ne(b: &[u8]) -> Option<u32> {
    Some(u32::from_ne_bytes(b.get(..4)?.try_into().ok()?))
}

/// What the host model takes from one dump message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    Link { index: u32, name: String, mac: Option<[u8; 6]> },
    Addr { index: u32, addr: IpAddr, len: u8 },
    Route { net: IpAddr, len: u8, oif: u32 },
}

/// The items of one datagram of a dump, and whether the dump is done.
pub fn parse_dump(datagram: &[u8]) -> Result<(Vec<Item>, bool), String> {
    let mut out = Vec::new();
    for m in nl::messages(datagram) {
        let m = m?;
        let body = m.body;
        match m.ty {
            NLMSG_DONE => return Ok((out, true)),
            NLMSG_ERROR => {
                let errno = m.errno();
                if errno != 0 {
                    return Err(format!("rtnetlink error {}", io::Error::from_raw_os_error(-errno)));
                }
            }
            RTM_NEWLINK if body.len() >= 16 => {
                let index = u32_ne(&body[4..]).unwrap_or(0);
                let mut name = String::new();
                let mut mac = None;
                for (t, d) in attrs(body, 16) {
                    match t {
                        IFLA_IFNAME => name = String::from_utf8_lossy(d.split(|&c| c == 0).next().unwrap_or(d)).into(),
                        IFLA_ADDRESS if d.len() == 6 => mac = Some(<[u8; 6]>::try_from(d).expect("6 bytes")),
                        _ => {}
                    }
                }
                out.push(Item::Link { index, name, mac });
            }
            RTM_NEWADDR if body.len() >= 8 => {
                let (family, len) = (body[0], body[1]);
                let index = u32_ne(&body[4..]).unwrap_or(0);
                let a = attrs(body, 8);
                // IPv4: IFA_LOCAL is the address (IFA_ADDRESS the peer's on
                // point-to-point links); IPv6 has IFA_ADDRESS only.
                let pick = |t: u16| a.iter().find(|(ty, _)| *ty == t).and_then(|(_, d)| addr_of(family, d));
                if let Some(addr) = pick(IFA_LOCAL).or_else(|| pick(IFA_ADDRESS)) {
                    out.push(Item::Addr { index, addr, len });
                }
            }
            RTM_NEWROUTE if body.len() >= 12 => {
                let (family, dst_len, table, protocol, rtype) = (body[0], body[1], body[4], body[5], body[7]);
                let a = attrs(body, 12);
                let table =
                    a.iter().find(|(t, _)| *t == RTA_TABLE).and_then(|(_, d)| u32_ne(d)).unwrap_or(u32::from(table));
                let oif = a.iter().find(|(t, _)| *t == RTA_OIF).and_then(|(_, d)| u32_ne(d));
                let net =
                    a.iter().find(|(t, _)| *t == RTA_DST).and_then(|(_, d)| addr_of(family, d)).or(match family {
                        AF_INET => Some(IpAddr::V4(Ipv4Addr::UNSPECIFIED)),
                        AF_INET6 => Some(IpAddr::V6(Ipv6Addr::UNSPECIFIED)),
                        _ => None,
                    });
                if table == RT_TABLE_MAIN
                    && rtype == RTN_UNICAST
                    && protocol != RTPROT_KERNEL
                    && let (Some(net), Some(oif)) = (net, oif)
                {
                    out.push(Item::Route { net, len: dst_len, oif });
                }
            }
            _ => {}
        }
    }
    Ok((out, false))
}

/// Run one dump on a fresh rtnetlink socket.
fn dump(msg_type: u16, hdr_len: usize) -> io::Result<Vec<Item>> {
    // NETLINK_ROUTE is protocol 0: `None`.
    let fd = rustix::net::socket(AddressFamily::NETLINK, SocketType::RAW, None)?;
    rustix::net::bind(&fd, &netlink::SocketAddrNetlink::new(0, 0))?;
    rustix::net::send(&fd, &dump_request(msg_type, 1, hdr_len), SendFlags::empty())?;
    let mut buf = vec![0u8; 64 * 1024];
    let mut items = Vec::new();
    loop {
        let n = rustix::net::recv(&fd, &mut buf[..], RecvFlags::empty())?.0;
        let (more, done) = parse_dump(&buf[..n]).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
        items.extend(more);
        if done || n == 0 {
            return Ok(items);
        }
    }
}

/// The host model from the items of the three dumps.
pub fn host_model(items: &[Item]) -> HostModel {
    let mut h = HostModel::default();
    for it in items {
        if let Item::Link { index, name, mac } = it
            && *index != 1
            && name != "lo"
        {
            h.ifaces.push(Iface {
                name: name.clone(),
                index: *index,
                addrs: Vec::new(),
                own_mac: *mac,
                peer_mac: None,
            });
        }
    }
    for it in items {
        match it {
            Item::Addr { index, addr, len } => {
                if let Some(f) = h.ifaces.iter_mut().find(|f| f.index == *index) {
                    f.addrs.push((*addr, *len));
                }
            }
            Item::Route { net, len, oif } => {
                if let Some(i) = h.ifaces.iter().position(|f| f.index == *oif) {
                    h.routes.push(Route { net: *net, len: *len, iface: i });
                }
            }
            Item::Link { .. } => {}
        }
    }
    h
}

/// Read this host's interfaces, addresses and routes (the network namespace
/// of the calling thread).
pub fn read_host() -> io::Result<HostModel> {
    let mut items = dump(RTM_GETLINK, 16)?; // struct ifinfomsg
    items.extend(dump(RTM_GETADDR, 8)?); // struct ifaddrmsg
    items.extend(dump(RTM_GETROUTE, 12)?); // struct rtmsg
    Ok(host_model(&items))
}

/// rtnetlink multicast groups: links, IPv4/IPv6 addresses and routes.
const GROUPS: u32 = 0x1 | 0x10 | 0x40 | 0x100 | 0x400;

/// Notifications of changes to the host's interfaces, addresses and
/// routes (rtnetlink multicast), to read the host model again.
#[derive(Debug)]
pub struct Watcher {
    fd: rustix::fd::OwnedFd,
    buf: Vec<u8>,
}

impl Watcher {
    pub fn new() -> io::Result<Watcher> {
        let fd = rustix::net::socket(AddressFamily::NETLINK, SocketType::RAW, None)?;
        rustix::net::bind(&fd, &netlink::SocketAddrNetlink::new(0, GROUPS))?;
        Ok(Watcher { fd, buf: vec![0; 64 * 1024] })
    }

    /// Whether anything changed since the last call (never waits). A
    /// notification lost to a full socket buffer counts as a change.
    pub fn changed(&mut self) -> bool {
        let mut any = false;
        loop {
            match rustix::net::recv(&self.fd, &mut self.buf[..], RecvFlags::DONTWAIT) {
                Ok((n, _)) if n > 0 => any = true,
                Ok(_) => return any,
                Err(rustix::io::Errno::AGAIN) => return any,
                Err(_) => return true,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(ty: u16, hdr: &[u8], attrs: &[(u16, &[u8])]) -> Vec<u8> {
        let mut b = nl::header(ty, 0, 0);
        b.extend_from_slice(hdr);
        for (t, d) in attrs {
            nl::put_attr(&mut b, *t, d);
        }
        nl::finish(b)
    }

    #[test]
    fn a_dump_becomes_the_host_model() {
        let mut link = [0u8; 16];
        link[4..8].copy_from_slice(&7u32.to_ne_bytes());
        let mut lo = [0u8; 16];
        lo[4..8].copy_from_slice(&1u32.to_ne_bytes());
        let mut addr = [AF_INET, 24, 0, 0, 0, 0, 0, 0];
        addr[4..8].copy_from_slice(&7u32.to_ne_bytes());
        let mut route = [AF_INET, 0, 0, 0, 254, 3, 0, RTN_UNICAST, 0, 0, 0, 0];
        let mut kernel_route = route;
        kernel_route[1] = 24;
        kernel_route[5] = RTPROT_KERNEL;
        let mut d = msg(RTM_NEWLINK, &lo, &[(IFLA_IFNAME, b"lo\0")]);
        d.extend(msg(RTM_NEWLINK, &link, &[(IFLA_IFNAME, b"wan0\0"), (IFLA_ADDRESS, &[2, 0, 0, 0, 0, 9])]));
        d.extend(msg(RTM_NEWADDR, &addr, &[(IFA_ADDRESS, &[198, 51, 100, 9]), (IFA_LOCAL, &[198, 51, 100, 2])]));
        d.extend(msg(RTM_NEWROUTE, &route, &[(RTA_OIF, &7u32.to_ne_bytes())]));
        d.extend(msg(RTM_NEWROUTE, &kernel_route, &[(RTA_DST, &[198, 51, 100, 0]), (RTA_OIF, &7u32.to_ne_bytes())]));
        route[4] = 255; // the local table: not read
        d.extend(msg(RTM_NEWROUTE, &route, &[(RTA_OIF, &7u32.to_ne_bytes())]));
        let (items, done) = parse_dump(&d).unwrap();
        assert!(!done);
        let h = host_model(&items);
        assert_eq!(h.ifaces.len(), 1, "{h:?}");
        assert_eq!((h.ifaces[0].name.as_str(), h.ifaces[0].index), ("wan0", 7));
        assert_eq!(h.ifaces[0].own_mac, Some([2, 0, 0, 0, 0, 9]));
        assert_eq!(h.ifaces[0].addrs, [("198.51.100.2".parse().unwrap(), 24)]);
        assert_eq!(h.routes, [Route { net: "0.0.0.0".parse().unwrap(), len: 0, iface: 0 }]);
        assert_eq!(h.route("203.0.113.1".parse().unwrap()), Some(0));
        let done = msg(NLMSG_DONE, &[0, 0, 0, 0], &[]);
        assert!(parse_dump(&done).unwrap().1);
        for cut in 0..d.len() {
            let _ = parse_dump(&d[..cut]);
        }
    }
}
