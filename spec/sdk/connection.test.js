"use strict";
// Connection faults (scenarios/faults/connection.lua) as the official SDKs
// meet them: a reset, a close before any byte, a truncated or malformed
// body, random bytes instead of HTTP, a slow drip and a hang; and the
// token-bucket throttle of scenarios/faults/throttling.lua. Each is what
// the SDK does when a real network or gateway misbehaves, and the server
// goes on answering afterwards.

const { describe, it, before, after } = require("node:test");
const assert = require("node:assert/strict");
const { startServer } = require("./server");
const { tencentClient, huaweiClient } = require("./clients");
const { rejectsTencent, rejectsHuawei } = require("./helpers");

const TC_KEY = "23e80852-1e38-11e9-b129-5cb9019b4b01";
const HW_KEY = "0d0466b0-e727-4d9c-b35d-f84bb474a37f";

function withServer(scenario, body) {
  return () => {
    let server;
    before(async () => {
      server = await startServer({ scenario, args: [] });
    });
    after(async () => {
      if (server) await server.stop();
    });
    body(() => server);
  };
}

async function failure(promise) {
  try {
    await promise;
  } catch (e) {
    return e;
  }
  assert.fail("the call succeeded");
}

async function journalCount(server, query) {
  const res = await fetch(`${server.url}/_kmsemu/journal/count?${query}`);
  return (await res.json()).count;
}

describe("connection faults through the SDKs", withServer("scenarios/faults/connection.lua", (server) => {
  it("Tencent: a reset is a network error, and the call is journaled as reset", async () => {
    const e = await failure(tencentClient(server()).DescribeKey({ KeyId: TC_KEY }));
    assert.equal(e.constructor.name, "TencentCloudSDKHttpException");
    assert.match(e.message, /ECONNRESET|socket hang up/);
    assert.equal(await journalCount(server(), "action=DescribeKey&connection=reset"), 1);
  });

  it("Tencent: a close before any byte is 'socket hang up'", async () => {
    const e = await failure(tencentClient(server()).GenerateRandom({ NumberOfBytes: 16 }));
    assert.match(e.message, /socket hang up/);
  });

  it("Tencent: random bytes instead of HTTP are a parse error", async () => {
    const e = await failure(tencentClient(server()).DescribeKeys({ KeyIds: [TC_KEY] }));
    assert.match(e.message, /Parse Error/);
  });

  it("Tencent: a malformed JSON body is an invalid-json error", async () => {
    const e = await failure(tencentClient(server()).GetServiceStatus({}));
    assert.match(e.message, /invalid json response body/);
  });

  it("Tencent: a truncated body leaves the SDK waiting until its own timeout", async () => {
    const started = Date.now();
    const e = await failure(tencentClient(server(), { reqTimeout: 1 }).ListKeys({}));
    assert.match(e.message, /timeout/i);
    assert.ok(Date.now() - started >= 900, "it waited for the timeout");
  });

  it("Tencent: a hang ends with the SDK's timeout, and other calls are served meanwhile", async () => {
    const hung = failure(tencentClient(server(), { reqTimeout: 1 }).GetKeyRotationStatus({ KeyId: TC_KEY }));
    const ok = await tencentClient(server()).GenerateDataKey({ KeyId: TC_KEY, KeySpec: "AES_256" });
    assert.equal(ok.KeyId, TC_KEY);
    assert.match((await hung).message, /timeout/i);
  });

  it("Tencent: a slow drip arrives whole, and late", async () => {
    const started = Date.now();
    const res = await tencentClient(server()).Encrypt({ KeyId: TC_KEY, Plaintext: "aGVsbG8=" });
    assert.equal(res.KeyId, TC_KEY);
    assert.ok(Date.now() - started >= 60, "the drip took its time");
  });

  it("Huawei: a reset is ECONNRESET", async () => {
    const e = await failure(huaweiClient(server()).listKeys({ body: {} }));
    assert.match(e.message, /ECONNRESET/);
  });

  it("Huawei: a truncated body is an aborted stream", async () => {
    const e = await failure(huaweiClient(server()).createRandom({ body: { random_data_length: "128" } }));
    assert.match(e.message, /aborted/);
  });

  it("Huawei: the core swallows a malformed body and returns no fields", async () => {
    const res = await huaweiClient(server()).listKeyDetail({ body: { key_id: HW_KEY } });
    assert.equal(res.httpStatusCode, 200);
    assert.equal(res.key_info, undefined);
  });

  it("Huawei: a slow drip arrives whole", async () => {
    const kms = huaweiClient(server());
    const enc = await kms.encryptData({ body: { key_id: HW_KEY, plain_text: "secret" } });
    assert.match(enc.cipher_text, /^[A-Za-z0-9+/=]+$/);
  });
}));

describe("token-bucket throttling through the SDKs", withServer("scenarios/faults/throttling.lua", (server) => {
  // The buckets refill on the emulated clock: frozen, it moves only when told.
  const clock = (body) =>
    fetch(`${server().url}/_kmsemu/clock`, { method: "POST", body: JSON.stringify(body) });

  it("Tencent: past the burst GenerateRandom raises RequestLimitExceeded; a second later it passes", async () => {
    await clock({ frozen: true });
    const kms = tencentClient(server());
    for (let i = 0; i < 3; i++) await kms.GenerateRandom({ NumberOfBytes: 16 });
    await rejectsTencent(kms.GenerateRandom({ NumberOfBytes: 16 }), "RequestLimitExceeded");
    await clock({ advance: 1 });
    const ok = await kms.GenerateRandom({ NumberOfBytes: 16 });
    assert.equal(Buffer.from(ok.Plaintext, "base64").length, 16);
  });

  it("Huawei: past the burst gen-random is a 429 APIGW.0308 with Retry-After", async () => {
    await clock({ frozen: true });
    const kms = huaweiClient(server());
    for (let i = 0; i < 3; i++) await kms.createRandom({ body: { random_data_length: "128" } });
    await rejectsHuawei(kms.createRandom({ body: { random_data_length: "128" } }), 429, "APIGW.0308");
    const res = await fetch(`${server().url}/_kmsemu/journal?action=gen-random&status=429`);
    const body = await res.json();
    assert.ok(body.entries.length >= 1);
  });
}));
