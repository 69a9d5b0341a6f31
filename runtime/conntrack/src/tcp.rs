//! TCP connection tracking as Linux 6.x nf_conntrack_proto_tcp.c: the
//! transition table `tcp_conntracks` as data with a comment per cell,
//! `tcp_in_window`, `tcp_valid_flags`/`tcp_error`, loose pickup, be_liberal,
//! max_retrans and the RETRANS/UNACK timeouts, SYN_SENT2, reopening from
//! TIME_WAIT/CLOSE, RST checks and challenge ACKs, ASSURED.
//!
//! Sans-IO: the caller parses the segment into a [`Segment`] and passes the
//! packet time; this module never touches bytes or clocks itself.
//!
//! Use: [`check_segment`] on every TCP segment (tcp_error); for a segment
//! that matches no entry, [`TcpConn::new`] (tcp_new) and then
//! [`TcpConn::packet`] with [`Dir::Original`] for that same segment, as the
//! kernel runs `nf_conntrack_tcp_packet` on the first packet of an
//! unconfirmed entry; for later segments [`TcpConn::packet`].
//! [`TcpConn::packet_action`] tells the whole kernel outcome (no timeout
//! refresh, immediate kill, timeout shrink on INVALID), which
//! [`TcpVerdict`] can only approximate.

mod table;
#[cfg(test)]
mod tests;

pub use table::{Next, TcpIndex, next as transition, valid_flags};

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
    /// SYN_SENT2 has no sysctl (TIMEOUT_SYN_SENT2), but a `ct timeout`
    /// policy may set it.
    pub timeout_syn_sent2: u64,
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
            timeout_syn_sent2: TIMEOUT_SYN_SENT2,
        }
    }
}

/// The timeout of SYN_SENT2: `tcp_timeouts[TCP_CONNTRACK_SYN_SENT2]`, 2
/// minutes; the kernel has no sysctl for it (only cttimeout policies).
pub const TIMEOUT_SYN_SENT2: u64 = 120;

impl TcpConfig {
    /// `timeouts[state]`; `timeouts[NONE]` is the SYN_SENT value, as
    /// nf_conntrack_tcp_init_net sets it.
    pub fn state_timeout(&self, state: TcpState) -> u64 {
        match state {
            TcpState::None | TcpState::SynSent => self.timeout_syn_sent,
            TcpState::SynRecv => self.timeout_syn_recv,
            TcpState::Established => self.timeout_established,
            TcpState::FinWait => self.timeout_fin_wait,
            TcpState::CloseWait => self.timeout_close_wait,
            TcpState::LastAck => self.timeout_last_ack,
            TcpState::TimeWait => self.timeout_time_wait,
            TcpState::Close => self.timeout_close,
            TcpState::SynSent2 => self.timeout_syn_sent2,
        }
    }
}

/// Direction of a packet relative to the connection's original tuple.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dir {
    Original = 0,
    Reply = 1,
}

impl Dir {
    /// The other direction (`!dir`).
    pub fn other(self) -> Dir {
        match self {
            Dir::Original => Dir::Reply,
            Dir::Reply => Dir::Original,
        }
    }
}

/// Connection status bits the TCP tracker reads or sets (IPS_*).
pub mod status {
    pub const SEEN_REPLY: u32 = 1 << 1;
    pub const ASSURED: u32 = 1 << 2;
}

/// TCP header flag bits (the flags byte of the header).
pub mod flags {
    pub const FIN: u8 = 0x01;
    pub const SYN: u8 = 0x02;
    pub const RST: u8 = 0x04;
    pub const PSH: u8 = 0x08;
    pub const ACK: u8 = 0x10;
    pub const URG: u8 = 0x20;
    pub const ECE: u8 = 0x40;
    pub const CWR: u8 = 0x80;
}

/// Per-direction flags of the tracker (IP_CT_TCP_FLAG_*, uapi
/// nf_conntrack_tcp.h), in [`TcpDirState::flags`] and
/// [`TcpConn::last_flags`].
pub mod ct_flags {
    /// The sender offered window scaling on its SYN.
    pub const WINDOW_SCALE: u8 = 0x01;
    /// The sender offered SACK on its SYN (or the entry was picked up).
    pub const SACK_PERM: u8 = 0x02;
    /// This side sent the first FIN.
    pub const CLOSE_INIT: u8 = 0x04;
    /// No window checks for this side (picked-up connections).
    pub const BE_LIBERAL: u8 = 0x08;
    /// This side has sent data the other has not acknowledged yet.
    pub const DATA_UNACKNOWLEDGED: u8 = 0x10;
    /// `td_maxack` holds a value.
    pub const MAXACK_SET: u8 = 0x20;
    /// In `last_flags`: a SYN was let through in LAST_ACK; expect an RFC
    /// 5961 challenge ACK, which does not ACK the last FIN.
    pub const EXP_CHALLENGE_ACK: u8 = 0x40;
    /// In `last_flags`: SYNs crossed (SYN_SENT2 seen).
    pub const SIMULTANEOUS_OPEN: u8 = 0x80;
}

/// Largest window scale shift (RFC 7323, TCP_MAX_WSCALE).
const TCP_MAX_WSCALE: u8 = 14;

/// MAXACKWINCONST: the lowest allowed "ACK under the lower bound" distance.
const MAXACKWINCONST: u32 = 66_000;

/// What [`TcpConn::packet`] decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TcpVerdict {
    /// The packet belongs to the connection; the entry's timeout becomes
    /// `timeout_secs` from now.
    Accept { timeout_secs: u64 },
    /// The packet belongs to the connection; the entry's timeout is left
    /// as it is (an ignored segment, a SYN retransmitted before any reply,
    /// a challenge ACK: [`TcpAction::AcceptNoRefresh`]).
    Keep,
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

/// The full outcome of nf_conntrack_tcp_packet, as [`TcpConn::packet_action`]
/// returns it. [`TcpVerdict`] is a lossy summary of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TcpAction {
    /// Tracked; `nf_ct_refresh_acct`: the timeout becomes `timeout_secs`
    /// from now.
    Accept { timeout_secs: u64 },
    /// Tracked (NF_ACCEPT, the packet's ct state is established/new as
    /// usual) but the timeout is left as it is: an ignored packet (sIG, a
    /// segment under the window's lower bound), a challenge ACK in
    /// LAST_ACK, or a retransmitted SYN before any reply ("do not renew
    /// timeout on SYN retransmit").
    AcceptNoRefresh { reason: &'static str },
    /// Tracked, then the entry is destroyed at once (`nf_ct_kill_acct`):
    /// the only reply was a RST. The entry's state is already CLOSE and its
    /// timeout was not refreshed (the DESTROY event shows the old one).
    Kill,
    /// INVALID. With `shrink_timeout_to`, `nf_tcp_handle_invalid` lowers the
    /// timeout of an ASSURED entry that got an out-of-window FIN/RST in
    /// answer to a FIN/RST of the other side: if the remaining timeout is at
    /// least 120 s and more than this value, it becomes this value.
    Invalid { reason: &'static str, shrink_timeout_to: Option<u64> },
    /// See [`TcpVerdict::Reopen`] (the entry is killed, -NF_REPEAT).
    Reopen,
}

/// One side's view of the window (struct ip_ct_tcp_state). Packed to
/// 18 bytes (2-byte alignment): the two sides take 36 bytes of the 60 of
/// a [`TcpConn`] instead of 40; the fields are read and written by value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[repr(C, packed(2))]
pub struct TcpDirState {
    /// Highest seq + len (+SYN/FIN) this side has sent.
    pub td_end: u32,
    /// Highest ack + window the other side allowed this side to reach.
    pub td_maxend: u32,
    /// Largest window this side announced (scaled); 0: side not seen yet.
    pub td_maxwin: u32,
    /// Highest ACK this side sent (valid with [`ct_flags::MAXACK_SET`]).
    pub td_maxack: u32,
    /// Window scale shift this side announced.
    pub td_scale: u8,
    /// [`ct_flags`] bits.
    pub flags: u8,
}

impl TcpDirState {
    /// nf_ct_tcp_state_reset: forget the window, keep BE_LIBERAL.
    fn reset(&mut self) {
        *self = TcpDirState { flags: self.flags & ct_flags::BE_LIBERAL, ..TcpDirState::default() };
    }

    /// tcp_options on a SYN: window scale and SACK-permitted of this side.
    /// The kernel resets the scale and the flags (but BE_LIBERAL) only when
    /// the header has options at all; [`Segment`] does not say, and every
    /// stack sends at least MSS on a SYN, so we always reset. Differs only
    /// for a crafted option-less SYN that re-initialises a side (a new ISN
    /// in SYN_SENT/SYN_RECV): the kernel would keep that side's old flags.
    fn take_options(&mut self, seg: &Segment) {
        self.td_scale = 0;
        self.flags &= ct_flags::BE_LIBERAL;
        if seg.sack_perm {
            self.flags |= ct_flags::SACK_PERM;
        }
        if let Some(ws) = seg.wscale {
            self.td_scale = ws.min(TCP_MAX_WSCALE);
            self.flags |= ct_flags::WINDOW_SCALE;
        }
    }
}

/// Sequence number adjustment of one direction (struct nf_ct_seqadj), kept
/// up to date by NAT helpers that change payload lengths (FTP PORT/PASV
/// rewriting); all zero otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SeqAdj {
    pub correction_pos: u32,
    pub offset_before: i32,
    pub offset_after: i32,
}

impl SeqAdj {
    /// nf_ct_seq_offset.
    fn offset(&self, seq: u32) -> i32 {
        if after(seq, self.correction_pos) { self.offset_after } else { self.offset_before }
    }
}

/// `before(a, b)`: a precedes b in sequence space.
#[inline]
fn before(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) < 0
}

/// `after(a, b)`.
#[inline]
fn after(a: u32, b: u32) -> bool {
    before(b, a)
}

/// segment_seq_plus_len: the sequence number after this segment (SYN and
/// FIN take one each).
fn segment_end(seg: &Segment) -> u32 {
    seg.seq
        .wrapping_add(seg.data_len)
        .wrapping_add(u32::from(seg.flags & flags::SYN != 0))
        .wrapping_add(u32::from(seg.flags & flags::FIN != 0))
}

/// MAXACKWINDOW(sender).
fn max_ack_window(sender: &TcpDirState) -> u32 {
    if sender.td_maxwin > MAXACKWINCONST { sender.td_maxwin } else { MAXACKWINCONST }
}

/// The kernel's log texts (nf_ct_l4proto_log_invalid) for INVALID and
/// ignored packets, without the numbers the kernel formats into them.
pub mod reason {
    pub const INVALID_FLAGS: &str = "invalid tcp flag combination";
    pub const INVALID_NEW: &str = "invalid new";
    /// tcp_new with tcp_loose=0 and no SYN: the kernel logs nothing.
    pub const NO_PICKUP: &str = "not a SYN and tcp_loose=0: no mid-stream pickup";
    pub const SEQ_OVER: &str = "SEQ is over upper bound (over the window of the receiver)";
    pub const ACK_OVER: &str = "ACK is over upper bound (ACKed data not seen yet)";
    pub const SEQ_UNDER: &str = "SEQ is under lower bound (already ACKed data retransmitted)";
    pub const ACK_UNDER: &str = "ignored ACK under lower bound (possible overly delayed)";
    pub const BYTES_OVER: &str = "bytes more than expected";
    pub const INVALID_RST: &str = "invalid rst";
    pub const CHALLENGE_ACK: &str = "challenge-ack ignored";
    pub const SYN_RETRANS: &str = "SYN retransmission before any reply: timeout not renewed";
    /// "packet (index %d) in dir %d invalid, state %s", per state.
    pub const INVALID_IN_STATE: [&str; 10] = [
        "packet invalid, state NONE",
        "packet invalid, state SYN_SENT",
        "packet invalid, state SYN_RECV",
        "packet invalid, state ESTABLISHED",
        "packet invalid, state FIN_WAIT",
        "packet invalid, state CLOSE_WAIT",
        "packet invalid, state LAST_ACK",
        "packet invalid, state TIME_WAIT",
        "packet invalid, state CLOSE",
        "packet invalid, state SYN_SENT2",
    ];
    /// "packet (index %d) in dir %d ignored, state %s", per state.
    pub const IGNORED_IN_STATE: [&str; 10] = [
        "packet ignored, state NONE",
        "packet ignored, state SYN_SENT",
        "packet ignored, state SYN_RECV",
        "packet ignored, state ESTABLISHED",
        "packet ignored, state FIN_WAIT",
        "packet ignored, state CLOSE_WAIT",
        "packet ignored, state LAST_ACK",
        "packet ignored, state TIME_WAIT",
        "packet ignored, state CLOSE",
        "packet ignored, state SYN_SENT2",
    ];
}

/// Result of tcp_in_window (enum nf_ct_tcp_action).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum WindowResult {
    Accept,
    Ignore(&'static str),
    Invalid(&'static str),
}

/// Per-connection TCP tracking state (struct ip_ct_tcp).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TcpConn {
    pub state: TcpState,
    /// Window tracking per direction, indexed by `Dir as usize`.
    pub seen: [TcpDirState; 2],
    /// Direction, kind, and numbers of the last in-window packet (or of the
    /// last ignored one): used for retransmission detection, for the
    /// resynchronisation on an ignored SYN, and for the RST checks.
    pub last_dir: Dir,
    pub last_index: TcpIndex,
    pub last_seq: u32,
    pub last_ack: u32,
    pub last_end: u32,
    pub last_win: u16,
    /// Window scale ([`TcpConn::last_wscale`], at most 14: the low bits)
    /// of the last ignored SYN, and in [`SEEN_REPLY`] whether a reply was
    /// seen ([`TcpConn::seen_reply`]): one byte for both, so that the
    /// tracker takes 56 bytes.
    wscale_reply: u8,
    /// [`ct_flags`] of the last ignored SYN (to resync from), plus
    /// EXP_CHALLENGE_ACK and SIMULTANEOUS_OPEN.
    pub last_flags: u8,
    /// Identical ACK segments in a row (a u8 in the kernel: it wraps).
    pub retrans: u8,
}

/// The bit of [`TcpConn::wscale_reply`] that holds
/// [`TcpConn::seen_reply`] (window scales are at most [`TCP_MAX_WSCALE`]).
const SEEN_REPLY: u8 = 0x80;

impl TcpConn {
    /// An empty entry (the kernel's memset before tcp_new fills it).
    fn blank() -> TcpConn {
        TcpConn {
            state: TcpState::None,
            seen: [TcpDirState::default(); 2],
            last_dir: Dir::Original,
            last_index: TcpIndex::None,
            last_seq: 0,
            last_ack: 0,
            last_end: 0,
            last_win: 0,
            wscale_reply: 0,
            last_flags: 0,
            retrans: 0,
        }
    }

    /// Window scale of the last ignored SYN (to resync from).
    pub fn last_wscale(&self) -> u8 {
        self.wscale_reply & !SEEN_REPLY
    }

    fn set_last_wscale(&mut self, ws: u8) {
        debug_assert!(ws <= TCP_MAX_WSCALE);
        self.wscale_reply = self.wscale_reply & SEEN_REPLY | ws;
    }

    /// IPS_SEEN_REPLY as nf_conntrack_tcp_packet sees it: set after a reply
    /// packet was accepted (nf_conntrack_in sets the bit after the protocol
    /// handler), so the first reply still finds it clear. Kept here so the
    /// result does not depend on when the caller sets the status bit.
    pub fn seen_reply(&self) -> bool {
        self.wscale_reply & SEEN_REPLY != 0
    }

    /// tcp_new: whether a packet that matches no entry may create one, and
    /// the new connection's state. `None`: INVALID, no entry (with the
    /// reason as the kernel logs it).
    ///
    /// The entry starts in NONE; the caller then runs [`TcpConn::packet`]
    /// on the same segment ([`Dir::Original`]), which moves it to SYN_SENT
    /// (a SYN) or ESTABLISHED (a picked-up ACK, with `tcp_loose`).
    pub fn new(seg: &Segment, cfg: &TcpConfig) -> Result<TcpConn, &'static str> {
        check_segment(seg.flags)?;
        let index = TcpIndex::of(seg.flags);
        let first = match table::next(false, index, TcpState::None) {
            Next::To(state) => state,
            Next::Invalid | Next::Ignore => return Err(reason::INVALID_NEW),
        };
        let mut conn = TcpConn::blank();
        let orig = &mut conn.seen[Dir::Original as usize];
        orig.td_end = segment_end(seg);
        orig.td_maxwin = u32::from(seg.window).max(1);
        if first == TcpState::SynSent {
            // A SYN: the initiator's window ends where its SYN ends, until
            // the SYN/ACK tells us the responder's window.
            orig.td_maxend = orig.td_end;
            orig.take_options(seg);
        } else if !cfg.loose {
            // tcp_loose=0: don't try to pick up connections.
            return Err(reason::NO_PICKUP);
        } else {
            // Mid-stream: its history is lost for us, use the packet's data;
            // assume SACK and liberal window checks in both directions (the
            // window scale is unknown).
            orig.td_maxend = orig.td_end.wrapping_add(orig.td_maxwin);
            let liberal = ct_flags::SACK_PERM | ct_flags::BE_LIBERAL;
            conn.seen[0].flags = liberal;
            conn.seen[1].flags = liberal;
        }
        // tcp_packet sets them.
        conn.last_index = TcpIndex::None;
        Ok(conn)
    }

    /// nf_conntrack_tcp_packet for a packet of an existing connection (or
    /// the first packet right after [`TcpConn::new`]): state transition,
    /// window checks, flags of the entry (`status` IPS bits: ASSURED is read
    /// and set here).
    ///
    /// SEEN_REPLY is not read from `status`: nf_conntrack_in sets that bit
    /// *after* the protocol handler accepted a reply, so the first reply is
    /// handled with the bit still clear (the oracle's tcp_loose_ack step 4:
    /// no ASSURED, 300 s). This tracker keeps its own copy
    /// ([`TcpConn::seen_reply`]), so it does not matter when the caller sets
    /// the bit. Outcomes that [`TcpVerdict`] cannot express are summarised:
    /// no refresh as [`TcpVerdict::Keep`], an immediate kill as
    /// `Accept { timeout_secs: 0 }`, no timeout shrink on INVALID (see
    /// [`TcpConn::packet_action`] for the exact outcome).
    pub fn packet(&mut self, dir: Dir, seg: &Segment, status: &mut u32, cfg: &TcpConfig) -> TcpVerdict {
        match self.packet_action(dir, seg, status, cfg) {
            TcpAction::Accept { timeout_secs } => TcpVerdict::Accept { timeout_secs },
            TcpAction::AcceptNoRefresh { .. } => TcpVerdict::Keep,
            TcpAction::Kill => TcpVerdict::Accept { timeout_secs: 0 },
            TcpAction::Invalid { reason, .. } => TcpVerdict::Invalid { reason },
            TcpAction::Reopen => TcpVerdict::Reopen,
        }
    }

    /// nf_conntrack_tcp_packet with its exact outcome (see [`TcpAction`]).
    pub fn packet_action(&mut self, dir: Dir, seg: &Segment, status: &mut u32, cfg: &TcpConfig) -> TcpAction {
        self.packet_action_adj(dir, seg, status, cfg, None)
    }

    /// [`TcpConn::packet_action`] for a connection whose sequence numbers
    /// a NAT helper adjusts (nf_ct_seqadj; the kernel's seqadj extension,
    /// kept out of this struct as it is only there for such connections:
    /// `None` behaves as all zero).
    pub fn packet_action_adj(
        &mut self,
        dir: Dir,
        seg: &Segment,
        status: &mut u32,
        cfg: &TcpConfig,
        seqadj: Option<&[SeqAdj; 2]>,
    ) -> TcpAction {
        if let Err(reason) = check_segment(seg.flags) {
            return TcpAction::Invalid { reason, shrink_timeout_to: None };
        }
        self.packet_action_checked(dir, seg, status, cfg, seqadj)
    }

    /// [`TcpConn::packet_action_adj`] for a segment whose flags the caller
    /// has already checked with [`check_segment`] (the tracker does, in
    /// tcp_error's place, before it looks the tracker up).
    /// Out of line, as `packet_action_adj` was: inlined into the tracker's
    /// packet path it cost 25 instructions per segment more.
    #[inline(never)]
    pub(crate) fn packet_action_checked(
        &mut self,
        dir: Dir,
        seg: &Segment,
        status: &mut u32,
        cfg: &TcpConfig,
        seqadj: Option<&[SeqAdj; 2]>,
    ) -> TcpAction {
        debug_assert!(check_segment(seg.flags).is_ok());
        let action = self.process(dir, seg, status, cfg, seqadj);
        match action {
            TcpAction::Accept { .. } | TcpAction::AcceptNoRefresh { .. } | TcpAction::Kill => self.note_reply(dir),
            TcpAction::Invalid { .. } | TcpAction::Reopen => {}
        }
        action
    }

    /// nf_conntrack_in: a reply the handler accepted sets IPS_SEEN_REPLY.
    fn note_reply(&mut self, dir: Dir) {
        if dir == Dir::Reply {
            self.wscale_reply |= SEEN_REPLY;
        }
    }

    /// nf_conntrack_tcp_established: ESTABLISHED and ASSURED.
    fn established(&self, status: u32) -> bool {
        self.state == TcpState::Established && status & status::ASSURED != 0
    }

    /// The body of nf_conntrack_tcp_packet after tcp_error/tcp_new (the
    /// flags are checked).
    fn process(
        &mut self,
        dir: Dir,
        seg: &Segment,
        status: &mut u32,
        cfg: &TcpConfig,
        seqadj: Option<&[SeqAdj; 2]>,
    ) -> TcpAction {
        let d = dir as usize;
        let o = dir.other() as usize;
        let stored_state = self.state;
        let mut old_state = self.state;
        let index = TcpIndex::of(seg.flags);
        let cell = table::next(dir == Dir::Reply, index, old_state);
        // `goto in_window`: the packet skips tcp_in_window.
        let mut skip_window = false;

        let new_state = match cell {
            Next::Invalid => {
                return TcpAction::Invalid {
                    reason: reason::INVALID_IN_STATE[old_state as usize],
                    shrink_timeout_to: None,
                };
            }
            Next::To(TcpState::SynSent) if old_state < TcpState::TimeWait => TcpState::SynSent,
            Next::To(TcpState::SynSent) | Next::Ignore => {
                if cell == Next::To(TcpState::SynSent) {
                    // RFC 1122: a SYN may reopen a connection from
                    // TIME_WAIT; also a client that aborted (RST) and
                    // starts again. Kill the entry and look up again.
                    let closing = (self.seen[d].flags | self.seen[o].flags) & ct_flags::CLOSE_INIT != 0;
                    if closing || (self.last_dir == dir && self.last_index == TcpIndex::Rst) {
                        return TcpAction::Reopen;
                    }
                    // Otherwise the SYN is ignored like the sIG cells.
                }
                match self.ignored(dir, index, old_state, seg) {
                    Some(action) => return action,
                    None => {
                        // b) resynchronised on a SYN/ACK answering an
                        // ignored SYN.
                        old_state = TcpState::SynSent;
                        TcpState::SynRecv
                    }
                }
            }
            Next::To(TcpState::TimeWait) => {
                // RFC 5961: a stack answers a spurious SYN with a challenge
                // ACK; in LAST_ACK it must not be taken for the last ACK.
                if old_state == TcpState::LastAck
                    && index == TcpIndex::Ack
                    && self.last_dir != dir
                    && self.last_index == TcpIndex::Syn
                    && self.last_flags & ct_flags::EXP_CHALLENGE_ACK != 0
                {
                    self.last_flags &= !ct_flags::EXP_CHALLENGE_ACK;
                    return TcpAction::AcceptNoRefresh { reason: reason::CHALLENGE_ACK };
                }
                TcpState::TimeWait
            }
            Next::To(TcpState::SynSent2) => {
                // The table alone cannot follow a simultaneous open.
                self.last_flags |= ct_flags::SIMULTANEOUS_OPEN;
                TcpState::SynSent2
            }
            Next::To(TcpState::SynRecv) => {
                if dir == Dir::Reply && index == TcpIndex::Ack && self.last_flags & ct_flags::SIMULTANEOUS_OPEN != 0 {
                    TcpState::Established
                } else {
                    TcpState::SynRecv
                }
            }
            Next::To(TcpState::Close) if index == TcpIndex::Rst => {
                let mut new_state = TcpState::Close;
                'rst: {
                    // Closing already: the tuple may have been reused and
                    // the window data be stale; no validation.
                    if can_early_drop(stored_state) {
                        skip_window = true;
                        break 'rst;
                    }
                    // td_maxack may be stale if we let a SYN through.
                    if self.seen[o].flags & ct_flags::MAXACK_SET != 0 && self.last_index != TcpIndex::Syn {
                        let maxack = self.seen[o].td_maxack;
                        // SEQ 0 outside ESTABLISHED: most likely the answer
                        // to a SYN we let through.
                        if seg.seq == 0 && !self.established(*status) {
                            break 'rst;
                        }
                        if before(seg.seq, maxack) && !cfg.ignore_invalid_rst {
                            return TcpAction::Invalid { reason: reason::INVALID_RST, shrink_timeout_to: None };
                        }
                        if !self.established(*status) || seg.seq == maxack {
                            break 'rst;
                        }
                        // A RST right after data of the same side, at its
                        // end ("RST train").
                        if self.last_index == TcpIndex::Ack && self.last_dir == dir && seg.seq == self.last_end {
                            break 'rst;
                        }
                        // The RST's SEQ is not exactly the expected one: keep
                        // the state to allow a challenge ACK.
                        new_state = old_state;
                    }
                    // RST answering an invalid SYN (a) or ACK (c) we let
                    // through: delete the entry, skip the window check (it
                    // may ACK segments we ignored).
                    if ((self.seen_reply() && self.last_index == TcpIndex::Syn)
                        || (*status & status::ASSURED == 0 && self.last_index == TcpIndex::Ack))
                        && seg.ack == self.last_end
                    {
                        skip_window = true;
                        break 'rst;
                    }
                    // RST answering a challenge ACK we let through.
                    if old_state == TcpState::SynSent
                        && self.last_index == TcpIndex::Ack
                        && self.last_dir == Dir::Reply
                        && seg.seq == self.last_ack
                    {
                        skip_window = true;
                    }
                }
                new_state
            }
            Next::To(state) => state,
        };

        if !skip_window {
            match self.in_window(dir, index, seg, cfg, stored_state, seqadj) {
                WindowResult::Accept => {}
                WindowResult::Ignore(reason) => return TcpAction::AcceptNoRefresh { reason },
                WindowResult::Invalid(reason) => {
                    let shrink_timeout_to = self.handle_invalid(dir, index, *status, cfg);
                    return TcpAction::Invalid { reason, shrink_timeout_to };
                }
            }
        }

        // From now on: an in-window packet.
        self.last_index = index;
        self.last_dir = dir;
        self.state = new_state;
        if old_state != new_state && new_state == TcpState::FinWait {
            self.seen[d].flags |= ct_flags::CLOSE_INIT;
        }

        let mut timeout = self.accepted_timeout(new_state, index, cfg);

        if !self.seen_reply() {
            // The only reply is a RST: not an established connection, delete
            // the entry at once.
            if index == TcpIndex::Rst {
                return TcpAction::Kill;
            }
            // Do not renew the timeout on a SYN retransmission, else port
            // reuse could keep the entry alive forever.
            if index == TcpIndex::Syn && old_state == TcpState::SynSent {
                return TcpAction::AcceptNoRefresh { reason: reason::SYN_RETRANS };
            }
            // ESTABLISHED without a reply: a pickup; no long timeout.
            if new_state == TcpState::Established && timeout > cfg.timeout_unacknowledged {
                timeout = cfg.timeout_unacknowledged;
            }
        } else if *status & status::ASSURED == 0
            && matches!(old_state, TcpState::SynRecv | TcpState::Established)
            && new_state == TcpState::Established
        {
            // A valid ACK in ESTABLISHED after SYN_RECV, or a valid answer
            // for a picked-up connection.
            *status |= status::ASSURED;
        }
        TcpAction::Accept { timeout_secs: timeout }
    }

    /// The sIG branch: note the packet and let it pass (`Some`), or, for a
    /// SYN/ACK answering a SYN we ignored, resynchronise from the annotated
    /// values (`None`: continue as SYN_SENT → SYN_RECV).
    fn ignored(&mut self, dir: Dir, index: TcpIndex, old_state: TcpState, seg: &Segment) -> Option<TcpAction> {
        if index == TcpIndex::SynAck
            && self.last_index == TcpIndex::Syn
            && self.last_dir != dir
            && seg.ack == self.last_end
        {
            // b) Client and server are in sync, we are not: take the values
            // of the ignored SYN.
            let ld = self.last_dir as usize;
            self.last_flags &= !ct_flags::EXP_CHALLENGE_ACK;
            let wscale = self.last_wscale();
            let s = &mut self.seen[ld];
            s.td_end = self.last_end;
            s.td_maxend = self.last_end;
            s.td_maxwin = u32::from(self.last_win).max(1);
            s.td_scale = wscale;
            s.flags = self.last_flags;
            self.seen[dir as usize].reset();
            return None;
        }
        self.last_index = index;
        self.last_dir = dir;
        self.last_seq = seg.seq;
        self.last_end = segment_end(seg);
        self.last_win = seg.window;
        // a) A SYN in ORIGINAL: the end points may be in sync while we are
        // not; note its options. A valid SYN draws a SYN/ACK (resync above),
        // otherwise possibly an RFC 5961 challenge ACK.
        if index == TcpIndex::Syn && dir == Dir::Original {
            self.last_flags = 0;
            self.set_last_wscale(0);
            if let Some(ws) = seg.wscale {
                self.last_flags |= ct_flags::WINDOW_SCALE;
                self.set_last_wscale(ws.min(TCP_MAX_WSCALE));
            }
            if seg.sack_perm {
                self.last_flags |= ct_flags::SACK_PERM;
            }
            // In LAST_ACK the challenge ACK would look like the last ACK.
            if old_state == TcpState::LastAck {
                self.last_flags |= ct_flags::EXP_CHALLENGE_ACK;
            }
        }
        // c) a possible challenge ACK answering the SYN.
        if old_state == TcpState::SynSent && index == TcpIndex::Ack && dir == Dir::Reply {
            self.last_ack = seg.ack;
        }
        Some(TcpAction::AcceptNoRefresh { reason: reason::IGNORED_IN_STATE[old_state as usize] })
    }

    /// nf_tcp_handle_invalid: an ASSURED entry that gets an out-of-window
    /// FIN/RST answering a FIN/RST of the other side is probably dead:
    /// shrink its timeout to UNACK. Otherwise note the FIN/RST.
    fn handle_invalid(&mut self, dir: Dir, index: TcpIndex, status: u32, cfg: &TcpConfig) -> Option<u64> {
        if status & status::ASSURED == 0 || !matches!(index, TcpIndex::Rst | TcpIndex::Fin) {
            return None;
        }
        if self.last_dir != dir && matches!(self.last_index, TcpIndex::Fin | TcpIndex::Rst) {
            Some(cfg.timeout_unacknowledged)
        } else {
            self.last_index = index;
            self.last_dir = dir;
            None
        }
    }

    /// tcp_in_window: the four bounds of Rooij's "Real Stateful TCP Packet
    /// Filtering in IP Filter", as changed by RFC 793 (a segment must
    /// intersect the window):
    ///
    /// - I.   seq <= sender.td_maxend
    /// - II.  seq + len >= sender.td_end - receiver.td_maxwin
    /// - III. sack <= receiver.td_end
    /// - IV.  sack >= receiver.td_end - MAXACKWINDOW(sender)
    ///
    /// where sack is the highest SACK right edge (or the ACK).
    fn in_window(
        &mut self,
        dir: Dir,
        index: TcpIndex,
        seg: &Segment,
        cfg: &TcpConfig,
        stored_state: TcpState,
        seqadj: Option<&[SeqAdj; 2]>,
    ) -> WindowResult {
        let syn = seg.flags & flags::SYN != 0;
        let has_ack = seg.flags & flags::ACK != 0;
        let rst = seg.flags & flags::RST != 0;
        let mut seq = seg.seq;
        let mut ack = seg.ack;
        let mut sack = seg.ack;
        let win = u32::from(seg.window);
        let mut end = segment_end(seg);
        let receiver_offset = seqadj.map_or(0, |s| s[dir.other() as usize].offset(ack.wrapping_sub(1)));

        let [s0, s1] = &mut self.seen;
        let (sender, receiver) = match dir {
            Dir::Original => (s0, s1),
            Dir::Reply => (s1, s0),
        };

        if receiver.flags & ct_flags::SACK_PERM != 0
            && let Some(right) = seg.sack_max_right
            && after(right, sack)
        {
            sack = right;
        }
        // NAT sequence number mangling (seqadj) of the other direction.
        ack = ack.wrapping_sub(receiver_offset as u32);
        sack = sack.wrapping_sub(receiver_offset as u32);

        if sender.td_maxwin == 0 {
            // First packet of this direction.
            if syn {
                // SYN/ACK answering the SYN, or a reply SYN (simultaneous
                // open).
                init_sender(sender, receiver, seg, end, win, dir);
                if !has_ack {
                    return WindowResult::Accept;
                }
            } else {
                // Mid-stream: history is lost, use the packet's data.
                sender.td_end = end;
                let swin = win << sender.td_scale.min(TCP_MAX_WSCALE);
                sender.td_maxwin = swin.max(1);
                sender.td_maxend = end.wrapping_add(sender.td_maxwin);
                if receiver.td_maxwin == 0 {
                    // Other direction not seen yet: let III and IV pass
                    // until it is.
                    receiver.td_end = sack;
                    receiver.td_maxend = sack;
                } else if sack == receiver.td_end.wrapping_add(1) {
                    // Likely a reply to a keepalive: needed for III.
                    receiver.td_end = receiver.td_end.wrapping_add(1);
                }
            }
        } else if syn && after(end, sender.td_end) && matches!(stored_state, TcpState::SynSent | TcpState::SynRecv) {
            // RFC 793: a reinitialised TCP only has to use larger sequence
            // numbers: re-init this direction as for the first SYN(/ACK).
            init_sender(sender, receiver, seg, end, win, dir);
            if dir == Dir::Reply && !has_ack {
                return WindowResult::Accept;
            }
        }

        if !has_ack || (rst && ack == 0) {
            // No ACK: pretend it was set and fine. Also broken stacks that
            // send RST+ACK with a zero ack.
            ack = receiver.td_end;
            sack = receiver.td_end;
        }

        if rst && seq == 0 && stored_state == TcpState::SynSent {
            // RST answering a SYN.
            seq = sender.td_end;
            end = sender.td_end;
        }

        let liberal = sender.flags & ct_flags::BE_LIBERAL != 0 || cfg.be_liberal;
        // nf_tcp_log_invalid: with be_liberal every failed check passes (and
        // returns at once, without the window updates below).
        let verdict = |r: WindowResult| if liberal { WindowResult::Accept } else { r };

        // I. Upper bound for the data.
        if !before(seq, sender.td_maxend.wrapping_add(1)) {
            let overshot = end.wrapping_sub(sender.td_maxend).wrapping_add(1);
            let ack_ok = after(sack, receiver.td_end.wrapping_sub(max_ack_window(sender)).wrapping_sub(1));
            let in_recv_win =
                receiver.td_maxwin != 0 && after(end, sender.td_end.wrapping_sub(receiver.td_maxwin).wrapping_sub(1));
            if in_recv_win && ack_ok && overshot <= receiver.td_maxwin && before(sack, receiver.td_end.wrapping_add(1))
            {
                // A TCP sending more than the receive window allows: if the
                // packet passes and the peer ACKs it, later ACKs would all be
                // "over the upper bound"; so take its end into account.
                sender.td_end = end;
                sender.flags |= ct_flags::DATA_UNACKNOWLEDGED;
                return verdict(WindowResult::Ignore(reason::BYTES_OVER));
            }
            return verdict(WindowResult::Invalid(reason::SEQ_OVER));
        }
        // III. Upper bound for the (s)ack.
        if !before(sack, receiver.td_end.wrapping_add(1)) {
            return verdict(WindowResult::Invalid(reason::ACK_OVER));
        }
        // II. Is the end in the receive window (if known)?
        let in_recv_win =
            receiver.td_maxwin == 0 || after(end, sender.td_end.wrapping_sub(receiver.td_maxwin).wrapping_sub(1));
        if !in_recv_win {
            return verdict(WindowResult::Ignore(reason::SEQ_UNDER));
        }
        // IV. Lower bound for the (s)ack.
        if !after(sack, receiver.td_end.wrapping_sub(max_ack_window(sender)).wrapping_sub(1)) {
            return verdict(WindowResult::Ignore(reason::ACK_UNDER));
        }

        self.update_window(dir, index, seg, seq, ack, sack, end);
        WindowResult::Accept
    }

    /// The rest of tcp_in_window once a segment has passed its four
    /// bounds: the window data of both sides, and the retransmission
    /// count. `seq`, `ack`, `sack` and `end` are the values the bounds were
    /// checked with (after the sequence adjustment, the stand-ins for a
    /// missing ACK and the RST-answering-a-SYN case).
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    fn update_window(&mut self, dir: Dir, index: TcpIndex, seg: &Segment, seq: u32, ack: u32, sack: u32, end: u32) {
        let win_raw = seg.window;
        let mut win = u32::from(win_raw);
        let (sender, receiver) = self.sides(dir);

        // Window scaling (RFC 7323) does not apply to SYNs.
        if seg.flags & flags::SYN == 0 {
            win <<= sender.td_scale.min(TCP_MAX_WSCALE);
        }

        // Update the sender.
        let swin = win.wrapping_add(sack.wrapping_sub(ack));
        if sender.td_maxwin < swin {
            sender.td_maxwin = swin;
        }
        if after(end, sender.td_end) {
            sender.td_end = end;
            sender.flags |= ct_flags::DATA_UNACKNOWLEDGED;
        }
        if seg.flags & flags::ACK != 0 {
            if sender.flags & ct_flags::MAXACK_SET == 0 {
                sender.td_maxack = ack;
                sender.flags |= ct_flags::MAXACK_SET;
            } else if after(ack, sender.td_maxack) {
                sender.td_maxack = ack;
            }
        }

        // Update the receiver.
        if receiver.td_maxwin != 0 && after(end, sender.td_maxend) {
            receiver.td_maxwin = receiver.td_maxwin.wrapping_add(end.wrapping_sub(sender.td_maxend));
        }
        if after(sack.wrapping_add(win), receiver.td_maxend.wrapping_sub(1)) {
            receiver.td_maxend = sack.wrapping_add(win);
            if win == 0 {
                receiver.td_maxend = receiver.td_maxend.wrapping_add(1);
            }
        }
        if ack == receiver.td_end {
            receiver.flags &= !ct_flags::DATA_UNACKNOWLEDGED;
        }

        // Retransmissions: the same ACK segment again.
        if index == TcpIndex::Ack {
            if self.last_dir == dir
                && self.last_seq == seq
                && self.last_ack == ack
                && self.last_end == end
                && self.last_win == win_raw
            {
                self.retrans = self.retrans.wrapping_add(1);
            } else {
                self.last_dir = dir;
                self.last_seq = seq;
                self.last_ack = ack;
                self.last_end = end;
                self.last_win = win_raw;
                self.retrans = 0;
            }
        }
    }

    /// The sending and the receiving side of a segment in direction `dir`.
    #[inline(always)]
    fn sides(&mut self, dir: Dir) -> (&mut TcpDirState, &mut TcpDirState) {
        let [s0, s1] = &mut self.seen;
        match dir {
            Dir::Original => (s0, s1),
            Dir::Reply => (s1, s0),
        }
    }

    /// The timeout nf_conntrack_tcp_packet gives a segment that
    /// tcp_in_window accepted (or that skipped it), in `new_state`: the
    /// state's own, unless too many retransmissions (max_retrans), a RST,
    /// unacknowledged data or a zero window call for a shorter one. The
    /// caller applies the cases of a connection without a reply.
    #[inline(always)]
    fn accepted_timeout(&self, new_state: TcpState, index: TcpIndex, cfg: &TcpConfig) -> u64 {
        let state_timeout = cfg.state_timeout(new_state);
        let unacked = (self.seen[0].flags | self.seen[1].flags) & ct_flags::DATA_UNACKNOWLEDGED != 0;
        if u32::from(self.retrans) >= cfg.max_retrans && state_timeout > cfg.timeout_max_retrans {
            cfg.timeout_max_retrans
        } else if index == TcpIndex::Rst {
            cfg.timeout_close
        } else if unacked && state_timeout > cfg.timeout_unacknowledged {
            cfg.timeout_unacknowledged
        } else if self.last_win == 0 && state_timeout > cfg.timeout_max_retrans {
            // A zero window (or none seen yet): the RETRANS timeout.
            cfg.timeout_max_retrans
        } else {
            state_timeout
        }
    }

    /// nf_conntrack_tcp_packet for the commonest segment, handled without
    /// the general path's steps that cannot apply to it: an ACK (no SYN,
    /// FIN or RST) of an ESTABLISHED, ASSURED connection that has seen a
    /// reply and the windows of both sides, inside all four bounds of
    /// tcp_in_window, with no sequence adjustment (the caller's part: call
    /// this only without one). For such a segment the state table stays in
    /// ESTABLISHED, none of the SYN, RST or reopen cases apply, the window
    /// checks pass (so `be_liberal` plays no part), and neither the status
    /// nor [`TcpConn::seen_reply`] changes.
    ///
    /// `Some(timeout)`: the segment is handled, with the same changes to
    /// the connection as [`TcpConn::packet_action_checked`] makes, which
    /// would return `TcpAction::Accept { timeout_secs: timeout }`. `None`:
    /// any other segment, for the general path; nothing was changed.
    #[inline(always)]
    pub(crate) fn established_ack(&mut self, dir: Dir, seg: &Segment, status: u32, cfg: &TcpConfig) -> Option<u64> {
        if !is_plain_ack(seg.flags)
            || self.state != TcpState::Established
            || status & status::ASSURED == 0
            || !self.seen_reply()
        {
            return None;
        }
        let (sender, receiver) = self.sides(dir);
        let (sender, receiver) = (*sender, *receiver);
        // tcp_in_window's values for an ACK without SYN, FIN or RST.
        let seq = seg.seq;
        let ack = seg.ack;
        let end = seq.wrapping_add(seg.data_len);
        let mut sack = ack;
        if receiver.flags & ct_flags::SACK_PERM != 0
            && let Some(right) = seg.sack_max_right
            && after(right, sack)
        {
            sack = right;
        }
        // Both sides seen, and bounds I, III, II and IV, as tcp_in_window
        // checks them.
        if sender.td_maxwin == 0
            || receiver.td_maxwin == 0
            || !before(seq, sender.td_maxend.wrapping_add(1))
            || !before(sack, receiver.td_end.wrapping_add(1))
            || !after(end, sender.td_end.wrapping_sub(receiver.td_maxwin).wrapping_sub(1))
            || !after(sack, receiver.td_end.wrapping_sub(max_ack_window(&sender)).wrapping_sub(1))
        {
            return None;
        }
        self.update_window(dir, TcpIndex::Ack, seg, seq, ack, sack, end);
        // nf_conntrack_tcp_packet after tcp_in_window: the state stays
        // ESTABLISHED. (`last_dir` is `dir` already: tcp_in_window sets it
        // for an ACK, or it was for a retransmission.)
        self.last_index = TcpIndex::Ack;
        Some(self.accepted_timeout(TcpState::Established, TcpIndex::Ack, cfg))
    }
}

/// tcp_init_sender: a SYN/ACK answering the SYN, or a SYN from the reply
/// direction (simultaneous open), or a re-sent SYN with a higher sequence.
fn init_sender(sender: &mut TcpDirState, receiver: &mut TcpDirState, seg: &Segment, end: u32, win: u32, dir: Dir) {
    sender.td_end = end;
    sender.td_maxend = end;
    sender.td_maxwin = win.max(1);
    sender.take_options(seg);
    // RFC 7323: both sides must send the Window Scale option to enable
    // scaling in either direction.
    if dir == Dir::Reply
        && !(sender.flags & ct_flags::WINDOW_SCALE != 0 && receiver.flags & ct_flags::WINDOW_SCALE != 0)
    {
        sender.td_scale = 0;
        receiver.td_scale = 0;
    }
}

/// tcp_can_early_drop: the closing states.
fn can_early_drop(state: TcpState) -> bool {
    matches!(state, TcpState::FinWait | TcpState::LastAck | TcpState::TimeWait | TcpState::Close | TcpState::CloseWait)
}

/// An ACK without SYN, FIN or RST (the [`TcpIndex::Ack`] segments): the
/// segments [`TcpConn::established_ack`] takes. All their flag bytes are
/// valid ones ([`check_segment`]).
#[inline(always)]
pub(crate) fn is_plain_ack(flags: u8) -> bool {
    flags & (flags::SYN | flags::FIN | flags::RST | flags::ACK) == flags::ACK
}

/// tcp_error: checks done before any lookup (bad flag combinations,
/// truncated header). `Err(reason)`: INVALID.
///
/// Only the flags are checked here (`tcp_valid_flags`); the truncated
/// header ("truncated packet") and checksum ("bad checksum") checks belong
/// to the caller, which has the bytes.
pub fn check_segment(flags: u8) -> Result<(), &'static str> {
    if table::valid_flags(flags) { Ok(()) } else { Err(reason::INVALID_FLAGS) }
}
