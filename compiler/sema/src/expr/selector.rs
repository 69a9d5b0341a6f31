//! Selectors: the expressions that load something from the packet or its
//! metadata (payload, exthdr, options, meta, ct, fib, rt, socket, osf, ipsec,
//! numgen, hashes, raw payload). Every name comes from ctc-proto's tables.

use super::deps::{check_payload_dep, require_l3};
use super::parser::{self, Pe};
use super::util::*;
use crate::cursor::Cursor;
use crate::cx::RuleCx;
use crate::hir::{Expr, ExprKind, ExprType, Family};
use ctc_grammar::Diagnostic;
use ctc_grammar::ast::{LitKind, Op, TermKind};
use ctc_proto::{self as proto, CtDir, L3, OptionTemplate, Ty};

/// Raw payload bases (`@nh,16,8`).
const RAW_BASES: &[&str] = &["ll", "nh", "th", "ih"];

/// Words that begin a selector of their own (besides protocol names,
/// extension header names and unqualified meta keys).
const SELECTOR_WORDS: &[&str] =
    &["meta", "ct", "fib", "rt", "socket", "osf", "ipsec", "numgen", "jhash", "symhash", "exthdr"];

/// Meta keys that exist only in bridge tables (kernel nft_meta_bridge).
const BRIDGE_META: &[&str] =
    &["ibrname", "obrname", "ibriport", "obriport", "ibrpvid", "ibrvproto", "ibrhwaddr", "broute"];

/// Whether the cursor is at the start of a selector.
pub(crate) fn is_selector_start(cur: &Cursor<'_>) -> bool {
    match cur.peek().map(|t| &t.kind) {
        Some(TermKind::Word(w)) => is_selector_word(w),
        Some(TermKind::At(base)) => RAW_BASES.contains(&base.as_str()) && is_op(cur.peek_at(1), Op::Comma),
        Some(TermKind::Group(inner)) => {
            let c = Cursor::new(inner, ctc_grammar::Span::default());
            // One level is enough to tell; deeper groups are parsed, not sniffed.
            matches!(c.peek().map(|t| &t.kind), Some(TermKind::Word(w)) if is_selector_word(w))
        }
        _ => false,
    }
}

pub(crate) fn is_selector_word(w: &str) -> bool {
    SELECTOR_WORDS.contains(&w)
        || proto::protocol(w).is_some()
        || proto::ip6_exthdr(w).is_some()
        || proto::meta_key(w).is_some_and(|k| k.unqualified)
}

/// Parse the selector at the cursor (the caller checked
/// [`is_selector_start`]).
pub(crate) fn parse_selector(cx: &mut RuleCx<'_>, cur: &mut Cursor<'_>, depth: usize) -> Option<Pe> {
    if depth > MAX_DEPTH {
        return err(cx, "E2013", "expression nested too deeply", cur.span(), "nesting limit reached here");
    }
    let start = cur.pos();
    let t = cur.peek()?;
    let w = match &t.kind {
        TermKind::At(base) => return parse_raw(cx, cur, base).map(Pe::plain),
        TermKind::Word(w) => w.as_str(),
        _ => return err(cx, "E2011", "expected an expression", t.span, "not a selector"),
    };
    let e = match w {
        "meta" => parse_meta(cx, cur, true),
        "ct" => return parse_ct(cx, cur),
        "fib" => parse_fib(cx, cur),
        "rt" if is_rt_expr(cur) => parse_rt(cx, cur),
        "socket" => parse_socket(cx, cur),
        "osf" => parse_osf(cx, cur),
        "ipsec" if matches!(cur.peek_word_at(1), Some("in" | "out")) => parse_ipsec(cx, cur),
        "ipsec" if ipsec_means_meta(cur) => parse_meta(cx, cur, false),
        "ipsec" => {
            let s = cur.peek_at(1).map_or(cur.end_span(), |t| t.span);
            let got = cur.peek_at(1).map_or("nothing".to_string(), describe);
            cx.error(suggest(
                Diagnostic::error("E2010", "`ipsec` needs a direction")
                    .with_label(s, format!("expected `in` or `out`, found {got}")),
                cur.peek_word_at(1).unwrap_or(""),
                ["in", "out"],
            ));
            None
        }
        "numgen" => parse_numgen(cx, cur),
        "jhash" | "symhash" => parse_hash(cx, cur, depth),
        "exthdr" => parse_exthdr(cx, cur, true),
        _ if proto::protocol(w).is_some() => parse_payload(cx, cur, None, depth),
        _ if proto::ip6_exthdr(w).is_some() => parse_exthdr(cx, cur, false),
        _ if proto::meta_key(w).is_some() => parse_meta(cx, cur, false),
        _ => err(cx, "E2010", format!("unknown expression `{w}`"), t.span, "not a known selector"),
    };
    let _ = start;
    e.map(Pe::plain)
}

/// `rt` is the routing expression when followed by one of its keys (or an
/// `ip`/`ip6` qualifier); otherwise it is the IPv6 routing header.
fn is_rt_expr(cur: &Cursor<'_>) -> bool {
    match cur.peek_word_at(1) {
        Some("ip" | "ip6") => true,
        Some(k) => proto::find_key(proto::RT_KEYS, k).is_some(),
        None => false,
    }
}

/// `ipsec exists`, `ipsec missing`, `ipsec 1`, or `ipsec` at the end:
/// the meta key.
fn ipsec_means_meta(cur: &Cursor<'_>) -> bool {
    match cur.peek_at(1).map(|t| &t.kind) {
        None => true,
        Some(TermKind::Word(w)) => Ty::Boolean.symbol(w).is_some() || w == "set",
        Some(TermKind::Lit(LitKind::Number | LitKind::Hex, _)) => true,
        Some(TermKind::Op(_)) => true,
        _ => false,
    }
}

fn next_word<'t>(cur: &mut Cursor<'t>) -> Option<&'t str> {
    let w = cur.peek_word()?;
    cur.next();
    Some(w)
}

fn missing<T>(cx: &mut RuleCx<'_>, cur: &Cursor<'_>, after: &str, what: &str, help: String) -> Option<T> {
    let found = cur.peek().map_or("the end of the rule".to_string(), describe);
    err_help(
        cx,
        "E2014",
        format!("incomplete expression `{after}`"),
        cur.span(),
        format!("expected {what}, found {found}"),
        help,
    )
}

fn list(names: impl IntoIterator<Item = &'static str>) -> String {
    let v: Vec<String> = names.into_iter().take(24).map(|n| format!("`{n}`")).collect();
    v.join(", ")
}

// ------------------------------------------------------------------ payload

/// `PROTO FIELD`, `PROTO option ...`, `TUNNEL INNER-PROTO FIELD`.
fn parse_payload(
    cx: &mut RuleCx<'_>,
    cur: &mut Cursor<'_>,
    inner_of: Option<&'static proto::Proto>,
    depth: usize,
) -> Option<Expr> {
    if depth > MAX_DEPTH {
        return err(cx, "E2013", "expression nested too deeply", cur.span(), "nesting limit reached here");
    }
    let start = cur.pos();
    let name = next_word(cur)?;
    let p = proto::protocol(name)?;
    match (name, cur.peek_word()) {
        ("tcp" | "ip" | "dccp", Some("option")) | ("sctp", Some("chunk")) => {
            if let Some(t) = inner_of {
                return err(
                    cx,
                    "E2010",
                    format!("options of a header inside {} are not supported", t.name),
                    cur.span(),
                    "not supported inside a tunnel",
                );
            }
            return parse_option(cx, cur, start, p);
        }
        _ => {}
    }
    let is_tunnel = matches!(name, "gre" | "gretap" | "vxlan" | "geneve");
    if is_tunnel {
        if let Some(iw) = cur.peek_word()
            && let Some(ip) = proto::protocol(iw)
        {
            if inner_of.is_some() || matches!(iw, "gre" | "gretap" | "vxlan" | "geneve") {
                return err(cx, "E2010", "nested tunnels are not supported", cur.span(), "a tunnel inside a tunnel");
            }
            if name == "gre" && matches!(iw, "ether" | "vlan") {
                return err_help(
                    cx,
                    "E2010",
                    format!("`gre {iw}` is not a valid expression"),
                    cur.span(),
                    "GRE carries no link-layer header",
                    "use `gretap` for Ethernet over GRE",
                );
            }
            let tspan = cur.span_from(start);
            if !check_payload_dep(cx, p, name, tspan) {
                return None;
            }
            let _ = ip;
            let e = parse_payload(cx, cur, Some(p), depth + 1)?;
            let ty = e.ty.clone();
            return Some(mk(ExprKind::Inner { tunnel: p.name, expr: Box::new(e) }, ty, cur.span_from(start)));
        }
        if name == "gretap" {
            return missing(
                cx,
                cur,
                name,
                "an inner header (`ether`, `ip`, `ip6`, ...)",
                "write e.g. `gretap ether saddr`".into(),
            );
        }
    }
    let Some(w1) = cur.peek_word() else {
        return missing(
            cx,
            cur,
            name,
            &format!("a {name} header field"),
            format!("fields of {name}: {}", list(p.fields.iter().map(|f| f.name))),
        );
    };
    // Two-word fields (`arp saddr ip`).
    let two = cur.peek_word_at(1).and_then(|w2| {
        let n = format!("{w1} {w2}");
        p.fields.iter().find(|f| f.name == n)
    });
    let field = if let Some(f) = two {
        cur.next();
        cur.next();
        f
    } else if let Some(f) = p.field(w1) {
        cur.next();
        f
    } else {
        let d = Diagnostic::error("E2010", format!("`{w1}` is not a field of the {name} header"))
            .with_label(cur.span(), format!("unknown {name} field"));
        let d = suggest(d, w1, p.fields.iter().map(|f| f.name));
        let d = if d.help.is_none() {
            d.with_help(format!("fields of {name}: {}", list(p.fields.iter().map(|f| f.name))))
        } else {
            d
        };
        cx.error(d);
        return None;
    };
    let span = cur.span_from(start);
    if inner_of.is_none() {
        let what = format!("{name} {}", field.name);
        if !check_payload_dep(cx, p, &what, span) {
            return None;
        }
    }
    Some(mk(
        ExprKind::Payload { proto: p.name, field: field.name, offset: field.offset, bits: field.bits },
        scalar(field.ty, field.bits),
        span,
    ))
}

/// `tcp option NAME [FIELD]`, `ip option NAME [FIELD]`, `sctp chunk NAME
/// [FIELD]`, `dccp option NUM`: a field, or existence when no field follows.
fn parse_option(cx: &mut RuleCx<'_>, cur: &mut Cursor<'_>, start: usize, p: &'static proto::Proto) -> Option<Expr> {
    cur.next(); // option / chunk
    let (table, what): (&'static [OptionTemplate], &str) = match p.name {
        "tcp" => (proto::TCP_OPTIONS, "tcp option"),
        "ip" => (proto::IP_OPTIONS, "ip option"),
        "sctp" => (proto::SCTP_CHUNKS, "sctp chunk"),
        _ => (&[], "dccp option"),
    };
    let name_t = match cur.peek() {
        Some(t) => t,
        None => {
            return missing(cx, cur, what, "an option name", format!("known: {}", list(table.iter().map(|o| o.name))));
        }
    };
    // Numeric option kinds: `tcp option 254 exists`, `dccp option 4 exists`.
    if let TermKind::Lit(LitKind::Number | LitKind::Hex, s) = &name_t.kind {
        let Some(kind) = crate::values::parse_number(s).and_then(|v| u8::try_from(v).ok()) else {
            return err(cx, "E2002", format!("option kind `{s}` is out of range"), name_t.span, "expected 0-255");
        };
        cur.next();
        let span = cur.span_from(start);
        if !check_payload_dep(cx, p, what, span) {
            return None;
        }
        let known = table.iter().find(|o| o.kind == kind);
        let (field, off, bits, ty) = match cur.peek_word().and_then(|w| known.and_then(|o| o.field(w))) {
            Some(f) => {
                cur.next();
                (Some(f.name), f.offset, f.bits, scalar(f.ty, f.bits))
            }
            None => (None, 0, 0, scalar(Ty::Boolean, 1)),
        };
        return Some(mk(
            ExprKind::Opt { proto: p.name, name: kind.to_string(), kind, field, offset: off, bits },
            ty,
            cur.span_from(start),
        ));
    }
    let Some(n) = name_t.word() else {
        return err(cx, "E2010", format!("expected a {what} name"), name_t.span, format!("found {}", describe(name_t)));
    };
    let Some(tpl) = table.iter().find(|o| o.name == n) else {
        let d = Diagnostic::error("E2010", format!("unknown {what} `{n}`"))
            .with_label(name_t.span, format!("not a known {what}"));
        let d = suggest(d, n, table.iter().map(|o| o.name));
        let d =
            if d.help.is_none() { d.with_help(format!("known: {}", list(table.iter().map(|o| o.name)))) } else { d };
        cx.error(d);
        return None;
    };
    cur.next();
    let span = cur.span_from(start);
    if !check_payload_dep(cx, p, &format!("{what} {n}"), span) {
        return None;
    }
    let (field, off, bits, ty) = match cur.peek_word() {
        Some(w) if tpl.field(w).is_some() => {
            cur.next();
            let f = tpl.field(w)?;
            (Some(f.name), f.offset, f.bits, scalar(f.ty, f.bits))
        }
        Some(w)
            if Ty::Boolean.symbol(w).is_none()
                && w != "set"
                && !crate::stmt::starts_stmt(cx, cur)
                && !is_selector_word(w) =>
        {
            let d = Diagnostic::error("E2010", format!("`{w}` is not a field of {what} {n}"))
                .with_label(cur.span(), "unknown field");
            let d = suggest(d, w, tpl.fields.iter().map(|f| f.name));
            let d = if d.help.is_none() {
                d.with_help(format!(
                    "fields: {}; or test presence with `exists`/`missing`",
                    list(tpl.fields.iter().map(|f| f.name))
                ))
            } else {
                d
            };
            cx.error(d);
            return None;
        }
        _ => (None, 0, 0, scalar(Ty::Boolean, 1)),
    };
    Some(mk(
        ExprKind::Opt { proto: p.name, name: tpl.name.to_string(), kind: tpl.kind, field, offset: off, bits },
        ty,
        cur.span_from(start),
    ))
}

/// `@base,offset,length`.
fn parse_raw(cx: &mut RuleCx<'_>, cur: &mut Cursor<'_>, base: &str) -> Option<Expr> {
    let start = cur.pos();
    cur.next();
    let mut nums = [0u128; 2];
    for n in &mut nums {
        if !cur.eat_op(Op::Comma) {
            return missing(cx, cur, &format!("@{base}"), "`,`", "raw payload is `@base,offset,length`".into());
        }
        match eat_number(cur) {
            Some((v, _)) => *n = v,
            None => {
                return missing(
                    cx,
                    cur,
                    &format!("@{base}"),
                    "a number",
                    "raw payload is `@base,offset,length`".into(),
                );
            }
        }
    }
    let span = cur.span_from(start);
    let Ok(offset) = u32::try_from(nums[0]) else {
        return err(cx, "E2002", "raw payload offset out of range", span, "offset must fit in 32 bits");
    };
    let bits = match u32::try_from(nums[1]) {
        Ok(b @ 1..=128) => b,
        _ => return err(cx, "E2002", "raw payload length out of range", span, "length must be 1-128 bits"),
    };
    Some(mk(ExprKind::Raw { base: base.to_string(), offset, bits }, scalar(Ty::Integer, bits), span))
}

// ------------------------------------------------------------------ exthdr

fn parse_exthdr(cx: &mut RuleCx<'_>, cur: &mut Cursor<'_>, explicit: bool) -> Option<Expr> {
    let start = cur.pos();
    if explicit {
        cur.next();
    }
    let nt = cur.peek();
    let Some(name) = cur.peek_word() else {
        return missing(
            cx,
            cur,
            "exthdr",
            "an extension header name",
            format!("known: {}", list(proto::IP6_EXTHDRS.iter().map(|p| p.name))),
        );
    };
    let Some(h) = proto::ip6_exthdr(name) else {
        let span = nt.map_or(cur.span(), |t| t.span);
        let d = Diagnostic::error("E2010", format!("unknown IPv6 extension header `{name}`"))
            .with_label(span, "not an extension header");
        let d = suggest(d, name, proto::IP6_EXTHDRS.iter().map(|p| p.name));
        cx.error(d);
        return None;
    };
    cur.next();
    let what = if explicit { format!("exthdr {name}") } else { name.to_string() };
    if !require_l3(cx, L3::Ipv6, &what, cur.span_from(start)) {
        return None;
    }
    let fw = cur.peek_word();
    // Indexed fields: `rt0 addr[2]`, `srh sid[1]` (the lexer splits `[N]`).
    if let Some(w) = fw
        && let Some(TermKind::Bracket(idx)) = cur.peek_at(1).map(|t| &t.kind)
    {
        let key = format!("{w}[1]");
        if let Some(f) = h.fields.iter().find(|f| f.name == key) {
            cur.next();
            let bt = cur.next()?;
            let n = match idx.as_slice() {
                [t] => match &t.kind {
                    TermKind::Lit(LitKind::Number, s) => crate::values::parse_number(s),
                    _ => None,
                },
                _ => None,
            };
            let n = match n {
                Some(n @ 1..=127) => n as u32,
                _ => return err(cx, "E2002", format!("invalid index for `{w}`"), bt.span, "expected an index 1-127"),
            };
            let offset = f.offset + (n - 1) * f.bits;
            return Some(mk(
                ExprKind::Exthdr { hdr: h.name, field: Some(f.name), offset, bits: f.bits },
                scalar(f.ty, f.bits),
                cur.span_from(start),
            ));
        }
    }
    if let Some(w) = fw
        && let Some(f) = h.field(w)
    {
        cur.next();
        return Some(mk(
            ExprKind::Exthdr { hdr: h.name, field: Some(f.name), offset: f.offset, bits: f.bits },
            scalar(f.ty, f.bits),
            cur.span_from(start),
        ));
    }
    if let Some(w) = fw
        && !explicit
        && Ty::Boolean.symbol(w).is_none()
    {
        let d = Diagnostic::error("E2010", format!("`{w}` is not a field of the {name} extension header"))
            .with_label(cur.span(), "unknown field");
        let d = suggest(d, w, h.fields.iter().map(|f| f.name));
        cx.error(d);
        return None;
    }
    if !explicit && fw.is_none() {
        return missing(
            cx,
            cur,
            name,
            "a field or `exists`",
            format!("fields of {name}: {}", list(h.fields.iter().map(|f| f.name))),
        );
    }
    Some(mk(
        ExprKind::Exthdr { hdr: h.name, field: None, offset: 0, bits: 0 },
        scalar(Ty::Boolean, 1),
        cur.span_from(start),
    ))
}

// ------------------------------------------------------------------ meta

fn parse_meta(cx: &mut RuleCx<'_>, cur: &mut Cursor<'_>, qualified: bool) -> Option<Expr> {
    let start = cur.pos();
    if qualified {
        cur.next();
    }
    let Some((kt_, w)) = cur.peek().and_then(|t| t.word().map(|w| (t, w))) else {
        return missing(
            cx,
            cur,
            "meta",
            "a meta key",
            format!("keys: {}", list(proto::META_KEYS.iter().map(|k| k.name))),
        );
    };
    let Some(k) = proto::meta_key(w) else {
        let d = Diagnostic::error("E2010", format!("unknown meta key `{w}`")).with_label(kt_.span, "not a meta key");
        let d = suggest(d, w, proto::META_KEYS.iter().map(|k| k.name));
        cx.error(d);
        return None;
    };
    cur.next();
    let span = cur.span_from(start);
    if BRIDGE_META.contains(&k.name) && cx.family != Family::Bridge {
        return err_help(
            cx,
            "E3002",
            format!("`meta {}` is only available in bridge tables", k.name),
            span,
            format!("this table is {}", cx.family.name()),
            "bridge port information exists only for frames seen by a bridge",
        );
    }
    if k.name == "nfproto" && cx.family != Family::Inet {
        // nft's evaluation refuses it in every other family (measured).
        return err_help(
            cx,
            "E3002",
            "meta nfproto is only useful in the inet family",
            span,
            format!("this table is {}: its packets are of one family", cx.family.name()),
            "in an ip or ip6 table every packet is of the table's family; match `meta protocol` in bridge and netdev tables",
        );
    }
    Some(mk(ExprKind::Meta { key: k.name }, scalar(k.ty, k.bits), span))
}

// ------------------------------------------------------------------ ct

/// The type of an address key once its network protocol is known, from an
/// explicit `ip`/`ip6` or from the rule's context.
fn l3_addr(cx: &mut RuleCx<'_>, qual: Option<bool>, what: &str, span: ctc_grammar::Span) -> Option<(ExprType, bool)> {
    if let Some(v6) = qual {
        // The qualifier must fit the family (an ip table carries no IPv6).
        if let Some((have, hspan)) = cx.proto.l3
            && hspan == ctc_grammar::Span::default()
            && ((v6 && have != L3::Ipv6) || (!v6 && have != L3::Ipv4))
        {
            return err_help(
                cx,
                "E3002",
                format!("`{what}` does not fit an {} table", cx.family.name()),
                span,
                if v6 { "IPv6 addresses in a table without IPv6" } else { "IPv4 addresses in a table without IPv4" },
                "use an inet table, or the other address family",
            );
        }
        let (t, b) = proto::l3_addr_ty(v6);
        return Some((scalar(t, b), false));
    }
    match cx.proto.l3.map(|(l, _)| l) {
        Some(L3::Ipv4) => Some((scalar(Ty::Ipv4Addr, 32), true)),
        Some(L3::Ipv6) => Some((scalar(Ty::Ipv6Addr, 128), true)),
        _ => err_help(
            cx,
            "E3003",
            format!("cannot tell whether `{what}` is an IPv4 or an IPv6 address"),
            span,
            "the address family is not known here",
            format!("write `{}` with `ip` or `ip6` before the key, or match `meta nfproto ipv4` first", what),
        ),
    }
}

fn parse_ct(cx: &mut RuleCx<'_>, cur: &mut Cursor<'_>) -> Option<Pe> {
    let start = cur.pos();
    cur.next();
    let dir = match cur.peek_word() {
        Some(d @ ("original" | "reply")) => {
            cur.next();
            Some(if d == "original" { "original" } else { "reply" })
        }
        _ => None,
    };
    let qual = match cur.peek_word() {
        Some("ip") => Some(false),
        Some("ip6") => Some(true),
        _ => None,
    };
    let qual_span = cur.span();
    if qual.is_some() {
        cur.next();
    }
    let Some((kterm, w)) = cur.peek().and_then(|t| t.word().map(|w| (t, w))) else {
        return missing(
            cx,
            cur,
            "ct",
            "a conntrack key",
            format!("keys: {}", list(proto::CT_KEYS.iter().map(|k| k.name))),
        );
    };
    if proto::CT_OBJECT_SETS.contains(&w) && proto::ct_key(w).is_none() && cur.peek_word_at(1) == Some("set") {
        // `ct timeout set "name"`: an object assignment, completed by the
        // statement parser.
        cur.next();
        let name = if w == "timeout" { "timeout" } else { "expectation" };
        return Some(Pe::plain(mk(
            ExprKind::Key { expr: "ct", key: name.to_string(), args: Vec::new() },
            scalar(Ty::String, 128),
            cur.span_from(start),
        )));
    }
    let Some(k) = proto::ct_key(w) else {
        let d =
            Diagnostic::error("E2010", format!("unknown conntrack key `{w}`")).with_label(kterm.span, "not a ct key");
        let d = suggest(d, w, proto::CT_KEYS.iter().map(|k| k.name));
        let d = if w == "count" { d.with_help("`ct count` is a statement: `ct count over N`") } else { d };
        cx.error(d);
        return None;
    };
    cur.next();
    let span = cur.span_from(start);
    match (k.dir, dir) {
        (CtDir::Never, Some(d)) => {
            return err_help(
                cx,
                "E2010",
                format!("`ct {}` does not take a direction", k.name),
                span,
                format!("`{d}` is not allowed here"),
                format!("write `ct {}`", k.name),
            );
        }
        (CtDir::Required, None) => {
            return err_help(
                cx,
                "E2014",
                format!("`ct {}` needs a direction", k.name),
                span,
                "missing `original` or `reply`",
                format!("write `ct original {}` or `ct reply {}`", k.name, k.name),
            );
        }
        _ => {}
    }
    if qual.is_some() && !k.l3_addr {
        return err(
            cx,
            "E2010",
            format!("`ct {}` takes no `ip`/`ip6` qualifier", k.name),
            qual_span,
            "only saddr and daddr have an address family",
        );
    }
    let dirs = dir.map(|d| format!("{d} ")).unwrap_or_default();
    if k.l3_addr {
        let (ty, unq) = l3_addr(cx, qual, &format!("ct {dirs}{}", k.name), span)?;
        return Some(Pe { e: mk(ExprKind::Ct { key: k.name, dir }, ty, span), unq_ct: unq.then_some(span) });
    }
    Some(Pe::plain(mk(ExprKind::Ct { key: k.name, dir }, scalar(k.ty, k.bits), span)))
}

// ------------------------------------------------------------------ fib

fn parse_fib(cx: &mut RuleCx<'_>, cur: &mut Cursor<'_>) -> Option<Expr> {
    let start = cur.pos();
    cur.next();
    let mut flags: Vec<String> = Vec::new();
    loop {
        match cur.peek_word() {
            Some(f) if proto::FIB_FLAGS.contains(&f) => {
                if flags.iter().any(|x| x == f) {
                    return err(cx, "E2013", format!("fib flag `{f}` given twice"), cur.span(), "duplicate flag");
                }
                flags.push(f.to_string());
                cur.next();
            }
            Some(f) if flags.is_empty() => {
                let d = Diagnostic::error("E2010", format!("unknown fib flag `{f}`"))
                    .with_label(cur.span(), "expected saddr, daddr, mark, iif or oif");
                cx.error(suggest(d, f, proto::FIB_FLAGS.iter().copied()));
                return None;
            }
            _ if flags.is_empty() => {
                return missing(cx, cur, "fib", "`saddr` or `daddr`", "write e.g. `fib daddr type local`".into());
            }
            _ => break,
        }
        if is_op(cur.peek(), Op::Dot) && cur.peek_word_at(1).is_some_and(|w| proto::FIB_FLAGS.contains(&w)) {
            cur.next();
        } else {
            break;
        }
    }
    let span_flags = cur.span_from(start);
    let has = |f: &str| flags.iter().any(|x| x == f);
    if has("saddr") == has("daddr") {
        return err_help(
            cx,
            "E2013",
            "fib needs exactly one of `saddr` and `daddr`",
            span_flags,
            if has("saddr") { "both saddr and daddr given" } else { "neither saddr nor daddr given" },
            "write e.g. `fib saddr . iif oif` or `fib daddr type`",
        );
    }
    if has("iif") && has("oif") {
        return err(
            cx,
            "E2013",
            "fib flags `iif` and `oif` exclude each other",
            span_flags,
            "give at most one of iif, oif",
        );
    }
    let Some(rt) = cur.peek() else {
        return missing(
            cx,
            cur,
            "fib",
            "a result (`oif`, `oifname` or `type`)",
            "write e.g. `fib daddr type local`".into(),
        );
    };
    // `fib ... check exists|missing` (nft >= 1.1.1): whether a route exists,
    // the `oif` lookup with NFTA_FIB_F_PRESENT; the result is a boolean.
    if rt.word() == Some("check") {
        cur.next();
        let span = cur.span_from(start);
        if !matches!(cur.peek_word(), Some("exists" | "missing" | "true" | "false")) {
            return err_help(
                cx,
                "E2014",
                "`fib ... check` needs `exists` or `missing`",
                cur.span(),
                "expected `exists` or `missing`",
                "write e.g. `fib daddr . iif check missing drop`",
            );
        }
        if let Some((_, hook)) = cx.chain.base
            && !matches!(
                hook,
                ctc_proto::Hook::Prerouting
                    | ctc_proto::Hook::Input
                    | ctc_proto::Hook::Forward
                    | ctc_proto::Hook::Ingress
            )
        {
            return err_help(
                cx,
                "E4006",
                format!("this fib lookup is not available in the {} hook", hook.name()),
                span,
                format!("not computable at {}", hook.name()),
                "`fib ... check` works in prerouting, input and forward chains",
            );
        }
        return Some(mk(ExprKind::Fib { flags, result: "check" }, scalar(Ty::Boolean, 1), span));
    }
    let Some(r) = rt.word().and_then(|w| proto::find_key(proto::FIB_RESULTS, w)) else {
        let w = rt.word().unwrap_or("");
        let d = Diagnostic::error("E2010", format!("unknown fib result {}", describe(rt)))
            .with_label(rt.span, "expected `oif`, `oifname`, `type` or `check`");
        cx.error(suggest(d, w, proto::FIB_RESULTS.iter().map(|k| k.name)));
        return None;
    };
    cur.next();
    let span = cur.span_from(start);
    // Kernel nft_fib_validate: an output interface is only known once the
    // packet was routed towards it, an input interface only on the way in.
    if let Some((_, hook)) = cx.chain.base {
        use ctc_proto::Hook as H;
        let input_side = matches!(hook, H::Prerouting | H::Input | H::Forward | H::Ingress);
        let output_side = matches!(hook, H::Output | H::Postrouting | H::Forward);
        let bad = match r.name {
            "oif" | "oifname" => !input_side,
            _ if has("iif") => !input_side,
            _ if has("oif") => !output_side,
            _ => false,
        };
        if bad {
            return err_help(
                cx,
                "E4006",
                format!("this fib lookup is not available in the {} hook", hook.name()),
                span,
                format!("not computable at {}", hook.name()),
                if r.name == "type" && has("oif") {
                    "`fib ... oif type` works in output, postrouting and forward chains"
                } else {
                    "`fib` with an input interface works in prerouting, input and forward chains"
                },
            );
        }
    }
    Some(mk(ExprKind::Fib { flags, result: r.name }, scalar(r.ty, r.bits), span))
}

// ------------------------------------------------------------------ rt, socket, osf, ipsec

fn parse_rt(cx: &mut RuleCx<'_>, cur: &mut Cursor<'_>) -> Option<Expr> {
    let start = cur.pos();
    cur.next();
    let qual = match cur.peek_word() {
        Some("ip") => Some(false),
        Some("ip6") => Some(true),
        _ => None,
    };
    if qual.is_some() {
        cur.next();
    }
    let Some(w) = cur.peek_word() else {
        return missing(cx, cur, "rt", "a route key", format!("keys: {}", list(proto::RT_KEYS.iter().map(|k| k.name))));
    };
    let Some(k) = proto::find_key(proto::RT_KEYS, w) else {
        let d = Diagnostic::error("E2010", format!("unknown route key `{w}`")).with_label(cur.span(), "not an rt key");
        cx.error(suggest(d, w, proto::RT_KEYS.iter().map(|k| k.name)));
        return None;
    };
    cur.next();
    let span = cur.span_from(start);
    let mut args = Vec::new();
    let ty = if k.name == "nexthop" {
        if let Some(v6) = qual {
            args.push(if v6 { "ip6" } else { "ip" }.to_string());
        }
        l3_addr(cx, qual, "rt nexthop", span)?.0
    } else {
        if qual.is_some() {
            return err(
                cx,
                "E2010",
                format!("`rt {}` takes no `ip`/`ip6` qualifier", k.name),
                span,
                "only nexthop has an address family",
            );
        }
        scalar(k.ty, k.bits)
    };
    Some(mk(ExprKind::Key { expr: "rt", key: k.name.to_string(), args }, ty, span))
}

fn parse_socket(cx: &mut RuleCx<'_>, cur: &mut Cursor<'_>) -> Option<Expr> {
    let start = cur.pos();
    cur.next();
    let Some(w) = cur.peek_word() else {
        return missing(
            cx,
            cur,
            "socket",
            "a socket key",
            format!("keys: {}", list(proto::SOCKET_KEYS.iter().map(|k| k.name))),
        );
    };
    let Some(k) = proto::find_key(proto::SOCKET_KEYS, w) else {
        let d =
            Diagnostic::error("E2010", format!("unknown socket key `{w}`")).with_label(cur.span(), "not a socket key");
        cx.error(suggest(d, w, proto::SOCKET_KEYS.iter().map(|k| k.name)));
        return None;
    };
    cur.next();
    let mut args = Vec::new();
    if k.name == "cgroupv2" {
        if !cur.eat_word("level") {
            return missing(
                cx,
                cur,
                "socket cgroupv2",
                "`level N`",
                "write e.g. `socket cgroupv2 level 1 \"user.slice\"`".into(),
            );
        }
        match eat_number(cur) {
            Some((n, _)) if n <= 255 => args.push(n.to_string()),
            Some((_, s)) => return err(cx, "E2002", "cgroup level out of range", s, "expected 0-255"),
            None => return missing(cx, cur, "socket cgroupv2 level", "a level number", "write e.g. `level 1`".into()),
        }
    }
    let ty = match k.name {
        "cgroupv2" => scalar(Ty::String, 0),
        // Flags: the kernel returns 0 or 1 (nft's socket.c types them as
        // one-bit integers, so `socket transparent 2` is out of range).
        "transparent" | "wildcard" => scalar(k.ty, 1),
        _ => scalar(k.ty, k.bits),
    };
    Some(mk(ExprKind::Key { expr: "socket", key: k.name.to_string(), args }, ty, cur.span_from(start)))
}

fn parse_osf(cx: &mut RuleCx<'_>, cur: &mut Cursor<'_>) -> Option<Expr> {
    let start = cur.pos();
    cur.next();
    let mut args = Vec::new();
    if cur.eat_word("ttl") {
        match cur.peek_word() {
            Some(m @ ("loose" | "skip" | "global")) => {
                args.push(format!("ttl {m}"));
                cur.next();
            }
            _ => {
                return missing(
                    cx,
                    cur,
                    "osf ttl",
                    "`loose`, `skip` or `global`",
                    "write e.g. `osf ttl skip name \"Linux\"`".into(),
                );
            }
        }
    }
    let Some(w) = cur.peek_word() else {
        return missing(cx, cur, "osf", "`name` or `version`", "write e.g. `osf name \"Linux\"`".into());
    };
    let Some(k) = proto::find_key(proto::OSF_KEYS, w) else {
        let d = Diagnostic::error("E2010", format!("unknown osf key `{w}`"))
            .with_label(cur.span(), "expected `name` or `version`");
        cx.error(suggest(d, w, proto::OSF_KEYS.iter().map(|k| k.name)));
        return None;
    };
    cur.next();
    Some(mk(ExprKind::Key { expr: "osf", key: k.name.to_string(), args }, scalar(k.ty, k.bits), cur.span_from(start)))
}

fn parse_ipsec(cx: &mut RuleCx<'_>, cur: &mut Cursor<'_>) -> Option<Expr> {
    let start = cur.pos();
    cur.next();
    let dir = next_word(cur)?.to_string();
    let mut args = vec![dir];
    if cur.eat_word("spnum") {
        match eat_number(cur) {
            Some((n, _)) if n <= 255 => args.push(format!("spnum {n}")),
            Some((_, s)) => {
                return err_help(
                    cx,
                    "E2002",
                    "ipsec spnum out of range",
                    s,
                    "expected a policy number 0-255",
                    "the kernel keeps at most 256 policies per packet path",
                );
            }
            None => return missing(cx, cur, "ipsec spnum", "a number", "write e.g. `ipsec in spnum 1 reqid 1`".into()),
        }
    }
    let qual = match cur.peek_word() {
        Some("ip") => Some(false),
        Some("ip6") => Some(true),
        _ => None,
    };
    if qual.is_some() {
        cur.next();
    }
    let Some(w) = cur.peek_word() else {
        return missing(
            cx,
            cur,
            "ipsec",
            "a key (`reqid`, `spi`, `saddr`, `daddr`)",
            "write e.g. `ipsec in reqid 1`".into(),
        );
    };
    let Some(k) = proto::find_key(proto::IPSEC_KEYS, w) else {
        let d = Diagnostic::error("E2010", format!("unknown ipsec key `{w}`"))
            .with_label(cur.span(), "expected reqid, spi, saddr or daddr");
        cx.error(suggest(d, w, proto::IPSEC_KEYS.iter().map(|k| k.name)));
        return None;
    };
    cur.next();
    let span = cur.span_from(start);
    let ty = if matches!(k.name, "saddr" | "daddr") {
        if let Some(v6) = qual {
            args.push(if v6 { "ip6" } else { "ip" }.to_string());
            let (t, b) = proto::l3_addr_ty(v6);
            scalar(t, b)
        } else {
            l3_addr(cx, None, &format!("ipsec {}", k.name), span)?.0
        }
    } else {
        if qual.is_some() {
            return err(
                cx,
                "E2010",
                format!("`ipsec {}` takes no `ip`/`ip6` qualifier", k.name),
                span,
                "only saddr and daddr have an address family",
            );
        }
        scalar(k.ty, k.bits)
    };
    Some(mk(ExprKind::Key { expr: "ipsec", key: k.name.to_string(), args }, ty, span))
}

// ------------------------------------------------------------------ numgen, hashes

/// `mod N [seed S] [offset O]` (seed only for jhash).
fn parse_mod_tail(
    cx: &mut RuleCx<'_>,
    cur: &mut Cursor<'_>,
    what: &str,
    allow_seed: bool,
) -> Option<(u32, Option<u32>, u32)> {
    if !cur.eat_word("mod") {
        return missing(cx, cur, what, "`mod N`", format!("write e.g. `{what} mod 2`"));
    }
    let modulus = match eat_number(cur) {
        Some((0, s)) => return err(cx, "E2002", "modulus must not be 0", s, "expected 1-4294967295"),
        Some((n, s)) => match u32::try_from(n) {
            Ok(n) => n,
            Err(_) => return err(cx, "E2002", "modulus out of range", s, "expected 1-4294967295"),
        },
        None => return missing(cx, cur, &format!("{what} mod"), "a number", format!("write e.g. `{what} mod 2`")),
    };
    let mut seed = None;
    let mut offset = 0u32;
    loop {
        let w = cur.peek_word();
        let which = match w {
            Some("seed") if allow_seed && seed.is_none() => "seed",
            Some("offset") => "offset",
            _ => break,
        };
        cur.next();
        let v = match eat_number(cur) {
            Some((n, s)) => match u32::try_from(n) {
                Ok(n) => n,
                Err(_) => return err(cx, "E2002", format!("{which} out of range"), s, "expected a 32-bit number"),
            },
            None => return missing(cx, cur, which, "a number", format!("write e.g. `{which} 1`")),
        };
        if which == "seed" {
            seed = Some(v);
        } else {
            offset = v;
        }
    }
    if u64::from(offset) + u64::from(modulus) - 1 > u64::from(u32::MAX) {
        return err(
            cx,
            "E2002",
            "offset + modulus exceeds 32 bits",
            cur.span_from(cur.pos().saturating_sub(1)),
            "the result would not fit in 32 bits",
        );
    }
    Some((modulus, seed, offset))
}

fn parse_numgen(cx: &mut RuleCx<'_>, cur: &mut Cursor<'_>) -> Option<Expr> {
    let start = cur.pos();
    cur.next();
    let mode = match cur.peek_word() {
        Some(m @ ("inc" | "random")) => {
            cur.next();
            m.to_string()
        }
        Some(m) => {
            let d = Diagnostic::error("E2010", format!("unknown numgen mode `{m}`"))
                .with_label(cur.span(), "expected `inc` or `random`");
            cx.error(suggest(d, m, ["inc", "random"]));
            return None;
        }
        None => return missing(cx, cur, "numgen", "`inc` or `random`", "write e.g. `numgen inc mod 2`".into()),
    };
    let (modulus, _, offset) = parse_mod_tail(cx, cur, "numgen", false)?;
    Some(mk(ExprKind::Numgen { mode, modulus, offset }, scalar(Ty::Integer32, 32), cur.span_from(start)))
}

fn parse_hash(cx: &mut RuleCx<'_>, cur: &mut Cursor<'_>, depth: usize) -> Option<Expr> {
    let start = cur.pos();
    let kind = if next_word(cur)? == "jhash" { "jhash" } else { "symhash" };
    let input = if kind == "jhash" {
        if !is_selector_start(cur) {
            return missing(
                cx,
                cur,
                "jhash",
                "the expression to hash",
                "write e.g. `jhash ip saddr . ip daddr mod 2`".into(),
            );
        }
        Some(Box::new(parser::parse_concat(cx, cur, depth + 1, None, false)?.e))
    } else {
        None
    };
    let (modulus, seed, offset) = parse_mod_tail(cx, cur, kind, kind == "jhash")?;
    Some(mk(ExprKind::Hash { kind, input, modulus, seed, offset }, scalar(Ty::Integer32, 32), cur.span_from(start)))
}
