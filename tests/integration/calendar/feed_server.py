#!/usr/bin/python3
"""A small ICS feed server for the calendar integration tests.

usage: feed_server.py PORT DIR
  GET /NAME            serves DIR/NAME with a strong ETag; If-None-Match → 304
  GET /redirect/NAME   302 to /NAME
  GET /private/NAME    like /NAME but needs Basic auth rep:pw (401 otherwise)
  GET /big             2 MiB body
  GET /slow            answers after 5 s
  GET /status/NNN      an empty reply with status NNN (e.g. 500)
  GET /junk/BYTES      BYTES of printable junk without a line break, as text/calendar
  GET /stall           headers promising 1 MiB, then nothing for 120 s
  GET /trickle         headers promising 1 MiB, then one byte every 0.5 s
Every request is logged as "REQUEST <path> <status> <if-none-match>" on stdout.
"""
import base64
import hashlib
import os
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ROOT = sys.argv[2]
CREDENTIALS = "Basic " + base64.b64encode(b"rep:pw").decode()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, body=b"", headers=()):
        print("REQUEST %s %d %s" % (self.path, status, self.headers.get("If-None-Match", "-")), flush=True)
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        path = self.path
        if path == "/big":
            return self.reply(200, b"X" * (2 * 1024 * 1024), [("Content-Type", "text/calendar")])
        if path == "/slow":
            time.sleep(5)
            return self.reply(200, b"late")
        if path.startswith("/status/"):
            return self.reply(int(path[len("/status/"):]))
        if path.startswith("/junk/"):
            size = int(path[len("/junk/"):])
            pattern = b"Xq7:;=,jUnK~"
            body = (pattern * (size // len(pattern) + 1))[:size]
            return self.reply(200, body, [("Content-Type", "text/calendar")])
        if path in ("/stall", "/trickle"):
            print("REQUEST %s 200 -" % path, flush=True)
            self.send_response(200)
            self.send_header("Content-Type", "text/calendar")
            self.send_header("Content-Length", str(1024 * 1024))
            self.end_headers()
            self.wfile.flush()
            try:
                if path == "/stall":
                    time.sleep(120)
                else:
                    for _ in range(240):
                        self.wfile.write(b"B")
                        self.wfile.flush()
                        time.sleep(0.5)
            except OSError:
                pass  # the client gave up, as it should
            self.close_connection = True
            return None
        if path.startswith("/redirect/"):
            return self.reply(302, b"", [("Location", "/" + path[len("/redirect/"):])])
        if path.startswith("/private/"):
            if self.headers.get("Authorization") != CREDENTIALS:
                return self.reply(401, b"", [("WWW-Authenticate", 'Basic realm="feed"')])
            path = "/" + path[len("/private/"):]
        file = os.path.join(ROOT, os.path.basename(path))
        if not os.path.isfile(file):
            return self.reply(404)
        with open(file, "rb") as f:
            body = f.read()
        etag = '"%s"' % hashlib.sha1(body).hexdigest()[:16]
        if self.headers.get("If-None-Match") == etag:
            return self.reply(304, b"", [("ETag", etag)])
        self.reply(200, body, [("ETag", etag), ("Content-Type", "text/calendar; charset=utf-8")])


if __name__ == "__main__":
    ThreadingHTTPServer.daemon_threads = True  # stalled replies must not keep the server alive
    ThreadingHTTPServer.request_queue_size = 128  # every calendar of a test connects at once
    server = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler)
    print("listening", flush=True)
    server.serve_forever()
