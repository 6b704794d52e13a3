-- Response shaping: hooks that rewrite an answer after the dialect made
-- it; they may read the journal.
seed "faults-shaping"

credentials {
  huawei = { ak = "HWAKEXAMPLE0000000000", sk = "HWSKEXAMPLEsecretkey0000000000000000000",
             project_id = "0a1b2c3d4e5f60718293a4b5c6d7e8f9" },
  tencent = { secret_id = "AKIDkmsemuEXAMPLE0000000000000000000",
              secret_key = "kmsemuEXAMPLEsecretkey0000000000", region = "ap-guangzhou" },
}

cmk { id = "0d0466b0-e727-4d9c-b35d-f84bb474a37f", dialect = "huawei", alias = "app/data",
      description = "as created" }
cmk { id = "23e80852-1e38-11e9-b129-5cb9019b4b01", dialect = "tencent", alias = "app-data",
      description = "as created" }

-- Tencent's DescribeKey reports a description the key does not have.
on("tencent", "DescribeKey", function(req, res)
  res.json.Response.KeyMetadata.Description = "shaped by the scenario"
  return res
end)

-- Huawei's describe-key answers with a raw body: not JSON at all.
on("huawei", "describe-key", function(req, res)
  res.status = 503
  res.body = "upstream connect error"
  return res
end)

-- Each Encrypt answer says how many encrypts the journal had seen before it.
on("*", "encrypt", function(req, res)
  res.headers["X-Encrypts-Before"] = tostring(journal.count { action = "encrypt" })
  return res
end)
