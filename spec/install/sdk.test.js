"use strict";
// An installed kmsemu (KMSEMU_BIN, e.g. PREFIX/bin/kmsemu) serving the
// default scenario it installed (PREFIX/share/kmsemu/), over http and over
// https, to both clouds' official Node SDKs. Run by spec/install/*.sh.

const { describe, it, before, after } = require("node:test");
const assert = require("node:assert/strict");
const fs = require("node:fs");
const https = require("node:https");
const os = require("node:os");
const path = require("node:path");
const { startServer, binaryPath } = require("../sdk/server");
const { tencentClient, huaweiClient } = require("../sdk/clients");
const fx = require("../sdk/fixtures");
const { b64decode, hexdecode } = require("../sdk/helpers");

const scenario = path.join(path.dirname(binaryPath()), "..", "share", "kmsemu", "scenarios", "default.lua");

async function tencentRoundTrip(server, agent) {
  const kms = tencentClient(server, agent ? { agent } : {});
  const made = await kms.GenerateDataKey({ KeyId: fx.tencent.keys.enabledAes256, KeySpec: "AES_256" });
  assert.equal(b64decode(made.Plaintext, "Plaintext").length, 32);
  const back = await kms.Decrypt({ CiphertextBlob: made.CiphertextBlob });
  assert.equal(back.Plaintext, made.Plaintext);
}

async function huaweiRoundTrip(server, agent) {
  const kms = huaweiClient(server, agent ? { httpsAgent: agent } : {});
  const made = await kms.createDatakey({ body: { key_id: fx.huawei.keys.aes256, datakey_length: "256" } });
  assert.equal(hexdecode(made.plain_text).length, 32);
  const back = await kms.decryptDatakey({
    body: { key_id: fx.huawei.keys.aes256, cipher_text: made.cipher_text, datakey_cipher_length: "32" },
  });
  assert.equal(back.data_key, made.plain_text);
}

describe("the installed binary over http", () => {
  let server;
  before(async () => {
    assert.ok(fs.existsSync(scenario), `${scenario} was not installed`);
    server = await startServer({ scenario });
  });
  after(async () => {
    if (server) assert.equal((await server.stop()).code, 0);
  });

  it("serves the Tencent SDK", () => tencentRoundTrip(server));
  it("serves the Huawei SDK", () => huaweiRoundTrip(server));
});

describe("the installed binary over https", () => {
  let server;
  let dir;
  let agent;
  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "kmsemu-install-"));
    const cert = path.join(dir, "kmsemu.pem");
    server = await startServer({ scenario, args: ["--tls-self-signed", cert] });
    agent = new https.Agent({ ca: fs.readFileSync(cert) });
  });
  after(async () => {
    if (server) assert.equal((await server.stop()).code, 0);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("announces https", () => assert.equal(server.scheme, "https"));
  it("serves the Tencent SDK", () => tencentRoundTrip(server, agent));
  it("serves the Huawei SDK", () => huaweiRoundTrip(server, agent));
});
