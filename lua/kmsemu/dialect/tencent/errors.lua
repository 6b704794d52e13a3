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
local PENDING_DELETE = { "ResourceUnavailable.KeyPendingDelete",
  "The key is not available as it's pending deleted." }
M.BY_ACTION = {
  GenerateDataKey = { KEY_PENDING_DELETION = PENDING_DELETE },
  ImportDataKey = { KEY_PENDING_DELETION = PENDING_DELETE },
  -- Signing documents no InvalidKeyUsage: a key of the wrong kind is an
  -- invalid parameter there, as in post-quantum encryption.
  SignByAsymmetricKey = { KEY_USAGE = USAGE_AS_PARAMETER },
  VerifyByAsymmetricKey = { KEY_USAGE = USAGE_AS_PARAMETER },
  PostQuantumCryptoSign = { KEY_USAGE = USAGE_AS_PARAMETER },
  PostQuantumCryptoVerify = { KEY_USAGE = USAGE_AS_PARAMETER },
  PostQuantumCryptoEncrypt = { KEY_USAGE = USAGE_AS_PARAMETER },
}
-- Asymmetric and post-quantum signing keys work only while Enabled; every
-- other state, Disabled included, is one code there.
for _, action in ipairs { "GetPublicKey", "AsymmetricRsaDecrypt", "AsymmetricSm2Decrypt",
    "SignByAsymmetricKey", "VerifyByAsymmetricKey", "PostQuantumCryptoSign",
    "PostQuantumCryptoVerify" } do
  M.BY_ACTION[action] = M.BY_ACTION[action] or {}
  for _, code in ipairs { "KEY_DISABLED", "KEY_ARCHIVED", "KEY_PENDING_DELETION", "KEY_PENDING_IMPORT" } do
    M.BY_ACTION[action][code] = NOT_SUPPORTED
  end
end

-- Every code of the API (section 5) and its default message, for codes
-- raised by name (errors.vendor) and injected by faults: the SDKs' error
-- descriptions, or the message kmsemu's own refusal with that code gives.
M.CATALOG = {
  ActionOffline = "This API has been deprecated.",
  AuthFailure = "CAM signature/authentication error.",
  ["AuthFailure.InvalidAuthorization"] = M.NEUTRAL.AUTH_MALFORMED[2],
  ["AuthFailure.InvalidSecretId"] = "Invalid key (not a TencentCloud API key type).",
  ["AuthFailure.MFAFailure"] = "MFA failed.",
  ["AuthFailure.SecretIdNotFound"] = M.NEUTRAL.AUTH_UNKNOWN_KEY[2],
  ["AuthFailure.SignatureExpire"] = M.NEUTRAL.AUTH_EXPIRED[2],
  ["AuthFailure.SignatureFailure"] = M.NEUTRAL.AUTH_SIGNATURE[2],
  ["AuthFailure.TokenFailure"] = "Token error.",
  ["AuthFailure.UnauthorizedOperation"] = "Unauthorized operation.",
  DryRunOperation = "DryRun operation: the request would have succeeded.",
  FailedOperation = "Operation failed.",
  ["FailedOperation.CmkUsedByCloudProduct"] = "The CMK is being used by a Tencent Cloud product.",
  ["FailedOperation.DecryptError"] = "Decryption failed.",
  ["FailedOperation.EncryptionError"] = "Encryption failed.",
  ["FailedOperation.RotateTaskRunning"] = "Existing ongoing rotation tasks.",
  ["FailedOperation.TaggingError"] = "Tagging error.",
  InternalError = "Internal error.",
  InvalidAction = M.NEUTRAL.UNKNOWN_ACTION[2],
  InvalidParameter = M.NEUTRAL.INVALID_PARAMETER[2],
  ["InvalidParameter.DecryptMaterialError"] = "Decryption of `EncryptedKeyMaterial` failed.",
  ["InvalidParameter.InvalidPendingWindowInDays"] = "The schedule deletion time parameter is invalid.",
  InvalidParameterValue = "Invalid parameter value.",
  ["InvalidParameterValue.AliasAlreadyExists"] = "The alias already exists.",
  ["InvalidParameterValue.DataKeyNameAlreadyExists"] = "The data key name already exists.",
  ["InvalidParameterValue.DuplicatedDataKeyId"] = "Duplicate data key ID exists.",
  ["InvalidParameterValue.DuplicatedKeyId"] = "Duplicate `KeyId`.",
  ["InvalidParameterValue.InvalidAlias"] = "Incorrect alias format.",
  ["InvalidParameterValue.InvalidCiphertext"] = M.NEUTRAL.INVALID_CIPHERTEXT[2],
  ["InvalidParameterValue.InvalidDataKeyId"] = "Invalid data key ID.",
  ["InvalidParameterValue.InvalidDataKeyName"] = "Invalid data key name.",
  ["InvalidParameterValue.InvalidHsmClusterId"] = "Invalid HSM cluster ID.",
  ["InvalidParameterValue.InvalidImportKeyMaterial"] = "The imported data key is valid.",
  ["InvalidParameterValue.InvalidKeyId"] = M.NEUTRAL.INVALID_KEY_ID[2],
  ["InvalidParameterValue.InvalidKeyUsage"] = M.NEUTRAL.KEY_USAGE[2],
  ["InvalidParameterValue.InvalidPlaintext"] = "Invalid `Plaintext`.",
  ["InvalidParameterValue.InvalidType"] = "Incorrect `Type` parameter.",
  ["InvalidParameterValue.MaterialNotMatch"] =
    "The key material is different from the one previously imported.",
  ["InvalidParameterValue.TagKeysDuplicated"] = "Duplicate tag key.",
  ["InvalidParameterValue.TagsNotExisted"] = "The tag key or tag value does not exist.",
  InvalidRequest = "The multipart format of the request body is incorrect.",
  IpInBlacklist = "Your IP is in uin IP blacklist.",
  IpNotInWhitelist = "Your IP is not in uin IP whitelist.",
  LimitExceeded = "Quota limit exceeded.",
  ["LimitExceeded.CmkLimitExceeded"] = "The number of CMKs has reached the upper limit.",
  ["LimitExceeded.DataKeyLimitExceeded"] = "DataKey exceeds the upper limit.",
  ["LimitExceeded.FingerprintsLimitExceeded"] = "The number of device fingerprints exceeded the limit.",
  ["LimitExceeded.KeyLimitExceeded"] = "The number of created keys exceeded the limit.",
  MissingParameter = "Missing parameters. Please check and try again.",
  NoSuchProduct = "The product does not exist.",
  NoSuchVersion = "The API version does not exist.",
  RequestLimitExceeded = "The number of requests exceeds the frequency limit.",
  ["RequestLimitExceeded.GlobalRegionUinLimitExceeded"] = "Uin exceeds the frequency limit.",
  ["RequestLimitExceeded.IPLimitExceeded"] = "The number of IP requests exceeds the frequency limit.",
  ["RequestLimitExceeded.RotateRateLimited"] =
    "Rotation operation triggers frequency limit, default can only rotate once within 24 hours.",
  ["RequestLimitExceeded.UinLimitExceeded"] = "The number of uin requests exceeds the frequency limit.",
  RequestSizeLimitExceeded = "The request size exceeds the upper limit.",
  ResourceInUse = "Resource is in use.",
  ResourceInsufficient = "Insufficient resource.",
  ResourceNotFound = "The resource does not exist.",
  ResourceUnavailable = "Resource is unavailable.",
  ["ResourceUnavailable.CloudResourceBindingNotFound"] =
    "The CMK is not bound with the Tencent Cloud resource.",
  ["ResourceUnavailable.CmkArchived"] = M.NEUTRAL.KEY_ARCHIVED[2],
  ["ResourceUnavailable.CmkDisabled"] = M.NEUTRAL.KEY_DISABLED[2],
  ["ResourceUnavailable.CmkNotFound"] = M.NEUTRAL.KEY_NOT_FOUND[2],
  ["ResourceUnavailable.CmkNotPendingDelete"] =
    "As the CMK is not scheduled for deletion, you cannot cancel the schedule deletion.",
  ["ResourceUnavailable.CmkShouldBeDisabled"] = "An enabled CMK cannot be scheduled for deletion.",
  ["ResourceUnavailable.CmkStateNotSupport"] = NOT_SUPPORTED[2],
  ["ResourceUnavailable.DataKeyDisabled"] = "The data key is disabled.",
  ["ResourceUnavailable.DataKeyNotFound"] = "The data key does not exist.",
  ["ResourceUnavailable.DataKeyNotPendingDelete"] =
    "The data key is not in scheduled deletion status and cannot execute cancel scheduled deletion.",
  ["ResourceUnavailable.DataKeyPendingDelete"] = "The data key is scheduled for deletion.",
  ["ResourceUnavailable.DataKeyStateNotSupport"] = "Data operation is not supported for the data key status.",
  ["ResourceUnavailable.KeyDisabled"] = "The key has been disabled.",
  ["ResourceUnavailable.KeyPendingDelete"] = PENDING_DELETE[2],
  ["ResourceUnavailable.NotPurchased"] = "The white-box key service has not been activated.",
  ["ResourceUnavailable.TokenExpired"] = "Token has expired.",
  ResponseSizeLimitExceeded = "The response size exceeds the upper limit.",
  ServiceUnavailable = "Service is unavailable now.",
  UnauthorizedOperation = "Unauthorized operation.",
  UnknownParameter = "Unknown parameter.",
  UnsupportedOperation = "Unsupported operation.",
  ["UnsupportedOperation.ExternalCmkCanNotRotate"] = "External CMKs cannot be rotated.",
  ["UnsupportedOperation.NotExternalCmk"] =
    "Incorrect CMK type. Only `External` CMKs are supported.",
  ["UnsupportedOperation.NotRoleOperation"] = "Unsupported operations for user roles.",
  ["UnsupportedOperation.NotUserCreatedCmk"] = "You can only update the CMKs created by you.",
  ["UnsupportedOperation.RotateNotSupported"] =
    "Rotation not supported (rotation not enabled, external key, replica key).",
  ["UnsupportedOperation.ServiceTemporaryUnavailable"] = "The service is temporarily unavailable.",
  ["UnsupportedOperation.UnsupportedKeyUsageInCurrentRegion"] =
    "The encryption method is not supported in the current region.",
  UnsupportedProtocol = "HTTP(S) request protocol error; only GET and POST are supported.",
  UnsupportedRegion = "API does not support the requested region.",
}

-- What the service answers a v1 (form) request over its size limit.
M.V1_TOO_LARGE = "The provided credentials could not be validated because of exceeding request size "
  .. "limit, please use new signature method `TC3-HMAC-SHA256`."

-- The codes whose refusals name the key after the message: those the
-- neutral errors about a key's id or state become.
M.NAMES_KEY = { [PENDING_DELETE[1]] = true }
for _, neutral in ipairs { "INVALID_KEY_ID", "KEY_NOT_FOUND", "KEY_DISABLED", "KEY_PENDING_DELETION",
    "KEY_PENDING_IMPORT", "KEY_ARCHIVED" } do
  M.NAMES_KEY[M.NEUTRAL[neutral][1]] = true
end

-- Returns code, message for a raised error table.
-- e.message, from a fault, replaces the whole message.
function M.render(action, e)
  local code, msg
  if e.vendor then
    code, msg = e.code, M.CATALOG[e.code] or e.code
  else
    local entry = (M.BY_ACTION[action] or {})[e.code] or M.NEUTRAL[e.code]
    code, msg = entry[1], entry[2]
  end
  if e.message then
    return code, e.message
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
