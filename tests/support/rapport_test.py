"""Shared pieces for Python tests and soak runs: a Dovecot and a rapportd in a temp dir, both on
free loopback ports and stopped by pid (also when the caller fails), and /proc readings.

    with tempfile.TemporaryDirectory() as workdir:
        dovecot = Dovecot(workdir)                     # IMAP on dovecot.port, user mia/secret
        try:
            dovecot.append("INBOX", message_text)      # doveadm save, as an MTA delivers
            daemon = Rapportd(bin_dir, workdir, rules_text, {"mailboxes": [dovecot.mailbox()]})
            try:
                ... daemon.port, daemon.token(), daemon.pid, daemon.log()
            finally:
                daemon.stop()
        finally:
            dovecot.stop()

The Dovecot is started as tests/support/dovecot_fixture.hpp starts it (shared/notes/dovecot.md):
its own config, a passwd-file user whose uid is not 0, and the master's whole process group
ended at stop (imap processes outlive the master's SIGTERM).

Dovecot and Rapportd are context managers too (`with Dovecot(workdir) as dovecot:`), stopped at
the block's end however it is left. The integration scripts count their checks with Checks and
get a test CA from TestCA.
"""
import contextlib
import json
import os
import pwd
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))


def example_rules():
    """The text of packaging/examples/rules.json: the rules most tests and the soak runs use, so
    that what they check is what a new user starts from (Acme owned by Bob, Jane a champion)."""
    with open(os.path.join(ROOT, "packaging", "examples", "rules.json")) as f:
        return f.read()


class Checks:
    """check(condition, what) for the integration scripts. A failed check is printed and the run
    goes on, so one run shows every failure, not just the first; exit() prints the tally and
    exits 1 when any check failed (what ctest reads).

        check = Checks()
        check(reply == 250, f"relayed ({reply})")
        ...
        check.exit()        # or check.main("rapport-x-", run): run(workdir) in a temp_dir, then exit()
    """

    def __init__(self):
        self.passed = self.failed = 0

    def __call__(self, condition, what):
        if condition:
            self.passed += 1
        else:
            self.failed += 1
            print(f"FAILED: {what}", flush=True)

    @contextlib.contextmanager
    def temp_dir(self, prefix):
        """A temp dir for one run, removed at the end when every check passed; kept (its path
        printed) after a failed check or an exception, so its logs can be read."""
        path = tempfile.mkdtemp(prefix=prefix)
        clean = False
        try:
            yield path
            clean = not self.failed
        finally:
            if clean:
                shutil.rmtree(path, ignore_errors=True)
            else:
                print(f"kept {path} for its logs", flush=True)

    def exit(self):
        print(f"{self.passed} passed, {self.failed} failed", flush=True)
        sys.exit(1 if self.failed else 0)

    def main(self, prefix, run):
        """A script's whole run: run(workdir) in a temp_dir(prefix), then exit() with the tally."""
        with self.temp_dir(prefix) as workdir:
            run(workdir)
        self.exit()


class TestCA:
    """A throwaway CA (ca.pem) and a server certificate it signed (server.pem and server.key, CN
    localhost, subjectAltName alt_names), made by openssl in directory. For tests of certificate
    verification: the client is given ca_file, the server uses server_context()."""

    def __init__(self, directory, alt_names="DNS:localhost"):
        def run(*args):
            subprocess.run(args, check=True, capture_output=True, cwd=directory)
        run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem",
            "-days", "2", "-subj", "/CN=Rapport Test CA")
        run("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr",
            "-subj", "/CN=localhost")
        with open(os.path.join(directory, "ext.cnf"), "w") as f:
            f.write(f"subjectAltName={alt_names}\n")
        run("openssl", "x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
            "-out", "server.pem", "-days", "2", "-extfile", "ext.cnf")
        self.ca_file = os.path.join(directory, "ca.pem")
        self.cert_file = os.path.join(directory, "server.pem")
        self.key_file = os.path.join(directory, "server.key")

    def server_context(self):
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(self.cert_file, self.key_file)
        return ctx


_given_ports = set()


def free_port():
    """A port on 127.0.0.1 that was free a moment ago, and never one this process was given
    before: the kernel can hand out a port it just released again (14 calls in a row gave a
    duplicate in 41 of 5,000 runs), and two servers of one test on one port fail to start."""
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port not in _given_ports:
            _given_ports.add(port)
            return port


def wait_for_port(port, seconds):
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return True
        except OSError:
            time.sleep(0.05)
    return False


def sample_message(n, sender="Jane Doe <jane@acme.example>", to="Mia Marketing <mia@vendor.example>"):
    """A small valid message; n makes Subject and Message-ID unique (as dovecot_fixture.hpp)."""
    return (f"From: {sender}\r\nTo: {to}\r\nDate: Mon, 1 Jan 2024 10:00:00 +0000\r\n"
            f"Subject: Message number {n}\r\nMessage-ID: <soak{n}.{os.getpid()}@acme.example>\r\n"
            f"Content-Type: text/plain; charset=utf-8\r\n\r\nBody of message {n}.\r\n")


class Dovecot:
    def __init__(self, workdir, user="mia", password="secret"):
        self.dir = os.path.join(workdir, "dovecot")
        self.user, self.password = user, password
        self.port = free_port()
        self.counter = 0
        home = os.path.join(self.dir, "home")
        for folder in ("", ".Sent", ".Drafts"):
            for sub in ("cur", "new", "tmp"):
                os.makedirs(os.path.join(home, "Maildir", folder, sub), exist_ok=True)
        # Dovecot's unprivileged processes must traverse the temp dir.
        os.chmod(workdir, 0o755)
        os.chmod(self.dir, 0o755)
        run_as = ""
        if os.geteuid() == 0:
            pw = next((p for p in (self._pw("mail"), self._pw("nobody")) if p), None)
            self.uid, self.gid = pw.pw_uid, pw.pw_gid
            for root, _, _ in os.walk(home):
                os.chown(root, self.uid, self.gid)
        else:
            self.uid, self.gid = os.getuid(), os.getgid()
            run_as = pwd.getpwuid(self.uid).pw_name
        with open(os.path.join(self.dir, "passwd"), "w") as f:
            f.write(f"{user}:{{PLAIN}}{password}:{self.uid}:{self.gid}::{home}::\n")
        d = self.dir
        conf = f"""instance_name = rapport-py-{self.port}
protocols = imap
listen = 127.0.0.1
base_dir = {d}/run
state_dir = {d}/state
log_path = {d}/dovecot.log
mail_fsync = never
mail_location = maildir:~/Maildir
first_valid_uid = 1
first_valid_gid = 1
disable_plaintext_auth = no
auth_mechanisms = plain login
ssl = no
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {d}/passwd
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {d}/passwd
}}
namespace inbox {{
  inbox = yes
  separator = /
  mailbox Sent {{
    special_use = \\Sent
  }}
  mailbox Drafts {{
    special_use = \\Drafts
  }}
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.port}
  }}
  inet_listener imaps {{
    port = 0
  }}
{"  chroot =" if run_as else ""}
}}
"""
        if run_as:
            conf += f"default_login_user = {run_as}\ndefault_internal_user = {run_as}\nservice anvil {{\n  chroot =\n}}\n"
        self.config = os.path.join(d, "dovecot.conf")
        with open(self.config, "w") as f:
            f.write(conf)
        self.out = open(os.path.join(d, "dovecot.out"), "w")
        self.proc = subprocess.Popen(["/usr/sbin/dovecot", "-F", "-c", self.config], stdout=self.out,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        if not wait_for_port(self.port, 15):
            self.stop()
            raise RuntimeError("Dovecot did not start (is dovecot-imapd installed?): " + self.log())

    @staticmethod
    def _pw(name):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            return None

    def mailbox(self, id="work"):
        """The settings.json "mailboxes" entry for this server."""
        return {"id": id, "imap": {"host": "127.0.0.1", "port": self.port, "security": "none",
                                   "username": self.user, "password": self.password}}

    def append(self, folder, message):
        """Delivers a message into a folder of the running server (doveadm save, like an MTA)."""
        self.counter += 1
        path = os.path.join(self.dir, f"msg-{self.counter}.eml")
        with open(path, "w") as f:
            f.write(message)
        with open(path) as f:
            subprocess.run(["doveadm", "-c", self.config, "save", "-u", self.user, "-m", folder],
                           stdin=f, check=True, capture_output=True, timeout=30)
        os.unlink(path)

    def log(self):
        try:
            return open(os.path.join(self.dir, "dovecot.log")).read()
        except OSError:
            return ""

    def stop(self):
        if self.proc.poll() is None:
            # The master leads its own process group: end it and its imap children together.
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.out.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


class Rapportd:
    """rapportd with its own settings, rules and state in workdir/rapportd, on a free port.

    rules_text is written to rules.json; None when settings["rules"] names the rules itself (an
    https URL). settings may set anything but state_dir and api, which are always the temp dir's.
    prepare(dir) runs before the start, for files the settings name (a calendar, a CA).
    Started when made; ready when its log says "rapportd running": the API and submission ports
    then listen and its signal handlers are in place (a SIGHUP before that would end it).
    """

    START_SECONDS = 30  # rules from a URL are fetched before rapportd says it runs

    def __init__(self, bin_dir, workdir, rules_text, settings=None, prepare=None):
        self.dir = os.path.join(workdir, "rapportd")
        os.makedirs(self.dir, exist_ok=True)
        self.binary = os.path.join(bin_dir, "rapportd")
        self.port = free_port()
        settings = dict(settings or {})
        if rules_text is not None:
            with open(os.path.join(self.dir, "rules.json"), "w") as f:
                f.write(rules_text)
            settings["rules"] = "rules.json"
        elif "rules" not in settings:
            raise ValueError("Rapportd: give rules_text or settings[\"rules\"] (a URL)")
        settings.setdefault("user", {"name": "Mia Marketing", "address": "mia@vendor.example"})
        settings.setdefault("log_level", "info")
        if settings["log_level"] not in ("debug", "info"):
            raise ValueError("Rapportd: log_level must be debug or info, the start is seen in the log")
        settings.update({"state_dir": "state", "api": {"port": self.port, "token_file": "state/token"}})
        self.settings_path = os.path.join(self.dir, "settings.json")
        with open(self.settings_path, "w") as f:
            json.dump(settings, f, indent=2)
        os.chmod(self.settings_path, 0o600)
        if prepare:
            prepare(self.dir)
        self.log_path = os.path.join(self.dir, "rapportd.log")
        self.proc = self.log_file = None
        self.start()

    def start(self):
        """Starts rapportd; again after stop() or a crash, with the same settings, state and port,
        for tests of what survives a restart. Every start appends to the one log."""
        if self.log_file:
            self.log_file.close()  # the last start's, left open by a crash
        begin = os.path.getsize(self.log_path) if os.path.exists(self.log_path) else 0
        self.log_file = open(self.log_path, "a")
        self.proc = subprocess.Popen([self.binary, "--config", self.settings_path],
                                     stdout=self.log_file, stderr=subprocess.STDOUT)
        self.pid = self.proc.pid
        deadline = time.time() + self.START_SECONDS
        while self.proc.poll() is None and not self._running_since(begin) and time.time() < deadline:
            time.sleep(0.02)
        if self.proc.poll() is not None:
            self.stop()
            raise RuntimeError(f"rapportd exited at start (status {self.proc.returncode}); fix what its log "
                               f"{self.log_path} says:\n{self.log()}")
        if not self._running_since(begin):
            self.stop()
            raise RuntimeError(f"rapportd did not say \"rapportd running\" within {self.START_SECONDS} s; see "
                               f"where its log {self.log_path} stops:\n{self.log()}")

    def _running_since(self, offset):
        with open(self.log_path, "rb") as f:
            f.seek(offset)
            return b"rapportd running (pid" in f.read()

    def token(self):
        with open(os.path.join(self.dir, "state", "token")) as f:
            return f.read().strip()

    def reload(self):
        os.kill(self.pid, signal.SIGHUP)

    def log(self):
        try:
            return open(self.log_path, errors="replace").read()
        except OSError:
            return ""

    def stop(self, timeout=10):
        """SIGTERM, then SIGKILL after timeout; returns the exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log_file.close()
        return self.proc.returncode

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def cpu_seconds(pid):
    """utime + stime of a process (fields 14 and 15 of /proc/PID/stat), in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def rss_bytes(pid):
    with open(f"/proc/{pid}/statm") as f:
        return int(f.read().split()[1]) * PAGE_SIZE


def open_files(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))
