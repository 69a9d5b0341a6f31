#!/usr/bin/env bash
# Record sample captures of REAL kernel traffic for the example rulesets
# (examples/*.nft), for `ctc replay`.
#
#   sudo examples/record.sh [home-gateway] [public-server] [port-forward]
#
# For each example: build client/gateway/server network namespaces whose
# gateway has the interfaces the ruleset names (lan0, wan0), load the ruleset
# with `nft -f`, capture the frames entering (-Q in) and leaving (-Q out) each
# gateway interface, send a fixed list of flows (ping, HTTP, DNS-like UDP,
# FTP, blocked and closed ports, ...), then write to
# examples/captures/<example>/:
#   in-IF.pcap, out-IF.pcap   frames entering / leaving the gateway on IF
#   counters.txt              `nft list ruleset` after the traffic
#   conntrack.txt             `conntrack -L` after the traffic (+ expect list)
#   events.txt                `conntrack -E -o timestamp,id` during the run
#   trace.txt                 `nft monitor trace`: which rule decided each packet
#   capture.txt               all frames, time ordered, tagged in:/out:IF, with step markers
#   traffic.log               what each step reported (client's view)
#   replay.args               the `ctc replay` flags describing this topology
#   README.md                 what the traffic is and what should happen to it
#
# Addresses are documentation ranges only (192.0.2.0/24, 198.51.100.0/24,
# 203.0.113.0/24, 2001:db8::/32); the namespaces have no route out of the
# machine.  Neighbours are static (no ARP/NDP), IPv6 link-local addresses are
# not generated (no MLD/RS), offloads are off (MTU-sized frames with correct
# checksums).  Everything is torn down on exit, also on failure.
set -euo pipefail
export LC_ALL=C

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
OUT_ROOT=$HERE/captures
TOOLS=$HERE/record-tools.py
PY=/usr/bin/python3
SUFFIX=$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
WORK=$(mktemp -d /tmp/ctc-record.XXXXXX)
chmod 755 "$WORK"
NSLIST=()
PIDS=()

die() { echo "record.sh: $*" >&2; exit 1; }

cleanup() {
	set +e
	local pid ns
	for pid in "${PIDS[@]}"; do kill -INT "$pid" 2>/dev/null; done
	for pid in "${PIDS[@]}"; do
		for _ in $(seq 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	PIDS=()
	for ns in "${NSLIST[@]}"; do ip netns del "$ns" 2>/dev/null; done
	NSLIST=()
}
trap 'cleanup; rm -rf "$WORK"' EXIT
trap 'exit 130' INT TERM

[ "$(id -u)" = 0 ] || die "must run as root (network namespaces, nft)"

# ------------------------------------------------------------ dependencies ---
ensure_tools() {
	local missing=()
	command -v nft >/dev/null || missing+=(nftables)
	command -v conntrack >/dev/null || missing+=(conntrack)
	command -v tcpdump >/dev/null || missing+=(tcpdump)
	command -v ip >/dev/null || missing+=(iproute2)
	command -v ss >/dev/null || missing+=(iproute2)
	command -v ethtool >/dev/null || missing+=(ethtool)
	command -v ping >/dev/null || missing+=(iputils-ping)
	command -v openssl >/dev/null || missing+=(openssl)
	command -v stdbuf >/dev/null || missing+=(coreutils)
	[ -x "$PY" ] || missing+=(python3)
	[ -x "$PY" ] && "$PY" -c 'import pyftpdlib' 2>/dev/null || missing+=(python3-pyftpdlib)
	if [ ${#missing[@]} -gt 0 ]; then
		echo "installing: ${missing[*]}"
		timeout 300 apt-get install -y "${missing[@]}" >/dev/null ||
			{ timeout 300 apt-get update >/dev/null && timeout 300 apt-get install -y "${missing[@]}" >/dev/null; } ||
			die "could not install ${missing[*]}"
	fi
}
ensure_tools

# ---------------------------------------------------------------- helpers ---
# netns NAME: create namespace ctcrec-NAME-SUFFIX, echo its name.
mkns() {
	local ns="ctcrec-$1-$SUFFIX"
	ip netns add "$ns"
	NSLIST+=("$ns")
	ip -n "$ns" link set lo up
	# IPv6 link-local generation is disabled per interface; no RA/RS/DAD.
	nsx "$ns" sysctl -qw net.ipv6.conf.all.accept_ra=0 net.ipv6.conf.default.accept_ra=0 \
		net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 \
		net.ipv6.conf.default.router_solicitations=0
}
nsx() { local ns=$1; shift; ip netns exec "$ns" "$@"; }

# link NS_A IF_A MAC_A NS_B IF_B MAC_B: veth pair, offloads off, no link-local.
link() {
	local na=$1 ia=$2 ma=$3 nb=$4 ib=$5 mb=$6 tmp="ctr$SUFFIX"
	# created inside the namespaces: nothing appears in the caller's namespace
	ip -n "$na" link add "${tmp}a" type veth peer name "${tmp}b" netns "$nb"
	ip -n "$na" link set "${tmp}a" name "$ia" address "$ma"
	ip -n "$nb" link set "${tmp}b" name "$ib" address "$mb"
	local ns ifc
	for pair in "$na $ia" "$nb $ib"; do
		read -r ns ifc <<<"$pair"
		ip -n "$ns" link set "$ifc" addrgenmode none
		nsx "$ns" ethtool -K "$ifc" rx off tx off tso off gso off gro off >/dev/null 2>&1 ||
			nsx "$ns" ethtool -K "$ifc" tx off gso off gro off >/dev/null
		ip -n "$ns" link set "$ifc" up
	done
}
addr() { ip -n "$1" addr add "$3" dev "$2" nodad 2>/dev/null || ip -n "$1" addr add "$3" dev "$2"; }
neigh() { ip -n "$1" neigh replace "$3" lladdr "$4" dev "$2" nud permanent; }
route() { ip -n "$1" route replace "$2" via "$3"; }

gw_sysctls() {
	nsx "$1" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
	# as in the oracle recordings; the sysctls exist once conntrack is in use
	nsx "$1" sysctl -qw net.netfilter.nf_conntrack_acct=1 net.netfilter.nf_conntrack_timestamp=1
}

# spawn NS CMD...: start a background process in NS, remember its pid.
spawn() {
	local ns=$1; shift
	ip netns exec "$ns" "$@" >>"$WORK/services.log" 2>&1 &
	PIDS+=($!)
}
# wait_listen NS tcp|udp PORT: bounded wait for a listening socket.
wait_listen() {
	local flag=-ltnH
	[ "$2" = udp ] && flag=-lunH
	for _ in $(seq 100); do
		nsx "$1" ss $flag "sport = :$3" | grep -q . && return 0
		sleep 0.05
	done
	cat "$WORK/services.log" >&2
	die "nothing listens on $2/$3 in $1"
}

# capture GWNS IF...: tcpdump in and out on each interface, wait until ready.
CAP_PIDS=()
capture_start() {
	local ns=$1; shift
	local ifc dir
	for ifc in "$@"; do
		for dir in in out; do
			ip netns exec "$ns" tcpdump -i "$ifc" -Q "$dir" -w "$DEST/$dir-$ifc.pcap" -U -n -s 0 -Z root \
				>/dev/null 2>"$WORK/tcpdump-$dir-$ifc.err" &
			PIDS+=($!)
			CAP_PIDS+=($!)
		done
	done
	for ifc in "$@"; do
		for dir in in out; do
			for _ in $(seq 100); do
				grep -q "listening on" "$WORK/tcpdump-$dir-$ifc.err" && break
				sleep 0.05
			done
			grep -q "listening on" "$WORK/tcpdump-$dir-$ifc.err" || die "tcpdump on $ifc ($dir) did not start"
		done
	done
}
capture_stop() {
	local pid
	for pid in "${CAP_PIDS[@]}"; do kill -INT "$pid" 2>/dev/null || true; done
	for pid in "${CAP_PIDS[@]}"; do
		for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	CAP_PIDS=()
}

# monitors GWNS: conntrack events and nft traces of the gateway, line-buffered.
MON_PIDS=()
monitors_start() {
	local ns=$1
	# trace every packet: a separate table whose only effect is nftrace=1,
	# removed again before the counters are listed.
	nsx "$ns" nft -f - <<-'EOF'
	table inet ctcrec_trace {
		chain pre { type filter hook prerouting priority -350; meta nftrace set 1; }
		chain out { type filter hook output priority -350; meta nftrace set 1; }
	}
	EOF
	ip netns exec "$ns" stdbuf -oL nft monitor trace >"$WORK/trace.raw" 2>&1 &
	PIDS+=($!); MON_PIDS+=($!)
	ip netns exec "$ns" stdbuf -oL conntrack -E -o timestamp,id >"$DEST/events.txt" 2>"$WORK/events.err" &
	PIDS+=($!); MON_PIDS+=($!)
	ip netns exec "$ns" stdbuf -oL conntrack -E expect -o timestamp >"$WORK/expect_events.txt" 2>/dev/null &
	PIDS+=($!); MON_PIDS+=($!)
	sleep 0.5
}
monitors_stop() {
	local ns=$1 pid
	for pid in "${MON_PIDS[@]}"; do kill -INT "$pid" 2>/dev/null || true; done
	for pid in "${MON_PIDS[@]}"; do
		for _ in $(seq 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	MON_PIDS=()
	nsx "$ns" nft delete table inet ctcrec_trace
	# drop the monitor's own chatter about the trace table, keep the traces
	grep -v 'ctcrec_trace' "$WORK/trace.raw" | grep '^trace' >"$DEST/trace.txt" || true
	if [ -s "$WORK/expect_events.txt" ]; then cp "$WORK/expect_events.txt" "$DEST/expect_events.txt"; fi
}

# step NS "description" CMD...: run one bounded traffic step, log it.
STEPNO=0
step() {
	local ns=$1 desc=$2; shift 2
	STEPNO=$((STEPNO + 1))
	local t res
	t=$(date +%s.%6N)
	# ping -q: keep only "N packets transmitted, M received, ..."
	res=$(timeout 30 ip netns exec "$ns" "$@" 2>&1 | grep -v '^---\|^PING\|^rtt\|^$' | tail -n 2 | tr '\n' ' ') || true
	printf '%s\tstep %02d: %s\t=> %s\n' "$t" "$STEPNO" "$desc" "$res" >>"$DEST/traffic.log"
	printf '  step %02d: %-70s => %s\n' "$STEPNO" "$desc" "$res"
	sleep 0.3
}
tool() { echo "$PY" "$TOOLS" "$@"; }
pinger() { echo ping -n -q "$@"; }

# ------------------------------------------------------------- finishing ---
finish() {
	local ns=$1; shift
	sleep 1.5 # let the last replies and FINs cross before the snapshot
	# conntrack first (before the trace table goes), then counters
	{ nsx "$ns" conntrack -L 2>&1; } >"$DEST/conntrack.txt"
	if nsx "$ns" conntrack -L expect >/dev/null 2>&1; then
		{ echo "# conntrack -L expect"; nsx "$ns" conntrack -L expect 2>&1; } >>"$DEST/conntrack.txt"
	fi
	capture_stop
	monitors_stop "$ns"
	nsx "$ns" nft list ruleset >"$DEST/counters.txt"
	# time-ordered decode of all captures, with the step markers
	{
		local f tag
		for f in "$DEST"/in-*.pcap "$DEST"/out-*.pcap; do
			tag=$(basename "$f" .pcap)
			tag=${tag/-/:}
			tcpdump -nn -tt -r "$f" 2>/dev/null | sed "s/^\([0-9.]*\) /\1 $tag /"
		done
		awk -F'\t' '{ print $1 " ---- " $2 " " $3 }' "$DEST/traffic.log"
	} | sort -s -n -k1,1 >"$DEST/capture.txt"
	# sanity: no ARP, NDP or multicast (MLD) frames, small files
	local bad n
	for f in "$DEST"/*.pcap; do
		bad=$(tcpdump -nn -r "$f" 'arp or ip6 multicast or ip multicast or (icmp6 and (ip6[40] == 133 or ip6[40] == 135 or ip6[40] == 136))' 2>/dev/null | wc -l)
		[ "$bad" = 0 ] || die "$f has $bad ARP/NDP/multicast frames: re-run"
		[ "$(stat -c %s "$f")" -lt 204800 ] || die "$f is larger than 200 KB"
		n=$(tcpdump -nn -r "$f" 2>/dev/null | wc -l)
		printf '  %-20s %4d frames %7d bytes\n' "$(basename "$f")" "$n" "$(stat -c %s "$f")"
	done
}

write_args() { printf '%s\n' "$*" >"$DEST/replay.args"; }

# frames table for the README, from the pcaps just written
frame_counts() {
	local f
	echo "| file | frames |"
	echo "|---|---|"
	for f in "$DEST"/in-*.pcap "$DEST"/out-*.pcap; do
		echo "| \`$(basename "$f")\` | $(tcpdump -nn -r "$f" 2>/dev/null | wc -l) |"
	done
}

# begin NAME: fresh output dir, fresh namespaces
begin() {
	EX=$1
	DEST=$WORK/out-$EX
	rm -rf "$DEST"
	mkdir -p "$DEST"
	STEPNO=0
	: >"$DEST/traffic.log"
	: >"$WORK/services.log"
	echo "== $EX"
}
# publish: move the finished dir into examples/captures/ (replacing the old one)
publish() {
	cleanup
	mkdir -p "$OUT_ROOT"
	rm -rf "${OUT_ROOT:?}/$EX"
	cp -r "$DEST" "$OUT_ROOT/$EX"
	echo "   -> $OUT_ROOT/$EX"
}

make_content() {
	local d=$1
	mkdir -p "$d"
	# deterministic small files
	"$PY" -c 'import sys
open(sys.argv[1] + "/index.html", "w").write("<html><body>" + "ctc example page. " * 40 + "</body></html>\n")
open(sys.argv[1] + "/file.bin", "wb").write(bytes((i * 7 + 3) & 0xff for i in range(8192)))' "$d"
	chmod -R a+rX "$d"
}

# ============================================================ home-gateway ===
# cli (LAN host)  cli0 192.0.2.10/24 2001:db8:1::10/64            02:00:00:00:02:0a
#   <-> gw lan0 192.0.2.1/24 2001:db8:1::1/64                      02:00:00:00:02:01
#       gw wan0 198.51.100.2/24 2001:db8:ffff::2/64                02:00:00:00:64:02
#   <-> srv (provider router + Internet server) srv0               02:00:00:00:64:01
#       198.51.100.1/24 2001:db8:ffff::1/64, server 203.0.113.10/32 2001:db8:2::10/128
record_home_gateway() {
	begin home-gateway
	local CLI GW SRV
	mkns hgcli; CLI=${NSLIST[-1]}
	mkns hggw; GW=${NSLIST[-1]}
	mkns hgsrv; SRV=${NSLIST[-1]}
	local M_CLI=02:00:00:00:02:0a M_LAN=02:00:00:00:02:01 M_WAN=02:00:00:00:64:02 M_SRV=02:00:00:00:64:01
	link "$CLI" cli0 $M_CLI "$GW" lan0 $M_LAN
	link "$GW" wan0 $M_WAN "$SRV" srv0 $M_SRV
	addr "$CLI" cli0 192.0.2.10/24; addr "$CLI" cli0 2001:db8:1::10/64
	addr "$GW" lan0 192.0.2.1/24; addr "$GW" lan0 2001:db8:1::1/64
	addr "$GW" wan0 198.51.100.2/24; addr "$GW" wan0 2001:db8:ffff::2/64
	addr "$SRV" srv0 198.51.100.1/24; addr "$SRV" srv0 2001:db8:ffff::1/64
	addr "$SRV" srv0 203.0.113.10/32; addr "$SRV" srv0 2001:db8:2::10/128
	route "$CLI" 198.51.100.0/24 192.0.2.1; route "$CLI" 203.0.113.0/24 192.0.2.1
	route "$CLI" 2001:db8:ffff::/64 2001:db8:1::1; route "$CLI" 2001:db8:2::/48 2001:db8:1::1
	route "$GW" 203.0.113.0/24 198.51.100.1; route "$GW" 2001:db8:2::/48 2001:db8:ffff::1
	# the provider side can reach the LAN prefix only to show that the
	# gateway drops unsolicited inbound traffic
	route "$SRV" 192.0.2.0/24 198.51.100.2; route "$SRV" 2001:db8:1::/64 2001:db8:ffff::2
	neigh "$CLI" cli0 192.0.2.1 $M_LAN; neigh "$CLI" cli0 2001:db8:1::1 $M_LAN
	neigh "$GW" lan0 192.0.2.10 $M_CLI; neigh "$GW" lan0 2001:db8:1::10 $M_CLI
	neigh "$GW" wan0 198.51.100.1 $M_SRV; neigh "$GW" wan0 2001:db8:ffff::1 $M_SRV
	neigh "$SRV" srv0 198.51.100.2 $M_WAN; neigh "$SRV" srv0 2001:db8:ffff::2 $M_WAN

	nsx "$GW" nft -f "$HERE/home-gateway.nft"
	gw_sysctls "$GW"

	make_content "$WORK/www"
	spawn "$SRV" "$PY" "$TOOLS" http-server :: 80 "$WORK/www"
	spawn "$SRV" "$PY" "$TOOLS" dns-server 203.0.113.10 53
	spawn "$SRV" "$PY" "$TOOLS" ftp-server 203.0.113.10 "$WORK/www" 50000
	spawn "$GW" "$PY" "$TOOLS" dns-server 192.0.2.1 53
	wait_listen "$SRV" tcp 80; wait_listen "$SRV" udp 53; wait_listen "$SRV" tcp 21; wait_listen "$GW" udp 53

	sleep 2 # nothing else on the wire before the capture starts
	monitors_start "$GW"
	capture_start "$GW" lan0 wan0

	step "$CLI" "LAN ping Internet server x3 (forward, masquerade)" $(pinger -c 3 -i 0.2 -W 1 203.0.113.10)
	step "$CLI" "LAN ping gateway x2 (input, echo-request limit)" $(pinger -c 2 -i 0.2 -W 1 192.0.2.1)
	step "$CLI" "LAN HTTP GET 203.0.113.10:80 /index.html from :40001 (masquerade)" $(tool http-get 192.0.2.10 40001 203.0.113.10 80 /index.html)
	step "$CLI" "LAN DNS query 203.0.113.10:53 from :40053 (udp, masquerade)" $(tool dns 192.0.2.10 40053 203.0.113.10 53 www.example.com 4660)
	step "$CLI" "LAN DNS query to the gateway 192.0.2.1:53 from :40054 (input)" $(tool dns 192.0.2.10 40054 192.0.2.1 53 gw.example.com 4661)
	step "$CLI" "LAN UDP to closed port 203.0.113.10:9 from :40009 (ICMP error, related, NAT'ed back)" $(tool udp 192.0.2.10 40009 203.0.113.10 9 discard-me)
	step "$CLI" "LAN TCP gateway:22 from :40022 (input accepts, no sshd: gateway RST)" $(tool syn 192.0.2.10 40022 192.0.2.1 22)
	step "$CLI" "LAN TCP gateway:8080 from :40080 (input policy drop)" $(tool syn 192.0.2.10 40080 192.0.2.1 8080)
	step "$CLI" "LAN FTP passive RETR file.bin, control from :40021 (helper, masquerade)" $(tool ftp 192.0.2.10 40021 203.0.113.10 passive file.bin)
	step "$CLI" "LAN FTP active RETR file.bin, control from :40121 (helper rewrites PORT, RELATED data conn inbound)" $(tool ftp 192.0.2.10 40121 203.0.113.10 active file.bin)
	step "$SRV" "WAN ping LAN host 192.0.2.10 x2 (forward policy drop)" $(pinger -c 2 -i 0.2 -W 1 -I 198.51.100.1 192.0.2.10)
	step "$SRV" "WAN TCP 192.0.2.10:22 from 198.51.100.1:45022 (forward policy drop)" $(tool syn 198.51.100.1 45022 192.0.2.10 22)
	step "$SRV" "WAN TCP gateway 198.51.100.2:22 from 203.0.113.10:45023 (input policy drop: ssh only from LAN)" $(tool syn 203.0.113.10 45023 198.51.100.2 22)
	step "$SRV" "WAN ping gateway 198.51.100.2 x2 (input, echo-request accepted)" $(pinger -c 2 -i 0.2 -W 1 -I 198.51.100.1 198.51.100.2)
	step "$CLI" "LAN ping6 2001:db8:2::10 x2 (forward, no NAT for IPv6)" $(pinger -6 -c 2 -i 0.2 -W 1 2001:db8:2::10)
	step "$CLI" "LAN HTTP GET [2001:db8:2::10]:80 from :40002 (IPv6 forward)" $(tool http-get 2001:db8:1::10 40002 2001:db8:2::10 80 /index.html)
	step "$CLI" "LAN UDP6 to closed port [2001:db8:2::10]:9 from :40010 (ICMPv6 error, related)" $(tool udp 2001:db8:1::10 40010 2001:db8:2::10 9 discard-me)
	step "$SRV" "WAN ping6 LAN host 2001:db8:1::10 x2 (forward policy drop)" $(pinger -6 -c 2 -i 0.2 -W 1 -I 2001:db8:ffff::1 2001:db8:1::10)

	finish "$GW"
	write_args --in lan0=in-lan0.pcap --in wan0=in-wan0.pcap \
		--iface lan0=192.0.2.1/24,2001:db8:1::1/64 --iface wan0=198.51.100.2/24,2001:db8:ffff::2/64 \
		--route 203.0.113.0/24=wan0 --route 2001:db8:2::/48=wan0 \
		--sysctl acct=1 --sysctl timestamp=1
	write_readme_home_gateway
	publish
}

write_readme_home_gateway() {
	cat >"$DEST/README.md" <<-EOF
	# home-gateway: recorded kernel traffic

	Ruleset: \`../../home-gateway.nft\` (loaded unchanged with \`nft -f\`). Recorded by
	\`examples/record.sh\` on a real kernel ($(uname -r), $(nft --version)).

	## Topology

	\`\`\`
	LAN host  cli0 192.0.2.10/24, 2001:db8:1::10/64        02:00:00:00:02:0a
	   <-> gateway lan0 192.0.2.1/24, 2001:db8:1::1/64      02:00:00:00:02:01
	       gateway wan0 198.51.100.2/24, 2001:db8:ffff::2/64 02:00:00:00:64:02
	   <-> provider srv0 198.51.100.1/24, 2001:db8:ffff::1/64 02:00:00:00:64:01
	       "Internet server" on it: 203.0.113.10, 2001:db8:2::10
	gateway routes: 203.0.113.0/24 via 198.51.100.1, 2001:db8:2::/48 via 2001:db8:ffff::1
	\`\`\`
	Static neighbours, no IPv6 link-local addresses, offloads off; sysctls
	\`nf_conntrack_acct=1 nf_conntrack_timestamp=1\`, forwarding on.
	Replay from this directory:
	\`ctc replay --ruleset ../../home-gateway.nft \$(cat replay.args) --counters --table\`.

	## Traffic, step by step (\`capture.txt\` has every frame under its step)

	1. LAN ping 203.0.113.10 ×3: forwarded (lan→wan accept), **masqueraded**: in
	   \`out-wan0.pcap\` the source is 198.51.100.2; replies come back established and
	   are de-NATed to 192.0.2.10 in \`out-lan0.pcap\`.
	2. LAN ping the gateway 192.0.2.1 ×2: input accepts (echo-request, limit 10/s); the
	   echo replies are generated by the gateway (only in \`out-lan0.pcap\`).
	3. HTTP GET from 192.0.2.10:40001 to 203.0.113.10:80: full TCP exchange, masqueraded
	   (port 40001 kept unless it clashes).
	4. DNS-like UDP query 192.0.2.10:40053 → 203.0.113.10:53 and its answer, masqueraded.
	5. DNS-like query to the gateway itself (192.0.2.1:53): input accepts (\`iifname lan0
	   meta l4proto { tcp, udp } th dport 53\`); the gateway's resolver answers (out-lan0 only).
	6. UDP to a closed port 203.0.113.10:9: the server's ICMP port unreachable is
	   **RELATED**, accepted by \`ct state established,related\`, and its embedded header is
	   de-NATed on the way back to the LAN.
	7. TCP to the gateway's port 22 from the LAN: accepted by \`iifname lan0 tcp dport 22\`;
	   nothing listens, so the gateway answers RST (out-lan0 only).
	8. TCP to the gateway's port 8080 from the LAN: **dropped** by the input policy (SYN in
	   \`in-lan0.pcap\`, nothing in any out pcap).
	9. FTP, passive: control 192.0.2.10:40021 → 203.0.113.10:21 gets helper "ftp-standard"
	   in the forward chain (\`ct state new tcp dport 21 ct helper set\`); the 227 reply
	   creates an expectation; the data connection to port 50000 is **RELATED**; all masqueraded.
	10. FTP, active: control from :40121; the client's \`PORT 192,0,2,10,…\` is **rewritten by
	    the NAT helper** to 198.51.100.2 (out-wan0 shows the rewritten command, with TCP
	    sequence numbers adjusted if the length changed); the server's data connection from
	    203.0.113.10 to 198.51.100.2 is **RELATED**, DNAT'ed to 192.0.2.10 through the expectation,
	    and accepted in the forward chain although wan→lan NEW traffic is otherwise dropped.
	11. WAN ping 192.0.2.10 ×2: **dropped** by the forward policy (in-wan0 only).
	12. WAN TCP SYN to 192.0.2.10:22: **dropped** by the forward policy.
	13. WAN TCP SYN to the gateway's 198.51.100.2:22: **dropped** by the input policy (ssh only
	    from the LAN).
	14. WAN ping the gateway 198.51.100.2 ×2: accepted by input (echo-request from anywhere),
	    answered by the gateway (out-wan0 only).
	15. IPv6 LAN ping 2001:db8:2::10 ×2: forwarded (\`ip6 saddr 2001:db8:1::/64\`), **not NATed**
	    (the nat table is \`ip\` only).
	16. IPv6 HTTP GET [2001:db8:1::10]:40002 → [2001:db8:2::10]:80, forwarded.
	17. IPv6 UDP to closed port 9: ICMPv6 port unreachable back, **RELATED**.
	18. IPv6 WAN ping 2001:db8:1::10 ×2: **dropped** by the forward policy.

	## Frames

	$(frame_counts)

	The ruleset has no \`counter\` statements, so \`counters.txt\` shows none; which rule
	decided each packet is in \`trace.txt\` (\`nft monitor trace\`, recorded with an extra table
	\`ctcrec_trace\` that only sets nftrace and was deleted before the listing).
	\`conntrack.txt\` is \`conntrack -L\` 1.5 s after the last step (plus \`conntrack -L
	expect\`); \`events.txt\` the \`conntrack -E -o timestamp,id\` stream.
	EOF
}

# =========================================================== port-forward ===
# web (internal host) cli0 192.0.2.10/24                02:00:00:00:02:0a
#   <-> gw lan0 192.0.2.1/24                             02:00:00:00:02:01
#       gw wan0 198.51.100.2/24                          02:00:00:00:64:02
#   <-> net (provider router + Internet client) srv0     02:00:00:00:64:01
#       198.51.100.1/24, client 203.0.113.20/32
record_port_forward() {
	begin port-forward
	local WEB GW NET
	mkns pfweb; WEB=${NSLIST[-1]}
	mkns pfgw; GW=${NSLIST[-1]}
	mkns pfnet; NET=${NSLIST[-1]}
	local ns
	for ns in "$WEB" "$GW" "$NET"; do nsx "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1; done
	local M_WEB=02:00:00:00:02:0a M_LAN=02:00:00:00:02:01 M_WAN=02:00:00:00:64:02 M_NET=02:00:00:00:64:01
	link "$WEB" cli0 $M_WEB "$GW" lan0 $M_LAN
	link "$GW" wan0 $M_WAN "$NET" srv0 $M_NET
	addr "$WEB" cli0 192.0.2.10/24
	addr "$GW" lan0 192.0.2.1/24
	addr "$GW" wan0 198.51.100.2/24
	addr "$NET" srv0 198.51.100.1/24; addr "$NET" srv0 203.0.113.20/32
	route "$WEB" 198.51.100.0/24 192.0.2.1; route "$WEB" 203.0.113.0/24 192.0.2.1
	route "$GW" 203.0.113.0/24 198.51.100.1
	# lets the Internet side try to reach the internal host directly (dropped)
	route "$NET" 192.0.2.0/24 198.51.100.2
	neigh "$WEB" cli0 192.0.2.1 $M_LAN
	neigh "$GW" lan0 192.0.2.10 $M_WEB
	neigh "$GW" wan0 198.51.100.1 $M_NET
	neigh "$NET" srv0 198.51.100.2 $M_WAN

	nsx "$GW" nft -f "$HERE/port-forward.nft"
	gw_sysctls "$GW"

	make_content "$WORK/www"
	spawn "$WEB" "$PY" "$TOOLS" http-server 0.0.0.0 80 "$WORK/www"
	spawn "$NET" "$PY" "$TOOLS" http-server 203.0.113.20 80 "$WORK/www"
	spawn "$NET" "$PY" "$TOOLS" dns-server 203.0.113.20 53
	wait_listen "$WEB" tcp 80; wait_listen "$NET" tcp 80; wait_listen "$NET" udp 53

	sleep 1
	monitors_start "$GW"
	capture_start "$GW" lan0 wan0

	step "$NET" "Internet 203.0.113.20:41001 HTTP GET 198.51.100.2:8080 /index.html (DNAT to 192.0.2.10:80)" $(tool http-get 203.0.113.20 41001 198.51.100.2 8080 /index.html)
	step "$NET" "Internet 203.0.113.20:41002 HTTP GET 198.51.100.2:8080 / (DNAT again, serves index.html)" $(tool http-get 203.0.113.20 41002 198.51.100.2 8080 /)
	step "$NET" "Internet 203.0.113.20:41003 TCP straight to 192.0.2.10:80 (not DNAT'ed: forward policy drop)" $(tool syn 203.0.113.20 41003 192.0.2.10 80)
	step "$NET" "Internet 203.0.113.20:41004 TCP 198.51.100.2:8081 (no forward: gateway RST)" $(tool syn 203.0.113.20 41004 198.51.100.2 8081)
	step "$NET" "Internet UDP 203.0.113.20:41005 -> 198.51.100.2:8080 (DNAT is tcp only: gateway ICMP port unreachable)" $(tool udp 203.0.113.20 41005 198.51.100.2 8080 hello)
	step "$NET" "Internet ping gateway 198.51.100.2 x2 (no input chain: answered)" $(pinger -c 2 -i 0.2 -W 1 -I 203.0.113.20 198.51.100.2)
	step "$NET" "Internet ping internal host 192.0.2.10 x2 (forward policy drop)" $(pinger -c 2 -i 0.2 -W 1 -I 203.0.113.20 192.0.2.10)
	step "$WEB" "internal host HTTP GET 203.0.113.20:80 from :42001 (masquerade)" $(tool http-get 192.0.2.10 42001 203.0.113.20 80 /index.html)
	step "$WEB" "internal host DNS query 203.0.113.20:53 from :42053 (masquerade)" $(tool dns 192.0.2.10 42053 203.0.113.20 53 www.example.com 4662)
	step "$WEB" "internal host ping 203.0.113.20 x2 (masquerade)" $(pinger -c 2 -i 0.2 -W 1 203.0.113.20)
	step "$WEB" "internal host TCP 198.51.100.2:8080 from :42080 (hairpin: no DNAT from lan0, gateway RST)" $(tool syn 192.0.2.10 42080 198.51.100.2 8080)

	finish "$GW"
	write_args --in lan0=in-lan0.pcap --in wan0=in-wan0.pcap \
		--iface lan0=192.0.2.1/24 --iface wan0=198.51.100.2/24 \
		--route 203.0.113.0/24=wan0 \
		--sysctl acct=1 --sysctl timestamp=1
	write_readme_port_forward
	publish
}

write_readme_port_forward() {
	cat >"$DEST/README.md" <<-EOF
	# port-forward: recorded kernel traffic

	Ruleset: \`../../port-forward.nft\` (loaded unchanged with \`nft -f\`). Recorded by
	\`examples/record.sh\` on a real kernel ($(uname -r), $(nft --version)).

	## Topology (IPv4 only; IPv6 disabled in all namespaces)

	\`\`\`
	internal web host  cli0 192.0.2.10/24        02:00:00:00:02:0a
	   <-> gateway lan0 192.0.2.1/24              02:00:00:00:02:01
	       gateway wan0 198.51.100.2/24           02:00:00:00:64:02
	   <-> provider srv0 198.51.100.1/24           02:00:00:00:64:01
	       Internet client on it: 203.0.113.20
	gateway route: 203.0.113.0/24 via 198.51.100.1
	\`\`\`
	Replay from this directory:
	\`ctc replay --ruleset ../../port-forward.nft \$(cat replay.args) --counters --table\`.

	## Traffic, step by step (\`capture.txt\` has every frame under its step)

	1. 203.0.113.20:41001 → 198.51.100.2:8080, HTTP GET: prerouting **DNATs** to
	   192.0.2.10:80 (\`out-lan0.pcap\` shows dst 192.0.2.10 port 80); forward accepts it by
	   \`ct status dnat ip daddr 192.0.2.10 tcp dport 80\`; the replies are translated back
	   (\`out-wan0.pcap\` shows src 198.51.100.2 port 8080).
	2. The same from :41002 (a second, independent DNAT'ed connection).
	3. 203.0.113.20:41003 → 192.0.2.10:80 directly: same destination, but not DNAT'ed:
	   **dropped** by the forward policy (SYN only in \`in-wan0.pcap\`).
	4. 203.0.113.20:41004 → 198.51.100.2:8081: not forwarded; no input chain, so the
	   gateway's stack answers RST (out-wan0 only).
	5. UDP to 198.51.100.2:8080: the DNAT rule is TCP only; the gateway answers ICMP port
	   unreachable (out-wan0 only).
	6. Ping the gateway ×2: answered by the gateway.
	7. Ping the internal host 192.0.2.10 ×2: **dropped** by the forward policy.
	8. The internal host's HTTP GET to 203.0.113.20:80 from :42001: **masqueraded** behind
	   198.51.100.2 (\`iifname lan0 oifname wan0 accept\`).
	9. DNS-like UDP query 192.0.2.10:42053 → 203.0.113.20:53, masqueraded.
	10. The internal host pings 203.0.113.20 ×2, masqueraded.
	11. Hairpin: the internal host connects to 198.51.100.2:8080: the DNAT rule matches only
	    \`iifname wan0\`, so the SYN goes to the gateway itself, which answers RST.

	## Frames

	$(frame_counts)

	The ruleset has no \`counter\` statements, so \`counters.txt\` shows none; which rule
	decided each packet is in \`trace.txt\` (\`nft monitor trace\`, via an extra table
	\`ctcrec_trace\` that only sets nftrace and was deleted before the listing).
	EOF
}

# ========================================================== public-server ===
# the "gateway" namespace is the public server itself (one interface, wan0):
#   srvr wan0 198.51.100.10/24 2001:db8:100::10/64          02:00:00:00:64:0a
#   <-> net (router + clients) net0 198.51.100.1/24 2001:db8:100::1/64  02:00:00:00:64:01
#       clients: admin 198.51.100.20; Internet 203.0.113.130, 203.0.113.221,
#       2001:db8:beef::7; blocklisted 203.0.113.5, 203.0.113.210, 2001:db8:bad::5
record_public_server() {
	begin public-server
	local GW NET
	mkns psnet; NET=${NSLIST[-1]}
	mkns pssrv; GW=${NSLIST[-1]}
	local M_SRV=02:00:00:00:64:0a M_NET=02:00:00:00:64:01
	link "$GW" wan0 $M_SRV "$NET" net0 $M_NET
	addr "$GW" wan0 198.51.100.10/24; addr "$GW" wan0 2001:db8:100::10/64
	addr "$NET" net0 198.51.100.1/24; addr "$NET" net0 2001:db8:100::1/64
	addr "$NET" net0 198.51.100.20/24
	local a
	for a in 203.0.113.130 203.0.113.221 203.0.113.5 203.0.113.210; do addr "$NET" net0 $a/32; done
	for a in 2001:db8:beef::7 2001:db8:bad::5; do addr "$NET" net0 $a/128; done
	route "$GW" 203.0.113.0/24 198.51.100.1; route "$GW" 2001:db8::/32 2001:db8:100::1
	neigh "$GW" wan0 198.51.100.1 $M_NET; neigh "$GW" wan0 198.51.100.20 $M_NET
	neigh "$GW" wan0 2001:db8:100::1 $M_NET
	neigh "$NET" net0 198.51.100.10 $M_SRV; neigh "$NET" net0 2001:db8:100::10 $M_SRV

	nsx "$GW" nft -f "$HERE/public-server.nft"
	gw_sysctls "$GW"

	make_content "$WORK/www"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 30 \
		-subj /CN=www.example -keyout "$WORK/key.pem" -out "$WORK/cert.pem" >/dev/null 2>&1
	chmod 644 "$WORK/key.pem"
	spawn "$GW" "$PY" "$TOOLS" http-server :: 80 "$WORK/www"
	spawn "$GW" "$PY" "$TOOLS" http-server :: 443 "$WORK/www" "$WORK/cert.pem" "$WORK/key.pem"
	spawn "$GW" "$PY" "$TOOLS" udp-echo-server :: 443
	spawn "$GW" "$PY" "$TOOLS" banner-server :: 22
	wait_listen "$GW" tcp 80; wait_listen "$GW" tcp 443; wait_listen "$GW" udp 443; wait_listen "$GW" tcp 22

	sleep 2
	monitors_start "$GW"
	capture_start "$GW" wan0

	local S=198.51.100.10 S6=2001:db8:100::10 C=203.0.113.130 C6=2001:db8:beef::7 i
	step "$NET" "203.0.113.130 ping x3, 0.2 s apart (echo-request limit 5/s: accepted)" $(pinger -c 3 -i 0.2 -W 1 -I $C $S)
	sleep 1
	step "$NET" "203.0.113.130 ping flood: 10 echo requests with ids 17000..17009, 10 ms apart (limit 5/s: the first pass, the rest policy drop + counter)" $(tool ping-burst $C $S 10 17000 0.01)
	step "$NET" "203.0.113.130:43080 HTTP GET / (tcp 80 accept)" $(tool http-get $C 43080 $S 80 /index.html)
	step "$NET" "203.0.113.130:43443 HTTPS (TLS) GET / (tcp 443 accept)" $(tool https-get $C 43443 $S 443 /index.html)
	step "$NET" "203.0.113.130:43444 UDP 443 datagram, QUIC-like (udp 443 accept, echoed)" $(tool udp $C 43444 $S 443 quic-initial-lookalike)
	for i in 0 1 2 3 4 5 6; do
		step "$NET" "203.0.113.130:4302$i SSH connection $((i + 1))/7 (ssh_meter: over 4/min burst 2 -> drop)" $(tool ssh $C 4302$i $S)
	done
	for i in 0 1 2 3 4; do
		step "$NET" "admin 198.51.100.20:4402$i SSH connection $((i + 1))/5 (admin_net: never limited)" $(tool ssh 198.51.100.20 4402$i $S)
	done
	step "$NET" "203.0.113.130:43125 TCP port 25 (closed: policy drop, counter)" $(tool syn $C 43125 $S 25)
	step "$NET" "blocklisted 203.0.113.5 ping x2 (blocklist drop)" $(pinger -c 2 -i 0.2 -W 1 -I 203.0.113.5 $S)
	step "$NET" "blocklisted 203.0.113.5:45080 HTTP SYN (blocklist drop)" $(tool syn 203.0.113.5 45080 $S 80)
	step "$NET" "blocklisted 203.0.113.210:45081 HTTP SYN (range .200-.220: blocklist drop)" $(tool syn 203.0.113.210 45081 $S 80)
	step "$NET" "203.0.113.221:45082 HTTP GET (just past the blocklisted range: accept)" $(tool http-get 203.0.113.221 45082 $S 80 /index.html)
	step "$NET" "2001:db8:beef::7 ping6 x2 (accept)" $(pinger -6 -c 2 -i 0.2 -W 1 -I $C6 $S6)
	step "$NET" "[2001:db8:beef::7]:46080 HTTP GET (accept)" $(tool http-get $C6 46080 $S6 80 /index.html)
	for i in 0 1 2 3 4; do
		step "$NET" "[2001:db8:beef::7]:4602$i SSH connection $((i + 1))/5 (ssh_meter6)" $(tool ssh $C6 4602$i $S6)
	done
	step "$NET" "blocklisted 2001:db8:bad::5 ping6 x2 (blocklist6 drop)" $(pinger -6 -c 2 -i 0.2 -W 1 -I 2001:db8:bad::5 $S6)
	step "$NET" "blocklisted [2001:db8:bad::5]:47080 HTTP SYN (blocklist6 drop)" $(tool syn 2001:db8:bad::5 47080 $S6 80)

	finish "$GW"
	write_args --in wan0=in-wan0.pcap \
		--iface wan0=198.51.100.10/24,2001:db8:100::10/64 \
		--route 203.0.113.0/24=wan0 --route 2001:db8::/32=wan0 \
		--sysctl acct=1 --sysctl timestamp=1
	write_readme_public_server
	publish
}

write_readme_public_server() {
	cat >"$DEST/README.md" <<-EOF
	# public-server: recorded kernel traffic

	Ruleset: \`../../public-server.nft\` (loaded unchanged with \`nft -f\`). Recorded by
	\`examples/record.sh\` on a real kernel ($(uname -r), $(nft --version)).

	## Topology

	The recorded box is the public server itself; all traffic ends at it (input chain).
	\`\`\`
	server  wan0 198.51.100.10/24, 2001:db8:100::10/64        02:00:00:00:64:0a
	   <-> router net0 198.51.100.1/24, 2001:db8:100::1/64    02:00:00:00:64:01
	       clients behind it: admin 198.51.100.20 (on the link, admin_net),
	       203.0.113.130, 203.0.113.221, 2001:db8:beef::7,
	       blocklisted 203.0.113.5, 203.0.113.210, 2001:db8:bad::5
	server routes: 203.0.113.0/24 via 198.51.100.1, 2001:db8::/32 via 2001:db8:100::1
	\`\`\`
	Services on the server: HTTP (80), HTTPS (443, self-signed, regenerated each run),
	a UDP echo on 443, an SSH-like banner server on 22.
	Replay from this directory:
	\`ctc replay --ruleset ../../public-server.nft \$(cat replay.args) --counters --table\`.

	## Traffic, step by step (\`capture.txt\` has every frame under its step)

	1. 203.0.113.130 pings ×3, 0.2 s apart: accepted (\`icmp type echo-request limit rate
	   5/second\`), answered (echo replies only in \`out-wan0.pcap\`).
	2. After 1 s, a burst of 10 echo requests 10 ms apart, each with its own ICMP id (17000–17009)
	   so that each is a NEW flow (a single ping process's later requests would be ESTABLISHED
	   and never meet the limit): the first ones pass \`limit rate 5/second\` (burst 5) and are
	   answered, the rest fall to the end of the chain, are counted by
	   \`counter comment "dropped by policy"\` and dropped by the policy.
	3. HTTP GET from 203.0.113.130:43080: accepted (\`tcp dport { 80, 443 }\`).
	4. HTTPS (a real TLS handshake) from :43443: accepted.
	5. A UDP datagram to 443 (HTTP/3-like) from :43444: accepted, echoed.
	6. Seven SSH connections from 203.0.113.130 (source ports 43020–43026), ~0.3–0.8 s apart:
	   each NEW SYN updates \`@ssh_meter\`; once the source is over 4/minute (burst 2) the
	   SYN is **logged and dropped** (see \`traffic.log\`: "dropped"); the accepted ones
	   complete a banner exchange. The set element 203.0.113.130 is visible in counters.txt.
	7. Five SSH connections from the admin address 198.51.100.20: all accepted by
	   \`ip saddr 198.51.100.0/24 tcp dport 22 accept\` before the meter.
	8. TCP to port 25 from 203.0.113.130:43125: dropped by policy (counted by "dropped by policy").
	9. Blocklisted 203.0.113.5 (in 203.0.113.0/25): 2 pings and an HTTP SYN, **dropped**
	   by \`ip saddr @blocklist log … drop\`; no counter (the "dropped by policy" counter
	   does not move for them).
	10. Blocklisted 203.0.113.210 (in the range .200–.220): HTTP SYN dropped.
	11. 203.0.113.221, just outside the range: HTTP GET accepted.
	12. IPv6 2001:db8:beef::7: 2 pings accepted (icmpv6 echo-request, no limit).
	13. IPv6 HTTP GET from [2001:db8:beef::7]:46080: accepted.
	14. Five IPv6 SSH connections: \`@ssh_meter6\` limits them like step 6.
	15. Blocklisted 2001:db8:bad::5: 2 pings and an HTTP SYN dropped by \`@blocklist6\`.

	## Frames

	$(frame_counts)

	Only one rule has a counter ("dropped by policy"); which rule decided each packet is in
	\`trace.txt\` (\`nft monitor trace\`, via an extra table \`ctcrec_trace\` that only sets
	nftrace and was deleted before the listing). The log statements' messages go to the
	kernel log of the initial namespace only if \`nf_log_all_netns\` is set; they are not recorded.
	EOF
}

# =================================================================== main ===
ALL=(home-gateway public-server port-forward)
[ $# -gt 0 ] || set -- "${ALL[@]}"
for ex in "$@"; do
	case $ex in
	home-gateway) record_home_gateway ;;
	public-server) record_public_server ;;
	port-forward) record_port_forward ;;
	*) die "unknown example '$ex' (one of: ${ALL[*]})" ;;
	esac
done
echo "done: $OUT_ROOT"
