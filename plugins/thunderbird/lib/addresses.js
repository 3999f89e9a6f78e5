// Recipients as compose details carry them: strings ("Name <addr>") or contact references.
// The add-on compares addresses, so each recipient reduces to its lower-case address.

// The address part of "Name <addr>" or a bare address; "" when there is none. Thunderbird's own
// parser (messengerUtilities.parseMailboxString) is used where available; this one serves the
// comparisons, which only need the part between the last <> or the whole string.
export function addressOf(recipient) {
  if (typeof recipient !== "string") return "";
  const s = recipient.trim();
  const open = s.lastIndexOf("<");
  const close = s.lastIndexOf(">");
  const inner = open >= 0 && close > open ? s.slice(open + 1, close) : s;
  return inner.trim().toLowerCase();
}

export function asList(field) {
  if (Array.isArray(field)) return field.filter((r) => typeof r === "string");
  if (typeof field === "string" && field.trim()) return [field];
  return [];
}

export function allRecipients(details) {
  return [...asList(details.to), ...asList(details.cc), ...asList(details.bcc)];
}

export function formatMailbox(name, address) {
  const clean = String(name || "").replace(/[<>"\\]/g, "").trim();
  return clean ? `"${clean}" <${address}>` : address;
}
