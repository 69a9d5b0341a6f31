//! A rule's terms → HIR statements: the loop that decides, term by term,
//! whether a statement or a match expression starts, using the tables of
//! ctc-proto (owned together with [`crate::expr`]).
//!
//! At each position: a statement (`crate::stmt::starts_stmt`), the rule's
//! `comment "..."`, or an expression. An expression is followed by `set`
//! (an assignment, handed to the statement parser), is itself a verdict map
//! (`tcp dport vmap { ... }`), or is the left side of a match: an optional
//! relational operator and a value typed by the left side. The first error
//! ends the rule: one precise diagnostic is better than a cascade.

use crate::cursor::Cursor;
use crate::cx::RuleCx;
use crate::expr::describe;
use crate::expr::{self, Rhs};
use crate::hir::{self, BinOp, Expr, ExprKind, ExprType, RelOp, Stmt, StmtKind, Value};
use ctc_grammar::ast::{LitKind, Op, Term, TermKind};
use ctc_grammar::{Diagnostic, Span};
use ctc_proto::{BaseKind, Ty};

/// Check one rule. Statements with errors are reported and left out.
pub fn check_rule(cx: &mut RuleCx<'_>, terms: &[Term], span: Span) -> hir::Rule {
    let mut cur = Cursor::new(terms, span);
    let mut rule = hir::Rule { span, stmts: Vec::new(), comment: None };
    // Every iteration consumes at least one term or stops, so this ends.
    while !cur.at_end() {
        let before = cur.pos();
        let ok = step(cx, &mut cur, &mut rule);
        if !ok {
            cur.skip_to_end();
            break;
        }
        if cur.pos() == before {
            // Defensive: a parser that consumed nothing would loop forever.
            let t = &terms[before.min(terms.len().saturating_sub(1))];
            cx.error(
                Diagnostic::error("E2011", format!("unexpected {}", describe(t)))
                    .with_label(t.span, "cannot continue the rule here"),
            );
            break;
        }
    }
    rule
}

/// One statement or match. Returns false after an error (reported).
fn step(cx: &mut RuleCx<'_>, cur: &mut Cursor<'_>, rule: &mut hir::Rule) -> bool {
    if cur.peek_word() == Some("comment") {
        let kw = cur.span();
        cur.next();
        return match cur.peek().map(|t| (&t.kind, t.span)) {
            Some((TermKind::Lit(LitKind::Str, s), _)) => {
                if rule.comment.is_some() {
                    cx.error(
                        Diagnostic::error("E2013", "a rule has at most one comment")
                            .with_label(kw.to(cur.span()), "second comment")
                            .with_help("join the comments into one string"),
                    );
                    return false;
                }
                if s.len() > 128 {
                    cx.error(
                        Diagnostic::error("E2002", "comment too long").with_label(cur.span(), "at most 128 characters"),
                    );
                    return false;
                }
                rule.comment = Some(s.clone());
                cur.next();
                true
            }
            _ => {
                cx.error(
                    Diagnostic::error("E2014", "`comment` needs a string")
                        .with_label(cur.span(), "expected \"text\"")
                        .with_help("write e.g. `comment \"allow ssh\"`"),
                );
                false
            }
        };
    }
    if crate::stmt::starts_stmt(cx, cur) {
        return match crate::stmt::parse_stmt(cx, cur) {
            Ok(s) => {
                rule.stmts.push(s);
                true
            }
            Err(()) => false,
        };
    }
    if !expr::is_expr_start(cx, cur) {
        let Some(t) = cur.peek() else { return false };
        let d = Diagnostic::error("E2011", format!("unexpected {}", describe(t)))
            .with_label(t.span, "expected a match (like `tcp dport 22`) or a statement (like `accept`)");
        let d = match t.word() {
            Some(w) => with_word_help(d, w),
            None => d,
        };
        cx.error(d);
        return false;
    }
    let start = cur.pos();
    let Some(lhs) = expr::parse_expr(cx, cur) else { return false };
    if cur.peek_word() == Some("set") {
        cur.next();
        return match crate::stmt::parse_set_stmt(cx, cur, lhs) {
            Ok(s) => {
                rule.stmts.push(s);
                true
            }
            Err(()) => false,
        };
    }
    if let ExprKind::Map { verdict: true, .. } = lhs.kind {
        let span = lhs.span;
        rule.stmts.push(Stmt { kind: StmtKind::VerdictMap(lhs), span });
        return true;
    }
    if !check_icmp_type(cx, &lhs, &rule.stmts) {
        return false;
    }
    match parse_match(cx, cur, lhs, start) {
        Some(s) => {
            rule.stmts.push(s);
            true
        }
        None => false,
    }
}

/// A "did you mean" for a word that starts nothing.
fn with_word_help(d: Diagnostic, w: &str) -> Diagnostic {
    let mut cands: Vec<&str> = ctc_proto::PROTOCOLS.iter().map(|p| p.name).collect();
    cands.extend(ctc_proto::META_KEYS.iter().filter(|k| k.unqualified).map(|k| k.name));
    cands.extend(["meta", "ct", "fib", "rt", "socket", "osf", "ipsec", "numgen", "jhash", "symhash", "exthdr"]);
    cands.extend([
        "accept",
        "drop",
        "continue",
        "return",
        "jump",
        "goto",
        "counter",
        "log",
        "limit",
        "reject",
        "queue",
        "snat",
        "dnat",
        "masquerade",
        "redirect",
        "notrack",
        "quota",
        "comment",
    ]);
    match crate::expr::did_you_mean(w, cands) {
        Some(c) => d.with_help(format!("did you mean `{c}`?")),
        None => d,
    }
}

/// ICMP and ICMPv6 fields that exist only in some message types, and those
/// types (nft proto.c gives them an `icmp type` dependency): RFC 792 echo,
/// timestamp, information and address-mask messages carry id/sequence,
/// redirect (5) a gateway, destination-unreachable (3) the next-hop MTU
/// (RFC 1191); RFC 4443 packet-too-big (2) an MTU, parameter-problem (4) a
/// pointer, echo (128/129) id/sequence; MLD (RFC 2710/3810) a maximum
/// delay; ND (RFC 4861) a target address, redirect (137) a destination.
const ICMP_TYPE_DEPS: &[(&str, &str, &[u128])] = &[
    ("icmp", "id", &[0, 8, 13, 14, 15, 16, 17, 18]),
    ("icmp", "sequence", &[0, 8, 13, 14, 15, 16, 17, 18]),
    ("icmp", "gateway", &[5]),
    ("icmp", "mtu", &[3]),
    ("icmpv6", "mtu", &[2]),
    ("icmpv6", "packet-too-big", &[2]),
    ("icmpv6", "parameter-problem", &[4]),
    ("icmpv6", "id", &[128, 129]),
    ("icmpv6", "sequence", &[128, 129]),
    ("icmpv6", "max-delay", &[130, 131, 132, 143]),
    ("icmpv6", "taddr", &[130, 131, 132, 135, 136, 137, 143]),
    ("icmpv6", "daddr", &[137]),
];

/// A type-specific ICMP field after a match on another ICMP type
/// (`icmp type 2 icmp mtu 5`) can never match: E3001.
fn check_icmp_type(cx: &mut RuleCx<'_>, lhs: &Expr, earlier: &[Stmt]) -> bool {
    let ExprKind::Payload { proto, field, .. } = &lhs.kind else { return true };
    let Some((_, _, allowed)) = ICMP_TYPE_DEPS.iter().find(|(p, f, _)| p == proto && f == field) else { return true };
    for s in earlier {
        let StmtKind::Match { lhs: l, op: RelOp::Implicit | RelOp::Eq, rhs } = &s.kind else { continue };
        let (ExprKind::Payload { proto: p2, field: "type", .. }, ExprKind::Value(Value::Int(v))) = (&l.kind, &rhs.kind)
        else {
            continue;
        };
        if p2 == proto && !allowed.contains(v) {
            cx.error(
                Diagnostic::error("E3001", format!("`{proto} {field}` conflicts with an earlier match of this rule"))
                    .with_label(lhs.span, format!("{proto} {field} only exists in some {proto} message types"))
                    .with_secondary(s.span, format!("but this restricts the rule to {proto} type {v}"))
                    .with_help("match a message type that carries this field, or drop the type match"),
            );
            return false;
        }
    }
    true
}

/// The relational operator at the cursor, symbol or nft's word form.
fn parse_relop(cur: &mut Cursor<'_>) -> Option<RelOp> {
    let op = match cur.peek().map(|t| &t.kind) {
        Some(TermKind::Op(Op::Eq)) => RelOp::Eq,
        Some(TermKind::Op(Op::Ne)) => RelOp::Ne,
        Some(TermKind::Op(Op::Lt)) => RelOp::Lt,
        Some(TermKind::Op(Op::Gt)) => RelOp::Gt,
        Some(TermKind::Op(Op::Le)) => RelOp::Le,
        Some(TermKind::Op(Op::Ge)) => RelOp::Ge,
        Some(TermKind::Word(w)) => match w.as_str() {
            "eq" => RelOp::Eq,
            "ne" => RelOp::Ne,
            "lt" => RelOp::Lt,
            "gt" => RelOp::Gt,
            "le" => RelOp::Le,
            "ge" => RelOp::Ge,
            _ => return None,
        },
        _ => return None,
    };
    cur.next();
    Some(op)
}

fn is_bitmask(e: &Expr) -> bool {
    matches!(&e.ty, ExprType::Scalar(k) if k.ty.info().kind == BaseKind::Bitmask)
}

/// `LHS [OP] RHS` after the left side.
fn parse_match(cx: &mut RuleCx<'_>, cur: &mut Cursor<'_>, lhs: Expr, start: usize) -> Option<Stmt> {
    // `tcp flags ! fin,rst`: none of these flags is set.
    if cur.peek().is_some_and(|t| t.is_op(Op::Not)) {
        let bang = cur.span();
        cur.next();
        if !is_bitmask(&lhs) || matches!(lhs.kind, ExprKind::Binop { .. }) {
            cx.error(
                Diagnostic::error("E2013", "`!` only applies to a flag field")
                    .with_label(bang, "not a relational operator here")
                    .with_help("write `!=`, or `FIELD & MASK == 0`"),
            );
            return None;
        }
        let mask = expr::parse_rhs(cx, cur, &lhs.ty.clone(), 0, Rhs { list: true })?;
        let ty = lhs.ty.clone();
        let span = cur.span_from(start);
        let and = Expr {
            kind: ExprKind::Binop { op: BinOp::And, lhs: Box::new(lhs), rhs: Box::new(mask) },
            ty: ty.clone(),
            span,
        };
        let zero = Expr { kind: ExprKind::Value(Value::Int(0)), ty, span: bang };
        return Some(Stmt { kind: StmtKind::Match { lhs: and, op: RelOp::Eq, rhs: zero }, span });
    }
    let op_span = cur.span();
    let op = parse_relop(cur).unwrap_or(RelOp::Implicit);
    let Some(t) = cur.peek() else {
        let what = if op == RelOp::Implicit { "a value to match" } else { "a value after the operator" };
        cx.error(
            Diagnostic::error("E2014", "incomplete match: missing value")
                .with_label(cur.end_span(), format!("expected {what}"))
                .with_secondary(lhs.span, "this needs a value to compare with"),
        );
        return None;
    };
    // `fib daddr oif missing`, `rt ipsec exists` on non-boolean results.
    let rhs_ty = match (&lhs.kind, t.word()) {
        (ExprKind::Fib { .. }, Some("exists" | "missing")) => {
            ExprType::Scalar(hir::KeyType { ty: Ty::Boolean, bits: 1 })
        }
        _ => lhs.ty.clone(),
    };
    // A statement right after the selector: the value is missing.
    if let Some(w) = t.word()
        && crate::stmt::starts_stmt(cx, cur)
        && !matches!(&rhs_ty, ExprType::Scalar(k) if k.ty.symbol(w).is_some() || k.ty.info().kind == BaseKind::String)
    {
        cx.error(
            Diagnostic::error("E2014", "incomplete match: missing value")
                .with_label(t.span, format!("expected a value for the match, found statement `{w}`"))
                .with_secondary(lhs.span, "this needs a value to compare with"),
        );
        return None;
    }
    let mut rhs = expr::parse_rhs(cx, cur, &rhs_ty, 0, Rhs { list: true })?;
    let mut lhs = lhs;
    // `tcp flags syn / syn,ack`: value under a mask.
    if is_bitmask(&lhs) && cur.peek().is_some_and(|t| t.is_op(Op::Slash)) {
        cur.next();
        let mask = expr::parse_rhs(cx, cur, &lhs.ty.clone(), 0, Rhs { list: true })?;
        let ty = lhs.ty.clone();
        let span = lhs.span.to(mask.span);
        lhs = Expr { kind: ExprKind::Binop { op: BinOp::And, lhs: Box::new(lhs), rhs: Box::new(mask) }, ty, span };
    }
    let span = cur.span_from(start);
    if matches!(op, RelOp::Lt | RelOp::Gt | RelOp::Le | RelOp::Ge) {
        let bad = match &rhs.kind {
            ExprKind::SetLit(_) | ExprKind::SetRef { .. } => Some("a set"),
            ExprKind::Range { .. } => Some("a range"),
            ExprKind::Prefix { .. } => Some("a prefix"),
            ExprKind::List(_) => Some("a list"),
            _ => None,
        };
        if let Some(b) = bad {
            cx.error(
                Diagnostic::error("E2013", format!("`{}` cannot compare with {b}", relop_str(op)))
                    .with_label(op_span, "ordering operator")
                    .with_secondary(rhs.span, b)
                    .with_help("use `==`/`!=` (or no operator) with sets, ranges and prefixes"),
            );
            return None;
        }
        if let ExprType::Scalar(k) = &lhs.ty
            && matches!(k.ty.info().kind, BaseKind::String | BaseKind::Boolean)
        {
            cx.error(
                Diagnostic::error("E2013", format!("`{}` is not defined for {}", relop_str(op), k.ty.info().name))
                    .with_label(op_span, "ordering operator on a non-numeric value")
                    .with_help("use `==` or `!=`"),
            );
            return None;
        }
    }
    if let ExprKind::Value(Value::Int(_)) = rhs.kind {
        rhs.span = rhs.span.to(rhs.span);
    }
    let before = cx.diags.len();
    expr::note_match(cx, &lhs, op, &rhs, span);
    if cx.diags.len() > before {
        return None;
    }
    Some(Stmt { kind: StmtKind::Match { lhs, op, rhs }, span })
}

fn relop_str(op: RelOp) -> &'static str {
    match op {
        RelOp::Implicit | RelOp::Eq => "==",
        RelOp::Ne => "!=",
        RelOp::Lt => "<",
        RelOp::Gt => ">",
        RelOp::Le => "<=",
        RelOp::Ge => ">=",
    }
}
