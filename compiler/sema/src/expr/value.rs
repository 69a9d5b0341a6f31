//! Values typed by what they meet: literals, symbols, prefixes, ranges,
//! flag lists, set literals, set references, verdicts.

use super::parser::{self, peek_binop, set_key_type};
use super::util::*;
use crate::cursor::Cursor;
use crate::cx::RuleCx;
use crate::hir::{Expr, ExprKind, ExprType, KeyType, SetElem, Value, Verdict};
use crate::values;
use ctc_grammar::ast::{LitKind, Op, SetLit, Term, TermKind};
use ctc_grammar::{Diagnostic, Span};
use ctc_proto::{BaseKind, Ty};

/// Options of a right-hand side.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Rhs {
    /// `a,b,c` flag lists (match right sides and statement arguments; not
    /// inside set elements, where the comma separates elements).
    pub list: bool,
}

fn value_expr(v: Value, k: &KeyType, span: Span) -> Expr {
    mk(ExprKind::Value(v), ExprType::Scalar(k.clone()), span)
}

/// Types whose names are resolved on the target host (users, groups,
/// interfaces, connlabel.conf): any name is accepted.
fn host_named(ty: Ty) -> bool {
    matches!(ty, Ty::Uid | Ty::Gid | Ty::IfaceIndex | Ty::CtLabel | Ty::Secmark)
}

/// One literal (or `major:minor` of a classid) of type `k`.
pub(crate) fn parse_atom(cx: &mut RuleCx<'_>, cur: &mut Cursor<'_>, k: &KeyType) -> Option<Expr> {
    let Some(t) = cur.peek() else {
        return err(
            cx,
            "E2014",
            format!("missing {} value", k.ty.info().name),
            cur.span(),
            format!("expected {}", expected_form(k)),
        );
    };
    // tc handles `major:minor` (hex parts), lexed as three terms.
    if k.ty == Ty::Classid
        && is_op(cur.peek_at(1), Op::Colon)
        && let (Some(a), Some(b)) = (cur.peek_at(0).and_then(hex_part), cur.peek_at(2).and_then(hex_part))
    {
        let span = t.span.to(cur.peek_at(2).map_or(t.span, |x| x.span));
        cur.next();
        cur.next();
        cur.next();
        return Some(value_expr(Value::Int((u128::from(a) << 16) | u128::from(b)), k, span));
    }
    cur.next();
    let info = k.ty.info();
    let span = t.span;
    let mismatch = |cx: &mut RuleCx<'_>, what: &str| -> Option<Expr> {
        err_help(
            cx,
            "E2003",
            format!("{} is {what}, not a valid {}", describe(t), info.name),
            span,
            format!("expected {}", expected_form(k)),
            format!("this field is of type {}", info.name),
        )
    };
    match &t.kind {
        TermKind::Var(v) => err(cx, "E1005", format!("variable `${v}` is not defined"), span, "undefined variable"),
        TermKind::Op(Op::Star) if info.kind == BaseKind::String => all_wildcard(cx, span),
        TermKind::Word(_) | TermKind::Lit(LitKind::Str, _) => {
            let s = word_or_str(t).unwrap_or_default();
            let quoted = matches!(t.kind, TermKind::Lit(..));
            atom_text(cx, s, quoted, k, span)
        }
        TermKind::Lit(LitKind::Number | LitKind::Hex, s) => {
            // A port like `08` is no octal number to nft's scanner, and its
            // service parser reads the word as decimal.
            let port = || (k.ty == Ty::InetService).then(|| values::parse_decimal(s)).flatten();
            let Some(v) = values::parse_number(s).or_else(port) else {
                return err(cx, "E2006", format!("malformed number `{s}`"), span, "not a number");
            };
            match (k.ty, info.kind) {
                (_, BaseKind::String) => mismatch(cx, "a number"),
                (_, BaseKind::Verdict) => mismatch(cx, "a number"),
                // `meta time` (64 bits) is an absolute time: a number is
                // seconds since the epoch, as a date is.
                (_, BaseKind::Time) if k.bits == 64 => Some(value_expr(Value::Int(v), k, span)),
                (_, BaseKind::Time) => {
                    // Seconds; nft's relative times are in milliseconds.
                    Some(value_expr(Value::Int(v.saturating_mul(1000)), k, span))
                }
                (Ty::Day, _) if v > 6 => err_help(
                    cx,
                    "E2002",
                    format!("day {v} is out of range"),
                    span,
                    "expected 0 (Sunday) to 6 (Saturday)",
                    "or write the day name, e.g. \"Saturday\"",
                ),
                (Ty::Hour, _) if v >= 86_400 => err(
                    cx,
                    "E2002",
                    format!("{v} is not a time of day"),
                    span,
                    "expected seconds since midnight, below 86400",
                ),
                // A label is a bit number (connlabel.conf has 128 of them).
                (Ty::CtLabel, _) if v > 127 => err_help(
                    cx,
                    "E2002",
                    format!("ct label {v} is out of range"),
                    span,
                    "labels are bits 0-127",
                    "use a label number below 128",
                ),
                (Ty::CtLabel, _) => Some(value_expr(Value::Int(v), k, span)),
                (_, BaseKind::Boolean) if v > 1 => err_help(
                    cx,
                    "E2002",
                    format!("`{s}` is not a boolean"),
                    span,
                    "expected 0 or 1",
                    "write `exists` or `missing`",
                ),
                _ => {
                    if let Some(max) = max_for_bits(k.bits)
                        && v > max
                    {
                        return err_help(
                            cx,
                            "E2002",
                            format!("value {s} is out of range for {}", info.name),
                            span,
                            format!("this field is {} bits wide: expected 0-{max}", k.bits),
                            format!("use a value between 0 and {max}"),
                        );
                    }
                    Some(value_expr(Value::Int(v), k, span))
                }
            }
        }
        TermKind::Lit(LitKind::NumWord, s) => match info.kind {
            BaseKind::Time => match values::parse_time_ms(s) {
                Some(ms) => Some(value_expr(Value::Int(u128::from(ms)), k, span)),
                None => err_help(
                    cx,
                    "E2006",
                    format!("malformed time `{s}`"),
                    span,
                    "not a valid time",
                    "write e.g. `30s`, `5m`, `1h30m`, `2d`",
                ),
            },
            BaseKind::String => atom_text(cx, s, false, k, span),
            // Symbols that start with digits (`8021q`, `8021ad`).
            _ if k.ty.symbol(s).is_some() => atom_text(cx, s, false, k, span),
            _ => err_help(
                cx,
                "E2006",
                format!("malformed value `{s}`"),
                span,
                format!("expected {}", expected_form(k)),
                "numbers take no unit here",
            ),
        },
        TermKind::Lit(LitKind::Ipv4, s) => match info.kind {
            BaseKind::Ipv4 => match values::parse_ipv4(s) {
                Some(o) => Some(value_expr(Value::Bytes(o.to_vec()), k, span)),
                None => err(cx, "E2006", format!("malformed IPv4 address `{s}`"), span, "each part must be 0-255"),
            },
            BaseKind::Ipv6 => err_help(
                cx,
                "E2003",
                format!("`{s}` is an IPv4 address, but {} is expected", info.name),
                span,
                "IPv4 address where an IPv6 address is needed",
                "write an IPv6 address, or use `ip` instead of `ip6` on the left",
            ),
            _ => mismatch(cx, "an IPv4 address"),
        },
        TermKind::Lit(LitKind::ColonHex, s) => match info.kind {
            BaseKind::Ipv6 => match values::parse_ipv6(s) {
                Some(o) => Some(value_expr(Value::Bytes(o.to_vec()), k, span)),
                None => err(cx, "E2006", format!("malformed IPv6 address `{s}`"), span, "not a valid IPv6 address"),
            },
            BaseKind::Ether => match values::parse_mac(s) {
                Some(o) => Some(value_expr(Value::Bytes(o.to_vec()), k, span)),
                None => err(
                    cx,
                    "E2006",
                    format!("malformed Ethernet address `{s}`"),
                    span,
                    "expected six hex octets like 00:11:22:33:44:55",
                ),
            },
            // Colon-separated hex is an IPv6 address, or an Ethernet address
            // when it has six one- or two-digit groups.
            BaseKind::Ipv4 if values::parse_mac(s).is_some() => err_help(
                cx,
                "E2003",
                format!("`{s}` is an Ethernet address, but {} is expected", info.name),
                span,
                "Ethernet address where an IPv4 address is needed",
                "write an IPv4 address, or match the link layer with `ether saddr`/`ether daddr`",
            ),
            BaseKind::Ipv4 => err_help(
                cx,
                "E2003",
                format!("`{s}` is an IPv6 address, but {} is expected", info.name),
                span,
                "IPv6 address where an IPv4 address is needed",
                "write an IPv4 address, or match an IPv6 field (`ip6 saddr`, or a set of type ipv6_addr)",
            ),
            _ => mismatch(cx, "an address"),
        },
        _ => err(cx, "E2011", format!("expected {}, found {}", expected_form(k), describe(t)), span, "not a value"),
    }
}

/// `MAJ:MIN-MAJ:MIN` of tc handles, lexed as `MAJ : MIN-MAJ : MIN`.
fn classid_range(cur: &mut Cursor<'_>, k: &KeyType) -> Option<Expr> {
    let a = cur.peek_at(0).and_then(hex_part)?;
    if !is_op(cur.peek_at(1), Op::Colon) || !is_op(cur.peek_at(3), Op::Colon) {
        return None;
    }
    let mid = cur.peek_at(2)?.word()?;
    let (b, c) = mid.split_once('-')?;
    let parse = |s: &str| u16::from_str_radix(s, 16).ok().filter(|_| !s.is_empty() && s.len() <= 4);
    let (b, c) = (parse(b)?, parse(c)?);
    let d = cur.peek_at(4).and_then(hex_part)?;
    let span = cur.peek_at(0)?.span.to(cur.peek_at(4)?.span);
    for _ in 0..5 {
        cur.next();
    }
    let lo = value_expr(Value::Int((u128::from(a) << 16) | u128::from(b)), k, span);
    let hi = value_expr(Value::Int((u128::from(c) << 16) | u128::from(d)), k, span);
    Some(mk(ExprKind::Range { lo: Box::new(lo), hi: Box::new(hi) }, ExprType::Scalar(k.clone()), span))
}

fn hex_part(t: &Term) -> Option<u16> {
    let s = match &t.kind {
        TermKind::Word(w) => w.as_str(),
        TermKind::Lit(LitKind::Number | LitKind::Hex, s) => s.as_str(),
        _ => return None,
    };
    let s = s.strip_prefix("0x").unwrap_or(s);
    if s.is_empty() || s.len() > 4 {
        return None;
    }
    u16::from_str_radix(s, 16).ok()
}

/// E2006 for `"*"` (or a bare `*`) where a string goes: a wildcard of
/// nothing but the wildcard, which nft refuses ("All-wildcard strings are
/// not supported", measured; a bare `*` is a syntax error to it).
fn all_wildcard(cx: &mut RuleCx<'_>, span: Span) -> Option<Expr> {
    err_help(
        cx,
        "E2006",
        "all-wildcard strings are not supported",
        span,
        "`*` alone would match every name",
        "leave the match out to match any name, or give a prefix (`\"eth*\"`)",
    )
}

/// A word or string as a value of type `k`.
fn atom_text(cx: &mut RuleCx<'_>, s: &str, quoted: bool, k: &KeyType, span: Span) -> Option<Expr> {
    let info = k.ty.info();
    if let Some(v) = k.ty.symbol(s) {
        return Some(value_expr(Value::Int(u128::from(v)), k, span));
    }
    match (k.ty, info.kind) {
        (_, BaseKind::String) => {
            if s.is_empty() {
                return err_help(
                    cx,
                    "E2006",
                    format!("empty {}", if k.ty == Ty::Ifname { "interface name" } else { "string" }),
                    span,
                    "the name is empty",
                    "write a name, or leave the match out to match any",
                );
            }
            if s == "*" {
                return all_wildcard(cx, span);
            }
            let max = (k.bits / 8).saturating_sub(1) as usize;
            if k.bits > 0 && s.len() > max {
                return err(cx, "E2002", format!("\"{s}\" is too long"), span, format!("at most {max} characters"));
            }
            Some(value_expr(Value::Str(s.to_string()), k, span))
        }
        (Ty::Day, _) => {
            let low = s.to_ascii_lowercase();
            if let Some((_, v)) = info.symbols.iter().find(|(n, _)| {
                let n = n.to_ascii_lowercase();
                n == low || (low.len() >= 3 && n.starts_with(&low))
            }) {
                return Some(value_expr(Value::Int(u128::from(*v)), k, span));
            }
            unknown_symbol(cx, s, k, span)
        }
        (Ty::Hour, _) => match parse_hour(s) {
            Some(Ok(v)) => Some(value_expr(Value::Int(u128::from(v)), k, span)),
            Some(Err(())) => err_help(
                cx,
                "E2002",
                format!("\"{s}\" is not a time of day"),
                span,
                "hours go 0-23, minutes 0-59",
                "write e.g. \"23:59\"",
            ),
            None => err_help(
                cx,
                "E2006",
                format!("malformed time of day \"{s}\""),
                span,
                "expected \"HH:MM\" or \"HH:MM:SS\"",
                "write e.g. \"17:00\"",
            ),
        },
        (_, BaseKind::Time) => {
            if let Some(v) = parse_date(s) {
                return Some(value_expr(Value::Int(u128::from(v)), k, span));
            }
            if let Some(ms) = values::parse_time_ms(s) {
                return Some(value_expr(Value::Int(u128::from(ms)), k, span));
            }
            err_help(
                cx,
                "E2006",
                format!("malformed time \"{s}\""),
                span,
                "not a date or a time",
                "write a date \"YYYY-MM-DD HH:MM:SS\" or a duration like `1h30m`",
            )
        }
        (_, BaseKind::Verdict) => err(
            cx,
            "E2011",
            format!("`{s}` is not a verdict"),
            span,
            "expected accept, drop, continue, return, jump or goto",
        ),
        (t, _) if host_named(t) => Some(value_expr(Value::Str(s.to_string()), k, span)),
        (_, BaseKind::Ipv4 | BaseKind::Ipv6 | BaseKind::Ether) => err_help(
            cx,
            "E2003",
            format!("{} is not a valid {}", if quoted { format!("\"{s}\"") } else { format!("`{s}`") }, info.name),
            span,
            format!("expected {}", expected_form(k)),
            "ctc does not resolve host names; write the address",
        ),
        // A quoted number (`"22"`) reads as the number.
        _ if values::parse_number(s).is_some() && quoted => {
            let v = values::parse_number(s).unwrap_or_default();
            if max_for_bits(k.bits).is_some_and(|m| v > m) {
                return err(
                    cx,
                    "E2002",
                    format!("value {s} is out of range for {}", info.name),
                    span,
                    format!("{} bits wide", k.bits),
                );
            }
            Some(value_expr(Value::Int(v), k, span))
        }
        _ => unknown_symbol(cx, s, k, span),
    }
}

fn unknown_symbol(cx: &mut RuleCx<'_>, s: &str, k: &KeyType, span: Span) -> Option<Expr> {
    let info = k.ty.info();
    let d = Diagnostic::error("E2001", format!("unknown {} `{s}`", info.name))
        .with_label(span, format!("`{s}` is not a valid {}: expected {}", info.name, expected_form(k)));
    let d = suggest(d, s, info.symbols.iter().map(|(n, _)| *n));
    let d = if d.help.is_none() && !info.symbols.is_empty() {
        let names: Vec<&str> = info.symbols.iter().take(10).map(|(n, _)| *n).collect();
        d.with_help(format!("known names: {}{}", names.join(", "), if info.symbols.len() > 10 { ", ..." } else { "" }))
    } else {
        d
    };
    cx.error(d);
    None
}

/// "HH:MM" or "HH:MM:SS" → seconds since midnight. `Some(Err)` when the
/// shape is right but a part is out of range.
fn parse_hour(s: &str) -> Option<Result<u32, ()>> {
    let parts: Vec<&str> = s.split(':').collect();
    if !(2..=3).contains(&parts.len())
        || parts.iter().any(|p| p.is_empty() || p.len() > 2 || !p.bytes().all(|b| b.is_ascii_digit()))
    {
        return None;
    }
    let n: Vec<u32> = parts.iter().filter_map(|p| p.parse().ok()).collect();
    let (h, m, sec) = (n[0], n[1], n.get(2).copied().unwrap_or(0));
    // A leap second (23:59:60) is accepted, as nft does.
    if h > 23 || m > 59 || sec > 60 {
        return Some(Err(()));
    }
    Some(Ok((h * 3600 + m * 60 + sec) % 86_400))
}

/// "YYYY-MM-DD[ HH:MM[:SS]]" → seconds since the epoch (UTC).
fn parse_date(s: &str) -> Option<u64> {
    let (date, time) = match s.split_once(' ') {
        Some((d, t)) => (d, Some(t)),
        None => (s, None),
    };
    let d: Vec<&str> = date.split('-').collect();
    if d.len() != 3 || d.iter().any(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit())) {
        return None;
    }
    let y: i64 = d[0].parse().ok()?;
    let mo: i64 = d[1].parse().ok()?;
    let da: i64 = d[2].parse().ok()?;
    if !(1970..=9999).contains(&y) || !(1..=12).contains(&mo) || !(1..=31).contains(&da) {
        return None;
    }
    let secs = match time {
        Some(t) => match parse_hour(t)? {
            Ok(v) => i64::from(v),
            Err(()) => return None,
        },
        None => 0,
    };
    // Days from civil (Howard Hinnant's algorithm).
    let (yy, mm) = if mo <= 2 { (y - 1, mo + 9) } else { (y, mo - 3) };
    let era = yy.div_euclid(400);
    let yoe = yy - era * 400;
    let doy = (153 * mm + 2) / 5 + da - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    u64::try_from(days * 86_400 + secs).ok()
}

fn is_bitmask(k: &KeyType) -> bool {
    k.ty.info().kind == BaseKind::Bitmask
}

/// Whether a type's ranges may wrap (`meta hour "21:00"-"02:00"`).
fn wraps(k: &KeyType) -> bool {
    matches!(k.ty, Ty::Hour | Ty::Day)
}

fn order_key(e: &Expr) -> Option<u128> {
    match &e.kind {
        ExprKind::Value(Value::Int(v)) => Some(*v),
        ExprKind::Value(Value::Bytes(b)) if b.len() <= 16 => {
            Some(b.iter().fold(0u128, |a, x| (a << 8) | u128::from(*x)))
        }
        _ => None,
    }
}

/// One value with an optional range (`a-b`) or prefix (`/N`) and constant
/// operators (`syn | ack`, `0x10 << 2`).
pub(crate) fn parse_single(cx: &mut RuleCx<'_>, cur: &mut Cursor<'_>, k: &KeyType, depth: usize) -> Option<Expr> {
    if depth > MAX_DEPTH {
        return err(cx, "E2013", "value nested too deeply", cur.span(), "nesting limit reached here");
    }
    let start = cur.pos();
    if let Some(t) = cur.peek()
        && let TermKind::Group(inner) = &t.kind
    {
        cur.next();
        let mut sub = Cursor::new(inner, t.span);
        let e = parse_single(cx, &mut sub, k, depth + 1)?;
        if let Some(x) = sub.peek() {
            return err(cx, "E2011", format!("unexpected {} in parentheses", describe(x)), x.span, "expected `)` here");
        }
        return Some(e);
    }
    // `bcad:dada-bcad:dadc`: the lexer reads `dada-bcad` as one word.
    if k.ty == Ty::Classid
        && let Some(r) = classid_range(cur, k)
    {
        return Some(r);
    }
    let lo = parse_atom(cx, cur, k)?;
    if cur.eat_op(Op::Minus) {
        let hi = parse_atom(cx, cur, k)?;
        let span = cur.span_from(start);
        if let (Some(a), Some(b)) = (order_key(&lo), order_key(&hi))
            && a > b
            && !wraps(k)
        {
            cx.error(
                Diagnostic::error("E2005", "invalid range: the low end is greater than the high end")
                    .with_label(span, "empty range")
                    .with_help("write the smaller value first"),
            );
            return None;
        }
        if matches!(lo.kind, ExprKind::Value(Value::Str(_))) && !wraps(k) {
            return err(
                cx,
                "E2013",
                format!("ranges are not defined for {}", k.ty.info().name),
                span,
                "a range of names",
            );
        }
        return Some(mk(ExprKind::Range { lo: Box::new(lo), hi: Box::new(hi) }, ExprType::Scalar(k.clone()), span));
    }
    if !is_bitmask(k) && is_op(cur.peek(), Op::Slash) {
        let slash = cur.span();
        cur.next();
        let Some((n, nspan)) = eat_number(cur) else {
            let found = cur.peek().map_or("the end".into(), describe);
            return err(
                cx,
                "E2004",
                "missing prefix length after `/`",
                slash,
                format!("expected a number, found {found}"),
            );
        };
        let span = cur.span_from(start);
        let info = k.ty.info();
        if matches!(info.kind, BaseKind::String | BaseKind::Boolean | BaseKind::Verdict | BaseKind::Time) {
            return err(
                cx,
                "E2004",
                format!("a prefix is not defined for {}", info.name),
                span,
                "prefix on a non-numeric value",
            );
        }
        let width = if k.bits == 0 { 128 } else { k.bits };
        if n > u128::from(width) {
            return err_help(
                cx,
                "E2004",
                format!("invalid prefix length /{n}"),
                nspan,
                format!("{} has {width} bits: the prefix length must be 0-{width}", info.name),
                format!("use a length between 0 and {width}"),
            );
        }
        return Some(mk(ExprKind::Prefix { value: Box::new(lo), len: n as u32 }, ExprType::Scalar(k.clone()), span));
    }
    // Constant operators: `syn | ack`, `0x0f << 2`: parse the chain again
    // from the start with operator precedence.
    if (0..=3u8).any(|level| peek_binop(cur, level).is_some()) {
        cur.set_pos(start);
        let mut x = parser::parse_const_level(cx, cur, depth + 1, k, 0)?;
        x.span = cur.span_from(start);
        return Some(x);
    }
    let mut e = lo;
    e.span = cur.span_from(start);
    Some(e)
}

/// A right-hand side of type `ty`: a value, a flag list, a concatenation of
/// values, a set literal or `@set`.
pub(crate) fn parse_rhs(
    cx: &mut RuleCx<'_>,
    cur: &mut Cursor<'_>,
    ty: &ExprType,
    depth: usize,
    opts: Rhs,
) -> Option<Expr> {
    let Some(t) = cur.peek() else {
        return err(cx, "E2014", "missing value", cur.span(), format!("expected {}", ty_expected(ty)));
    };
    match &t.kind {
        TermKind::Set(lit) => {
            cur.next();
            let elems = parse_set_lit(cx, lit, ty, None, depth + 1)?;
            return Some(mk(ExprKind::SetLit(elems), ty.clone(), t.span));
        }
        TermKind::At(name) if !is_op(cur.peek_at(1), Op::Comma) => {
            cur.next();
            return set_ref(cx, name, t.span, ty);
        }
        _ => {}
    }
    let start = cur.pos();
    match ty {
        ExprType::Verdict => parse_verdict(cx, cur),
        ExprType::Unknown => parse_infer(cx, cur, depth),
        ExprType::Concat(ks) => {
            let mut parts = Vec::new();
            for (i, k) in ks.iter().enumerate() {
                if i > 0 && !cur.eat_op(Op::Dot) {
                    let found = cur.peek().map_or("the end".into(), describe);
                    return err_help(
                        cx,
                        "E2007",
                        format!("expected {} components, found {i}", ks.len()),
                        cur.span_from(start),
                        format!("missing `. {}` here (found {found})", k.ty.info().name),
                        format!("the key is {}", ty_name(ty)),
                    );
                }
                parts.push(parse_single(cx, cur, k, depth + 1)?);
            }
            if is_op(cur.peek(), Op::Dot) {
                return err_help(
                    cx,
                    "E2007",
                    format!("too many components: the key has {}", ks.len()),
                    cur.span(),
                    "unexpected `.`",
                    format!("the key is {}", ty_name(ty)),
                );
            }
            Some(mk(ExprKind::Concat(parts), ty.clone(), cur.span_from(start)))
        }
        ExprType::Scalar(k) => {
            let first = parse_single(cx, cur, k, depth + 1)?;
            if opts.list && is_op(cur.peek(), Op::Comma) {
                if !is_bitmask(k) {
                    return err_help(
                        cx,
                        "E2013",
                        format!("a comma list is not defined for {}", k.ty.info().name),
                        cur.span(),
                        "only flag types combine values with `,`",
                        "use a set: `{ a, b }`",
                    );
                }
                let mut items = vec![first];
                while cur.eat_op(Op::Comma) {
                    items.push(parse_single(cx, cur, k, depth + 1)?);
                    if items.len() > 256 {
                        return err(cx, "E2013", "list too long", cur.prev_span(), "at most 256 items");
                    }
                }
                return Some(mk(ExprKind::List(items), ty.clone(), cur.span_from(start)));
            }
            Some(first)
        }
    }
}

fn ty_expected(ty: &ExprType) -> String {
    match ty {
        ExprType::Scalar(k) => expected_form(k),
        ExprType::Concat(_) => format!("a value of type {}", ty_name(ty)),
        ExprType::Verdict => "a verdict".into(),
        ExprType::Unknown => "a value".into(),
    }
}

/// `@name` where a set of `ty` is expected.
pub(crate) fn set_ref(cx: &mut RuleCx<'_>, name: &str, span: Span, ty: &ExprType) -> Option<Expr> {
    let Some(set) = cx.table.sets.get(name) else {
        let d = Diagnostic::error("E1003", format!("set @{name} is not defined in table {}", cx.table.display()))
            .with_label(span, "undefined set");
        let d = suggest(d, name, cx.table.sets.keys().map(String::as_str));
        let d = if d.help.is_none() {
            d.with_help(format!("declare it with `set {name} {{ type ...; }}` in the table"))
        } else {
            d
        };
        cx.error(d);
        return None;
    };
    cx.used_sets.push((name.to_string(), span));
    // A map may be looked up as a set of its keys (`ip6 dscp @map3`), as
    // nft allows.
    let skey = set_key_type(&set.key);
    if !types_compatible(&skey, ty) {
        return err_help(
            cx,
            "E2003",
            format!("set @{name} holds {}, but the expression is {}", ty_name(&skey), ty_name(ty)),
            span,
            format!("elements are {}", ty_name(&skey)),
            "use a set whose type matches the expression",
        );
    }
    Some(mk(ExprKind::SetRef { name: name.to_string() }, skey, span))
}

/// A value without an expected type (map data in a statement-less
/// context): the literal decides.
fn parse_infer(cx: &mut RuleCx<'_>, cur: &mut Cursor<'_>, depth: usize) -> Option<Expr> {
    let start = cur.pos();
    let mut parts = Vec::new();
    loop {
        let Some(t) = cur.peek() else {
            return err(cx, "E2014", "missing value", cur.span(), "expected a value");
        };
        let k = match &t.kind {
            TermKind::Lit(LitKind::Ipv4, _) => kt(Ty::Ipv4Addr, 32),
            TermKind::Lit(LitKind::ColonHex, s) if values::parse_ipv6(s).is_some() => kt(Ty::Ipv6Addr, 128),
            TermKind::Lit(LitKind::ColonHex, _) => kt(Ty::EtherAddr, 48),
            TermKind::Lit(LitKind::Number | LitKind::Hex, _) => kt(Ty::Integer, 0),
            TermKind::Lit(LitKind::NumWord, _) => kt(Ty::Time, 64),
            TermKind::Word(w) if matches!(w.as_str(), "accept" | "drop" | "continue" | "return" | "jump" | "goto") => {
                return parse_verdict(cx, cur);
            }
            TermKind::Word(_) | TermKind::Lit(LitKind::Str, _) => kt(Ty::String, 0),
            TermKind::Group(_) => kt(Ty::Integer, 0),
            _ => return err(cx, "E2011", format!("expected a value, found {}", describe(t)), t.span, "not a value"),
        };
        parts.push(parse_single(cx, cur, &k, depth + 1)?);
        if !cur.eat_op(Op::Dot) {
            break;
        }
        if parts.len() > 32 {
            return err(cx, "E2013", "concatenation too long", cur.prev_span(), "at most 32 components");
        }
    }
    if parts.len() == 1 {
        return parts.pop();
    }
    let kts =
        parts.iter().filter_map(|p| if let ExprType::Scalar(k) = &p.ty { Some(k.clone()) } else { None }).collect();
    Some(mk(ExprKind::Concat(parts), ExprType::Concat(kts), cur.span_from(start)))
}

/// `accept`, `drop`, `continue`, `return`, `jump CHAIN`, `goto CHAIN`,
/// `jump { ... }` (an anonymous chain).
pub fn parse_verdict(cx: &mut RuleCx<'_>, cur: &mut Cursor<'_>) -> Option<Expr> {
    let start = cur.pos();
    let Some(t) = cur.peek() else {
        return err(
            cx,
            "E2014",
            "missing verdict",
            cur.span(),
            "expected accept, drop, continue, return, jump or goto",
        );
    };
    let Some(w) = t.word() else {
        return err(cx, "E2003", format!("expected a verdict, found {}", describe(t)), t.span, "not a verdict");
    };
    cur.next();
    let v = match w {
        "accept" => Verdict::Accept,
        "drop" => Verdict::Drop,
        "continue" => Verdict::Continue,
        "return" => Verdict::Return,
        "jump" | "goto" => {
            let goto = w == "goto";
            let Some(target) = cur.peek() else {
                return err_help(
                    cx,
                    "E2014",
                    format!("`{w}` needs a chain"),
                    cur.span(),
                    "missing chain name",
                    format!("write `{w} CHAIN`"),
                );
            };
            cur.next();
            let name = match &target.kind {
                TermKind::Chain(body) => {
                    cx.anon_chains.push(body.clone());
                    String::new()
                }
                _ => match word_or_str(target) {
                    Some(n) => {
                        let n = n.to_string();
                        if !cx.table.chains.contains_key(&n) {
                            let d = Diagnostic::error(
                                "E1002",
                                format!("chain `{n}` is not defined in table {}", cx.table.display()),
                            )
                            .with_label(target.span, "undefined chain");
                            let d = suggest(d, &n, cx.table.chains.keys().map(String::as_str));
                            cx.error(d);
                            return None;
                        }
                        cx.jumps.push((n.clone(), target.span, goto));
                        n
                    }
                    None => {
                        return err(
                            cx,
                            "E2011",
                            format!("expected a chain name, found {}", describe(target)),
                            target.span,
                            "not a chain name",
                        );
                    }
                },
            };
            if goto { Verdict::Goto(name) } else { Verdict::Jump(name) }
        }
        _ => {
            let d = Diagnostic::error("E2001", format!("unknown verdict `{w}`"))
                .with_label(t.span, "expected accept, drop, continue, return, jump or goto");
            cx.error(suggest(d, w, ["accept", "drop", "continue", "return", "jump", "goto"]));
            return None;
        }
    };
    Some(mk(ExprKind::Verdict(v), ExprType::Verdict, cur.span_from(start)))
}

/// Elements of a set literal typed by `key` (and `data` for a map).
pub(crate) fn parse_set_lit(
    cx: &mut RuleCx<'_>,
    lit: &SetLit,
    key: &ExprType,
    data: Option<&ExprType>,
    depth: usize,
) -> Option<Vec<SetElem>> {
    if depth > MAX_DEPTH {
        return err(cx, "E2013", "sets nested too deeply", lit.span, "nesting limit reached here");
    }
    let mut out = Vec::new();
    for el in &lit.elements {
        // A nested set (from a `define`) is flattened into this one.
        if let [t] = el.terms.as_slice()
            && let TermKind::Set(inner) = &t.kind
        {
            out.extend(parse_set_lit(cx, inner, key, data, depth + 1)?);
            continue;
        }
        out.push(parse_element(cx, el.terms.as_slice(), el.span, key, data, depth)?);
        if out.len() > 1_000_000 {
            return err(cx, "E2013", "set literal too large", lit.span, "too many elements");
        }
    }
    if data.is_some() {
        check_overlaps(cx, &out)?;
    }
    Some(out)
}

fn parse_element(
    cx: &mut RuleCx<'_>,
    terms: &[Term],
    span: Span,
    key: &ExprType,
    data: Option<&ExprType>,
    depth: usize,
) -> Option<SetElem> {
    let mut c = Cursor::new(terms, span);
    let k = if let Some(t) = c.peek()
        && t.is_op(Op::Star)
    {
        c.next();
        mk(ExprKind::Catchall, key.clone(), t.span)
    } else {
        match key {
            ExprType::Scalar(k) if k.ty.info().kind == BaseKind::Verdict => parse_verdict(cx, &mut c)?,
            _ => parse_rhs(cx, &mut c, key, depth + 1, Rhs { list: false })?,
        }
    };
    let mut elem =
        SetElem { key: k, data: None, timeout_ms: None, expires_ms: None, comment: None, stmts: Vec::new(), span };
    // nft prints element options before the `:` of a map element
    // (`22 counter packets 0 bytes 0 : jump ssh_input`).
    parse_elem_options(cx, &mut c, &mut elem)?;
    if let Some(dt) = data {
        if !c.eat_op(Op::Colon) {
            let found = c.peek().map_or("the end of the element".into(), describe);
            return err_help(
                cx,
                "E2007",
                "map element without a value",
                c.span(),
                format!("expected `:` and a value, found {found}"),
                "write map elements as `key : value`",
            );
        }
        let d = match dt {
            ExprType::Verdict => parse_verdict(cx, &mut c)?,
            _ => parse_rhs(cx, &mut c, dt, depth + 1, Rhs { list: false })?,
        };
        elem.data = Some(d);
    } else if let Some(t) = c.peek()
        && t.is_op(Op::Colon)
    {
        return err_help(
            cx,
            "E2007",
            "`:` in a set element",
            t.span,
            "set elements have no value",
            "to map keys to values, use `map { ... }` or `vmap { ... }`",
        );
    }
    parse_elem_options(cx, &mut c, &mut elem)?;
    if let Some(t) = c.peek() {
        let what = if data.is_some() { "map element" } else { "set element" };
        return err_help(
            cx,
            "E2011",
            format!("unexpected {} in {what}", describe(t)),
            t.span,
            "not part of the element",
            "separate elements with `,`; element options are timeout, expires, comment and stateful statements \
             (counter, limit, quota, ct count, last)",
        );
    }
    Some(elem)
}

/// Element options: `timeout T`, `expires T`, `comment "..."`, and the
/// stateful statements an element may carry (nft's `set_elem_stmt`:
/// counter, limit, quota, ct count, last), in any order.
fn parse_elem_options(cx: &mut RuleCx<'_>, c: &mut Cursor<'_>, elem: &mut SetElem) -> Option<()> {
    while let Some(t) = c.peek() {
        let Some(w) = t.word() else { break };
        match w {
            "timeout" | "expires" => {
                c.next();
                let ms = match c.peek().map(|x| &x.kind) {
                    Some(TermKind::Lit(LitKind::Number | LitKind::NumWord, s)) => values::parse_time_ms(s),
                    _ => None,
                };
                let Some(ms) = ms else {
                    return err_help(
                        cx,
                        "E2006",
                        format!("`{w}` needs a time"),
                        c.span(),
                        "expected a time like `30s` or `1h`",
                        format!("write e.g. `{w} 1h`"),
                    );
                };
                c.next();
                if w == "timeout" {
                    elem.timeout_ms = Some(ms);
                } else {
                    elem.expires_ms = Some(ms);
                }
            }
            "comment" => {
                c.next();
                match c.peek().map(|x| &x.kind) {
                    Some(TermKind::Lit(LitKind::Str, s)) => {
                        if s.len() > 128 {
                            return err(cx, "E2002", "comment too long", c.span(), "at most 128 characters");
                        }
                        elem.comment = Some(s.clone());
                        c.next();
                    }
                    _ => {
                        return err_help(
                            cx,
                            "E2014",
                            "`comment` needs a string",
                            c.span(),
                            "expected \"text\"",
                            "write e.g. `comment \"web\"`",
                        );
                    }
                }
            }
            _ if crate::stmt::starts_stmt(cx, c) => {
                let st = crate::stmt::parse_stmt(cx, c).ok()?;
                if !st.is_stateful() {
                    return err_help(
                        cx,
                        "E2012",
                        "statement must be stateful",
                        st.span,
                        "not allowed in a set element",
                        "set elements can carry counter, limit, quota, ct count and last",
                    );
                }
                elem.stmts.push(st);
            }
            _ => break,
        }
    }
    Some(())
}

fn interval(e: &Expr) -> Option<(u128, u128)> {
    match &e.kind {
        ExprKind::Range { lo, hi } => Some((order_key(lo)?, order_key(hi)?)),
        ExprKind::Value(_) => order_key(e).map(|v| (v, v)),
        ExprKind::Prefix { value, len } => {
            let bits = match &value.kind {
                ExprKind::Value(Value::Bytes(b)) => b.len() as u32 * 8,
                _ => match &value.ty {
                    ExprType::Scalar(k) if k.bits > 0 => k.bits,
                    _ => return None,
                },
            };
            if bits > 128 || *len > bits {
                return None;
            }
            let v = order_key(value)?;
            let host = bits - len;
            let mask = if host >= 128 { u128::MAX } else { (1u128 << host) - 1 };
            Some((v & !mask, v | mask))
        }
        _ => None,
    }
}

/// Map keys must not overlap: the kernel cannot tell which value applies.
fn check_overlaps(cx: &mut RuleCx<'_>, elems: &[SetElem]) -> Option<()> {
    if elems.len() > 4096 {
        return Some(());
    }
    let iv: Vec<(u128, u128, Span)> =
        elems.iter().filter_map(|e| interval(&e.key).map(|(a, b)| (a, b, e.key.span))).collect();
    for (i, a) in iv.iter().enumerate() {
        for b in &iv[..i] {
            if a.0 <= b.1 && b.0 <= a.1 {
                cx.error(
                    Diagnostic::error("E2005", "overlapping map keys")
                        .with_label(a.2, "this key overlaps an earlier one")
                        .with_secondary(b.2, "earlier key")
                        .with_help("a packet would match both; make the keys disjoint"),
                );
                return None;
            }
        }
    }
    Some(())
}
