//! Families, hooks, chain types and priorities (nft(8) "CHAINS", "ADDRESS
//! FAMILIES"), and which statements each hook allows.

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Family {
    Ip,
    Ip6,
    Inet,
    Arp,
    Bridge,
    Netdev,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Hook {
    Prerouting,
    Input,
    Forward,
    Output,
    Postrouting,
    Ingress,
    Egress,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChainType {
    Filter,
    Nat,
    Route,
}

impl Family {
    pub fn name(self) -> &'static str {
        match self {
            Family::Ip => "ip",
            Family::Ip6 => "ip6",
            Family::Inet => "inet",
            Family::Arp => "arp",
            Family::Bridge => "bridge",
            Family::Netdev => "netdev",
        }
    }
    pub fn from_name(s: &str) -> Option<Family> {
        [
            Family::Ip,
            Family::Ip6,
            Family::Inet,
            Family::Arp,
            Family::Bridge,
            Family::Netdev,
        ]
        .into_iter()
        .find(|f| f.name() == s)
    }
}

impl Hook {
    pub fn name(self) -> &'static str {
        match self {
            Hook::Prerouting => "prerouting",
            Hook::Input => "input",
            Hook::Forward => "forward",
            Hook::Output => "output",
            Hook::Postrouting => "postrouting",
            Hook::Ingress => "ingress",
            Hook::Egress => "egress",
        }
    }
    pub fn from_name(s: &str) -> Option<Hook> {
        [
            Hook::Prerouting,
            Hook::Input,
            Hook::Forward,
            Hook::Output,
            Hook::Postrouting,
            Hook::Ingress,
            Hook::Egress,
        ]
        .into_iter()
        .find(|h| h.name() == s)
    }
}

impl ChainType {
    pub fn name(self) -> &'static str {
        match self {
            ChainType::Filter => "filter",
            ChainType::Nat => "nat",
            ChainType::Route => "route",
        }
    }
    pub fn from_name(s: &str) -> Option<ChainType> {
        [ChainType::Filter, ChainType::Nat, ChainType::Route]
            .into_iter()
            .find(|t| t.name() == s)
    }
}

/// Hooks a family offers.
pub fn family_hooks(_family: Family) -> &'static [Hook] {
    &[]
}

/// Whether a chain of type `ty` may hook at `hook` in `family`.
pub fn chain_type_allowed(_family: Family, _ty: ChainType, _hook: Hook) -> bool {
    false
}

/// A named priority (`filter`, `dstnat`, ...) and its value for a family and
/// hook; `None` where the name is not valid there (nft: "'dstnat' is invalid
/// priority in this context").
pub fn priority_by_name(_family: Family, _hook: Hook, _name: &str) -> Option<i32> {
    None
}

/// Statements restricted to some chain types or hooks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HookedStmt {
    Snat,
    Masquerade,
    Dnat,
    Redirect,
    Reject,
    Tproxy,
    Fwd,
    Dup,
    Synproxy,
}

/// Where a restricted statement may appear: chain type required (if any) and
/// the hooks allowed.
pub fn stmt_allowed(_stmt: HookedStmt, _family: Family, _ty: ChainType, _hook: Hook) -> bool {
    false
}
