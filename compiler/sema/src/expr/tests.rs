//! Unit tests of match expressions, and the corpus harness over nftables'
//! own rule tests (`tests/py/*/*.t`): every `ok` rule must be accepted and
//! every `fail` rule rejected, in every table the file declares.
//!
//! Run the harness with its report:
//! `cargo test -p ctc-sema corpus_py -- --nocapture`.

use crate::cx::{ChainCtx, RuleCx, TableSymbols};
use crate::hir::{ChainType, ExprType, Family, Hook, KeyType, MapData, Set};
use ctc_grammar::ast::{Command, Object, SetLit, Term};
use ctc_grammar::{Diagnostic, FileId, Span};
use ctc_proto::Ty;
use std::collections::HashMap;

fn family(s: &str) -> Option<Family> {
    Family::from_name(s)
}

fn parse_rule_terms(fam: &str, rule: &str) -> Result<Vec<Term>, Diagnostic> {
    let src = format!("add rule {fam} t c {rule}\n");
    let script = ctc_grammar::parse_script(FileId(0), &src)?;
    for Command { object, .. } in script.items {
        if let Object::Rule { rule: Some(r), .. } = object {
            return Ok(r.terms);
        }
    }
    Err(Diagnostic::error("E0003", "no rule"))
}

fn parse_elements(elems: &str) -> Option<SetLit> {
    let src = format!("add element ip t s {{ {elems} }}\n");
    let script = ctc_grammar::parse_script(FileId(0), &src).ok()?;
    script.items.into_iter().find_map(|c| match c.object {
        Object::Element { elements, .. } => Some(elements),
        _ => None,
    })
}

fn table(fam: Family, sets: &[Set], chains: &[(String, Option<(ChainType, Hook)>)]) -> TableSymbols {
    TableSymbols {
        family_name: fam.name(),
        name: "test".into(),
        sets: sets.iter().map(|s| (s.name.clone(), s.clone())).collect(),
        chains: chains.iter().map(|(n, b)| (n.clone(), (Span::default(), *b))).collect(),
        ..TableSymbols::default()
    }
}

/// Check `rule` in a table of `fam` with the given sets; return the
/// diagnostics (errors and warnings), or the syntax error.
fn check(fam: Family, base: Option<(ChainType, Hook)>, tab: &TableSymbols, rule: &str) -> Vec<Diagnostic> {
    let terms = match parse_rule_terms(fam.name(), rule) {
        Ok(t) => t,
        Err(d) => return vec![d],
    };
    let mut diags = Vec::new();
    let span = terms.first().map_or(Span::default(), |f| f.span.to(terms.last().map_or(f.span, |l| l.span)));
    let mut cx = RuleCx::new(fam, tab, ChainCtx { name: "c".into(), base }, &mut diags);
    let _ = crate::rule::check_rule(&mut cx, &terms, span);
    diags
}

fn errors(fam: Family, rule: &str) -> Vec<Diagnostic> {
    let mut sets = vec![
        mkset("blocklist", vec![KeyType { ty: Ty::Ipv4Addr, bits: 32 }], None),
        mkset("ports", vec![KeyType { ty: Ty::InetService, bits: 16 }], None),
        mkset("vm", vec![KeyType { ty: Ty::InetService, bits: 16 }], Some(MapData::Verdict)),
    ];
    sets[0].flags.push("interval".into());
    let tab = table(fam, &sets, &[("other".into(), None), ("input".into(), Some((ChainType::Filter, Hook::Input)))]);
    check(fam, Some((ChainType::Filter, Hook::Input)), &tab, rule).into_iter().filter(|d| d.is_error()).collect()
}

fn mkset(name: &str, key: Vec<KeyType>, data: Option<MapData>) -> Set {
    Set {
        name: name.into(),
        span: Span::default(),
        is_map: data.is_some(),
        key,
        data,
        flags: Vec::new(),
        timeout_ms: None,
        size: None,
        elements: Vec::new(),
        comment: None,
        counter: false,
        auto_merge: false,
    }
}

#[track_caller]
fn ok(fam: &str, rule: &str) {
    let e = errors(family(fam).unwrap_or(Family::Inet), rule);
    assert!(e.is_empty(), "`{rule}` in {fam}: unexpected errors {:#?}", e);
}

#[track_caller]
fn fails(fam: &str, rule: &str, code: &str) {
    let e = errors(family(fam).unwrap_or(Family::Inet), rule);
    assert!(!e.is_empty(), "`{rule}` in {fam}: accepted, expected {code}");
    assert_eq!(e[0].code, code, "`{rule}` in {fam}: {:#?}", e[0]);
    assert!(!e[0].labels.is_empty(), "no label: {:#?}", e[0]);
}

#[test]
fn payload_matches() {
    ok("inet", "tcp dport 22");
    ok("inet", "tcp dport { 22, 80, 443 }");
    ok("inet", "tcp dport != 1024-65535");
    ok("ip", "ip saddr 10.0.0.0/8 ip daddr 192.168.0.1-192.168.0.9");
    ok("ip6", "ip6 daddr dead::beef/64");
    ok("arp", "arp saddr ip 1.2.3.4");
    ok("bridge", "vlan id 4094 vlan pcp 3");
    ok("inet", "udp dport 4789 vxlan ip saddr 10.0.0.1");
    ok("inet", "gre ip saddr . gre ip daddr { 1.2.3.4 . 4.3.2.1 }");
    ok("inet", "th dport 53");
    ok("inet", "@nh,8,8 0x10");
    ok("inet", "ip saddr . tcp dport { 10.0.0.1 . 22, 10.0.0.2 . 80 }");
    ok("inet", "tcp flags & (fin | syn) == syn");
    ok("inet", "tcp flags syn,ack");
    ok("inet", "tcp flags ! fin,rst");
    ok("inet", "tcp flags syn / syn,ack");
    ok("ip", "ip saddr & 0.0.0.255 < 0.0.0.127");
}

#[test]
fn other_selectors() {
    ok("inet", "meta l4proto tcp");
    ok("inet", "iifname \"eth0\"");
    ok("inet", "iifname eth*");
    ok("inet", "meta mark and 0x03 == 0x01");
    ok("inet", "ct state established,related");
    ok("inet", "ct original ip saddr 1.2.3.4");
    ok("ip", "ct original saddr 1.2.3.4");
    ok("inet", "ct expiration 30s");
    ok("inet", "ct helper \"ftp\"");
    ok("inet", "fib daddr type local");
    ok("inet", "fib saddr . iif oif missing");
    ok("inet", "fib saddr . iif check missing");
    ok("inet", "fib daddr . mark type unicast");
    ok("ip", "rt nexthop 192.168.0.1");
    ok("inet", "rt ip6 nexthop dead::1");
    ok("inet", "rt ipsec exists");
    ok("inet", "socket transparent 1");
    ok("inet", "socket cgroupv2 level 1 \"user.slice\"");
    ok("inet", "osf ttl skip version \"Linux:3.0\"");
    ok("inet", "ipsec out spnum 2 ip saddr 1.2.3.4");
    ok("inet", "numgen inc mod 2 offset 100 101");
    ok("ip", "jhash ip saddr . ip daddr mod 2 seed 0xdeadbeef offset 100 0");
    ok("inet", "symhash mod 2 1");
    ok("ip6", "exthdr frag exists");
    ok("ip6", "frag more-fragments 1");
    ok("ip6", "rt0 addr[1] ::1");
    ok("ip6", "srh sid[2] ::1");
    ok("inet", "tcp option maxseg size 1360");
    ok("inet", "tcp option sack-perm missing");
    ok("inet", "tcp option sack0 left 1");
    ok("ip", "ip option rr ptr 4");
    ok("inet", "sctp chunk data flags 2");
    ok("inet", "sctp chunk init exists");
    ok("inet", "meta hour \"17:00\"-\"19:00\"");
    ok("inet", "meta day \"Saturday\"");
    ok("inet", "meta time \"2019-06-06 17:00\"");
    ok("inet", "ip saddr @blocklist");
    ok("inet", "meta priority bcad:dadc");
}

#[test]
fn value_errors() {
    fails("bridge", "vlan id 4096", "E2002");
    fails("inet", "tcp dport foo", "E2001");
    fails("inet", "ct state establishd", "E2001");
    fails("ip", "ct original saddr ::1", "E2003");
    fails("ip", "ip saddr 10.0.0.0/33", "E2004");
    fails("inet", "tcp dport 30-20", "E2005");
    fails("inet", "iifname \"\"", "E2006");
    fails("inet", "meta hour \"24:00\"", "E2002");
    fails("inet", "ip protocol 256", "E2002");
    fails("inet", "tcp dport 22,23", "E2013");
    fails("inet", "tcp dport < { 1, 2 }", "E2013");
    fails("inet", "ipsec in spnum 256 reqid 1", "E2002");
    fails("inet", "tcp dport", "E2014");
    fails("inet", "tcp foo 1", "E2010");
    fails("inet", "meta foo 1", "E2010");
    fails("inet", "bogus 1", "E2011");
}

#[test]
fn references() {
    fails("inet", "ip saddr @nosuch", "E1003");
    ok("inet", "tcp dport @vm");
    fails("inet", "tcp dport map @ports", "E1015");
    fails("inet", "tcp dport vmap @ports", "E1015");
    fails("inet", "tcp dport vmap { 22 : jump nowhere }", "E1002");
    ok("inet", "tcp dport vmap { 22 : jump other, 23 : drop, * : accept }");
    ok("inet", "tcp dport vmap @vm");
    let e = errors(Family::Inet, "ip saddr @blocklst");
    assert_eq!(e[0].code, "E1003");
    assert!(e[0].message.contains("inet test"), "{}", e[0].message);
    assert_eq!(e[0].help.as_deref(), Some("did you mean `blocklist`?"));
}

#[test]
fn protocol_context() {
    fails("ip", "ip6 daddr ::1", "E3002");
    fails("inet", "arp operation request", "E3002");
    fails("inet", "ip saddr 1.1.1.1 ip6 daddr ::1", "E3001");
    fails("inet", "meta l4proto udp tcp dport 22", "E3001");
    fails("inet", "meta nfproto ipv6 ip saddr 1.2.3.4", "E3001");
    fails("inet", "vxlan vni 10", "E3003");
    fails("bridge", "ether type ip vlan id 1", "E3001");
    fails("inet", "ct original saddr 1.2.3.4", "E3003");
    ok("inet", "meta nfproto ipv4 ct original saddr 1.2.3.4");
    ok("inet", "ip protocol tcp tcp dport 22");
    ok("bridge", "ether type 8021ad vlan id 1 vlan type 8021q vlan id 2 vlan type ip ip protocol 6");
    let e = errors(Family::Inet, "ip saddr 1.1.1.1 ip6 daddr ::1");
    assert!(e[0].labels.iter().any(|l| !l.primary), "secondary label at the earlier match");
}

/// Sets of transport protocols (nft `proto_ctx` with several protocols,
/// checked against `nft -c` 1.0.6): ports and NAT are fine, a header of
/// one protocol conflicts with the others.
#[test]
fn protocol_sets() {
    ok("inet", "meta l4proto { tcp, udp } th dport 22");
    ok("inet", "meta l4proto { tcp, tcp } tcp dport 22");
    ok("inet", "meta l4proto { tcp } tcp dport 22");
    ok("inet", "meta l4proto != { tcp, udp } tcp dport 22");
    ok("inet", "meta l4proto icmp th dport 1");
    fails("inet", "meta l4proto { tcp, udp } tcp dport 22", "E3001");
    fails("inet", "ip protocol { tcp, udp } udp dport 22", "E3001");
    fails("inet", "meta l4proto tcp meta l4proto { tcp, udp } tcp dport 22", "E3001");
    fails("ip", "meta l4proto { 6, 17 } tcp dport 1", "E3001");
}

/// Constants inside a concatenation take the key types of the set they
/// are looked up in.
#[test]
fn concat_constants() {
    let sets =
        vec![mkset("s", vec![KeyType { ty: Ty::Ipv4Addr, bits: 32 }, KeyType { ty: Ty::Ifname, bits: 128 }], None)];
    let tab = table(Family::Ip, &sets, &[]);
    let base = Some((ChainType::Filter, Hook::Input));
    let errs = |r: &str| check(Family::Ip, base, &tab, r).into_iter().filter(Diagnostic::is_error).collect::<Vec<_>>();
    assert!(errs("ip saddr . \"lo\" @s").is_empty());
    assert_eq!(errs("ip saddr . 1.2.3.4 @s")[0].code, "E2003");
    assert_eq!(errs("ip saddr . \"lo\" accept")[0].code, "E2014");
    assert_eq!(errs("ip saddr . \"lo\" . \"x\" @s")[0].code, "E2007");
}

#[test]
fn element_statements() {
    let key = ExprType::Scalar(KeyType { ty: Ty::Ipv4Addr, bits: 32 });
    let tab = table(Family::Ip, &[], &[]);
    let run = |elems: &str, data: Option<&ExprType>| {
        let lit = parse_elements(elems).expect("parses");
        let mut diags = Vec::new();
        let mut cx = RuleCx::new(Family::Ip, &tab, ChainCtx { name: String::new(), base: None }, &mut diags);
        let out = super::check_elements(&mut cx, &lit, &key, data);
        (out, diags)
    };
    let (out, d) = run("1.1.1.1 limit rate 10/second counter, 2.2.2.2 counter packets 0 bytes 0", None);
    assert!(d.is_empty(), "{d:#?}");
    assert_eq!(out[0].stmts.len(), 2);
    let (_, d) = run("1.1.1.1 timeout 1s quota 10 mbytes comment \"x\"", None);
    assert!(d.is_empty(), "{d:#?}");
    let (_, d) = run("1.1.1.1 accept", None);
    assert_eq!(d[0].code, "E2012");
    let (out, d) = run("1.1.1.1 counter packets 0 bytes 0 : accept", Some(&ExprType::Verdict));
    assert!(d.is_empty(), "{d:#?}");
    assert_eq!(out[0].stmts.len(), 1);
}

#[test]
fn typeof_expressions() {
    let tab = table(Family::Netdev, &[], &[]);
    for (src, n) in [("vxlan ip saddr . vxlan ip daddr", 2), ("interval ip daddr . tcp dport", 2), ("queue", 1)] {
        let terms = parse_rule_terms("netdev", src).expect("parses");
        let mut diags = Vec::new();
        let mut cx = RuleCx::new(Family::Netdev, &tab, ChainCtx { name: String::new(), base: None }, &mut diags);
        let mut cur = crate::cursor::Cursor::new(&terms, Span::default());
        let e = super::parse_typeof(&mut cx, &mut cur);
        assert!(cur.at_end());
        let e = e.unwrap_or_else(|| panic!("{src}: {diags:#?}"));
        let len = match e.ty {
            ExprType::Concat(k) => k.len(),
            _ => 1,
        };
        assert_eq!(len, n, "{src}");
    }
}

#[test]
fn never_panics_on_odd_input() {
    for r in [
        "(((((((((((((((((((((((((((((((((((tcp dport)))))))))))))))))))))))))))))))))) 1",
        "tcp dport { { { { { { { { { { { { { { { { { { { { { { { { { { { { { 1 } } } } } } } } } } } } } } } } } } } } } } } } } } } } }",
        "@nh,99999999999999999999999,8 1",
        "@nh,0,0 1",
        "meta mark 0xffffffffffffffffffffffffffffffffffffffff",
        "meta mark 1 << 200",
        "numgen inc mod 0",
        "jhash mod 2",
        "tcp option",
        "ct",
        "fib",
        "rt0 addr[0] ::1",
        "ip saddr . . ip daddr",
        "meta time \"9999-99-99 99:99\"",
        "tcp flags / syn",
        "ip saddr vmap { 1.1.1.1-1.1.1.9 : accept, 1.1.1.5 : drop }",
    ] {
        let _ = errors(Family::Inet, r);
    }
}

// ------------------------------------------------------------------ corpus

#[derive(Default)]
struct Stats {
    ok_total: usize,
    ok_accepted: usize,
    ok_stmt_blocked: usize,
    fail_total: usize,
    fail_rejected: usize,
    elem_ok: (usize, usize),
    elem_fail: (usize, usize),
    ok_failures: Vec<String>,
    fail_failures: Vec<String>,
}

/// Words that begin statements (owned by the statement module): an `ok`
/// rule whose first error is at one of these is blocked on statements.
const STMT_WORDS: &[&str] = &[
    "accept",
    "drop",
    "continue",
    "return",
    "jump",
    "goto",
    "queue",
    "counter",
    "log",
    "limit",
    "reject",
    "snat",
    "dnat",
    "masquerade",
    "redirect",
    "notrack",
    "quota",
    "dup",
    "fwd",
    "tproxy",
    "synproxy",
    "flow",
    "add",
    "update",
    "delete",
    "last",
    "set",
    "ct",
    "meta",
    "secmark",
];

fn set_decl(spec: &str, name: &str, fam: &str) -> Option<Set> {
    // `type A . B [: C] [flags ...]` or `typeof EXPR [: EXPR]`.
    let (head, flags) = match spec.split_once(" flags ") {
        Some((h, f)) => (h, f.split(',').map(|s| s.trim().to_string()).collect()),
        None => (spec, Vec::new()),
    };
    let (is_typeof, rest) =
        if let Some(r) = head.strip_prefix("typeof ") { (true, r) } else { (false, head.strip_prefix("type ")?) };
    let (k, d) = match rest.split_once(" : ") {
        Some((k, d)) => (k, Some(d)),
        None => (rest, None),
    };
    let types = |s: &str| -> Option<Vec<KeyType>> {
        if is_typeof {
            let f = family(fam)?;
            let terms = parse_rule_terms(fam, s).ok()?;
            let tab = TableSymbols::default();
            let mut diags = Vec::new();
            let mut cx = RuleCx::new(f, &tab, ChainCtx { name: "c".into(), base: None }, &mut diags);
            let mut cur = crate::cursor::Cursor::new(&terms, Span::default());
            let e = super::parse_expr(&mut cx, &mut cur)?;
            match e.ty {
                ExprType::Scalar(k) => Some(vec![k]),
                ExprType::Concat(ks) => Some(ks),
                _ => None,
            }
        } else {
            s.split(" . ")
                .map(|t| {
                    let ty = Ty::by_name(t.trim())?;
                    Some(KeyType { ty, bits: ty.info().bits })
                })
                .collect()
        }
    };
    let key = types(k)?;
    let data = match d {
        Some("verdict") => Some(MapData::Verdict),
        Some(d) => Some(MapData::Value(types(d)?)),
        None => None,
    };
    let mut s = mkset(name, key, data);
    s.flags = flags;
    Some(s)
}

fn run_file(path: &std::path::Path, st: &mut Stats) {
    let Ok(text) = std::fs::read_to_string(path) else { return };
    let short = path.components().rev().take(2).collect::<Vec<_>>();
    let short = format!("{}/{}", short[1].as_os_str().to_string_lossy(), short[0].as_os_str().to_string_lossy());
    let mut chains: Vec<(String, Option<(ChainType, Hook)>)> = Vec::new();
    let mut tables: Vec<(String, Vec<String>)> = Vec::new();
    let mut sets: Vec<Set> = Vec::new();
    for (lineno, line) in text.lines().enumerate() {
        let line = line.trim_end();
        if line.is_empty() || line.starts_with('#') || line.starts_with('-') {
            continue;
        }
        let parts: Vec<&str> = line.splitn(3, ';').collect();
        if let Some(rest) = line.strip_prefix(':') {
            // `:name;type filter hook input priority 0`
            let p: Vec<&str> = rest.splitn(2, ';').collect();
            let spec: Vec<&str> = p.get(1).unwrap_or(&"").split_whitespace().collect();
            let ty = spec.get(1).and_then(|t| ChainType::from_name(t));
            let hook = spec.get(3).and_then(|h| Hook::from_name(h));
            chains.push((p[0].to_string(), ty.zip(hook)));
            continue;
        }
        if let Some(rest) = line.strip_prefix('*') {
            let p: Vec<&str> = rest.split(';').collect();
            if p.len() >= 3 {
                tables.push((p[0].to_string(), p[2].split(',').map(str::to_string).collect()));
            }
            continue;
        }
        if let Some(rest) = line.strip_prefix('!') {
            let decl = parts[0].strip_prefix('!').unwrap_or(rest);
            if let Some((name, spec)) = decl.split_once(' ')
                && let Some(fam) = tables.first().map(|t| t.0.clone())
                && let Some(s) = set_decl(spec.trim(), name, &fam)
            {
                sets.retain(|x| x.name != s.name);
                sets.push(s);
            }
            continue;
        }
        if let Some(rest) = parts[0].strip_prefix('?') {
            let want_ok = parts.get(1).is_some_and(|s| s.starts_with("ok"));
            let Some((name, elems)) = rest.split_once(' ') else { continue };
            let Some(set) = sets.iter().find(|s| s.name == name).cloned() else {
                if want_ok {
                    st.elem_ok.1 += 1;
                } else {
                    st.elem_fail.0 += 1;
                    st.elem_fail.1 += 1;
                }
                continue;
            };
            let rejected = match parse_elements(elems) {
                None => true,
                Some(lit) => {
                    let fam = tables.first().and_then(|t| family(&t.0)).unwrap_or(Family::Inet);
                    let tab = table(fam, &sets, &chains);
                    let mut diags = Vec::new();
                    let mut cx = RuleCx::new(fam, &tab, ChainCtx { name: "c".into(), base: None }, &mut diags);
                    let key = super::parser::set_key_type(&set.key);
                    let data = match &set.data {
                        Some(MapData::Verdict) => Some(ExprType::Verdict),
                        Some(MapData::Value(ks)) => Some(super::parser::set_key_type(ks)),
                        Some(MapData::Object(_)) => Some(ExprType::Unknown),
                        None => None,
                    };
                    let _ = super::check_elements(&mut cx, &lit, &key, data.as_ref());
                    diags.iter().any(Diagnostic::is_error)
                }
            };
            if want_ok {
                st.elem_ok.1 += 1;
                st.elem_ok.0 += usize::from(!rejected);
            } else {
                st.elem_fail.1 += 1;
                st.elem_fail.0 += usize::from(rejected);
            }
            continue;
        }
        if parts.len() < 2 {
            continue;
        }
        let rule = parts[0];
        let want_ok = parts[1].starts_with("ok");
        for (fam, tchains) in &tables {
            let Some(f) = family(fam) else { continue };
            let tab = table(f, &sets, &chains);
            for ch in tchains {
                let base = chains.iter().find(|c| &c.0 == ch).and_then(|c| c.1);
                let diags = check(f, base, &tab, rule);
                let errs: Vec<&Diagnostic> = diags.iter().filter(|d| d.is_error()).collect();
                if want_ok {
                    st.ok_total += 1;
                    if errs.is_empty() {
                        st.ok_accepted += 1;
                    } else {
                        let d = errs[0];
                        let at = d.primary_span().map(|s| s.range()).unwrap_or(0..0);
                        let src = format!("add rule {fam} t c {rule}\n");
                        let txt = src.get(at).unwrap_or("");
                        let first_word = txt.split_whitespace().next().unwrap_or("");
                        let blocked = STMT_WORDS.contains(&first_word) && matches!(d.code, "E2011" | "E2014" | "E2010");
                        if blocked {
                            st.ok_stmt_blocked += 1;
                            continue;
                        }
                        st.ok_failures.push(format!(
                            "{short}:{} [{fam}] {rule}\n      {} {} @`{txt}`",
                            lineno + 1,
                            d.code,
                            d.message
                        ));
                    }
                } else {
                    st.fail_total += 1;
                    if errs.is_empty() {
                        st.fail_failures.push(format!("{short}:{} [{fam}] {rule}", lineno + 1));
                    } else {
                        st.fail_rejected += 1;
                    }
                }
            }
        }
    }
}

#[test]
fn corpus_py() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/nftables/py");
    let root = if root.exists() { root } else { std::path::PathBuf::from("/work/shared/corpus/nftables/py") };
    let Ok(dirs) = std::fs::read_dir(&root) else {
        eprintln!("corpus_py: {} not found, skipped", root.display());
        return;
    };
    let extra = std::env::var("CTC_EXTRA_CORPUS").ok().and_then(|d| std::fs::read_dir(d).ok());
    let mut files: Vec<_> = dirs
        .chain(extra.into_iter().flatten())
        .flatten()
        .filter_map(|d| std::fs::read_dir(d.path()).ok())
        .flat_map(|r| r.flatten().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "t"))
        .collect();
    files.sort();
    let mut st = Stats::default();
    for f in &files {
        run_file(f, &mut st);
    }
    let show = std::env::var("CTC_CORPUS_VERBOSE").is_ok();
    if show {
        for l in &st.ok_failures {
            eprintln!("NOT ACCEPTED {l}");
        }
        for l in &st.fail_failures {
            eprintln!("NOT REJECTED {l}");
        }
    }
    let pct = |a: usize, b: usize| if b == 0 { 100.0 } else { 100.0 * a as f64 / b as f64 };
    eprintln!(
        "corpus_py: {} files; ok accepted {}/{} ({:.1}%), of the rest {} stop at a statement; ok excluding statement-blocked {:.1}%; fail rejected {}/{} ({:.1}%); elements ok {}/{} fail {}/{}",
        files.len(),
        st.ok_accepted,
        st.ok_total,
        pct(st.ok_accepted, st.ok_total),
        st.ok_stmt_blocked,
        pct(st.ok_accepted, st.ok_total - st.ok_stmt_blocked),
        st.fail_rejected,
        st.fail_total,
        pct(st.fail_rejected, st.fail_total),
        st.elem_ok.0,
        st.elem_ok.1,
        st.elem_fail.0,
        st.elem_fail.1,
    );
    let _: HashMap<(), ()> = HashMap::new();
}
