//! Shared test material: scapy-generated frames (known answers).
#![allow(dead_code)]

pub mod vectors;

/// Every vector with its name.
pub fn all() -> Vec<(&'static str, &'static [u8])> {
    use vectors::*;
    vec![
        ("tcp_syn_v4", TCP_SYN_V4),
        ("udp_vlan_v4", UDP_VLAN_V4),
        ("tcp_qinq_v6", TCP_QINQ_V6),
        ("frag_first_v4", FRAG_FIRST_V4),
        ("frag_later_v4", FRAG_LATER_V4),
        ("ext_chain_v6", EXT_CHAIN_V6),
        ("frag_later_v6", FRAG_LATER_V6),
        ("icmp_unreach_v4", ICMP_UNREACH_V4),
        ("icmp6_unreach", ICMP6_UNREACH),
        ("icmp6_ns", ICMP6_NS),
        ("icmp_echo_ra_v4", ICMP_ECHO_RA_V4),
        ("arp", ARP),
        ("icmp6_echo", ICMP6_ECHO),
        ("udp_nocsum_v4", UDP_NOCSUM_V4),
        ("ah_tcp_v6", AH_TCP_V6),
        ("padded_v4", PADDED_V4),
        ("ipv6_nonext", IPV6_NONEXT),
        ("sctp_v4", SCTP_V4),
    ]
}
