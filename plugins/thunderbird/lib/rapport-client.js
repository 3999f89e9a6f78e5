// The add-on's only JSON-RPC client of rapportd (docs/api.md): connect, hello with the token,
// subscribe after the last notification seen, reconnect with backoff. It runs unchanged in the
// background page and under `node --test` (any WebSocket constructor with the browser's API).

export const PROTOCOL = 1;

// What the status indicator shows; each state has a one-line fix in _locales/en.
export const State = Object.freeze({
  CONNECTING: "connecting",
  CONNECTED: "connected",
  NOT_PAIRED: "not_paired", // no port/token from managed storage, options or the native host
  DAEMON_DOWN: "daemon_down", // nothing answers on the port
  WRONG_TOKEN: "wrong_token", // the daemon closed with 1008 after hello
  OLD_DAEMON: "old_daemon", // the daemon speaks another protocol version
});

export class RpcError extends Error {
  constructor(message, code, data) {
    super(message);
    this.name = "RpcError";
    this.code = code;
    this.data = data;
  }
}

// Thrown for calls that cannot reach the daemon (not connected, timed out, connection lost).
export class UnavailableError extends Error {
  constructor(message, state) {
    super(message);
    this.name = "UnavailableError";
    this.state = state;
  }
}

const CLOSE_POLICY = 1008;

export class RapportClient {
  // options:
  //   findConnection: async () => ({port, token}) | null  (asked before every attempt)
  //   onNotify(params), onState(state, detail)
  //   lastSeen(): the id of the last notification handled (subscribe after it)
  //   WebSocket, setTimeout, clearTimeout: injectable for tests
  //   client, version: sent in hello
  //   backoff: [ms…] delays between attempts (the last one repeats)
  constructor(options) {
    this.o = {
      WebSocket: globalThis.WebSocket,
      setTimeout: globalThis.setTimeout.bind(globalThis),
      clearTimeout: globalThis.clearTimeout.bind(globalThis),
      client: "thunderbird",
      version: "0",
      backoff: [500, 1000, 2000, 5000, 10000, 30000],
      onNotify: () => {},
      onState: () => {},
      lastSeen: () => 0,
      ...options,
    };
    this.state = State.CONNECTING;
    this.detail = "";
    this.hello = null;
    this.ws = null;
    this.nextId = 1;
    this.pending = new Map();
    this.attempt = 0;
    this.stopped = true;
    this.retryTimer = null;
    this.waiters = new Set();
  }

  start() {
    if (!this.stopped) return;
    this.stopped = false;
    this.connect();
  }

  stop() {
    this.stopped = true;
    if (this.retryTimer) this.o.clearTimeout(this.retryTimer);
    this.retryTimer = null;
    if (this.ws) this.ws.close(1000);
    this.ws = null;
  }

  // Connects again now (after the options changed, or a wake-up), not after the backoff.
  reconnect() {
    if (this.stopped) return;
    if (this.retryTimer) this.o.clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.attempt = 0;
    if (this.ws) {
      const old = this.ws;
      this.ws = null;
      old.close(1000);
      this.failPending(new UnavailableError("reconnecting", State.CONNECTING));
    }
    this.connect();
  }

  // Resolves true once connected, false after timeoutMs (never rejects). With failFast it
  // resolves false as soon as an attempt fails (for a send that must not wait in vain).
  waitConnected(timeoutMs, { failFast = false } = {}) {
    if (this.state === State.CONNECTED) return Promise.resolve(true);
    return new Promise((resolve) => {
      const waiter = (ok) => {
        this.o.clearTimeout(timer);
        this.waiters.delete(waiter);
        resolve(ok);
      };
      waiter.failFast = failFast;
      const timer = this.o.setTimeout(() => waiter(false), timeoutMs);
      this.waiters.add(waiter);
    });
  }

  call(method, params = {}, { timeoutMs = 10000 } = {}) {
    if (this.state !== State.CONNECTED || !this.ws)
      return Promise.reject(new UnavailableError(`rapportd is not connected (${this.state})`, this.state));
    return this.send(this.ws, method, params, timeoutMs);
  }

  // Internals.

  setState(state, detail = "") {
    const changed = state !== this.state || detail !== this.detail;
    this.state = state;
    this.detail = detail;
    for (const w of [...this.waiters]) {
      if (state === State.CONNECTED) w(true);
      else if (w.failFast && state !== State.CONNECTING) w(false);
    }
    if (changed) this.o.onState(state, detail);
  }

  send(ws, method, params, timeoutMs) {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = this.o.setTimeout(() => {
        this.pending.delete(id);
        reject(new UnavailableError(`rapportd did not answer ${method} within ${timeoutMs} ms`, this.state));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer, ws });
      try {
        ws.send(JSON.stringify({ jsonrpc: "2.0", id, method, params }));
      } catch (e) {
        this.o.clearTimeout(timer);
        this.pending.delete(id);
        reject(new UnavailableError(`cannot send to rapportd: ${e.message}`, this.state));
      }
    });
  }

  failPending(error, ws = null) {
    for (const [id, p] of this.pending) {
      if (ws && p.ws !== ws) continue;
      this.o.clearTimeout(p.timer);
      this.pending.delete(id);
      p.reject(error);
    }
  }

  scheduleRetry() {
    if (this.stopped || this.retryTimer) return;
    const b = this.o.backoff;
    const delay = b[Math.min(this.attempt, b.length - 1)];
    this.attempt++;
    this.retryTimer = this.o.setTimeout(() => {
      this.retryTimer = null;
      this.connect();
    }, delay);
  }

  async connect() {
    if (this.stopped) return;
    let where;
    try {
      where = await this.o.findConnection();
    } catch (e) {
      where = null;
      this.detail = String(e && e.message ? e.message : e);
    }
    if (this.stopped) return;
    if (!where || !where.port || !where.token) {
      this.setState(State.NOT_PAIRED, this.detail);
      this.scheduleRetry();
      return;
    }
    let ws;
    try {
      ws = new this.o.WebSocket(`ws://127.0.0.1:${Number(where.port)}/`);
    } catch (e) {
      this.setState(State.DAEMON_DOWN, String(e.message || e));
      this.scheduleRetry();
      return;
    }
    this.ws = ws;
    let opened = false;
    let helloDone = false;
    ws.onopen = async () => {
      opened = true;
      try {
        const result = await this.send(ws, "hello", { token: where.token, client: this.o.client, version: this.o.version }, 5000);
        if (ws !== this.ws) return;
        if (result.protocol !== PROTOCOL) {
          this.setState(State.OLD_DAEMON, `rapportd ${result.version} speaks protocol ${result.protocol}; this add-on speaks ${PROTOCOL}`);
          this.stopped || ws.close(1000);
          return;
        }
        helloDone = true;
        this.hello = result;
        const sub = await this.send(ws, "subscribe", { after: this.o.lastSeen() }, 10000);
        if (ws !== this.ws) return;
        this.attempt = 0;
        this.subscribed = sub;
        this.setState(State.CONNECTED, `${result.server} ${result.version}`);
      } catch (e) {
        if (e instanceof RpcError && ws === this.ws) {
          // A daemon without hello (or with another one) is not ours to talk to.
          this.setState(State.OLD_DAEMON, e.message);
          ws.close(1000);
        }
      }
    };
    ws.onmessage = (event) => {
      if (ws !== this.ws) return;
      let frame;
      try {
        frame = JSON.parse(typeof event.data === "string" ? event.data : "");
      } catch {
        return; // not JSON: ignore the frame, keep the connection
      }
      if (!frame || typeof frame !== "object") return;
      if (frame.method === "notify" && frame.params && typeof frame.params === "object") {
        try {
          this.o.onNotify(frame.params);
        } catch (e) {
          console.error("rapport: a notification handler failed", e);
        }
        return;
      }
      const p = this.pending.get(frame.id);
      if (!p) return;
      this.pending.delete(frame.id);
      this.o.clearTimeout(p.timer);
      if (frame.error) p.reject(new RpcError(String(frame.error.message || "error"), frame.error.code, frame.error.data));
      else p.resolve(frame.result);
    };
    // Ends this connection once, whichever comes first: close, an error before opening (some
    // WebSocket implementations send no close event then), or no upgrade within 5 s (a frozen
    // daemon).
    let ended = false;
    const end = (code) => {
      if (ended) return;
      ended = true;
      this.o.clearTimeout(openTimer);
      if (ws !== this.ws) return;
      this.ws = null;
      try {
        ws.close(1000);
      } catch {
        // already closed
      }
      this.failPending(new UnavailableError("the connection to rapportd closed", State.DAEMON_DOWN), ws);
      if (this.stopped) return;
      if (this.state === State.OLD_DAEMON) {
        // Retried slowly: the daemon may be upgraded and restarted.
        this.scheduleRetry();
        return;
      }
      if (opened && !helloDone && code === CLOSE_POLICY) this.setState(State.WRONG_TOKEN, "rapportd refused the token");
      else if (!opened) this.setState(State.DAEMON_DOWN, `nothing answers on 127.0.0.1:${where.port}`);
      else this.setState(State.DAEMON_DOWN, `rapportd closed the connection (${code})`);
      this.scheduleRetry();
    };
    const openTimer = this.o.setTimeout(() => opened || end(1006), 5000);
    ws.onclose = (event) => end(event.code);
    ws.onerror = () => opened || end(1006);
  }
}
