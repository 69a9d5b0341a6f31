//! NFQUEUE over netlink (nfnetlink_queue), written for ctc's gateway
//! runtime (issue #7): the queue's configuration (bind, copy mode, queue
//! length, GSO and fail-open flags, a large socket buffer), packets with
//! their metadata, and verdicts one by one or in batches
//! (NFQNL_MSG_VERDICT_BATCH: one message settles every packet up to an id),
//! with a rewritten payload (NAT) or a mark.
//!
//! The message formats are those of `include/uapi/linux/netfilter/
//! nfnetlink_queue.h`; netlink headers are in host byte order, nfnetlink's
//! payload structures and attributes in network byte order. Building and
//! parsing are plain functions over bytes (tested without a kernel);
//! [`Queue`] owns the socket.

use rustix::fd::OwnedFd;
use rustix::net::{AddressFamily, RecvFlags, SendFlags, SocketType, netlink};
use std::io;

use crate::netlink::{self as nl, NLMSG_DONE, NLMSG_ERROR};

const NLM_F_ACK: u16 = 4;

const NFNL_SUBSYS_QUEUE: u16 = 3;
const NFQNL_MSG_PACKET: u16 = 0;
const NFQNL_MSG_VERDICT: u16 = 1;
const NFQNL_MSG_CONFIG: u16 = 2;
const NFQNL_MSG_VERDICT_BATCH: u16 = 3;

const NFQA_CFG_CMD: u16 = 1;
const NFQA_CFG_PARAMS: u16 = 2;
const NFQA_CFG_QUEUE_MAXLEN: u16 = 3;
const NFQA_CFG_MASK: u16 = 4;
const NFQA_CFG_FLAGS: u16 = 5;
const NFQNL_CFG_CMD_BIND: u8 = 1;
const NFQNL_CFG_CMD_UNBIND: u8 = 2;
const NFQNL_COPY_PACKET: u8 = 2;

const NFQA_PACKET_HDR: u16 = 1;
const NFQA_VERDICT_HDR: u16 = 2;
const NFQA_MARK: u16 = 3;
const NFQA_IFINDEX_INDEV: u16 = 5;
const NFQA_IFINDEX_OUTDEV: u16 = 6;
const NFQA_PAYLOAD: u16 = 10;
const NFQA_CAP_LEN: u16 = 13;
const NFQA_SKB_INFO: u16 = 14;
const NFQA_UID: u16 = 16;
const NFQA_GID: u16 = 17;
const NFQA_PRIORITY: u16 = 21;

/// NFQA_CFG_F_FAIL_OPEN: packets bypass the queue when it is full.
pub const FLAG_FAIL_OPEN: u32 = 1;
/// NFQA_CFG_F_GSO: GSO packets are queued whole (not segmented first).
pub const FLAG_GSO: u32 = 4;
/// NFQA_CFG_F_UID_GID: packets of a local socket come with its owner.
pub const FLAG_UID_GID: u32 = 8;

/// NFQA_SKB_INFO: the packet's checksum is not computed yet (a locally
/// generated or GSO packet: the kernel fills it in on its way out).
pub const SKB_CSUMNOTREADY: u32 = 1;
/// NFQA_SKB_INFO: a GSO packet, larger than the MTU.
pub const SKB_GSO: u32 = 2;
/// NFQA_SKB_INFO: the packet's transport checksum has not been verified
/// (by the NIC or a stack before); absent with neither this nor
/// [`SKB_CSUMNOTREADY`], it has been (CHECKSUM_UNNECESSARY).
pub const SKB_CSUM_NOTVERIFIED: u32 = 4;

/// A verdict on a queued packet (NF_DROP, NF_ACCEPT).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Drop,
    Accept,
}

impl Verdict {
    fn code(self) -> u32 {
        match self {
            Verdict::Drop => 0,
            Verdict::Accept => 1,
        }
    }
}

/// A packet the kernel queued, with what ctc uses of its metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet {
    /// The id a verdict names.
    pub id: u32,
    /// The EtherType of the packet (0x0800 IPv4, 0x86dd IPv6).
    pub hw_protocol: u16,
    /// The netfilter hook it was queued at (NF_INET_PRE_ROUTING 0 ...).
    pub hook: u8,
    pub mark: u32,
    /// skb->priority (NFQA_PRIORITY, sent when not 0).
    pub priority: u32,
    /// The owner (uid, gid) of the packet's socket (NFQA_UID and
    /// NFQA_GID, with [`FLAG_UID_GID`], for a full socket with a file).
    pub sk_owner: Option<(u32, u32)>,
    pub indev: u32,
    pub outdev: u32,
    /// NFQA_SKB_INFO flags ([`SKB_GSO`], [`SKB_CSUMNOTREADY`]).
    pub skb_info: u32,
    /// The length of the packet on the wire when the payload was cut.
    pub cap_len: Option<u32>,
    /// The packet from its network header on.
    pub payload: Vec<u8>,
}

/// A netlink message under construction: header, nfgenmsg, attributes.
struct Msg(Vec<u8>);

impl Msg {
    fn new(msg_type: u16, flags: u16, seq: u32, family: u8, queue: u16) -> Msg {
        let mut b = nl::header((NFNL_SUBSYS_QUEUE << 8) | msg_type, flags, seq);
        b.push(family);
        b.push(0); // NFNETLINK_V0
        b.extend_from_slice(&queue.to_be_bytes());
        Msg(b)
    }

    fn attr(mut self, ty: u16, data: &[u8]) -> Msg {
        nl::put_attr(&mut self.0, ty, data);
        self
    }

    fn done(self) -> Vec<u8> {
        nl::finish(self.0)
    }
}

/// NFQNL_MSG_CONFIG with a command (bind, unbind) for `queue`.
pub fn config_cmd(seq: u32, queue: u16, cmd: u8) -> Vec<u8> {
    // struct nfqnl_msg_config_cmd { u8 command; u8 _pad; __be16 pf; }
    Msg::new(NFQNL_MSG_CONFIG, NLM_F_ACK, seq, 0, queue).attr(NFQA_CFG_CMD, &[cmd, 0, 0, 0]).done()
}

/// NFQNL_MSG_CONFIG: copy whole packets (up to `copy_range` bytes), the
/// queue's length, and `flags` (each of `mask`'s bits set or cleared).
pub fn config_params(seq: u32, queue: u16, copy_range: u32, maxlen: u32, flags: u32, mask: u32) -> Vec<u8> {
    // struct nfqnl_msg_config_params { __be32 copy_range; u8 copy_mode; } (packed)
    let mut params = copy_range.to_be_bytes().to_vec();
    params.push(NFQNL_COPY_PACKET);
    Msg::new(NFQNL_MSG_CONFIG, NLM_F_ACK, seq, 0, queue)
        .attr(NFQA_CFG_PARAMS, &params)
        .attr(NFQA_CFG_QUEUE_MAXLEN, &maxlen.to_be_bytes())
        .attr(NFQA_CFG_FLAGS, &flags.to_be_bytes())
        .attr(NFQA_CFG_MASK, &mask.to_be_bytes())
        .done()
}

/// NFQNL_MSG_VERDICT for packet `id`, with a new payload, mark and/or
/// priority (the kernel takes NFQA_PRIORITY in single verdicts only, not
/// in batches).
pub fn verdict_msg(
    seq: u32,
    queue: u16,
    id: u32,
    v: Verdict,
    payload: Option<&[u8]>,
    mark: Option<u32>,
    priority: Option<u32>,
) -> Vec<u8> {
    let mut hdr = v.code().to_be_bytes().to_vec();
    hdr.extend_from_slice(&id.to_be_bytes());
    let mut m = Msg::new(NFQNL_MSG_VERDICT, 0, seq, 0, queue).attr(NFQA_VERDICT_HDR, &hdr);
    if let Some(mark) = mark {
        m = m.attr(NFQA_MARK, &mark.to_be_bytes());
    }
    if let Some(priority) = priority {
        m = m.attr(NFQA_PRIORITY, &priority.to_be_bytes());
    }
    if let Some(p) = payload {
        m = m.attr(NFQA_PAYLOAD, p);
    }
    m.done()
}

/// NFQNL_MSG_VERDICT_BATCH: verdict `v` on every packet of the queue up to
/// and including `last_id`, each given `mark` when there is one.
pub fn batch_verdict_msg(seq: u32, queue: u16, last_id: u32, v: Verdict, mark: Option<u32>) -> Vec<u8> {
    let mut hdr = v.code().to_be_bytes().to_vec();
    hdr.extend_from_slice(&last_id.to_be_bytes());
    let mut m = Msg::new(NFQNL_MSG_VERDICT_BATCH, 0, seq, 0, queue).attr(NFQA_VERDICT_HDR, &hdr);
    if let Some(mark) = mark {
        m = m.attr(NFQA_MARK, &mark.to_be_bytes());
    }
    m.done()
}

/// What one netlink message of a received datagram is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Incoming {
    Packet(Packet),
    /// An acknowledgement (0) or an error (a negative errno) for the
    /// request with this sequence number.
    Ack {
        seq: u32,
        errno: i32,
    },
    /// Anything else (done, other message types): skipped.
    Other,
}

fn u32_be(b: &[u8]) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(..4)?.try_into().ok()?))
}

/// The messages of one datagram from the queue's socket. A malformed
/// message ends the parse with an error (nothing after it can be trusted).
pub fn parse(datagram: &[u8]) -> Result<Vec<Incoming>, String> {
    let mut out = Vec::new();
    for m in nl::messages(datagram) {
        let m = m?;
        out.push(match m.ty {
            NLMSG_ERROR => Incoming::Ack { seq: m.seq, errno: m.errno() },
            NLMSG_DONE => Incoming::Other,
            t if t == (NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_PACKET => Incoming::Packet(parse_packet(m.body)?),
            _ => Incoming::Other,
        });
    }
    Ok(out)
}

/// A NFQNL_MSG_PACKET body: nfgenmsg, then attributes.
fn parse_packet(body: &[u8]) -> Result<Packet, String> {
    let mut p = Packet {
        id: 0,
        hw_protocol: 0,
        hook: 0,
        mark: 0,
        priority: 0,
        sk_owner: None,
        indev: 0,
        outdev: 0,
        skb_info: 0,
        cap_len: None,
        payload: Vec::new(),
    };
    let mut have_hdr = false;
    let (mut uid, mut gid) = (None, None);
    for a in nl::attrs(body, 4) {
        let (ty, data) = a?;
        match ty {
            NFQA_PACKET_HDR if data.len() >= 7 => {
                p.id = u32_be(data).unwrap_or(0);
                p.hw_protocol = u16::from_be_bytes([data[4], data[5]]);
                p.hook = data[6];
                have_hdr = true;
            }
            NFQA_MARK => p.mark = u32_be(data).unwrap_or(0),
            NFQA_PRIORITY => p.priority = u32_be(data).unwrap_or(0),
            NFQA_UID => uid = u32_be(data),
            NFQA_GID => gid = u32_be(data),
            NFQA_IFINDEX_INDEV => p.indev = u32_be(data).unwrap_or(0),
            NFQA_IFINDEX_OUTDEV => p.outdev = u32_be(data).unwrap_or(0),
            NFQA_SKB_INFO => p.skb_info = u32_be(data).unwrap_or(0),
            NFQA_CAP_LEN => p.cap_len = u32_be(data),
            NFQA_PAYLOAD => p.payload = data.to_vec(),
            _ => {}
        }
    }
    if !have_hdr {
        return Err("a queued packet without its header (NFQA_PACKET_HDR)".into());
    }
    // nfqnl_put_sk_uidgid puts both or neither.
    p.sk_owner = uid.zip(gid);
    Ok(p)
}

/// How a queue is set up.
#[derive(Debug, Clone, Copy)]
pub struct QueueOptions {
    /// Packets the kernel holds for this queue before it drops (or, with
    /// fail-open, accepts) more.
    pub maxlen: u32,
    /// The socket's receive buffer (SO_RCVBUFFORCE): without a large one
    /// the socket overflows silently under load (PLATFORM.md).
    pub rcvbuf: usize,
    /// Accept packets the queue has no room for instead of dropping them.
    pub fail_open: bool,
    /// Queue GSO packets whole.
    pub gso: bool,
    /// Ask for the owner of a local packet's socket.
    pub uid_gid: bool,
}

impl Default for QueueOptions {
    fn default() -> QueueOptions {
        QueueOptions { maxlen: 8192, rcvbuf: 8 << 20, fail_open: false, gso: true, uid_gid: false }
    }
}

/// How many bytes of packets [`Queue::recv_many`] gathers at most: many
/// small packets make a batch (one verdict message for them all), a GSO
/// packet (up to 64 KiB) is one: copying more large packets in before the
/// first one's verdict would only hold it back.
pub const BATCH_BYTES: usize = 32 * 1024;

/// A bound NFQUEUE queue.
#[derive(Debug)]
pub struct Queue {
    fd: OwnedFd,
    num: u16,
    seq: u32,
    buf: Vec<u8>,
}

impl Queue {
    /// Bind queue `num` (no other process may hold it) and configure it.
    pub fn open(num: u16, opts: &QueueOptions) -> io::Result<Queue> {
        let fd = rustix::net::socket(AddressFamily::NETLINK, SocketType::RAW, Some(netlink::NETFILTER))?;
        rustix::net::bind(&fd, &netlink::SocketAddrNetlink::new(0, 0))?;
        rustix::net::sockopt::set_socket_recv_buffer_size_force(&fd, opts.rcvbuf)
            .or_else(|_| rustix::net::sockopt::set_socket_recv_buffer_size(&fd, opts.rcvbuf))?;
        let mut q = Queue { fd, num, seq: 0, buf: vec![0; 256 * 1024] };
        q.request(|seq| config_cmd(seq, num, NFQNL_CFG_CMD_BIND))?;
        let flags = if opts.fail_open { FLAG_FAIL_OPEN } else { 0 }
            | if opts.gso { FLAG_GSO } else { 0 }
            | if opts.uid_gid { FLAG_UID_GID } else { 0 };
        let mask = FLAG_FAIL_OPEN | FLAG_GSO | FLAG_UID_GID;
        q.request(|seq| config_params(seq, num, 0xffff, opts.maxlen, flags, mask))?;
        Ok(q)
    }

    /// The queue number.
    pub fn num(&self) -> u16 {
        self.num
    }

    /// Send a request and wait for its acknowledgement (packets that
    /// arrive meanwhile are dropped: requests are made before traffic).
    fn request(&mut self, build: impl FnOnce(u32) -> Vec<u8>) -> io::Result<()> {
        self.seq = self.seq.wrapping_add(1);
        let seq = self.seq;
        rustix::net::send(&self.fd, &build(seq), SendFlags::empty())?;
        loop {
            let n = rustix::net::recv(&self.fd, &mut self.buf[..], RecvFlags::empty())?.0;
            let msgs = parse(&self.buf[..n]).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
            for m in msgs {
                if let Incoming::Ack { seq: s, errno } = m
                    && s == seq
                {
                    return if errno == 0 { Ok(()) } else { Err(io::Error::from_raw_os_error(-errno)) };
                }
            }
        }
    }

    /// Wait for the next datagram and add its packets to `out` (the kernel
    /// may pack several into one). Returns how many were added.
    pub fn recv(&mut self, out: &mut Vec<Packet>) -> io::Result<usize> {
        self.recv_with(RecvFlags::empty(), out)
    }

    fn recv_with(&mut self, flags: RecvFlags, out: &mut Vec<Packet>) -> io::Result<usize> {
        let n = rustix::net::recv(&self.fd, &mut self.buf[..], flags)?.0;
        let msgs = parse(&self.buf[..n]).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
        let before = out.len();
        for m in msgs {
            match m {
                Incoming::Packet(p) => out.push(p),
                Incoming::Ack { errno, .. } if errno != 0 => return Err(io::Error::from_raw_os_error(-errno)),
                _ => {}
            }
        }
        Ok(out.len() - before)
    }

    /// Wait for the next datagram, then take what else is waiting without
    /// waiting (the kernel sends each packet in a datagram of its own),
    /// until `out` holds `max` packets or [`BATCH_BYTES`] of them: one
    /// batch, to settle with one verdict message. Returns how many were
    /// added.
    pub fn recv_many(&mut self, out: &mut Vec<Packet>, max: usize) -> io::Result<usize> {
        let before = out.len();
        self.recv(out)?;
        let mut bytes: usize = out[before..].iter().map(|p| p.payload.len()).sum();
        while out.len() - before < max && bytes < BATCH_BYTES {
            let from = out.len();
            match self.recv_with(RecvFlags::DONTWAIT, out) {
                Ok(_) => bytes += out[from..].iter().map(|p| p.payload.len()).sum::<usize>(),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) => return Err(e),
            }
        }
        Ok(out.len() - before)
    }

    /// Give a time limit to [`Queue::recv`] (a timeout is an error of kind
    /// WouldBlock or TimedOut).
    pub fn set_timeout(&self, t: Option<std::time::Duration>) -> io::Result<()> {
        rustix::net::sockopt::set_socket_timeout(&self.fd, rustix::net::sockopt::Timeout::Recv, t)
            .map_err(io::Error::from)
    }

    /// The verdict on one packet, with its rewritten payload, mark and/or
    /// priority.
    pub fn verdict(
        &mut self,
        id: u32,
        v: Verdict,
        payload: Option<&[u8]>,
        mark: Option<u32>,
        priority: Option<u32>,
    ) -> io::Result<()> {
        self.seq = self.seq.wrapping_add(1);
        let msg = verdict_msg(self.seq, self.num, id, v, payload, mark, priority);
        rustix::net::send(&self.fd, &msg, SendFlags::empty())?;
        Ok(())
    }

    /// One verdict on every packet up to `last_id`.
    pub fn verdict_batch(&mut self, last_id: u32, v: Verdict, mark: Option<u32>) -> io::Result<()> {
        self.seq = self.seq.wrapping_add(1);
        rustix::net::send(&self.fd, &batch_verdict_msg(self.seq, self.num, last_id, v, mark), SendFlags::empty())?;
        Ok(())
    }
}

impl Drop for Queue {
    fn drop(&mut self) {
        // Unbind: queued packets of an unbound queue are dropped by the
        // kernel (and new ones too, unless the rule has bypass).
        self.seq = self.seq.wrapping_add(1);
        let _ = rustix::net::send(&self.fd, &config_cmd(self.seq, self.num, NFQNL_CFG_CMD_UNBIND), SendFlags::empty());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::netlink::NLM_F_REQUEST;

    fn u16_ne(b: &[u8], at: usize) -> Option<u16> {
        Some(u16::from_ne_bytes(b.get(at..at + 2)?.try_into().ok()?))
    }
    fn u32_ne(b: &[u8], at: usize) -> Option<u32> {
        Some(u32::from_ne_bytes(b.get(at..at + 4)?.try_into().ok()?))
    }

    #[test]
    fn config_messages_have_the_kernel_layout() {
        let m = config_cmd(7, 3, NFQNL_CFG_CMD_BIND);
        assert_eq!(m.len(), 16 + 4 + 8);
        assert_eq!(u32_ne(&m, 0), Some(28));
        assert_eq!(u16_ne(&m, 4), Some(0x0302));
        assert_eq!(u16_ne(&m, 6), Some(NLM_F_REQUEST | NLM_F_ACK));
        assert_eq!(u32_ne(&m, 8), Some(7));
        assert_eq!(&m[16..20], &[0, 0, 0, 3]); // AF_UNSPEC, v0, queue 3 (big-endian)
        assert_eq!(&m[20..28], &[8, 0, 1, 0, 1, 0, 0, 0]);
        let p = config_params(8, 3, 0xffff, 1024, FLAG_GSO, FLAG_GSO | FLAG_FAIL_OPEN);
        // params: 4 + 5 bytes padded to 12; three u32 attributes of 8.
        assert_eq!(p.len(), 20 + 12 + 8 + 8 + 8);
        assert_eq!(&p[20..29], &[9, 0, 2, 0, 0, 0, 0xff, 0xff, 2]);
    }

    #[test]
    fn verdicts_carry_id_payload_mark_and_priority() {
        let v = verdict_msg(1, 0, 0x01020304, Verdict::Accept, Some(&[0x45, 0, 0]), Some(9), Some(0x10002));
        assert_eq!(u16_ne(&v, 4), Some(0x0301));
        assert_eq!(&v[20..32], &[12, 0, 2, 0, 0, 0, 0, 1, 1, 2, 3, 4]);
        assert_eq!(&v[32..40], &[8, 0, 3, 0, 0, 0, 0, 9]);
        assert_eq!(&v[40..48], &[8, 0, 21, 0, 0, 1, 0, 2]);
        assert_eq!(&v[48..56], &[7, 0, 10, 0, 0x45, 0, 0, 0]);
        let plain = verdict_msg(1, 0, 7, Verdict::Drop, None, None, None);
        assert_eq!(plain.len(), 32, "no attributes but the verdict header");
        let b = batch_verdict_msg(2, 5, 77, Verdict::Drop, None);
        assert_eq!(u16_ne(&b, 4), Some(0x0303));
        assert_eq!(&b[24..32], &[0, 0, 0, 0, 0, 0, 0, 77]);
    }

    fn packet_msg(id: u32, payload: &[u8]) -> Vec<u8> {
        let mut hdr = id.to_be_bytes().to_vec();
        hdr.extend_from_slice(&[0x08, 0x00, 0]);
        let mut m = Msg::new(NFQNL_MSG_PACKET, 0, 0, 2, 0)
            .attr(NFQA_PACKET_HDR, &hdr)
            .attr(NFQA_IFINDEX_INDEV, &4u32.to_be_bytes())
            .attr(NFQA_SKB_INFO, &SKB_GSO.to_be_bytes())
            .attr(NFQA_MARK, &0x2au32.to_be_bytes())
            .attr(NFQA_PRIORITY, &0x10002u32.to_be_bytes())
            .attr(NFQA_UID, &1000u32.to_be_bytes())
            .attr(NFQA_GID, &100u32.to_be_bytes())
            .attr(NFQA_PAYLOAD, payload)
            .done();
        // The kernel sets no request flag on what it sends.
        m[6..8].copy_from_slice(&0u16.to_ne_bytes());
        m
    }

    #[test]
    fn packets_and_acks_parse() {
        let mut d = packet_msg(5, &[0x45, 1, 2, 3, 4]);
        d.extend(packet_msg(6, &[0x60; 40]));
        let mut err = vec![0u8; 36];
        err[..4].copy_from_slice(&36u32.to_ne_bytes());
        err[4..6].copy_from_slice(&NLMSG_ERROR.to_ne_bytes());
        err[8..12].copy_from_slice(&9u32.to_ne_bytes());
        err[16..20].copy_from_slice(&(-16i32).to_ne_bytes());
        d.extend(err);
        let msgs = parse(&d).unwrap();
        assert_eq!(msgs.len(), 3);
        let Incoming::Packet(p) = &msgs[0] else { panic!("{msgs:?}") };
        assert_eq!((p.id, p.hw_protocol, p.hook, p.indev, p.skb_info), (5, 0x0800, 0, 4, SKB_GSO));
        assert_eq!((p.mark, p.priority, p.sk_owner), (0x2a, 0x10002, Some((1000, 100))));
        assert_eq!(p.payload, [0x45, 1, 2, 3, 4]);
        assert!(matches!(&msgs[1], Incoming::Packet(p) if p.id == 6 && p.payload.len() == 40));
        assert_eq!(msgs[2], Incoming::Ack { seq: 9, errno: -16 });
    }

    #[test]
    fn malformed_datagrams_are_refused_without_panic() {
        let good = packet_msg(1, &[0x45; 20]);
        for cut in 0..good.len() {
            let _ = parse(&good[..cut]);
        }
        let mut bad = good.clone();
        bad[20..22].copy_from_slice(&1000u16.to_ne_bytes());
        assert!(parse(&bad).is_err());
        let mut no_hdr = good;
        no_hdr[22..24].copy_from_slice(&99u16.to_ne_bytes());
        assert!(parse(&no_hdr).is_err());
    }
}
