//! The semantics of each op, one hand-built rule at a time.

mod common;
use common::*;
use ctc_ir::abi::{actions as act, ct_state};
use ctc_ir::*;
use ctc_vm::{HookVerdict, State, Vm, checksum, jhash, reciprocal_scale};

/// A program whose inet input chain holds `ops` then a counter.
fn one_rule(ops: Vec<Op>) -> (Vm, CounterId) {
    let mut p = P::new();
    let c = p.counter();
    let ch = p.base(TI, "in", Hook::Input, 0, true);
    p.rule(ch, [ops, vec![Op::Counter(c)]].concat());
    (p.vm(), c)
}

/// Whether the rule `ops` reaches its end for packet `p`.
fn hit(ops: Vec<Op>, p: &mut Pkt) -> bool {
    let (vm, c) = one_rule(ops);
    let mut st = State::new(&vm);
    run(&vm, &mut st, Hook::Input, p);
    st.counter(c).0 == 1
}

fn tcp() -> Pkt {
    tcp4([192, 168, 1, 10], [198, 51, 100, 7], 40000, 22)
}

#[test]
fn payload_loads_and_breaks_when_absent_or_short() {
    assert!(hit(dport(22).to_vec(), &mut tcp()));
    assert!(!hit(dport(80).to_vec(), &mut tcp()));
    // ip saddr (network base), ether type (link base).
    assert!(hit(vec![pl(0, Base::Network, 12, 4), eq(0, &[192, 168, 1, 10])], &mut tcp()));
    assert!(hit(vec![pl(0, Base::Link, 12, 2), eq(0, &[0x08, 0x00])], &mut tcp()));
    // No transport header (non-first fragment): breaks, even for `!=`.
    assert!(!hit(vec![pl(0, Base::Transport, 2, 2), cmp(0, CmpOp::Ne, &[0, 80])], &mut no_th(tcp())));
    // Past the end of the frame.
    assert!(!hit(vec![pl(0, Base::Transport, 30, 4), cmp(0, CmpOp::Ne, &[0; 4])], &mut tcp()));
    // The inner base is absent.
    assert!(!hit(vec![pl(0, Base::Inner, 0, 1), cmp(0, CmpOp::Ne, &[9])], &mut tcp()));
}

#[test]
fn loads_zero_the_rest_of_their_word() {
    // r0 = 0xffffffff, then a 2-byte load into r0: the padding is zero, so
    // the 4-byte word compares as port . 00 00.
    assert!(hit(vec![imm(0, &[0xff; 4]), pl(0, Base::Transport, 2, 2), eq(0, &[0, 22, 0, 0])], &mut tcp()));
}

#[test]
fn cmp_is_big_endian_and_may_compare_a_prefix() {
    assert!(hit(vec![pl(0, Base::Transport, 2, 2), cmp(0, CmpOp::Lt, &[1, 0])], &mut tcp()));
    assert!(hit(vec![pl(0, Base::Transport, 2, 2), cmp(0, CmpOp::Ge, &[0, 22])], &mut tcp()));
    assert!(!hit(vec![pl(0, Base::Transport, 2, 2), cmp(0, CmpOp::Gt, &[0, 22])], &mut tcp()));
    // iifname "eth*": the 3-byte prefix of the 16-byte name.
    assert!(hit(vec![meta(0, MetaKey::IifName, 16), eq(0, b"eth")], &mut tcp()));
    assert!(!hit(vec![meta(0, MetaKey::IifName, 16), eq(0, b"wlan")], &mut tcp()));
    let mut name = [0u8; 16];
    name[..4].copy_from_slice(b"eth0");
    assert!(hit(vec![meta(0, MetaKey::IifName, 16), eq(0, &name)], &mut tcp()));
}

#[test]
fn range_and_negated_range() {
    let r = |lo: u16, hi: u16, negate| Op::Range {
        src: Reg(0),
        lo: lo.to_be_bytes().to_vec(),
        hi: hi.to_be_bytes().to_vec(),
        negate,
    };
    assert!(hit(vec![pl(0, Base::Transport, 2, 2), r(20, 23, false)], &mut tcp()));
    assert!(hit(vec![pl(0, Base::Transport, 2, 2), r(22, 22, false)], &mut tcp()));
    assert!(!hit(vec![pl(0, Base::Transport, 2, 2), r(23, 1000, false)], &mut tcp()));
    assert!(hit(vec![pl(0, Base::Transport, 2, 2), r(23, 1000, true)], &mut tcp()));
    assert!(!hit(vec![pl(0, Base::Transport, 2, 2), r(1, 22, true)], &mut tcp()));
}

#[test]
fn bitwise_and_shift() {
    // ip daddr & 255.255.255.0 == 198.51.100.0
    let bw = Op::Bitwise { dst: Reg(1), src: Reg(0), len: 4, mask: vec![255, 255, 255, 0], xor: vec![0; 4] };
    assert!(hit(vec![pl(0, Base::Network, 16, 4), bw, eq(1, &[198, 51, 100, 0])], &mut tcp()));
    let bw = Op::Bitwise { dst: Reg(0), src: Reg(0), len: 2, mask: vec![0xff, 0xff], xor: vec![0, 1] };
    assert!(hit(vec![pl(0, Base::Transport, 2, 2), bw, eq(0, &[0, 23])], &mut tcp()));
    let sh = |left, amount| Op::Shift { dst: Reg(1), src: Reg(0), len: 4, left, amount };
    assert!(hit(vec![imm(0, &[0, 0, 0x12, 0x34]), sh(true, 8), eq(1, &[0, 0x12, 0x34, 0])], &mut tcp()));
    assert!(hit(vec![imm(0, &[0, 0, 0x12, 0x34]), sh(false, 4), eq(1, &[0, 0, 0x01, 0x23])], &mut tcp()));
}

#[test]
fn meta_keys() {
    let mut p = tcp();
    let l3 = (p.ctx.len - 14).to_be_bytes();
    assert!(hit(vec![meta(0, MetaKey::Len, 4), eq(0, &l3)], &mut p));
    assert!(hit(vec![meta(0, MetaKey::NfProto, 1), eq(0, &[2])], &mut p));
    assert!(hit(vec![meta(0, MetaKey::L4Proto, 1), eq(0, &[6])], &mut p));
    assert!(hit(vec![meta(0, MetaKey::Protocol, 2), eq(0, &[0x08, 0])], &mut p));
    assert!(hit(vec![meta(0, MetaKey::Iif, 4), eq(0, &[0, 0, 0, 1])], &mut p));
    assert!(hit(vec![meta(0, MetaKey::Oif, 4), eq(0, &[0, 0, 0, 0])], &mut p));
    assert!(hit(vec![meta(0, MetaKey::IifType, 2), eq(0, &[0, 1])], &mut p));
    // No output device: oiftype and oifgroup break, oifname is empty.
    assert!(!hit(vec![meta(0, MetaKey::OifType, 2), cmp(0, CmpOp::Ne, &[0, 0])], &mut p));
    assert!(!hit(vec![meta(0, MetaKey::OifGroup, 4), cmp(0, CmpOp::Ne, &[0, 0, 0, 1])], &mut p));
    assert!(hit(vec![meta(0, MetaKey::OifName, 16), eq(0, &[0; 16])], &mut p));
    assert!(hit(vec![meta(0, MetaKey::Cpu, 4), eq(0, &[0; 4])], &mut p));
    assert!(!hit(vec![meta(0, MetaKey::SkUid, 4), cmp(0, CmpOp::Ge, &[0; 4])], &mut p));
    // A host's own packet: its socket's owner.
    (p.ctx.has_sk, p.ctx.sk_uid, p.ctx.sk_gid) = (1, 1000, 100);
    assert!(hit(vec![meta(0, MetaKey::SkUid, 4), eq(0, &1000u32.to_be_bytes())], &mut p));
    assert!(hit(vec![meta(0, MetaKey::SkGid, 4), eq(0, &100u32.to_be_bytes())], &mut p));
    p.ctx.has_sk = 0;
    p.ctx.mark = 0x1234;
    p.ctx.pkttype = 1;
    assert!(hit(vec![meta(0, MetaKey::Mark, 4), eq(0, &[0, 0, 0x12, 0x34])], &mut p));
    assert!(hit(vec![meta(0, MetaKey::PktType, 1), eq(0, &[1])], &mut p));
    // 2023-11-14T22:13:20Z, a Tuesday (2), 80000 s after midnight.
    assert!(hit(vec![meta(0, MetaKey::Time, 8), eq(0, &1_700_000_000_000_000_000u64.to_be_bytes())], &mut p));
    assert!(hit(vec![meta(0, MetaKey::Day, 1), eq(0, &[2])], &mut p));
    assert!(hit(vec![meta(0, MetaKey::Hour, 4), eq(0, &80_000u32.to_be_bytes())], &mut p));
}

/// Run `ops` (which leave a 4-byte value in r0) then `meta mark set r0`;
/// the mark set.
fn value_of(ops: Vec<Op>, pk: &mut Pkt) -> u32 {
    let (vm, _) = one_rule([ops, vec![Op::MetaSet { key: MetaSetKey::Mark, src: Reg(0) }]].concat());
    let mut st = State::new(&vm);
    run(&vm, &mut st, Hook::Input, pk).1.mark
}

#[test]
fn meta_random_and_numgen_random_are_deterministic() {
    let ng = || vec![Op::Numgen { dst: Reg(0), random: true, modulus: 4, offset: 100 }];
    let x = value_of(ng(), &mut tcp());
    assert!((100..104).contains(&x));
    assert_eq!(x, value_of(ng(), &mut tcp()));
    let r = value_of(vec![meta(0, MetaKey::Random, 4)], &mut tcp());
    assert_eq!(r, value_of(vec![meta(0, MetaKey::Random, 4)], &mut tcp()));
    // Successive draws differ.
    let (vm, c) = one_rule(vec![meta(0, MetaKey::Random, 4), meta(1, MetaKey::Random, 4), cmp(0, CmpOp::Ne, &[0; 4])]);
    let mut st = State::new(&vm);
    run(&vm, &mut st, Hook::Input, &mut tcp());
    assert_eq!(st.counter(c).0, 1);
}

#[test]
fn ct_keys() {
    let mut p = tcp();
    let state_is =
        |bit: u32| vec![Op::Ct { dst: Reg(0), key: CtKey::State, dir: None, len: 4 }, eq(0, &bit.to_be_bytes())];
    // Before conntrack / without entry: invalid.
    assert!(hit(state_is(ct_state::INVALID), &mut p));
    // Other keys break without entry.
    assert!(!hit(
        vec![Op::Ct { dst: Reg(0), key: CtKey::Mark, dir: None, len: 4 }, cmp(0, CmpOp::Ge, &[0; 4])],
        &mut p
    ));
    p.ctx.ct.state = ct_state::UNTRACKED;
    assert!(hit(state_is(ct_state::UNTRACKED), &mut p));
    p.ctx.ct = ctc_ir::abi::CtInfo {
        state: ct_state::ESTABLISHED,
        has_entry: 1,
        mark: 7,
        status: 0x0e,
        zone: 3,
        dir: 1,
        protocol: 6,
        l3proto: 2,
        packets: [3, 4],
        bytes: [300, 400],
        ..Default::default()
    };
    p.ctx.ct.saddr[1][..4].copy_from_slice(&[198, 51, 100, 7]);
    p.ctx.ct.proto_dst[0] = [0, 22];
    assert!(hit(state_is(ct_state::ESTABLISHED), &mut p));
    let ct = |key, dir, len| Op::Ct { dst: Reg(0), key, dir, len };
    assert!(hit(vec![ct(CtKey::Mark, None, 4), eq(0, &[0, 0, 0, 7])], &mut p));
    assert!(hit(vec![ct(CtKey::Status, None, 4), eq(0, &[0, 0, 0, 0x0e])], &mut p));
    assert!(hit(vec![ct(CtKey::Zone, None, 2), eq(0, &[0, 3])], &mut p));
    assert!(hit(vec![ct(CtKey::Direction, None, 1), eq(0, &[1])], &mut p));
    assert!(hit(vec![ct(CtKey::Saddr, Some(Dir::Reply), 4), eq(0, &[198, 51, 100, 7])], &mut p));
    assert!(hit(vec![ct(CtKey::ProtoDst, Some(Dir::Original), 2), eq(0, &[0, 22])], &mut p));
    assert!(hit(vec![ct(CtKey::Packets, None, 8), eq(0, &7u64.to_be_bytes())], &mut p));
    assert!(hit(vec![ct(CtKey::Bytes, Some(Dir::Reply), 8), eq(0, &400u64.to_be_bytes())], &mut p));
    // Bytes per packet: 700 / 7 both ways, 300 / 3 original.
    assert!(hit(vec![ct(CtKey::AvgPkt, None, 8), eq(0, &100u64.to_be_bytes())], &mut p));
    assert!(hit(vec![ct(CtKey::AvgPkt, Some(Dir::Original), 8), eq(0, &100u64.to_be_bytes())], &mut p));
    // No helper: break.
    assert!(!hit(vec![ct(CtKey::Helper, None, 16), cmp(0, CmpOp::Ne, &[1])], &mut p));
}

#[test]
fn fib_lookups() {
    let fib = |flags: FibFlags, result, len| Op::Fib { dst: Reg(0), flags, result, len };
    let saddr_iif = FibFlags { saddr: true, iif: true, ..FibFlags::default() };
    let daddr = FibFlags { daddr: true, ..FibFlags::default() };
    // rpfilter: 192.168.1.10 routes via eth0 (1) = iif.
    let mut p = tcp();
    assert!(hit(vec![fib(saddr_iif, FibResult::Oif, 4), eq(0, &[0, 0, 0, 1])], &mut p));
    // Spoofed source from the WAN side: the route goes via eth1, not iif.
    let mut spoof = tcp4([8, 8, 8, 8], [192, 168, 1, 1], 1, 22);
    assert!(hit(vec![fib(saddr_iif, FibResult::Oif, 4), eq(0, &[0; 4])], &mut spoof));
    let missing = FibFlags { present: true, ..saddr_iif };
    assert!(hit(vec![fib(missing, FibResult::Oif, 1), eq(0, &[0])], &mut spoof));
    // daddr oifname; unreachable and local routes give nothing.
    let mut name = [0u8; 16];
    name[..4].copy_from_slice(b"eth1");
    assert!(hit(vec![fib(daddr, FibResult::OifName, 16), eq(0, &name)], &mut tcp()));
    let mut unreach = tcp4([192, 168, 1, 10], [10, 66, 0, 1], 1, 22);
    assert!(hit(vec![fib(daddr, FibResult::Oif, 4), eq(0, &[0; 4])], &mut unreach));
    let mut local = tcp4([192, 168, 1, 10], [192, 168, 1, 1], 1, 22);
    assert!(hit(vec![fib(daddr, FibResult::Oif, 4), eq(0, &[0; 4])], &mut local));
    // fib daddr type local / broadcast.
    assert!(hit(vec![fib(daddr, FibResult::Type, 4), eq(0, &ctc_vm::rtn::LOCAL.to_be_bytes())], &mut local));
    let mut bcast = udp4([192, 168, 1, 10], [192, 168, 1, 255], 1, 2, 0, true);
    assert!(hit(vec![fib(daddr, FibResult::Type, 4), eq(0, &ctc_vm::rtn::BROADCAST.to_be_bytes())], &mut bcast));
    // DHCP discover from 0.0.0.0: its own interface.
    let mut dhcp = udp4([0, 0, 0, 0], [255, 255, 255, 255], 68, 67, 0, true);
    assert!(hit(vec![fib(saddr_iif, FibResult::Oif, 4), eq(0, &[0, 0, 0, 1])], &mut dhcp));
}

#[test]
fn ipv6_extension_headers() {
    let hbh = (0u8, vec![0, 0, 1, 4, 0, 0, 0, 0]);
    let frag = (44u8, vec![0, 0, 0, 0, 0xde, 0xad, 0xbe, 0xef]);
    let mut p = tcp6_ext(v6(1), v6(2), &[hbh, frag], 443);
    let ex = |hdr, offset, len, present| Op::Exthdr { dst: Reg(0), hdr, offset, len, present };
    assert!(hit(vec![ex(0, 0, 1, true), eq(0, &[1])], &mut p));
    assert!(hit(vec![ex(44, 0, 1, true), eq(0, &[1])], &mut p));
    assert!(hit(vec![ex(43, 0, 1, true), eq(0, &[0])], &mut p));
    // frag id, after the hop-by-hop header.
    assert!(hit(vec![ex(44, 4, 4, false), eq(0, &[0xde, 0xad, 0xbe, 0xef])], &mut p));
    // Absent header: the field load breaks.
    assert!(!hit(vec![ex(43, 0, 1, false), cmp(0, CmpOp::Ne, &[0xff])], &mut p));
    // Transport after the chain is still reachable through th.
    assert!(hit(dport(443).to_vec(), &mut p));
    // Not for IPv4 packets.
    assert!(hit(vec![ex(0, 0, 1, true), eq(0, &[0])], &mut tcp()));
}

#[test]
fn tcp_options() {
    // MSS 1460, NOP, NOP, SACK-permitted.
    let mut p = tcp4_opts([1, 1, 1, 1], [2, 2, 2, 2], 1, 22, 0x02, &[2, 4, 0x05, 0xb4, 1, 1, 4, 2]);
    let opt = |kind, offset, len, present| Op::TcpOpt { dst: Reg(0), kind, offset, len, present };
    assert!(hit(vec![opt(2, 2, 2, false), eq(0, &[0x05, 0xb4])], &mut p));
    assert!(hit(vec![opt(4, 0, 1, true), eq(0, &[1])], &mut p));
    assert!(hit(vec![opt(3, 0, 1, true), eq(0, &[0])], &mut p));
    assert!(!hit(vec![opt(3, 2, 1, false), cmp(0, CmpOp::Ne, &[0xff])], &mut p));
    // An option shorter than offset + len breaks.
    assert!(!hit(vec![opt(4, 2, 1, false), cmp(0, CmpOp::Ne, &[0xff])], &mut p));
    // Not TCP: absent.
    assert!(hit(vec![opt(2, 0, 1, true), eq(0, &[0])], &mut udp4([1, 1, 1, 1], [2, 2, 2, 2], 1, 2, 4, true)));
}

#[test]
fn jhash_matches_lookup3() {
    // Bob Jenkins' lookup3.c self-test (driver5) values of hashlittle,
    // which the kernel's jhash equals on little-endian machines.
    assert_eq!(jhash(b"", 0), 0xdeadbeef);
    assert_eq!(jhash(b"Four score and seven years ago", 0), 0x17770551);
    assert_eq!(jhash(b"Four score and seven years ago", 1), 0xcd628161);
    assert_eq!(reciprocal_scale(u32::MAX, 10), 9);
    assert_eq!(reciprocal_scale(0, 10), 0);
}

#[test]
fn hash_ops() {
    let h = jhash(&[192, 168, 1, 10], 0x1234);
    let want = (reciprocal_scale(h, 7) + 50).to_be_bytes();
    let op = Op::Hash { dst: Reg(1), src: Some((Reg(0), 4)), symmetric: false, modulus: 7, seed: 0x1234, offset: 50 };
    assert!(hit(vec![pl(0, Base::Network, 12, 4), op, eq(1, &want)], &mut tcp()));
    // symhash: both directions of a flow agree.
    let sym = || vec![Op::Hash { dst: Reg(0), src: None, symmetric: true, modulus: u32::MAX, seed: 0, offset: 0 }];
    let a = value_of(sym(), &mut tcp4([10, 0, 0, 1], [10, 0, 0, 2], 1000, 2000));
    let b = value_of(sym(), &mut tcp4([10, 0, 0, 2], [10, 0, 0, 1], 2000, 1000));
    let c = value_of(sym(), &mut tcp4([10, 0, 0, 2], [10, 0, 0, 1], 2000, 1001));
    assert_eq!(a, b);
    assert_ne!(a, c);
}

#[test]
fn numgen_inc_counts_per_op() {
    let mut p = P::new();
    let ch = p.base(T4, "in", Hook::Input, 0, true);
    let cs: Vec<CounterId> = (0..3).map(|_| p.counter()).collect();
    for (i, c) in cs.iter().enumerate() {
        p.rule(
            ch,
            vec![
                Op::Numgen { dst: Reg(0), random: false, modulus: 3, offset: 10 },
                eq(0, &(10 + i as u32).to_be_bytes()),
                Op::Counter(*c),
            ],
        );
    }
    // Another numgen op with its own counter: 0, 1, 0, 1.
    let other = p.counter();
    p.rule(
        ch,
        vec![
            Op::Numgen { dst: Reg(0), random: false, modulus: 2, offset: 0 },
            eq(0, &[0, 0, 0, 0]),
            Op::Counter(other),
        ],
    );
    let vm = p.vm();
    let mut st = State::new(&vm);
    for _ in 0..4 {
        run(&vm, &mut st, Hook::Input, &mut tcp());
    }
    // Every op advances once per packet: 0, 1, 2, 0; rule i matches when
    // its op yields i.
    let hits: Vec<u64> = cs.iter().map(|c| st.counter(*c).0).collect();
    assert_eq!(hits, vec![2, 1, 1]);
    assert_eq!(st.counter(other).0, 2);
}

#[test]
fn sets_exact_interval_and_concatenations() {
    let mut p = P::new();
    let ch = p.base(T4, "in", Hook::Input, 0, true);
    let ports = p.set(set("ports", 2, vec![key(&[0, 22]), key(&[0, 80])]));
    let nets = p.set(set(
        "nets",
        4,
        vec![
            range(&[10, 0, 0, 0], &[10, 255, 255, 255]),
            range(&[192, 168, 1, 0], &[192, 168, 1, 127]),
            key(&[8, 8, 8, 8]),
        ],
    ));
    // ip saddr . tcp dport { 192.168.1.5-192.168.1.20 . 22, 10.0.0.0/8 . 443-444 }
    let concat = p.set(set(
        "pairs",
        8,
        vec![
            range(&[192, 168, 1, 5, 0, 22, 0, 0], &[192, 168, 1, 20, 0, 22, 0, 0]),
            range(&[10, 0, 0, 0, 1, 0xbb, 0, 0], &[10, 255, 255, 255, 1, 0xbc, 0, 0]),
        ],
    ));
    let c: Vec<CounterId> = (0..4).map(|_| p.counter()).collect();
    let lookup = |set, len, negate| Op::Lookup { src: Reg(0), len, set, negate, dst: None };
    p.rule(ch, vec![pl(0, Base::Transport, 2, 2), lookup(ports, 2, false), Op::Counter(c[0])]);
    p.rule(ch, vec![pl(0, Base::Network, 12, 4), lookup(nets, 4, false), Op::Counter(c[1])]);
    p.rule(ch, vec![pl(0, Base::Network, 12, 4), lookup(nets, 4, true), Op::Counter(c[2])]);
    p.rule(
        ch,
        vec![pl(0, Base::Network, 12, 4), pl(1, Base::Transport, 2, 2), lookup(concat, 8, false), Op::Counter(c[3])],
    );
    let vm = p.vm();
    let count = |pk: &mut Pkt| {
        let mut st = State::new(&vm);
        run(&vm, &mut st, Hook::Input, pk);
        c.iter().map(|c| st.counter(*c).0).collect::<Vec<_>>()
    };
    assert_eq!(count(&mut tcp4([192, 168, 1, 10], [1, 1, 1, 1], 1, 22)), vec![1, 1, 0, 1]);
    assert_eq!(count(&mut tcp4([192, 168, 1, 200], [1, 1, 1, 1], 1, 22)), vec![1, 0, 1, 0]);
    assert_eq!(count(&mut tcp4([192, 168, 1, 10], [1, 1, 1, 1], 1, 23)), vec![0, 1, 0, 0]);
    assert_eq!(count(&mut tcp4([8, 8, 8, 8], [1, 1, 1, 1], 1, 80)), vec![1, 1, 0, 0]);
    assert_eq!(count(&mut tcp4([10, 9, 9, 9], [1, 1, 1, 1], 1, 444)), vec![0, 1, 0, 1]);
    // Lexicographically inside the first concatenated element, but port 80
    // is not 22: no match.
    assert_eq!(count(&mut tcp4([192, 168, 1, 6], [1, 1, 1, 1], 1, 80)), vec![1, 1, 0, 0]);
}

#[test]
fn catchall_element_matches_only_what_nothing_else_does() {
    let mut p = P::new();
    let ch = p.base(T4, "in", Hook::Input, 0, true);
    let mut m = set("marks", 2, vec![]);
    m.is_map = true;
    m.data_len = 4;
    let el = |lo: &[u8], hi: &[u8], d: u8| Element {
        lo: lo.to_vec(),
        hi: hi.to_vec(),
        data: Some(ElementData::Value(vec![0, 0, 0, d])),
    };
    m.elements = vec![el(&[0, 22], &[0, 22], 1), el(&[0, 20], &[0, 30], 2), el(&[0, 0], &[0xff, 0xff], 3)];
    m.elements.swap(0, 2);
    let sid = p.set(m);
    p.rule(
        ch,
        vec![
            pl(0, Base::Transport, 2, 2),
            Op::Lookup { src: Reg(0), len: 2, set: sid, negate: false, dst: Some(Reg(1)) },
            Op::MetaSet { key: MetaSetKey::Mark, src: Reg(1) },
        ],
    );
    let vm = p.vm();
    let mut st = State::new(&vm);
    let mut mark = |port| run(&vm, &mut st, Hook::Input, &mut tcp4([1, 1, 1, 1], [2, 2, 2, 2], 1, port)).1.mark;
    assert_eq!((mark(22), mark(25), mark(80)), (1, 2, 3));
}

#[test]
fn maps_load_data() {
    let mut p = P::new();
    let ch = p.base(T4, "in", Hook::Input, 0, true);
    let mut m = set("marks", 2, vec![]);
    m.is_map = true;
    m.data_len = 4;
    m.elements = vec![Element { lo: vec![0, 22], hi: vec![0, 22], data: Some(ElementData::Value(vec![0, 0, 0, 42])) }];
    let sid = p.set(m);
    p.rule(
        ch,
        vec![
            pl(0, Base::Transport, 2, 2),
            Op::Lookup { src: Reg(0), len: 2, set: sid, negate: false, dst: Some(Reg(1)) },
            Op::MetaSet { key: MetaSetKey::Mark, src: Reg(1) },
        ],
    );
    let vm = p.vm();
    let mut st = State::new(&vm);
    let (_, a) = run(&vm, &mut st, Hook::Input, &mut tcp());
    assert_eq!((a.mark, a.set & act::MARK), (42, act::MARK));
    let (_, a) = run(&vm, &mut st, Hook::Input, &mut tcp4([1, 1, 1, 1], [2, 2, 2, 2], 1, 80));
    assert_eq!(a.set & act::MARK, 0);
}

#[test]
fn dynamic_sets_add_time_out_and_delete() {
    let mut p = P::new();
    let ch = p.base(T4, "in", Hook::Input, 0, true);
    let mut s = set("recent", 4, vec![]);
    s.dynamic = true;
    s.timeout_ms = Some(1000);
    let sid = p.set(s);
    let seen = p.counter();
    // Rule 0: if saddr in @recent, count. Rule 1: port 22 adds it; port 23
    // deletes it.
    p.rule(
        ch,
        vec![
            pl(0, Base::Network, 12, 4),
            Op::Lookup { src: Reg(0), len: 4, set: sid, negate: false, dst: None },
            Op::Counter(seen),
        ],
    );
    p.rule(
        ch,
        [
            dport(22).as_slice(),
            &[
                pl(1, Base::Network, 12, 4),
                Op::SetUpdate { set: sid, src: Reg(1), len: 4, delete: false, timeout_ms: None, limit: None },
            ],
        ]
        .concat(),
    );
    p.rule(
        ch,
        [
            dport(23).as_slice(),
            &[
                pl(1, Base::Network, 12, 4),
                Op::SetUpdate { set: sid, src: Reg(1), len: 4, delete: true, timeout_ms: None, limit: None },
            ],
        ]
        .concat(),
    );
    let vm = p.vm();
    let mut st = State::new(&vm);
    let at = |ms: u64, port: u16| {
        let mut pk = tcp4([192, 168, 1, 10], [2, 2, 2, 2], 1, port);
        pk.ctx.time_ns = ms * 1_000_000;
        pk
    };
    run(&vm, &mut st, Hook::Input, &mut at(0, 22)); // added, expires at 1000
    run(&vm, &mut st, Hook::Input, &mut at(500, 80)); // seen
    assert_eq!(st.counter(seen).0, 1);
    run(&vm, &mut st, Hook::Input, &mut at(1500, 80)); // expired
    assert_eq!(st.counter(seen).0, 1);
    run(&vm, &mut st, Hook::Input, &mut at(2000, 22)); // re-added
    run(&vm, &mut st, Hook::Input, &mut at(2100, 23)); // seen, then deleted
    run(&vm, &mut st, Hook::Input, &mut at(2200, 80)); // gone
    assert_eq!(st.counter(seen).0, 2);
    assert!(st.set_elements(sid, 2200).is_empty());
}

fn limit_prog(d: LimitDef) -> (Vm, CounterId) {
    let mut p = P::new();
    let ch = p.base(T4, "in", Hook::Input, 0, true);
    let l = p.limit(d);
    let c = p.counter();
    p.rule(ch, vec![Op::Limit(l), Op::Counter(c)]);
    (p.vm(), c)
}

/// Which of the packets at the given milliseconds pass the rule.
fn passes(vm: &Vm, c: CounterId, ms: &[u64]) -> Vec<bool> {
    let mut st = State::new(vm);
    ms.iter()
        .map(|&t| {
            let before = st.counter(c).0;
            let mut pk = tcp();
            pk.ctx.time_ns = 1_000_000_000_000 + t * 1_000_000;
            run(vm, &mut st, Hook::Input, &mut pk);
            st.counter(c).0 > before
        })
        .collect()
}

#[test]
fn limit_packets_burst_then_rate_on_the_packet_clock() {
    // 10/second burst 3: cost 100 ms of credit, bucket 300 ms.
    let (vm, c) = limit_prog(LimitDef { rate: 10, per_secs: 1, burst: 3, bytes: false, over: false });
    let got = passes(&vm, c, &[0, 0, 0, 0, 50, 100, 150, 200, 1000, 1000, 1000, 1000]);
    assert_eq!(got, vec![true, true, true, false, false, true, false, true, true, true, true, false]);
    // `over` inverts: matches what the plain limit rejects.
    let (vm, c) = limit_prog(LimitDef { rate: 10, per_secs: 1, burst: 3, bytes: false, over: true });
    let got = passes(&vm, c, &[0, 0, 0, 0, 50, 100]);
    assert_eq!(got, vec![false, false, false, true, true, false]);
    // Burst 0 is the kernel's default of 5.
    let (vm, c) = limit_prog(LimitDef { rate: 1, per_secs: 60, burst: 0, bytes: false, over: false });
    assert_eq!(passes(&vm, c, &[0; 6]), vec![true, true, true, true, true, false]);
}

#[test]
fn limit_bytes_costs_the_packet_length() {
    let l3 = (tcp().ctx.len - 14) as u64; // 40 bytes
    // rate 40 bytes/s, burst 40: bucket holds 2 s of credit = 80 bytes.
    let (vm, c) = limit_prog(LimitDef { rate: l3, per_secs: 1, burst: l3, bytes: true, over: false });
    assert_eq!(passes(&vm, c, &[0, 0, 0, 500, 1000, 1000]), vec![true, true, false, false, true, false]);
}

#[test]
fn quotas_until_and_over() {
    let l3 = (tcp().ctx.len - 14) as u64;
    let quota = |over| {
        let mut p = P::new();
        let ch = p.base(T4, "in", Hook::Input, 0, true);
        let q = p.quota(QuotaDef { bytes: 3 * l3, used: 0, over });
        let c = p.counter();
        p.rule(ch, vec![Op::Quota(q), Op::Counter(c)]);
        let vm = p.vm();
        let mut st = State::new(&vm);
        let got: Vec<bool> = (0..5)
            .map(|_| {
                let before = st.counter(c).0;
                run(&vm, &mut st, Hook::Input, &mut tcp());
                st.counter(c).0 > before
            })
            .collect();
        (got, st.quota_used(q))
    };
    // Consumed >= quota is over: the third packet reaches the quota exactly.
    assert_eq!(quota(false), (vec![true, true, false, false, false], 5 * l3));
    assert_eq!(quota(true), (vec![false, false, true, true, true], 5 * l3));
}

#[test]
fn mark_set_is_seen_at_once_and_by_later_hooks() {
    let mut p = P::new();
    let ch = p.base(T4, "in", Hook::Input, 0, true);
    let c = p.counter();
    p.rule(ch, vec![imm(0, &[0, 0, 1, 0]), Op::MetaSet { key: MetaSetKey::Mark, src: Reg(0) }]);
    p.rule(ch, vec![meta(0, MetaKey::Mark, 4), eq(0, &[0, 0, 1, 0]), Op::Counter(c)]);
    let out = p.base(T4, "out", Hook::Postrouting, 0, true);
    let c2 = p.counter();
    p.rule(out, vec![meta(0, MetaKey::Mark, 4), eq(0, &[0, 0, 1, 0]), Op::Counter(c2)]);
    let vm = p.vm();
    let mut st = State::new(&vm);
    let mut pk = tcp();
    let ctx = pk.ctx;
    let mut a = ctc_ir::abi::Actions::default();
    vm.run_hook(&mut st, &TestHost, Hook::Input, &mut pk.bytes, &ctx, &mut a);
    assert_eq!(st.counter(c).0, 1);
    // The same Actions carried to a later hook: the new mark is read there.
    vm.run_hook(&mut st, &TestHost, Hook::Postrouting, &mut pk.bytes, &ctx, &mut a);
    assert_eq!(st.counter(c2).0, 1);
}

#[test]
fn ct_mark_set_needs_an_entry_and_notrack_makes_untracked() {
    let mut p = P::new();
    let ch = p.base(T4, "raw", Hook::Prerouting, -300, true);
    let c = p.counter();
    p.rule(ch, vec![imm(0, &[0, 0, 0, 5]), Op::CtSet { key: CtSetKey::Mark, src: Reg(0), len: 4 }]);
    p.rule(ch, vec![imm(0, &[0, 7]), Op::CtSet { key: CtSetKey::Zone, src: Reg(0), len: 2 }]);
    p.rule(ch, vec![Op::Notrack]);
    p.rule(
        ch,
        vec![
            Op::Ct { dst: Reg(0), key: CtKey::State, dir: None, len: 4 },
            eq(0, &ct_state::UNTRACKED.to_be_bytes()),
            Op::Counter(c),
        ],
    );
    let vm = p.vm();
    let mut st = State::new(&vm);
    let (_, a) = run(&vm, &mut st, Hook::Prerouting, &mut tcp());
    assert_eq!(a.set & (act::CT_MARK | act::CT_ZONE | act::NOTRACK), act::CT_ZONE | act::NOTRACK);
    assert_eq!(a.ct_zone, 7);
    assert_eq!(st.counter(c).0, 1);
    // With an entry: ct mark is set and read back, zone and notrack do nothing.
    let mut pk = tcp();
    pk.ctx.ct.has_entry = 1;
    pk.ctx.ct.state = ct_state::NEW;
    let (_, a) = run(&vm, &mut st, Hook::Prerouting, &mut pk);
    assert_eq!(a.set & (act::CT_MARK | act::CT_ZONE | act::NOTRACK), act::CT_MARK);
    assert_eq!(a.ct_mark, 5);
    assert_eq!(st.counter(c).0, 1);
}

#[test]
fn ct_helper_is_assigned_to_unconfirmed_entries_of_its_protocol() {
    let mut p = P::new();
    let ch = p.base(T4, "pre", Hook::Prerouting, 0, true);
    p.rule(ch, vec![Op::CtHelper { name: "ftp".into(), l4proto: 6 }]);
    let vm = p.vm();
    let mut st = State::new(&vm);
    let mut pk = tcp();
    let (_, a) = run(&vm, &mut st, Hook::Prerouting, &mut pk);
    assert_eq!(a.set & act::HELPER, 0, "no entry (raw priority): nothing");
    pk.ctx.ct.has_entry = 1;
    pk.ctx.ct.state = ct_state::NEW;
    pk.ctx.ct.protocol = 6;
    let (_, a) = run(&vm, &mut st, Hook::Prerouting, &mut pk);
    assert_eq!((a.set & act::HELPER, &a.helper[..4], a.helper_l4proto), (act::HELPER, &b"ftp\0"[..], 6));
    pk.ctx.ct.status = ctc_vm::IPS_CONFIRMED;
    let (_, a) = run(&vm, &mut st, Hook::Prerouting, &mut pk);
    assert_eq!(a.set & act::HELPER, 0, "confirmed: nothing");
}

#[test]
fn logs_are_recorded_in_order() {
    let mut p = P::new();
    let ch = p.base(T4, "in", Hook::Input, 0, true);
    let (l1, l2) = (p.log(), p.log());
    p.rule(ch, vec![Op::Log(l2)]);
    p.rule(ch, vec![Op::Log(l1), ACCEPT]);
    let vm = p.vm();
    let mut st = State::new(&vm);
    let (r, a) = run(&vm, &mut st, Hook::Input, &mut tcp());
    assert_eq!(r.verdict, HookVerdict::Accept);
    assert_eq!(&a.logs[..a.n_logs as usize], &[l2.0, l1.0]);
}

fn mangle(ops: Vec<Op>, pk: &mut Pkt) -> ctc_ir::abi::Actions {
    let mut p = P::new();
    let ch = p.base(TI, "pre", Hook::Prerouting, 0, true);
    p.rule(ch, ops);
    let vm = p.vm();
    let mut st = State::new(&vm);
    run(&vm, &mut st, Hook::Prerouting, pk).1
}

#[test]
fn payload_set_updates_checksums() {
    // ip ttl set 1 (odd-aligned? ttl is at nh + 8: even) with the header
    // checksum; ip dscp-style write at the odd offset nh + 1.
    let mut pk = tcp();
    assert!(ipv4_csum_ok(&pk) && l4_csum_ok(&pk));
    let a = mangle(
        vec![imm(0, &[1]), Op::PayloadSet { base: Base::Network, offset: 8, len: 1, src: Reg(0), csum: Csum::Network }],
        &mut pk,
    );
    assert_eq!(pk.bytes[14 + 8], 1);
    assert!(ipv4_csum_ok(&pk));
    assert_ne!(a.set & act::MANGLED, 0);
    mangle(
        vec![
            imm(0, &[0xb8]),
            Op::PayloadSet { base: Base::Network, offset: 1, len: 1, src: Reg(0), csum: Csum::Network },
        ],
        &mut pk,
    );
    assert!(ipv4_csum_ok(&pk));
    // tcp dport set 8080.
    mangle(
        vec![
            imm(0, &[0x1f, 0x90]),
            Op::PayloadSet {
                base: Base::Transport,
                offset: 2,
                len: 2,
                src: Reg(0),
                csum: Csum::Transport { pseudo: false },
            },
        ],
        &mut pk,
    );
    assert_eq!(&pk.bytes[34 + 2..34 + 4], &[0x1f, 0x90]);
    assert!(l4_csum_ok(&pk));
    // ip saddr set: header and pseudo-header checksums.
    mangle(
        vec![
            imm(0, &[100, 64, 3, 7]),
            Op::PayloadSet {
                base: Base::Network,
                offset: 12,
                len: 4,
                src: Reg(0),
                csum: Csum::Transport { pseudo: true },
            },
        ],
        &mut pk,
    );
    assert_eq!(&pk.bytes[26..30], &[100, 64, 3, 7]);
    assert!(ipv4_csum_ok(&pk) && l4_csum_ok(&pk));
    // Later rules see the new bytes.
    let mut p2 = tcp();
    let a = mangle(
        vec![
            imm(0, &[0, 99]),
            Op::PayloadSet { base: Base::Transport, offset: 2, len: 2, src: Reg(0), csum: Csum::None },
            pl(1, Base::Transport, 2, 2),
            eq(1, &[0, 99]),
            imm(2, &[0, 0, 0, 1]),
            Op::MetaSet { key: MetaSetKey::Mark, src: Reg(2) },
        ],
        &mut p2,
    );
    assert_eq!(a.mark, 1);
}

#[test]
fn payload_set_on_ipv6_and_udp() {
    let mut pk = tcp6(v6(1), v6(2), 22);
    assert!(l4_csum_ok(&pk));
    let mut a6 = v6(9);
    a6[8] = 0x77;
    mangle(
        vec![
            imm(0, &a6),
            Op::PayloadSet {
                base: Base::Network,
                offset: 24,
                len: 16,
                src: Reg(0),
                csum: Csum::Transport { pseudo: true },
            },
        ],
        &mut pk,
    );
    assert_eq!(&pk.bytes[14 + 24..14 + 40], &a6);
    assert!(l4_csum_ok(&pk));
    // UDP with a checksum: updated; without (0): left 0.
    let mut u = udp4([1, 2, 3, 4], [5, 6, 7, 8], 1000, 53, 5, true);
    mangle(
        vec![
            imm(0, &[0, 54]),
            Op::PayloadSet {
                base: Base::Transport,
                offset: 2,
                len: 2,
                src: Reg(0),
                csum: Csum::Transport { pseudo: false },
            },
        ],
        &mut u,
    );
    assert!(l4_csum_ok(&u));
    let mut u0 = udp4([1, 2, 3, 4], [5, 6, 7, 8], 1000, 53, 5, false);
    mangle(
        vec![
            imm(0, &[0, 54]),
            Op::PayloadSet {
                base: Base::Transport,
                offset: 2,
                len: 2,
                src: Reg(0),
                csum: Csum::Transport { pseudo: false },
            },
        ],
        &mut u0,
    );
    assert_eq!(&u0.bytes[34 + 6..34 + 8], &[0, 0]);
    // Out of bounds: the rule breaks, nothing written.
    let mut t = tcp();
    let before = t.bytes.clone();
    let a = mangle(
        vec![
            imm(0, &[1, 2, 3, 4]),
            Op::PayloadSet { base: Base::Transport, offset: 60, len: 4, src: Reg(0), csum: Csum::None },
        ],
        &mut t,
    );
    assert_eq!((t.bytes, a.set & act::MANGLED), (before, 0));
}

#[test]
fn checksum_helpers_agree_with_a_full_recompute() {
    let mut data = vec![
        0x45, 0x00, 0x00, 0x3c, 0x1c, 0x46, 0x40, 0x00, 0x40, 0x06, 0, 0, 0xac, 0x10, 0x0a, 0x63, 0xac, 0x10, 0x0a,
        0x0c,
    ];
    let c = checksum(&data);
    data[10..12].copy_from_slice(&c.to_be_bytes());
    assert_eq!(c, 0xb1e6); // RFC 1071-style textbook header
    for (at, new) in [(8usize, vec![0x3f]), (9, vec![0x11]), (1, vec![0xb8, 0x01]), (12, vec![1, 2, 3, 4])] {
        let mut d = data.clone();
        let old = d[at..at + new.len()].to_vec();
        d[at..at + new.len()].copy_from_slice(&new);
        let hc = u16::from_be_bytes([data[10], data[11]]);
        let inc = ctc_vm::csum_replace(hc, &old, &new, at % 2 == 1);
        d[10..12].copy_from_slice(&[0, 0]);
        assert_eq!(inc, checksum(&d), "field at {at}");
    }
}

/// `update @s { ip saddr limit rate over 1/minute burst 2 packets } drop`:
/// every source has its own bucket (nft_dynset with a stateful expression),
/// so one source going over its limit does not limit another.
#[test]
fn per_element_limits_are_per_key() {
    let mut p = P::new();
    let ch = p.base(T4, "in", Hook::Input, 0, true);
    let mut s = set("meter", 4, vec![]);
    s.dynamic = true;
    let sid = p.set(s);
    let lim = p.limit(LimitDef { rate: 1, per_secs: 60, burst: 2, bytes: false, over: true });
    let dropped = p.counter();
    p.rule(
        ch,
        vec![
            pl(0, Base::Network, 12, 4),
            Op::SetUpdate { set: sid, src: Reg(0), len: 4, delete: false, timeout_ms: None, limit: Some(lim) },
            Op::Counter(dropped),
            v(Verdict::Drop),
        ],
    );
    let vm = p.vm();
    let mut st = State::new(&vm);
    let from = |a: u8, ms: u64| {
        let mut pk = tcp4([192, 0, 2, a], [198, 51, 100, 1], 1000, 22);
        pk.ctx.time_ns = ms * 1_000_000;
        pk
    };
    // Source .1: two packets fit the burst, the third is over the limit.
    for (i, ms) in [0u64, 10, 20].into_iter().enumerate() {
        let (r, _) = run(&vm, &mut st, Hook::Input, &mut from(1, ms));
        let want = if i < 2 { HookVerdict::Accept } else { HookVerdict::Drop };
        assert_eq!(r.verdict, want, "packet {i} of source .1");
    }
    // Source .2 has a fresh bucket of its own.
    let (r, _) = run(&vm, &mut st, Hook::Input, &mut from(2, 30));
    assert_eq!(r.verdict, HookVerdict::Accept);
    // A minute later source .1 has one token again.
    let (r, _) = run(&vm, &mut st, Hook::Input, &mut from(1, 60_020));
    assert_eq!(r.verdict, HookVerdict::Accept);
    assert_eq!(st.counter(dropped).0, 1);
}
