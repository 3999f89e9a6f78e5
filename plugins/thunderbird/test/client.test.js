// The add-on's JSON-RPC client against a real rapportd: pairing states, calls, notifications
// with subscribe-after catch-up, reconnecting after the daemon restarts, and a daemon of
// another protocol version (a fake one: the real daemon speaks only protocol 1).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";

const here = dirname(fileURLToPath(import.meta.url));

// The runner marks its children (NODE_TEST_CONTEXT); a nested run must report on its own.
function childEnv() {
  const env = { ...process.env };
  delete env.NODE_TEST_CONTEXT;
  return env;
}

if (typeof globalThis.WebSocket === "undefined") {
  // Node 20 has the browser's WebSocket behind a flag (Node 22 has it always): run this file
  // again with it and report its result as one test, with its output on failure.
  test("client tests (run again with --experimental-websocket)", () => {
    const r = spawnSync(process.execPath, ["--experimental-websocket", "--no-warnings", "--test", "--test-reporter=spec", fileURLToPath(import.meta.url)],
      { encoding: "utf8", timeout: 170000, env: childEnv() });
    process.stderr.write(r.stdout + r.stderr);
    assert.equal(r.status, 0, "the client tests failed (output above)");
  });
} else {
  const { RapportClient, State, RpcError, UnavailableError } = await import("../lib/rapport-client.js");
  const { Daemon, RULES, freePort } = await import("../testing/daemon.js");
  const { clip } = await import("../lib/text.js");

  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  async function until(what, predicate, ms = 10000) {
    const deadline = Date.now() + ms;
    while (Date.now() < deadline) {
      if (predicate()) return;
      await sleep(20);
    }
    assert.fail(`timed out waiting for ${what}`);
  }

  function makeClient(where, extra = {}) {
    const seen = { states: [], notes: [] };
    let last = extra.after || 0;
    const c = new RapportClient({
      findConnection: async () => (typeof where === "function" ? where() : where),
      onState: (s, d) => seen.states.push([s, d]),
      onNotify: (n) => {
        if (n.id <= last) return;
        last = n.id;
        seen.notes.push(n);
      },
      lastSeen: () => last,
      backoff: [100, 200, 400],
      version: "test",
      ...extra,
    });
    c.seen = seen;
    c.last = () => last;
    return c;
  }

  let daemon;
  const clients = [];
  before(async () => {
    daemon = await new Daemon(RULES).start();
  });
  after(async () => {
    for (const c of clients) c.stop();
    if (daemon) await daemon.remove();
  });

  test("hello with the token: connected, the daemon's user, calls answered", async () => {
    const c = makeClient({ port: daemon.port, token: daemon.token });
    clients.push(c);
    c.start();
    assert.equal(await c.waitConnected(5000), true);
    assert.equal(c.state, State.CONNECTED);
    assert.equal(c.hello.protocol, 1);
    assert.deepEqual(c.hello.user, { name: "Mia Marketing", address: "mia@vendor.example" });
    const check = await c.call("compose.check", { from: "mia@vendor.example", to: ["Jane Doe <jane@acme.example>"], cc: [], bcc: [] });
    assert.deepEqual(check.add_cc.map((a) => a.address), ["bob@vendor.example"]);
    assert.ok(check.notices.some((n) => n.kind === "reference"), JSON.stringify(check.notices));
    // The owner already in Cc is not named again.
    const again = await c.call("compose.check", { from: "mia@vendor.example", to: ["jane@acme.example"], cc: ["Bob <BOB@vendor.example>"], bcc: [] });
    assert.deepEqual(again.add_cc, []);
    // Internal mail: nobody.
    const internal = await c.call("compose.check", { from: "mia@vendor.example", to: ["bob@vendor.example"], cc: [], bcc: [] });
    assert.deepEqual(internal.add_cc, []);
    // A daemon error arrives as RpcError with its code.
    await assert.rejects(c.call("deal.reopen", { account: "nope" }), (e) => e instanceof RpcError && e.code === -32001);
    c.stop();
  });

  test("a wrong token is told as wrong_token, not as a daemon that is down", async () => {
    const c = makeClient({ port: daemon.port, token: "0".repeat(64) });
    clients.push(c);
    c.start();
    await until("wrong_token", () => c.state === State.WRONG_TOKEN);
    assert.equal(await c.waitConnected(300), false);
    await assert.rejects(c.call("status"), (e) => e instanceof UnavailableError);
    c.stop();
  });

  test("nothing on the port is daemon_down; no pairing at all is not_paired", async () => {
    const c = makeClient({ port: await freePort(), token: daemon.token });
    clients.push(c);
    c.start();
    await until("daemon_down", () => c.state === State.DAEMON_DOWN);
    // A send waits for one fresh attempt only, not for its whole budget.
    const t0 = Date.now();
    c.reconnect();
    assert.equal(await c.waitConnected(2500, { failFast: true }), false);
    assert.ok(Date.now() - t0 < 1000, `failFast gave up after ${Date.now() - t0} ms`);
    c.stop();
    const d = makeClient(() => { throw new Error("native host \"rapport\" not found"); });
    clients.push(d);
    d.start();
    await until("not_paired", () => d.state === State.NOT_PAIRED);
    assert.match(d.detail, /native host/);
    d.stop();
  });

  test("notifications arrive; after a daemon restart the client reconnects and catches up with subscribe after", async () => {
    const c = makeClient({ port: daemon.port, token: daemon.token });
    clients.push(c);
    c.start();
    assert.equal(await c.waitConnected(5000), true);
    const lost = await c.call("deal.lost", { account: "acme", competitor: "Initech" });
    assert.equal(lost.nudges.length, 2);
    await until("nudge_due", () => c.seen.notes.some((n) => n.kind === "nudge_due" && n.account === "acme"), 8000);
    const before = c.last();

    // Restart: the client goes to daemon_down, comes back by itself, and is told only what is new.
    await daemon.stop();
    await until("daemon_down after stop", () => c.state === State.DAEMON_DOWN);
    await daemon.start();
    await until("connected again", () => c.state === State.CONNECTED, 10000);
    const countBefore = c.seen.notes.length;
    await c.call("deal.lost", { account: "evil" });
    await until("the new nudge_due", () => c.seen.notes.some((n) => n.kind === "nudge_due" && n.account === "evil"), 8000);
    const fresh = c.seen.notes.slice(countBefore);
    assert.ok(fresh.every((n) => n.id > before), "no notification is told twice after reconnecting");
    const ids = c.seen.notes.map((n) => n.id);
    assert.deepEqual(ids, [...new Set(ids)].sort((a, b) => a - b));
    // The hostile account name reaches the add-on inside a text; clip() bounds and flattens it.
    const evil = fresh.find((n) => n.kind === "nudge_due");
    assert.ok(evil.text.length > 300);
    assert.ok(clip(evil.text).length <= 400);
    c.stop();

    // A client that was away (Thunderbird closed) gets what it missed, once.
    const away = makeClient({ port: daemon.port, token: daemon.token }, { after: before });
    clients.push(away);
    away.start();
    await until("replay", () => away.seen.notes.some((n) => n.kind === "nudge_due" && n.account === "evil"), 5000);
    assert.ok(away.seen.notes.every((n) => n.id > before));
    away.stop();
  });

  test("a daemon of another protocol version is old_daemon, and calls are refused", async () => {
    const port = await freePort();
    const fake = spawn("/usr/bin/python3", [join(here, "..", "testing", "other_protocol_daemon.py"), String(port)], { stdio: ["ignore", "pipe", "inherit"] });
    try {
      await new Promise((resolve, reject) => {
        fake.stdout.once("data", resolve);
        fake.once("exit", (code) => reject(new Error(`the fake daemon exited (${code})`)));
      });
      const c = makeClient({ port, token: "f".repeat(64) });
      clients.push(c);
      c.start();
      await until("old_daemon", () => c.state === State.OLD_DAEMON);
      assert.match(c.detail, /protocol 2/);
      await assert.rejects(c.call("status"), (e) => e instanceof UnavailableError);
      c.stop();
    } finally {
      fake.kill("SIGTERM");
    }
  });
}
