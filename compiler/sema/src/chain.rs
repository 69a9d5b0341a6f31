//! Chain validity: chain types, hooks and priorities per family, policies,
//! devices; and the kernel's limits on the jump graph.

use crate::hir::{BaseChain, ChainType, Family, Hook, Policy};
use ctc_grammar::ast::{HookSpec, LitKind, Op, Term, TermKind};
use ctc_grammar::{Diagnostic, Span};

/// The kernel's jump stack: a chain may sit at most this many jumps below
/// its base chain (NFT_JUMP_STACK_SIZE; measured on the live kernel: the
/// 16th nested `jump` fails with EMLINK "Too many links").
pub const MAX_JUMP_DEPTH: usize = 15;

fn hooks_list(family: Family) -> String {
    let hooks: Vec<&str> = ctc_proto::family_hooks(family).iter().map(|h| h.name()).collect();
    hooks.join(", ")
}

/// Check a `type T hook H [device D] priority P` line and build the base
/// chain description (policy filled in by the caller).
pub fn check_hook_spec(family: Family, spec: &HookSpec, diags: &mut Vec<Diagnostic>) -> Option<BaseChain> {
    let mut ok = true;
    let ty = ChainType::from_name(&spec.chain_type.text);
    if ty.is_none() {
        diags.push(
            Diagnostic::error("E4001", format!("unknown chain type `{}`", spec.chain_type.text))
                .with_label(spec.chain_type.span, "not a chain type")
                .with_help("chain types are `filter`, `nat` and `route`"),
        );
        ok = false;
    }
    let hook = Hook::from_name(&spec.hook.text);
    match hook {
        None => {
            diags.push(
                Diagnostic::error("E4002", format!("unknown hook `{}`", spec.hook.text))
                    .with_label(spec.hook.span, "not a hook")
                    .with_help(format!("hooks of the {} family: {}", family.name(), hooks_list(family))),
            );
            ok = false;
        }
        Some(h) if !ctc_proto::family_hooks(family).contains(&h) => {
            diags.push(
                Diagnostic::error("E4003", format!("the {} family has no `{}` hook", family.name(), h.name()))
                    .with_label(spec.hook.span, format!("not a hook of the {} family", family.name()))
                    .with_help(format!("hooks of the {} family: {}", family.name(), hooks_list(family))),
            );
            ok = false;
        }
        _ => {}
    }
    let (Some(ty), Some(hook)) = (ty, hook) else { return None };
    if ok && !ctc_proto::chain_type_allowed(family, ty, hook) {
        let allowed: Vec<&str> = ctc_proto::family_hooks(family)
            .iter()
            .filter(|h| ctc_proto::chain_type_allowed(family, ty, **h))
            .map(|h| h.name())
            .collect();
        let help = if allowed.is_empty() {
            format!("the {} family has no {} chains", family.name(), ty.name())
        } else {
            format!("{} chains of the {} family hook at: {}", ty.name(), family.name(), allowed.join(", "))
        };
        diags.push(
            Diagnostic::error(
                "E4004",
                format!("a {} chain cannot hook at {} in the {} family", ty.name(), hook.name(), family.name()),
            )
            .with_label(spec.hook.span, "hook not allowed for this chain type")
            .with_secondary(spec.chain_type.span, "chain type")
            .with_help(help),
        );
        ok = false;
    }
    let needs_device = family == Family::Netdev || (family == Family::Inet && hook == Hook::Ingress);
    let mut devices = Vec::new();
    if let Some(d) = &spec.device {
        for t in d {
            collect_devices(t, &mut devices);
        }
        if devices.iter().any(|d| d.is_empty()) {
            diags.push(
                Diagnostic::error("E4009", "empty device name")
                    .with_label(term_span(d), "a device name cannot be empty"),
            );
            ok = false;
        }
    } else if needs_device {
        diags.push(
            Diagnostic::error("E4009", format!("missing `device` in this {} chain definition", hook.name()))
                .with_label(spec.span, "this base chain needs the device it attaches to")
                .with_help(format!("write `type {} hook {} device \"eth0\" priority 0;`", ty.name(), hook.name())),
        );
        ok = false;
    }
    let priority = match &spec.priority {
        None => {
            diags.push(
                Diagnostic::error("E4011", "base chain without priority")
                    .with_label(spec.span, "add `priority` to this hook specification")
                    .with_help(format!(
                        "e.g. `type {} hook {} priority {};`",
                        ty.name(),
                        hook.name(),
                        ctc_proto::priority_name(family, hook, 0).map_or("0", |(n, _)| n)
                    )),
            );
            ok = false;
            0
        }
        Some(terms) => match eval_priority(family, hook, terms) {
            Ok(p) => p,
            Err(d) => {
                diags.push(d);
                ok = false;
                0
            }
        },
    };
    ok.then_some(BaseChain { ty, hook, priority, policy: Policy::Accept, devices, span: spec.span })
}

fn term_span(terms: &[Term]) -> Span {
    match (terms.first(), terms.last()) {
        (Some(a), Some(b)) => a.span.to(b.span),
        _ => Span::default(),
    }
}

fn collect_devices(t: &Term, out: &mut Vec<String>) {
    match &t.kind {
        TermKind::Word(w) => out.push(w.clone()),
        TermKind::Lit(_, s) => out.push(s.clone()),
        TermKind::Set(s) => {
            for e in &s.elements {
                for t in &e.terms {
                    collect_devices(t, out);
                }
            }
        }
        _ => {}
    }
}

/// `0`, `-300`, `filter`, `filter + 10`, `dstnat - 5`.
fn eval_priority(family: Family, hook: Hook, terms: &[Term]) -> Result<i32, Diagnostic> {
    let whole = term_span(terms);
    let bad = |msg: String, span: Span| {
        Diagnostic::error("E4005", msg).with_label(span, "invalid priority").with_help(
            "a priority is a number (-300 … 300 typical) or a name like `filter`, optionally `+`/`-` a number",
        )
    };
    let mut i = 0;
    let mut sign = 1i64;
    if terms.first().is_some_and(|t| t.is_op(Op::Minus)) {
        sign = -1;
        i = 1;
    }
    let Some(first) = terms.get(i) else { return Err(bad("missing priority value".into(), whole)) };
    let mut value: i64 = match &first.kind {
        TermKind::Lit(LitKind::Number | LitKind::Hex, s) => {
            let n = crate::values::parse_number(s).and_then(|n| i64::try_from(n).ok());
            // A 32-bit signed priority: down to -2147483648 (measured: nft
            // 1.0.6 takes it).
            match n.map(|n| sign * n) {
                Some(v) if i32::try_from(v).is_ok() => v,
                _ => return Err(bad(format!("priority `{s}` is out of range"), first.span)),
            }
        }
        TermKind::Word(name) | TermKind::Lit(LitKind::Str, name) if sign == 1 => {
            match ctc_proto::priority_by_name(family, hook, name) {
                Some(v) => v as i64,
                None => {
                    let known =
                        if family == Family::Bridge { ctc_proto::BRIDGE_PRIORITIES } else { ctc_proto::STD_PRIORITIES };
                    let is_known = known.iter().any(|(n, _)| *n == name.as_str());
                    let msg = if is_known {
                        format!("'{name}' is invalid priority in this context")
                    } else {
                        format!("unknown priority name `{name}`")
                    };
                    let usable: Vec<&str> = known
                        .iter()
                        .filter(|(n, _)| ctc_proto::priority_by_name(family, hook, n).is_some())
                        .map(|(n, _)| *n)
                        .collect();
                    return Err(Diagnostic::error("E4005", msg).with_label(first.span, "invalid priority").with_help(
                        format!(
                            "names usable at the {} hook of the {} family: {}",
                            hook.name(),
                            family.name(),
                            usable.join(", ")
                        ),
                    ));
                }
            }
        }
        _ => return Err(bad("invalid priority expression".into(), first.span)),
    };
    i += 1;
    while i < terms.len() {
        let op = &terms[i];
        let sign = if op.is_op(Op::Plus) {
            1
        } else if op.is_op(Op::Minus) {
            -1
        } else {
            return Err(bad("invalid priority expression".into(), op.span));
        };
        let Some(n) = terms.get(i + 1) else { return Err(bad("missing number after the operator".into(), op.span)) };
        let k = match &n.kind {
            TermKind::Lit(LitKind::Number | LitKind::Hex, s) => crate::values::parse_number(s)
                .and_then(|n| i64::try_from(n).ok())
                .ok_or_else(|| bad(format!("`{s}` is out of range"), n.span))?,
            _ => return Err(bad("expected a number".into(), n.span)),
        };
        value += sign * k;
        i += 2;
    }
    i32::try_from(value).map_err(|_| bad("priority out of range".into(), whole))
}

/// `policy accept|drop` (or a variable already expanded to one).
pub fn check_policy(value: &Term) -> Result<Policy, Diagnostic> {
    let text = match &value.kind {
        TermKind::Word(w) => w.as_str(),
        TermKind::Lit(LitKind::Str, s) => s.as_str(),
        _ => "",
    };
    match text {
        "accept" => Ok(Policy::Accept),
        "drop" => Ok(Policy::Drop),
        _ => Err(Diagnostic::error("E4007", "invalid chain policy")
            .with_label(value.span, "a base chain policy is `accept` or `drop`")),
    }
}
