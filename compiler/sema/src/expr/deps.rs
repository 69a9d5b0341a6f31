//! Protocol context: what a payload expression needs underneath it, checked
//! against what the table family and earlier matches of the rule established
//! (nft's `proto_ctx`, payload.c `payload_gen_dependency` and the conflict
//! checks of evaluate.c).
//!
//! Rules (nft behaviour):
//! - a network header (`ip`, `ip6`, `arp`) must agree with the table family
//!   (E3002) and with an earlier network match of the rule (E3001); in inet,
//!   bridge and netdev tables it establishes the network protocol;
//! - a transport header must sit on IPv4 or IPv6 and agree with an earlier
//!   transport match (`meta l4proto udp tcp dport 22` is E3001); ICMP in an
//!   ip6 table is accepted, as nft only adds `meta l4proto icmp`;
//! - link-layer ethertypes (`ether type`, `meta protocol`, `vlan type`) must
//!   agree with what the next header needs; 802.1Q/802.1ad may sit between;
//! - tunnels carried in UDP need the matching `udp dport` earlier in the
//!   rule (E3003): nft does not invent it.

use crate::cx::RuleCx;
use crate::hir::{Expr, ExprKind, Family, RelOp, Value};
use ctc_grammar::{Diagnostic, Span};
use ctc_proto::{Base, L3, Proto};

fn l3_name(l: L3) -> &'static str {
    match l {
        L3::Ipv4 => "IPv4",
        L3::Ipv6 => "IPv6",
        L3::Arp => "ARP",
        L3::Any => "IPv4 or IPv6",
    }
}

fn l4_name(p: u8) -> String {
    if p == L4_SEVERAL {
        return "several transport protocols".into();
    }
    ctc_proto::Ty::InetProto.symbol_name(u64::from(p)).map_or_else(|| format!("protocol {p}"), str::to_string)
}

fn l3_ok(have: L3, need: L3) -> bool {
    match need {
        L3::Any => matches!(have, L3::Ipv4 | L3::Ipv6 | L3::Any),
        _ => have == need || have == L3::Any,
    }
}

const VLAN_TYPES: [u16; 2] = [0x8100, 0x88a8];

/// Where the family preset the context: the default span.
fn from_family(span: Span) -> bool {
    span == Span::default()
}

/// Require the network protocol `need` for `what` (at `span`). Reports and
/// returns false on a conflict; records the implied protocol otherwise.
pub(crate) fn require_l3(cx: &mut RuleCx<'_>, need: L3, what: &str, span: Span) -> bool {
    if need == L3::Arp && cx.family == Family::Inet {
        cx.error(
            Diagnostic::error("E3002", format!("`{what}` is not available in an inet table"))
                .with_label(span, "ARP headers exist only in arp, bridge and netdev tables")
                .with_help("match ARP in a `table arp` (or bridge/netdev) instead"),
        );
        return false;
    }
    match cx.proto.l3 {
        None => {
            if need != L3::Any {
                cx.proto.l3 = Some((need, span));
            }
            true
        }
        Some((have, hspan)) if l3_ok(have, need) => {
            if have == L3::Any && need != L3::Any {
                cx.proto.l3 = Some((need, hspan));
            }
            true
        }
        Some((have, hspan)) => {
            let d = if from_family(hspan) {
                Diagnostic::error(
                    "E3002",
                    format!("`{what}` needs {}, which an {} table does not carry", l3_name(need), cx.family.name()),
                )
                .with_label(span, format!("this is an {} header field", l3_name(need)))
                .with_help(match need {
                    L3::Ipv4 | L3::Ipv6 => "use an `inet` table to match both IPv4 and IPv6",
                    _ => "move this rule to a table of the matching family",
                })
            } else {
                Diagnostic::error("E3001", format!("`{what}` conflicts with an earlier match of this rule"))
                    .with_label(span, format!("this needs {}", l3_name(need)))
                    .with_secondary(hspan, format!("but this restricts the rule to {}", l3_name(have)))
                    .with_help("a packet cannot be both; split the rule in two")
            };
            cx.error(d);
            false
        }
    }
}

/// Require transport protocol `need` (an IPPROTO number).
pub(crate) fn require_l4(cx: &mut RuleCx<'_>, need: u8, what: &str, span: Span) -> bool {
    match cx.proto.l4 {
        Some((have, hspan)) if have != need => {
            cx.error(
                Diagnostic::error("E3001", format!("`{what}` conflicts with an earlier match of this rule"))
                    .with_label(span, format!("this needs transport protocol {}", l4_name(need)))
                    .with_secondary(hspan, format!("but this restricts the rule to {}", l4_name(have)))
                    .with_help("a packet has one transport header; split the rule in two"),
            );
            false
        }
        Some(_) => true,
        None => {
            cx.proto.l4 = Some((need, span));
            true
        }
    }
}

/// Require a link-layer ethertype (`ip` in a bridge needs 0x0800, `vlan`
/// needs 802.1Q/802.1AD).
fn require_ethertype(cx: &mut RuleCx<'_>, need: u16, what: &str, span: Span) -> bool {
    let Some((have, hspan)) = cx.proto.ethertype else { return true };
    let ok = have == need || VLAN_TYPES.contains(&have) || (VLAN_TYPES.contains(&need) && VLAN_TYPES.contains(&have));
    if ok {
        return true;
    }
    let name = |t: u16| {
        ctc_proto::Ty::EtherType.symbol_name(u64::from(t)).map_or_else(|| format!("0x{t:04x}"), str::to_string)
    };
    cx.error(
        Diagnostic::error("E3001", format!("`{what}` conflicts with an earlier match of this rule"))
            .with_label(span, format!("this needs ethertype {}", name(need)))
            .with_secondary(hspan, format!("but this restricts the frame to ethertype {}", name(have)))
            .with_help("remove one of the two matches or split the rule"),
    );
    false
}

/// Check (and record) the dependency of a payload header used outside a
/// tunnel. `what` is how the expression reads (`tcp dport`).
pub(crate) fn check_payload_dep(cx: &mut RuleCx<'_>, proto: &'static Proto, what: &str, span: Span) -> bool {
    let dep = proto.dep;
    if let Some(et) = dep.ethertype
        && !require_ethertype(cx, et, what, span)
    {
        return false;
    }
    if proto.name == "vlan" {
        // The header after the tag is the tag's encapsulated type.
        cx.proto.ethertype = None;
    }
    if let Some(l3) = dep.l3 {
        // Transport headers only need IP of either version: nft accepts
        // `icmp type` in an ip6 table (it adds `meta l4proto icmp` only).
        let l3 = if proto.base == Base::Transport || proto.base == Base::Inner { L3::Any } else { l3 };
        if !require_l3(cx, l3, what, span) {
            return false;
        }
    }
    if proto.name == "th" {
        // nft accepts `th` after any transport match (`meta l4proto icmp th
        // dport 1`, `meta l4proto { tcp, udp } th dport 1`): the raw
        // transport header is read whatever the protocol.
        return true;
    }
    if let Some(port) = dep.udp_dport {
        let have = cx.proto.udp_dport.map(|(p, _)| p);
        if have != Some(port) || cx.proto.l4.is_some_and(|(p, _)| p != 17) {
            cx.error(
                Diagnostic::error("E3003", format!("`{what}` needs the UDP port of the {} tunnel", proto.name))
                    .with_label(span, format!("{} is only recognised in UDP datagrams to port {port}", proto.name))
                    .with_help(format!("match `udp dport {port}` earlier in the rule")),
            );
            return false;
        }
        return true;
    }
    if let Some(l4) = dep.l4proto {
        return require_l4(cx, l4, what, span);
    }
    true
}

/// The transport context after a match on a set of several protocols
/// (`meta l4proto { tcp, udp }`) or on a protocol nft has no header for:
/// nft's `proto_unknown` / an ambiguous `proto_ctx`. A transport protocol
/// is known (NAT ports and tproxy are allowed, as in nft's
/// `nat_evaluate_transport`), but no single header may be assumed: a
/// later `tcp dport` is a conflict ("conflicting protocols specified: udp
/// vs. tcp"), `th dport` is fine. 255 is IANA's reserved protocol number,
/// which has no header either.
pub(crate) const L4_SEVERAL: u8 = 255;

/// Record transport protocol `p` established by a match at `span`: nft's
/// `proto_ctx_update` keeps every protocol the rule names, and more than
/// one distinct protocol makes the context ambiguous.
fn note_l4(cx: &mut RuleCx<'_>, p: u8, span: Span) {
    cx.proto.l4 = match cx.proto.l4 {
        None => Some((p, span)),
        Some((have, hspan)) if have == p => Some((have, hspan)),
        Some(_) => Some((L4_SEVERAL, span)),
    };
}

/// After a match `lhs op rhs` (spanning `span`), record what it establishes
/// for the rest of the rule: `meta l4proto tcp`, `ip protocol udp`,
/// `meta nfproto ipv6`, `ether type ip6`, `udp dport 4789`.
///
/// Sets of protocols (`meta l4proto { tcp, udp }`, `ip protocol { 6, 17 }`)
/// count each element, as nft's `relational_expr_pctx_update` does; a
/// named set after `meta l4proto` (`meta l4proto @protos`) establishes an
/// unknown transport protocol (nft ≥ 1.1.2, bugzilla 1686), enough for NAT
/// ports and tproxy.
pub(crate) fn note_match(cx: &mut RuleCx<'_>, lhs: &Expr, op: RelOp, rhs: &Expr, span: Span) {
    if !matches!(op, RelOp::Implicit | RelOp::Eq) {
        return;
    }
    let key = match &lhs.kind {
        ExprKind::Meta { key } => ("meta", *key),
        ExprKind::Payload { proto, field, .. } => (*proto, *field),
        _ => return,
    };
    let is_l4 = matches!(key, ("meta", "l4proto") | ("ip", "protocol") | ("ip6", "nexthdr"));
    match &rhs.kind {
        ExprKind::SetLit(elems) if is_l4 => {
            for el in elems {
                if let ExprKind::Value(Value::Int(v)) = el.key.kind
                    && let Ok(p) = u8::try_from(v)
                {
                    note_l4(cx, p, span);
                }
            }
            return;
        }
        ExprKind::SetRef { .. } if key == ("meta", "l4proto") => {
            if cx.proto.l4.is_none() {
                cx.proto.l4 = Some((L4_SEVERAL, span));
            }
            return;
        }
        _ => {}
    }
    let ExprKind::Value(Value::Int(v)) = rhs.kind else { return };
    match key {
        ("meta", "l4proto") | ("ip", "protocol") | ("ip6", "nexthdr") => {
            if let Ok(p) = u8::try_from(v) {
                note_l4(cx, p, span);
            }
        }
        ("meta", "nfproto") => {
            let l3 = match v {
                2 => L3::Ipv4,
                10 => L3::Ipv6,
                _ => return,
            };
            match cx.proto.l3 {
                None | Some((L3::Any, _)) => cx.proto.l3 = Some((l3, span)),
                // `meta nfproto ipv6` in an ip table never matches.
                Some((have, hspan)) if have != l3 && matches!(have, L3::Ipv4 | L3::Ipv6) => {
                    let what = if l3 == L3::Ipv4 { "ipv4" } else { "ipv6" };
                    let d = if from_family(hspan) {
                        Diagnostic::error(
                            "E3002",
                            format!("`meta nfproto {what}` never matches in an {} table", cx.family.name()),
                        )
                        .with_label(span, format!("this table only sees {}", l3_name(have)))
                        .with_help("use an inet table to see both IPv4 and IPv6")
                    } else {
                        Diagnostic::error(
                            "E3001",
                            format!("`meta nfproto {what}` conflicts with an earlier match of this rule"),
                        )
                        .with_label(span, format!("this needs {}", l3_name(l3)))
                        .with_secondary(hspan, format!("but this restricts the rule to {}", l3_name(have)))
                    };
                    cx.error(d);
                }
                _ => {}
            }
        }
        ("ether" | "vlan", "type") | ("meta", "protocol") => {
            let Ok(t) = u16::try_from(v) else { return };
            cx.proto.ethertype = Some((t, span));
            let l3 = match t {
                0x0800 => L3::Ipv4,
                0x86dd => L3::Ipv6,
                0x0806 => L3::Arp,
                _ => return,
            };
            if cx.proto.l3.is_none() && matches!(cx.family, Family::Bridge | Family::Netdev) {
                cx.proto.l3 = Some((l3, span));
            }
        }
        ("udp", "dport") => {
            if let Ok(p) = u16::try_from(v) {
                cx.proto.udp_dport = Some((p, span));
            }
        }
        _ => {}
    }
}
