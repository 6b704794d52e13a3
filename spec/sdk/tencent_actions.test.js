"use strict";
// Contract: every emulated action of Tencent KMS 2019-01-18 through the
// client methods of tencentcloud-sdk-nodejs, against kmsemu running
// scenarios/tencent.lua, with both request methods the SDK offers for
// TC3 (POST JSON body, GET query string).

const { describe, it, before, after } = require("node:test");
const assert = require("node:assert/strict");
const crypto = require("node:crypto");
const { startServer } = require("./server");
const { tencentClient } = require("./clients");
const { b64decode, rejectsTencent } = require("./helpers");

const K = {
  sm4: "10000001-1e38-11e9-b129-5cb9019b4b01",
  disabled: "10000003-1e38-11e9-b129-5cb9019b4b01",
  pendingDelete: "10000004-1e38-11e9-b129-5cb9019b4b01",
  archived: "10000005-1e38-11e9-b129-5cb9019b4b01",
  rotating: "10000006-1e38-11e9-b129-5cb9019b4b01",
  extPending: "20000001-1e38-11e9-b129-5cb9019b4b01",
  rsaDecrypt: "30000001-1e38-11e9-b129-5cb9019b4b01",
  sm2Decrypt: "30000002-1e38-11e9-b129-5cb9019b4b01",
  sm2Sign: "30000003-1e38-11e9-b129-5cb9019b4b01",
  eccSign: "30000004-1e38-11e9-b129-5cb9019b4b01",
  rsa2048Sign: "30000005-1e38-11e9-b129-5cb9019b4b01",
  ecdsa384Sign: "30000006-1e38-11e9-b129-5cb9019b4b01",
  rsa3072Sign: "30000007-1e38-11e9-b129-5cb9019b4b01",
  absent: "00000000-1e38-11e9-b129-000000000000",
};

describe("Tencent KMS, every action, through tencentcloud-sdk-nodejs", () => {
  let server;

  before(async () => {
    server = await startServer({ scenario: "scenarios/tencent.lua" });
  });

  after(async () => {
    if (server) await server.stop();
  });

  // The emulated clock's reading, in unix seconds: what the server dated
  // an answer by lies between two readings taken around the call.
  async function serverNow() {
    return (await (await fetch(`${server.url}/_kmsemu/clock`)).json()).now;
  }

  // 23:59:59 Beijing time (UTC+8) of the day t falls on.
  const endOfBeijingDay = (t) => (Math.floor((t + 8 * 3600) / 86400) + 1) * 86400 - 1 - 8 * 3600;

  for (const reqMethod of ["POST", "GET"]) {
    describe(`reqMethod ${reqMethod}`, () => {
      let kms;
      let seq = 0;

      before(() => {
        kms = tencentClient(server, { reqMethod });
      });

      // A fresh key of this run, so POST and GET runs do not meet.
      async function fresh(extra = {}) {
        seq += 1;
        const r = await kms.CreateKey({ Alias: `${reqMethod.toLowerCase()}-${seq}-${Date.now()}`, ...extra });
        return r.KeyId;
      }

      describe("symmetric", () => {
        it("Encrypt, Decrypt and ReEncrypt", async () => {
          const e = await kms.Encrypt({ KeyId: K.sm4, Plaintext: "dGVzdA==", EncryptionContext: '{"a":"1"}' });
          const same = await kms.ReEncrypt({ CiphertextBlob: e.CiphertextBlob, SourceEncryptionContext: '{"a":"1"}',
            DestinationEncryptionContext: '{"a":"1"}' });
          assert.equal(same.ReEncrypted, false);
          assert.equal(same.CiphertextBlob, e.CiphertextBlob);
          assert.equal(same.SourceKeyId, K.sm4);
          const moved = await kms.ReEncrypt({ CiphertextBlob: e.CiphertextBlob, SourceEncryptionContext: '{"a":"1"}',
            DestinationKeyId: K.rotating });
          assert.equal(moved.ReEncrypted, true);
          assert.equal(moved.KeyId, K.rotating);
          const d = await kms.Decrypt({ CiphertextBlob: moved.CiphertextBlob });
          assert.equal(d.Plaintext, "dGVzdA==");
          assert.equal(d.KeyId, K.rotating);
        });

        it("GenerateDataKey and GenerateRandom", async () => {
          const g = await kms.GenerateDataKey({ KeyId: K.sm4, NumberOfBytes: 24 });
          assert.equal(b64decode(g.Plaintext).length, 24);
          const r = await kms.GenerateRandom({ NumberOfBytes: 64 });
          assert.equal(b64decode(r.Plaintext).length, 64);
          await rejectsTencent(kms.GenerateRandom({ NumberOfBytes: 2000 }), "InvalidParameter");
        });
      });

      describe("lifecycle", () => {
        it("CreateKey and DescribeKey give KeyMetadata with integer and boolean types", async () => {
          const id = await fresh({ Description: "sdk", Tags: [{ TagKey: "env", TagValue: "sdk" }] });
          const { KeyMetadata: m } = await kms.DescribeKey({ KeyId: id });
          assert.equal(m.KeyState, "Enabled");
          assert.equal(m.Description, "sdk");
          assert.equal(m.Type, 4);
          assert.equal(m.KeyRotationEnabled, false);
          assert.ok(Number.isInteger(m.CreateTime) && Number.isInteger(m.CreatorUin));
          assert.equal(m.ResourceId, `creatorUin/700001224419/${id}`);
          const ext = await kms.CreateKey({ Alias: `ext-${reqMethod}-${Date.now()}`, Type: 2 });
          assert.equal(ext.KeyState, "PendingImport");
          await rejectsTencent(kms.CreateKey({ Alias: "kms-reserved" }), "InvalidParameterValue.InvalidAlias");
        });

        it("DescribeKeys, ListKeys and ListKeyDetail", async () => {
          const d = await kms.DescribeKeys({ KeyIds: [K.sm4, K.disabled] });
          assert.deepEqual(d.KeyMetadatas.map((m) => m.KeyState), ["Enabled", "Disabled"]);
          await rejectsTencent(kms.DescribeKeys({ KeyIds: [K.sm4, K.sm4] }), "InvalidParameterValue.DuplicatedKeyId");
          const l = await kms.ListKeys({ Offset: 0, Limit: 2 });
          assert.equal(l.Keys.length, 2);
          assert.ok(l.TotalCount >= 14);
          const detail = await kms.ListKeyDetail({ KeyUsage: "ALL", KeyState: 5, Limit: 200 });
          assert.deepEqual(detail.KeyMetadatas.map((m) => m.KeyId), [K.archived]);
          const tagged = await kms.ListKeyDetail({ TagFilters: [{ TagKey: "team", TagValue: ["core"] }] });
          assert.deepEqual(tagged.KeyMetadatas.map((m) => m.KeyId), [K.sm4]);
          const none = await kms.ListKeyDetail({ SearchKeyAlias: "no-such-alias-anywhere" });
          assert.deepEqual(none.KeyMetadatas, []);
        });

        it("DisableKey, EnableKey, DisableKeys, EnableKeys", async () => {
          const a = await fresh();
          const b = await fresh();
          await kms.DisableKey({ KeyId: a });
          await rejectsTencent(kms.Encrypt({ KeyId: a, Plaintext: "dGVzdA==" }), "ResourceUnavailable.CmkDisabled");
          await kms.EnableKey({ KeyId: a });
          await kms.DisableKeys({ KeyIds: [a, b] });
          const d = await kms.DescribeKeys({ KeyIds: [a, b] });
          assert.deepEqual(d.KeyMetadatas.map((m) => m.KeyState), ["Disabled", "Disabled"]);
          await kms.EnableKeys({ KeyIds: [a, b] });
          await rejectsTencent(kms.EnableKey({ KeyId: K.pendingDelete }), "ResourceUnavailable.CmkStateNotSupport");
        });

        it("ScheduleKeyDeletion and CancelKeyDeletion", async () => {
          const id = await fresh();
          await rejectsTencent(kms.ScheduleKeyDeletion({ KeyId: id, PendingWindowInDays: 7 }),
            "ResourceUnavailable.CmkShouldBeDisabled");
          await kms.DisableKey({ KeyId: id });
          await rejectsTencent(kms.ScheduleKeyDeletion({ KeyId: id, PendingWindowInDays: 31 }),
            "InvalidParameter.InvalidPendingWindowInDays");
          const before = await serverNow();
          const s = await kms.ScheduleKeyDeletion({ KeyId: id, PendingWindowInDays: 7 });
          const after = await serverNow();
          assert.equal(s.KeyId, id);
          assert.ok(s.DeletionDate >= endOfBeijingDay(before + 7 * 86400)
            && s.DeletionDate <= endOfBeijingDay(after + 7 * 86400), `DeletionDate ${s.DeletionDate}`);
          const c = await kms.CancelKeyDeletion({ KeyId: id });
          assert.equal(c.KeyId, id);
          await rejectsTencent(kms.CancelKeyDeletion({ KeyId: id }), "ResourceUnavailable.CmkNotPendingDelete");
        });

        it("UpdateAlias, UpdateKeyDescription, ArchiveKey, CancelKeyArchive", async () => {
          const id = await fresh();
          const alias = `renamed-${reqMethod}-${Date.now()}`;
          await kms.UpdateAlias({ KeyId: id, Alias: alias });
          await kms.UpdateKeyDescription({ KeyId: id, Description: "changed" });
          let { KeyMetadata: m } = await kms.DescribeKey({ KeyId: id });
          assert.equal(m.Alias, alias);
          assert.equal(m.Description, "changed");
          const e = await kms.Encrypt({ KeyId: id, Plaintext: "dGVzdA==" });
          await kms.ArchiveKey({ KeyId: id });
          await rejectsTencent(kms.Encrypt({ KeyId: id, Plaintext: "dGVzdA==" }), "ResourceUnavailable.CmkArchived");
          assert.equal((await kms.Decrypt({ CiphertextBlob: e.CiphertextBlob })).Plaintext, "dGVzdA==");
          await kms.CancelKeyArchive({ KeyId: id });
          ({ KeyMetadata: m } = await kms.DescribeKey({ KeyId: id }));
          assert.equal(m.KeyState, "Enabled");
        });
      });

      describe("rotation", () => {
        it("EnableKeyRotation, GetKeyRotationStatus, RotateKey, DisableKeyRotation", async () => {
          const id = await fresh();
          await rejectsTencent(kms.RotateKey({ KeyId: id }), "UnsupportedOperation.RotateNotSupported");
          await kms.EnableKeyRotation({ KeyId: id, RotateDays: 90 });
          assert.equal((await kms.GetKeyRotationStatus({ KeyId: id })).KeyRotationEnabled, true);
          const before = await kms.Encrypt({ KeyId: id, Plaintext: "b2xk" });
          const r = await kms.RotateKey({ KeyId: id });
          assert.match(r.TaskId, /^[0-9a-f-]{36}$/);
          await rejectsTencent(kms.RotateKey({ KeyId: id }), "RequestLimitExceeded.RotateRateLimited");
          const { KeyMetadata: m } = await kms.DescribeKey({ KeyId: id });
          assert.equal(m.NextRotateTime, m.LastRotateTime + 90 * 86400);
          assert.equal((await kms.Decrypt({ CiphertextBlob: before.CiphertextBlob })).Plaintext, "b2xk");
          assert.equal((await kms.ReEncrypt({ CiphertextBlob: before.CiphertextBlob })).ReEncrypted, true);
          await kms.DisableKeyRotation({ KeyId: id });
          assert.equal((await kms.GetKeyRotationStatus({ KeyId: id })).KeyRotationEnabled, false);
        });
      });

      describe("asymmetric", () => {
        it("GetPublicKey and AsymmetricRsaDecrypt", async () => {
          const pk = await kms.GetPublicKey({ KeyId: K.rsaDecrypt });
          const key = crypto.createPublicKey(pk.PublicKeyPem);
          assert.deepEqual(key.export({ type: "spki", format: "der" }), b64decode(pk.PublicKey));
          const ct = crypto.publicEncrypt({ key, padding: crypto.constants.RSA_PKCS1_OAEP_PADDING, oaepHash: "sha256" },
            Buffer.from("rsa secret"));
          const r = await kms.AsymmetricRsaDecrypt({ KeyId: K.rsaDecrypt, Ciphertext: ct.toString("base64"),
            Algorithm: "RSAES_OAEP_SHA_256" });
          assert.equal(b64decode(r.Plaintext).toString(), "rsa secret");
          await rejectsTencent(kms.AsymmetricRsaDecrypt({ KeyId: K.rsaDecrypt, Ciphertext: ct.toString("base64"),
            Algorithm: "RSAES_OAEP_SHA_1" }), "FailedOperation.DecryptError");
        });

        it("AsymmetricSm2Decrypt of what GenerateDataKey wrapped for the key", async () => {
          const pk = await kms.GetPublicKey({ KeyId: K.sm2Decrypt });
          const g = await kms.GenerateDataKey({ KeyId: K.sm4, KeySpec: "AES_128",
            EncryptionPublicKey: pk.PublicKeyPem, EncryptionAlgorithm: "SM2_C1C3C2_ASN1" });
          const plain = await kms.Decrypt({ CiphertextBlob: g.CiphertextBlob });
          const r = await kms.AsymmetricSm2Decrypt({ KeyId: K.sm2Decrypt, Ciphertext: g.Plaintext });
          assert.equal(r.Plaintext, plain.Plaintext);
          await rejectsTencent(kms.AsymmetricSm2Decrypt({ KeyId: K.rsaDecrypt, Ciphertext: g.Plaintext }),
            "InvalidParameterValue.InvalidKeyUsage");
        });

        const SIGNERS = [
          [K.eccSign, "ECC_P256_R1", "sha256", {}],
          [K.ecdsa384Sign, "ECC_P384_R1", "sha384", {}],
          [K.rsa2048Sign, "RSA_PKCS1_SHA_256", "sha256", { padding: crypto.constants.RSA_PKCS1_PADDING }],
          [K.rsa2048Sign, "RSA_PSS_SHA_256", "sha256",
            { padding: crypto.constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }],
          [K.rsa3072Sign, "RSA_PSS_SHA_512", "sha512",
            { padding: crypto.constants.RSA_PKCS1_PSS_PADDING, saltLength: 64 }],
        ];
        for (const [keyId, alg, hash, opts] of SIGNERS) {
          it(`SignByAsymmetricKey ${alg}, RAW and DIGEST, checked by node:crypto`, async () => {
            const pem = (await kms.GetPublicKey({ KeyId: keyId })).PublicKeyPem;
            const msg = Buffer.from("signed by kmsemu");
            const digest = crypto.createHash(hash).update(msg).digest();
            for (const [type, m] of [["RAW", msg], ["DIGEST", digest]]) {
              const s = await kms.SignByAsymmetricKey({ KeyId: keyId, Algorithm: alg, MessageType: type,
                Message: m.toString("base64") });
              const ok = crypto.verify(hash, msg, { key: pem, ...opts }, b64decode(s.Signature));
              assert.equal(ok, true, `${alg} ${type}`);
              const v = await kms.VerifyByAsymmetricKey({ KeyId: keyId, Algorithm: alg, MessageType: type,
                Message: m.toString("base64"), SignatureValue: s.Signature });
              assert.equal(v.SignatureValid, true);
            }
          });
        }

        it("SM2DSA signs and verifies; a changed message does not verify", async () => {
          const s = await kms.SignByAsymmetricKey({ KeyId: K.sm2Sign, Algorithm: "SM2DSA", Message: "dGVzdAo=" });
          assert.match(b64decode(s.Signature).subarray(0, 1).toString("hex"), /^30$/);
          const good = await kms.VerifyByAsymmetricKey({ KeyId: K.sm2Sign, Algorithm: "SM2DSA", Message: "dGVzdAo=",
            SignatureValue: s.Signature });
          assert.equal(good.SignatureValid, true);
          const bad = await kms.VerifyByAsymmetricKey({ KeyId: K.sm2Sign, Algorithm: "SM2DSA", Message: "dGVzdA==",
            SignatureValue: s.Signature });
          assert.equal(bad.SignatureValid, false);
        });
      });

      describe("import", () => {
        it("GetParametersForImport, ImportKeyMaterial, DeleteImportedKeyMaterial", async () => {
          const id = (await kms.CreateKey({ Alias: `byok-${reqMethod}-${Date.now()}`, Type: 2 })).KeyId;
          const before = await serverNow();
          const p = await kms.GetParametersForImport({ KeyId: id, WrappingAlgorithm: "RSAES_OAEP_SHA_1",
            WrappingKeySpec: "RSA_2048" });
          const after = await serverNow();
          assert.ok(p.ParametersValidTo >= before + 86400 && p.ParametersValidTo <= after + 86400,
            `ParametersValidTo ${p.ParametersValidTo}`);
          const wrappingKey = crypto.createPublicKey({ key: b64decode(p.PublicKey), format: "der", type: "spki" });
          const material = crypto.randomBytes(16);
          const wrapped = crypto.publicEncrypt({ key: wrappingKey, padding: crypto.constants.RSA_PKCS1_OAEP_PADDING,
            oaepHash: "sha1" }, material);
          const validTo = Math.floor(Date.now() / 1000) + 3600;
          await kms.ImportKeyMaterial({ KeyId: id, ImportToken: p.ImportToken,
            EncryptedKeyMaterial: wrapped.toString("base64"), ValidTo: validTo });
          const { KeyMetadata: m } = await kms.DescribeKey({ KeyId: id });
          assert.equal(m.KeyState, "Enabled");
          assert.equal(m.Origin, "EXTERNAL");
          assert.equal(m.ValidTo, validTo);
          const other = crypto.publicEncrypt({ key: wrappingKey, padding: crypto.constants.RSA_PKCS1_OAEP_PADDING,
            oaepHash: "sha1" }, crypto.randomBytes(16));
          await rejectsTencent(kms.ImportKeyMaterial({ KeyId: id, ImportToken: p.ImportToken,
            EncryptedKeyMaterial: other.toString("base64") }), "InvalidParameterValue.MaterialNotMatch");
          await kms.DeleteImportedKeyMaterial({ KeyId: id });
          assert.equal((await kms.DescribeKey({ KeyId: id })).KeyMetadata.KeyState, "PendingImport");
          await rejectsTencent(kms.GetParametersForImport({ KeyId: K.sm4, WrappingAlgorithm: "RSAES_OAEP_SHA_1",
            WrappingKeySpec: "RSA_2048" }), "UnsupportedOperation.NotExternalCmk");
        });
      });

      describe("service and binding", () => {
        it("GetServiceStatus, GetRegions, ListAlgorithms", async () => {
          const s = await kms.GetServiceStatus({});
          assert.equal(s.ServiceEnabled, true);
          assert.equal(s.CmkLimit, 200);
          const r = await kms.GetRegions({});
          assert.ok(r.Regions.includes("ap-guangzhou"));
          const a = await kms.ListAlgorithms({});
          assert.deepEqual(a.SymmetricAlgorithms, [{ KeyUsage: "ENCRYPT_DECRYPT", Algorithm: "SM4" }]);
        });

        it("BindCloudResource and UnbindCloudResource", async () => {
          const id = await fresh();
          const bind = { KeyId: id, ProductId: "ssm", ResourceId: `secret-${reqMethod}` };
          await kms.BindCloudResource(bind);
          await rejectsTencent(kms.DisableKey({ KeyId: id }), "FailedOperation.CmkUsedByCloudProduct");
          await kms.UnbindCloudResource(bind);
          await rejectsTencent(kms.UnbindCloudResource(bind), "ResourceUnavailable.CloudResourceBindingNotFound");
          await kms.DisableKey({ KeyId: id });
        });
      });

      it("the white-box key service is activated", async () => {
        assert.equal((await kms.DescribeWhiteBoxServiceStatus({})).ServiceEnabled, true);
      });
    });
  }
});
