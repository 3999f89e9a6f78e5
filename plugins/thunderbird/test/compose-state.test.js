// The compose window's memory: owners added once, a removal by the user respected, whole Cc
// arrays written; and clip() for hostile daemon text.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ComposeState } from "../lib/compose-state.js";
import { addressOf } from "../lib/addresses.js";
import { clip } from "../lib/text.js";

const check = { add_cc: [{ address: "bob@vendor.example", name: "Bob Rep", account: "acme" }], notices: [] };

test("an owner is added once, visibly, and not again after the user removes them", () => {
  const st = new ComposeState();
  let details = { to: ["Jane Doe <jane@acme.example>"], cc: ["ann@vendor.example"], bcc: [] };
  assert.deepEqual(st.noticeRemovals(details), []);
  const missing = st.missing(details, check);
  assert.equal(missing.length, 1);
  details = { ...details, cc: st.ccWith(details, missing) };
  assert.deepEqual(details.cc, ["ann@vendor.example", '"Bob Rep" <bob@vendor.example>']);
  assert.deepEqual(st.missing(details, check), [], "present: not added twice");
  // Details read before our change landed (nothing confirmed then): not a removal.
  const early = new Set(st.confirmed);
  st.confirm(missing);
  assert.deepEqual(st.noticeRemovals({ ...details, cc: ["ann@vendor.example"] }, early), []);
  assert.equal(st.missing({ ...details, cc: ["ann@vendor.example"] }, check).length, 1, "so onBeforeSend still adds him");
  // The user deletes Bob from Cc.
  details = { ...details, cc: ["ann@vendor.example"] };
  const removed = st.noticeRemovals(details);
  assert.deepEqual(removed.map((r) => r.address), ["bob@vendor.example"]);
  assert.deepEqual(st.missing(details, check), [], "a removal is respected");
  assert.deepEqual(st.declined(check).map((c) => c.address), ["bob@vendor.example"]);
  assert.deepEqual(st.noticeRemovals(details), [], "the notice is given once");
});

test("an owner already among the recipients under another spelling is not added", () => {
  const st = new ComposeState();
  const details = { to: ["jane@acme.example"], cc: ["Bob <BOB@Vendor.Example>"] };
  assert.deepEqual(st.missing(details, check), []);
  assert.equal(addressOf(' "Rep, Bob" <bob@vendor.example> '), "bob@vendor.example");
});

test("clip: hostile 100 KB markup becomes one bounded line of text", () => {
  const hostile = `<script>alert(1)</script>\u0000\u001b[31m${"<b>x</b>".repeat(12800)}`;
  assert.ok(hostile.length > 100000);
  const out = clip(hostile);
  assert.ok(out.length <= 400);
  assert.ok(!/[\u0000-\u001f]/.test(out));
  assert.ok(out.endsWith("\u2026"));
  assert.equal(clip(null), "");
  assert.equal(clip({ toString: () => "obj" }), "obj");
});
