"""Dovecot for the Thunderbird test, as tests/support/dovecot_fixture.hpp starts it: its own
config in a temp dir, a passwd-file user, IMAP on a free loopback port; stopped by pid (the
master and its children, dovecot.md: imap processes outlive the master's SIGTERM)."""
import os
import pwd
import signal
import socket
import subprocess
import time


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Dovecot:
    def __init__(self, workdir, user="mia", password="secret"):
        self.dir = os.path.join(workdir, "dovecot")
        self.user, self.password = user, password
        self.port = free_port()
        home = os.path.join(self.dir, "home")
        for folder in ("", ".Sent", ".Drafts"):
            for sub in ("cur", "new", "tmp"):
                os.makedirs(os.path.join(home, "Maildir", folder, sub), exist_ok=True)
        os.chmod(workdir, 0o755)
        os.chmod(self.dir, 0o755)
        run_as = ""
        if os.geteuid() == 0:
            pw = next((p for p in (self._pw("mail"), self._pw("nobody")) if p), None)
            uid, gid = pw.pw_uid, pw.pw_gid
            for root, dirs, files in os.walk(home):
                os.chown(root, uid, gid)
        else:
            uid, gid = os.getuid(), os.getgid()
            run_as = pwd.getpwuid(uid).pw_name
        with open(os.path.join(self.dir, "passwd"), "w") as f:
            f.write(f"{user}:{{PLAIN}}{password}:{uid}:{gid}::{home}::\n")
        d = self.dir
        conf = f"""instance_name = rapport-tb-{self.port}
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
        self.proc = subprocess.Popen(["/usr/sbin/dovecot", "-F", "-c", self.config], stdout=self.out, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        deadline = time.time() + 15
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("Dovecot did not start: " + self.log())

    @staticmethod
    def _pw(name):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            return None

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
