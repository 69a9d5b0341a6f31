#!/bin/sh
# Seed the fuzz corpus (fuzz/corpus/check, gitignored) from the nftables
# bogons, dumps and examples at run time: corpus data from ../shared is
# never copied into the repository.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
shared=${CTC_SHARED:-$here/../../shared}
out=$here/corpus/check
mkdir -p "$out"
n=0
for f in "$shared"/corpus/nftables/bogons/* "$shared"/corpus/nftables/dumps/*.nft "$here"/../examples/*.nft; do
	[ -f "$f" ] || continue
	cp "$f" "$out/$(basename "$f")"
	n=$((n + 1))
done
echo "seeded $n files into $out"
