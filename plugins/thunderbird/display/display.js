// The displayed message's accounts: owner, stage, champions, each contact's state; mark the
// account lost (competitor, their delivery date) or reopen it.
import { el } from "../lib/text.js";
import { _, ask, clear, showError } from "../lib/page.js";

const content = document.getElementById("content");

function accountBlock(account, health, people) {
  const box = el(document, "section", null, { class: "account" });
  box.append(el(document, "h2", `${account.name} (${account.id})`));
  if (account.owner) box.append(el(document, "div", _("display_owner", [account.owner.name])));
  box.append(el(document, "div", _("display_stage", [account.stage])));
  // Champions and contact states from accounts.health; without it, what lookup says of the
  // people in this message.
  const contacts = health
    ? health.contacts.map((c) => ({ name: c.name, address: c.address, champion: c.champion, state: c.state, last: c.last_in }))
    : people.map((p) => ({ name: p.contact ? p.contact.name : "", address: p.address, champion: p.contact && p.contact.champion,
                           state: p.match === "contact" ? _("display_listed") : _("display_domain_only"), last: p.last_contact }));
  const champions = contacts.filter((c) => c.champion).map((c) => c.name || c.address);
  if (champions.length) box.append(el(document, "div", _("display_champions", [champions.join(", ")])));
  const ul = el(document, "ul", null);
  for (const c of contacts.slice(0, 30))
    ul.append(el(document, "li", `${c.name || c.address} <${c.address}> — ${c.state}${c.last ? `, ${_("display_last", [c.last])}` : ""}`));
  box.append(ul);
  // Both actions always: the rules' stage may lag behind a loss recorded through the API.
  const competitor = el(document, "input", null, { class: "competitor", placeholder: _("label_competitor"), maxlength: 200 });
  const delivery = el(document, "input", null, { class: "delivery", type: "date", title: _("label_delivery") });
  const result = el(document, "p", null, { class: "result" });
  box.append(competitor, delivery);
  box.append(el(document, "button", _("button_lost"), {
    class: "lost",
    onclick: () => run(result, "lost", { account: account.id, competitor: competitor.value.trim(), delivery: delivery.value },
      (r) => _("display_lost_done", [account.name, String(r.nudges.length)])),
  }));
  box.append(el(document, "button", _("button_reopen"), {
    class: "reopen",
    onclick: () => run(result, "reopen", { account: account.id }, () => _("display_reopened", [account.name])),
  }));
  box.append(result);
  return box;
}

async function run(result, type, params, say) {
  try {
    result.textContent = say(await ask(type, params));
  } catch (e) {
    showError(result, e);
  }
}

async function render() {
  clear(content);
  try {
    const [tab] = await browser.tabs.query({ active: true, currentWindow: true });
    const info = await ask("displayed", { tabId: tab.id });
    if (!info.accounts.length) content.append(el(document, "p", _("display_none"), { class: "muted" }));
    for (const { account, health, people } of info.accounts) content.append(accountBlock(account, health, people || []));
  } catch (e) {
    showError(content, e);
  }
}

render();
