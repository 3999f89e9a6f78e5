"""The .deb as a user gets it: built by CPack from this build tree, inspected with dpkg-deb,
checked by lintian (no errors, no warnings), unpacked into a temp root whose rapportd runs
--version and --check-config on the packaged examples, and the packaged systemd user unit
verified by systemd-analyze (no errors, no warnings).

    /usr/bin/python3 package_test.py SOURCE_DIR BUILD_DIR
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

SOURCE, BUILD = sys.argv[1], sys.argv[2]
failures = 0


def check(condition, what):
    global failures
    if not condition:
        failures += 1
        print(f"FAILED: {what}", flush=True)


def run(argv, **kw):
    p = subprocess.run(argv, capture_output=True, text=True, timeout=120, **kw)
    return p.returncode, p.stdout + p.stderr


with tempfile.TemporaryDirectory(prefix="rapport-package-") as tmp:
    # Its own output folder: the build tree's _CPack_Packages is left alone.
    rc, out = run(["cpack", "--config", f"{BUILD}/CPackConfig.cmake", "-B", f"{tmp}/out"])
    check(rc == 0, f"cpack failed:\n{out}")
    debs = [f for f in os.listdir(f"{tmp}/out") if f.endswith(".deb")] if rc == 0 else []
    check(len(debs) == 1, f"one .deb expected, found {debs}")
    if not debs:
        sys.exit(1)
    deb = f"{tmp}/out/{debs[0]}"
    check(re.fullmatch(r"rapport_\d+\.\d+\.\d+-\d+_[a-z0-9]+\.deb", debs[0]) is not None, f"file name {debs[0]}")

    rc, info = run(["dpkg-deb", "-I", deb])
    check(rc == 0, f"dpkg-deb -I: {info}")
    check(re.search(r"^ Package: rapport$", info, re.M) is not None, f"Package field:\n{info}")
    depends = re.search(r"^ Depends: (.*)$", info, re.M)
    check(depends is not None, f"no Depends:\n{info}")
    if depends:
        # From dpkg-shlibdeps: the libraries the binaries really link, with versions.
        for lib in ("libc6 (>=", "libvmime1", "libical3", "libsqlite3-0", "libcurl4", "libssl3"):
            check(lib in depends.group(1), f"Depends lacks {lib}: {depends.group(1)}")

    rc, listing = run(["dpkg-deb", "-c", deb])
    check(rc == 0, f"dpkg-deb -c: {listing}")
    files = {line.split()[-1].lstrip(".") for line in listing.splitlines() if line.strip()}
    expected = ["/usr/bin/rapportd", "/usr/bin/rapportctl", "/usr/lib/systemd/user/rapportd.service",
                "/usr/share/man/man1/rapportd.1.gz", "/usr/share/man/man1/rapportctl.1.gz",
                "/usr/share/doc/rapport/copyright", "/usr/share/doc/rapport/changelog.Debian.gz",
                "/usr/share/doc/rapport/install.md", "/usr/share/doc/rapport/examples/settings.json",
                "/usr/share/doc/rapport/examples/rules.json", "/usr/share/rapport/rules.schema.json"]
    # Made by other parts of the build; packaged whenever they exist.
    if os.path.exists(f"{SOURCE}/packaging/native-messaging/rapport.json"):
        expected.append("/usr/lib/mozilla/native-messaging-hosts/rapport.json")
    if os.path.exists(f"{BUILD}/rapport-thunderbird.xpi"):
        expected.append("/usr/share/rapport/rapport-thunderbird.xpi")
    for path in expected:
        check(path in files, f"{path} is not in the package")
    check(not any("/tests/" in f or f.endswith("_test") for f in files), "test programs were packaged")

    if shutil.which("lintian"):
        rc, out = run(["lintian", "--tag-display-limit", "0", deb])
        tags = [line for line in out.splitlines() if re.match(r"^[EW]: ", line)]
        check(not tags, "lintian:\n" + "\n".join(tags))
    else:
        check(False, "lintian is not installed (apt-get install lintian; .ci/install-deps.sh does)")

    root = f"{tmp}/root"
    rc, out = run(["dpkg-deb", "-x", deb, root])
    check(rc == 0, f"dpkg-deb -x: {out}")
    rc, out = run([f"{root}/usr/bin/rapportd", "--version"])
    check(rc == 0 and re.fullmatch(r"rapportd \d+\.\d+\.\d+\n", out) is not None, f"--version: {rc} {out!r}")
    examples = f"{root}/usr/share/doc/rapport/examples"
    rc, out = run([f"{root}/usr/bin/rapportd", "--check-config", f"{examples}/settings.json"])
    check(rc == 0 and f"{examples}/rules.json: OK" in out, f"--check-config on the packaged examples: {rc}\n{out}")
    rc, out = run([f"{root}/usr/bin/rapportctl", "--version"])
    check(rc == 0 and out.startswith("rapportctl "), f"rapportctl --version: {rc} {out!r}")

    # The user manager is not running here (a container, CI): systemd-analyze --user wants a
    # runtime dir, and cannot take --root, so the unit is verified with ExecStart pointing at
    # the unpacked binary and man: links resolved against the unpacked man pages.
    unit = open(f"{root}/usr/lib/systemd/user/rapportd.service").read()
    check("Type=notify" in unit and "ExecReload=/bin/kill -HUP $MAINPID" in unit, "unit kind and reload")
    os.makedirs(f"{tmp}/units")
    with open(f"{tmp}/units/rapportd.service", "w") as f:
        f.write(unit.replace("ExecStart=/usr/bin/rapportd", f"ExecStart={root}/usr/bin/rapportd"))
    runtime = f"{tmp}/runtime"
    os.makedirs(runtime, mode=0o700)
    env = dict(os.environ, XDG_RUNTIME_DIR=runtime, MANPATH=f"{root}/usr/share/man")
    rc, out = run(["systemd-analyze", "--user", "verify", f"{tmp}/units/rapportd.service"], env=env)
    # Unknown keys are only warnings (exit 0): any output at all fails the test.
    check(rc == 0 and out.strip() == "", f"systemd-analyze --user verify: {rc}\n{out}")

print("package: " + ("OK" if not failures else f"{failures} failed"))
sys.exit(1 if failures else 0)
