"""The relay's security against real aiosmtpd servers with a test CA: STARTTLS with verification,
SNI and AUTH; STARTTLS required with no fallback when the server does not offer it; implicit
TLS; an untrusted certificate; a refused login (454, the client keeps the message);
password_command; OAuth 2.0 (smtp.auth xoauth2 / oauthbearer: AUTH XOAUTH2 / OAUTHBEARER with the
token password_command prints, a refused token answered by the server's error challenge first).
One rapportd, one mailbox (and submission port) per case.

    /usr/bin/python3 relay_tls_test.py BUILD/bin
"""
import contextlib
import os
import smtplib
import sys
import time

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import MISSING, AuthResult, LoginPassword

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "support"))
from rapport_test import Checks, Rapportd, TestCA, example_rules, free_port  # noqa: E402

BIN = sys.argv[1]
check = Checks()


class Sink:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((list(envelope.rcpt_tos), envelope.original_content, session.authenticated))
        return "250 2.0.0 Ok"


class OAuthSink(Sink):
    """AUTH XOAUTH2 and OAUTHBEARER as Gmail and Microsoft 365 do them: the good token is "tok-good";
    a bad one gets the JSON error as a 334 challenge, which the client must answer before the 535."""

    def __init__(self):
        super().__init__()
        self.logins = []

    async def _oauth(self, server, args, mechanism):
        import base64
        blob = base64.b64decode(args[1]) if len(args) > 1 else await server.challenge_auth("")
        if blob is MISSING:
            return AuthResult(success=False, handled=True)
        fields = dict(f.split("=", 1) for f in blob.decode().split("\x01") if "=" in f and not f.startswith("n,"))
        user = blob.decode().split(",")[1][2:] if mechanism == "OAUTHBEARER" else fields.get("user")
        token = fields.get("auth", "").replace("Bearer ", "")
        self.logins.append((mechanism, user, token))
        if user == "mia@vendor.example" and token == "tok-good":
            return AuthResult(success=True, auth_data=user)
        error = '{"status":"401","schemes":"bearer"}' if mechanism == "XOAUTH2" else '{"status":"invalid_token"}'
        await server.challenge_auth(error)
        return AuthResult(success=False, handled=False)

    async def auth_XOAUTH2(self, server, args):
        return await self._oauth(server, args, "XOAUTH2")

    async def auth_OAUTHBEARER(self, server, args):
        return await self._oauth(server, args, "OAUTHBEARER")


def authenticator(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and auth_data.login == b"mia" and auth_data.password == b"s3cret"
    # handled=False: aiosmtpd then sends the 535 itself (True would leave the client waiting).
    return AuthResult(success=ok, handled=False)


def send(port, token, subject):
    c = smtplib.SMTP("127.0.0.1", port, timeout=60)
    c.ehlo("t")
    c.login("mia", token)
    try:
        c.sendmail("mia@vendor.example", ["jane@acme.example"],
                   f"From: mia@vendor.example\r\nTo: jane@acme.example\r\nSubject: {subject}\r\n\r\nx\r\n".encode())
        return 250, b""
    except smtplib.SMTPDataError as e:
        return e.smtp_code, e.smtp_error
    finally:
        c.close()


def run(workdir):
    test_ca = TestCA(workdir)
    names = []
    ctx = test_ca.server_context()
    ctx.sni_callback = lambda sock, name, c: names.append(name)
    p_starttls, p_plain, p_tls, p_oauth = free_port(), free_port(), free_port(), free_port()
    starttls_sink, plain_sink, tls_sink, oauth_sink = Sink(), Sink(), Sink(), OAuthSink()
    controllers = [
        Controller(starttls_sink, hostname="127.0.0.1", port=p_starttls, tls_context=ctx, require_starttls=True,
                   authenticator=authenticator, auth_required=True, auth_require_tls=True),
        Controller(plain_sink, hostname="127.0.0.1", port=p_plain),
        Controller(tls_sink, hostname="127.0.0.1", port=p_tls, ssl_context=ctx),
        Controller(oauth_sink, hostname="127.0.0.1", port=p_oauth, tls_context=ctx, require_starttls=True,
                   authenticator=authenticator, auth_required=True, auth_require_tls=True),
    ]
    ca = test_ca.ca_file
    cases = {
        "starttls": {"host": "localhost", "port": p_starttls, "security": "starttls", "ca_file": ca,
                     "username": "mia", "password": "s3cret"},
        "no_starttls": {"host": "localhost", "port": p_plain, "security": "starttls", "ca_file": ca},
        "tls": {"host": "localhost", "port": p_tls, "security": "tls", "ca_file": ca},
        "untrusted": {"host": "localhost", "port": p_starttls, "security": "starttls", "username": "mia",
                      "password": "s3cret"},
        "wrong_password": {"host": "localhost", "port": p_starttls, "security": "starttls", "ca_file": ca,
                           "username": "mia", "password": "nope"},
        "password_command": {"host": "localhost", "port": p_starttls, "security": "starttls", "ca_file": ca,
                             "username": "mia", "password_command": ["printf", "%s\\n", "s3cret"]},
        "xoauth2": {"host": "localhost", "port": p_oauth, "security": "starttls", "ca_file": ca, "auth": "xoauth2",
                    "username": "mia@vendor.example", "password_command": ["printf", "%s\\n", "tok-good"]},
        "oauthbearer": {"host": "localhost", "port": p_oauth, "security": "starttls", "ca_file": ca,
                        "auth": "oauthbearer", "username": "mia@vendor.example",
                        "password_command": ["printf", "%s\\n", "tok-good"]},
        "oauth_refused": {"host": "localhost", "port": p_oauth, "security": "starttls", "ca_file": ca,
                          "auth": "xoauth2", "username": "mia@vendor.example",
                          "password_command": ["printf", "%s\\n", "tok-expired"]},
    }
    ports = {name: free_port() for name in cases}
    imap_port = free_port()
    mailboxes = [{"id": name, "imap": {"host": "127.0.0.1", "port": imap_port, "security": "none",
                                       "username": "mia", "password": "x"},
                  "smtp": smtp, "submission": {"port": ports[name]}} for name, smtp in cases.items()]
    with contextlib.ExitStack() as stop:  # stops, last started first, however the block is left
        for c in controllers:
            c.start()
            stop.callback(c.stop)
        daemon = Rapportd(BIN, workdir, example_rules(), {"mailboxes": mailboxes})
        stop.callback(daemon.stop, 15)
        token = daemon.token()

        code, _ = send(ports["starttls"], token, "starttls")
        check(code == 250 and len(starttls_sink.messages) == 1, f"STARTTLS + AUTH relayed ({code})")
        check(starttls_sink.messages and starttls_sink.messages[0][2], "upstream saw an authenticated session")
        check(starttls_sink.messages and starttls_sink.messages[0][0] == ["jane@acme.example", "bob@vendor.example"],
              "owner in the envelope over STARTTLS")
        check("localhost" in names, f"SNI sent: {names}")

        code, text = send(ports["no_starttls"], token, "no starttls")
        check(400 <= code < 500 and plain_sink.messages == [], f"STARTTLS not offered: 4xx, nothing sent in plaintext ({code} {text})")

        code, _ = send(ports["tls"], token, "tls")
        check(code == 250 and len(tls_sink.messages) == 1, f"implicit TLS relayed ({code})")

        before = len(starttls_sink.messages)
        code, text = send(ports["untrusted"], token, "untrusted")
        check(400 <= code < 500 and len(starttls_sink.messages) == before, f"untrusted certificate: 4xx ({code} {text})")

        code, text = send(ports["wrong_password"], token, "wrong password")
        check(code == 454 and len(starttls_sink.messages) == before, f"refused login: 454 ({code} {text})")

        code, _ = send(ports["password_command"], token, "password_command")
        check(code == 250 and len(starttls_sink.messages) == before + 1, f"password_command relayed ({code})")
        code, _ = send(ports["xoauth2"], token, "xoauth2")
        check(code == 250, f"AUTH XOAUTH2 with the token: 250 ({code})")
        code, _ = send(ports["oauthbearer"], token, "oauthbearer")
        check(code == 250, f"AUTH OAUTHBEARER with the token: 250 ({code})")
        check([m for m, _, _ in oauth_sink.logins] == ["XOAUTH2", "OAUTHBEARER"], f"mechanisms {oauth_sink.logins}")
        check(all(u == "mia@vendor.example" for _, u, _ in oauth_sink.logins), "user in the SASL message")
        check(len(oauth_sink.messages) == 2 and all(m[2] for m in oauth_sink.messages), "both relayed after AUTH")
        t0 = time.time()
        code, text = send(ports["oauth_refused"], token, "refused token")
        check(code == 454 and b"current access token for mia@vendor.example" in text,
              f"a refused token: 454 naming the token command ({code} {text!r})")
        check(time.time() - t0 < 30, "the error challenge was answered (no hang)")
        check(oauth_sink.logins[-1] == ("XOAUTH2", "mia@vendor.example", "tok-expired"), "refused token tried once")
        log = daemon.log()
        check("s3cret" not in log, "no password in the log")
        check("tok-good" not in log, "no token in the log")
    if check.failed:
        print(daemon.log()[-3000:])


if __name__ == "__main__":
    check.main("rapport-relay-tls-", run)
