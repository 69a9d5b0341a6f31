//! From a NAT statement's request (the chains' [`NatAction`]) to the range
//! the tracker binds: the address masquerade and redirect take from the
//! host model, prefix NAT (`netmap`), and the kernel's range flags.

use crate::host::HostModel;
use ctc_conntrack::{Manip, NatRange, range_flags as rf};
use ctc_ir::abi::NatAction;
use std::net::IpAddr;

/// NatAction::kind values.
const SNAT: u8 = 1;
const DNAT: u8 = 2;
const MASQUERADE: u8 = 3;
const REDIRECT: u8 = 4;

/// The kind of binding a NAT statement asks for.
pub fn manip_of(a: &NatAction) -> Option<Manip> {
    match a.kind {
        SNAT | MASQUERADE => Some(Manip::Src),
        DNAT | REDIRECT => Some(Manip::Dst),
        _ => None,
    }
}

fn bytes16(a: IpAddr) -> [u8; 16] {
    let mut b = [0u8; 16];
    match a {
        IpAddr::V4(v4) => b[..4].copy_from_slice(&v4.octets()),
        IpAddr::V6(v6) => b = v6.octets(),
    }
    b
}

/// Where the packet is, for the addresses masquerade and redirect use.
pub struct Place {
    /// Input interface (host model index), for redirect.
    pub iif: Option<usize>,
    /// Output interface, for masquerade.
    pub oif: Option<usize>,
    /// The packet is the host's own (redirect goes to loopback).
    pub local_out: bool,
    pub src: IpAddr,
    pub dst: IpAddr,
}

/// The range a NAT statement binds, or `Err` when the packet must be
/// dropped (masquerade on an interface without an address of the family:
/// "ate my IP address"; redirect on one without any address).
pub fn range_of(a: &NatAction, host: &HostModel, at: &Place) -> Result<NatRange, ()> {
    let mut r = NatRange { flags: u32::from(a.flags), ..NatRange::default() };
    if a.has_port != 0 {
        r.flags |= rf::PROTO_SPECIFIED;
        r.min_proto = a.port_min;
        r.max_proto = a.port_max;
    }
    match a.kind {
        MASQUERADE => {
            // nf_nat_masquerade_ipv4/6: the output interface's address
            // towards the destination.
            let oif = at.oif.ok_or(())?;
            let addr = host.select_addr(oif, at.dst).ok_or(())?;
            r.flags |= rf::MAP_IPS;
            r.min_addr = bytes16(addr);
            r.max_addr = r.min_addr;
        }
        REDIRECT => {
            // nf_nat_redirect_ipv4/6: loopback for the host's own packets,
            // else the input interface's first address.
            let addr = if at.local_out {
                if at.dst.is_ipv4() {
                    IpAddr::from([127, 0, 0, 1])
                } else {
                    IpAddr::from(std::net::Ipv6Addr::LOCALHOST)
                }
            } else {
                host.iface_addr(at.iif.ok_or(())?, at.dst).ok_or(())?
            };
            r.flags |= rf::MAP_IPS;
            r.min_addr = bytes16(addr);
            r.max_addr = r.min_addr;
        }
        _ => {
            if a.addr_len != 0 {
                r.flags |= rf::MAP_IPS;
                r.min_addr = a.addr_min;
                r.max_addr = a.addr_max;
            }
            if r.flags & rf::NETMAP != 0 {
                // nft_nat_setup_netmap: the packet's address with the
                // range's prefix bits.
                let cur = bytes16(if a.kind == SNAT { at.src } else { at.dst });
                let mut out = cur;
                for i in 0..16 {
                    let mask = !(a.addr_min[i] ^ a.addr_max[i]);
                    out[i] = (cur[i] & !mask) | (a.addr_min[i] & mask);
                }
                r.min_addr = out;
                r.max_addr = out;
            }
        }
    }
    Ok(r)
}
