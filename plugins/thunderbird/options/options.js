// Manual pairing: a port and a token (rapportctl token). Empty fields mean "pair through the
// native host"; an admin's managed storage wins over both.
import { el } from "../lib/text.js";
import { _, ask, clear, localize } from "../lib/page.js";

const $ = (id) => document.getElementById(id);

async function showStatus() {
  const s = await ask("status");
  const box = clear($("status"));
  box.append(el(document, "p", `Rapport: ${s.text}`, { class: s.state === "connected" ? "state-connected" : "state-bad" }));
  if (s.state !== "connected") box.append(el(document, "p", s.fix, { class: "fix" }));
}

async function init() {
  localize();
  const o = await browser.storage.local.get(["port", "token"]);
  $("port").value = o.port || "";
  $("token").value = o.token || "";
  $("save").addEventListener("click", async () => {
    const port = $("port").value.trim();
    const token = $("token").value.trim();
    if ((port || token) && !(Number(port) > 0 && Number(port) < 65536 && /^[0-9A-Za-z]{16,256}$/.test(token))) {
      $("result").textContent = _("options_invalid");
      return;
    }
    if (port) await browser.storage.local.set({ port: Number(port), token });
    else await browser.storage.local.remove(["port", "token"]);
    $("result").textContent = _("options_saved");
  });
  // The state is shown live, so a saved token's verdict appears by itself.
  await showStatus();
  setInterval(() => showStatus().catch(() => {}), 1000);
}

init();
