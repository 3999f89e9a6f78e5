"""The add-on in a real headless Thunderbird (Debian's), driven through Marionette as a person
would send: a compose window and its Send command, so that compose.onBeforeSend runs.

A fresh profile (HOME in a temp dir, so the test's native-messaging manifest is the one found)
holds the built xpi in extensions/; its IMAP account is on a test Dovecot (not logged in: the
send path needs no IMAP) and its SMTP server an aiosmtpd sink. rapportd runs for the marketing
user Mia with Acme owned by Bob. Checked: the owner is put into Cc visibly while composing and
reaches the sink in Cc and envelope; an owner already in Cc is not added twice; internal mail
gets nothing; a nudge that comes due shows as a notification; with rapportd stopped the mail
still reaches the sink within a few seconds and the user is told. Thunderbird, rapportd and
Dovecot are stopped by pid, also on failure.

    /usr/bin/python3 thunderbird_e2e_test.py BUILD/bin BUILD/rapport-thunderbird.xpi
"""
import asyncio
import email
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "support"))
sys.path.insert(0, HERE)
from aiosmtpd.controller import Controller  # noqa: E402
from rapport_test import Dovecot, free_port  # noqa: E402
from marionette import Marionette  # noqa: E402
from rapport_ws import call, close_all, connect, hello  # noqa: E402

BIN, XPI = sys.argv[1], sys.argv[2]
THUNDERBIRD = "/usr/lib/thunderbird/thunderbird"
ADDON_ID = "rapport@rapport.invalid"
passed = failed = 0

HOSTILE = '<img src=x onerror="alert(1)"><b>Evil</b> ' + "X" * 100000
RULES = {
    "organization": {"name": "Vendor Inc", "domains": ["vendor.example"]},
    "people": [
        {"id": "bob", "name": "Bob Rep", "addresses": ["bob@vendor.example"], "role": "rep"},
        {"id": "mia", "name": "Mia Marketing", "addresses": ["mia@vendor.example"], "role": "marketing"},
    ],
    "accounts": [{"id": "acme", "name": "Acme Corp", "domains": ["acme.example"], "owner": "bob", "stage": "active", "reference": True,
                  "contacts": [{"address": "jane@acme.example", "name": "Jane Doe", "champion": True}]},
                 # A hostile name: markup and 100 KB reach the add-on inside the nudge's text.
                 {"id": "evil", "name": HOSTILE, "domains": ["evil.example"], "owner": "bob"}],
    "rules": {"loss": {"nudges": ["PT3S"]}},
}


def check(condition, what):
    global passed, failed
    if condition:
        passed += 1
        print(f"ok: {what}", flush=True)
    else:
        failed += 1
        print(f"FAILED: {what}", flush=True)


class Sink:
    def __init__(self):
        self.messages = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.messages.append((envelope.mail_from, [r.lower() for r in envelope.rcpt_tos], envelope.original_content))
        return "250 2.0.0 Ok: queued"

    def wait(self, subject, timeout):
        deadline = time.time() + timeout
        while time.time() < deadline:
            with self.lock:
                for m in self.messages:
                    if email.message_from_bytes(m[2])["Subject"] == subject:
                        return m
            time.sleep(0.05)
        return None


def cc_addresses(raw):
    msg = email.message_from_bytes(raw)
    return [a.lower() for _, a in email.utils.getaddresses(msg.get_all("Cc", []))]


def user_js(profile, prefs):
    lines = [f'user_pref("{k}", {json.dumps(v)});' for k, v in prefs.items()]
    with open(os.path.join(profile, "user.js"), "w") as f:
        f.write("\n".join(lines) + "\n")


def profile_prefs(marionette_port, imap_port, smtp_port):
    return {
        # Quiet, unattended start; the sideloaded add-on enabled though unsigned.
        "marionette.port": marionette_port,
        "extensions.autoDisableScopes": 0,
        "extensions.enabledScopes": 15,
        "xpinstall.signatures.required": False,
        "extensions.webextensions.uuids": json.dumps({ADDON_ID: ADDON_UUID}),
        "devtools.console.stdout.content": True,
        "alerts.useSystemBackend": False,
        "mail.shell.checkDefaultClient": False,
        "mailnews.start_page.enabled": False,
        "mail.rights.version": 1,
        "datareporting.policy.dataSubmissionEnabled": False,
        "toolkit.telemetry.reportingpolicy.firstRun": False,
        "mail.provider.enabled": False,
        "mail.spotlight.firstRunDone": True,
        "mail.winsearch.firstRunDone": True,
        "app.update.disabledForTesting": True,
        # Mia's account: IMAP on the test Dovecot (no login at start: passwords cannot be prefs,
        # and the send path needs none), SMTP to the sink, no copy to Sent.
        "mail.accountmanager.accounts": "account1,account2",
        "mail.accountmanager.defaultaccount": "account1",
        "mail.accountmanager.localfoldersserver": "server2",
        "mail.account.account1.identities": "id1",
        "mail.account.account1.server": "server1",
        "mail.account.account2.server": "server2",
        "mail.server.server1.type": "imap",
        "mail.server.server1.hostname": "127.0.0.1",
        "mail.server.server1.port": imap_port,
        "mail.server.server1.userName": "mia",
        "mail.server.server1.name": "Mia at Vendor",
        "mail.server.server1.socketType": 0,
        "mail.server.server1.login_at_startup": False,
        "mail.server.server1.check_new_mail": False,
        "mail.server.server1.directory-rel": "[ProfD]ImapMail/127.0.0.1",
        "mail.server.server2.type": "none",
        "mail.server.server2.hostname": "Local Folders",
        "mail.server.server2.userName": "nobody",
        "mail.server.server2.name": "Local Folders",
        "mail.server.server2.directory-rel": "[ProfD]Mail/Local Folders",
        "mail.identity.id1.fullName": "Mia Marketing",
        "mail.identity.id1.useremail": "mia@vendor.example",
        "mail.identity.id1.smtpServer": "smtp1",
        "mail.identity.id1.fcc": False,
        "mail.identity.id1.compose_html": False,
        "mail.identity.id1.valid": True,
        "mail.smtpservers": "smtp1",
        "mail.smtp.defaultserver": "smtp1",
        "mail.smtpserver.smtp1.hostname": "127.0.0.1",
        "mail.smtpserver.smtp1.port": smtp_port,
        "mail.smtpserver.smtp1.authMethod": 1,
        "mail.smtpserver.smtp1.try_ssl": 0,
        "mail.smtpserver.smtp1.username": "",
    }


OPEN_COMPOSE = """
const { MailServices } = ChromeUtils.importESModule("resource:///modules/MailServices.sys.mjs");
const [to, cc, subject] = arguments;
const fields = Cc["@mozilla.org/messengercompose/composefields;1"].createInstance(Ci.nsIMsgCompFields);
fields.to = to; fields.cc = cc; fields.subject = subject; fields.body = "Hello from the Rapport test.\\n";
const params = Cc["@mozilla.org/messengercompose/composeparams;1"].createInstance(Ci.nsIMsgComposeParams);
params.type = Ci.nsIMsgCompType.New;
params.format = Ci.nsIMsgCompFormat.PlainText;
params.identity = MailServices.accounts.getIdentity("id1");
params.composeFields = fields;
MailServices.compose.OpenComposeWindowWithParams(null, params);
return true;
"""

# Resolves with the compose window's recipients as [row, address] once it is ready.
WAIT_COMPOSE_READY = """
const done = arguments[arguments.length - 1];
const [subject] = arguments;
const started = Date.now();
(function poll() {
  for (const w of Services.wm.getEnumerator("msgcompose")) {
    if (w.composeEditorReady && w.gLoadingComplete && w.document.getElementById("msgSubject").value === subject) {
      done(true);
      return;
    }
  }
  if (Date.now() - started > 30000) { done(false); return; }
  setTimeout(poll, 100);
})();
"""

PILLS = """
const [subject] = arguments;
for (const w of Services.wm.getEnumerator("msgcompose")) {
  if (w.document.getElementById("msgSubject").value !== subject) continue;
  return [...w.document.querySelectorAll("mail-address-pill")].map(
    p => [p.closest(".address-row") ? p.closest(".address-row").id : "", (p.emailAddress || "").toLowerCase()]);
}
return null;
"""

SEND = """
const [subject] = arguments;
for (const w of Services.wm.getEnumerator("msgcompose")) {
  if (w.document.getElementById("msgSubject").value !== subject) continue;
  w.goDoCommand("cmd_sendNow");
  return true;
}
return false;
"""

# The texts of the notifications Thunderbird shows (XUL alert windows: alerts.useSystemBackend
# is off, so they are windows the chrome context can read).
ALERTS = """
const out = [];
for (const w of Services.wm.getEnumerator("alert:alert")) {
  const title = w.document.getElementById("alertTitleLabel");
  const text = w.document.getElementById("alertTextLabel");
  out.push([title ? title.value || title.textContent : "", text ? text.textContent : ""]);
}
return out;
"""


# As a person adds a recipient and presses Send at once: in one synchronous script, so that
# only compose.onBeforeSend can have seen the new recipient.
ADD_TO_AND_SEND = """
const [subject, address] = arguments;
for (const w of Services.wm.getEnumerator("msgcompose")) {
  if (w.document.getElementById("msgSubject").value !== subject) continue;
  const input = w.document.getElementById("toAddrInput");
  input.value = address;
  w.recipientAddPills(input, true);
  w.goDoCommand("cmd_sendNow");
  return true;
}
return false;
"""

# As a person selects a pill and presses Delete.
REMOVE_PILL = """
const [subject, address] = arguments;
for (const w of Services.wm.getEnumerator("msgcompose")) {
  if (w.document.getElementById("msgSubject").value !== subject) continue;
  const area = w.document.querySelector("mail-recipients-area");
  const pill = [...w.document.querySelectorAll("mail-address-pill")].find(p => p.emailAddress.toLowerCase() === address);
  if (!pill) return false;
  area.deselectAllPills();
  pill.setAttribute("selected", "selected");
  area.removeSelectedPills();
  return true;
}
return false;
"""


# The toolbar button's tooltip: the status indicator ("Rapport: STATE — FIX").
STATUS_TITLE = """
const w = Services.wm.getMostRecentWindow("mail:3pane");
const button = w && w.document.querySelector('button[title^="Rapport:"]');
return button ? button.getAttribute("title") : null;
"""


def wait_status(m, part, timeout):
    deadline = time.time() + timeout
    title = None
    while time.time() < deadline:
        title = m.script(STATUS_TITLE)
        if title and part in title:
            break
        time.sleep(0.2)
    return title


def wait_alert(m, title_part, timeout):
    deadline = time.time() + timeout
    alerts = []
    while time.time() < deadline:
        alerts = m.script(ALERTS) or []
        if any(title_part in a[0] for a in alerts):
            break
        time.sleep(0.2)
    return alerts


# The add-on's toolbar popup, opened as a tab (the pages run in the parent process in the
# second Thunderbird, so chrome can read them): its text, and whether markup became elements.
OPEN_POPUP_TAB = """
const w = Services.wm.getMostRecentWindow("mail:3pane");
w.gTabmail.openTab("contentTab", {url: "moz-extension://" + arguments[0] + "/popup/popup.html"});
return true;
"""

POPUP_NUDGES = """
const w = Services.wm.getMostRecentWindow("mail:3pane");
for (const info of w.gTabmail.tabInfo) {
  const doc = info.browser && info.browser.currentURI.spec.endsWith("/popup/popup.html") && info.browser.contentDocument;
  if (!doc || !doc.getElementById("status")) continue;  // still loading
  return {status: doc.getElementById("status").textContent,
          nudges: [...doc.querySelectorAll("#nudges li")].map(li => [li.textContent, li.querySelectorAll("button").length]),
          elements: doc.querySelectorAll("#nudges img, #nudges b, #recent img").length};
}
return null;
"""

# Clicks the button labelled `label` on the follow-up whose text contains `part`.
POPUP_CLICK = """
const [part, label] = arguments;
const w = Services.wm.getMostRecentWindow("mail:3pane");
for (const info of w.gTabmail.tabInfo) {
  const doc = info.browser && info.browser.currentURI.spec.endsWith("/popup/popup.html") && info.browser.contentDocument;
  if (!doc) continue;
  for (const li of doc.querySelectorAll("#nudges li")) {
    if (!li.textContent.includes(part)) continue;
    const button = [...li.querySelectorAll("button")].find(b => b.textContent === label);
    if (button) { button.click(); return true; }
  }
}
return false;
"""

ADDON_UUID = "6f1c2a4e-0000-4000-8000-00000000a11d"

OPEN_EML = """
const { MailUtils } = ChromeUtils.importESModule("resource:///modules/MailUtils.sys.mjs");
const file = new FileUtils.File(arguments[0]);
const url = Services.io.newFileURI(file).mutate().setQuery("type=application/x-message-display").finalize();
MailUtils.openEMLFile(Services.wm.getMostRecentWindow("mail:3pane"), file, url);
return true;
"""

# True once the message tab shows the message's body.
EML_SHOWN = """
const w = Services.wm.getMostRecentWindow("mail:3pane");
return w.gTabmail.tabInfo.some(info => info.mode.name === "mailMessageTab" &&
  info.browser && info.browser.contentDocument && info.browser.contentDocument.body.textContent.includes("Hello Mia"));
"""

OPEN_PAGE_TAB = """
const w = Services.wm.getMostRecentWindow("mail:3pane");
w.gTabmail.openTab("contentTab", {url: "moz-extension://" + arguments[0] + "/" + arguments[1]});
return true;
"""

COMPOSE_PAGE = """
const w = Services.wm.getMostRecentWindow("mail:3pane");
for (const info of w.gTabmail.tabInfo) {
  const doc = info.browser && info.browser.currentURI.spec.endsWith("/compose/compose.html") && info.browser.contentDocument;
  if (!doc) continue;
  const items = (id) => [...doc.querySelectorAll("#" + id + " li")].map(li => li.textContent);
  return {copied: items("copied"), notices: items("notices")};
}
return null;
"""

# The message display page: its text, and (with arguments) fills in and clicks a button.
DISPLAY_PAGE = """
const [action, competitor, delivery] = arguments;
const w = Services.wm.getMostRecentWindow("mail:3pane");
for (const info of w.gTabmail.tabInfo) {
  const doc = info.browser && info.browser.currentURI.spec.endsWith("/display/display.html") && info.browser.contentDocument;
  if (!doc || !doc.body) continue;  // not loaded yet: the caller polls again
  const section = doc.querySelector("section.account");
  if (section && action) {
    section.querySelector("input.competitor").value = competitor || "";
    section.querySelector("input.delivery").value = delivery || "";
    section.querySelector("button." + action).click();
  }
  return {text: doc.body.innerText, result: section ? section.querySelector(".result").textContent : ""};
}
return null;
"""

# The options page: fills in port and token, presses Save, returns its result line.
OPTIONS_PAGE = """
const [port, token] = arguments;
const w = Services.wm.getMostRecentWindow("mail:3pane");
for (const info of w.gTabmail.tabInfo) {
  const doc = info.browser && info.browser.currentURI.spec.endsWith("/options/options.html") && info.browser.contentDocument;
  if (!doc || !doc.getElementById("save") || !doc.getElementById("status").textContent) continue;
  if (port !== undefined) {
    doc.getElementById("port").value = port;
    doc.getElementById("token").value = token;
    doc.getElementById("save").click();
  }
  return doc.getElementById("result").textContent || "loaded";
}
return null;
"""

OPTIONS_STATUS = """
const w = Services.wm.getMostRecentWindow("mail:3pane");
for (const info of w.gTabmail.tabInfo) {
  const doc = info.browser && info.browser.currentURI.spec.endsWith("/options/options.html") && info.browser.contentDocument;
  if (doc && doc.getElementById("status")) return doc.getElementById("status").textContent;
}
return null;
"""

JANE_EML = ("From: Jane Doe <jane@acme.example>\r\nTo: Mia Marketing <mia@vendor.example>\r\nSubject: Our renewal\r\n"
            "Date: Mon, 30 Nov 2026 10:00:00 +0000\r\nMessage-ID: <renewal@acme.example>\r\n\r\nHello Mia.\r\n")


def wait_page(m, script, predicate, timeout):
    deadline = time.time() + timeout
    page = None
    while time.time() < deadline:
        page = m.script(script)
        if page and predicate(page):
            break
        time.sleep(0.2)
    return page


class Thunderbird:
    def __init__(self, workdir, env, prefs, name="profile"):
        self.profile = os.path.join(workdir, name)
        os.makedirs(os.path.join(self.profile, "extensions"))
        shutil.copy(XPI, os.path.join(self.profile, "extensions", f"{ADDON_ID}.xpi"))
        user_js(self.profile, prefs)
        self.log_path = os.path.join(workdir, f"thunderbird-{name}.log")
        self.proc = subprocess.Popen([THUNDERBIRD, "--headless", "--no-remote", "--profile", self.profile, "--marionette",
                                      "--remote-allow-system-access"], stdout=open(self.log_path, "w"),
                                     stderr=subprocess.STDOUT, env=env, start_new_session=True)

    def log(self):
        return open(self.log_path, errors="replace").read()

    def wait_log(self, text, timeout):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if text in self.log():
                return True
            time.sleep(0.1)
        return False

    def stop(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                pass
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)  # and every child it left (the native host)
        except ProcessLookupError:
            pass
        self.proc.wait()


class Daemon:
    def __init__(self, settings):
        self.settings = settings
        self.proc = None

    def start(self, log_path):
        self.log_path = log_path
        self.proc = subprocess.Popen([f"{BIN}/rapportd", "--config", self.settings], stderr=open(log_path, "w"))
        deadline = time.time() + 15
        while time.time() < deadline and "rapportd running" not in open(log_path).read():
            time.sleep(0.05)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def compose_and_send(m, to, cc, subject, expect_visible=None):
    m.script(OPEN_COMPOSE, [to, cc, subject])
    if not m.async_script(WAIT_COMPOSE_READY, [subject], timeout_ms=35000):
        raise AssertionError(f"the compose window for {subject!r} did not get ready")
    if expect_visible:
        # The add-on puts the owner into Cc while the user writes (before Send).
        deadline = time.time() + 8
        pills = []
        while time.time() < deadline:
            pills = m.script(PILLS, [subject]) or []
            if [r for r in pills if r[1] == expect_visible]:
                break
            time.sleep(0.2)
        check(any(r[1] == expect_visible and "Cc" in r[0] for r in pills), f"{subject}: {expect_visible} shown in Cc before Send ({pills})")
    started = time.time()
    check(m.script(SEND, [subject]), f"{subject}: Send pressed")
    return started


async def all_nudges(port, token):
    ws = await connect(port)
    await hello(ws, token)
    result = await call(ws, "nudges.list", {"state": "all"})
    await close_all()
    return result["result"]["nudges"]


async def nudge_states(port, token):
    return {n["account"]: n["state"] for n in await all_nudges(port, token)}


def popup_phase(workdir, env, prefs, m_port, api_port, token):
    """The toolbar popup in a second Thunderbird: open follow-ups, Done and Snooze."""
    tb = Thunderbird(workdir, env, {**prefs, "marionette.port": m_port, "extensions.webextensions.remote": False}, name="profile-pages")
    try:
        m = Marionette(m_port, timeout=60)
        m.session()
        m.chrome()
        check(tb.wait_log("rapport: state connected", 30), "pages: the add-on connected")
        m.script(OPEN_POPUP_TAB, [ADDON_UUID])
        deadline = time.time() + 15
        page = None
        while time.time() < deadline:
            page = m.script(POPUP_NUDGES)
            if page and len(page["nudges"]) >= 2:
                break
            time.sleep(0.2)
        check(page and "Rapport: connected (Mia Marketing)" in page["status"], f"popup: status {page and page['status']}")
        texts = [n[0] for n in (page or {}).get("nudges", [])]
        check(any("ask Jane Doe" in t for t in texts) and any("onerror" in t for t in texts), f"popup: both follow-ups listed {[t[:80] for t in texts]}")
        check(page and all(n[1] == 3 for n in page["nudges"]), "popup: each with Done, Snooze and Dismiss")
        check(page and page["elements"] == 0 and any('<img src=x onerror="alert(1)">' in t for t in texts), "popup: daemon markup is text, never elements")
        check(page and all(len(t) < 700 for t in texts), "popup: the 100 KB text is clipped")
        check(m.script(POPUP_CLICK, ["ask Jane Doe", "Done"]), "popup: Done clicked")
        # The list is drawn again without the finished one; then Snooze the other.
        page = wait_page(m, POPUP_NUDGES, lambda p: len(p["nudges"]) == 1 and "onerror" in p["nudges"][0][0], 10)
        check(page and len(page["nudges"]) == 1, f"popup: the done follow-up left the list {page and [n[0][:60] for n in page['nudges']]}")
        check(m.script(POPUP_CLICK, ["onerror", "Snooze 1 day"]), "popup: Snooze clicked")
        deadline = time.time() + 10
        states = {}
        while time.time() < deadline:
            states = asyncio.run(nudge_states(api_port, token))
            if states.get("acme") == "done" and states.get("evil") == "snoozed":
                break
            time.sleep(0.2)
        check(states.get("acme") == "done" and states.get("evil") == "snoozed", f"popup: the daemon has them done and snoozed {states}")

        # The message display page for a message from Jane: account, owner, stage, champion;
        # mark lost with competitor and delivery date, then reopen.
        eml = os.path.join(workdir, "jane.eml")
        with open(eml, "w") as f:
            f.write(JANE_EML)
        m.script(OPEN_EML, [eml])
        check(wait_page(m, EML_SHOWN, bool, 15), "display: the message from Jane is shown")
        time.sleep(0.5)  # onMessageDisplayed reaches the add-on
        m.script(OPEN_PAGE_TAB, [ADDON_UUID, "display/display.html"])
        page = wait_page(m, DISPLAY_PAGE, lambda p: "Acme Corp (acme)" in p["text"], 15)
        text = page["text"] if page else ""
        check(all(part in text for part in ("Acme Corp (acme)", "Owner: Bob Rep", "Stage: active", "Champions: Jane Doe")),
              f"display: account, owner, stage, champions {text[:300]!r}")
        check("<jane@acme.example> — active" in text, f"display: Jane's contact state (accounts.health) {text[:300]!r}")
        before = {n["id"] for n in asyncio.run(all_nudges(api_port, token))}
        m.script(DISPLAY_PAGE, ["lost", "Initech", "2027-01-15"])
        page = wait_page(m, DISPLAY_PAGE, lambda p: "marked lost" in p["result"], 10)
        check(page and "Acme Corp is marked lost; 2 follow-ups are planned." in page["result"], f"display: marked lost {page and page['result']}")
        planned = [n for n in asyncio.run(all_nudges(api_port, token)) if n["id"] not in before and n["account"] == "acme"]
        check(sorted(n["kind"] for n in planned) == ["delivery", "follow_up"] and any(n["due"].startswith("2027-01-15") for n in planned),
              f"display: rapportd planned the follow-up and the delivery nudge {planned}")
        m.script(DISPLAY_PAGE, ["reopen"])
        page = wait_page(m, DISPLAY_PAGE, lambda p: "reopened" in p["result"], 10)
        check(page and "reopened" in page["result"], f"display: reopened {page and page['result']}")
        states = {n["id"]: n["state"] for n in asyncio.run(all_nudges(api_port, token))}
        check(planned and all(states[n["id"]] == "cancelled" for n in planned), f"display: reopening cancelled them {states}")

        # The compose window's page: the owner copied, and compose.check's notice.
        m.script(OPEN_COMPOSE, ["Jane Doe <jane@acme.example>", "", "Rapport pages"])
        check(m.async_script(WAIT_COMPOSE_READY, ["Rapport pages"], timeout_ms=35000), "compose page: window ready")
        pills = wait_page(m, PILLS.replace("const [subject] = arguments;", 'const subject = "Rapport pages";'),
                          lambda p: any(r[1] == "bob@vendor.example" for r in p), 10)
        check(pills and any(r[1] == "bob@vendor.example" for r in pills), f"compose page: Bob in Cc {pills}")
        m.script(OPEN_PAGE_TAB, [ADDON_UUID, "compose/compose.html"])
        page = wait_page(m, COMPOSE_PAGE, lambda p: p["copied"], 10)
        check(page and any(c.startswith("Bob Rep <bob@vendor.example> — Bob Rep owns Acme Corp") for c in page["copied"]),
              f"compose page: lists the owner it copied {page}")
        check(page and any("reference customer" in n for n in page["notices"]), f"compose page: the reference notice {page}")

        # The options page: a port and token typed in win over the native host; a wrong token
        # shows as such; empty fields go back to the native host.
        m.script(OPEN_PAGE_TAB, [ADDON_UUID, "options/options.html"])
        check(wait_page(m, OPTIONS_PAGE, bool, 10) == "loaded", "options: page loaded")
        result = m.script(OPTIONS_PAGE, ["not a port", "x"])
        check(result and "must be 1-65535" in result, f"options: bad input refused with the reason {result}")
        # (The page's own status line: the toolbar button is not redrawn behind a content tab.)
        m.script(OPTIONS_PAGE, [str(api_port), "0" * 64])
        status = wait_page(m, OPTIONS_STATUS, lambda t: "refused the token" in t, 15)
        check(status and "refused the token" in status and "rapportctl token" in status, f"options: a wrong token is shown {status}")
        m.script(OPTIONS_PAGE, [str(api_port), token])
        status = wait_page(m, OPTIONS_STATUS, lambda t: t == "Rapport: connected", 15)
        check(status == "Rapport: connected", f"options: the right token connects {status}")
        m.script(OPTIONS_PAGE, ["", ""])
        check(wait_page(m, OPTIONS_PAGE, lambda r: "Saved" in r, 10), "options: cleared")
        status = wait_page(m, OPTIONS_STATUS, lambda t: t == "Rapport: connected", 15)
        check(status == "Rapport: connected", f"options: back to the native host {status}")
        m.close()
    finally:
        tb.stop()


async def lose(port, token, account):
    ws = await connect(port)
    await hello(ws, token)
    result = await call(ws, "deal.lost", {"account": account, "competitor": "Initech"})
    await close_all()
    return result["result"]["nudges"]


class Interrupted(Exception):
    pass


def interrupted(signum, frame):
    raise Interrupted(f"signal {signum}: stopping (ctest's timeout is 180 s)")


def main():
    # Thunderbird, Dovecot and rapportd run in sessions of their own; a test killed from outside
    # would leave them running. A watchdog below ctest's timeout, and SIGTERM, end the test
    # through the finally below, which stops them by pid.
    signal.signal(signal.SIGALRM, interrupted)
    signal.signal(signal.SIGTERM, interrupted)
    signal.alarm(150)
    workdir = tempfile.mkdtemp(prefix="rapport-tb-")
    home = os.path.join(workdir, "home")
    os.makedirs(os.path.join(home, ".config", "rapport"))
    dovecot = daemon = tb = controller = None
    try:
        dovecot = Dovecot(workdir)
        sink = Sink()
        smtp_port = free_port()
        controller = Controller(sink, hostname="127.0.0.1", port=smtp_port)
        controller.start()
        api_port = free_port()
        config = os.path.join(home, ".config", "rapport")
        with open(os.path.join(config, "rules.json"), "w") as f:
            json.dump(RULES, f)
        # The native host reads settings.json (found through HOME); rapportd runs from a copy, so
        # that the test can hand the add-on a wrong token without changing the daemon's.
        settings = os.path.join(config, "settings.json")
        settings_value = {"user": {"name": "Mia Marketing", "address": "mia@vendor.example"}, "rules": "rules.json",
                       "state_dir": os.path.join(workdir, "state"),
                       "api": {"port": api_port, "token_file": os.path.join(workdir, "state", "token")},
                       "mailboxes": [{"id": "work", "imap": {"host": "127.0.0.1", "port": dovecot.port, "security": "none",
                                                             "username": "mia", "password": "secret"},
                                      "folders": {"watch": ["INBOX", "Sent"]}}]}
        with open(settings, "w") as f:
            json.dump(settings_value, f)
        with open(os.path.join(config, "daemon-settings.json"), "w") as f:
            json.dump(settings_value, f)
        daemon = Daemon(os.path.join(config, "daemon-settings.json"))
        daemon.start(os.path.join(workdir, "rapportd.log"))
        token = open(os.path.join(workdir, "state", "token")).read().strip()

        # Pairing as a user of a build tree does it: the one-line install of the user manifest.
        env = {"PATH": "/usr/bin:/bin", "HOME": home, "LANG": "C.UTF-8", "TMPDIR": workdir}
        r = subprocess.run([f"{BIN}/rapportctl", "native-host", "--install"], env=env, capture_output=True, text=True)
        check(r.returncode == 0, f"rapportctl native-host --install: {r.stdout.strip()} {r.stderr.strip()}")

        marionette_port = free_port()
        t0 = time.time()
        tb = Thunderbird(workdir, env, profile_prefs(marionette_port, dovecot.port, smtp_port))
        m = Marionette(marionette_port, timeout=60)
        m.session()
        m.chrome()
        check(tb.wait_log("rapport: state connected", 30), "the add-on paired through the native host and connected")
        title = wait_status(m, "connected", 10)
        check(title == "Rapport: connected", f"the status indicator says connected: {title}")
        print(f"Thunderbird up and the add-on connected in {time.time() - t0:.1f} s", flush=True)

        # 1. To an Acme contact: the owner is copied, visibly, and in the envelope.
        compose_and_send(m, "Jane Doe <jane@acme.example>", "", "Rapport test 1", expect_visible="bob@vendor.example")
        got = sink.wait("Rapport test 1", 20)
        check(got is not None, "test 1 reached the sink")
        if got:
            check(cc_addresses(got[2]) == ["bob@vendor.example"], f"test 1: Cc is the owner once {cc_addresses(got[2])}")
            check(sorted(got[1]) == ["bob@vendor.example", "jane@acme.example"], f"test 1: envelope {got[1]}")

        # 1b. A recipient added just before Send: only onBeforeSend sees it, and adds the owner.
        m.script(OPEN_COMPOSE, ["ann@vendor.example", "", "Rapport test 1b"])
        check(m.async_script(WAIT_COMPOSE_READY, ["Rapport test 1b"], timeout_ms=35000), "test 1b: compose window ready")
        time.sleep(1.5)  # the add-on has looked at the window (internal: nothing to add)
        check(m.script(ADD_TO_AND_SEND, ["Rapport test 1b", "jane@acme.example"]), "test 1b: Jane added and Send pressed")
        got = sink.wait("Rapport test 1b", 20)
        check(got is not None, "test 1b reached the sink")
        if got:
            check(cc_addresses(got[2]) == ["bob@vendor.example"], f"test 1b: onBeforeSend added the owner {cc_addresses(got[2])}")
            check(sorted(got[1]) == ["ann@vendor.example", "bob@vendor.example", "jane@acme.example"], f"test 1b: envelope {got[1]}")
        check("before send, adding 1 owner(s)" in tb.log(), "test 1b: it was onBeforeSend that added him")

        # 1c. The user removes the owner the add-on put in: respected, with a notice.
        compose_and_send_later = "Rapport test 1c"
        m.script(OPEN_COMPOSE, ["jane@acme.example", "", compose_and_send_later])
        check(m.async_script(WAIT_COMPOSE_READY, [compose_and_send_later], timeout_ms=35000), "test 1c: compose window ready")
        deadline = time.time() + 8
        while time.time() < deadline and not any(r[1] == "bob@vendor.example" for r in (m.script(PILLS, [compose_and_send_later]) or [])):
            time.sleep(0.2)
        check(m.script(REMOVE_PILL, [compose_and_send_later, "bob@vendor.example"]), "test 1c: Bob removed from Cc")
        alerts = wait_alert(m, "Owner left out of Cc", 8)
        check(any("Owner left out of Cc" in a[0] and "Bob Rep" in a[1] for a in alerts), f"test 1c: the user is told {alerts}")
        time.sleep(1.5)  # the add-on looks again: Bob must stay out
        check(not any(r[1] == "bob@vendor.example" for r in (m.script(PILLS, [compose_and_send_later]) or [])), "test 1c: Bob not put back")
        check(m.script(SEND, [compose_and_send_later]), "test 1c: Send pressed")
        got = sink.wait(compose_and_send_later, 20)
        check(got is not None and cc_addresses(got[2]) == [] and got[1] == ["jane@acme.example"],
              f"test 1c: sent without Bob, as the user chose {got[1] if got else None}")

        # 2. The owner already in Cc: not added twice.
        compose_and_send(m, "jane@acme.example", "Bob Rep <bob@vendor.example>", "Rapport test 2")
        got = sink.wait("Rapport test 2", 20)
        check(got is not None, "test 2 reached the sink")
        if got:
            check(cc_addresses(got[2]) == ["bob@vendor.example"], f"test 2: Bob once in Cc {cc_addresses(got[2])}")

        # 3. Internal mail: nothing added.
        compose_and_send(m, "ann@vendor.example", "", "Rapport test 3")
        got = sink.wait("Rapport test 3", 20)
        check(got is not None, "test 3 reached the sink")
        if got:
            check(cc_addresses(got[2]) == [] and got[1] == ["ann@vendor.example"], f"test 3: nothing added {got[1]}")

        # rapportd restarts and the native host now hands out a wrong token: the status says so,
        # with its fix; once the token is right again the add-on is back by itself.
        wrong = os.path.join(workdir, "wrong-token")
        with open(wrong, "w") as f:
            f.write("0" * 64 + "\n")
        os.chmod(wrong, 0o600)
        with open(settings, "w") as f:
            json.dump({**settings_value, "api": {**settings_value["api"], "token_file": wrong}}, f)
        daemon.stop()
        daemon.start(os.path.join(workdir, "rapportd-2.log"))
        title = wait_status(m, "refused the token", 20)
        check(title and "refused the token" in title and "rapportctl token" in title, f"wrong token shown with its fix: {title}")
        with open(settings, "w") as f:
            json.dump(settings_value, f)
        title = wait_status(m, "connected", 30)
        check(title == "Rapport: connected", f"connected again after the restart: {title}")

        # 4. A nudge that comes due reaches the add-on and is shown as a notification; one with
        # a hostile 100 KB text is shown as one clipped line of text.
        nudges = asyncio.run(lose(api_port, token, "acme"))
        check(len(nudges) == 1, f"deal.lost planned one nudge {nudges}")
        asyncio.run(lose(api_port, token, "evil"))
        deadline = time.time() + 15
        alerts = []
        while time.time() < deadline:
            alerts = m.script(ALERTS) or []
            if any("Follow-up due" in a[0] for a in alerts):
                break
            time.sleep(0.2)
        check(any("Follow-up due" in a[0] and "Acme" in a[1] for a in alerts), f"the nudge_due notification is shown: {alerts}")
        check("rapport: notify nudge_due" in tb.log(), "the add-on logged the nudge_due")
        deadline = time.time() + 10
        evil = []
        while time.time() < deadline and not evil:
            evil = [a for a in (m.script(ALERTS) or []) if "onerror" in a[1]]
            time.sleep(0.2)
        check(len(evil) == 1 and len(evil[0][1]) <= 400 and evil[0][1].endswith("\u2026"),
              f"the hostile text is clipped: {len(evil[0][1]) if evil else None} characters")
        check(evil and '<img src=x onerror="alert(1)"><b>Evil</b>' in evil[0][1], "and shown as text, markup and all")

        # 4b. rapportd frozen (SIGSTOP: the connection stays open, nothing answers): the mail
        # waits at most the add-on's budget, then goes out.
        daemon.proc.send_signal(signal.SIGSTOP)
        try:
            started = compose_and_send(m, "jane@acme.example", "", "Rapport test 4b")
            got = sink.wait("Rapport test 4b", 20)
            took = time.time() - started
            # 2.5 s budget, plus the send itself on a loaded CI machine.
            check(got is not None and took < 5.5, f"test 4b: sent past a frozen rapportd in {took:.1f} s")
            alerts = wait_alert(m, "without Rapport", 5)
            check(any("did not answer within 2.5 s" in a[1] for a in alerts), f"test 4b: the user is told rapportd did not answer {alerts}")
        finally:
            daemon.proc.send_signal(signal.SIGCONT)

        # 5. rapportd stopped: the mail still goes out, within a few seconds, and the user is told.
        daemon.stop()
        title = wait_status(m, "not running", 10)
        check(title and "rapportd is not running" in title and "Start it" in title, f"daemon down shown with its fix: {title}")
        started = compose_and_send(m, "jane@acme.example", "", "Rapport test 5")
        got = sink.wait("Rapport test 5", 20)
        took = time.time() - started
        check(got is not None and took < 6, f"test 5 reached the sink without the daemon in {took:.1f} s")
        if got:
            check(got[1] == ["jane@acme.example"], f"test 5: sent as written {got[1]}")
        deadline = time.time() + 5
        while time.time() < deadline and not any("without Rapport" in a[0] and "not running" in a[1] for a in alerts):
            alerts = m.script(ALERTS) or []
            time.sleep(0.2)
        check(any("without Rapport" in a[0] and "rapportd is not running" in a[1] for a in alerts),
              f"the user is told the mail went out unchecked: {alerts}")
        m.close()
        tb.stop()

        # The popup, in a second Thunderbird whose extension pages chrome can read.
        daemon.start(os.path.join(workdir, "rapportd-3.log"))
        popup_phase(workdir, env, profile_prefs(marionette_port, dovecot.port, smtp_port), free_port(), api_port, token)
        print(f"whole run {time.time() - t0:.1f} s", flush=True)
    except (Exception, Interrupted) as e:  # a failure of the harness is a failed test, with the logs below
        check(False, f"the test ran through: {type(e).__name__}: {e}")
    finally:
        signal.alarm(0)
        if tb:
            tb.stop()
        if daemon:
            daemon.stop()
        if controller:
            controller.stop()
        if dovecot:
            dovecot.stop()
    if failed:
        for name in ("thunderbird-profile.log", "thunderbird-profile-pages.log", "rapportd.log"):
            path = os.path.join(workdir, name)
            if os.path.exists(path):
                print(f"--- {name} (last 80 lines)")
                print("\n".join(open(path, errors="replace").read().splitlines()[-80:]))
    shutil.rmtree(workdir, ignore_errors=True)
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
