#!/usr/bin/env python3
"""Traffic endpoints for examples/record.sh (clients and servers run inside
the recording's network namespaces).

Every client binds a fixed source address and port so that a re-recording
sends the same flows; every wait is bounded by a timeout.  Servers run until
record.sh kills them.  Only the standard library is used, plus pyftpdlib for
the FTP server.
"""
import ftplib
import io
import socket
import ssl
import struct
import sys
import time


def family(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def log(msg):
    print(msg, flush=True)


# --------------------------------------------------------------- clients ---

def tcp_client(src, sport, dst, dport, payload=b"", banner=False, timeout=0.5, tls=False):
    """Connect from src:sport to dst:dport.  A SYN that gets no answer
    within `timeout` seconds (shorter than the 1 s initial RTO, so no
    retransmission) is reported as 'dropped'; an RST as 'refused'."""
    s = socket.socket(family(dst), socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((src, sport))
    s.settimeout(timeout)
    try:
        s.connect((dst, dport))
    except socket.timeout:
        s.close()
        return "dropped (no answer to SYN within %.1fs)" % timeout
    except ConnectionRefusedError:
        s.close()
        return "refused (RST)"
    except OSError as e:
        s.close()
        return "error %s" % e
    s.settimeout(5)
    if tls:
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        s = ctx.wrap_socket(s, server_hostname="www.example")
    got = b""
    try:
        if banner:
            got = s.recv(256)
        if payload:
            s.sendall(payload)
        if banner:
            # an SSH client closes after the banner exchange here
            s.shutdown(socket.SHUT_WR)
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            got += chunk
    except (socket.timeout, OSError) as e:
        return "connected, then %s after %d bytes" % (e, len(got))
    finally:
        s.close()
    first = got.split(b"\r\n", 1)[0][:60]
    return "connected, %d bytes back, first line %r" % (len(got), first)


def dns_query(name, qid):
    q = struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0)
    for label in name.split("."):
        q += bytes([len(label)]) + label.encode()
    return q + b"\x00" + struct.pack("!HH", 1, 1)


def udp_client(src, sport, dst, dport, payload, timeout=1.0):
    s = socket.socket(family(dst), socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((src, sport))
    s.settimeout(timeout)
    s.connect((dst, dport))  # connected: an ICMP error surfaces as ECONNREFUSED
    s.send(payload)
    try:
        data = s.recv(2048)
        return "answer, %d bytes" % len(data)
    except ConnectionRefusedError:
        return "ICMP port unreachable"
    except socket.timeout:
        return "no answer within %.1fs" % timeout
    finally:
        s.close()


def ftp_client(src, sport, dst, passive, name):
    f = ftplib.FTP(timeout=5, source_address=(src, sport))
    f.connect(dst, 21)
    # the data connections must not reuse the control connection's port
    f.source_address = (src, 0)
    f.login()  # anonymous
    f.set_pasv(passive)
    buf = io.BytesIO()
    f.retrbinary("RETR " + name, buf.write)
    f.quit()
    return "%s RETR %s: %d bytes" % ("passive" if passive else "active", name, len(buf.getvalue()))


def icmp_checksum(b):
    if len(b) % 2:
        b += b"\x00"
    total = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def ping_burst(src, dst, count, first_id, gap):
    """`count` IPv4 echo requests, each with its own identifier (so each is a
    NEW conntrack flow and meets the rate limit; one ping process would be
    ESTABLISHED after its first reply), `gap` seconds apart."""
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    s.bind((src, 0))
    ids = set()
    for i in range(count):
        ident = first_id + i
        ids.add(ident)
        payload = (b"ctc-record burst %02d" % i).ljust(56, b".")
        hdr = struct.pack("!BBHHH", 8, 0, 0, ident, 1)
        csum = icmp_checksum(hdr + payload)
        s.sendto(struct.pack("!BBHHH", 8, 0, csum, ident, 1) + payload, (dst, 0))
        time.sleep(gap)
    got = set()
    deadline = time.monotonic() + 0.5
    while time.monotonic() < deadline:
        s.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            pkt, _ = s.recvfrom(2048)
        except socket.timeout:
            break
        ihl = (pkt[0] & 0x0F) * 4
        if len(pkt) >= ihl + 8 and pkt[ihl] == 0:
            ident = struct.unpack("!H", pkt[ihl + 4:ihl + 6])[0]
            if ident in ids:
                got.add(ident)
    s.close()
    return "%d echo requests (ids %d..%d), %d replied" % (count, first_id, first_id + count - 1, len(got))


# --------------------------------------------------------------- servers ---

def dns_server(addr, port):
    """Answers every query with one A record 192.0.2.53 (DNS-like)."""
    s = socket.socket(family(addr), socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port))
    while True:
        data, peer = s.recvfrom(2048)
        if len(data) < 12:
            continue
        qid = struct.unpack("!H", data[:2])[0]
        question = data[12:]
        resp = struct.pack("!HHHHHH", qid, 0x8180, 1, 1, 0, 0) + question
        resp += b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 300, 4) + socket.inet_aton("192.0.2.53")
        s.sendto(resp, peer)


def udp_echo_server(addr, port):
    s = socket.socket(family(addr), socket.SOCK_DGRAM)
    if family(addr) == socket.AF_INET6:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.bind((addr, port))
    while True:
        data, peer = s.recvfrom(4096)
        s.sendto(data[:64], peer)


def banner_server(addr, port):
    """SSH-like: sends a version banner, reads the client's, closes."""
    s = socket.socket(family(addr), socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if family(addr) == socket.AF_INET6:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.bind((addr, port))
    s.listen(16)
    while True:
        c, _ = s.accept()
        c.settimeout(3)
        try:
            c.sendall(b"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n")
            while c.recv(256):
                pass
        except OSError:
            pass
        c.close()


def http_server(addr, port, root, cert=None, key=None):
    import functools
    import http.server

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *a):
            pass

    class Server(http.server.HTTPServer):
        address_family = family(addr)

        def server_bind(self):
            if self.address_family == socket.AF_INET6:
                self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
            super().server_bind()

    srv = Server((addr, port), functools.partial(Quiet, directory=root))
    if cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    srv.serve_forever()


def ftp_server(addr, root, pasv_port):
    from pyftpdlib.authorizers import DummyAuthorizer
    from pyftpdlib.handlers import FTPHandler
    from pyftpdlib.servers import FTPServer
    import logging
    logging.basicConfig(level=logging.WARNING)
    auth = DummyAuthorizer()
    auth.add_anonymous(root)
    FTPHandler.authorizer = auth
    FTPHandler.passive_ports = [pasv_port]
    FTPHandler.permit_foreign_addresses = False
    FTPServer((addr, 21), FTPHandler).serve_forever()


def main(argv):
    cmd, args = argv[1], argv[2:]
    if cmd == "http-get":  # SRC SPORT DST DPORT PATH
        src, sport, dst, dport, path = args
        req = ("GET %s HTTP/1.0\r\nHost: www.example\r\nUser-Agent: ctc-record\r\n\r\n" % path).encode()
        log(tcp_client(src, int(sport), dst, int(dport), req))
    elif cmd == "https-get":
        src, sport, dst, dport, path = args
        req = ("GET %s HTTP/1.0\r\nHost: www.example\r\n\r\n" % path).encode()
        log(tcp_client(src, int(sport), dst, int(dport), req, tls=True))
    elif cmd == "ssh":  # SRC SPORT DST: banner exchange on port 22
        src, sport, dst = args
        log(tcp_client(src, int(sport), dst, 22, b"SSH-2.0-ctc-record\r\n", banner=True))
    elif cmd == "syn":  # SRC SPORT DST DPORT: expected to be dropped or refused
        src, sport, dst, dport = args
        log(tcp_client(src, int(sport), dst, int(dport)))
    elif cmd == "dns":
        src, sport, dst, dport, name, qid = args
        log(udp_client(src, int(sport), dst, int(dport), dns_query(name, int(qid))))
    elif cmd == "udp":
        src, sport, dst, dport, text = args
        log(udp_client(src, int(sport), dst, int(dport), text.encode()))
    elif cmd == "ftp":
        src, sport, dst, mode, name = args
        log(ftp_client(src, int(sport), dst, mode == "passive", name))
    elif cmd == "ping-burst":  # SRC DST COUNT FIRST_ID GAP
        src, dst, count, first_id, gap = args
        log(ping_burst(src, dst, int(count), int(first_id), float(gap)))
    elif cmd == "dns-server":
        dns_server(args[0], int(args[1]))
    elif cmd == "udp-echo-server":
        udp_echo_server(args[0], int(args[1]))
    elif cmd == "banner-server":
        banner_server(args[0], int(args[1]))
    elif cmd == "http-server":
        http_server(args[0], int(args[1]), args[2], *(args[3:5] if len(args) >= 5 else []))
    elif cmd == "ftp-server":
        ftp_server(args[0], args[1], int(args[2]))
    else:
        sys.exit("unknown command " + cmd)


if __name__ == "__main__":
    main(sys.argv)
