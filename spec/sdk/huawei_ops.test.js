"use strict";
// Contract: every Huawei KMS operation kmsemu serves, sent by
// @huaweicloud/huaweicloud-sdk-core's real signer and HTTP client (see
// clients.js), against scenarios/huawei.lua. Each answer is checked for the
// JSON types the SDK models declare: most numbers are strings, a few are
// integers or booleans.

const { describe, it, before, after } = require("node:test");
const assert = require("node:assert/strict");
const crypto = require("node:crypto");
const { startServer } = require("./server");
const { huaweiClient } = require("./clients");
const fx = require("./fixtures");
const { b64decode, hexdecode, rejectsHuawei } = require("./helpers");

// These mirror scenarios/huawei.lua.
const K = {
  aes: "0d0466b0-e727-4d9c-b35d-f84bb474a37f",
  sm4: "5f3c2a10-6b7d-4e8f-9a01-23456789abcd",
  rsaSign: "a0000001-0000-4000-8000-000000000001",
  rsaEnc: "a0000001-0000-4000-8000-000000000002",
  p256: "a0000001-0000-4000-8000-000000000005",
  sm2Enc: "a0000001-0000-4000-8000-000000000009",
  hmac256: "b0000001-0000-4000-8000-000000000256",
  disabled: "7e1d2c3b-4a59-4687-9abc-def012345678",
  pendingImport: "9b8a7c6d-5e4f-4321-8fed-cba987654321",
  tagged: "d0000001-0000-4000-8000-000000000001",
};
const OWNER = { password: "owner-password", name: "owner", domain: "kmsemu-domain" };
const GRANTEE = { ak: "HWAKGRANTEE000000000", sk: "HWSKGRANTEEsecret000000000000000000000",
  userId: "b1b2b3b4b5b6b7b8b9babbbcbdbebfb0" };

const isStr = (v, what) => assert.equal(typeof v, "string", `${what} is a string`);
const isInt = (v, what) => assert.ok(Number.isInteger(v), `${what} is an integer (got ${JSON.stringify(v)})`);
const isBool = (v, what) => assert.equal(typeof v, "boolean", `${what} is a boolean`);
const ok = (res, status = 200) => assert.equal(res.httpStatusCode, status, `HTTP ${status}`);

const KEY_DETAILS = ["key_id", "domain_id", "key_alias", "realm", "key_spec", "key_usage", "key_description",
  "creation_date", "scheduled_deletion_date", "key_state", "default_key_flag", "key_type", "expiration_time",
  "origin", "key_rotation_enabled", "sys_enterprise_project_id", "keystore_id"];

function assertKeyDetails(d) {
  for (const f of KEY_DETAILS) isStr(d[f], `KeyDetails.${f}`);
  assert.match(d.key_state, /^[1-5]$/);
}

describe("Huawei KMS, every operation, through the SDK core", () => {
  let server;
  let kms;
  let counter = 0;
  const alias = () => `sdk/key-${++counter}`;

  before(async () => {
    server = await startServer({ scenario: "scenarios/huawei.lua" });
    kms = huaweiClient(server);
  });
  after(async () => {
    if (server) await server.stop();
  });

  describe("lifecycle", () => {
    it("create-key, describe-key (listKeyDetail)", async () => {
      const r = await kms.createKey({ body: { key_alias: alias(), key_spec: "SM4", key_description: "from node" } });
      ok(r);
      isStr(r.key_info.key_id, "key_id");
      isStr(r.key_info.domain_id, "domain_id");
      const d = await kms.listKeyDetail({ body: { key_id: r.key_info.key_id } });
      ok(d);
      assertKeyDetails(d.key_info);
      assert.equal(d.key_info.key_spec, "SM4");
      assert.equal(d.key_info.key_state, "2");
      await rejectsHuawei(kms.createKey({ body: { key_alias: "evs/default" } }), 400, "KMS.1101");
    });

    it("list-keys pages with string markers and an integer total", async () => {
      const r = await kms.listKeys({ body: { key_spec: "ALL", limit: "3" } });
      ok(r);
      assert.equal(r.keys.length, 3);
      r.key_details.forEach(assertKeyDetails);
      isInt(r.total, "total");
      assert.equal(r.truncated, "true");
      assert.equal(r.next_marker, "3");
      const next = await kms.listKeys({ body: { key_spec: "ALL", limit: "3", marker: r.next_marker } });
      assert.notEqual(next.keys[0], r.keys[0]);
      await rejectsHuawei(kms.listKeys({ body: { limit: "0" } }), 400, "KMS.1601");
    });

    it("disable-key, enable-key with KeyStatusInfo", async () => {
      const id = (await kms.createKey({ body: { key_alias: alias() } })).key_info.key_id;
      const d = await kms.disableKey({ body: { key_id: id } });
      assert.deepEqual({ ...d.key_info }, { key_id: id, key_state: "3" });
      await rejectsHuawei(kms.disableKey({ body: { key_id: id } }), 400, "KMS.1301");
      const e = await kms.enableKey({ body: { key_id: id } });
      assert.equal(e.key_info.key_state, "2");
      await rejectsHuawei(kms.enableKey({ body: { key_id: id } }), 400, "KMS.1201");
    });

    it("schedule-key-deletion (deleteKey) and cancel-key-deletion", async () => {
      const id = (await kms.createKey({ body: { key_alias: alias() } })).key_info.key_id;
      const s = await kms.deleteKey({ body: { key_id: id, pending_days: "7" } });
      ok(s);
      assert.equal(s.key_state, "4");
      const d = await kms.listKeyDetail({ body: { key_id: id } });
      assert.match(d.key_info.scheduled_deletion_date, /^\d{13}$/);
      await rejectsHuawei(kms.encryptData({ body: { key_id: id, plain_text: "x" } }), 400, "KMS.0210");
      const c = await kms.cancelKeyDeletion({ body: { key_id: id } });
      assert.equal(c.key_state, "3");
      await rejectsHuawei(kms.deleteKey({ body: { key_id: id, pending_days: "6" } }), 400, "KMS.1401");
      await rejectsHuawei(kms.cancelKeyDeletion({ body: { key_id: id } }), 400, "KMS.1501");
    });

    it("update-key-alias and update-key-description", async () => {
      const id = (await kms.createKey({ body: { key_alias: alias() } })).key_info.key_id;
      const a = await kms.updateKeyAlias({ body: { key_id: id, key_alias: "sdk/renamed" } });
      assert.deepEqual({ ...a.key_info }, { key_id: id, key_alias: "sdk/renamed" });
      const d = await kms.updateKeyDescription({ body: { key_id: id, key_description: "words" } });
      assert.deepEqual({ ...d.key_info }, { key_id: id, key_description: "words" });
      await rejectsHuawei(kms.updateKeyAlias({ body: { key_id: id, key_alias: "hw/aes" } }), 400, "KMS.1104");
    });

    it("user-instances and user-quotas answer integers", async () => {
      const i = await kms.showUserInstances();
      ok(i);
      isInt(i.instance_num, "instance_num");
      const q = await kms.showUserQuotas();
      for (const r of q.quotas.resources) {
        isStr(r.type, "type");
        isInt(r.used, "used");
        isInt(r.quota, "quota");
      }
      assert.deepEqual(q.quotas.resources.map((r) => r.type), ["CMK", "grant_per_CMK"]);
    });

    it("GET / and GET /v1.0 (showVersions, showVersion)", async () => {
      const v = await kms.showVersions();
      ok(v);
      assert.equal(v.versions[0].id, "v1.0");
      for (const f of ["id", "version", "status", "updated", "min_version"]) isStr(v.versions[0][f], f);
      const one = await kms.showVersion({ version_id: "v1.0" });
      assert.equal(one.version.status, "CURRENT");
    });

    it("unknown key -> 404 KMS.0207", async () => {
      await rejectsHuawei(kms.listKeyDetail({
        body: { key_id: "00000000-0000-4000-8000-000000000000" },
      }), 404, "KMS.0207");
    });
  });

  describe("aliases", () => {
    it("create, list (an array of pages), associate, delete", async () => {
      const c = await kms.createAlias({ body: { key_id: K.aes, alias: "alias/sdk" } });
      ok(c);
      for (const f of ["domain_id", "key_id", "alias", "alias_urn", "create_time", "update_time"]) isStr(c[f], f);
      const l = await kms.listAliases({ key_id: K.aes });
      ok(l);
      assert.equal(l[0].aliases[0].alias, "alias/sdk");
      isInt(l[0].page_info.current_count, "current_count");
      const a = await kms.associateAlias({ body: { alias: "alias/sdk", target_key_id: K.sm4 } });
      assert.equal(a.key_id, K.sm4);
      ok(await kms.deleteAlias({ body: { key_id: K.sm4, aliases: ["alias/sdk"] } }));
      assert.equal((await kms.listAliases({}))[0].aliases.length, 0);
    });
  });

  describe("data", () => {
    it("re-encrypt moves a ciphertext between keys", async () => {
      const e = await kms.encryptData({ body: { key_id: K.aes, plain_text: "move me" } });
      const r = await kms.reEncrypt({ body: { cipher_text: e.cipher_text, destination_key_id: K.sm4 } });
      ok(r);
      for (const f of ["key_id", "source_key_id", "source_encryption_algorithm",
        "destination_encryption_algorithm", "cipher_text"]) isStr(r[f], f);
      const d = await kms.decryptData({ body: { cipher_text: r.cipher_text } });
      assert.equal(d.plain_text, "move me");
    });

    it("gen-random (createRandom) answers hex of the requested bits", async () => {
      const r = await kms.createRandom({ body: { random_data_length: "512" } });
      assert.equal(hexdecode(r.random_data).length, 64);
      await rejectsHuawei(kms.createRandom({ body: { random_data_length: "12" } }), 400, "KMS.1802");
    });

    it("encrypt-data / decrypt-data with RSAES_OAEP_SHA_256 and SM2_ENCRYPT", async () => {
      for (const [keyId, alg] of [[K.rsaEnc, "RSAES_OAEP_SHA_256"], [K.sm2Enc, "SM2_ENCRYPT"]]) {
        const e = await kms.encryptData({ body: { key_id: keyId, plain_text: "asym", encryption_algorithm: alg } });
        b64decode(e.cipher_text, "cipher_text");
        const d = await kms.decryptData({
          body: { key_id: keyId, cipher_text: e.cipher_text, encryption_algorithm: alg },
        });
        assert.equal(d.plain_text, "asym");
        assert.equal(b64decode(d.plain_text_base64).toString(), "asym");
      }
      const pub = (await kms.showPublicKey({ body: { key_id: K.rsaEnc } })).public_key;
      const mine = crypto.publicEncrypt({ key: pub, padding: crypto.constants.RSA_PKCS1_OAEP_PADDING,
        oaepHash: "sha256" }, Buffer.from("from node"));
      const d = await kms.decryptData({ body: { key_id: K.rsaEnc, cipher_text: mine.toString("base64"),
        encryption_algorithm: "RSAES_OAEP_SHA_256" } });
      assert.equal(d.plain_text, "from node");
    });

    it("create-rsa-datakey-pair and create-ec-datakey-pair", async () => {
      const r = await kms.createRsaDatakeyPair({ body: { key_id: K.aes, key_spec: "RSA_2048" } });
      ok(r);
      for (const f of ["key_id", "key_spec", "public_key", "private_key_cipher_text", "private_key_plain_text"]) {
        isStr(r[f], f);
      }
      const priv = crypto.createPrivateKey({ key: b64decode(r.private_key_plain_text), format: "der", type: "pkcs8" });
      const pub = crypto.createPublicKey({ key: b64decode(r.public_key), format: "der", type: "spki" });
      assert.deepEqual(crypto.createPublicKey(priv).export({ format: "der", type: "spki" }),
        pub.export({ format: "der", type: "spki" }));
      const e = await kms.createEcDatakeyPair({
        body: { key_id: K.aes, key_spec: "ECC_NIST_P256", with_plain_text: false },
      });
      assert.equal(e.private_key_plain_text, undefined);
      const p521 = await kms.createEcDatakeyPair({ body: { key_id: K.aes, key_spec: "ECC_NIST_P521" } });
      assert.equal(crypto.createPublicKey({ key: b64decode(p521.public_key), format: "der", type: "spki" })
        .asymmetricKeyDetails.namedCurve, "secp521r1");
    });
  });

  describe("asymmetric and MAC", () => {
    it("get-publickey, sign and verify (validateSignature) with RAW and DIGEST", async () => {
      const pem = (await kms.showPublicKey({ body: { key_id: K.p256 } })).public_key;
      const msg = Buffer.from("signed by kmsemu");
      const raw = await kms.sign({ body: { key_id: K.p256, signing_algorithm: "ECDSA_SHA_256", message_type: "RAW",
        message: msg.toString("base64") } });
      ok(raw);
      assert.ok(crypto.verify("sha256", msg, pem, b64decode(raw.signature)), "node verifies the signature");
      const digest = crypto.createHash("sha256").update(msg).digest();
      const v = await kms.validateSignature({ body: { key_id: K.p256, signing_algorithm: "ECDSA_SHA_256",
        message: digest.toString("base64"), signature: raw.signature } });
      assert.deepEqual({ ...v, httpStatusCode: undefined }, { key_id: K.p256, signature_valid: "true", httpStatusCode: undefined });
      const bad = await kms.validateSignature({ body: { key_id: K.p256, signing_algorithm: "ECDSA_SHA_256",
        message: Buffer.alloc(32).toString("base64"), signature: raw.signature } });
      assert.equal(bad.signature_valid, "false");
      const pss = await kms.sign({ body: { key_id: K.rsaSign, signing_algorithm: "RSASSA_PSS_SHA_256",
        message: digest.toString("base64") } });
      const rsaPem = (await kms.showPublicKey({ body: { key_id: K.rsaSign } })).public_key;
      assert.ok(crypto.verify("sha256", msg, { key: rsaPem, padding: crypto.constants.RSA_PKCS1_PSS_PADDING,
        saltLength: 32 }, b64decode(pss.signature)));
      await rejectsHuawei(kms.sign({ body: { key_id: K.aes, signing_algorithm: "ECDSA_SHA_256",
        message: digest.toString("base64") } }), 400, "KMS.1115");
    });

    it("derive-shared-secret agrees with node's ECDH", async () => {
      const pem = (await kms.showPublicKey({ body: { key_id: K.p256 } })).public_key;
      const peer = crypto.generateKeyPairSync("ec", { namedCurve: "prime256v1" });
      const d = await kms.deriveSharedSecret({ body: { key_id: K.p256, key_agreement_algorithm: "ECDH",
        public_key: peer.publicKey.export({ format: "der", type: "spki" }).toString("base64") } });
      ok(d);
      assert.deepEqual(Object.keys(d).filter((k) => k !== "httpStatusCode").sort(),
        ["key_agreement_algorithm", "key_id", "shared_secret"]);
      for (const f of ["key_id", "key_agreement_algorithm", "shared_secret"]) isStr(d[f], f);
      assert.equal(d.key_agreement_algorithm, "ECDH");
      const expected = crypto.diffieHellman({ privateKey: peer.privateKey, publicKey: crypto.createPublicKey(pem) });
      assert.equal(d.shared_secret, expected.toString("base64"));
      await rejectsHuawei(kms.deriveSharedSecret({ body: { key_id: K.aes, key_agreement_algorithm: "ECDH",
        public_key: peer.publicKey.export({ format: "der", type: "spki" }).toString("base64") } }), 400, "KMS.0331");
    });

    it("generate-mac and verify-mac (mac_valid is a boolean)", async () => {
      const msg = Buffer.from("mac me").toString("base64");
      const g = await kms.generateMac({ body: { key_id: K.hmac256, mac_algorithm: "HMAC_SHA_256", message: msg } });
      ok(g);
      assert.equal(b64decode(g.mac).length, 32);
      const v = await kms.verifyMac({
        body: { key_id: K.hmac256, mac_algorithm: "HMAC_SHA_256", message: msg, mac: g.mac },
      });
      isBool(v.mac_valid, "mac_valid");
      assert.equal(v.mac_valid, true);
    });
  });

  describe("rotation", () => {
    it("enable, status (bool and integers), interval, on demand, disable", async () => {
      const id = (await kms.createKey({ body: { key_alias: alias() } })).key_info.key_id;
      const before = await kms.encryptData({ body: { key_id: id, plain_text: "old" } });
      ok(await kms.enableKeyRotation({ body: { key_id: id } }));
      ok(await kms.updateKeyRotationInterval({ body: { key_id: id, rotation_interval: 90 } }));
      const r = await kms.rotateOnDemand({ body: { key_id: id } });
      assert.equal(r.key_id, id);
      const s = await kms.showKeyRotationStatus({ body: { key_id: id } });
      isBool(s.key_rotation_enabled, "key_rotation_enabled");
      isInt(s.rotation_interval, "rotation_interval");
      isInt(s.number_of_rotations, "number_of_rotations");
      isStr(s.last_rotation_time, "last_rotation_time");
      assert.equal(s.rotation_interval, 90);
      assert.equal(s.number_of_rotations, 1);
      isInt(s.key_materials[0].state, "key_materials[].state");
      assert.equal((await kms.decryptData({ body: { cipher_text: before.cipher_text } })).plain_text, "old");
      ok(await kms.disableKeyRotation({ body: { key_id: id } }));
      await rejectsHuawei(kms.disableKeyRotation({ body: { key_id: id } }), 400, "KMS.0313");
    });
  });

  describe("import", () => {
    it("get-parameters-for-import, import-key-material, delete-imported-key-material", async () => {
      const id = (await kms.createKey({ body: { key_alias: alias(), origin: "external" } })).key_info.key_id;
      const p = await kms.createParametersForImport({ body: { key_id: id, wrapping_algorithm: "RSAES_OAEP_SHA_256" } });
      ok(p);
      isInt(p.expiration_time, "expiration_time");
      isStr(p.import_token, "import_token");
      const pub = crypto.createPublicKey({ key: b64decode(p.public_key), format: "der", type: "spki" });
      const material = crypto.randomBytes(32);
      const wrapped = crypto.publicEncrypt({ key: pub, padding: crypto.constants.RSA_PKCS1_OAEP_PADDING,
        oaepHash: "sha256" }, material);
      ok(await kms.importKeyMaterial({ body: { key_id: id, import_token: p.import_token,
        encrypted_key_material: wrapped.toString("base64") } }));
      assert.equal((await kms.listKeyDetail({ body: { key_id: id } })).key_info.key_state, "2");
      ok(await kms.deleteImportedKeyMaterial({ body: { key_id: id } }));
      assert.equal((await kms.listKeyDetail({ body: { key_id: id } })).key_info.key_state, "5");
      await rejectsHuawei(kms.deleteImportedKeyMaterial({ body: { key_id: id } }), 400, "KMS.2701");
    });

    it("import-key-material of an EC private key (encrypted_privatekey, RFC 5649)", async () => {
      const id = (await kms.createKey({ body: { key_alias: alias(), key_spec: "EC_P256", origin: "external" } }))
        .key_info.key_id;
      const p = await kms.createParametersForImport({ body: { key_id: id, wrapping_algorithm: "RSAES_OAEP_SHA_256" } });
      const pub = crypto.createPublicKey({ key: b64decode(p.public_key), format: "der", type: "spki" });
      const temporary = crypto.randomBytes(32);
      const wrappedKey = crypto.publicEncrypt({ key: pub, padding: crypto.constants.RSA_PKCS1_OAEP_PADDING,
        oaepHash: "sha256" }, temporary);
      const pair = crypto.generateKeyPairSync("ec", { namedCurve: "prime256v1" });
      const der = pair.privateKey.export({ format: "der", type: "pkcs8" });
      const wrap = crypto.createCipheriv("id-aes256-wrap-pad", temporary, Buffer.from("a65959a6", "hex"));
      const wrappedPrivate = Buffer.concat([wrap.update(der), wrap.final()]);
      ok(await kms.importKeyMaterial({ body: { key_id: id, import_token: p.import_token,
        encrypted_key_material: wrappedKey.toString("base64"),
        encrypted_privatekey: wrappedPrivate.toString("base64") } }));
      assert.equal((await kms.listKeyDetail({ body: { key_id: id } })).key_info.key_state, "2");
      const pem = (await kms.showPublicKey({ body: { key_id: id } })).public_key;
      assert.equal(crypto.createPublicKey(pem).export({ format: "der", type: "spki" }).toString("base64"),
        pair.publicKey.export({ format: "der", type: "spki" }).toString("base64"));
      await rejectsHuawei(kms.deleteImportedKeyMaterial({ body: { key_id: id } }), 400, "KMS.2702");
    });
  });

  describe("tags", () => {
    it("create (204), batch (204), show, list project tags, delete (204)", async () => {
      const c = await kms.createKmsTag({ key_id: K.aes, body: { tag: { key: "sdk", value: "yes" } } });
      ok(c, 204);
      ok(await kms.batchCreateKmsTags({
        key_id: K.aes,
        body: { action: "create", tags: [{ key: "b1", value: "1" }] },
      }), 204);
      const s = await kms.showKmsTags({ key_id: K.aes });
      isInt(s.existTagsNum, "existTagsNum");
      assert.equal(s.existTagsNum, 2);
      const l = await kms.listKmsTags();
      assert.ok(l.tags.some((t) => t.key === "sdk" && Array.isArray(t.values)));
      ok(await kms.deleteTag({ key_id: K.aes, key: "sdk" }), 204);
      assert.equal((await kms.showKmsTags({ key_id: K.aes })).existTagsNum, 1);
    });

    it("resource_instances filter and count (listKmsByTags)", async () => {
      const path = { resource_instances: "resource_instances" };
      const f = await kms.listKmsByTags({
        ...path,
        body: { action: "filter", tags: [{ key: "env", values: ["prod"] }] },
      });
      ok(f);
      isInt(f.total_count, "total_count");
      assert.equal(f.resources[0].resource_id, K.tagged);
      assertKeyDetails(f.resources[0].resource_detail);
      const c = await kms.listKmsByTags({
        ...path,
        body: { action: "count", tags: [{ key: "env", values: ["prod"] }] },
      });
      assert.equal(c.total_count, 1);
    });
  });

  describe("grants", () => {
    it("create, list, list-retirable, retire, revoke; enforced for the grantee", async () => {
      const grantee = huaweiClient(server, { ak: GRANTEE.ak, sk: GRANTEE.sk });
      await rejectsHuawei(grantee.encryptData({ body: { key_id: K.aes, plain_text: "x" } }), 403, "KMS.0306");
      const g = await kms.createGrant({ body: { key_id: K.aes, grantee_principal: GRANTEE.userId,
        operations: ["encrypt-data"], retiring_principal: GRANTEE.userId } });
      assert.match(g.grant_id, /^[0-9a-f]{64}$/);
      ok(await grantee.encryptData({ body: { key_id: K.aes, plain_text: "granted" } }));
      const l = await kms.listGrants({ body: { key_id: K.aes } });
      isInt(l.total, "total");
      isStr(l.truncated, "truncated");
      assert.deepEqual(l.grants[0].operations, ["encrypt-data"]);
      const r = await grantee.listRetirableGrants({ body: {} });
      assert.equal(r.grants[0].grant_id, g.grant_id);
      ok(await grantee.cancelSelfGrant({ body: { key_id: K.aes, grant_id: g.grant_id } }));
      await rejectsHuawei(grantee.encryptData({ body: { key_id: K.aes, plain_text: "x" } }), 403, "KMS.0306");
      const g2 = await kms.createGrant({
        body: { key_id: K.aes, grantee_principal: GRANTEE.userId, operations: ["describe-key"] },
      });
      ok(await kms.cancelGrant({ body: { key_id: K.aes, grant_id: g2.grant_id } }));
      await rejectsHuawei(kms.cancelGrant({ body: { key_id: K.aes, grant_id: g2.grant_id } }), 400, "KMS.2502");
    });
  });

  describe("IAM tokens", () => {
    it("POST /v3/auth/tokens answers X-Subject-Token, which KMS accepts", async () => {
      const res = await fetch(`${server.url}/v3/auth/tokens`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ auth: {
          identity: { methods: ["password"], password: { user: { name: OWNER.name, password: OWNER.password,
            domain: { name: OWNER.domain } } } },
          scope: { project: { id: fx.huawei.projectId } } } }),
      });
      assert.equal(res.status, 201);
      const token = res.headers.get("x-subject-token");
      assert.match(token, /^MII/);
      const kmsRes = await fetch(`${server.url}/v1.0/${fx.huawei.projectId}/kms/describe-key`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-auth-token": token },
        body: JSON.stringify({ key_id: K.aes }),
      });
      assert.equal(kmsRes.status, 200);
      assert.equal((await kmsRes.json()).key_info.key_id, K.aes);
      const forged = await fetch(`${server.url}/v1.0/${fx.huawei.projectId}/kms/list-keys`, {
        method: "POST", headers: { "content-type": "application/json", "x-auth-token": "MIInope" }, body: "{}",
      });
      assert.equal(forged.status, 401);
      assert.equal((await forged.json()).error_code, "APIGW.0301");
    });
  });
});
