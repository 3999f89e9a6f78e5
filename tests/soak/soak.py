"""Soak: rapportd against its own Dovecot for --minutes N with steady mail (one message a second
by default, alternating INBOX and Sent), 50 API clients looping compose.check and lookup while
subscribed to notifications, and a SIGHUP reload every minute. Prints, each minute, the daemon's
RSS, open files (/proc/PID/fd) and CPU seconds used in that minute; at the end says whether RSS
and open files stayed flat over the last 10 minutes (the second half of shorter runs) and exits
1 when they did not, when rapportd died, or when a client saw an error. Not run in CI; see
docs/soak.md.

    /usr/bin/python3 tests/soak/soak.py [--bin BUILD/bin] [--minutes 30] [--clients 50]
"""
import argparse
import asyncio
import contextlib
import json
import os
import random
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "support"))
from rapport_test import Dovecot, Rapportd, cpu_seconds, example_rules, open_files, rss_bytes, sample_message  # noqa: E402
import rapport_ws  # noqa: E402

MiB = 2 ** 20


class Counters:
    def __init__(self):
        self.requests = 0
        self.errors = []
        self.messages = 0
        self.reloads = 0
        self.config_notes = 0
        self.other_notes = 0


def count_notifications(ws, counters):
    for n in ws.notifications:
        if n.get("kind") == "config":
            counters.config_notes += 1
        else:
            counters.other_notes += 1
    ws.notifications.clear()


async def client(n, daemon, token, counters, interval, stop):
    """One API client: hello, subscribe, then compose.check / lookup until stop is set."""
    rng = random.Random(n)
    try:
        ws = await rapport_ws.connect(daemon.port)
        await rapport_ws.hello(ws, token, client=f"soak-{n}")
        await rapport_ws.call(ws, "subscribe", {})
        recipients = ["jane@acme.example", "raj@acme.example", "new.person@acme.example",
                      "hank.scorpio@gmail.com", "bill@initech.example", "x@nowhere.example"]
        while not stop.is_set():
            if rng.random() < 0.7:
                reply = await rapport_ws.call(ws, "compose.check", {
                    "from": "mia@vendor.example", "to": rng.sample(recipients, 2), "cc": [], "bcc": []})
                ok = "result" in reply and isinstance(reply["result"].get("add_cc"), list)
            else:
                reply = await rapport_ws.call(ws, "lookup", {"addresses": [rng.choice(recipients)]})
                ok = "result" in reply and len(reply["result"]["results"]) == 1
            if not ok:
                counters.errors.append(f"client {n}: {reply}")
                return
            counters.requests += 1
            count_notifications(ws, counters)
            try:  # notifications that came while idle
                await asyncio.wait_for(stop.wait(), interval)
            except asyncio.TimeoutError:
                pass
        # Whatever arrived after the last reply (the last reload's notification).
        try:
            while True:
                frame = json.loads(await asyncio.wait_for(ws.recv(), 1.0))
                if frame.get("method") == "notify":
                    ws.notifications.append(frame["params"])
        except asyncio.TimeoutError:
            pass
        count_notifications(ws, counters)
    except Exception as e:  # a dropped connection is a finding, not a crash of the soak
        counters.errors.append(f"client {n}: {type(e).__name__}: {e}")


async def mail_flow(dovecot, counters, per_second, stop):
    n = 0
    loop = asyncio.get_running_loop()
    while not stop.is_set():
        started = time.time()
        for _ in range(per_second):
            n += 1
            if n % 2:
                message = sample_message(n)  # from a customer contact to Mia
                folder = "INBOX"
            else:
                message = sample_message(n, sender="Mia Marketing <mia@vendor.example>", to="Raj Patel <raj@acme.example>")
                folder = "Sent"
            await loop.run_in_executor(None, dovecot.append, folder, message)
            counters.messages += 1
        try:
            await asyncio.wait_for(stop.wait(), max(0.0, 1.0 - (time.time() - started)))
        except asyncio.TimeoutError:
            pass


async def soak(args, daemon, dovecot):
    counters = Counters()
    stop = asyncio.Event()
    token = daemon.token()
    tasks = [asyncio.ensure_future(client(n, daemon, token, counters, args.interval, stop)) for n in range(args.clients)]
    tasks.append(asyncio.ensure_future(mail_flow(dovecot, counters, args.mail_per_second, stop)))
    samples = []  # (minute, rss bytes, fds, cpu seconds in the minute)
    start = time.time()
    last_cpu = cpu_seconds(daemon.pid)
    last_requests = last_messages = 0
    print(f"start: RSS {rss_bytes(daemon.pid) / MiB:.1f} MiB, {open_files(daemon.pid)} open files, "
          f"{args.clients} clients, {args.mail_per_second} message(s)/s", flush=True)
    for minute in range(1, args.minutes + 1):
        await asyncio.sleep(max(0.0, start + 60 * minute - time.time()))
        if daemon.proc.poll() is not None:
            counters.errors.append(f"rapportd exited with status {daemon.proc.returncode} in minute {minute}")
            break
        cpu = cpu_seconds(daemon.pid)
        rss, fds = rss_bytes(daemon.pid), open_files(daemon.pid)
        samples.append((minute, rss, fds, cpu - last_cpu))
        print(f"minute {minute:3d}: RSS {rss / MiB:6.1f} MiB  open files {fds:4d}  CPU {cpu - last_cpu:6.2f} s  "
              f"requests {counters.requests - last_requests:6d}  messages {counters.messages - last_messages:4d}  "
              f"errors {len(counters.errors)}", flush=True)
        last_cpu, last_requests, last_messages = cpu, counters.requests, counters.messages
        if counters.errors:
            break
        if minute < args.minutes:
            daemon.reload()
            counters.reloads += 1
    stop.set()
    await asyncio.wait(tasks, timeout=30)
    await rapport_ws.close_all()
    return counters, samples


def flat(samples, rss_limit_mib, fd_limit):
    """Growth over the last 10 minutes (or the second half of a shorter run)."""
    if len(samples) < 2:
        return False, "too few samples"
    window = samples[-11:] if len(samples) >= 20 else samples[len(samples) // 2 - 1:]
    rss_growth = (window[-1][1] - window[0][1]) / MiB
    fd_growth = window[-1][2] - window[0][2]
    ok = rss_growth <= rss_limit_mib and fd_growth <= fd_limit
    return ok, (f"from minute {window[0][0]} to {window[-1][0]}: RSS {rss_growth:+.1f} MiB (limit {rss_limit_mib}), "
                f"open files {fd_growth:+d} (limit {fd_limit})")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bin", default=os.path.join(ROOT, "build", "bin"), help="directory holding rapportd")
    parser.add_argument("--minutes", type=int, default=30)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--interval", type=float, default=0.1, help="seconds each client waits between requests")
    parser.add_argument("--mail-per-second", type=int, default=1)
    parser.add_argument("--rss-growth-mib", type=float, default=4.0, help="allowed RSS growth over the window")
    parser.add_argument("--fd-growth", type=int, default=2, help="allowed growth of open files over the window")
    args = parser.parse_args()

    with contextlib.ExitStack() as stop:  # the daemon, Dovecot, then the temp dir, however it ends
        workdir = stop.enter_context(tempfile.TemporaryDirectory(prefix="rapport-soak-", ignore_cleanup_errors=True))
        dovecot = stop.enter_context(Dovecot(workdir))
        mailbox = dovecot.mailbox()
        mailbox["folders"] = {"watch": ["INBOX", "Sent"], "sent": "Sent", "drafts": "Drafts"}
        daemon = stop.enter_context(Rapportd(args.bin, workdir, example_rules(), {"mailboxes": [mailbox]}))
        counters, samples = asyncio.run(soak(args, daemon, dovecot))
        ok, how = flat(samples, args.rss_growth_mib, args.fd_growth)
        cpu_total = sum(s[3] for s in samples)
        expected_config = counters.reloads * args.clients
        print(f"totals: {counters.requests} requests, {counters.messages} messages appended, {counters.reloads} reloads, "
              f"{counters.config_notes} config notifications (expected {expected_config}), "
              f"{counters.other_notes} other notifications, {cpu_total:.1f} CPU s", flush=True)
        print(("flat: " if ok else "NOT FLAT: ") + how, flush=True)
        for e in counters.errors[:10]:
            print("ERROR: " + e, flush=True)
        if counters.config_notes != expected_config:
            print("FAILED: not every client was told of every reload", flush=True)
        if not ok or counters.errors or counters.config_notes != expected_config:
            tail = daemon.log()[-3000:]
            print("rapportd log (end):\n" + tail)
            return 1
        return 0


if __name__ == "__main__":
    sys.exit(main())
