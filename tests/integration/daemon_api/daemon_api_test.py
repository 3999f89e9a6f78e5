"""rapportd's API as plugins and rapportctl see it. Starts its own rapportd in a temp dir on a
free loopback port and stops it at the end, also when a check fails.

    /usr/bin/python3 daemon_api_test.py BUILD/bin
"""
import asyncio
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "support"))
from rapport_test import Checks, Rapportd, example_rules  # noqa: E402
from rapport_ws import call, close_code, connect, hello, next_notification  # noqa: E402

BIN = sys.argv[1]
check = Checks()


def ctl(daemon, *args):
    p = subprocess.run([f"{BIN}/rapportctl", "--config", daemon.settings_path, *args],
                       capture_output=True, text=True, timeout=30)
    return p.returncode, p.stdout, p.stderr


def error_code(reply):
    return reply.get("error", {}).get("code")


async def scenario(daemon, token):
    port = daemon.port
    ws = await connect(port)
    result = await hello(ws, token, client="daemon-test", version="1")
    check(result["server"] == "rapportd" and isinstance(result["protocol"], int), f"hello result {result}")
    check(result["user"] == {"name": "Mia Marketing", "address": "mia@vendor.example"}, f"hello user {result}")

    status = (await call(ws, "status"))["result"]
    check(status["rules"]["accounts"] == 3 and status["rules"]["errors"] == [], f"status rules {status}")
    check(status["mailboxes"] == [] and status["calendars"] == [], f"status sources {status}")

    r = (await call(ws, "lookup", {"addresses": ["Jane Doe <JANE@acme.example>", "x@gmail.com"]}))["result"]
    jane = r["results"][0]
    check(jane["match"] == "contact" and jane["account"]["owner"]["id"] == "bob", f"lookup {jane}")
    check(jane["contact"] == {"name": "Jane Doe", "champion": True, "state": "active"} and jane["last_contact"] is None, f"lookup {jane}")
    check(r["results"][1]["match"] == "none", "public domain is no match")

    r = (await call(ws, "compose.check", {"from": "mia@vendor.example", "to": ["raj@acme.example"], "cc": [], "bcc": []}))["result"]
    check([c["address"] for c in r["add_cc"]] == ["bob@vendor.example"], f"compose.check {r}")
    check([n["kind"] for n in r["notices"]] == ["reference"], f"compose.check notices {r}")

    await call(ws, "subscribe", {"after": 0})
    lost = (await call(ws, "deal.lost", {"account": "globex", "competitor": "Hooli", "delivery": "2027-02-01"}))["result"]
    check(len(lost["nudges"]) == 4 and all(n["state"] == "pending" for n in lost["nudges"]), f"deal.lost {lost}")
    first = lost["nudges"][0]["id"]
    listed = (await call(ws, "nudges.list"))["result"]["nudges"]
    check(sorted(n["id"] for n in listed) == sorted(n["id"] for n in lost["nudges"]), "nudges.list shows them")
    snoozed = (await call(ws, "nudges.snooze", {"id": first, "for": "P2D"}))["result"]
    check(snoozed["state"] == "snoozed", f"snooze {snoozed}")
    check((await call(ws, "nudges.done", {"id": first}))["result"]["state"] == "done", "done")
    check((await call(ws, "nudges.dismiss", {"id": lost["nudges"][1]["id"]}))["result"]["state"] == "dismissed", "dismiss")
    check((await call(ws, "deal.reopen", {"account": "globex"}))["result"] == {}, "reopen")
    check((await call(ws, "nudges.list"))["result"]["nudges"] == [], "reopen cancelled the rest")
    all_nudges = (await call(ws, "nudges.list", {"state": "all"}))["result"]["nudges"]
    check(sorted(n["state"] for n in all_nudges) == ["cancelled", "cancelled", "dismissed", "done"], f"all {all_nudges}")
    check((await call(ws, "meetings.list"))["result"] == {"meetings": []}, "meetings.list (no calendars)")
    check((await call(ws, "drafts.list"))["result"] == {"drafts": []}, "drafts.list (none yet)")

    # Every error code, over the socket.
    check(error_code(await call(ws, "no.such.method")) == -32601, "-32601 unknown method")
    check(error_code(await call(ws, "lookup", {"addresses": "x"})) == -32602, "-32602 invalid params")
    check(error_code(await call(ws, "deal.lost", {"account": "nope"})) == -32001, "-32001 unknown account")
    check(error_code(await call(ws, "nudges.done", {"id": 999})) == -32002, "-32002 unknown nudge")
    check(error_code(await call(ws, "notifications.ack", {"id": 999999})) == -32003, "-32003 unknown notification")
    check(error_code(await call(ws, "nudges.snooze", {"id": first, "for": "P1D"})) == -32004, "-32004 invalid state")
    await ws.send("{this is not json")
    reply = json.loads(await ws.recv())
    check(reply["error"]["code"] == -32700 and reply["id"] is None, f"-32700 {reply}")
    await ws.send(json.dumps({"jsonrpc": "1.0", "id": 5, "method": "status"}))
    reply = json.loads(await ws.recv())
    check(reply["error"]["code"] == -32600 and reply["id"] == 5, f"-32600 {reply}")
    check(error_code(await call(ws, "status")) is None, "still serving after errors")

    # A reload is told to subscribers as a config notification, refused ones too.
    rules_path = os.path.join(daemon.dir, "rules.json")
    with open(rules_path) as f:
        good = f.read()
    with open(rules_path, "w") as f:
        f.write('{"organization": ')
    daemon.reload()
    n = await next_notification(ws)
    check(n["kind"] == "config" and n["ok"] is False and n["errors"], f"refused reload notification {n}")
    with open(rules_path, "w") as f:
        f.write(good)
    daemon.reload()
    n2 = await next_notification(ws)
    check(n2["kind"] == "config" and n2["ok"] is True and n2["id"] > n["id"], f"reload notification {n2}")
    check((await call(ws, "notifications.ack", {"id": n2["id"]}))["result"] == {}, "ack")

    # A second client that subscribes after 0 gets the same history, in order.
    ws2 = await connect(port)
    await hello(ws2, token)
    await call(ws2, "subscribe", {})
    replayed = [await next_notification(ws2) for _ in range(2)]
    check([x["id"] for x in replayed] == [n["id"], n2["id"]], f"replay {replayed}")
    await ws2.close()

    # Wrong token: closed with 1008, nothing runs.
    bad = await connect(port)
    await bad.send(json.dumps({"jsonrpc": "2.0", "id": 1, "method": "hello", "params": {"token": "0" * 64, "client": "x", "version": "1"}}))
    check(await close_code(bad) == 1008, "wrong token closes 1008")
    await ws.close()


def run(workdir):
    daemon = Rapportd(BIN, workdir, example_rules())
    try:
        token_path = os.path.join(daemon.dir, "state", "token")
        check(oct(os.stat(token_path).st_mode & 0o777) == "0o600", "token file mode 0600")
        check(oct(os.stat(os.path.join(daemon.dir, "state")).st_mode & 0o777) == "0o700", "state dir mode 0700")
        token = open(token_path).read().strip()

        # Listeners: loopback only.
        ss = subprocess.run(["ss", "-ltnH", f"sport = :{daemon.port}"], capture_output=True, text=True).stdout
        local = [line.split()[3] for line in ss.splitlines() if line.strip()]
        check(local and all(a.startswith("127.0.0.1:") or a.startswith("[::1]:") for a in local), f"listeners {local}")

        asyncio.run(scenario(daemon, token))

        # rapportctl, as a person uses it.
        rc, out, err = ctl(daemon, "status")
        check(rc == 0 and "Rules: 3 accounts, 4 contacts" in out, f"rapportctl status {rc} {out} {err}")
        rc, out, _ = ctl(daemon, "lookup", "jane@acme.example")
        check(rc == 0 and "contact — Acme Corp (acme, active), owner Bob Rep" in out, f"rapportctl lookup {out}")
        rc, out, _ = ctl(daemon, "check", "--from", "mia@vendor.example", "--to", "jane@acme.example")
        check(rc == 0 and out.startswith("Add Cc: Bob Rep <bob@vendor.example>"), f"rapportctl check {out}")
        rc, out, _ = ctl(daemon, "lost", "initech", "--competitor", "Hooli")
        check(rc == 0 and "ID  DUE (UTC)" in out and "follow_up" in out, f"rapportctl lost {out}")
        rc, out, _ = ctl(daemon, "nudges", "--json")
        nudges = json.loads(out)["nudges"]
        check(rc == 0 and len(nudges) == 3, f"rapportctl nudges --json {out}")
        rc, out, _ = ctl(daemon, "snooze", str(nudges[0]["id"]), "P1D")
        check(rc == 0 and "snoozed until" in out, f"rapportctl snooze {out}")
        rc, out, err = ctl(daemon, "done", "424242")
        check(rc == 1 and err.strip() == "rapportctl: no nudge 424242 (code -32002)", f"rapportctl done unknown: {err}")
        rc, out, _ = ctl(daemon, "drafts")
        check(rc == 0 and out == "No summary drafts yet.\n", f"rapportctl drafts {out!r}")
        rc, out, _ = ctl(daemon, "token")
        check(rc == 0 and out.strip() == token, "rapportctl token")
        rc, out, err = ctl(daemon, "frobnicate")
        check(rc == 2 and "unknown command" in err, f"unknown command {err}")
        watch = subprocess.Popen([f"{BIN}/rapportctl", "--config", daemon.settings_path, "watch"],
                                 stdout=subprocess.PIPE, text=True)
        try:
            line = watch.stdout.readline()
            check("[config] Rules reloaded" in line or "[config] The new rules were refused" in line, f"watch line {line!r}")
        finally:
            watch.kill()
            watch.wait()

        # Wrong token file: a clear message, exit 4.
        with open(token_path) as f:
            real = f.read()
        with open(token_path, "w") as f:
            f.write("f" * 64 + "\n")
        rc, _, err = ctl(daemon, "status")
        check(rc == 4 and "refused the token" in err, f"wrong token {rc} {err}")
        with open(token_path, "w") as f:
            f.write(real)
    finally:
        status = daemon.stop()
        check(status == 0, f"rapportd exit status {status}")

    # Not running: a clear message, exit 3.
    rc, _, err = ctl(daemon, "status")
    check(rc == 3 and "rapportd is not running" in err, f"not running {rc} {err}")
    if check.failed:
        print(daemon.log())


if __name__ == "__main__":
    check.main("rapport-api-", run)
