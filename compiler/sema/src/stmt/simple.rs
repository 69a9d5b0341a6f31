//! Stateful and logging statements with literal arguments: counter, limit,
//! quota, last, ct count, log, queue, synproxy, comment, `reset tcp option`.

use super::args::{self, describe, expect_uint, parse_bytes, split_numword, term_int};
use super::{check_hook, fail};
use crate::cursor::Cursor;
use crate::cx::RuleCx;
use crate::hir::{ExprKind, Limit, LimitUnit, Log, ObjectKind, Queue, QueueTarget, Quota, StmtKind};
use crate::values;
use ctc_grammar::ast::{LitKind, Op, TermKind};
use ctc_grammar::{Diagnostic, Span};
use ctc_proto::{HookedStmt, Ty};

/// `counter [packets N] [bytes N]`, or `counter name NAME|MAP`.
pub(super) fn parse_counter(cx: &mut RuleCx<'_>, cur: &mut Cursor<'_>) -> Result<StmtKind, ()> {
    cur.next();
    if cur.peek_word() == Some("name") {
        return super::sets::parse_objref(cx, cur, ObjectKind::Counter);
    }
    let (mut packets, mut bytes) = (0, 0);
    loop {
        match cur.peek_word() {
            Some("packets") => {
                cur.next();
                packets = expect_uint(cx, cur, "counter packets", u64::MAX)?.0;
            }
            Some("bytes") => {
                cur.next();
                bytes = expect_uint(cx, cur, "counter bytes", u64::MAX)?.0;
            }
            _ => break,
        }
    }
    Ok(StmtKind::Counter { packets, bytes })
}

/// `limit rate [over|until] RATE [burst N packets|bytes]`, or `limit name ...`.
///
/// Rates are `N/UNIT` in packets, or bytes written `N kbytes/second`,
/// `N kbytes / second`, `Nkbytes/second` (nft's `limit_rate_bytes`).
pub(super) fn parse_limit(cx: &mut RuleCx<'_>, cur: &mut Cursor<'_>) -> Result<StmtKind, ()> {
    let kw = cur.span();
    cur.next();
    if cur.peek_word() == Some("name") {
        return super::sets::parse_objref(cx, cur, ObjectKind::Limit);
    }
    if !cur.eat_word("rate") {
        return fail(
            cx,
            Diagnostic::error("E2014", "`limit` needs a rate")
                .with_label(cur.span(), "expected `rate`")
                .with_help("write e.g. `limit rate 10/second` or `limit name \"mylimit\"`"),
        );
    }
    let over = match cur.peek_word() {
        Some("over") => {
            cur.next();
            true
        }
        Some("until") => {
            cur.next();
            false
        }
        _ => false,
    };
    let Some(t) = cur.peek() else {
        return fail(
            cx,
            Diagnostic::error("E2014", "`limit rate` needs a rate").with_label(cur.span(), "expected e.g. `10/second`"),
        );
    };
    let rate_start = t.span;
    // The amount: a number, or a number glued to its byte unit.
    let (n, mut byte_unit, n_span) = match &t.kind {
        TermKind::Lit(LitKind::NumWord, s) => match split_numword(s) {
            Some((n, u)) => (n, Some((u.to_string(), t.span)), t.span),
            None => return bad_rate(cx, t.span),
        },
        _ => match term_int(t).and_then(|v| u64::try_from(v).ok()) {
            Some(n) => (n, None, t.span),
            None => {
                return fail(
                    cx,
                    Diagnostic::error("E2012", format!("invalid limit rate {}", describe(t)))
                        .with_label(t.span, "expected e.g. `10/second` or `1 mbytes/second`"),
                );
            }
        },
    };
    cur.next();
    // `N kbytes/second` (one word), `N kbytes / second`, or `N / second`.
    let mut per: Option<(String, ctc_grammar::Span)> = None;
    if byte_unit.is_none()
        && let Some(w) = cur.peek_word()
    {
        let span = cur.span();
        if let Some((u, tu)) = w.split_once('/') {
            byte_unit = Some((u.to_string(), span));
            if !tu.is_empty() {
                per = Some((tu.to_string(), span));
            }
        } else {
            byte_unit = Some((w.to_string(), span));
        }
        cur.next();
    }
    if per.is_none() {
        if !cur.eat_op(Op::Slash) {
            return fail(
                cx,
                Diagnostic::error("E2012", "limit rate needs a time unit")
                    .with_label(cur.span(), "expected `/second`, `/minute`, `/hour`, `/day` or `/week`"),
            );
        }
        match cur.peek_word() {
            Some(w) => {
                per = Some((w.to_string(), cur.span()));
                cur.next();
            }
            None => {
                return fail(
                    cx,
                    Diagnostic::error("E2014", "limit rate needs a time unit")
                        .with_label(cur.span(), "expected second, minute, hour, day or week"),
                );
            }
        }
    }
    let Some((per_word, per_span)) = per else { return Err(()) };
    let Some(per_secs) = values::rate_unit(&per_word) else {
        return fail(
            cx,
            Diagnostic::error("E2012", format!("invalid time unit `{per_word}`"))
                .with_label(per_span, "expected second, minute, hour, day or week"),
        );
    };
    let (unit, rate) = match &byte_unit {
        None => (LimitUnit::Packets, n),
        Some((u, us)) => {
            let Some(m) = args::data_unit(u) else {
                let help = if u == "gbytes" {
                    "nft has no gbytes unit in limit rates; use mbytes (1 gbytes = 1024 mbytes)".to_string()
                } else if u == "packets" {
                    "a packet rate is written `N/second`".to_string()
                } else {
                    "rates are `N/second` (packets) or `N bytes|kbytes|mbytes/second`".to_string()
                };
                return fail(
                    cx,
                    Diagnostic::error(
                        "E2012",
                        format!("invalid limit rate unit `{u}`, expecting bytes, kbytes or mbytes"),
                    )
                    .with_label(*us, "unknown unit")
                    .with_help(help),
                );
            };
            let Some(r) = n.checked_mul(m) else {
                return fail(
                    cx,
                    Diagnostic::error("E2002", "limit rate too large").with_label(n_span.to(*us), "overflows 64 bits"),
                );
            };
            (LimitUnit::Bytes, r)
        }
    };
    let _ = rate_start;
    let mut burst = if unit == LimitUnit::Packets { 5 } else { 0 };
    if cur.eat_word("burst") {
        let burst_start = cur.span();
        match unit {
            LimitUnit::Packets => {
                let (b, bspan) = expect_uint(cx, cur, "limit burst", u64::from(u32::MAX))?;
                match cur.peek_word() {
                    Some("packets") => {
                        cur.next();
                    }
                    Some(u) if args::data_unit(u).is_some() => {
                        return fail(
                            cx,
                            Diagnostic::error("E2012", "a packet rate takes its burst in packets")
                                .with_label(bspan.to(cur.span()), "burst in bytes")
                                .with_help(format!("write `burst {b} packets`, or give the rate in bytes")),
                        );
                    }
                    _ => {
                        return fail(
                            cx,
                            Diagnostic::error("E2014", "`burst` needs the unit `packets`")
                                .with_label(cur.span(), "expected `packets`"),
                        );
                    }
                }
                if b == 0 {
                    return fail(
                        cx,
                        Diagnostic::error("E2002", "packet limit burst must be > 0").with_label(bspan, "zero burst"),
                    );
                }
                burst = b;
            }
            LimitUnit::Bytes => {
                if cur.peek_word_at(1) == Some("packets") && cur.peek().is_some_and(|t| term_int(t).is_some()) {
                    let span = burst_start.to(cur.peek_at(1).map_or(burst_start, |t| t.span));
                    return fail(
                        cx,
                        Diagnostic::error("E2012", "a byte rate takes its burst in bytes")
                            .with_label(span, "burst in packets")
                            .with_help("write the burst as `N bytes`, `N kbytes` or `N mbytes`"),
                    );
                }
                burst = parse_bytes(cx, cur, "limit burst")?.0;
            }
        }
    }
    let _ = kw;
    Ok(StmtKind::Limit(Limit { rate, per_secs, unit, burst, over }))
}

fn bad_rate(cx: &mut RuleCx<'_>, span: ctc_grammar::Span) -> Result<StmtKind, ()> {
    fail(
        cx,
        Diagnostic::error("E2006", "malformed limit rate")
            .with_label(span, "expected e.g. `10/second` or `1 mbytes/second`"),
    )
}

/// `quota [over|until] N UNIT [used N UNIT]`, or `quota name ...`.
pub(super) fn parse_quota(cx: &mut RuleCx<'_>, cur: &mut Cursor<'_>) -> Result<StmtKind, ()> {
    cur.next();
    if cur.peek_word() == Some("name") {
        return super::sets::parse_objref(cx, cur, ObjectKind::Quota);
    }
    let over = match cur.peek_word() {
        Some("over") => {
            cur.next();
            true
        }
        Some("until") => {
            cur.next();
            false
        }
        _ => false,
    };
    let (bytes, _) = parse_bytes(cx, cur, "quota")?;
    let mut used = 0;
    if cur.eat_word("used") {
        used = parse_bytes(cx, cur, "quota used")?.0;
    }
    Ok(StmtKind::Quota(Quota { bytes, used, over }))
}

/// `last [used never | used TIME]`.
pub(super) fn parse_last(cx: &mut RuleCx<'_>, cur: &mut Cursor<'_>) -> Result<StmtKind, ()> {
    cur.next();
    let mut used_ms = None;
    if cur.eat_word("used") && !cur.eat_word("never") {
        used_ms = Some(args::parse_time(cx, cur, "last used")?.0);
    }
    Ok(StmtKind::Last { used_ms })
}

/// `ct count [over] N`.
pub(super) fn parse_ct_count(cx: &mut RuleCx<'_>, cur: &mut Cursor<'_>) -> Result<StmtKind, ()> {
    cur.next();
    cur.next();
    let over = cur.eat_word("over");
    let (count, _) = expect_uint(cx, cur, "ct count", u64::from(u32::MAX))?;
    Ok(StmtKind::ConnLimit { count: count as u32, over })
}

/// NF_LOG_* flags (include/uapi/linux/netfilter/nf_log.h).
const NF_LOG_TCPSEQ: u32 = 0x01;
const NF_LOG_TCPOPT: u32 = 0x02;
const NF_LOG_IPOPT: u32 = 0x04;
const NF_LOG_UID: u32 = 0x08;
const NF_LOG_MACDECODE: u32 = 0x20;
const NF_LOG_MASK: u32 = 0x2f;
/// NF_LOG_PREFIXLEN: the prefix and its terminating NUL.
const NF_LOG_PREFIXLEN: usize = 128;

/// `log [prefix S] [level L] [group N] [snaplen N] [queue-threshold N]
/// [flags F]...`, checked like nft's `stmt_evaluate_log` and the kernel's
/// `nft_log_init`.
pub(super) fn parse_log(cx: &mut RuleCx<'_>, cur: &mut Cursor<'_>) -> Result<StmtKind, ()> {
    let start = cur.pos();
    cur.next();
    let mut log = Log::default();
    let mut level_span = None;
    let mut group_span = None;
    let mut flags_span = None;
    let mut other_span = None;
    while let Some(w) = cur.peek_word() {
        let arg_span = cur.span();
        match w {
            "prefix" => {
                cur.next();
                let Some(t) = cur.peek() else {
                    return fail(
                        cx,
                        Diagnostic::error("E2014", "`log prefix` needs a string")
                            .with_label(cur.span(), "expected \"...\""),
                    );
                };
                let p = match &t.kind {
                    TermKind::Lit(LitKind::Str, s) | TermKind::Word(s) => s.clone(),
                    TermKind::Lit(_, s) => s.clone(),
                    _ => {
                        return fail(
                            cx,
                            Diagnostic::error("E2012", format!("`log prefix` takes a string, not {}", describe(t)))
                                .with_label(t.span, "expected a string"),
                        );
                    }
                };
                if p.len() >= NF_LOG_PREFIXLEN {
                    return fail(
                        cx,
                        Diagnostic::error("E2002", "log prefix is too long")
                            .with_label(t.span, format!("{} bytes, at most {}", p.len(), NF_LOG_PREFIXLEN - 1)),
                    );
                }
                cur.next();
                log.prefix = Some(p);
                other_span.get_or_insert(arg_span);
            }
            "level" => {
                cur.next();
                let Some(t) = cur.peek() else {
                    return fail(
                        cx,
                        Diagnostic::error("E2014", "`log level` needs a level")
                            .with_label(cur.span(), "expected a level"),
                    );
                };
                let name = match &t.kind {
                    TermKind::Word(s) | TermKind::Lit(LitKind::Str, s) => s.as_str(),
                    _ => "",
                };
                let Some(l) = Ty::Level.symbol(name) else {
                    return fail(
                        cx,
                        Diagnostic::error("E2012", format!("invalid log level {}", describe(t)))
                            .with_label(t.span, "unknown level")
                            .with_help("levels: emerg, alert, crit, err, warn, notice, info, debug, audit"),
                    );
                };
                let span = t.span;
                cur.next();
                log.level = Some(l as u32);
                level_span = Some(arg_span.to(span));
            }
            "group" => {
                cur.next();
                log.group = Some(expect_uint(cx, cur, "log group", u64::from(u16::MAX))?.0 as u16);
                group_span.get_or_insert(arg_span.to(cur.prev_span()));
            }
            "snaplen" => {
                cur.next();
                log.snaplen = Some(expect_uint(cx, cur, "log snaplen", u64::from(u32::MAX))?.0 as u32);
                group_span.get_or_insert(arg_span.to(cur.prev_span()));
            }
            "queue-threshold" => {
                cur.next();
                log.queue_threshold = Some(expect_uint(cx, cur, "log queue-threshold", u64::from(u16::MAX))?.0 as u16);
                group_span.get_or_insert(arg_span.to(cur.prev_span()));
            }
            "flags" => {
                cur.next();
                log.flags |= parse_log_flags(cx, cur)?;
                flags_span.get_or_insert(arg_span.to(cur.prev_span()));
            }
            _ => break,
        }
    }
    let whole = cur.span_from(start);
    if let Some(gs) = group_span {
        if let Some(ls) = level_span {
            return fail(
                cx,
                Diagnostic::error("E2012", "log level and group are mutually exclusive")
                    .with_label(ls, "syslog level")
                    .with_secondary(gs, "netlink (nflog) group")
                    .with_help("`group` sends packets to userspace (nflog), which has no level; drop one of them"),
            );
        }
        if let Some(fs) = flags_span {
            return fail(
                cx,
                Diagnostic::error("E2012", "log flags and group are mutually exclusive")
                    .with_label(fs, "kernel log flags")
                    .with_secondary(gs, "netlink (nflog) group")
                    .with_help("flags only apply to the kernel log; the nflog daemon receives the whole packet"),
            );
        }
    }
    if log.level == Some(8) && (group_span.is_some() || flags_span.is_some() || other_span.is_some()) {
        let span = group_span.or(flags_span).or(other_span).unwrap_or(whole);
        return fail(
            cx,
            Diagnostic::error("E2012", "log level audit doesn't support any further options")
                .with_label(span, "not allowed with `level audit`")
                .with_secondary(level_span.unwrap_or(whole), "audit logging"),
        );
    }
    Ok(StmtKind::Log(log))
}

/// `tcp sequence[,options]`, `ip options`, `skuid`, `ether`, `all`.
fn parse_log_flags(cx: &mut RuleCx<'_>, cur: &mut Cursor<'_>) -> Result<u32, ()> {
    let Some(w) = cur.peek_word() else {
        return fail(
            cx,
            Diagnostic::error("E2014", "`log flags` needs a flag")
                .with_label(cur.span(), "expected tcp, ip, skuid, ether or all"),
        );
    };
    let span = cur.span();
    match w {
        "skuid" => {
            cur.next();
            Ok(NF_LOG_UID)
        }
        "ether" => {
            cur.next();
            Ok(NF_LOG_MACDECODE)
        }
        "all" => {
            cur.next();
            Ok(NF_LOG_MASK)
        }
        "ip" => {
            cur.next();
            if cur.eat_word("options") {
                Ok(NF_LOG_IPOPT)
            } else {
                fail(cx, Diagnostic::error("E2012", "invalid log flag").with_label(cur.span(), "expected `ip options`"))
            }
        }
        "tcp" => {
            cur.next();
            let mut f = 0;
            loop {
                match cur.peek_word() {
                    Some("sequence") => f |= NF_LOG_TCPSEQ,
                    Some("options") => f |= NF_LOG_TCPOPT,
                    _ => {
                        return fail(
                            cx,
                            Diagnostic::error("E2012", "invalid tcp log flag")
                                .with_label(cur.span(), "expected `sequence` or `options`"),
                        );
                    }
                }
                cur.next();
                if !(cur.peek_op() == Some(Op::Comma) && matches!(cur.peek_word_at(1), Some("sequence" | "options"))) {
                    break;
                }
                cur.next();
            }
            Ok(f)
        }
        _ => fail(
            cx,
            Diagnostic::error("E2012", format!("invalid log flag `{w}`"))
                .with_label(span, "unknown flag")
                .with_help("flags: tcp sequence,options | ip options | skuid | ether | all"),
        ),
    }
}

/// NFT_QUEUE_FLAG_*.
struct QueueFlags {
    bypass: bool,
    fanout: bool,
}

fn parse_queue_flags(cx: &mut RuleCx<'_>, cur: &mut Cursor<'_>, f: &mut QueueFlags) -> Result<(), ()> {
    loop {
        match cur.peek_word() {
            Some("bypass") => f.bypass = true,
            Some("fanout") => f.fanout = true,
            _ => {
                return fail(
                    cx,
                    Diagnostic::error(
                        "E2012",
                        format!("invalid queue flag {}", cur.peek().map_or("".into(), describe)),
                    )
                    .with_label(cur.span(), "expected `bypass` or `fanout`"),
                );
            }
        }
        cur.next();
        if cur.peek_op() == Some(Op::Comma) && matches!(cur.peek_word_at(1), Some("bypass" | "fanout")) {
            cur.next();
        } else {
            return Ok(());
        }
    }
}

/// `queue num N[-M]` (a number or range only).
fn parse_queue_num(cx: &mut RuleCx<'_>, cur: &mut Cursor<'_>, kw: &str) -> Result<(u16, u16, ctc_grammar::Span), ()> {
    let first = cur.span();
    if cur.peek().is_some_and(|t| term_int(t).is_none()) {
        let t = cur.peek().map_or("".into(), describe);
        return fail(
            cx,
            Diagnostic::error("E2012", format!("`queue {kw}` takes a queue number or range, not {t}"))
                .with_label(first, "expected a number such as `2` or `2-3`")
                .with_help("use `queue to EXPR` to compute the queue number from the packet"),
        );
    }
    let (lo, _) = expect_uint(cx, cur, "queue num", 65535)?;
    let mut hi = lo;
    if cur.peek_op() == Some(Op::Minus) {
        cur.next();
        hi = expect_uint(cx, cur, "queue num", 65535)?.0;
        if hi < lo {
            return fail(
                cx,
                Diagnostic::error("E2005", "queue range has its lower bound above its upper bound")
                    .with_label(first.to(cur.prev_span()), "empty range"),
            );
        }
    }
    Ok((lo as u16, hi as u16, first.to(cur.prev_span())))
}

/// `queue [num N[-M]] [bypass] [fanout]`, `queue [flags F,...] to EXPR`,
/// `queue flags F num N`.
pub(super) fn parse_queue(cx: &mut RuleCx<'_>, cur: &mut Cursor<'_>) -> Result<StmtKind, ()> {
    cur.next();
    let mut f = QueueFlags { bypass: false, fanout: false };
    let mut target = QueueTarget::Range(0, 0);
    let mut range_given = false;
    let mut target_span = None;
    if cur.eat_word("flags") {
        parse_queue_flags(cx, cur, &mut f)?;
        if cur.eat_word("num") {
            let (lo, hi, sp) = parse_queue_num(cx, cur, "num")?;
            target = QueueTarget::Range(lo, hi);
            range_given = lo != hi;
            target_span = Some(sp);
        } else if !cur.eat_word("to") {
            return fail(
                cx,
                Diagnostic::error("E2014", "`queue flags` must be followed by `to` or `num`")
                    .with_label(cur.span(), "expected `to EXPR`"),
            );
        } else {
            (target, range_given, target_span) = parse_queue_to(cx, cur)?;
        }
    } else if cur.eat_word("to") {
        (target, range_given, target_span) = parse_queue_to(cx, cur)?;
    } else {
        // nft's compat form: `num` and bare flags in any order.
        loop {
            match cur.peek_word() {
                Some("num") => {
                    cur.next();
                    let (lo, hi, sp) = parse_queue_num(cx, cur, "num")?;
                    target = QueueTarget::Range(lo, hi);
                    range_given = lo != hi;
                    target_span = Some(sp);
                }
                Some("bypass" | "fanout") => parse_queue_flags(cx, cur, &mut f)?,
                _ => break,
            }
        }
    }
    if f.fanout && !range_given {
        let span = target_span.unwrap_or(cur.prev_span());
        return fail(
            cx,
            Diagnostic::error("E2012", "fanout requires a range to be specified")
                .with_label(span, "a single queue")
                .with_help("fanout spreads packets over a queue range such as `num 0-3`"),
        );
    }
    Ok(StmtKind::Queue(Queue { target, bypass: f.bypass, fanout: f.fanout }))
}

/// The target after `queue [flags ...] to`: a number, a range, or an
/// expression whose values fit 16 bits.
fn parse_queue_to(
    cx: &mut RuleCx<'_>,
    cur: &mut Cursor<'_>,
) -> Result<(QueueTarget, bool, Option<ctc_grammar::Span>), ()> {
    if cur.peek().is_some_and(|t| term_int(t).is_some()) && !args::is_continuation(cur.peek_at(1)) {
        let (lo, hi, sp) = parse_queue_num(cx, cur, "to")?;
        return Ok((QueueTarget::Range(lo, hi), lo != hi, Some(sp)));
    }
    let e = args::parse_arg(cx, cur, &args::kt(Ty::Integer16), "the queue number")?;
    let max = match &e.kind {
        ExprKind::Hash { modulus, offset, .. } | ExprKind::Numgen { modulus, offset, .. } => {
            Some(u64::from(*modulus).saturating_sub(1) + u64::from(*offset))
        }
        _ => None,
    };
    if let Some(max) = max
        && max > 65535
    {
        return fail(
            cx,
            Diagnostic::error("E2002", "queue expression max value exceeds 65535")
                .with_label(e.span, format!("yields values up to {max}"))
                .with_help("queue numbers are 16 bits: lower the modulus or the offset"),
        );
    }
    let span = e.span;
    Ok((QueueTarget::Expr(e), false, Some(span)))
}

/// `synproxy [mss N] [wscale N] [timestamp] [sack-perm]`, or `synproxy name ...`.
pub(super) fn parse_synproxy(cx: &mut RuleCx<'_>, cur: &mut Cursor<'_>) -> Result<StmtKind, ()> {
    let kw = cur.span();
    cur.next();
    check_hook(cx, HookedStmt::Synproxy, "synproxy", kw)?;
    if cur.peek_word() == Some("name") {
        return super::sets::parse_objref(cx, cur, ObjectKind::Synproxy);
    }
    let (mut mss, mut wscale, mut timestamp, mut sack_perm) = (None, None, false, false);
    loop {
        match cur.peek_word() {
            Some("mss") => {
                cur.next();
                mss = Some(expect_uint(cx, cur, "synproxy mss", u64::from(u16::MAX))?.0 as u16);
            }
            Some("wscale") => {
                cur.next();
                // TCP_MAX_WSCALE (RFC 7323 section 2.3).
                wscale = Some(expect_uint(cx, cur, "synproxy wscale", 14)?.0 as u8);
            }
            Some("timestamp") => {
                cur.next();
                timestamp = true;
            }
            Some("sack-perm") => {
                cur.next();
                sack_perm = true;
            }
            _ => break,
        }
    }
    Ok(StmtKind::Synproxy { mss, wscale, timestamp, sack_perm })
}

/// NFTNL_UDATA_COMMENT_MAXLEN.
const COMMENT_MAXLEN: usize = 128;

/// E2002 for a comment (of a rule, a table, a chain or a set) longer than
/// nft takes: "comment too long, 128 characters maximum allowed".
pub(crate) fn long_comment(text: &str, span: Span) -> Option<Diagnostic> {
    (text.len() > COMMENT_MAXLEN).then(|| {
        Diagnostic::error("E2002", format!("comment too long, {COMMENT_MAXLEN} characters maximum allowed"))
            .with_label(span, format!("{} characters", text.len()))
    })
}

/// The rule's `comment "..."`.
pub(super) fn parse_comment(cx: &mut RuleCx<'_>, cur: &mut Cursor<'_>) -> Result<StmtKind, ()> {
    cur.next();
    let Some(t) = cur.peek() else {
        return fail(
            cx,
            Diagnostic::error("E2014", "`comment` needs a string").with_label(cur.span(), "expected \"...\""),
        );
    };
    let text = match &t.kind {
        TermKind::Lit(LitKind::Str, s) | TermKind::Word(s) => s.clone(),
        _ => {
            return fail(
                cx,
                Diagnostic::error("E2012", format!("`comment` takes a string, not {}", describe(t)))
                    .with_label(t.span, "expected a quoted string"),
            );
        }
    };
    if let Some(d) = long_comment(&text, t.span) {
        return fail(cx, d);
    }
    cur.next();
    Ok(StmtKind::Comment(text))
}

/// `reset tcp option NAME`: strip a TCP option (nft's optstrip).
pub(super) fn parse_optstrip(cx: &mut RuleCx<'_>, cur: &mut Cursor<'_>) -> Result<StmtKind, ()> {
    cur.next();
    cur.next();
    if !cur.eat_word("option") {
        return fail(
            cx,
            Diagnostic::error("E2014", "expected `reset tcp option NAME`").with_label(cur.span(), "expected `option`"),
        );
    }
    let Some(t) = cur.peek() else {
        return fail(
            cx,
            Diagnostic::error("E2014", "`reset tcp option` needs an option name")
                .with_label(cur.span(), "expected e.g. `sack-perm`"),
        );
    };
    let name = match &t.kind {
        TermKind::Word(w) => w.clone(),
        _ => t.word().unwrap_or_default().to_string(),
    };
    let Some(opt) = ctc_proto::tcp_option(&name) else {
        return fail(
            cx,
            Diagnostic::error("E2010", format!("unknown tcp option {}", describe(t)))
                .with_label(t.span, "unknown option"),
        );
    };
    cur.next();
    if let Some((l4, l4span)) = cx.proto.l4
        && l4 != 6
        && l4 != crate::expr::L4_SEVERAL
    {
        return fail(
            cx,
            Diagnostic::error("E3001", "`reset tcp option` needs tcp, but the rule matches another transport protocol")
                .with_label(cur.prev_span(), "tcp option")
                .with_secondary(l4span, "transport protocol established here"),
        );
    }
    Ok(StmtKind::OptStrip { option: opt.name })
}
