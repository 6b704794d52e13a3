"use strict";
// Contract: tencentcloud-sdk-nodejs (kms v20190118) against kmsemu running
// scenarios/default.lua. Every case runs with both request methods the SDK
// offers for signature v3: POST (JSON body) and GET (query string).

const { describe, it, before, after } = require("node:test");
const assert = require("node:assert/strict");
const crypto = require("node:crypto");
const { startServer } = require("./server");
const { tencentClient } = require("./clients");
const fx = require("./fixtures");
const { b64decode, rejectsTencent, rsaDecrypt } = require("./helpers");

const T = fx.tencent;
const K = T.keys;
const BLOB_RE = /^[A-Za-z0-9+/]+={0,2}(?:-k-[A-Za-z0-9+/]+={0,2})+$/;

describe("Tencent KMS through tencentcloud-sdk-nodejs", () => {
  let server;

  before(async () => {
    server = await startServer();
  });

  // Safety net; the last test below stops the server and checks the exit.
  after(async () => {
    if (server) await server.stop();
  });

  for (const reqMethod of ["POST", "GET"]) {
    describe(`reqMethod ${reqMethod}`, () => {
      let kms;

      before(() => {
        kms = tencentClient(server, { reqMethod });
      });

      async function generate(req) {
        const res = await kms.GenerateDataKey(req);
        assert.equal(res.KeyId, req.KeyId, "KeyId echoes the CMK");
        assert.equal(typeof res.RequestId, "string");
        assert.ok(res.RequestId.length > 0, "RequestId is not empty");
        assert.equal(typeof res.CiphertextBlob, "string");
        assert.ok(res.CiphertextBlob.length > 0, "CiphertextBlob is not empty");
        return res;
      }

      async function decrypt(req) {
        const res = await kms.Decrypt(req);
        assert.equal(typeof res.RequestId, "string");
        assert.ok(res.RequestId.length > 0, "RequestId is not empty");
        return res;
      }

      describe("GenerateDataKey + Decrypt", () => {
        for (const [keySpec, bytes] of [
          ["AES_256", 32],
          ["AES_128", 16],
        ]) {
          for (const keyId of [K.enabled, K.enabledAes256]) {
            it(`KeySpec ${keySpec} gives ${bytes} bytes that Decrypt returns (CMK ${keyId})`, async () => {
              const g = await generate({ KeyId: keyId, KeySpec: keySpec });
              const dek = b64decode(g.Plaintext, "Plaintext");
              assert.equal(dek.length, bytes);
              const d = await decrypt({ CiphertextBlob: g.CiphertextBlob });
              assert.equal(d.KeyId, keyId, "Decrypt names the CMK from the blob");
              assert.deepEqual(b64decode(d.Plaintext, "Decrypt Plaintext"), dek);
            });
          }
        }

        it("NumberOfBytes 1..1024 gives that many bytes, each decrypting back", async () => {
          for (let n = 1; n <= 1024; n++) {
            const g = await generate({ KeyId: K.enabled, NumberOfBytes: n });
            const dek = b64decode(g.Plaintext, `Plaintext (${n})`);
            assert.equal(dek.length, n, `NumberOfBytes ${n}`);
            const d = await decrypt({ CiphertextBlob: g.CiphertextBlob });
            assert.deepEqual(b64decode(d.Plaintext), dek, `round trip of ${n} bytes`);
          }
        });

        it("NumberOfBytes wins over KeySpec", async () => {
          for (const [keySpec, n] of [
            ["AES_256", 7],
            ["AES_128", 48],
            ["AES_256", 1024],
          ]) {
            const g = await generate({ KeyId: K.enabled, KeySpec: keySpec, NumberOfBytes: n });
            assert.equal(b64decode(g.Plaintext).length, n, `${keySpec} + NumberOfBytes ${n}`);
          }
        });

        it("two data keys differ", async () => {
          const a = await generate({ KeyId: K.enabled, KeySpec: "AES_256" });
          const b = await generate({ KeyId: K.enabled, KeySpec: "AES_256" });
          assert.notEqual(a.Plaintext, b.Plaintext);
          assert.notEqual(a.CiphertextBlob, b.CiphertextBlob);
        });

        it("CiphertextBlob is Base64 segments joined by -k- (design)", async () => {
          const g = await generate({ KeyId: K.enabled, KeySpec: "AES_256" });
          assert.match(g.CiphertextBlob, BLOB_RE);
        });

        it("NumberOfBytes outside 1..1024 is rejected", async () => {
          await rejectsTencent(kms.GenerateDataKey({ KeyId: K.enabled, NumberOfBytes: 1025 }), /^InvalidParameter/);
          await rejectsTencent(
            kms.GenerateDataKey({ KeyId: K.enabled, KeySpec: "AES_256", NumberOfBytes: 0 }),
            /^InvalidParameter/,
          );
        });
      });

      describe("EncryptionContext", () => {
        const ctx = JSON.stringify({ app: "kmsemu", purpose: "contract" });

        it("GenerateDataKey with a context decrypts with the same context", async () => {
          const g = await generate({ KeyId: K.enabled, KeySpec: "AES_256", EncryptionContext: ctx });
          const d = await decrypt({ CiphertextBlob: g.CiphertextBlob, EncryptionContext: ctx });
          assert.equal(d.KeyId, K.enabled);
          assert.equal(d.Plaintext, g.Plaintext);
        });

        it("Decrypt with a different context fails", async () => {
          const g = await generate({ KeyId: K.enabled, KeySpec: "AES_256", EncryptionContext: ctx });
          // The reference leaves the exact code open; any API error will do.
          await rejectsTencent(
            kms.Decrypt({ CiphertextBlob: g.CiphertextBlob, EncryptionContext: JSON.stringify({ app: "other" }) }),
            /./,
          );
        });

        it("Decrypt without the context fails", async () => {
          const g = await generate({ KeyId: K.enabled, KeySpec: "AES_256", EncryptionContext: ctx });
          await rejectsTencent(kms.Decrypt({ CiphertextBlob: g.CiphertextBlob }), /./);
        });

        it("Encrypt with a context round-trips, and fails with another", async () => {
          const pt = Buffer.from("context-bound secret").toString("base64");
          const e = await kms.Encrypt({ KeyId: K.enabled, Plaintext: pt, EncryptionContext: ctx });
          const d = await decrypt({ CiphertextBlob: e.CiphertextBlob, EncryptionContext: ctx });
          assert.equal(d.Plaintext, pt);
          await rejectsTencent(
            kms.Decrypt({ CiphertextBlob: e.CiphertextBlob, EncryptionContext: '{"app":"x"}' }),
            /./,
          );
        });
      });

      describe("Encrypt + Decrypt", () => {
        const cases = [
          ["one byte", Buffer.from([0x00])],
          ["UTF-8 text", Buffer.from("kmsemu contract: héllo, 世界", "utf8")],
          ["4096 random bytes", crypto.randomBytes(4096)],
        ];
        for (const [name, data] of cases) {
          for (const keyId of [K.enabled, K.enabledAes256]) {
            it(`round-trips ${name} (CMK ${keyId})`, async () => {
              const pt = data.toString("base64");
              const e = await kms.Encrypt({ KeyId: keyId, Plaintext: pt });
              assert.equal(e.KeyId, keyId);
              assert.equal(typeof e.CiphertextBlob, "string");
              assert.ok(e.RequestId.length > 0);
              const d = await decrypt({ CiphertextBlob: e.CiphertextBlob });
              assert.equal(d.KeyId, keyId);
              assert.deepEqual(b64decode(d.Plaintext), data);
            });
          }
        }
      });

      describe("EncryptionPublicKey (RSA-2048)", () => {
        const { publicKey, privateKey } = crypto.generateKeyPairSync("rsa", { modulusLength: 2048 });
        const pem = publicKey.export({ type: "spki", format: "pem" });

        for (const alg of ["RSAES_PKCS1_V1_5", "RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256"]) {
          it(`GenerateDataKey ${alg}: Plaintext is the data key under the public key`, async () => {
            const g = await generate({
              KeyId: K.enabled,
              KeySpec: "AES_256",
              EncryptionPublicKey: pem,
              EncryptionAlgorithm: alg,
            });
            const wrapped = b64decode(g.Plaintext, "Plaintext");
            assert.equal(wrapped.length, 256, "one RSA-2048 block");
            const dek = rsaDecrypt(privateKey, alg, wrapped);
            assert.equal(dek.length, 32);
            const d = await decrypt({ CiphertextBlob: g.CiphertextBlob });
            assert.deepEqual(b64decode(d.Plaintext), dek, "Decrypt of CiphertextBlob gives the same key");
          });

          it(`Decrypt ${alg}: Plaintext comes back under the public key`, async () => {
            const g = await generate({ KeyId: K.enabled, KeySpec: "AES_256" });
            const d = await decrypt({
              CiphertextBlob: g.CiphertextBlob,
              EncryptionPublicKey: pem,
              EncryptionAlgorithm: alg,
            });
            assert.equal(d.KeyId, K.enabled);
            const dek = rsaDecrypt(privateKey, alg, b64decode(d.Plaintext));
            assert.deepEqual(dek, b64decode(g.Plaintext));
          });
        }
      });

      describe("errors", () => {
        it("unknown key -> ResourceUnavailable.CmkNotFound", async () => {
          await rejectsTencent(
            kms.GenerateDataKey({ KeyId: T.absentKey, KeySpec: "AES_256" }),
            "ResourceUnavailable.CmkNotFound",
          );
          await rejectsTencent(
            kms.Encrypt({ KeyId: T.absentKey, Plaintext: "dGVzdA==" }),
            "ResourceUnavailable.CmkNotFound",
          );
        });

        it("key of another region -> ResourceUnavailable.CmkNotFound", async () => {
          await rejectsTencent(
            kms.GenerateDataKey({ KeyId: K.otherRegion, KeySpec: "AES_256" }),
            "ResourceUnavailable.CmkNotFound",
          );
        });

        it("malformed KeyId -> InvalidParameterValue.InvalidKeyId", async () => {
          await rejectsTencent(
            kms.GenerateDataKey({ KeyId: T.malformedKey, KeySpec: "AES_256" }),
            "InvalidParameterValue.InvalidKeyId",
          );
        });

        it("disabled key -> ResourceUnavailable.CmkDisabled", async () => {
          await rejectsTencent(
            kms.GenerateDataKey({ KeyId: K.disabled, KeySpec: "AES_256" }),
            "ResourceUnavailable.CmkDisabled",
          );
          await rejectsTencent(
            kms.Encrypt({ KeyId: K.disabled, Plaintext: "dGVzdA==" }),
            "ResourceUnavailable.CmkDisabled",
          );
        });

        it("pending-delete key -> ResourceUnavailable.KeyPendingDelete on GenerateDataKey", async () => {
          await rejectsTencent(
            kms.GenerateDataKey({ KeyId: K.pendingDelete, KeySpec: "AES_256" }),
            "ResourceUnavailable.KeyPendingDelete",
          );
        });

        it("pending-import key cannot make data keys", async () => {
          // The reference names no single code; a ResourceUnavailable.* one.
          await rejectsTencent(
            kms.GenerateDataKey({ KeyId: K.pendingImport, KeySpec: "AES_256" }),
            /^ResourceUnavailable\./,
          );
        });

        it("invalid CiphertextBlob -> InvalidParameterValue.InvalidCiphertext", async () => {
          await rejectsTencent(
            kms.Decrypt({ CiphertextBlob: "bm90LWEtY2lwaGVydGV4dA==" }),
            "InvalidParameterValue.InvalidCiphertext",
          );
        });

        it("missing KeyId -> MissingParameter", async () => {
          await rejectsTencent(kms.GenerateDataKey({ KeySpec: "AES_256" }), "MissingParameter");
        });

        it("wrong SecretKey -> AuthFailure.SignatureFailure", async () => {
          const bad = tencentClient(server, { reqMethod, secretKey: "wrong" + T.secretKey.slice(5) });
          await rejectsTencent(
            bad.GenerateDataKey({ KeyId: K.enabled, KeySpec: "AES_256" }),
            "AuthFailure.SignatureFailure",
          );
        });

        it("unknown SecretId -> AuthFailure.SecretIdNotFound", async () => {
          const bad = tencentClient(server, { reqMethod, secretId: T.unknownSecretId });
          await rejectsTencent(
            bad.GenerateDataKey({ KeyId: K.enabled, KeySpec: "AES_256" }),
            "AuthFailure.SecretIdNotFound",
          );
        });

        it("unknown action -> InvalidAction", async () => {
          await rejectsTencent(kms.request("NoSuchAction", {}), "InvalidAction");
        });
      });
    });
  }

  it("kmsemu exits 0 on SIGTERM", async () => {
    assert.ok(server, "server started");
    const { code, signal, stderr } = await server.stop();
    assert.equal(signal, null, `kmsemu was killed by ${signal}\n${stderr}`);
    assert.equal(code, 0, `kmsemu exit code after SIGTERM\n${stderr}`);
  });
});
