//! Conntrack helpers: the protocol cores of Linux's `nf_conntrack_ftp` and
//! `nf_conntrack_tftp` (with the text side of `nf_nat_ftp`), sans-IO. Each
//! module turns one packet's payload plus what it needs of the connection
//! into a decision; the tracker owns the entries, the expectation table
//! and the packet rewriting.
//!
//! What the tracker does around them (the kernel's helper framework):
//! - A helper is attached only by `ct helper set` (no automatic
//!   assignment); the FTP helper keeps an [`ftp::FtpSeqState`] in the
//!   entry (the kernel's helper extension data).
//! - Helpers run where the kernel's `nf_confirm` runs them: after the last
//!   hook accepted the packet, after NAT rewrote the headers, before
//!   `nf_ct_seq_adjust` of that packet; a helper's NF_DROP drops it.
//! - An expectation is inserted with the helper's [`ExpectPolicy`]: when
//!   the master already has `max_expected`, the oldest of its
//!   expectations is removed first (`nf_ct_expect_related`'s
//!   eviction), and the timeout is the policy's. An expectation equal to
//!   one of another master (same tuple and mask) cannot be added: the
//!   helper logs "cannot add expectation" and the packet is dropped (seen
//!   live: a second FTP session announcing the same EPRT port stalls).
//! - FTP under NAT (`status & IPS_NAT_MASK`), as `nf_nat_ftp()`: the new
//!   address is `tuple[!dir].dst`; `exp.saved_proto.tcp.port` = the
//!   expected port, `exp.dir = !dir`, `expectfn = nf_nat_follow_master`;
//!   the port is the first free one from the command's upward
//!   (`nf_nat_exp_find_port`; none free: drop, "all ports in use"); the
//!   matched text is replaced by [`ftp::format_cmd`] of that address and
//!   port (`nf_nat_mangle_tcp_packet`, with sequence adjustment when the
//!   length changes); a failed rewrite drops ("cannot mangle packet") and
//!   removes the expectation.

pub mod ftp;
pub mod tftp;

#[cfg(test)]
mod tests;

/// `struct nf_conntrack_expect_policy`: how many expectations one master
/// may have at once and how long each lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExpectPolicy {
    /// `max_expected`.
    pub max_expected: u32,
    /// `timeout`, seconds.
    pub timeout_secs: u32,
}

/// A helper the ruleset can name in `ct helper NAME { type "..." protocol ...; }`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HelperDef {
    /// The type string (`nf_conntrack_helper.name`).
    pub name: &'static str,
    /// IP protocol it tracks.
    pub proto: u8,
    /// The kernel's default port (only used for automatic assignment,
    /// which ctc does not do; kept for listings).
    pub default_port: u16,
    /// Expectation policy.
    pub policy: ExpectPolicy,
}

/// ftp_exp_policy: one data connection at a time, 5 minutes.
pub const FTP_POLICY: ExpectPolicy = ExpectPolicy { max_expected: 1, timeout_secs: 5 * 60 };
/// tftp_exp_policy: one transfer at a time, 5 minutes.
pub const TFTP_POLICY: ExpectPolicy = ExpectPolicy { max_expected: 1, timeout_secs: 5 * 60 };

/// The helpers ctc implements, one row each.
pub const HELPERS: [HelperDef; 2] = [
    // nf_conntrack_ftp: TCP, FTP_PORT 21.
    HelperDef { name: "ftp", proto: 6, default_port: 21, policy: FTP_POLICY },
    // nf_conntrack_tftp: UDP, TFTP_PORT 69.
    HelperDef { name: "tftp", proto: 17, default_port: 69, policy: TFTP_POLICY },
];

/// The helper definition for a `ct helper` type string.
pub fn helper_by_name(name: &str) -> Option<&'static HelperDef> {
    HELPERS.iter().find(|h| h.name == name)
}
