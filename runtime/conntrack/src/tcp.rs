//! TCP connection tracking as Linux 6.x nf_conntrack_proto_tcp.c: the
//! transition table `tcp_conntracks` as data with a comment per cell,
//! `tcp_in_window`, `tcp_valid_flags`/`tcp_error`, loose pickup, be_liberal,
//! max_retrans and the RETRANS/UNACK timeouts, SYN_SENT2, reopening from
//! TIME_WAIT/CLOSE, RST checks and challenge ACKs, ASSURED.
//!
//! Sans-IO: the caller parses the segment into a [`Segment`] and passes the
//! packet time; this module never touches bytes or clocks itself.

/// TCP conntrack states (TCP_CONNTRACK_*), in the kernel's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TcpState {
    None,
    SynSent,
    SynRecv,
    Established,
    FinWait,
    CloseWait,
    LastAck,
    TimeWait,
    Close,
    SynSent2,
}

impl TcpState {
    /// The name conntrack-tools prints (`SYN_SENT`, `ESTABLISHED`, ...).
    pub fn name(self) -> &'static str {
        match self {
            TcpState::None => "NONE",
            TcpState::SynSent => "SYN_SENT",
            TcpState::SynRecv => "SYN_RECV",
            TcpState::Established => "ESTABLISHED",
            TcpState::FinWait => "FIN_WAIT",
            TcpState::CloseWait => "CLOSE_WAIT",
            TcpState::LastAck => "LAST_ACK",
            TcpState::TimeWait => "TIME_WAIT",
            TcpState::Close => "CLOSE",
            TcpState::SynSent2 => "SYN_SENT2",
        }
    }
}

/// What the tracker needs of one segment (parsed by the caller).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Segment {
    /// TCP flags byte (FIN 0x01 ... CWR 0x80).
    pub flags: u8,
    pub seq: u32,
    pub ack: u32,
    pub window: u16,
    /// Payload length (IP payload minus the TCP header).
    pub data_len: u32,
    /// Options, when present: window scale shift, SACK-permitted, and the
    /// highest right edge of the SACK blocks (for tcp_sack).
    pub wscale: Option<u8>,
    pub sack_perm: bool,
    pub sack_max_right: Option<u32>,
}

/// The sysctls the TCP tracker reads (net.netfilter.nf_conntrack_tcp_*),
/// timeouts in seconds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TcpConfig {
    pub loose: bool,
    pub be_liberal: bool,
    pub max_retrans: u32,
    pub ignore_invalid_rst: bool,
    pub timeout_syn_sent: u64,
    pub timeout_syn_recv: u64,
    pub timeout_established: u64,
    pub timeout_fin_wait: u64,
    pub timeout_close_wait: u64,
    pub timeout_last_ack: u64,
    pub timeout_time_wait: u64,
    pub timeout_close: u64,
    pub timeout_max_retrans: u64,
    pub timeout_unacknowledged: u64,
}

impl Default for TcpConfig {
    /// Kernel defaults (nf_conntrack_proto_tcp.c tcp_timeouts[], sysctls).
    fn default() -> Self {
        TcpConfig {
            loose: true,
            be_liberal: false,
            max_retrans: 3,
            ignore_invalid_rst: false,
            timeout_syn_sent: 120,
            timeout_syn_recv: 60,
            timeout_established: 432_000,
            timeout_fin_wait: 120,
            timeout_close_wait: 60,
            timeout_last_ack: 30,
            timeout_time_wait: 120,
            timeout_close: 10,
            timeout_max_retrans: 300,
            timeout_unacknowledged: 300,
        }
    }
}

/// Direction of a packet relative to the connection's original tuple.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dir {
    Original = 0,
    Reply = 1,
}

/// Connection status bits the TCP tracker reads or sets (IPS_*).
pub mod status {
    pub const SEEN_REPLY: u32 = 1 << 1;
    pub const ASSURED: u32 = 1 << 2;
}

/// What [`TcpConn::packet`] decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TcpVerdict {
    /// The packet belongs to the connection; the entry's timeout becomes
    /// `timeout_secs` from now.
    Accept { timeout_secs: u64 },
    /// The packet is INVALID for conntrack (it is not tracked, the entry is
    /// unchanged but for what the kernel changes before rejecting); the
    /// reason is the kernel's log text (e.g. "invalid state", "SEQ is over
    /// the upper bound (over the window of the receiver)").
    Invalid { reason: &'static str },
    /// The connection is over and this segment opens a new one on the same
    /// tuple (a SYN in TIME_WAIT/CLOSE...): the caller destroys the entry
    /// and handles the packet again as a new connection (the kernel's
    /// -NF_REPEAT).
    Reopen,
}

/// Per-connection TCP tracking state (struct ip_ct_tcp).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TcpConn {
    pub state: TcpState,
}

impl TcpConn {
    /// tcp_new: whether a packet that matches no entry may create one, and
    /// the new connection's state. `None`: INVALID, no entry (with the
    /// reason as the kernel logs it).
    pub fn new(seg: &Segment, cfg: &TcpConfig) -> Result<TcpConn, &'static str> {
        let _ = (seg, cfg);
        Err("TCP tracking is not built yet")
    }

    /// nf_conntrack_tcp_packet for a packet of an existing connection (or
    /// the first packet right after [`TcpConn::new`]): state transition,
    /// window checks, flags of the entry (`status` IPS bits: SEEN_REPLY is
    /// set by the caller before the call for reply packets as the kernel
    /// does; ASSURED is set here).
    pub fn packet(&mut self, dir: Dir, seg: &Segment, status: &mut u32, cfg: &TcpConfig) -> TcpVerdict {
        let _ = (dir, seg, status, cfg);
        TcpVerdict::Invalid { reason: "TCP tracking is not built yet" }
    }
}

/// tcp_error: checks done before any lookup (bad flag combinations,
/// truncated header). `Err(reason)`: INVALID.
pub fn check_segment(flags: u8) -> Result<(), &'static str> {
    let _ = flags;
    Ok(())
}
