# Sourced by tests/live/run_e2e.sh and benches/scripts/run-gateway.sh: the
# client - gateway - server namespaces ($NS_CLI, $NS_GW, $NS_SRV, set by the
# caller) with documentation addresses and no route out:
#   cli0 192.0.2.2/24 -- gw-cli 192.0.2.1/24 | gw-pub 198.51.100.32/24 --
#   srv0 198.51.100.47/24 + 203.0.113.47/32; the gateway forwards.
# The same in IPv6: cli0 2001:db8:1::2/64 -- gw-cli 2001:db8:1::1/64 |
#   gw-pub 2001:db8:100::32/64 -- srv0 2001:db8:100::47/64 + 2001:db8:203::47/128.

in_ns() { local ns=$1; shift; ip netns exec "$ns" "$@"; }

make_gateway_netns() {
    local ns x
    for ns in "$NS_CLI" "$NS_GW" "$NS_SRV"; do
        ip netns add "$ns"
        in_ns "$ns" ip link set lo up
    done
    ip link add cli0 netns "$NS_CLI" type veth peer name gw-cli netns "$NS_GW"
    ip link add srv0 netns "$NS_SRV" type veth peer name gw-pub netns "$NS_GW"
    in_ns "$NS_CLI" ip addr add 192.0.2.2/24 dev cli0
    in_ns "$NS_GW" ip addr add 192.0.2.1/24 dev gw-cli
    in_ns "$NS_GW" ip addr add 198.51.100.32/24 dev gw-pub
    in_ns "$NS_SRV" ip addr add 198.51.100.47/24 dev srv0
    in_ns "$NS_SRV" ip addr add 203.0.113.47/32 dev srv0
    in_ns "$NS_CLI" ip addr add 2001:db8:1::2/64 dev cli0 nodad
    in_ns "$NS_GW" ip addr add 2001:db8:1::1/64 dev gw-cli nodad
    in_ns "$NS_GW" ip addr add 2001:db8:100::32/64 dev gw-pub nodad
    in_ns "$NS_SRV" ip addr add 2001:db8:100::47/64 dev srv0 nodad
    in_ns "$NS_SRV" ip addr add 2001:db8:203::47/128 dev srv0 nodad
    for x in "$NS_CLI cli0" "$NS_GW gw-cli" "$NS_GW gw-pub" "$NS_SRV srv0"; do
        set -- $x
        in_ns "$1" ip link set "$2" up
    done
    in_ns "$NS_CLI" ip route add 198.51.100.0/24 via 192.0.2.1
    in_ns "$NS_CLI" ip route add 203.0.113.0/24 via 192.0.2.1
    in_ns "$NS_GW" ip route add 203.0.113.0/24 via 198.51.100.47
    in_ns "$NS_SRV" ip route add 192.0.2.0/24 via 198.51.100.32
    in_ns "$NS_CLI" ip -6 route add 2001:db8:100::/64 via 2001:db8:1::1
    in_ns "$NS_CLI" ip -6 route add 2001:db8:203::/64 via 2001:db8:1::1
    in_ns "$NS_GW" ip -6 route add 2001:db8:203::/64 via 2001:db8:100::47
    in_ns "$NS_SRV" ip -6 route add 2001:db8:1::/64 via 2001:db8:100::32
    in_ns "$NS_GW" sysctl -qw net.ipv4.ip_forward=1
    in_ns "$NS_GW" sysctl -qw net.ipv6.conf.all.forwarding=1
}

# Kill what runs inside the namespaces (all started by the caller) and
# delete them.
remove_gateway_netns() {
    local ns pid
    for ns in "$NS_CLI" "$NS_GW" "$NS_SRV"; do
        for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
        ip netns del "$ns" 2>/dev/null
    done
}
