-- Known-answer and round-trip tests for kmsemu.core (src/crypto.c, src/lcore.c).
--
-- make all builds the binding this loads (build/lib/kmsemu/core.so).

local core = require("kmsemu.core")
local sm2 = require("support.sm2")

local hex, unhex = core.hex, core.unhex

local function x(s)
  return assert(unhex((s:gsub("%s", ""))))
end

local function flip(s, i)
  i = i or #s
  return s:sub(1, i - 1) .. string.char(s:byte(i) ~ 1) .. s:sub(i + 1)
end

describe("kmsemu.core", function()
  describe("random", function()
    it("returns the requested number of bytes", function()
      assert.are.equal(32, #core.random(32))
      assert.are.equal("", core.random(0))
      assert.are.equal(65536, #core.random(65536))
      assert.are_not.equal(core.random(16), core.random(16))
    end)

    it("rejects out-of-range and non-integer sizes", function()
      assert.has_error(function() core.random(-1) end)
      assert.has_error(function() core.random(65537) end)
      assert.has_error(function() core.random("many") end)
    end)
  end)

  describe("digest", function()
    it("matches the FIPS 180 and GB/T 32905 'abc' vectors", function()
      assert.are.equal("a9993e364706816aba3e25717850c26c9cd0d89d", hex(core.digest("sha1", "abc")))
      assert.are.equal("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
        hex(core.digest("sha256", "abc")))
      assert.are.equal("cb00753f45a35e8bb5a03d699ac65007272c32ab0eded163"
        .. "1a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7", hex(core.digest("sha384", "abc")))
      assert.are.equal("ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
        .. "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f", hex(core.digest("sha512", "abc")))
      assert.are.equal("66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0",
        hex(core.digest("sm3", "abc")))
    end)

    it("fails softly on unknown algorithms and raises on bad types", function()
      local d, err = core.digest("md5", "abc")
      assert.is_nil(d)
      assert.are.equal("unsupported digest", err)
      assert.has_error(function() core.digest("sha256", nil) end)
      assert.has_error(function() core.digest({}, "abc") end)
    end)
  end)

  describe("hmac", function()
    it("matches RFC 4231 test case 2", function()
      local data = "what do ya want for nothing?"
      assert.are.equal("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
        hex(core.hmac("sha256", "Jefe", data)))
      assert.are.equal("164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554"
        .. "9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737",
        hex(core.hmac("sha512", "Jefe", data)))
    end)

    it("matches RFC 4231 test case 6 (key longer than a block)", function()
      assert.are.equal("60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
        hex(core.hmac("sha256", string.rep("\170", 131),
          "Test Using Larger Than Block-Size Key - Hash Key First")))
    end)

    it("re-keys the kept context on every call", function()
      local a = core.hmac("sha256", "Jefe", "x")
      assert.are_not.equal(a, core.hmac("sha256", "other", "x"))
      assert.are.equal(a, core.hmac("sha256", "Jefe", "x"))
      assert.are.equal("b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad",
        hex(core.hmac("sha256", "", "")))
      assert.are.equal(a, core.hmac("sha256", "Jefe", "x"))
    end)

    it("supports sm3 and rejects unknown digests", function()
      assert.are.equal(32, #core.hmac("sm3", "k", "d"))
      assert.is_nil((core.hmac("md5", "k", "d")))
    end)
  end)

  describe("uuid", function()
    it("gives version 4 UUIDs in lower-case hex, each different", function()
      local seen = {}
      for _ = 1, 200 do
        local u = core.uuid()
        assert.matches("^%x%x%x%x%x%x%x%x%-%x%x%x%x%-4%x%x%x%-[89ab]%x%x%x%-%x%x%x%x%x%x%x%x%x%x%x%x$", u)
        assert.are.equal(u:lower(), u)
        assert.is_nil(seen[u])
        seen[u] = true
      end
    end)
  end)

  describe("replace", function()
    it("replaces every plain occurrence, left to right, and returns a string without one as it is", function()
      assert.are.equal("a/b/c", core.replace("a\\/b\\/c", "\\/", "/"))
      assert.are.equal("xx", core.replace("aaaa", "aa", "x"))
      assert.are.equal("%d.+", core.replace("%d.*", "*", "+")) -- no pattern characters
      assert.are.equal("nothing here", core.replace("nothing here", "\\/", "/"))
      assert.are.equal("", core.replace("", "a", "b"))
      assert.are.equal("b\0b", core.replace("a\0a", "a", "b"))
      local big = ("QUJD/"):rep(1000)
      assert.are.equal(big:gsub("/", "_"), core.replace(big, "/", "_"))
      assert.are.equal("ba", core.replace("aaa", "aa", "b")) -- no overlap
      assert.are.equal("xa\\", core.replace("\\/a\\", "\\/", "x")) -- a first byte that ends the string
      assert.are.equal("a\0b", core.replace("a\0\0b", "\0\0", "\0"))
      assert.are.equal(("<slash>"):rep(500), core.replace(("/"):rep(500), "/", "<slash>")) -- grows
    end)

    it("refuses an empty needle", function()
      assert.has_error(function() core.replace("abc", "", "x") end)
    end)
  end)

  describe("u32 arrays", function()
    it("keep optional whole numbers from 0 to 2^32 - 2, nil where never written", function()
      local a = core.u32_new(10)
      assert.are.same({ n = 3 }, table.pack(core.u32_get(a, 1, 3)))
      core.u32_set(a, 4, 0, nil, 0xFFFFFFFE)
      assert.are.same({ n = 4, [2] = 0, [4] = 0xFFFFFFFE }, table.pack(core.u32_get(a, 3, 4)))
      core.u32_set(a, 10, 7)
      assert.are.same({ n = 5, [1] = 0xFFFFFFFE, [5] = 7 }, table.pack(core.u32_get(a, 6, 5)))
      core.u32_set(a, 4, 5)
      assert.are.equal(5, (core.u32_get(a, 4, 1)))
      assert.are.equal(0, select("#", core.u32_get(a, 1, 0)))
    end)

    it("keep numbers whole and within range, and refuse the rest and indexes past their end", function()
      local a = core.u32_new(4)
      core.u32_set(a, 1, -1, 2.7, 1e12, 0 / 0)
      assert.are.same({ n = 4, 0, 2, 0xFFFFFFFE, 0 }, table.pack(core.u32_get(a, 1, 4)))
      core.u32_set(a, 1, 0xFFFFFFFF, -math.huge)
      assert.are.same({ n = 2, 0xFFFFFFFE, 0 }, table.pack(core.u32_get(a, 1, 2)))
      assert.has_error(function() core.u32_set(a, 1, 3, "x") end)
      assert.are.same({ n = 1, 0xFFFFFFFE }, table.pack(core.u32_get(a, 1, 1))) -- all or nothing
      assert.has_error(function() core.u32_set(a, 1, {}) end)
      assert.has_error(function() core.u32_set(a, 0, 1) end)
      assert.has_error(function() core.u32_set(a, 4, 1, 2) end)
      assert.has_error(function() core.u32_get(a, 2, 4) end)
      assert.has_error(function() core.u32_get(a, 1, -1) end)
      assert.has_error(function() core.u32_set({}, 1, 1) end)
      assert.has_error(function() core.u32_new(0) end)
    end)
  end)

  describe("hkdf", function()
    it("matches RFC 5869 test case 1", function()
      local okm = core.hkdf("sha256", string.rep("\11", 22), x("000102030405060708090a0b0c"),
        x("f0f1f2f3f4f5f6f7f8f9"), 42)
      assert.are.equal("3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf"
        .. "34007208d5b887185865", hex(okm))
    end)

    it("handles empty output and refuses too much output", function()
      assert.are.equal("", core.hkdf("sha256", "ikm", "", "", 0))
      assert.are.equal(255 * 32, #core.hkdf("sha256", "ikm", nil, nil, 255 * 32))
      local okm, err = core.hkdf("sha256", "ikm", "", "", 255 * 32 + 1)
      assert.is_nil(okm)
      assert.are.equal("hkdf failed", err)
      assert.has_error(function() core.hkdf("sha256", "ikm", "", "", -1) end)
    end)
  end)

  describe("hex", function()
    it("round-trips every byte value", function()
      local all = {}
      for i = 0, 255 do all[#all + 1] = string.char(i) end
      all = table.concat(all)
      assert.are.equal("00017f80feff", hex("\0\1\127\128\254\255"))
      assert.are.equal(all, unhex(hex(all)))
      assert.are.equal("\171\205\239", unhex("AbCdEF"))
      assert.are.equal("", unhex(""))
    end)

    it("rejects odd lengths and non-hex characters", function()
      for _, bad in ipairs({ "abc", "0g", "zz", " 0", "0x12", "12\n" }) do
        local v, err = unhex(bad)
        assert.is_nil(v, bad)
        assert.are.equal("invalid hex", err)
      end
    end)
  end)

  describe("base64", function()
    it("matches RFC 4648 section 10", function()
      local vectors = { [""] = "", f = "Zg==", fo = "Zm8=", foo = "Zm9v", foob = "Zm9vYg==",
        fooba = "Zm9vYmE=", foobar = "Zm9vYmFy", ["\251\255\191"] = "+/+/" }
      for plain, enc in pairs(vectors) do
        assert.are.equal(enc, core.b64(plain))
        assert.are.equal(plain, core.unb64(enc))
      end
    end)

    it("round-trips every length", function()
      for n = 0, 70 do
        local data = core.random(n)
        local enc = core.b64(data)
        assert.are.equal(0, #enc % 4)
        assert.is_nil(enc:find("[^%w+/=]"))
        assert.are.equal(data, core.unb64(enc))
      end
    end)

    it("rejects anything not strictly canonical in shape", function()
      local bad = { "Zg", "Zg=", "Zm9", "Z===", "====", "Zg=a", "Z=g=", "Zg==Zg==", "Zm9v\n",
        "Zm 9v", "Zm9v====", "Zm9-", "Zm9_", "Zm9v!A==", "\0\0\0\0" }
      for _, s in ipairs(bad) do
        local v, err = core.unb64(s)
        assert.is_nil(v, s)
        assert.are.equal("invalid base64", err)
      end
    end)
  end)

  describe("aead", function()
    -- McGrew & Viega, "The Galois/Counter Mode of Operation", test cases 14 and 16.
    local k16 = x("feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308")
    local iv16 = x("cafebabefacedbaddecaf888")
    local p16 = x([[d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72
      1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39]])
    local a16 = x("feedfacedeadbeeffeedfacedeadbeefabaddad2")
    local c16 = x([[522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa
      8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662]])
    local t16 = x("76fc6ece0f4e1768cddf8853bb2d551b")

    it("matches test case 14 (AES-256, zero key, one zero block)", function()
      local c, t = core.aead_seal("aes-256-gcm", string.rep("\0", 32), string.rep("\0", 12),
        string.rep("\0", 16), "")
      assert.are.equal("cea7403d4d606b6e074ec5d3baf39d18", hex(c))
      assert.are.equal("d0d1c8a799996bf0265b98b5d48ab919", hex(t))
    end)

    it("matches test case 16 (AES-256 with AAD) both ways", function()
      local c, t = core.aead_seal("aes-256-gcm", k16, iv16, p16, a16)
      assert.are.equal(hex(c16), hex(c))
      assert.are.equal(hex(t16), hex(t))
      assert.are.equal(p16, core.aead_open("aes-256-gcm", k16, iv16, c16, a16, t16))
    end)

    it("detects tampering with ciphertext, tag, aad, iv and key", function()
      local cases = {
        { k16, iv16, flip(c16, 1), a16, t16 },
        { k16, iv16, c16, a16, flip(t16) },
        { k16, iv16, c16, flip(a16), t16 },
        { k16, iv16, c16, "", t16 },
        { k16, flip(iv16), c16, a16, t16 },
        { flip(k16), iv16, c16, a16, t16 },
        { k16, iv16, c16:sub(1, -2), a16, t16 },
      }
      for i, case in ipairs(cases) do
        local p, err = core.aead_open("aes-256-gcm", table.unpack(case))
        assert.is_nil(p, i)
        assert.are.equal("authentication failed", err)
      end
    end)

    it("round-trips empty and long inputs", function()
      local key, iv = core.random(32), core.random(12)
      for _, msg in ipairs({ "", "a", string.rep("z", 1000) }) do
        local c, t = core.aead_seal("aes-256-gcm", key, iv, msg)
        assert.are.equal(#msg, #c)
        assert.are.equal(16, #t)
        assert.are.equal(msg, core.aead_open("aes-256-gcm", key, iv, c, nil, t))
      end
    end)

    it("reports bad parameters", function()
      local function reason(...) return select(2, ...) end
      assert.are.equal("invalid key length", reason(core.aead_seal("aes-256-gcm", k16:sub(2), iv16, "p")))
      assert.are.equal("invalid iv length", reason(core.aead_seal("aes-256-gcm", k16, iv16 .. "x", "p")))
      assert.are.equal("unsupported cipher", reason(core.aead_seal("aes-256-cbc", k16, iv16, "p")))
      assert.are.equal("invalid tag length", reason(core.aead_open("aes-256-gcm", k16, iv16, c16, a16,
        t16:sub(1, 12))))
      assert.has_error(function() core.aead_open("aes-256-gcm", k16, iv16, c16, a16) end)
    end)
  end)

  describe("cipher", function()
    -- GB/T 32907-2016 appendix A example 1: SM4 of one block. CTR mode's
    -- first keystream block is the block cipher of the IV, so encrypting
    -- zeros with the example's plaintext as IV gives its ciphertext.
    local sm4key = x("0123456789abcdeffedcba9876543210")
    local zero16 = string.rep("\0", 16)

    it("matches the GB/T 32907 SM4 example", function()
      local c = core.cipher("sm4-ctr", sm4key, sm4key, zero16, true)
      assert.are.equal("681edf34d206965e86b3e94f536e4246", hex(c))
      assert.are.equal(zero16, core.cipher("sm4-ctr", sm4key, sm4key, c, false))
    end)

    it("runs sm4-cbc on the same block function", function()
      local cbc = core.cipher("sm4-cbc", sm4key, zero16, sm4key, true)
      assert.are.equal(32, #cbc)  -- one full block of PKCS#7 padding
      assert.are.equal("681edf34d206965e86b3e94f536e4246", hex(cbc:sub(1, 16)))
    end)

    it("matches the NIST SP 800-38A AES-256 CBC vector", function()
      local key = x("603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4")
      local p1 = x("6bc1bee22e409f96e93d7e117393172a")
      local cbc = core.cipher("aes-256-cbc", key, x("000102030405060708090a0b0c0d0e0f"), p1, true)
      assert.are.equal("f58c4c04d6e5f1ba779eabfb5f7bfbd6", hex(cbc:sub(1, 16)))
    end)

    it("round-trips every mode across padding boundaries", function()
      local modes = { ["sm4-cbc"] = 16, ["sm4-ctr"] = 16, ["aes-256-cbc"] = 32 }
      for name, keylen in pairs(modes) do
        local key, iv = core.random(keylen), core.random(16)
        for _, n in ipairs({ 0, 1, 15, 16, 17, 100 }) do
          local msg = core.random(n)
          local c = assert(core.cipher(name, key, iv, msg, true))
          assert.are.equal(name:find("cbc") and (n // 16 + 1) * 16 or n, #c)
          assert.are.equal(msg, core.cipher(name, key, iv, c, false))
        end
      end
    end)

    it("reports bad padding, lengths and names", function()
      local iv = core.random(16)
      -- A block that CBC-decrypts to all zeros, which is never valid PKCS#7.
      local zeros = core.cipher("sm4-ctr", sm4key, iv, zero16, true)
      local p, err = core.cipher("sm4-cbc", sm4key, iv, zeros, false)
      assert.is_nil(p)
      assert.are.equal("decryption failed (bad padding or length)", err)
      assert.is_nil((core.cipher("sm4-cbc", sm4key, iv, zeros:sub(2), false)))
      assert.are.equal("invalid key length", select(2, core.cipher("sm4-ctr", sm4key .. "x", iv, "d", true)))
      assert.are.equal("invalid iv length", select(2, core.cipher("sm4-ctr", sm4key, "", "d", true)))
      assert.are.equal("unsupported cipher", select(2, core.cipher("aes-256-gcm", core.random(32),
        core.random(12), "d", true)))
      assert.are.equal("unsupported cipher", select(2, core.cipher("rot13", "", "", "d", true)))
      assert.has_error(function() core.cipher("sm4-ctr", sm4key, iv, "d", "yes") end)
      assert.has_error(function() core.cipher("sm4-ctr", sm4key, iv, "d") end)
    end)
  end)

  describe("public keys", function()
    local rsa_priv, rsa_pub = core.pkey_generate("rsa2048")
    local sm2_priv, sm2_pub = core.pkey_generate("sm2")

    it("generates every kind as PKCS#8 and SPKI PEM", function()
      for _, kind in ipairs({ "rsa2048", "rsa3072", "rsa4096", "ec-p256", "ec-p384", "ec-secp256k1", "sm2" }) do
        local priv, pub = core.pkey_generate(kind)
        assert.is_truthy(priv:find("^%-%-%-%-%-BEGIN PRIVATE KEY%-%-%-%-%-\n"), kind)
        assert.is_truthy(pub:find("^%-%-%-%-%-BEGIN PUBLIC KEY%-%-%-%-%-\n"), kind)
        local der = core.pkey_public_der(pub)
        assert.are.equal(0x30, der:byte(1))
        assert.are.equal(der, core.pkey_public_der(priv))
      end
      assert.are_not.equal(rsa_pub, (select(2, core.pkey_generate("rsa2048"))))
      local k, err = core.pkey_generate("dsa1024")
      assert.is_nil(k)
      assert.are.equal("unsupported key kind", err)
    end)

    it("rejects malformed PEM", function()
      assert.is_nil((core.pkey_public_der("not a key")))
      assert.is_nil((core.pkey_public_der(rsa_pub:gsub("[A-Z]", "A", 5))))
      assert.is_nil((core.pkey_encrypt("", "rsa-pkcs1", "m")))
    end)

    for _, padding in ipairs({ "rsa-pkcs1", "rsa-oaep-sha1", "rsa-oaep-sha256" }) do
      it("round-trips " .. padding .. " with public and private PEMs", function()
        for _, key in ipairs({ rsa_pub, rsa_priv }) do
          local c = assert(core.pkey_encrypt(key, padding, "secret"))
          assert.are.equal(256, #c)
          assert.are.equal("secret", core.pkey_decrypt(rsa_priv, padding, c))
          assert.are_not.equal(c, core.pkey_encrypt(key, padding, "secret"))  -- randomised
        end
        local c = core.pkey_encrypt(rsa_pub, padding, "secret")
        if padding == "rsa-pkcs1" then
          -- OpenSSL >= 3.2 answers bad PKCS#1 padding with implicit rejection.
          assert.are_not.equal("secret", core.pkey_decrypt(rsa_priv, padding, flip(c, 100)))
        else
          assert.is_nil((core.pkey_decrypt(rsa_priv, padding, flip(c, 100))))
        end
        assert.are.equal("invalid private key", select(2, core.pkey_decrypt(rsa_pub, padding, c)))
      end)
    end

    it("keeps the RSA paddings apart", function()
      local c = core.pkey_encrypt(rsa_pub, "rsa-oaep-sha256", "m")
      assert.is_nil((core.pkey_decrypt(rsa_priv, "rsa-oaep-sha1", c)))
      assert.are_not.equal("m", core.pkey_decrypt(rsa_priv, "rsa-pkcs1", c))
      c = core.pkey_encrypt(rsa_pub, "rsa-oaep-sha1", "m")
      assert.is_nil((core.pkey_decrypt(rsa_priv, "rsa-oaep-sha256", c)))
    end)

    it("uses SHA-256 for both OAEP and MGF1 (checked against the openssl CLI)", function()
      local okcli = os.execute("openssl version >/dev/null 2>&1")
      if not okcli then
        pending("openssl binary not available")
        return
      end
      local keyfile, ctfile = os.tmpname(), os.tmpname()
      local f = assert(io.open(keyfile, "wb")); f:write(rsa_priv); f:close()
      f = assert(io.open(ctfile, "wb")); f:write(core.pkey_encrypt(rsa_pub, "rsa-oaep-sha256", "interop")); f:close()
      local pipe = io.popen("openssl pkeyutl -decrypt -inkey " .. keyfile .. " -in " .. ctfile
        .. " -pkeyopt rsa_padding_mode:oaep -pkeyopt rsa_oaep_md:sha256 -pkeyopt rsa_mgf1_md:sha256 2>/dev/null")
      local out = pipe:read("a")
      pipe:close()
      os.remove(keyfile)
      os.remove(ctfile)
      assert.are.equal("interop", out)
    end)

    it("refuses too-long plaintexts and mismatched key types", function()
      assert.is_truthy(core.pkey_encrypt(rsa_pub, "rsa-pkcs1", string.rep("a", 245)))
      assert.are.equal("encryption failed", select(2, core.pkey_encrypt(rsa_pub, "rsa-pkcs1", string.rep("a", 246))))
      assert.is_nil((core.pkey_encrypt(rsa_pub, "rsa-oaep-sha256", string.rep("a", 191))))
      assert.are.equal("key type does not match padding", select(2, core.pkey_encrypt(rsa_pub, "sm2", "m")))
      assert.are.equal("key type does not match padding", select(2, core.pkey_encrypt(sm2_pub, "rsa-pkcs1", "m")))
      local _, ec_pub = core.pkey_generate("ec-p256")
      assert.is_nil((core.pkey_encrypt(ec_pub, "sm2", "m")))
      assert.are.equal("unsupported padding", select(2, core.pkey_encrypt(rsa_pub, "rsa-none", "m")))
    end)

    it("round-trips SM2 and converts between DER and raw C1C3C2", function()
      local msg = "encryption standard"
      local der = assert(core.pkey_encrypt(sm2_pub, "sm2", msg))
      assert.are.equal(msg, core.pkey_decrypt(sm2_priv, "sm2", der))
      assert.are.equal(msg, core.pkey_decrypt(sm2_priv, "sm2", core.pkey_encrypt(sm2_priv, "sm2", msg)))

      local raw = assert(core.sm2_der_to_raw(der))
      assert.are.equal(97 + #msg, #raw)
      assert.are.equal(4, raw:byte(1))
      assert.are.equal(der, sm2.raw_to_der(raw))
      assert.is_nil((core.pkey_decrypt(sm2_priv, "sm2", flip(der))))
      assert.is_nil((core.pkey_decrypt(sm2_priv, "sm2", sm2.raw_to_der(flip(raw, 70)))))
      local _, other_pub = core.pkey_generate("sm2")
      assert.is_nil((core.pkey_decrypt(sm2_priv, "sm2", core.pkey_encrypt(other_pub, "sm2", msg))))
    end)

    it("pads short SM2 coordinates and re-encodes them minimally", function()
      local hash = string.rep("\171", 32)
      -- SEQUENCE { INTEGER 1, INTEGER 255 (with its 0x00 sign byte), OCTET STRING hash, OCTET STRING "abc" }
      local der = "\48\46" .. "\2\1\1" .. "\2\2\0\255" .. "\4\32" .. hash .. "\4\3abc"
      local raw = core.sm2_der_to_raw(der)
      assert.are.equal("\4" .. string.rep("\0", 31) .. "\1" .. string.rep("\0", 31) .. "\255" .. hash .. "abc", raw)
      assert.are.equal(der, sm2.raw_to_der(raw))
    end)

    it("rejects malformed SM2 ciphertexts", function()
      local hash = string.rep("\171", 32)
      local bad_der = {
        "", "garbage",
        "\48\46\2\1\1\2\2\0\255\4\32" .. hash .. "\4\3abc" .. "\0",          -- trailing byte
        "\48\46\2\1\255\2\2\0\255\4\32" .. hash .. "\4\3abc",                -- negative x
        "\48\45\2\1\1\2\2\0\255\4\31" .. hash:sub(2) .. "\4\3abc",           -- short hash
        "\48\79\2\34\1" .. string.rep("\0", 32) .. "\2\2\0\255\4\32" .. hash .. "\4\3abc",  -- x too big
      }
      for i, der in ipairs(bad_der) do
        local raw, err = core.sm2_der_to_raw(der)
        assert.is_nil(raw, i)
        assert.are.equal("invalid sm2 ciphertext", err)
      end
    end)
  end)

  -- Runs the openssl command line on files holding the given strings:
  -- cli({ key = pem, msg = m }, "dgst -verify $key $msg") substitutes each
  -- $name with a temporary file's path. Returns true when it exits 0, and
  -- the contents of the files afterwards; nil when there is no openssl.
  local function cli(files, command)
    if not os.execute("openssl version >/dev/null 2>&1") then
      return nil
    end
    local paths = {}
    for name, data in pairs(files) do
      paths[name] = os.tmpname()
      local f = assert(io.open(paths[name], "wb"))
      f:write(data)
      f:close()
    end
    local ok = os.execute("openssl " .. command:gsub("%$(%w+)", paths) .. " >/dev/null 2>&1")
    local out = {}
    for name, path in pairs(paths) do
      local f = assert(io.open(path, "rb"))
      out[name] = f:read("a")
      f:close()
      os.remove(path)
    end
    return ok == true, out
  end

  local KINDS = { "rsa2048", "rsa3072", "rsa4096", "ec-p256", "ec-p384", "ec-secp256k1", "sm2", "ed25519" }
  local BITS = { rsa2048 = 2048, rsa3072 = 3072, rsa4096 = 4096, ["ec-p256"] = 256, ["ec-p384"] = 384,
    ["ec-secp256k1"] = 256, sm2 = 256, ed25519 = 256 }

  -- Derived once: RSA prime searches take a noticeable fraction of a second.
  local derived = {}
  local function key(kind)
    derived[kind] = derived[kind] or assert(core.pkey_derive(kind, "kmsemu spec"))
    return derived[kind]
  end

  describe("pkey_derive", function()
    -- SHA-256 of the SPKI DER of each kind derived from "kmsemu spec". These
    -- pin the derivation rule in crypto.h: any change to it changes every
    -- key a scenario has ever handed out.
    local pinned = {
      ["rsa2048"] = "3bba1a4d3527a3313d5333fd3b6cd7165b383e67264fb29fde120a48f0420550",
      ["rsa3072"] = "812fa891835d8efbad76dc7217eb922508f587062a3b9d1935e75cd12aa32d4e",
      ["rsa4096"] = "afb50f5a3aa879e72c230d8fcea0f24a3cf370ad25dc5efd87812b252ad051c1",
      ["ec-p256"] = "1ca25564f3cea69fa93429f3deaaaf1fdd0b3611854b496c6fcc5ca805f95812",
      ["ec-p384"] = "c478f8654d83ecf98186f61abce9cee72add57dbf3bd36e2c1dbff96ccfb30d2",
      ["ec-secp256k1"] = "de30eb59a760d979e544cca0c03a6ff6272e517627363db5165a8e79e340f0e4",
      ["sm2"] = "9eb05f3343be4b3befc568381befdc6443a790d082717055586c8fa976067b67",
      ["ed25519"] = "4218fed57dc0e19b1e81ee0c2a682b124d741170ce12b744ce4fa7c194fcf063",
    }

    for _, kind in ipairs(KINDS) do
      it("derives " .. kind .. " deterministically", function()
        local pem = key(kind)
        assert.is_truthy(pem:find("^%-%-%-%-%-BEGIN PRIVATE KEY%-%-%-%-%-\n"))
        assert.are.equal(pem, core.pkey_derive(kind, "kmsemu spec"))
        assert.are.equal(pinned[kind], hex(core.digest("sha256", core.pkey_public_der(pem))))
        assert.are_not.equal(pem, core.pkey_derive(kind, "kmsemu spec."))
        assert.are.same({ kind = kind, bits = BITS[kind], private = true }, core.pkey_info(pem))
        assert.are.same({ kind = kind, bits = BITS[kind], private = false },
          core.pkey_info(core.pkey_public_pem(pem)))
      end)
    end

    it("takes the Ed25519 key straight from HKDF as crypto.h documents", function()
      local seed = "\0\1\2 any bytes \255"
      local raw = core.hkdf("sha256", seed, "", "kmsemu-derive/ed25519/d/0", 32)
      assert.are.equal(x("302e020100300506032b657004220420") .. raw,
        core.pkey_private_der(core.pkey_derive("ed25519", seed)))
    end)

    it("derives keys that OpenSSL's full key check accepts", function()
      for _, kind in ipairs(KINDS) do
        local ok = cli({ key = key(kind) }, "pkey -check -noout -in $key")
        if ok == nil then
          pending("openssl binary not available")
          return
        end
        assert.is_true(ok, kind)
      end
    end)

    it("derives working RSA keys", function()
      for _, kind in ipairs({ "rsa2048", "rsa3072", "rsa4096" }) do
        local priv = key(kind)
        local pub = core.pkey_public_pem(priv)
        local c = assert(core.pkey_encrypt(pub, "rsa-oaep-sha256", "secret"))
        assert.are.equal(BITS[kind] // 8, #c)
        assert.are.equal("secret", core.pkey_decrypt(priv, "rsa-oaep-sha256", c))
        local sig = assert(core.sign(priv, "rsa-pss-sha256", "msg", false))
        assert.are.equal(BITS[kind] // 8, #sig)
        assert.is_true(core.verify(pub, "rsa-pss-sha256", "msg", false, sig))
        assert.is_false(core.verify(pub, "rsa-pss-sha256", "msh", false, sig))
      end
    end)

    it("accepts any seed bytes and refuses unknown kinds", function()
      assert.are_not.equal(core.pkey_derive("ec-p256", ""), core.pkey_derive("ec-p256", "\0"))
      assert.are_not.equal(core.pkey_derive("sm2", "s"), core.pkey_derive("ec-p256", "s"))
      local k, err = core.pkey_derive("rsa1024", "s")
      assert.is_nil(k)
      assert.are.equal("unsupported key kind", err)
      assert.has_error(function() core.pkey_derive("ec-p256") end)
      assert.has_error(function() core.pkey_derive(nil, "s") end)
    end)
  end)

  describe("key conversion", function()
    it("reports generated and imported keys", function()
      local priv, pub = core.pkey_generate("rsa3072")
      assert.are.same({ kind = "rsa3072", bits = 3072, private = true }, core.pkey_info(priv))
      assert.are.same({ kind = "rsa3072", bits = 3072, private = false }, core.pkey_info(pub))
      -- An X25519 key: valid, but no kind of ours.
      local x25519 = core.pkey_from_der(x("302e020100300506032b656e04220420") .. string.rep("\7", 32))
      assert.is_truthy(x25519)
      assert.are.same({ nil, "unsupported key kind" }, { core.pkey_info(x25519) })
      assert.are.same({ nil, "invalid key" }, { core.pkey_info("not a key") })
      assert.has_error(function() core.pkey_info() end)
    end)

    it("round-trips PKCS#8 and SPKI DER for every kind", function()
      for _, kind in ipairs(KINDS) do
        local priv = key(kind)
        local pub = core.pkey_public_pem(priv)
        assert.is_truthy(pub:find("^%-%-%-%-%-BEGIN PUBLIC KEY%-%-%-%-%-\n"), kind)
        assert.are.equal(pub, core.pkey_public_pem(pub))
        local der = assert(core.pkey_private_der(priv))
        assert.are.equal(0x30, der:byte(1))
        assert.are.equal(priv, core.pkey_from_der(der))
        assert.are.equal(pub, core.pkey_from_der(core.pkey_public_der(priv)))
        assert.are.same({ nil, "invalid private key" }, { core.pkey_private_der(pub) })
      end
    end)

    it("rejects malformed DER and PEM", function()
      local der = core.pkey_private_der(key("ec-p256"))
      local spki = core.pkey_public_der(key("ec-p256"))
      for i, bad in ipairs({ "", "garbage", der .. "\0", der:sub(1, -2), spki .. "\0", flip(spki, 30) }) do
        assert.are.same({ nil, "invalid key" }, { core.pkey_from_der(bad) }, i)
      end
      assert.are.same({ nil, "invalid key" }, { core.pkey_public_pem("-----BEGIN PUBLIC KEY-----\n") })
      assert.are.same({ nil, "invalid private key" }, { core.pkey_private_der("") })
    end)
  end)

  describe("sign and verify", function()
    -- alg, key kind, hash (nil: raw messages only)
    local cases = {
      { "rsa-pss-sha256", "rsa2048", "sha256" }, { "rsa-pss-sha384", "rsa3072", "sha384" },
      { "rsa-pss-sha512", "rsa4096", "sha512" }, { "rsa-pkcs1-sha256", "rsa2048", "sha256" },
      { "rsa-pkcs1-sha384", "rsa2048", "sha384" }, { "rsa-pkcs1-sha512", "rsa3072", "sha512" },
      { "ecdsa-sha256", "ec-p256", "sha256" }, { "ecdsa-sha384", "ec-p384", "sha384" },
      { "ecdsa-sha512", "ec-p384", "sha512" }, { "ecdsa-sha256", "ec-secp256k1", "sha256" },
      { "ecdsa-sha384", "ec-p256", "sha384" }, { "ecdsa-sha512", "ec-secp256k1", "sha512" },
      { "sm2-sm3", "sm2", "sm3" }, { "ed25519", "ed25519", nil },
    }
    local msg = "message to sign"

    -- What DIGEST mode takes for msg: the hash, or SM2's e = SM3(Z_A || M).
    local function digest_of(alg, pem, hash)
      if alg == "sm2-sm3" then
        return sm2.e(pem, msg)
      end
      return core.digest(hash, msg)
    end

    for _, case in ipairs(cases) do
      local alg, kind, hash = table.unpack(case)
      it(alg .. " with " .. kind .. " in raw and digest mode", function()
        local priv = key(kind)
        local pub = core.pkey_public_pem(priv)
        local sig = assert(core.sign(priv, alg, msg, false))
        for _, k in ipairs({ pub, priv }) do
          assert.is_true(core.verify(k, alg, msg, false, sig))
        end
        assert.is_false(core.verify(pub, alg, msg .. ".", false, sig))
        assert.is_false(core.verify(pub, alg, msg, false, flip(sig, #sig // 2)))
        assert.is_false(core.verify(pub, alg, msg, false, flip(sig)))
        assert.is_false(core.verify(pub, alg, msg, false, ""))
        assert.is_false(core.verify(pub, alg, msg, false, string.rep("\48", #sig)))
        local other = core.pkey_derive(kind, "another seed")
        assert.is_false(core.verify(other, alg, msg, false, sig))

        if hash == nil then
          assert.are.same({ nil, "the algorithm does not take a digest" },
            { core.sign(priv, alg, core.digest("sha512", msg), true) })
          assert.are.same({ nil, "the algorithm does not take a digest" },
            { core.verify(pub, alg, core.digest("sha512", msg), true, sig) })
          return
        end
        local d = digest_of(alg, pub, hash)
        -- A raw-mode signature verifies as a digest-mode one, and back.
        assert.is_true(core.verify(pub, alg, d, true, sig))
        local dsig = assert(core.sign(priv, alg, d, true))
        assert.is_true(core.verify(pub, alg, msg, false, dsig))
        assert.is_true(core.verify(pub, alg, d, true, dsig))
        -- The first byte: ECDSA keeps only the leftmost bits of a digest
        -- longer than the order, so a change at the end may not count.
        assert.is_false(core.verify(pub, alg, flip(d, 1), true, dsig))
        assert.is_false(core.verify(pub, alg, d, true, flip(dsig, 10)))
        for _, bad in ipairs({ d:sub(2), d .. "\0", "" }) do
          assert.are.same({ nil, "digest length does not match the algorithm" },
            { core.sign(priv, alg, bad, true) })
          assert.are.same({ nil, "digest length does not match the algorithm" },
            { core.verify(pub, alg, bad, true, dsig) })
        end
      end)
    end

    it("signs deterministically exactly where the scheme is deterministic", function()
      local rsa, ec, ed = key("rsa2048"), key("ec-p256"), key("ed25519")
      assert.are.equal(core.sign(rsa, "rsa-pkcs1-sha256", msg, false), core.sign(rsa, "rsa-pkcs1-sha256", msg, false))
      assert.are.equal(core.sign(ed, "ed25519", msg, false), core.sign(ed, "ed25519", msg, false))
      assert.are_not.equal(core.sign(rsa, "rsa-pss-sha256", msg, false), core.sign(rsa, "rsa-pss-sha256", msg, false))
      assert.are_not.equal(core.sign(ec, "ecdsa-sha256", msg, false), core.sign(ec, "ecdsa-sha256", msg, false))
    end)

    it("keeps schemes, hashes and key types apart", function()
      local rsa, ec = key("rsa2048"), key("ec-p256")
      local pss = core.sign(rsa, "rsa-pss-sha256", msg, false)
      assert.is_false(core.verify(rsa, "rsa-pkcs1-sha256", msg, false, pss))
      assert.is_false(core.verify(rsa, "rsa-pss-sha384", msg, false, pss))
      assert.is_false(core.verify(rsa, "rsa-pss-sha256", msg, false, core.sign(rsa, "rsa-pkcs1-sha256", msg, false)))
      assert.is_false(core.verify(ec, "ecdsa-sha384", msg, false, core.sign(ec, "ecdsa-sha256", msg, false)))
      -- The same curve, but SM2 signs differently from ECDSA.
      local mismatched = {
        { ec, "rsa-pss-sha256" }, { rsa, "ecdsa-sha256" }, { key("sm2"), "ecdsa-sha256" },
        { ec, "sm2-sm3" }, { rsa, "ed25519" }, { key("ed25519"), "ecdsa-sha256" },
      }
      for i, m in ipairs(mismatched) do
        assert.are.same({ nil, "key does not support the algorithm" }, { core.sign(m[1], m[2], msg, false) }, i)
        assert.are.same({ nil, "key does not support the algorithm" },
          { core.verify(core.pkey_public_pem(m[1]), m[2], msg, false, "sig") }, i)
      end
    end)

    it("reports bad keys and names and raises on bad argument types", function()
      local pub = core.pkey_public_pem(key("ec-p256"))
      assert.are.same({ nil, "invalid private key" }, { core.sign(pub, "ecdsa-sha256", msg, false) })
      assert.are.same({ nil, "invalid key" }, { core.verify("junk", "ecdsa-sha256", msg, false, "sig") })
      assert.are.same({ nil, "unsupported signature algorithm" }, { core.sign(key("ec-p256"), "ecdsa-md5", msg, false) })
      assert.are.same({ nil, "unsupported signature algorithm" }, { core.verify(pub, "dsa", msg, false, "sig") })
      assert.has_error(function() core.sign(key("ec-p256"), "ecdsa-sha256", msg) end)
      assert.has_error(function() core.sign(key("ec-p256"), "ecdsa-sha256", msg, 1) end)
      assert.has_error(function() core.verify(pub, "ecdsa-sha256", msg, false) end)
      assert.has_error(function() core.verify(pub, "ecdsa-sha256", msg, "no", "sig") end)
    end)

    it("agrees with the openssl CLI on RSA-PSS (salt = digest length) and ECDSA", function()
      local rsa, ec = key("rsa3072"), key("ec-p256")
      local rsa_pub, ec_pub = core.pkey_public_pem(rsa), core.pkey_public_pem(ec)
      local pss = core.sign(rsa, "rsa-pss-sha384", msg, false)
      local pss_opts = "-sigopt rsa_padding_mode:pss -sigopt rsa_mgf1_md:sha384 -sigopt rsa_pss_saltlen:"
      local ok = cli({ key = rsa_pub, msg = msg, sig = pss },
        "dgst -sha384 -verify $key " .. pss_opts .. "48 -signature $sig $msg")
      if ok == nil then
        pending("openssl binary not available")
        return
      end
      assert.is_true(ok)
      -- The CLI does check the salt length: 47 must fail.
      assert.is_false((cli({ key = rsa_pub, msg = msg, sig = pss },
        "dgst -sha384 -verify $key " .. pss_opts .. "47 -signature $sig $msg")))
      assert.is_true((cli({ key = rsa_pub, msg = msg, sig = core.sign(rsa, "rsa-pss-sha256", core.digest("sha256", msg), true) },
        "dgst -sha256 -verify $key -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:32 -signature $sig $msg")))
      assert.is_true((cli({ key = ec_pub, msg = msg, sig = core.sign(ec, "ecdsa-sha384", msg, false) },
        "dgst -sha384 -verify $key -signature $sig $msg")))
      assert.is_false((cli({ key = ec_pub, msg = msg .. ".", sig = core.sign(ec, "ecdsa-sha384", msg, false) },
        "dgst -sha384 -verify $key -signature $sig $msg")))
      -- And the CLI's signatures verify here.
      local _, out = cli({ key = rsa, msg = msg, sig = "" }, "dgst -sha512 -sign $key -out $sig $msg")
      assert.is_true(core.verify(rsa_pub, "rsa-pkcs1-sha512", msg, false, out.sig))
      _, out = cli({ key = ec, msg = msg, sig = "" }, "dgst -sha256 -sign $key -out $sig $msg")
      assert.is_true(core.verify(ec_pub, "ecdsa-sha256", core.digest("sha256", msg), true, out.sig))
    end)
  end)

  describe("sm2", function()
    local msg = "message to sign"
    -- GB/T 32918.2-2016 example on the recommended curve, default ID:
    -- d_A, its public key, Z_A, e for M = "message digest" and (r, s).
    local d_a = x("3945208F7B2144B13F36E38AC6D39F95889393692860B51A42FB81EF4DF7C5B8")
    local p_a = x([[09F9DF311E5421A150DD7D161E4BC5C672179FAD1833FC076BB08FF356F35020
      CCEA490CE26775A52DC6EA718CC1AA600AED05FBF35E084A6632F6072DA9AD13]])
    local z_a = "b2e14c5c79c6df5b85f4fe7ed8db7a262b9da7e07ccb0ea9f4747b8ccda8a4f3"
    local e = "f0b43e94ba45accaace692ed534382eb17e6ab5a19ce7b31f4486fdfc0d28640"
    local r = x("F5A03B0648D2C4630EEAC513E1BB81A15944DA3827D5B74143AC7EACEEE720B3")
    local s = x("B1B6AA29DF212FD8763182BC0D421CA1BB9038FD1F7F42D4840B69C485BBC1AA")
    -- SEQUENCE { INTEGER r, INTEGER s }, both with a 0x00 sign byte.
    local example_sig = "\48\70\2\33\0" .. r .. "\2\33\0" .. s
    -- PKCS#8 { 0, { id-ecPublicKey, sm2p256v1 }, ECPrivateKey { 1, d_A } }:
    -- OpenSSL computes the public key itself.
    local example_key = "\48\65\2\1\0\48\19\6\7" .. x("2a8648ce3d0201") .. "\6\8" .. x("2a811ccf5501822d")
      .. "\4\39\48\37\2\1\1\4\32" .. d_a
    -- The curve's a, b, xG, yG (GB/T 32918.5).
    local curve = x([[FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFC
      28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93
      32C4AE2C1F1981195F9904466A39C9948FE30BBFF2660BE1715A4589334C74C7
      BC3736A2F4F6779C59BDCEE36B692153D0A9877CC62A474002DF32E52139F0A0]])

    it("matches the GB/T 32918.2 signature example", function()
      local pem = assert(core.pkey_from_der(example_key))
      local pub = core.pkey_public_pem(pem)
      assert.are.equal(hex(p_a), hex(core.pkey_public_der(pub):sub(-64)))
      assert.are.equal(z_a, hex(core.digest("sm3", "\0\128" .. "1234567812345678" .. curve .. p_a)))
      assert.are.equal(e, hex(sm2.e(pub, "message digest")))
      assert.are.equal(e, hex(sm2.e(pem, "message digest")))
      assert.is_true(core.verify(pub, "sm2-sm3", "message digest", false, example_sig))
      assert.is_true(core.verify(pub, "sm2-sm3", x(e), true, example_sig))
      assert.is_false(core.verify(pub, "sm2-sm3", "message digesT", false, example_sig))
      assert.is_false(core.verify(pub, "sm2-sm3", core.digest("sm3", "message digest"), true, example_sig))
    end)

    it("computes e over Z_A of the key's own public point", function()
      local priv = key("sm2")
      local pub = core.pkey_public_pem(priv)
      local z = core.digest("sm3", "\0\128" .. "1234567812345678" .. curve .. core.pkey_public_der(pub):sub(-64))
      assert.are.equal(hex(core.digest("sm3", z .. "m")), hex(sm2.e(pub, "m")))
      assert.are.equal(hex(core.digest("sm3", z)), hex(sm2.e(priv, "")))
      assert.are_not.equal(sm2.e(pub, "m"), sm2.e(core.pkey_derive("sm2", "other"), "m"))
    end)

    it("agrees with the openssl CLI and its distinguishing ID", function()
      local priv = key("sm2")
      local pub = core.pkey_public_pem(priv)
      local verify_cmd = "dgst -sm3 -verify $key -sigopt distid:1234567812345678 -signature $sig $msg"
      local ok = cli({ key = pub, msg = msg, sig = core.sign(priv, "sm2-sm3", msg, false) }, verify_cmd)
      if ok == nil then
        pending("openssl binary not available")
        return
      end
      assert.is_true(ok)
      assert.is_true((cli({ key = pub, msg = msg, sig = core.sign(priv, "sm2-sm3", sm2.e(pub, msg), true) },
        verify_cmd)))
      assert.is_false((cli({ key = pub, msg = msg .. ".", sig = core.sign(priv, "sm2-sm3", msg, false) },
        verify_cmd)))
      local _, out = cli({ key = priv, msg = msg, sig = "" },
        "dgst -sm3 -sign $key -sigopt distid:1234567812345678 -out $sig $msg")
      assert.is_true(core.verify(pub, "sm2-sm3", msg, false, out.sig))
      assert.is_true(core.verify(pub, "sm2-sm3", sm2.e(pub, msg), true, out.sig))
      -- Another ID gives another Z_A, so the signature no longer verifies.
      _, out = cli({ key = priv, msg = msg, sig = "" },
        "dgst -sm3 -sign $key -sigopt distid:ALICE123@YAHOO.COM -out $sig $msg")
      assert.is_true(#out.sig > 0)
      assert.is_false(core.verify(pub, "sm2-sm3", msg, false, out.sig))
    end)
  end)

  describe("pkey_derive_shared", function()
    it("agrees on one ECDH secret from either side, as openssl pkeyutl -derive", function()
      for _, kind in ipairs { "ec-p256", "ec-p384", "ec-secp256k1" } do
        local a, apub = core.pkey_generate(kind)
        local b, bpub = core.pkey_generate(kind)
        local s1 = assert(core.pkey_derive_shared(a, core.pkey_public_der(bpub)))
        assert.are.equal(s1, core.pkey_derive_shared(b, apub))
        assert.are.equal(kind == "ec-p384" and 48 or 32, #s1)
        local ok, out = cli({ key = a, peer = bpub, out = "" },
          "pkeyutl -derive -inkey $key -peerkey $peer -out $out")
        if ok ~= nil then
          assert.is_true(ok)
          assert.are.equal(s1, out.out)
        end
      end
    end)

    it("refuses other curves, bad peers and key types without ECDH", function()
      local a = core.pkey_generate("ec-p256")
      local _, other = core.pkey_generate("ec-p384")
      local s, err = core.pkey_derive_shared(a, other)
      assert.is_nil(s)
      assert.are.equal("peer key type or curve differs", err)
      assert.is_nil((core.pkey_derive_shared(a, "junk")))
      assert.is_nil((core.pkey_derive_shared(a, "")))
      for _, kind in ipairs { "rsa2048", "sm2" } do
        local k, kpub = core.pkey_generate(kind)
        assert.is_nil((core.pkey_derive_shared(k, kpub)))
      end
    end)
  end)

  describe("aes wrap with padding", function()
    it("matches RFC 5649 wrapping done elsewhere", function()
      local k256 = x "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
      assert.are.equal("29b7fa191c2165684374eee9f74595e2a42bace75c425b3053efa26ffe1bb32f",
        hex(core.cipher("aes-256-wrap-pad", k256, nil,
          x "c37b7e6492584340bed12207808941155068f738", true)))
      assert.are.equal("be80535e12e9394c8f8df26bd9528a35",
        hex(core.cipher("aes-128-wrap-pad", k256:sub(1, 16), nil, x "466f7250617369", true)))
    end)

    it("round-trips any length and refuses a wrong key", function()
      for _, c in ipairs { "aes-256-wrap-pad", "aes-128-wrap-pad" } do
        local key = core.random(c == "aes-256-wrap-pad" and 32 or 16)
        for _, n in ipairs { 1, 7, 8, 9, 32, 1217 } do
          local data = core.random(n)
          local w = assert(core.cipher(c, key, nil, data, true))
          assert.are.equal(8 * math.ceil(n / 8) + 8, #w)
          assert.are.equal(data, core.cipher(c, key, nil, w, false))
        end
        local w = core.cipher(c, key, nil, "secret", true)
        assert.is_nil((core.cipher(c, core.random(#key), nil, w, false)))
        assert.is_nil((core.cipher(c, core.random(#key + 1), nil, w, false)))
      end
    end)
  end)

  describe("equal", function()
    it("compares contents and lengths", function()
      assert.is_true(core.equal("abc", "abc"))
      assert.is_true(core.equal("", ""))
      assert.is_false(core.equal("abc", "abd"))
      assert.is_false(core.equal("abc", "ab"))
      assert.is_false(core.equal("\0", ""))
      assert.has_error(function() core.equal("a") end)
    end)
  end)
end)
