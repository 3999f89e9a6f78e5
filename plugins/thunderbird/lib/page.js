// Shared by the add-on's pages: ask the background, show text, say what went wrong.
import { el } from "./text.js";

export const _ = (key, subs) => browser.i18n.getMessage(key, subs) || key;

export async function ask(type, params = {}) {
  const answer = await browser.runtime.sendMessage({ type, ...params });
  if (!answer) throw new Error("the add-on's background did not answer");
  if (!answer.ok) {
    const e = new Error(answer.error);
    e.state = answer.state;
    throw e;
  }
  return answer.result;
}

export function clear(node) {
  while (node.firstChild) node.firstChild.remove();
  return node;
}

export function showError(node, e) {
  clear(node);
  node.append(el(document, "p", `${_("error_prefix")} ${e.message}`, { class: "error" }));
  if (e.state && e.state.state !== "connected") node.append(el(document, "p", `${e.state.text}: ${e.state.fix}`, { class: "fix" }));
}

export function localize(root = document) {
  for (const node of root.querySelectorAll("[data-i18n]")) node.textContent = _(node.dataset.i18n);
}
