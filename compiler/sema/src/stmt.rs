//! Statements: verdicts, counter, limit, log, reject, queue, meta/ct/payload
//! set, notrack, ct helper/timeout/expectation set, NAT, tproxy, synproxy,
//! dup, fwd, set/map updates, flow add, quota, last, secmark and object
//! references.
//!
//! The syntax follows nft's `parser_bison.y` (statement rules) and the
//! checks follow nft's `evaluate.c` (`stmt_evaluate_*`) and the kernel's
//! expression `init`/`validate` callbacks, so that `ctc check` accepts and
//! rejects what `nft -c` does, with a code, a span and a hint.
//!
//! Layout: [`args`] parses typed arguments (numbers, units, addresses,
//! ports, maps); [`simple`] the stateful and logging statements; [`nat`]
//! NAT, tproxy, dup, fwd and reject; [`sets`] set updates, flowtables,
//! meters and object references; [`set_stmt`] `TARGET set VALUE`.

mod args;
mod nat;
mod set_stmt;
mod sets;
pub(crate) mod simple;
#[cfg(test)]
mod tests;

use crate::cursor::Cursor;
use crate::cx::RuleCx;
use crate::hir::{Stmt, StmtKind, Verdict};
use ctc_grammar::ast::TermKind;
use ctc_grammar::{Diagnostic, Span};
use ctc_proto::{ChainType, Family, Hook, HookedStmt};

pub use set_stmt::parse_set_stmt;

/// Whether the word at the cursor begins a statement.
pub fn starts_stmt(cx: &RuleCx<'_>, cur: &Cursor<'_>) -> bool {
    let _ = cx;
    let Some(w) = cur.peek_word() else { return false };
    let next = cur.peek_word_at(1);
    let next_is_at = matches!(cur.peek_at(1).map(|t| &t.kind), Some(TermKind::At(_)));
    match w {
        "accept" | "drop" | "continue" | "return" | "jump" | "goto" | "queue" | "counter" | "limit" | "log"
        | "reject" | "snat" | "dnat" | "masquerade" | "redirect" | "notrack" | "tproxy" | "synproxy" | "dup"
        | "fwd" | "quota" | "last" | "comment" | "meter" | "xt" => true,
        // `add @s { ... }`, `update @s { ... }`, `delete @s { ... }`.
        "add" | "update" | "delete" => next_is_at,
        // Legacy `set add ip saddr @s`.
        "set" => matches!(next, Some("add" | "update" | "delete")),
        "flow" => matches!(next, Some("add" | "offload")),
        // `reset tcp option NAME` (optstrip).
        "reset" => next == Some("tcp"),
        // `ct count` is a statement; `ct helper|timeout|expectation set` assign
        // objects (`ct timeout`/`ct expectation` are no ct keys at all). Other
        // `ct KEY set` forms are parsed by the rule loop as an expression and
        // then [`parse_set_stmt`].
        "ct" => match next {
            Some("count") => true,
            Some("helper" | "timeout" | "expectation") => cur.peek_word_at(2) == Some("set"),
            _ => false,
        },
        _ => false,
    }
}

/// Parse the statement at the cursor. On error a diagnostic is pushed and
/// `Err(())` returned; the caller skips the rest of the rule.
#[allow(clippy::result_unit_err)] // the error is in `cx.diags`
pub fn parse_stmt(cx: &mut RuleCx<'_>, cur: &mut Cursor<'_>) -> Result<Stmt, ()> {
    let start = cur.pos();
    let Some(kw_term) = cur.peek() else {
        return fail(
            cx,
            Diagnostic::error("E2014", "expected a statement").with_label(cur.span(), "statement expected here"),
        );
    };
    let kw_span = kw_term.span;
    let Some(w) = kw_term.word() else {
        return fail(
            cx,
            Diagnostic::error("E2011", "expected a statement").with_label(kw_span, "this does not begin a statement"),
        );
    };
    let kind = match w {
        "accept" | "drop" | "continue" | "return" | "jump" | "goto" => parse_verdict(cx, cur)?,
        "counter" => simple::parse_counter(cx, cur)?,
        "limit" => simple::parse_limit(cx, cur)?,
        "quota" => simple::parse_quota(cx, cur)?,
        "last" => simple::parse_last(cx, cur)?,
        "log" => simple::parse_log(cx, cur)?,
        "queue" => simple::parse_queue(cx, cur)?,
        "synproxy" => simple::parse_synproxy(cx, cur)?,
        "comment" => simple::parse_comment(cx, cur)?,
        "notrack" => {
            cur.next();
            StmtKind::Notrack
        }
        "reset" => simple::parse_optstrip(cx, cur)?,
        "ct" => match cur.peek_word_at(1) {
            Some("count") => simple::parse_ct_count(cx, cur)?,
            _ => sets::parse_ct_object_set(cx, cur)?,
        },
        "snat" | "dnat" | "masquerade" | "redirect" => nat::parse_nat(cx, cur)?,
        "reject" => nat::parse_reject(cx, cur)?,
        "tproxy" => nat::parse_tproxy(cx, cur)?,
        "dup" => nat::parse_dup(cx, cur)?,
        "fwd" => nat::parse_fwd(cx, cur)?,
        "add" | "update" | "delete" | "set" => sets::parse_set_update(cx, cur)?,
        "flow" => sets::parse_flow(cx, cur)?,
        "meter" => sets::parse_meter(cx, cur)?,
        "xt" => {
            return fail(
                cx,
                Diagnostic::error("E4006", "`xt` statements (iptables-nft compatibility) are not supported")
                    .with_label(kw_span, "xtables compat expression")
                    .with_help(
                        "this rule was written by iptables-nft; manage it with iptables-nft, or rewrite the match \
                         or target in native nftables syntax",
                    ),
            );
        }
        _ => {
            return fail(
                cx,
                Diagnostic::error("E2011", format!("`{w}` does not begin a statement"))
                    .with_label(kw_span, "unexpected term"),
            );
        }
    };
    let stmt = Stmt { kind, span: cur.span_from(start) };
    check_after_terminal(cx, cur, &stmt, w)?;
    Ok(stmt)
}

/// Nothing but the rule's comment may follow a terminal statement (nft:
/// "Statement after terminal statement has no effect").
fn check_after_terminal(cx: &mut RuleCx<'_>, cur: &Cursor<'_>, stmt: &Stmt, name: &str) -> Result<(), ()> {
    if !stmt.is_terminal() {
        return Ok(());
    }
    let Some(next) = cur.peek() else { return Ok(()) };
    if next.is_word("comment") {
        return Ok(());
    }
    let rest = cur.rest();
    let end = rest.iter().position(|t| t.is_word("comment")).unwrap_or(rest.len());
    let span = match rest[..end].last() {
        Some(last) => next.span.to(last.span),
        None => next.span,
    };
    fail(
        cx,
        Diagnostic::error("E2011", "statement after terminal statement has no effect")
            .with_label(span, "never evaluated")
            .with_secondary(stmt.span, format!("`{name}` ends the evaluation of the rule"))
            .with_help(format!("move what follows before `{name}`, or into a rule of its own")),
    )
}

/// `accept`, `drop`, `continue`, `return`, `jump CHAIN`, `goto CHAIN`,
/// `jump { ... }`.
fn parse_verdict(cx: &mut RuleCx<'_>, cur: &mut Cursor<'_>) -> Result<StmtKind, ()> {
    let Some(kw) = cur.next() else { return Err(()) };
    let w = kw.word().unwrap_or_default();
    let verdict = match w {
        "accept" => Verdict::Accept,
        "drop" => Verdict::Drop,
        "continue" => Verdict::Continue,
        "return" => Verdict::Return,
        _ => {
            let goto = w == "goto";
            let Some(target) = cur.peek() else {
                return fail(
                    cx,
                    Diagnostic::error("E2014", format!("`{w}` needs a chain name"))
                        .with_label(cur.span(), "chain name expected here")
                        .with_help(format!("write `{w} CHAIN` or `{w} {{ ... }}` with an anonymous chain")),
                );
            };
            let name = match &target.kind {
                TermKind::Word(n) | TermKind::Lit(ctc_grammar::ast::LitKind::Str, n) => n.clone(),
                TermKind::Chain(body) => {
                    cur.next();
                    cx.anon_chains.push(body.clone());
                    return Ok(StmtKind::AnonChain { goto, index: cx.anon_chains.len() - 1 });
                }
                _ => {
                    return fail(
                        cx,
                        Diagnostic::error("E2012", format!("`{w}` needs a chain name"))
                            .with_label(target.span, "not a chain name"),
                    );
                }
            };
            let span = target.span;
            // A target written in place is read as a name; one from a
            // variable (`jump $x`) is the variable's value, quoted or not.
            if target.site.is_none() {
                let quoted = !matches!(target.kind, TermKind::Word(_));
                if let Some(why) = crate::reserved::unreadable(&name, quoted) {
                    cx.diags.push(crate::reserved::diagnostic(why, &name, span));
                }
            }
            cur.next();
            check_chain_target(cx, &name, span, w)?;
            cx.jumps.push((name.clone(), span, goto));
            if goto { Verdict::Goto(name) } else { Verdict::Jump(name) }
        }
    };
    Ok(StmtKind::Verdict(verdict))
}

/// A `jump`/`goto` target must be a regular chain of the table.
fn check_chain_target(cx: &mut RuleCx<'_>, name: &str, span: Span, verb: &str) -> Result<(), ()> {
    match cx.table.chains.get(name) {
        None => {
            let mut d =
                Diagnostic::error("E1002", format!("chain `{name}` is not defined in table {}", cx.table.display()))
                    .with_label(span, "undefined chain");
            if let Some(similar) = closest(name, cx.table.chains.keys().map(String::as_str)) {
                d = d.with_help(format!("did you mean `{similar}`?"));
            } else {
                d = d.with_help(format!("declare it in the table: `chain {name} {{ }}`"));
            }
            fail(cx, d)
        }
        Some((decl, Some((ty, hook)))) => {
            let decl = *decl;
            fail(
                cx,
                Diagnostic::error("E1014", format!("cannot {verb} to base chain `{name}`"))
                    .with_label(span, "a base chain")
                    .with_secondary(decl, format!("`{name}` is a {} chain at the {} hook", ty.name(), hook.name()))
                    .with_help("base chains are entered from their hook only; jump to a regular chain instead"),
            )
        }
        Some(_) => Ok(()),
    }
}

/// Push a diagnostic and fail.
fn fail<T>(cx: &mut RuleCx<'_>, d: Diagnostic) -> Result<T, ()> {
    cx.error(d);
    Err(())
}

/// The closest name by edit distance, for "did you mean" hints.
fn closest<'a>(name: &str, candidates: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    let mut best: Option<(usize, &str)> = None;
    for c in candidates {
        let d = crate::expr::edit_distance(name, c);
        if d <= 2.max(name.len() / 3) && best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, c));
        }
    }
    best.map(|(_, c)| c)
}

/// Where a restricted statement is valid, in words (for E4006 messages).
fn allowed_where(stmt: HookedStmt, family: Family) -> &'static str {
    match stmt {
        HookedStmt::Snat => "in a nat chain at the postrouting or input hook",
        HookedStmt::Masquerade => "in a nat chain at the postrouting hook",
        HookedStmt::Dnat | HookedStmt::Redirect => "in a nat chain at the prerouting or output hook",
        HookedStmt::Reject => match family {
            Family::Bridge => "at the prerouting or input hook",
            Family::Arp => "in ip, ip6, inet, bridge and netdev tables",
            _ => "at the prerouting, input, forward or output hook",
        },
        HookedStmt::Tproxy => "at the prerouting hook",
        HookedStmt::Fwd => "in netdev tables (ingress or egress hook)",
        HookedStmt::Dup => "in ip, ip6 and netdev tables",
        HookedStmt::Synproxy => "at the input or forward hook",
    }
}

/// Check a hook-restricted statement against the base chain it sits in.
/// Regular chains are checked by the chain post-pass through
/// [`Stmt::restriction`].
fn check_hook(cx: &mut RuleCx<'_>, stmt: HookedStmt, name: &str, span: Span) -> Result<(), ()> {
    let Some((ty, hook)) = cx.chain.base else { return Ok(()) };
    if ctc_proto::stmt_allowed(stmt, cx.family, ty, hook) {
        return Ok(());
    }
    let d = Diagnostic::error(
        "E4006",
        format!(
            "`{name}` is only valid {}; this chain is a {} chain at the {} hook",
            allowed_where(stmt, cx.family),
            ty.name(),
            hook.name()
        ),
    )
    .with_label(span, format!("`{name}` not allowed in chain `{}`", cx.chain.name))
    .with_help(hook_help(stmt, cx.family, ty, hook));
    fail(cx, d)
}

fn hook_help(stmt: HookedStmt, family: Family, ty: ChainType, hook: Hook) -> String {
    let fam = family.name();
    match stmt {
        HookedStmt::Snat | HookedStmt::Masquerade => {
            format!("put it in a chain declared `type nat hook postrouting priority srcnat` (table family {fam})")
        }
        HookedStmt::Dnat | HookedStmt::Redirect => {
            format!("put it in a chain declared `type nat hook prerouting priority dstnat` (table family {fam})")
        }
        HookedStmt::Reject if ty == ChainType::Nat => {
            "reject in a filter chain (`type filter hook input priority filter`)".into()
        }
        HookedStmt::Reject => format!("reject is not available at the {} hook of {fam} tables", hook.name()),
        HookedStmt::Tproxy => "put it in a chain declared `type filter hook prerouting priority mangle`".into(),
        HookedStmt::Synproxy => "put it in a chain declared `type filter hook input` or `hook forward`".into(),
        HookedStmt::Fwd => "`fwd` works in netdev tables only".into(),
        HookedStmt::Dup => "`dup` works in ip, ip6 and netdev tables".into(),
    }
}
