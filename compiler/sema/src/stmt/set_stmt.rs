//! `TARGET set VALUE`: meta, ct, payload, extension header and TCP option
//! assignments (nft `meta_stmt`, `ct_stmt`, `payload_stmt`), with the
//! value typed by the target, and the object assignments `ct helper set`,
//! `meta secmark set "name"`.

use super::args::{self, describe};
use super::{fail, sets};
use crate::cursor::Cursor;
use crate::cx::RuleCx;
use crate::hir::{Expr, ExprKind, ExprType, KeyType, ObjectKind, Stmt, StmtKind};
use ctc_grammar::Diagnostic;
use ctc_grammar::ast::{LitKind, TermKind};
use ctc_proto::{Family, Hook, Ty};

/// How a target is written, for messages.
fn target_text(e: &Expr) -> String {
    match &e.kind {
        ExprKind::Meta { key } => format!("meta {key}"),
        ExprKind::Ct { key, dir: Some(d) } => format!("ct {d} {key}"),
        ExprKind::Ct { key, dir: None } => format!("ct {key}"),
        ExprKind::Payload { proto, field, .. } => format!("{proto} {field}"),
        ExprKind::Exthdr { hdr, field: Some(f), .. } => format!("exthdr {hdr} {f}"),
        ExprKind::Exthdr { hdr, field: None, .. } => format!("exthdr {hdr}"),
        ExprKind::Opt { proto, name, field: Some(f), .. } => format!("{proto} option {name} {f}"),
        ExprKind::Opt { proto, name, field: None, .. } => format!("{proto} option {name}"),
        ExprKind::Key { expr, key, .. } => format!("{expr} {key}"),
        ExprKind::Fib { result, .. } => format!("fib {result}"),
        ExprKind::Numgen { .. } => "numgen".into(),
        ExprKind::Hash { kind, .. } => (*kind).into(),
        ExprKind::Raw { base, offset, bits } => format!("@{base},{offset},{bits}"),
        _ => "this expression".into(),
    }
}

fn read_only(cx: &mut RuleCx<'_>, target: &Expr, help: String) -> Result<Stmt, ()> {
    let text = target_text(target);
    fail(
        cx,
        Diagnostic::error("E2013", format!("`{text}` cannot be set"))
            .with_label(target.span, "read-only")
            .with_help(help),
    )
}

/// The value of a `set` statement, typed by its target.
fn parse_value_for(cx: &mut RuleCx<'_>, cur: &mut Cursor<'_>, k: Option<KeyType>, text: &str) -> Result<Expr, ()> {
    let e = parse_value_any(cx, cur, k, text)?;
    // nft's `stmt_error_range`: a register holds one value, not a range
    // (nft 1.0.6 even hits an assertion on `meta mark set 0x1-0x2`).
    if let ExprKind::Range { .. } = e.kind {
        return fail(
            cx,
            Diagnostic::error("E2013", format!("`{text} set` cannot assign a range"))
                .with_label(e.span, "a range, not a single value")
                .with_help("assign one value; to pick one by key use a map: `KEY map { K1 : V1, K2 : V2 }`"),
        );
    }
    Ok(e)
}

fn parse_value_any(cx: &mut RuleCx<'_>, cur: &mut Cursor<'_>, k: Option<KeyType>, text: &str) -> Result<Expr, ()> {
    let what = format!("the value of `{text} set`");
    match k {
        Some(k) => args::parse_arg(cx, cur, &k, &what),
        None => {
            if cur.at_end() {
                return fail(
                    cx,
                    Diagnostic::error("E2014", format!("missing {what}")).with_label(cur.span(), "value expected"),
                );
            }
            let before = cx.diags.len();
            let span = cur.span();
            let e = crate::expr::parse_value(cx, cur, &ExprType::Unknown);
            e.ok_or_else(|| {
                if cx.diags.len() == before {
                    cx.error(
                        Diagnostic::error("E2003", format!("invalid {what}"))
                            .with_label(span, "cannot type this value"),
                    );
                }
            })
        }
    }
}

fn is_name_term(cx: &RuleCx<'_>, cur: &Cursor<'_>) -> bool {
    match cur.peek().map(|t| &t.kind) {
        Some(TermKind::Lit(LitKind::Str, _)) => true,
        Some(TermKind::Word(_)) => !crate::expr::is_expr_start(cx, cur) && !args::is_continuation(cur.peek_at(1)),
        _ => false,
    }
}

/// `TARGET set VALUE` (meta, ct, payload, exthdr, tcp option): the cursor is
/// after `set`.
#[allow(clippy::result_unit_err)] // the error is in `cx.diags`
pub fn parse_set_stmt(cx: &mut RuleCx<'_>, cur: &mut Cursor<'_>, target: Expr) -> Result<Stmt, ()> {
    let text = target_text(&target);
    let kind = match &target.kind {
        ExprKind::Meta { key } => {
            let Some(mk) = ctc_proto::meta_key(key) else {
                return fail(
                    cx,
                    Diagnostic::error("E2010", format!("unknown meta key `{key}`"))
                        .with_label(target.span, "unknown key"),
                );
            };
            if !mk.settable {
                let settable: Vec<&str> = ctc_proto::META_KEYS.iter().filter(|m| m.settable).map(|m| m.name).collect();
                return read_only(cx, &target, format!("settable meta keys: {}", settable.join(", ")));
            }
            if mk.name == "broute" {
                if cx.family != Family::Bridge {
                    return fail(
                        cx,
                        Diagnostic::error("E4006", "`meta broute set` is only valid in bridge tables")
                            .with_label(target.span, format!("not available in {} tables", cx.table.family_name)),
                    );
                }
                if let Some((ty, hook)) = cx.chain.base
                    && !ctc_proto::meta_broute_allowed(cx.family, hook)
                {
                    return fail(
                        cx,
                        Diagnostic::error(
                            "E4006",
                            format!(
                                "`meta broute set` is only valid at the prerouting hook; this chain is a {} chain at the {} hook",
                                ty.name(),
                                hook.name()
                            ),
                        )
                        .with_label(target.span, "broute")
                        .with_help(format!("move the rule to a chain with `hook {}`", Hook::Prerouting.name())),
                    );
                }
            }
            // `meta secmark set "name"` assigns a secmark object.
            if mk.name == "secmark" && is_name_term(cx, cur) {
                let t = sets::parse_obj_value(cx, cur, ObjectKind::Secmark, "meta secmark set")?;
                return Ok(finish(cur, &target, StmtKind::ObjRef { kind: ObjectKind::Secmark, target: t }));
            }
            let value = parse_value_for(cx, cur, Some(KeyType { ty: mk.ty, bits: mk.bits }), &text)?;
            StmtKind::MetaSet { key: mk.name, value }
        }
        ExprKind::Ct { key, dir } => {
            if *key == "helper" {
                if dir.is_some() {
                    return read_only(cx, &target, "write `ct helper set \"NAME\"` without a direction".into());
                }
                let t = sets::parse_obj_value(cx, cur, ObjectKind::CtHelper, "ct helper set")?;
                return Ok(finish(cur, &target, StmtKind::ObjRef { kind: ObjectKind::CtHelper, target: t }));
            }
            let Some(ck) = ctc_proto::ct_key(key) else {
                return fail(
                    cx,
                    Diagnostic::error("E2010", format!("unknown ct key `{key}`"))
                        .with_label(target.span, "unknown key"),
                );
            };
            if !ck.settable || (dir.is_some() && ck.name != "zone") {
                let settable: Vec<&str> = ctc_proto::CT_KEYS.iter().filter(|c| c.settable).map(|c| c.name).collect();
                return read_only(
                    cx,
                    &target,
                    format!(
                        "settable ct keys: {}, plus `ct helper|timeout|expectation set \"NAME\"`; only `zone` takes a direction",
                        settable.join(", ")
                    ),
                );
            }
            let value = if ck.name == "label" {
                parse_label(cx, cur)?
            } else {
                parse_value_for(cx, cur, Some(KeyType { ty: ck.ty, bits: ck.bits }), &text)?
            };
            if ck.name == "secmark" && matches!(value.kind, ExprKind::Value(_)) {
                return fail(
                    cx,
                    Diagnostic::error("E2013", "ct secmark must not be set to constant value")
                        .with_label(value.span, "a constant")
                        .with_help("copy the packet's mark: `ct secmark set meta secmark`"),
                );
            }
            StmtKind::CtSet { key: ck.name, dir: *dir, value }
        }
        ExprKind::Payload { .. } | ExprKind::Raw { .. } => {
            let k = match &target.ty {
                ExprType::Scalar(k) => Some(k.clone()),
                _ => None,
            };
            let value = parse_value_for(cx, cur, k, &text)?;
            StmtKind::PayloadSet { target: target.clone(), value }
        }
        ExprKind::Exthdr { field: Some(_), .. } | ExprKind::Opt { proto: "tcp", field: Some(_), .. } => {
            let k = match &target.ty {
                ExprType::Scalar(k) => Some(k.clone()),
                _ => None,
            };
            let value = parse_value_for(cx, cur, k, &text)?;
            StmtKind::PayloadSet { target: target.clone(), value }
        }
        ExprKind::Exthdr { field: None, .. } | ExprKind::Opt { field: None, .. } => {
            return read_only(
                cx,
                &target,
                "name a field of the header or option, e.g. `tcp option maxseg size set 1360`".into(),
            );
        }
        ExprKind::Opt { .. } => {
            return read_only(cx, &target, "only TCP option fields can be set".into());
        }
        _ => {
            return read_only(
                cx,
                &target,
                "only meta keys, ct keys, header fields and TCP option fields can be set".into(),
            );
        }
    };
    Ok(finish(cur, &target, kind))
}

fn finish(cur: &Cursor<'_>, target: &Expr, kind: StmtKind) -> Stmt {
    Stmt { kind, span: target.span.to(cur.prev_span()) }
}

/// `ct label set NAME|BIT`: one of the 128 label bits (connlabel.conf names).
fn parse_label(cx: &mut RuleCx<'_>, cur: &mut Cursor<'_>) -> Result<Expr, ()> {
    let Some(t) = cur.peek() else {
        return fail(
            cx,
            Diagnostic::error("E2014", "`ct label set` needs a label").with_label(cur.span(), "label expected"),
        );
    };
    let k = args::kt(Ty::CtLabel);
    let value = match &t.kind {
        TermKind::Word(w) | TermKind::Lit(LitKind::Str, w) if !crate::expr::is_expr_start(cx, cur) => {
            crate::hir::Value::Str(w.clone())
        }
        TermKind::Lit(LitKind::Number, _) => match args::term_int(t) {
            Some(b) if b < 128 => crate::hir::Value::Int(1u128 << b),
            _ => {
                return fail(
                    cx,
                    Diagnostic::error("E2002", format!("invalid ct label bit {}", describe(t)))
                        .with_label(t.span, "labels are bits 0 to 127"),
                );
            }
        },
        _ => return parse_value_for(cx, cur, Some(k), "ct label"),
    };
    let span = t.span;
    cur.next();
    Ok(Expr { kind: ExprKind::Value(value), ty: ExprType::Scalar(k), span })
}
