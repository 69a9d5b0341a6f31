#!/usr/bin/env bash
# The `ctc run` end-to-end test (tests/live_run.rs): client - gateway -
# server namespaces (documentation addresses, no route out), `ctc run`
# on the gateway with run-gateway.nft, real traffic (run_e2e.py), then
# SIGTERM: ctc must exit 0 and leave no hook rule behind.
#
#   run_e2e.sh CTC SUFFIX
#
# Environment: PYTHON (with pyftpdlib); CTC_RUN_QUEUES (`--queue`, default
# 0); CTC_RUN_VERDICTS (a file for `--verdicts`); CTC_RUN_QUEUE_LEN
# (`--queue-len`); CTC_E2E_MODE (`all`, the default, or `overload`: a
# flood into a short queue, see run_e2e.py); CTC_E2E_START_PLAIN (start
# without NAT, then reload with it). Everything is bounded in time and
# removed on every exit path.
set -euo pipefail
# (No `cmd | grep -q` below: grep's early exit fails the pipeline by
# SIGPIPE under pipefail; the output is captured first, `grep <<<"$(...)"`.)
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
# shellcheck source=gateway-netns.sh
. "$HERE/gateway-netns.sh"

cleanup() {
    local rc=$?
    set +e
    [ -n "$CTC_PID" ] && kill -KILL "$CTC_PID" 2>/dev/null
    remove_gateway_netns
    rm -f "$LOG"
    [ -n "${TMP:-}" ] && rm -rf "$TMP"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
make_gateway_netns

# ctc run on the gateway; wait (bounded) for its ready line.
TMP=$(mktemp -d)
CONTROL=$TMP/ctc.sock
cp "$HERE/run-gateway.nft" "$TMP/ruleset.nft"
# The reloaded ruleset: new connections to port 7777 dropped.
sed 's|^\t\tiifname "gw-cli" oifname "gw-pub" counter accept comment "new cli->pub"|\t\ttcp dport 7777 ct state new counter drop comment "no new 7777"\n&|' \
    "$HERE/run-gateway.nft" >"$TMP/reloaded.nft"
grep -q "no new 7777" "$TMP/reloaded.nft" || { echo "could not make the reloaded ruleset"; exit 1; }
printf 'table inet filter {\n\tchain forward {\n\t\ttype filter hook forward priority filter; policy drop;\n\t\ttcp dport 7777 acept\n\t}\n}\n' >"$TMP/broken.nft"
# CTC_E2E_START_PLAIN: start with the ruleset without its nat tables, then
# reload the whole one (the hook rules for NAT go in at that reload).
START=$TMP/ruleset.nft
if [ -n "${CTC_E2E_START_PLAIN:-}" ]; then
    START=$TMP/plain.nft
    awk '/^table (ip6? nat|inet prio) \{/ { skip = 1 } skip && /^\}/ { skip = 0; next } !skip' "$TMP/ruleset.nft" >"$START"
    ! grep -q "^table ip6\? nat" "$START" || { echo "could not make the plain ruleset"; exit 1; }
fi
ip netns exec "$NS_GW" "$CTC" run --ruleset "$START" --queue "${CTC_RUN_QUEUES:-0}" --control "$CONTROL" \
    ${CTC_RUN_VERDICTS:+--verdicts "$CTC_RUN_VERDICTS"} ${CTC_RUN_QUEUE_LEN:+--queue-len "$CTC_RUN_QUEUE_LEN"} 2>"$LOG" &
CTC_PID=$!
for _ in $(seq 100); do
    grep -q "hook rules installed" "$LOG" && break
    kill -0 "$CTC_PID" 2>/dev/null || break
    sleep 0.1
done
grep -q "hook rules installed" "$LOG" || { echo "ctc run did not start:"; cat "$LOG"; exit 1; }
grep -q "CTC_PREROUTING" <<<"$(in_ns "$NS_GW" iptables -t raw -S)" || { echo "no hook rules"; exit 1; }
if [ -n "${CTC_E2E_START_PLAIN:-}" ]; then
    # No NAT yet: no second stage, no address writes.
    if grep -q CTC_ <<<"$(in_ns "$NS_GW" iptables -t mangle -S)" || grep -q ctc_snat <<<"$(in_ns "$NS_GW" nft list tables)"; then
        echo "hook rules for NAT without NAT in the ruleset"; exit 1
    fi
    "$CTC" reload --control "$CONTROL" --ruleset "$TMP/ruleset.nft" || { echo "the reload to the NAT ruleset failed"; exit 1; }
    grep -q CTC_POSTROUTING <<<"$(in_ns "$NS_GW" iptables -t mangle -S)" || { echo "no second stage after the reload"; exit 1; }
    echo "ok the hook rules for NAT come with the first ruleset that has NAT"
fi
# A probe of what the kernel gives ctc and sees after it: udp dport 5300
# comes with the mark 0x55 (set before ctc's queue rule), which the
# ruleset reads to set 0x2a, and leaves (masqueraded) with that mark and
# the priority the forward chain set (given after ip_forward's own); the
# gateway's ping with the socket mark 0x66 (its socket's owner root,
# `meta skuid 0`) leaves with the mark and priority the output chain set.
in_ns "$NS_GW" nft 'add table inet probe
add chain inet probe pre { type filter hook prerouting priority -350; }
add rule inet probe pre udp dport 5300 meta mark set 0x55
add chain inet probe post { type filter hook postrouting priority 100; }
add rule inet probe post meta mark 0x2a udp dport 5300 counter comment "mark"
add rule inet probe post meta priority 1:2 udp dport 5300 counter comment "priority"
add rule inet probe post meta mark 0x67 meta priority 0:3 icmp type echo-request counter comment "own"'

rc=0
timeout 180 "$PYTHON" "$HERE/run_e2e.py" --cli /run/netns/"$NS_CLI" --srv /run/netns/"$NS_SRV" \
    --ctc "$CTC" --control "$CONTROL" --reloaded "$TMP/reloaded.nft" --broken "$TMP/broken.nft" \
    --mode "${CTC_E2E_MODE:-all}" --ctc-pid "$CTC_PID" || rc=$?

if [ "${CTC_E2E_MODE:-all}" = all ] && [ "$rc" -eq 0 ]; then
    in_ns "$NS_GW" ping -c 1 -W 3 -m 102 198.51.100.47 >/dev/null || { echo "the gateway's own ping got no answer"; rc=1; }
fi

kill -TERM "$CTC_PID"
ctc_rc=0
for _ in $(seq 50); do kill -0 "$CTC_PID" 2>/dev/null || break; sleep 0.1; done
wait "$CTC_PID" || ctc_rc=$?
CTC_PID=
cat "$LOG"
if [ "$rc" -ne 0 ]; then echo "traffic checks failed ($rc)"; exit 1; fi
if [ "$ctc_rc" -ne 0 ]; then echo "ctc run exited $ctc_rc after SIGTERM"; exit 1; fi
if [ "${CTC_E2E_MODE:-all}" = all ]; then
    PROBE=$(in_ns "$NS_GW" nft list table inet probe)
    for what in mark priority own; do
        grep -q "counter packets [1-9][0-9]* bytes [0-9]* comment \"$what\"" <<<"$PROBE" ||
            { echo "probe \"$what\": no packet left the gateway as the ruleset meant"; echo "$PROBE"; exit 1; }
    done
    echo "ok the kernel gives ctc the packets' marks and sees the marks and priorities the ruleset sets"
    # The dropped port's rule logs.
    grep -q "ctc-e2e dropped: IN=gw-cli OUT=gw-pub .*PROTO=UDP .*DPT=5998" "$LOG" || { echo "no log line of the dropped port"; exit 1; }
    echo "ok log statements write to standard error"
fi
for t in iptables ip6tables; do
    for table in raw mangle; do
        if grep -q CTC_ <<<"$(in_ns "$NS_GW" "$t" -t "$table" -S)"; then echo "$t -t $table: hook rules left behind"; exit 1; fi
    done
done
if grep -q ctc_ <<<"$(in_ns "$NS_GW" nft list tables)"; then echo "nft tables left behind"; exit 1; fi
[ -e "$CONTROL" ] && { echo "the control socket was left behind"; exit 1; }
echo "run_e2e: all checks passed; ctc exited 0; hook rules and control socket removed"
