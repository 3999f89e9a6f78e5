// The compose window's button: who owns the recipients' accounts (already in Cc), owners the
// user took out, and compose.check's notices (lost, reference, prospect, domain-only, …).
import { el } from "../lib/text.js";
import { _, ask, clear, showError } from "../lib/page.js";

async function render() {
  const content = clear(document.getElementById("content"));
  try {
    const [tab] = await browser.tabs.query({ active: true, currentWindow: true });
    const { check, copied, declined } = await ask("compose", { tabId: tab.id });
    // Owners the add-on put into Cc, and any it is still about to add.
    const added = [...copied, ...(check.add_cc || []).filter((c) => !copied.some((p) => p.address === c.address))];
    const notices = check.notices || [];
    if (!added.length && !notices.length && !declined.length) content.append(el(document, "p", _("compose_nothing"), { class: "muted" }));
    if (added.length) {
      content.append(el(document, "h2", _("compose_copied")));
      const ul = el(document, "ul", null, { id: "copied" });
      for (const c of added) ul.append(el(document, "li", `${c.name} <${c.address}>${c.reason ? ` — ${c.reason}` : ""}`));
      content.append(ul);
    }
    if (declined.length) {
      content.append(el(document, "h2", _("compose_declined")));
      const ul = el(document, "ul", null);
      for (const c of declined) ul.append(el(document, "li", `${c.name} <${c.address}>`));
      content.append(ul);
    }
    if (notices.length) {
      content.append(el(document, "h2", _("compose_notices")));
      const ul = el(document, "ul", null, { id: "notices" });
      for (const n of notices) ul.append(el(document, "li", n.text, { class: `notice-${String(n.kind).replace(/[^a-z_]/g, "")}` }));
      content.append(ul);
    }
  } catch (e) {
    showError(content, e);
  }
}

render();
