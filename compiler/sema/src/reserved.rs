//! Names nft cannot read: where its grammar expects a name (a table,
//! chain, set, map, flowtable or object in its declaration or a command, a
//! `jump` or `goto` target, a `define`), nft takes only a plain word that
//! its scanner does not read as a keyword there. A keyword (`chain accept`,
//! `table ip meta`), a number (`chain 123`) or a quoted string (`chain
//! "web"`) is a syntax error ("unexpected accept, expecting string").
//!
//! [`KEYWORDS`] was measured with nft 1.0.6: every word of its manual page,
//! of ctc's grammar, of the nftables rule tests in the corpus and of the
//! unconditional keywords of a later nft's scanner (2448 words) tried as a
//! chain, a table and a set name (`nft -c -f` in a network namespace); the
//! same 153 were refused in all three places and the rest taken in all
//! three. Words the scanner reads as keywords only after the word that
//! opens their expression (`dport` after `tcp`, `state` after `ct`, hook
//! and type names) are names elsewhere. The later scanner reads all 153 as
//! keywords too (and a few more: `vxlan`, `last`, `tunnel`... which 1.0.6
//! takes as names).
//! `tests/nft_agreement.rs` checks the list against the installed nft.

use ctc_grammar::{Diagnostic, Span};

/// The words nft 1.0.6 reads as keywords where it expects a name
/// (sorted).
pub const KEYWORDS: &[&str] = &[
    "accept",
    "add",
    "ah",
    "all",
    "and",
    "arp",
    "auto-merge",
    "bridge",
    "cgroup",
    "chain",
    "comment",
    "comp",
    "constant",
    "continue",
    "counter",
    "cpu",
    "create",
    "ct",
    "day",
    "dccp",
    "define",
    "delete",
    "describe",
    "device",
    "devices",
    "dnat",
    "drop",
    "dst",
    "dup",
    "dynamic",
    "ecn",
    "element",
    "elements",
    "eq",
    "esp",
    "ether",
    "exists",
    "expires",
    "export",
    "exthdr",
    "fib",
    "flags",
    "flow",
    "flowtable",
    "flush",
    "frag",
    "fwd",
    "gc-interval",
    "ge",
    "get",
    "goto",
    "gt",
    "handle",
    "hbh",
    "hook",
    "hour",
    "ibriport",
    "ibrname",
    "icmp",
    "icmpv6",
    "igmp",
    "iif",
    "iifgroup",
    "iifname",
    "iiftype",
    "import",
    "include",
    "index",
    "inet",
    "insert",
    "interval",
    "ip",
    "ip6",
    "ipsec",
    "jhash",
    "jump",
    "le",
    "limit",
    "list",
    "log",
    "lshift",
    "lt",
    "map",
    "mark",
    "masquerade",
    "meta",
    "meter",
    "mh",
    "missing",
    "monitor",
    "ne",
    "netdev",
    "nftrace",
    "not",
    "notrack",
    "numgen",
    "obriport",
    "obrname",
    "offload",
    "oif",
    "oifgroup",
    "oifname",
    "oiftype",
    "or",
    "osf",
    "pkttype",
    "policy",
    "position",
    "priority",
    "queue",
    "quota",
    "random",
    "redefine",
    "redirect",
    "reject",
    "rename",
    "replace",
    "reset",
    "return",
    "rshift",
    "rt",
    "rt0",
    "rt2",
    "rtclassid",
    "rule",
    "ruleset",
    "sctp",
    "secmark",
    "set",
    "size",
    "skgid",
    "skuid",
    "snat",
    "socket",
    "srh",
    "symhash",
    "synproxy",
    "table",
    "tcp",
    "th",
    "time",
    "timeout",
    "tproxy",
    "type",
    "typeof",
    "udp",
    "udplite",
    "undefine",
    "update",
    "vlan",
    "vmap",
    "xor",
    "xt",
];

/// What makes a name unreadable to nft ([`unreadable`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unreadable {
    /// A keyword ([`KEYWORDS`]).
    Keyword,
    /// A number: a name starts with a letter, `_` or `.`.
    Number,
    /// A quoted string.
    Quoted,
}

/// Why nft cannot read a name written as `text` (`quoted`: in double
/// quotes) where its grammar expects one, if it cannot.
pub fn unreadable(text: &str, quoted: bool) -> Option<Unreadable> {
    if quoted {
        Some(Unreadable::Quoted)
    } else if text.starts_with(|c: char| c.is_ascii_digit()) {
        Some(Unreadable::Number)
    } else if KEYWORDS.binary_search(&text).is_ok() {
        Some(Unreadable::Keyword)
    } else {
        None
    }
}

/// E1016 for a name written as `text` at `span` that nft cannot read
/// (`why`).
pub fn diagnostic(why: Unreadable, text: &str, span: Span) -> Diagnostic {
    let plain = "a name is a letter, `_` or `.` followed by letters, digits, `-`, `_`, `.` or `/`";
    let keyword = "rename it: nft takes no keyword as a name, quoted or not";
    match why {
        Unreadable::Keyword => Diagnostic::error("E1016", format!("`{text}` is a keyword, not a name"))
            .with_label(span, "nft reads a keyword here")
            .with_help(keyword),
        Unreadable::Number => Diagnostic::error("E1016", format!("`{text}` is a number, not a name"))
            .with_label(span, "nft reads a number here")
            .with_help(format!("rename it: {plain}")),
        Unreadable::Quoted => {
            let d = Diagnostic::error("E1016", format!("the name `{text}` is in quotes"))
                .with_label(span, "nft takes no quoted string here");
            match unreadable(text, false) {
                None if is_plain(text) => d.with_help(format!("write it without quotes: `{text}`")),
                Some(Unreadable::Keyword) => d.with_help(keyword),
                _ => d.with_help(format!("rename it: {plain}")),
            }
        }
    }
}

/// NFT_NAME_MAXLEN less its terminating zero: the longest name of a table,
/// chain, set or object the kernel takes (measured: 255 characters load,
/// 256 fail with "Numerical result out of range").
pub const NAME_MAXLEN: usize = 255;

/// E2002 for a name longer than the kernel takes.
pub fn too_long(text: &str, span: Span) -> Option<Diagnostic> {
    (text.len() > NAME_MAXLEN).then(|| {
        Diagnostic::error("E2002", format!("name too long, {NAME_MAXLEN} characters maximum allowed")).with_label(
            span,
            format!("{} characters: the kernel refuses it (Numerical result out of range)", text.len()),
        )
    })
}

/// `text` is a word nft's scanner reads as a string: a letter, `_` or
/// `.`, then letters, digits, `-`, `_`, `.` or `/`.
fn is_plain(text: &str) -> bool {
    let mut chars = text.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == '.')
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_keywords_are_sorted_and_unique() {
        assert!(KEYWORDS.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn names_are_told_from_keywords_numbers_and_strings() {
        assert_eq!(unreadable("accept", false), Some(Unreadable::Keyword));
        assert_eq!(unreadable("auto-merge", false), Some(Unreadable::Keyword));
        assert_eq!(unreadable("123", false), Some(Unreadable::Number));
        assert_eq!(unreadable("web", true), Some(Unreadable::Quoted));
        for name in ["web", "dport", "state", "input", "filter", "lan-in", "a.b", "_x", "accepted"] {
            assert_eq!(unreadable(name, false), None, "{name}");
            assert!(is_plain(name), "{name}");
        }
        for text in ["two words", "-x", "1a", "a$b", ""] {
            assert!(!is_plain(text), "{text}");
        }
    }
}
