"use strict";
// Assertions and small crypto helpers shared by the contract tests.

const assert = require("node:assert/strict");
const crypto = require("node:crypto");
const {
  TencentCloudSDKHttpException,
  ClientRequestException,
  ServiceResponseException,
  huaweiError,
} = require("./clients");

const B64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const HEX_RE = /^(?:[0-9A-Fa-f]{2})+$/;

/** Decodes standard padded Base64, failing on anything else. */
function b64decode(s, what = "value") {
  assert.equal(typeof s, "string", `${what} is a string`);
  assert.match(s, B64_RE, `${what} is standard Base64`);
  return Buffer.from(s, "base64");
}

function hexdecode(s, what = "value") {
  assert.equal(typeof s, "string", `${what} is a string`);
  assert.match(s, HEX_RE, `${what} is hex`);
  return Buffer.from(s, "hex");
}

function sha256(buf) {
  return crypto.createHash("sha256").update(buf).digest();
}

function sm3(buf) {
  return crypto.createHash("sm3").update(buf).digest();
}

/**
 * Awaits a Tencent SDK call that must fail with API error `code`
 * (a string, or a RegExp for codes the reference leaves open).
 */
async function rejectsTencent(promise, code) {
  let err;
  try {
    const res = await promise;
    assert.fail(`expected error ${code}, got success ${JSON.stringify(res)}`);
  } catch (e) {
    if (e instanceof assert.AssertionError) throw e;
    err = e;
  }
  assert.ok(
    err instanceof TencentCloudSDKHttpException,
    `expected TencentCloudSDKHttpException, got ${err && err.constructor && err.constructor.name}: ${err && err.message}`,
  );
  assert.equal(err.httpCode, undefined, `API errors come with HTTP 200 (got httpCode ${err.httpCode}: ${err.message})`);
  if (code instanceof RegExp) assert.match(String(err.code), code, `error code (message: ${err.message})`);
  else assert.equal(err.code, code, `error code (message: ${err.message})`);
  assert.equal(typeof err.message, "string");
  assert.ok(err.message.length > 0, "error message is not empty");
  assert.equal(typeof err.requestId, "string");
  assert.ok(err.requestId.length > 0, "requestId is not empty");
  return err;
}

/**
 * Awaits a Huawei call that must fail with HTTP `status` and error `code`
 * (string or RegExp). Returns huaweiError(err).
 */
async function rejectsHuawei(promise, status, code) {
  let err;
  try {
    const res = await promise;
    assert.fail(`expected ${status} ${code}, got success ${JSON.stringify(res)}`);
  } catch (e) {
    if (e instanceof assert.AssertionError) throw e;
    err = e;
  }
  assert.ok(
    err instanceof ServiceResponseException,
    `expected a ServiceResponseException from the core, got ${err && err.constructor && err.constructor.name}: ${err && err.message}`,
  );
  const info = huaweiError(err);
  const ctx = `status ${info.status}, body ${JSON.stringify(info.body)}`;
  assert.equal(info.status, status, `HTTP status (${ctx})`);
  if (status >= 400 && status < 500) {
    assert.ok(err instanceof ClientRequestException, `4xx is a ClientRequestException (${ctx})`);
  }
  if (code instanceof RegExp) assert.match(String(info.code), code, `error code (${ctx})`);
  else assert.equal(info.code, code, `error code (${ctx})`);
  assert.equal(typeof info.message, "string", `error_msg is a string (${ctx})`);
  assert.ok(info.message.length > 0, `error_msg is not empty (${ctx})`);
  assert.equal(typeof info.requestId, "string", `X-Request-Id response header is set (${ctx})`);
  assert.ok(info.requestId.length > 0, `X-Request-Id is not empty (${ctx})`);
  return info;
}

/**
 * RSAES-PKCS1-v1_5 decryption. Node 20 refuses RSA_PKCS1_PADDING in
 * privateDecrypt (CVE-2023-46809), so take the raw block and strip the
 * type-2 padding by hand: 00 02 <>=8 non-zero bytes> 00 <message>.
 */
function rsaPkcs1Decrypt(privateKey, ciphertext) {
  const em = crypto.privateDecrypt({ key: privateKey, padding: crypto.constants.RSA_NO_PADDING }, ciphertext);
  assert.equal(em[0], 0x00, "PKCS#1 v1.5 block starts 00");
  assert.equal(em[1], 0x02, "PKCS#1 v1.5 block type 02");
  const sep = em.indexOf(0x00, 2);
  assert.ok(sep >= 10, "PKCS#1 v1.5 padding string is at least 8 bytes");
  return em.subarray(sep + 1);
}

/** Decrypts with the padding a Tencent EncryptionAlgorithm names. */
function rsaDecrypt(privateKey, algorithm, ciphertext) {
  switch (algorithm) {
    case "RSAES_PKCS1_V1_5":
      return rsaPkcs1Decrypt(privateKey, ciphertext);
    case "RSAES_OAEP_SHA_1":
      return crypto.privateDecrypt(
        { key: privateKey, padding: crypto.constants.RSA_PKCS1_OAEP_PADDING, oaepHash: "sha1" },
        ciphertext,
      );
    case "RSAES_OAEP_SHA_256":
      return crypto.privateDecrypt(
        { key: privateKey, padding: crypto.constants.RSA_PKCS1_OAEP_PADDING, oaepHash: "sha256" },
        ciphertext,
      );
    default:
      throw new Error(`unknown algorithm ${algorithm}`);
  }
}

/**
 * Checks the Huawei ciphertext frame described in the reference:
 * 02 00 | uint16-LE L | body | key id (36 ASCII bytes) ending at offset L | rest.
 */
// The cloud's ciphertext layout: 124 bytes plus the plaintext padded to
// 16, 02 00, L = length - 36, the key id just before offset L, then four
// zero bytes and 32 more.
function assertHuaweiFrame(blob, keyId, plaintextBytes) {
  assert.equal(blob.length, 124 + Math.ceil(plaintextBytes / 16) * 16, "124 + the padded plaintext");
  assert.equal(blob.readUInt16BE(0), 0x0200, "ciphertext starts 02 00");
  const l = blob.readUInt16LE(2);
  assert.equal(l, blob.length - 36, "length field = total length - 36");
  assert.equal(blob.subarray(l - 36, l).toString("latin1"), keyId, "key id in ASCII just before offset L");
  assert.equal(blob.readUInt32BE(l), 0, "four zero bytes after the key id");
}

module.exports = {
  b64decode,
  hexdecode,
  sha256,
  sm3,
  rejectsTencent,
  rejectsHuawei,
  rsaDecrypt,
  assertHuaweiFrame,
  B64_RE,
  HEX_RE,
};
