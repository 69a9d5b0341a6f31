//! The protocol core of the TFTP helper: Linux 6.x `nf_conntrack_tftp.c`
//! (`tftp_help()`) and what `nf_nat_tftp.c` adds.
//!
//! TFTP (RFC 1350) starts with a read or write request to the server's
//! port 69; the server answers from a new port of its own, which plain
//! UDP tracking would see as a new, unrelated flow. The helper therefore
//! expects, on every request, a UDP flow shaped like the control
//! connection's reply with any source port:
//!
//! - When: every packet of a connection that has the helper, in either
//!   direction and in any ctinfo (tftp_help checks neither), whose UDP
//!   payload starts with opcode RRQ or WRQ ([`is_request`]). Packets whose
//!   payload is shorter than the 2-byte opcode are accepted untouched.
//! - Expectation: `nf_ct_expect_init(exp, NF_CT_EXPECT_CLASS_DEFAULT,
//!   family, &reply.src.u3, &reply.dst.u3, IPPROTO_UDP, NULL,
//!   &reply.dst.u.udp.port)` where `reply` is `tuple[IP_CT_DIR_REPLY]`:
//!   from the server's address, any source port, to the client's address
//!   and port as the server sees them (after NAT). Policy: at most 1
//!   expectation per master, 300 s ([`super::TFTP_POLICY`]).
//! - Without NAT on the connection (`!(status & IPS_NAT_MASK)`):
//!   `nf_ct_expect_related`; on failure log "cannot add expectation" and
//!   drop the packet.
//! - With NAT (nf_nat_tftp's hook): the same expectation, plus
//!   `saved_proto.udp.port = tuple[ORIGINAL].src.u.udp.port`,
//!   `dir = IP_CT_DIR_REPLY`, `expectfn = nf_nat_follow_master` (the
//!   expected flow gets the master's NAT: its destination is rewritten to
//!   the master's original source), then `nf_ct_expect_related` as above.
//!   No payload is rewritten.
//! - Allocation failure of the expectation logs "cannot alloc
//!   expectation" and drops; it cannot happen here.

/// TFTP opcodes (RFC 1350 section 5, include/linux/netfilter/nf_conntrack_tftp.h).
pub mod opcode {
    /// Read request: creates the expectation.
    pub const RRQ: u16 = 1;
    /// Write request: creates the expectation ("RRQ and WRQ works the same
    /// way").
    pub const WRQ: u16 = 2;
    /// Data: nothing to do.
    pub const DATA: u16 = 3;
    /// Acknowledgment: nothing to do.
    pub const ACK: u16 = 4;
    /// Error: nothing to do.
    pub const ERROR: u16 = 5;
}

/// The opcode of a TFTP packet (`struct tftphdr`, a big-endian u16 at the
/// start of the UDP payload), `None` when the payload is shorter than that
/// (skb_header_pointer fails and the helper accepts).
pub fn opcode(udp_payload: &[u8]) -> Option<u16> {
    match udp_payload {
        [hi, lo, ..] => Some(u16::from_be_bytes([*hi, *lo])),
        _ => None,
    }
}

/// Does this packet make `tftp_help()` create an expectation? True for
/// RRQ and WRQ, whatever follows the opcode (the file name and mode are
/// not checked) and whichever direction it travels.
pub fn is_request(udp_payload: &[u8]) -> bool {
    matches!(opcode(udp_payload), Some(opcode::RRQ | opcode::WRQ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helpers_tftp_requests() {
        // RRQ "file" octet, WRQ: requests.
        assert!(is_request(b"\x00\x01file\x00octet\x00"));
        assert!(is_request(b"\x00\x02file\x00netascii\x00"));
        // The opcode alone is enough: the kernel reads only struct tftphdr.
        assert!(is_request(b"\x00\x01"));
        assert!(is_request(b"\x00\x02"));
        // DATA, ACK, ERROR, unknown opcodes, and byte-swapped opcodes: not.
        for p in
            [&b"\x00\x03\x00\x01data"[..], b"\x00\x04\x00\x01", b"\x00\x05\x00\x01oops\x00", b"\x00\x06", b"\x00\x00"]
        {
            assert!(!is_request(p), "{p:?}");
        }
        assert!(!is_request(b"\x01\x00"));
        assert!(!is_request(b"\x02\x00"));
        // Too short for the opcode: accepted untouched.
        assert!(!is_request(b""));
        assert!(!is_request(b"\x00"));
        assert_eq!(opcode(b"\x00"), None);
        assert_eq!(opcode(b"\x00\x05x"), Some(opcode::ERROR));
        assert_eq!(opcode(b"\x12\x34"), Some(0x1234));
    }
}
