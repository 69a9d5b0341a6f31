//! Expressions: binary operators, concatenations and map lookups over
//! selectors, with nft's precedence (loosest first): `map`/`vmap`, `.`,
//! `|`, `^`, `&`, `<<`/`>>`, primaries.

use super::selector::{is_selector_start, parse_selector};
use super::util::*;
use super::value;
use crate::cursor::Cursor;
use crate::cx::RuleCx;
use crate::hir::{BinOp, Expr, ExprKind, ExprType, KeyType, MapData, Value};
use ctc_grammar::ast::{Op, TermKind};
use ctc_grammar::{Diagnostic, Span};
use ctc_proto::{BaseKind, Ty};

/// A parsed expression and, if it is (or contains at top level) a `ct
/// saddr`/`daddr` typed only from the rule's context, its span: such keys
/// cannot stand in a concatenation or a map key, where nft needs the
/// explicit `ip`/`ip6`.
#[derive(Debug)]
pub(crate) struct Pe {
    pub e: Expr,
    pub unq_ct: Option<Span>,
}

impl Pe {
    pub fn plain(e: Expr) -> Pe {
        Pe { e, unq_ct: None }
    }
}

pub(crate) fn unq_ct_error(cx: &mut RuleCx<'_>, span: Span, place: &str) {
    cx.error(
        Diagnostic::error("E3003", format!("the address family of this conntrack key is unknown in {place}"))
            .with_label(span, "write `ip` or `ip6` before saddr/daddr")
            .with_help("e.g. `ct original ip saddr`"),
    );
}

/// `EXPR [. EXPR]... [map|vmap ...]`. `w` is the type constants take when a
/// statement gives one (`ct mark set ip dscp << 26 | 0x10`: 32 bits).
/// `allow_map` is false inside a hash input.
pub(crate) fn parse_concat(
    cx: &mut RuleCx<'_>,
    cur: &mut Cursor<'_>,
    depth: usize,
    w: Option<&KeyType>,
    allow_map: bool,
) -> Option<Pe> {
    parse_concat_hint(cx, cur, depth, w, allow_map, None)
}

pub(crate) fn parse_concat_hint(
    cx: &mut RuleCx<'_>,
    cur: &mut Cursor<'_>,
    depth: usize,
    w: Option<&KeyType>,
    allow_map: bool,
    data_hint: Option<&ExprType>,
) -> Option<Pe> {
    if depth > MAX_DEPTH {
        return err(cx, "E2013", "expression nested too deeply", cur.span(), "nesting limit reached here");
    }
    let start = cur.pos();
    let first = parse_level(cx, cur, depth, w, 0)?;
    let mut pe = if is_op(cur.peek(), Op::Dot) {
        if let Some(s) = first.unq_ct {
            unq_ct_error(cx, s, "a concatenation");
            return None;
        }
        let mut parts = vec![first.e];
        // Constant components (`ip saddr . "lo" @s`), typed once the set
        // they meet is known: (index in `parts`, term position).
        let mut consts: Vec<(usize, usize)> = Vec::new();
        while cur.eat_op(Op::Dot) {
            if !is_selector_start(cur) {
                if is_const_term(cur) {
                    consts.push((parts.len(), cur.pos()));
                    let span = cur.span();
                    cur.next();
                    parts.push(mk(ExprKind::Value(Value::Int(0)), ExprType::Unknown, span));
                    continue;
                }
                let found = cur.peek().map_or("the end of the rule".into(), describe);
                return err_help(
                    cx,
                    "E2014",
                    "incomplete concatenation",
                    cur.span(),
                    format!("expected an expression after `.`, found {found}"),
                    "a concatenation joins selectors: `ip saddr . tcp dport`",
                );
            }
            let p = parse_level(cx, cur, depth + 1, None, 0)?;
            if let Some(s) = p.unq_ct {
                unq_ct_error(cx, s, "a concatenation");
                return None;
            }
            parts.push(p.e);
            if parts.len() > 32 {
                return err(cx, "E2013", "concatenation too long", cur.prev_span(), "at most 32 components");
            }
        }
        if !consts.is_empty() {
            type_const_parts(cx, cur, &mut parts, &consts, data_hint)?;
        }
        let mut kts = Vec::new();
        for p in &parts {
            match &p.ty {
                ExprType::Scalar(k) => kts.push(k.clone()),
                ExprType::Concat(ks) => kts.extend(ks.iter().cloned()),
                _ => {
                    return err(
                        cx,
                        "E2013",
                        "this expression cannot be part of a concatenation",
                        p.span,
                        "no fixed type",
                    );
                }
            }
        }
        Pe::plain(mk(ExprKind::Concat(parts), ExprType::Concat(kts), cur.span_from(start)))
    } else {
        first
    };
    if allow_map && let Some(kw @ ("map" | "vmap")) = cur.peek_word() {
        if let Some(s) = pe.unq_ct {
            unq_ct_error(cx, s, "a map key");
            return None;
        }
        let verdict = kw == "vmap";
        cur.next();
        let key = pe.e;
        let (map, ty) = parse_map_rhs(cx, cur, &key, verdict, depth, data_hint)?;
        pe = Pe::plain(mk(ExprKind::Map { key: Box::new(key), map: Box::new(map), verdict }, ty, cur.span_from(start)));
    }
    Some(pe)
}

/// Whether the term at the cursor can be a constant component of a
/// concatenation: a literal, a symbol or a bracketed IPv6 address.
fn is_const_term(cur: &Cursor<'_>) -> bool {
    match cur.peek().map(|t| &t.kind) {
        Some(TermKind::Lit(..) | TermKind::Bracket(_) | TermKind::Var(_)) => true,
        Some(TermKind::Word(w)) => !matches!(w.as_str(), "map" | "vmap"),
        _ => false,
    }
}

/// The key types a concatenation with constant components must have: those
/// of the set or map it meets (`... @s`, `... map @m`, `... vmap @m`), or
/// of the set a statement updates (`update @s { ip saddr . 80 }`, passed
/// as `hint`). nft types such constants from the set's key (its
/// `expr_evaluate_concat` walks the key's data types).
fn const_part_types(cx: &RuleCx<'_>, cur: &Cursor<'_>, hint: Option<&ExprType>) -> Option<Vec<KeyType>> {
    let mut i = 0;
    if matches!(cur.peek_word(), Some("map" | "vmap" | "eq" | "ne"))
        || matches!(cur.peek().map(|t| &t.kind), Some(TermKind::Op(Op::Eq | Op::Ne)))
    {
        i = 1;
    }
    if let Some(TermKind::At(name)) = cur.peek_at(i).map(|t| &t.kind)
        && let Some(set) = cx.table.sets.get(name)
    {
        return Some(set.key.clone());
    }
    match hint {
        Some(ExprType::Concat(ks)) => Some(ks.clone()),
        _ => None,
    }
}

/// Type the constant components `consts` of a concatenation.
fn type_const_parts(
    cx: &mut RuleCx<'_>,
    cur: &Cursor<'_>,
    parts: &mut [Expr],
    consts: &[(usize, usize)],
    hint: Option<&ExprType>,
) -> Option<()> {
    let first = consts.first().map_or(0, |c| c.0);
    let Some(kts) = const_part_types(cx, cur, hint) else {
        let span = parts[first].span;
        return err_help(
            cx,
            "E2014",
            "cannot type a constant in this concatenation",
            span,
            "a constant component needs the key type of the set it is looked up in",
            "look the concatenation up in a named set (`ip saddr . \"lo\" @s`) or use a selector",
        );
    };
    // Offsets of each component in the key types (components are scalars,
    // or concatenations from parentheses).
    let mut offset = 0usize;
    let mut offsets = Vec::with_capacity(parts.len());
    for p in parts.iter() {
        offsets.push(offset);
        offset += match &p.ty {
            ExprType::Concat(ks) => ks.len(),
            _ => 1,
        };
    }
    if offset != kts.len() {
        let span = parts[0].span.to(parts[parts.len() - 1].span);
        return err(
            cx,
            "E2007",
            format!("concatenation has {offset} components, the set's key has {}", kts.len()),
            span,
            "concatenation arity mismatch",
        );
    }
    for &(idx, pos) in consts {
        let k = &kts[offsets[idx]];
        let mut sub = cur.clone();
        sub.set_pos(pos);
        let t = sub.peek()?;
        let one = std::slice::from_ref(t);
        let mut c1 = Cursor::new(one, t.span);
        parts[idx] = value::parse_atom(cx, &mut c1, k)?;
    }
    Some(())
}

fn parse_map_rhs(
    cx: &mut RuleCx<'_>,
    cur: &mut Cursor<'_>,
    key: &Expr,
    verdict: bool,
    depth: usize,
    data_hint: Option<&ExprType>,
) -> Option<(Expr, ExprType)> {
    let kw = if verdict { "vmap" } else { "map" };
    let Some(t) = cur.peek() else {
        return err_help(
            cx,
            "E2014",
            format!("missing {kw} after `{kw}`"),
            cur.span(),
            "expected `{ ... }` or `@name`",
            format!("write e.g. `{kw} {{ 1 : ... }}`"),
        );
    };
    match &t.kind {
        TermKind::Set(lit) => {
            cur.next();
            let data = if verdict { ExprType::Verdict } else { data_hint.cloned().unwrap_or(ExprType::Unknown) };
            let elems = value::parse_set_lit(cx, lit, &key.ty, Some(&data), depth + 1)?;
            let ty = if data == ExprType::Unknown {
                elems.iter().find_map(|e| e.data.as_ref().map(|d| d.ty.clone())).unwrap_or(ExprType::Unknown)
            } else {
                data
            };
            Some((mk(ExprKind::SetLit(elems), key.ty.clone(), lit.span), ty))
        }
        TermKind::At(name) => {
            cur.next();
            let Some(set) = cx.table.sets.get(name.as_str()) else {
                let d =
                    Diagnostic::error("E1003", format!("map @{name} is not defined in table {}", cx.table.display()))
                        .with_label(t.span, "undefined map");
                let d = suggest(d, name, cx.table.sets.keys().map(String::as_str));
                cx.error(d);
                return None;
            };
            cx.used_sets.push((name.clone(), t.span));
            let ty = match (&set.data, verdict) {
                (Some(MapData::Verdict), true) => ExprType::Verdict,
                (Some(MapData::Value(ks)), false) => {
                    if ks.len() == 1 {
                        ExprType::Scalar(ks[0].clone())
                    } else {
                        ExprType::Concat(ks.clone())
                    }
                }
                (Some(MapData::Verdict), false) => {
                    return err_help(
                        cx,
                        "E1015",
                        format!("@{name} is a verdict map"),
                        t.span,
                        "used with `map`",
                        format!("use `vmap @{name}`"),
                    );
                }
                (Some(MapData::Value(_)), true) => {
                    return err_help(
                        cx,
                        "E1015",
                        format!("@{name} is not a verdict map"),
                        t.span,
                        "used with `vmap`",
                        format!("use `map @{name}`"),
                    );
                }
                (Some(MapData::Object(k)), _) => {
                    return err(
                        cx,
                        "E1015",
                        format!("@{name} is a map of {} objects", k.as_str()),
                        t.span,
                        format!("cannot be used with `{kw}`"),
                    );
                }
                (None, _) => {
                    return err_help(
                        cx,
                        "E1015",
                        format!("@{name} is a set, not a map"),
                        t.span,
                        format!("`{kw}` needs a map"),
                        format!("look the set up with `{} @{name}`", "EXPR"),
                    );
                }
            };
            let skey = set_key_type(&set.key);
            if !types_compatible(&skey, &key.ty) {
                cx.error(
                    Diagnostic::error(
                        "E2003",
                        format!("map @{name} has keys of type {}, but the key is {}", ty_name(&skey), ty_name(&key.ty)),
                    )
                    .with_label(key.span, format!("this is {}", ty_name(&key.ty)))
                    .with_secondary(t.span, format!("keys are {}", ty_name(&skey))),
                );
                return None;
            }
            Some((mk(ExprKind::SetRef { name: name.clone() }, skey, t.span), ty))
        }
        _ => err_help(
            cx,
            "E2014",
            format!("missing {kw} after `{kw}`"),
            t.span,
            format!("expected `{{ ... }}` or `@name`, found {}", describe(t)),
            format!("write e.g. `{kw} {{ 1 : ... }}`"),
        ),
    }
}

pub(crate) fn set_key_type(key: &[KeyType]) -> ExprType {
    match key {
        [] => ExprType::Unknown,
        [k] => ExprType::Scalar(k.clone()),
        ks => ExprType::Concat(ks.to_vec()),
    }
}

/// Binary operator at precedence `level` (0 `|`, 1 `^`, 2 `&`, 3 shifts),
/// in symbol or nft's word form (`and`, `or`, `xor`).
pub(crate) fn peek_binop(cur: &Cursor<'_>, level: u8) -> Option<BinOp> {
    let t = cur.peek()?;
    match (&t.kind, level) {
        (TermKind::Op(Op::Or), 0) => Some(BinOp::Or),
        (TermKind::Word(w), 0) if w == "or" => Some(BinOp::Or),
        (TermKind::Op(Op::Xor), 1) => Some(BinOp::Xor),
        (TermKind::Word(w), 1) if w == "xor" => Some(BinOp::Xor),
        (TermKind::Op(Op::And), 2) => Some(BinOp::And),
        (TermKind::Word(w), 2) if w == "and" => Some(BinOp::And),
        (TermKind::Op(Op::Shl), 3) => Some(BinOp::Shl),
        (TermKind::Op(Op::Shr), 3) => Some(BinOp::Shr),
        _ => None,
    }
}

pub(crate) fn op_str(op: BinOp) -> &'static str {
    match op {
        BinOp::And => "&",
        BinOp::Or => "|",
        BinOp::Xor => "^",
        BinOp::Shl => "<<",
        BinOp::Shr => ">>",
    }
}

/// The type constants take next to `e`.
fn const_type(e: &Expr, w: Option<&KeyType>) -> Option<KeyType> {
    if let Some(w) = w {
        return Some(w.clone());
    }
    match &e.ty {
        ExprType::Scalar(k) => Some(k.clone()),
        _ => None,
    }
}

fn parse_level(cx: &mut RuleCx<'_>, cur: &mut Cursor<'_>, depth: usize, w: Option<&KeyType>, level: u8) -> Option<Pe> {
    if depth > MAX_DEPTH {
        return err(cx, "E2013", "expression nested too deeply", cur.span(), "nesting limit reached here");
    }
    if level > 3 {
        return parse_primary(cx, cur, depth, w);
    }
    let start = cur.pos();
    let mut lhs = parse_level(cx, cur, depth + 1, w, level + 1)?;
    while let Some(op) = peek_binop(cur, level) {
        let op_span = cur.span();
        cur.next();
        let kt = match const_type(&lhs.e, w) {
            Some(k) => k,
            None => {
                return err(
                    cx,
                    "E2013",
                    format!("`{}` cannot be applied here", op_str(op)),
                    op_span,
                    "the left side has no integer type",
                );
            }
        };
        let base = kt.ty.info().kind;
        if matches!(base, BaseKind::String | BaseKind::Verdict | BaseKind::Boolean) && kt.ty != Ty::CgroupV2 {
            return err_help(
                cx,
                "E2013",
                format!("`{}` is not defined for {} values", op_str(op), kt.ty.info().name),
                op_span,
                "binary operations need an integer or address",
                "compare the value directly",
            );
        }
        let operand_kt = if matches!(op, BinOp::Shl | BinOp::Shr) { kt_of(Ty::Integer8, 8) } else { kt.clone() };
        let rhs = if is_selector_start(cur) {
            parse_level(cx, cur, depth + 1, w, level + 1)?.e
        } else {
            parse_const_level(cx, cur, depth + 1, &operand_kt, level + 1)?
        };
        let e = combine(cx, op, lhs.e, rhs, &kt, cur.span_from(start))?;
        lhs = Pe { e, unq_ct: lhs.unq_ct };
    }
    Some(lhs)
}

fn kt_of(ty: Ty, bits: u32) -> KeyType {
    KeyType { ty, bits }
}

/// Constants combined with binary operators from `level` up, typed `kt`.
pub(crate) fn parse_const_level(
    cx: &mut RuleCx<'_>,
    cur: &mut Cursor<'_>,
    depth: usize,
    kt: &KeyType,
    level: u8,
) -> Option<Expr> {
    if depth > MAX_DEPTH {
        return err(cx, "E2013", "expression nested too deeply", cur.span(), "nesting limit reached here");
    }
    if level > 3 {
        return parse_const_primary(cx, cur, depth, kt);
    }
    let start = cur.pos();
    let mut lhs = parse_const_level(cx, cur, depth + 1, kt, level + 1)?;
    while let Some(op) = peek_binop(cur, level) {
        cur.next();
        let okt = if matches!(op, BinOp::Shl | BinOp::Shr) { kt_of(Ty::Integer8, 8) } else { kt.clone() };
        let rhs = parse_const_level(cx, cur, depth + 1, &okt, level + 1)?;
        lhs = combine(cx, op, lhs, rhs, kt, cur.span_from(start))?;
    }
    Some(lhs)
}

fn parse_const_primary(cx: &mut RuleCx<'_>, cur: &mut Cursor<'_>, depth: usize, kt: &KeyType) -> Option<Expr> {
    if let Some(t) = cur.peek()
        && let TermKind::Group(inner) = &t.kind
    {
        cur.next();
        let mut sub = Cursor::new(inner, t.span);
        let e = parse_const_level(cx, &mut sub, depth + 1, kt, 0)?;
        if let Some(x) = sub.peek() {
            return err(cx, "E2011", format!("unexpected {} in parentheses", describe(x)), x.span, "expected `)` here");
        }
        return Some(e);
    }
    value::parse_atom(cx, cur, kt)
}

/// Build `lhs op rhs`, folding constants and checking they fit `kt`.
fn combine(cx: &mut RuleCx<'_>, op: BinOp, lhs: Expr, rhs: Expr, kt: &KeyType, span: Span) -> Option<Expr> {
    if let (ExprKind::Value(Value::Int(a)), ExprKind::Value(Value::Int(b))) = (&lhs.kind, &rhs.kind) {
        let (a, b) = (*a, *b);
        let v = match op {
            BinOp::And => Some(a & b),
            BinOp::Or => Some(a | b),
            BinOp::Xor => Some(a ^ b),
            BinOp::Shl => u32::try_from(b).ok().and_then(|b| a.checked_shl(b)).filter(|v| v >> b.min(127) as u32 == a),
            BinOp::Shr => u32::try_from(b).ok().and_then(|b| a.checked_shr(b)),
        };
        let Some(v) = v else {
            return err(cx, "E2002", "constant expression overflows", span, "result does not fit in 128 bits");
        };
        if let Some(max) = max_for_bits(kt.bits)
            && v > max
            && matches!(kt.ty.info().kind, BaseKind::Integer | BaseKind::Bitmask)
        {
            return err(
                cx,
                "E2002",
                format!("value 0x{v:x} does not fit in {} bits", kt.bits),
                span,
                format!("{} is {} bits wide (at most 0x{max:x})", kt.ty.info().name, kt.bits),
            );
        }
        return Some(int_value(v, ExprType::Scalar(kt.clone()), span));
    }
    let ty = match (&lhs.ty, op) {
        (ExprType::Scalar(_), _) => ExprType::Scalar(kt.clone()),
        (t, _) => t.clone(),
    };
    Some(mk(ExprKind::Binop { op, lhs: Box::new(lhs), rhs: Box::new(rhs) }, ty, span))
}

fn parse_primary(cx: &mut RuleCx<'_>, cur: &mut Cursor<'_>, depth: usize, w: Option<&KeyType>) -> Option<Pe> {
    let Some(t) = cur.peek() else {
        return err(cx, "E2014", "missing expression", cur.span(), "expected an expression here");
    };
    if let TermKind::Group(inner) = &t.kind {
        cur.next();
        let mut sub = Cursor::new(inner, t.span);
        let pe = parse_concat(cx, &mut sub, depth + 1, w, true)?;
        if let Some(x) = sub.peek() {
            return err(cx, "E2011", format!("unexpected {} in parentheses", describe(x)), x.span, "expected `)` here");
        }
        return Some(pe);
    }
    if is_selector_start(cur) {
        return parse_selector(cx, cur, depth + 1);
    }
    if let Some(k) = w {
        return value::parse_atom(cx, cur, k).map(Pe::plain);
    }
    err(cx, "E2011", format!("expected an expression, found {}", describe(t)), t.span, "not a selector")
}
