-- The regions kmsemu answers for, and which standard each follows. KMS
-- in mainland China regions is the SM ("national cryptography") edition:
-- symmetric keys are SM4 and imported material is 128 bits. Elsewhere it
-- is the FIPS 140-2 edition: AES-256 and 256-bit material.
local M = {}

local SM = {
  "ap-beijing", "ap-chengdu", "ap-chongqing", "ap-guangzhou", "ap-nanjing", "ap-shanghai",
  "ap-beijing-fsi", "ap-shanghai-fsi", "ap-shenzhen-fsi",
}
local FIPS = {
  "ap-bangkok", "ap-hongkong", "ap-jakarta", "ap-mumbai", "ap-seoul", "ap-singapore",
  "ap-taipei", "ap-tokyo", "eu-frankfurt", "na-ashburn", "na-siliconvalley", "sa-saopaulo",
}

local is_sm = {}
for _, r in ipairs(SM) do
  is_sm[r] = true
end

-- Every region, sorted.
M.ALL = {}
for _, list in ipairs { SM, FIPS } do
  for _, r in ipairs(list) do
    M.ALL[#M.ALL + 1] = r
  end
end
table.sort(M.ALL)

-- "sm" or "fips". A region kmsemu does not know is FIPS, as every
-- non-mainland region is.
function M.kind(region)
  return is_sm[region] and "sm" or "fips"
end

-- The spec of an ENCRYPT_DECRYPT key created in the region.
function M.symmetric_spec(region)
  return is_sm[region] and "SM4" or "AES_256"
end

return M
