//! Lowering to the IR, end to end from source text: snapshots of the IR
//! text of representative rules (compared by hand with `nft
//! --debug=netlink`), the constructs that are E6001, and broad checks that
//! every example and every corpus dump either verifies or fails only with
//! E6001 — never a verifier error, never a panic.

use ctc_grammar::{Diagnostic, FileId, SourceMap, Span, parse_script};
use ctc_ir::{CmpOp, Op};
use ctc_sema::{Loader, Options, analyze, lower::lower};
use std::path::{Path, PathBuf};

struct NoIncludes;

impl Loader for NoIncludes {
    fn include(&mut self, _: FileId, pattern: &str, span: Span) -> Result<Vec<(FileId, String)>, Diagnostic> {
        Err(Diagnostic::error("E5001", format!("no include {pattern}")).with_label(span, "not found"))
    }
}

/// Check and lower `src`; `Err` holds the diagnostics (check errors are a
/// test failure: every input here must be valid nftables).
fn compile(name: &str, src: &str) -> Result<ctc_ir::VerifiedProgram, Vec<Diagnostic>> {
    let mut sources = SourceMap::new();
    let file = sources.add(name, src);
    let script = parse_script(file, src).unwrap_or_else(|d| panic!("syntax error in {name}: {d:?}"));
    let a = analyze(&script, file, &mut NoIncludes, &Options::default());
    let errors: Vec<_> = a.diagnostics.iter().filter(|d| d.is_error()).collect();
    assert!(errors.is_empty(), "check errors in {name}:\n{src}\n{errors:#?}");
    let program = lower(&a.program, &sources)?;
    Ok(ctc_ir::verify(program).unwrap_or_else(|e| panic!("{name}: the lowered program does not verify: {e}")))
}

fn ir_text(src: &str) -> String {
    match compile("t.nft", src) {
        Ok(p) => ctc_ir::text::program(&p),
        Err(d) => panic!("lowering failed:\n{src}\n{d:#?}"),
    }
}

/// A one-chain ruleset of `family` with `rules` in a filter input chain.
fn chain(family: &str, rules: &str) -> String {
    format!(
        "table {family} t {{\n chain c {{\n  type filter hook input priority filter; policy accept;\n{rules}\n }}\n}}\n"
    )
}

/// The codes `src` fails with.
fn fail_codes(src: &str) -> Vec<&'static str> {
    match compile("t.nft", src) {
        Ok(_) => Vec::new(),
        Err(d) => d.iter().map(|d| d.code).collect(),
    }
}

macro_rules! snap {
    ($name:ident, $src:expr) => {
        #[test]
        fn $name() {
            insta::assert_snapshot!(ir_text(&$src));
        }
    };
}

snap!(tcp_dport, chain("inet", "tcp dport 22 accept"));
snap!(port_set, chain("inet", "tcp dport { 22, 80, 443 } accept"));
snap!(
    ct_state_established_related,
    chain("inet", "ct state established,related accept\nct state == new\nct state != invalid")
);
snap!(
    iifname_wildcard,
    chain("inet", "iifname \"eth*\" accept\niifname != \"wg*\" drop\noifname { \"lan*\", \"lo\" }")
);
snap!(ip_saddr_prefix, chain("ip", "ip saddr 10.0.0.0/8 accept\nip saddr != 192.168.0.0/23 drop\nip daddr 0.0.0.0/0"));
snap!(concat_set_lookup, chain("inet", "ip saddr . tcp dport { 10.0.0.1 . 22, 192.168.0.0/16 . 80-90 } accept"));
snap!(
    vmap_jump,
    "table inet t {\n chain c {\n  type filter hook input priority filter; policy drop;\n  tcp dport vmap { 22 : jump ssh, 80 : accept, * : drop }\n }\n chain ssh {\n  ip saddr 10.0.0.0/8 accept\n }\n}\n"
);
snap!(
    dnat_with_port,
    "table ip nat {\n chain pre {\n  type nat hook prerouting priority dstnat;\n  iifname \"wan0\" tcp dport 8080 dnat to 192.0.2.10:80\n  udp dport 53 dnat to 192.0.2.53\n }\n}\n"
);
snap!(
    masquerade,
    "table inet nat {\n chain post {\n  type nat hook postrouting priority srcnat;\n  oifname \"wan0\" masquerade\n  meta l4proto tcp masquerade to :1024-65535 random\n }\n}\n"
);
snap!(
    snat_range,
    "table ip nat {\n chain post {\n  type nat hook postrouting priority srcnat;\n  ip saddr 10.0.0.0/8 meta l4proto tcp snat to 198.51.100.1-198.51.100.10:2000-3000\n  snat to 203.0.113.0/24 persistent\n }\n}\n"
);
snap!(meta_mark_set, chain("inet", "meta mark set 0x10\nmeta mark set meta mark & 0xffff0000 | 0x2a"));
snap!(ct_mark_set_from_meta_mark, chain("inet", "ct mark set meta mark\nct mark 0x1 meta mark set ct mark"));
snap!(limit, chain("inet", "limit rate 10/second accept\nlimit rate over 1 mbytes/second burst 512 kbytes drop"));
snap!(log_prefix, chain("inet", "log prefix \"in: \" level info\nlog group 2"));
snap!(
    reject_tcp_reset,
    chain(
        "inet",
        "reject with tcp reset\nreject\nreject with icmp host-unreachable\nreject with icmpx admin-prohibited"
    )
);
snap!(counter, chain("inet", "counter\ntcp dport 22 counter packets 3 bytes 180 accept"));
snap!(ip_dscp, chain("inet", "ip dscp cs1\nip dscp { cs1, ef }\nip6 dscp != 0x2e\nip dscp set af41"));
snap!(ip6_daddr_in_inet, chain("inet", "ip6 daddr ::1 accept\nmeta nfproto ipv6 ip6 saddr fe80::/10 accept"));
snap!(fib_daddr_type_local, chain("inet", "fib daddr type local accept\nfib daddr . iif oif missing drop"));
snap!(
    numgen,
    "table ip nat {\n chain pre {\n  type nat hook prerouting priority dstnat;\n  dnat to numgen inc mod 2 map { 0 : 192.0.2.1, 1 : 192.0.2.2 }\n }\n}\n"
);
snap!(
    tcp_flags,
    chain(
        "inet",
        "tcp flags syn / syn,ack\ntcp flags & (syn | ack) == syn | ack\ntcp flags ! fin,rst\ntcp flags == syn"
    )
);
snap!(
    named_sets_and_maps,
    "table inet t {\n set allow {\n  type ipv4_addr . inet_service\n  flags interval\n  elements = { 10.0.0.0/8 . 22, 192.0.2.1 . 1000-2000 }\n }\n map targets {\n  type inet_service : ipv4_addr . inet_service\n  elements = { 80 : 192.0.2.10 . 8080 }\n }\n set seen {\n  type ipv6_addr\n  flags dynamic,timeout\n  timeout 1m\n }\n chain c {\n  type filter hook input priority filter;\n  ip saddr . tcp dport @allow accept\n  ip saddr . tcp dport != @allow drop\n  ip6 saddr != @seen update @seen { ip6 saddr }\n }\n chain n {\n  type nat hook prerouting priority dstnat;\n  meta l4proto tcp dnat ip to tcp dport map @targets\n }\n}\n"
);
snap!(
    misc_matches,
    chain(
        "inet",
        "meta l4proto tcp tcp dport 22\nip protocol udp udp dport 53\nmeta hour \"22:00\"-\"06:00\" drop\ntcp dport != 1000-2000\nexthdr frag exists\ntcp option maxseg size 1400-1500\niif \"lo\" accept\nct original ip saddr 10.0.0.1\nnotrack"
    )
);
snap!(
    ct_helper_set,
    "table inet t {\n ct helper ftp-std {\n  type \"ftp\" protocol tcp\n }\n chain c {\n  type filter hook forward priority filter;\n  tcp dport 21 ct helper set \"ftp-std\"\n }\n}\n"
);
snap!(
    payload_set,
    chain(
        "inet",
        "tcp dport set 8080\nip saddr set 10.0.0.1\nip ttl set 64\njhash ip saddr . ip daddr mod 4 seed 0xdead 1"
    )
);

/// Flag lists on ct state lower as nft 1.0.6 lowers them (`nft
/// --debug=netlink`, and nft 1.1.6 lists the `!=` form back as `ct state
/// != established | related`): no operator is a bit test, `==` and `!=`
/// compare the whole value with the OR of the states, `!` is "none set".
/// The kernel agrees (a namespace: `ct state != established,related drop`
/// drops the echo reply of a ping, `ct state ! established,related drop`
/// lets it through).
#[test]
fn ct_state_flag_lists_lower_as_nft_does() {
    for (rule, want) in [
        ("ct state established,related", ["& 0x00000006 ^ 0x00000000", "cmp r0 != 0x00000000"].as_slice()),
        ("ct state != established,related", &["cmp r0 != 0x00000006"]),
        ("ct state != established | related", &["cmp r0 != 0x00000006"]),
        ("ct state == established,related", &["cmp r0 == 0x00000006"]),
        ("ct state ! established,related", &["& 0x00000006 ^ 0x00000000", "cmp r0 == 0x00000000"]),
    ] {
        let text = ir_text(&chain("inet", rule));
        let ops: Vec<&str> = text
            .lines()
            .map(str::trim)
            .skip_while(|l| !l.starts_with("rule 0"))
            .skip(2)
            .filter(|l| l.starts_with("r0 = r0") || l.starts_with("cmp"))
            .collect();
        assert_eq!(ops.len(), want.len(), "{rule}:\n{text}");
        for (got, w) in ops.iter().zip(want) {
            assert!(got.ends_with(w), "{rule}: `{got}` should end with `{w}`\n{text}");
        }
    }
}

#[test]
fn dependencies_are_not_repeated() {
    let p = compile("t.nft", &chain("inet", "meta l4proto tcp tcp dport 22 tcp sport 1024-65535")).unwrap();
    let ops = &p.chains[0].rules[0].ops;
    let l4 = ops.iter().filter(|o| matches!(o, Op::Meta { key: ctc_ir::MetaKey::L4Proto, .. })).count();
    assert_eq!(l4, 1, "{ops:#?}");
    // Network fields in ip tables need no nfproto check.
    let p = compile("t.nft", &chain("ip", "ip saddr 10.0.0.1 tcp dport 22")).unwrap();
    let ops = &p.chains[0].rules[0].ops;
    assert!(!ops.iter().any(|o| matches!(o, Op::Meta { key: ctc_ir::MetaKey::NfProto, .. })), "{ops:#?}");
}

#[test]
fn wildcard_is_a_short_compare() {
    let p = compile("t.nft", &chain("inet", "iifname \"eth*\"")).unwrap();
    let ops = &p.chains[0].rules[0].ops;
    assert_eq!(ops.len(), 2);
    assert!(matches!(&ops[1], Op::Cmp { op: CmpOp::Eq, data, .. } if data == b"eth"));
}

#[test]
fn rules_carry_their_location_and_counter() {
    let p = compile("fw.nft", &chain("inet", "tcp dport 22 counter accept")).unwrap();
    let r = &p.chains[0].rules[0];
    assert_eq!((r.loc.file.as_str(), r.loc.line), ("fw.nft", 4));
    assert_eq!(r.counter, Some(ctc_ir::CounterId(0)));
}

#[test]
fn not_executable_constructs_are_e6001() {
    let cases = [
        "table bridge b {\n chain c {\n  type filter hook input priority 0;\n }\n}\n".to_string(),
        "table netdev n {\n}\n".to_string(),
        "table arp a {\n}\n".to_string(),
        chain("inet", "osf name \"Linux\" accept"),
        chain("inet", "meta cgroup 1 accept"),
        chain("inet", "meta cgroup 1"),
        chain("inet", "socket transparent 1 accept"),
        chain("inet", "rt mtu 1500"),
        chain("inet", "ct count over 10 drop"),
        chain("ip", "dup to 10.0.0.1"),
        chain("inet", "ip option ra exists"),
        chain("inet", "sctp chunk data exists"),
        chain("inet", "udp dport 4789 vxlan ip saddr 10.0.0.1"),
        "table inet t {\n flowtable ft {\n  hook ingress priority 0; devices = { lo };\n }\n}\n".to_string(),
        "table inet t {\n quota q {\n  over 1 mbytes\n }\n chain c {\n  quota name \"q\"\n }\n}\n".to_string(),
        "table inet t {\n set s {\n  type ipv4_addr\n  flags dynamic\n }\n chain c {\n  type filter hook input priority 0;\n  update @s { ip saddr counter }\n }\n}\n".to_string(),
        "table inet t {\n set s {\n  type ipv4_addr\n  flags dynamic\n }\n chain c {\n  type filter hook input priority 0;\n  update @s { ip saddr limit rate 1/second quota 1 mbytes }\n }\n}\n".to_string(),
    ];
    for src in cases {
        let codes = fail_codes(&src);
        assert!(!codes.is_empty() && codes.iter().all(|c| *c == "E6001"), "expected E6001 for:\n{src}\ngot {codes:?}");
    }
    // The message names the construct, and the label points at it.
    let src = chain("inet", "tcp dport 22 osf name \"Linux\" accept");
    let d = compile("t.nft", &src).unwrap_err();
    assert!(d[0].message.contains("osf"), "{}", d[0].message);
    let l = d[0].labels[0].span;
    assert_eq!(&src[l.start as usize..l.end as usize], "osf name");
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Examples whose constructs the runtime cannot execute yet: (file, why).
const EXAMPLES_NOT_EXECUTABLE: &[(&str, &str)] = &[];

#[test]
fn examples_lower_and_verify() {
    let dir = workspace().join("examples");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).expect("examples/") {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "nft") {
            continue;
        }
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let text = std::fs::read_to_string(&path).unwrap();
        match compile(&name, &text) {
            Ok(p) => assert!(!p.chains.is_empty(), "{name}: no chains"),
            Err(d) => {
                let known = EXAMPLES_NOT_EXECUTABLE.iter().any(|(f, _)| *f == name);
                assert!(
                    known && d.iter().all(|d| d.code == "E6001"),
                    "{name} does not lower:\n{}",
                    d.iter().map(|d| format!("{}: {}", d.code, d.message)).collect::<Vec<_>>().join("\n")
                );
            }
        }
        n += 1;
    }
    assert!(n >= 3, "found {n} examples");
}

/// Every dump of the corpus that checks cleanly either lowers and verifies
/// or fails only with E6001; never a verifier error or a panic.
#[test]
fn corpus_dumps_lower_or_are_e6001() {
    let dir = workspace().join("../shared/corpus/nftables/dumps");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        eprintln!("skipped: {} is absent", dir.display());
        return;
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    let (mut ok, mut e6001, mut skipped) = (0, 0, 0);
    let mut bad = Vec::new();
    for path in paths {
        let Ok(text) = std::fs::read_to_string(&path) else { continue };
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let result = std::panic::catch_unwind(|| {
            let mut sources = SourceMap::new();
            let file = sources.add(&name, text.as_str());
            let Ok(script) = parse_script(file, &text) else { return Err(None) };
            let a = analyze(&script, file, &mut NoIncludes, &Options::default());
            if a.has_errors() {
                return Err(None);
            }
            match lower(&a.program, &sources) {
                Ok(p) => ctc_ir::verify(p).map(|_| ()).map_err(|e| Some(format!("verify: {e}"))),
                Err(d) if d.iter().all(|d| d.code == "E6001") => Err(Some(String::new())),
                Err(d) => {
                    Err(Some(d.iter().map(|d| format!("{}: {}", d.code, d.message)).collect::<Vec<_>>().join("; ")))
                }
            }
        });
        match result {
            Ok(Ok(())) => ok += 1,
            Ok(Err(None)) => skipped += 1,
            Ok(Err(Some(m))) if m.is_empty() => e6001 += 1,
            Ok(Err(Some(m))) => bad.push(format!("{name}: {m}")),
            Err(_) => bad.push(format!("{name}: panic")),
        }
    }
    eprintln!("corpus dumps: {ok} verified, {e6001} E6001, {skipped} not checked cleanly");
    assert!(bad.is_empty(), "{} dumps failed:\n{}", bad.len(), bad.join("\n"));
    assert!(ok > 100, "only {ok} dumps lowered");
}

/// A per-element `limit` in a dynamic set update (the per-source rate limit
/// of examples/public-server.nft) lowers to one `SetUpdate` carrying its
/// own limit definition.
#[test]
fn per_element_limit_lowers() {
    let src = "table inet t {\n set s {\n  type ipv4_addr\n  flags dynamic,timeout\n  timeout 2m\n }\n chain c {\n  type filter hook input priority 0;\n  tcp dport 22 update @s { ip saddr limit rate over 4/minute burst 2 packets } drop\n }\n}\n";
    let p = compile("t.nft", src).expect("lowers");
    let ops = &p.chains[0].rules[0].ops;
    let limit = ops.iter().find_map(|o| match o {
        ctc_ir::Op::SetUpdate { limit, timeout_ms, .. } => Some((*limit, *timeout_ms)),
        _ => None,
    });
    let (Some(id), Some(120_000)) = limit.expect("a set update") else { panic!("{ops:?}") };
    let d = &p.limits[id.index()];
    assert_eq!((d.rate, d.per_secs, d.burst, d.over, d.bytes), (4, 60, 2, true, false));
}

#[test]
fn numbers_with_a_leading_zero_are_octal_as_nft_reads_them() {
    // Measured with nft 1.0.6 (`nft list ruleset` after loading): `tcp
    // dport 010` is port 8, `ip length 010-020` 8-16, `meta mark set 010`
    // 0x8, a quoted "010" 8 too; a port `08` (no octal number) is 8.
    let pairs = [
        ("tcp dport 010 accept", "tcp dport 8 accept"),
        ("ip length 010-020 accept", "ip length 8-16 accept"),
        ("meta mark set 010", "meta mark set 8"),
        ("tcp dport \"010\" accept", "tcp dport 8 accept"),
        ("tcp dport { 010, 011 } accept", "tcp dport { 8, 9 } accept"),
        ("udp sport 0123 accept", "udp sport 83 accept"),
        ("tcp dport 08 accept", "tcp dport 8 accept"),
    ];
    for (octal, decimal) in pairs {
        assert_eq!(ir_text(&chain("ip", octal)), ir_text(&chain("ip", decimal)), "{octal}");
    }
    assert_ne!(ir_text(&chain("ip", "tcp dport 010 accept")), ir_text(&chain("ip", "tcp dport 10 accept")));
}

#[test]
fn a_later_block_gives_a_base_chain_its_policy() {
    // nft takes `chain c { policy drop; }` after the block with the hook
    // (measured, nft 1.0.6): the chain's policy becomes drop.
    let two = "table ip t {\n chain c {\n  type filter hook input priority filter;\n }\n}\ntable ip t {\n chain c {\n  policy drop;\n }\n}\n";
    let one = "table ip t {\n chain c {\n  type filter hook input priority filter; policy drop;\n }\n}\n";
    let accept = "table ip t {\n chain c {\n  type filter hook input priority filter; policy accept;\n }\n}\n";
    assert_eq!(ir_text(two), ir_text(one));
    assert_ne!(ir_text(two), ir_text(accept));
}
