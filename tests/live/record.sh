#!/usr/bin/env bash
# Record one live scenario through the kernel's own connection tracker.
#
#   record.sh SCENARIO OUTDIR SUFFIX
#
# Builds three network namespaces ctcl-SUFFIX-{cli,gw,srv} (client - gateway -
# server, the topology of ../shared/oracle/README.md plus IPv6 and a second
# client address), loads the scenario's gateway ruleset (gateway.nft, or
# nat-gateway.nft for the NAT and helper scenarios), starts `conntrack -E`
# (flows and expectations) and a `tcpdump -Q in` and `-Q out` per gateway
# interface, runs the
# scenario (scenarios.py run), stops everything, dumps `conntrack -L`,
# `conntrack -S` and the nft counters, and writes the case directory in the
# oracle's layout (in-gw-cli.pcap, in-gw-pub.pcap, out-gw-cli.pcap,
# out-gw-pub.pcap, events.txt, expect_events.txt, table.txt, counters.txt,
# ruleset.nft, desc.txt, replay.args, ...). A scenario with `log`
# statements (LOGS=1) also gets log.txt: the kernel's log lines of its
# rules, whose prefixes carry the run's SUFFIX (`@RUN@` in the ruleset) to
# be told apart in the kernel log; net.netfilter.nf_log_all_netns is on
# while it runs (namespaces other than the first log nothing otherwise).
#
# Everything is bounded in time, and the namespaces and background processes
# are removed on every exit path (trap), success or failure. Only
# documentation addresses are used, and no namespace has a route out.
#
# Environment: PYTHON (an interpreter that can import scapy; default python3).
set -euo pipefail

if [ $# -ne 3 ]; then
    echo "usage: $0 SCENARIO OUTDIR SUFFIX" >&2
    exit 2
fi
SCENARIO=$1
OUT=$2
SFX=$3
HERE=$(cd "$(dirname "$0")" && pwd)
PYTHON=${PYTHON:-python3}

NS_CLI=ctcl-$SFX-cli
NS_GW=ctcl-$SFX-gw
NS_SRV=ctcl-$SFX-srv
BG_PIDS=()

log() { echo "record[$SCENARIO]: $*" >&2; }

# A background child is still running (exited children stay zombies until
# waited for, and `kill -0` still finds those).
alive() {
    local st
    st=$(cut -d' ' -f3 "/proc/$1/stat" 2>/dev/null) || return 1
    [ -n "$st" ] && [ "$st" != Z ]
}

# Signal a background child and wait for it, at most $3 tenths of a second
# before KILL.
stop_bg() {
    local pid=$1 sig=$2 tenths=$3
    kill "-$sig" "$pid" 2>/dev/null || true
    for _ in $(seq "$tenths"); do alive "$pid" || break; sleep 0.1; done
    alive "$pid" && kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null || true
}

LOG_ALL_NETNS=
cleanup() {
    local rc=$?
    set +e
    [ -n "$LOG_ALL_NETNS" ] && sysctl -qw net.netfilter.nf_log_all_netns="$LOG_ALL_NETNS"
    for pid in "${BG_PIDS[@]}"; do
        stop_bg "$pid" TERM 20
    done
    for ns in "$NS_CLI" "$NS_GW" "$NS_SRV"; do
        # Safety net: whatever still runs inside our own (uniquely named)
        # namespaces was started by this script.
        for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
        ip netns del "$ns" 2>/dev/null
    done
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

in_ns() { local ns=$1; shift; ip netns exec "$ns" "$@"; }

# --- the scenario's description, checks, sysctls -----------------------------
mkdir -p "$OUT"
rm -f "$OUT"/*.pcap "$OUT"/*.txt "$OUT"/table.time "$OUT"/*.nft "$OUT"/replay.args "$OUT"/gw-sysctl.conf
# Writes desc.txt, checks.txt, replay.args, gw-sysctl.conf (maybe empty) and
# prints shell assignments: SILENT=0|1 (end hosts drop everything they get,
# so that only the scenario's crafted frames exist) and RULESET (the gateway
# ruleset's file name in this directory).
SILENT=0
LOGS=0
RULESET=gateway.nft
DESCRIBED=$("$PYTHON" "$HERE/scenarios.py" describe "$SCENARIO" "$OUT")
eval "$DESCRIBED"
case "$RULESET" in
    */* | "") log "bad ruleset name '$RULESET'"; exit 1 ;;
esac
sed "s/@RUN@/$SFX/g" "$HERE/$RULESET" >"$OUT/ruleset.nft"
if [ "$LOGS" = 1 ]; then
    LOG_ALL_NETNS=$(sysctl -n net.netfilter.nf_log_all_netns)
    sysctl -qw net.netfilter.nf_log_all_netns=1
fi

# --- topology -----------------------------------------------------------------
for ns in "$NS_CLI" "$NS_GW" "$NS_SRV"; do
    ip netns add "$ns"
    in_ns "$ns" ip link set lo up
    # No router solicitations, no DAD, no SLAAC: the captures hold only the
    # scenario's frames (MLD reports are filtered out of the capture below).
    in_ns "$ns" sysctl -qw net.ipv6.conf.default.router_solicitations=0 \
        net.ipv6.conf.default.accept_dad=0 net.ipv6.conf.default.accept_ra=0 \
        net.ipv6.conf.all.accept_ra=0
done
ip link add cli0 netns "$NS_CLI" address 02:00:00:00:02:02 type veth \
    peer name gw-cli netns "$NS_GW" address 02:00:00:00:02:01
ip link add srv0 netns "$NS_SRV" address 02:00:00:00:64:2f type veth \
    peer name gw-pub netns "$NS_GW" address 02:00:00:00:64:20

offloads_off() {
    # Every frame MTU-sized with a correct checksum, as on a wire.
    in_ns "$1" ethtool -K "$2" rx off tx off tso off gso off gro off >/dev/null 2>&1 ||
        in_ns "$1" ethtool -K "$2" tx off >/dev/null
}
offloads_off "$NS_CLI" cli0
offloads_off "$NS_GW" gw-cli
offloads_off "$NS_GW" gw-pub
offloads_off "$NS_SRV" srv0

in_ns "$NS_CLI" ip addr add 192.0.2.2/24 dev cli0
in_ns "$NS_CLI" ip addr add 192.0.2.3/24 dev cli0
in_ns "$NS_CLI" ip addr add 2001:db8:1::2/64 dev cli0 nodad
in_ns "$NS_GW" ip addr add 192.0.2.1/24 dev gw-cli
in_ns "$NS_GW" ip addr add 2001:db8:1::1/64 dev gw-cli nodad
in_ns "$NS_GW" ip addr add 198.51.100.32/24 dev gw-pub
in_ns "$NS_GW" ip addr add 2001:db8:100::32/64 dev gw-pub nodad
in_ns "$NS_SRV" ip addr add 198.51.100.47/24 dev srv0
in_ns "$NS_SRV" ip addr add 2001:db8:100::47/64 dev srv0 nodad
in_ns "$NS_SRV" ip addr add 203.0.113.47/32 dev srv0
in_ns "$NS_SRV" ip addr add 2001:db8:203::47/128 dev srv0 nodad
in_ns "$NS_CLI" ip link set cli0 up
in_ns "$NS_GW" ip link set gw-cli up
in_ns "$NS_GW" ip link set gw-pub up
in_ns "$NS_SRV" ip link set srv0 up

# Routes: documentation prefixes only, no default route anywhere.
in_ns "$NS_CLI" ip route add 198.51.100.0/24 via 192.0.2.1
in_ns "$NS_CLI" ip route add 203.0.113.0/24 via 192.0.2.1
in_ns "$NS_CLI" ip -6 route add 2001:db8:100::/64 via 2001:db8:1::1
in_ns "$NS_CLI" ip -6 route add 2001:db8:203::/48 via 2001:db8:1::1
in_ns "$NS_GW" ip route add 203.0.113.0/24 via 198.51.100.47
in_ns "$NS_GW" ip -6 route add 2001:db8:203::/48 via 2001:db8:100::47
in_ns "$NS_SRV" ip route add 192.0.2.0/24 via 198.51.100.32
in_ns "$NS_SRV" ip -6 route add 2001:db8:1::/64 via 2001:db8:100::32

# Static neighbours: no ARP or neighbour discovery in the captures.
in_ns "$NS_CLI" ip neigh add 192.0.2.1 lladdr 02:00:00:00:02:01 dev cli0 nud permanent
in_ns "$NS_CLI" ip -6 neigh add 2001:db8:1::1 lladdr 02:00:00:00:02:01 dev cli0 nud permanent
in_ns "$NS_GW" ip neigh add 192.0.2.2 lladdr 02:00:00:00:02:02 dev gw-cli nud permanent
in_ns "$NS_GW" ip neigh add 192.0.2.3 lladdr 02:00:00:00:02:02 dev gw-cli nud permanent
in_ns "$NS_GW" ip -6 neigh add 2001:db8:1::2 lladdr 02:00:00:00:02:02 dev gw-cli nud permanent
in_ns "$NS_GW" ip neigh add 198.51.100.47 lladdr 02:00:00:00:64:2f dev gw-pub nud permanent
in_ns "$NS_GW" ip -6 neigh add 2001:db8:100::47 lladdr 02:00:00:00:64:2f dev gw-pub nud permanent
in_ns "$NS_SRV" ip neigh add 198.51.100.32 lladdr 02:00:00:00:64:20 dev srv0 nud permanent
# The addresses nat-gateway.nft's source NAT rules use: the gateway's.
for a in 2 3 40 41 42 43 44 45; do
    in_ns "$NS_SRV" ip neigh add "198.51.100.$a" lladdr 02:00:00:00:64:20 dev srv0 nud permanent
done
in_ns "$NS_SRV" ip -6 neigh add 2001:db8:100::32 lladdr 02:00:00:00:64:20 dev srv0 nud permanent

# The gateway: forwarding, conntrack sysctls (acct, timestamp, and the
# scenario's own), the ruleset.
in_ns "$NS_GW" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
in_ns "$NS_GW" nft -f "$OUT/ruleset.nft"
in_ns "$NS_GW" sysctl -qw net.netfilter.nf_conntrack_acct=1 net.netfilter.nf_conntrack_timestamp=1
while read -r kv; do
    [ -n "$kv" ] || continue
    in_ns "$NS_GW" sysctl -qw "net.netfilter.nf_conntrack_$kv"
done <"$OUT/gw-sysctl.conf"

if [ "$SILENT" = 1 ]; then
    # Crafted scenarios: both ends are scapy, so the end hosts' kernels must
    # not answer anything (no RST, no ICMP): drop every frame they receive
    # before their IP stack sees it. Sending on AF_PACKET is not affected.
    in_ns "$NS_CLI" nft -f - <<'EOF'
table netdev silent {
	chain drop_all {
		type filter hook ingress device "cli0" priority -500; policy drop;
	}
}
EOF
    in_ns "$NS_SRV" nft -f - <<'EOF'
table netdev silent {
	chain drop_all {
		type filter hook ingress device "srv0" priority -500; policy drop;
	}
}
EOF
fi

# --- recorders (started with `ip netns exec` itself, not a shell function, so
# that $! is the recorder's own pid) ----------------------------------------------------------------
in_ns "$NS_GW" conntrack -S >"$OUT/stats_before.txt" 2>&1 || true

# MLD reports (IPv6 hop-by-hop) and neighbour discovery are not part of any
# scenario: leave them out of the captures.
FILTER='not (ip6 and ip6[6] == 0) and not (icmp6 and ip6[40] >= 133 and ip6[40] <= 137)'
start_capture() {
    local dir=$1 ifc=$2
    ip netns exec "$NS_GW" tcpdump -n -s 0 -U --immediate-mode -Q "$dir" -i "$ifc" -w "$OUT/$dir-$ifc.pcap" "$FILTER" \
        2>"$OUT/.tcpdump-$dir-$ifc.log" &
    BG_PIDS+=($!)
}
for ifc in gw-cli gw-pub; do
    start_capture in "$ifc"
    start_capture out "$ifc"
done
ip netns exec "$NS_GW" stdbuf -oL conntrack -E -o timestamp,id >"$OUT/events.txt" 2>"$OUT/.conntrack-E.log" &
BG_PIDS+=($!)
ip netns exec "$NS_GW" stdbuf -oL conntrack -E expect -o timestamp >"$OUT/expect_events.txt" 2>"$OUT/.conntrack-E-expect.log" &
BG_PIDS+=($!)

# tcpdump says "listening on" once its socket is open; conntrack -E has no
# such line, its netlink subscription is made right at start: a short pause.
for cap in in-gw-cli in-gw-pub out-gw-cli out-gw-pub; do
    for _ in $(seq 50); do
        grep -q "listening on" "$OUT/.tcpdump-$cap.log" 2>/dev/null && break
        sleep 0.1
    done
    grep -q "listening on" "$OUT/.tcpdump-$cap.log" || { log "tcpdump ($cap) did not start"; exit 1; }
done
sleep 0.3

# --- the scenario ---------------------------------------------------------------
T0=$(date +%s.%N)
rc=0
timeout 60 "$PYTHON" "$HERE/scenarios.py" run "$SCENARIO" \
    --cli /run/netns/"$NS_CLI" --srv /run/netns/"$NS_SRV" --sent "$OUT/sent.txt" >"$OUT/.scenario.log" 2>&1 || rc=$?
T1=$(date +%s.%N)
if [ "$rc" -ne 0 ]; then
    log "scenario sender failed (rc=$rc):"
    cat "$OUT/.scenario.log" >&2
    exit 1
fi

# Let the last frames and events land, then take the table (its remaining
# timeouts are this long after the last frame).
sleep 0.3
in_ns "$NS_GW" conntrack -L >"$OUT/table.txt" 2>&1 || true
date +%s.%N >"$OUT/table.time"
in_ns "$NS_GW" conntrack -L -o extended >"$OUT/table_extended.txt" 2>&1 || true
in_ns "$NS_GW" conntrack -L expect >"$OUT/expect.txt" 2>&1 || true
in_ns "$NS_GW" conntrack -S >"$OUT/stats.txt" 2>&1 || true
in_ns "$NS_GW" nft list ruleset >"$OUT/counters.txt"
sleep 0.2
if [ "$LOGS" = 1 ]; then
    # The kernel's lines of this run, without their timestamps.
    LINES=$(dmesg)
    grep -F "ctcl-$SFX " <<<"$LINES" | sed 's/^\[[^]]*\] *//' >"$OUT/log.txt" || true
fi

# Stop the recorders: TERM makes tcpdump flush and conntrack print its tally
# (background jobs of a script ignore INT).
for pid in "${BG_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
for pid in "${BG_PIDS[@]}"; do stop_bg "$pid" TERM 30; done
BG_PIDS=()

{
    echo "CASE: $SCENARIO (recorded by tests/live/record.sh)"
    echo "kernel $(uname -r); $(nft --version 2>/dev/null); $(conntrack --version 2>&1 | head -1); $(tcpdump --version 2>&1 | head -1)"
    echo "traffic window $T0 .. $T1 (epoch s); table taken at $(cat "$OUT/table.time")"
    echo "namespaces $NS_CLI $NS_GW $NS_SRV; silent end hosts: $SILENT"
    echo "gateway sysctls: acct=1 timestamp=1 $(tr '\n' ' ' <"$OUT/gw-sysctl.conf")"
    echo "capture filter: $FILTER"
    echo "-- scenario log"
    cat "$OUT/.scenario.log"
} >"$OUT/notes.txt"
log "done: $(grep -c . "$OUT/events.txt" || true) events"
