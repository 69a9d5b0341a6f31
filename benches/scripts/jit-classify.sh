#!/usr/bin/env bash
# JIT vs interpreter, side by side in one run: `ctc bench classify` on the
# ClassBench seeds fw1 and acl1 cut to 10, 100, 1,000 and all (~10,000)
# rules, synthetic traffic aimed at every depth (one packet in ten at no
# rule). Prints a Markdown table (ns/packet, speed-up, compile time).
#
#   cargo build --release -p ctc-cli -p ctc-benches
#   benches/scripts/jit-classify.sh [PACKETS] > table.md
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cb=${CTC_SHARED:-$root/../shared}/corpus/classbench
packets=${1:-20000}
bin=$root/target/release
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
field() { sed -n "s/.* $1=\([0-9.]*\).*/\1/p"; }
echo "| ruleset | rules | interp ns/pkt | jit ns/pkt | speed-up | jit Mpps | jit compile ms |"
echo "|---|---|---|---|---|---|---|"
for seed in fw1 acl1; do
  for n in 10 100 1000 all; do
    f=$tmp/$seed-$n.nft
    if [ "$n" = all ]; then
      "$bin/gen-classbench" "$cb/${seed}_10k" > "$f" 2>/dev/null
    else
      "$bin/gen-classbench" "$cb/${seed}_10k" --limit "$n" > "$f" 2>/dev/null
    fi
    i=$("$bin/ctc" bench classify --ruleset "$f" --synthetic "$packets" --engine interp | tail -1)
    j=$("$bin/ctc" bench classify --ruleset "$f" --synthetic "$packets" --engine jit | tail -1)
    rules=$(echo "$j" | field rules)
    ni=$(echo "$i" | field ns_per_packet)
    nj=$(echo "$j" | field ns_per_packet)
    echo "| ${seed}_10k | $rules | $ni | $nj | $(echo "scale=1; $ni / $nj" | bc)× | $(echo "$j" | field mpps) | $(echo "$j" | field compile_ms) |"
  done
done
