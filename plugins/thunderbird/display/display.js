// The displayed message's accounts: owner, stage, champions, each contact's state; mark the
// account lost (competitor, their delivery date) or reopen it.
import { el } from "../lib/text.js";
import { _, ask, clear, showError } from "../lib/page.js";

const content = document.getElementById("content");

function accountBlock(account, health) {
  const box = el(document, "section", null);
  box.append(el(document, "h2", `${account.name} (${account.id})`));
  if (account.owner) box.append(el(document, "div", _("display_owner", [account.owner.name])));
  box.append(el(document, "div", _("display_stage", [account.stage])));
  if (health) {
    const champions = health.contacts.filter((c) => c.champion).map((c) => c.name || c.address);
    if (champions.length) box.append(el(document, "div", _("display_champions", [champions.join(", ")])));
    const ul = el(document, "ul", null);
    for (const c of health.contacts.slice(0, 30))
      ul.append(el(document, "li", `${c.name || c.address} <${c.address}> — ${c.state}${c.last_in ? `, last wrote ${c.last_in}` : ""}`));
    box.append(ul);
  }
  if (account.stage === "lost") {
    box.append(el(document, "button", _("button_reopen"), { onclick: () => run("reopen", { account: account.id }) }));
  } else {
    const competitor = el(document, "input", null, { placeholder: _("label_competitor"), maxlength: 200 });
    const delivery = el(document, "input", null, { type: "date", title: _("label_delivery") });
    box.append(competitor, delivery);
    box.append(el(document, "button", _("button_lost"), {
      onclick: () => run("lost", { account: account.id, competitor: competitor.value.trim(), delivery: delivery.value }),
    }));
  }
  return box;
}

async function run(type, params) {
  try {
    await ask(type, params);
    await render();
  } catch (e) {
    showError(content, e);
  }
}

async function render() {
  clear(content);
  try {
    const [tab] = await browser.tabs.query({ active: true, currentWindow: true });
    const info = await ask("displayed", { tabId: tab.id });
    if (!info.accounts.length) content.append(el(document, "p", _("display_none"), { class: "muted" }));
    for (const { account, health } of info.accounts) content.append(accountBlock(account, health));
  } catch (e) {
    showError(content, e);
  }
}

render();
