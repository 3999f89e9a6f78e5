// Starts the real rapportd (build/bin/rapportd, or $RAPPORTD) on a free loopback port with a
// temporary settings and rules file, for the client tests. Stopped by pid in stop().
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync, rmSync, existsSync, openSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
export const RAPPORTD = process.env.RAPPORTD || join(here, "..", "..", "..", "build", "bin", "rapportd");

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export class Daemon {
  constructor(rules, user = { name: "Mia Marketing", address: "mia@vendor.example" }) {
    if (!existsSync(RAPPORTD)) throw new Error(`${RAPPORTD} does not exist: build it first (cmake --build build --target rapportd)`);
    this.dir = mkdtempSync(join(tmpdir(), "rapport-addon-"));
    this.rules = rules;
    this.user = user;
    this.proc = null;
    this.starts = 0;
  }

  async start() {
    if (!this.port) this.port = await freePort();
    writeFileSync(join(this.dir, "rules.json"), JSON.stringify(this.rules));
    writeFileSync(join(this.dir, "settings.json"), JSON.stringify({
      user: this.user, rules: "rules.json", state_dir: "state", api: { port: this.port, token_file: "state/token" },
    }));
    this.starts++;
    this.logFile = join(this.dir, `rapportd-${this.starts}.log`);
    const log = openSync(this.logFile, "w");
    this.proc = spawn(RAPPORTD, ["--config", join(this.dir, "settings.json")], { stdio: ["ignore", log, log] });
    const exited = new Promise((r) => this.proc.once("exit", r));
    this.exited = exited;
    const deadline = Date.now() + 15000;
    while (Date.now() < deadline) {
      if (readFileSync(this.logFile, "utf8").includes("rapportd running")) {
        this.token = readFileSync(join(this.dir, "state", "token"), "utf8").trim();
        return this;
      }
      if (this.proc.exitCode !== null) break;
      await sleep(20);
    }
    throw new Error(`rapportd did not start:\n${readFileSync(this.logFile, "utf8")}`);
  }

  async stop() {
    if (this.proc && this.proc.exitCode === null && this.proc.signalCode === null) {
      this.proc.kill("SIGTERM");
      const t = setTimeout(() => this.proc.kill("SIGKILL"), 10000);
      await this.exited;
      clearTimeout(t);
    }
  }

  async remove() {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export const RULES = {
  organization: { name: "Vendor Inc", domains: ["vendor.example"] },
  people: [
    { id: "bob", name: "Bob Rep", addresses: ["bob@vendor.example"], role: "rep" },
    { id: "mia", name: "Mia Marketing", addresses: ["mia@vendor.example"], role: "marketing" },
  ],
  accounts: [
    {
      id: "acme", name: "Acme Corp", domains: ["acme.example"], owner: "bob", reference: true, stage: "active",
      contacts: [{ address: "jane@acme.example", name: "Jane Doe", champion: true }],
    },
    // A hostile name: markup and a long tail reach the add-on inside notification texts.
    { id: "evil", name: `<img src=x onerror="alert(1)">${"A".repeat(300)}`, domains: ["evil.example"], owner: "bob" },
  ],
  rules: { loss: { nudges: ["PT1S", "P30D"] } },
};
