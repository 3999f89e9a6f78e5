#!/usr/bin/env python3
"""A token introspection endpoint (RFC 7662) for Dovecot's oauth2 passdb in tests.

    introspection_server.py PORT DIR

Dovecot POSTs token=T for every OAuth login. A token is good while it is a line of DIR/valid
(re-read at every request, so a test revokes a token by rewriting the file); the answer is
{"active": true, "username": "mia"} for a good token and {"active": false} otherwise. Every
request appends the token to DIR/requests, so a test counts the logins the server saw.
The port is served once DIR/ready exists.
"""
import json
import os
import sys
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORT = int(sys.argv[1])
DIR = sys.argv[2]
USER = os.environ.get("INTROSPECTION_USER", "mia")


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        length = min(int(self.headers.get("Content-Length") or 0), 64 * 1024)
        form = urllib.parse.parse_qs(self.rfile.read(length).decode("utf-8", "replace"))
        token = (form.get("token") or [""])[0]
        with open(os.path.join(DIR, "requests"), "a") as f:
            f.write(token + "\n")
        try:
            with open(os.path.join(DIR, "valid")) as f:
                valid = {line.strip() for line in f if line.strip()}
        except FileNotFoundError:
            valid = set()
        body = {"active": True, "username": USER} if token in valid else {"active": False}
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, fmt, *args):
        sys.stderr.write("introspection: " + (fmt % args) + "\n")


server = ThreadingHTTPServer(("127.0.0.1", PORT), Handler)
open(os.path.join(DIR, "ready"), "w").close()
server.serve_forever()
