//! The text form of the IR (`ctc compile --emit ir`): one line per op,
//! registers as `rN`, constants in hex, and each rule headed by its source
//! location. Stable: tests snapshot it.

use crate::*;
use std::fmt::Write;

fn hex(bytes: &[u8]) -> String {
    let mut s = String::from("0x");
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

fn verdict(p: &Program, v: &Verdict) -> String {
    let chain = |c: &ChainId| p.chains.get(c.index()).map_or_else(|| format!("#{}", c.0), |c| c.name.clone());
    match v {
        Verdict::Accept => "accept".into(),
        Verdict::Drop => "drop".into(),
        Verdict::Continue => "continue".into(),
        Verdict::Return => "return".into(),
        Verdict::Jump(c) => format!("jump {}", chain(c)),
        Verdict::Goto(c) => format!("goto {}", chain(c)),
        Verdict::Queue { num, range, bypass, fanout } => {
            let mut s = format!("queue {num}");
            if *range > 1 {
                let _ = write!(s, "-{}", *num as u32 + *range as u32 - 1);
            }
            if *bypass {
                s.push_str(" bypass");
            }
            if *fanout {
                s.push_str(" fanout");
            }
            s
        }
    }
}

fn reg(r: Reg) -> String {
    format!("r{}", r.0)
}

/// One op as text.
pub fn op(p: &Program, o: &Op) -> String {
    match o {
        Op::Payload { dst, base, offset, len } => format!("{} = payload {}[{offset}:{len}]", reg(*dst), base.name()),
        Op::Meta { dst, key, len } => format!("{} = meta {key:?}/{len}", reg(*dst)),
        Op::Ct { dst, key, dir, len } => match dir {
            Some(d) => format!("{} = ct {d:?} {key:?}/{len}", reg(*dst)),
            None => format!("{} = ct {key:?}/{len}", reg(*dst)),
        },
        Op::Fib { dst, flags, result, len } => format!("{} = fib {flags:?} {result:?}/{len}", reg(*dst)),
        Op::Exthdr { dst, hdr, offset, len, present } => {
            if *present {
                format!("{} = exthdr {hdr} present", reg(*dst))
            } else {
                format!("{} = exthdr {hdr}[{offset}:{len}]", reg(*dst))
            }
        }
        Op::TcpOpt { dst, kind, offset, len, present } => {
            if *present {
                format!("{} = tcpopt {kind} present", reg(*dst))
            } else {
                format!("{} = tcpopt {kind}[{offset}:{len}]", reg(*dst))
            }
        }
        Op::Immediate { dst, data } => format!("{} = {}", reg(*dst), hex(data)),
        Op::Bitwise { dst, src, len: _, mask, xor } => {
            format!("{} = {} & {} ^ {}", reg(*dst), reg(*src), hex(mask), hex(xor))
        }
        Op::Shift { dst, src, len, left, amount } => {
            format!("{} = {}/{len} {} {amount}", reg(*dst), reg(*src), if *left { "<<" } else { ">>" })
        }
        Op::Hash { dst, src, symmetric, modulus, seed, offset } => match src {
            Some((s, l)) if !symmetric => {
                format!("{} = jhash {}/{l} mod {modulus} seed {seed:#x} offset {offset}", reg(*dst), reg(*s))
            }
            _ => format!("{} = symhash mod {modulus} offset {offset}", reg(*dst)),
        },
        Op::Numgen { dst, random, modulus, offset } => {
            format!("{} = numgen {} mod {modulus} offset {offset}", reg(*dst), if *random { "random" } else { "inc" })
        }
        Op::Cmp { src, op, data } => format!("cmp {} {} {}", reg(*src), op.symbol(), hex(data)),
        Op::Range { src, lo, hi, negate } => {
            format!("range {} {}in {}-{}", reg(*src), if *negate { "not " } else { "" }, hex(lo), hex(hi))
        }
        Op::Lookup { src, len, set, negate, dst } => {
            let name = p.sets.get(set.index()).map_or("?", |s| s.name.as_str());
            let mut s = format!("lookup {}/{len} {}in @{name}", reg(*src), if *negate { "not " } else { "" });
            if let Some(d) = dst {
                let _ = write!(s, " -> {}", reg(*d));
            }
            s
        }
        Op::VerdictMap { src, len, set } => {
            let name = p.sets.get(set.index()).map_or("?", |s| s.name.as_str());
            format!("vmap {}/{len} @{name}", reg(*src))
        }
        Op::Verdict(v) => verdict(p, v),
        Op::Counter(c) => format!("counter #{}", c.0),
        Op::Limit(l) => match p.limits.get(l.index()) {
            Some(d) => format!(
                "limit #{} rate {}{} {}/{}s burst {}",
                l.0,
                if d.over { "over " } else { "" },
                d.rate,
                if d.bytes { "bytes" } else { "packets" },
                d.per_secs,
                d.burst
            ),
            None => format!("limit #{}", l.0),
        },
        Op::Quota(q) => format!("quota #{}", q.0),
        Op::Log(l) => match p.logs.get(l.index()).and_then(|d| d.prefix.as_ref()) {
            Some(prefix) => format!("log #{} prefix {prefix:?}", l.0),
            None => format!("log #{}", l.0),
        },
        Op::Reject(r) => format!("reject {r:?}"),
        Op::MetaSet { key, src } => format!("meta {key:?} = {}", reg(*src)),
        Op::CtSet { key, src, len } => format!("ct {key:?} = {}/{len}", reg(*src)),
        Op::PayloadSet { base, offset, len, src, csum } => {
            format!("payload {}[{offset}:{len}] = {} csum {csum:?}", base.name(), reg(*src))
        }
        Op::Notrack => "notrack".into(),
        Op::CtHelper { name, l4proto } => format!("ct helper = {name:?} l4proto {l4proto}"),
        Op::CtTimeout(t) => match p.timeouts.get(t.index()) {
            Some(d) => {
                let list: Vec<String> = d.timeouts.iter().map(|(s, v)| format!("{s} {v}s")).collect();
                format!("ct timeout = {:?} l4proto {} [{}]", d.name, d.l4proto, list.join(", "))
            }
            None => format!("ct timeout #{}", t.0),
        },
        Op::CtExpect(e) => match p.expectations.get(e.index()) {
            Some(d) => format!(
                "ct expectation = {:?} l3num {} l4proto {} dport {} timeout {} size {}",
                d.name, d.l3num, d.l4proto, d.dport, d.timeout, d.size
            ),
            None => format!("ct expectation #{}", e.0),
        },
        Op::Nat(n) => {
            let mut s = n.kind.name().to_string();
            if let Some(a) = n.addr_min {
                let _ = write!(s, " addr {}", reg(a));
                if let Some(b) = n.addr_max {
                    let _ = write!(s, "-{}", reg(b));
                }
                let _ = write!(s, "/{}", n.addr_len);
            }
            if let Some(a) = n.port_min {
                let _ = write!(s, " port {}", reg(a));
                if let Some(b) = n.port_max {
                    let _ = write!(s, "-{}", reg(b));
                }
            }
            let f = n.flags;
            for (on, name) in [
                (f.random, "random"),
                (f.fully_random, "fully-random"),
                (f.persistent, "persistent"),
                (f.netmap, "netmap"),
            ] {
                if on {
                    let _ = write!(s, " {name}");
                }
            }
            s
        }
        Op::SetUpdate { set, src, len, delete, timeout_ms, limit } => {
            let name = p.sets.get(set.index()).map_or("?", |s| s.name.as_str());
            let mut s = format!("{} @{name} {}/{len}", if *delete { "delete" } else { "update" }, reg(*src));
            if let Some(t) = timeout_ms {
                let _ = write!(s, " timeout {t}ms");
            }
            if let Some(l) = limit {
                let _ = write!(s, " per-element limit #{}", l.0);
            }
            s
        }
    }
}

/// The whole program as text.
pub fn program(p: &Program) -> String {
    let mut out = String::new();
    for (i, s) in p.sets.iter().enumerate() {
        let table =
            p.tables.get(s.table.index()).map_or("?".to_string(), |t| format!("{} {}", t.family.name(), t.name));
        let _ = writeln!(
            out,
            "set #{i} @{} in {table}: key {} bytes{}{}{}, {} elements",
            s.name,
            s.key_len,
            if s.is_map { format!(", data {} bytes", s.data_len) } else { String::new() },
            if s.verdict_map { ", verdicts" } else { "" },
            if s.interval { ", interval" } else { "" },
            s.elements.len()
        );
    }
    for c in &p.chains {
        let table =
            p.tables.get(c.table.index()).map_or("?".to_string(), |t| format!("{} {}", t.family.name(), t.name));
        let _ = write!(out, "chain {table} {}", c.name);
        if let Some(b) = &c.base {
            let _ = write!(
                out,
                " ({} hook {} priority {} policy {})",
                b.ty.name(),
                b.hook.name(),
                b.priority,
                if b.policy_accept { "accept" } else { "drop" }
            );
        }
        out.push_str(" {\n");
        for (ri, r) in c.rules.iter().enumerate() {
            let _ = write!(out, "  rule {ri} @ {}:{}", r.loc.file, r.loc.line);
            if let Some(ctr) = r.counter {
                let _ = write!(out, " counter #{}", ctr.0);
            }
            out.push('\n');
            for o in &r.ops {
                let _ = writeln!(out, "    {}", op(p, o));
            }
        }
        out.push_str("}\n");
    }
    out
}
