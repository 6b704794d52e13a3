"use strict";
// Runs kmsemu, the local Huawei Cloud and Tencent Cloud KMS emulator, for a
// test: on a free loopback port, with a given scenario, stopped with
// SIGTERM. stop() rejects, with kmsemu's stderr, unless it exits with
// status 0.
//
//   const kms = await start({ t });  // stopped by t.after
//   kms.endpoint, kms.credentials.tencent.secretId, await kms.admin.addFault({...}), kms.tencentClient()

const { spawn } = require("node:child_process");
const fs = require("node:fs");
const http = require("node:http");
const path = require("node:path");

const START_MS = 15000;
const STOP_MS = 10000;

// The start-up banner: the ready line, one line per configured dialect with
// its credentials, then the key count, written at once.
const READY = /^kmsemu listening on (https?:\/\/(\S+))$/m;
const HUAWEI = /^ {2}huawei +\S+\/v1\.0\/(\S+)\/kms\/\.\.\. {2}AK (\S+) {2}SK (\S+)$/m;
const TENCENT = /^ {2}tencent +\S+\/ {2}region (\S+) {2}SecretId (\S+) {2}SecretKey (\S+)$/m;
const BANNER_END = /^ {2}\d+ keys from /m;

/** The admin API refused a request: status and the parsed answer. */
class AdminError extends Error {
  constructor(method, p, status, body) {
    super(`${method} ${p}: ${status} ${JSON.stringify(body)}`);
    this.status = status;
    this.body = body;
  }
}

/**
 * A thin client of kmsemu's admin API (/_kmsemu/, README "Admin API"): one
 * method per operation, each resolving to the parsed JSON answer. A refusal
 * rejects with AdminError. Each call has a connection of its own, so none
 * is left open when kmsemu stops.
 */
class Admin {
  constructor(endpoint) {
    this.base = new URL("/_kmsemu/", endpoint);
  }

  /** One call; body: undefined, a string sent as it is, or a value sent as JSON. */
  async request(method, p, body, { raw = false } = {}) {
    const text = await this.send(method, p, body === undefined || typeof body === "string" ? body : JSON.stringify(body));
    let answer = text.body;
    if (!raw) {
      try {
        answer = JSON.parse(text.body);
      } catch {
        // Kept as text: the refusal below shows it.
      }
    }
    if (text.status >= 300) throw new AdminError(method, p, text.status, answer);
    return answer;
  }

  send(method, p, body) {
    return new Promise((resolve, reject) => {
      const req = http.request(new URL(p, this.base), { method, agent: false }, (res) => {
        let data = "";
        res.setEncoding("utf8").on("data", (d) => (data += d));
        res.on("end", () => resolve({ status: res.statusCode, body: data }));
      });
      req.on("error", reject);
      req.end(body);
    });
  }

  health() { return this.request("GET", "health"); }
  /** Back to the scenario's initial state; the journal is cleared. */
  reset() { return this.request("POST", "reset"); }
  /** {path, source} */
  scenario() { return this.request("GET", "scenario"); }
  /** Replaces the scenario with this Lua text (400 if it does not load; the old one stays). */
  loadScenario(source) { return this.request("PUT", "scenario", source); }
  /** {faults: [...]}, each with its id. */
  faults() { return this.request("GET", "faults"); }
  /** A fault as fault{} declares one: addFault({action: "Encrypt", error: "..."}) resolves to {id}. */
  addFault(fault) { return this.request("POST", "faults", fault); }
  removeFault(id) { return this.request("DELETE", `faults/${encodeURIComponent(id)}`); }
  /** Switches a fault off (it sees no calls, as if removed) or back on; answers {id, on}. */
  switchFault(id, on) { return this.request("POST", `faults/${encodeURIComponent(id)}/${on ? "on" : "off"}`); }
  clearFaults() { return this.request("DELETE", "faults"); }
  /** {entries, count} for the filters (dialect, action, key_id, caller, method, path, status, error, fault, connection, since) and limit. */
  journal(filter = {}) { return this.request("GET", `journal${query(filter)}`); }
  /** {count} for the filters. */
  journalCount(filter = {}) { return this.request("GET", `journal/count${query(filter)}`); }
  clearJournal() { return this.request("DELETE", "journal"); }
  /** {now, iso, frozen, offset} */
  clock() { return this.request("GET", "clock"); }
  /** at: an instant ("2026-01-01T00:00:00Z") or unix seconds. */
  setClock(at) { return this.request("POST", "clock", { set: at }); }
  advanceClock(seconds) { return this.request("POST", "clock", { advance: seconds }); }
  /** Stops the emulated clock (at `at` if given) until it is set or advanced. */
  freezeClock(at) { return this.request("POST", "clock", at === undefined ? { frozen: true } : { frozen: true, set: at }); }
  /** {keys: [{id, dialect, owner, spec, state}]} */
  keys() { return this.request("GET", "keys"); }
  /** Makes a key as cmk{} does; resolves to it. */
  createKey(cmk) { return this.request("POST", "keys", cmk); }
  /** owner: the key's Huawei project or Tencent region. */
  setKeyState(dialect, owner, id, state) { return this.request("POST", "keys/state", { dialect, owner, id, state }); }
  /** The Prometheus text. */
  metrics() { return this.request("GET", "metrics", undefined, { raw: true }); }
}

function query(filter) {
  const q = new URLSearchParams(Object.entries(filter).map(([k, v]) => [k, String(v)])).toString();
  return q ? `?${q}` : "";
}

function checkoutBinary(start) {
  for (let dir = path.resolve(start); ; dir = path.dirname(dir)) {
    const bin = path.join(dir, "build", "kmsemu");
    if (fs.existsSync(path.join(dir, "lua", "kmsemu", "init.lua")) && executable(bin)) return bin;
    if (path.dirname(dir) === dir) return null;
  }
}

function executable(file) {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/**
 * The kmsemu binary: $KMSEMU_BIN, else kmsemu on PATH, else build/kmsemu of
 * the kmsemu checkout holding the current directory or this package.
 */
function binary() {
  if (process.env.KMSEMU_BIN) return path.resolve(process.env.KMSEMU_BIN);
  for (const dir of (process.env.PATH || "").split(path.delimiter)) {
    const bin = path.resolve(dir || ".", "kmsemu");
    if (executable(bin)) return bin;
  }
  const found = checkoutBinary(process.cwd()) || checkoutBinary(__dirname);
  if (!found) {
    throw new Error("no kmsemu binary: set KMSEMU_BIN, put kmsemu on PATH, or run inside a kmsemu checkout after make");
  }
  return found;
}

function credentials(banner) {
  const hw = HUAWEI.exec(banner);
  const tc = TENCENT.exec(banner);
  return {
    huawei: hw ? { ak: hw[2], sk: hw[3], projectId: hw[1] === "{project_id}" ? null : hw[1] } : null,
    tencent: tc ? { secretId: tc[2], secretKey: tc[3], region: tc[1] } : null,
  };
}

/**
 * The Tencent SDK's KMS client (tencentcloud-sdk-nodejs, API 2019-01-18) for
 * a kmsemu: its host over http, the scenario's Tencent credentials and region.
 */
function tencentClient({ host, credentials: { tencent } }) {
  if (!tencent) throw new Error("the scenario gives no Tencent credentials");
  // An optional peer dependency: loaded when asked for.
  const tencentcloud = require("tencentcloud-sdk-nodejs");
  const { secretId, secretKey, region } = tencent;
  return new tencentcloud.kms.v20190118.Client({ credential: { secretId, secretKey }, region,
    profile: { httpProfile: { endpoint: host, protocol: "http://" } } });
}

/**
 * Starts kmsemu and resolves once it listens, to {endpoint ("http://127.0.0.1:PORT"),
 * host (the same without the scheme, as Tencent SDKs take it), credentials, admin,
 * tencentClient(), stop}.
 * @param {object} [o]
 * @param {string} [o.scenario] scenario file; default: the binary's, scenarios/default.lua
 * @param {string[]} [o.args] extra command-line arguments
 * @param {string} [o.bin] the binary; default: binary()
 * @param {import("node:test").TestContext} [o.t] when given, t.after(stop)
 */
async function start({ scenario, args = [], bin, t } = {}) {
  const argv = [bin || binary(), "--listen", "127.0.0.1:0", ...(scenario ? ["--scenario", scenario] : []), ...args];
  const child = spawn(argv[0], argv.slice(1), { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8");
  child.stderr.setEncoding("utf8").on("data", (d) => (stderr += d));
  // Resolves once the process has ended and its output is read.
  const ended = new Promise((resolve) => {
    child.on("error", (err) => resolve({ error: err }));
    child.on("close", (code, signal) => resolve({ code, signal }));
  });
  const how = ({ error, code, signal }) =>
    `${argv.join(" ")} ${error ? `could not be run: ${error.message}` : signal ? `died of ${signal}` : `exited with status ${code}`}; stderr:\n${stderr}`;

  let timer;
  const banner = await Promise.race([
    new Promise((resolve) => child.stdout.on("data", (d) => {
      stdout += d;
      if (READY.test(stdout) && BANNER_END.test(stdout)) resolve(stdout);
    })),
    ended.then((end) => Promise.reject(new Error(`kmsemu ended before it was ready: ${how(end)}`))),
    new Promise((resolve, reject) => {
      timer = setTimeout(() => {
        child.kill("SIGKILL");
        ended.then((end) => reject(new Error(`kmsemu printed no start-up banner within ${START_MS} ms; ` +
          `stdout:\n${stdout}\n${how(end)}`)));
      }, START_MS);
    }),
  ]).finally(() => clearTimeout(timer));

  const ready = READY.exec(banner);
  let stopping;
  const kms = {
    endpoint: ready[1],
    host: ready[2],
    credentials: credentials(banner),
    admin: new Admin(ready[1]),
    tencentClient: () => tencentClient(kms),
    /** SIGTERM; rejects, with kmsemu's stderr, unless it exits with status 0. */
    stop() {
      stopping ||= (async () => {
        child.kill("SIGTERM");
        let kill;
        const killed = new Promise((resolve) => {
          kill = setTimeout(() => resolve(child.kill("SIGKILL")), STOP_MS);
        });
        const end = await Promise.race([ended, killed.then(() => ended.then((e) => ({ ...e, late: true })))]);
        clearTimeout(kill);
        if (end.late) throw new Error(`kmsemu did not stop within ${STOP_MS} ms of SIGTERM: ${how(end)}`);
        if (end.error || end.code !== 0) throw new Error(`kmsemu did not stop cleanly: ${how(end)}`);
      })();
      return stopping;
    },
  };
  if (t) t.after(() => kms.stop());
  return kms;
}

module.exports = { start, binary, Admin, AdminError };
