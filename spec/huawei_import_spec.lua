-- Huawei key import: the wrapping key and token, unwrapping with each
-- wrapping algorithm, the token checks, re-import of the same material
-- only, deleting imported material, and asymmetric private keys.
local client = require "support.client"
local huawei = require "support.huawei"
local core = require "kmsemu.core"
local kmsemu = require "kmsemu"

local AES = "0d0466b0-e727-4d9c-b35d-f84bb474a37f"
local PENDING_IMPORT = "9b8a7c6d-5e4f-4321-8fed-cba987654321"

local function call(action, body, opts)
  return client.huawei_call(kmsemu, action, body, opts)
end

local assert_error = huawei.assert_error

local ok = huawei.ok

local function pem(der)
  local b = core.b64(der):gsub(("."):rep(64), "%0\n")
  return "-----BEGIN PUBLIC KEY-----\n" .. b .. "\n-----END PUBLIC KEY-----\n"
end

local function external(spec)
  local _, r = call("create-key", { key_alias = "byok-" .. core.hex(core.random(4)), key_spec = spec,
    origin = "external" })
  return r.key_info.key_id
end

local PADDING = { RSAES_OAEP_SHA_256 = "rsa-oaep-sha256", RSAES_OAEP_SHA_1 = "rsa-oaep-sha1", SM2_ENCRYPT = "sm2" }

-- Wraps material for key id under fresh import parameters.
local function wrap(id, material, alg)
  alg = alg or "RSAES_OAEP_SHA_256"
  local params = ok(call("get-parameters-for-import", { key_id = id, wrapping_algorithm = alg }))
  local wrapped = assert(core.pkey_encrypt(pem(core.unb64(params.public_key)), PADDING[alg], material))
  return { key_id = id, import_token = params.import_token, encrypted_key_material = core.b64(wrapped) }, params
end

before_each(function()
  assert(kmsemu.start { scenario = "scenarios/huawei.lua" } == nil)
end)

describe("huawei get-parameters-for-import", function()
  it("hands out an RSA-2048 public key and a token naming the key, with an expiry a day on", function()
    local util = require "kmsemu.util"
    finally(function() util.clock_set(util.wall()) end)
    local now = util.now()
    util.clock_set(now, true)
    local _, params = wrap(PENDING_IMPORT, core.random(32))
    assert.are.equal(PENDING_IMPORT, params.key_id)
    assert.matches("^MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8A", params.public_key)
    local raw = core.unb64(params.import_token)
    assert.are.equal("\0\0", raw:sub(1, 2))
    assert.are.equal(#raw - 4, string.unpack("<I2", raw, 3))
    assert.are.equal(PENDING_IMPORT, raw:sub(5, 40))
    assert.is_true(#params.import_token >= 200)
    assert.are.equal(now + 86400, params.expiration_time)
  end)

  it("refuses a key that is not external (KMS.0309) or not pending import (KMS.0310)", function()
    assert_error(400, "KMS.0309", call("get-parameters-for-import", { key_id = AES,
      wrapping_algorithm = "RSAES_OAEP_SHA_256" }))
    local id = external("AES_256")
    local req = wrap(id, core.random(32))
    ok(call("import-key-material", req))
    assert_error(400, "KMS.0310", call("get-parameters-for-import", { key_id = id,
      wrapping_algorithm = "RSAES_OAEP_SHA_256" }))
    assert_error(400, "KMS.0308", call("get-parameters-for-import", { key_id = PENDING_IMPORT,
      wrapping_algorithm = "RSA_RAW" }))
    assert_error(400, "KMS.0204", call("get-parameters-for-import", { key_id = PENDING_IMPORT }))
  end)
end)

describe("huawei import-key-material", function()
  for alg in pairs(PADDING) do
    it("unwraps material wrapped with " .. alg .. " and the key encrypts with it", function()
      local material = core.random(32)
      assert.are.same({}, ok(call("import-key-material", (wrap(PENDING_IMPORT, material, alg)))))
      local info = ok(call("describe-key", { key_id = PENDING_IMPORT })).key_info
      assert.are.equal("2", info.key_state)
      local c = ok(call("encrypt-data", { key_id = PENDING_IMPORT, plain_text = "mine" }))
      -- The imported bytes are the key: the frame opens with them directly.
      local keys = kmsemu.world().keys
      local key = keys:get("huawei", client.HUAWEI.project_id, PENDING_IMPORT)
      assert.are.equal(material, keys:material(key))
      assert.are.equal("mine", ok(call("decrypt-data", { cipher_text = c.cipher_text })).plain_text)
    end)
  end

  it("imports SM4 and HMAC material of their own sizes, refusing other sizes (KMS.2604)", function()
    for spec, n in pairs { SM4 = 16, HMAC_384 = 48 } do
      local id = external(spec)
      assert_error(400, "KMS.2604", call("import-key-material", (wrap(id, core.random(32 + n)))))
      ok(call("import-key-material", (wrap(id, core.random(n)))))
    end
  end)

  it("checks the token: forged, another key's, expired", function()
    local req = wrap(PENDING_IMPORT, core.random(32))
    local raw = core.unb64(req.import_token)
    local forged = raw:sub(1, 50) .. string.char(raw:byte(51) ~ 1) .. raw:sub(52)
    assert_error(400, "KMS.2605", call("import-key-material", { key_id = PENDING_IMPORT,
      import_token = core.b64(forged), encrypted_key_material = req.encrypted_key_material }))
    local other = external("AES_256")
    assert_error(400, "KMS.2603", call("import-key-material", { key_id = other,
      import_token = req.import_token, encrypted_key_material = req.encrypted_key_material }))
    local util = require "kmsemu.util"
    local now = util.now
    util.now = function() return now() + 86401 end
    local pass, err = pcall(function()
      assert_error(400, "KMS.2601", call("import-key-material", req))
    end)
    util.now = now
    assert(pass, err)
  end)

  it("answers KMS.0311 for material the wrapping key cannot unwrap", function()
    local req = wrap(PENDING_IMPORT, core.random(32))
    req.encrypted_key_material = core.b64(core.random(256))
    assert_error(400, "KMS.0311", call("import-key-material", req))
  end)

  it("takes an expiration_time in the future and forgets the material after it", function()
    local req = wrap(PENDING_IMPORT, core.random(32))
    req.expiration_time = os.time() - 1
    assert_error(400, "KMS.2602", call("import-key-material", req))
    req.expiration_time = os.time() + 3600
    ok(call("import-key-material", req))
    local info = ok(call("describe-key", { key_id = PENDING_IMPORT })).key_info
    assert.are.equal(tostring(req.expiration_time) .. "000", info.expiration_time)
    local util = require "kmsemu.util"
    local now = util.now
    util.now = function() return now() + 3601 end
    local pass, err = pcall(function()
      local s, r = call("describe-key", { key_id = PENDING_IMPORT })
      assert.are.equal(200, s)
      assert.are.equal("5", r.key_info.key_state)
    end)
    util.now = now
    assert(pass, err)
  end)
end)

describe("huawei delete-imported-key-material", function()
  it("returns the key to pending import, and takes back only the same material", function()
    local material = core.random(32)
    ok(call("import-key-material", (wrap(PENDING_IMPORT, material))))
    local c = ok(call("encrypt-data", { key_id = PENDING_IMPORT, plain_text = "survives" }))
    assert.are.same({}, ok(call("delete-imported-key-material", { key_id = PENDING_IMPORT })))
    assert.are.equal("5", ok(call("describe-key", { key_id = PENDING_IMPORT })).key_info.key_state)
    assert_error(400, "KMS.0308", call("decrypt-data", { cipher_text = c.cipher_text }))
    assert_error(400, "KMS.2606", call("import-key-material", (wrap(PENDING_IMPORT, core.random(32)))))
    ok(call("import-key-material", (wrap(PENDING_IMPORT, material))))
    assert.are.equal("survives", ok(call("decrypt-data", { cipher_text = c.cipher_text })).plain_text)
  end)

  it("refuses a kms key (KMS.0309) and a key without material (KMS.2701)", function()
    assert_error(400, "KMS.0309", call("delete-imported-key-material", { key_id = AES }))
    assert_error(400, "KMS.2701", call("delete-imported-key-material", { key_id = PENDING_IMPORT }))
  end)

  it("an imported key cannot rotate (KMS.0312)", function()
    ok(call("import-key-material", (wrap(PENDING_IMPORT, core.random(32)))))
    assert_error(400, "KMS.0312", call("enable-key-rotation", { key_id = PENDING_IMPORT }))
    assert_error(400, "KMS.0312", call("rotate-on-demand", { key_id = PENDING_IMPORT }))
  end)

end)

describe("huawei asymmetric import", function()
  -- The request importing private PEM priv into key id: a temporary AES key
  -- wrapped like symmetric material, the PKCS#8 DER wrapped with it (RFC 5649).
  local function wrap_private(id, priv, temporary, alg)
    temporary = temporary or core.random(32)
    local req = wrap(id, temporary, alg)
    local der = assert(core.pkey_private_der(priv))
    local cipher = #temporary == 16 and "aes-128-wrap-pad" or "aes-256-wrap-pad"
    req.encrypted_privatekey = core.b64(assert(core.cipher(cipher, temporary, nil, der, true)))
    return req
  end

  local function same_public(id, pub)
    local got = ok(call("get-publickey", { key_id = id })).public_key
    assert.are.equal(core.pkey_public_der(pub), core.pkey_public_der(got))
  end

  it("installs the private key of each spec; the key signs with it", function()
    for spec, kind in pairs { RSA_2048 = "rsa2048", EC_P256 = "ec-p256", EC_P384 = "ec-p384",
                              SECP256K1 = "ec-secp256k1", SM2 = "sm2", ED25519 = "ed25519" } do
      local id = external(spec)
      assert.are.equal("5", ok(call("describe-key", { key_id = id })).key_info.key_state)
      local priv = kind == "ed25519" and core.pkey_derive(kind, core.random(32)) or core.pkey_generate(kind)
      local pub = core.pkey_public_pem(priv)
      assert.are.same({}, ok(call("import-key-material", wrap_private(id, priv))))
      assert.are.equal("2", ok(call("describe-key", { key_id = id })).key_info.key_state, spec)
      same_public(id, pub)
    end
    local id = external("EC_P256")
    local priv, pub = core.pkey_generate("ec-p256")
    ok(call("import-key-material", wrap_private(id, priv, core.random(16), "SM2_ENCRYPT")))
    same_public(id, pub)
    local digest = core.digest("sha256", "imported")
    local sig = ok(call("sign", { key_id = id, signing_algorithm = "ECDSA_SHA_256",
      message = core.b64(digest) })).signature
    assert.is_true(core.verify(pub, "ecdsa-sha256", digest, true, core.unb64(sig)))
  end)

  it("needs encrypted_privatekey (KMS.2608)", function()
    local id = external("EC_P256")
    assert_error(400, "KMS.2608", call("import-key-material", (wrap(id, core.random(32)))))
  end)

  it("needs a temporary key of 16 or 32 bytes (KMS.2610)", function()
    local id = external("EC_P256")
    local priv = core.pkey_generate("ec-p256")
    local req = wrap_private(id, priv, core.random(32))
    req.encrypted_key_material = wrap(id, core.random(24)).encrypted_key_material
    assert_error(400, "KMS.2610", call("import-key-material", req))
  end)

  it("refuses a private key that does not unwrap or fit the spec (KMS.2609)", function()
    local id = external("EC_P256")
    local req = wrap_private(id, (core.pkey_generate("ec-p256")))
    req.encrypted_key_material = wrap(id, core.random(32)).encrypted_key_material
    assert_error(400, "KMS.2609", call("import-key-material", req))
    assert_error(400, "KMS.2609", call("import-key-material", wrap_private(id, (core.pkey_generate("ec-p384")))))
    assert_error(400, "KMS.2609", call("import-key-material", wrap_private(id, (core.pkey_generate("sm2")))))
    local temporary = core.random(32)
    req = wrap(id, temporary)
    req.encrypted_privatekey = core.b64(core.cipher("aes-256-wrap-pad", temporary, nil, ("x"):rep(64), true))
    assert_error(400, "KMS.2609", call("import-key-material", req))
    req.encrypted_privatekey = "%%%"
    assert_error(400, "KMS.2609", call("import-key-material", req))
    assert.are.equal("5", ok(call("describe-key", { key_id = id })).key_info.key_state)
  end)

  it("an imported private key cannot be deleted (KMS.2702), nor imported twice (KMS.0310)", function()
    local id = external("RSA_2048")
    assert_error(400, "KMS.2701", call("delete-imported-key-material", { key_id = id }))
    local req = wrap_private(id, (core.pkey_generate("rsa2048")))
    ok(call("import-key-material", req))
    assert_error(400, "KMS.2702", call("delete-imported-key-material", { key_id = id }))
    assert_error(400, "KMS.0310", call("import-key-material", req))
    assert.are.equal("2", ok(call("describe-key", { key_id = id })).key_info.key_state)
  end)
end)
