"use strict";
// Fault injection as the official SDKs see it: a vendor error on the 3rd
// call (Tencent), the gateway's throttling 429 (Huawei core), a delay the
// client measures, and faults added and counted over the admin API.

const { describe, it, before, after } = require("node:test");
const assert = require("node:assert/strict");
const { startServer } = require("./server");
const { tencentClient, huaweiClient } = require("./clients");
const fx = require("./fixtures");
const { rejectsTencent, rejectsHuawei } = require("./helpers");

const TC_KEY = fx.tencent.keys.enabled;
const HW_KEY = fx.huawei.keys.aes256;

function withServer(scenario, args, body) {
  return () => {
    let server;
    before(async () => {
      server = await startServer({ scenario, args });
    });
    after(async () => {
      if (server) await server.stop();
    });
    body(() => server);
  };
}

async function admin(server, method, path, { body, token } = {}) {
  const headers = { "Content-Type": "application/json" };
  if (token) headers.Authorization = `Bearer ${token}`;
  const res = await fetch(`${server.url}/_kmsemu/${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

describe("fault injection through the SDKs", () => {
  describe("scenarios/faults/errors.lua", withServer("scenarios/faults/errors.lua", [], (server) => {
    it("Tencent: the 3rd GenerateDataKey raises ResourceUnavailable.CmkDisabled", async () => {
      const kms = tencentClient(server());
      const req = { KeyId: TC_KEY, KeySpec: "AES_256" };
      await kms.GenerateDataKey(req);
      await kms.GenerateDataKey(req);
      await rejectsTencent(kms.GenerateDataKey(req), "ResourceUnavailable.CmkDisabled");
      const fourth = await kms.GenerateDataKey(req);
      assert.equal(fourth.KeyId, TC_KEY);
      const count = await admin(server(), "GET",
        "journal/count?action=generate_data_key&error=ResourceUnavailable.CmkDisabled");
      assert.deepEqual(count, { status: 200, body: { count: 1 } });
    });

    it("Huawei: an internal fault is a 500 KMS.0101, then decrypt-data recovers", async () => {
      const kms = huaweiClient(server());
      const enc = await kms.encryptData({ body: { key_id: HW_KEY, plain_text: "secret" } });
      for (let i = 0; i < 2; i++) {
        await rejectsHuawei(kms.decryptData({ body: { cipher_text: enc.cipher_text } }), 500, "KMS.0101");
      }
      const dec = await kms.decryptData({ body: { cipher_text: enc.cipher_text } });
      assert.equal(dec.plain_text, "secret");
    });

    it("Huawei: the 2nd data key finds the key disabled (KMS.0209), and so does the 3rd", async () => {
      const kms = huaweiClient(server());
      const req = { key_id: fx.huawei.keys.sm4, datakey_length: "128" };
      await kms.createDatakey({ body: req });
      await rejectsHuawei(kms.createDatakey({ body: req }), 400, "KMS.0209");
      await rejectsHuawei(kms.createDatakey({ body: req }), 400, "KMS.0209");
    });
  }));

  describe("scenarios/faults/throttling.lua", withServer("scenarios/faults/throttling.lua", [], (server) => {
    it("Huawei: two throttled create-datakey calls (429 APIGW.0308), then success", async () => {
      const kms = huaweiClient(server());
      const req = { key_id: HW_KEY, datakey_length: "256" };
      for (let i = 0; i < 2; i++) {
        const info = await rejectsHuawei(kms.createDatakey({ body: req }), 429, "APIGW.0308");
        assert.equal(info.message, "The throttling threshold has been reached.");
      }
      const ok = await kms.createDatakey({ body: req });
      assert.equal(ok.key_id, HW_KEY);
      const count = await admin(server(), "GET", "journal/count?action=create-datakey&status=429");
      assert.equal(count.body.count, 2);
    });

    it("Tencent: every 3rd Encrypt raises RequestLimitExceeded", async () => {
      const kms = tencentClient(server());
      const req = { KeyId: TC_KEY, Plaintext: "aGk=" };
      await kms.Encrypt(req);
      await kms.Encrypt(req);
      await rejectsTencent(kms.Encrypt(req), "RequestLimitExceeded");
      await kms.Encrypt(req);
    });
  }));

  describe("scenarios/faults/shaping.lua", withServer("scenarios/faults/shaping.lua", [], (server) => {
    it("Tencent: DescribeKey reports the description the hook wrote", async () => {
      const res = await tencentClient(server()).DescribeKey({ KeyId: TC_KEY });
      assert.equal(res.KeyMetadata.Description, "shaped by the scenario");
      assert.equal(res.KeyMetadata.KeyId, TC_KEY);
    });
  }));

  describe("scenarios/faults/latency.lua", withServer("scenarios/faults/latency.lua", [], (server) => {
    it("delays GenerateDataKey by 300 ms and leaves Encrypt undelayed", async () => {
      const kms = tencentClient(server());
      const t0 = process.hrtime.bigint();
      await kms.GenerateDataKey({ KeyId: TC_KEY, KeySpec: "AES_256" });
      const slow = Number(process.hrtime.bigint() - t0) / 1e6;
      await kms.Encrypt({ KeyId: TC_KEY, Plaintext: "aGk=" });
      assert.ok(slow >= 300, `GenerateDataKey took ${slow} ms`);
      // Which delays fired is the journal's record, not a stopwatch's.
      const { faults } = (await admin(server(), "GET", "faults")).body;
      const delay = faults.find((f) => f.action === "generate_data_key");
      assert.equal(delay.delay_ms, 300);
      const entry = async (action) => (await admin(server(), "GET", `journal?action=${action}`)).body.entries;
      const [gdk] = await entry("GenerateDataKey");
      assert.deepEqual(gdk.faults, [delay.id]);
      assert.ok(gdk.latency_ms >= 300, `journaled latency ${gdk.latency_ms} ms`);
      const [enc] = await entry("Encrypt");
      assert.deepEqual(enc.faults, []);
    });
  }));

  describe("admin API with --admin-token", withServer("scenarios/faults/throttling.lua",
    ["--admin-token", "ci-token"], (server) => {
      it("refuses a missing or wrong token with 401", async () => {
        assert.equal((await admin(server(), "GET", "health")).status, 401);
        assert.equal((await admin(server(), "GET", "health", { token: "nope" })).status, 401);
        const ok = await admin(server(), "GET", "health", { token: "ci-token" });
        assert.deepEqual(ok, { status: 200, body: { status: "ok", scenario: "scenarios/faults/throttling.lua" } });
      });

      it("adds a fault at run time that the Tencent SDK then meets", async () => {
        const added = await admin(server(), "POST", "faults", {
          token: "ci-token",
          body: { dialect: "tencent", action: "decrypt", first: 1, error: "ResourceUnavailable.CmkNotFound" },
        });
        assert.equal(added.status, 201);
        const kms = tencentClient(server());
        const enc = await kms.Encrypt({ KeyId: TC_KEY, Plaintext: "aGk=" });
        await rejectsTencent(kms.Decrypt({ CiphertextBlob: enc.CiphertextBlob }),
          "ResourceUnavailable.CmkNotFound");
        const dec = await kms.Decrypt({ CiphertextBlob: enc.CiphertextBlob });
        assert.equal(dec.Plaintext, "aGk=");
      });

      it("adds a gateway fault that the Huawei core raises as a 502 APIGW.0202", async () => {
        const added = await admin(server(), "POST", "faults", {
          token: "ci-token",
          body: { dialect: "huawei", action: "encrypt", first: 1, error: "unavailable" },
        });
        assert.equal(added.status, 201);
        const kms = huaweiClient(server());
        const info = await rejectsHuawei(kms.encryptData({
          body: { key_id: HW_KEY, plain_text: "x" },
        }), 502, "APIGW.0202");
        assert.equal(info.coreErrorCode, "APIGW.0202", "a flat gateway body is unwrapped by the core itself");
        const ok = await kms.encryptData({ body: { key_id: HW_KEY, plain_text: "x" } });
        assert.equal(ok.key_id, HW_KEY);
      });
    }));
});
