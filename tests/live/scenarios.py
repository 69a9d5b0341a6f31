#!/usr/bin/env python3
"""Scenarios of the live differential harness (tests/live_conntrack.rs).

    scenarios.py list                          the scenario names, one a line
    scenarios.py describe NAME OUTDIR          write desc.txt, checks.txt,
                                               gw-sysctl.conf, replay.args;
                                               print shell assignments
    scenarios.py run NAME --cli NS --srv NS    send the scenario's traffic

record.sh builds the namespaces (client - gateway - server, see
../../../shared/oracle/README.md) and calls `describe` and `run`.

One process drives both ends: it enters the client's and the server's network
namespace (setns) only to create its sockets there, so a scenario is one
ordered script. Two kinds of scenario:

- real sockets: the end hosts' kernels speak TCP, UDP, ICMP themselves;
- crafted (scapy): frames built byte for byte (correct checksums) and sent on
  AF_PACKET sockets on the client's cli0 and the server's srv0, entering the
  gateway as if from a wire. The end hosts are silent (record.sh drops every
  frame they receive at netdev ingress), so no kernel answers with an RST or
  an ICMP error: the gateway sees exactly the scripted sequence.

Each scenario also says what the kernel must have done with it (`checks`),
verified by the Rust test on the recording: these are the recording's own
checks (did the scenario do what it means to), independent of ctc.

Check kinds (checks.txt, one a line, fields separated by tabs):
  event WORD...          some event line has all these words (after removing
                         the timestamp and id=)
  noevent WORD...        no event line has all these words
  eventtimeout WORD... MIN MAX
                         some event line has all these words and a timeout in
                         MIN..=MAX (the kernel computes it when it builds the
                         event, rounded down: a tick after the update it reads
                         a second less)
  eventcount N           exactly N event lines
  counter COMMENT OP N   the packets of the rule with that comment; OP is ==
                         or >=
  expect WORD...         some expectation event line (`conntrack -E expect`)
                         has all these words
  outpayload IFACE TEXT  some frame the gateway sent out of IFACE holds the
                         bytes TEXT (e.g. a rewritten FTP command)
  table WORD...          some `conntrack -L` line has all these words
  notable WORD...        no `conntrack -L` line has all these words
  timeout WORD MIN MAX   the `conntrack -L` line with WORD has a remaining
                         timeout in MIN..=MAX
Every wait here is bounded (socket timeouts, fixed counts).
"""

import argparse
import ctypes
import os
import socket
import struct
import sys
import threading
import time

CLI_MAC = "02:00:00:00:02:02"
GWC_MAC = "02:00:00:00:02:01"
GWP_MAC = "02:00:00:00:64:20"
SRV_MAC = "02:00:00:00:64:2f"
CLI4, SRV4 = "192.0.2.2", "203.0.113.47"
CLI6, SRV6 = "2001:db8:1::2", "2001:db8:203::47"

# Seconds between two crafted frames: each is fully handled by the gateway
# (and its events delivered) before the next one comes.
GAP = 0.02
# Bound of every blocking socket call.
SOCK_TIMEOUT = 5.0

REPLAY_BASE = (
    "--in gw-cli=in-gw-cli.pcap --in gw-pub=in-gw-pub.pcap "
    "--iface gw-cli=192.0.2.1/24,2001:db8:1::1/64 "
    "--iface gw-pub=198.51.100.32/24,2001:db8:100::32/64 "
    "--route 203.0.113.0/24=gw-pub --route 2001:db8:203::/48=gw-pub "
    "--sysctl acct=1 --sysctl timestamp=1"
)


class Scenario:
    def __init__(self, name, fn, desc, crafted, sysctls, checks, ruleset, logs=False):
        self.logs = logs
        self.name = name
        self.fn = fn
        self.desc = desc
        self.crafted = crafted
        self.sysctls = sysctls
        self.checks = checks
        self.ruleset = ruleset


SCENARIOS = {}


def scenario(name, desc, crafted=False, sysctls=(), checks=(), ruleset="gateway.nft", logs=False):
    """Register a scenario. `sysctls` are (NAME, VALUE) pairs of
    net.netfilter.nf_conntrack_NAME in the gateway (ctc's --sysctl NAME);
    `ruleset` the gateway's ruleset, a file of tests/live; `logs`: its
    `log` lines are recorded (prefixes "ctcl-@RUN@ ...")."""

    def deco(fn):
        assert name not in SCENARIOS, name
        SCENARIOS[name] = Scenario(name, fn, desc, crafted, list(sysctls), list(checks), ruleset, logs)
        return fn

    return deco


# --------------------------------------------------------------------------
# Namespaces
# --------------------------------------------------------------------------

CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL(None, use_errno=True)


def _setns(fd):
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise OSError(err, "setns: " + os.strerror(err))


class Net:
    """The client's and the server's namespaces; sockets are created inside
    them and keep living there after we return to our own namespace."""

    def __init__(self, cli, srv):
        self.home = os.open("/proc/self/ns/net", os.O_RDONLY)
        self.fds = {"cli": os.open(cli, os.O_RDONLY), "srv": os.open(srv, os.O_RDONLY)}

    def make(self, where, factory):
        _setns(self.fds[where])
        try:
            return factory()
        finally:
            _setns(self.home)

    def tcp(self, where, v6):
        def f():
            s = socket.socket(socket.AF_INET6 if v6 else socket.AF_INET, socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.settimeout(SOCK_TIMEOUT)
            return s

        return self.make(where, f)

    def udp(self, where, v6):
        def f():
            s = socket.socket(socket.AF_INET6 if v6 else socket.AF_INET, socket.SOCK_DGRAM)
            s.settimeout(SOCK_TIMEOUT)
            return s

        return self.make(where, f)


# --------------------------------------------------------------------------
# Real sockets
# --------------------------------------------------------------------------


def addrs(v6):
    return (CLI6, SRV6) if v6 else (CLI4, SRV4)


def recv_exact(sock, n):
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise RuntimeError("peer closed after %d of %d bytes" % (len(buf), n))
        buf += chunk
    return buf


def tcp_conversation(net, v6, sport, dport, rounds, closer, pause=0.3):
    """A TCP connection through the gateway: `rounds` request/response
    exchanges, then `closer` ("client" or "server") sends the first FIN; the
    other side closes `pause` seconds later, so that the pure ACK of the first
    FIN goes out alone and every conntrack state shows."""
    cli_a, srv_a = addrs(v6)
    lst = net.tcp("srv", v6)
    lst.bind((srv_a, dport))
    lst.listen(1)
    c = net.tcp("cli", v6)
    c.bind((cli_a, sport))
    c.connect((srv_a, dport))
    s, _ = lst.accept()
    s.settimeout(SOCK_TIMEOUT)
    for i in range(rounds):
        msg = b"hello %d\n" % i
        c.sendall(msg)
        got = recv_exact(s, len(msg))
        s.sendall(got.upper())
        recv_exact(c, len(msg))
        time.sleep(0.05)
    if closer == "client":
        c.shutdown(socket.SHUT_WR)
        if s.recv(1) != b"":
            raise RuntimeError("server expected EOF")
        time.sleep(pause)
        s.close()
        if c.recv(1) != b"":
            raise RuntimeError("client expected EOF")
        c.close()
    else:
        s.shutdown(socket.SHUT_WR)
        if c.recv(1) != b"":
            raise RuntimeError("client expected EOF")
        time.sleep(pause)
        c.close()
        if s.recv(1) != b"":
            raise RuntimeError("server expected EOF")
        s.close()
    lst.close()
    time.sleep(0.1)


def udp_exchange(c, s, srv_addr, payload, reply=True):
    c.sendto(payload, srv_addr)
    data, peer = s.recvfrom(2048)
    if reply:
        s.sendto(data.upper(), peer)
        c.recvfrom(2048)


def inet_checksum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def echo_requests(net, v6, ident, count, src=None, dst=None):
    """`count` ICMP(v6) echo requests from the client's raw socket (from
    `src`, to `dst`: by default the client's and the server's address); the
    server's kernel answers each; wait (bounded) for every reply."""
    cli_a, srv_a = addrs(v6)
    cli_a, srv_a = src or cli_a, dst or srv_a
    fam = socket.AF_INET6 if v6 else socket.AF_INET
    proto = socket.IPPROTO_ICMPV6 if v6 else socket.IPPROTO_ICMP

    def f():
        s = socket.socket(fam, socket.SOCK_RAW, proto)
        s.settimeout(SOCK_TIMEOUT)
        s.bind((cli_a, 0))
        return s

    s = net.make("cli", f)
    req_type, rep_type = (128, 129) if v6 else (8, 0)
    for seq in range(1, count + 1):
        payload = b"ctc-live-%02d" % seq + bytes(20)
        hdr = struct.pack("!BBHHH", req_type, 0, 0, ident, seq)
        # ICMPv6 raw sockets: the kernel fills in the checksum (pseudo-header).
        csum = 0 if v6 else inet_checksum(hdr + payload)
        s.sendto(struct.pack("!BBHHH", req_type, 0, csum, ident, seq) + payload, (srv_a, 0))
        deadline = time.time() + SOCK_TIMEOUT
        while True:
            if time.time() > deadline:
                raise RuntimeError("no echo reply for seq %d" % seq)
            data = s.recv(2048)
            icmp = data if v6 else data[(data[0] & 0xF) * 4 :]
            if len(icmp) >= 8 and icmp[0] == rep_type and struct.unpack("!HH", icmp[4:8]) == (ident, seq):
                break
        time.sleep(0.1)
    s.close()


@scenario(
    "tcp_client_close",
    "IPv4 TCP through the gateway with real sockets: 192.0.2.2:40001 -> 203.0.113.47:80, two\n"
    "request/response rounds, then the CLIENT closes first (shutdown => FIN); the server closes\n"
    "0.3 s later, so its pure ACK of the client FIN goes out alone: FIN / ACK / FIN / ACK.",
    checks=[
        ("event", "[NEW]", "SYN_SENT", "[UNREPLIED]", "dport=80"),
        ("event", "SYN_RECV"),
        ("event", "ESTABLISHED", "[ASSURED]"),
        ("event", "FIN_WAIT"),
        ("event", "CLOSE_WAIT"),
        ("event", "LAST_ACK"),
        ("event", "TIME_WAIT"),
        ("counter", "new cli->pub", "==", 1),
        ("counter", "established", ">=", 10),
        ("counter", "invalid", "==", 0),
        ("table", "TIME_WAIT", "dport=80", "[ASSURED]"),
    ],
)
def tcp_client_close(net):
    tcp_conversation(net, False, 40001, 80, rounds=2, closer="client")


@scenario(
    "tcp_server_close",
    "IPv4 TCP with real sockets: 192.0.2.2:40002 -> 203.0.113.47:81, one round, then the SERVER\n"
    "closes first (FIN from the reply direction); the client closes 0.3 s after reading EOF.",
    checks=[
        ("event", "[NEW]", "SYN_SENT", "dport=81"),
        ("event", "ESTABLISHED", "[ASSURED]"),
        ("event", "FIN_WAIT"),
        ("event", "CLOSE_WAIT"),
        ("event", "LAST_ACK"),
        ("event", "TIME_WAIT"),
        ("counter", "new cli->pub", "==", 1),
        ("counter", "invalid", "==", 0),
        ("table", "TIME_WAIT", "dport=81"),
    ],
)
def tcp_server_close(net):
    tcp_conversation(net, False, 40002, 81, rounds=1, closer="server")


@scenario(
    "tcp_rst_closed_port",
    "IPv4 TCP connect from 192.0.2.2:40101 to a closed port 203.0.113.47:82: the server's kernel\n"
    "answers the SYN with RST/ACK; a second attempt from :40102 the same. Conntrack kills an entry\n"
    "whose only reply is an RST.",
    checks=[
        ("event", "[NEW]", "SYN_SENT", "sport=40101"),
        ("event", "[DESTROY]", "sport=40101"),
        ("event", "[DESTROY]", "sport=40102"),
        ("counter", "new cli->pub", "==", 2),
        ("counter", "established", "==", 2),
        ("notable", "dport=82"),
    ],
)
def tcp_rst_closed_port(net):
    for sport in (40101, 40102):
        c = net.tcp("cli", False)
        c.bind((CLI4, sport))
        try:
            c.connect((SRV4, 82))
            raise RuntimeError("connect to a closed port succeeded")
        except ConnectionRefusedError:
            pass
        c.close()
        time.sleep(0.1)


def udp_conversation(net, v6, sport, dport, assured_after):
    cli_a, srv_a = addrs(v6)
    s = net.udp("srv", v6)
    s.bind((srv_a, dport))
    c = net.udp("cli", v6)
    c.bind((cli_a, sport))
    udp_exchange(c, s, (srv_a, dport), b"query 1")
    time.sleep(0.1)
    udp_exchange(c, s, (srv_a, dport), b"query 2")
    # Still active more than 2 s after the first packet: a UDP stream, the
    # entry becomes ASSURED with the longer timeout.
    time.sleep(assured_after)
    udp_exchange(c, s, (srv_a, dport), b"query 3")
    c.close()
    s.close()


@scenario(
    "udp_request_response",
    "IPv4 UDP with real sockets: 192.0.2.2:40201 -> 203.0.113.47:5300, a request/response, another\n"
    "0.1 s later, a third 2.3 s later (more than 2 s after the first packet: a stream, ASSURED).",
    checks=[
        ("eventtimeout", "[NEW]", "udp", "[UNREPLIED]", "dport=5300", 29, 30),
        ("eventtimeout", "[UPDATE]", "udp", "dport=5300", 29, 30),
        ("eventtimeout", "[UPDATE]", "udp", "[ASSURED]", 119, 120),
        ("counter", "new cli->pub", "==", 1),
        ("counter", "established", "==", 5),
        ("table", "udp", "dport=5300", "[ASSURED]"),
    ],
)
def udp_request_response(net):
    udp_conversation(net, False, 40201, 5300, 2.3)


@scenario(
    "udp6_request_response",
    "IPv6 UDP with real sockets: [2001:db8:1::2]:40211 -> [2001:db8:203::47]:5300, like\n"
    "udp_request_response (three exchanges, the last 2.3 s later: ASSURED).",
    checks=[
        ("event", "[NEW]", "udp", "[UNREPLIED]", "dst=2001:db8:203::47"),
        ("eventtimeout", "[UPDATE]", "udp", "[ASSURED]", 119, 120),
        ("counter", "new cli->pub", "==", 1),
        ("counter", "established", "==", 5),
    ],
)
def udp6_request_response(net):
    udp_conversation(net, True, 40211, 5300, 2.3)


@scenario(
    "udp_oneway",
    "IPv4 UDP one way: three datagrams 192.0.2.2:40301 -> 203.0.113.47:5301, 0.1 s apart, to a\n"
    "socket that never answers: the entry stays UNREPLIED and every packet is ct state new.",
    checks=[
        ("event", "[NEW]", "udp", "[UNREPLIED]", "dport=5301"),
        ("eventcount", 1),
        ("counter", "new cli->pub", "==", 3),
        ("counter", "established", "==", 0),
        ("table", "udp", "dport=5301", "[UNREPLIED]"),
    ],
)
def udp_oneway(net):
    s = net.udp("srv", False)
    s.bind((SRV4, 5301))
    c = net.udp("cli", False)
    c.bind((CLI4, 40301))
    for i in range(3):
        udp_exchange(c, s, (SRV4, 5301), b"one way %d" % i, reply=False)
        time.sleep(0.1)
    c.close()
    s.close()


# TOS byte -> the priority ip_forward gives (rt_tos2priority): low cost
# (0x02) changes nothing, throughput (0x08) is bulk (2), low delay (0x10)
# interactive (6), both interactive bulk (4).
TOS_FLOWS = [(0x00, 5320), (0x08, 5321), (0x10, 5322), (0x18, 5323), (0x04, 5324), (0x1C, 5325)]


def udp_with_class(net, v6, tclass, dport, sport):
    cli_a, srv_a = addrs(v6)
    s = net.udp("srv", v6)
    s.bind((srv_a, dport))
    c = net.udp("cli", v6)
    if v6:
        c.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_TCLASS, tclass)
    else:
        c.setsockopt(socket.IPPROTO_IP, socket.IP_TOS, tclass)
    c.bind((cli_a, sport))
    udp_exchange(c, s, (srv_a, dport), b"tos %d" % tclass)
    c.close()
    s.close()


@scenario(
    "meta_priority",
    "Packet priorities (meta-gateway.nft): IPv4 UDP request/response with TOS 0x00, 0x08, 0x10,\n"
    "0x18, 0x04, 0x1c (ports 5320-5325: ip_forward's priorities 0, 2, 6, 4, 0, 4 in the forward\n"
    "chain); to port 5311 over IPv4 (TOS 0x10) and IPv6 with `meta priority set 7` at prerouting\n"
    "(IPv4 loses it in ip_forward, IPv6 keeps it); to port 5312 over both with `meta priority set\n"
    "1:5` in the forward chain (seen at postrouting).",
    checks=[
        ("counter", "priority 7 at prerouting", "==", 2),
        ("counter", "priority 7 in forward", "==", 1),
        ("counter", "ipv4 priority 2", "==", 1),
        ("counter", "ipv4 priority 4", "==", 2),
        ("counter", "ipv4 priority 6", "==", 2),
        ("counter", "priority set in forward", "==", 2),
        ("counter", "priority 1:5 at postrouting", "==", 2),
        ("counter", "new cli->pub", "==", 10),
        ("counter", "established", "==", 10),
        ("counter", "invalid", "==", 0),
    ],
    ruleset="meta-gateway.nft",
)
def meta_priority(net):
    for i, (tos, dport) in enumerate(TOS_FLOWS):
        udp_with_class(net, False, tos, dport, 40501 + i)
    udp_with_class(net, False, 0x10, 5311, 40511)
    udp_with_class(net, True, 0x10, 5311, 40512)
    udp_with_class(net, False, 0, 5312, 40513)
    udp_with_class(net, True, 0, 5312, 40514)


def udp_sized(net, v6, sport, dport, request, reply, rounds):
    """`rounds` exchanges between the client's port `sport` and the server's
    `dport`: a request of `request` payload bytes, a reply of `reply`."""
    cli_a, srv_a = addrs(v6)
    s = net.udp("srv", v6)
    s.bind((srv_a, dport))
    c = net.udp("cli", v6)
    c.bind((cli_a, sport))
    for _ in range(rounds):
        c.sendto(b"q" * request, (srv_a, dport))
        _, peer = s.recvfrom(4096)
        s.sendto(b"r" * reply, peer)
        c.recvfrom(4096)
    c.close()
    s.close()


@scenario(
    "ct_counters",
    "Rules on a connection's counters (ct-gateway.nft: `ct packets`, `ct bytes`, `ct avgpkt`, by\n"
    "direction and both): IPv4 UDP 192.0.2.2:40531 -> 203.0.113.47:5340, three exchanges of a\n"
    "1000-byte request (1028 bytes of IP) and a 600-byte reply (628); IPv6 UDP to port 5341, three\n"
    "of 100 and 50 bytes (148 and 98). A rule sees the counters with its own packet counted.",
    checks=[
        ("counter", "third packet of the original direction", "==", 4),
        ("counter", "past four packets", "==", 4),
        ("counter", "a reply counted", "==", 10),
        ("counter", "average under 700 bytes", "==", 6),
        ("counter", "average 700 bytes or more", "==", 6),
        ("counter", "original average 1028", "==", 6),
        ("counter", "reply average over 500", "==", 5),
        ("counter", "new cli->pub", "==", 2),
        ("counter", "established", "==", 10),
        ("table", "udp", "dport=5340", "bytes=3084", "bytes=1884"),
        ("table", "udp", "dport=5341", "bytes=444", "bytes=294"),
    ],
    ruleset="ct-gateway.nft",
)
def ct_counters(net):
    udp_sized(net, False, 40531, 5340, 1000, 600, 3)
    udp_sized(net, True, 40532, 5341, 100, 50, 3)


@scenario(
    "log_lines",
    "`log` lines (log-gateway.nft), compared line by line with the kernel's: IPv4 UDP\n"
    "192.0.2.2:40521 -> 203.0.113.47:5330, marked 0x7 and logged at prerouting before a dnat to\n"
    "port 5331, logged again in the forward chain (flags skuid); IPv6 UDP to port 5331; a TCP SYN\n"
    "to the closed port 5332 logged with its sequence numbers and options; an ICMPv6 echo request\n"
    "to the gateway logged in its input chain; IPv4 UDP with IP options (NOP NOP NOP EOL) to the\n"
    "closed port 5333 logged with every flag, and the ICMP port unreachable that answers it (with\n"
    "the quoted packet); IPv6 UDP with a destination options header to the closed port 5334, and\n"
    "its ICMPv6 error.",
    checks=[
        ("log", "pre:", "OUT=", "DPT=5330", "TTL=64", "MARK=0x7"),
        ("log", "fwd:", "OUT=gw-pub", "DST=203.0.113.47", "DPT=5331", "MARK=0x7"),
        ("log", "fwd:", "DST=2001:0db8:0203:0000:0000:0000:0000:0047", "DPT=5331"),
        ("log", "syn:", "DPT=5332", "SYN", "ACK=0"),
        ("log", "all:", "OPT", "(01010100)", "MACPROTO=0800", "DPT=5333"),
        ("log", "err:", "TYPE=3", "CODE=3", "[SRC=192.0.2.2", "DPT=5333"),
        ("log", "ext6:", "OPT", "DPT=5334"),
        ("log", "err6:", "TYPE=1", "CODE=4", "[SRC=2001:0db8:0001:0000:0000:0000:0000:0002"),
        ("log", "in6:", "IN=gw-cli", "OUT=", "PROTO=ICMPv6", "TYPE=128"),
        ("counter", "logged before dnat", "==", 1),
        ("counter", "logged after dnat", "==", 2),
        ("counter", "echo request to the gateway logged", "==", 1),
    ],
    ruleset="log-gateway.nft",
    logs=True,
)
def log_lines(net):
    s = net.udp("srv", False)
    s.bind((SRV4, 5331))
    c = net.udp("cli", False)
    c.bind((CLI4, 40521))
    udp_exchange(c, s, (SRV4, 5330), b"logged")
    c.close()
    s.close()
    udp_with_class(net, True, 0, 5331, 40522)
    t = net.tcp("cli", False)
    t.bind((CLI4, 40523))
    try:
        t.connect((SRV4, 5332))
        raise RuntimeError("port 5332 accepted a connection")
    except ConnectionRefusedError:
        pass
    t.close()
    echo_requests(net, True, 0x4242, 1, dst="2001:db8:1::1")
    # IPv4 options on a UDP socket; the closed port answers.
    c = net.udp("cli", False)
    c.setsockopt(socket.IPPROTO_IP, socket.IP_OPTIONS, bytes([1, 1, 1, 0]))
    c.bind((CLI4, 40524))
    c.connect((SRV4, 5333))
    c.send(b"with options")
    try:
        c.recv(100)
        raise RuntimeError("a closed port answered")
    except ConnectionRefusedError:
        pass
    c.close()
    # An IPv6 destination options header (PadN), as ancillary data.
    c = net.udp("cli", True)
    c.bind((CLI6, 40525))
    c.connect((SRV6, 5334))
    dstopts = bytes([0, 0, 1, 4, 0, 0, 0, 0])
    c.sendmsg([b"with dstopts"], [(socket.IPPROTO_IPV6, socket.IPV6_DSTOPTS, dstopts)])
    try:
        c.recv(100)
        raise RuntimeError("a closed port answered")
    except ConnectionRefusedError:
        pass
    c.close()


@scenario(
    "icmp_echo",
    "IPv4 ICMP echo (raw socket, id 0x1234): three echo requests 192.0.2.2 -> 203.0.113.47, the\n"
    "server's kernel answers each.",
    checks=[
        ("event", "[NEW]", "icmp", "type=8", "code=0", "id=4660", "[UNREPLIED]"),
        ("event", "[UPDATE]", "icmp"),
        ("counter", "new cli->pub", "==", 1),
        ("counter", "established", "==", 5),
        ("table", "icmp", "id=4660"),
    ],
)
def icmp_echo(net):
    echo_requests(net, False, 0x1234, 3)


@scenario(
    "icmpv6_echo",
    "IPv6 ICMPv6 echo (raw socket, id 0x4321): three echo requests 2001:db8:1::2 ->\n"
    "2001:db8:203::47, the server's kernel answers each.",
    checks=[
        ("event", "[NEW]", "icmpv6", "type=128", "code=0", "id=17185", "[UNREPLIED]"),
        ("event", "[UPDATE]", "icmpv6"),
        ("counter", "new cli->pub", "==", 1),
        ("counter", "established", "==", 5),
    ],
)
def icmpv6_echo(net):
    echo_requests(net, True, 0x4321, 3)


def udp_to_closed_port(net, v6, sports, dport):
    cli_a, srv_a = addrs(v6)
    for sport in sports:
        c = net.udp("cli", v6)
        c.bind((cli_a, sport))
        c.connect((srv_a, dport))
        c.send(b"anybody there?")
        try:
            c.recv(100)
            raise RuntimeError("a closed port answered")
        except ConnectionRefusedError:
            pass
        c.close()
        time.sleep(0.1)


@scenario(
    "icmp_error_related",
    "IPv4 UDP to a closed port: 192.0.2.2:40401 and :40402 -> 203.0.113.47:5399; the server's\n"
    "kernel answers ICMP port unreachable, which is RELATED to the UDP entry (no event of its own).",
    checks=[
        ("event", "[NEW]", "udp", "sport=40401", "[UNREPLIED]"),
        ("event", "[NEW]", "udp", "sport=40402", "[UNREPLIED]"),
        ("eventcount", 2),
        ("counter", "related", "==", 2),
        ("counter", "new cli->pub", "==", 2),
        ("counter", "established", "==", 0),
    ],
)
def icmp_error_related(net):
    udp_to_closed_port(net, False, (40401, 40402), 5399)


@scenario(
    "icmpv6_error_related",
    "IPv6 UDP to a closed port: [2001:db8:1::2]:40411 and :40412 -> [2001:db8:203::47]:5399; the\n"
    "server's kernel answers ICMPv6 port unreachable, RELATED to the UDP entry.",
    checks=[
        ("event", "[NEW]", "udp", "sport=40411", "[UNREPLIED]"),
        ("eventcount", 2),
        ("counter", "related", "==", 2),
        ("counter", "new cli->pub", "==", 2),
    ],
)
def icmpv6_error_related(net):
    udp_to_closed_port(net, True, (40411, 40412), 5399)


@scenario(
    "tcp6_client_close",
    "IPv6 TCP with real sockets: [2001:db8:1::2]:40501 -> [2001:db8:203::47]:80, two rounds,\n"
    "client closes first, server 0.3 s later.",
    checks=[
        ("event", "[NEW]", "SYN_SENT", "dst=2001:db8:203::47"),
        ("event", "ESTABLISHED", "[ASSURED]"),
        ("event", "FIN_WAIT"),
        ("event", "CLOSE_WAIT"),
        ("event", "LAST_ACK"),
        ("event", "TIME_WAIT"),
        ("counter", "new cli->pub", "==", 1),
        ("counter", "invalid", "==", 0),
    ],
)
def tcp6_client_close(net):
    tcp_conversation(net, True, 40501, 80, rounds=2, closer="client")


# --------------------------------------------------------------------------
# Crafted frames (scapy)
# --------------------------------------------------------------------------


def scapy():
    import logging

    logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
    import scapy.all as sc

    return sc


class Wire:
    """AF_PACKET sockets on cli0 (client side) and srv0 (server side)."""

    # Frames sent by every Wire of this run (record.sh writes it to sent.txt:
    # the captures must hold exactly that many).
    total = 0

    def __init__(self, net):
        self.sc = scapy()

        def mk(ifname):
            def f():
                s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
                s.bind((ifname, 0))
                return s

            return f

        self.cli_sock = net.make("cli", mk("cli0"))
        self.srv_sock = net.make("srv", mk("srv0"))

    def send(self, from_cli, l3):
        sc = self.sc
        if from_cli:
            frame = sc.Ether(src=CLI_MAC, dst=GWC_MAC) / l3
            sock = self.cli_sock
        else:
            frame = sc.Ether(src=SRV_MAC, dst=GWP_MAC) / l3
            sock = self.srv_sock
        sock.send(bytes(frame))
        Wire.total += 1
        time.sleep(GAP)


SYN_OPTS = [("MSS", 1460)]


class Flow:
    """One scripted TCP connection. c()/s() send a segment from the client or
    the server; by default seq is the sender's next sequence number, ack (when
    the A flag is set) the peer's, and seq advances by the payload, SYN and
    FIN. An explicit seq= sends that and advances nothing (retransmissions,
    out-of-window segments)."""

    def __init__(self, wire, v6, sport, dport, cisn=1000000, sisn=5000000, cwin=64240, swin=65160):
        self.w = wire
        self.v6 = v6
        self.sport, self.dport = sport, dport
        self.cnxt, self.snxt = cisn, sisn
        self.cwin, self.swin = cwin, swin

    def _seg(self, from_cli, flags, data, seq, ack, win, opts):
        sc = self.w.sc
        cli_a, srv_a = addrs(self.v6)
        src, dst = (cli_a, srv_a) if from_cli else (srv_a, cli_a)
        sp, dp = (self.sport, self.dport) if from_cli else (self.dport, self.sport)
        nxt, peer = (self.cnxt, self.snxt) if from_cli else (self.snxt, self.cnxt)
        explicit = seq is not None
        if seq is None:
            seq = nxt
        if ack is None:
            ack = peer if "A" in flags else 0
        if win is None:
            win = self.cwin if from_cli else self.swin
        if opts is None:
            opts = SYN_OPTS if "S" in flags else []
        l3 = sc.IPv6(src=src, dst=dst, hlim=64) if self.v6 else sc.IP(src=src, dst=dst, ttl=64)
        seg = sc.TCP(sport=sp, dport=dp, flags=flags, seq=seq % 2**32, ack=ack % 2**32, window=win, options=opts)
        pkt = l3 / seg / sc.Raw(data) if data else l3 / seg
        self.w.send(from_cli, pkt)
        if not explicit:
            adv = len(data) + ("S" in flags) + ("F" in flags)
            if from_cli:
                self.cnxt += adv
            else:
                self.snxt += adv

    def c(self, flags, data=b"", seq=None, ack=None, win=None, opts=None):
        self._seg(True, flags, data, seq, ack, win, opts)

    def s(self, flags, data=b"", seq=None, ack=None, win=None, opts=None):
        self._seg(False, flags, data, seq, ack, win, opts)

    def handshake(self, copts=None, sopts=None):
        self.c("S", opts=copts)
        self.s("SA", opts=sopts)
        self.c("A")

    def exchange(self, n=100):
        """Client data, server ACK + data, client ACK."""
        self.c("PA", b"q" * n)
        self.s("PA", b"r" * n)
        self.c("A")


def crafted(name, desc, sysctls=(), checks=()):
    return scenario(name, desc + "\nCrafted with scapy; end hosts silent.", True, sysctls, checks)


@crafted(
    "tcp_out_of_window",
    "IPv4 crafted TCP 192.0.2.2:41000 -> 203.0.113.47:80: handshake, one exchange, then\n"
    "(1) client data 200000 bytes beyond the server's window (SEQ over upper bound: INVALID);\n"
    "(2) the same from the server side (INVALID); (3) a client segment 100000 bytes below what\n"
    "was already acknowledged (SEQ under lower bound: ignored, passes as established);\n"
    "(4) client data overshooting the window end by 90 bytes (tolerated: 'bytes more than\n"
    "expected', ignored); then a normal exchange.",
    checks=[
        ("event", "[NEW]", "SYN_SENT", "sport=41000"),
        ("event", "ESTABLISHED", "[ASSURED]"),
        ("eventcount", 3),
        ("counter", "invalid", "==", 2),
        ("counter", "new cli->pub", "==", 1),
        ("table", "ESTABLISHED", "sport=41000"),
    ],
)
def tcp_out_of_window(net):
    f = Flow(Wire(net), False, 41000, 80)
    f.handshake()
    f.exchange()
    f.c("PA", b"x" * 100, seq=f.cnxt + 200000)
    f.s("PA", b"y" * 100, seq=f.snxt + 200000)
    f.c("PA", b"z" * 100, seq=f.cnxt - 100000)
    # The server's last window edge for the client: its last ack + window.
    f.c("PA", b"w" * 100, seq=f.cnxt + f.swin - 10)
    f.exchange()


@crafted(
    "tcp_bogus_ack",
    "IPv4 crafted TCP 192.0.2.2:41010 -> 203.0.113.47:80: handshake, one exchange, then\n"
    "(1) a client ACK for 50000 bytes the server never sent (ACK over upper bound: INVALID);\n"
    "(2) a server ACK for unsent client data (INVALID); (3) a client ACK 70000 below the server's\n"
    "data (ACK under lower bound: ignored, established); then a normal exchange.",
    checks=[
        ("eventcount", 3),
        ("counter", "invalid", "==", 2),
        ("table", "ESTABLISHED", "sport=41010", "[ASSURED]"),
    ],
)
def tcp_bogus_ack(net):
    f = Flow(Wire(net), False, 41010, 80)
    f.handshake()
    f.exchange()
    f.c("A", ack=f.snxt + 50000)
    f.s("A", ack=f.cnxt + 50000)
    f.c("A", ack=f.snxt - 70000)
    f.exchange()


BAD_FLAGS = ["SF", "", "F", "SR", "FPU", "U"]


@crafted(
    "tcp_bad_flags",
    "IPv4 crafted TCP: first packets with invalid flag combinations from 192.0.2.2:41101..41106\n"
    "to 203.0.113.47:80 (SYN+FIN, no flags, FIN without ACK, SYN+RST, FIN+PSH+URG, URG alone):\n"
    "INVALID, no entry; then an established connection :41120 receives SYN+FIN, FIN without\n"
    "ACK and a flagless segment (INVALID, state unchanged), then a normal exchange.",
    checks=[
        ("eventcount", 3),
        ("counter", "invalid", "==", 9),
        ("counter", "new cli->pub", "==", 1),
        ("noevent", "sport=41101"),
        ("table", "ESTABLISHED", "sport=41120"),
    ],
)
def tcp_bad_flags(net):
    w = Wire(net)
    for i, flags in enumerate(BAD_FLAGS):
        Flow(w, False, 41101 + i, 80).c(flags, ack=0)
    f = Flow(w, False, 41120, 80)
    f.handshake()
    f.exchange()
    f.c("SF", seq=f.cnxt)
    f.c("F", seq=f.cnxt)
    f.c("", seq=f.cnxt)
    f.exchange()


def simultaneous_open(f):
    cisn, sisn = f.cnxt, f.snxt
    f.c("S")
    f.s("S")
    f.c("SA", seq=cisn, ack=sisn + 1)
    f.s("SA", seq=sisn, ack=cisn + 1)
    f.c("A")
    f.s("A")
    f.exchange()


@crafted(
    "tcp_simultaneous_open",
    "IPv4 crafted TCP simultaneous open 192.0.2.2:41200 <-> 203.0.113.47:80: SYN from each side\n"
    "(SYN_SENT2), then SYN/ACK from each side, ACK from each side, one exchange.",
    checks=[
        ("event", "[NEW]", "SYN_SENT", "sport=41200"),
        ("event", "[UPDATE]", "SYN_SENT2"),
        ("event", "ESTABLISHED"),
        ("counter", "invalid", "==", 0),
        ("table", "ESTABLISHED", "sport=41200"),
    ],
)
def tcp_simultaneous_open(net):
    simultaneous_open(Flow(Wire(net), False, 41200, 80))


@crafted(
    "tcp6_simultaneous_open",
    "IPv6 crafted TCP simultaneous open [2001:db8:1::2]:41210 <-> [2001:db8:203::47]:80, as\n"
    "tcp_simultaneous_open.",
    checks=[
        ("event", "[UPDATE]", "SYN_SENT2"),
        ("event", "ESTABLISHED"),
        ("counter", "invalid", "==", 0),
    ],
)
def tcp6_simultaneous_open(net):
    simultaneous_open(Flow(Wire(net), True, 41210, 80))


@crafted(
    "tcp_simultaneous_close",
    "IPv4 crafted TCP 192.0.2.2:41300 -> 203.0.113.47:80: handshake, one exchange, then both\n"
    "sides send FIN before either acknowledges the other's (crossing FINs), then both ACK.",
    checks=[
        ("event", "FIN_WAIT"),
        ("event", "TIME_WAIT"),
        ("counter", "invalid", "==", 0),
        ("table", "TIME_WAIT", "sport=41300"),
    ],
)
def tcp_simultaneous_close(net):
    f = Flow(Wire(net), False, 41300, 80)
    f.handshake()
    f.exchange()
    cfin, sfin = f.cnxt, f.snxt
    f.c("FA", ack=sfin)
    f.s("FA", ack=cfin)
    f.c("A")
    f.s("A")


@crafted(
    "tcp_retrans_max",
    "IPv4 crafted TCP with nf_conntrack_tcp_max_retrans=2 and tcp_timeout_max_retrans=200 (so the\n"
    "RETRANS timeout differs from the 300 s UNACK one) to 203.0.113.47:80:\n"
    ":41400 handshake, exchange, then one 100-byte client segment sent 4 times, never acked\n"
    "(retrans reaches 3 >= 2: the entry's timeout drops to RETRANS 200; the kernel raises no event\n"
    "for a timeout change, so it shows in conntrack -L);\n"
    ":41401 the same segment sent once only (timeout UNACK 300);\n"
    ":41402 handshake whose final ACK announces a zero window: the ESTABLISHED event carries the\n"
    "RETRANS timeout 200.",
    sysctls=[("tcp_max_retrans", "2"), ("tcp_timeout_max_retrans", "200")],
    checks=[
        ("timeout", "sport=41400", 190, 200),
        ("timeout", "sport=41401", 290, 300),
        ("eventtimeout", "[UPDATE]", "ESTABLISHED", "sport=41402", "[ASSURED]", 199, 200),
        ("counter", "invalid", "==", 0),
    ],
)
def tcp_retrans_max(net):
    w = Wire(net)
    f = Flow(w, False, 41400, 80)
    f.handshake()
    f.exchange()
    seq = f.cnxt
    for _ in range(4):
        f.c("PA", b"d" * 100, seq=seq)
    g = Flow(w, False, 41401, 80)
    g.handshake()
    g.exchange()
    g.c("PA", b"d" * 100)
    h = Flow(w, False, 41402, 80)
    h.c("S")
    h.s("SA")
    h.c("A", win=0)


@crafted(
    "tcp_rst_variants",
    "IPv4 crafted RSTs on established connections to 203.0.113.47:80 (each after handshake and one\n"
    "exchange): :41600 client RST at exactly the next sequence number (CLOSE); :41601 client\n"
    "RST+ACK exact (CLOSE); :41602 client RST 1000 bytes inside the window but not exact (kept\n"
    "ESTABLISHED for a challenge ACK), the server's challenge ACK, then the exact RST (CLOSE);\n"
    ":41603 client RST 100000 below the acknowledged data and a server RST likewise (INVALID both,\n"
    "stays ESTABLISHED); :41604 a SYN answered by the server's RST/ACK with seq 0 (entry destroyed).",
    checks=[
        ("event", "[UPDATE]", "CLOSE", "sport=41600"),
        ("event", "[UPDATE]", "CLOSE", "sport=41601"),
        ("event", "[UPDATE]", "CLOSE", "sport=41602"),
        ("noevent", "CLOSE", "sport=41603"),
        ("event", "[DESTROY]", "sport=41604"),
        ("counter", "invalid", "==", 2),
        ("table", "ESTABLISHED", "sport=41603"),
        ("table", "CLOSE", "sport=41600"),
    ],
)
def tcp_rst_variants(net):
    w = Wire(net)
    f = Flow(w, False, 41600, 80)
    f.handshake()
    f.exchange()
    f.c("R", seq=f.cnxt)
    f = Flow(w, False, 41601, 80)
    f.handshake()
    f.exchange()
    f.c("RA", seq=f.cnxt)
    f = Flow(w, False, 41602, 80)
    f.handshake()
    f.exchange()
    f.c("R", seq=f.cnxt + 1000)
    f.s("A")
    f.c("R", seq=f.cnxt)
    f = Flow(w, False, 41603, 80)
    f.handshake()
    f.exchange()
    f.c("R", seq=f.cnxt - 100000)
    f.s("R", seq=f.snxt - 100000)
    f = Flow(w, False, 41604, 80)
    f.c("S")
    f.s("RA", seq=0)


@crafted(
    "tcp_window_scaling",
    "IPv4 crafted TCP window scaling to 203.0.113.47:80: :41700 both SYNs carry wscale 7; the\n"
    "server then announces window 8000 (<<7 = 1024000); client data 500000 ahead is inside the\n"
    "scaled window (accepted); 2000000 ahead overshoots the window end by less than the receiver's\n"
    "max window (tolerated: 'bytes more than expected', ignored, and the entry drops to the UNACK\n"
    "timeout); 4000000 ahead is INVALID. :41701 only the client's SYN has wscale (scaling off both\n"
    "ways): the same 500000-ahead data is INVALID.",
    checks=[
        ("counter", "invalid", "==", 2),
        ("counter", "new cli->pub", "==", 2),
        ("timeout", "sport=41700", 290, 300),
        ("table", "ESTABLISHED", "sport=41701"),
    ],
)
def tcp_window_scaling(net):
    w = Wire(net)
    ws = [("MSS", 1460), ("NOP", None), ("WScale", 7)]
    f = Flow(w, False, 41700, 80)
    f.handshake(copts=ws, sopts=ws)
    f.c("PA", b"q" * 100, win=502)
    f.s("A", win=8000)
    f.c("PA", b"x" * 100, seq=f.cnxt + 500000, win=502)
    f.c("PA", b"y" * 100, seq=f.cnxt + 2000000, win=502)
    f.c("PA", b"z" * 100, seq=f.cnxt + 4000000, win=502)
    g = Flow(w, False, 41701, 80)
    g.handshake(copts=ws, sopts=[("MSS", 1460)])
    g.c("PA", b"q" * 100)
    g.s("A", win=8000)
    g.c("PA", b"x" * 100, seq=g.cnxt + 500000)


@crafted(
    "tcp_sack",
    "IPv4 crafted TCP SACK to 203.0.113.47:80: :41800 both SYNs carry SACK-permitted; the client\n"
    "sends three 100-byte segments, the server ACKs the first with a SACK block for the third\n"
    "(accepted), then with a SACK block reaching 5000 bytes past the client's data (the SACK edge\n"
    "counts as the ACK: INVALID). :41801 no SACK-permitted: the same bogus SACK block is not\n"
    "read (accepted).",
    checks=[
        ("counter", "invalid", "==", 1),
        ("table", "ESTABLISHED", "sport=41800"),
        ("table", "ESTABLISHED", "sport=41801"),
    ],
)
def tcp_sack(net):
    w = Wire(net)
    for sport, sack_ok in ((41800, True), (41801, False)):
        f = Flow(w, False, sport, 80)
        opts = [("MSS", 1460), ("NOP", None), ("NOP", None), ("SAckOK", b"")] if sack_ok else None
        f.handshake(copts=opts, sopts=opts)
        first = f.cnxt
        for _ in range(3):
            f.c("PA", b"s" * 100)
        third = first + 200
        f.s("A", ack=first + 100, opts=[("NOP", None), ("NOP", None), ("SAck", (third, third + 100))])
        bogus = (third + 100, third + 5100)
        f.s("A", ack=first + 100, opts=[("NOP", None), ("NOP", None), ("SAck", bogus)])
        f.s("A", ack=f.cnxt)


def loose_frames(w):
    """Mid-stream traffic with no handshake (flow :41900 -> :80)."""
    f = Flow(w, False, 41900, 80, cisn=1000, sisn=5000)
    f.c("PA", b"m" * 10)
    f.c("PA", b"m" * 10)
    f.s("A")
    f.c("PA", b"m" * 10)
    f.s("PA", b"n" * 10)
    f.c("A")


@crafted(
    "tcp_loose_on",
    "IPv4 crafted mid-stream pickup with the default nf_conntrack_tcp_loose=1: 192.0.2.2:41900 ->\n"
    "203.0.113.47:80 data with no handshake (NEW ESTABLISHED, UNREPLIED), again, the server's ACK\n"
    "(reply seen), more data (ASSURED), server data, client ACK.",
    sysctls=[("tcp_loose", "1")],
    checks=[
        ("event", "[NEW]", "ESTABLISHED", "[UNREPLIED]", "sport=41900"),
        ("event", "[UPDATE]", "[ASSURED]"),
        ("counter", "invalid", "==", 0),
        ("counter", "new cli->pub", "==", 2),
        ("table", "ESTABLISHED", "sport=41900", "[ASSURED]"),
    ],
)
def tcp_loose_on(net):
    loose_frames(Wire(net))


@crafted(
    "tcp_loose_off",
    "IPv4 crafted mid-stream traffic as tcp_loose_on, with nf_conntrack_tcp_loose=0: no entry is\n"
    "ever created, every frame is INVALID.",
    sysctls=[("tcp_loose", "0")],
    checks=[
        ("eventcount", 0),
        ("counter", "invalid", "==", 6),
        ("notable", "sport=41900"),
    ],
)
def tcp_loose_off(net):
    loose_frames(Wire(net))


@crafted(
    "tcp_be_liberal",
    "IPv4 crafted TCP with nf_conntrack_tcp_be_liberal=1, 192.0.2.2:42000 -> 203.0.113.47:80:\n"
    "the out-of-window data and bogus ACKs of tcp_out_of_window / tcp_bogus_ack are all accepted\n"
    "(established), only the invalid flag combination (SYN+FIN) stays INVALID.",
    sysctls=[("tcp_be_liberal", "1")],
    checks=[
        ("counter", "invalid", "==", 1),
        ("counter", "new cli->pub", "==", 1),
        ("table", "ESTABLISHED", "sport=42000"),
    ],
)
def tcp_be_liberal(net):
    f = Flow(Wire(net), False, 42000, 80)
    f.handshake()
    f.exchange()
    f.c("PA", b"x" * 100, seq=f.cnxt + 200000)
    f.s("PA", b"y" * 100, seq=f.snxt + 200000)
    f.c("A", ack=f.snxt + 50000)
    f.s("A", ack=f.cnxt + 50000)
    f.c("SF", seq=f.cnxt)
    f.exchange()


@crafted(
    "tcp6_crafted",
    "IPv6 crafted TCP [2001:db8:1::2]:42100 -> [2001:db8:203::47]:80: handshake with wscale 7 and\n"
    "SACK-permitted on both SYNs, an exchange, client data far outside the window (INVALID), a\n"
    "SYN+FIN (INVALID), a bogus server ACK (INVALID), an exchange, then an exact client RST (CLOSE).\n"
    "[2001:db8:1::2]:42101: a lone mid-stream ACK (loose pickup, NEW ESTABLISHED).",
    checks=[
        ("event", "[NEW]", "SYN_SENT", "sport=42100"),
        ("event", "ESTABLISHED", "[ASSURED]", "sport=42100"),
        ("event", "[UPDATE]", "CLOSE", "sport=42100"),
        ("event", "[NEW]", "ESTABLISHED", "sport=42101", "[UNREPLIED]"),
        ("counter", "invalid", "==", 3),
    ],
)
def tcp6_crafted(net):
    w = Wire(net)
    opts = [("MSS", 1440), ("NOP", None), ("WScale", 7), ("NOP", None), ("NOP", None), ("SAckOK", b"")]
    f = Flow(w, True, 42100, 80, cwin=502, swin=509)
    f.handshake(copts=opts, sopts=opts)
    f.exchange()
    f.c("PA", b"x" * 100, seq=f.cnxt + 50000000)
    f.c("SF", seq=f.cnxt)
    f.s("A", ack=f.cnxt + 50000)
    f.exchange()
    f.c("R", seq=f.cnxt)
    Flow(w, True, 42101, 80).c("A")


# --------------------------------------------------------------------------
# NAT and helpers (issue #5): nat-gateway.nft, real sockets and real servers
# --------------------------------------------------------------------------

# The gateway's public addresses (masquerade) and the redirect target.
GW4, GW6 = "198.51.100.32", "2001:db8:100::32"
CLI4B = "192.0.2.3"
REDIRECTED4 = "203.0.113.99"
# The file the FTP and TFTP servers serve: several segments / blocks.
SERVED = bytes((i * 7 + 13) & 0xFF for i in range(9000))
# Bound of a whole client session run in a thread.
SESSION_TIMEOUT = 30.0


def nat(name, desc, checks=()):
    return scenario(name, desc, checks=checks, ruleset="nat-gateway.nft")


def in_ns(net, where, fn, timeout=SESSION_TIMEOUT):
    """Run fn() in a thread of its own that lives in the client's or the
    server's namespace (setns applies to the calling thread only), so that
    every socket it opens, even one a library opens later, is made there.
    Waits (bounded) and returns fn's result or raises its error."""
    box = {}

    def run():
        try:
            _setns(net.fds[where])
            box["result"] = fn()
        except BaseException as e:  # noqa: BLE001 - handed to the caller
            box["error"] = e

    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join(timeout)
    if t.is_alive():
        raise RuntimeError("%s session still running after %.0f s" % (where, timeout))
    if "error" in box:
        raise box["error"]
    return box.get("result")


class Background:
    """A server loop in a thread of the server's (or client's) namespace:
    `setup()` runs first (its error is raised here), then `step(state)`
    until `stop()`; `close(state)` at the end."""

    def __init__(self, net, where, setup, step, close):
        self.stop_flag = threading.Event()
        ready = threading.Event()
        self.box = {}

        def run():
            try:
                _setns(net.fds[where])
                state = setup()
            except BaseException as e:  # noqa: BLE001
                self.box["error"] = e
                ready.set()
                return
            ready.set()
            try:
                while not self.stop_flag.is_set():
                    step(state)
            except BaseException as e:  # noqa: BLE001
                self.box["error"] = e
            finally:
                close(state)

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()
        if not ready.wait(SOCK_TIMEOUT):
            raise RuntimeError("server did not start")
        if "error" in self.box:
            raise self.box["error"]

    def stop(self):
        self.stop_flag.set()
        self.thread.join(SOCK_TIMEOUT)
        if "error" in self.box:
            raise self.box["error"]


def ftp_server(net, addr, port, root, permit_foreign=False):
    """pyftpdlib serving `root` to user ctc/ctc on addr:port in the server's
    namespace. Its defaults are kept: PORT/EPRT to another address than the
    control connection's peer is refused (so a PORT the gateway did not
    rewrite fails the transfer), passive ports are ephemeral.
    `permit_foreign` lifts the refusal: pyftpdlib compares the addresses as
    text, and the kernel writes an IPv6 EPRT address in full
    (2001:0db8:0100:0000:..., nf_nat_ftp's %pI6), which is the same address
    as the peer's 2001:db8:100::32 but not the same text."""
    import logging

    from pyftpdlib.authorizers import DummyAuthorizer
    from pyftpdlib.handlers import FTPHandler
    from pyftpdlib.servers import FTPServer

    logging.getLogger("pyftpdlib").setLevel(logging.ERROR)

    def setup():
        auth = DummyAuthorizer()
        auth.add_user("ctc", "ctc", root, perm="elr")
        handler = type(
            "CtcHandler",
            (FTPHandler,),
            {"authorizer": auth, "banner": "ctc live ftp", "permit_foreign_addresses": permit_foreign},
        )
        return FTPServer((addr, port), handler)

    return Background(
        net,
        "srv",
        setup,
        lambda srv: srv.serve_forever(timeout=0.05, blocking=False, handle_exit=False),
        lambda srv: srv.close_all(),
    )


def ftp_session(net, v6, port, modes, between=None):
    """One FTP control connection from the client to the server's port,
    one RETR of the served file per entry of `modes` ("passive" or "active":
    PASV/PORT over IPv4, EPSV/EPRT over IPv6, as ftplib does), checked;
    `between()` runs between two transfers."""
    import ftplib
    import tempfile

    cli_a, srv_a = addrs(v6)
    with tempfile.TemporaryDirectory(prefix="ctc-live-ftp-") as root:
        with open(os.path.join(root, "data.bin"), "wb") as fh:
            fh.write(SERVED)
        server = ftp_server(net, srv_a, port, root, permit_foreign=v6)
        try:

            def client():
                f = ftplib.FTP()
                f.connect(srv_a, port, timeout=SOCK_TIMEOUT, source_address=(cli_a, 0))
                f.login("ctc", "ctc")
                for i, mode in enumerate(modes):
                    if i > 0 and between is not None:
                        between()
                    f.set_pasv(mode == "passive")
                    got = bytearray()
                    f.retrbinary("RETR data.bin", got.extend)
                    if bytes(got) != SERVED:
                        raise RuntimeError("%s transfer: %d bytes, not the file" % (mode, len(got)))
                    time.sleep(0.2)
                f.quit()
                f.close()

            in_ns(net, "cli", client)
            time.sleep(0.3)
        finally:
            server.stop()


@nat(
    "ftp_passive_masq",
    "FTP through masquerade, passive: pyftpdlib on 203.0.113.47:21, ftplib on the client (PASV,\n"
    "RETR of a 9000-byte file). The ftp helper is assigned to port 21; the server's 227 creates an\n"
    "expectation, the data connection is RELATED and masqueraded as its master.",
    checks=[
        ("event", "[NEW]", "tcp", "dport=21", "dst=198.51.100.32"),
        ("expect", "[NEW]", "proto=6", "dst=203.0.113.47"),
        ("counter", "helper ftp (21)", ">=", 1),
        ("counter", "related", "==", 1),
        ("counter", "new cli->pub", "==", 1),
        ("counter", "invalid", "==", 0),
        ("table", "tcp", "dport=21", "helper=ftp"),
    ],
)
def ftp_passive_masq(net):
    ftp_session(net, False, 21, ["passive"])


@nat(
    "ftp_active_masq",
    "FTP through masquerade, active: the client's PORT 192,0,2,2,... is rewritten by the gateway to\n"
    "198,51,100,32,... (longer: TCP sequence numbers adjusted from then on); pyftpdlib refuses a\n"
    "PORT to another address than its peer, so the transfer proves the rewrite. The server's data\n"
    "connection to the gateway is the expected one, RELATED, translated to the client.",
    checks=[
        ("event", "[NEW]", "tcp", "dport=21", "dst=198.51.100.32"),
        ("expect", "[NEW]", "proto=6", "dst=198.51.100.32"),
        ("outpayload", "gw-pub", "PORT 198,51,100,32,"),
        ("counter", "related", "==", 1),
        ("counter", "invalid", "==", 0),
    ],
)
def ftp_active_masq(net):
    ftp_session(net, False, 21, ["active"])


@nat(
    "ftp6_eprt_epsv_masq",
    "FTP over IPv6 through masquerade (NAT66): [2001:db8:1::2] -> [2001:db8:203::47]:21, one EPSV\n"
    "transfer, then one EPRT transfer (|2|2001:db8:1::2|port| rewritten to the gateway's\n"
    "address, which the kernel writes in full: |2|2001:0db8:0100:0000:0000:0000:0000:0032|port|).",
    checks=[
        ("event", "[NEW]", "tcp", "dport=21", "dst=2001:db8:100::32"),
        ("expect", "[NEW]", "proto=6", "dst=2001:db8:100::32"),
        ("outpayload", "gw-pub", "EPRT |2|2001:0db8:0100:0000:0000:0000:0000:0032|"),
        ("counter", "related", "==", 2),
        ("counter", "invalid", "==", 0),
    ],
)
def ftp6_eprt_epsv_masq(net):
    ftp_session(net, True, 21, ["passive", "active"])


@nat(
    "ftp_port2121_masq",
    "FTP on a non-default port through masquerade: the server on 203.0.113.47:2121, the helper\n"
    "assigned by a rule on port 2121 (ct helper ftp-2121); one passive then one active transfer.",
    checks=[
        ("event", "[NEW]", "tcp", "dport=2121"),
        ("counter", "helper ftp (2121)", ">=", 1),
        ("counter", "helper ftp (21)", "==", 0),
        ("outpayload", "gw-pub", "PORT 198,51,100,32,"),
        ("counter", "related", "==", 2),
        ("counter", "invalid", "==", 0),
    ],
)
def ftp_port2121_masq(net):
    ftp_session(net, False, 2121, ["passive", "active"])


def tcp_roundtrip(net, conn_ns, conn_src, listen_ns, listen_at, connect_to, v6):
    """A short TCP connection: a listener in `listen_ns` on `listen_at`, a
    connection from `conn_ns` (bound to `conn_src`) to `connect_to`, one
    request/response, the connecting side closes first."""
    lst = net.tcp(listen_ns, v6)
    lst.bind(listen_at)
    lst.listen(1)
    c = net.tcp(conn_ns, v6)
    c.bind(conn_src)
    c.connect(connect_to)
    s, _ = lst.accept()
    s.settimeout(SOCK_TIMEOUT)
    c.sendall(b"GET /\n")
    recv_exact(s, 6)
    s.sendall(b"200 ok\n")
    recv_exact(c, 7)
    c.shutdown(socket.SHUT_WR)
    if s.recv(1) != b"":
        raise RuntimeError("expected EOF")
    time.sleep(0.2)
    s.close()
    if c.recv(1) != b"":
        raise RuntimeError("expected EOF")
    c.close()
    lst.close()
    time.sleep(0.1)


@nat(
    "dnat_port_forward",
    "A port forward: the server side connects to the gateway's public address, port 8080\n"
    "(198.51.100.47:40601 -> 198.51.100.32:8080 and [2001:db8:100::47]:40602 ->\n"
    "[2001:db8:100::32]:8080); dnat sends it to the client's port 80, the forward chain accepts it\n"
    "by `ct status dnat`.",
    checks=[
        ("event", "[NEW]", "tcp", "dport=8080", "src=192.0.2.2", "sport=80"),
        ("event", "[NEW]", "tcp", "dport=8080", "src=2001:db8:1::2", "sport=80"),
        ("event", "TIME_WAIT", "dport=8080"),
        ("counter", "port forward", "==", 1),
        ("counter", "port forward v6", "==", 1),
        ("counter", "new port forward", "==", 2),
        ("counter", "invalid", "==", 0),
    ],
)
def dnat_port_forward(net):
    tcp_roundtrip(net, "srv", ("198.51.100.47", 40601), "cli", (CLI4, 80), (GW4, 8080), False)
    tcp_roundtrip(net, "srv", ("2001:db8:100::47", 40602), "cli", (CLI6, 80), (GW6, 8080), True)


@nat(
    "redirect_icmp",
    "A redirect: echo requests from the client to 203.0.113.99 are redirected to the gateway\n"
    "itself (the address of gw-cli, 192.0.2.1), whose kernel answers them; the replies leave with\n"
    "the source 203.0.113.99 the client asked for.",
    checks=[
        ("event", "[NEW]", "icmp", "dst=203.0.113.99", "src=192.0.2.1"),
        ("counter", "redirect to the gateway", "==", 1),
        ("counter", "new cli->pub", "==", 0),
    ],
)
def redirect_icmp(net):
    echo_requests(net, False, 0x2468, 3, dst=REDIRECTED4)


@nat(
    "nat_port_clash",
    "A NAT clash between two clients: 192.0.2.2 and 192.0.2.3 both use TCP source port 40700, UDP\n"
    "source port 40701 and ICMP echo id 0x0777 towards 203.0.113.47; masquerade keeps the first\n"
    "connection's port and picks another (at random) for the second. The harness maps the kernel's\n"
    "random choices to ctc's (tests/src/kernel_diff.rs).",
    checks=[
        ("event", "[NEW]", "tcp", "src=192.0.2.2", "sport=40700", "dport=40700"),
        ("event", "[NEW]", "tcp", "src=192.0.2.3", "sport=40700"),
        ("noevent", "[NEW]", "tcp", "src=192.0.2.3", "sport=40700", "dport=40700"),
        ("event", "[NEW]", "udp", "src=192.0.2.3", "sport=40701"),
        ("noevent", "[NEW]", "udp", "src=192.0.2.3", "sport=40701", "dport=40701"),
        ("event", "[NEW]", "icmp", "src=192.0.2.3", "id=1911"),
        ("counter", "invalid", "==", 0),
    ],
)
def nat_port_clash(net):
    for src in (CLI4, CLI4B):
        tcp_roundtrip(net, "cli", (src, 40700), "srv", (SRV4, 80), (SRV4, 80), False)
    for src in (CLI4, CLI4B):
        c = net.udp("cli", False)
        c.bind((src, 40701))
        s = net.udp("srv", False)
        s.bind((SRV4, 5300))
        udp_exchange(c, s, (SRV4, 5300), b"clash?")
        c.close()
        s.close()
        time.sleep(0.1)
    for src in (CLI4, CLI4B):
        echo_requests(net, False, 0x0777, 1, src=src)


@nat(
    "icmp_error_nat",
    "ICMP errors through NAT: UDP from the client to a closed port of the server, masqueraded\n"
    "(IPv4 and IPv6); the server's port unreachable, addressed to the gateway, is translated back\n"
    "to the client, the quoted packet too.",
    checks=[
        ("event", "[NEW]", "udp", "sport=40801", "dst=198.51.100.32"),
        ("event", "[NEW]", "udp", "sport=40811", "dst=2001:db8:100::32"),
        ("counter", "related", "==", 2),
    ],
)
def icmp_error_nat(net):
    udp_to_closed_port(net, False, (40801,), 5399)
    udp_to_closed_port(net, True, (40811,), 5399)


@nat(
    "snat_ranges",
    "Source NAT to ranges (nat-gateway.nft, ports 7001-7008): to an address range (the kernel's\n"
    "jhash over the range picks the address), to a port range on the gateway's address (the client's\n"
    "port is out of it: the kernel picks one at random, mapped to ctc's), persistent, and by prefix\n"
    "(192.0.2.2 -> 198.51.100.2), by prefix through a map, to a range through a map, masquerade\n"
    "random and snat fully-random (random ports even when the client's is free). Two connections\n"
    "per rule, from both client addresses; the kernel's random ports mapped to ctc's.",
    checks=[
        ("counter", "snat address range", "==", 2),
        ("counter", "snat port range", "==", 2),
        ("counter", "snat persistent", "==", 2),
        ("counter", "snat prefix", "==", 2),
        ("counter", "snat prefix map", "==", 2),
        ("counter", "snat range map", "==", 2),
        ("counter", "masquerade random", "==", 2),
        ("counter", "snat fully-random", "==", 2),
        ("noevent", "[NEW]", "tcp", "dport=7007", "sport=42070", "dport=42070"),
        ("event", "[NEW]", "tcp", "src=192.0.2.3", "dport=7005", "dst=198.51.100.3"),
        ("event", "[NEW]", "tcp", "src=192.0.2.2", "dport=7004", "dst=198.51.100.2"),
        ("event", "[NEW]", "tcp", "src=192.0.2.3", "dport=7004", "dst=198.51.100.3"),
        ("counter", "invalid", "==", 0),
    ],
)
def snat_ranges(net):
    for port in range(7001, 7009):
        for i, src in enumerate((CLI4, CLI4B)):
            tcp_roundtrip(net, "cli", (src, 42000 + port % 10 * 10 + i), "srv", (SRV4, port), (SRV4, port), False)


def tftp_server(net, addr):
    """A TFTP server (RFC 1350, read requests, octet mode) on addr:69 in
    the server's namespace: each transfer from a new ephemeral port, one
    512-byte block at a time, each acknowledged (bounded waits)."""

    def setup():
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((addr, 69))
        s.settimeout(0.05)
        return s

    def step(s):
        try:
            req, peer = s.recvfrom(600)
        except socket.timeout:
            return
        if req[:2] != b"\x00\x01":
            return
        t = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        t.bind((addr, 0))
        t.settimeout(SOCK_TIMEOUT)
        block = 1
        while True:
            chunk = SERVED[(block - 1) * 512 : block * 512]
            t.sendto(struct.pack("!HH", 3, block) + chunk, peer)
            ack, _ = t.recvfrom(100)
            if ack[:4] != struct.pack("!HH", 4, block):
                raise RuntimeError("tftp: bad ack %r" % ack[:4])
            if len(chunk) < 512:
                break
            block += 1
        t.close()

    return Background(net, "srv", setup, step, lambda s: s.close())


@nat(
    "tftp_masq",
    "TFTP through masquerade: a read request from 192.0.2.2:40901 to 203.0.113.47:69 (tftp helper\n"
    "assigned to port 69); the server answers from a new port, which only the helper's\n"
    "expectation lets through (RELATED, translated back to the client as its master).",
    checks=[
        ("event", "[NEW]", "udp", "dport=69", "dst=198.51.100.32"),
        ("expect", "[NEW]", "proto=17", "dst=198.51.100.32", "dport=40901"),
        ("counter", "helper tftp (69)", "==", 1),
        ("counter", "related", "==", 1),
        ("counter", "dropped by policy", "==", 0),
    ],
)
def tftp_masq(net):
    server = tftp_server(net, SRV4)
    try:

        def client():
            c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            c.bind((CLI4, 40901))
            c.settimeout(SOCK_TIMEOUT)
            c.sendto(b"\x00\x01data.bin\x00octet\x00", (SRV4, 69))
            got = b""
            while True:
                data, peer = c.recvfrom(600)
                op, block = struct.unpack("!HH", data[:4])
                if op != 3:
                    raise RuntimeError("tftp: opcode %d" % op)
                got += data[4:]
                c.sendto(struct.pack("!HH", 4, block), peer)
                if len(data) - 4 < 512:
                    break
            c.close()
            if got != SERVED:
                raise RuntimeError("tftp: %d bytes, not the file" % len(got))

        in_ns(net, "cli", client)
        time.sleep(0.2)
    finally:
        server.stop()


@scenario(
    "ct_expectation_callback",
    "A `ct expectation` object (expect-gateway.nft): the first packet of every client connection to\n"
    "port 5000 makes the kernel expect a connection from the server to the client's port 5001\n"
    "(timeout 10s, which the kernel reads as 10000 s). A second client connection to port 5000\n"
    "would need the same expectation for another master: it clashes, and its SYN is dropped. Then\n"
    "the server calls the client back on port 5001: RELATED, let through.",
    checks=[
        ("expect", "[NEW]", "10000", "proto=6", "src=203.0.113.47", "dst=192.0.2.2", "dport=5001"),
        ("event", "[NEW]", "tcp", "src=203.0.113.47", "dst=192.0.2.2", "dport=5001"),
        ("counter", "expect a callback", "==", 1),
        ("counter", "related", ">=", 1),
        ("counter", "dropped by policy", "==", 0),
    ],
    ruleset="expect-gateway.nft",
)
def ct_expectation_callback(net):
    lst = net.tcp("srv", False)
    lst.bind((SRV4, 5000))
    lst.listen(2)
    c = net.tcp("cli", False)
    c.bind((CLI4, 41000))
    c.connect((SRV4, 5000))
    s, _ = lst.accept()
    s.settimeout(SOCK_TIMEOUT)
    c.sendall(b"call me back\n")
    recv_exact(s, 13)
    # A second connection's first SYN: its expectation clashes, dropped.
    c2 = net.tcp("cli", False)
    c2.bind((CLI4, 41001))
    c2.settimeout(0.5)
    try:
        c2.connect((SRV4, 5000))
        raise RuntimeError("the second connection was not dropped")
    except (socket.timeout, TimeoutError):
        pass
    c2.close()
    # The call back, from any port of the server to the client's 5001.
    back = net.tcp("cli", False)
    back.bind((CLI4, 5001))
    back.listen(1)
    d = net.tcp("srv", False)
    d.bind((SRV4, 0))
    d.connect((CLI4, 5001))
    b, _ = back.accept()
    b.settimeout(SOCK_TIMEOUT)
    d.sendall(b"hello back\n")
    recv_exact(b, 11)
    for sock in (d, b, back, s, c, lst):
        sock.close()
    time.sleep(0.3)


# --------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------


def describe(sc, out):
    with open(os.path.join(out, "desc.txt"), "w") as fh:
        fh.write(sc.desc + "\n")
        fh.write(
            "Topology: ../shared/oracle/README.md plus IPv6 (cli0 2001:db8:1::2/64, gw-cli 2001:db8:1::1/64,\n"
            "gw-pub 2001:db8:100::32/64, srv0 2001:db8:100::47/64 + 2001:db8:203::47/128).\n"
        )
    with open(os.path.join(out, "checks.txt"), "w") as fh:
        for c in sc.checks:
            fh.write("\t".join(str(x) for x in c) + "\n")
    with open(os.path.join(out, "gw-sysctl.conf"), "w") as fh:
        for k, v in sc.sysctls:
            fh.write("%s=%s\n" % (k, v))
    with open(os.path.join(out, "replay.args"), "w") as fh:
        extra = "".join(" --sysctl %s=%s" % kv for kv in sc.sysctls)
        fh.write(REPLAY_BASE + extra + "\n")
    print("SILENT=%d" % (1 if sc.crafted else 0))
    print("RULESET=%s" % sc.ruleset)
    print("LOGS=%d" % (1 if sc.logs else 0))


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("list")
    d = sub.add_parser("describe")
    d.add_argument("name")
    d.add_argument("out")
    r = sub.add_parser("run")
    r.add_argument("name")
    r.add_argument("--cli", required=True)
    r.add_argument("--srv", required=True)
    r.add_argument("--sent", help="write the number of crafted frames sent here")
    a = ap.parse_args()
    if a.cmd == "list":
        for n in SCENARIOS:
            print(n)
        return 0
    sc = SCENARIOS.get(a.name)
    if sc is None:
        print("unknown scenario %r" % a.name, file=sys.stderr)
        return 2
    if a.cmd == "describe":
        describe(sc, a.out)
        return 0
    net = Net(a.cli, a.srv)
    t0 = time.time()
    sc.fn(net)
    print("scenario %s sent in %.2f s (%d crafted frames)" % (a.name, time.time() - t0, Wire.total))
    if a.sent and sc.crafted:
        with open(a.sent, "w") as fh:
            fh.write("%d\n" % Wire.total)
    return 0


if __name__ == "__main__":
    sys.exit(main())
