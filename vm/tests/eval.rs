//! nft(8) "OVERALL EVALUATION OF THE RULESET": how base chains, verdicts,
//! jumps and policies combine.

mod common;
use common::*;
use ctc_ir::*;
use ctc_vm::{ChainVerdict, Decider, HookVerdict, NoHost, State, Vm};

fn pkt() -> Pkt {
    tcp4([192, 168, 1, 10], [198, 51, 100, 7], 40000, 22)
}

#[test]
fn accept_ends_only_its_base_chain_and_a_later_drop_wins() {
    let mut p = P::new();
    let a = p.base(T4, "a", Hook::Input, 0, true);
    let b = p.base(T4, "b", Hook::Input, 10, true);
    p.rule(a, vec![ACCEPT]);
    let ca = p.counter();
    p.rule(a, vec![Op::Counter(ca)]);
    let drop_rule = p.rule(b, vec![DROP]);
    let vm = p.vm();
    let mut st = State::new(&vm);
    let (r, _) = run(&vm, &mut st, Hook::Input, &mut pkt());
    assert_eq!(r.verdict, HookVerdict::Drop);
    assert_eq!(r.by, Decider::Rule { chain: b, rule: drop_rule });
    assert_eq!(vm.rule_loc(r.by).map(|l| l.line), Some(30));
    // The rule after the accept in chain a never ran.
    assert_eq!(st.counter(ca), (0, 0));
}

#[test]
fn drop_ends_the_remaining_base_chains() {
    let mut p = P::new();
    let a = p.base(T4, "a", Hook::Input, -10, true);
    let b = p.base(T4, "b", Hook::Input, 0, true);
    p.rule(a, vec![DROP]);
    let cb = p.counter();
    p.rule(b, vec![Op::Counter(cb), ACCEPT]);
    let vm = p.vm();
    let mut st = State::new(&vm);
    let (r, _) = run(&vm, &mut st, Hook::Input, &mut pkt());
    assert_eq!(r.verdict, HookVerdict::Drop);
    assert_eq!(r.by, Decider::Rule { chain: a, rule: 0 });
    assert_eq!(st.counter(cb), (0, 0));
}

#[test]
fn base_chains_run_by_priority_not_declaration() {
    let mut p = P::new();
    let late = p.base(T4, "late", Hook::Input, 100, true);
    let early = p.base(T4, "early", Hook::Input, -100, true);
    p.rule(late, vec![DROP]);
    p.rule(early, vec![imm(0, &[0, 0, 0, 1]), Op::MetaSet { key: MetaSetKey::Mark, src: Reg(0) }]);
    let c = p.counter();
    // In `late`, the mark set by `early` is visible.
    p.prog.chains[late.index()].rules.insert(
        0,
        Rule {
            ops: vec![meta(0, MetaKey::Mark, 4), eq(0, &[0, 0, 0, 1]), Op::Counter(c)],
            loc: SourceLoc { file: "t.nft".into(), line: 1 },
            counter: Some(c),
        },
    );
    let vm = p.vm();
    let mut st = State::new(&vm);
    let (r, a) = run(&vm, &mut st, Hook::Input, &mut pkt());
    assert_eq!(r.verdict, HookVerdict::Drop);
    assert_eq!(st.counter(c).0, 1);
    assert_eq!(a.mark, 1);
}

#[test]
fn all_accepting_reports_the_last_accepting_rule_or_policy() {
    let mut p = P::new();
    let a = p.base(T4, "a", Hook::Input, 0, true);
    let b = p.base(T4, "b", Hook::Input, 10, true);
    p.rule(a, vec![ACCEPT]);
    p.rule(b, dport(80).to_vec());
    let vm = p.vm();
    let mut st = State::new(&vm);
    let (r, _) = run(&vm, &mut st, Hook::Input, &mut pkt());
    assert_eq!(r.verdict, HookVerdict::Accept);
    assert_eq!(r.by, Decider::Policy { chain: b });
    assert_eq!(vm.rule_loc(r.by), None);
    // No chain at the hook: accepted, nothing decided.
    let (r, _) = run(&vm, &mut st, Hook::Forward, &mut pkt());
    assert_eq!((r.verdict, r.by), (HookVerdict::Accept, Decider::NoChain));
}

#[test]
fn drop_policy_applies_at_the_end_of_the_base_chain() {
    let mut p = P::new();
    let a = p.base(T4, "a", Hook::Input, 0, false);
    let c = p.counter();
    p.rule(a, [dport(80).as_slice(), &[ACCEPT]].concat());
    p.rule(a, vec![Op::Counter(c)]);
    let vm = p.vm();
    let mut st = State::new(&vm);
    let (r, _) = run(&vm, &mut st, Hook::Input, &mut pkt());
    assert_eq!((r.verdict, r.by), (HookVerdict::Drop, Decider::Policy { chain: a }));
    assert_eq!(st.counter(c).0, 1);
    let mut web = tcp4([192, 168, 1, 10], [198, 51, 100, 7], 40000, 80);
    let (r, _) = run(&vm, &mut st, Hook::Input, &mut web);
    assert_eq!((r.verdict, r.by), (HookVerdict::Accept, Decider::Rule { chain: a, rule: 0 }));
}

#[test]
fn jump_returns_to_the_next_rule_of_the_caller() {
    let mut p = P::new();
    let base = p.base(T4, "in", Hook::Input, 0, false);
    let sub = p.chain(T4, "sub");
    let (c_sub, c_after) = (p.counter(), p.counter());
    p.rule(base, vec![v(Verdict::Jump(sub))]);
    p.rule(base, vec![Op::Counter(c_after), ACCEPT]);
    p.rule(sub, vec![Op::Counter(c_sub)]);
    // A failing test in sub: falls off its end, which returns.
    p.rule(sub, [dport(80).as_slice(), &[DROP]].concat());
    let vm = p.vm();
    let mut st = State::new(&vm);
    let (r, _) = run(&vm, &mut st, Hook::Input, &mut pkt());
    assert_eq!((r.verdict, r.by), (HookVerdict::Accept, Decider::Rule { chain: base, rule: 1 }));
    assert_eq!((st.counter(c_sub).0, st.counter(c_after).0), (1, 1));
}

#[test]
fn explicit_return_pops_and_return_in_the_base_chain_applies_the_policy() {
    let mut p = P::new();
    let base = p.base(T4, "in", Hook::Input, 0, false);
    let sub = p.chain(T4, "sub");
    let (c_skipped, c_after) = (p.counter(), p.counter());
    p.rule(base, vec![v(Verdict::Jump(sub))]);
    p.rule(base, vec![Op::Counter(c_after), v(Verdict::Return)]);
    p.rule(base, vec![ACCEPT]);
    p.rule(sub, vec![v(Verdict::Return)]);
    p.rule(sub, vec![Op::Counter(c_skipped), DROP]);
    let vm = p.vm();
    let mut st = State::new(&vm);
    let (r, _) = run(&vm, &mut st, Hook::Input, &mut pkt());
    // `return` at the top level: the drop policy, not the accept rule.
    assert_eq!((r.verdict, r.by), (HookVerdict::Drop, Decider::Policy { chain: base }));
    assert_eq!((st.counter(c_skipped).0, st.counter(c_after).0), (0, 1));
}

#[test]
fn goto_does_not_return_to_the_caller() {
    let mut p = P::new();
    let base = p.base(T4, "in", Hook::Input, 0, false);
    let sub = p.chain(T4, "sub");
    let c_after = p.counter();
    p.rule(base, vec![v(Verdict::Goto(sub))]);
    p.rule(base, vec![Op::Counter(c_after), ACCEPT]);
    p.rule(sub, dport(80).to_vec());
    let vm = p.vm();
    let mut st = State::new(&vm);
    let (r, _) = run(&vm, &mut st, Hook::Input, &mut pkt());
    assert_eq!((r.verdict, r.by), (HookVerdict::Drop, Decider::Policy { chain: base }));
    assert_eq!(st.counter(c_after).0, 0);
}

#[test]
fn goto_inside_a_jump_returns_to_the_jumping_chain() {
    let mut p = P::new();
    let base = p.base(T4, "in", Hook::Input, 0, false);
    let (j, g) = (p.chain(T4, "j"), p.chain(T4, "g"));
    let (c_j_after, c_base_after) = (p.counter(), p.counter());
    p.rule(base, vec![v(Verdict::Jump(j))]);
    p.rule(base, vec![Op::Counter(c_base_after), ACCEPT]);
    p.rule(j, vec![v(Verdict::Goto(g))]);
    p.rule(j, vec![Op::Counter(c_j_after)]);
    p.rule(g, vec![meta(0, MetaKey::NfProto, 1), eq(0, &[10])]);
    let vm = p.vm();
    let mut st = State::new(&vm);
    let (r, _) = run(&vm, &mut st, Hook::Input, &mut pkt());
    assert_eq!(r.verdict, HookVerdict::Accept);
    assert_eq!((st.counter(c_j_after).0, st.counter(c_base_after).0), (0, 1));
}

#[test]
fn accept_in_a_jumped_chain_ends_the_base_chain() {
    let mut p = P::new();
    let base = p.base(T4, "in", Hook::Input, 0, false);
    let sub = p.chain(T4, "sub");
    let c_after = p.counter();
    p.rule(base, vec![v(Verdict::Jump(sub))]);
    p.rule(base, vec![Op::Counter(c_after), DROP]);
    p.rule(sub, vec![ACCEPT]);
    let vm = p.vm();
    let mut st = State::new(&vm);
    let (r, _) = run(&vm, &mut st, Hook::Input, &mut pkt());
    assert_eq!((r.verdict, r.by), (HookVerdict::Accept, Decider::Rule { chain: sub, rule: 0 }));
    assert_eq!(st.counter(c_after).0, 0);
}

#[test]
fn continue_goes_on_with_the_next_rule() {
    let mut p = P::new();
    let base = p.base(T4, "in", Hook::Input, 0, false);
    let (c1, c2) = (p.counter(), p.counter());
    p.rule(base, vec![Op::Counter(c1), v(Verdict::Continue)]);
    p.rule(base, vec![Op::Counter(c2), ACCEPT]);
    let vm = p.vm();
    let mut st = State::new(&vm);
    let (r, _) = run(&vm, &mut st, Hook::Input, &mut pkt());
    assert_eq!((r.verdict, r.by), (HookVerdict::Accept, Decider::Rule { chain: base, rule: 1 }));
    assert_eq!((st.counter(c1).0, st.counter(c2).0), (1, 1));
}

#[test]
fn counters_count_when_reached_only() {
    let mut p = P::new();
    let base = p.base(T4, "in", Hook::Input, 0, true);
    let (before, after, third) = (p.counter(), p.counter(), p.counter());
    // counter; tcp dport 80; counter; accept — the second is not reached.
    p.rule(base, [&[Op::Counter(before)], dport(80).as_slice(), &[Op::Counter(after), ACCEPT]].concat());
    p.rule(base, vec![Op::Counter(third), ACCEPT]);
    let vm = p.vm();
    let mut st = State::new(&vm);
    let mut pk = pkt();
    let (r, _) = run(&vm, &mut st, Hook::Input, &mut pk);
    assert_eq!(r.by, Decider::Rule { chain: base, rule: 1 });
    // Bytes are skb->len: the frame minus the Ethernet header.
    let l3 = pk.ctx.len as u64 - 14;
    assert_eq!(st.counter(before), (1, l3));
    assert_eq!(st.counter(after), (0, 0));
    assert_eq!(st.counter(third), (1, l3));
}

#[test]
fn queue_ends_everything() {
    let mut p = P::new();
    let a = p.base(T4, "a", Hook::Forward, 0, true);
    let b = p.base(T4, "b", Hook::Forward, 1, true);
    p.rule(a, vec![v(Verdict::Queue { num: 3, range: 2, bypass: true, fanout: false })]);
    let c = p.counter();
    p.rule(b, vec![Op::Counter(c)]);
    let vm = p.vm();
    let mut st = State::new(&vm);
    let (r, _) = run(&vm, &mut st, Hook::Forward, &mut pkt());
    assert_eq!(r.verdict, HookVerdict::Queue { num: 3, range: 2, bypass: true, fanout: false });
    assert_eq!(st.counter(c).0, 0);
}

#[test]
fn tables_see_only_their_family() {
    let mut p = P::new();
    let c4 = p.base(T4, "c4", Hook::Input, 0, true);
    let c6 = p.base(T6, "c6", Hook::Input, 0, true);
    let ci = p.base(TI, "ci", Hook::Input, 0, true);
    let (n4, n6, ni) = (p.counter(), p.counter(), p.counter());
    p.rule(c4, vec![Op::Counter(n4)]);
    p.rule(c6, vec![Op::Counter(n6)]);
    p.rule(ci, vec![Op::Counter(ni)]);
    let vm = p.vm();
    let mut st = State::new(&vm);
    run(&vm, &mut st, Hook::Input, &mut pkt());
    run(&vm, &mut st, Hook::Input, &mut tcp6(v6(1), v6(2), 22));
    assert_eq!((st.counter(n4).0, st.counter(n6).0, st.counter(ni).0), (1, 1, 2));
    assert_eq!(vm.hook_chains(Hook::Input, 10).collect::<Vec<_>>(), vec![c6, ci]);
}

#[test]
fn reject_drops_and_records_the_answer() {
    let mut p = P::new();
    let a = p.base(T4, "a", Hook::Input, 0, true);
    p.rule(a, vec![Op::Reject(Reject::TcpReset)]);
    let vm = p.vm();
    let mut st = State::new(&vm);
    let (r, act) = run(&vm, &mut st, Hook::Input, &mut pkt());
    assert_eq!(r.verdict, HookVerdict::Drop);
    assert_eq!((act.reject_kind, act.set & ctc_ir::abi::actions::REJECT != 0), (4, true));
}

#[test]
fn verdict_maps_jump_and_a_miss_breaks_the_rule() {
    let mut p = P::new();
    let base = p.base(T4, "in", Hook::Input, 0, false);
    let ssh = p.chain(T4, "ssh");
    let mut s = set("ports", 2, vec![]);
    s.is_map = true;
    s.verdict_map = true;
    s.elements = vec![
        Element { lo: vec![0, 22], hi: vec![0, 22], data: Some(ElementData::Verdict(Verdict::Jump(ssh))) },
        Element { lo: vec![0, 80], hi: vec![0, 80], data: Some(ElementData::Verdict(Verdict::Drop)) },
    ];
    let sid = p.set(s);
    let (c_ssh, c_next) = (p.counter(), p.counter());
    p.rule(base, vec![pl(0, Base::Transport, 2, 2), Op::VerdictMap { src: Reg(0), len: 2, set: sid }]);
    p.rule(base, vec![Op::Counter(c_next), ACCEPT]);
    p.rule(ssh, vec![Op::Counter(c_ssh)]);
    let vm = p.vm();
    let mut st = State::new(&vm);
    // 22: jump ssh, return, next rule accepts.
    let (r, _) = run(&vm, &mut st, Hook::Input, &mut pkt());
    assert_eq!((r.verdict, st.counter(c_ssh).0, st.counter(c_next).0), (HookVerdict::Accept, 1, 1));
    // 80: drop from the map, decided by the vmap rule.
    let (r, _) = run(&vm, &mut st, Hook::Input, &mut tcp4([1, 1, 1, 1], [2, 2, 2, 2], 1, 80));
    assert_eq!((r.verdict, r.by), (HookVerdict::Drop, Decider::Rule { chain: base, rule: 0 }));
    // 443: no element, the rule breaks, the next rule runs.
    let (r, _) = run(&vm, &mut st, Hook::Input, &mut tcp4([1, 1, 1, 1], [2, 2, 2, 2], 1, 443));
    assert_eq!((r.verdict, st.counter(c_next).0), (HookVerdict::Accept, 2));
}

#[test]
fn deep_jumps_up_to_the_limit() {
    let mut p = P::new();
    let base = p.base(T4, "in", Hook::Input, 0, false);
    let mut prev = base;
    let c = p.counter();
    for i in 0..MAX_JUMP_DEPTH - 1 {
        let ch = p.chain(T4, &format!("c{i}"));
        p.rule(prev, vec![v(Verdict::Jump(ch))]);
        prev = ch;
    }
    p.rule(prev, vec![Op::Counter(c)]);
    p.rule(base, vec![ACCEPT]);
    let vm = p.vm();
    let mut st = State::new(&vm);
    let (r, _) = run(&vm, &mut st, Hook::Input, &mut pkt());
    assert_eq!((r.verdict, st.counter(c).0), (HookVerdict::Accept, 1));
}

fn nat_prog() -> (Vm, ChainId, ChainId, ChainId) {
    let mut p = P::new();
    let filter = p.base(T4, "f", Hook::Prerouting, -150, true);
    let n1 = p.base_typed(T4, "n1", ChainType::Nat, Hook::Prerouting, 0, true);
    let n2 = p.base_typed(T4, "n2", ChainType::Nat, Hook::Prerouting, 10, true);
    let c = p.counter();
    p.rule(filter, vec![Op::Counter(c)]);
    p.rule(
        n1,
        [
            dport(22).as_slice(),
            &[
                imm(1, &[10, 0, 0, 5]),
                imm(2, &[0, 2]),
                Op::Nat(Nat {
                    kind: NatKind::Dnat,
                    addr_len: 4,
                    addr_min: Some(Reg(1)),
                    addr_max: None,
                    port_min: Some(Reg(2)),
                    port_max: None,
                    flags: NatFlags { persistent: true, ..NatFlags::default() },
                }),
            ],
        ]
        .concat(),
    );
    p.rule(n1, vec![imm(0, &[0, 0, 0, 9]), Op::MetaSet { key: MetaSetKey::Mark, src: Reg(0) }]);
    p.rule(n2, vec![DROP]);
    (p.vm(), filter, n1, n2)
}

#[test]
fn nat_statement_accepts_and_later_nat_chains_of_the_hook_are_skipped() {
    let (vm, _filter, n1, _n2) = nat_prog();
    let mut st = State::new(&vm);
    let mut pk = pkt();
    pk.ctx.ct.has_entry = 1;
    pk.ctx.ct.state = ctc_ir::abi::ct_state::NEW;
    let (r, a) = run(&vm, &mut st, Hook::Prerouting, &mut pk);
    assert_eq!((r.verdict, r.by), (HookVerdict::Accept, Decider::Rule { chain: n1, rule: 0 }));
    assert_eq!(a.nat.kind, 2);
    assert_eq!(&a.nat.addr_min[..4], &[10, 0, 0, 5]);
    assert_eq!(&a.nat.addr_max[..4], &[10, 0, 0, 5]);
    assert_eq!((a.nat.has_port, a.nat.port_min, a.nat.port_max, a.nat.flags), (1, 2, 2, 8));
    // The mark rule after the NAT statement did not run.
    assert_eq!(a.set & ctc_ir::abi::actions::MARK, 0);

    // No binding made in n1 (port 80): n2 runs and drops.
    let mut web = tcp4([192, 168, 1, 10], [198, 51, 100, 7], 40000, 80);
    web.ctx.ct = pk.ctx.ct;
    let (r, _) = run(&vm, &mut st, Hook::Prerouting, &mut web);
    assert_eq!(r.verdict, HookVerdict::Drop);
}

#[test]
fn nat_chains_run_only_for_new_connections_without_binding() {
    let (vm, filter, _, _) = nat_prog();
    let mut st = State::new(&vm);
    for (has, state, status) in [
        (0, 0, 0),
        (1, ctc_ir::abi::ct_state::ESTABLISHED, 0),
        (1, ctc_ir::abi::ct_state::NEW, ctc_vm::IPS_DST_NAT_DONE),
    ] {
        let mut web = tcp4([192, 168, 1, 10], [198, 51, 100, 7], 40000, 80);
        web.ctx.ct.has_entry = has;
        web.ctx.ct.state = state;
        web.ctx.ct.status = status;
        let (r, _) = run(&vm, &mut st, Hook::Prerouting, &mut web);
        assert_eq!((r.verdict, r.by), (HookVerdict::Accept, Decider::Policy { chain: filter }));
    }
}

#[test]
fn nat_chains_run_at_the_nat_core_priority() {
    // A nat chain declared at priority 0 runs at -100, before a filter
    // chain at -50 (nf_nat_register_fn registers the NAT core hook at
    // NF_IP_PRI_NAT_DST).
    let mut p = P::new();
    let filter = p.base(T4, "f", Hook::Prerouting, -50, true);
    let nat = p.base_typed(T4, "n", ChainType::Nat, Hook::Prerouting, 0, true);
    p.rule(filter, vec![DROP]);
    p.rule(nat, vec![DROP]);
    let vm = p.vm();
    let mut st = State::new(&vm);
    let mut pk = pkt();
    pk.ctx.ct.has_entry = 1;
    pk.ctx.ct.state = ctc_ir::abi::ct_state::NEW;
    let (r, _) = run(&vm, &mut st, Hook::Prerouting, &mut pk);
    assert_eq!(r.by, Decider::Rule { chain: nat, rule: 0 });
}

#[test]
fn run_base_chain_runs_one_chain() {
    let mut p = P::new();
    let a = p.base(T4, "a", Hook::Input, 0, true);
    let b = p.base(T4, "b", Hook::Input, 1, false);
    p.rule(a, vec![DROP]);
    let vm = p.vm();
    let mut st = State::new(&vm);
    let mut pk = pkt();
    let ctx = pk.ctx;
    let mut act = ctc_ir::abi::Actions::default();
    let r = vm.run_base_chain(&mut st, &NoHost, Hook::Input, &mut pk.bytes, &ctx, &mut act, b);
    assert_eq!(r, (ChainVerdict::Drop, Decider::Policy { chain: b }));
}

#[test]
fn reload_carries_dynamic_sets_over() {
    let build = |extra_rule: bool| {
        let mut p = P::new();
        let a = p.base(T4, "a", Hook::Input, 0, true);
        let mut s = set("seen", 4, vec![]);
        s.dynamic = true;
        let sid = p.set(s);
        p.rule(
            a,
            vec![
                pl(0, Base::Network, 12, 4),
                Op::SetUpdate { set: sid, src: Reg(0), len: 4, delete: false, timeout_ms: None, limit: None },
            ],
        );
        if extra_rule {
            p.rule(a, vec![ACCEPT]);
        }
        (p.vm(), sid)
    };
    let (old_vm, sid) = build(false);
    let mut old = State::new(&old_vm);
    run(&old_vm, &mut old, Hook::Input, &mut pkt());
    let (new_vm, _) = build(true);
    let st = State::adopt(&new_vm, &old, &old_vm);
    assert_eq!(st.set_elements(sid, 0), vec![(vec![192, 168, 1, 10], None)]);
}
