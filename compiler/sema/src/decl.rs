//! Declarations of named sets, maps, stateful objects and flowtables.

use crate::cursor::Cursor;
use crate::cx::{ChainCtx, RuleCx, TableSymbols};
use crate::hir::{self, ExprType, Family, HelperSpec, KeyType, MapData, ObjectKind, Ty};
use crate::values;
use ctc_grammar::ast::{self, LineBlock, LitKind, Op, Spanned, Term, TermKind};
use ctc_grammar::{Diagnostic, Span};

/// Set flags nft knows (doc: "flags constant, dynamic, interval, timeout").
const SET_FLAGS: &[&str] = &["constant", "dynamic", "interval", "timeout", "eval"];

/// Kernel conntrack helpers that `ct helper` objects may name
/// (net/netfilter/nf_conntrack_*.c helper names).
pub const KNOWN_HELPERS: &[(&str, &[u8])] = &[
    ("ftp", &[6]),
    ("tftp", &[17]),
    ("sip", &[6, 17]),
    ("irc", &[6]),
    ("amanda", &[17]),
    ("netbios-ns", &[17]),
    ("snmp", &[17]),
    ("sane", &[6]),
    ("pptp", &[6]),
    ("RAS", &[17]),
    ("Q.931", &[6]),
];

fn text(t: &Term) -> Option<&str> {
    match &t.kind {
        TermKind::Word(w) => Some(w),
        TermKind::Lit(_, s) => Some(s),
        _ => None,
    }
}

fn span_of(terms: &[Term], fallback: Span) -> Span {
    match (terms.first(), terms.last()) {
        (Some(a), Some(b)) => a.span.to(b.span),
        _ => fallback,
    }
}

/// The key and data types of a declared set, as expression types.
pub fn set_types(set: &hir::Set) -> (ExprType, Option<ExprType>) {
    let key = match set.key.as_slice() {
        [k] => ExprType::Scalar(k.clone()),
        ks => ExprType::Concat(ks.to_vec()),
    };
    let data = match &set.data {
        None => None,
        // Object maps hold object names; the element check takes any name.
        Some(MapData::Object(_)) => Some(ExprType::Unknown),
        Some(MapData::Verdict) => Some(ExprType::Verdict),
        Some(MapData::Value(v)) => Some(match v.as_slice() {
            [k] => ExprType::Scalar(k.clone()),
            ks => ExprType::Concat(ks.to_vec()),
        }),
    };
    (key, data)
}

fn key_types_of(ty: &ExprType) -> Vec<KeyType> {
    match ty {
        ExprType::Scalar(k) => vec![k.clone()],
        ExprType::Concat(ks) => ks.clone(),
        _ => Vec::new(),
    }
}

/// `ipv4_addr . inet_service` → key types; reports unknown names.
fn parse_type_list(terms: &[Term], diags: &mut Vec<Diagnostic>) -> Option<Vec<KeyType>> {
    let mut out = Vec::new();
    let mut expect_type = true;
    for t in terms {
        if expect_type {
            let Some(name) = text(t) else {
                diags.push(
                    Diagnostic::error("E2008", "expected a data type name").with_label(t.span, "not a type name"),
                );
                return None;
            };
            // `interval` before a map's data type: range values.
            if name == "interval" && out.is_empty() {
                continue;
            }
            match Ty::by_name(name) {
                Some(ty) => {
                    let bits = ty.info().bits;
                    out.push(KeyType { ty, bits });
                }
                None => {
                    let names = ctc_proto::DATATYPES.iter().map(|d| d.name);
                    let mut d = Diagnostic::error("E2008", format!("unknown data type `{name}`"))
                        .with_label(t.span, "not a data type");
                    if let Some(s) = crate::resolve::similar(name, names) {
                        d = d.with_help(format!("did you mean `{s}`?"));
                    } else {
                        d = d.with_help("common key types: ipv4_addr, ipv6_addr, ether_addr, inet_service, inet_proto, mark, ifname");
                    }
                    diags.push(d);
                    return None;
                }
            }
            expect_type = false;
        } else if t.is_op(Op::Dot) {
            expect_type = true;
        } else {
            diags.push(
                Diagnostic::error("E2009", "expected `.` between the types of a concatenation")
                    .with_label(t.span, "unexpected here"),
            );
            return None;
        }
    }
    if expect_type {
        diags.push(
            Diagnostic::error("E2009", "missing data type")
                .with_label(span_of(terms, Span::default()), "incomplete type"),
        );
        return None;
    }
    Some(out)
}

fn object_map_kind(terms: &[Term]) -> Option<ObjectKind> {
    let words: Vec<&str> = terms.iter().filter_map(text).collect();
    Some(match words.as_slice() {
        ["counter"] => ObjectKind::Counter,
        ["quota"] => ObjectKind::Quota,
        ["limit"] => ObjectKind::Limit,
        ["synproxy"] => ObjectKind::Synproxy,
        ["secmark"] => ObjectKind::Secmark,
        ["ct", "helper"] => ObjectKind::CtHelper,
        ["ct", "timeout"] => ObjectKind::CtTimeout,
        ["ct", "expectation"] => ObjectKind::CtExpectation,
        _ => return None,
    })
}

/// Split `KEY : DATA` at the top-level colon.
fn split_colon(terms: &[Term]) -> (&[Term], Option<&[Term]>) {
    match terms.iter().position(|t| t.is_op(Op::Colon)) {
        Some(i) => (&terms[..i], Some(&terms[i + 1..])),
        None => (terms, None),
    }
}

/// Check a set or map declaration body.
pub fn check_set(
    family: Family,
    syms: &TableSymbols,
    name: &str,
    name_span: Span,
    is_map: bool,
    body: &LineBlock,
    diags: &mut Vec<Diagnostic>,
) -> Option<hir::Set> {
    let what = if is_map { "map" } else { "set" };
    let mut set = hir::Set {
        name: name.to_string(),
        span: name_span,
        is_map,
        key: Vec::new(),
        data: None,
        flags: Vec::new(),
        timeout_ms: None,
        size: None,
        elements: Vec::new(),
        comment: None,
        counter: false,
        auto_merge: false,
    };
    let mut have_type = false;
    let mut elements: Option<&ast::SetLit> = None;
    let errors_before = diags.len();
    for line in &body.lines {
        let Some(first) = line.terms.first() else { continue };
        let rest = &line.terms[1..];
        let key = text(first).unwrap_or("");
        match key {
            "type" | "typeof" => {
                let (k, d) = split_colon(rest);
                if key == "type" {
                    set.key = parse_type_list(k, diags)?;
                } else {
                    let ty = typeof_expr(family, syms, k, line.span, diags)?;
                    set.key = key_types_of(&ty);
                }
                if let Some(d) = d {
                    if d.len() == 1 && text(&d[0]) == Some("verdict") {
                        set.data = Some(MapData::Verdict);
                    } else if let Some(kind) = object_map_kind(d) {
                        set.data = Some(MapData::Object(kind));
                    } else if key == "type" {
                        set.data = Some(MapData::Value(parse_type_list(d, diags)?));
                    } else {
                        let ty = typeof_expr(family, syms, d, line.span, diags)?;
                        set.data = Some(MapData::Value(key_types_of(&ty)));
                    }
                }
                have_type = true;
            }
            "flags" => {
                for t in rest {
                    if t.is_op(Op::Comma) {
                        continue;
                    }
                    match text(t) {
                        Some(f) if SET_FLAGS.contains(&f) => set.flags.push(f.to_string()),
                        _ => {
                            diags.push(
                                Diagnostic::error("E2009", format!("unknown {what} flag"))
                                    .with_label(t.span, "not a set flag")
                                    .with_help("set flags are constant, dynamic, interval and timeout"),
                            );
                        }
                    }
                }
            }
            "timeout" | "gc-interval" => match rest.first().and_then(text).and_then(values::parse_time_ms) {
                Some(ms) if rest.len() == 1 => {
                    if key == "timeout" {
                        set.timeout_ms = Some(ms);
                    }
                }
                _ => diags.push(
                    Diagnostic::error("E2006", format!("invalid `{key}` value"))
                        .with_label(span_of(rest, line.span), "expected a time such as `30s`, `1h` or `2d3h`"),
                ),
            },
            "size" => match rest.first().and_then(text).and_then(values::parse_number) {
                Some(n) if rest.len() == 1 && n > 0 && n <= u32::MAX as u128 => set.size = Some(n as u64),
                _ => diags.push(
                    Diagnostic::error("E2002", "invalid set size")
                        .with_label(span_of(rest, line.span), "expected a number between 1 and 4294967295"),
                ),
            },
            "policy" => match rest.first().and_then(text) {
                Some("performance" | "memory") if rest.len() == 1 => {}
                _ => diags.push(
                    Diagnostic::error("E2009", "invalid set policy")
                        .with_label(span_of(rest, line.span), "a set policy is `performance` or `memory`"),
                ),
            },
            "elements" => {
                let lit = match rest {
                    [eq, set_term] if eq.is_op(Op::Assign) => match &set_term.kind {
                        TermKind::Set(lit) => Some(lit),
                        _ => None,
                    },
                    _ => None,
                };
                match lit {
                    Some(l) => elements = Some(l),
                    None => diags.push(
                        Diagnostic::error("E2009", "invalid `elements` line")
                            .with_label(line.span, "write `elements = { a, b, c }`"),
                    ),
                }
            }
            "auto-merge" => set.auto_merge = true,
            "comment" => {
                set.comment = rest.first().and_then(text).map(str::to_string);
                if let Some(d) = set.comment.as_deref().and_then(|c| crate::stmt::simple::long_comment(c, line.span)) {
                    diags.push(d);
                }
            }
            "counter" => set.counter = true,
            // Per-element statements of dynamic sets (nft ≥ 1.0).
            "quota" | "limit" | "last" | "ct" => {}
            _ => diags.push(
                Diagnostic::error("E2009", format!("unknown {what} property `{}`", text(first).unwrap_or("?")))
                    .with_label(first.span, format!("not a {what} property"))
                    .with_help("properties: type, typeof, flags, timeout, gc-interval, size, policy, elements, auto-merge, counter, comment"),
            ),
        }
    }
    if !have_type {
        diags.push(
            Diagnostic::error("E2009", format!("{what} @{name} has no type"))
                .with_label(name_span, "add `type` (e.g. `type ipv4_addr`) or `typeof` (e.g. `typeof ip saddr`)"),
        );
        return None;
    }
    if is_map && set.data.is_none() {
        diags.push(
            Diagnostic::error("E2009", format!("map @{name} has no data type"))
                .with_label(name_span, "a map's type is `KEY : DATA`, e.g. `type ipv4_addr : verdict`"),
        );
        return None;
    }
    if !is_map && set.data.is_some() {
        diags.push(
            Diagnostic::error("E2009", format!("set @{name} has a data type"))
                .with_label(name_span, "declare it with `map` to map keys to values"),
        );
        return None;
    }
    if let Some(lit) = elements {
        let (key, data) = set_types(&set);
        let mut diags_local = Vec::new();
        let elems = {
            let mut cx = RuleCx::new(family, syms, ChainCtx { name: String::new(), base: None }, &mut diags_local);
            crate::expr::check_elements(&mut cx, lit, &key, data.as_ref())
        };
        diags.extend(diags_local);
        crate::elements::add(&mut set, elems, crate::elements::Adding::Add, diags);
    }
    let _ = errors_before;
    Some(set)
}

/// The type of a `typeof` expression.
fn typeof_expr(
    family: Family,
    syms: &TableSymbols,
    terms: &[Term],
    span: Span,
    diags: &mut Vec<Diagnostic>,
) -> Option<ExprType> {
    let mut cx = RuleCx::new(family, syms, ChainCtx { name: String::new(), base: None }, diags);
    let mut cur = Cursor::new(terms, span_of(terms, span));
    // `parse_typeof` knows declaration forms (`interval`, `queue`, tunnel
    // headers without their UDP port match).
    let e = crate::expr::parse_typeof(&mut cx, &mut cur)?;
    if !cur.at_end() {
        cx.error(
            Diagnostic::error("E2011", "unexpected term in `typeof`")
                .with_label(cur.span(), "a typeof takes one expression (concatenated with `.`)"),
        );
        return None;
    }
    Some(e.ty)
}

/// The HIR kind of an object keyword (`ct helper` etc.).
pub fn object_kind(kind: &Spanned<ast::ObjectKind>, diags: &mut Vec<Diagnostic>) -> Option<ObjectKind> {
    Some(match &kind.node {
        ast::ObjectKind::Counter => ObjectKind::Counter,
        ast::ObjectKind::Quota => ObjectKind::Quota,
        ast::ObjectKind::Limit => ObjectKind::Limit,
        ast::ObjectKind::Synproxy => ObjectKind::Synproxy,
        ast::ObjectKind::Secmark => ObjectKind::Secmark,
        ast::ObjectKind::Flowtable => ObjectKind::Flowtable,
        ast::ObjectKind::Ct(n) => match n.text.as_str() {
            "helper" => ObjectKind::CtHelper,
            "timeout" => ObjectKind::CtTimeout,
            "expectation" => ObjectKind::CtExpectation,
            other => {
                diags.push(
                    Diagnostic::error("E4012", format!("unknown ct object `ct {other}`"))
                        .with_label(n.span, "not a ct object")
                        .with_help("ct objects are `ct helper`, `ct timeout` and `ct expectation`"),
                );
                return None;
            }
        },
    })
}

/// A layer 4 protocol by name (ctc-proto's inet_proto symbols) or number.
fn l4proto(t: &Term) -> Option<u8> {
    let s = text(t)?;
    Ty::InetProto.symbol(s).or_else(|| values::parse_number(s).map(|n| n as u64)).and_then(|n| u8::try_from(n).ok())
}

fn l3proto(t: &Term) -> Option<Family> {
    match text(t)? {
        "ip" => Some(Family::Ip),
        "ip6" => Some(Family::Ip6),
        "inet" => Some(Family::Inet),
        _ => None,
    }
}

/// Check an object declaration body; properties are kept as text.
pub fn check_object(
    family: Family,
    kind: &Spanned<ast::ObjectKind>,
    name: &str,
    name_span: Span,
    body: Option<&LineBlock>,
    diags: &mut Vec<Diagnostic>,
) -> Option<hir::Object> {
    let hkind = object_kind(kind, diags)?;
    let mut obj = hir::Object {
        kind: hkind,
        name: name.to_string(),
        span: name_span,
        helper: None,
        timeout: None,
        expect: None,
        props: Vec::new(),
    };
    let terms: Vec<&Term> = body.map(|b| b.lines.iter().flat_map(|l| l.terms.iter()).collect()).unwrap_or_default();
    let bad = |t: &Term, msg: String, help: &str| {
        Diagnostic::error("E4012", msg).with_label(t.span, "invalid here").with_help(help.to_string())
    };
    match hkind {
        ObjectKind::CtHelper => {
            let mut helper_type: Option<(String, Span)> = None;
            let mut proto: Option<(u8, Span)> = None;
            let mut l3 = None;
            let mut i = 0;
            while i < terms.len() {
                let t = terms[i];
                let arg = terms.get(i + 1).copied();
                match (text(t), arg) {
                    (Some("type"), Some(a)) if matches!(&a.kind, TermKind::Lit(LitKind::Str, _)) => {
                        helper_type = text(a).map(|s| (s.to_string(), a.span));
                    }
                    (Some("protocol"), Some(a)) => match l4proto(a) {
                        Some(p) => proto = Some((p, a.span)),
                        None => {
                            diags.push(bad(
                                a,
                                "invalid helper protocol".into(),
                                "a helper's protocol is `tcp` or `udp`",
                            ));
                            return None;
                        }
                    },
                    (Some("l3proto"), Some(a)) => match l3proto(a) {
                        Some(f) => l3 = Some(f),
                        None => {
                            diags.push(bad(a, "invalid l3proto".into(), "l3proto is `ip`, `ip6` or `inet`"));
                            return None;
                        }
                    },
                    _ => {
                        diags.push(bad(
                            t,
                            "unexpected term in a ct helper declaration".into(),
                            "write `ct helper NAME { type \"ftp\" protocol tcp; [l3proto ip;] }`",
                        ));
                        return None;
                    }
                }
                i += 2;
            }
            let Some((htype, hspan)) = helper_type else {
                diags.push(
                    Diagnostic::error("E4012", format!("ct helper `{name}` has no type"))
                        .with_label(name_span, "missing `type \"NAME\" protocol tcp|udp`"),
                );
                return None;
            };
            let Some((protocol, pspan)) = proto else {
                diags.push(
                    Diagnostic::error("E4012", format!("ct helper `{name}` has no protocol"))
                        .with_label(hspan, format!("add `protocol {}`", if htype == "tftp" { "udp" } else { "tcp" })),
                );
                return None;
            };
            match KNOWN_HELPERS.iter().find(|(n, _)| *n == htype) {
                None => {
                    let names: Vec<&str> = KNOWN_HELPERS.iter().map(|(n, _)| *n).collect();
                    let help = match crate::resolve::similar(&htype, names.iter().copied()) {
                        Some(s) => format!("did you mean \"{s}\"? helpers: {}", names.join(", ")),
                        None => format!("helpers: {}", names.join(", ")),
                    };
                    diags.push(
                        Diagnostic::error("E4008", format!("unknown conntrack helper \"{htype}\""))
                            .with_label(hspan, "no kernel helper has this name")
                            .with_help(help),
                    );
                    return None;
                }
                Some((_, protos)) if !protos.contains(&protocol) => {
                    diags.push(
                        Diagnostic::error("E4008", format!("helper \"{htype}\" does not handle this protocol"))
                            .with_label(pspan, "wrong protocol for this helper")
                            .with_secondary(hspan, "helper"),
                    );
                    return None;
                }
                _ => {}
            }
            if let Some(l3f) = l3
                && family != Family::Inet
                && l3f != family
                && l3f != Family::Inet
            {
                diags.push(
                    Diagnostic::error("E3004", "l3proto does not match the table family")
                        .with_label(name_span, format!("this table is {}", family.name())),
                );
                return None;
            }
            obj.helper = Some(HelperSpec { name: htype, protocol, l3proto: l3 });
        }
        ObjectKind::CtTimeout => {
            obj.timeout = Some(check_timeout(family, name, name_span, &terms, diags)?);
        }
        ObjectKind::CtExpectation => {
            obj.expect = Some(check_expectation(family, name, name_span, &terms, diags)?);
            let mut i = 0;
            while i + 1 < terms.len() {
                let k = text(terms[i]).unwrap_or("").to_string();
                let v = text(terms[i + 1]).unwrap_or("").to_string();
                obj.props.push((k, v));
                i += 2;
            }
        }
        _ => {
            // Other objects: keep properties as words; statements inside them
            // are validated by the runtime issue that executes them.
            let mut i = 0;
            while i < terms.len() {
                let k = text(terms[i]).unwrap_or("").to_string();
                let v = terms.get(i + 1).and_then(|t| text(t)).unwrap_or("").to_string();
                obj.props.push((k, v));
                i += 2;
            }
        }
    }
    Some(obj)
}

/// `ct expectation NAME { protocol tcp|udp; dport N; timeout T; size N;
/// [l3proto F;] }`: every property but l3proto is required.
fn check_expectation(
    family: Family,
    name: &str,
    name_span: Span,
    terms: &[&Term],
    diags: &mut Vec<Diagnostic>,
) -> Option<hir::ExpectSpec> {
    let (mut protocol, mut dport, mut timeout_ms, mut size, mut l3) = (None, None, None, None, None);
    let bad = |t: &Term, msg: &str, help: &str| {
        Diagnostic::error("E4012", msg.to_string()).with_label(t.span, "invalid here").with_help(help.to_string())
    };
    let mut ok = true;
    let mut i = 0;
    while i < terms.len() {
        let key = text(terms[i]).unwrap_or("");
        let Some(v) = terms.get(i + 1) else {
            diags.push(bad(terms[i], &format!("`{key}` without a value"), "write `KEY VALUE;`"));
            return None;
        };
        let word = text(v).unwrap_or("");
        match key {
            "protocol" => match word {
                "tcp" => protocol = Some(6u8),
                "udp" => protocol = Some(17),
                _ => {
                    diags.push(bad(v, "a ct expectation's protocol is tcp or udp", "write `protocol tcp;`"));
                    ok = false;
                }
            },
            "dport" => match values::parse_number(word).and_then(|n| u16::try_from(n).ok()) {
                Some(p) => dport = Some(p),
                None => {
                    diags.push(bad(v, "not a port number", "a port is 0 to 65535"));
                    ok = false;
                }
            },
            "timeout" => match values::parse_time_ms(word) {
                Some(t) if t <= u64::from(u32::MAX) => timeout_ms = Some(t),
                _ => {
                    diags.push(bad(v, "not a timeout", "write a time like `30s`, `5m` or `1h`"));
                    ok = false;
                }
            },
            "size" => match values::parse_number(word).and_then(|n| u8::try_from(n).ok()) {
                Some(n) => size = Some(n),
                None => {
                    diags.push(bad(v, "not a valid size", "at most 255 expectations per connection"));
                    ok = false;
                }
            },
            "l3proto" => match l3proto(v) {
                Some(f) => l3 = Some(f),
                None => {
                    diags.push(bad(v, "unknown l3proto", "write `ip`, `ip6` or `inet`"));
                    ok = false;
                }
            },
            _ => {
                diags.push(bad(
                    terms[i],
                    &format!("`{key}` is not a ct expectation property"),
                    "properties: protocol, dport, timeout, size, l3proto",
                ));
                ok = false;
            }
        }
        i += 2;
    }
    if !ok {
        return None;
    }
    let missing: Vec<&str> = [
        ("protocol", protocol.is_none()),
        ("dport", dport.is_none()),
        ("timeout", timeout_ms.is_none()),
        ("size", size.is_none()),
    ]
    .iter()
    .filter(|(_, m)| *m)
    .map(|(n, _)| *n)
    .collect();
    if !missing.is_empty() {
        diags.push(
            Diagnostic::error("E4012", format!("ct expectation `{name}` lacks {}", missing.join(", ")))
                .with_label(name_span, "missing options")
                .with_help("a ct expectation needs protocol, dport, timeout and size"),
        );
        return None;
    }
    if let Some(l3f) = l3
        && family != Family::Inet
        && l3f != family
        && l3f != Family::Inet
    {
        diags.push(
            Diagnostic::error("E3004", "l3proto does not match the table family")
                .with_label(name_span, format!("this table is {}", family.name())),
        );
        return None;
    }
    // nft_ct_expect_obj_init: the expectation's family is IPv4 or IPv6,
    // never inet (EAFNOSUPPORT): an inet table's object must say which.
    if l3.unwrap_or(family) == Family::Inet {
        diags.push(
            Diagnostic::error("E4012", format!("ct expectation `{name}` needs `l3proto ip` or `l3proto ip6`"))
                .with_label(name_span, "an expectation is for one address family")
                .with_help(
                    "in an inet table, add `l3proto ip;` (or `l3proto ip6;`): the kernel refuses the object otherwise",
                ),
        );
        return None;
    }
    Some(hir::ExpectSpec { protocol: protocol?, dport: dport?, timeout_ms: timeout_ms?, size: size?, l3proto: l3 })
}

/// `ct timeout NAME { protocol P; [l3proto F;] policy = { STATE: SECONDS, ... } }`.
fn check_timeout(
    family: Family,
    name: &str,
    name_span: Span,
    terms: &[&Term],
    diags: &mut Vec<Diagnostic>,
) -> Option<hir::TimeoutSpec> {
    let mut protocol: Option<u8> = None;
    let mut l3 = None;
    let mut policy_lit: Option<&ast::SetLit> = None;
    let mut i = 0;
    while i < terms.len() {
        let t = terms[i];
        match text(t) {
            Some("protocol") => {
                match terms.get(i + 1).and_then(|a| l4proto(a)) {
                    Some(p) => protocol = Some(p),
                    None => {
                        diags.push(
                            Diagnostic::error("E4012", "invalid ct timeout protocol")
                                .with_label(terms.get(i + 1).map_or(t.span, |a| a.span), "expected tcp, udp, icmp, ...")
                                .with_help("write `protocol tcp;`"),
                        );
                        return None;
                    }
                }
                i += 2;
            }
            Some("l3proto") => {
                match terms.get(i + 1).and_then(|a| l3proto(a)) {
                    Some(f) => l3 = Some(f),
                    None => {
                        diags.push(
                            Diagnostic::error("E4012", "invalid l3proto")
                                .with_label(terms.get(i + 1).map_or(t.span, |a| a.span), "l3proto is `ip` or `ip6`"),
                        );
                        return None;
                    }
                }
                i += 2;
            }
            Some("policy") => {
                let lit = match (terms.get(i + 1), terms.get(i + 2)) {
                    (Some(eq), Some(set)) if eq.is_op(Op::Assign) => match &set.kind {
                        TermKind::Set(l) => Some(l),
                        _ => None,
                    },
                    _ => None,
                };
                let Some(lit) = lit else {
                    diags.push(
                        Diagnostic::error("E4012", "invalid ct timeout policy")
                            .with_label(t.span, "write `policy = { established: 120, close: 10 }`"),
                    );
                    return None;
                };
                policy_lit = Some(lit);
                i += 3;
            }
            _ => {
                diags.push(
                    Diagnostic::error("E4012", "unexpected term in a ct timeout declaration")
                        .with_label(t.span, "invalid here")
                        .with_help(
                            "write `ct timeout NAME { protocol tcp; l3proto ip; policy = { established: 120 } }`",
                        ),
                );
                return None;
            }
        }
    }
    let Some(protocol) = protocol else {
        diags.push(
            Diagnostic::error("E4012", format!("ct timeout `{name}` has no protocol"))
                .with_label(name_span, "add `protocol tcp;` (or udp, icmp, ...)"),
        );
        return None;
    };
    if let Some(l3f) = l3
        && family != Family::Inet
        && l3f != family
    {
        diags.push(
            Diagnostic::error("E3004", "l3proto does not match the table family")
                .with_label(name_span, format!("this table is {}", family.name())),
        );
        return None;
    }
    let states = hir::timeout_states(protocol);
    let mut policy = Vec::new();
    for e in policy_lit.map(|l| l.elements.as_slice()).unwrap_or_default() {
        let (state, secs) = match e.terms.as_slice() {
            [s, colon, v] if colon.is_op(Op::Colon) => (s, v),
            _ => {
                diags.push(
                    Diagnostic::error("E4012", "invalid policy element")
                        .with_label(e.span, "write `STATE: SECONDS`, e.g. `established: 120`"),
                );
                return None;
            }
        };
        let Some(sname) = text(state).filter(|n| states.contains(n)) else {
            let got = text(state).unwrap_or("?");
            let mut d = Diagnostic::error("E4012", format!("`{got}` is not a state of this protocol's timeouts"))
                .with_label(state.span, "unknown state")
                .with_help(format!("states: {}", states.join(", ")));
            if let Some(s) = crate::resolve::similar(got, states.iter().copied()) {
                d = d.with_help(format!("did you mean `{s}`? states: {}", states.join(", ")));
            }
            diags.push(d);
            return None;
        };
        let Some(v) = text(secs).and_then(values::parse_time_ms).map(|ms| ms / 1000).filter(|&v| v <= u32::MAX as u64)
        else {
            diags.push(
                Diagnostic::error("E2006", "invalid timeout")
                    .with_label(secs.span, "expected seconds, or a time like `2m`"),
            );
            return None;
        };
        policy.push((sname.to_string(), v));
    }
    Some(hir::TimeoutSpec { protocol, l3proto: l3, policy })
}
