"""Submission latency through rapportd's listener against the upstream sink directly, in one
run: the same smtplib client sends the same messages to an aiosmtpd sink directly (the floor)
and through rapportd (which parses, adds the owner, and relays with libcurl on its worker pool
to the same sink). Prints median and p99 per message and the ratio to the floor, for a small
message (a new connection per message, as mail clients do), one connection for many, and a
5 MB attachment. Starts its own rapportd and sink on free loopback ports and stops both.

    /usr/bin/python3 bench_submission.py BUILD/bin [messages]
"""
import base64
import json
import os
import shutil
import signal
import smtplib
import socket
import statistics
import subprocess
import sys
import tempfile
import time

from aiosmtpd.controller import Controller

BIN = sys.argv[1]
N = int(sys.argv[2]) if len(sys.argv) > 2 else 200
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Sink:
    count = 0

    async def handle_DATA(self, server, session, envelope):
        Sink.count += 1
        return "250 OK"


def msg(i, body=b"Hello Jane,\r\n\r\nthe renewal figures are attached.\r\n" * 100):
    return (b"From: Mia <mia@vendor.example>\r\nTo: Jane Doe <jane@acme.example>\r\nSubject: bench %d\r\n"
            b"Message-ID: <bench-%d@vendor.example>\r\n\r\n" % (i, i)) + body


def run(port, token, messages, reuse):
    lat = []
    c = None
    for i, m in enumerate(messages):
        t0 = time.perf_counter()
        if c is None or not reuse:
            c = smtplib.SMTP("127.0.0.1", port, timeout=60)
            c.ehlo("bench")
            if token:
                c.login("mia", token)
        c.sendmail("mia@vendor.example", ["jane@acme.example"], m)
        if not reuse:
            c.quit()
            c = None
        lat.append((time.perf_counter() - t0) * 1000)
    if c is not None:
        c.quit()
    return lat


def report(name, direct, via):
    def stats(v):
        v = sorted(v)
        return statistics.median(v), v[min(len(v) - 1, int(len(v) * 0.99))]
    dm, dp = stats(direct)
    vm, vp = stats(via)
    print(f"{name:38} direct median {dm:7.2f} ms p99 {dp:7.2f} ms | via rapportd median {vm:7.2f} ms "
          f"p99 {vp:7.2f} ms | ratio {vm / dm:5.2f}x median, {vp / dp:5.2f}x p99")


def main():
    workdir = tempfile.mkdtemp(prefix="rapport-bench-smtp-")
    port, sink_port, api_port = free_port(), free_port(), free_port()
    shutil.copy(f"{ROOT}/packaging/examples/rules.json", f"{workdir}/rules.json")
    with open(f"{workdir}/settings.json", "w") as f:
        json.dump({"user": {"name": "Mia", "address": "mia@vendor.example"}, "rules": "rules.json",
                   "state_dir": "state", "api": {"port": api_port, "token_file": "state/token"}, "log_level": "warning",
                   "mailboxes": [{"id": "work",
                                  "imap": {"host": "127.0.0.1", "port": free_port(), "security": "none",
                                           "username": "mia", "password": "x"},
                                  "smtp": {"host": "127.0.0.1", "port": sink_port, "security": "none"},
                                  "submission": {"port": port}}]}, f)
    os.chmod(f"{workdir}/settings.json", 0o600)
    sink = Controller(Sink(), hostname="127.0.0.1", port=sink_port, decode_data=False, data_size_limit=64 << 20)
    sink.start()
    daemon = subprocess.Popen([f"{BIN}/rapportd", "--config", f"{workdir}/settings.json"],
                              stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 15
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        token = open(f"{workdir}/state/token").read().strip()
        small = [msg(i) for i in range(N)]
        print(f"{N} messages of {len(small[0])} bytes; smtplib client; aiosmtpd sink; rapportd adds the owner to each")
        run(port, token, small[:10], False)  # warm-up
        report("new connection per message", run(sink_port, None, small, False), run(port, token, small, False))
        report("one connection, many messages", run(sink_port, None, small, True), run(port, token, small, True))
        big = [msg(i, base64.encodebytes(os.urandom(5 << 20)).replace(b"\n", b"\r\n")) for i in range(5)]
        report("5 MB attachment", run(sink_port, None, big, False), run(port, token, big, False))
    finally:
        daemon.send_signal(signal.SIGTERM)
        try:
            daemon.wait(15)
        except subprocess.TimeoutExpired:
            daemon.kill()
        sink.stop()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
