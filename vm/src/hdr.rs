//! Walks over variable header chains: IPv6 extension headers
//! (`ipv6_find_hdr` of net/ipv6/exthdrs_core.c) and TCP options
//! (`nft_exthdr_tcp_eval` of net/netfilter/nft_exthdr.c). Both are
//! bounded by the packet length and make progress on every step.

const HOPOPTS: u8 = 0;
const ROUTING: u8 = 43;
const FRAGMENT: u8 = 44;
const AUTH: u8 = 51;
const NONE: u8 = 59;
const DSTOPTS: u8 = 60;

/// The kernel's `ipv6_ext_hdr`: headers that chain to a next header.
fn is_ext(h: u8) -> bool {
    matches!(h, HOPOPTS | ROUTING | FRAGMENT | AUTH | NONE | DSTOPTS)
}

/// Offset in `pkt` of the first header of protocol `target` in the IPv6
/// packet whose fixed header is at `nh`, like `ipv6_find_hdr(skb, &off,
/// target, NULL, NULL)`: the chain is followed while it consists of
/// extension headers; a non-first fragment ends the walk (what follows is
/// not the next header); a truncated header is not found.
pub fn ipv6_find_hdr(pkt: &[u8], nh: usize, target: u8) -> Option<usize> {
    let mut nexthdr = *pkt.get(nh + 6)?;
    let mut start = nh + 40;
    // Each step advances by at least 8 bytes, so the walk ends; the bound
    // only keeps a hostile chain of tiny headers cheap.
    for _ in 0..64 {
        if nexthdr == target {
            return (start <= pkt.len()).then_some(start);
        }
        if !is_ext(nexthdr) || nexthdr == NONE {
            return None;
        }
        let hp = pkt.get(start..start + 2)?;
        let hdrlen = match nexthdr {
            FRAGMENT => {
                let fo = pkt.get(start + 2..start + 4)?;
                // Fragment offset (13 bits, in 8-byte units) not zero: the
                // headers of the original packet are not in this one.
                if u16::from_be_bytes([fo[0], fo[1]]) & !0x7 != 0 {
                    return None;
                }
                8
            }
            // ipv6_authlen: (hdrlen + 2) << 2.
            AUTH => (hp[1] as usize + 2) << 2,
            // ipv6_optlen: (hdrlen + 1) << 3.
            _ => (hp[1] as usize + 1) << 3,
        };
        nexthdr = hp[0];
        start += hdrlen;
    }
    None
}

/// The kernel's `optlen`: EOL, NOP and options claiming length 0 take one
/// byte, so the walk always makes progress.
fn optlen(opt: &[u8], i: usize) -> usize {
    if opt[i] <= 1 || opt[i + 1] == 0 { 1 } else { opt[i + 1] as usize }
}

/// Where TCP option `kind` starts (offset in `tcph`) and its length, like
/// `nft_exthdr_tcp_eval`: `tcph` is the whole TCP header (`doff * 4`
/// bytes); the walk does not stop at EOL, as the kernel's does not; an
/// option running past the header is an error (`None`), as is one
/// shorter than `need` bytes.
pub fn tcp_find_opt(tcph: &[u8], kind: u8, need: usize) -> Option<usize> {
    let mut i = 20;
    while i + 1 < tcph.len() {
        let l = optlen(tcph, i);
        if tcph[i] == kind {
            if i + l > tcph.len() || need > l {
                return None;
            }
            return Some(i);
        }
        i += l;
    }
    None
}
