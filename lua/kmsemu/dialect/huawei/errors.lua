-- Neutral errors in Huawei's words. KMS errors are nested,
-- {"error":{"error_code","error_msg"}}, with a 4xx/5xx status; errors of
-- the API gateway in front of KMS (authentication, unknown URL) are flat,
-- {"error_msg","error_code","request_id"}.
local M = {}

-- code -> HTTP status, error_msg (reference: huawei-kms.md section 3).
M.CATALOG = {
  ["APIGW.0101"] = { 404, "The API does not exist or has not been published in the environment" },
  ["APIGW.0301"] = { 401, "Incorrect IAM authentication information" },
  ["KMS.0101"] = { 500, "kms error." },
  ["KMS.0202"] = { 400, "Invalid JSON format of the request message." },
  ["KMS.0204"] = { 400, "Parameters missing in the request message." },
  ["KMS.0205"] = { 400, "Invalid key ID." },
  ["KMS.0206"] = { 400, "Invalid sequence number." },
  ["KMS.0207"] = { 404, "The key does not exist." },
  ["KMS.0208"] = { 400, "Invalid value of value encryption_context." },
  ["KMS.0209"] = { 400, "The key has been disabled." },
  ["KMS.0210"] = { 400, "The key is in Scheduled deletion state and cannot be used." },
  ["KMS.0308"] = { 400, "Invalid parameter." },
  ["KMS.1901"] = { 400, "datakey_length must be in the range 8 bits to 8,192 bits." },
  ["KMS.1902"] = { 400, "key_spec can only be AES_128 or AES_256." },
  ["KMS.1903"] = { 400, "datakey_length must be a multiple of 8." },
  ["KMS.2101"] = { 400, "Invalid plain_text." },
  ["KMS.2103"] = { 400, "Failed to verify the DEK hash." },
  ["KMS.2104"] = { 400, "The length of plain_text does not match datakey_plain_length." },
  ["KMS.2105"] = { 400, "The symmetric key not support this encryption algorithm." },
  ["KMS.2201"] = { 400, "Invalid cipher_text." },
  ["KMS.2204"] = { 400, "The length of cipher_text does not match datakey_cipher_length." },
}

M.NEUTRAL = {
  AUTH_MISSING = "APIGW.0301",
  AUTH_MALFORMED = "APIGW.0301",
  AUTH_UNKNOWN_KEY = "APIGW.0301",
  AUTH_SIGNATURE = "APIGW.0301",
  AUTH_EXPIRED = "APIGW.0301",
  UNKNOWN_ACTION = "APIGW.0101",
  MALFORMED_BODY = "KMS.0202",
  MISSING_PARAMETER = "KMS.0204",
  INVALID_PARAMETER = "KMS.0308",
  UNKNOWN_PARAMETER = "KMS.0308",
  INVALID_KEY_ID = "KMS.0205",
  KEY_NOT_FOUND = "KMS.0207",
  KEY_DISABLED = "KMS.0209",
  KEY_PENDING_DELETION = "KMS.0210",
  -- No public code for a key awaiting its material (README, Known
  -- differences): the generic invalid-parameter code, with a message.
  KEY_PENDING_IMPORT = "KMS.0308",
  KEY_ARCHIVED = "KMS.0308", -- Huawei keys are never archived
  KEY_USAGE = "KMS.0308",
  INVALID_CIPHERTEXT = "KMS.2201",
  CONTEXT_MISMATCH = "KMS.2201",
}

local DETAIL = {
  KEY_PENDING_IMPORT = "The key is in Pending import state and cannot be used.",
}

-- Returns status, body table for a raised error table and a request id.
function M.render(e, request_id)
  local code = e.vendor and e.code or M.NEUTRAL[e.code]
  local entry = M.CATALOG[code] or M.CATALOG["KMS.0101"]
  local msg = DETAIL[e.code] or entry[2]
  if code:find("^APIGW%.") then
    if e.detail then
      msg = msg .. ": " .. e.detail
    end
    return entry[1], { error_msg = msg, error_code = code, request_id = request_id }
  end
  return entry[1], { error = { error_code = code, error_msg = msg } }
end

return M
