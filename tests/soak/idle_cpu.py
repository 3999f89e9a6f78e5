"""CPU that rapportd uses while nothing happens: one Dovecot mailbox (IDLE) and one calendar
file, no mail, no API traffic. Waits until the first scan and the first calendar read are done,
then prints the daemon's own CPU seconds (utime + stime from /proc/PID/stat) over the period.
Not run in CI (it takes minutes); see docs/soak.md.

    /usr/bin/python3 tests/soak/idle_cpu.py [--bin BUILD/bin] [--minutes 10]
"""
import argparse
import asyncio
import contextlib
import os
import shutil
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "support"))
from rapport_test import Dovecot, Rapportd, cpu_seconds, example_rules, open_files, rss_bytes, sample_message  # noqa: E402
from rapport_ws import call, close_all, connect, hello  # noqa: E402


async def wait_until_settled(daemon, seconds=60):
    """Until the mailbox waits on IDLE and the calendar has been read once."""
    ws = await connect(daemon.port)
    await hello(ws, daemon.token(), client="idle-cpu")
    deadline = time.time() + seconds
    status = None
    while time.time() < deadline:
        status = (await call(ws, "status"))["result"]
        mailbox_ready = all(m["state"] in ("idle", "polling") for m in status["mailboxes"])
        calendar_ready = all(c["last_sync"] is not None for c in status["calendars"])
        if mailbox_ready and calendar_ready:
            break
        await asyncio.sleep(0.2)
    await close_all()
    return status


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bin", default=os.path.join(ROOT, "build", "bin"), help="directory holding rapportd")
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--messages", type=int, default=20, help="messages in INBOX before start")
    args = parser.parse_args()

    with contextlib.ExitStack() as stop:  # the daemon, Dovecot, then the temp dir, however it ends
        workdir = stop.enter_context(tempfile.TemporaryDirectory(prefix="rapport-idle-", ignore_cleanup_errors=True))
        dovecot = stop.enter_context(Dovecot(workdir))
        for n in range(args.messages):
            dovecot.append("INBOX", sample_message(n))
        calendar = os.path.join(ROOT, "tests", "data", "ical", "google_export.ics")
        settings = {"mailboxes": [dovecot.mailbox()],
                    "calendars": [{"id": "work", "url": "file:calendar.ics", "mailbox": "work"}]}
        daemon = stop.enter_context(Rapportd(args.bin, workdir, example_rules(), settings,
                                             prepare=lambda d: shutil.copy(calendar, os.path.join(d, "calendar.ics"))))
        status = asyncio.run(wait_until_settled(daemon))
        print(f"settled: mailboxes {[(m['id'], m['state']) for m in status['mailboxes']]}, "
              f"calendars {[(c['id'], c['events']) for c in status['calendars']]}", flush=True)
        start_cpu, start = cpu_seconds(daemon.pid), time.time()
        print(f"start: {start_cpu:.2f} CPU s used so far (startup and first scan), "
              f"RSS {rss_bytes(daemon.pid) / 2**20:.1f} MiB, {open_files(daemon.pid)} open files", flush=True)
        minute_cpu = start_cpu
        for minute in range(1, int(args.minutes) + 1):
            time.sleep(max(0.0, start + 60 * minute - time.time()))
            now_cpu = cpu_seconds(daemon.pid)
            print(f"minute {minute:3d}: CPU {now_cpu - minute_cpu:.2f} s, RSS {rss_bytes(daemon.pid) / 2**20:.1f} MiB, "
                  f"{open_files(daemon.pid)} open files", flush=True)
            minute_cpu = now_cpu
        rest = start + 60 * args.minutes - time.time()
        if rest > 0:
            time.sleep(rest)
        used, elapsed = cpu_seconds(daemon.pid) - start_cpu, time.time() - start
        print(f"idle CPU: {used:.2f} s over {elapsed / 60:.1f} min ({100 * used / elapsed:.3f} % of one core)", flush=True)
        if daemon.proc.poll() is not None:
            print(f"FAILED: rapportd exited during the run:\n{daemon.log()}")
            return 1
        return 0


if __name__ == "__main__":
    sys.exit(main())
