#!/usr/bin/env python3
"""A hostile etcd member for tests/status-hostile.sh: answers every request
on ADDR:2379 (TLS, with the member's certificate) and ADDR:2381 (plain, as
etcd's metrics port) badly, until it is killed or 300 s have passed.

  huge     a 100 MiB body (Content-Length), sent as fast as it is read
  endless  a chunked body that never ends: a byte every 0.2 s

Usage: hostile-etcd.py MODE ADDR CERT KEY CA READY-FILE"""
import os
import socket
import ssl
import sys
import threading
import time

MODE, ADDR, CERT, KEY, CA, READY = sys.argv[1:7]
HUGE = 100 * 1024 * 1024


def read_request(conn, buf):
    """One request (head and Content-Length body); the bytes after it, or None."""
    while b"\r\n\r\n" not in buf:
        data = conn.recv(65536)
        if not data:
            return None
        buf += data
    head, _, rest = buf.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip() or b"0")
    while len(rest) < length:
        data = conn.recv(65536)
        if not data:
            return None
        rest += data
    return rest[length:]


def answer(conn):
    if MODE == "huge":
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                     b"Content-Length: %d\r\n\r\n" % HUGE)
        start = b'{"header":{"member_id":"1"},"padding":"'
        conn.sendall(start)
        block = b"a" * 65536
        left = HUGE - len(start)
        while left > 0:
            piece = block[:left]
            conn.sendall(piece)
            left -= len(piece)
    else:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                     b"Transfer-Encoding: chunked\r\n\r\n1\r\n{\r\n")
        for _ in range(1500):
            time.sleep(0.2)
            conn.sendall(b"1\r\n \r\n")


def serve(conn):
    try:
        conn.settimeout(300)
        buf = b""
        while True:
            buf = read_request(conn, buf)
            if buf is None:
                return
            answer(conn)
    except (OSError, ssl.SSLError):
        pass  # the client cut it off: what is wanted
    finally:
        conn.close()


def listen(port, tls):
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((ADDR, port))
    sock.listen(16)
    ctx = None
    if tls:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(CERT, KEY)
        ctx.load_verify_locations(CA)
        ctx.verify_mode = ssl.CERT_OPTIONAL
    while True:
        conn, _ = sock.accept()
        if ctx is not None:
            try:
                conn = ctx.wrap_socket(conn, server_side=True)
            except (OSError, ssl.SSLError):
                conn.close()
                continue
        threading.Thread(target=serve, args=(conn,), daemon=True).start()


for port, tls in ((2379, True), (2381, False)):
    threading.Thread(target=listen, args=(port, tls), daemon=True).start()
time.sleep(0.5)
with open(READY, "w") as f:
    f.write(str(os.getpid()))
time.sleep(300)
