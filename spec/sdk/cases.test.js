"use strict";
// The shared SDK cases (cases.json, format in CASES.md) through the Node
// SDKs: one kmsemu per suite, one test per case, and the step results in
// $KMSEMU_SDK_RESULTS/node.json.
//
// Tencent calls client[op](request) on tencentcloud-sdk-nodejs' KMS client.
// Huawei has no KMS package on npm: HuaweiKmsClient (clients.js) sends each
// request through @huaweicloud/huaweicloud-sdk-core's HcClient, so its steps
// are recorded with "via": "core". Neither SDK has typed models in
// JavaScript; a response is checked as the parsed JSON the SDK hands back.

const { describe, it, before, after } = require("node:test");
const assert = require("node:assert/strict");
const crypto = require("node:crypto");
const fs = require("node:fs");
const path = require("node:path");
const { isDeepStrictEqual } = require("node:util");
const { startServer } = require("./server");
const {
  tencentClient,
  huaweiClient,
  huaweiError,
  HUAWEI_ROUTES,
  TencentCloudSDKHttpException,
  ServiceResponseException,
} = require("./clients");
const { dependencies } = require("./package.json");
const fx = require("./fixtures");

const CASES = JSON.parse(fs.readFileSync(path.join(__dirname, "cases.json"), "utf8"));
const RESULTS_DIR = path.resolve(fx.repoRoot, process.env.KMSEMU_SDK_RESULTS || "build/spec/sdk-results");
const SDKS = {
  huawei: `@huaweicloud/huaweicloud-sdk-core ${dependencies["@huaweicloud/huaweicloud-sdk-core"]}`,
  tencent: `tencentcloud-sdk-nodejs ${dependencies["tencentcloud-sdk-nodejs"]}`,
};

const results = [];
process.on("exit", () => {
  fs.mkdirSync(RESULTS_DIR, { recursive: true });
  const report = { language: "node", sdks: SDKS, steps: results };
  fs.writeFileSync(path.join(RESULTS_DIR, "node.json"), JSON.stringify(report, null, 2) + "\n");
});

const lowerFirst = (s) => s[0].toLowerCase() + s.slice(1);
const show = (v) => (v === undefined ? "undefined" : JSON.stringify(v));

// How each dialect makes a client, calls an operation and reads an error.
const DIALECTS = {
  huawei: {
    via: "core",
    client: (server, p) => huaweiClient(server, { ak: p.ak, sk: p.sk, projectId: p.project_id }),
    async call(client, op, request) {
      const method = lowerFirst(op);
      if (!Object.hasOwn(HUAWEI_ROUTES, method)) throw new Error(`HuaweiKmsClient has no route for ${op}`);
      const res = await client[method](request);
      // The core hands a JSON array body back as the array itself.
      return Array.isArray(res) ? { body: res } : res;
    },
    error(err) {
      if (!(err instanceof ServiceResponseException)) return null;
      const { status, code, message } = huaweiError(err);
      return { status, code, message };
    },
  },
  tencent: {
    client: (server, p) =>
      tencentClient(server, { secretId: p.secret_id, secretKey: p.secret_key, region: p.region }),
    call(client, op, request) {
      if (!Object.hasOwn(Object.getPrototypeOf(client), op)) throw new Error(`${SDKS.tencent} has no KMS method ${op}`);
      return client[op](request);
    },
    error(err) {
      if (!(err instanceof TencentCloudSDKHttpException)) return null;
      return { status: err.httpCode, code: err.code, message: err.message };
    },
  },
};

// ---------------------------------------------------------------- variables and transforms

function variable(vars, name) {
  if (!Object.hasOwn(vars, name)) throw new Error(`no saved variable ${name}`);
  return vars[name];
}

/** Replaces ${NAME} in every string; a string that is only ${NAME} takes the value itself. */
function substitute(value, vars) {
  if (typeof value === "string") {
    const whole = /^\$\{(\w+)\}$/.exec(value);
    if (whole) return variable(vars, whole[1]);
    return value.replace(/\$\{(\w+)\}/g, (_, name) => {
      const v = variable(vars, name);
      return typeof v === "string" ? v : JSON.stringify(v);
    });
  }
  if (Array.isArray(value)) return value.map((v) => substitute(v, vars));
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substitute(v, vars)]));
  }
  return value;
}

function rsaOaep({ key, hash, data }) {
  const publicKey = key.includes("-----BEGIN")
    ? crypto.createPublicKey(key)
    : crypto.createPublicKey({ key: Buffer.from(key, "base64"), format: "der", type: "spki" });
  // OpenSSL takes MGF1's hash from the OAEP hash unless told otherwise.
  const padding = crypto.constants.RSA_PKCS1_OAEP_PADDING;
  return crypto.publicEncrypt({ key: publicKey, padding, oaepHash: hash.toLowerCase() }, Buffer.from(data, "base64"))
    .toString("base64");
}

const TRANSFORMS = { $rsa_oaep: rsaOaep };

function transform(value) {
  if (Array.isArray(value)) return value.map(transform);
  if (value === null || typeof value !== "object") return value;
  const keys = Object.keys(value);
  if (keys.length === 1 && keys[0].startsWith("$")) {
    if (!Object.hasOwn(TRANSFORMS, keys[0])) throw new Error(`unknown transform ${keys[0]}`);
    return TRANSFORMS[keys[0]](value[keys[0]]);
  }
  return Object.fromEntries(keys.map((k) => [k, transform(value[k])]));
}

// ---------------------------------------------------------------- paths and matchers

function at(value, pathText) {
  if (pathText === "") return value;
  let v = value;
  for (const name of pathText.split(".")) {
    if (v === null || typeof v !== "object" || !Object.hasOwn(v, name)) return undefined;
    v = v[name];
  }
  return v;
}

function jsonType(v) {
  if (Array.isArray(v)) return "array";
  if (v === null) return "null";
  if (Number.isInteger(v)) return "integer";
  return typeof v;
}

const MATCHERS = {
  match: (v, re) => typeof v === "string" && new RegExp(re).test(v),
  present: (v, want) => (v !== undefined && v !== null) === want,
  len: (v, n) => (typeof v === "string" || Array.isArray(v)) && v.length === n,
  min: (v, n) => typeof v === "number" && v >= n,
  contains: (v, want) => Array.isArray(v) && v.some((e) => isDeepStrictEqual(e, want)),
  // An integer is a number too.
  type: (v, t) => jsonType(v) === t || (t === "number" && jsonType(v) === "integer"),
};

/** A matcher is an object whose one key names a matcher; anything else is a value to equal. */
function holds(value, expected) {
  const keys = jsonType(expected) === "object" ? Object.keys(expected) : [];
  if (keys.length === 1 && Object.hasOwn(MATCHERS, keys[0])) return MATCHERS[keys[0]](value, expected[keys[0]]);
  return isDeepStrictEqual(value, expected);
}

// ---------------------------------------------------------------- steps

/** What came back: {response} or {error} (the SDK's exception as the cases read it). */
async function outcome(dialect, client, op, request) {
  try {
    return { response: JSON.parse(JSON.stringify(await dialect.call(client, op, request))) };
  } catch (err) {
    const read = dialect.error(err);
    const name = err && err.constructor ? err.constructor.name : typeof err;
    return { error: { class: name, ...(read || { message: String(err && err.message) }) } };
  }
}

/** The problem with a step's outcome, or null when it is what the step expects. */
function problem(step, got, vars) {
  if (step.error) {
    if (!got.error) return `expected error ${show(step.error)}, got success ${show(got.response)}`;
    const same = ["code", "status", "message"].every((k) => !(k in step.error) || step.error[k] === got.error[k]);
    return same ? null : `expected error ${show(step.error)}, got ${show(got.error)}`;
  }
  if (got.error) return `expected success, got error ${show(got.error)}`;
  for (const [p, matcher] of Object.entries(step.expect || {})) {
    const expected = substitute(matcher, vars);
    const value = at(got.response, p);
    if (!holds(value, expected)) {
      return `expected ${p || "(response)"} ${show(expected)}, got ${show(value)} in ${show(got.response)}`;
    }
  }
  return null;
}

async function runStep(suite, step, clientAs, vars) {
  const dialect = DIALECTS[suite.dialect];
  const request = transform(substitute(step.request || {}, vars));
  const got = await outcome(dialect, clientAs(step.as || "default"), step.op, request);
  const wrong = problem(step, got, vars);
  if (wrong) return wrong;
  for (const [name, p] of Object.entries(step.save || {})) {
    vars[name] = at(got.response, p);
    if (vars[name] === undefined) return `nothing at ${p} to save as ${name} in ${show(got.response)}`;
  }
  return null;
}

function record(suite, kase, step, error) {
  const dialect = DIALECTS[suite.dialect];
  results.push({
    suite: suite.name,
    case: kase.name,
    dialect: suite.dialect,
    op: step.op,
    ok: error === null,
    error,
    ...(dialect.via ? { via: dialect.via } : {}),
  });
}

async function runCase(suite, kase, clientAs) {
  const vars = {};
  for (const [i, step] of kase.steps.entries()) {
    let wrong;
    try {
      wrong = await runStep(suite, step, clientAs, vars);
    } catch (err) {
      wrong = `could not run the step: ${err.stack || err}`;
    }
    record(suite, kase, step, wrong);
    if (wrong) assert.fail(`suite ${suite.name}, case "${kase.name}", step ${i} (${step.op}): ${wrong}`);
  }
}

// ---------------------------------------------------------------- suites

for (const suite of CASES.suites) {
  describe(suite.name, () => {
    let server = null;
    let startError = null;
    const clients = new Map();
    const clientAs = (name) => {
      const profile = CASES.credentials[suite.dialect][name];
      if (!profile) throw new Error(`no ${suite.dialect} credentials named ${name}`);
      if (!clients.has(name)) clients.set(name, DIALECTS[suite.dialect].client(server, profile));
      return clients.get(name);
    };

    before(async () => {
      try {
        server = await startServer({ scenario: suite.scenario });
      } catch (err) {
        startError = err;
      }
    });
    // The last test reports how kmsemu stopped; this only makes sure it does.
    after(() => server && server.stop().catch(() => {}));

    for (const kase of suite.cases) {
      it(kase.name, async () => {
        if (startError) {
          for (const step of kase.steps) record(suite, kase, step, `kmsemu did not start: ${startError.message}`);
          throw startError;
        }
        await runCase(suite, kase, clientAs);
      });
    }

    it("kmsemu exits 0 on SIGTERM", async () => {
      if (startError) throw startError;
      const { code, signal, stderr } = await server.stop();
      assert.deepEqual({ code, signal }, { code: 0, signal: null }, `kmsemu stderr:\n${stderr}`);
    });
  });
}
