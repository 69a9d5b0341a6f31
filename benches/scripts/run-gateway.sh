#!/usr/bin/env bash
# Packets per second and TCP throughput through a gateway namespace, side
# by side in one run (issue #7):
#   (a) the kernel forwarding, with the same ruleset loaded in nftables;
#   (b) `ctc run` with 1 and with 2 queues;
#   (c) nfq_accept: a program that accepts every queued packet (the
#       NFQUEUE ceiling), with the same hook rules (notrack, then queue).
# Traffic from the client namespace to the server namespace: UDP with
# 64-byte payloads from two sender threads (examples/udp_blast.rs) as fast
# as they go, counted where they arrive (packets per second through the
# gateway), then one iperf3 TCP stream (bits per second received). The
# machine's two cores run the senders, the gateway and the receivers
# together: the figures are for comparing the modes side by side. The ruleset:
# 1,000 rules that match nothing of the traffic before the stateful rules
# (every packet passes all of them), conntrack on; the kernel and ctc also
# run it with masquerade on the way out (source NAT; no ceiling for that:
# nfq_accept cannot rewrite).
#
#   benches/scripts/run-gateway.sh [SECONDS [ROUNDS]]
#       (as root; default 5 s per measurement, 3 rounds of every mode)
#
# Needs iperf3, iptables, nft; builds ctc and nfq_accept in release mode.
# Only documentation addresses; namespaces removed on every exit path.
set -euo pipefail
SECS=${1:-5}
ROUNDS=${2:-3}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
cargo build --release -q -p ctc-cli
cargo build --release -q -p ctc-datapath --example nfq_accept --example udp_blast
CTC=$ROOT/target/release/ctc
NFQ=$ROOT/target/release/examples/nfq_accept
BLAST=$ROOT/target/release/examples/udp_blast
SFX=b$$
NS_CLI=ctcb-$SFX-cli
NS_GW=ctcb-$SFX-gw
NS_SRV=ctcb-$SFX-srv
TMP=$(mktemp -d)
BG=()
# shellcheck source=../../tests/live/gateway-netns.sh
. "$ROOT/tests/live/gateway-netns.sh"

cleanup() {
    set +e
    for p in "${BG[@]}"; do kill -TERM "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
    remove_gateway_netns
    rm -rf "$TMP"
}
trap cleanup EXIT
make_gateway_netns

# The ruleset: 1,000 rules matching none of the traffic, then stateful ones.
{
    echo "table inet bench {"
    echo "  chain forward {"
    echo "    type filter hook forward priority filter; policy drop;"
    for i in $(seq 0 999); do
        echo "    ip saddr 198.51.100.$((i % 250)) tcp dport $((2000 + i)) counter drop"
    done
    echo "    ct state established,related counter accept"
    echo "    ct state invalid counter drop"
    echo "    iifname \"gw-cli\" oifname \"gw-pub\" counter accept"
    echo "  }"
    echo "}"
} >"$TMP/ruleset.nft"
# The same with masquerade on the way out (source NAT: ctc's second stage).
{
    cat "$TMP/ruleset.nft"
    echo "table ip nat {"
    echo "  chain post {"
    echo "    type nat hook postrouting priority srcnat;"
    echo "    oifname \"gw-pub\" masquerade"
    echo "  }"
    echo "}"
} >"$TMP/masq.nft"

in_ns "$NS_SRV" iperf3 -s -D -B 203.0.113.47 --pidfile "$TMP/iperf3.pid" >/dev/null
# The server counts the datagrams that reach it (and drops them: no ICMP
# errors back).
in_ns "$NS_SRV" nft -f - <<'NFT'
table inet sink {
	chain input {
		type filter hook input priority filter;
		udp dport 9 counter drop
	}
}
NFT
sleep 0.5

sink_count() {
    in_ns "$NS_SRV" nft list table inet sink | sed -n 's/.*counter packets \([0-9]*\).*/\1/p'
}

# One measurement: UDP pps received, TCP Mbit/s received.
measure() {
    local label=$1 udp tcp
    local before after
    before=$(sink_count)
    in_ns "$NS_CLI" "$BLAST" 203.0.113.47 9 "$SECS" 2 >/dev/null
    sleep 0.2
    after=$(sink_count)
    udp=$(((after - before) / SECS))
    tcp=$(in_ns "$NS_CLI" iperf3 -c 203.0.113.47 -t "$SECS" -J |
        python3 -c 'import json,sys; print(round(json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"]/1e6))')
    printf '%s\t%s\t%s\t%s\n' "$ROUND" "$label" "$udp" "$tcp" | tee -a "$TMP/results.tsv"
}

# The hook rules of (c), as ctc run installs them.
hook_rules() {
    local op=$1 target=${2:-}
    for t in iptables ip6tables; do
        for h in PREROUTING OUTPUT; do
            if [ "$op" = add ]; then
                in_ns "$NS_GW" "$t" -t raw -A "$h" -j CT --notrack
                in_ns "$NS_GW" "$t" -t raw -A "$h" -j NFQUEUE $target
            else
                in_ns "$NS_GW" "$t" -t raw -F "$h"
            fi
        done
    done
}

# Start a program in the gateway namespace, wait (bounded) for WORD in
# its log, measure as LABEL, stop it:  measure_daemon LABEL WORD LOG CMD...
measure_daemon() {
    local label=$1 word=$2 log=$3
    shift 3
    # Not through in_ns (a shell function): $! must be the program itself.
    ip netns exec "$NS_GW" "$@" 2>"$log" &
    BG+=($!)
    for _ in $(seq 100); do grep -q "$word" "$log" && break; sleep 0.1; done
    grep -q "$word" "$log" || { cat "$log"; exit 1; }
    measure "$label"
    kill -TERM "${BG[-1]}" 2>/dev/null || true
    wait "${BG[-1]}" || true
    unset 'BG[-1]'
}

# One mode, measured once.
run_mode() {
    local mode=$1 q label rules gso
    case $mode in
    kernel | kernel-masq)
        # (a) the kernel with the ruleset in nftables.
        rules=$TMP/ruleset.nft label="kernel+nftables"
        [ "$mode" = kernel-masq ] && rules=$TMP/masq.nft label="kernel+nftables masq"
        in_ns "$NS_GW" nft -f "$rules"
        measure "$label"
        in_ns "$NS_GW" nft flush ruleset
        ;;
    nfq | nfq-gso)
        # (c) the NFQUEUE ceiling, without and with GSO.
        gso=""
        [ "$mode" = nfq-gso ] && gso=--gso
        hook_rules add "--queue-num 0"
        measure_daemon "nfq_accept${gso:+ (GSO)}" bound "$TMP/nfq.log" "$NFQ" 0 $gso
        cat "$TMP/nfq.log" >&2
        hook_rules del
        ;;
    ctc-*)
        # (b) ctc run with 1 and 2 queues, and with masquerade.
        q=0 rules=ruleset label="ctc run --queue 0"
        [ "$mode" = ctc-2q ] && q=0:1 label="ctc run --queue 0:1"
        [ "$mode" = ctc-masq ] && rules=masq label="ctc run --queue 0 masq"
        measure_daemon "$label" "hook rules installed" "$TMP/ctc.log" \
            "$CTC" run --ruleset "$TMP/$rules.nft" --queue "$q" --control "$TMP/ctc.sock"
        tail -1 "$TMP/ctc.log" >&2
        ;;
    esac
}

# Rounds of every mode, in turn forwards and backwards, so that a change
# of the machine's load during the run weighs on all modes alike.
MODES=(kernel kernel-masq nfq nfq-gso ctc-1q ctc-2q ctc-masq)
echo -e "round\twhat\tudp_pps\ttcp_mbps"
for round in $(seq "$ROUNDS"); do
    order=("${MODES[@]}")
    if [ $((round % 2)) -eq 0 ]; then
        order=()
        for ((i = ${#MODES[@]} - 1; i >= 0; i--)); do order+=("${MODES[i]}"); done
    fi
    ROUND=$round
    for mode in "${order[@]}"; do run_mode "$mode"; done
done

python3 - "$TMP/results.tsv" <<'PY'
import statistics
import sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])]
rounds = {}
for r, what, udp, tcp in rows:
    rounds.setdefault(r, {})[what] = (int(udp), int(tcp))
# Each round's ratios against that round's ceiling: the better of the two
# nfq_accept runs for each kind of traffic (ctc queues with the GSO flag,
# which also spares the kernel completing the checksums of small packets
# before queueing them).
ratios = {}
for r, d in rounds.items():
    ceil = [max(d[k][i] for k in ("nfq_accept", "nfq_accept (GSO)") if k in d) for i in (0, 1)]
    for what, (u, t) in d.items():
        ratios.setdefault(what, []).append((u, t, u / ceil[0], t / ceil[1]))
def span(xs, fmt):
    return (fmt % statistics.median(xs)) + " (" + (fmt % min(xs)) + "-" + (fmt % max(xs)) + ")"
print()
print("medians over %d rounds (range); ratios are each round's, against that round's ceiling" % len(rounds))
for what, xs in ratios.items():
    u, t, ru, rt = zip(*xs)
    print("%-22s udp %s pps, %s of the ceiling   tcp %s Mbit/s, %s of the ceiling"
          % (what, span(u, "%d"), span(ru, "%.2f"), span(t, "%d"), span(rt, "%.2f")))
PY
