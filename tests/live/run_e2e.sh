#!/usr/bin/env bash
# The `ctc run` end-to-end test (tests/live_run.rs): client - gateway -
# server namespaces (documentation addresses, no route out), `ctc run`
# on the gateway with run-gateway.nft, real traffic (run_e2e.py), then
# SIGTERM: ctc must exit 0 and leave no hook rule behind.
#
#   run_e2e.sh CTC SUFFIX
#
# Environment: PYTHON (with pyftpdlib); CTC_RUN_QUEUES (`--queue`, default
# 0); CTC_RUN_VERDICTS (a file for `--verdicts`). Everything is bounded in
# time and removed on every exit path.
set -euo pipefail
CTC=$1
SFX=$2
HERE=$(cd "$(dirname "$0")" && pwd)
PYTHON=${PYTHON:-python3}
NS_CLI=ctcrun-$SFX-cli
NS_GW=ctcrun-$SFX-gw
NS_SRV=ctcrun-$SFX-srv
CTC_PID=
TMP=
LOG=$(mktemp)

cleanup() {
    local rc=$?
    set +e
    [ -n "$CTC_PID" ] && kill -KILL "$CTC_PID" 2>/dev/null
    for ns in "$NS_CLI" "$NS_GW" "$NS_SRV"; do
        for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
        ip netns del "$ns" 2>/dev/null
    done
    rm -f "$LOG"
    [ -n "${TMP:-}" ] && rm -rf "$TMP"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
in_ns() { local ns=$1; shift; ip netns exec "$ns" "$@"; }

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
in_ns "$NS_CLI" ip link set cli0 up
in_ns "$NS_GW" ip link set gw-cli up
in_ns "$NS_GW" ip link set gw-pub up
in_ns "$NS_SRV" ip link set srv0 up
in_ns "$NS_CLI" ip route add 198.51.100.0/24 via 192.0.2.1
in_ns "$NS_CLI" ip route add 203.0.113.0/24 via 192.0.2.1
in_ns "$NS_GW" ip route add 203.0.113.0/24 via 198.51.100.47
in_ns "$NS_SRV" ip route add 192.0.2.0/24 via 198.51.100.32
in_ns "$NS_GW" sysctl -qw net.ipv4.ip_forward=1

# ctc run on the gateway; wait (bounded) for its ready line.
TMP=$(mktemp -d)
CONTROL=$TMP/ctc.sock
cp "$HERE/run-gateway.nft" "$TMP/ruleset.nft"
# The reloaded ruleset: new connections to port 7777 dropped.
sed 's|^\t\tiifname "gw-cli" oifname "gw-pub" counter accept comment "new cli->pub"|\t\ttcp dport 7777 ct state new counter drop comment "no new 7777"\n&|' \
    "$HERE/run-gateway.nft" >"$TMP/reloaded.nft"
grep -q "no new 7777" "$TMP/reloaded.nft" || { echo "could not make the reloaded ruleset"; exit 1; }
printf 'table inet filter {\n\tchain forward {\n\t\ttype filter hook forward priority filter; policy drop;\n\t\ttcp dport 7777 acept\n\t}\n}\n' >"$TMP/broken.nft"
ip netns exec "$NS_GW" "$CTC" run --ruleset "$TMP/ruleset.nft" --queue "${CTC_RUN_QUEUES:-0}" --control "$CONTROL" \
    ${CTC_RUN_VERDICTS:+--verdicts "$CTC_RUN_VERDICTS"} 2>"$LOG" &
CTC_PID=$!
for _ in $(seq 100); do
    grep -q "hook rules installed" "$LOG" && break
    kill -0 "$CTC_PID" 2>/dev/null || break
    sleep 0.1
done
grep -q "hook rules installed" "$LOG" || { echo "ctc run did not start:"; cat "$LOG"; exit 1; }
in_ns "$NS_GW" iptables -t raw -S | grep -q "CTC_PREROUTING" || { echo "no hook rules"; exit 1; }

rc=0
timeout 180 "$PYTHON" "$HERE/run_e2e.py" --cli /run/netns/"$NS_CLI" --srv /run/netns/"$NS_SRV" \
    --ctc "$CTC" --control "$CONTROL" --reloaded "$TMP/reloaded.nft" --broken "$TMP/broken.nft" || rc=$?

kill -TERM "$CTC_PID"
ctc_rc=0
for _ in $(seq 50); do kill -0 "$CTC_PID" 2>/dev/null || break; sleep 0.1; done
wait "$CTC_PID" || ctc_rc=$?
CTC_PID=
cat "$LOG"
if [ "$rc" -ne 0 ]; then echo "traffic checks failed ($rc)"; exit 1; fi
if [ "$ctc_rc" -ne 0 ]; then echo "ctc run exited $ctc_rc after SIGTERM"; exit 1; fi
for t in iptables ip6tables; do
    if in_ns "$NS_GW" "$t" -t raw -S | grep -q CTC_; then echo "$t: hook rules left behind"; exit 1; fi
done
[ -e "$CONTROL" ] && { echo "the control socket was left behind"; exit 1; }
echo "run_e2e: all checks passed; ctc exited 0; hook rules and control socket removed"
