"use strict";
// Contract: the legacy signature v1 (HmacSHA256 and HmacSHA1, parameters
// as form pairs) against kmsemu running scenarios/tencent.lua. Once
// through tencentcloud-sdk-nodejs with profile.signMethod, once by hand
// with fetch, signing as the reference's section 3.4 describes.

const { describe, it, before, after } = require("node:test");
const assert = require("node:assert/strict");
const crypto = require("node:crypto");
const tencentcloud = require("tencentcloud-sdk-nodejs");
const { startServer } = require("./server");
const fx = require("./fixtures");
const { rejectsTencent } = require("./helpers");

const T = fx.tencent;
const SM4 = "10000001-1e38-11e9-b129-5cb9019b4b01";
const AES = "10000002-1e38-11e9-b129-5cb9019b4b01";

function sdkClient(server, signMethod, reqMethod, secretKey = T.secretKey) {
  return new tencentcloud.kms.v20190118.Client({
    credential: { secretId: T.secretId, secretKey },
    region: T.region,
    profile: {
      signMethod,
      httpProfile: { endpoint: `${server.host}:${server.port}`, protocol: "http://", reqMethod, reqTimeout: 15 },
    },
  });
}

// Flattens params as the SDKs do: KeyIds.0, Tags.0.TagKey.
function flatten(params, prefix = "", out = {}) {
  for (const [k, v] of Object.entries(params)) {
    const name = prefix ? `${prefix}.${k}` : k;
    if (v !== null && typeof v === "object") flatten(v, name, out);
    else out[name] = String(v);
  }
  return out;
}

// Sends one v1 request by hand. Returns the parsed Response.
async function v1(server, { action, params, method, signatureMethod, secretKey = T.secretKey, tamper }) {
  const host = `${server.host}:${server.port}`;
  const all = {
    ...flatten(params),
    Action: action,
    Version: "2019-01-18",
    Region: T.region,
    SecretId: T.secretId,
    Timestamp: String(Math.floor(Date.now() / 1000)),
    Nonce: String(crypto.randomInt(1, 2 ** 31)),
  };
  if (signatureMethod) all.SignatureMethod = signatureMethod;
  const plain = Object.keys(all).sort().map((k) => `${k}=${all[k]}`).join("&");
  const hash = signatureMethod === "HmacSHA256" ? "sha256" : "sha1";
  all.Signature = crypto.createHmac(hash, secretKey).update(`${method}${host}/?${plain}`).digest("base64");
  if (tamper) tamper(all);
  const form = new URLSearchParams(all).toString();
  const url = `${server.url}/` + (method === "GET" ? `?${form}` : "");
  const res = await fetch(url, method === "GET" ? {} : {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: form,
  });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), "application/json");
  return (await res.json()).Response;
}

describe("Tencent KMS, signature v1", () => {
  let server;

  before(async () => {
    server = await startServer({ scenario: "scenarios/tencent.lua" });
  });

  after(async () => {
    if (server) await server.stop();
  });

  for (const [signMethod, reqMethod] of [["HmacSHA256", "POST"], ["HmacSHA1", "POST"], ["HmacSHA256", "GET"],
    ["HmacSHA1", "GET"]]) {
    it(`the SDK with signMethod ${signMethod}, reqMethod ${reqMethod}`, async () => {
      const kms = sdkClient(server, signMethod, reqMethod);
      const e = await kms.Encrypt({ KeyId: SM4, Plaintext: "dGVzdA==", EncryptionContext: '{"k":"v"}' });
      const d = await kms.Decrypt({ CiphertextBlob: e.CiphertextBlob, EncryptionContext: '{"k":"v"}' });
      assert.equal(d.Plaintext, "dGVzdA==");
      const many = await kms.DescribeKeys({ KeyIds: [SM4, AES] });
      assert.deepEqual(many.KeyMetadatas.map((m) => m.KeyId), [SM4, AES]);
      const tagged = await kms.ListKeyDetail({ TagFilters: [{ TagKey: "env", TagValue: ["prod"] }] });
      assert.deepEqual(tagged.KeyMetadatas.map((m) => m.KeyId), [AES]);
      const bad = sdkClient(server, signMethod, reqMethod, "wrong" + T.secretKey.slice(5));
      await rejectsTencent(bad.GetRegions({}), "AuthFailure.SignatureFailure");
    });
  }

  it("a hand-signed HmacSHA256 form POST with a flattened list", async () => {
    const r = await v1(server, { action: "DescribeKeys", method: "POST", signatureMethod: "HmacSHA256",
      params: { KeyIds: [AES, SM4] } });
    assert.equal(r.Error, undefined, JSON.stringify(r.Error));
    assert.deepEqual(r.KeyMetadatas.map((m) => m.KeyId), [AES, SM4]);
    const g = await v1(server, { action: "GenerateDataKey", method: "POST", signatureMethod: "HmacSHA256",
      params: { KeyId: SM4, NumberOfBytes: 32 } });
    assert.equal(Buffer.from(g.Plaintext, "base64").length, 32);
  });

  it("a hand-signed HmacSHA1 GET", async () => {
    const r = await v1(server, { action: "GenerateRandom", method: "GET", params: { NumberOfBytes: 16 } });
    assert.equal(Buffer.from(r.Plaintext, "base64").length, 16);
    const e = await v1(server, { action: "GenerateRandom", method: "GET", params: { NumberOfBytes: 16 },
      tamper: (all) => { all.NumberOfBytes = "17"; } });
    assert.equal(e.Error.Code, "AuthFailure.SignatureFailure");
    const stale = await v1(server, { action: "GenerateRandom", method: "GET", params: { NumberOfBytes: 16 },
      tamper: (all) => { delete all.Nonce; } });
    assert.equal(stale.Error.Code, "MissingParameter");
  });
});
