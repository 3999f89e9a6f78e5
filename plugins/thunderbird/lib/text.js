// Daemon text reaches the user only through these helpers: plain text (textContent, notification
// messages), never markup, and never longer than a person can read. A hostile 100 KB "text"
// becomes a clipped line; control characters are dropped.

export const MAX_TEXT = 400;
export const MAX_TITLE = 80;

export function clip(value, max = MAX_TEXT) {
  let s = typeof value === "string" ? value : value == null ? "" : String(value);
  if (s.length > max * 4) s = s.slice(0, max * 4); // bound the work below
  // C0/C1 controls (but keep newlines as spaces) would garble a notification.
  s = s.replace(/[\u0000-\u001f\u007f-\u009f]+/g, " ").trim();
  if (s.length > max) s = s.slice(0, max - 1).trimEnd() + "\u2026";
  return s;
}

// Builds an element with text only: the one way the add-on's pages show daemon data.
export function el(doc, tag, text, attrs = {}) {
  const node = doc.createElement(tag);
  if (text != null) node.textContent = clip(text, attrs.max || MAX_TEXT);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "max") continue;
    if (k === "class") node.className = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, String(v));
  }
  return node;
}
