"use strict";
// Contract: @huaweicloud/huaweicloud-sdk-core (ClientBuilder, HcClient,
// BasicCredentials, AK/SK signer, DefaultHttpClient) carrying the KMS v1.0
// data-key and data operations to kmsemu running scenarios/default.lua.
// See clients.js for how the core reports errors and how the tests read the
// nested {"error":{"error_code","error_msg"}} body.

const { describe, it, before, after } = require("node:test");
const assert = require("node:assert/strict");
const crypto = require("node:crypto");
const { startServer } = require("./server");
const { huaweiClient } = require("./clients");
const fx = require("./fixtures");
const { b64decode, hexdecode, sha256, sm3, rejectsHuawei, assertHuaweiFrame } = require("./helpers");

const H = fx.huawei;
const K = H.keys;

function assertOk(res) {
  assert.equal(res.httpStatusCode, 200, "HTTP 200");
}

describe("Huawei KMS through @huaweicloud/huaweicloud-sdk-core", () => {
  let server;
  let kms;

  before(async () => {
    server = await startServer();
    kms = huaweiClient(server);
  });

  // Safety net; the last test below stops the server and checks the exit.
  after(async () => {
    if (server) await server.stop();
  });

  async function newDek(keyId = K.aes256, extra = {}) {
    const res = await kms.createDatakey({ body: { key_id: keyId, datakey_length: "512", ...extra } });
    assertOk(res);
    return { dek: hexdecode(res.plain_text, "plain_text"), cipher: res.cipher_text, res };
  }

  describe("create-datakey", () => {
    it('datakey_length "512" gives a 64-byte key as 128 hex chars', async () => {
      const res = await kms.createDatakey({ body: { key_id: K.aes256, datakey_length: "512" } });
      assertOk(res);
      assert.equal(res.key_id, K.aes256);
      assert.equal(typeof res.plain_text, "string");
      assert.equal(res.plain_text.length, 128);
      hexdecode(res.plain_text, "plain_text");
      hexdecode(res.cipher_text, "cipher_text");
    });

    it("no length and no key_spec gives a 256-bit key", async () => {
      const res = await kms.createDatakey({ body: { key_id: K.aes256 } });
      assertOk(res);
      assert.equal(hexdecode(res.plain_text).length, 32);
    });

    it('key_spec AES_128 gives 16 bytes; datakey_length wins over key_spec', async () => {
      const a = await kms.createDatakey({ body: { key_id: K.aes256, key_spec: "AES_128" } });
      assert.equal(hexdecode(a.plain_text).length, 16);
      const b = await kms.createDatakey({ body: { key_id: K.aes256, key_spec: "AES_128", datakey_length: "512" } });
      assert.equal(hexdecode(b.plain_text).length, 64);
    });

    it("cipher_text has the cloud's layout: a 64-byte key in 188 bytes, 02 00 98 00, key id at 116", async () => {
      const { cipher } = await newDek();
      const blob = hexdecode(cipher);
      assertHuaweiFrame(blob, K.aes256, 64);
      assert.equal(blob.subarray(0, 4).toString("hex"), "02009800");
      assert.equal(blob.subarray(116, 152).toString("latin1"), K.aes256);
    });
  });

  describe("decrypt-datakey", () => {
    it("returns the key, its length and its SHA-256 digest", async () => {
      const { dek, cipher } = await newDek();
      const res = await kms.decryptDatakey({
        body: { key_id: K.aes256, cipher_text: cipher, datakey_cipher_length: "64" },
      });
      assertOk(res);
      assert.equal(res.data_key.toUpperCase(), dek.toString("hex").toUpperCase());
      assert.equal(res.datakey_length, "64", "datakey_length is a string of bytes");
      assert.equal(res.datakey_dgst, sha256(dek).toString("hex").toUpperCase(), "uppercase hex SHA-256");
    });

    it("round-trips a key of the SM4 CMK", async () => {
      const { dek, cipher } = await newDek(K.sm4);
      const res = await kms.decryptDatakey({
        body: { key_id: K.sm4, cipher_text: cipher, datakey_cipher_length: "64" },
      });
      assertOk(res);
      assert.equal(res.data_key.toUpperCase(), dek.toString("hex").toUpperCase());
      assert.equal(res.datakey_length, "64");
    });
  });

  describe("create-datakey-without-plaintext", () => {
    it("returns only cipher_text, which decrypts to a 64-byte key", async () => {
      const res = await kms.createDatakeyWithoutPlaintext({ body: { key_id: K.aes256, datakey_length: "512" } });
      assertOk(res);
      assert.equal(res.key_id, K.aes256);
      assert.equal(res.plain_text, undefined, "no plain_text");
      hexdecode(res.cipher_text, "cipher_text");
      const d = await kms.decryptDatakey({
        body: { key_id: K.aes256, cipher_text: res.cipher_text, datakey_cipher_length: "64" },
      });
      assertOk(d);
      const dek = hexdecode(d.data_key);
      assert.equal(dek.length, 64);
      assert.equal(d.datakey_dgst, sha256(dek).toString("hex").toUpperCase());
    });
  });

  describe("encrypt-datakey", () => {
    it("plain_text = hex(DEK || SHA-256(DEK)) encrypts, and decrypt-datakey gives DEK back", async () => {
      const dek = crypto.randomBytes(64);
      const res = await kms.encryptDatakey({ body: {
        key_id: K.aes256,
        plain_text: Buffer.concat([dek, sha256(dek)]).toString("hex").toUpperCase(),
        datakey_plain_length: "64",
      } });
      assertOk(res);
      assert.equal(res.key_id, K.aes256);
      assert.equal(res.datakey_length, "64");
      hexdecode(res.cipher_text, "cipher_text");
      const d = await kms.decryptDatakey({
        body: { key_id: K.aes256, cipher_text: res.cipher_text, datakey_cipher_length: "64" },
      });
      assert.equal(d.data_key.toUpperCase(), dek.toString("hex").toUpperCase());
      assert.equal(d.datakey_dgst, sha256(dek).toString("hex").toUpperCase());
    });

    it("SM4 CMK takes hex(DEK || SM3(DEK))", async () => {
      const dek = crypto.randomBytes(32);
      const res = await kms.encryptDatakey({ body: {
        key_id: K.sm4,
        plain_text: Buffer.concat([dek, sm3(dek)]).toString("hex"),
        datakey_plain_length: "32",
      } });
      assertOk(res);
      const d = await kms.decryptDatakey({
        body: { key_id: K.sm4, cipher_text: res.cipher_text, datakey_cipher_length: "32" },
      });
      assert.equal(d.data_key.toUpperCase(), dek.toString("hex").toUpperCase());
    });

    it("hash mismatch -> 400 KMS.2103", async () => {
      const dek = crypto.randomBytes(64);
      const wrong = sha256(Buffer.from("something else"));
      await rejectsHuawei(
        kms.encryptDatakey({ body: {
          key_id: K.aes256,
          plain_text: Buffer.concat([dek, wrong]).toString("hex"),
          datakey_plain_length: "64",
        } }),
        400,
        "KMS.2103",
      );
    });

    it("length mismatch -> 400 KMS.2104", async () => {
      const dek = crypto.randomBytes(64);
      await rejectsHuawei(
        kms.encryptDatakey({ body: {
          key_id: K.aes256,
          plain_text: Buffer.concat([dek, sha256(dek)]).toString("hex"),
          datakey_plain_length: "48",
        } }),
        400,
        "KMS.2104",
      );
    });
  });

  describe("encrypt-data / decrypt-data", () => {
    for (const text of ["12345678", "kmsemu contract: héllo, 世界 ✓", "x".repeat(4096)]) {
      it(`round-trips ${text.length} chars of UTF-8 text, decrypt-data without key_id`, async () => {
        const e = await kms.encryptData({ body: { key_id: K.aes256, plain_text: text } });
        assertOk(e);
        assert.equal(e.key_id, K.aes256);
        b64decode(e.cipher_text, "cipher_text");
        const d = await kms.decryptData({ body: { cipher_text: e.cipher_text } });
        assertOk(d);
        assert.equal(d.key_id, K.aes256);
        assert.equal(d.plain_text, text);
      });
    }

    it("cipher_text has the cloud's layout: 124 bytes plus the padded plaintext", async () => {
      for (const text of ["frame", "x".repeat(16), "x".repeat(17)]) {
        const e = await kms.encryptData({ body: { key_id: K.aes256, plain_text: text } });
        assertHuaweiFrame(b64decode(e.cipher_text), K.aes256, text.length);
      }
    });
  });

  describe("additional_authenticated_data", () => {
    const aad = "kmsemu-contract-aad";

    it("encrypt-data/decrypt-data round trip with the same AAD", async () => {
      const e = await kms.encryptData({
        body: { key_id: K.aes256, plain_text: "bound", additional_authenticated_data: aad },
      });
      const d = await kms.decryptData({ body: { cipher_text: e.cipher_text, additional_authenticated_data: aad } });
      assert.equal(d.plain_text, "bound");
    });

    it("decrypt-data with another or no AAD fails", async () => {
      const e = await kms.encryptData({
        body: { key_id: K.aes256, plain_text: "bound", additional_authenticated_data: aad },
      });
      // The reference names no dedicated code; any 400 KMS.* will do.
      await rejectsHuawei(
        kms.decryptData({ body: { cipher_text: e.cipher_text, additional_authenticated_data: "other" } }),
        400,
        /^KMS\.\d{4}$/,
      );
      await rejectsHuawei(kms.decryptData({ body: { cipher_text: e.cipher_text } }), 400, /^KMS\.\d{4}$/);
    });

    it("data keys: create with AAD, decrypt with the same AAD; another AAD fails", async () => {
      const { dek, cipher } = await newDek(K.aes256, { additional_authenticated_data: aad });
      const d = await kms.decryptDatakey({ body: {
        key_id: K.aes256,
        cipher_text: cipher,
        datakey_cipher_length: "64",
        additional_authenticated_data: aad,
      } });
      assert.equal(d.data_key.toUpperCase(), dek.toString("hex").toUpperCase());
      await rejectsHuawei(
        kms.decryptDatakey({ body: {
          key_id: K.aes256,
          cipher_text: cipher,
          datakey_cipher_length: "64",
          additional_authenticated_data: "other",
        } }),
        400,
        /^KMS\.\d{4}$/,
      );
    });
  });

  describe("errors", () => {
    it("unknown key -> 404 KMS.0207", async () => {
      await rejectsHuawei(kms.createDatakey({ body: { key_id: H.absentKey, datakey_length: "512" } }), 404, "KMS.0207");
      await rejectsHuawei(kms.encryptData({ body: { key_id: H.absentKey, plain_text: "x" } }), 404, "KMS.0207");
    });

    it("key of another project -> 404 KMS.0207", async () => {
      await rejectsHuawei(kms.createDatakey({
        body: { key_id: K.otherProject, datakey_length: "512" },
      }), 404, "KMS.0207");
    });

    it("malformed key_id -> 400 KMS.0205", async () => {
      await rejectsHuawei(kms.createDatakey({
        body: { key_id: H.malformedKey, datakey_length: "512" },
      }), 400, "KMS.0205");
    });

    it("disabled key -> 400 KMS.0209", async () => {
      await rejectsHuawei(kms.createDatakey({ body: { key_id: K.disabled, datakey_length: "512" } }), 400, "KMS.0209");
      await rejectsHuawei(kms.encryptData({ body: { key_id: K.disabled, plain_text: "x" } }), 400, "KMS.0209");
    });

    it("pending-deletion key -> 400 KMS.0210", async () => {
      await rejectsHuawei(
        kms.createDatakey({ body: { key_id: K.pendingDeletion, datakey_length: "512" } }),
        400,
        "KMS.0210",
      );
    });

    it("pending-import key cannot make data keys", async () => {
      // The reference names no single code; any 400 KMS.* will do.
      await rejectsHuawei(
        kms.createDatakey({ body: { key_id: K.pendingImport, datakey_length: "512" } }),
        400,
        /^KMS\.\d{4}$/,
      );
    });

    it("missing key_id -> 400 KMS.0204", async () => {
      await rejectsHuawei(kms.createDatakey({ body: { datakey_length: "512" } }), 400, "KMS.0204");
    });

    it("wrong SK -> 401 APIGW.0301 (flat body, unwrapped by the core)", async () => {
      const bad = huaweiClient(server, { sk: "wrong" + H.sk.slice(5) });
      const info = await rejectsHuawei(
        bad.createDatakey({ body: { key_id: K.aes256, datakey_length: "512" } }),
        401,
        "APIGW.0301",
      );
      assert.equal(info.coreErrorCode, "APIGW.0301", "the core reads error_code of a flat body itself");
    });
  });

  it("kmsemu exits 0 on SIGTERM", async () => {
    assert.ok(server, "server started");
    const { code, signal, stderr } = await server.stop();
    assert.equal(signal, null, `kmsemu was killed by ${signal}\n${stderr}`);
    assert.equal(code, 0, `kmsemu exit code after SIGTERM\n${stderr}`);
  });
});
