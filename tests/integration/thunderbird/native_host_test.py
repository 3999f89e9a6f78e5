"""rapportctl's native-messaging host, spoken to as Thunderbird does: 4-byte little-endian length
+ JSON on stdin/stdout, started as `rapportctl MANIFEST EXTENSION-ID` or `rapportctl native-host`.

    /usr/bin/python3 native_host_test.py BUILD/bin
"""
import json
import os
import struct
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "support"))
from rapport_test import Checks  # noqa: E402

BIN = sys.argv[1]
check = Checks()


def frame(obj):
    body = obj if isinstance(obj, bytes) else json.dumps(obj).encode()
    return struct.pack("<I", len(body)) + body


def replies(out):
    got = []
    while len(out) >= 4:
        (n,) = struct.unpack("<I", out[:4])
        got.append(json.loads(out[4:4 + n]))
        out = out[4 + n:]
    return got, out


def host(argv, data, env):
    p = subprocess.run([f"{BIN}/rapportctl", *argv], input=data, capture_output=True, env=env, timeout=10)
    got, rest = replies(p.stdout)
    return p.returncode, got, rest, p.stderr.decode()


def main():
    with check.temp_dir("rapport-native-") as work:
        os.makedirs(f"{work}/state", mode=0o700)
        with open(f"{work}/rules.json", "w") as f:
            json.dump({"organization": {"name": "Vendor", "domains": ["vendor.example"]}}, f)
        with open(f"{work}/settings.json", "w") as f:
            json.dump({"user": {"name": "Mia Marketing", "address": "Mia@Vendor.example"}, "rules": "rules.json",
                       "state_dir": "state", "api": {"port": 17717, "token_file": "state/token"}}, f)
        env = {"PATH": "/usr/bin:/bin", "HOME": work, "RAPPORT_SETTINGS": f"{work}/settings.json"}

        # No token yet (rapportd never ran): an error the add-on can show, not a crash.
        code, got, _, _ = host(["native-host"], frame({"method": "connection"}), env)
        check(code == 0 and len(got) == 1 and "token" in got[0].get("error", ""), f"missing token file: {code} {got}")

        token = "ab" * 32
        with open(f"{work}/state/token", "w") as f:
            f.write(token + "\n")
        os.chmod(f"{work}/state/token", 0o600)
        want = {"port": 17717, "token": token, "user": {"name": "Mia Marketing", "address": "mia@vendor.example"}}

        # As Thunderbird starts it: argv = [manifest path, extension id]; two requests, then EOF.
        manifest = f"{work}/.mozilla/native-messaging-hosts/rapport.json"
        code, got, rest, err = host([manifest, "rapport@rapport.invalid"], frame({"method": "connection"}) * 2, env)
        check(code == 0, f"exit 0 at end of input ({code}, {err})")
        check(got == [want, want], f"connection answered twice: {got}")
        check(rest == b"", "nothing but messages on stdout")

        # Explicitly, and with bad requests in between: each gets an error, the host goes on.
        data = frame(b"not json") + frame([1, 2]) + frame({"method": "other"}) + frame({"method": "connection"})
        code, got, _, _ = host(["native-host"], data, env)
        check(code == 0 and len(got) == 4, f"four answers: {got}")
        check(all("error" in g for g in got[:3]) and got[3] == want, f"errors then the answer: {got}")

        # Too big: refused with a clear error before reading it; exit 1.
        code, got, _, err = host(["native-host"], struct.pack("<I", 10 * 1024 * 1024) + b"{", env)
        check(code == 1 and got and "limit" in got[0]["error"], f"oversized message: {code} {got}")
        check("limit" in err, f"told on stderr: {err}")
        # Cut off inside a header or a body: exit 1, told on stderr.
        code, got, _, err = host(["native-host"], b"\x05\x00", env)
        check(code == 1 and "header" in err, f"truncated header: {code} {err}")
        code, got, _, err = host(["native-host"], struct.pack("<I", 100) + b"{}", env)
        check(code == 1 and "inside a message" in err, f"truncated body: {code} {err}")

        # Broken settings: the reason, with the command that shows all errors.
        with open(f"{work}/bad.json", "w") as f:
            f.write("{")
        code, got, _, _ = host(["native-host"], frame({"method": "connection"}), {**env, "RAPPORT_SETTINGS": f"{work}/bad.json"})
        check(code == 0 and "--check-config" in got[0].get("error", ""), f"bad settings: {got}")

        # --install writes a user manifest that names this rapportctl and the add-on.
        p = subprocess.run([f"{BIN}/rapportctl", "native-host", "--install"], capture_output=True, env=env, timeout=10)
        check(p.returncode == 0, f"--install: {p.stderr}")
        m = json.load(open(manifest))
        check(m["name"] == "rapport" and m["type"] == "stdio", f"manifest {m}")
        check(os.path.realpath(m["path"]) == os.path.realpath(f"{BIN}/rapportctl"), f"manifest path {m['path']}")
        check(m["allowed_extensions"] == ["rapport@rapport.invalid"], f"allowed {m}")
        # The packaged manifest: same name, type and add-on, rapportctl at /usr/bin.
        shipped = json.load(open(os.path.join(os.path.dirname(__file__), "..", "..", "..", "packaging", "native-messaging", "rapport.json")))
        check(shipped["path"] == "/usr/bin/rapportctl" and shipped["allowed_extensions"] == m["allowed_extensions"]
              and shipped["name"] == "rapport", f"packaged manifest {shipped}")
        addon = json.load(open(os.path.join(os.path.dirname(__file__), "..", "..", "..", "plugins", "thunderbird", "manifest.json")))
        check(addon["browser_specific_settings"]["gecko"]["id"] in shipped["allowed_extensions"], "the add-on's id is allowed")
    check.exit()


if __name__ == "__main__":
    main()
