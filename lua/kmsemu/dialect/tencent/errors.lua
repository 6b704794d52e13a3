-- Neutral errors in Tencent's words. Every error is HTTP 200 with
-- {"Response":{"Error":{"Code","Message"},"RequestId"}}: the SDKs surface
-- Error.Code only on a 200 and treat any other status as a network fault.
local M = {}

-- neutral code -> Tencent code, message. A `detail` from the raiser is
-- appended to the message or, where the message has a %s, put in it.
M.NEUTRAL = {
  AUTH_MISSING = { "AuthFailure.InvalidAuthorization",
    "The request `Authorization` header is missing." },
  AUTH_MALFORMED = { "AuthFailure.InvalidAuthorization",
    "The request `Authorization` header does not conform to tencentcloud standards." },
  AUTH_UNKNOWN_KEY = { "AuthFailure.SecretIdNotFound",
    "The SecretId is not found, please ensure that your SecretId is correct." },
  AUTH_SIGNATURE = { "AuthFailure.SignatureFailure",
    "The provided credentials could not be validated. Please check your signature is correct." },
  AUTH_EXPIRED = { "AuthFailure.SignatureExpire",
    "The signature is expired, please request again." },
  UNKNOWN_ACTION = { "InvalidAction", "The request `Action` is invalid or not found." },
  MALFORMED_BODY = { "InvalidParameter", "The request body is not a valid JSON object." },
  MISSING_PARAMETER = { "MissingParameter", "The request is missing a required parameter `%s`." },
  INVALID_PARAMETER = { "InvalidParameter", "Invalid parameter." },
  UNKNOWN_PARAMETER = { "UnknownParameter", "The parameter `%s` is not recognized." },
  INVALID_KEY_ID = { "InvalidParameterValue.InvalidKeyId", "Invalid `KeyId`." },
  KEY_NOT_FOUND = { "ResourceUnavailable.CmkNotFound", "The CMK does not exist." },
  KEY_DISABLED = { "ResourceUnavailable.CmkDisabled", "The CMK has been disabled." },
  KEY_PENDING_DELETION = { "ResourceUnavailable.CmkStateNotSupport",
    "This operation cannot be performed under the current CMK status." },
  KEY_PENDING_IMPORT = { "ResourceUnavailable.CmkStateNotSupport",
    "This operation cannot be performed under the current CMK status." },
  KEY_ARCHIVED = { "ResourceUnavailable.CmkArchived", "The CMK has been archived." },
  KEY_USAGE = { "InvalidParameterValue.InvalidKeyUsage", "Incorrect `KeyUsage` parameter." },
  INVALID_CIPHERTEXT = { "InvalidParameterValue.InvalidCiphertext", "Incorrect ciphertext format" },
  CONTEXT_MISMATCH = { "InvalidParameterValue.InvalidCiphertext", "Incorrect ciphertext format" },
}

-- Where one action documents a different code for a neutral error.
M.BY_ACTION = {
  GenerateDataKey = {
    KEY_PENDING_DELETION = { "ResourceUnavailable.KeyPendingDelete",
      "The key is not available as it's pending deleted." },
  },
}

-- Codes raised by name (errors.vendor) that need a default message.
M.VENDOR = {
  NoSuchVersion = "The API version does not exist.",
  ["InvalidParameterValue.InvalidPlaintext"] = "Invalid `Plaintext`.",
  ["FailedOperation.EncryptionError"] = "Encryption failed.",
  InternalError = "Internal error.",
}

-- Returns code, message for a raised error table.
function M.render(action, e)
  local code, msg
  if e.vendor then
    code, msg = e.code, M.VENDOR[e.code] or e.code
  else
    local entry = (M.BY_ACTION[action] or {})[e.code] or M.NEUTRAL[e.code]
    code, msg = entry[1], entry[2]
  end
  if msg:find("%%s") then
    return code, msg:format(e.detail or "")
  end
  if e.detail and e.detail ~= "" then
    msg = msg .. " " .. e.detail
  end
  return code, msg
end

return M
