"use strict";
// Contract over https: both official SDKs against kmsemu serving a
// self-signed certificate it made (--tls-self-signed FILE), trusting that
// certificate and nothing else; without it, each SDK refuses the server.

const { describe, it, before, after } = require("node:test");
const assert = require("node:assert/strict");
const fs = require("node:fs");
const https = require("node:https");
const os = require("node:os");
const path = require("node:path");
const { startServer } = require("./server");
const { tencentClient, huaweiClient } = require("./clients");
const fx = require("./fixtures");
const { b64decode, hexdecode } = require("./helpers");

describe("both SDKs over https with --tls-self-signed", () => {
  let server;
  let dir;
  let trusting;

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "kmsemu-tls-"));
    const cert = path.join(dir, "kmsemu.pem");
    server = await startServer({ args: ["--tls-self-signed", cert] });
    // `ca` replaces the default roots: only kmsemu's certificate is trusted.
    trusting = new https.Agent({ ca: fs.readFileSync(cert) });
  });

  after(async () => {
    if (server) await server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("announces an https URL", () => {
    assert.equal(server.scheme, "https");
    assert.match(server.url, /^https:\/\/127\.0\.0\.1:\d+$/);
  });

  it("Tencent: GenerateDataKey then Decrypt round trip", async () => {
    const kms = tencentClient(server, { agent: trusting });
    const made = await kms.GenerateDataKey({ KeyId: fx.tencent.keys.enabledAes256, KeySpec: "AES_256" });
    assert.equal(b64decode(made.Plaintext, "Plaintext").length, 32);
    const back = await kms.Decrypt({ CiphertextBlob: made.CiphertextBlob });
    assert.equal(back.Plaintext, made.Plaintext);
  });

  it("Huawei: create-datakey then decrypt-datakey round trip", async () => {
    const kms = huaweiClient(server, { httpsAgent: trusting });
    const made = await kms.createDatakey({ body: { key_id: fx.huawei.keys.aes256, datakey_length: "256" } });
    assert.equal(made.httpStatusCode, 200);
    assert.equal(hexdecode(made.plain_text).length, 32);
    const back = await kms.decryptDatakey({ body: {
      key_id: fx.huawei.keys.aes256,
      cipher_text: made.cipher_text,
      datakey_cipher_length: "32",
    } });
    assert.equal(back.data_key, made.plain_text);
  });

  it("Tencent refuses the server without its certificate", async () => {
    const kms = tencentClient(server);
    await assert.rejects(kms.GenerateRandom({ NumberOfBytes: 16 }), /self[- ]signed certificate/i);
  });

  it("Huawei refuses the server without its certificate", async () => {
    const kms = huaweiClient(server);
    await assert.rejects(kms.createRandom({ body: { random_data_length: "128" } }), (err) =>
      /self[- ]signed certificate/i.test(JSON.stringify(err) + String(err && err.message)),
    );
  });
});
