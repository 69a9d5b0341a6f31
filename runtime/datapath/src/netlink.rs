//! Netlink framing shared by the NFQUEUE client (`nfqueue.rs`) and the
//! rtnetlink reader (`rtnl.rs`): message headers (host byte order),
//! attributes (TLVs padded to 4 bytes), and walking both in received
//! datagrams without trusting their lengths.

pub(crate) const NLMSG_ERROR: u16 = 2;
pub(crate) const NLMSG_DONE: u16 = 3;
pub(crate) const NLM_F_REQUEST: u16 = 1;
/// The type bits of an attribute (without NLA_F_NESTED, NLA_F_NET_BYTEORDER).
const NLA_TYPE_MASK: u16 = 0x3fff;

pub(crate) fn align4(n: usize) -> usize {
    (n + 3) & !3
}

/// A netlink header with its length left at 0 (see [`finish`]).
pub(crate) fn header(msg_type: u16, flags: u16, seq: u32) -> Vec<u8> {
    let mut b = Vec::with_capacity(64);
    b.extend_from_slice(&0u32.to_ne_bytes()); // length, set by `finish`
    b.extend_from_slice(&msg_type.to_ne_bytes());
    b.extend_from_slice(&(NLM_F_REQUEST | flags).to_ne_bytes());
    b.extend_from_slice(&seq.to_ne_bytes());
    b.extend_from_slice(&0u32.to_ne_bytes()); // port id: the kernel's
    b
}

/// Append an attribute, padded.
pub(crate) fn put_attr(b: &mut Vec<u8>, ty: u16, data: &[u8]) {
    b.extend_from_slice(&((4 + data.len()) as u16).to_ne_bytes());
    b.extend_from_slice(&ty.to_ne_bytes());
    b.extend_from_slice(data);
    b.resize(align4(b.len()), 0);
}

/// Set the message's length.
pub(crate) fn finish(mut b: Vec<u8>) -> Vec<u8> {
    let len = b.len() as u32;
    b[..4].copy_from_slice(&len.to_ne_bytes());
    b
}

/// One message of a datagram.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Message<'a> {
    pub ty: u16,
    pub seq: u32,
    /// What follows the 16-byte header.
    pub body: &'a [u8],
}

impl Message<'_> {
    /// The error code of an NLMSG_ERROR message (0: an acknowledgement).
    pub fn errno(&self) -> i32 {
        self.body.get(..4).map_or(0, |e| i32::from_ne_bytes(e.try_into().expect("4 bytes")))
    }
}

/// The messages of a datagram, in order; a message whose length does not
/// fit ends the walk with an error (nothing after it can be trusted).
pub(crate) fn messages(datagram: &[u8]) -> impl Iterator<Item = Result<Message<'_>, String>> {
    let mut at = 0;
    let mut failed = false;
    std::iter::from_fn(move || {
        if failed || at + 16 > datagram.len() {
            return None;
        }
        let len = u32::from_ne_bytes(datagram[at..at + 4].try_into().expect("4 bytes")) as usize;
        if len < 16 || at + len > datagram.len() {
            failed = true;
            return Some(Err(format!("netlink message of length {len} at {at} in a datagram of {}", datagram.len())));
        }
        let msg = &datagram[at..at + len];
        at += align4(len);
        Some(Ok(Message {
            ty: u16::from_ne_bytes([msg[4], msg[5]]),
            seq: u32::from_ne_bytes(msg[8..12].try_into().expect("4 bytes")),
            body: &msg[16..],
        }))
    })
}

/// The attributes of a message body from offset `start` on: (type, data);
/// one whose length does not fit ends the walk with an error.
pub(crate) fn attrs(body: &[u8], start: usize) -> impl Iterator<Item = Result<(u16, &[u8]), String>> {
    let mut at = start;
    let mut failed = false;
    std::iter::from_fn(move || {
        if failed || at + 4 > body.len() {
            return None;
        }
        let len = u16::from_ne_bytes([body[at], body[at + 1]]) as usize;
        let ty = u16::from_ne_bytes([body[at + 2], body[at + 3]]) & NLA_TYPE_MASK;
        if len < 4 || at + len > body.len() {
            failed = true;
            return Some(Err(format!("attribute of length {len} at {at} in a message body of {}", body.len())));
        }
        let data = &body[at + 4..at + len];
        at += align4(len);
        Some(Ok((ty, data)))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_messages_walk_back() {
        let mut m = header(0x0302, 4, 9);
        put_attr(&mut m, 1, &[1, 2, 3]);
        put_attr(&mut m, 0x8002, &[4, 5, 6, 7]);
        let mut d = finish(m);
        d.extend(finish(header(NLMSG_DONE, 0, 10)));
        let msgs: Vec<Message<'_>> = messages(&d).collect::<Result<_, _>>().unwrap();
        assert_eq!(msgs.iter().map(|m| (m.ty, m.seq)).collect::<Vec<_>>(), [(0x0302, 9), (NLMSG_DONE, 10)]);
        let a: Vec<(u16, &[u8])> = attrs(msgs[0].body, 0).collect::<Result<_, _>>().unwrap();
        assert_eq!(a, [(1, &[1u8, 2, 3][..]), (2, &[4u8, 5, 6, 7][..])]);
        let mut bad = d.clone();
        bad[0] = 200;
        assert!(messages(&bad).next().unwrap().is_err());
        for cut in 0..d.len() {
            let _ = messages(&d[..cut]).count();
        }
    }
}
