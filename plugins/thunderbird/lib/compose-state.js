// What the add-on remembers about one compose window: which owners it put into Cc and which of
// those the user took out again (respected from then on, with a notice). Pure: no browser API.
import { addressOf, allRecipients, asList, formatMailbox } from "./addresses.js";

export class ComposeState {
  constructor() {
    this.added = new Map(); // address -> {name, account}
    this.removedByUser = new Set();
    this.last = null; // the last compose.check result shown
  }

  // Call with the current details before deciding: an owner we added who is no longer among
  // the recipients was removed by the user.
  noticeRemovals(details) {
    const present = new Set(allRecipients(details).map(addressOf));
    const removed = [];
    for (const [address, who] of this.added) {
      if (!present.has(address) && !this.removedByUser.has(address)) {
        this.removedByUser.add(address);
        removed.push({ address, ...who });
      }
    }
    return removed;
  }

  // The owners of a compose.check result still to add: not present, not removed by the user.
  missing(details, check) {
    const present = new Set(allRecipients(details).map(addressOf));
    const out = [];
    const seen = new Set();
    for (const c of (check && check.add_cc) || []) {
      const address = String(c.address || "").toLowerCase();
      if (!address || present.has(address) || seen.has(address) || this.removedByUser.has(address)) continue;
      seen.add(address);
      out.push(c);
    }
    return out;
  }

  // The whole new Cc array with `owners` appended (compose details are written as whole arrays).
  ccWith(details, owners) {
    const cc = asList(details.cc).slice();
    for (const o of owners) {
      cc.push(formatMailbox(o.name, o.address));
      this.added.set(String(o.address).toLowerCase(), { name: o.name, account: o.account });
    }
    return cc;
  }

  // Owners the user removed who compose.check still names (for the notice).
  declined(check) {
    return ((check && check.add_cc) || []).filter((c) => this.removedByUser.has(String(c.address || "").toLowerCase()));
  }
}
