//! Small helpers shared by the expression parser: types, diagnostics,
//! "did you mean" suggestions.

use crate::cursor::Cursor;
use crate::cx::RuleCx;
use crate::hir::{Expr, ExprKind, ExprType, KeyType, Value};
use ctc_grammar::ast::{LitKind, Op, Term, TermKind};
use ctc_grammar::{Diagnostic, Span};
use ctc_proto::{BaseKind, Ty};

/// Deepest nesting of groups, sets and sub-expressions we follow; deeper
/// input is rejected instead of recursing without bound.
pub(crate) const MAX_DEPTH: usize = 24;

pub(crate) fn kt(ty: Ty, bits: u32) -> KeyType {
    KeyType { ty, bits }
}

pub(crate) fn scalar(ty: Ty, bits: u32) -> ExprType {
    ExprType::Scalar(kt(ty, bits))
}

pub(crate) fn mk(kind: ExprKind, ty: ExprType, span: Span) -> Expr {
    Expr { kind, ty, span }
}

pub(crate) fn int_value(v: u128, ty: ExprType, span: Span) -> Expr {
    mk(ExprKind::Value(Value::Int(v)), ty, span)
}

/// Push an error with one primary label; always returns `None` so callers
/// can `return err(...)`.
pub(crate) fn err<T>(
    cx: &mut RuleCx<'_>,
    code: &'static str,
    msg: impl Into<String>,
    span: Span,
    label: impl Into<String>,
) -> Option<T> {
    cx.error(Diagnostic::error(code, msg).with_label(span, label));
    None
}

pub(crate) fn err_help<T>(
    cx: &mut RuleCx<'_>,
    code: &'static str,
    msg: impl Into<String>,
    span: Span,
    label: impl Into<String>,
    help: impl Into<String>,
) -> Option<T> {
    cx.error(Diagnostic::error(code, msg).with_label(span, label).with_help(help));
    None
}

/// The nft name of a type, as messages print it.
pub(crate) fn ty_name(t: &ExprType) -> String {
    match t {
        ExprType::Scalar(k) => k.ty.info().name.to_string(),
        ExprType::Concat(ks) => ks.iter().map(|k| k.ty.info().name).collect::<Vec<_>>().join(" . "),
        ExprType::Verdict => "verdict".into(),
        ExprType::Unknown => "value".into(),
    }
}

/// How a term reads in a message.
pub(crate) fn describe(t: &Term) -> String {
    match &t.kind {
        TermKind::Word(w) => format!("`{w}`"),
        TermKind::Lit(LitKind::Str, s) => format!("\"{s}\""),
        TermKind::Lit(_, s) => format!("`{s}`"),
        TermKind::Var(v) => format!("`${v}`"),
        TermKind::At(a) => format!("`@{a}`"),
        TermKind::Op(op) => format!("`{}`", op.as_str()),
        TermKind::Group(_) => "`( ... )`".into(),
        TermKind::Bracket(_) => "`[ ... ]`".into(),
        TermKind::Set(_) => "a set `{ ... }`".into(),
        TermKind::Chain(_) => "an anonymous chain".into(),
    }
}

/// Text of a word or string literal.
pub(crate) fn word_or_str(t: &Term) -> Option<&str> {
    match &t.kind {
        TermKind::Word(w) => Some(w),
        TermKind::Lit(LitKind::Str, s) => Some(s),
        _ => None,
    }
}

pub(crate) fn is_op(t: Option<&Term>, op: Op) -> bool {
    t.is_some_and(|t| t.is_op(op))
}

/// Levenshtein distance, bounded input (names are short; longer text is not
/// compared).
pub(crate) fn edit_distance(a: &str, b: &str) -> usize {
    if a.len() > 64 || b.len() > 64 {
        return usize::MAX;
    }
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// The closest candidate to `word`, if it is close enough to be a typo.
pub(crate) fn did_you_mean<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (word.chars().count() / 3).max(1);
    candidates
        .into_iter()
        .map(|c| (edit_distance(word, c), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Add a "did you mean" help to a diagnostic when a candidate is close.
pub(crate) fn suggest<'a>(d: Diagnostic, word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Diagnostic {
    match did_you_mean(word, candidates) {
        Some(c) => d.with_help(format!("did you mean `{c}`?")),
        None => d,
    }
}

/// What a value of this type looks like, for "expected ..." labels.
pub(crate) fn expected_form(k: &KeyType) -> String {
    let info = k.ty.info();
    let example = info.symbols.first().map(|(n, _)| *n);
    let max = max_for_bits(k.bits);
    match (k.ty, info.kind) {
        (Ty::InetService, _) => "a port number 0-65535 or a service name like `ssh`".into(),
        (Ty::InetProto, _) => "a protocol number 0-255 or a name like `tcp`".into(),
        (_, BaseKind::Ipv4) => "an IPv4 address like `192.0.2.1`".into(),
        (_, BaseKind::Ipv6) => "an IPv6 address like `2001:db8::1`".into(),
        (_, BaseKind::Ether) => "an Ethernet address like `00:11:22:33:44:55`".into(),
        (_, BaseKind::String) => "a name (quoted or not)".into(),
        (_, BaseKind::Boolean) => "`exists` or `missing`".into(),
        (_, BaseKind::Time) => "a time like `30s`, `1h30m` or a number of seconds".into(),
        (_, BaseKind::Verdict) => "a verdict (`accept`, `drop`, `jump CHAIN`, ...)".into(),
        (Ty::Hour, _) => "a time of day \"HH:MM\" or \"HH:MM:SS\"".into(),
        (Ty::Day, _) => "a day name like \"Monday\" or a number 0-6".into(),
        (_, BaseKind::Bitmask) => match example {
            Some(e) => format!("a number or a comma-separated list of names like `{e}`"),
            None => "a number".into(),
        },
        _ => match (example, max) {
            (Some(e), Some(m)) => format!("a number 0-{m} or a name like `{e}`"),
            (None, Some(m)) => format!("a number 0-{m}"),
            (Some(e), None) => format!("a number or a name like `{e}`"),
            (None, None) => "a number".into(),
        },
    }
}

pub(crate) fn max_for_bits(bits: u32) -> Option<u128> {
    match bits {
        0 => None,
        1..=127 => Some((1u128 << bits) - 1),
        _ => Some(u128::MAX),
    }
}

/// Whether two types may meet in a relation, a set lookup or an
/// assignment: same type, or integers of the same width (nft types many keys
/// plain `integer`), or one side not known yet.
pub fn types_compatible(a: &ExprType, b: &ExprType) -> bool {
    match (a, b) {
        (ExprType::Unknown, _) | (_, ExprType::Unknown) => true,
        (ExprType::Verdict, ExprType::Verdict) => true,
        (ExprType::Scalar(x), ExprType::Scalar(y)) => key_compatible(x, y),
        (ExprType::Concat(xs), ExprType::Concat(ys)) => {
            xs.len() == ys.len() && xs.iter().zip(ys).all(|(x, y)| key_compatible(x, y))
        }
        (ExprType::Concat(xs), ExprType::Scalar(y)) | (ExprType::Scalar(y), ExprType::Concat(xs)) => {
            xs.len() == 1 && key_compatible(&xs[0], y)
        }
        _ => false,
    }
}

fn is_plain_int(t: Ty) -> bool {
    matches!(t, Ty::Integer | Ty::Integer8 | Ty::Integer16 | Ty::Integer32 | Ty::Integer64)
}

pub(crate) fn key_compatible(x: &KeyType, y: &KeyType) -> bool {
    if x.ty == y.ty {
        return true;
    }
    let xi = x.ty.info();
    let yi = y.ty.info();
    let int_like = |k: BaseKind| matches!(k, BaseKind::Integer | BaseKind::Bitmask);
    if (is_plain_int(x.ty) || is_plain_int(y.ty)) && int_like(xi.kind) && int_like(yi.kind) {
        return x.bits == y.bits || x.bits == 0 || y.bits == 0 || x.bits.div_ceil(8) == y.bits.div_ceil(8);
    }
    // Strings of any flavour compare as strings (ifname vs string).
    matches!(xi.kind, BaseKind::String) && matches!(yi.kind, BaseKind::String)
}

/// Consume an integer literal (decimal or hex) and return it.
pub(crate) fn eat_number(cur: &mut Cursor<'_>) -> Option<(u128, Span)> {
    let t = cur.peek()?;
    match &t.kind {
        TermKind::Lit(LitKind::Number | LitKind::Hex, s) => {
            let v = crate::values::parse_number(s)?;
            cur.next();
            Some((v, t.span))
        }
        _ => None,
    }
}
