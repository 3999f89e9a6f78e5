// The toolbar popup: connection state with its fix, open follow-ups (done / snooze / dismiss),
// summary drafts and the latest notifications. Every daemon string is shown as text.
import { el } from "../lib/text.js";
import { _, ask, clear, localize, showError } from "../lib/page.js";

const $ = (id) => document.getElementById(id);

async function showStatus() {
  const s = await ask("status");
  const box = clear($("status"));
  const ok = s.state === "connected";
  box.append(el(document, "p", `Rapport: ${s.text}${ok && s.user ? ` (${s.user.name})` : ""}`, { class: ok ? "state-connected" : "state-bad" }));
  if (!ok) {
    box.append(el(document, "p", s.fix, { class: "fix" }));
    if (s.detail) box.append(el(document, "p", s.detail, { class: "muted" }));
    box.append(el(document, "button", _("popup_reconnect"), { onclick: async () => { await ask("reconnect"); setTimeout(render, 1000); } }));
  }
  return ok;
}

async function showNudges() {
  const list = clear($("nudges"));
  try {
    const nudges = await ask("nudges");
    if (!nudges.length) list.append(el(document, "li", _("popup_no_nudges"), { class: "muted" }));
    for (const n of nudges.slice(0, 50)) {
      const li = el(document, "li", null);
      li.append(el(document, "div", n.text));
      li.append(el(document, "div", `${n.account} · ${n.state} · ${n.due}`, { class: "muted" }));
      for (const [action, label] of [["done", "button_done"], ["snooze", "button_snooze"], ["dismiss", "button_dismiss"]])
        li.append(el(document, "button", _(label), { onclick: () => act(action, n.id) }));
      list.append(li);
    }
  } catch (e) {
    showError(list, e);
  }
}

async function act(action, id) {
  try {
    await ask("nudge", { action, id, duration: "P1D" });
    await showNudges();
  } catch (e) {
    showError($("nudges"), e);
  }
}

async function showDrafts() {
  const list = clear($("drafts"));
  try {
    const drafts = await ask("drafts");
    for (const d of drafts.slice(0, 10)) {
      const li = el(document, "li", null);
      li.append(el(document, "div", d.subject));
      li.append(el(document, "button", _("button_open"), { onclick: () => ask("openDraft", { id: d.id, subject: d.subject }) }));
      list.append(li);
    }
  } catch (e) {
    showError(list, e);
  }
}

async function showRecent() {
  const list = clear($("recent"));
  for (const n of (await ask("recent")).slice(0, 10)) {
    const li = el(document, "li", null);
    li.append(el(document, "div", n.title));
    li.append(el(document, "div", n.message, { class: "muted" }));
    list.append(li);
  }
}

async function render() {
  localize();
  const ok = await showStatus();
  if (ok) await Promise.all([showNudges(), showDrafts()]);
  await showRecent();
}

render();
