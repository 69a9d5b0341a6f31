//! Statements over named things of the table: dynamic set updates
//! (`add|update|delete @s { ... }`), meters, flowtables (`flow add @ft`)
//! and stateful object references (`counter name "c"`, `ct helper set
//! "ftp"`, object maps).

use super::args::{self, DataSpec, describe, terms_span};
use super::{closest, fail};
use crate::cursor::Cursor;
use crate::cx::RuleCx;
use crate::hir::{Expr, ExprType, KeyType, MapData, ObjTarget, ObjectKind, SetOp, Stmt, StmtKind};
use ctc_grammar::ast::{LitKind, Op, Term, TermKind};
use ctc_grammar::{Diagnostic, Span};

/// Helper types the kernel knows (nf_conntrack_helper names).
const HELPER_TYPES: &[&str] = &["ftp", "tftp", "sip", "irc", "amanda", "h323", "pptp", "snmp", "netbios-ns", "sane"];

/// How to declare an object of `kind` named `name`, for help messages.
fn declaration(kind: ObjectKind, name: &str) -> String {
    match kind {
        ObjectKind::Counter => format!("counter {name} {{ }}"),
        ObjectKind::Quota => format!("quota {name} {{ 25 mbytes }}"),
        ObjectKind::Limit => format!("limit {name} {{ rate 400/minute }}"),
        ObjectKind::Synproxy => format!("synproxy {name} {{ mss 1460 wscale 7 timestamp sack-perm }}"),
        ObjectKind::Secmark => format!("secmark {name} {{ \"system_u:object_r:NAME_packet_t:s0\" }}"),
        ObjectKind::CtHelper => {
            let ty = if HELPER_TYPES.contains(&name) { name } else { "ftp" };
            let proto = if matches!(ty, "tftp" | "snmp" | "netbios-ns") { "udp" } else { "tcp" };
            format!("ct helper {name} {{\n        type \"{ty}\" protocol {proto}\n    }}")
        }
        ObjectKind::CtTimeout => {
            format!("ct timeout {name} {{\n        protocol tcp\n        policy = {{ established: 120 }}\n    }}")
        }
        ObjectKind::CtExpectation => {
            format!(
                "ct expectation {name} {{\n        protocol tcp\n        dport 21\n        timeout 1m\n        size 8\n    }}"
            )
        }
        ObjectKind::Flowtable => {
            format!("flowtable {name} {{\n        hook ingress priority filter\n        devices = {{ eth0 }}\n    }}")
        }
    }
}

/// A stateful object must exist in the table; the use is recorded.
pub(super) fn check_object(cx: &mut RuleCx<'_>, kind: ObjectKind, name: &str, span: Span) -> Result<(), ()> {
    cx.used_objects.push((kind, name.to_string(), span));
    let exists = cx.table.objects.contains_key(&(kind, name.to_string()))
        || (kind == ObjectKind::CtHelper && cx.table.helpers.contains_key(name))
        || (kind == ObjectKind::Flowtable && cx.table.flowtables.contains_key(name));
    if exists {
        return Ok(());
    }
    let code = if kind == ObjectKind::CtHelper { "E4008" } else { "E1004" };
    let mut d =
        Diagnostic::error(code, format!("{} `{name}` is not defined in table {}", kind.as_str(), cx.table.display()))
            .with_label(span, format!("undefined {}", kind.as_str()));
    let names: Vec<&str> = if kind == ObjectKind::Flowtable {
        cx.table.flowtables.keys().map(String::as_str).collect()
    } else {
        cx.table.objects.keys().filter(|(k, _)| *k == kind).map(|(_, n)| n.as_str()).collect()
    };
    d = match closest(name, names.into_iter()) {
        Some(similar) => d.with_help(format!("did you mean `{similar}`?")),
        None => d.with_help(format!(
            "declare it in table {} before the rule:\n    {}",
            cx.table.display(),
            declaration(kind, name)
        )),
    };
    fail(cx, d)
}

/// The object named by a statement: `"name"`, `name`, or `KEY map { ... }`
/// / `KEY map @m` giving the name.
pub(super) fn parse_obj_value(
    cx: &mut RuleCx<'_>,
    cur: &mut Cursor<'_>,
    kind: ObjectKind,
    what: &str,
) -> Result<ObjTarget, ()> {
    let Some(t) = cur.peek() else {
        return fail(
            cx,
            Diagnostic::error("E2014", format!("`{what}` needs the name of a {} object", kind.as_str()))
                .with_label(cur.span(), "name expected here"),
        );
    };
    let plain_name = match &t.kind {
        TermKind::Lit(LitKind::Str, s) => Some(s.clone()),
        TermKind::Word(w) if !crate::expr::is_expr_start(cx, cur) && !args::is_continuation(cur.peek_at(1)) => {
            Some(w.clone())
        }
        _ => None,
    };
    if let Some(name) = plain_name
        && !args::is_continuation(cur.peek_at(1))
    {
        let span = t.span;
        check_object(cx, kind, &name, span)?;
        cur.next();
        return Ok(ObjTarget::Name(name));
    }
    if let Some(off) = args::find_map(cur) {
        let (e, _) = args::parse_map(cx, cur, off, &DataSpec::Object(kind))?;
        return Ok(ObjTarget::Map(e));
    }
    fail(
        cx,
        Diagnostic::error(
            "E2012",
            format!("`{what}` takes the name of a {} object, not {}", kind.as_str(), describe(t)),
        )
        .with_label(t.span, "expected a name such as \"name\" or a map `KEY map { ... }`"),
    )
}

/// `counter|quota|limit|synproxy name NAME|MAP` (cursor at `name`).
pub(super) fn parse_objref(cx: &mut RuleCx<'_>, cur: &mut Cursor<'_>, kind: ObjectKind) -> Result<StmtKind, ()> {
    cur.next();
    let what = format!("{} name", kind.as_str());
    let target = parse_obj_value(cx, cur, kind, &what)?;
    Ok(StmtKind::ObjRef { kind, target })
}

/// `ct helper|timeout|expectation set VALUE`.
pub(super) fn parse_ct_object_set(cx: &mut RuleCx<'_>, cur: &mut Cursor<'_>) -> Result<StmtKind, ()> {
    cur.next();
    let key = cur.peek_word().unwrap_or_default().to_string();
    cur.next();
    cur.next();
    let kind = match key.as_str() {
        "helper" => ObjectKind::CtHelper,
        "timeout" => ObjectKind::CtTimeout,
        _ => ObjectKind::CtExpectation,
    };
    let target = parse_obj_value(cx, cur, kind, &format!("ct {key} set"))?;
    Ok(StmtKind::ObjRef { kind, target })
}

/// `flow add @ft` / `flow offload @ft`.
pub(super) fn parse_flow(cx: &mut RuleCx<'_>, cur: &mut Cursor<'_>) -> Result<StmtKind, ()> {
    let kw = cur.span();
    cur.next();
    let verb = cur.peek_word().unwrap_or("add").to_string();
    cur.next();
    let Some(t) = cur.peek() else {
        return fail(
            cx,
            Diagnostic::error("E2014", format!("`flow {verb}` needs a flowtable"))
                .with_label(cur.span(), "expected `@flowtable`"),
        );
    };
    let TermKind::At(name) = &t.kind else {
        return fail(
            cx,
            Diagnostic::error("E2012", format!("`flow {verb}` takes `@flowtable`, not {}", describe(t)))
                .with_label(t.span, "expected `@NAME`"),
        );
    };
    let (name, span) = (name.clone(), t.span);
    cur.next();
    // nft_flow_offload_validate: the forward hook only.
    if let Some((ty, hook)) = cx.chain.base
        && hook != ctc_proto::Hook::Forward
    {
        return fail(
            cx,
            Diagnostic::error(
                "E4006",
                format!(
                    "`flow {verb}` is only valid at the forward hook; this chain is a {} chain at the {} hook",
                    ty.name(),
                    hook.name()
                ),
            )
            .with_label(kw.to(span), "flow offload")
            .with_help("offload forwarded connections from a chain declared `type filter hook forward`"),
        );
    }
    check_object(cx, ObjectKind::Flowtable, &name, span)?;
    Ok(StmtKind::FlowOffload { flowtable: name })
}

/// Whether a key type agrees with a set's key.
fn key_matches(ty: &ExprType, key: &[KeyType]) -> bool {
    match ty {
        ExprType::Unknown => true,
        ExprType::Scalar(k) => key.len() == 1 && args::compatible(k, &key[0]),
        ExprType::Concat(ks) => ks.len() == key.len() && ks.iter().zip(key).all(|(a, b)| args::compatible(a, b)),
        ExprType::Verdict => false,
    }
}

fn type_name(key: &[KeyType]) -> String {
    key.iter().map(|k| k.ty.info().name).collect::<Vec<_>>().join(" . ")
}

/// The statements a set element may carry: counter, limit, quota, ct
/// count, last.
fn parse_elem_stmts(cx: &mut RuleCx<'_>, cur: &mut Cursor<'_>, out: &mut Vec<Stmt>) -> Result<(), ()> {
    while !cur.at_end() {
        if !super::starts_stmt(cx, cur) {
            return fail(
                cx,
                Diagnostic::error(
                    "E2011",
                    format!("unexpected {} in set element", cur.peek().map_or("".into(), describe)),
                )
                .with_label(cur.span(), "expected timeout, expires, comment or a stateful statement"),
            );
        }
        let st = super::parse_stmt(cx, cur)?;
        if !st.is_stateful() {
            return fail(
                cx,
                Diagnostic::error("E2012", "statement must be stateful")
                    .with_label(st.span, "not allowed in a set element")
                    .with_help("set elements can carry counter, limit, quota, ct count and last"),
            );
        }
        out.push(st);
    }
    Ok(())
}

/// Words that end the key of a dynamic set element: element options and
/// the stateful statements an element may carry.
fn ends_key(w: &str) -> bool {
    matches!(w, "timeout" | "expires" | "comment" | "counter" | "limit" | "quota" | "last" | "ct")
}

/// The key of a dynamic set element: an expression from the packet
/// (`ip saddr . tcp dport`) or, as nft also accepts, a constant of the
/// set's key type (`add @m { 10.2.3.4 timeout 2s : 0x2 }`). Returns the key
/// and the number of terms it used.
fn parse_key(cx: &mut RuleCx<'_>, terms: &[Term], span: Span, set_key: &[KeyType]) -> Result<(Expr, usize), ()> {
    let span = terms_span(terms, span);
    let mut sub = Cursor::new(terms, span);
    if sub.at_end() {
        return fail(
            cx,
            Diagnostic::error("E2014", "missing element key").with_label(span, "expected e.g. `ip saddr`"),
        );
    }
    if !crate::expr::is_expr_start(cx, &sub) {
        let end = terms.iter().position(|t| t.word().is_some_and(ends_key)).unwrap_or(terms.len());
        let ty = match set_key {
            [] => ExprType::Unknown,
            [k] => ExprType::Scalar(k.clone()),
            ks => ExprType::Concat(ks.to_vec()),
        };
        let key = args::parse_elem_key(cx, &terms[..end], span, &ty)?;
        return Ok((key, end));
    }
    let before = cx.diags.len();
    // A concatenated key may mix selectors and constants
    // (`update @s { ip saddr . 10.180.0.4 . 80 }`): the set's key types
    // type the constants.
    let key = match set_key {
        [_, _, ..] => crate::expr::parse_expr_typed(cx, &mut sub, &ExprType::Concat(set_key.to_vec())),
        _ => crate::expr::parse_expr(cx, &mut sub),
    };
    let Some(key) = key else {
        if cx.diags.len() == before {
            cx.error(
                Diagnostic::error("E2010", "invalid set element key")
                    .with_label(span, "expected a selector such as `ip saddr`"),
            );
        }
        return Err(());
    };
    Ok((key, sub.pos()))
}

/// `add|update|delete @set { KEY [timeout T] [expires T] [STMT...] [: DATA] }`,
/// and the older `set add|update|delete KEY @set`.
pub(super) fn parse_set_update(cx: &mut RuleCx<'_>, cur: &mut Cursor<'_>) -> Result<StmtKind, ()> {
    let legacy = cur.eat_word("set");
    let op = match cur.peek_word() {
        Some("add") => SetOp::Add,
        Some("update") => SetOp::Update,
        _ => SetOp::Delete,
    };
    cur.next();
    if legacy {
        return parse_legacy_set(cx, cur, op);
    }
    let Some(at) = cur.next() else { return Err(()) };
    let TermKind::At(name) = &at.kind else { return Err(()) };
    let (name, set_span) = (name.clone(), at.span);
    cx.used_sets.push((name.clone(), set_span));
    let Some(set) = cx.table.sets.get(&name) else {
        return fail(
            cx,
            Diagnostic::error("E1003", format!("set @{name} is not defined in table {}", cx.table.display()))
                .with_label(set_span, "undefined set")
                .with_help(match closest(&name, cx.table.sets.keys().map(String::as_str)) {
                    Some(s) => format!("did you mean `@{s}`?"),
                    None => format!("declare it with `set {name} {{ type ...; flags dynamic; }}` in the table"),
                }),
        );
    };
    let (is_map, set_key, set_data) = (set.is_map, set.key.clone(), set.data.clone());
    let Some(elem_t) = cur.peek() else {
        return fail(
            cx,
            Diagnostic::error("E2014", format!("`{} @{name}` needs an element `{{ ... }}`", op.name()))
                .with_label(cur.span(), "expected `{ KEY }`"),
        );
    };
    let TermKind::Set(lit) = &elem_t.kind else {
        return fail(
            cx,
            Diagnostic::error("E2012", format!("`{} @{name}` takes one element in braces", op.name()))
                .with_label(elem_t.span, "expected `{ KEY }`"),
        );
    };
    let lit_span = elem_t.span;
    cur.next();
    let [elem] = lit.elements.as_slice() else {
        return fail(
            cx,
            Diagnostic::error("E2012", format!("`{}` updates exactly one element", op.name()))
                .with_label(lit_span, format!("{} elements", lit.elements.len())),
        );
    };
    let colon = elem.terms.iter().position(|t| t.is_op(Op::Colon));
    let (key_part, data_part) = match colon {
        Some(c) => (&elem.terms[..c], Some(&elem.terms[c + 1..])),
        None => (&elem.terms[..], None),
    };
    let (key, used) = parse_key(cx, key_part, elem.span, &set_key)?;
    if !set_key.is_empty() && !key_matches(&key.ty, &set_key) {
        return fail(
            cx,
            Diagnostic::error(
                "E2007",
                format!("element key does not match the key of `@{name}` ({})", type_name(&set_key)),
            )
            .with_label(key.span, "wrong key type")
            .with_secondary(set_span, format!("`@{name}` is declared here with `type {}`", type_name(&set_key))),
        );
    }
    // Options and stateful statements after the key.
    let rest = &key_part[used.min(key_part.len())..];
    let mut sub = Cursor::new(rest, terms_span(rest, elem.span));
    let (mut timeout_ms, mut expires_ms) = (None, None);
    let mut stmts = Vec::new();
    loop {
        match sub.peek_word() {
            Some("timeout") => {
                sub.next();
                timeout_ms = Some(args::parse_time(cx, &mut sub, "timeout")?.0);
            }
            Some("expires") => {
                sub.next();
                expires_ms = Some(args::parse_time(cx, &mut sub, "expires")?.0);
            }
            Some("comment") => {
                return fail(
                    cx,
                    Diagnostic::error("E2012", "Key expression comments are not supported")
                        .with_label(sub.span(), "comment"),
                );
            }
            _ => break,
        }
    }
    parse_elem_stmts(cx, &mut sub, &mut stmts)?;
    if is_map && data_part.is_none() && op != SetOp::Delete {
        return fail(
            cx,
            Diagnostic::error("E1015", format!("`@{name}` is a map: `{}` needs `KEY : VALUE`", op.name()))
                .with_label(lit_span, "no value"),
        );
    }
    let data = match data_part {
        None => None,
        Some(dterms) => {
            if !is_map {
                return fail(
                    cx,
                    Diagnostic::error("E1015", format!("`@{name}` is a set, not a map: elements take no value"))
                        .with_label(terms_span(dterms, lit_span), "unexpected value"),
                );
            }
            let ty = match &set_data {
                Some(MapData::Value(kts)) if kts.len() == 1 => ExprType::Scalar(kts[0].clone()),
                Some(MapData::Value(kts)) => ExprType::Concat(kts.clone()),
                Some(MapData::Verdict) => ExprType::Verdict,
                _ => ExprType::Unknown,
            };
            Some(args::parse_elem_key(cx, dterms, lit_span, &ty)?)
        }
    };
    Ok(StmtKind::SetUpdate { op, set: name, key, data, timeout_ms, expires_ms, stmts })
}

/// `set add|update|delete KEY [timeout T] @set` (nft's first syntax).
fn parse_legacy_set(cx: &mut RuleCx<'_>, cur: &mut Cursor<'_>, op: SetOp) -> Result<StmtKind, ()> {
    let rest = cur.rest();
    let Some(at_idx) = rest.iter().position(|t| matches!(t.kind, TermKind::At(_))) else {
        return fail(
            cx,
            Diagnostic::error("E2014", "expected `@set` after the key").with_label(cur.span(), "set reference missing"),
        );
    };
    let key_terms = &rest[..at_idx];
    let (key, used) = parse_key(cx, key_terms, cur.span(), &[])?;
    let mut sub = Cursor::new(&key_terms[used..], terms_span(&key_terms[used..], cur.span()));
    let mut timeout_ms = None;
    if sub.eat_word("timeout") {
        timeout_ms = Some(args::parse_time(cx, &mut sub, "timeout")?.0);
    }
    if !sub.at_end() {
        return fail(
            cx,
            Diagnostic::error("E2011", "unexpected term before the set").with_label(sub.span(), "unexpected"),
        );
    }
    cur.set_pos(cur.pos() + at_idx);
    let Some(at) = cur.next() else { return Err(()) };
    let TermKind::At(name) = &at.kind else { return Err(()) };
    let (name, span) = (name.clone(), at.span);
    cx.used_sets.push((name.clone(), span));
    if !cx.table.sets.contains_key(&name) {
        return fail(
            cx,
            Diagnostic::error("E1003", format!("set @{name} is not defined in table {}", cx.table.display()))
                .with_label(span, "undefined set"),
        );
    }
    Ok(StmtKind::SetUpdate { op, set: name, key, data: None, timeout_ms, expires_ms: None, stmts: Vec::new() })
}

/// `meter NAME [size N] { KEY STMT }`: an implicit dynamic set.
pub(super) fn parse_meter(cx: &mut RuleCx<'_>, cur: &mut Cursor<'_>) -> Result<StmtKind, ()> {
    cur.next();
    let Some(name) = cur.peek().and_then(|t| match &t.kind {
        TermKind::Word(w) | TermKind::Lit(LitKind::Str, w) => Some(w.clone()),
        _ => None,
    }) else {
        return fail(cx, Diagnostic::error("E2014", "`meter` needs a name").with_label(cur.span(), "expected a name"));
    };
    cur.next();
    let mut size = None;
    if cur.eat_word("size") {
        size = Some(args::expect_uint(cx, cur, "meter size", u64::from(u32::MAX))?.0 as u32);
    }
    let Some(t) = cur.peek() else {
        return fail(
            cx,
            Diagnostic::error("E2014", "`meter` needs `{ KEY STATEMENT }`").with_label(cur.span(), "expected `{`"),
        );
    };
    let TermKind::Set(lit) = &t.kind else {
        return fail(
            cx,
            Diagnostic::error("E2012", "`meter` needs `{ KEY STATEMENT }`").with_label(t.span, "expected `{`"),
        );
    };
    let lit_span = t.span;
    cur.next();
    let [elem] = lit.elements.as_slice() else {
        return fail(
            cx,
            Diagnostic::error("E2012", "`meter` takes one key and one statement")
                .with_label(lit_span, "expected `{ KEY STATEMENT }`"),
        );
    };
    let (key, used) = parse_key(cx, &elem.terms, elem.span, &[])?;
    let rest = &elem.terms[used.min(elem.terms.len())..];
    let mut sub = Cursor::new(rest, terms_span(rest, elem.span));
    let mut stmts = Vec::new();
    // `meter m { ip saddr timeout 10s limit rate 10/second }`.
    if sub.eat_word("timeout") {
        args::parse_time(cx, &mut sub, "timeout")?;
    }
    parse_elem_stmts(cx, &mut sub, &mut stmts)?;
    let mut it = stmts.into_iter();
    let (Some(stmt), None) = (it.next(), it.next()) else {
        return fail(
            cx,
            Diagnostic::error("E2012", "meter statement must be stateful")
                .with_label(lit_span, "expected one stateful statement"),
        );
    };
    Ok(StmtKind::Meter { name, size, key, stmt: Box::new(stmt) })
}
