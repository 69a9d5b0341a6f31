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
        [Family::Ip, Family::Ip6, Family::Inet, Family::Arp, Family::Bridge, Family::Netdev]
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
        [Hook::Prerouting, Hook::Input, Hook::Forward, Hook::Output, Hook::Postrouting, Hook::Ingress, Hook::Egress]
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
        [ChainType::Filter, ChainType::Nat, ChainType::Route].into_iter().find(|t| t.name() == s)
    }
}

/// Hooks a family offers (kernel: the hook masks of the chain types
/// registered per family; nft.txt "ADDRESS FAMILIES").
pub fn family_hooks(family: Family) -> &'static [Hook] {
    use Hook::*;
    match family {
        Family::Ip | Family::Ip6 => &[Prerouting, Input, Forward, Output, Postrouting],
        // inet also has a per-device ingress hook (kernel 5.10+).
        Family::Inet => &[Prerouting, Input, Forward, Output, Postrouting, Ingress],
        // nft_chain_filter_arp: NF_ARP_IN and NF_ARP_OUT only.
        Family::Arp => &[Input, Output],
        Family::Bridge => &[Prerouting, Input, Forward, Output, Postrouting],
        // Per-device hooks; egress since kernel 5.16.
        Family::Netdev => &[Ingress, Egress],
    }
}

/// Whether a chain of type `ty` may hook at `hook` in `family`.
pub fn chain_type_allowed(family: Family, ty: ChainType, hook: Hook) -> bool {
    if !family_hooks(family).contains(&hook) {
        return false;
    }
    let l3 = matches!(family, Family::Ip | Family::Ip6 | Family::Inet);
    match ty {
        // Every family registers a filter type for all its hooks.
        ChainType::Filter => true,
        // nft_chain_nat: NAT is bound at prerouting/output (dnat) and
        // postrouting/input (snat); no forward, no ingress; inet since 5.2.
        ChainType::Nat => l3 && matches!(hook, Hook::Prerouting | Hook::Input | Hook::Output | Hook::Postrouting),
        // nft_chain_route: re-routes locally generated packets whose mark or
        // addresses changed; output only (ip, ip6, and inet).
        ChainType::Route => l3 && hook == Hook::Output,
    }
}

/// Standard priorities of ip, ip6, inet, arp and netdev (nft rule.c
/// `std_prios`; values NF_IP_PRI_*).
pub static STD_PRIORITIES: &[(&str, i32)] =
    &[("raw", -300), ("mangle", -150), ("dstnat", -100), ("filter", 0), ("security", 50), ("srcnat", 100)];

/// Standard priorities of the bridge family (NF_BR_PRI_*).
pub static BRIDGE_PRIORITIES: &[(&str, i32)] = &[("dstnat", -300), ("filter", -200), ("out", 100), ("srcnat", 300)];

/// A named priority (`filter`, `dstnat`, ...) and its value for a family and
/// hook; `None` where the name is not valid there (nft: "'dstnat' is invalid
/// priority in this context").
///
/// Mirrors nft's `std_prio_family_hook_compat` (rule.c, after the 2023 fix
/// that allowed dstnat at output and srcnat at input).
pub fn priority_by_name(family: Family, hook: Hook, name: &str) -> Option<i32> {
    if family == Family::Bridge {
        let value = BRIDGE_PRIORITIES.iter().find(|(n, _)| *n == name)?.1;
        let ok = match name {
            // Bridged DNAT happens before the forwarding decision.
            "dstnat" => hook == Hook::Prerouting,
            "filter" => true,
            // DNAT of locally generated frames.
            "out" => hook == Hook::Output,
            "srcnat" => hook == Hook::Postrouting,
            _ => false,
        };
        return ok.then_some(value);
    }
    let value = STD_PRIORITIES.iter().find(|(n, _)| *n == name)?.1;
    let l3 = matches!(family, Family::Ip | Family::Ip6 | Family::Inet);
    let ok = match name {
        // The only name netdev and arp accept.
        "filter" => true,
        "raw" | "mangle" | "security" => l3,
        // Where dnat/redirect can run.
        "dstnat" => l3 && matches!(hook, Hook::Prerouting | Hook::Output),
        // Where snat/masquerade can run.
        "srcnat" => l3 && matches!(hook, Hook::Postrouting | Hook::Input),
        _ => false,
    };
    ok.then_some(value)
}

/// The symbolic form nft prints for a priority value (`filter`, `mangle - 5`,
/// `srcnat + 10`): the standard name within 10 of the value and valid for the
/// family and hook (nft rule.c `prio2str`), else `None` (printed as number).
pub fn priority_name(family: Family, hook: Hook, value: i32) -> Option<(&'static str, i32)> {
    let table = if family == Family::Bridge { BRIDGE_PRIORITIES } else { STD_PRIORITIES };
    for &(name, std) in table {
        let offset = i64::from(value) - i64::from(std);
        if offset.abs() <= 10 {
            // nft stops at the first standard value in reach even when it is
            // not valid in this context.
            return priority_by_name(family, hook, name).map(|_| (name, offset as i32));
        }
    }
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
/// the hooks allowed. These are the kernel's `validate` callbacks, which
/// nft surfaces as "Operation not supported" when the ruleset is loaded.
pub fn stmt_allowed(stmt: HookedStmt, family: Family, ty: ChainType, hook: Hook) -> bool {
    if !chain_type_allowed(family, ty, hook) {
        return false;
    }
    let l3 = matches!(family, Family::Ip | Family::Ip6 | Family::Inet);
    let nat = l3 && ty == ChainType::Nat;
    match stmt {
        // nft_nat_validate, NFT_NAT_SNAT: postrouting and input.
        HookedStmt::Snat => nat && matches!(hook, Hook::Postrouting | Hook::Input),
        // nft_masq_validate: postrouting only (masquerade needs the output
        // device's address, unknown at input).
        HookedStmt::Masquerade => nat && hook == Hook::Postrouting,
        // nft_nat_validate, NFT_NAT_DNAT: prerouting and output.
        HookedStmt::Dnat => nat && matches!(hook, Hook::Prerouting | Hook::Output),
        // nft_redir_validate: prerouting and output.
        HookedStmt::Redirect => nat && matches!(hook, Hook::Prerouting | Hook::Output),
        HookedStmt::Reject => match family {
            // nft_reject_validate: prerouting (since 5.x), input, forward,
            // output; not inet's ingress.
            Family::Ip | Family::Ip6 | Family::Inet => {
                matches!(hook, Hook::Prerouting | Hook::Input | Hook::Forward | Hook::Output)
            }
            // nft_reject_bridge_validate: prerouting and input.
            Family::Bridge => matches!(hook, Hook::Prerouting | Hook::Input),
            // nft_reject_netdev uses the generic check, whose hook bits
            // cover ingress and egress.
            Family::Netdev => true,
            // No reject expression for arp.
            Family::Arp => false,
        },
        // nft_tproxy_validate: prerouting only, any chain type.
        HookedStmt::Tproxy => l3 && hook == Hook::Prerouting,
        // nft_fwd_validate: netdev ingress and egress.
        HookedStmt::Fwd => family == Family::Netdev,
        // nft_dup_ipv4/ipv6 work at any hook; nft_dup_netdev on netdev.
        HookedStmt::Dup => l3 || family == Family::Netdev,
        // nft_synproxy_validate: input and forward of ip/ip6/inet.
        HookedStmt::Synproxy => l3 && matches!(hook, Hook::Input | Hook::Forward),
    }
}

/// Bridge-only: `meta broute set` is valid in bridge prerouting (kernel
/// nft_meta_bridge_set_validate).
pub fn meta_broute_allowed(family: Family, hook: Hook) -> bool {
    family == Family::Bridge && hook == Hook::Prerouting
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hooks() {
        assert!(family_hooks(Family::Inet).contains(&Hook::Ingress));
        assert!(!family_hooks(Family::Ip).contains(&Hook::Ingress));
        assert_eq!(family_hooks(Family::Arp), &[Hook::Input, Hook::Output]);
        assert_eq!(family_hooks(Family::Netdev), &[Hook::Ingress, Hook::Egress]);
    }

    #[test]
    fn chain_types() {
        assert!(chain_type_allowed(Family::Inet, ChainType::Nat, Hook::Prerouting));
        assert!(!chain_type_allowed(Family::Ip, ChainType::Nat, Hook::Forward));
        assert!(!chain_type_allowed(Family::Bridge, ChainType::Nat, Hook::Prerouting));
        assert!(chain_type_allowed(Family::Ip6, ChainType::Route, Hook::Output));
        assert!(!chain_type_allowed(Family::Ip, ChainType::Route, Hook::Input));
        assert!(chain_type_allowed(Family::Netdev, ChainType::Filter, Hook::Egress));
        assert!(!chain_type_allowed(Family::Arp, ChainType::Filter, Hook::Forward));
    }

    #[test]
    fn priorities() {
        assert_eq!(priority_by_name(Family::Ip, Hook::Prerouting, "raw"), Some(-300));
        assert_eq!(priority_by_name(Family::Inet, Hook::Output, "dstnat"), Some(-100));
        assert_eq!(priority_by_name(Family::Inet, Hook::Postrouting, "dstnat"), None);
        assert_eq!(priority_by_name(Family::Ip, Hook::Input, "srcnat"), Some(100));
        assert_eq!(priority_by_name(Family::Netdev, Hook::Ingress, "filter"), Some(0));
        assert_eq!(priority_by_name(Family::Netdev, Hook::Ingress, "raw"), None);
        assert_eq!(priority_by_name(Family::Bridge, Hook::Forward, "filter"), Some(-200));
        assert_eq!(priority_by_name(Family::Bridge, Hook::Output, "out"), Some(100));
        assert_eq!(priority_by_name(Family::Bridge, Hook::Input, "out"), None);
        assert_eq!(priority_by_name(Family::Ip, Hook::Input, "bogus"), None);
        assert_eq!(priority_name(Family::Ip, Hook::Input, 5), Some(("filter", 5)));
        assert_eq!(priority_name(Family::Ip, Hook::Input, -155), Some(("mangle", -5)));
        assert_eq!(priority_name(Family::Ip, Hook::Input, 1000), None);
    }

    #[test]
    fn statements() {
        use HookedStmt::*;
        assert!(stmt_allowed(Masquerade, Family::Ip, ChainType::Nat, Hook::Postrouting));
        assert!(!stmt_allowed(Masquerade, Family::Ip, ChainType::Filter, Hook::Postrouting));
        assert!(stmt_allowed(Snat, Family::Inet, ChainType::Nat, Hook::Input));
        assert!(stmt_allowed(Dnat, Family::Ip6, ChainType::Nat, Hook::Output));
        assert!(!stmt_allowed(Dnat, Family::Ip, ChainType::Nat, Hook::Postrouting));
        assert!(stmt_allowed(Reject, Family::Inet, ChainType::Filter, Hook::Input));
        assert!(!stmt_allowed(Reject, Family::Inet, ChainType::Filter, Hook::Ingress));
        assert!(stmt_allowed(Tproxy, Family::Ip, ChainType::Filter, Hook::Prerouting));
        assert!(!stmt_allowed(Tproxy, Family::Ip, ChainType::Filter, Hook::Input));
        assert!(stmt_allowed(Fwd, Family::Netdev, ChainType::Filter, Hook::Ingress));
        assert!(!stmt_allowed(Fwd, Family::Ip, ChainType::Filter, Hook::Forward));
        assert!(stmt_allowed(Synproxy, Family::Inet, ChainType::Filter, Hook::Forward));
        assert!(stmt_allowed(Dup, Family::Ip, ChainType::Filter, Hook::Prerouting));
    }
}
