// The add-on's background page (MV2, persistent: see README.md for why). It owns the one
// connection to rapportd, shows its notifications, keeps owners in Cc while composing and makes
// the final check before a message is sent.
import { RapportClient, State, UnavailableError } from "./lib/rapport-client.js";
import { findConnection } from "./lib/pairing.js";
import { clip, MAX_TITLE } from "./lib/text.js";
import { addressOf, asList, allRecipients } from "./lib/addresses.js";
import { ComposeState } from "./lib/compose-state.js";

const _ = (key, subs) => browser.i18n.getMessage(key, subs) || key;
const VERSION = browser.runtime.getManifest().version;
// onBeforeSend never holds a message longer than this (the issue allows 3 s in all).
const SEND_BUDGET_MS = 2500;
const SHOWN_KINDS = new Set(["nudge_due", "summary_draft", "contact_changed", "owner_not_copied", "lost_account_wrote", "loss_signal"]);

let lastSeen = 0;
const recent = []; // the last notifications shown, newest first (for the popup and tests)
const clickActions = new Map(); // system notification id -> what a click does
const composeTabs = new Map(); // tab id -> ComposeState

const client = new RapportClient({
  client: "thunderbird",
  version: VERSION,
  findConnection: () => findConnection(browser),
  lastSeen: () => lastSeen,
  onNotify: handleNotification,
  onState: showState,
});

// Status indicator: the toolbar button's badge and title say the state and its one-line fix.
function stateText(state = client.state, detail = client.detail) {
  return { state, text: _(`state_${state}`), fix: _(`fix_${state}`), detail: clip(detail, 300), user: client.hello && client.hello.user };
}

function showState(state, detail) {
  const s = stateText(state, detail);
  const ok = state === State.CONNECTED;
  browser.browserAction.setBadgeText({ text: ok ? "" : "!" });
  browser.browserAction.setBadgeBackgroundColor({ color: ok ? "#2e7d32" : "#c62828" });
  browser.browserAction.setTitle({ title: ok ? `Rapport: ${s.text}` : `Rapport: ${s.text} — ${s.fix}` });
  console.log(`rapport: state ${state}${detail ? ` (${clip(detail, 200)})` : ""}`);
  if (ok) refreshNudgeBadge();
}

async function refreshNudgeBadge() {
  try {
    const { nudges } = await client.call("nudges.list", { state: "due" });
    if (nudges.length) browser.browserAction.setBadgeText({ text: String(Math.min(nudges.length, 99)) });
  } catch {
    // The state badge stays.
  }
}

// Notifications: stored by the daemon and replayed on subscribe, so only ids above the last one
// handled are shown; the id is kept across restarts of Thunderbird.
async function handleNotification(n) {
  const id = Number(n.id);
  if (!Number.isInteger(id) || id <= lastSeen) return;
  lastSeen = id;
  browser.storage.local.set({ lastSeen: id });
  const kind = clip(n.kind, 40);
  if (!SHOWN_KINDS.has(kind)) return;
  // Old news (replayed after a long absence) is listed in the popup, not popped up one by one.
  const age = Date.now() - Date.parse(n.time || "");
  const title = clip(_(`kind_${kind}`), MAX_TITLE);
  const message = clip(n.text);
  recent.unshift({ id, kind, title, message, time: clip(n.time, 40), account: clip(n.account, 80), draft: clip(n.draft, 100), subject: clip(n.subject, 200) });
  recent.length = Math.min(recent.length, 50);
  console.log(`rapport: notify ${kind} #${id}: ${clip(message, 200)}`);
  if (kind === "nudge_due") refreshNudgeBadge();
  if (age > 24 * 3600 * 1000) return;
  const notificationId = `rapport-${id}`;
  if (kind === "summary_draft") clickActions.set(notificationId, { openDraft: clip(n.draft, 100), subject: clip(n.subject, 200) });
  try {
    await browser.notifications.create(notificationId, {
      type: "basic",
      title,
      message: kind === "summary_draft" ? `${message}\n${_("click_to_open_draft")}` : message,
      iconUrl: "icons/rapport.svg",
    });
  } catch (e) {
    console.error("rapport: cannot show a notification", e);
  }
}

browser.notifications.onClicked.addListener(async (notificationId) => {
  const action = clickActions.get(notificationId);
  if (action && action.openDraft) await openDraft(action.openDraft, action.subject);
  else browser.browserAction.openPopup?.();
  const id = Number(notificationId.replace("rapport-", ""));
  if (id) client.call("notifications.ack", { id }).catch(() => {});
});

// A summary draft is found in a Drafts folder by its subject, then by its X-Rapport-Draft header.
async function openDraft(draftId, subject) {
  try {
    const list = await browser.messages.query({ subject: subject || undefined });
    for (const m of list.messages || []) {
      if (!m.folder || (m.folder.type !== "drafts" && !(m.folder.specialUse || []).includes("drafts"))) continue;
      const full = await browser.messages.getFull(m.id);
      const header = (full.headers && full.headers["x-rapport-draft"]) || [];
      if (header.some((h) => h.trim() === draftId)) {
        await browser.compose.beginNew(m.id);
        return true;
      }
    }
    notifyUser(_("draft_not_found_title"), _("draft_not_found", [clip(subject, 200)]));
  } catch (e) {
    notifyUser(_("draft_not_found_title"), clip(e.message));
  }
  return false;
}

function notifyUser(title, message) {
  browser.notifications.create({ type: "basic", title: clip(title, MAX_TITLE), message: clip(message), iconUrl: "icons/rapport.svg" }).catch(() => {});
}

// Compose: who owns the accounts among the recipients; owners go into Cc as soon as the
// recipients name them, visibly; a removal by the user is respected.
function composeStateOf(tabId) {
  if (!composeTabs.has(tabId)) composeTabs.set(tabId, new ComposeState());
  return composeTabs.get(tabId);
}

function checkParams(details) {
  return { from: typeof details.from === "string" ? details.from : "", to: asList(details.to), cc: asList(details.cc), bcc: asList(details.bcc) };
}

// One review at a time per window: a second one would read the recipients while the first is
// writing them.
function reviewCompose(tabId) {
  const st = composeStateOf(tabId);
  if (!st.reviewing) st.reviewing = reviewNow(tabId, st).finally(() => (st.reviewing = null));
  return st.reviewing;
}

async function reviewNow(tabId, st) {
  const details = await browser.compose.getComposeDetails(tabId);
  const removed = st.noticeRemovals(details);
  for (const r of removed) notifyUser(_("owner_removed_title"), _("owner_removed", [clip(r.name, 80), clip(r.account, 80)]));
  const key = JSON.stringify([details.from, allRecipients(details).map(addressOf).sort()]);
  if (key === st.lastKey && !removed.length) return st.last;
  st.lastKey = key;
  if (!allRecipients(details).length) {
    st.last = { add_cc: [], notices: [] };
  } else {
    st.last = await client.call("compose.check", checkParams(details), { timeoutMs: 5000 });
    const missing = st.missing(details, st.last);
    if (missing.length) {
      await browser.compose.setComposeDetails(tabId, { cc: st.ccWith(details, missing) });
      st.confirm(missing);
      st.lastKey = null; // the Cc changed: look again next time
    }
  }
  const notices = (st.last.notices || []).length + st.declined(st.last).length;
  browser.composeAction.setBadgeText({ tabId, text: notices ? String(notices) : "" });
  const owners = (st.last.add_cc || []).map((c) => clip(c.name || c.address, 80)).join(", ");
  browser.composeAction.setTitle({ tabId, title: owners ? _("compose_owners", [owners]) : _("compose_title") });
  return st.last;
}

async function reviewAllComposeTabs() {
  if (client.state !== State.CONNECTED) return;
  const tabs = await browser.tabs.query({ type: "messageCompose" });
  for (const t of tabs) {
    try {
      await reviewCompose(t.id);
    } catch (e) {
      // A window that closed (sent) between the query and the look is not an error.
      if (!(e instanceof UnavailableError) && !/Invalid tab ID/.test(String(e && e.message))) console.error("rapport: compose review failed", e);
    }
  }
}

// Thunderbird has no recipients-changed event: the compose state event covers the first
// recipient, a one-second look at open compose windows covers the rest.
browser.compose.onComposeStateChanged.addListener((tab) => reviewCompose(tab.id).catch(() => {}));
setInterval(reviewAllComposeTabs, 1000);
browser.tabs.onRemoved.addListener((tabId) => composeTabs.delete(tabId));

// The final check. It waits at most SEND_BUDGET_MS for the daemon; when the daemon is down or
// slow the message goes out as it is and the user is told.
browser.compose.onBeforeSend.addListener(async (tab, details) => {
  const started = Date.now();
  // Owners whose addition had landed before this send began: only their absence is the user's.
  const confirmedBefore = new Set(composeStateOf(tab.id).confirmed);
  const left = () => Math.max(0, SEND_BUDGET_MS - (Date.now() - started));
  try {
    if (!allRecipients(details).length) return {};
    if (client.state !== State.CONNECTED) {
      // Known to be away: one fresh attempt (rapportd may be back), not a wait for the backoff.
      client.reconnect();
      if (!(await client.waitConnected(left(), { failFast: true }))) throw new UnavailableError("not connected", client.state);
    }
    const check = await client.call("compose.check", checkParams(details), { timeoutMs: Math.max(1, left()) });
    const st = composeStateOf(tab.id);
    st.noticeRemovals(details, confirmedBefore);
    const missing = st.missing(details, check);
    console.log(`rapport: before send, adding ${missing.length} owner(s) in ${Date.now() - started} ms`);
    if (!missing.length) return {};
    return { details: { cc: st.ccWith(details, missing) } };
  } catch (e) {
    console.log(`rapport: sent without the owner check (${e.message})`);
    const s = stateText();
    const why = s.state === State.CONNECTED ? _("sent_unchecked_slow", [String(SEND_BUDGET_MS / 1000)]) : _("sent_unchecked", [s.text, s.fix]);
    notifyUser(_("sent_unchecked_title"), why);
    return {};
  }
});

// Pages (popups, options) ask the background; every answer is data, shown as text.
// The tab that showed a message last: the page opened on its own (not as the message's popup)
// describes that message.
let lastDisplayTab = null;

async function displayedInfo(tabId) {
  let message = await browser.messageDisplay.getDisplayedMessage(tabId).catch(() => null);
  if (!message && lastDisplayTab !== null) message = await browser.messageDisplay.getDisplayedMessage(lastDisplayTab).catch(() => null);
  if (!message) return { people: [], accounts: [] };
  const addresses = [message.author, ...(message.recipients || []), ...(message.ccList || [])].filter((a) => typeof a === "string").slice(0, 200);
  const { results } = await client.call("lookup", { addresses });
  const accounts = new Map();
  for (const r of results) if (r.account && !accounts.has(r.account.id)) accounts.set(r.account.id, r.account);
  const out = [];
  for (const account of [...accounts.values()].slice(0, 10)) {
    let health = null;
    try {
      health = await client.call("accounts.health", { account: account.id });
    } catch {
      // A rapportd without accounts.health: the page shows what lookup says of the people.
    }
    const people = results.filter((r) => r.account && r.account.id === account.id);
    out.push({ account, health, people });
  }
  return { people: results, accounts: out };
}

const handlers = {
  status: async () => stateText(),
  reconnect: async () => {
    client.reconnect();
    return stateText();
  },
  nudges: async () => (await client.call("nudges.list", {})).nudges,
  nudge: async ({ action, id, duration }) => {
    const method = { done: "nudges.done", dismiss: "nudges.dismiss", snooze: "nudges.snooze" }[action];
    if (!method) throw new Error(`unknown nudge action ${action}`);
    const r = await client.call(method, action === "snooze" ? { id, for: duration || "P1D" } : { id });
    refreshNudgeBadge();
    return r;
  },
  recent: async () => recent,
  drafts: async () => (await client.call("drafts.list", {})).drafts,
  openDraft: async ({ id, subject }) => openDraft(id, subject),
  compose: async ({ tabId }) => {
    // From the compose window's button: that window. Opened on its own: the newest compose window.
    const tab = await browser.tabs.get(tabId).catch(() => null);
    if (!tab || tab.type !== "messageCompose") {
      const open = await browser.tabs.query({ type: "messageCompose" });
      if (!open.length) return { check: { add_cc: [], notices: [] }, copied: [], declined: [] };
      tabId = open[open.length - 1].id;
    }
    const check = await reviewCompose(tabId);
    const st = composeStateOf(tabId);
    const copied = [...st.added].filter(([address]) => !st.removedByUser.has(address)).map(([address, who]) => ({ address, ...who }));
    return { check, copied, declined: st.declined(check) };
  },
  displayed: async ({ tabId }) => displayedInfo(tabId),
  lost: async ({ account, competitor, delivery }) => {
    const params = { account };
    if (competitor) params.competitor = competitor;
    if (delivery) params.delivery = delivery;
    return client.call("deal.lost", params);
  },
  reopen: async ({ account }) => client.call("deal.reopen", { account }),
};

browser.runtime.onMessage.addListener((msg) => {
  const h = msg && handlers[msg.type];
  if (!h) return undefined;
  return h(msg).then(
    (result) => ({ ok: true, result }),
    (e) => ({ ok: false, error: clip(e.message || String(e), 300), code: e.code, state: stateText() }),
  );
});

browser.storage.onChanged.addListener((changes, area) => {
  if ((area === "local" && (changes.port || changes.token)) || area === "managed") client.reconnect();
});

// Message display: a badge on the message's button when it comes from or goes to a customer.
browser.messageDisplay.onMessageDisplayed.addListener(async (tab, message) => {
  lastDisplayTab = tab.id;
  try {
    const addresses = [message.author, ...(message.recipients || [])].filter((a) => typeof a === "string").slice(0, 200);
    const { results } = await client.call("lookup", { addresses }, { timeoutMs: 3000 });
    const account = results.find((r) => r.account);
    browser.messageDisplayAction.setBadgeText({ tabId: tab.id, text: account ? "\u2605" : "" });
    browser.messageDisplayAction.setTitle({ tabId: tab.id, title: account ? clip(`${account.account.name} — ${account.account.owner ? account.account.owner.name : ""}`, 120) : _("display_title") });
  } catch {
    // Not connected: the popup says so when opened.
  }
});

(async () => {
  const stored = await browser.storage.local.get("lastSeen");
  lastSeen = Number(stored.lastSeen) || 0;
  showState(client.state, "");
  client.start();
})();
