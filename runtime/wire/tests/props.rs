//! Property tests: no input makes the classifier or the views panic, and
//! every RFC 1624 incremental update equals a full RFC 1071 recompute.

mod common;

use ctc_wire::checksum;
use ctc_wire::*;
use proptest::prelude::*;

/// Frame invariants, and every accessor of every view exercised.
fn check(f: &Frame, buf: &[u8]) {
    if let Some(n) = f.network {
        assert!(n.offset <= buf.len() && n.end <= buf.len());
        if n.protocol.is_some() {
            assert!(n.offset + n.header_len <= n.end);
        }
    }
    if let Some(t) = f.transport {
        assert!(f.network.unwrap().offset <= t.offset);
        assert!(t.offset + t.header_len <= t.end && t.end <= buf.len());
    }
    if let Some(i) = f.inner {
        assert!(i.offset + i.header_len <= i.end && i.end <= buf.len());
        assert!(i.th_offset.is_none_or(|t| t <= i.end));
    }
    if let Some(m) = f.malformed {
        assert!(!m.to_string().is_empty());
    }
    if let Some(p) = f.ipv4(buf) {
        let _ = (p.src_addr(), p.dst_addr(), p.frag_offset(), p.payload().len(), p.verify_checksum());
        assert!(p.options_iter().all(|o| o.is_ok()));
    }
    if let Some(p) = f.ipv6(buf) {
        let _ = (p.flow_label(), p.payload().len(), p.walk());
    }
    if let Some(t) = f.tcp(buf) {
        let _ = (t.seq_number(), t.flags(), t.payload().len(), t.segment_len());
        for o in t.options_iter().flatten() {
            let _ = o.sack_blocks().count();
        }
        let _ = TcpRepr::parse(&t, None);
    }
    if let Some(u) = f.udp(buf) {
        let _ = (u.len(), u.payload().len());
    }
    if let Some(i) = f.icmpv4(buf) {
        let _ = Icmpv4Repr::parse(&i, true);
        if let Some(Ok(q)) = i.quoted_ipv4() {
            let _ = (q.payload().len(), q.options_iter().count());
        }
    }
    if let Some(i) = f.icmpv6(buf) {
        let _ = Icmpv6Repr::parse(&i, None);
        if let Some(Ok(q)) = i.quoted_ipv6() {
            let _ = q.walk();
        }
    }
    let _ = f.l4_checksum_ok(buf);
}

fn v4() -> impl Strategy<Value = IpAddr> {
    any::<[u8; 4]>().prop_map(IpAddr::from)
}

fn v6() -> impl Strategy<Value = IpAddr> {
    any::<[u8; 16]>().prop_map(IpAddr::from)
}

/// Same-family (src, dst, new_src, new_dst).
fn addrs() -> impl Strategy<Value = (IpAddr, IpAddr, IpAddr, IpAddr)> {
    prop_oneof![(v4(), v4(), v4(), v4()), (v6(), v6(), v6(), v6())]
}

/// Ethernet + IPv4/IPv6 + TCP/UDP of the fast path's shape, consistent
/// lengths and a good IPv4 checksum, from the generated fields; `tag`
/// puts an 802.1Q tag in, `ihl`/`doff` can make options or bad lengths.
#[allow(clippy::too_many_arguments)]
fn fast_shaped(
    v6: bool,
    tag: bool,
    proto: u8,
    ihl: u8,
    doff: u8,
    frag: u16,
    payload: usize,
    pad: usize,
    bytes: &[u8; 64],
) -> Vec<u8> {
    let mut b = bytes[..12].to_vec();
    if tag {
        b.extend_from_slice(&[0x81, 0x00, bytes[12] & 0x0f, bytes[13]]);
    }
    b.extend_from_slice(if v6 { &[0x86, 0xdd] } else { &[0x08, 0x00] });
    let nh = b.len();
    // An IHL below 5 is a malformed header, but its 20 bytes are there.
    let nh_len = if v6 { 40 } else { (usize::from(ihl) * 4).max(20) };
    let th_len = match proto {
        6 => (usize::from(doff) * 4).max(20),
        _ => 8,
    };
    let len = nh_len + th_len + payload;
    b.extend((0..nh_len).map(|i| bytes[i % 64] ^ i as u8));
    b.extend((0..th_len + payload).map(|i| bytes[(i + 7) % 64]));
    let h = &mut b[nh..];
    if v6 {
        h[0] = 0x60 | (h[0] & 0x0f);
        h[4..6].copy_from_slice(&((len - 40) as u16).to_be_bytes());
        h[6] = proto;
    } else {
        h[0] = 0x40 | ihl;
        h[2..4].copy_from_slice(&(len as u16).to_be_bytes());
        h[6..8].copy_from_slice(&frag.to_be_bytes());
        h[9] = proto;
        h[10..12].copy_from_slice(&[0, 0]);
        let c = checksum::checksum(&h[..nh_len.min(h.len())]);
        h[10..12].copy_from_slice(&c.to_be_bytes());
    }
    let t = &mut b[nh + nh_len..];
    match proto {
        6 => t[12] = (doff << 4) | (t[12] & 0x0f),
        17 => t[4..6].copy_from_slice(&((8 + payload) as u16).to_be_bytes()),
        _ => {}
    }
    b.extend(std::iter::repeat_n(0, pad));
    b
}

fn fast_shaped_frames() -> impl Strategy<Value = Vec<u8>> {
    (
        (any::<bool>(), prop_oneof![4 => Just(false), 1 => Just(true)]),
        prop_oneof![4 => Just(6u8), 4 => Just(17u8), 1 => Just(1u8), 1 => Just(58u8), 1 => any::<u8>()],
        prop_oneof![4 => Just(5u8), 1 => 0u8..16],
        prop_oneof![4 => Just(5u8), 1 => 0u8..16],
        prop_oneof![4 => Just(0u16), 1 => Just(0x4000u16), 1 => any::<u16>()],
        (0usize..48, prop_oneof![3 => Just(0usize), 1 => 0usize..24]),
        any::<[u8; 64]>(),
    )
        .prop_map(|((v6, tag), proto, ihl, doff, frag, (payload, pad), bytes)| {
            fast_shaped(v6, tag, proto, ihl, doff, frag, payload, pad, &bytes)
        })
}

/// The fast path and the general walk classify `buf` alike, with and
/// without the IPv4 checksum check, as a frame and (after the Ethernet
/// header) as raw IP.
fn fast_agrees(buf: &[u8]) -> std::result::Result<(), TestCaseError> {
    for verify in [true, false] {
        let opts = ParseOptions { verify_ipv4_checksum: verify };
        let f = parse_frame_with(buf, &opts);
        prop_assert_eq!(f, parse_frame_general(buf, &opts));
        check(&f, buf);
        let ip = &buf[14.min(buf.len())..];
        prop_assert_eq!(parse_ip_with(ip, &opts), parse_ip_general(ip, &opts));
        prop_assert_eq!(parse_ip_with(buf, &opts), parse_ip_general(buf, &opts));
        // The headers straight from the bytes are the parsed frame's.
        prop_assert_eq!(ip_headers_of_frame(buf, &opts), f.ip_headers());
        prop_assert_eq!(ip_headers_of_ip(ip, &opts), parse_ip_with(ip, &opts).ip_headers());
        prop_assert_eq!(ip_headers_of_ip(buf, &opts), parse_ip_with(buf, &opts).ip_headers());
        // And handed to a function on each path apart.
        prop_assert_eq!(with_ip_headers_of_frame(buf, &opts, |h| *h), f.ip_headers());
        prop_assert_eq!(with_ip_headers_of_ip(ip, &opts, |h| *h), parse_ip_with(ip, &opts).ip_headers());
    }
    Ok(())
}

/// Real frame `which` with bytes overwritten as `flips` says.
fn mutated(which: usize, flips: &[(prop::sample::Index, u8)]) -> Vec<u8> {
    let (_, orig) = common::all()[which];
    let mut buf = orig.to_vec();
    for (i, b) in flips {
        let at = i.index(buf.len());
        buf[at] = *b;
    }
    buf
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2048))]

    #[test]
    fn fast_path_agrees_on_fast_shaped_frames(buf in fast_shaped_frames()) {
        fast_agrees(&buf)?;
    }

    #[test]
    fn fast_path_agrees_on_mutated_frames(
        buf in fast_shaped_frames(),
        flips in proptest::collection::vec((0usize..80, any::<u8>()), 0..4),
        cut in any::<prop::sample::Index>(),
    ) {
        let mut buf = buf;
        for (at, b) in flips {
            if at < buf.len() {
                buf[at] = b;
            }
        }
        fast_agrees(&buf)?;
        let len = cut.index(buf.len() + 1);
        fast_agrees(&buf[..len])?;
    }

    #[test]
    fn fast_path_agrees_on_mutated_real_frames(
        which in 0usize..18,
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..4),
        cut in any::<prop::sample::Index>(),
    ) {
        let buf = mutated(which, &flips);
        fast_agrees(&buf)?;
        let len = cut.index(buf.len() + 1);
        fast_agrees(&buf[..len])?;
    }

    #[test]
    fn fast_path_agrees_on_arbitrary_bytes(buf in proptest::collection::vec(any::<u8>(), 0..160)) {
        fast_agrees(&buf)?;
    }
}

/// [`Frame::l4_checksum_ok`] as it was written before its IPv4 TCP/UDP
/// shortcut: the generic pseudo-header sum for every family.
fn l4_checksum_reference(f: &Frame, buf: &[u8]) -> Option<bool> {
    let n = f.network.as_ref()?;
    if n.fragment.is_some() {
        return None;
    }
    let (src, dst) = (n.src?, n.dst?);
    let t = f.transport.as_ref().filter(|t| t.header_len > 0)?;
    let seg = buf.get(t.offset..n.end)?;
    Some(match t.protocol {
        6 => checksum::verify_transport(src, dst, 6, seg),
        17 => UdpPacket::new_unchecked(seg).verify_checksum(src, dst),
        1 => checksum::sum(seg) == 0xffff,
        58 => checksum::verify_transport(src, dst, 58, seg),
        _ => return None,
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    /// Frames with valid checksums (the real ones, no flip), and frames
    /// whose checksums mostly fail: the same answer as the generic sum.
    #[test]
    fn l4_checksums_verify_as_the_generic_sum(
        which in 0usize..18,
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..3),
        shaped in fast_shaped_frames(),
        cut in any::<prop::sample::Index>(),
    ) {
        let buf = mutated(which, &flips);
        let f = parse_frame(&buf);
        prop_assert_eq!(f.l4_checksum_ok(&buf), l4_checksum_reference(&f, &buf));
        if flips.is_empty() && f.transport.is_some_and(|t| t.header_len > 0) && f.network.is_some_and(|n| n.fragment.is_none()) {
            prop_assert_eq!(f.l4_checksum_ok(&buf), Some(true));
        }
        let len = cut.index(buf.len() + 1);
        let f = parse_frame(&buf[..len]);
        prop_assert_eq!(f.l4_checksum_ok(&buf[..len]), l4_checksum_reference(&f, &buf[..len]));
        let f = parse_frame(&shaped);
        prop_assert_eq!(f.l4_checksum_ok(&shaped), l4_checksum_reference(&f, &shaped));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_bytes_never_panic(buf in proptest::collection::vec(any::<u8>(), 0..160)) {
        check(&parse_frame(&buf), &buf);
        check(&parse_ip(&buf), &buf);
    }

    #[test]
    fn mutated_real_frames_never_panic(
        which in 0usize..18,
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
        cut in any::<prop::sample::Index>(),
    ) {
        let buf = mutated(which, &flips);
        check(&parse_frame(&buf), &buf);
        let len = cut.index(buf.len() + 1);
        check(&parse_frame(&buf[..len]), &buf[..len]);
        check(&parse_ip(&buf[14.min(len)..len]), &buf[14.min(len)..len]);
    }

    #[test]
    fn ipv4_header_incremental(src in v4(), dst in v4(), nsrc in v4(), ndst in v4(), ttl in 1u8.., id: u16, proto: u8) {
        let (IpAddr::V4(s), IpAddr::V4(d), IpAddr::V4(ns), IpAddr::V4(nd)) = (src, dst, nsrc, ndst) else { unreachable!() };
        let r = Ipv4Repr {
            src_addr: s, dst_addr: d, protocol: IpProtocol::from(proto), payload_len: 0, ttl, dscp: 0, ecn: 0,
            ident: id, dont_frag: true, more_frags: false, frag_offset: 0, options: Ipv4Options::EMPTY,
        };
        let mut b = [0u8; 20];
        let mut p = Ipv4Packet::new_unchecked(&mut b[..]);
        r.emit(&mut p);
        p.rewrite_src_addr(ns);
        p.rewrite_dst_addr(nd);
        p.decrement_ttl();
        let inc = p.checksum();
        p.fill_checksum();
        prop_assert_eq!(inc, p.checksum());
    }

    #[test]
    fn tcp_nat_incremental(
        (src, dst, nsrc, ndst) in addrs(),
        sport: u16, dport: u16, nsport: u16, ndport: u16, seq: u32, nseq: u32,
        payload in proptest::collection::vec(any::<u8>(), 0..64),
    ) {
        let r = TcpRepr {
            src_port: sport, dst_port: dport, seq_number: seq, ack_number: 0, flags: TcpFlags(TcpFlags::ACK),
            window_len: 100, urgent_at: 0, max_seg_size: None, window_scale: None, sack_permitted: false,
            sack_ranges: [None; 4], timestamp: Some((1, 2)), payload: &payload,
        };
        let mut b = vec![0u8; r.buffer_len()];
        let mut p = TcpPacket::new_unchecked(&mut b[..]);
        r.emit(&mut p, src, dst);
        p.rewrite_src_port(nsport);
        p.rewrite_dst_port(ndport);
        p.update_checksum_for_addr(src, nsrc);
        p.update_checksum_for_addr(dst, ndst);
        // A sequence number adjustment (FTP NAT) as one 32-bit change.
        let c = checksum::update32(p.checksum(), p.seq_number(), nseq);
        p.set_seq_number(nseq);
        p.set_checksum(c);
        let inc = p.checksum();
        p.fill_checksum(nsrc, ndst);
        prop_assert_eq!(inc, p.checksum());
        prop_assert!(p.verify_checksum(nsrc, ndst));
    }

    #[test]
    fn udp_nat_incremental(
        (src, dst, nsrc, ndst) in addrs(),
        sport: u16, dport: u16, nsport: u16,
        payload in proptest::collection::vec(any::<u8>(), 0..64),
        no_checksum: bool,
    ) {
        let r = UdpRepr { src_port: sport, dst_port: dport, payload: &payload };
        let mut b = vec![0u8; r.buffer_len()];
        let mut p = UdpPacket::new_unchecked(&mut b[..]);
        r.emit(&mut p, src, dst);
        let none = no_checksum && src.is_ipv4();
        if none {
            p.set_checksum(0);
        }
        p.rewrite_src_port(nsport);
        p.update_checksum_for_addr(src, nsrc);
        p.update_checksum_for_addr(dst, ndst);
        let inc = p.checksum();
        if none {
            // RFC 768: "no checksum" stays so through NAT.
            prop_assert_eq!(inc, 0);
        } else {
            prop_assert_ne!(inc, 0);
            p.fill_checksum(nsrc, ndst);
            prop_assert_eq!(inc, p.checksum());
        }
        prop_assert!(p.verify_checksum(nsrc, ndst));
    }

    #[test]
    fn icmp_id_incremental(id: u16, nid: u16, seq: u16, data in proptest::collection::vec(any::<u8>(), 0..32),
                           (src, dst, nsrc, _) in (v6(), v6(), v6(), v6())) {
        let r = Icmpv4Repr::EchoRequest { ident: id, seq_no: seq, data: &data };
        let mut b = vec![0u8; r.buffer_len()];
        let mut p = Icmpv4Packet::new_unchecked(&mut b[..]);
        r.emit(&mut p);
        p.rewrite_echo_ident(nid);
        let inc = p.checksum();
        p.fill_checksum();
        prop_assert_eq!(inc, p.checksum());

        let (IpAddr::V6(s), IpAddr::V6(d), IpAddr::V6(ns)) = (src, dst, nsrc) else { unreachable!() };
        let r = Icmpv6Repr::EchoReply { ident: id, seq_no: seq, data: &data };
        let mut b = vec![0u8; r.buffer_len()];
        let mut p = Icmpv6Packet::new_unchecked(&mut b[..]);
        r.emit(&mut p, s, d);
        p.rewrite_echo_ident(nid);
        p.update_checksum_for_addr(s, ns);
        let inc = p.checksum();
        p.fill_checksum(ns, d);
        prop_assert_eq!(inc, p.checksum());
    }

    #[test]
    fn update_bytes_matches_full(data in proptest::collection::vec(any::<u8>(), 2..80), at in any::<prop::sample::Index>(),
                                 new in proptest::collection::vec(any::<u8>(), 1..9)) {
        // Any even-aligned, even-length field change in any buffer.
        let mut data = data;
        if data.len() % 2 == 1 { data.push(0); }
        let len = (new.len() & !1).max(2).min(data.len());
        let start = at.index(data.len() - len + 1) & !1;
        let old_sum_c = checksum::checksum(&data);
        let mut new = new;
        new.resize(len, 0xa5);
        let old_field = data[start..start + len].to_vec();
        data[start..start + len].copy_from_slice(&new);
        let full = checksum::checksum(&data);
        let inc = checksum::update_bytes(old_sum_c, &old_field, &new);
        // 0x0000 and 0xffff are the two zeros of one's complement: equal
        // as checksums; they only differ when the data sums to zero.
        prop_assert!(inc == full || (inc | full) == 0xffff && (inc & full) == 0, "{inc:#x} vs {full:#x}");
    }
}
