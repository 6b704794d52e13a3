-- Huawei asymmetric keys through the router: get-publickey, sign and
-- verify with every algorithm (RAW and DIGEST, checked against an
-- independent verification with the public key), encrypt-data and
-- decrypt-data with RSA-OAEP and SM2, and the data key pairs.
local client = require "support.client"
local huawei = require "support.huawei"
local core = require "kmsemu.core"
local kmsemu = require "kmsemu"

local AES = "0d0466b0-e727-4d9c-b35d-f84bb474a37f"
local HMAC = "b0000001-0000-4000-8000-000000000256"
local K = {
  rsa2048 = "a0000001-0000-4000-8000-000000000001", rsa_enc = "a0000001-0000-4000-8000-000000000002",
  rsa3072 = "a0000001-0000-4000-8000-000000000003", rsa4096 = "a0000001-0000-4000-8000-000000000004",
  p256 = "a0000001-0000-4000-8000-000000000005", p384 = "a0000001-0000-4000-8000-000000000006",
  k1 = "a0000001-0000-4000-8000-000000000007", sm2 = "a0000001-0000-4000-8000-000000000008",
  sm2_enc = "a0000001-0000-4000-8000-000000000009", ed25519 = "a0000001-0000-4000-8000-00000000000a",
}

local function call(action, body, opts)
  return client.huawei_call(kmsemu, action, body, opts)
end

local assert_error = huawei.assert_error

local ok = huawei.ok

local function public_pem(id)
  return ok(call("get-publickey", { key_id = id })).public_key
end

assert(kmsemu.start { scenario = "scenarios/huawei.lua" } == nil)

describe("huawei get-publickey", function()
  it("returns the PEM public key of each asymmetric key", function()
    for name, kind in pairs { rsa2048 = "rsa2048", p256 = "ec-p256", p384 = "ec-p384",
                              k1 = "ec-secp256k1", sm2 = "sm2", ed25519 = "ed25519" } do
      local pem = public_pem(K[name])
      assert.matches("^%-%-%-%-%-BEGIN PUBLIC KEY%-%-%-%-%-\n", pem)
      local info = core.pkey_info(pem)
      assert.are.equal(kind, info.kind, name)
      assert.is_false(info.private)
    end
  end)

  it("refuses symmetric and HMAC keys with KMS.0331", function()
    assert_error(400, "KMS.0331", call("get-publickey", { key_id = AES }))
    assert_error(400, "KMS.0331", call("get-publickey", { key_id = HMAC }))
  end)
end)

-- key, algorithm, hash of the digest, core verify name
local SIGNING = {
  { "rsa2048", "RSASSA_PSS_SHA_256", "sha256", "rsa-pss-sha256" },
  { "rsa2048", "RSASSA_PSS_SHA_384", "sha384", "rsa-pss-sha384" },
  { "rsa3072", "RSASSA_PSS_SHA_512", "sha512", "rsa-pss-sha512" },
  { "rsa2048", "RSASSA_PKCS1_V1_5_SHA_256", "sha256", "rsa-pkcs1-sha256" },
  { "rsa4096", "RSASSA_PKCS1_V1_5_SHA_384", "sha384", "rsa-pkcs1-sha384" },
  { "rsa2048", "RSASSA_PKCS1_V1_5_SHA_512", "sha512", "rsa-pkcs1-sha512" },
  { "p256", "ECDSA_SHA_256", "sha256", "ecdsa-sha256" },
  { "p384", "ECDSA_SHA_384", "sha384", "ecdsa-sha384" },
  { "k1", "ECDSA_SHA_256", "sha256", "ecdsa-sha256" },
  { "sm2", "SM2DSA_SM3", "sm2", "sm2-sm3" },
}

local function digest_of(c, pem, msg)
  if c[3] == "sm2" then
    return require("support.sm2").e(pem, msg)
  end
  return core.digest(c[3], msg)
end

describe("huawei sign and verify", function()
  for _, c in ipairs(SIGNING) do
    it(c[2] .. " with " .. c[1] .. ": RAW hashes here, DIGEST takes the hash", function()
      local id, msg = K[c[1]], "message to sign with " .. c[2]
      local pem = public_pem(id)
      local raw = ok(call("sign", { key_id = id, signing_algorithm = c[2], message_type = "RAW",
        message = core.b64(msg) }))
      assert.are.equal(id, raw.key_id)
      assert.is_true(core.verify(pem, c[4], msg, false, core.unb64(raw.signature)))
      local digest = digest_of(c, pem, msg)
      local dg = ok(call("sign", { key_id = id, signing_algorithm = c[2], message = core.b64(digest) }))
      assert.is_true(core.verify(pem, c[4], msg, false, core.unb64(dg.signature)))
      local v = ok(call("verify", { key_id = id, signing_algorithm = c[2], message = core.b64(digest),
        signature = raw.signature }))
      assert.are.same({ key_id = id, signature_valid = "true" }, v)
      v = ok(call("verify", { key_id = id, signing_algorithm = c[2], message_type = "RAW",
        message = core.b64(msg .. "?"), signature = raw.signature }))
      assert.are.equal("false", v.signature_valid)
      assert_error(400, "KMS.0329", call("sign", { key_id = id, signing_algorithm = c[2],
        message = core.b64(digest .. "x") }))
    end)
  end

  it("ED25519_SHA_512 signs the message itself", function()
    local msg = "pure ed25519"
    local r = ok(call("sign", { key_id = K.ed25519, signing_algorithm = "ED25519_SHA_512",
      message_type = "RAW", message = core.b64(msg) }))
    assert.is_true(core.verify(public_pem(K.ed25519), "ed25519", msg, false, core.unb64(r.signature)))
    assert_error(400, "KMS.0332", call("sign", { key_id = K.ed25519, signing_algorithm = "ED25519_PH_SHA_512",
      message = core.b64(msg) }))
  end)

  it("refuses algorithms the key cannot use (KMS.0332)", function()
    local m = core.b64(core.digest("sha256", "x"))
    assert_error(400, "KMS.0332", call("sign", { key_id = K.rsa2048, signing_algorithm = "ECDSA_SHA_256", message = m }))
    assert_error(400, "KMS.0332", call("sign", { key_id = K.p256, signing_algorithm = "ECDSA_SHA_384",
      message = core.b64(core.digest("sha384", "x")) }))
    assert_error(400, "KMS.0332", call("sign", { key_id = K.sm2, signing_algorithm = "ECDSA_SHA_256", message = m }))
    assert_error(400, "KMS.0308", call("sign", { key_id = K.p256, signing_algorithm = "DSA", message = m }))
    assert_error(400, "KMS.0308", call("sign", { key_id = K.p256, signing_algorithm = "ECDSA_SHA_256",
      message_type = "HASH", message = m }))
  end)

  it("refuses keys that do not sign, each with its code", function()
    local m = core.b64(core.digest("sha256", "x"))
    assert_error(400, "KMS.1115", call("sign", { key_id = AES, signing_algorithm = "ECDSA_SHA_256", message = m }))
    assert_error(400, "KMS.0341", call("sign", { key_id = HMAC, signing_algorithm = "ECDSA_SHA_256", message = m }))
    assert_error(400, "KMS.0334", call("sign", { key_id = K.rsa_enc, signing_algorithm = "RSASSA_PSS_SHA_256",
      message = m }))
    assert_error(400, "KMS.0334", call("verify", { key_id = K.sm2_enc, signing_algorithm = "SM2DSA_SM3",
      message = m, signature = m }))
  end)

  it("refuses a missing algorithm, an empty or oversized message", function()
    assert_error(400, "KMS.0204", call("sign", { key_id = K.p256, message = "eA==" }))
    assert_error(400, "KMS.0308", call("sign", { key_id = K.p256, signing_algorithm = "ECDSA_SHA_256",
      message_type = "RAW", message = "" }))
    assert_error(400, "KMS.0308", call("sign", { key_id = K.p256, signing_algorithm = "ECDSA_SHA_256",
      message_type = "RAW", message = core.b64(("x"):rep(4096)) }))
  end)

  it("answers false, not an error, for a signature that is not one", function()
    local v = ok(call("verify", { key_id = K.p256, signing_algorithm = "ECDSA_SHA_256",
      message = core.b64(core.digest("sha256", "x")), signature = core.b64("garbage") }))
    assert.are.equal("false", v.signature_valid)
  end)
end)

describe("huawei asymmetric encrypt-data and decrypt-data", function()
  it("round-trips RSAES_OAEP_SHA_256 and SM2_ENCRYPT, interoperating with the public key", function()
    for id, c in pairs { [K.rsa_enc] = { "RSAES_OAEP_SHA_256", "rsa-oaep-sha256" },
                         [K.sm2_enc] = { "SM2_ENCRYPT", "sm2" } } do
      local e = ok(call("encrypt-data", { key_id = id, plain_text = "asymmetric", encryption_algorithm = c[1] }))
      local d = ok(call("decrypt-data", { key_id = id, cipher_text = e.cipher_text, encryption_algorithm = c[1] }))
      assert.are.same({ key_id = id, plain_text = "asymmetric", plain_text_base64 = core.b64("asymmetric") }, d)
      local mine = core.pkey_encrypt(public_pem(id), c[2], "\0\1binary")
      d = ok(call("decrypt-data", { key_id = id, cipher_text = core.b64(mine),
        encryption_algorithm = c[1] }))
      assert.are.equal("\0\1binary", core.unb64(d.plain_text_base64))
    end
  end)

  it("refuses the wrong algorithm, a long plaintext and undecryptable input", function()
    assert_error(400, "KMS.2106", call("encrypt-data", { key_id = K.rsa_enc, plain_text = "x" }))
    assert_error(400, "KMS.2106", call("encrypt-data", { key_id = K.rsa_enc, plain_text = "x",
      encryption_algorithm = "SM2_ENCRYPT" }))
    assert_error(400, "KMS.0308", call("encrypt-data", { key_id = K.sm2_enc, plain_text = "x",
      encryption_algorithm = "RSAES_OAEP_SHA_256" }))
    assert_error(400, "KMS.2108", call("encrypt-data", { key_id = K.rsa_enc, plain_text = ("x"):rep(191),
      encryption_algorithm = "RSAES_OAEP_SHA_256" }))
    assert.are.equal(200, (call("encrypt-data", { key_id = K.rsa_enc, plain_text = ("x"):rep(190),
      encryption_algorithm = "RSAES_OAEP_SHA_256" })))
    assert_error(400, "KMS.0311", call("decrypt-data", { key_id = K.rsa_enc, cipher_text = core.b64(core.random(256)),
      encryption_algorithm = "RSAES_OAEP_SHA_256" }))
    assert_error(400, "KMS.2201", call("decrypt-data", { key_id = K.sm2_enc, cipher_text = core.b64(core.random(120)),
      encryption_algorithm = "SM2_ENCRYPT" }))
    assert_error(400, "KMS.0204", call("decrypt-data", { cipher_text = core.b64(core.random(256)),
      encryption_algorithm = "RSAES_OAEP_SHA_256" }))
  end)

  it("re-encrypts from an RSA key to a symmetric one", function()
    local e = ok(call("encrypt-data", { key_id = K.rsa_enc, plain_text = "moved",
      encryption_algorithm = "RSAES_OAEP_SHA_256" }))
    local r = ok(call("re-encrypt", { cipher_text = e.cipher_text, source_key_id = K.rsa_enc,
      source_encryption_algorithm = "RSAES_OAEP_SHA_256", destination_key_id = AES }))
    assert.are.equal("RSAES_OAEP_SHA_256", r.source_encryption_algorithm)
    assert.are.equal("moved", ok(call("decrypt-data", { cipher_text = r.cipher_text })).plain_text)
  end)
end)

describe("huawei data key pairs", function()
  it("returns a fresh RSA pair, its private key also sealed under the CMK", function()
    local r = ok(call("create-rsa-datakey-pair", { key_id = AES, key_spec = "RSA_2048" }))
    assert.are.equal(AES, r.key_id)
    assert.are.equal("RSA_2048", r.key_spec)
    local private = assert(core.pkey_from_der(core.unb64(r.private_key_plain_text)))
    assert.are.equal("rsa2048", core.pkey_info(private).kind)
    assert.are.equal(core.unb64(r.public_key), core.pkey_public_der(private))
    local d = ok(call("decrypt-data", { cipher_text = r.private_key_cipher_text }))
    assert.are.equal(r.private_key_plain_text, d.plain_text_base64)
  end)

  it("returns EC and SM2 pairs, without the plaintext when asked", function()
    for spec, kind in pairs { ECC_NIST_P256 = "ec-p256", ECC_NIST_P384 = "ec-p384", ECC_NIST_P521 = "ec-p521",
                              ECC_SECG_P256K1 = "ec-secp256k1", SM2 = "sm2" } do
      local r = ok(call("create-ec-datakey-pair", { key_id = AES, key_spec = spec, with_plain_text = false }))
      assert.is_nil(r.private_key_plain_text)
      local der = core.unb64(ok(call("decrypt-data", { cipher_text = r.private_key_cipher_text })).plain_text_base64)
      assert.are.equal(kind, core.pkey_info(core.pkey_from_der(der)).kind)
    end
  end)

  it("refuses a spec of the other family and a non-symmetric CMK", function()
    assert_error(400, "KMS.0308", call("create-rsa-datakey-pair", { key_id = AES, key_spec = "SM2" }))
    assert_error(400, "KMS.0308", call("create-ec-datakey-pair", { key_id = AES, key_spec = "RSA_2048" }))
    assert_error(400, "KMS.0325", call("create-ec-datakey-pair", { key_id = K.p256, key_spec = "SM2" }))
    assert_error(400, "KMS.0204", call("create-ec-datakey-pair", { key_id = AES }))
    assert_error(400, "KMS.0308", call("create-ec-datakey-pair", { key_id = AES, key_spec = "SM2",
      with_plain_text = "no" }))
  end)
end)

describe("huawei derive-shared-secret", function()
  local function derive(id, peer_pub, extra)
    local body = { key_id = id, key_agreement_algorithm = "ECDH",
      public_key = core.b64(core.pkey_public_der(peer_pub)) }
    for k, v in pairs(extra or {}) do
      body[k] = v
    end
    return call("derive-shared-secret", body)
  end

  it("agrees with the secret the peer computes from the key's public half", function()
    for name, kind in pairs { p256 = "ec-p256", p384 = "ec-p384", k1 = "ec-secp256k1" } do
      local peer, peer_pub = core.pkey_generate(kind)
      local body = ok(derive(K[name], peer_pub))
      assert.are.same({ "key_agreement_algorithm", "key_id", "shared_secret" },
        (function() local t = {} for k in pairs(body) do t[#t + 1] = k end table.sort(t) return t end)())
      assert.are.equal(K[name], body.key_id)
      assert.are.equal("ECDH", body.key_agreement_algorithm)
      local expected = core.pkey_derive_shared(peer, public_pem(K[name]))
      assert.are.equal(kind == "ec-p384" and 48 or 32, #expected)
      assert.are.equal(core.b64(expected), body.shared_secret, name)
    end
  end)

  it("refuses a peer key that is not on the key's curve or not a key", function()
    local _, p384 = core.pkey_generate("ec-p384")
    assert_error(400, "KMS.0308", derive(K.p256, p384))
    assert_error(400, "KMS.0308", call("derive-shared-secret", { key_id = K.p256,
      key_agreement_algorithm = "ECDH", public_key = core.b64("not a key") }))
    assert_error(400, "KMS.0308", call("derive-shared-secret", { key_id = K.p256,
      key_agreement_algorithm = "ECDH", public_key = "%%%" }))
  end)

  it("checks the algorithm and the required fields", function()
    local _, pub = core.pkey_generate("ec-p256")
    assert_error(400, "KMS.0308", derive(K.p256, pub, { key_agreement_algorithm = "DH" }))
    local status, body = call("derive-shared-secret", { key_id = K.p256, public_key = "AAAA" })
    assert.are.equal(400, status)
    assert.is_string(body.error.error_code)
    status, body = call("derive-shared-secret", { key_agreement_algorithm = "ECDH", public_key = "AAAA" })
    assert.are.equal(400, status)
    assert.is_string(body.error.error_code)
  end)

  it("refuses a recipient: there is no enclave to encrypt for", function()
    local _, pub = core.pkey_generate("ec-p256")
    assert_error(400, "KMS.0308", derive(K.p256, pub, { recipient = { attestation_document = "AAAA" } }))
  end)

  it("refuses keys that cannot do ECDH", function()
    local _, pub = core.pkey_generate("ec-p256")
    assert_error(400, "KMS.0331", derive(AES, pub))
    assert_error(400, "KMS.0341", derive(HMAC, pub))
    for _, name in ipairs { "rsa2048", "ed25519", "sm2" } do
      assert_error(400, "KMS.0325", derive(K[name], pub))
    end
  end)

  it("refuses a disabled key with KMS.0209", function()
    local _, pub = core.pkey_generate("ec-p256")
    ok(call("disable-key", { key_id = K.k1 }))
    assert_error(400, "KMS.0209", derive(K.k1, (select(2, core.pkey_generate("ec-secp256k1")))))
    ok(call("enable-key", { key_id = K.k1 }))
    ok(derive(K.k1, (select(2, core.pkey_generate("ec-secp256k1")))))
    assert.is_string(pub)
  end)
end)
