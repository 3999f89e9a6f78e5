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
"""
import json
import os
import pwd
import signal
import socket
import subprocess
import time

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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


class Rapportd:
    """rapportd with its own settings, rules and state in workdir/rapportd, on a free port."""

    def __init__(self, bin_dir, workdir, rules_text, settings=None, prepare=None):
        self.dir = os.path.join(workdir, "rapportd")
        os.makedirs(self.dir, exist_ok=True)
        self.port = free_port()
        with open(os.path.join(self.dir, "rules.json"), "w") as f:
            f.write(rules_text)
        settings = dict(settings or {})
        settings.setdefault("user", {"name": "Mia Marketing", "address": "mia@vendor.example"})
        settings.setdefault("log_level", "info")
        settings.update({"rules": "rules.json", "state_dir": "state",
                         "api": {"port": self.port, "token_file": "state/token"}})
        self.settings_path = os.path.join(self.dir, "settings.json")
        with open(self.settings_path, "w") as f:
            json.dump(settings, f, indent=2)
        os.chmod(self.settings_path, 0o600)
        if prepare:
            prepare(self.dir)
        self.log_path = os.path.join(self.dir, "rapportd.log")
        self.log_file = open(self.log_path, "w")
        self.proc = subprocess.Popen([os.path.join(bin_dir, "rapportd"), "--config", self.settings_path],
                                     stdout=self.log_file, stderr=subprocess.STDOUT)
        self.pid = self.proc.pid
        if not wait_for_port(self.port, 20) or self.proc.poll() is not None:
            self.stop()
            raise RuntimeError(f"rapportd did not start (exit status {self.proc.returncode}):\n{self.log()}")

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
