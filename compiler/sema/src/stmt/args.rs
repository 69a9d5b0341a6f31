//! Typed statement arguments: numbers with units, literal values of a data
//! type (addresses, ports, symbols) with ranges and prefixes, expressions
//! through [`crate::expr`], and maps whose data a statement consumes
//! (`snat to ip saddr map { ... }`, `counter name tcp dport map { ... }`).
//!
//! Simple literals are parsed here exactly (they are the common case and
//! their type is known from the statement); anything else — selectors,
//! binary operations, variables — goes to the expression parser.

use super::fail;
use crate::cursor::Cursor;
use crate::cx::RuleCx;
use crate::hir::{Expr, ExprKind, ExprType, KeyType, MapData, SetElem, Value};
use crate::values;
use ctc_grammar::ast::{LitKind, Op, Term, TermKind};
use ctc_grammar::{Diagnostic, Span};
use ctc_proto::{BaseKind, Ty};

/// The key type of a data type at its natural width.
pub(super) fn kt(ty: Ty) -> KeyType {
    KeyType { ty, bits: ty.info().bits }
}

pub(super) use crate::expr::describe;

/// The integer of a decimal or hexadecimal literal term.
pub(super) fn term_int(t: &Term) -> Option<u128> {
    match &t.kind {
        TermKind::Lit(LitKind::Number | LitKind::Hex, s) => values::parse_number(s),
        _ => None,
    }
}

/// Span covering a non-empty slice of terms (or `fallback`).
pub(super) fn terms_span(terms: &[Term], fallback: Span) -> Span {
    match (terms.first(), terms.last()) {
        (Some(a), Some(b)) => a.span.to(b.span),
        _ => fallback,
    }
}

/// An unsigned integer argument (`log group 2`, `queue num 3`), at most `max`.
pub(super) fn expect_uint(cx: &mut RuleCx<'_>, cur: &mut Cursor<'_>, what: &str, max: u64) -> Result<(u64, Span), ()> {
    let Some(t) = cur.peek() else {
        return fail(
            cx,
            Diagnostic::error("E2014", format!("`{what}` needs a number"))
                .with_label(cur.span(), "number expected here"),
        );
    };
    let span = t.span;
    let Some(v) = term_int(t) else {
        return fail(
            cx,
            Diagnostic::error("E2012", format!("`{what}` takes a number, not {}", describe(t)))
                .with_label(span, "expected a number"),
        );
    };
    cur.next();
    match u64::try_from(v) {
        Ok(v) if v <= max => Ok((v, span)),
        _ => fail(
            cx,
            Diagnostic::error("E2002", format!("`{what}` value {v} is out of range"))
                .with_label(span, format!("at most {max}")),
        ),
    }
}

/// Split `1025bytes` / `300s` into the number and the unit.
pub(super) fn split_numword(s: &str) -> Option<(u64, &str)> {
    let digits = s.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 || digits == s.len() {
        return None;
    }
    Some((s[..digits].parse().ok()?, &s[digits..]))
}

/// Byte units of `limit` and `quota` (nft's `data_unit_parse`: no gbytes).
pub(super) fn data_unit(s: &str) -> Option<u64> {
    match s {
        "bytes" => Some(1),
        "kbytes" => Some(1024),
        "mbytes" => Some(1024 * 1024),
        _ => None,
    }
}

fn bad_unit(cx: &mut RuleCx<'_>, unit: &str, span: Span) -> Result<u64, ()> {
    let help = if unit == "gbytes" {
        "nft has no gbytes unit here; use mbytes (1 gbytes = 1024 mbytes)"
    } else {
        "write the amount as `N bytes`, `N kbytes` or `N mbytes`"
    };
    fail(
        cx,
        Diagnostic::error("E2012", format!("invalid byte unit `{unit}`, expecting bytes, kbytes or mbytes"))
            .with_label(span, "unknown unit")
            .with_help(help),
    )
}

/// `N bytes|kbytes|mbytes` or `Nkbytes`: a quantity in bytes.
pub(super) fn parse_bytes(cx: &mut RuleCx<'_>, cur: &mut Cursor<'_>, what: &str) -> Result<(u64, Span), ()> {
    let Some(t) = cur.peek() else {
        return fail(
            cx,
            Diagnostic::error("E2014", format!("`{what}` needs an amount of bytes"))
                .with_label(cur.span(), "expected e.g. `10 mbytes`"),
        );
    };
    let span = t.span;
    let (n, unit, unit_span) = match &t.kind {
        TermKind::Lit(LitKind::NumWord, s) => match split_numword(s) {
            Some((n, u)) => {
                cur.next();
                (n, u.to_string(), span)
            }
            None => {
                return fail(
                    cx,
                    Diagnostic::error("E2006", format!("malformed amount `{s}`"))
                        .with_label(span, "expected e.g. `10mbytes`"),
                );
            }
        },
        TermKind::Lit(LitKind::Number | LitKind::Hex, _) => {
            let n = term_int(t).and_then(|v| u64::try_from(v).ok());
            cur.next();
            let Some(n) = n else {
                return fail(cx, Diagnostic::error("E2002", "number too large").with_label(span, "out of range"));
            };
            match cur.peek() {
                Some(u) if u.word().is_some() => {
                    let us = u.span;
                    let w = u.word().unwrap_or_default().to_string();
                    cur.next();
                    (n, w, us)
                }
                _ => {
                    return fail(
                        cx,
                        Diagnostic::error("E2014", format!("`{what}` needs a unit after {n}"))
                            .with_label(cur.span(), "expected bytes, kbytes or mbytes"),
                    );
                }
            }
        }
        _ => {
            return fail(
                cx,
                Diagnostic::error("E2012", format!("`{what}` takes an amount of bytes, not {}", describe(t)))
                    .with_label(span, "expected e.g. `10 mbytes`"),
            );
        }
    };
    let mult = match data_unit(&unit) {
        Some(m) => m,
        None => return bad_unit(cx, &unit, unit_span).map(|_| (0, span)),
    };
    match n.checked_mul(mult) {
        Some(b) => Ok((b, span.to(unit_span))),
        None => fail(
            cx,
            Diagnostic::error("E2002", "amount of bytes too large").with_label(span.to(unit_span), "overflows 64 bits"),
        ),
    }
}

/// A time argument (`300s`, `1h30m`, or seconds): milliseconds.
pub(super) fn parse_time(cx: &mut RuleCx<'_>, cur: &mut Cursor<'_>, what: &str) -> Result<(u64, Span), ()> {
    let Some(t) = cur.peek() else {
        return fail(
            cx,
            Diagnostic::error("E2014", format!("`{what}` needs a time")).with_label(cur.span(), "expected e.g. `30s`"),
        );
    };
    let span = t.span;
    let parsed = match &t.kind {
        TermKind::Lit(LitKind::Number | LitKind::NumWord, s) => values::parse_time_ms(s),
        TermKind::Lit(LitKind::Str, s) => values::parse_time_ms(s),
        _ => None,
    };
    match parsed {
        Some(ms) => {
            cur.next();
            Ok((ms, span))
        }
        None => fail(
            cx,
            Diagnostic::error("E2006", format!("invalid time {} for `{what}`", describe(t)))
                .with_label(span, "expected a time such as `30s`, `5m` or `1h30m`"),
        ),
    }
}

fn fits(v: u128, bits: u32) -> bool {
    bits == 0 || bits >= 128 || v < (1u128 << bits)
}

fn symbol_help(ty: Ty) -> Option<String> {
    let syms = ty.info().symbols;
    if syms.is_empty() {
        return None;
    }
    let list: Vec<&str> = syms.iter().take(10).map(|(n, _)| *n).collect();
    let more = if syms.len() > 10 { ", ..." } else { "" };
    Some(format!("valid {} values: {}{more}", ty.info().name, list.join(", ")))
}

/// The value of one literal term read as type `k`. `None` when the term is
/// no literal this type reads (the caller tries an expression); `Some(Err)`
/// after reporting a literal that is invalid for the type.
pub(super) fn term_value(cx: &mut RuleCx<'_>, t: &Term, k: &KeyType) -> Option<Result<Value, ()>> {
    let info = k.ty.info();
    let mismatch = |cx: &mut RuleCx<'_>, what: &str| {
        cx.error(
            Diagnostic::error("E2003", format!("expected {}, found {}", info.desc, what))
                .with_label(t.span, format!("not a {}", info.name)),
        );
        Some(Err(()))
    };
    match info.kind {
        BaseKind::Ipv4 => match &t.kind {
            TermKind::Lit(LitKind::Ipv4, s) => Some(match values::parse_ipv4(s) {
                Some(a) => Ok(Value::Bytes(a.to_vec())),
                None => malformed(cx, t, "IPv4 address"),
            }),
            TermKind::Lit(LitKind::ColonHex, _) | TermKind::Bracket(_) => mismatch(cx, "an IPv6 address"),
            TermKind::Lit(LitKind::Number | LitKind::Hex, _) => mismatch(cx, "a number"),
            _ => None,
        },
        BaseKind::Ipv6 => match &t.kind {
            TermKind::Lit(LitKind::ColonHex, s) => Some(match values::parse_ipv6(s) {
                Some(a) => Ok(Value::Bytes(a.to_vec())),
                None => malformed(cx, t, "IPv6 address"),
            }),
            TermKind::Bracket(inner) => match inner.as_slice() {
                [Term { kind: TermKind::Lit(LitKind::ColonHex, s), .. }] => Some(match values::parse_ipv6(s) {
                    Some(a) => Ok(Value::Bytes(a.to_vec())),
                    None => malformed(cx, t, "IPv6 address"),
                }),
                _ => Some(malformed(cx, t, "IPv6 address")),
            },
            TermKind::Lit(LitKind::Ipv4, _) => mismatch(cx, "an IPv4 address"),
            TermKind::Lit(LitKind::Number | LitKind::Hex, _) => mismatch(cx, "a number"),
            _ => None,
        },
        BaseKind::Ether => match &t.kind {
            TermKind::Lit(LitKind::ColonHex, s) => Some(match values::parse_mac(s) {
                Some(a) => Ok(Value::Bytes(a.to_vec())),
                None => malformed(cx, t, "Ethernet address"),
            }),
            _ => None,
        },
        BaseKind::String => match &t.kind {
            TermKind::Lit(LitKind::Str, s) | TermKind::Word(s) => {
                // IFNAMSIZ is 16 bytes including the terminating NUL.
                if k.ty == Ty::Ifname && s.len() > 15 && !s.ends_with('*') {
                    cx.error(
                        Diagnostic::error("E2002", format!("interface name \"{s}\" is longer than 15 characters"))
                            .with_label(t.span, "too long for an interface name"),
                    );
                    return Some(Err(()));
                }
                Some(Ok(Value::Str(s.clone())))
            }
            _ => None,
        },
        BaseKind::Integer | BaseKind::Bitmask | BaseKind::Boolean => match &t.kind {
            TermKind::Lit(LitKind::Number | LitKind::Hex, s) => match values::parse_number(s) {
                Some(v) if fits(v, k.bits) => Some(Ok(Value::Int(v))),
                Some(v) => {
                    cx.error(
                        Diagnostic::error("E2002", format!("value {v} does not fit {}", info.desc))
                            .with_label(t.span, format!("at most {} bits", k.bits)),
                    );
                    Some(Err(()))
                }
                None => Some(malformed(cx, t, "number")),
            },
            TermKind::Word(s) | TermKind::Lit(LitKind::Str, s) => match k.ty.symbol(s) {
                Some(v) => Some(Ok(Value::Int(u128::from(v)))),
                None if matches!(t.kind, TermKind::Word(_)) => None,
                None => {
                    let mut d = Diagnostic::error("E2001", format!("unknown {} \"{s}\"", info.desc))
                        .with_label(t.span, "unknown symbol");
                    if let Some(h) = symbol_help(k.ty) {
                        d = d.with_help(h);
                    }
                    cx.error(d);
                    Some(Err(()))
                }
            },
            _ => None,
        },
        BaseKind::Time => match &t.kind {
            TermKind::Lit(LitKind::Number | LitKind::NumWord | LitKind::Str, s) => {
                Some(match values::parse_time_ms(s) {
                    Some(ms) => Ok(Value::Int(u128::from(ms))),
                    None => malformed(cx, t, "time"),
                })
            }
            _ => None,
        },
        BaseKind::Verdict => None,
    }
}

fn malformed<T>(cx: &mut RuleCx<'_>, t: &Term, what: &str) -> Result<T, ()> {
    cx.error(
        Diagnostic::error("E2006", format!("malformed {what} {}", describe(t)))
            .with_label(t.span, format!("not a valid {what}")),
    );
    Err(())
}

/// Whether the term continues an expression (a binary operator, a
/// concatenation or a map lookup), so the literal before it is no argument
/// of its own.
pub(super) fn is_continuation(t: Option<&Term>) -> bool {
    match t.map(|t| &t.kind) {
        Some(TermKind::Op(Op::And | Op::Or | Op::Xor | Op::Shl | Op::Shr | Op::Dot)) => true,
        // nft's word spellings of the operators.
        Some(TermKind::Word(w)) => matches!(w.as_str(), "map" | "vmap" | "and" | "or" | "xor"),
        _ => false,
    }
}

fn value_expr(v: Value, k: &KeyType, span: Span) -> Expr {
    Expr { kind: ExprKind::Value(v), ty: ExprType::Scalar(k.clone()), span }
}

/// A literal of type `k` at the cursor, with an optional range (`a-b`) or,
/// for addresses, prefix (`a/len`). `None` (cursor unchanged) when the
/// argument is no simple literal.
pub(super) fn parse_simple(cx: &mut RuleCx<'_>, cur: &mut Cursor<'_>, k: &KeyType) -> Option<Result<Expr, ()>> {
    let save = cur.pos();
    let t = cur.peek()?;
    if t.word().is_some() && crate::expr::is_expr_start(cx, cur) && k.ty.symbol(t.word().unwrap_or_default()).is_none()
    {
        return None;
    }
    let first = match term_value(cx, t, k)? {
        Ok(v) => value_expr(v, k, t.span),
        Err(()) => return Some(Err(())),
    };
    cur.next();
    let is_addr = matches!(k.ty.info().kind, BaseKind::Ipv4 | BaseKind::Ipv6);
    let result = if cur.peek_op() == Some(Op::Minus) {
        let Some(hi_t) = cur.peek_at(1) else {
            cx.error(Diagnostic::error("E2005", "incomplete range").with_label(cur.span(), "upper bound expected"));
            return Some(Err(()));
        };
        cur.next();
        let hi = match term_value(cx, hi_t, k) {
            Some(Ok(v)) => value_expr(v, k, hi_t.span),
            Some(Err(())) => return Some(Err(())),
            None => {
                cx.error(
                    Diagnostic::error("E2005", format!("invalid upper bound {} of a range", describe(hi_t)))
                        .with_label(hi_t.span, format!("expected {}", k.ty.info().desc)),
                );
                return Some(Err(()));
            }
        };
        cur.next();
        if let (ExprKind::Value(lo), ExprKind::Value(hv)) = (&first.kind, &hi.kind)
            && value_gt(lo, hv)
        {
            cx.error(
                Diagnostic::error("E2005", "range has its lower bound above its upper bound")
                    .with_label(first.span.to(hi.span), "empty range")
                    .with_help("write the smaller value first"),
            );
            return Some(Err(()));
        }
        let span = first.span.to(hi.span);
        Expr { kind: ExprKind::Range { lo: Box::new(first), hi: Box::new(hi) }, ty: ExprType::Scalar(k.clone()), span }
    } else if is_addr && cur.peek_op() == Some(Op::Slash) {
        let Some(len_t) = cur.peek_at(1) else {
            cx.error(Diagnostic::error("E2004", "missing prefix length").with_label(cur.span(), "length expected"));
            return Some(Err(()));
        };
        let max = k.bits;
        let len = term_int(len_t).and_then(|v| u32::try_from(v).ok());
        let Some(len) = len.filter(|l| *l <= max) else {
            cx.error(
                Diagnostic::error("E2004", format!("invalid prefix length {}", describe(len_t)))
                    .with_label(len_t.span, format!("expected 0 to {max}")),
            );
            return Some(Err(()));
        };
        cur.next();
        cur.next();
        let span = first.span.to(len_t.span);
        Expr { kind: ExprKind::Prefix { value: Box::new(first), len }, ty: ExprType::Scalar(k.clone()), span }
    } else if k.ty.info().kind == BaseKind::Bitmask && cur.peek_op() == Some(Op::Comma) {
        // A flag list: `ct event set new,related`.
        let mut items = vec![first];
        while cur.peek_op() == Some(Op::Comma) {
            let Some(nt) = cur.peek_at(1) else { break };
            match term_value(cx, nt, k) {
                Some(Ok(v)) => items.push(value_expr(v, k, nt.span)),
                Some(Err(())) => return Some(Err(())),
                None => break,
            }
            cur.next();
            cur.next();
        }
        let span = items[0].span.to(cur.prev_span());
        Expr { kind: ExprKind::List(items), ty: ExprType::Scalar(k.clone()), span }
    } else {
        first
    };
    if is_continuation(cur.peek()) {
        cur.set_pos(save);
        return None;
    }
    Some(Ok(result))
}

fn value_gt(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Int(a), Value::Int(b)) => a > b,
        (Value::Bytes(a), Value::Bytes(b)) if a.len() == b.len() => a > b,
        _ => false,
    }
}

/// An argument of type `k`: a literal, or an expression through
/// [`crate::expr`] whose type must agree with `k`.
pub(super) fn parse_arg(cx: &mut RuleCx<'_>, cur: &mut Cursor<'_>, k: &KeyType, what: &str) -> Result<Expr, ()> {
    if cur.at_end() {
        return fail(
            cx,
            Diagnostic::error("E2014", format!("missing {what}"))
                .with_label(cur.span(), format!("expected {} here", k.ty.info().desc)),
        );
    }
    // A tc handle `major:minor` (`meta priority set 1:5`), three terms.
    if k.ty == Ty::Classid && cur.peek_at(1).is_some_and(|t| matches!(t.kind, TermKind::Op(Op::Colon))) {
        return crate::expr::value::parse_atom(cx, cur, k).ok_or(());
    }
    if let Some(r) = parse_simple(cx, cur, k) {
        return r;
    }
    let before = cx.diags.len();
    let start_span = cur.span();
    // Selectors, binary operations and maps (typed by `k`), variables.
    let e = crate::expr::parse_value(cx, cur, &ExprType::Scalar(k.clone()));
    match e {
        Some(e) => {
            if matches!(e.kind, ExprKind::SetLit(_) | ExprKind::SetRef { .. }) {
                return fail(
                    cx,
                    Diagnostic::error("E2003", format!("{what} must be a single value, not a set"))
                        .with_label(e.span, "a set")
                        .with_help("to pick a value by key, use a map: `KEY map { K1 : V1, K2 : V2 }`"),
                );
            }
            check_type(cx, &e, k, what)?;
            Ok(e)
        }
        None => {
            if cx.diags.len() == before {
                let found = cur.peek().map_or_else(|| "nothing".to_string(), describe);
                cx.error(
                    Diagnostic::error("E2003", format!("expected {what} ({}), found {found}", k.ty.info().desc))
                        .with_label(start_span, format!("not {}", k.ty.info().desc)),
                );
            }
            Err(())
        }
    }
}

/// Whether a value of type `got` can stand where `want` is expected
/// (nft's `stmt_evaluate_arg`: same type, or integers that fit).
pub(super) fn compatible(got: &KeyType, want: &KeyType) -> bool {
    if got.ty == want.ty {
        return true;
    }
    let int = |k: BaseKind| matches!(k, BaseKind::Integer | BaseKind::Bitmask);
    let (gk, wk) = (got.ty.info().kind, want.ty.info().kind);
    if int(gk) && int(wk) {
        return want.bits == 0 || got.bits == 0 || got.bits <= want.bits;
    }
    gk == BaseKind::String && wk == BaseKind::String
}

/// Check an expression argument's type against the statement's.
pub(super) fn check_type(cx: &mut RuleCx<'_>, e: &Expr, k: &KeyType, what: &str) -> Result<(), ()> {
    // Hash and numgen produce values below their modulus whatever their
    // register width; the statement checks the modulus.
    if matches!(e.kind, ExprKind::Hash { .. } | ExprKind::Numgen { .. }) {
        return Ok(());
    }
    let ok = match &e.ty {
        ExprType::Unknown => true,
        ExprType::Scalar(got) => compatible(got, k),
        ExprType::Concat(_) | ExprType::Verdict => false,
    };
    if ok {
        return Ok(());
    }
    let got = match &e.ty {
        ExprType::Scalar(g) => format!("{} ({} bits)", g.ty.info().desc, g.bits),
        ExprType::Concat(_) => "a concatenation".into(),
        ExprType::Verdict => "a verdict".into(),
        ExprType::Unknown => "unknown".into(),
    };
    fail(
        cx,
        Diagnostic::error(
            "E2003",
            format!(
                "datatype mismatch: {what} expects {} ({} bits), expression has type {got}",
                k.ty.info().desc,
                k.bits
            ),
        )
        .with_label(e.span, "wrong type"),
    )
}

/// Words that end an argument expression: statement keywords and NAT flags.
fn ends_argument(w: &str) -> bool {
    matches!(
        w,
        "device"
            | "comment"
            | "random"
            | "fully-random"
            | "persistent"
            | "counter"
            | "log"
            | "limit"
            | "quota"
            | "accept"
            | "drop"
            | "continue"
            | "return"
            | "jump"
            | "goto"
            | "notrack"
            | "vmap"
            | "set"
            | "to"
    )
}

/// Offset from the cursor of a `map` keyword followed by `{ ... }` or
/// `@name`, within the current argument.
pub(super) fn find_map(cur: &Cursor<'_>) -> Option<usize> {
    let rest = cur.rest();
    for (i, t) in rest.iter().enumerate() {
        match &t.kind {
            TermKind::Op(Op::Colon) => return None,
            TermKind::Word(w) if w == "map" => {
                return match rest.get(i + 1).map(|t| &t.kind) {
                    Some(TermKind::Set(_) | TermKind::At(_)) if i > 0 => Some(i),
                    _ => None,
                };
            }
            TermKind::Word(w) if ends_argument(w) => return None,
            _ => {}
        }
    }
    None
}

/// What the data side of a map holds.
#[derive(Debug, Clone)]
pub(super) enum DataSpec {
    /// A NAT target: an address (range, prefix) or `address . port`.
    NatAddr(KeyType),
    /// The name of a stateful object of this kind.
    Object(crate::hir::ObjectKind),
}

/// `KEY map { K : V, ... }` or `KEY map @m` where `map` is `off` terms
/// ahead. Returns the map expression and whether its data is an
/// `address . port` concatenation.
pub(super) fn parse_map(
    cx: &mut RuleCx<'_>,
    cur: &mut Cursor<'_>,
    off: usize,
    data: &DataSpec,
) -> Result<(Expr, bool), ()> {
    let rest = cur.rest();
    let key_terms = &rest[..off.min(rest.len())];
    let key_span = terms_span(key_terms, cur.span());
    let mut sub = Cursor::new(key_terms, key_span);
    let before = cx.diags.len();
    let key = crate::expr::parse_map_key(cx, &mut sub, matches!(data, DataSpec::NatAddr(_)));
    let Some(key) = key else {
        if cx.diags.len() == before {
            cx.error(
                Diagnostic::error("E2010", "invalid map key expression")
                    .with_label(key_span, "expected a selector such as `ip saddr`"),
            );
        }
        return Err(());
    };
    if !sub.at_end() {
        return fail(cx, Diagnostic::error("E2011", "unexpected term in map key").with_label(sub.span(), "unexpected"));
    }
    cur.set_pos(cur.pos() + off + 1);
    let Some(mt) = cur.next() else { return Err(()) };
    let map_span = mt.span;
    let mut concat = false;
    let (mapping, data_ty) = match &mt.kind {
        TermKind::Set(lit) => {
            let mut elems = Vec::with_capacity(lit.elements.len());
            let mut data_ty = data_type(data, false);
            for el in &lit.elements {
                let colon = el.terms.iter().position(|t| t.is_op(Op::Colon));
                let Some(colon) = colon else {
                    return fail(
                        cx,
                        Diagnostic::error("E2007", "map element without data")
                            .with_label(el.span, "expected `KEY : VALUE`"),
                    );
                };
                let (kterms, dterms) = (&el.terms[..colon], &el.terms[colon + 1..]);
                let k = parse_elem_key(cx, kterms, el.span, &key.ty)?;
                let (d, is_concat) = parse_data(cx, dterms, el.span, data)?;
                if is_concat {
                    concat = true;
                    data_ty = data_type(data, true);
                }
                elems.push(SetElem {
                    key: k,
                    data: Some(d),
                    timeout_ms: None,
                    expires_ms: None,
                    comment: None,
                    stmts: Vec::new(),
                    span: el.span,
                });
            }
            (Expr { kind: ExprKind::SetLit(elems), ty: key.ty.clone(), span: map_span }, data_ty)
        }
        TermKind::At(name) => {
            cx.used_sets.push((name.clone(), map_span));
            let Some(set) = cx.table.sets.get(name) else {
                return fail(
                    cx,
                    Diagnostic::error("E1003", format!("map @{name} is not defined in table {}", cx.table.display()))
                        .with_label(map_span, "undefined map"),
                );
            };
            let set_data = set.data.clone();
            let ty = match (&set_data, data) {
                (Some(MapData::Value(kts)), DataSpec::NatAddr(addr)) => {
                    if kts.first().is_some_and(|k| k.ty != addr.ty) {
                        return fail(
                            cx,
                            Diagnostic::error(
                                "E3004",
                                format!("map `{name}` yields {}, not {}", kts[0].ty.info().desc, addr.ty.info().desc),
                            )
                            .with_label(map_span, "wrong address family"),
                        );
                    }
                    concat = kts.len() >= 2;
                    data_type(data, concat)
                }
                (Some(MapData::Object(kind)), DataSpec::Object(want)) if kind == want => data_type(data, false),
                _ => {
                    let what = match data {
                        DataSpec::Object(k) => format!("a map of {} objects", k.as_str()),
                        _ => "a map with values".into(),
                    };
                    return fail(
                        cx,
                        Diagnostic::error("E1015", format!("`@{name}` is not {what}"))
                            .with_label(map_span, "wrong kind of set or map"),
                    );
                }
            };
            (Expr { kind: ExprKind::SetRef { name: name.clone() }, ty: key.ty.clone(), span: map_span }, ty)
        }
        _ => return Err(()),
    };
    let span = key.span.to(map_span);
    Ok((
        Expr { kind: ExprKind::Map { key: Box::new(key), map: Box::new(mapping), verdict: false }, ty: data_ty, span },
        concat,
    ))
}

fn data_type(data: &DataSpec, concat: bool) -> ExprType {
    match data {
        DataSpec::NatAddr(a) if concat => ExprType::Concat(vec![a.clone(), kt(Ty::InetService)]),
        DataSpec::NatAddr(a) => ExprType::Scalar(a.clone()),
        DataSpec::Object(_) => ExprType::Scalar(kt(Ty::String)),
    }
}

/// Split terms at top-level `.` (concatenation).
fn split_dots(terms: &[Term]) -> Vec<&[Term]> {
    terms.split(|t| t.is_op(Op::Dot)).collect()
}

/// One value of type `k` filling all of `terms`.
fn parse_whole(cx: &mut RuleCx<'_>, terms: &[Term], span: Span, k: Option<&KeyType>) -> Result<Expr, ()> {
    let span = terms_span(terms, span);
    if terms.is_empty() {
        return fail(cx, Diagnostic::error("E2014", "missing value").with_label(span, "value expected"));
    }
    let mut sub = Cursor::new(terms, span);
    if terms.len() == 1 && terms[0].is_op(Op::Star) {
        return Ok(Expr { kind: ExprKind::Catchall, ty: ExprType::Unknown, span });
    }
    let e = match k {
        Some(k) => match parse_simple(cx, &mut sub, k) {
            Some(r) => r?,
            None => parse_arg(cx, &mut sub, k, "value")?,
        },
        None => {
            let before = cx.diags.len();
            match crate::expr::parse_value(cx, &mut sub, &ExprType::Unknown) {
                Some(e) => e,
                None => {
                    if cx.diags.len() == before {
                        cx.error(Diagnostic::error("E2003", "cannot type this value").with_label(span, "unknown type"));
                    }
                    return Err(());
                }
            }
        }
    };
    if !sub.at_end() {
        return fail(cx, Diagnostic::error("E2011", "unexpected term in element").with_label(sub.span(), "unexpected"));
    }
    Ok(e)
}

/// The key of a map element, typed by the map's key expression.
pub(super) fn parse_elem_key(cx: &mut RuleCx<'_>, terms: &[Term], span: Span, ty: &ExprType) -> Result<Expr, ()> {
    if let [t] = terms
        && t.is_op(Op::Star)
    {
        return Ok(Expr { kind: ExprKind::Catchall, ty: ty.clone(), span: t.span });
    }
    match ty {
        ExprType::Concat(kts) => {
            let parts = split_dots(terms);
            if parts.len() != kts.len() {
                return fail(
                    cx,
                    Diagnostic::error("E2007", format!("element has {} parts, the key has {}", parts.len(), kts.len()))
                        .with_label(terms_span(terms, span), "concatenation arity mismatch"),
                );
            }
            let mut out = Vec::with_capacity(parts.len());
            for (p, k) in parts.iter().zip(kts) {
                out.push(parse_whole(cx, p, span, Some(k))?);
            }
            Ok(Expr { kind: ExprKind::Concat(out), ty: ty.clone(), span: terms_span(terms, span) })
        }
        ExprType::Scalar(k) => parse_whole(cx, terms, span, Some(k)),
        _ => parse_whole(cx, terms, span, None),
    }
}

/// The data of a map element.
fn parse_data(cx: &mut RuleCx<'_>, terms: &[Term], span: Span, data: &DataSpec) -> Result<(Expr, bool), ()> {
    match data {
        DataSpec::NatAddr(a) => {
            let parts = split_dots(terms);
            match parts.as_slice() {
                [addr] => Ok((parse_whole(cx, addr, span, Some(a))?, false)),
                [addr, port] => {
                    let ae = parse_whole(cx, addr, span, Some(a))?;
                    let pe = parse_whole(cx, port, span, Some(&kt(Ty::InetService)))?;
                    let sp = terms_span(terms, span);
                    Ok((Expr { kind: ExprKind::Concat(vec![ae, pe]), ty: data_type(data, true), span: sp }, true))
                }
                _ => fail(
                    cx,
                    Diagnostic::error("E2007", "NAT map data must be an address or `address . port`")
                        .with_label(terms_span(terms, span), "unexpected concatenation"),
                ),
            }
        }
        DataSpec::Object(kind) => {
            let sp = terms_span(terms, span);
            let name = match terms {
                [Term { kind: TermKind::Lit(LitKind::Str, s) | TermKind::Word(s), .. }] => s.clone(),
                _ => {
                    return fail(
                        cx,
                        Diagnostic::error("E2012", format!("expected the name of a {} object", kind.as_str()))
                            .with_label(sp, "not an object name"),
                    );
                }
            };
            super::sets::check_object(cx, *kind, &name, sp)?;
            Ok((Expr { kind: ExprKind::Value(Value::Str(name)), ty: data_type(data, false), span: sp }, false))
        }
    }
}
