-- https: a self-signed certificate kmsemu makes and writes out, and a
-- certificate and key given as files. Both dialects answer over TLS to a
-- client that trusts exactly that certificate; plain http to a TLS port
-- gets no HTTP answer at all. A copy of the binary anywhere serves https;
-- a TLS civetweb cannot load stops start-up instead of a worker.
local client = require "support.client"
local fs = require "support.fs"
local server = require "support.server"

local sh, tmpdir = fs.run, fs.tmpdir

-- One signed request of each dialect, sent with curl trusting `ca`.
local function both_dialects(s, ca)
  local host = s.url:match("^https://(.*)$")
  local reqs = {
    tencent = client.tencent { action = "GenerateDataKey", host = host,
      params = { KeyId = "23e80852-1e38-11e9-b129-5cb9019b4b01", KeySpec = "AES_256" } },
    huawei = client.huawei { action = "create-datakey", host = host,
      body = { key_id = "0d0466b0-e727-4d9c-b35d-f84bb474a37f" } },
  }
  for name, req in pairs(reqs) do
    local status, _, body = server.send(s, req, { "--cacert", ca })
    assert.are.equal(200, status, name .. ": " .. tostring(body))
    local r = client.json { body = body }
    assert.is_string(name == "tencent" and r.Response.Plaintext or r.plain_text, name)
  end
end

-- Both dialects over https to a client trusting `ca`, then curl with
-- `curl_args` against s; s is stopped. Returns curl's exit code.
local function serve_then_curl(s, ca, curl_args)
  assert.matches("^https://", s.url)
  both_dialects(s, ca)
  local code = sh(("curl -s -o /dev/null %s %s/"):format(curl_args, s.url))
  assert.are.equal(0, server.stop(s))
  return code
end

describe("--tls-self-signed #http #tls", function()
  local s, dir, cert

  lazy_setup(function()
    dir = tmpdir()
    cert = dir .. "/kmsemu.pem"
    s = server.start { "--tls-self-signed", cert }
    assert.is_string(s.url, "the binary did not announce its address")
  end)

  lazy_teardown(function()
    assert.are.equal(0, server.stop(s))
    os.execute("rm -rf " .. dir)
  end)

  it("announces an https URL and writes the certificate alone, mode 0600", function()
    assert.matches("^https://127%.0%.0%.1:%d+$", s.url)
    local _, mode = sh("stat -c %a " .. cert)
    assert.matches("^600\n", mode)
    local f = assert(io.open(cert))
    local pem = f:read("a")
    f:close()
    assert.matches("^%-%-%-%-%-BEGIN CERTIFICATE%-%-%-%-%-\n", pem)
    assert.is_nil(pem:find("PRIVATE KEY", 1, true), "the key must never be written out")
  end)

  it("names the listen address and localhost in subjectAltName", function()
    local status, text = sh("openssl x509 -noout -ext subjectAltName -in " .. cert)
    assert.are.equal(0, status, text)
    assert.matches("IP Address:127%.0%.0%.1", text)
    assert.matches("DNS:localhost", text)
    local port = s.url:match(":(%d+)$")
    local code = sh(("curl -sf -o /dev/null --cacert %s https://localhost:%s/"):format(cert, port))
    assert.are.equal(0, code, "a client dialling localhost must accept the certificate")
  end)

  it("serves both dialects to a client that trusts the written certificate", function()
    both_dialects(s, cert)
  end)

  it("links its version document with https", function()
    local p = io.popen(("curl -s --cacert %s %s/"):format(cert, s.url))
    local body = p:read("a")
    p:close()
    assert.matches('"href":"https://127%.0%.0%.1:%d+/v1%.0/"', body)
  end)

  it("is refused by a client that does not trust it", function()
    local code = sh(("curl -s -o /dev/null %s/"):format(s.url))
    assert.are.equal(60, code, "curl: peer certificate cannot be authenticated")
  end)

  it("gives plain http no HTTP answer, then goes on serving https", function()
    local code, out = sh(("curl -s -o /dev/null -w '%%{http_code}' --max-time 5 %s/")
      :format(s.url:gsub("^https", "http")))
    assert.are.equal(52, code, "curl: empty reply from server; got " .. out)
    assert.matches("^000", out)
    assert.are.equal(0, (sh(("curl -sf -o /dev/null --cacert %s %s/"):format(cert, s.url))))
  end)
end)

describe("--tls-cert and --tls-key #http #tls", function()
  local dir

  lazy_setup(function()
    dir = tmpdir()
    -- An RSA certificate this time, made as an operator would make one.
    for _, name in ipairs { "a", "b" } do
      local status, out = sh(("openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=kmsemu"
        .. " -addext subjectAltName=IP:127.0.0.1 -keyout %s/%s.key -out %s/%s.crt"):format(dir, name, dir, name))
      assert.are.equal(0, status, out)
    end
  end)

  lazy_teardown(function()
    os.execute("rm -rf " .. dir)
  end)

  it("serves both dialects with the given certificate", function()
    local s = server.start { "--tls-cert", dir .. "/a.crt", "--tls-key", dir .. "/a.key" }
    assert.are.equal(60, serve_then_curl(s, dir .. "/a.crt", "--cacert " .. dir .. "/b.crt"),
      "another certificate must not be accepted")
  end)

  it("sends the intermediate certificates that follow the leaf", function()
    -- root -> intermediate -> leaf; the client trusts the root alone.
    local cmds = {
      "printf 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign\n' >%s/ca.ext",
      "printf 'subjectAltName=IP:127.0.0.1\n' >%s/leaf.ext",
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=root"
        .. " -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign"
        .. " -keyout %s/root.key -out %s/root.crt",
      "openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=mid -keyout %s/mid.key -out %s/mid.csr",
      "openssl x509 -req -in %s/mid.csr -CA %s/root.crt -CAkey %s/root.key -days 2 -extfile %s/ca.ext -out %s/mid.crt",
      "openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=kmsemu -keyout %s/leaf.key -out %s/leaf.csr",
      "openssl x509 -req -in %s/leaf.csr -CA %s/mid.crt -CAkey %s/mid.key -days 2 -extfile %s/leaf.ext -out %s/leaf.crt",
      "cat %s/leaf.crt %s/mid.crt >%s/chain.crt",
    }
    for _, cmd in ipairs(cmds) do
      local status, out = sh((cmd:gsub("%%s", dir)))
      assert.are.equal(0, status, out)
    end
    local s = server.start { "--tls-cert", dir .. "/chain.crt", "--tls-key", dir .. "/leaf.key" }
    assert.matches("^https://", s.url)
    both_dialects(s, dir .. "/root.crt")
    assert.are.equal(0, server.stop(s))
    -- The leaf alone does not reach the root: the intermediate was needed.
    s = server.start { "--tls-cert", dir .. "/leaf.crt", "--tls-key", dir .. "/leaf.key" }
    local code = sh(("curl -s -o /dev/null --cacert %s/root.crt %s/"):format(dir, s.url))
    assert.are.equal(60, code, "a chain without its intermediate must not verify")
    assert.are.equal(0, server.stop(s))
  end)

  local refusals = {
    { "a key that is not the certificate's", { "--tls-cert", "a.crt", "--tls-key", "b.key" }, 1,
      "b.key does not hold the key of" },
    { "a missing certificate", { "--tls-cert", "none.crt", "--tls-key", "a.key" }, 1,
      "cannot read a PEM certificate from" },
    { "--tls-cert without --tls-key", { "--tls-cert", "a.crt" }, 2, "--tls-cert with --tls-key" },
    { "both kinds at once", { "--tls-cert", "a.crt", "--tls-key", "a.key", "--tls-self-signed", "c.pem" }, 2,
      "--tls-self-signed alone" },
  }
  for _, r in ipairs(refusals) do
    it("refuses to start with " .. r[1], function()
      local args = {}
      for i, a in ipairs(r[2]) do
        args[i] = a:match("^%-%-") and a or dir .. "/" .. a
      end
      local s = server.start(args)
      local status, err = server.wait(s)
      server.stop(s)
      assert.is_nil(s.url)
      assert.are.equal(r[3], status)
      assert.is_truthy(err:find(r[4], 1, true), err)
    end)
  end
end)

describe("libssl only for https #http #tls", function()
  local function maps_libssl(s)
    return server.read(("/proc/%d/maps"):format(s.pid)):find("libssl%.so") ~= nil
  end

  it("is not mapped by a plain-HTTP server, and is by an https one", function()
    local dir = tmpdir()
    finally(function() os.execute("rm -rf " .. dir) end)
    local plain = server.start {}
    assert.matches("^http://", plain.url)
    assert.is_false(maps_libssl(plain))
    assert.are.equal(0, server.stop(plain))
    local tls = server.start { "--tls-self-signed", dir .. "/c.pem" }
    both_dialects(tls, dir .. "/c.pem")
    assert.is_true(maps_libssl(tls))
    assert.are.equal(0, server.stop(tls))
  end)
end)

describe("the host's openssl.cnf #http #tls", function()
  local dir

  -- The binary under OPENSSL_CONF=dir/name.
  local function start_with(name, args)
    local wrapper = ("%s/%s.sh"):format(dir, name)
    fs.write(wrapper, ("#!/bin/sh\nOPENSSL_CONF=%s/%s exec %s \"$@\"\n"):format(dir, name, server.BIN))
    assert(os.execute("chmod +x " .. wrapper))
    return server.with_bin(wrapper, server.start, args)
  end

  lazy_setup(function()
    dir = tmpdir()
    -- Algorithms only from a FIPS provider, which this OpenSSL lacks.
    fs.write(dir .. "/fips.cnf", "openssl_conf = init\n[init]\nalg_section = algs\n"
      .. "[algs]\ndefault_properties = fips=yes\n")
    fs.write(dir .. "/tls13.cnf", "openssl_conf = init\n[init]\nssl_conf = ssl\n[ssl]\n"
      .. "system_default = policy\n[policy]\nMinProtocol = TLSv1.3\n")
  end)

  lazy_teardown(function()
    os.execute("rm -rf " .. dir)
  end)

  it("is not read without https: the emulator's algorithms stay the default provider's", function()
    local s = start_with("fips.cnf", {})
    assert.matches("^http://", s.url)
    local req = client.tencent { action = "GenerateDataKey", host = s.url:match("^http://(.*)$"),
      params = { KeyId = "23e80852-1e38-11e9-b129-5cb9019b4b01", KeySpec = "AES_256" } }
    local status, _, body = server.send(s, req)
    assert.are.equal(200, status)
    assert.is_string(client.json({ body = body }).Response.Plaintext, body)
    assert.are.equal(0, server.stop(s))
  end)

  it("stops https at start-up, status 2, naming what OpenSSL could not do", function()
    local s = start_with("fips.cnf", { "--tls-self-signed", dir .. "/c.pem" })
    local status, err = server.wait(s)
    server.stop(s)
    assert.is_nil(s.url)
    assert.are.equal(2, status)
    assert.matches("random generator failed", err)
  end)

  it("gives https the host's TLS policy", function()
    local s = start_with("tls13.cnf", { "--tls-self-signed", dir .. "/c.pem" })
    local ca = dir .. "/c.pem"
    assert.are_not.equal(0, serve_then_curl(s, ca, "--tls-max 1.2 --cacert " .. ca),
      "TLS 1.2 must be refused under MinProtocol = TLSv1.3")
  end)
end)

describe("TLS wherever the binary lies #http #tls", function()
  local dir

  lazy_setup(function()
    dir = tmpdir()
  end)

  lazy_teardown(function()
    os.execute("rm -rf " .. dir)
  end)

  it("serves https from a copy of the binary outside the checkout", function()
    assert(os.execute(("cp %s %s/kmsemu"):format(server.BIN, dir)))
    local s = server.with_bin(dir .. "/kmsemu", server.start, { "--scenario", "scenarios/default.lua",
      "--tls-self-signed", dir .. "/c.pem" })
    assert.is_string(s.url, server.describe(s))
    both_dialects(s, dir .. "/c.pem")
    assert.are.equal(0, server.stop(s))
  end)

  -- A civetweb that cannot load OpenSSL, made on purpose: a dlsym() that
  -- hides one function it asks for. Serving on would crash a worker.
  it("stops at start-up, status 1, when civetweb cannot load OpenSSL", function()
    fs.write(dir .. "/hide.c", [[
#define _GNU_SOURCE
#include <dlfcn.h>
#include <string.h>
void *dlsym(void *handle, const char *name)
{
    void *(*next)(void *, const char *);
    if (strcmp(name, "SSL_CTX_new") == 0)
        return NULL;
    *(void **)&next = dlvsym(RTLD_NEXT, "dlsym", "GLIBC_2.34");
    return next(handle, name);
}
]])
    local status, out = sh(("cc -shared -fPIC -o %s/hide.so %s/hide.c"):format(dir, dir))
    assert.are.equal(0, status, out)
    -- The ordinary build even under make asan: a preloaded dlsym() would
    -- stand between ASan's runtime and its own RTLD_NEXT look-ups.
    local bin = (os.getenv("BUILD") or "build") .. "/kmsemu"
    status, out = sh(("LD_PRELOAD=%s/hide.so timeout 30 %s --listen 127.0.0.1:0 "
      .. "--tls-self-signed %s/d.pem"):format(dir, bin, dir))
    assert.are.equal(1, status, out)
    assert.matches("kmsemu: TLS unavailable: civetweb could not load the OpenSSL functions it needs", out)
    assert.is_nil(out:find("listening", 1, true), out)
  end)
end)
