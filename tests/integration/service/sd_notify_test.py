"""rapportd speaks systemd's notification protocol, as the Type=notify user unit expects: READY=1
once the API listens, RELOADING=1 with MONOTONIC_USEC and then READY=1 around a SIGHUP reload,
STOPPING=1 on SIGTERM. The test plays systemd: it binds the AF_UNIX datagram socket named by
NOTIFY_SOCKET and reads what arrives.

    /usr/bin/python3 sd_notify_test.py BUILD/bin
"""
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time

BIN = sys.argv[1]
failures = 0


def check(condition, what):
    global failures
    if not condition:
        failures += 1
        print(f"FAILED: {what}", flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def receive(sock, timeout):
    sock.settimeout(timeout)
    try:
        return sock.recv(4096).decode()
    except socket.timeout:
        return None


with tempfile.TemporaryDirectory(prefix="rapport-notify-") as d:
    with open(f"{d}/rules.json", "w") as f:
        json.dump({"organization": {"name": "V", "domains": ["vendor.example"]},
                   "people": [{"id": "mia", "name": "Mia", "addresses": ["mia@vendor.example"]}],
                   "accounts": []}, f)
    port = free_port()
    with open(f"{d}/settings.json", "w") as f:
        json.dump({"user": {"name": "Mia", "address": "mia@vendor.example"}, "rules": "rules.json",
                   "state_dir": "state", "api": {"port": port, "token_file": "state/token"}}, f)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(f"{d}/notify")
    env = dict(os.environ, NOTIFY_SOCKET=f"{d}/notify")
    log = open(f"{d}/rapportd.log", "w")
    daemon = subprocess.Popen([f"{BIN}/rapportd", "--config", f"{d}/settings.json"], env=env, stdout=log,
                              stderr=subprocess.STDOUT)
    try:
        ready = receive(sock, 20)
        check(ready == "READY=1", f"first message {ready!r}")
        with socket.create_connection(("127.0.0.1", port), timeout=5):
            pass  # READY means the API already listens

        daemon.send_signal(signal.SIGHUP)
        reloading = receive(sock, 10) or ""
        lines = reloading.split("\n")
        check(lines[0] == "RELOADING=1", f"reload message {reloading!r}")
        usec = int(lines[1].split("=", 1)[1]) if len(lines) > 1 and lines[1].startswith("MONOTONIC_USEC=") else -1
        now = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
        check(0 < usec <= now and now - usec < 10_000_000, f"MONOTONIC_USEC {usec} vs now {now}")
        again = receive(sock, 10)
        check(again == "READY=1", f"after the reload {again!r}")

        daemon.send_signal(signal.SIGTERM)
        stopping = receive(sock, 10)
        check(stopping == "STOPPING=1", f"on SIGTERM {stopping!r}")
        check(daemon.wait(timeout=20) == 0, "rapportd stopped cleanly")
    finally:
        if daemon.poll() is None:
            daemon.kill()
            daemon.wait()
        log.close()
        if failures:
            print(open(f"{d}/rapportd.log").read())

print("sd_notify: " + ("OK" if not failures else f"{failures} failed"))
sys.exit(1 if failures else 0)
