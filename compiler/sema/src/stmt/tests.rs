//! Pass/fail vectors for statements, and a corpus harness over nftables'
//! statement-heavy `tests/py` files (`cargo test -p ctc-sema stmt::tests::
//! corpus -- --nocapture` prints the rates).

use crate::cx::{ChainCtx, RuleCx, TableSymbols};
use crate::hir::{self, KeyType, MapData, ObjectKind, Set, StmtKind};
use ctc_grammar::ast::{ChainItem, Command, Object, TableItem, Term};
use ctc_grammar::{Diagnostic, FileId, Span};
use ctc_proto::{ChainType, Family, Hook, Ty};
use std::collections::HashMap;

/// The terms of one rule, parsed inside a chain block.
fn rule_terms(src: &str) -> Result<(Vec<Term>, Span), Diagnostic> {
    let text = format!("table ip t {{\nchain c {{\n{src}\n}}\n}}\n");
    let script = ctc_grammar::parse_script(FileId(0), &text)?;
    for cmd in &script.items {
        let Command { object: Object::Table { body: Some(body), .. }, .. } = cmd else { continue };
        for item in &body.items {
            let TableItem::Chain { body, .. } = item else { continue };
            for ci in &body.items {
                if let ChainItem::Rule(r) = ci {
                    return Ok((r.terms.clone(), r.span));
                }
            }
        }
    }
    Err(Diagnostic::error("E0003", "no rule"))
}

fn family_name(f: Family) -> &'static str {
    f.name()
}

fn set(name: &str, key: &[Ty], data: Option<MapData>) -> Set {
    Set {
        name: name.into(),
        span: Span::default(),
        is_map: data.is_some(),
        key: key.iter().map(|t| KeyType { ty: *t, bits: t.info().bits }).collect(),
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

/// A table with a few named things rules may refer to.
fn table(family: Family) -> TableSymbols {
    let mut t = TableSymbols { family_name: family_name(family), name: "filter".into(), ..TableSymbols::default() };
    t.sets.insert("s".into(), set("s", &[Ty::Ipv4Addr], None));
    t.sets.insert("s6".into(), set("s6", &[Ty::Ipv6Addr], None));
    t.sets
        .insert("m".into(), set("m", &[Ty::Ipv4Addr], Some(MapData::Value(vec![KeyType { ty: Ty::Mark, bits: 32 }]))));
    t.sets.insert(
        "nm".into(),
        set(
            "nm",
            &[Ty::Ipv4Addr],
            Some(MapData::Value(vec![
                KeyType { ty: Ty::Ipv4Addr, bits: 32 },
                KeyType { ty: Ty::InetService, bits: 16 },
            ])),
        ),
    );
    t.sets.insert("cm".into(), set("cm", &[Ty::InetService], Some(MapData::Object(ObjectKind::Counter))));
    for (k, n) in [
        (ObjectKind::Counter, "c1"),
        (ObjectKind::Quota, "q1"),
        (ObjectKind::Limit, "l1"),
        (ObjectKind::Synproxy, "sp1"),
        (ObjectKind::Secmark, "sm1"),
        (ObjectKind::CtTimeout, "t1"),
        (ObjectKind::CtExpectation, "e1"),
    ] {
        t.objects.insert((k, n.into()), Span::default());
    }
    t.helpers.insert("ftp-std".into(), ("ftp".into(), 6));
    t.chains.insert("other".into(), (Span::default(), None));
    t.chains.insert("input".into(), (Span::default(), Some((ChainType::Filter, Hook::Input))));
    t.flowtables.insert("ft".into(), Span::default());
    t
}

/// Check `src` in a chain of `family` with base `(ty, hook)`; the error
/// codes reported.
fn check_in(family: Family, base: Option<(ChainType, Hook)>, src: &str) -> Vec<&'static str> {
    let tab = table(family);
    let (terms, span) = match rule_terms(src) {
        Ok(x) => x,
        Err(d) => return vec![d.code],
    };
    let mut diags = Vec::new();
    let mut cx = RuleCx::new(family, &tab, ChainCtx { name: "c".into(), base }, &mut diags);
    let _ = crate::rule::check_rule(&mut cx, &terms, span);
    diags.iter().filter(|d| d.is_error()).map(|d| d.code).collect()
}

fn filter_input(family: Family, src: &str) -> Vec<&'static str> {
    check_in(family, Some((ChainType::Filter, Hook::Input)), src)
}

#[track_caller]
fn ok(family: Family, base: Option<(ChainType, Hook)>, src: &str) {
    let errs = check_in(family, base, src);
    assert!(errs.is_empty(), "`{src}` should pass in {family:?} {base:?}, got {errs:?}");
}

#[track_caller]
fn err(family: Family, base: Option<(ChainType, Hook)>, src: &str, code: &str) {
    let errs = check_in(family, base, src);
    assert!(errs.contains(&code), "`{src}` should fail with {code} in {family:?} {base:?}, got {errs:?}");
}

const FI: Option<(ChainType, Hook)> = Some((ChainType::Filter, Hook::Input));
const FO: Option<(ChainType, Hook)> = Some((ChainType::Filter, Hook::Output));
const NPOST: Option<(ChainType, Hook)> = Some((ChainType::Nat, Hook::Postrouting));
const NPRE: Option<(ChainType, Hook)> = Some((ChainType::Nat, Hook::Prerouting));
const FPRE: Option<(ChainType, Hook)> = Some((ChainType::Filter, Hook::Prerouting));
const FFWD: Option<(ChainType, Hook)> = Some((ChainType::Filter, Hook::Forward));

#[test]
fn verdicts() {
    ok(Family::Ip, FI, "accept");
    ok(Family::Ip, FI, "counter drop");
    ok(Family::Ip, FI, "jump other");
    ok(Family::Ip, FI, "goto other");
    err(Family::Ip, FI, "jump nowhere", "E1002");
    err(Family::Ip, FI, "jump input", "E1014");
    err(Family::Ip, FI, "jump", "E2014");
}

#[test]
fn jump_records_target() {
    let tab = table(Family::Ip);
    let (terms, span) = rule_terms("jump other").unwrap();
    let mut diags = Vec::new();
    let mut cx = RuleCx::new(Family::Ip, &tab, ChainCtx { name: "c".into(), base: None }, &mut diags);
    let rule = crate::rule::check_rule(&mut cx, &terms, span);
    assert_eq!(cx.jumps.len(), 1);
    assert_eq!(cx.jumps[0].0, "other");
    assert!(matches!(rule.stmts[0].kind, StmtKind::Verdict(hir::Verdict::Jump(_))));
}

#[test]
fn anonymous_chain() {
    let tab = table(Family::Inet);
    let (terms, span) = rule_terms("jump { accept; }").unwrap();
    let mut diags = Vec::new();
    let mut cx = RuleCx::new(Family::Inet, &tab, ChainCtx { name: "c".into(), base: None }, &mut diags);
    let rule = crate::rule::check_rule(&mut cx, &terms, span);
    assert!(diags_empty(&cx), "{:?}", cx.diags);
    assert_eq!(cx.anon_chains.len(), 1);
    assert!(matches!(rule.stmts[0].kind, StmtKind::AnonChain { goto: false, index: 0 }));
}

fn diags_empty(cx: &RuleCx<'_>) -> bool {
    cx.diags.iter().all(|d| !d.is_error())
}

#[test]
fn counter_quota_last() {
    ok(Family::Ip, FI, "counter");
    ok(Family::Ip, FI, "counter packets 0 bytes 0");
    ok(Family::Ip, FI, "counter bytes 1024 packets 1");
    err(Family::Ip, FI, "counter packets foo", "E2012");
    ok(Family::Inet, FO, "quota 1025 bytes");
    ok(Family::Inet, FO, "quota over 1023000 mbytes");
    ok(Family::Inet, FO, "quota until 10 kbytes used 5 kbytes");
    ok(Family::Inet, FO, "quota 1025bytes");
    err(Family::Inet, FO, "quota 1 gbytes", "E2012");
    err(Family::Inet, FO, "quota 10", "E2014");
    ok(Family::Ip, FI, "last");
    ok(Family::Ip, FI, "last used never");
    ok(Family::Ip, FI, "last used 300s");
    err(Family::Ip, FI, "last used foo", "E2006");
    ok(Family::Ip, FI, "ct count 3");
    ok(Family::Ip, FI, "ct count over 3");
}

#[test]
fn limits() {
    for r in [
        "limit rate 400/minute",
        "limit rate 1023/second burst 10 packets",
        "limit rate 1 kbytes/second",
        "limit rate 10230 mbytes/second",
        "limit rate 1 bytes / second",
        "limit rate 1025 kbytes/second burst 1023 kbytes",
        "limit rate over 1025bytes/second burst 512bytes",
        "limit rate over 1025bytes / second burst 512bytes",
        "limit rate over 1025 bytes / second burst 512bytes",
        "limit rate until 5/week",
    ] {
        ok(Family::Ip, FO, r);
    }
    err(Family::Ip, FO, "limit rate 1023/second burst 10 bytes", "E2012");
    err(Family::Ip, FO, "limit rate 512 kbytes/second burst 5 packets", "E2012");
    err(Family::Ip, FO, "limit rate 1 gbytes / second", "E2012");
    err(Family::Ip, FO, "limit rate 10/fortnight", "E2012");
    err(Family::Ip, FO, "limit rate 10/second burst 0 packets", "E2002");
    err(Family::Ip, FO, "limit 10/second", "E2014");
}

#[test]
fn logs() {
    for r in [
        "log",
        "log level emerg",
        "log level audit",
        "log prefix aaaaa-aaaaaa group 2 snaplen 33",
        "log group 2 queue-threshold 2",
        "log flags all",
        "log level debug flags ip options flags skuid",
        "log flags tcp sequence,options",
        "log prefix \"x\" flags ether",
    ] {
        ok(Family::Ip, FO, r);
    }
    for r in [
        "log level emerg group 2",
        "log level audit prefix \"foo\"",
        "log level audit group 42",
        "log level audit snaplen 23",
        "log level audit flags all",
        "log flags all group 2",
        "log level bogus",
        "log group 65536",
        "log flags tcp bogus",
    ] {
        let errs = check_in(Family::Ip, FO, r);
        assert!(!errs.is_empty(), "`{r}` should fail");
    }
    let long = format!("log prefix \"{}\"", "x".repeat(128));
    err(Family::Ip, FO, &long, "E2002");
}

#[test]
fn queues() {
    for r in [
        "queue",
        "queue num 2",
        "queue num 65535",
        "queue num 2-3",
        "queue num 4-5 fanout bypass",
        "queue num 4-5 bypass",
        "queue to 2",
        "queue flags bypass to 65535",
        "queue flags bypass,fanout to 1-65535",
        "queue flags bypass num 3",
    ] {
        ok(Family::Ip, FO, r);
    }
    err(Family::Ip, FO, "queue num 65536", "E2002");
    err(Family::Ip, FO, "queue num 3-2", "E2005");
    err(Family::Ip, FO, "queue num 3 fanout", "E2012");
    err(Family::Ip, FO, "queue num oif", "E2012");
}

#[test]
fn rejects() {
    let i = |s| filter_input(Family::Inet, s);
    for r in [
        "reject",
        "reject with icmp host-unreachable",
        "reject with icmp type port-unreachable",
        "reject with icmpv6 no-route",
        "reject with icmpx admin-prohibited",
        "reject with icmpx 3",
        "reject with tcp reset",
    ] {
        assert!(i(r).is_empty(), "{r}: {:?}", i(r));
    }
    err(Family::Inet, FI, "reject with icmp bogus", "E2001");
    err(Family::Inet, FI, "reject with icmpx 4", "E2002");
    err(Family::Ip, FI, "reject with icmpv6 no-route", "E3004");
    err(Family::Ip6, FI, "reject with icmp host-unreachable", "E3004");
    err(Family::Ip, FI, "reject with icmpx no-route", "E3004");
    err(Family::Arp, Some((ChainType::Filter, Hook::Input)), "reject", "E4006");
    ok(Family::Bridge, FI, "reject with icmpx host-unreachable");
    err(Family::Bridge, FFWD, "reject", "E4006");
}

#[test]
fn nat_literals() {
    ok(Family::Ip, NPOST, "snat to 192.168.3.2");
    ok(Family::Ip, NPOST, "snat 192.168.3.2");
    ok(Family::Ip, NPOST, "snat to 192.168.3.0-192.168.3.255");
    ok(Family::Ip, NPOST, "snat ip to 10.0.0.0/24");
    ok(Family::Ip, NPOST, "masquerade");
    ok(Family::Ip, NPOST, "masquerade random,persistent,fully-random");
    ok(Family::Ip6, NPRE, "dnat to [2001:838:35f:1::]/64");
    ok(Family::Ip6, NPRE, "dnat to 2001:838:35f:1::-2001:838:35f:1:ffff:ffff:ffff:ffff");
    ok(Family::Ip6, NPRE, "redirect");
    ok(Family::Inet, NPRE, "dnat ip to 192.168.3.2");
    ok(Family::Inet, NPRE, "dnat ip6 to dead::beef");
    err(Family::Inet, NPRE, "dnat to 1.2.3.4", "E3004");
    err(Family::Inet, NPRE, "dnat ip6 to 1.2.3.4", "E3004");
    err(Family::Inet, NPOST, "snat ip to dead::beef", "E3004");
    err(Family::Ip, NPOST, "snat ip6 to dead::beef", "E3004");
    err(Family::Ip, NPOST, "snat to 192.168.3.9-192.168.3.1", "E2005");
    err(Family::Ip, NPOST, "snat to 10.0.0.0/33", "E2004");
    err(Family::Ip, NPOST, "snat to 300.1.1.1", "E2006");
    // Ports need a transport protocol.
    err(Family::Ip6, Some((ChainType::Nat, Hook::Output)), "redirect to :1234", "E3003");
    err(Family::Ip, NPOST, "masquerade to :1024", "E3003");
    err(Family::Ip, NPRE, "dnat to 1.2.3.4:80", "E3003");
    // Flags come last.
    err(Family::Ip6, Some((ChainType::Nat, Hook::Output)), "redirect persistent to 123", "E2011");
    // NAT families and hooks.
    err(Family::Bridge, FPRE, "dnat to 1.2.3.4", "E4006");
    err(Family::Ip, FI, "snat to 1.2.3.4", "E4006");
    err(Family::Ip, NPRE, "snat to 1.2.3.4", "E4006");
    err(Family::Ip, NPRE, "masquerade", "E4006");
    err(Family::Ip, NPOST, "redirect", "E4006");
    // Regular chains defer the hook check to the chain post-pass.
    ok(Family::Ip, None, "snat to 1.2.3.4");
}

#[test]
fn restriction_exposed() {
    let tab = table(Family::Ip);
    let (terms, span) = rule_terms("snat to 1.2.3.4").unwrap();
    let mut diags = Vec::new();
    let mut cx = RuleCx::new(Family::Ip, &tab, ChainCtx { name: "c".into(), base: None }, &mut diags);
    let rule = crate::rule::check_rule(&mut cx, &terms, span);
    assert_eq!(rule.stmts[0].restriction(), Some(ctc_proto::HookedStmt::Snat));
    assert!(rule.stmts[0].is_terminal());
}

#[test]
fn tproxy_dup_fwd() {
    err(Family::Inet, FPRE, "tproxy", "E2014");
    err(Family::Ip, FPRE, "tproxy to 192.0.2.1", "E3003");
    err(Family::Ip, FPRE, "tproxy to :50080", "E3003");
    err(Family::Ip, FI, "tproxy to :50080", "E4006");
    ok(Family::Ip, FI, "dup to 192.168.2.1");
    ok(Family::Ip, FI, "dup to 192.168.2.1 device \"lo\"");
    ok(Family::Ip6, FI, "dup to abcd::1 device \"lo\"");
    err(Family::Ip, FI, "dup to abcd::1", "E3004");
    err(Family::Inet, FI, "dup to 1.2.3.4", "E4006");
    ok(Family::Netdev, Some((ChainType::Filter, Hook::Ingress)), "dup to \"eth0\"");
    ok(Family::Netdev, Some((ChainType::Filter, Hook::Ingress)), "fwd to \"eth0\"");
    ok(Family::Netdev, Some((ChainType::Filter, Hook::Ingress)), "fwd ip to 192.168.1.1 device \"eth0\"");
    err(Family::Netdev, Some((ChainType::Filter, Hook::Ingress)), "fwd ip to 192.168.1.1", "E4009");
    err(Family::Ip, FI, "fwd to \"eth0\"", "E4006");
}

#[test]
fn synproxy_and_objects() {
    ok(Family::Inet, FI, "synproxy mss 1460 wscale 7 timestamp sack-perm");
    ok(Family::Inet, FI, "synproxy");
    err(Family::Inet, FI, "synproxy wscale 15", "E2002");
    err(Family::Inet, FO, "synproxy", "E4006");
    ok(Family::Inet, FI, "synproxy name \"sp1\"");
    err(Family::Inet, FI, "synproxy name \"nope\"", "E1004");
    ok(Family::Inet, FI, "counter name \"c1\"");
    ok(Family::Inet, FI, "counter name c1");
    err(Family::Inet, FI, "counter name \"c2\"", "E1004");
    ok(Family::Inet, FI, "quota name \"q1\"");
    ok(Family::Inet, FI, "limit name \"l1\"");
    err(Family::Inet, FI, "limit name \"q1\"", "E1004");
    ok(Family::Inet, FI, "ct helper set \"ftp-std\"");
    err(Family::Inet, FI, "ct helper set \"ftp\"", "E4008");
    ok(Family::Inet, FI, "ct timeout set \"t1\"");
    err(Family::Inet, FI, "ct timeout set \"t2\"", "E1004");
    ok(Family::Inet, FI, "ct expectation set \"e1\"");
    ok(Family::Inet, FI, "notrack");
    err(Family::Inet, FI, "xt match \"foo\"", "E4006");
}

#[test]
fn helper_message() {
    let tab = table(Family::Inet);
    let (terms, span) = rule_terms("ct helper set \"ftp\"").unwrap();
    let mut diags = Vec::new();
    let mut cx = RuleCx::new(Family::Inet, &tab, ChainCtx { name: "c".into(), base: None }, &mut diags);
    let _ = crate::rule::check_rule(&mut cx, &terms, span);
    let d = &cx.diags[0];
    assert_eq!(d.code, "E4008");
    assert_eq!(d.message, "ct helper `ftp` is not defined in table inet filter");
    assert!(d.help.as_deref().unwrap_or("").contains("type \"ftp\" protocol tcp"), "{:?}", d.help);
}

#[test]
fn flows() {
    ok(Family::Inet, FFWD, "flow add @ft");
    ok(Family::Inet, FFWD, "flow offload @ft");
    err(Family::Inet, FFWD, "flow add @nope", "E1004");
    err(Family::Inet, FI, "flow add @ft", "E4006");
}

#[test]
fn hook_message_wording() {
    let tab = table(Family::Inet);
    let (terms, span) = rule_terms("snat to 1.2.3.4").unwrap();
    let mut diags = Vec::new();
    let mut cx = RuleCx::new(
        Family::Ip,
        &tab,
        ChainCtx { name: "input".into(), base: Some((ChainType::Filter, Hook::Input)) },
        &mut diags,
    );
    let _ = crate::rule::check_rule(&mut cx, &terms, span);
    assert_eq!(
        cx.diags[0].message,
        "`snat` is only valid in a nat chain at the postrouting or input hook; this chain is a filter chain at the input hook"
    );
}

#[test]
fn no_panic_on_garbage() {
    for r in [
        "limit rate",
        "limit rate over",
        "limit rate 5",
        "limit rate 5/",
        "limit rate 99999999999999999999999 mbytes/second",
        "limit rate 18446744073709551615 mbytes/second",
        "quota 18446744073709551615 mbytes",
        "log prefix",
        "log level",
        "log flags",
        "queue num",
        "queue num 1-",
        "queue flags",
        "queue to",
        "reject with",
        "reject with icmp",
        "snat",
        "snat ip",
        "snat to",
        "snat to :",
        "dnat ip prefix",
        "masquerade to",
        "redirect to :",
        "tproxy ip to",
        "dup",
        "dup to",
        "fwd",
        "fwd ip to 1.2.3.4 device",
        "add @s",
        "add @s { }",
        "update @nope { ip saddr }",
        "flow add",
        "flow add foo",
        "meter",
        "meter m",
        "meter m size",
        "counter name",
        "ct count",
        "ct helper set",
        "synproxy mss",
        "reset tcp",
        "reset tcp option",
        "reset tcp option bogus",
        "comment",
        "jump { }",
    ] {
        for f in [Family::Ip, Family::Ip6, Family::Inet, Family::Bridge, Family::Netdev, Family::Arp] {
            let _ = check_in(f, FI, r);
            let _ = check_in(f, None, r);
        }
    }
}

// ------------------------------------------------------------------ corpus

/// One `.t` file: chains, tables, set declarations and rule lines.
struct TFile {
    chains: HashMap<String, (ChainType, Hook)>,
    tables: Vec<(Family, Vec<String>)>,
    sets: Vec<Set>,
    rules: Vec<(String, bool)>,
}

fn parse_ty_list(s: &str) -> Option<Vec<KeyType>> {
    s.split(" . ").map(|p| Ty::by_name(p.trim()).map(|t| KeyType { ty: t, bits: t.info().bits })).collect()
}

/// The key types of a `typeof` expression, through [`crate::expr::parse_typeof`].
fn typeof_types(src: &str) -> Option<Vec<KeyType>> {
    let script = ctc_grammar::parse_script(ctc_grammar::FileId(0), &format!("add rule netdev t c {src}\n")).ok()?;
    let terms = script.items.into_iter().find_map(|c| match c.object {
        ctc_grammar::ast::Object::Rule { rule: Some(r), .. } => Some(r.terms),
        _ => None,
    })?;
    let tab = TableSymbols::default();
    let mut diags = Vec::new();
    let mut cx = RuleCx::new(Family::Netdev, &tab, ChainCtx { name: String::new(), base: None }, &mut diags);
    let mut cur = crate::cursor::Cursor::new(&terms, ctc_grammar::Span::default());
    let e = crate::expr::parse_typeof(&mut cx, &mut cur)?;
    match e.ty {
        hir::ExprType::Scalar(k) => Some(vec![k]),
        hir::ExprType::Concat(ks) => Some(ks),
        _ => None,
    }
}

fn parse_set_decl(line: &str) -> Option<Set> {
    let (name, rest) = line.split_once(' ')?;
    let rest = rest.trim();
    let (decl, flags) = match rest.split_once(" flags ") {
        Some((d, f)) => (d, vec![f.trim().to_string()]),
        None => (rest, Vec::new()),
    };
    let (key, data, typeof_) = if let Some(t) = decl.strip_prefix("typeof ") {
        let (k, d) = match t.split_once(" : ") {
            Some((k, d)) => (k, Some(d)),
            None => (t, None),
        };
        // An object map or a type the parser does not know: leave it open.
        let data = d.map(|d| MapData::Value(typeof_types(d).unwrap_or_default()));
        (typeof_types(k).unwrap_or_default(), data, true)
    } else {
        let t = decl.strip_prefix("type ")?;
        match t.split_once(" : ") {
            Some((k, d)) => {
                let data = if d.trim() == "verdict" { MapData::Verdict } else { MapData::Value(parse_ty_list(d)?) };
                (parse_ty_list(k)?, Some(data), false)
            }
            None => (parse_ty_list(t)?, None, false),
        }
    };
    let _ = typeof_;
    let mut s = set(name, &[], data);
    s.key = key;
    s.flags = flags;
    Some(s)
}

fn parse_tfile(text: &str) -> TFile {
    let mut tf = TFile { chains: HashMap::new(), tables: Vec::new(), sets: Vec::new(), rules: Vec::new() };
    for line in text.lines() {
        let line = line.trim_end();
        if line.is_empty() || line.starts_with('#') || line.starts_with('-') {
            continue;
        }
        if let Some(c) = line.strip_prefix(':') {
            let Some((name, spec)) = c.split_once(';') else { continue };
            let words: Vec<&str> = spec.split_whitespace().collect();
            let ty = words
                .iter()
                .position(|w| *w == "type")
                .and_then(|i| words.get(i + 1))
                .and_then(|w| ChainType::from_name(w));
            let hook =
                words.iter().position(|w| *w == "hook").and_then(|i| words.get(i + 1)).and_then(|w| Hook::from_name(w));
            if let (Some(ty), Some(hook)) = (ty, hook) {
                tf.chains.insert(name.to_string(), (ty, hook));
            }
        } else if let Some(t) = line.strip_prefix('*') {
            let parts: Vec<&str> = t.split(';').collect();
            if let (Some(f), Some(chains)) = (parts.first().and_then(|f| Family::from_name(f)), parts.get(2)) {
                tf.tables.push((f, chains.split(',').map(str::to_string).collect()));
            }
        } else if let Some(s) = line.strip_prefix('!') {
            let decl = s.split(';').next().unwrap_or("");
            if let Some(set) = parse_set_decl(decl) {
                tf.sets.push(set);
            }
        } else {
            let mut parts = line.split(';');
            let rule = parts.next().unwrap_or("").to_string();
            let ok = parts.next() == Some("ok");
            tf.rules.push((rule, ok));
        }
    }
    tf
}

/// Run one `.t` file; returns (passed, total, failures).
fn run_tfile(path: &std::path::Path) -> (usize, usize, Vec<String>) {
    let Ok(text) = std::fs::read_to_string(path) else { return (0, 0, Vec::new()) };
    let tf = parse_tfile(&text);
    let (mut pass, mut total, mut bad) = (0, 0, Vec::new());
    for (family, chains) in &tf.tables {
        let mut tab = TableSymbols { family_name: family.name(), name: "test".into(), ..TableSymbols::default() };
        for s in &tf.sets {
            tab.sets.insert(s.name.clone(), s.clone());
        }
        for (n, (ty, hook)) in &tf.chains {
            tab.chains.insert(n.clone(), (Span::default(), Some((*ty, *hook))));
        }
        for chain in chains {
            let base = tf.chains.get(chain).copied();
            for (rule, want_ok) in &tf.rules {
                total += 1;
                let (got_ok, msg) = match rule_terms(rule) {
                    Err(d) => (false, d.message),
                    Ok((terms, span)) => {
                        let mut diags = Vec::new();
                        let mut cx = RuleCx::new(*family, &tab, ChainCtx { name: chain.clone(), base }, &mut diags);
                        let _ = crate::rule::check_rule(&mut cx, &terms, span);
                        let errs: Vec<String> = diags
                            .iter()
                            .filter(|d| d.is_error())
                            .map(|d| format!("{} {}", d.code, d.message))
                            .collect();
                        (errs.is_empty(), errs.join("; "))
                    }
                };
                if got_ok == *want_ok {
                    pass += 1;
                } else {
                    let want = if *want_ok { "ok" } else { "fail" };
                    bad.push(format!("  [{} {chain}] want {want}: {rule}    => {msg}", family.name()));
                }
            }
        }
    }
    (pass, total, bad)
}

/// The statement-heavy corpus files.
const STATEMENT_FILES: &[&str] = &[
    "any/counter.t",
    "any/last.t",
    "any/limit.t",
    "any/log.t",
    "any/queue.t",
    "any/quota.t",
    "any/meta.t",
    "inet/snat.t",
    "inet/dnat.t",
    "inet/reject.t",
    "inet/tproxy.t",
    "inet/ct.t",
    "ip/snat.t",
    "ip/masquerade.t",
    "ip/tproxy.t",
    "ip/dup.t",
    "ip/ct.t",
    "ip6/snat.t",
    "ip6/dnat.t",
    "ip6/redirect.t",
    "ip6/dup.t",
    "bridge/redirect.t",
];

#[test]
fn corpus() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/nftables/py");
    if !root.is_dir() {
        eprintln!("skipping statement corpus: {} not found", root.display());
        return;
    }
    let verbose = std::env::var_os("CTC_STMT_CORPUS_VERBOSE").is_some();
    let (mut pass, mut total) = (0, 0);
    for f in STATEMENT_FILES {
        let (p, t, bad) = run_tfile(&root.join(f));
        pass += p;
        total += t;
        eprintln!("{f:24} {p:4}/{t:<4}");
        if verbose {
            for b in bad {
                eprintln!("{b}");
            }
        }
    }
    eprintln!("statement corpus: {pass}/{total}");
}

#[test]
fn set_updates_and_meters() {
    ok(Family::Ip, FI, "add @s { ip saddr }");
    ok(Family::Ip, FI, "update @s { ip saddr timeout 10s limit rate 10/second }");
    ok(Family::Ip, FI, "delete @s { ip saddr }");
    ok(Family::Ip, FI, "add @s { ip saddr counter quota 10 mbytes }");
    ok(Family::Ip, FI, "update @m { ip saddr : 0x1 }");
    ok(Family::Ip, FI, "add @m { ip saddr counter : 0x1 }");
    err(Family::Ip, FI, "add @nope { ip saddr }", "E1003");
    ok(Family::Ip, FI, "add @s { 1.2.3.4 }");
    ok(Family::Ip, FI, "add @m { 10.2.3.4 timeout 2s : 0x00000002 }");
    err(Family::Ip, FI, "add @s { dead::1 }", "E2003");
    err(Family::Ip, FI, "add @m { ip saddr }", "E1015");
    err(Family::Ip, FI, "add @s { ip saddr : 0x1 }", "E1015");
    err(Family::Ip, FI, "add @s { tcp dport }", "E2007");
    err(Family::Ip, FI, "add @s { ip saddr accept }", "E2012");
    ok(Family::Ip, FI, "meter m { ip saddr limit rate 10/second }");
    ok(Family::Ip, FI, "meter m size 128 { ip saddr timeout 10s limit rate over 10/second }");
    err(Family::Ip, FI, "meter m { ip saddr drop }", "E2012");
}

#[test]
fn object_maps() {
    ok(Family::Ip, FI, "counter name tcp dport map { 22 : \"c1\" }");
    err(Family::Ip, FI, "counter name tcp dport map { 22 : \"cx\" }", "E1004");
    ok(Family::Ip, FI, "counter name tcp dport map @cm");
    err(Family::Ip, FI, "quota name tcp dport map @cm", "E1015");
    err(Family::Ip, FI, "counter name tcp dport map @nope", "E1003");
}

#[test]
fn set_statements() {
    ok(Family::Ip, FI, "meta mark set 1");
    ok(Family::Ip, FI, "meta mark set meta mark & 0xff");
    ok(Family::Ip, FI, "meta mark set 0x16 and 0x16");
    ok(Family::Ip, FI, "meta mark set ip saddr map { 1.1.1.1 : 0x2 }");
    err(Family::Ip, FI, "meta mark set { 1, 2 }", "E2003");
    // tc handles, `major:minor` in hex as in matches (nft's meta.t).
    ok(Family::Ip, FI, "meta priority set 1:5");
    ok(Family::Ip, FI, "meta priority set cafe:beef");
    ok(Family::Ip, FI, "meta priority set none");
    err(Family::Ip, FI, "meta priority set 1:", "E2011");
    err(Family::Ip, FI, "meta priority set 1:xyz", "E2011");
    err(Family::Ip, FI, "meta iifname set \"eth0\"", "E2013");
    ok(Family::Ip, FI, "meta secmark set \"sm1\"");
    err(Family::Ip, FI, "meta secmark set \"nope\"", "E1004");
    ok(Family::Bridge, FPRE, "meta broute set 1");
    err(Family::Bridge, FI, "meta broute set 1", "E4006");
    assert!(!check_in(Family::Ip, FI, "meta broute set 1").is_empty());
    ok(Family::Ip, FI, "ct mark set 1");
    ok(Family::Ip, FI, "ct zone set 1");
    ok(Family::Ip, FI, "ct original zone set 1");
    assert!(!check_in(Family::Ip, FI, "ct original mark set 1").is_empty());
    err(Family::Ip, FI, "ct state set new", "E2013");
    err(Family::Ip, FI, "ct secmark set 1", "E2013");
    ok(Family::Ip, FI, "ct secmark set meta secmark");
    ok(Family::Ip, FI, "ct event set new,related");
    ok(Family::Ip, FI, "ct label set 3");
    ok(Family::Ip, FI, "ip dscp set cs1");
    err(Family::Ip, FI, "ip dscp set cs9", "E2001");
    ok(Family::Ip, FI, "tcp option maxseg size set 1360");
    ok(Family::Ip, FI, "tcp option maxseg size set rt mtu");
    err(Family::Ip, FI, "rt mtu set 1", "E2013");
    ok(Family::Inet, FI, "ct helper set ip protocol . th dport map { udp . 10000-20000 : \"ftp-std\" }");
    err(Family::Inet, FI, "ct helper set ip protocol . th dport map { udp . 10000-20000 : \"sip\" }", "E4008");
}

#[test]
fn expression_arguments() {
    err(Family::Ip, FO, "queue to symhash mod 2 offset 65536", "E2002");
    ok(Family::Ip, FO, "queue to symhash mod 65536");
    ok(Family::Ip, FO, "queue flags bypass to numgen inc mod 65536");
    ok(Family::Ip, FO, "queue to jhash oif . meta mark mod 32");
    ok(Family::Ip, FO, "queue flags bypass to oifname map { \"eth0\" : 0, \"ppp0\" : 2 }");
    assert!(!check_in(Family::Ip, FO, "queue to oif").is_empty());
    assert!(!check_in(Family::Ip, FO, "queue flags fanout to symhash mod 65536").is_empty());
    ok(Family::Ip, NPRE, "tcp dport 22 redirect to :tcp dport map { 22 : 8000, 80 : 8080 }");
    ok(Family::Ip, NPOST, "snat to ip saddr map { 10.141.11.4 : 192.168.2.2-192.168.2.4 }");
    ok(Family::Ip, NPOST, "snat ip prefix to ip saddr map { 10.141.11.0/24 : 192.168.2.0/24 }");
    ok(Family::Ip, NPOST, "meta l4proto 17 snat ip to ip saddr map { 10.141.11.4 : 192.168.2.3 . 80 }");
    err(Family::Ip, NPOST, "snat ip to ip saddr map { 10.141.11.4 : 192.168.2.3 . 80 }", "E3003");
    ok(Family::Ip, NPRE, "tcp dport 80 dnat to ip daddr map @nm");
    err(Family::Ip, NPRE, "dnat to ip daddr map @nm", "E3003");
    err(Family::Ip, NPRE, "tcp dport 80 dnat to ip daddr map @s6", "E1015");
    ok(Family::Ip, NPRE, "dnat to ip saddr . tcp dport map { 1.1.1.1 . 80 : 2.2.2.2 . 8080 }");
    ok(Family::Inet, FPRE, "meta l4proto 6 tproxy ip to 127.0.0.1:symhash mod 2 map { 0 : 23, 1 : 42 }");
    ok(Family::Ip, FI, "dup to ip saddr map { 192.168.2.120 : 192.168.2.1 } device \"lo\"");
    err(Family::Ip, NPRE, "tcp dport 22 masquerade accept", "E4006");
    err(Family::Ip, NPOST, "tcp dport 22 masquerade accept", "E2011");
    ok(Family::Ip, NPOST, "tcp dport 22 masquerade comment \"x\"");
}
