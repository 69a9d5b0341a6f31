//! Tests of the TCP tracker, grouped by the state the connection is in when
//! the packet under test arrives. `oracle` replays the frames of the
//! recorded kernel cases (../shared/oracle: tcp_basic, tcp_rst,
//! tcp_loose_ack; sequence numbers from capture.txt) and checks the state,
//! timeout and ASSURED bit the kernel reported after each frame (events.txt,
//! snapshots.txt, steps.txt).

use super::*;

const O: Dir = Dir::Original;
const R: Dir = Dir::Reply;

const S: u8 = flags::SYN;
const A: u8 = flags::ACK;
const F: u8 = flags::FIN;
const RS: u8 = flags::RST;
const P: u8 = flags::PSH;

/// A segment: flags, seq, ack, window, payload length.
fn seg(flags: u8, seq: u32, ack: u32, window: u16, data_len: u32) -> Segment {
    Segment { flags, seq, ack, window, data_len, ..Segment::default() }
}

/// A SYN or SYN/ACK with the options Linux sends (SACK_PERM, WS).
fn syn_opts(flags: u8, seq: u32, ack: u32, window: u16, wscale: u8) -> Segment {
    Segment { wscale: Some(wscale), sack_perm: true, ..seg(flags, seq, ack, window, 0) }
}

/// One connection as the core tracker drives it: tcp_error, then tcp_new
/// for the first packet, then tcp_packet; Reopen destroys the entry and
/// handles the packet again, Kill destroys it.
struct Flow {
    cfg: TcpConfig,
    conn: Option<TcpConn>,
    status: u32,
    /// The connection's sequence adjustment (the tracker keeps it out of
    /// the window tracker, as the kernel's seqadj extension).
    seqadj: Option<[SeqAdj; 2]>,
}

impl Flow {
    fn new() -> Flow {
        Flow::with(TcpConfig::default())
    }

    fn with(cfg: TcpConfig) -> Flow {
        Flow { cfg, conn: None, status: 0, seqadj: None }
    }

    fn send(&mut self, dir: Dir, s: Segment) -> TcpAction {
        if let Err(reason) = check_segment(s.flags) {
            return TcpAction::Invalid { reason, shrink_timeout_to: None };
        }
        if self.conn.is_none() {
            assert_eq!(dir, O, "a reply needs an entry");
            match TcpConn::new(&s, &self.cfg) {
                Ok(c) => {
                    self.conn = Some(c);
                    self.status = 0;
                }
                Err(reason) => return TcpAction::Invalid { reason, shrink_timeout_to: None },
            }
        }
        let conn = self.conn.as_mut().unwrap();
        let action = conn.packet_action_adj(dir, &s, &mut self.status, &self.cfg, self.seqadj.as_ref());
        // The caller's part of nf_conntrack_in: SEEN_REPLY after the handler.
        if dir == R && !matches!(action, TcpAction::Invalid { .. } | TcpAction::Reopen) {
            self.status |= status::SEEN_REPLY;
        }
        match action {
            TcpAction::Kill => self.conn = None,
            TcpAction::Reopen => {
                // The lookup is repeated and finds nothing: the packet opens
                // a new entry whose original direction is its own.
                self.conn = None;
                return self.send(O, s);
            }
            _ => {}
        }
        action
    }

    fn state(&self) -> Option<TcpState> {
        self.conn.as_ref().map(|c| c.state)
    }

    fn conn(&self) -> &TcpConn {
        self.conn.as_ref().unwrap()
    }

    fn assured(&self) -> bool {
        self.status & status::ASSURED != 0
    }

    /// Sends and checks the accepted timeout, the state and ASSURED.
    #[track_caller]
    fn expect(&mut self, dir: Dir, s: Segment, timeout: u64, state: TcpState, assured: bool) {
        let a = self.send(dir, s);
        assert_eq!(a, TcpAction::Accept { timeout_secs: timeout }, "{s:?}");
        assert_eq!(self.state(), Some(state));
        assert_eq!(self.assured(), assured);
    }

    /// Sends and checks the packet passes without a refresh, in `state`.
    #[track_caller]
    fn expect_no_refresh(&mut self, dir: Dir, s: Segment, state: TcpState) -> &'static str {
        match self.send(dir, s) {
            TcpAction::AcceptNoRefresh { reason } => {
                assert_eq!(self.state(), Some(state));
                reason
            }
            other => panic!("expected no refresh, got {other:?}"),
        }
    }

    /// Sends and checks the packet is INVALID and the state unchanged.
    #[track_caller]
    fn expect_invalid(&mut self, dir: Dir, s: Segment) -> &'static str {
        let before = self.state();
        match self.send(dir, s) {
            TcpAction::Invalid { reason, .. } => {
                assert_eq!(self.state(), before);
                reason
            }
            other => panic!("expected INVALID, got {other:?}"),
        }
    }
}

/// Client 192.0.2.2:40001 → 203.0.113.47:80 ISNs of tcp_basic conn A.
const C: u32 = 645_462_109;
const SV: u32 = 4_010_915_530;

/// A connection through the three-way handshake (tcp_basic conn A frames
/// 1-3), ESTABLISHED and ASSURED.
fn established() -> Flow {
    let mut f = Flow::new();
    f.expect(O, syn_opts(S, C, 0, 64240, 10), 120, TcpState::SynSent, false);
    f.expect(R, syn_opts(S | A, SV, C + 1, 65160, 10), 60, TcpState::SynRecv, false);
    f.expect(O, seg(A, C + 1, SV + 1, 63, 0), 432_000, TcpState::Established, true);
    f
}

/// `established()` then the client closes: FIN_WAIT.
fn fin_wait() -> Flow {
    let mut f = established();
    f.expect(O, seg(F | A, C + 1, SV + 1, 63, 0), 120, TcpState::FinWait, true);
    f
}

/// `fin_wait()` then the server ACKs the FIN: CLOSE_WAIT.
fn close_wait() -> Flow {
    let mut f = fin_wait();
    f.expect(R, seg(A, SV + 1, C + 2, 64, 0), 60, TcpState::CloseWait, true);
    f
}

/// `close_wait()` then the server's FIN: LAST_ACK.
fn last_ack() -> Flow {
    let mut f = close_wait();
    f.expect(R, seg(F | A, SV + 1, C + 2, 64, 0), 30, TcpState::LastAck, true);
    f
}

/// `last_ack()` then the client's last ACK: TIME_WAIT.
fn time_wait() -> Flow {
    let mut f = last_ack();
    f.expect(O, seg(A, C + 2, SV + 2, 63, 0), 120, TcpState::TimeWait, true);
    f
}

/// An ASSURED connection reset by the client: CLOSE.
fn close() -> Flow {
    let mut f = established();
    f.expect(O, seg(RS | A, C + 1, SV + 1, 63, 0), 10, TcpState::Close, true);
    f
}

mod oracle {
    use super::*;

    /// tcp_basic conn A: two request/response rounds, the client closes
    /// first; FIN / ACK / FIN / ACK shows every intermediate state. Events:
    /// 120 SYN_SENT, 60 SYN_RECV, 432000 ESTABLISHED [ASSURED], 120
    /// FIN_WAIT, 60 CLOSE_WAIT, 30 LAST_ACK, 120 TIME_WAIT.
    #[test]
    fn tcp_basic_client_closes_first() {
        let mut f = Flow::new();
        // 1-3: handshake (WS=1024 is shift 10).
        f.expect(O, syn_opts(S, 645462109, 0, 64240, 10), 120, TcpState::SynSent, false);
        f.expect(R, syn_opts(S | A, 4010915530, 645462110, 65160, 10), 60, TcpState::SynRecv, false);
        f.expect(O, seg(A, 645462110, 4010915531, 63, 0), 432_000, TcpState::Established, true);
        // 4: "hello 0\n": unacknowledged data, UNACK timeout.
        f.expect(O, seg(P | A, 645462110, 4010915531, 63, 8), 300, TcpState::Established, true);
        // 5: the server ACKs it.
        f.expect(R, seg(A, 4010915531, 645462118, 64, 0), 432_000, TcpState::Established, true);
        // 6: "HELLO 0\n"; 7: ACK.
        f.expect(R, seg(P | A, 4010915531, 645462118, 64, 8), 300, TcpState::Established, true);
        f.expect(O, seg(A, 645462118, 4010915539, 63, 0), 432_000, TcpState::Established, true);
        // 8-10: second round.
        f.expect(O, seg(P | A, 645462118, 4010915539, 63, 8), 300, TcpState::Established, true);
        f.expect(R, seg(P | A, 4010915539, 645462126, 64, 8), 300, TcpState::Established, true);
        f.expect(O, seg(A, 645462126, 4010915547, 63, 0), 432_000, TcpState::Established, true);
        // 11: client FIN: 120 FIN_WAIT.
        f.expect(O, seg(F | A, 645462126, 4010915547, 63, 0), 120, TcpState::FinWait, true);
        // 12: server ACKs the FIN alone (delayed ACK): 60 CLOSE_WAIT.
        f.expect(R, seg(A, 4010915547, 645462127, 64, 0), 60, TcpState::CloseWait, true);
        // 13: server FIN: 30 LAST_ACK.
        f.expect(R, seg(F | A, 4010915547, 645462127, 64, 0), 30, TcpState::LastAck, true);
        // 14: last ACK: 120 TIME_WAIT.
        f.expect(O, seg(A, 645462127, 4010915548, 63, 0), 120, TcpState::TimeWait, true);
    }

    /// tcp_basic conn B: the server closes first, right after its reply;
    /// the client closes 0.3 s later. Same state sequence, FIN_WAIT entered
    /// from the reply direction.
    #[test]
    fn tcp_basic_server_closes_first() {
        let mut f = Flow::new();
        f.expect(O, syn_opts(S, 163488480, 0, 64240, 10), 120, TcpState::SynSent, false);
        f.expect(R, syn_opts(S | A, 2357336851, 163488481, 65160, 10), 60, TcpState::SynRecv, false);
        f.expect(O, seg(A, 163488481, 2357336852, 63, 0), 432_000, TcpState::Established, true);
        f.expect(O, seg(P | A, 163488481, 2357336852, 63, 8), 300, TcpState::Established, true);
        f.expect(R, seg(A, 2357336852, 163488489, 64, 0), 432_000, TcpState::Established, true);
        f.expect(R, seg(P | A, 2357336852, 163488489, 64, 8), 300, TcpState::Established, true);
        f.expect(O, seg(A, 163488489, 2357336860, 63, 0), 432_000, TcpState::Established, true);
        // 22: server FIN.
        f.expect(R, seg(F | A, 2357336860, 163488489, 64, 0), 120, TcpState::FinWait, true);
        // 23: client ACK.
        f.expect(O, seg(A, 163488489, 2357336861, 63, 0), 60, TcpState::CloseWait, true);
        // 24: client FIN.
        f.expect(O, seg(F | A, 163488489, 2357336861, 63, 0), 30, TcpState::LastAck, true);
        // 25: server's last ACK.
        f.expect(R, seg(A, 2357336861, 163488490, 64, 0), 120, TcpState::TimeWait, true);
        assert_ne!(f.conn().seen[R as usize].flags & ct_flags::CLOSE_INIT, 0);
        assert_eq!(f.conn().seen[O as usize].flags & ct_flags::CLOSE_INIT, 0);
    }

    /// tcp_rst conn A: a SYN to a closed port answered by RST/ACK with
    /// SEQ 0: NEW 120 SYN_SENT, then DESTROY (CLOSE) at once, because the
    /// only reply is a RST.
    #[test]
    fn tcp_rst_refused() {
        let mut f = Flow::new();
        f.expect(O, syn_opts(S, 3714790315, 0, 64240, 10), 120, TcpState::SynSent, false);
        let rst = seg(RS | A, 0, 3714790316, 0, 0);
        let mut conn = f.conn().clone();
        let mut status = f.status;
        assert_eq!(conn.packet_action(R, &rst, &mut status, &f.cfg), TcpAction::Kill);
        assert_eq!(conn.state, TcpState::Close, "the DESTROY event shows CLOSE");
        // Through the lossy summary: an immediate expiry.
        let mut conn = f.conn().clone();
        let mut status = f.status;
        assert_eq!(conn.packet(R, &rst, &mut status, &f.cfg), TcpVerdict::Accept { timeout_secs: 0 });
    }

    /// tcp_rst conn B: one round, then the client aborts (RST/ACK at the
    /// exact next sequence): 10 CLOSE [ASSURED].
    #[test]
    fn tcp_rst_client_abort() {
        let mut f = Flow::new();
        f.expect(O, syn_opts(S, 4216563927, 0, 64240, 10), 120, TcpState::SynSent, false);
        f.expect(R, syn_opts(S | A, 2439044577, 4216563928, 65160, 10), 60, TcpState::SynRecv, false);
        f.expect(O, seg(A, 4216563928, 2439044578, 63, 0), 432_000, TcpState::Established, true);
        f.expect(O, seg(P | A, 4216563928, 2439044578, 63, 8), 300, TcpState::Established, true);
        f.expect(R, seg(A, 2439044578, 4216563936, 64, 0), 432_000, TcpState::Established, true);
        f.expect(R, seg(P | A, 2439044578, 4216563936, 64, 8), 300, TcpState::Established, true);
        f.expect(O, seg(A, 4216563936, 2439044586, 63, 0), 432_000, TcpState::Established, true);
        f.expect(O, seg(RS | A, 4216563936, 2439044586, 63, 0), 10, TcpState::Close, true);
    }

    /// tcp_rst conn C: the server aborts after reading the first line while
    /// that line is still unacknowledged... (it ACKed it first): 10 CLOSE.
    #[test]
    fn tcp_rst_server_abort() {
        let mut f = Flow::new();
        f.expect(O, syn_opts(S, 4142712916, 0, 64240, 10), 120, TcpState::SynSent, false);
        f.expect(R, syn_opts(S | A, 3411113762, 4142712917, 65160, 10), 60, TcpState::SynRecv, false);
        f.expect(O, seg(A, 4142712917, 3411113763, 63, 0), 432_000, TcpState::Established, true);
        f.expect(O, seg(P | A, 4142712917, 3411113763, 63, 8), 300, TcpState::Established, true);
        f.expect(R, seg(A, 3411113763, 4142712925, 64, 0), 432_000, TcpState::Established, true);
        f.expect(R, seg(RS | A, 3411113763, 4142712925, 64, 0), 10, TcpState::Close, true);
    }

    /// tcp_loose_ack flow 1 (tcp_loose=1): lone ACKs create an ESTABLISHED
    /// entry with 300 s (UNREPLIED), the reply ACK keeps 300 and does not
    /// set ASSURED (SEEN_REPLY is still clear while the first reply is
    /// handled).
    #[test]
    fn tcp_loose_ack_pickup() {
        let mut f = Flow::new();
        f.expect(O, seg(A, 1000, 5000, 64240, 0), 300, TcpState::Established, false);
        f.expect(O, seg(A, 1000, 5000, 64240, 0), 300, TcpState::Established, false);
        f.expect(O, seg(P | A, 1000, 5000, 64240, 10), 300, TcpState::Established, false);
        f.expect(R, seg(A, 5000, 1010, 64240, 0), 300, TcpState::Established, false);
        let c = f.conn();
        assert_eq!(c.seen[0].flags & ct_flags::BE_LIBERAL, ct_flags::BE_LIBERAL);
        assert_eq!(c.seen[1].flags & ct_flags::BE_LIBERAL, ct_flags::BE_LIBERAL);
        assert!(c.seen_reply());
        // A second reply is an answer for the picked-up connection: ASSURED.
        f.expect(R, seg(A, 5000, 1010, 64240, 0), 300, TcpState::Established, true);
    }

    /// tcp_loose_ack flow 2: a lone ACK to a closed port, the server's
    /// kernel answers RST: NEW 300 ESTABLISHED, then DESTROY at once.
    #[test]
    fn tcp_loose_ack_refused() {
        let mut f = Flow::new();
        f.expect(O, seg(A, 1000, 5000, 64240, 0), 300, TcpState::Established, false);
        assert_eq!(f.send(R, seg(RS, 5000, 0, 0, 0)), TcpAction::Kill);
        assert_eq!(f.state(), None);
    }

    /// tcp_loose_ack flows 3-5: SYN/ACK, FIN/ACK and RST never create an
    /// entry (INVALID).
    #[test]
    fn tcp_loose_ack_other_first_packets() {
        for s in [seg(S | A, 1000, 5000, 64240, 0), seg(F | A, 1000, 5000, 64240, 0), seg(RS, 1000, 0, 64240, 0)] {
            let mut f = Flow::new();
            assert_eq!(f.expect_invalid(O, s), reason::INVALID_NEW);
            assert_eq!(f.state(), None);
        }
    }

    /// tcp_loose_ack with tcp_loose=0: the lone ACK is INVALID, no entry.
    #[test]
    fn tcp_loose_ack_disabled() {
        let mut f = Flow::with(TcpConfig { loose: false, ..TcpConfig::default() });
        assert_eq!(f.expect_invalid(O, seg(A, 1000, 5000, 64240, 0)), reason::NO_PICKUP);
        assert_eq!(f.state(), None);
        // A SYN is still fine.
        f.expect(O, seg(S, 1000, 0, 64240, 0), 120, TcpState::SynSent, false);
    }
}

impl Segment {
    fn with_win(mut self, window: u16) -> Segment {
        self.window = window;
        self
    }
}

mod none {
    use super::*;

    #[test]
    fn flag_combinations() {
        for ok in [S, S | flags::URG, S | A, RS, RS | A, F | A, F | A | flags::URG, A, A | flags::URG] {
            assert_eq!(check_segment(ok), Ok(()), "{ok:#x}");
            // PSH, ECE and CWR are always allowed.
            assert_eq!(check_segment(ok | P | flags::ECE | flags::CWR), Ok(()), "{ok:#x}");
        }
        for bad in [0, F, S | F, S | RS, RS | F, S | F | RS | A, flags::URG, P, F | S | A, RS | S | A] {
            assert_eq!(check_segment(bad), Err(reason::INVALID_FLAGS), "{bad:#x}");
        }
    }

    #[test]
    fn index_of_flags() {
        assert_eq!(TcpIndex::of(S), TcpIndex::Syn);
        assert_eq!(TcpIndex::of(S | A), TcpIndex::SynAck);
        assert_eq!(TcpIndex::of(F | A), TcpIndex::Fin);
        assert_eq!(TcpIndex::of(A | P), TcpIndex::Ack);
        assert_eq!(TcpIndex::of(RS | A), TcpIndex::Rst);
        assert_eq!(TcpIndex::of(RS | S), TcpIndex::Rst);
        assert_eq!(TcpIndex::of(P), TcpIndex::None);
    }

    #[test]
    fn syn_creates_syn_sent() {
        let c = TcpConn::new(&syn_opts(S, 100, 0, 0, 7), &TcpConfig::default()).unwrap();
        assert_eq!(c.state, TcpState::None);
        assert_eq!({ c.seen[0].td_end }, 101);
        assert_eq!({ c.seen[0].td_maxend }, 101);
        assert_eq!({ c.seen[0].td_maxwin }, 1, "a zero window counts as 1");
        assert_eq!({ c.seen[0].td_scale }, 7);
        assert_eq!({ c.seen[0].flags }, ct_flags::WINDOW_SCALE | ct_flags::SACK_PERM);
    }

    #[test]
    fn window_scale_is_clamped() {
        let c = TcpConn::new(&syn_opts(S, 100, 0, 1000, 20), &TcpConfig::default()).unwrap();
        assert_eq!({ c.seen[0].td_scale }, 14);
    }

    #[test]
    fn ack_pickup_window() {
        let c = TcpConn::new(&seg(A, 1000, 5000, 100, 10), &TcpConfig::default()).unwrap();
        assert_eq!({ c.seen[0].td_end }, 1010);
        assert_eq!({ c.seen[0].td_maxend }, 1110);
        assert_eq!({ c.seen[0].flags }, ct_flags::SACK_PERM | ct_flags::BE_LIBERAL);
        assert_eq!({ c.seen[1].flags }, ct_flags::SACK_PERM | ct_flags::BE_LIBERAL);
    }

    #[test]
    fn no_flags_never_creates() {
        assert_eq!(TcpConn::new(&seg(0, 1, 0, 1, 0), &TcpConfig::default()), Err(reason::INVALID_FLAGS));
    }
}

mod syn_sent {
    use super::*;

    fn syn_sent() -> Flow {
        let mut f = Flow::new();
        f.expect(O, syn_opts(S, C, 0, 64240, 10), 120, TcpState::SynSent, false);
        f
    }

    /// A retransmitted SYN before any reply does not renew the timeout.
    #[test]
    fn syn_retransmission_keeps_timeout() {
        let mut f = syn_sent();
        assert_eq!(f.expect_no_refresh(O, syn_opts(S, C, 0, 64240, 10), TcpState::SynSent), reason::SYN_RETRANS);
    }

    /// A new SYN with a higher sequence re-initialises the sender (RFC 793).
    #[test]
    fn syn_with_new_isn_reinitialises() {
        let mut f = syn_sent();
        f.expect_no_refresh(O, syn_opts(S, C + 5000, 0, 29200, 7), TcpState::SynSent);
        let o = f.conn().seen[0];
        assert_eq!((o.td_end, o.td_maxend, o.td_maxwin, o.td_scale), (C + 5001, C + 5001, 29200, 7));
        // The SYN/ACK must now acknowledge the new ISN.
        f.expect(R, syn_opts(S | A, SV, C + 5001, 65160, 7), 60, TcpState::SynRecv, false);
    }

    #[test]
    fn fin_ack_is_invalid() {
        let mut f = syn_sent();
        assert_eq!(f.expect_invalid(O, seg(F | A, C + 1, 0, 64240, 0)), reason::INVALID_IN_STATE[1]);
        assert_eq!(f.expect_invalid(R, seg(F | A, SV, C + 1, 64240, 0)), reason::INVALID_IN_STATE[1]);
    }

    #[test]
    fn ack_from_client_is_invalid() {
        let mut f = syn_sent();
        assert_eq!(f.expect_invalid(O, seg(A, C + 1, SV + 1, 64240, 0)), "packet invalid, state SYN_SENT");
    }

    #[test]
    fn synack_from_client_is_invalid() {
        let mut f = syn_sent();
        f.expect_invalid(O, seg(S | A, C, SV + 1, 64240, 0));
    }

    /// A SYN/ACK acknowledging something else than the SYN.
    #[test]
    fn synack_with_bogus_ack_is_invalid() {
        let mut f = syn_sent();
        assert_eq!(f.expect_invalid(R, syn_opts(S | A, SV, C + 1000, 65160, 10)), reason::ACK_OVER);
        assert_eq!(f.state(), Some(TcpState::SynSent));
    }

    /// A RST with SEQ 0 answering the SYN: accepted (seq taken as the
    /// sender's end), the entry is killed since no other reply was seen.
    #[test]
    fn rst_answering_syn_kills() {
        let mut f = syn_sent();
        assert_eq!(f.send(R, seg(RS | A, 0, C + 1, 0, 0)), TcpAction::Kill);
        assert_eq!(f.state(), None);
    }

    /// A reply ACK is ignored (half-open connection or an RFC 5961
    /// challenge ACK); the client's RST answering it at the challenge ACK's
    /// number then closes the entry without window checks.
    #[test]
    fn challenge_ack_then_rst() {
        let mut f = syn_sent();
        let reason = f.expect_no_refresh(R, seg(A, 777_000, 12_345, 500, 0), TcpState::SynSent);
        assert_eq!(reason, "packet ignored, state SYN_SENT");
        assert_eq!(f.conn().last_ack, 12_345);
        f.expect(O, seg(RS, 12_345, 0, 0, 0), 10, TcpState::Close, false);
    }

    /// SYN from the reply side: simultaneous open (SYN_SENT2); the timeout
    /// is not renewed (a SYN before any reply in SYN_SENT).
    #[test]
    fn reply_syn_is_simultaneous_open() {
        let mut f = syn_sent();
        f.expect_no_refresh(R, syn_opts(S, SV, 0, 65160, 10), TcpState::SynSent2);
        assert_ne!(f.conn().last_flags & ct_flags::SIMULTANEOUS_OPEN, 0);
    }

    #[test]
    fn rst_after_reply_closes() {
        let mut f = syn_sent();
        f.expect_no_refresh(R, syn_opts(S, SV, 0, 65160, 10), TcpState::SynSent2);
        // Client RST: CLOSE with the CLOSE timeout (a reply was seen).
        f.expect(O, seg(RS, C + 1, 0, 0, 0), 10, TcpState::Close, false);
    }
}

mod syn_sent2 {
    use super::*;

    /// Simultaneous open: both sides send SYN, then SYN/ACK, then ACK.
    #[test]
    fn simultaneous_open() {
        let mut f = Flow::new();
        f.expect(O, syn_opts(S, C, 0, 64240, 7), 120, TcpState::SynSent, false);
        f.expect_no_refresh(R, syn_opts(S, SV, 0, 65160, 7), TcpState::SynSent2);
        // Late retransmitted SYN of the client: stays SYN_SENT2.
        f.expect(O, syn_opts(S, C, 0, 64240, 7), 120, TcpState::SynSent2, false);
        // The client's SYN/ACK: SYN_RECV.
        f.expect(O, syn_opts(S | A, C, SV + 1, 64240, 7), 60, TcpState::SynRecv, false);
        // The server's SYN/ACK is ignored in SYN_RECV.
        f.expect_no_refresh(R, syn_opts(S | A, SV, C + 1, 65160, 7), TcpState::SynRecv);
        // The server's ACK completes it (IP_CT_TCP_SIMULTANEOUS_OPEN).
        f.expect(R, seg(A, SV + 1, C + 1, 509, 0), 432_000, TcpState::Established, true);
    }

    #[test]
    fn fin_is_invalid() {
        let mut f = Flow::new();
        f.expect(O, syn_opts(S, C, 0, 64240, 7), 120, TcpState::SynSent, false);
        f.expect_no_refresh(R, syn_opts(S, SV, 0, 65160, 7), TcpState::SynSent2);
        assert_eq!(f.expect_invalid(O, seg(F | A, C + 1, SV + 1, 1, 0)), "packet invalid, state SYN_SENT2");
        // A reply ACK is ignored.
        f.expect_no_refresh(R, seg(A, SV + 1, C + 1, 509, 0), TcpState::SynSent2);
    }
}

mod syn_recv {
    use super::*;

    fn syn_recv() -> Flow {
        let mut f = Flow::new();
        f.expect(O, syn_opts(S, C, 0, 64240, 10), 120, TcpState::SynSent, false);
        f.expect(R, syn_opts(S | A, SV, C + 1, 65160, 10), 60, TcpState::SynRecv, false);
        f
    }

    #[test]
    fn retransmitted_synack_is_ignored() {
        let mut f = syn_recv();
        f.expect_no_refresh(R, syn_opts(S | A, SV, C + 1, 65160, 10), TcpState::SynRecv);
    }

    #[test]
    fn ack_completes_handshake_and_assures() {
        let mut f = syn_recv();
        f.expect(O, seg(A, C + 1, SV + 1, 63, 0), 432_000, TcpState::Established, true);
    }

    /// A reply ACK stays in SYN_RECV ("might answer a late resent SYN").
    #[test]
    fn reply_ack_stays() {
        let mut f = syn_recv();
        f.expect(R, seg(A, SV + 1, C + 1, 64, 0), 60, TcpState::SynRecv, false);
    }

    #[test]
    fn fin_starts_close() {
        let mut f = syn_recv();
        f.expect(O, seg(F | A, C + 1, SV + 1, 63, 0), 120, TcpState::FinWait, false);
    }

    #[test]
    fn rst_closes() {
        let mut f = syn_recv();
        f.expect(R, seg(RS | A, SV + 1, C + 1, 0, 0), 10, TcpState::Close, false);
    }

    #[test]
    fn reply_syn_is_invalid() {
        let mut f = syn_recv();
        f.expect_invalid(R, syn_opts(S, SV, 0, 65160, 10));
    }
}

mod established {
    use super::*;

    /// Data not yet ACKed: the UNACK timeout (300) until the ACK.
    #[test]
    fn unacknowledged_data() {
        let mut f = established();
        f.expect(O, seg(P | A, C + 1, SV + 1, 63, 100), 300, TcpState::Established, true);
        f.expect(R, seg(A, SV + 1, C + 51, 64, 0), 300, TcpState::Established, true);
        f.expect(R, seg(A, SV + 1, C + 101, 64, 0), 432_000, TcpState::Established, true);
    }

    /// The same ACK segment again and again: after max_retrans (3)
    /// retransmissions, the RETRANS timeout (300).
    #[test]
    fn retransmissions_past_max_retrans() {
        let mut f = established();
        let dup = seg(A, C + 1, SV + 1, 63, 0);
        for n in 1..=2 {
            f.expect(O, dup, 432_000, TcpState::Established, true);
            assert_eq!(f.conn().retrans, n);
        }
        f.expect(O, dup, 300, TcpState::Established, true);
        assert_eq!(f.conn().retrans, 3);
        // Another segment resets the counter.
        f.expect(O, dup.with_win(100), 432_000, TcpState::Established, true);
        assert_eq!(f.conn().retrans, 0);
    }

    #[test]
    fn max_retrans_from_config() {
        let mut f = Flow::with(TcpConfig { max_retrans: 1, timeout_max_retrans: 77, ..TcpConfig::default() });
        // No window seen yet (last_win 0) and SYN_SENT's 120 > RETRANS: the
        // RETRANS timeout applies to the SYN as well.
        f.expect(O, syn_opts(S, C, 0, 64240, 10), 77, TcpState::SynSent, false);
        f.expect(R, syn_opts(S | A, SV, C + 1, 65160, 10), 60, TcpState::SynRecv, false);
        f.expect(O, seg(A, C + 1, SV + 1, 63, 0), 432_000, TcpState::Established, true);
        f.expect(O, seg(A, C + 1, SV + 1, 63, 0), 77, TcpState::Established, true);
    }

    /// A zero window: the RETRANS timeout.
    #[test]
    fn zero_window() {
        let mut f = established();
        f.expect(O, seg(A, C + 1, SV + 1, 0, 0), 300, TcpState::Established, true);
    }

    /// Data far beyond what the receiver allowed: INVALID (bound I).
    #[test]
    fn seq_over_upper_bound() {
        let mut f = established();
        let r = f.expect_invalid(O, seg(P | A, C + 1 + 10_000_000, SV + 1, 63, 100));
        assert_eq!(r, reason::SEQ_OVER);
        // With nf_conntrack_tcp_be_liberal it passes.
        let mut f = Flow::with(TcpConfig { be_liberal: true, ..TcpConfig::default() });
        f.expect(O, syn_opts(S, C, 0, 64240, 10), 120, TcpState::SynSent, false);
        f.expect(R, syn_opts(S | A, SV, C + 1, 65160, 10), 60, TcpState::SynRecv, false);
        f.expect(O, seg(A, C + 1, SV + 1, 63, 0), 432_000, TcpState::Established, true);
        f.expect(O, seg(P | A, C + 1 + 10_000_000, SV + 1, 63, 100), 432_000, TcpState::Established, true);
    }

    /// A segment slightly past the window: "bytes more than expected",
    /// let through without refresh and taken into account for later ACKs.
    #[test]
    fn a_few_bytes_over_the_window() {
        let mut f = established();
        let maxend = f.conn().seen[0].td_maxend;
        let r = f.expect_no_refresh(O, seg(P | A, maxend + 1, SV + 1, 63, 10), TcpState::Established);
        assert_eq!(r, reason::BYTES_OVER);
        assert_eq!({ f.conn().seen[0].td_end }, maxend + 11);
        // The server may now ACK that data.
        f.expect(R, seg(A, SV + 1, maxend + 11, 64, 0), 432_000, TcpState::Established, true);
    }

    /// Acknowledging data never sent: INVALID (bound III).
    #[test]
    fn bogus_ack() {
        let mut f = established();
        assert_eq!(f.expect_invalid(R, seg(A, SV + 1, C + 5000, 64, 0)), reason::ACK_OVER);
    }

    /// An ACK far below the lower bound: ignored (bound IV).
    #[test]
    fn ack_under_lower_bound() {
        let mut f = established();
        let r = f.expect_no_refresh(R, seg(A, SV + 1, C + 1 - 100_000, 64, 0), TcpState::Established);
        assert_eq!(r, reason::ACK_UNDER);
    }

    /// Old data retransmitted far below the window: ignored (bound II).
    #[test]
    fn seq_under_lower_bound() {
        let mut f = established();
        // Advance the client by 200000 bytes in 50000-byte steps the server
        // ACKs (its window is 65536 scaled).
        let mut seq = C + 1;
        for _ in 0..4 {
            f.expect(O, seg(P | A, seq, SV + 1, 63, 50_000), 300, TcpState::Established, true);
            seq += 50_000;
            f.expect(R, seg(A, SV + 1, seq, 64, 0), 432_000, TcpState::Established, true);
        }
        let r = f.expect_no_refresh(O, seg(P | A, C + 1, SV + 1, 63, 100), TcpState::Established);
        assert_eq!(r, reason::SEQ_UNDER);
    }

    /// Window scaling: with WS on both SYNs the window of later segments is
    /// shifted; without it on one side, it is not.
    #[test]
    fn window_scaling() {
        // Both sides offer WS 7: the client's window 502 means 64256.
        let mut f = Flow::new();
        f.expect(O, syn_opts(S, C, 0, 64240, 7), 120, TcpState::SynSent, false);
        f.expect(R, syn_opts(S | A, SV, C + 1, 65160, 7), 60, TcpState::SynRecv, false);
        f.expect(O, seg(A, C + 1, SV + 1, 502, 0), 432_000, TcpState::Established, true);
        assert_eq!({ f.conn().seen[1].td_maxend }, SV + 1 + 502 * 128);
        f.expect(R, seg(P | A, SV + 1 + 1000, C + 1, 509, 100), 300, TcpState::Established, true);

        // The server does not offer WS: no scaling in either direction.
        let mut f = Flow::new();
        f.expect(O, syn_opts(S, C, 0, 64240, 7), 120, TcpState::SynSent, false);
        let synack = Segment { sack_perm: true, ..seg(S | A, SV, C + 1, 65160, 0) };
        f.expect(R, synack, 60, TcpState::SynRecv, false);
        assert_eq!((f.conn().seen[0].td_scale, f.conn().seen[1].td_scale), (0, 0));
        f.expect(O, seg(A, C + 1, SV + 1, 502, 0), 432_000, TcpState::Established, true);
        assert_eq!({ f.conn().seen[1].td_maxend }, SV + 1 + 502);
        // Beyond what the client allowed (502 unscaled), but within a
        // window of the receiver: a few bytes more than expected.
        let far = SV + 1 + 1000;
        assert_eq!(f.expect_no_refresh(R, seg(P | A, far, C + 1, 509, 100), TcpState::Established), reason::BYTES_OVER);
    }

    /// SACK: with SACK_PERM on the receiver, the highest SACK right edge is
    /// checked against the data seen; without it, it is not looked at.
    #[test]
    fn sack() {
        let mut f = established();
        f.expect(O, seg(P | A, C + 1, SV + 1, 63, 1000), 300, TcpState::Established, true);
        // A SACK block up to the end of the data: fine.
        let sacked = Segment { sack_max_right: Some(C + 1001), ..seg(A, SV + 1, C + 1, 64, 0) };
        f.expect(R, sacked, 300, TcpState::Established, true);
        // A SACK block beyond the data seen: ACK over the upper bound.
        let bogus = Segment { sack_max_right: Some(C + 3001), ..seg(A, SV + 1, C + 1, 64, 0) };
        assert_eq!(f.expect_invalid(R, bogus), reason::ACK_OVER);

        // The client did not offer SACK: the blocks are ignored.
        let mut f = Flow::new();
        f.expect(O, Segment { wscale: Some(10), ..seg(S, C, 0, 64240, 0) }, 120, TcpState::SynSent, false);
        f.expect(R, syn_opts(S | A, SV, C + 1, 65160, 10), 60, TcpState::SynRecv, false);
        f.expect(O, seg(A, C + 1, SV + 1, 63, 0), 432_000, TcpState::Established, true);
        f.expect(O, seg(P | A, C + 1, SV + 1, 63, 1000), 300, TcpState::Established, true);
        f.expect(R, bogus, 300, TcpState::Established, true);
    }

    /// A RST exactly at the next expected sequence closes.
    #[test]
    fn rst_in_window_closes() {
        let mut f = established();
        f.expect(R, seg(RS | A, SV + 1, C + 1, 64, 0), 10, TcpState::Close, true);
    }

    /// A RST below what the other side already ACKed: "invalid rst"
    /// (unless nf_conntrack_tcp_ignore_invalid_rst).
    #[test]
    fn rst_below_maxack_is_invalid() {
        let mut f = established();
        f.expect(R, seg(P | A, SV + 1, C + 1, 64, 100), 300, TcpState::Established, true);
        f.expect(O, seg(A, C + 1, SV + 101, 63, 0), 432_000, TcpState::Established, true);
        assert_eq!(f.expect_invalid(R, seg(RS, SV + 50, 0, 0, 0)), reason::INVALID_RST);

        let mut f = Flow::with(TcpConfig { ignore_invalid_rst: true, ..TcpConfig::default() });
        f.expect(O, syn_opts(S, C, 0, 64240, 10), 120, TcpState::SynSent, false);
        f.expect(R, syn_opts(S | A, SV, C + 1, 65160, 10), 60, TcpState::SynRecv, false);
        f.expect(O, seg(A, C + 1, SV + 1, 63, 0), 432_000, TcpState::Established, true);
        f.expect(R, seg(P | A, SV + 1, C + 1, 64, 100), 300, TcpState::Established, true);
        f.expect(O, seg(A, C + 1, SV + 101, 63, 0), 432_000, TcpState::Established, true);
        // Passes, but the SEQ is not the expected one: the state stays
        // (a challenge ACK may follow), with the CLOSE timeout.
        f.expect(R, seg(RS, SV + 50, 0, 0, 0), 10, TcpState::Established, true);
    }

    /// A RST in window but not at the expected SEQ keeps ESTABLISHED for a
    /// possible challenge ACK; a RST right after data of the same side, at
    /// its end ("RST train"), closes.
    #[test]
    fn rst_not_exact_keeps_state_train_closes() {
        let mut f = established();
        f.expect(R, seg(RS, SV + 1000, 0, 0, 0), 10, TcpState::Established, true);
        let mut f = established();
        f.expect(R, seg(P | A, SV + 1, C + 1, 64, 19), 300, TcpState::Established, true);
        f.expect(R, seg(RS | A, SV + 20, C + 1, 64, 0), 10, TcpState::Close, true);
    }

    /// A SYN in ESTABLISHED is ignored and noted; the SYN/ACK answering it
    /// resynchronises the entry (SYN_RECV).
    #[test]
    fn ignored_syn_then_synack_resyncs() {
        let mut f = established();
        let r = f.expect_no_refresh(O, syn_opts(S, 99_000, 0, 29200, 6), TcpState::Established);
        assert_eq!(r, "packet ignored, state ESTABLISHED");
        f.expect(R, syn_opts(S | A, 7_000_000, 99_001, 28960, 6), 60, TcpState::SynRecv, true);
        let c = f.conn();
        assert_eq!((c.seen[0].td_end, c.seen[0].td_scale), (99_001, 6));
        assert_eq!((c.seen[1].td_end, c.seen[1].td_scale), (7_000_001, 6));
        f.expect(O, seg(A, 99_001, 7_000_001, 453, 0), 432_000, TcpState::Established, true);
    }

    /// A SYN/ACK in ESTABLISHED without a preceding ignored SYN: ignored.
    #[test]
    fn late_synack_ignored() {
        let mut f = established();
        f.expect_no_refresh(R, syn_opts(S | A, SV, C + 1, 65160, 10), TcpState::Established);
        // The client's SYN/ACK is invalid.
        f.expect_invalid(O, syn_opts(S | A, C, SV + 1, 65160, 10));
    }

    /// NAT sequence adjustment: the server ACKs in the mangled space.
    #[test]
    fn seqadj_moves_acks() {
        let mut f = established();
        f.seqadj = Some([SeqAdj { correction_pos: C, offset_before: 0, offset_after: 5 }, SeqAdj::default()]);
        f.expect(O, seg(P | A, C + 1, SV + 1, 63, 100), 300, TcpState::Established, true);
        // 105 bytes in the server's view = 100 of ours.
        f.expect(R, seg(A, SV + 1, C + 106, 64, 0), 432_000, TcpState::Established, true);
    }
}

mod fin_wait {
    use super::*;

    #[test]
    fn fin_marks_close_init() {
        let f = fin_wait();
        assert_ne!(f.conn().seen[0].flags & ct_flags::CLOSE_INIT, 0);
        assert_eq!(f.conn().seen[1].flags & ct_flags::CLOSE_INIT, 0);
    }

    /// FIN from the other side before the ACK: LAST_ACK directly.
    #[test]
    fn simultaneous_close() {
        let mut f = fin_wait();
        f.expect(R, seg(F | A, SV + 1, C + 2, 64, 0), 30, TcpState::LastAck, true);
    }

    /// RST while closing: no validation (tuple may be reused): CLOSE.
    #[test]
    fn rst_skips_checks() {
        let mut f = fin_wait();
        f.expect(R, seg(RS, SV + 123_456_789, 0, 0, 0), 10, TcpState::Close, true);
    }

    /// An out-of-window FIN answering the other side's FIN on an ASSURED
    /// entry: INVALID, and the timeout shrinks to UNACK.
    #[test]
    fn out_of_window_fin_shrinks_timeout() {
        let mut f = fin_wait();
        let a = f.send(R, seg(F | A, SV + 50_000_000, C + 2, 64, 0));
        assert_eq!(a, TcpAction::Invalid { reason: reason::SEQ_OVER, shrink_timeout_to: Some(300) });
        assert_eq!(f.state(), Some(TcpState::FinWait));
    }

    #[test]
    fn synack_from_client_invalid() {
        let mut f = fin_wait();
        f.expect_invalid(O, syn_opts(S | A, C, SV + 1, 1, 10));
    }
}

mod close_wait {
    use super::*;

    #[test]
    fn data_from_server_stays() {
        let mut f = close_wait();
        f.expect(R, seg(P | A, SV + 1, C + 2, 64, 10), 60, TcpState::CloseWait, true);
        f.expect(O, seg(A, C + 2, SV + 11, 63, 0), 60, TcpState::CloseWait, true);
    }

    #[test]
    fn fin_from_client_again_goes_last_ack() {
        // A retransmitted FIN also counts as a FIN in both directions.
        let mut f = close_wait();
        f.expect(O, seg(F | A, C + 1, SV + 1, 63, 0), 30, TcpState::LastAck, true);
    }

    #[test]
    fn syn_is_ignored() {
        let mut f = close_wait();
        f.expect_no_refresh(O, syn_opts(S, 5, 0, 100, 1), TcpState::CloseWait);
    }

    #[test]
    fn rst_closes() {
        let mut f = close_wait();
        f.expect(O, seg(RS, C + 2, 0, 0, 0), 10, TcpState::Close, true);
    }
}

mod last_ack {
    use super::*;

    #[test]
    fn retransmitted_fin_stays() {
        let mut f = last_ack();
        f.expect(R, seg(F | A, SV + 1, C + 2, 64, 0), 30, TcpState::LastAck, true);
    }

    /// RFC 5961: a SYN in LAST_ACK draws a challenge ACK from the server,
    /// which must not be taken for the last ACK.
    #[test]
    fn challenge_ack_is_not_the_last_ack() {
        let mut f = last_ack();
        f.expect_no_refresh(O, syn_opts(S, 3_000_000, 0, 64240, 10), TcpState::LastAck);
        assert_ne!(f.conn().last_flags & ct_flags::EXP_CHALLENGE_ACK, 0);
        let r = f.expect_no_refresh(R, seg(A, SV + 2, C + 2, 64, 0), TcpState::LastAck);
        assert_eq!(r, reason::CHALLENGE_ACK);
        assert_eq!(f.conn().last_flags & ct_flags::EXP_CHALLENGE_ACK, 0);
        // The real last ACK still ends it.
        f.expect(O, seg(A, C + 2, SV + 2, 63, 0), 120, TcpState::TimeWait, true);
    }

    #[test]
    fn rst_closes() {
        let mut f = last_ack();
        f.expect(O, seg(RS, C + 2, 0, 0, 0), 10, TcpState::Close, true);
    }
}

mod time_wait {
    use super::*;

    #[test]
    fn retransmitted_last_ack_stays() {
        let mut f = time_wait();
        f.expect(O, seg(A, C + 2, SV + 2, 63, 0), 120, TcpState::TimeWait, true);
        f.expect(R, seg(F | A, SV + 1, C + 2, 64, 0), 120, TcpState::TimeWait, true);
    }

    /// A new SYN on the same tuple reopens: the entry is killed and a new
    /// one created (SYN_SENT, not ASSURED).
    #[test]
    fn syn_reopens() {
        let mut f = time_wait();
        let mut conn = f.conn().clone();
        let mut st = f.status;
        assert_eq!(conn.packet(O, &syn_opts(S, C + 100_000, 0, 64240, 10), &mut st, &f.cfg), TcpVerdict::Reopen);
        f.expect(O, syn_opts(S, C + 100_000, 0, 64240, 10), 120, TcpState::SynSent, false);
    }

    /// The server may reopen with a SYN of its own (roles switched).
    #[test]
    fn reply_syn_reopens() {
        let f = time_wait();
        let mut conn = f.conn().clone();
        let mut st = f.status;
        assert_eq!(conn.packet_action(R, &syn_opts(S, SV + 100_000, 0, 64240, 10), &mut st, &f.cfg), TcpAction::Reopen);
    }

    #[test]
    fn synack_ignored() {
        let mut f = time_wait();
        f.expect_no_refresh(R, syn_opts(S | A, SV, C + 1, 65160, 10), TcpState::TimeWait);
    }

    #[test]
    fn rst_closes_without_checks() {
        let mut f = time_wait();
        f.expect(R, seg(RS, 1, 0, 0, 0), 10, TcpState::Close, true);
    }
}

mod close {
    use super::*;

    /// The client reset, then starts again: reopened (last RST from the
    /// same direction).
    #[test]
    fn syn_after_own_rst_reopens() {
        let mut f = close();
        let mut conn = f.conn().clone();
        let mut st = f.status;
        assert_eq!(conn.packet_action(O, &syn_opts(S, 42, 0, 64240, 10), &mut st, &f.cfg), TcpAction::Reopen);
        f.expect(O, syn_opts(S, 42, 0, 64240, 10), 120, TcpState::SynSent, false);
    }

    /// The server reset: a new SYN of the client is only ignored (no
    /// CLOSE_INIT, last RST from the other side).
    #[test]
    fn syn_after_peer_rst_is_ignored() {
        let mut f = established();
        f.expect(R, seg(RS | A, SV + 1, C + 1, 64, 0), 10, TcpState::Close, true);
        f.expect_no_refresh(O, syn_opts(S, 42, 0, 64240, 10), TcpState::Close);
    }

    #[test]
    fn everything_stays_closed() {
        let mut f = close();
        f.expect(O, seg(A, C + 1, SV + 1, 63, 0), 10, TcpState::Close, true);
        f.expect(R, seg(F | A, SV + 1, C + 1, 64, 0), 10, TcpState::Close, true);
        f.expect(R, seg(RS, SV + 1, 0, 0, 0), 10, TcpState::Close, true);
        f.expect_invalid(R, syn_opts(S, 5, 0, 1, 1));
        f.expect_no_refresh(R, syn_opts(S | A, 5, C + 1, 1, 1), TcpState::Close);
    }
}

/// Every cell of the table, against the kernel's matrix written the way
/// nf_conntrack_proto_tcp.c prints it.
#[test]
fn table_matches_kernel_matrix() {
    use TcpState::*;
    let names = [None, SynSent, SynRecv, Established, FinWait, CloseWait, LastAck, TimeWait, Close, SynSent2];
    let kernel: [[&str; 6]; 2] = [
        [
            "sSS sSS sIG sIG sIG sIG sIG sSS sSS sS2",
            "sIV sIV sSR sIV sIV sIV sIV sIV sIV sSR",
            "sIV sIV sFW sFW sLA sLA sLA sTW sCL sIV",
            "sES sIV sES sES sCW sCW sTW sTW sCL sIV",
            "sIV sCL sCL sCL sCL sCL sCL sCL sCL sCL",
            "sIV sIV sIV sIV sIV sIV sIV sIV sIV sIV",
        ],
        [
            "sIV sS2 sIV sIV sIV sIV sIV sSS sIV sS2",
            "sIV sSR sIG sIG sIG sIG sIG sIG sIG sSR",
            "sIV sIV sFW sFW sLA sLA sLA sTW sCL sIV",
            "sIV sIG sSR sES sCW sCW sTW sTW sCL sIG",
            "sIV sCL sCL sCL sCL sCL sCL sCL sCL sCL",
            "sIV sIV sIV sIV sIV sIV sIV sIV sIV sIV",
        ],
    ];
    let short = |n: Next| match n {
        Next::Invalid => "sIV",
        Next::Ignore => "sIG",
        Next::To(s) => match s {
            None => "sNO",
            SynSent => "sSS",
            SynRecv => "sSR",
            Established => "sES",
            FinWait => "sFW",
            CloseWait => "sCW",
            LastAck => "sLA",
            TimeWait => "sTW",
            Close => "sCL",
            SynSent2 => "sS2",
        },
    };
    let indexes = [TcpIndex::Syn, TcpIndex::SynAck, TcpIndex::Fin, TcpIndex::Ack, TcpIndex::Rst, TcpIndex::None];
    for (d, rows) in kernel.iter().enumerate() {
        for (i, row) in rows.iter().enumerate() {
            let got: Vec<&str> = names.iter().map(|&s| short(transition(d == 1, indexes[i], s))).collect();
            assert_eq!(got.join(" "), *row, "dir {d} index {i}");
        }
    }
}

/// `packet` summarises what `packet_action` says: no refresh is `Keep`.
#[test]
fn verdict_summary_of_no_refresh() {
    let f = established();
    let mut conn = f.conn().clone();
    let mut st = f.status;
    let v = conn.packet(R, &syn_opts(S | A, SV, C + 1, 65160, 10), &mut st, &f.cfg);
    assert_eq!(v, TcpVerdict::Keep);
    let v = conn.packet(R, &seg(A, SV + 1, C + 9999, 64, 0), &mut st, &f.cfg);
    assert_eq!(v, TcpVerdict::Invalid { reason: reason::ACK_OVER });
}

/// No sequence of segments, however odd, panics (wrapping sequence space,
/// huge windows and scales, every flag byte), in both directions, with both
/// loose settings.
#[test]
fn arbitrary_segments_never_panic() {
    // xorshift: deterministic and dependency-free.
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut rnd = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let near = [0u32, 1, 0x7FFF_FFFF, 0x8000_0000, u32::MAX, 1000, 5000];
    for round in 0..400 {
        let cfg = TcpConfig { loose: round % 2 == 0, be_liberal: round % 7 == 0, ..TcpConfig::default() };
        let mut f = Flow::with(cfg);
        for _ in 0..40 {
            let r = rnd();
            let pick = |v: u64| if v.is_multiple_of(3) { near[(v as usize / 3) % near.len()] } else { v as u32 };
            let s = Segment {
                flags: [S, S | A, A, P | A, F | A, RS, RS | A, (r >> 8) as u8][(r % 8) as usize],
                seq: pick(rnd()),
                ack: pick(rnd()),
                window: rnd() as u16,
                data_len: (rnd() % 70_000) as u32,
                wscale: if r & 0x100 != 0 { Some((r >> 16) as u8) } else { None },
                sack_perm: r & 0x200 != 0,
                sack_max_right: if r & 0x400 != 0 { Some(pick(rnd())) } else { None },
            };
            let dir = if f.conn.is_some() && r & 0x800 != 0 { R } else { O };
            let _ = f.send(dir, s);
        }
    }
}

/// [`TcpConn::established_ack`], the fast path for an in-window ACK of an
/// established connection, against the general path
/// ([`TcpConn::packet_action_checked`]): where it handles a segment, both
/// leave the same connection and status and the general path accepts with
/// the same timeout; where it does not, it changed nothing.
mod fast_path {
    use super::*;
    use proptest::prelude::*;

    /// Runs `s` through both paths from the same connection; returns the
    /// general path's outcome (and leaves its connection and status in
    /// `conn` and `status`) and whether the fast path took the segment.
    fn both(
        conn: &mut TcpConn,
        status: &mut u32,
        dir: Dir,
        s: &Segment,
        cfg: &TcpConfig,
    ) -> Result<(TcpAction, bool), TestCaseError> {
        let mut fast = conn.clone();
        let fast_timeout = fast.established_ack(dir, s, *status, cfg);
        let before = conn.clone();
        let action = conn.packet_action_checked(dir, s, status, cfg, None);
        match fast_timeout {
            Some(timeout_secs) => {
                prop_assert_eq!(action, TcpAction::Accept { timeout_secs }, "{:?} {:?} from {:?}", dir, s, before);
                prop_assert_eq!(&fast, &*conn, "{:?} {:?} from {:?}", dir, s, before);
            }
            None => prop_assert_eq!(&fast, &before, "declined, but changed: {:?} {:?}", dir, s),
        }
        Ok((action, fast_timeout.is_some()))
    }

    /// The flags of a step: mostly ACKs (with PSH, URG, ECE, CWR), at
    /// times a FIN, RST, SYN or a segment without ACK (after which most
    /// connections are closing: rare, so that most steps are taken in
    /// ESTABLISHED).
    fn flags() -> impl Strategy<Value = u8> {
        prop_oneof![
            12 => prop::sample::select(vec![A, P | A, A | 0x20, A | 0xc0]),
            1 => prop::sample::select(vec![F | A, F, RS, RS | A, S, S | A, P]),
        ]
    }

    /// A distance in sequence space: near the edge a bound checks, within
    /// a window, or anywhere.
    fn delta() -> impl Strategy<Value = i32> {
        prop_oneof![4 => -3..=3i32, 4 => -2000..=2000i32, 2 => -70_000..=70_000i32, 1 => any::<i32>()]
    }

    #[derive(Debug, Clone)]
    struct Step {
        reply: bool,
        /// Send the previous segment again (a retransmission).
        again: bool,
        flags: u8,
        /// seq from the sender's td_end, ack from the receiver's td_end,
        /// the SACK edge from the ack.
        seq: i32,
        ack: i32,
        sack: Option<i32>,
        window: u16,
        data_len: u32,
    }

    fn step() -> impl Strategy<Value = Step> {
        (
            any::<bool>(),
            prop::bool::weighted(0.15),
            flags(),
            delta(),
            delta(),
            prop::option::weighted(0.2, delta()),
            prop_oneof![Just(0u16), any::<u16>()],
            prop_oneof![2 => Just(0u32), 4 => 0..3000u32, 1 => any::<u32>()],
        )
            .prop_map(|(reply, again, flags, seq, ack, sack, window, data_len)| Step {
                reply,
                again,
                flags,
                seq,
                ack,
                sack,
                window,
                data_len,
            })
    }

    /// How the connection starts: after the handshake (ESTABLISHED and
    /// ASSURED), with the handshake's last ACK missing (SYN_RECV), or
    /// picked up mid-stream (liberal windows, no reply yet).
    #[derive(Debug, Clone, Copy)]
    enum Start {
        Handshake,
        SynRecv,
        Pickup,
    }

    fn config() -> impl Strategy<Value = TcpConfig> {
        (
            any::<bool>(),
            0..4u32,
            prop::sample::select(vec![432_000u64, 300, 100, 5]),
            prop::sample::select(vec![300u64, 50, 1000]),
            prop::sample::select(vec![300u64, 50, 1000]),
        )
            .prop_map(|(be_liberal, max_retrans, est, retrans, unack)| TcpConfig {
                be_liberal,
                max_retrans,
                timeout_established: est,
                timeout_max_retrans: retrans,
                timeout_unacknowledged: unack,
                ..TcpConfig::default()
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn the_fast_path_does_what_the_general_path_does(
            cfg in config(),
            start in prop::sample::select(vec![Start::Handshake, Start::SynRecv, Start::Pickup]),
            isn in (any::<u32>(), any::<u32>()),
            windows in (any::<u16>(), any::<u16>()),
            scales in (prop::option::of(0..16u8), prop::option::of(0..16u8)),
            sack_perm in (any::<bool>(), any::<bool>()),
            assured in prop::bool::weighted(0.2),
            steps in prop::collection::vec(step(), 1..40),
        ) {
            let (c, s) = isn;
            let syn = Segment { wscale: scales.0, sack_perm: sack_perm.0, ..seg(S, c, 0, windows.0, 0) };
            let synack = Segment { wscale: scales.1, sack_perm: sack_perm.1, ..seg(S | A, s, c.wrapping_add(1), windows.1, 0) };
            let first = match start {
                Start::Pickup => seg(A, c, s, windows.0, 0),
                Start::Handshake | Start::SynRecv => syn,
            };
            let Ok(mut conn) = TcpConn::new(&first, &cfg) else { return Ok(()) };
            // The status is the caller's: it may say ASSURED of a connection
            // the tracker has not assured (no reply seen yet).
            let mut status = if assured { status::ASSURED } else { 0 };
            let mut prologue = vec![(O, first)];
            match start {
                Start::Handshake => {
                    prologue.push((R, synack));
                    prologue.push((O, seg(A, c.wrapping_add(1), s.wrapping_add(1), windows.0, 0)));
                }
                Start::SynRecv => prologue.push((R, synack)),
                Start::Pickup => {}
            }
            let mut last: Option<(Dir, Segment)> = None;
            let sends = prologue.into_iter().map(Ok).chain(steps.into_iter().map(Err));
            for send in sends {
                let (dir, s) = match send {
                    Ok(first) => first,
                    Err(st) => match last {
                        Some(previous) if st.again => previous,
                        _ => {
                            let dir = if st.reply { R } else { O };
                            let (sender, receiver) = (conn.seen[dir as usize], conn.seen[dir.other() as usize]);
                            let ack = receiver.td_end.wrapping_add(st.ack as u32);
                            let s = Segment {
                                flags: st.flags,
                                seq: sender.td_end.wrapping_add(st.seq as u32),
                                ack,
                                window: st.window,
                                data_len: st.data_len,
                                sack_max_right: st.sack.map(|d| ack.wrapping_add(d as u32)),
                                ..Segment::default()
                            };
                            (dir, s)
                        }
                    },
                };
                if check_segment(s.flags).is_err() {
                    continue;
                }
                let (action, _) = both(&mut conn, &mut status, dir, &s, &cfg)?;
                // nf_conntrack_in's part: SEEN_REPLY after an accepted reply.
                if dir == R && !matches!(action, TcpAction::Invalid { .. } | TcpAction::Reopen) {
                    status |= status::SEEN_REPLY;
                }
                if matches!(action, TcpAction::Kill | TcpAction::Reopen) {
                    break;
                }
                last = Some((dir, s));
            }
        }
    }

    /// The segments the fast path takes are the ACK index's, and their
    /// flags pass tcp_error's check (which the tracker's fast path
    /// therefore does not repeat).
    #[test]
    fn plain_acks_are_the_ack_index_and_valid() {
        for f in 0..=255u8 {
            assert_eq!(is_plain_ack(f), TcpIndex::of(f) == TcpIndex::Ack, "{f:#04x}");
            if is_plain_ack(f) {
                assert!(check_segment(f).is_ok(), "{f:#04x}");
            }
        }
    }

    /// The fast path does take the segment it is for (else the property
    /// above would hold of a fast path that declines everything), and
    /// declines the others.
    #[test]
    fn the_fast_path_takes_an_in_window_ack_of_an_assured_connection() {
        let f = established();
        let (mut conn, mut status) = (f.conn().clone(), f.status);
        let data = seg(A | P, C + 1, SV + 1, 63, 100);
        assert_eq!(
            both(&mut conn, &mut status, O, &data, &f.cfg).unwrap(),
            (TcpAction::Accept { timeout_secs: 300 }, true)
        );
        let answer = seg(A, SV + 1, C + 101, 509, 0);
        assert_eq!(
            both(&mut conn, &mut status, R, &answer, &f.cfg).unwrap(),
            (TcpAction::Accept { timeout_secs: 432_000 }, true)
        );
        // A FIN, an ACK past what the other side sent, a SYN/ACK: the
        // general path's.
        for (dir, s) in [
            (O, seg(F | A, C + 101, SV + 1, 63, 0)),
            (R, seg(A, SV + 1, C + 5000, 509, 0)),
            (R, seg(S | A, SV, C + 1, 509, 0)),
        ] {
            let (mut conn, mut status) = (conn.clone(), status);
            assert!(!both(&mut conn, &mut status, dir, &s, &f.cfg).unwrap().1, "{s:?}");
        }
        // ASSURED in a status that says so of a connection without a
        // reply (the status is the caller's): the general path's pickup
        // timeout.
        let mut no_reply = conn.clone();
        no_reply.wscale_reply &= !SEEN_REPLY;
        let mut st = status;
        let data = seg(A, C + 101, SV + 1, 63, 10);
        assert_eq!(
            both(&mut no_reply, &mut st, O, &data, &f.cfg).unwrap(),
            (TcpAction::Accept { timeout_secs: 300 }, false)
        );
        // Not yet ASSURED (SYN_RECV's last ACK), and not ESTABLISHED.
        let mut f = Flow::new();
        f.expect(O, syn_opts(S, C, 0, 64240, 10), 120, TcpState::SynSent, false);
        f.expect(R, syn_opts(S | A, SV, C + 1, 65160, 10), 60, TcpState::SynRecv, false);
        let (mut conn, mut status) = (f.conn().clone(), f.status);
        assert_eq!(
            both(&mut conn, &mut status, O, &seg(A, C + 1, SV + 1, 63, 0), &f.cfg).unwrap(),
            (TcpAction::Accept { timeout_secs: 432_000 }, false)
        );
        assert_eq!(conn.state, TcpState::Established);
    }
}
