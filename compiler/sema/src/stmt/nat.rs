//! Statements that need the rule's network/transport context: snat, dnat,
//! masquerade, redirect (nft `stmt_evaluate_nat`), tproxy
//! (`stmt_evaluate_tproxy`), dup, fwd and reject
//! (`stmt_evaluate_reject*`).
//!
//! The address family of a NAT target comes from the table (ip, ip6), an
//! explicit `ip`/`ip6` (`snat ip to ...`), or in inet tables from an earlier
//! match that fixed the network protocol (`ip saddr 10.0.0.0/8 snat to
//! ...`); ports need a transport protocol match before the statement.

use super::args::{self, DataSpec, describe, kt};
use super::{check_hook, fail};
use crate::cursor::Cursor;
use crate::cx::RuleCx;
use crate::hir::{Expr, ExprKind, ExprType, Nat, NatFlags, NatKind, NfFamily, RejectKind, StmtKind};
use ctc_grammar::ast::{LitKind, Op, Term, TermKind};
use ctc_grammar::{Diagnostic, Span};
use ctc_proto::{Family, HookedStmt, L3, Ty};

/// The network protocol fixed by the rule so far, if IPv4 or IPv6.
fn ctx_family(cx: &RuleCx<'_>) -> Option<(NfFamily, Span)> {
    match cx.proto.l3 {
        Some((L3::Ipv4, s)) => Some((NfFamily::Ipv4, s)),
        Some((L3::Ipv6, s)) => Some((NfFamily::Ipv6, s)),
        _ => None,
    }
}

fn table_family(cx: &RuleCx<'_>) -> Option<NfFamily> {
    match cx.family {
        Family::Ip => Some(NfFamily::Ipv4),
        Family::Ip6 => Some(NfFamily::Ipv6),
        _ => None,
    }
}

fn fam_desc(f: NfFamily) -> &'static str {
    match f {
        NfFamily::Ipv4 => "IPv4",
        NfFamily::Ipv6 => "IPv6",
    }
}

fn addr_kt(f: NfFamily) -> crate::hir::KeyType {
    kt(match f {
        NfFamily::Ipv4 => Ty::Ipv4Addr,
        NfFamily::Ipv6 => Ty::Ipv6Addr,
    })
}

/// The family a literal address term is written in.
fn literal_family(t: &Term) -> Option<NfFamily> {
    match &t.kind {
        TermKind::Lit(LitKind::Ipv4, _) => Some(NfFamily::Ipv4),
        TermKind::Lit(LitKind::ColonHex, _) | TermKind::Bracket(_) => Some(NfFamily::Ipv6),
        _ => None,
    }
}

/// An explicit `ip`/`ip6` must agree with the protocol the rule matches
/// (nft `stmt_evaluate_l3proto`).
fn check_l3_conflict(cx: &mut RuleCx<'_>, fam: NfFamily, fam_span: Span, stmt: &str) -> Result<(), ()> {
    let Some((ctx, ctx_span)) = ctx_family(cx) else { return Ok(()) };
    if ctx == fam {
        return Ok(());
    }
    let mut d = Diagnostic::error(
        "E3004",
        format!(
            "conflicting protocols specified: {} vs. {}: `{stmt}` translates {} addresses but the rule only sees {} packets",
            ctx.keyword(),
            fam.keyword(),
            fam_desc(fam),
            fam_desc(ctx)
        ),
    )
    .with_label(fam_span, format!("{} {stmt}", fam_desc(fam)));
    if ctx_span.is_empty() {
        d = d.with_help(format!(
            "this is an {} table; use `{stmt} {}` or an inet table",
            cx.table.family_name,
            ctx.keyword()
        ));
    } else {
        d = d.with_secondary(ctx_span, format!("{} established here", fam_desc(ctx)));
    }
    fail(cx, d)
}

/// The family of a NAT/tproxy address: explicit, the table's, or (inet)
/// the rule's network protocol when `infer` is allowed.
fn address_family(
    cx: &mut RuleCx<'_>,
    explicit: Option<(NfFamily, Span)>,
    infer: bool,
    stmt: &str,
    addr: Option<&Term>,
    kw_span: Span,
) -> Result<NfFamily, ()> {
    if let Some((f, s)) = explicit {
        check_l3_conflict(cx, f, s, stmt)?;
        return Ok(f);
    }
    if let Some(f) = table_family(cx) {
        return Ok(f);
    }
    if infer && let Some((f, _)) = ctx_family(cx) {
        return Ok(f);
    }
    let guess = addr.and_then(literal_family).map_or("ip", |f| f.keyword());
    let span = addr.map_or(kw_span, |t| kw_span.to(t.span));
    fail(
        cx,
        Diagnostic::error("E3004", format!("ip or ip6 must be specified with address for inet tables (`{stmt}`)"))
            .with_label(span, "address family unknown")
            .with_help(if infer {
                format!(
                    "write `{stmt} {guess} to ...`, or match the network protocol first (`meta nfproto ipv4`, `ip saddr ...`)"
                )
            } else {
                format!("write `{stmt} {guess} to ...`")
            }),
    )
}

fn wrong_literal(cx: &mut RuleCx<'_>, t: &Term, fam: NfFamily, stmt: &str) -> Result<(), ()> {
    match literal_family(t) {
        Some(lf) if lf != fam => fail(
            cx,
            Diagnostic::error(
                "E3004",
                format!(
                    "{} is an {} address, but `{stmt}` here translates {} addresses",
                    describe(t),
                    fam_desc(lf),
                    fam_desc(fam)
                ),
            )
            .with_label(t.span, format!("{} address", fam_desc(lf)))
            .with_help(match cx.family {
                Family::Inet => {
                    format!("write `{stmt} {} to ...` if the rule is meant for {} packets", lf.keyword(), fam_desc(lf))
                }
                _ => format!("this is an {} table: use an {} address", cx.table.family_name, fam_desc(fam)),
            }),
        ),
        _ => Ok(()),
    }
}

/// Whether a map key has a transport header field or a protocol field in a
/// concatenation (nft `nat_evaluate_addr_has_th_expr`): then the map itself
/// binds the transport protocol and ports need no earlier match.
fn key_binds_transport(e: &Expr) -> bool {
    let ExprKind::Map { key, .. } = &e.kind else { return false };
    let ExprKind::Concat(parts) = &key.kind else { return false };
    parts.iter().any(|p| match &p.kind {
        ExprKind::Payload { proto, field, .. } => {
            ctc_proto::PORT_PROTOCOLS.iter().any(|(n, _)| n == proto)
                || matches!((*proto, *field), ("ip", "protocol") | ("ip6", "nexthdr"))
        }
        ExprKind::Meta { key } => *key == "l4proto",
        _ => false,
    })
}

fn need_transport(cx: &mut RuleCx<'_>, span: Span, stmt: &str, what: &str) -> Result<(), ()> {
    if cx.proto.l4.is_some() {
        return Ok(());
    }
    fail(
        cx,
        Diagnostic::error("E3003", format!("{what} is only valid after transport protocol match (`{stmt}`)"))
            .with_label(span, "no transport protocol known here")
            .with_help("match the transport protocol earlier in the rule, e.g. `meta l4proto tcp`, `tcp dport 80` or `meta l4proto { tcp, udp }`"),
    )
}

fn is_nat_flag(w: Option<&str>) -> bool {
    matches!(w, Some("random" | "fully-random" | "persistent"))
}

/// `random,fully-random,persistent` in any order.
fn parse_nat_flags(cx: &mut RuleCx<'_>, cur: &mut Cursor<'_>, flags: &mut NatFlags) -> Result<(), ()> {
    while is_nat_flag(cur.peek_word()) {
        match cur.peek_word() {
            Some("random") => flags.random = true,
            Some("fully-random") => flags.fully_random = true,
            _ => flags.persistent = true,
        }
        cur.next();
        if cur.peek_op() == Some(Op::Comma) {
            if is_nat_flag(cur.peek_word_at(1)) {
                cur.next();
            } else {
                let sp = cur.peek_at(1).map_or(cur.span(), |t| t.span);
                return fail(
                    cx,
                    Diagnostic::error("E2012", "invalid NAT flag")
                        .with_label(sp, "expected random, fully-random or persistent"),
                );
            }
        }
    }
    if cur.peek_word() == Some("to") || cur.peek_op() == Some(Op::Colon) {
        return fail(
            cx,
            Diagnostic::error("E2011", "NAT flags must come after the address and port")
                .with_label(cur.span(), "unexpected after the flags")
                .with_help("write e.g. `redirect to :993 random,persistent`"),
        );
    }
    Ok(())
}

/// A NAT/tproxy port: a port, a range, or an expression (`tcp dport map`).
fn parse_port(cx: &mut RuleCx<'_>, cur: &mut Cursor<'_>, stmt: &str) -> Result<Expr, ()> {
    let port_kt = kt(Ty::InetService);
    args::parse_arg(cx, cur, &port_kt, &format!("the `{stmt}` port"))
}

/// A NAT/tproxy address of family `fam`: an address, range, prefix, or a
/// map yielding an address (or `address . port`).
fn parse_address(cx: &mut RuleCx<'_>, cur: &mut Cursor<'_>, fam: NfFamily, stmt: &str) -> Result<(Expr, bool), ()> {
    if let Some(t) = cur.peek() {
        wrong_literal(cx, t, fam, stmt)?;
    }
    let a = addr_kt(fam);
    if let Some(off) = args::find_map(cur) {
        return args::parse_map(cx, cur, off, &DataSpec::NatAddr(a));
    }
    let e = args::parse_arg(cx, cur, &a, &format!("the `{stmt}` address"))?;
    let concat = matches!(e.ty, ExprType::Concat(_));
    Ok((e, concat))
}

/// `snat|dnat [ip|ip6] [prefix|interval|addr . port] [to] ADDR[:PORT] [FLAGS]`,
/// `snat|dnat to :PORT`, `masquerade [to :PORT] [FLAGS]`,
/// `redirect [to [:]PORT] [FLAGS]`.
pub(super) fn parse_nat(cx: &mut RuleCx<'_>, cur: &mut Cursor<'_>) -> Result<StmtKind, ()> {
    let Some(kw) = cur.next() else { return Err(()) };
    let kw_span = kw.span;
    let kind = match kw.word() {
        Some("snat") => NatKind::Snat,
        Some("dnat") => NatKind::Dnat,
        Some("masquerade") => NatKind::Masquerade,
        _ => NatKind::Redirect,
    };
    let name = kind.name();
    if !matches!(cx.family, Family::Ip | Family::Ip6 | Family::Inet) {
        return fail(
            cx,
            Diagnostic::error(
                "E4006",
                format!(
                    "NAT is only supported for IPv4/IPv6: `{name}` is not available in {} tables",
                    cx.table.family_name
                ),
            )
            .with_label(kw_span, "NAT statement")
            .with_help("put NAT rules in an ip, ip6 or inet table"),
        );
    }
    check_hook(cx, kind.hooked(), name, kw_span)?;
    let mut nat = Nat { kind, family: None, addr: None, port: None, concat: false, flags: NatFlags::default() };
    match kind {
        NatKind::Snat | NatKind::Dnat => {
            let mut explicit = None;
            if let Some(w @ ("ip" | "ip6")) = cur.peek_word() {
                let f = if w == "ip" { NfFamily::Ipv4 } else { NfFamily::Ipv6 };
                explicit = Some((f, kw_span.to(cur.span())));
                cur.next();
            }
            let mut to_required = explicit.is_some();
            match cur.peek_word() {
                Some("prefix") => {
                    cur.next();
                    nat.flags.netmap = true;
                    to_required = true;
                }
                Some("interval") => {
                    cur.next();
                    to_required = true;
                }
                Some("addr.port") => {
                    cur.next();
                    nat.concat = true;
                    to_required = true;
                }
                Some("addr")
                    if cur.peek_at(1).is_some_and(|t| t.is_op(Op::Dot)) && cur.peek_word_at(2) == Some("port") =>
                {
                    cur.next();
                    cur.next();
                    cur.next();
                    nat.concat = true;
                    to_required = true;
                }
                _ => {}
            }
            let has_to = cur.eat_word("to");
            if to_required && !has_to {
                return fail(
                    cx,
                    Diagnostic::error("E2014", format!("expected `to` in `{name}`"))
                        .with_label(cur.span(), "`to` expected here")
                        .with_help(format!("write e.g. `{name} ip to 192.0.2.1`")),
                );
            }
            if cur.peek_op() != Some(Op::Colon) {
                if cur.at_end() || is_nat_flag(cur.peek_word()) {
                    return fail(
                        cx,
                        Diagnostic::error("E2014", format!("`{name}` needs an address or a port"))
                            .with_label(cur.span(), "expected an address")
                            .with_help(format!("write e.g. `{name} to 192.0.2.1` or `{name} to :8080`")),
                    );
                }
                let fam = address_family(cx, explicit, true, name, cur.peek(), kw_span)?;
                if explicit.is_none() {
                    check_l3_conflict(cx, fam, kw_span, name)?;
                }
                nat.family = Some(fam);
                let (addr, concat) = parse_address(cx, cur, fam, name)?;
                if concat && !key_binds_transport(&addr) {
                    need_transport(cx, addr.span, name, "transport protocol mapping")?;
                }
                nat.concat |= concat;
                nat.addr = Some(addr);
            } else if let Some((f, s)) = explicit {
                check_l3_conflict(cx, f, s, name)?;
                nat.family = Some(f);
            } else {
                nat.family = table_family(cx);
            }
            if cur.eat_op(Op::Colon) {
                let port = parse_port(cx, cur, name)?;
                need_transport(cx, port.span, name, "transport protocol mapping")?;
                nat.port = Some(port);
            }
        }
        NatKind::Masquerade => {
            if cur.eat_word("to") {
                if !cur.eat_op(Op::Colon) {
                    return fail(
                        cx,
                        Diagnostic::error("E2012", "`masquerade to` takes a port: `masquerade to :PORT`")
                            .with_label(cur.span(), "expected `:`")
                            .with_help(
                                "masquerade always uses the output interface's address; only ports can be given",
                            ),
                    );
                }
                let port = parse_port(cx, cur, name)?;
                need_transport(cx, port.span, name, "transport protocol mapping")?;
                nat.port = Some(port);
            }
        }
        NatKind::Redirect => {
            if cur.eat_word("to") {
                cur.eat_op(Op::Colon);
                if let Some(t) = cur.peek()
                    && literal_family(t).is_some()
                {
                    return fail(
                        cx,
                        Diagnostic::error("E2012", "`redirect` takes a port, not an address")
                            .with_label(t.span, "address")
                            .with_help("redirect sends to the local host; use `dnat to ADDRESS` for another address"),
                    );
                }
                let port = parse_port(cx, cur, name)?;
                need_transport(cx, port.span, name, "transport protocol mapping")?;
                nat.port = Some(port);
            }
        }
    }
    parse_nat_flags(cx, cur, &mut nat.flags)?;
    Ok(StmtKind::Nat(nat))
}

/// `tproxy [ip|ip6] to [ADDR][:PORT]`.
pub(super) fn parse_tproxy(cx: &mut RuleCx<'_>, cur: &mut Cursor<'_>) -> Result<StmtKind, ()> {
    let kw_span = cur.span();
    cur.next();
    if !matches!(cx.family, Family::Ip | Family::Ip6 | Family::Inet) {
        return fail(
            cx,
            Diagnostic::error("E4006", "tproxy is only supported for IPv4/IPv6/INET")
                .with_label(kw_span, format!("not available in {} tables", cx.table.family_name)),
        );
    }
    check_hook(cx, HookedStmt::Tproxy, "tproxy", kw_span)?;
    let mut explicit = None;
    if let Some(w @ ("ip" | "ip6")) = cur.peek_word() {
        let f = if w == "ip" { NfFamily::Ipv4 } else { NfFamily::Ipv6 };
        explicit = Some((f, kw_span.to(cur.span())));
        cur.next();
    }
    if !cur.eat_word("to") {
        return fail(
            cx,
            Diagnostic::error("E2014", "`tproxy` needs `to ADDRESS[:PORT]` or `to :PORT`")
                .with_label(cur.span(), "expected `to`"),
        );
    }
    if cx.proto.l4.is_none() {
        return fail(
            cx,
            Diagnostic::error("E3003", "Transparent proxy support requires transport protocol match")
                .with_label(kw_span, "no transport protocol known here")
                .with_help("match the protocol earlier in the rule, e.g. `meta l4proto tcp tproxy ...`"),
        );
    }
    // nft checks the family against the rule's network protocol even when
    // only a port is given (inet: the family must then be explicit).
    let family = match explicit {
        Some((f, s)) => {
            check_l3_conflict(cx, f, s, "tproxy")?;
            Some(f)
        }
        None => match table_family(cx) {
            Some(f) => Some(f),
            None => {
                if let Some((f, s)) = ctx_family(cx) {
                    return fail(
                        cx,
                        Diagnostic::error(
                            "E3004",
                            format!("conflicting protocols specified: {} vs. unknown: you must specify ip or ip6 family in the tproxy statement", f.keyword()),
                        )
                        .with_label(kw_span, "no family given")
                        .with_secondary(s, format!("{} established here", fam_desc(f)))
                        .with_help(format!("write `tproxy {} to ...`", f.keyword())),
                    );
                }
                None
            }
        },
    };
    let (mut addr, mut port) = (None, None);
    if cur.peek_op() != Some(Op::Colon) {
        if cur.at_end() {
            return fail(
                cx,
                Diagnostic::error("E2014", "Either address or port must be specified")
                    .with_label(cur.span(), "expected an address or `:PORT`"),
            );
        }
        let Some(fam) = family else {
            // Always an error here: inet needs an explicit family.
            return address_family(cx, None, false, "tproxy", cur.peek(), kw_span).and(Err(()));
        };
        let (a, _) = parse_address(cx, cur, fam, "tproxy")?;
        if matches!(a.kind, ExprKind::Range { .. }) {
            return fail(
                cx,
                Diagnostic::error("E2005", "Address ranges are not supported for tproxy.")
                    .with_label(a.span, "address range"),
            );
        }
        addr = Some(a);
    }
    if cur.eat_op(Op::Colon) {
        let p = parse_port(cx, cur, "tproxy")?;
        if matches!(p.kind, ExprKind::Range { .. }) {
            return fail(
                cx,
                Diagnostic::error("E2005", "Port ranges are not supported for tproxy.")
                    .with_label(p.span, "port range"),
            );
        }
        port = Some(p);
    }
    Ok(StmtKind::Tproxy { family, addr, port })
}

/// A device argument (`device "lo"`, `fwd to eth0`).
fn parse_device(cx: &mut RuleCx<'_>, cur: &mut Cursor<'_>, what: &str) -> Result<Expr, ()> {
    args::parse_arg(cx, cur, &kt(Ty::Ifname), what)
}

/// `dup to ADDR [device DEV]` (ip, ip6), `dup to DEV` (netdev).
pub(super) fn parse_dup(cx: &mut RuleCx<'_>, cur: &mut Cursor<'_>) -> Result<StmtKind, ()> {
    let kw_span = cur.span();
    cur.next();
    if !matches!(cx.family, Family::Ip | Family::Ip6 | Family::Netdev) {
        return fail(
            cx,
            Diagnostic::error("E4006", format!("`dup` is not supported in {} tables", cx.table.family_name))
                .with_label(kw_span, "unsupported family")
                .with_help("dup works in ip and ip6 tables (to an address) and netdev tables (to a device)"),
        );
    }
    check_hook(cx, HookedStmt::Dup, "dup", kw_span)?;
    if !cur.eat_word("to") {
        return fail(cx, Diagnostic::error("E2014", "`dup` needs `to`").with_label(cur.span(), "expected `to`"));
    }
    if cur.at_end() {
        let what =
            if cx.family == Family::Netdev { "missing destination interface" } else { "missing destination address" };
        return fail(cx, Diagnostic::error("E2014", what).with_label(cur.span(), "expected here"));
    }
    if cx.family == Family::Netdev {
        let dev = parse_device(cx, cur, "the `dup` device")?;
        if cur.peek_word() == Some("device") {
            return fail(
                cx,
                Diagnostic::error("E2012", "cannot specify device")
                    .with_label(cur.span(), "netdev `dup to` already names the device"),
            );
        }
        return Ok(StmtKind::Dup { addr: None, dev: Some(dev) });
    }
    let fam = table_family(cx).unwrap_or(NfFamily::Ipv4);
    let (addr, _) = parse_address(cx, cur, fam, "dup")?;
    let dev = if cur.eat_word("device") { Some(parse_device(cx, cur, "the `dup` device")?) } else { None };
    Ok(StmtKind::Dup { addr: Some(addr), dev })
}

/// `fwd to DEV`, `fwd ip|ip6 to ADDR device DEV` (netdev).
pub(super) fn parse_fwd(cx: &mut RuleCx<'_>, cur: &mut Cursor<'_>) -> Result<StmtKind, ()> {
    let kw_span = cur.span();
    cur.next();
    if cx.family != Family::Netdev {
        return fail(
            cx,
            Diagnostic::error(
                "E4006",
                format!("`fwd` is only available in netdev tables, not {}", cx.table.family_name),
            )
            .with_label(kw_span, "unsupported family")
            .with_help("forward to another device from a netdev ingress or egress chain"),
        );
    }
    check_hook(cx, HookedStmt::Fwd, "fwd", kw_span)?;
    let mut family = None;
    if let Some(w @ ("ip" | "ip6")) = cur.peek_word() {
        family = Some(if w == "ip" { NfFamily::Ipv4 } else { NfFamily::Ipv6 });
        cur.next();
    }
    if !cur.eat_word("to") {
        return fail(cx, Diagnostic::error("E2014", "`fwd` needs `to`").with_label(cur.span(), "expected `to`"));
    }
    match family {
        None => {
            if cur.at_end() {
                return fail(
                    cx,
                    Diagnostic::error("E2014", "missing destination interface")
                        .with_label(cur.span(), "expected a device"),
                );
            }
            let dev = parse_device(cx, cur, "the `fwd` device")?;
            Ok(StmtKind::Fwd { family: None, addr: None, dev })
        }
        Some(f) => {
            let (addr, _) = parse_address(cx, cur, f, "fwd")?;
            if !cur.eat_word("device") {
                return fail(
                    cx,
                    Diagnostic::error("E4009", "`fwd` to an address needs the output device")
                        .with_label(cur.span(), "expected `device DEV`"),
                );
            }
            let dev = parse_device(cx, cur, "the `fwd` device")?;
            Ok(StmtKind::Fwd { family, addr: Some(addr), dev })
        }
    }
}

/// `reject [with icmp|icmpv6|icmpx [type] CODE | with tcp reset]`.
pub(super) fn parse_reject(cx: &mut RuleCx<'_>, cur: &mut Cursor<'_>) -> Result<StmtKind, ()> {
    let kw_span = cur.span();
    cur.next();
    if cx.family == Family::Arp {
        return fail(
            cx,
            Diagnostic::error("E4006", "cannot use reject with arp")
                .with_label(kw_span, "not available in arp tables")
                .with_help("use `drop` instead"),
        );
    }
    check_hook(cx, HookedStmt::Reject, "reject", kw_span)?;
    if !cur.eat_word("with") {
        return Ok(StmtKind::Reject(RejectKind::Default));
    }
    let Some(w) = cur.peek_word() else {
        return fail(
            cx,
            Diagnostic::error("E2014", "`reject with` needs icmp, icmpv6, icmpx or tcp reset")
                .with_label(cur.span(), "expected a reject type"),
        );
    };
    let with_span = cur.span();
    let (kind, code_span) = match w {
        "tcp" => {
            cur.next();
            if !cur.eat_word("reset") {
                return fail(
                    cx,
                    Diagnostic::error("E2014", "expected `reject with tcp reset`")
                        .with_label(cur.span(), "expected `reset`"),
                );
            }
            (RejectKind::TcpReset, with_span.to(cur.prev_span()))
        }
        "icmp" | "icmpv6" | "icmpx" => {
            cur.next();
            cur.eat_word("type");
            let (ty, max) = match w {
                "icmp" => (Ty::IcmpCode, 255),
                "icmpv6" => (Ty::Icmpv6Code, 255),
                // NFT_REJECT_ICMPX_MAX.
                _ => (Ty::IcmpxCode, 3),
            };
            let code = parse_code(cx, cur, ty, max, w)?;
            let kind = match w {
                "icmp" => RejectKind::Icmp(code),
                "icmpv6" => RejectKind::Icmpv6(code),
                _ => RejectKind::Icmpx(code),
            };
            (kind, with_span.to(cur.prev_span()))
        }
        _ => {
            return fail(
                cx,
                Diagnostic::error("E2012", format!("invalid reject type `{w}`"))
                    .with_label(with_span, "expected icmp, icmpv6, icmpx or tcp reset"),
            );
        }
    };
    check_reject_family(cx, kind, code_span)?;
    Ok(StmtKind::Reject(kind))
}

fn parse_code(cx: &mut RuleCx<'_>, cur: &mut Cursor<'_>, ty: Ty, max: u64, w: &str) -> Result<u8, ()> {
    let Some(t) = cur.peek() else {
        return fail(
            cx,
            Diagnostic::error("E2014", format!("`reject with {w}` needs a code"))
                .with_label(cur.span(), "expected a code")
                .with_help(code_help(ty)),
        );
    };
    let v = match &t.kind {
        TermKind::Word(s) | TermKind::Lit(LitKind::Str, s) => ty.symbol(s),
        _ => args::term_int(t).and_then(|v| u64::try_from(v).ok()).filter(|v| *v <= max),
    };
    let Some(v) = v else {
        let code = if matches!(t.kind, TermKind::Lit(LitKind::Number | LitKind::Hex, _)) { "E2002" } else { "E2001" };
        return fail(
            cx,
            Diagnostic::error(code, format!("invalid {} {}", ty.info().desc, describe(t)))
                .with_label(t.span, "unknown code")
                .with_help(code_help(ty)),
        );
    };
    cur.next();
    Ok(v as u8)
}

fn code_help(ty: Ty) -> String {
    let names: Vec<&str> = ty.info().symbols.iter().map(|(n, _)| *n).collect();
    format!("valid codes: {}", names.join(", "))
}

/// nft `stmt_evaluate_reject_family`: the ICMP flavour must agree with the
/// table and with the network protocol the rule matches; `tcp reset` with
/// the transport protocol.
fn check_reject_family(cx: &mut RuleCx<'_>, kind: RejectKind, span: Span) -> Result<(), ()> {
    let want = match kind {
        RejectKind::Icmp(_) => Some(NfFamily::Ipv4),
        RejectKind::Icmpv6(_) => Some(NfFamily::Ipv6),
        _ => None,
    };
    match cx.family {
        Family::Ip | Family::Ip6 => {
            let table = table_family(cx).unwrap_or(NfFamily::Ipv4);
            if matches!(kind, RejectKind::Icmpx(_)) {
                let alt = if table == NfFamily::Ipv4 { "icmp" } else { "icmpv6" };
                return fail(
                    cx,
                    Diagnostic::error(
                        "E3004",
                        format!("abstracted ICMP unreachable not supported in {} tables", cx.table.family_name),
                    )
                    .with_label(span, "icmpx")
                    .with_help(format!("use `reject with {alt} CODE`; icmpx is for inet, bridge and netdev tables")),
                );
            }
            if let Some(w) = want
                && w != table
            {
                let alt = if table == NfFamily::Ipv4 { "icmp" } else { "icmpv6" };
                return fail(
                    cx,
                    Diagnostic::error(
                        "E3004",
                        format!(
                            "conflicting protocols specified: ip vs ip6: an {} table rejects {} packets",
                            cx.table.family_name,
                            fam_desc(table)
                        ),
                    )
                    .with_label(span, format!("{} reject", fam_desc(w)))
                    .with_help(format!("use `reject with {alt} CODE`")),
                );
            }
        }
        Family::Inet | Family::Bridge | Family::Netdev => {
            if matches!(cx.family, Family::Bridge | Family::Netdev)
                && let Some((L3::Arp, s)) = cx.proto.l3
            {
                return fail(
                    cx,
                    Diagnostic::error("E3004", "cannot reject this network family")
                        .with_label(span, "reject")
                        .with_secondary(s, "ARP packets matched here"),
                );
            }
            if let (Some(w), Some((ctx, ctx_span))) = (want, ctx_family(cx))
                && w != ctx
            {
                let alt = if ctx == NfFamily::Ipv4 { "icmp" } else { "icmpv6" };
                let mut d = Diagnostic::error(
                    "E3004",
                    format!("conflicting protocols specified: ip vs ip6: the rule matches {} packets", fam_desc(ctx)),
                )
                .with_label(span, format!("{} reject", fam_desc(w)))
                .with_help(format!("use `reject with {alt} CODE`, or `reject with icmpx CODE` for both families"));
                if !ctx_span.is_empty() {
                    d = d.with_secondary(ctx_span, format!("{} established here", fam_desc(ctx)));
                }
                return fail(cx, d);
            }
        }
        Family::Arp => {}
    }
    if kind == RejectKind::TcpReset
        && let Some((l4, l4_span)) = cx.proto.l4
        && l4 != 6
        // A set of protocols (`meta l4proto { tcp, udp }`) may hold tcp.
        && l4 != crate::expr::L4_SEVERAL
    {
        let mut d = Diagnostic::error("E3001", "you cannot use tcp reset with this protocol")
            .with_label(span, "tcp reset")
            .with_help("`reject with tcp reset` only answers TCP packets; use `reject` (ICMP) for other protocols");
        if !l4_span.is_empty() {
            d = d.with_secondary(l4_span, format!("transport protocol {l4} matched here"));
        }
        return fail(cx, d);
    }
    Ok(())
}
