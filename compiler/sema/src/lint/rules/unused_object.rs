use crate::hir::{ExprKind, MapData, StmtKind, Value};
use crate::lint::LintCx;
use ctc_grammar::Diagnostic;

crate::declare_lint! {
    /// A named stateful object (counter, quota, limit, ct helper, ...) nothing uses.
    ///
    /// ## What it does
    /// Reports a named object of a table — `counter`, `quota`, `limit`,
    /// `ct helper`, `ct timeout`, `ct expectation`, `synproxy`, `secmark`,
    /// `flowtable` — that no rule references (by name or through an object
    /// map).
    ///
    /// ## Why is this bad?
    /// An unused counter stays at zero and misleads whoever reads it; an
    /// unused `ct helper` means the helper is never assigned, so the protocol
    /// it was declared for (FTP, SIP...) does not work through the firewall.
    ///
    /// ## Example
    /// ```nft
    /// table inet filter {
    ///     counter ssh_hits {
    ///     }
    ///     chain input {
    ///         type filter hook input priority filter; policy accept;
    ///         tcp dport 22 counter accept
    ///     }
    /// }
    /// ```
    ///
    /// ## Fix
    /// Reference it (`tcp dport 22 counter name "ssh_hits" accept`, `ct helper
    /// set "ftp-standard"`) or delete it.
    pub struct UnusedObject;
}

pub fn check(cx: &LintCx<'_>, out: &mut Vec<Diagnostic>) {
    for t in &cx.program.tables {
        // Names in object maps (`: counter` maps) and flowtables in rules.
        let mut named: Vec<&str> = Vec::new();
        for s in &t.sets {
            if let Some(MapData::Object(_)) = &s.data {
                for e in &s.elements {
                    if let Some(ExprKind::Value(Value::Str(n))) = e.data.as_ref().map(|d| &d.kind) {
                        named.push(n);
                    }
                }
            }
        }
        for c in &t.chains {
            for r in &c.rules {
                for s in &r.stmts {
                    if let StmtKind::FlowOffload { flowtable } = &s.kind {
                        named.push(flowtable);
                    }
                }
            }
        }
        for o in &t.objects {
            let used = named.contains(&o.name.as_str())
                || cx
                    .usage
                    .objects
                    .iter()
                    .any(|(f, tn, k, n)| *f == t.family && *tn == t.name && *k == o.kind && *n == o.name);
            if used {
                continue;
            }
            out.push(
                Diagnostic::warning("W3004", format!("{} `{}` is never used", o.kind.as_str(), o.name))
                    .with_label(o.span, "no rule refers to this object")
                    .with_help("reference it from a rule or delete it"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::rules::codes;
    use crate::lint::test_lint;

    fn run(body: &str) -> Vec<&'static str> {
        codes(&test_lint("unused-object", &format!("table inet t {{\n{body}\n}}\n")))
    }

    #[test]
    fn fails() {
        assert_eq!(run("counter c1 { }\nchain c { tcp dport 22 counter accept; }"), ["W3004"]);
        assert_eq!(run("ct helper h { type \"ftp\" protocol tcp; }\nchain c { tcp dport 21 accept; }"), ["W3004"]);
    }

    #[test]
    fn passes() {
        assert!(run("counter c1 { }\nchain c { tcp dport 22 counter name \"c1\" accept; }").is_empty());
        assert!(run("ct helper h { type \"ftp\" protocol tcp; }\nchain c { type filter hook forward priority 0; tcp dport 21 ct helper set \"h\"; }").is_empty());
        assert!(run("counter c1 { }\nmap m { type ipv4_addr : counter; elements = { 1.2.3.4 : \"c1\" }; }\nchain c { counter name ip saddr map @m; }").is_empty());
    }
}
