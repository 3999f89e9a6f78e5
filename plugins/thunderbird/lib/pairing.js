// Where the daemon is, in CONTRACT.md's order: managed storage (an admin's policy), the options
// page, then the native-messaging host `rapport` (rapportctl reads the user's settings).
// Returns {port, token, source} or null, with the reason in `lastReason`.

export const NATIVE_HOST = "rapport";
export let lastReason = "";

function valid(port, token) {
  const p = Number(port);
  return Number.isInteger(p) && p > 0 && p < 65536 && typeof token === "string" && /^[0-9A-Za-z]{16,256}$/.test(token.trim());
}

export async function findConnection(browser) {
  try {
    const m = await browser.storage.managed.get(["port", "token"]);
    if (m && valid(m.port, m.token)) return { port: Number(m.port), token: m.token.trim(), source: "managed" };
  } catch {
    // No managed storage manifest or policy: the usual case.
  }
  const o = await browser.storage.local.get(["port", "token"]);
  if (o && valid(o.port, o.token)) return { port: Number(o.port), token: o.token.trim(), source: "options" };
  try {
    const answer = await browser.runtime.sendNativeMessage(NATIVE_HOST, { method: "connection" });
    if (answer && valid(answer.port, answer.token)) {
      lastReason = "";
      return { port: Number(answer.port), token: answer.token.trim(), user: answer.user, source: "native" };
    }
    lastReason = answer && typeof answer.error === "string" ? answer.error.slice(0, 300) : "the native host gave no port and token";
  } catch (e) {
    lastReason = `native host "${NATIVE_HOST}" not found (${String(e && e.message ? e.message : e).slice(0, 200)})`;
  }
  throw new Error(lastReason);
}
