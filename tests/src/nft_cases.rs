//! Cases of what `nft -f` loads and refuses, recorded in text files under
//! `tests/nft/` (`=== loaded: what` or `=== refused CODE: what`, then the
//! script), read by `tests/nft_agreement.rs`: `ctc check` must agree with
//! each recorded outcome (a refused script with errors of the code given,
//! and no others), and, where the machine allows (root, network
//! namespaces), the real nft must still give it.

/// One recorded case.
#[derive(Debug, Clone)]
pub struct Case {
    /// `true`: nft loaded the script; `false`: it refused it.
    pub loaded: bool,
    /// For a refused script: the code of ctc's errors about it.
    pub code: Option<String>,
    pub what: String,
    pub script: String,
}

/// The cases of a file's text (lines starting with `#` before the first
/// case are comments).
pub fn parse(text: &str) -> Vec<Case> {
    let mut cases: Vec<Case> = Vec::new();
    for line in text.lines() {
        if let Some(head) = line.strip_prefix("=== ") {
            let (outcome, what) = head.split_once(": ").unwrap_or_else(|| panic!("`=== OUTCOME: what`: {line}"));
            let (loaded, code) = match outcome.split_once(' ') {
                None if outcome == "loaded" => (true, None),
                Some(("refused", code)) if !code.is_empty() => (false, Some(code.to_string())),
                _ => panic!("outcome `loaded` or `refused CODE`: {line}"),
            };
            cases.push(Case { loaded, code, what: what.to_string(), script: String::new() });
        } else if let Some(case) = cases.last_mut() {
            case.script.push_str(line);
            case.script.push('\n');
        } else {
            assert!(line.is_empty() || line.starts_with('#'), "text before the first case: {line}");
        }
    }
    cases
}
