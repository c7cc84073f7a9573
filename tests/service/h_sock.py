# SPDX-License-Identifier: BSD-2-Clause
# Copyright (c) 2026 The nvmmd developers; see LICENSE.
# Socket helpers for the service tests, as a client or a squatter would
# use them:
#   h_sock.py hold N PATH      opens N connections, prints how many the
#                              daemon kept after a moment, then waits
#   h_sock.py live TYPE PATH   a live socket (seqpacket or stream) at PATH
#   h_sock.py stale PATH       a socket nobody listens on, left at PATH
#   h_sock.py notify PATH S    a NOTIFY_SOCKET: prints the first message
#                              that arrives within S seconds
import os
import resource
import select
import signal
import socket
import sys
import time


def hold(n, path):
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    conns = []
    for _ in range(n):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            s.connect(path)
        except OSError:
            s.close()
            continue
        conns.append(s)
    # The daemon closes those it refuses, after a HelloReply that says
    # why: they hang up, or read as end-of-file.
    time.sleep(1)
    p = select.poll()
    for s in conns:
        p.register(s, select.POLLIN)
    ready = dict(p.poll(0))
    kept = 0
    for s in conns:
        ev = ready.get(s.fileno(), 0)
        if ev == 0:
            kept += 1
            continue
        if ev & select.POLLHUP:
            continue
        try:
            if s.recv(1, socket.MSG_PEEK) != b"":
                kept += 1
        except OSError:
            pass
    print("kept %d of %d" % (kept, n), flush=True)
    signal.pause()


def live(kind, path):
    t = socket.SOCK_SEQPACKET if kind == "seqpacket" else socket.SOCK_STREAM
    s = socket.socket(socket.AF_UNIX, t)
    s.bind(path)
    s.listen(1)
    print("listening", flush=True)
    signal.pause()


def stale(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.bind(path)
    s.close()


def notify(path, seconds):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(path)
    os.chmod(path, 0o666)
    print("bound", flush=True)
    r, _, _ = select.select([s], [], [], seconds)
    if r:
        print(s.recv(4096).decode(), flush=True)


def main(argv):
    if argv[1] == "hold":
        hold(int(argv[2]), argv[3])
    elif argv[1] == "live":
        live(argv[2], argv[3])
    elif argv[1] == "stale":
        stale(argv[2])
    elif argv[1] == "notify":
        notify(argv[2], float(argv[3]))
    else:
        sys.exit("usage: h_sock.py hold|live|stale|notify ...")


if __name__ == "__main__":
    main(sys.argv)
