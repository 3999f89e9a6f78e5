// What the add-on remembers about one compose window: which owners it put into Cc and which of
// those the user took out again (respected from then on, with a notice). Pure: no browser API.
import { addressOf, allRecipients, asList, formatMailbox } from "./addresses.js";

export class ComposeState {
  constructor() {
    this.added = new Map(); // address -> {name, account, reason}
    this.confirmed = new Set(); // added owners seen among the recipients since
    this.removedByUser = new Set();
    this.last = null; // the last compose.check result shown
  }

  // Owners whose addition is known to be in the window (setComposeDetails has resolved, or a
  // look saw them there).
  confirm(owners) {
    for (const o of owners) this.confirmed.add(String(o.address).toLowerCase());
  }

  // Call with the current details before deciding: a confirmed owner who is gone now was
  // removed by the user. Details that may have been read before our own change landed (those
  // of onBeforeSend) pass the confirmations made before they were read.
  noticeRemovals(details, confirmed = this.confirmed) {
    const present = new Set(allRecipients(details).map(addressOf));
    const removed = [];
    for (const [address, who] of this.added) {
      if (present.has(address)) {
        this.confirmed.add(address);
      } else if (confirmed.has(address) && !this.removedByUser.has(address)) {
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
      this.added.set(String(o.address).toLowerCase(), { name: o.name, account: o.account, reason: o.reason });
    }
    return cc;
  }

  // Owners the user removed who compose.check still names (for the notice).
  declined(check) {
    return ((check && check.add_cc) || []).filter((c) => this.removedByUser.has(String(c.address || "").toLowerCase()));
  }
}
