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
local NOT_SUPPORTED = { "ResourceUnavailable.CmkStateNotSupport",
  "This operation cannot be performed under the current CMK status." }
local USAGE_AS_PARAMETER = { "InvalidParameter",
  "The CMK's KeyUsage does not allow this operation." }
M.BY_ACTION = {
  GenerateDataKey = {
    KEY_PENDING_DELETION = { "ResourceUnavailable.KeyPendingDelete",
      "The key is not available as it's pending deleted." },
  },
  -- Signing documents no InvalidKeyUsage: a key of the wrong kind is an
  -- invalid parameter there.
  SignByAsymmetricKey = { KEY_USAGE = USAGE_AS_PARAMETER },
  VerifyByAsymmetricKey = { KEY_USAGE = USAGE_AS_PARAMETER },
}
-- Asymmetric keys work only while Enabled; every other state, Disabled
-- included, is one code there.
for _, action in ipairs { "GetPublicKey", "AsymmetricRsaDecrypt", "AsymmetricSm2Decrypt",
    "SignByAsymmetricKey", "VerifyByAsymmetricKey" } do
  M.BY_ACTION[action] = M.BY_ACTION[action] or {}
  for _, code in ipairs { "KEY_DISABLED", "KEY_ARCHIVED", "KEY_PENDING_DELETION", "KEY_PENDING_IMPORT" } do
    M.BY_ACTION[action][code] = NOT_SUPPORTED
  end
end

-- Codes raised by name (errors.vendor) and their default messages, after
-- the descriptions the SDKs ship (section 5.2).
M.VENDOR = {
  NoSuchVersion = "The API version does not exist.",
  InternalError = "Internal error.",
  InvalidParameterValue = "Invalid parameter value.",
  UnsupportedOperation = "Unsupported operation.",
  UnsupportedProtocol = "HTTP(S) request protocol error; only GET and POST are supported.",
  RequestLimitExceeded = "The number of requests exceeds the frequency limit.",
  RequestSizeLimitExceeded = "The request size exceeds the upper limit.",
  -- What the service answers a v1 (form) request over its size limit.
  ["AuthFailure.SignatureFailure"] = "The provided credentials could not be validated because of "
    .. "exceeding request size limit, please use new signature method `TC3-HMAC-SHA256`.",
  ServiceUnavailable = "Service is unavailable now.",
  ["InvalidParameterValue.InvalidPlaintext"] = "Invalid `Plaintext`.",
  ["InvalidParameterValue.AliasAlreadyExists"] = "The alias already exists.",
  ["InvalidParameterValue.InvalidAlias"] = "Incorrect alias format.",
  ["InvalidParameterValue.DuplicatedKeyId"] = "Duplicate `KeyId`.",
  ["InvalidParameterValue.InvalidType"] = "Incorrect `Type` parameter.",
  ["InvalidParameterValue.InvalidHsmClusterId"] = "Invalid HSM cluster ID.",
  ["InvalidParameterValue.TagKeysDuplicated"] = "Duplicate tag key.",
  ["InvalidParameterValue.MaterialNotMatch"] =
    "The key material is different from the one previously imported.",
  ["InvalidParameter.InvalidPendingWindowInDays"] =
    "The schedule deletion time parameter is invalid.",
  ["InvalidParameter.DecryptMaterialError"] = "Decryption of `EncryptedKeyMaterial` failed.",
  ["FailedOperation.EncryptionError"] = "Encryption failed.",
  ["FailedOperation.DecryptError"] = "Decryption failed.",
  ["FailedOperation.CmkUsedByCloudProduct"] = "The CMK is being used by a Tencent Cloud product.",
  ["LimitExceeded.CmkLimitExceeded"] = "The number of CMKs has reached the upper limit.",
  ["RequestLimitExceeded.RotateRateLimited"] =
    "Rotation operation triggers frequency limit, default can only rotate once within 24 hours.",
  ["ResourceUnavailable.CmkShouldBeDisabled"] = "An enabled CMK cannot be scheduled for deletion.",
  ["ResourceUnavailable.CmkNotPendingDelete"] =
    "As the CMK is not scheduled for deletion, you cannot cancel the schedule deletion.",
  ["ResourceUnavailable.CmkStateNotSupport"] =
    "This operation cannot be performed under the current CMK status.",
  ["ResourceUnavailable.CloudResourceBindingNotFound"] =
    "The CMK is not bound with the Tencent Cloud resource.",
  ["ResourceUnavailable.TokenExpired"] = "Token has expired.",
  ["UnsupportedOperation.ExternalCmkCanNotRotate"] = "External CMKs cannot be rotated.",
  ["UnsupportedOperation.NotExternalCmk"] =
    "Incorrect CMK type. Only `External` CMKs are supported.",
  ["UnsupportedOperation.NotUserCreatedCmk"] = "You can only update the CMKs created by you.",
  ["UnsupportedOperation.RotateNotSupported"] =
    "Rotation not supported (rotation not enabled, external key, replica key).",
  ["UnsupportedOperation.UnsupportedKeyUsageInCurrentRegion"] =
    "The encryption method is not supported in the current region.",
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
