//! The helper step of nf_confirm: after the last hook accepted a packet
//! (and NAT rewrote its headers), the connection's helper looks at it —
//! FTP (nf_conntrack_ftp + nf_nat_ftp) or TFTP (nf_conntrack_tftp +
//! nf_nat_tftp) — and may announce an expectation, rewrite the payload
//! under NAT, or drop it; then the TCP sequence adjustment (nf_ct_seq_adjust)
//! of connections whose payload length a helper changed.

use super::Tracker;
use super::expect::{ExpectError, ExpectNat, Expectation};
use crate::helpers::{ftp, tftp};
use crate::mangle::{be16, word as be32};
use crate::tcp::SeqAdj;
use crate::tuple::addr_bytes;
use crate::{CtState, Dir, Handle, Helper, L3_IPV4, Tuple, Verdict, mangle, status};

/// What the helper step decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HelpVerdict {
    Accept,
    /// NF_DROP, with the text the kernel's nf_ct_helper_log prints.
    Drop(&'static str),
}

/// Per-connection data of helpers and expectations (the kernel's helper
/// extension and `ct->master`), out of line: most connections have none.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HelpState {
    pub ftp: ftp::FtpSeqState,
    /// An expected connection's master (`ct->master`).
    pub master: Option<Handle>,
    /// Expected connections alive whose master this is (each holds a
    /// reference: conntrack's `use=`).
    pub children: u32,
}

/// The mask of an expectation of protocol `proto` with any source port
/// (nf_ct_expect_init with no source port): addresses of the family all
/// ones, destination port exact; the protocol is kept so the mask prints
/// its ports as conntrack does.
pub(super) fn mask(l3: u8, proto: u8, any_src_port: bool) -> Tuple {
    let n = if l3 == L3_IPV4 { 4 } else { 16 };
    let mut m =
        Tuple { l3, proto, src_port: if any_src_port { 0 } else { 0xffff }, dst_port: 0xffff, ..Tuple::default() };
    m.src[..n].fill(0xff);
    m.dst[..n].fill(0xff);
    m
}

/// Where the TCP header and payload are: (transport offset, payload
/// offset), within `end`.
fn tcp_offsets(pkt: &[u8], th: usize, end: usize) -> Option<usize> {
    if end < th + 20 || pkt.len() < end {
        return None;
    }
    let data = th + usize::from(pkt[th + 12] >> 4) * 4;
    (data >= th + 20 && data <= end).then_some(data)
}

/// mangle_contents + nf_nat_csum_recalc: replace `len` bytes at `at` with
/// `text`, fix the IP length (IPv4: the header checksum computed anew, as
/// ip_send_check) and compute the TCP checksum anew. `pkt` ends at the
/// datagram's end afterwards (link padding dropped, as the kernel's skb
/// has none).
fn mangle_tcp(
    pkt: &mut Vec<u8>,
    nh: usize,
    th: usize,
    end: usize,
    at: usize,
    len: usize,
    text: &[u8],
) -> Option<usize> {
    if at + len > end {
        return None;
    }
    pkt.truncate(end);
    pkt.splice(at..at + len, text.iter().copied());
    let end = pkt.len();
    if end - nh > 0xffff {
        return None;
    }
    if pkt[nh] >> 4 == 4 {
        pkt[nh + 2..nh + 4].copy_from_slice(&((end - nh) as u16).to_be_bytes());
        pkt[nh + 10..nh + 12].fill(0);
        let ihl = usize::from(pkt[nh] & 0xf) * 4;
        let c = ctc_wire::checksum::checksum(&pkt[nh..nh + ihl]);
        pkt[nh + 10..nh + 12].copy_from_slice(&c.to_be_bytes());
    } else {
        pkt[nh + 4..nh + 6].copy_from_slice(&((end - nh - 40) as u16).to_be_bytes());
    }
    mangle::tcp_checksum_anew(pkt, nh, th, end);
    Some(end)
}

impl Tracker {
    /// The helper step for a packet about to be confirmed (see the module
    /// doc). `nh`/`th`/`end`: the packet's network header, transport
    /// header and datagram end. `pkt` may change length (a NATed FTP
    /// command rewritten).
    pub fn help(
        &mut self,
        v: &Verdict,
        pkt: &mut Vec<u8>,
        nh: usize,
        th: usize,
        end: usize,
        now_ns: u64,
    ) -> HelpVerdict {
        let Some(h) = v.handle else { return HelpVerdict::Accept };
        let Some(e) = self.entry(h) else { return HelpVerdict::Accept };
        let seqadj_needed = e.status & status::SEQ_ADJUST != 0;
        if e.helper.is_none() && !seqadj_needed {
            return HelpVerdict::Accept;
        }
        // "helper->help() do not expect ICMP packets": an error about the
        // connection is not the connection's protocol.
        if pkt.get(nh).is_none() || end > pkt.len() {
            return HelpVerdict::Accept;
        }
        let l4 = if pkt[nh] >> 4 == 4 { pkt[nh + 9] } else { e.proto() };
        if l4 != e.proto() {
            return HelpVerdict::Accept;
        }
        let (helper, proto) = (e.helper, e.proto());
        let mut end = end;
        match helper {
            Some(Helper::Ftp) if proto == 6 && v.state == CtState::Established => {
                match self.ftp_help(h, v.dir, pkt, nh, th, end, now_ns) {
                    Ok(new_end) => end = new_end,
                    Err(m) => return HelpVerdict::Drop(m),
                }
            }
            Some(Helper::Tftp) if proto == 17 => {
                if let Err(m) = self.tftp_help(h, pkt, th, end, now_ns) {
                    return HelpVerdict::Drop(m);
                }
            }
            _ => {}
        }
        let seqadj = self.entry(h).is_some_and(|e| e.status & status::SEQ_ADJUST != 0);
        if seqadj && proto == 6 && !self.seq_adjust(h, v.dir, pkt, th, end) {
            self.stats.drop += 1;
            return HelpVerdict::Drop("seqadj");
        }
        HelpVerdict::Accept
    }

    /// nf_conntrack_ftp's help() and, under NAT, nf_nat_ftp(): `Ok` with
    /// the datagram's (new) end, `Err` with the log text of a drop.
    #[allow(clippy::too_many_arguments)]
    fn ftp_help(
        &mut self,
        h: Handle,
        dir: Dir,
        pkt: &mut Vec<u8>,
        nh: usize,
        th: usize,
        end: usize,
        now_ns: u64,
    ) -> Result<usize, &'static str> {
        let Some(data) = tcp_offsets(pkt, th, end) else { return Ok(end) };
        let seq = be32(pkt, th + 4);
        let e = self.entry(h).expect("checked by the caller");
        let (tuples, zone, nat) = (e.tuples, e.zone, e.status & (status::SRC_NAT | status::DST_NAT) != 0);
        let ctl_src = tuples[dir as usize].src_addr();
        let loose = self.cfg.ftp_loose;
        let st = &mut self.cold_mut(h.idx).help.get_or_insert_with(Default::default).ftp;
        let decision = ftp::help(st, &pkt[data..end], seq, dir, ctl_src, loose);
        let (cmd, daddr_override) = match decision {
            ftp::FtpDecision::Accept => return Ok(end),
            ftp::FtpDecision::Drop(m) => return Err(m),
            ftp::FtpDecision::Expect { cmd, daddr_override } => (cmd, daddr_override),
        };
        // "We refer to the reverse direction ("!dir") tuples here, because
        // we're expecting something in the other direction."
        let other = tuples[dir.other() as usize];
        let l3 = other.l3;
        let mut exp = Expectation {
            tuple: Tuple {
                src: other.src,
                dst: daddr_override.map_or(other.dst, addr_bytes),
                src_port: 0,
                dst_port: cmd.port,
                l3,
                proto: 6,
            },
            mask: mask(l3, 6, true),
            master: h,
            master_tuple: tuples[0],
            helper: Some(Helper::Ftp),
            class: 0,
            zone,
            timeout_at_ns: 0,
            nat: None,
        };
        if !nat {
            // "Can't expect this? Best to drop packet now."
            return match self.expect_related(exp, now_ns) {
                Ok(()) => Ok(end),
                Err(_) => Err("cannot add expectation"),
            };
        }
        // nf_nat_ftp: the connection will come from wherever this packet
        // goes; announce the translated address, and a port free for the
        // expectation.
        let newaddr = other.dst_addr();
        exp.nat = Some(ExpectNat { dir: dir.other(), saved_port: cmd.port });
        let Some(port) = self.exp_find_port(&mut exp, cmd.port, now_ns) else {
            return Err("all ports in use");
        };
        let mut buf = [0u8; ftp::FORMAT_BUF_LEN];
        let n = ftp::format_cmd(cmd.ty, newaddr, port, &mut buf);
        let at = data + cmd.match_off;
        let mangled = if n == 0 { None } else { mangle_tcp(pkt, nh, th, end, at, cmd.match_len, &buf[..n]) };
        let Some(new_end) = mangled else {
            // nf_ct_unexpect_related.
            if let Some(i) = self.expects.iter().position(|x| x.master == h && x.tuple == exp.tuple) {
                self.unlink_expect(i, now_ns);
            }
            return Err("cannot mangle packet");
        };
        let diff = n as i32 - cmd.match_len as i32;
        if diff != 0 {
            self.seqadj_set(h, dir, seq, diff);
        }
        Ok(new_end)
    }

    /// nf_nat_exp_find_port: the announced port if the expectation can
    /// take it, else up to 128 random ports above it.
    fn exp_find_port(&mut self, exp: &mut Expectation, start: u16, now_ns: u64) -> Option<u16> {
        let range = u32::from(u16::MAX - start);
        let mut attempts = range.min(128) as i32;
        let mut port = start;
        loop {
            exp.tuple.dst_port = port;
            match self.expect_related(exp.clone(), now_ns) {
                Ok(()) => return Some(port),
                Err(ExpectError::Busy) if attempts > 0 && range > 0 => {
                    attempts -= 1;
                    port = start + (u32::from(self.random_u16()) % range) as u16;
                }
                Err(_) => return None,
            }
        }
    }

    /// tftp_help: a read or write request expects the server's answer from
    /// any port to the client's (nf_nat_tftp: translated back as the master).
    fn tftp_help(&mut self, h: Handle, pkt: &[u8], th: usize, end: usize, now_ns: u64) -> Result<(), &'static str> {
        if end < th + 8 || !tftp::is_request(&pkt[th + 8..end]) {
            return Ok(());
        }
        let e = self.entry(h).expect("checked by the caller");
        let reply = e.tuples[1];
        let nat = e.status & (status::SRC_NAT | status::DST_NAT) != 0;
        let exp = Expectation {
            tuple: Tuple { src_port: 0, ..reply },
            mask: mask(reply.l3, 17, true),
            master: h,
            master_tuple: e.tuples[0],
            helper: Some(Helper::Tftp),
            class: 0,
            zone: e.zone,
            timeout_at_ns: 0,
            nat: nat.then_some(ExpectNat { dir: Dir::Reply, saved_port: e.tuples[0].src_port }),
        };
        self.expect_related(exp, now_ns).map_err(|_| "cannot add expectation")
    }

    /// nf_ct_seqadj_set: from the segment at `seq` on, this direction's
    /// sequence numbers are `off` further on.
    fn seqadj_set(&mut self, h: Handle, dir: Dir, seq: u32, off: i32) {
        self.em(h.idx).status |= status::SEQ_ADJUST;
        if self.tcp_mut(h.idx).is_none() {
            return;
        }
        let adj = self.cold_mut(h.idx).seqadj.get_or_insert_with(|| Box::new([SeqAdj::default(); 2]));
        let w = &mut adj[dir as usize];
        if w.offset_before == w.offset_after || (w.correction_pos.wrapping_sub(seq) as i32) < 0 {
            w.correction_pos = seq;
            w.offset_before = w.offset_after;
            w.offset_after += off;
        }
    }

    /// nf_ct_seq_adjust: this direction's sequence number moved by its
    /// offset, the acknowledgement (and SACK blocks) back by the other
    /// direction's, checksum updated incrementally.
    fn seq_adjust(&self, h: Handle, dir: Dir, pkt: &mut [u8], th: usize, end: usize) -> bool {
        let Some(e) = self.entry(h) else { return true };
        if e.tcp.is_none() {
            return true;
        }
        let Some(adj) = self.cold(h.idx).and_then(|k| k.seqadj.as_ref()) else { return true };
        if end < th + 20 {
            return false;
        }
        let after = |a: u32, b: u32| (b.wrapping_sub(a) as i32) < 0;
        let (this, other) = (adj[dir as usize], adj[dir.other() as usize]);
        let mut check = be16(pkt, th + 16);
        let seq = be32(pkt, th + 4);
        let seqoff = if after(seq, this.correction_pos) { this.offset_after } else { this.offset_before };
        let newseq = seq.wrapping_add(seqoff as u32);
        check = mangle::replace4(check, seq, newseq);
        pkt[th + 4..th + 8].copy_from_slice(&newseq.to_be_bytes());
        if pkt[th + 13] & 0x10 != 0 {
            let back = |v: u32| {
                if after(v.wrapping_sub(other.offset_before as u32), other.correction_pos) {
                    v.wrapping_sub(other.offset_after as u32)
                } else {
                    v.wrapping_sub(other.offset_before as u32)
                }
            };
            let ack = be32(pkt, th + 8);
            let newack = back(ack);
            check = mangle::replace4(check, ack, newack);
            pkt[th + 8..th + 12].copy_from_slice(&newack.to_be_bytes());
            // nf_ct_sack_adjust: every SACK block's edges.
            let hl = (usize::from(pkt[th + 12] >> 4) * 4).min(end - th);
            let mut i = th + 20;
            while i < th + hl {
                match pkt[i] {
                    0 => break,
                    1 => i += 1,
                    kind => {
                        let Some(&len) = pkt.get(i + 1) else { break };
                        let len = usize::from(len);
                        if len < 2 || i + len > th + hl {
                            break;
                        }
                        if kind == 5 && (len - 2) % 8 == 0 {
                            let mut b = i + 2;
                            while b + 8 <= i + len {
                                for at in [b, b + 4] {
                                    let old = be32(pkt, at);
                                    let new = back(old);
                                    check = mangle::replace4(check, old, new);
                                    pkt[at..at + 4].copy_from_slice(&new.to_be_bytes());
                                }
                                b += 8;
                            }
                        }
                        i += len;
                    }
                }
            }
        }
        pkt[th + 16..th + 18].copy_from_slice(&check.to_be_bytes());
        true
    }
}
