#!/usr/bin/env python3
"""Traffic for the `ctc run` end-to-end test (tests/live_run.rs, driven by
run_e2e.sh): client - gateway (ctc run with run-gateway.nft) - server.

    run_e2e.py --cli NS_PATH --srv NS_PATH

Each check prints `ok NAME` or raises; every wait is bounded. The sockets
are made inside the client's and the server's namespaces (scenarios.py's
Net and in_ns)."""

import argparse
import hashlib
import os
import re
import select
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import scenarios as sc  # noqa: E402

GW_PUB = "198.51.100.32"
GW_PUB6 = "2001:db8:100::32"


def ok(name):
    print("ok", name, flush=True)


def no_connection(net, where, dst, why):
    """A TCP connection from `where` to `dst` must not be made: its SYN is
    dropped (the connect times out, 1.5 s); `why` is the failure."""
    c = net.tcp(where, False)
    c.settimeout(1.5)
    try:
        c.connect(dst)
        raise RuntimeError(why)
    except (socket.timeout, TimeoutError):
        pass
    finally:
        c.close()


def ping(net):
    sc.echo_requests(net, False, 0x5151, 3)
    ok("ping through the gateway")


def tcp_masquerade(net, v6=False):
    srv, gw = (sc.SRV6, GW_PUB6) if v6 else (sc.SRV4, GW_PUB)
    lst = net.tcp("srv", v6)
    lst.bind((srv, 80))
    lst.listen(1)
    c = net.tcp("cli", v6)
    c.connect((srv, 80))
    s, peer = lst.accept()
    s.settimeout(sc.SOCK_TIMEOUT)
    if peer[0] != gw:
        raise RuntimeError("the server saw %s, not the masqueraded %s" % (peer[0], gw))
    # 300 kB each way, checked byte for byte: the upload's sources and the
    # download's destinations are rewritten (GSO packets, on veth).
    up = hashlib.sha256(b"up").digest() * 9375
    down = hashlib.sha256(b"down").digest() * 9375
    for sender, receiver, data, what in ((c, s, up, "upload"), (s, c, down, "download")):
        t = threading.Thread(target=sender.sendall, args=(data,))
        t.start()
        got = sc.recv_exact(receiver, len(data))
        t.join(sc.SOCK_TIMEOUT)
        if got != data:
            raise RuntimeError("the %s arrived changed" % what)
    for x in (c, s, lst):
        x.close()
    ok("tcp%s through masquerade (300 kB each way)" % ("6" if v6 else ""))


def udp_masquerade(net):
    s = net.udp("srv", False)
    s.bind((sc.SRV4, 5300))
    c = net.udp("cli", False)
    c.sendto(b"query", (sc.SRV4, 5300))
    data, peer = s.recvfrom(100)
    if peer[0] != GW_PUB:
        raise RuntimeError("udp: the server saw %s" % peer[0])
    s.sendto(b"answer", peer)
    if c.recvfrom(100)[0] != b"answer":
        raise RuntimeError("udp: no answer")
    c.close()
    s.close()
    ok("udp through masquerade")


def rejected(net):
    lst = net.tcp("srv", False)
    lst.bind((sc.SRV4, 5999))
    lst.listen(1)
    c = net.tcp("cli", False)
    t0 = time.time()
    try:
        c.connect((sc.SRV4, 5999))
        raise RuntimeError("a rejected port connected")
    except ConnectionRefusedError:
        pass
    if time.time() - t0 > 2:
        raise RuntimeError("the reset came late: dropped, not rejected?")
    c.close()
    lst.close()
    ok("rejected port: tcp reset from ctc")


def dropped(net):
    s = net.udp("srv", False)
    s.bind((sc.SRV4, 5998))
    s.settimeout(1.0)
    c = net.udp("cli", False)
    c.sendto(b"nobody", (sc.SRV4, 5998))
    try:
        s.recvfrom(100)
        raise RuntimeError("a dropped datagram arrived")
    except socket.timeout:
        pass
    c.close()
    s.close()
    ok("dropped port: nothing arrives")


def policy_drop(net):
    lst = net.tcp("cli", False)
    lst.bind((sc.CLI4, 81))
    lst.listen(1)
    no_connection(net, "srv", (sc.CLI4, 81), "the policy let a new connection from the public side in")
    lst.close()
    ok("policy drop: no new connection from the public side")


def port_forward(net):
    lst = net.tcp("cli", False)
    lst.bind((sc.CLI4, 80))
    lst.listen(1)
    c = net.tcp("srv", False)
    c.connect((GW_PUB, 8080))
    s, peer = lst.accept()
    s.settimeout(sc.SOCK_TIMEOUT)
    if peer[0] != "198.51.100.47":
        raise RuntimeError("port forward: the client saw %s" % peer[0])
    c.sendall(b"hello")
    sc.recv_exact(s, 5)
    for x in (c, s, lst):
        x.close()
    ok("port forward 8080 -> 192.0.2.2:80")


def ftp(net):
    sc.ftp_session(net, False, 21, ["passive", "active"])
    ok("ftp passive and active through masquerade")


def ctc(a, *args):
    """Run the ctc binary against the daemon's control socket."""
    return subprocess.run([a.ctc, *args, "--control", a.control], capture_output=True, text=True, timeout=120)


def exchange(c, s, n):
    c.sendall(b"r" * n)
    sc.recv_exact(s, n)
    s.sendall(b"R" * n)
    sc.recv_exact(c, n)


def control_and_reload(net, a):
    """`ctc ct list`, `ctc status`, and reloads while a TCP connection and
    an FTP session are open: a good reload keeps them and applies its new
    rule to new connections; a broken one changes nothing and says why."""
    lst = net.tcp("srv", False)
    lst.bind((sc.SRV4, 7777))
    lst.listen(4)
    c = net.tcp("cli", False)
    c.connect((sc.SRV4, 7777))
    s, _ = lst.accept()
    s.settimeout(sc.SOCK_TIMEOUT)
    exchange(c, s, 50000)
    r = ctc(a, "ct", "list")
    if r.returncode != 0 or "dport=7777" not in r.stdout or "ESTABLISHED" not in r.stdout:
        raise RuntimeError("ctc ct list: %d %r %r" % (r.returncode, r.stdout, r.stderr))
    ok("ctc ct list shows the connection")

    def reload_good():
        r = ctc(a, "reload", "--ruleset", a.reloaded)
        if r.returncode != 0 or "loaded" not in r.stdout:
            raise RuntimeError("reload: %d %r %r" % (r.returncode, r.stdout, r.stderr))
        ok("reload while a TCP connection and an FTP session are open")

    # The FTP session's second transfer runs after the reload.
    sc.ftp_session(net, False, 21, ["passive", "active"], between=reload_good)
    ok("the FTP session goes on after the reload")
    exchange(c, s, 50000)
    ok("the established TCP connection goes on after the reload")
    no_connection(net, "cli", (sc.SRV4, 7777), "the reloaded ruleset's new rule did not apply")
    ok("the new rule applies to new connections")
    r = ctc(a, "reload", "--ruleset", a.broken)
    if r.returncode != 1 or "error[" not in r.stderr:
        raise RuntimeError("broken reload: %d %r %r" % (r.returncode, r.stdout, r.stderr))
    exchange(c, s, 1000)
    no_connection(net, "cli", (sc.SRV4, 7777), "after a broken reload the rules changed")
    ok("a broken reload changes nothing and reports the error")
    # `ctc ct events`: a new connection's events as `conntrack -E` prints them.
    ev = subprocess.Popen([a.ctc, "ct", "events", "--control", a.control], stdout=subprocess.PIPE, text=True)
    try:
        time.sleep(0.5)
        udp_masquerade(net)
        deadline = time.time() + 5
        seen = ""
        while time.time() < deadline and "[NEW]" not in seen:
            ready, _, _ = select.select([ev.stdout], [], [], 0.5)
            if ready:
                seen += ev.stdout.readline()
        if "[NEW] udp" not in seen or "dport=5300" not in seen:
            raise RuntimeError("ctc ct events: %r" % seen)
    finally:
        ev.terminate()
        ev.wait(5)
    ok("ctc ct events")
    r = ctc(a, "status")
    if r.returncode != 0 or not re.search(r"[12] reloads", r.stdout) or "packets:" not in r.stdout:
        raise RuntimeError("ctc status: %d %r %r" % (r.returncode, r.stdout, r.stderr))
    ok("ctc status")
    sys.stdout.write("".join("    " + line + "\n" for line in r.stdout.splitlines()))
    # The TCP transfers came as GSO packets (veth keeps them whole), and
    # masquerade wrote their sources at the second stage.
    gso = re.search(r"gso: (\d+) packets queued whole, the longest (\d+) bytes", r.stdout)
    second = re.search(r"(\d+) at the second stage", r.stdout)
    kernel = re.search(r"(\d+) with an address written by the kernel", r.stdout)
    if not gso or int(gso.group(1)) == 0 or int(gso.group(2)) <= 1500:
        raise RuntimeError("no GSO packet went through ctc: %r" % r.stdout)
    # The port forward's replies change port too: the queued second stage.
    if not second or int(second.group(1)) == 0:
        raise RuntimeError("no packet went through the second stage: %r" % r.stdout)
    # Masquerade keeping the ports, and its replies: the kernel writes the
    # address.
    if not kernel or int(kernel.group(1)) == 0:
        raise RuntimeError("the kernel wrote no address: %r" % r.stdout)
    ok("gso packets and the second stage of source NAT, and addresses written by the kernel")
    for x in (c, s, lst):
        x.close()


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS for %d" % pid)


def overload(net, a):
    """A flood from two processes into a queue of a few packets: the queue
    overflows, `ctc status` counts the drops, ctc's memory stays where it
    was, and afterwards connections go through as before."""
    rss0 = rss_kib(a.ctc_pid)
    s = net.udp("cli", False)
    payload = b"f" * 32
    children = []
    for _ in range(2):
        pid = os.fork()
        if pid == 0:
            end = time.time() + 3
            try:
                while time.time() < end:
                    for _ in range(200):
                        try:
                            s.sendto(payload, (sc.SRV4, 5301))
                        except OSError:
                            pass
            finally:
                os._exit(0)
        children.append(pid)
    for pid in children:
        os.waitpid(pid, 0)
    s.close()
    time.sleep(0.5)
    r = ctc(a, "status")
    full = re.search(r"queue 0: \d+ waiting, (\d+) dropped \(queue full\)", r.stdout)
    if r.returncode != 0 or not full or int(full.group(1)) == 0:
        raise RuntimeError("the flood's drops are not in ctc status: %d %r %r" % (r.returncode, r.stdout, r.stderr))
    if "workers:" not in r.stdout or "the longest batch" not in r.stdout:
        raise RuntimeError("no worker lag in ctc status: %r" % r.stdout)
    rss1 = rss_kib(a.ctc_pid)
    if rss1 - rss0 > 64 * 1024:
        raise RuntimeError("ctc grew from %d to %d KiB under the flood" % (rss0, rss1))
    ok("overload: %s packets dropped by the full queue, counted; ctc %d -> %d KiB" % (full.group(1), rss0, rss1))
    tcp_masquerade(net)
    ok("connections go through after the flood")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cli", required=True)
    ap.add_argument("--srv", required=True)
    ap.add_argument("--ctc", required=True)
    ap.add_argument("--control", required=True)
    ap.add_argument("--reloaded", required=True, help="a ruleset to reload: a new rule drops new connections to 7777")
    ap.add_argument("--broken", required=True, help="a ruleset with an error")
    ap.add_argument("--mode", choices=["all", "overload"], default="all")
    ap.add_argument("--ctc-pid", type=int, required=True)
    a = ap.parse_args()
    net = sc.Net(a.cli, a.srv)
    if a.mode == "overload":
        overload(net, a)
        return 0
    def tcp6_masquerade(net):
        tcp_masquerade(net, v6=True)

    checks = (ping, tcp_masquerade, tcp6_masquerade, udp_masquerade, rejected, dropped, policy_drop, port_forward, ftp)
    for check in checks:
        check(net)
        time.sleep(0.1)
    control_and_reload(net, a)
    return 0


if __name__ == "__main__":
    sys.exit(main())
