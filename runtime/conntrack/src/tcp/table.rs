//! The TCP state transition table, `tcp_conntracks[2][6][TCP_CONNTRACK_MAX]`
//! of Linux 6.x nf_conntrack_proto_tcp.c, as data: direction × packet kind
//! ([`TcpIndex`]) × current state → next state, with the kernel's reason for
//! every cell.
//!
//! We are the man in the middle: every packet goes through us but may be
//! lost on its way to the destination, so the table guesses the state of the
//! *sender*. A cell is either a state, [`Next::Invalid`] (`sIV`: truly
//! invalid, the packet is INVALID) or [`Next::Ignore`] (`sIG`: may be valid
//! or not; the receiver will answer with a RST or a SYN/ACK that tells us,
//! so the packet passes without changing the entry).

use super::TcpState;

/// What the TCP flags of a segment make of it (`enum tcp_bit_set`,
/// `get_conntrack_index`): RST wins over SYN, SYN over FIN, FIN over ACK.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TcpIndex {
    /// SYN without ACK (`TCP_SYN_SET`).
    Syn = 0,
    /// SYN with ACK (`TCP_SYNACK_SET`).
    SynAck = 1,
    /// FIN (without SYN/RST) (`TCP_FIN_SET`).
    Fin = 2,
    /// ACK only (`TCP_ACK_SET`).
    Ack = 3,
    /// RST, whatever else is set (`TCP_RST_SET`).
    Rst = 4,
    /// None of RST/SYN/FIN/ACK (`TCP_NONE_SET`).
    None = 5,
}

impl TcpIndex {
    /// get_conntrack_index: the kind of segment from its flags byte (one
    /// load from a table of [`TcpIndex::classify`] per flags byte, instead
    /// of its chain of tests on every segment).
    #[inline(always)]
    pub const fn of(flags: u8) -> TcpIndex {
        INDEX_OF[flags as usize]
    }

    /// get_conntrack_index as the kernel writes it.
    const fn classify(flags: u8) -> TcpIndex {
        use super::flags::{ACK, FIN, RST, SYN};
        if flags & RST != 0 {
            TcpIndex::Rst
        } else if flags & SYN != 0 {
            if flags & ACK != 0 { TcpIndex::SynAck } else { TcpIndex::Syn }
        } else if flags & FIN != 0 {
            TcpIndex::Fin
        } else if flags & ACK != 0 {
            TcpIndex::Ack
        } else {
            TcpIndex::None
        }
    }
}

/// One cell of the transition table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Next {
    /// The connection moves to (or stays in) this state.
    To(TcpState),
    /// `sIV`: the packet is INVALID ("packet ... invalid, state ...").
    Invalid,
    /// `sIG`: the packet passes but is ignored ("packet ... ignored, state
    /// ..."): our entry may be out of sync with the end points.
    Ignore,
}

const SSS: Next = Next::To(TcpState::SynSent);
const SSR: Next = Next::To(TcpState::SynRecv);
const SES: Next = Next::To(TcpState::Established);
const SFW: Next = Next::To(TcpState::FinWait);
const SCW: Next = Next::To(TcpState::CloseWait);
const SLA: Next = Next::To(TcpState::LastAck);
const STW: Next = Next::To(TcpState::TimeWait);
const SCL: Next = Next::To(TcpState::Close);
const SS2: Next = Next::To(TcpState::SynSent2);
const SIV: Next = Next::Invalid;
const SIG: Next = Next::Ignore;

/// Rows indexed by [`TcpIndex`], columns by [`TcpState`] (NONE, SYN_SENT,
/// SYN_RECV, ESTABLISHED, FIN_WAIT, CLOSE_WAIT, LAST_ACK, TIME_WAIT, CLOSE,
/// SYN_SENT2).
type Rows = [[Next; 10]; 6];

/// Packets in the ORIGINAL direction (from the connection's initiator).
const ORIGINAL: Rows = [
    // syn
    [
        SSS, // NONE: initialise a new connection
        SSS, // SYN_SENT: retransmitted SYN
        SIG, // SYN_RECV: a SYN in window outside SYN_SENT is an error; the receiver answers RST, or we hold a dead entry
        SIG, // ESTABLISHED: same: receiver replies RST and closes, or we are out of sync
        SIG, // FIN_WAIT: same
        SIG, // CLOSE_WAIT: same
        SIG, // LAST_ACK: same (may draw an RFC 5961 challenge ACK)
        SSS, // TIME_WAIT: reopened connection (RFC 1122)
        SSS, // CLOSE: reopened connection
        SS2, // SYN_SENT2: late retransmitted SYN of a simultaneous open
    ],
    // synack
    [
        SIV, // NONE: too late and no reason to do anything
        SIV, // SYN_SENT: the client cannot send SYN and then SYN/ACK
        SSR, // SYN_RECV: late retransmitted SYN/ACK in simultaneous open
        SIV, // ESTABLISHED: invalid SYN/ACK sent by the client
        SIV, // FIN_WAIT: invalid
        SIV, // CLOSE_WAIT: invalid
        SIV, // LAST_ACK: invalid
        SIV, // TIME_WAIT: invalid
        SIV, // CLOSE: invalid
        SSR, // SYN_SENT2: SYN/ACK sent to SYN2 in simultaneous open
    ],
    // fin
    [
        SIV, // NONE: too late and no reason to do anything
        SIV, // SYN_SENT: the client may not send FIN here: wait for a SYN/ACK reply first
        SFW, // SYN_RECV: close started
        SFW, // ESTABLISHED: close started
        SLA, // FIN_WAIT: FIN seen in both directions, waiting for the last ACK (or a retransmitted FIN)
        SLA, // CLOSE_WAIT: FIN seen in both directions
        SLA, // LAST_ACK: retransmitted FIN, stay
        STW, // TIME_WAIT: stay
        SCL, // CLOSE: stay
        SIV, // SYN_SENT2: no FIN before the handshake completes
    ],
    // ack
    [
        SES, // NONE: assumed (mid-stream pickup with tcp_loose)
        SIV, // SYN_SENT: invalid, no SYN/ACK seen yet
        SES, // SYN_RECV: the three-way handshake completes
        SES, // ESTABLISHED: :-)
        SCW, // FIN_WAIT: normal close request answered by ACK
        SCW, // CLOSE_WAIT: stay
        STW, // LAST_ACK: last ACK detected (unless an RFC 5961 challenge ACK)
        STW, // TIME_WAIT: retransmitted last ACK, stay
        SCL, // CLOSE: stay
        SIV, // SYN_SENT2: invalid before the SYN/ACK
    ],
    // rst
    [
        SIV, // NONE: a RST never creates an entry
        SCL, // SYN_SENT: connection reset
        SCL, // SYN_RECV: connection reset
        SCL, // ESTABLISHED: connection reset
        SCL, // FIN_WAIT: connection reset
        SCL, // CLOSE_WAIT: connection reset
        SCL, // LAST_ACK: connection reset
        SCL, // TIME_WAIT: connection reset
        SCL, // CLOSE: stay
        SCL, // SYN_SENT2: connection reset
    ],
    // none
    [
        SIV, // NONE: a segment without SYN/ACK/FIN/RST is never valid
        SIV, // SYN_SENT: same
        SIV, // SYN_RECV: same
        SIV, // ESTABLISHED: same
        SIV, // FIN_WAIT: same
        SIV, // CLOSE_WAIT: same
        SIV, // LAST_ACK: same
        SIV, // TIME_WAIT: same
        SIV, // CLOSE: same
        SIV, // SYN_SENT2: same
    ],
];

/// Packets in the REPLY direction (from the responder).
const REPLY: Rows = [
    // syn
    [
        SIV, // NONE: never reached (a reply needs an entry)
        SS2, // SYN_SENT: simultaneous open
        SIV, // SYN_RECV: invalid SYN sent by the server
        SIV, // ESTABLISHED: invalid
        SIV, // FIN_WAIT: invalid
        SIV, // CLOSE_WAIT: invalid
        SIV, // LAST_ACK: invalid
        SSS, // TIME_WAIT: reopened connection, the server may have switched role
        SIV, // CLOSE: invalid
        SS2, // SYN_SENT2: retransmitted simultaneous SYN
    ],
    // synack
    [
        SIV, // NONE: never reached
        SSR, // SYN_SENT: standard open
        SIG, // SYN_RECV: retransmitted SYN/ACK, ignore it
        SIG, // ESTABLISHED: late retransmitted SYN/ACK?
        SIG, // FIN_WAIT: might be a SYN/ACK answering an ignored SYN
        SIG, // CLOSE_WAIT: same
        SIG, // LAST_ACK: same
        SIG, // TIME_WAIT: same
        SIG, // CLOSE: same
        SSR, // SYN_SENT2: simultaneous open
    ],
    // fin
    [
        SIV, // NONE: never reached
        SIV, // SYN_SENT: the server may not send FIN here
        SFW, // SYN_RECV: close started
        SFW, // ESTABLISHED: close started
        SLA, // FIN_WAIT: FIN seen in both directions
        SLA, // CLOSE_WAIT: FIN seen in both directions
        SLA, // LAST_ACK: retransmitted FIN
        STW, // TIME_WAIT: stay
        SCL, // CLOSE: stay
        SIV, // SYN_SENT2: invalid
    ],
    // ack
    [
        SIV, // NONE: never reached
        SIG, // SYN_SENT: might be a half-open connection (or a challenge ACK to our SYN)
        SSR, // SYN_RECV: might answer a late resent SYN
        SES, // ESTABLISHED: :-)
        SCW, // FIN_WAIT: normal close request answered by ACK
        SCW, // CLOSE_WAIT: stay
        STW, // LAST_ACK: last ACK detected (unless an RFC 5961 challenge ACK)
        STW, // TIME_WAIT: retransmitted last ACK
        SCL, // CLOSE: stay
        SIG, // SYN_SENT2: ignore until the SYN/ACK
    ],
    // rst
    [
        SIV, // NONE: never reached
        SCL, // SYN_SENT: connection refused
        SCL, // SYN_RECV: connection reset
        SCL, // ESTABLISHED: connection reset
        SCL, // FIN_WAIT: connection reset
        SCL, // CLOSE_WAIT: connection reset
        SCL, // LAST_ACK: connection reset
        SCL, // TIME_WAIT: connection reset
        SCL, // CLOSE: stay
        SCL, // SYN_SENT2: connection reset
    ],
    // none
    [
        SIV, // NONE: a segment without SYN/ACK/FIN/RST is never valid
        SIV, // SYN_SENT: same
        SIV, // SYN_RECV: same
        SIV, // ESTABLISHED: same
        SIV, // FIN_WAIT: same
        SIV, // CLOSE_WAIT: same
        SIV, // LAST_ACK: same
        SIV, // TIME_WAIT: same
        SIV, // CLOSE: same
        SIV, // SYN_SENT2: same
    ],
];

/// [`TcpIndex::of`] of every flags byte.
const INDEX_OF: [TcpIndex; 256] = {
    let mut t = [TcpIndex::None; 256];
    let mut f = 0;
    while f < 256 {
        t[f] = TcpIndex::classify(f as u8);
        f += 1;
    }
    t
};

/// `tcp_conntracks`: both directions, indexed by `reply as usize`.
const BY_DIR: [Rows; 2] = [ORIGINAL, REPLY];

/// `tcp_conntracks[dir][index][state]`.
#[inline(always)]
pub const fn next(reply: bool, index: TcpIndex, state: TcpState) -> Next {
    BY_DIR[reply as usize][index as usize][state as usize]
}

/// The flag combinations `tcp_error` accepts (`tcp_valid_flags[]`), after
/// masking out PSH, ECE and CWR, which are always valid.
const VALID_FLAG_COMBINATIONS: [(u8, &str); 9] = {
    use super::flags::{ACK, FIN, RST, SYN, URG};
    [
        (SYN, "connection request"),
        (SYN | URG, "connection request with urgent pointer (allowed by the kernel)"),
        (SYN | ACK, "connection accepted"),
        (RST, "reset"),
        (RST | ACK, "reset acknowledging a segment"),
        (FIN | ACK, "close (a FIN always carries ACK after the handshake)"),
        (FIN | ACK | URG, "close with urgent data"),
        (ACK, "plain segment"),
        (ACK | URG, "segment with urgent data"),
    ]
};

/// Lookup table built from [`VALID_FLAG_COMBINATIONS`]: index = flags with
/// PSH/ECE/CWR masked out (at most FIN|SYN|RST|ACK|URG = 0x37).
const VALID_FLAGS: [bool; 0x38] = {
    let mut t = [false; 0x38];
    let mut i = 0;
    while i < VALID_FLAG_COMBINATIONS.len() {
        t[VALID_FLAG_COMBINATIONS[i].0 as usize] = true;
        i += 1;
    }
    t
};

/// tcp_valid_flags lookup for a whole flags byte.
pub const fn valid_flags(flags: u8) -> bool {
    use super::flags::{CWR, ECE, PSH};
    let masked = flags & !(ECE | CWR | PSH);
    VALID_FLAGS[masked as usize]
}
