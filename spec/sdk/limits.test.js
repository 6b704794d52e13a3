"use strict";
// Request size limits as the official SDKs see them: Huawei's gateway 413
// APIGW.0201, Tencent's RequestSizeLimitExceeded, both for a body over the
// dialect's limit (--max-body DIALECT=BYTES) and for one over the core's
// own --max-body, which kmsemu drains and still answers in the dialect's
// words; the next call on the same client succeeds.

const { describe, it, before, after } = require("node:test");
const assert = require("node:assert/strict");
const { startServer } = require("./server");
const { tencentClient, huaweiClient } = require("./clients");
const fx = require("./fixtures");
const { rejectsTencent, rejectsHuawei } = require("./helpers");

const TC_KEY = fx.tencent.keys.enabled;
const HW_KEY = fx.huawei.keys.aes256;

describe("request size limits through the SDKs", () => {
  let server;
  before(async () => {
    server = await startServer({
      args: ["--max-body", "16384", "--max-body", "huawei=4096", "--max-body", "tencent=4096"],
    });
  });
  after(async () => {
    if (server) await server.stop();
  });

  for (const [what, size] of [["over the dialect's limit", 5000], ["over --max-body", 40000]]) {
    it(`Tencent: a body ${what} raises RequestSizeLimitExceeded, then the next call works`, async () => {
      const kms = tencentClient(server);
      const err = await rejectsTencent(
        kms.Encrypt({ KeyId: TC_KEY, Plaintext: Buffer.alloc(size, "k").toString("base64") }),
        "RequestSizeLimitExceeded");
      assert.equal(err.message, "The request size exceeds the upper limit.");
      const ok = await kms.Encrypt({ KeyId: TC_KEY, Plaintext: "aGk=" });
      assert.equal(ok.KeyId, TC_KEY);
    });

    it(`Huawei: a body ${what} gets the gateway's 413 APIGW.0201, then the next call works`, async () => {
      const kms = huaweiClient(server);
      const info = await rejectsHuawei(
        kms.encryptData({ body: { key_id: HW_KEY, plain_text: "k".repeat(size) } }), 413, "APIGW.0201");
      assert.equal(info.message, "Request entity too large.");
      const ok = await kms.encryptData({ body: { key_id: HW_KEY, plain_text: "hi" } });
      assert.equal(ok.key_id, HW_KEY);
    });
  }
});
