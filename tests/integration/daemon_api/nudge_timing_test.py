"""Nudges come on time through the real rapportd: one timer for the next due nudge, so a nudge
due in 2 s is told at 2 s (not at the next minute), a snooze that ends comes due again the same
way, and nudges that came due while the daemon was down are told once at start.

    /usr/bin/python3 nudge_timing_test.py BUILD/bin
"""
import asyncio
import datetime
import json
import os
import signal
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "support"))
from rapport_test import Checks, Rapportd  # noqa: E402
from rapport_ws import call, connect, hello, next_notification  # noqa: E402

BIN = sys.argv[1]
check = Checks()
# How late a nudge_due may arrive after its due second. The daemon's timer is exact to the
# millisecond; this leaves room for a loaded CI machine.
LATE_LIMIT = 1.0

RULES = {
    "organization": {"name": "Vendor Inc", "domains": ["vendor.example"]},
    "people": [{"id": "bob", "name": "Bob Rep", "addresses": ["bob@vendor.example"]}],
    "accounts": [
        {"id": "acme", "name": "Acme Corp", "domains": ["acme.example"], "owner": "bob"},
        {"id": "globex", "name": "Globex", "domains": ["globex.example"], "owner": "bob"},
    ],
    "rules": {"loss": {"nudges": ["PT2S", "PT4S"]}},
}


def epoch(iso):
    return datetime.datetime.strptime(iso, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc).timestamp()


async def nudges_due(ws, count, timeout):
    """The next `count` nudge_due notifications, each with the time it arrived."""
    out = []
    deadline = time.time() + timeout
    while len(out) < count and time.time() < deadline:
        try:
            n = await next_notification(ws, timeout=max(0.1, deadline - time.time()))
        except asyncio.TimeoutError:
            break
        if n["kind"] == "nudge_due":
            out.append((time.time(), n))
    return out


async def quiet_for(ws, seconds):
    """Nudge notifications that arrive within `seconds` (there should be none)."""
    extra = []
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            n = await next_notification(ws, timeout=max(0.05, deadline - time.time()))
        except asyncio.TimeoutError:
            break
        if n["kind"] == "nudge_due":
            extra.append(n)
    return extra


async def on_time(port, token):
    ws = await connect(port)
    await hello(ws, token)
    await call(ws, "subscribe", {})
    lost = (await call(ws, "deal.lost", {"account": "acme"}))["result"]["nudges"]
    check(len(lost) == 2, f"deal.lost planned {lost}")
    due = {n["id"]: epoch(n["due"]) for n in lost}
    arrived = await nudges_due(ws, 2, timeout=10)
    check(len(arrived) == 2, f"both nudges came due: {[n for _, n in arrived]}")
    worst = 0.0
    for at, n in arrived:
        nudge = n["nudge"]
        late = at - due[nudge["id"]]
        worst = max(worst, late)
        check(nudge["state"] == "due", f"told as due {nudge}")
        check(-0.05 <= late < LATE_LIMIT, f"nudge {nudge['id']} told {late:.3f} s after its due time")
    print(f"nudge_due after due time: worst {worst * 1000:.0f} ms", flush=True)
    check(await quiet_for(ws, 1.0) == [], "each nudge is told once")

    # A snooze of a due nudge: it comes due again when the snooze ends, on time.
    first = lost[0]["id"]
    snoozed = (await call(ws, "nudges.snooze", {"id": first, "for": "PT2S"}))["result"]
    check(snoozed["state"] == "snoozed", f"snoozed {snoozed}")
    again = await nudges_due(ws, 1, timeout=6)
    check(len(again) == 1 and again[0][1]["nudge"]["id"] == first, f"the snoozed nudge came due again: {again}")
    if again:
        late = again[0][0] - epoch(snoozed["due"])
        print(f"snoozed nudge after its new due time: {late * 1000:.0f} ms", flush=True)
        check(-0.05 <= late < LATE_LIMIT, f"snoozed nudge told {late:.3f} s after its new due time")
    await ws.close()
    return max(n["id"] for _, n in arrived + again)


async def lose_globex(port, token):
    ws = await connect(port)
    await hello(ws, token)
    lost = (await call(ws, "deal.lost", {"account": "globex"}))["result"]["nudges"]
    await ws.close()
    return lost


async def after_restart(port, token, after, globex):
    ws = await connect(port)
    await hello(ws, token)
    await call(ws, "subscribe", {"after": after})
    told = await nudges_due(ws, 2, timeout=5)
    ids = sorted(n["nudge"]["id"] for _, n in told)
    check(ids == sorted(n["id"] for n in globex), f"nudges due while down are told at start: {ids}")
    check(all(n["id"] > after for _, n in told), "notification ids continue above the old ones")
    check(await quiet_for(ws, 1.5) == [], "and only once")
    states = {n["id"]: n["state"] for n in (await call(ws, "nudges.list", {"state": "all"}))["result"]["nudges"]}
    check(all(states[n["id"]] == "due" for n in globex), f"globex nudges are due {states}")
    await ws.close()


def kill_hard(daemon):
    daemon.proc.send_signal(signal.SIGKILL)
    daemon.proc.wait()


async def first_then_kill(port, token, daemon):
    """deal.lost with nudges at +2 s and +5 s; the first is told on time; kill -9 at +3 s."""
    ws = await connect(port)
    await hello(ws, token)
    await call(ws, "subscribe", {})
    lost = (await call(ws, "deal.lost", {"account": "acme"}))["result"]["nudges"]
    check([n["kind"] for n in lost] == ["follow_up", "follow_up"], f"two follow-ups {lost}")
    first = await nudges_due(ws, 1, timeout=6)
    check(len(first) == 1 and first[0][1]["nudge"]["id"] == lost[0]["id"], f"the first came due: {first}")
    if first:
        late = first[0][0] - epoch(lost[0]["due"])
        check(-0.05 <= late < LATE_LIMIT, f"first nudge told {late:.3f} s after its due time")
    time.sleep(max(0.0, epoch(lost[0]["due"]) + 1 - time.time()))  # +3 s
    kill_hard(daemon)
    return lost, max([n["id"] for _, n in first], default=0)


async def second_after_restart(port, token, lost, after):
    ws = await connect(port)
    await hello(ws, token)
    await call(ws, "subscribe", {"after": after})
    second = await nudges_due(ws, 1, timeout=8)
    check(len(second) == 1 and second[0][1]["nudge"]["id"] == lost[1]["id"],
          f"after kill -9 the second nudge still came: {second}")
    if second:
        late = second[0][0] - epoch(lost[1]["due"])
        print(f"second nudge after kill -9 and restart: {late * 1000:.0f} ms after its due time", flush=True)
        check(-1.0 <= late < LATE_LIMIT, f"second nudge told {late:.3f} s after its due time")
    check(await quiet_for(ws, 1.5) == [], "exactly once: the first is not told again, the second not twice")
    for n in lost:
        done = (await call(ws, "nudges.done", {"id": n["id"]}))["result"]
        check(done["state"] == "done", f"done {done}")
    listed = [n["id"] for n in (await call(ws, "nudges.list", {}))["result"]["nudges"]]
    check(not any(n["id"] in listed for n in lost), f"done nudges are not listed again: {listed}")
    await ws.close()


def start_daemon(workdir, nudges):
    """rapportd for Bob Rep with these loss nudges."""
    rules = json.loads(json.dumps(RULES))
    rules["rules"]["loss"]["nudges"] = nudges
    return Rapportd(BIN, workdir, json.dumps(rules), {"user": {"name": "Bob Rep", "address": "bob@vendor.example"}})


def crash_scenario(workdir):
    daemon = start_daemon(workdir, ["PT2S", "PT5S"])
    try:
        port, token = daemon.port, daemon.token()
        lost, after = asyncio.run(first_then_kill(port, token, daemon))
        daemon.start()
        asyncio.run(second_after_restart(port, token, lost, after))
    finally:
        check(daemon.stop() == 0, "rapportd exit status after the crash scenario")
    if check.failed:
        print(daemon.log())


def on_time_scenario(workdir):
    daemon = start_daemon(workdir, RULES["rules"]["loss"]["nudges"])
    try:
        port, token = daemon.port, daemon.token()
        last = asyncio.run(on_time(port, token))
        # Lose a deal, stop at once, stay down past both due times, start again.
        globex = asyncio.run(lose_globex(port, token))
        check(daemon.stop() == 0, "rapportd stopped cleanly")
        time.sleep(max(0.0, max(epoch(n["due"]) for n in globex) - time.time() + 0.5))
        daemon.start()
        asyncio.run(after_restart(port, token, last, globex))
    finally:
        check(daemon.stop() == 0, "rapportd exit status")
    if check.failed:
        print(daemon.log())


def main():
    with check.temp_dir("rapport-nudges-") as workdir:
        on_time_scenario(workdir)
    with check.temp_dir("rapport-nudges-kill-") as workdir:
        crash_scenario(workdir)
    check.exit()


if __name__ == "__main__":
    main()
