"""The golden drafts (tests/data/drafts/*.eml) as Python's email package reads them: no parse
defects, the expected header fields once each, X-Rapport-Draft once, a UTF-8 text/plain body in
quoted-printable, no line longer than 998 bytes, CRLF only. A second, independent reader next to
Rapport's own header parser (draft_message_test)."""
import email
import email.policy
import pathlib
import sys

root = pathlib.Path(sys.argv[1])
files = sorted((root / "tests/data/drafts").glob("*.eml"))
failures = 0


def fail(path, why):
    global failures
    failures += 1
    print(f"{path.name}: {why}")


for path in files:
    raw = path.read_bytes()
    if b"\0" in raw:
        fail(path, "NUL byte")
    if raw.replace(b"\r\n", b"").find(b"\n") >= 0 or raw.replace(b"\r\n", b"").find(b"\r") >= 0:
        fail(path, "bare LF or CR")
    if any(len(line) > 998 for line in raw.split(b"\r\n")):
        fail(path, "line longer than 998 bytes")
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    if msg.defects:
        fail(path, f"defects {msg.defects}")
    for name in ["From", "Subject", "Date", "Message-ID", "MIME-Version", "Content-Type",
                 "Content-Transfer-Encoding", "X-Rapport-Draft"]:
        values = msg.get_all(name) or []
        if len(values) != 1:
            fail(path, f"{name} appears {len(values)} times")
        for v in values:
            if getattr(v, "defects", None):
                fail(path, f"{name} defects {v.defects}")
    if msg.get_all("Bcc"):
        fail(path, "a Bcc field")
    if msg.get_content_type() != "text/plain" or msg.get_content_charset() != "utf-8":
        fail(path, f"content type {msg.get_content_type()} {msg.get_content_charset()}")
    if msg["Content-Transfer-Encoding"] != "quoted-printable":
        fail(path, "not quoted-printable")
    body = msg.get_payload(decode=True).decode("utf-8")  # raises on invalid UTF-8
    if "\r" in body.replace("\r\n", "") or "\0" in body:
        fail(path, "control characters in the body")
    if "\n" in str(msg["Subject"]):
        fail(path, "subject spans lines")
    for name in ["To", "Cc"]:
        for field in msg.get_all(name) or []:
            for a in field.addresses:
                if "\n" in a.display_name or "\r" in a.display_name:
                    fail(path, f"{name} name with a line break")
    print(f"{path.name}: {msg['Subject']} | To: {msg.get_all('To')} | Cc: {msg.get_all('Cc')}")

print(f"{len(files) - failures} passed, {failures} failed")
sys.exit(1 if failures or len(files) < 6 else 0)
