"""Rules from an https URL ("rules": "https://…"), against a local HTTPS server with a test CA:
--check-config fetches and checks it; rapportd caches the last good copy, honours the ETag
(the server sees 304s), keeps the last good rules when a broken version is published (a
`config` notification, status errors), installs a good new version on SIGHUP, and starts from
the cached copy while the server is down. Bad answers — HTML, 404, 100 MB, a redirect to
another host — are clear errors, bounded in time and memory.

    /usr/bin/python3 rules_url_test.py BUILD/bin
"""
import asyncio
import hashlib
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "support"))
import rapport_ws  # noqa: E402
from rapport_test import Checks, Rapportd, TestCA, free_port  # noqa: E402

BIN = sys.argv[1]
check = Checks()


def rules(accounts):
    return json.dumps({
        "organization": {"name": "Vendor Inc", "domains": ["vendor.example"]},
        "people": [{"id": "mia", "name": "Mia Marketing", "addresses": ["mia@vendor.example"]}],
        "accounts": [{"id": a, "name": a.title(), "domains": [f"{a}.example"], "owner": "mia"} for a in accounts],
    }, indent=2)


class Published:
    """What the server publishes, and what it saw."""

    def __init__(self):
        self.body = rules(["acme"]).encode()
        self.lock = threading.Lock()
        self.log = []  # (path, status)

    def etag(self):
        return '"' + hashlib.sha256(self.body).hexdigest()[:16] + '"'

    def statuses(self, path="/rules.json"):
        with self.lock:
            return [s for p, s in self.log if p == path]


def serve(published, port, ctx, other_host_port):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def reply(self, status, body=b"", headers=()):
            with published.lock:
                published.log.append((self.path, status))
            self.send_response(status)
            for k, v in headers:
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            if self.path == "/rules.json":
                tag = published.etag()
                if self.headers.get("If-None-Match") == tag:
                    return self.reply(304, headers=[("ETag", tag)])
                return self.reply(200, published.body, [("ETag", tag), ("Content-Type", "application/json"),
                                                         ("Last-Modified", "Tue, 01 Dec 2026 10:00:00 GMT")])
            if self.path == "/login.html":
                return self.reply(200, b"<!DOCTYPE html>\n<html><body>Sign in</body></html>\n",
                                  [("Content-Type", "text/html; charset=utf-8")])
            if self.path == "/huge.json":
                with published.lock:
                    published.log.append((self.path, 200))
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(200 * 1024 * 1024))
                self.end_headers()
                try:
                    chunk = b" " * 65536
                    for _ in range(3200):
                        self.wfile.write(chunk)
                except OSError:
                    pass
                return
            if self.path == "/huge-chunked.json":
                with published.lock:
                    published.log.append((self.path, 200))
                self.send_response(200)
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                try:
                    chunk = b" " * 65536
                    for _ in range(3200):
                        self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                except OSError:
                    pass
                return
            if self.path == "/moved.json":  # same host: followed
                return self.reply(301, headers=[("Location", f"https://127.0.0.1:{port}/rules.json")])
            if self.path == "/elsewhere.json":  # another host: refused
                return self.reply(302, headers=[("Location", f"https://localhost:{other_host_port}/rules.json")])
            return self.reply(404, b"not here\n", [("Content-Type", "text/plain")])

        def log_message(self, *args):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    httpd.daemon_threads = True
    httpd.socket = ctx.wrap_socket(httpd.socket, server_side=True)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd


def write_settings(workdir, url, api_port):
    with open(f"{workdir}/settings.json", "w") as f:
        json.dump({"user": {"name": "Mia Marketing", "address": "mia@vendor.example"}, "rules": url,
                   "rules_ca_file": "ca.pem", "state_dir": "state", "log_level": "debug",
                   "api": {"port": api_port, "token_file": "state/token"}}, f)


def check_config(workdir):
    t0 = time.time()
    p = subprocess.run([f"{BIN}/rapportd", "--check-config", f"{workdir}/settings.json"], capture_output=True,
                       text=True, timeout=120)
    return p.returncode, p.stdout + p.stderr, time.time() - t0


async def session(daemon):
    ws = await rapport_ws.connect(daemon.port)
    await rapport_ws.hello(ws, daemon.token())
    await rapport_ws.call(ws, "subscribe", {})
    return ws


async def lookup(ws, address):
    reply = await rapport_ws.call(ws, "lookup", {"addresses": [address]})
    account = reply["result"]["results"][0]["account"]
    return account["id"] if account else None


async def wait_config(ws, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            n = await rapport_ws.next_notification(ws, timeout=max(0.1, deadline - time.time()))
        except asyncio.TimeoutError:
            break
        if n["kind"] == "config":
            return n
    return None


async def wait_until(predicate, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return True
        await asyncio.sleep(0.1)
    return predicate()


async def daemon_scenario(daemon, published):
    # 1. First start, no copy yet: fetched at start-up, cached; the check that follows at once
    #    sends the ETag and gets a 304.
    cache = os.path.join(daemon.dir, "state", "rules-cache.json")
    check(daemon.proc.poll() is None, "rapportd starts with rules from the URL")
    ws = await session(daemon)
    check(await lookup(ws, "jane@acme.example") == "acme", "rules from the URL are in force")
    check(await wait_until(lambda: 304 in published.statuses()), f"ETag honoured: a 304 ({published.statuses()})")
    check(os.path.exists(cache), "the last good copy is cached in state_dir")
    check(oct(os.stat(cache).st_mode & 0o777) == "0o600", "cached copy is 0600")
    # 2. A broken version is published: SIGHUP asks the URL, refuses it, keeps the last good.
    good = published.body
    published.body = good.replace(b'"owner": "mia"', b'"owner": "nobody"', 1)
    daemon.reload()
    note = await wait_config(ws)
    check(note is not None and note["ok"] is False, f"broken version refused: config ok=false ({note})")
    check(note is not None and any("nobody" in e for e in note["errors"]), "the error names the problem")
    status = (await rapport_ws.call(ws, "status"))["result"]
    check(status["rules"]["errors"], f"status shows the refusal ({status['rules']})")
    check(await lookup(ws, "jane@acme.example") == "acme", "the last good rules stay in force")
    with open(cache, "rb") as f:
        check(f.read() == good, "the cache still holds the last good copy")
    # 3. HTML where the rules were: refused the same way, clearly.
    published.body = b"<html><body>Maintenance</body></html>"
    daemon.reload()
    note = await wait_config(ws)
    check(note is not None and note["ok"] is False and any("HTML page" in e for e in note["errors"]),
          f"HTML refused with a clear error ({note})")
    # 4. A good new version: SIGHUP installs it.
    published.body = rules(["acme", "globex"]).encode()
    daemon.reload()
    note = await wait_config(ws)
    check(note is not None and note["ok"] is True, f"new version installed ({note})")
    check(await lookup(ws, "kim@globex.example") == "globex", "the new account is known")
    await rapport_ws.close_all()


async def cached_start_scenario(daemon):
    check(daemon.proc.poll() is None, "server down: rapportd still starts")
    ws = await session(daemon)
    check(await lookup(ws, "kim@globex.example") == "globex", "server down: the cached copy is in force")
    status = None
    for _ in range(100):
        status = (await rapport_ws.call(ws, "status"))["result"]
        if status["rules"]["errors"]:
            break
        await asyncio.sleep(0.1)
    check(status and any("cannot fetch" in e for e in status["rules"]["errors"]),
          f"status says the URL cannot be reached ({status and status['rules']})")
    await rapport_ws.close_all()


def run(workdir):
    test_ca = TestCA(workdir, alt_names="DNS:localhost,IP:127.0.0.1")
    ctx = test_ca.server_context()
    published = Published()
    port, other = free_port(), free_port()
    httpd = serve(published, port, ctx, other)
    other_httpd = serve(Published(), other, ctx, other)
    api_port = free_port()  # named in the settings --check-config reads; nothing listens there
    try:
        # --check-config asks the URL every time and says what is wrong with what it got.
        base = f"https://127.0.0.1:{port}"
        write_settings(workdir, f"{base}/rules.json", api_port)
        code, out, _ = check_config(workdir)
        check(code == 0 and "OK (1 people, 1 accounts" in out, f"--check-config on a good URL ({code}: {out})")
        check(not os.path.exists(f"{workdir}/state/rules-cache.json"), "--check-config caches nothing")
        write_settings(workdir, f"{base}/moved.json", api_port)
        code, out, _ = check_config(workdir)
        check(code == 0, f"a redirect on the same host is followed ({code}: {out})")
        for path, expect in [("/login.html", "answered with an HTML page"),
                             ("/missing.json", "404 Not Found; check the rules URL"),
                             ("/huge.json", "larger than 128 MiB"),
                             ("/huge-chunked.json", "larger than 128 MiB"),
                             ("/elsewhere.json", "redirected to another host")]:
            write_settings(workdir, base + path, api_port)
            code, out, took = check_config(workdir)
            check(code == 1 and expect in out, f"{path}: exit 1 with '{expect}' ({code}: {out})")
            check(took < 30, f"{path}: bounded ({took:.1f} s)")
        # An untrusted certificate (no rules_ca_file) is refused.
        with open(f"{workdir}/settings.json") as f:
            s = json.load(f)
        s["rules"] = f"{base}/rules.json"
        del s["rules_ca_file"]
        with open(f"{workdir}/settings.json", "w") as f:
            json.dump(s, f)
        code, out, _ = check_config(workdir)
        check(code == 1 and "cannot fetch" in out, f"untrusted certificate refused ({code}: {out})")

        # The daemon: rules_ca_file is relative to its settings, as in --check-config's.
        daemon = Rapportd(BIN, workdir, None, {"rules": f"{base}/rules.json", "rules_ca_file": "ca.pem",
                                               "log_level": "debug"},
                          prepare=lambda d: shutil.copy(test_ca.ca_file, d))
        try:
            asyncio.run(daemon_scenario(daemon, published))
        finally:
            daemon.stop(15)
        # The server goes away; rapportd starts from the last good copy.
        httpd.shutdown()
        httpd.server_close()
        daemon.start()
        try:
            asyncio.run(cached_start_scenario(daemon))
        finally:
            daemon.stop(15)
        if check.failed:
            print("--- rapportd.log (both starts)\n" + daemon.log()[-8000:])
    finally:
        other_httpd.shutdown()


if __name__ == "__main__":
    check.main("rapport-rules-url-", run)
