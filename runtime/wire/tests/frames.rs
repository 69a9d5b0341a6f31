//! Whole-frame classification, known-answer checksums and byte-exact
//! re-emission on real frames generated with scapy
//! (`tests/common/gen_vectors.py`), plus truncation at every length.

mod common;

use common::vectors::*;
use ctc_wire::*;

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

#[test]
fn tcp_syn_v4() {
    let f = parse_frame(TCP_SYN_V4);
    assert_eq!(f.malformed, None);
    let link = f.link.unwrap();
    assert_eq!(link.ethertype, EtherType::IPV4);
    assert_eq!(link.src.to_string(), "02:00:00:00:00:01");
    assert!(link.vlans().is_empty());
    assert_eq!((f.ll_offset(), f.nh_offset(), f.th_offset()), (Some(0), Some(14), Some(34)));
    assert_eq!(f.nfproto(), Some(NfProto::Ipv4));
    assert_eq!(f.l4proto(), Some(6));
    let n = f.network.unwrap();
    assert_eq!((n.src, n.dst), (Some(ip("192.0.2.1")), Some(ip("198.51.100.2"))));
    assert_eq!(f.transport.unwrap().header_len, 40);
    let tcp = f.tcp(TCP_SYN_V4).unwrap();
    assert_eq!((tcp.src_port(), tcp.dst_port(), tcp.seq_number()), (42000, 80, 1000));
    let opts: Vec<_> = tcp.options_iter().map(Result::unwrap).collect();
    assert_eq!(
        opts,
        vec![
            TcpOption::MaxSegmentSize(1460),
            TcpOption::SackPermitted,
            TcpOption::Timestamps(123456, 0),
            TcpOption::NoOperation,
            TcpOption::WindowScale(7)
        ]
    );
    assert!(f.ipv4(TCP_SYN_V4).unwrap().verify_checksum());
    assert_eq!(f.l4_checksum_ok(TCP_SYN_V4), Some(true));
}

#[test]
fn udp_vlan_v4() {
    let f = parse_frame(UDP_VLAN_V4);
    assert_eq!(f.malformed, None);
    let link = f.link.unwrap();
    assert_eq!(link.outer_ethertype, EtherType::VLAN);
    assert_eq!(link.ethertype, EtherType::IPV4);
    assert_eq!(link.vlans(), &[VlanInfo { tpid: 0x8100, pcp: 5, dei: false, vid: 100 }]);
    assert_eq!(link.header_len, 18);
    assert_eq!((f.nh_offset(), f.th_offset(), f.l4proto()), (Some(18), Some(38), Some(17)));
    let udp = f.udp(UDP_VLAN_V4).unwrap();
    assert_eq!((udp.src_port(), udp.dst_port(), udp.payload().len()), (53000, 53, 12));
    assert_eq!(f.l4_checksum_ok(UDP_VLAN_V4), Some(true));
}

#[test]
fn tcp_qinq_v6_with_sack() {
    let f = parse_frame(TCP_QINQ_V6);
    assert_eq!(f.malformed, None);
    let link = f.link.unwrap();
    assert_eq!(link.outer_ethertype, EtherType::QINQ);
    assert_eq!(link.vlans().iter().map(|t| (t.tpid, t.vid)).collect::<Vec<_>>(), vec![(0x88a8, 10), (0x8100, 20)]);
    assert_eq!(link.vlan_id(), Some(10));
    assert_eq!((f.nh_offset(), f.th_offset(), f.nfproto()), (Some(22), Some(62), Some(NfProto::Ipv6)));
    let tcp = f.tcp(TCP_QINQ_V6).unwrap();
    assert_eq!(tcp.payload(), b"hello world");
    let sack = tcp.options_iter().flatten().find(|o| matches!(o, TcpOption::Sack(_))).unwrap();
    assert_eq!(sack.sack_blocks().collect::<Vec<_>>(), vec![(8000, 9000), (10000, 11000)]);
    assert_eq!(f.l4_checksum_ok(TCP_QINQ_V6), Some(true));
}

#[test]
fn ipv4_fragments() {
    let f = parse_frame(FRAG_FIRST_V4);
    assert_eq!(f.malformed, None);
    assert_eq!(f.fragment(), Some(FragmentInfo { offset: 0, more: true, ident: 99 }));
    // The first fragment has the transport header (nft: fragoff == 0); the
    // UDP length covers the whole datagram and is not held against it.
    assert_eq!(f.th_offset(), Some(34));
    assert_eq!(f.udp(FRAG_FIRST_V4).unwrap().dst_port(), 2000);
    assert_eq!(f.l4_checksum_ok(FRAG_FIRST_V4), None);

    let f = parse_frame(FRAG_LATER_V4);
    assert_eq!(f.malformed, None);
    assert_eq!(f.fragment(), Some(FragmentInfo { offset: 1480, more: false, ident: 99 }));
    assert!(f.is_later_fragment());
    assert_eq!((f.l4proto(), f.th_offset()), (Some(17), None));
}

#[test]
fn ipv6_extension_chain() {
    let f = parse_frame(EXT_CHAIN_V6);
    assert_eq!(f.malformed, None);
    // 40 + hop-by-hop 8 + routing 24 + fragment 8 + destination options 8.
    assert_eq!(f.network.unwrap().header_len, 88);
    assert_eq!((f.th_offset(), f.l4proto()), (Some(14 + 88), Some(17)));
    assert_eq!(f.fragment(), Some(FragmentInfo { offset: 0, more: true, ident: 0xabcdef }));
    let v6 = f.ipv6(EXT_CHAIN_V6).unwrap();
    let kinds: Vec<_> = Ipv6ExtHeaderIter::new(v6.next_header().into(), v6.payload(), IPV6_HEADER_LEN)
        .map(|h| h.unwrap().kind)
        .collect();
    assert_eq!(kinds, vec![IpProtocol::HopByHop, IpProtocol::Ipv6Route, IpProtocol::Ipv6Frag, IpProtocol::Ipv6Opts]);
    let w = v6.walk().unwrap();
    assert_eq!((w.protocol, w.offset, w.ext_headers), (17, 88, 4));
    let rh = Ipv6ExtHeader::new_checked(&v6.payload()[8..], IpProtocol::Ipv6Route).unwrap();
    assert_eq!(rh.segments_left(), Some(1));

    let f = parse_frame(FRAG_LATER_V6);
    assert_eq!(f.malformed, None);
    assert!(f.is_later_fragment());
    assert_eq!(f.fragment().unwrap().offset, 800);
    assert_eq!((f.l4proto(), f.th_offset()), (Some(6), None));

    let f = parse_frame(AH_TCP_V6);
    assert_eq!(f.malformed, None);
    assert_eq!((f.l4proto(), f.th_offset()), (Some(6), Some(14 + 40 + 24)));
    assert!(f.tcp(AH_TCP_V6).unwrap().rst());
    assert_eq!(f.l4_checksum_ok(AH_TCP_V6), Some(true));

    let f = parse_frame(IPV6_NONEXT);
    assert_eq!(f.malformed, None);
    assert_eq!((f.l4proto(), f.th_offset()), (Some(59), Some(54)));
    assert_eq!(f.transport.unwrap().header_len, 0);
}

#[test]
fn icmp_errors_expose_the_inner_header() {
    let f = parse_frame(ICMP_UNREACH_V4);
    assert_eq!(f.malformed, None);
    assert_eq!(f.th_offset(), Some(34));
    let icmp = f.icmpv4(ICMP_UNREACH_V4).unwrap();
    assert_eq!(icmp.msg_type(), Icmpv4Message::DstUnreachable);
    assert_eq!(Icmpv4DstUnreachable::from(icmp.msg_code()), Icmpv4DstUnreachable::PortUnreachable);
    assert!(icmp.verify_checksum());
    let inner = f.inner.unwrap();
    assert_eq!((inner.offset, inner.protocol, inner.th_offset), (42, 17, Some(62)));
    assert_eq!((inner.src, inner.dst), (ip("10.0.0.1"), ip("10.0.0.2")));
    let q = icmp.quoted_ipv4().unwrap().unwrap();
    assert_eq!(UdpPacket::new_unchecked(q.payload()).dst_port(), 53);
    assert_eq!(f.l4_checksum_ok(ICMP_UNREACH_V4), Some(true));

    let f = parse_frame(ICMP6_UNREACH);
    assert_eq!(f.malformed, None);
    let inner = f.inner.unwrap();
    assert_eq!((inner.offset, inner.protocol, inner.th_offset), (62, 6, Some(102)));
    let icmp = f.icmpv6(ICMP6_UNREACH).unwrap();
    assert_eq!(Icmpv6DstUnreachable::from(icmp.msg_code()), Icmpv6DstUnreachable::PortUnreachable);
    assert_eq!(f.l4_checksum_ok(ICMP6_UNREACH), Some(true));
}

#[test]
fn other_icmp_and_link_types() {
    for (buf, t) in [(ICMP6_NS, 135u8), (ICMP6_ECHO, 128)] {
        let f = parse_frame(buf);
        assert_eq!(f.malformed, None);
        assert_eq!(f.inner, None);
        assert_eq!(u8::from(f.icmpv6(buf).unwrap().msg_type()), t);
        assert_eq!(f.l4_checksum_ok(buf), Some(true));
    }
    let f = parse_frame(ICMP_ECHO_RA_V4);
    assert_eq!(f.malformed, None);
    assert_eq!((f.network.unwrap().header_len, f.th_offset()), (24, Some(38)));
    let v4 = f.ipv4(ICMP_ECHO_RA_V4).unwrap();
    assert_eq!(v4.options_iter().next(), Some(Ok(Ipv4Option::Other { kind: 0x94, data: &[0, 0] })));
    assert_eq!(f.icmpv4(ICMP_ECHO_RA_V4).unwrap().echo_ident(), 0x1c2b);

    let f = parse_frame(ARP);
    assert_eq!(f.malformed, None);
    let n = f.network.unwrap();
    assert_eq!((n.kind, n.offset, n.header_len), (NetworkKind::Arp, 14, 28));
    assert_eq!((f.nfproto(), f.l4proto()), (None, None));

    let f = parse_frame(UDP_NOCSUM_V4);
    assert_eq!(f.udp(UDP_NOCSUM_V4).unwrap().checksum(), 0);
    assert_eq!(f.l4_checksum_ok(UDP_NOCSUM_V4), Some(true));

    let f = parse_frame(PADDED_V4);
    assert_eq!(f.malformed, None);
    assert_eq!((f.network.unwrap().end, PADDED_V4.len()), (54, 60));
    assert_eq!(f.tcp(PADDED_V4).unwrap().payload(), b"");
    assert_eq!(f.l4_checksum_ok(PADDED_V4), Some(true));

    let f = parse_frame(SCTP_V4);
    assert_eq!((f.l4proto(), f.th_offset(), f.transport.unwrap().header_len), (Some(132), Some(34), 0));
}

#[test]
fn raw_ip_input() {
    for (name, buf) in common::all() {
        let f = parse_frame(buf);
        let Some(nh) = f.nh_offset().filter(|_| f.nfproto().is_some()) else { continue };
        let r = parse_ip(&buf[nh..]);
        assert_eq!(r.link, None, "{name}");
        assert_eq!(r.malformed, f.malformed, "{name}");
        assert_eq!(r.l4proto(), f.l4proto(), "{name}");
        assert_eq!(r.th_offset().map(|t| t + nh), f.th_offset(), "{name}");
        assert_eq!(r.inner_offset().map(|t| t + nh), f.inner_offset(), "{name}");
    }
    assert_eq!(parse_ip(&[]).malformed, Some(Malformed { layer: Layer::Ipv4, reason: Error::Truncated }));
    assert_eq!(parse_ip(&[0x50; 30]).malformed.unwrap().reason, Error::BadVersion);
}

/// Re-emits every layer of a parsed frame from its `Repr`s.
fn reemit(buf: &[u8]) -> Vec<u8> {
    let f = parse_frame(buf);
    assert_eq!(f.malformed, None);
    let mut out = vec![0u8; buf.len()];
    let eth = EthernetRepr::parse(&EthernetFrame::new_checked(buf).unwrap()).unwrap();
    eth.emit(&mut EthernetFrame::new_unchecked(&mut out[..]));
    for i in 0..f.link.unwrap().vlans().len() {
        let at = ETHERNET_HEADER_LEN + i * VLAN_TAG_LEN;
        let v = VlanRepr::parse(&VlanTag::new_checked(&buf[at..]).unwrap()).unwrap();
        v.emit(&mut VlanTag::new_unchecked(&mut out[at..]));
    }
    let n = f.network.unwrap();
    let (src, dst) = (n.src.unwrap(), n.dst.unwrap());
    match n.kind {
        NetworkKind::Ipv4 => {
            let r = Ipv4Repr::parse(&f.ipv4(buf).unwrap()).unwrap();
            r.emit(&mut Ipv4Packet::new_unchecked(&mut out[n.offset..]));
        }
        NetworkKind::Ipv6 => {
            let r = Ipv6Repr::parse(&f.ipv6(buf).unwrap()).unwrap();
            r.emit(&mut Ipv6Packet::new_unchecked(&mut out[n.offset..]));
            // Extension headers have views, not reprs: copy them.
            let ext = n.offset + IPV6_HEADER_LEN..n.offset + n.header_len;
            out[ext.clone()].copy_from_slice(&buf[ext]);
        }
        _ => unreachable!(),
    }
    let t = f.transport.unwrap();
    let seg = &buf[t.offset..t.end];
    let out_seg = &mut out[t.offset..t.end];
    match t.protocol {
        6 => {
            let p = TcpPacket::new_checked(seg).unwrap();
            let r = TcpRepr::parse(&p, Some((src, dst))).unwrap();
            r.emit(&mut TcpPacket::new_unchecked(out_seg), src, dst);
        }
        17 => {
            let p = UdpPacket::new_checked(seg).unwrap();
            let r = UdpRepr::parse(&p, Some((src, dst))).unwrap();
            r.emit(&mut UdpPacket::new_unchecked(out_seg), src, dst);
        }
        1 => {
            let p = Icmpv4Packet::new_checked(seg).unwrap();
            Icmpv4Repr::parse(&p, true).unwrap().emit(&mut Icmpv4Packet::new_unchecked(out_seg));
        }
        58 => {
            let (IpAddr::V6(s), IpAddr::V6(d)) = (src, dst) else { unreachable!() };
            let p = Icmpv6Packet::new_checked(seg).unwrap();
            Icmpv6Repr::parse(&p, Some((s, d))).unwrap().emit(&mut Icmpv6Packet::new_unchecked(out_seg), s, d);
        }
        _ => unreachable!(),
    }
    out[n.end..].copy_from_slice(&buf[n.end..]);
    out
}

#[test]
fn parse_then_emit_reproduces_real_frames() {
    for (name, buf) in [
        ("tcp_syn_v4", TCP_SYN_V4),
        ("udp_vlan_v4", UDP_VLAN_V4),
        ("tcp_qinq_v6", TCP_QINQ_V6),
        ("icmp_unreach_v4", ICMP_UNREACH_V4),
        ("icmp6_unreach", ICMP6_UNREACH),
        ("icmp6_ns", ICMP6_NS),
        ("icmp_echo_ra_v4", ICMP_ECHO_RA_V4),
        ("icmp6_echo", ICMP6_ECHO),
        ("ah_tcp_v6", AH_TCP_V6),
        ("padded_v4", PADDED_V4),
    ] {
        assert_eq!(reemit(buf), buf, "{name}");
    }
}

#[test]
fn every_truncation_is_classified() {
    for (name, buf) in common::all() {
        let full = parse_frame(buf);
        assert_eq!(full.malformed, None, "{name}");
        // Bytes the frame needs: up to the datagram end for IP, the ARP
        // header for ARP.
        let needed = match full.network.unwrap() {
            n if n.kind == NetworkKind::Arp => n.offset + n.header_len,
            n => n.end,
        };
        for len in 0..buf.len() {
            let f = parse_frame(&buf[..len]);
            if len < needed {
                let m = f.malformed.unwrap_or_else(|| panic!("{name} cut at {len} not malformed"));
                assert_eq!(m.reason, Error::Truncated, "{name} cut at {len}: {m}");
            } else {
                assert_eq!(f, full, "{name} cut in the padding at {len}");
            }
        }
    }
}

#[test]
fn malformed_reports() {
    let cases: Vec<(&[u8], Layer, Error, usize, u8)> = vec![
        (TCP_SYN_V4, Layer::Ipv4, Error::BadVersion, 14, 0x55),
        (TCP_SYN_V4, Layer::Ipv4, Error::BadHeaderLength, 14, 0x43),
        (TCP_SYN_V4, Layer::Ipv4, Error::BadChecksum, 24, 0x00),
        (TCP_SYN_V4, Layer::Tcp, Error::BadHeaderLength, 46, 0x30),
        (UDP_VLAN_V4, Layer::Udp, Error::BadTotalLength, 43, 0x04),
        (TCP_QINQ_V6, Layer::Ipv6, Error::BadVersion, 22, 0x40),
        (EXT_CHAIN_V6, Layer::Ipv6Ext, Error::Truncated, 14 + 40 + 9, 200),
        (EXT_CHAIN_V6, Layer::Ipv6Ext, Error::BadOption, 14 + 40 + 3, 200),
    ];
    for (buf, layer, reason, at, byte) in cases {
        let mut v = buf.to_vec();
        v[at] = byte;
        let f = parse_frame(&v);
        assert_eq!(f.malformed, Some(Malformed { layer, reason }), "byte {at} = {byte:#x}");
    }
    let m = Malformed { layer: Layer::Ipv4, reason: Error::BadChecksum };
    assert_eq!(format!("malformed: {m}"), "malformed: ipv4: bad checksum");
    // The bad IPv4 checksum check can be turned off.
    let mut v = TCP_SYN_V4.to_vec();
    v[24] = 0;
    assert_eq!(parse_frame_with(&v, &ParseOptions { verify_ipv4_checksum: false }).malformed, None);
    // Five stacked tags are more than the walker takes.
    let mut v = vec![0u8; 12];
    for _ in 0..5 {
        v.extend_from_slice(&[0x81, 0x00, 0x00, 0x01]);
    }
    v.extend_from_slice(&[0x08, 0x00]);
    assert_eq!(parse_frame(&v).malformed, Some(Malformed { layer: Layer::Vlan, reason: Error::TooManyHeaders }));
    // An ICMP error whose quote is not an IP header: the outer packet is fine.
    let mut v = ICMP_UNREACH_V4.to_vec();
    v[42] = 0x75;
    let f = parse_frame(&v);
    assert_eq!(f.malformed, None);
    assert_eq!(f.inner, None);
    assert_eq!(f.inner_malformed, Some(Malformed { layer: Layer::Ipv4, reason: Error::BadVersion }));
}
