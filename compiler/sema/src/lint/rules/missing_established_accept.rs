use super::{CT_ESTABLISHED, CT_NEW, accepts, chain_of, ct_states, edges, has_state, vmap_accepted_states};
use crate::hir::{ChainType, Hook, Policy};
use crate::lint::LintCx;
use ctc_grammar::Diagnostic;

crate::declare_lint! {
    /// A drop-policy filter chain that accepts new connections but not their replies.
    ///
    /// ## What it does
    /// Reports a filter base chain at the input, forward or output hook whose
    /// policy is `drop`, that has rules accepting new connections (rules that
    /// accept without restricting `ct state`, or accept `ct state new`), and
    /// no rule accepting `ct state established` (directly, or in a
    /// `ct state vmap`).
    ///
    /// ## Why is this bad?
    /// Only the packets that open a connection are accepted: the replies and
    /// every later packet of the connection fall to the policy and are
    /// dropped (unless another rule happens to match them statelessly). The
    /// connection hangs after its first packet.
    ///
    /// ## Example
    /// ```nft
    /// table inet filter {
    ///     chain input {
    ///         type filter hook input priority filter; policy drop;
    ///         ct state new tcp dport 22 accept
    ///     }
    /// }
    /// ```
    ///
    /// ## Fix
    /// Accept established and related packets first:
    /// `ct state established,related accept`.
    pub struct MissingEstablishedAccept;
}

pub fn check(cx: &LintCx<'_>, out: &mut Vec<Diagnostic>) {
    for r in cx.anomalies() {
        let (t, c) = chain_of(cx, r);
        let Some(b) = &c.base else { continue };
        if b.ty != ChainType::Filter
            || b.policy != Policy::Drop
            || !matches!(b.hook, Hook::Input | Hook::Forward | Hook::Output)
            || !matches!(t.family, crate::hir::Family::Ip | crate::hir::Family::Ip6 | crate::hir::Family::Inet)
        {
            continue;
        }
        let mut established = false;
        let mut first_new = None;
        for (i, rule) in c.rules.iter().enumerate() {
            if has_state(&vmap_accepted_states(rule), CT_ESTABLISHED) {
                established = true;
            }
            if !accepts(rule) || r.models[i].is_empty() {
                continue;
            }
            match ct_states(r, &r.models[i]) {
                Some(s) => {
                    established |= has_state(&s, CT_ESTABLISHED);
                    if has_state(&s, CT_NEW) && first_new.is_none() {
                        first_new = Some(i);
                    }
                }
                None => {
                    if first_new.is_none() {
                        first_new = Some(i);
                    }
                }
            }
        }
        // An established accept in a chain this one jumps or goes to counts.
        let e = edges(t);
        let mut seen = vec![false; t.chains.len()];
        let mut work = e[r.chain].clone();
        while let Some(x) = work.pop() {
            if std::mem::replace(&mut seen[x], true) {
                continue;
            }
            let called = &t.chains[x];
            let report = cx.anomalies().iter().find(|q| q.table == r.table && q.chain == x);
            for (k, rule) in called.rules.iter().enumerate() {
                let states = report.and_then(|q| ct_states(q, &q.models[k]));
                if has_state(&vmap_accepted_states(rule), CT_ESTABLISHED)
                    || (accepts(rule) && states.is_some_and(|s| has_state(&s, CT_ESTABLISHED)))
                {
                    established = true;
                }
            }
            work.extend(e[x].iter().copied());
        }
        if established {
            continue;
        }
        let Some(i) = first_new else { continue };
        out.push(
            Diagnostic::warning(
                "W2001",
                format!("chain `{}` accepts new connections but never accepts their established packets", c.name),
            )
            .with_label(c.rules[i].span, "accepts the first packet of a connection")
            .with_secondary(b.span, "the replies fall to this drop policy")
            .with_help("add `ct state established,related accept` at the top of the chain"),
        );
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::rules::codes;
    use crate::lint::test_lint;

    fn run(hook: &str, policy: &str, rules: &str) -> Vec<&'static str> {
        let text = format!(
            "table inet t {{\n chain x {{\n  ct state established,related accept\n }}\n chain c {{\n  type filter hook {hook} priority 0; policy {policy};\n{rules}\n }}\n}}\n"
        );
        codes(&test_lint("missing-established-accept", &text))
    }

    #[test]
    fn fails() {
        assert_eq!(run("input", "drop", "ct state new tcp dport 22 accept"), ["W2001"]);
        assert_eq!(run("forward", "drop", "iifname \"lan0\" accept"), ["W2001"]);
        assert_eq!(run("input", "drop", "ct state related accept\ntcp dport 22 accept"), ["W2001"]);
    }

    #[test]
    fn passes() {
        assert!(run("input", "drop", "ct state established,related accept\ntcp dport 22 accept").is_empty());
        assert!(
            run("input", "drop", "ct state vmap { established : accept, invalid : drop }\ntcp dport 22 accept")
                .is_empty()
        );
        assert!(run("input", "accept", "tcp dport 22 accept").is_empty());
        assert!(run("input", "drop", "tcp dport 22 drop").is_empty());
        assert!(run("prerouting", "drop", "tcp dport 22 accept").is_empty());
        assert!(run("input", "drop", "jump x\ntcp dport 22 accept").is_empty());
    }
}
