"""The submission listener end to end: Python's smtplib as the mail client, the real rapportd,
and a real SMTP sink upstream (aiosmtpd, Debian's python3-aiosmtpd), all on loopback ports of
their own in a temp dir. Checks the bytes that reach the sink, not just that something did.

    /usr/bin/python3 submission_test.py BUILD/bin
"""
import asyncio
import base64
import json
import os
import smtplib
import socket
import sys
import threading
import time

from aiosmtpd.controller import Controller

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "support"))
from rapport_test import Checks, Rapportd, example_rules, free_port  # noqa: E402
from rapport_ws import call, close_all, connect, hello  # noqa: E402

BIN = sys.argv[1]
check = Checks()


class Sink:
    """An upstream SMTP server that keeps every message it accepts, byte for byte."""

    def __init__(self):
        self.messages = []  # (mail_from, rcpt_tos, content bytes)
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("nobody@"):
            return "550 5.1.1 <%s>: Recipient address rejected: no such user" % address
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        content = envelope.original_content
        if b"Subject: refuse me" in content:
            return "550 5.7.1 Message rejected by policy"
        with self.lock:
            self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), content))
        return "250 2.0.0 Ok: queued as SINK%d" % len(self.messages)

    def take(self):
        with self.lock:
            out, self.messages = self.messages, []
        return out


def start_sink(handler, port):
    c = Controller(handler, hostname="127.0.0.1", port=port, decode_data=False,
                   data_size_limit=64 * 1024 * 1024, enable_SMTPUTF8=True)
    c.start()
    return c


def wait_port(port, timeout=15):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.recv(100)
                return True
        except OSError:
            time.sleep(0.1)
    return False


def client(port, token=None):
    c = smtplib.SMTP("127.0.0.1", port, timeout=60)
    c.ehlo("client.test")
    if token is not None:
        c.login("mia", token)
    return c


def message(headers, body):
    return "".join(h + "\r\n" for h in headers).encode() + b"\r\n" + body


def raw_session(port, data, read_until=None, timeout=10):
    """Sends bytes on a raw socket and returns what the server answered."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    got = s.recv(1000)
    try:
        s.sendall(data)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if read_until and read_until in got:
                break
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                break
            if not chunk:
                break
            got += chunk
    except OSError:
        pass
    s.close()
    return got


def auth_plain(token):
    return base64.b64encode(b"\0mia\0" + token.encode())


def scenario(daemon, port, sink_port, token):
    sink = Sink()
    controller = start_sink(sink, sink_port)
    try:
        # 1. The owner is added to a new Cc line and to the envelope; everything else arrives
        # byte for byte: an 8-bit body, lines that need dot-stuffing, a 5 MB attachment.
        attachment = base64.encodebytes(os.urandom(5 * 1024 * 1024)).replace(b"\n", b"\r\n")
        headers = ["From: Mia Marketing <mia@vendor.example>", "To: Jane Doe <jane@acme.example>",
                   "Subject: =?UTF-8?B?R3LDvMOfZQ==?=", "Message-ID: <one@vendor.example>",
                   "MIME-Version: 1.0", 'Content-Type: multipart/mixed; boundary="b1"']
        body = (b"--b1\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" +
                "Grüße aus München — ".encode() + b"\r\n.\r\n..two dots\r\n. a dot and a space\r\n\r\n"
                b"--b1\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
                attachment + b"--b1--\r\n")
        original = message(headers, body)
        c = client(port, token)
        c.sendmail("mia@vendor.example", ["jane@acme.example"], original, mail_options=["BODY=8BITMIME"])
        c.quit()
        got = sink.take()
        check(len(got) == 1, f"one message relayed, got {len(got)}")
        if got:
            mail_from, rcpts, content = got[0]
            expected = message(headers + ["Cc: Bob Rep <bob@vendor.example>"], body)
            check(mail_from == "mia@vendor.example", f"envelope sender {mail_from}")
            check(rcpts == ["jane@acme.example", "bob@vendor.example"], f"owner in the envelope: {rcpts}")
            check(content == expected, "owner in Cc, every other byte unchanged (new Cc line)")
            if content != expected:
                i = next((k for k in range(min(len(content), len(expected))) if content[k] != expected[k]), None)
                print("  first difference at", i, content[:600], file=sys.stderr)

        # 2. An existing Cc is extended with a fold.
        headers2 = ["From: mia@vendor.example", "To: jane@acme.example", "Cc: Raj Patel <raj@acme.example>",
                    "Subject: two", "Message-ID: <two@vendor.example>"]
        body2 = b"hello\r\n"
        c = client(port, token)
        c.sendmail("mia@vendor.example", ["jane@acme.example", "raj@acme.example"], message(headers2, body2))
        c.quit()
        got = sink.take()
        want = message(["From: mia@vendor.example", "To: jane@acme.example",
                        "Cc: Raj Patel <raj@acme.example>,\r\n Bob Rep <bob@vendor.example>",
                        "Subject: two", "Message-ID: <two@vendor.example>"], body2)
        check(len(got) == 1 and got[0][2] == want, f"appended to the existing Cc: {got[:1]}")

        # 3. Already copied → byte-identical, envelope unchanged: owner in Cc; owner blind
        # (envelope only) under a second address.
        copied = message(["From: mia@vendor.example", "To: jane@acme.example", "Cc: bob@vendor.example",
                          "Subject: three", "Message-ID: <three@vendor.example>"], b"x\r\n")
        blind = message(["From: mia@vendor.example", "To: Someone <someone@globex.example>",
                         "Subject: four", "Message-ID: <four@vendor.example>"], b"y\r\n")
        c = client(port, token)
        c.sendmail("mia@vendor.example", ["jane@acme.example", "bob@vendor.example"], copied)
        c.sendmail("mia@vendor.example", ["someone@globex.example", "rita.rep@eu.vendor.example"], blind)
        c.quit()
        got = sink.take()
        check(len(got) == 2 and got[0][2] == copied and got[0][1] == ["jane@acme.example", "bob@vendor.example"],
              "owner already in Cc: byte-identical")
        check(len(got) == 2 and got[1][2] == blind and got[1][1] == ["someone@globex.example", "rita.rep@eu.vendor.example"],
              "owner in Bcc under a second address: byte-identical")

        # 4. Upstream refuses: its 5xx reaches the client; nothing is relayed.
        c = client(port, token)
        try:
            c.sendmail("mia@vendor.example", ["jane@acme.example"],
                       message(["From: mia@vendor.example", "To: jane@acme.example", "Subject: refuse me"], b"z\r\n"))
            check(False, "upstream 550 must fail the send")
        except smtplib.SMTPDataError as e:
            check(e.smtp_code == 550 and b"rejected by policy" in e.smtp_error, f"upstream 550 passed on: {e}")
        try:
            c.sendmail("mia@vendor.example", ["nobody@acme.example"],
                       message(["From: mia@vendor.example", "To: nobody@acme.example", "Subject: x"], b"z\r\n"))
            check(False, "upstream RCPT 550 must fail the send")
        except smtplib.SMTPDataError as e:
            check(e.smtp_code == 550 and b"no such user" in e.smtp_error, f"upstream RCPT 550 passed on: {e}")
        c.quit()
        check(sink.take() == [], "refused mail is not relayed")
    finally:
        controller.stop()

    # 5. Upstream down → 4xx (the client keeps the message); back up → the retry goes through.
    down = message(["From: mia@vendor.example", "To: jane@acme.example", "Subject: retry",
                    "Message-ID: <retry@vendor.example>"], b"r\r\n")
    c = client(port, token)
    try:
        c.sendmail("mia@vendor.example", ["jane@acme.example"], down)
        check(False, "upstream down must fail the send")
    except smtplib.SMTPDataError as e:
        check(400 <= e.smtp_code < 500, f"upstream down gives 4xx: {e}")
    c.quit()
    sink = Sink()
    controller = start_sink(sink, sink_port)
    try:
        c = client(port, token)
        c.sendmail("mia@vendor.example", ["jane@acme.example"], down)
        c.quit()
        got = sink.take()
        check(len(got) == 1 and b"Cc: Bob Rep <bob@vendor.example>\r\n" in got[0][2], "the retry is relayed once")

        # 6. 20 concurrent clients × 5 messages: each relayed exactly once.
        errors = []

        def worker(n):
            try:
                cl = client(port, token)
                for k in range(5):
                    cl.sendmail("mia@vendor.example", ["jane@acme.example"],
                                message(["From: mia@vendor.example", "To: jane@acme.example", f"Subject: c{n}-{k}",
                                         f"Message-ID: <c{n}-{k}@vendor.example>"], b"concurrent\r\n"))
                cl.quit()
            except Exception as e:  # noqa: BLE001
                errors.append(repr(e))

        threads = [threading.Thread(target=worker, args=(n,)) for n in range(20)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(180)
        got = sink.take()
        ids = sorted(m[2].split(b"Message-ID: <")[1].split(b">")[0] for m in got)
        check(errors == [], f"no client failed: {errors[:3]}")
        check(len(got) == 100 and len(set(ids)) == 100, f"100 messages relayed exactly once, got {len(got)} ({len(set(ids))} distinct)")

        # 7. Bad input leaves the daemon serving: garbage, a 2 MB line, a dropped DATA, no AUTH,
        # a wrong token, a smuggling attempt, 5,000 recipients.
        answer = raw_session(port, os.urandom(20000) + b"\r\n", read_until=b"\r\n421")
        check(answer.startswith(b"220 "), "garbage: greeted, then errors")
        answer = raw_session(port, b"EHLO x\r\n" + b"A" * (2 * 1024 * 1024) + b"\r\nNOOP\r\n", read_until=b"250 2.0.0 OK")
        check(b"500 5.5.2 Line too long" in answer and b"250 2.0.0 OK" in answer, f"2 MB line: refused, then served {answer[-200:]}")
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        s.recv(1000)
        s.sendall(b"EHLO x\r\nAUTH PLAIN " + auth_plain(token) + b"\r\nMAIL FROM:<mia@vendor.example>\r\n"
                  b"RCPT TO:<jane@acme.example>\r\nDATA\r\nSubject: half\r\n\r\nhalf a messa")
        time.sleep(0.5)
        s.close()
        answer = raw_session(port, b"EHLO x\r\nAUTH PLAIN " + auth_plain(token) + b"\r\nMAIL FROM:<mia@vendor.example>\r\n"
                             b"RCPT TO:<jane@acme.example>\r\nDATA\r\nSubject: smuggle\r\n\r\nbody\n.\nMAIL FROM:<ceo@vendor.example>\r\n"
                             b"RCPT TO:<x@evil.example>\r\nDATA\r\nevil\r\n.\r\nQUIT\r\n", read_until=b"221 ")
        check(b"554 5.6.11" in answer and b"221 " in answer, f"bare LF (smuggling) refused with 554 5.6.11: {answer[-300:]}")
        many = b"".join(b"RCPT TO:<r%d@acme.example>\r\n" % i for i in range(5000))
        answer = raw_session(port, b"EHLO x\r\nAUTH PLAIN " + auth_plain(token) + b"\r\nMAIL FROM:<mia@vendor.example>\r\n" +
                             many + b"QUIT\r\n", read_until=b"221 ", timeout=30)
        check(answer.count(b"250 2.1.5") == 500 and b"452 4.5.3" in answer, "5,000 recipients: 500 accepted, then 452")
        c = client(port)
        try:
            c.sendmail("mia@vendor.example", ["jane@acme.example"], b"Subject: x\r\n\r\nx\r\n")
            check(False, "no AUTH must fail")
        except smtplib.SMTPSenderRefused as e:
            check(e.smtp_code == 530, f"no AUTH: 530 ({e})")
        c.close()
        c = client(port)
        t0 = time.time()
        try:
            c.login("mia", "0" * 64)
            check(False, "a wrong token must fail")
        except smtplib.SMTPAuthenticationError as e:
            check(e.smtp_code == 535 and time.time() - t0 >= 1.5, f"wrong token: 535 after a delay ({e})")
        c.close()
        # The connection limit: 30 open, the 31st is told 421 at once; then they are served again.
        held = []
        for _ in range(30):
            s = socket.create_connection(("127.0.0.1", port), timeout=10)
            held.append(s)
            check(s.recv(100).startswith(b"220 "), "greeted below the connection limit")
        extra = socket.create_connection(("127.0.0.1", port), timeout=10)
        check(extra.recv(100).startswith(b"421 4.7.0"), "over the connection limit: 421")
        extra.close()
        for s in held:
            s.close()
        time.sleep(0.5)
        check(sink.take() == [], "nothing of the bad input was relayed")
        c = client(port, token)
        c.sendmail("mia@vendor.example", ["jane@acme.example"],
                   message(["From: mia@vendor.example", "To: jane@acme.example", "Subject: after"], b"ok\r\n"))
        c.quit()
        check(len(sink.take()) == 1, "still serving after the bad input")
        check(daemon.proc.poll() is None, "rapportd still running")
    finally:
        controller.stop()

    # 8. owner_added notifications, through the API.
    async def notifications():
        ws = await connect(daemon.port)
        await hello(ws, token)
        await call(ws, "subscribe", {"after": 0})
        seen = []
        try:
            while True:
                frame = json.loads(await asyncio.wait_for(ws.recv(), 3))
                if frame.get("method") == "notify":
                    seen.append(frame["params"])
        except asyncio.TimeoutError:
            pass
        await close_all()
        return seen

    seen = [n for n in asyncio.run(notifications()) if n["kind"] == "owner_added"]
    first = next((n for n in seen if n["message_id"] == "one@vendor.example"), None)
    check(first is not None and first["added"] == ["bob@vendor.example"] and first["account"] == "acme",
          f"owner_added notification {first}")
    check(not any(n["message_id"] in ("three@vendor.example", "four@vendor.example") for n in seen),
          "no owner_added when the owner was already copied")
    check(len(seen) == 2 + 1 + 100 + 1, f"one owner_added per relayed message with an owner added: {len(seen)}")


def run(workdir):
    port, sink_port, imap_port = free_port(), free_port(), free_port()
    daemon = Rapportd(BIN, workdir, example_rules(), {
        "mailboxes": [{"id": "work",
                       "imap": {"host": "127.0.0.1", "port": imap_port, "security": "none",
                                "username": "mia", "password": "secret"},
                       "smtp": {"host": "127.0.0.1", "port": sink_port, "security": "none"},
                       "submission": {"port": port, "max_connections": 30}}]})
    try:
        check(wait_port(port), "the listener accepts connections")
        scenario(daemon, port, sink_port, daemon.token())
    finally:
        status = daemon.stop(15)
    check(status == 0, f"rapportd exit status {status}")
    if check.failed:
        print(daemon.log()[-4000:])


if __name__ == "__main__":
    check.main("rapport-submission-", run)
