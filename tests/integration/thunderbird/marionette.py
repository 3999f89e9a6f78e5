"""A minimal Marionette client (the protocol Thunderbird speaks with --marionette): messages are
`LENGTH:JSON` over TCP; a command is [0, id, name, params], its answer [1, id, error, result].
marionette_driver is not packaged for Debian, and this is all a test needs.

    m = Marionette(port); m.session(); m.chrome()
    m.script("return Services.appinfo.version")
    m.async_script("const done = arguments[arguments.length - 1]; setTimeout(() => done(1), 10)")
"""
import json
import socket
import time


class MarionetteError(Exception):
    pass


class Marionette:
    def __init__(self, port, timeout=60):
        deadline = time.time() + timeout
        while True:
            try:
                self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
                break
            except OSError:
                if time.time() > deadline:
                    raise MarionetteError(f"nothing answers on Marionette's port {port}")
                time.sleep(0.2)
        self.sock.settimeout(timeout)
        self.buffer = b""
        self.next_id = 1
        self.greeting = self._read()

    def _read(self):
        while b":" not in self.buffer:
            self._fill()
        length, _, rest = self.buffer.partition(b":")
        n = int(length)
        self.buffer = rest
        while len(self.buffer) < n:
            self._fill()
        body, self.buffer = self.buffer[:n], self.buffer[n:]
        return json.loads(body)

    def _fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise MarionetteError("Marionette closed the connection (did Thunderbird exit?)")
        self.buffer += chunk

    def command(self, name, params=None):
        msg_id = self.next_id
        self.next_id += 1
        body = json.dumps([0, msg_id, name, params or {}]).encode()
        self.sock.sendall(str(len(body)).encode() + b":" + body)
        while True:
            reply = self._read()
            if reply[0] == 1 and reply[1] == msg_id:
                if reply[2]:
                    raise MarionetteError(f"{name}: {reply[2].get('error')}: {reply[2].get('message')}")
                return reply[3]

    def session(self):
        return self.command("WebDriver:NewSession", {"capabilities": {}})

    def chrome(self):
        self.command("Marionette:SetContext", {"value": "chrome"})

    def script(self, source, args=None, timeout_ms=30000):
        return self.command("WebDriver:ExecuteScript", {"script": source, "args": args or [], "scriptTimeout": timeout_ms}).get("value")

    def async_script(self, source, args=None, timeout_ms=30000):
        self.command("WebDriver:SetTimeouts", {"script": timeout_ms})
        return self.command("WebDriver:ExecuteAsyncScript", {"script": source, "args": args or []}).get("value")

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass
