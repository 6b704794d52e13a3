"use strict";
// kmsemu-test used as a user would: start(), the Node SDKs of both clouds
// (Huawei's core, as no Huawei KMS package is on npm), the admin client,
// and what a failing kmsemu does to the test.

const assert = require("node:assert");
const { spawnSync } = require("node:child_process");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const { test } = require("node:test");
const { BasicCredentials } = require("@huaweicloud/huaweicloud-sdk-core");
const { ClientBuilder } = require("@huaweicloud/huaweicloud-sdk-core/ClientBuilder");
const { start, binary, AdminError } = require("kmsemu-test");

const ROOT = path.resolve(__dirname, "..", "..", "..");
// Enabled keys of scenarios/default.lua.
const HW_KEY = "0d0466b0-e727-4d9c-b35d-f84bb474a37f";
const TC_KEY = "23e80852-1e38-11e9-b129-5cb9019b4b01";

function huawei(kms) {
  const { ak, sk, projectId } = kms.credentials.huawei;
  const core = new ClientBuilder((hcClient) => hcClient)
    .withCredential(new BasicCredentials().withAk(ak).withSk(sk).withProjectId(projectId))
    .withEndpoint(kms.endpoint).build();
  return (action, data) => core.sendRequest({ method: "POST", url: `/v1.0/{project_id}/kms/${action}`,
    contentType: "application/json", pathParams: {}, queryParams: {}, data });
}

function tmpdir(t) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kmsemu-test-"));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test("the Huawei core sees one throttle, then passes", async (t) => {
  const kms = await start({ t });
  const post = huawei(kms);
  const body = { key_id: HW_KEY, datakey_length: "256" };
  assert.strictEqual(Buffer.from((await post("create-datakey", body)).plain_text, "hex").length, 32);
  await kms.admin.addFault({ dialect: "huawei", action: "create-datakey", times: 1, error: "throttled" });
  await assert.rejects(post("create-datakey", body), { httpStatusCode: 429, errorCode: "APIGW.0308" });
  await post("create-datakey", body);
  const { entries } = await kms.admin.journal({ action: "generate_data_key" });
  assert.deepStrictEqual(entries.map((e) => e.status), [200, 429, 200]);
});

test("a removed fault stops firing", async (t) => {
  const kms = await start({ t });
  const client = kms.tencentClient();
  const { id } = await kms.admin.addFault({ dialect: "tencent", action: "GenerateDataKey", error: "InternalError" });
  assert.deepStrictEqual((await kms.admin.faults()).faults.map((f) => f.id), [id]);
  const request = { KeyId: TC_KEY, KeySpec: "AES_256" };
  await assert.rejects(client.GenerateDataKey(request), { code: "InternalError" });
  await kms.admin.removeFault(id);
  assert.strictEqual(Buffer.from((await client.GenerateDataKey(request)).Plaintext, "base64").length, 32);
});

test("a fault switched off and on", async (t) => {
  const kms = await start({ t });
  const client = kms.tencentClient();
  const { id } = await kms.admin.addFault({ dialect: "tencent", action: "GenerateDataKey", error: "InternalError" });
  const request = { KeyId: TC_KEY, KeySpec: "AES_256" };
  assert.deepStrictEqual(await kms.admin.switchFault(id, false), { id, on: false });
  assert.strictEqual((await client.GenerateDataKey(request)).KeyId, TC_KEY);
  await kms.admin.switchFault(id, true);
  await assert.rejects(client.GenerateDataKey(request), { code: "InternalError" });
  await assert.rejects(kms.admin.switchFault("no-such-fault", true),
    (err) => err instanceof AdminError && err.status === 404);
});

test("keys and clock through the admin client", async (t) => {
  const kms = await start({ t });
  const client = kms.tencentClient();
  await kms.admin.freezeClock("2026-01-01T00:00:00Z");
  const key = await kms.admin.createKey({ dialect: "tencent", spec: "AES_256", alias: "made-by-admin" });
  assert.ok((await kms.admin.keys()).keys.some((k) => k.id === key.id));
  assert.strictEqual((await client.DescribeKey({ KeyId: key.id })).KeyMetadata.CreateTime, 1767225600);
  assert.strictEqual((await kms.admin.advanceClock(86400)).now, 1767225600 + 86400);
  await kms.admin.setKeyState("tencent", key.owner, key.id, "disabled");
  await assert.rejects(client.Encrypt({ KeyId: key.id, Plaintext: "aGk=" }), { code: "ResourceUnavailable.CmkDisabled" });
});

test("admin refusals carry status and reason", async (t) => {
  const kms = await start({ t });
  await assert.rejects(kms.admin.addFault({ action: "Encrypt", error: "NoSuchCode.Anywhere" }),
    (err) => err instanceof AdminError && err.status === 400 && err.body.error.includes("NoSuchCode.Anywhere"));
});

test("the scenario is the one given", async (t) => {
  const kms = await start({ t, scenario: path.join(ROOT, "scenarios", "tencent.lua") });
  assert.match((await kms.admin.scenario()).path, /scenarios\/tencent\.lua$/);
  assert.strictEqual(kms.credentials.huawei, null);
  assert.strictEqual((await kms.tencentClient().GetServiceStatus({})).ServiceEnabled, true);
});

test("the credentials are the scenario's own", async (t) => {
  const scenario = path.join(tmpdir(t), "own.lua");
  fs.writeFileSync(scenario, `credentials { tencent = { secret_id = "AKIDownCREDENTIALS00000000000000000000",
  secret_key = "ownSECRETkey0000000000000000000000", region = "ap-shanghai" } }
cmk { id = "11111111-2222-4333-8444-555555555555", dialect = "tencent" }
`);
  const kms = await start({ t, scenario });
  assert.deepStrictEqual(kms.credentials, { huawei: null, tencent: { secretId: "AKIDownCREDENTIALS00000000000000000000",
    secretKey: "ownSECRETkey0000000000000000000000", region: "ap-shanghai" } });
  const described = await kms.tencentClient().DescribeKey({ KeyId: "11111111-2222-4333-8444-555555555555" });
  assert.strictEqual(described.KeyMetadata.KeyState, "Enabled");
});

test("no Tencent client without Tencent credentials", async (t) => {
  const kms = await start({ t, scenario: path.join(ROOT, "scenarios", "huawei.lua") });
  assert.throws(() => kms.tencentClient(), { message: "the scenario gives no Tencent credentials" });
});

test("a scenario that does not load fails start with its message", async (t) => {
  const scenario = path.join(tmpdir(t), "broken.lua");
  fs.writeFileSync(scenario, 'cmk { id = "not-a-key-id", dialect = "tencent" }\n');
  await assert.rejects(start({ scenario }), /exited with status 2; stderr:\n.*broken\.lua:1: /);
});

const FAKE_KMSEMU = `#!/bin/sh
trap 'echo "kmsemu: could not flush" >&2; exit 3' TERM
echo "kmsemu listening on http://127.0.0.1:9"
echo "  0 keys from fake"
while :; do sleep 0.1; done
`;

test("a kmsemu that stops badly fails the test", async (t) => {
  const bin = path.join(tmpdir(t), "fake-kmsemu");
  fs.writeFileSync(bin, FAKE_KMSEMU, { mode: 0o755 });
  // A test of its own, in a node --test of its own, as a user's would be.
  const file = path.join(path.dirname(bin), "uses-it.test.js");
  fs.writeFileSync(file, `const { test } = require("node:test");
const { start } = require(${JSON.stringify(path.join(__dirname, ".."))});
test("uses it", async (t) => { await start({ t, bin: ${JSON.stringify(bin)} }); });
`);
  // Without NODE_TEST_CONTEXT, which tells a node --test it runs under another.
  const { NODE_TEST_CONTEXT, ...env } = process.env;
  const run = spawnSync(process.execPath, ["--test", "--test-reporter=tap", file], { encoding: "utf8", env });
  assert.notStrictEqual(run.status, 0, run.stdout);
  assert.match(run.stdout, /^# fail 1$/m);
  assert.match(run.stdout, /kmsemu did not stop cleanly: .* exited with status 3; stderr:/);
  assert.match(run.stdout, /kmsemu: could not flush/);
});

test("the binary is KMSEMU_BIN, then PATH, then the checkout", (t) => {
  const dir = tmpdir(t);
  const saved = { KMSEMU_BIN: process.env.KMSEMU_BIN, PATH: process.env.PATH };
  t.after(() => {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });
  process.env.KMSEMU_BIN = "somewhere/kmsemu";
  assert.strictEqual(binary(), path.resolve("somewhere/kmsemu"));
  delete process.env.KMSEMU_BIN;
  fs.writeFileSync(path.join(dir, "kmsemu"), FAKE_KMSEMU, { mode: 0o755 });
  process.env.PATH = dir;
  assert.strictEqual(binary(), path.join(dir, "kmsemu"));
  process.env.PATH = path.join(dir, "empty");
  assert.strictEqual(binary(), path.join(ROOT, "build", "kmsemu"));
});

test("README shows the example of example.test.js", () => {
  const source = fs.readFileSync(path.join(__dirname, "example.test.js"), "utf8");
  const region = /\/\/ example:start\n([\s\S]*?)\/\/ example:end\n/.exec(source)[1];
  const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
  const shown = /<!-- example: clients\/node\/test\/example\.test\.js -->\n```js\n([\s\S]*?)```/.exec(readme);
  assert.ok(shown, "README shows no Node example");
  assert.strictEqual(shown[1], region);
});
