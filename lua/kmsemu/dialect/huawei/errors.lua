-- Neutral errors in Huawei's words. KMS errors are nested,
-- {"error":{"error_code","error_msg"}}, with a 4xx/5xx status; errors of
-- the API gateway in front of KMS (authentication, unknown URL) are flat,
-- {"error_msg","error_code","request_id"}.
local M = {}

-- code -> HTTP status, error_msg (reference: huawei-kms.md section 3).
M.CATALOG = {
  ["APIGW.0101"] = { 404, "The API does not exist or has not been published in the environment" },
  -- The gateway's own failures, for injected faults (APIG error code table).
  ["APIGW.0103"] = { 500, "The backend does not exist" },
  -- One code, many statuses; kmsemu raises it for a body over the limit.
  ["APIGW.0201"] = { 413, "Request entity too large" },
  ["APIGW.0202"] = { 502, "Backend unavailable" },
  ["APIGW.0203"] = { 504, "Backend timeout" },
  ["APIGW.0301"] = { 401, "Incorrect IAM authentication information" },
  ["APIGW.0308"] = { 429, "The throttling threshold has been reached" },
  ["KMS.0101"] = { 500, "kms error." },
  ["KMS.0202"] = { 400, "Invalid JSON format of the request message." },
  ["KMS.0204"] = { 400, "Parameters missing in the request message." },
  ["KMS.0205"] = { 400, "Invalid key ID." },
  ["KMS.0206"] = { 400, "Invalid sequence number." },
  ["KMS.0207"] = { 404, "The key does not exist." },
  ["KMS.0208"] = { 400, "Invalid value of value encryption_context." },
  ["KMS.0209"] = { 400, "The key has been disabled." },
  ["KMS.0210"] = { 400, "The key is in Scheduled deletion state and cannot be used." },
  ["KMS.0211"] = { 400, "Cannot perform this operation on Default Master Keys." },
  ["KMS.0306"] = { 403, "No access permissions." },
  ["KMS.0308"] = { 400, "Invalid parameter." },
  ["KMS.0309"] = { 400, "External keys required." },
  ["KMS.0310"] = { 400, "The key is not in Pending import state." },
  ["KMS.0311"] = { 400, "Failed to decrypt data using the RSA private key." },
  ["KMS.0312"] = { 400, "External keys cannot be rotated." },
  ["KMS.0313"] = { 400, "Key rotation is not enabled." },
  ["KMS.0321"] = { 403, "URIs in URL and X-Auth-Token do not match." },
  ["KMS.0324"] = { 400, "RSA keys cannot be rotated." },
  ["KMS.0325"] = { 400, "The asymmetric key is not support this operation." },
  ["KMS.0329"] = { 400, "Hash algorithm does not match the digest length." },
  ["KMS.0331"] = { 400, "The symmetric key is not support this operation." },
  ["KMS.0332"] = { 400, "This key is not support the signing algorithm." },
  ["KMS.0334"] = { 400, "The cmk is used to encrypt and decrypt." },
  ["KMS.0335"] = { 400, "The cmk is used to sign and verify." },
  ["KMS.0340"] = { 400, "not support keystore." },
  ["KMS.0341"] = { 400, "The hmac key do not support this operation." },
  ["KMS.0401"] = { 400, "Tag list cannot be empty." },
  ["KMS.0402"] = { 400, "Invalid match value." },
  ["KMS.0403"] = { 400, "Invalid match key." },
  ["KMS.0404"] = { 400, "Invalid action." },
  ["KMS.0405"] = { 400, "Invalid tag value." },
  ["KMS.0406"] = { 400, "Invalid tag key." },
  ["KMS.0409"] = { 400, "Too many tags." },
  ["KMS.0410"] = { 400, "Invalid tag value length." },
  ["KMS.0411"] = { 400, "Invalid tag key length." },
  ["KMS.0412"] = { 400, "Invalid tag list." },
  ["KMS.0414"] = { 400, "Invalid tags." },
  ["KMS.0415"] = { 400, "Invalid matches." },
  ["KMS.0416"] = { 404, "Invalid tag ID." },
  ["KMS.0417"] = { 400, "Invalid offset." },
  ["KMS.1101"] = { 400, "Invalid key_alias." },
  ["KMS.1103"] = { 400, "Invalid key_description." },
  ["KMS.1104"] = { 400, "Duplicate key aliases." },
  ["KMS.1105"] = { 400, "Too many keys." },
  ["KMS.1114"] = { 400, "EC keys do not support to encrypt/decrypt." },
  ["KMS.1115"] = { 400, "Symmetric keys do not support to sign/verify." },
  ["KMS.1201"] = { 400, "The key is not disabled." },
  ["KMS.1301"] = { 400, "The key is not enabled." },
  ["KMS.1401"] = { 400, "Set the pending deletion period between 7 to 1096 days." },
  ["KMS.1402"] = { 400, "The key is already in Pending deletion state." },
  ["KMS.1501"] = { 400, "The key is not in Pending deletion state." },
  ["KMS.1601"] = { 400, "Invalid limit." },
  ["KMS.1602"] = { 400, "marker must be greater than or equals 0." },
  ["KMS.1801"] = { 400, "random_data_length must be in the range 8 bits to 8,192 bits." },
  ["KMS.1802"] = { 400, "random_data_length must be a multiple of 8." },
  ["KMS.1901"] = { 400, "datakey_length must be in the range 8 bits to 8,192 bits." },
  ["KMS.1902"] = { 400, "key_spec can only be AES_128 or AES_256." },
  ["KMS.1903"] = { 400, "datakey_length must be a multiple of 8." },
  ["KMS.2101"] = { 400, "Invalid plain_text." },
  ["KMS.2103"] = { 400, "Failed to verify the DEK hash." },
  ["KMS.2104"] = { 400, "The length of plain_text does not match datakey_plain_length." },
  ["KMS.2105"] = { 400, "The symmetric key not support this encryption algorithm." },
  ["KMS.2106"] = { 400, "The rsa key not support this encryption algorithm." },
  ["KMS.2108"] = { 400, "The rsa encryption plain_text is over length." },
  ["KMS.2201"] = { 400, "Invalid cipher_text." },
  ["KMS.2204"] = { 400, "The length of cipher_text does not match datakey_cipher_length." },
  ["KMS.2401"] = { 400, "Specify an operation in addition to create-grant." },
  ["KMS.2402"] = { 400, "Invalid user ID." },
  ["KMS.2404"] = { 400, "Too many CMK grants." },
  ["KMS.2501"] = { 400, "Invalid grant ID." },
  ["KMS.2502"] = { 400, "grant_id and key_id do not match." },
  ["KMS.2601"] = { 400, "Token expired." },
  ["KMS.2602"] = { 400, "Key expiration time must be later than the current time." },
  ["KMS.2603"] = { 400, "Key IDs in the imported key and token do not match." },
  ["KMS.2604"] = { 400, "The external key plaintext length does not match the key spec." },
  ["KMS.2605"] = { 400, "Token verification failed." },
  ["KMS.2606"] = { 400, "You are importing a deleted key again. The imported plaintext must be the same as the deleted key plaintext." },
  ["KMS.2608"] = { 400, "The imported asymmetric private key can not be null." },
  ["KMS.2609"] = { 400, "The imported asymmetric private is invalid." },
  ["KMS.2610"] = { 400, "The temporary key length must be 16 or 32." },
  ["KMS.2701"] = { 400, "Key material is not in Enabled or Disabled state and cannot be deleted." },
  ["KMS.2702"] = { 400, "The imported private key material can not be deleted." },
  ["KMS.2901"] = { 400, "The rotation state of key is not disabled." },
  ["KMS.3001"] = { 400, "Invalid rotation_interval." },
  ["KMS.0106"] = { 400, "It is replica service, readonly api allowed." },
  ["KMS.0330"] = { 403, "User has no permission." },
  ["KMS.0338"] = { 400, "The custom keystore do not support rotation." },
  ["KMS.0339"] = { 400, "The custom keystore do not support import key." },
  ["KMS.1102"] = { 400, "Invalid realm." },
  ["KMS.1404"] = { 400, "This region is not the original region of the key, and it is not allowed to import-key-material." },
  ["KMS.2801"] = { 400, "End_time must bigger than start_time." },
  ["KMS.3804"] = { 400, "AttestationDocument parsing failed." },
  -- The rest of the published tables: codes kmsemu never raises itself,
  -- which a fault may inject.
  ["APIGW.0302"] = { 403, "The IAM user is not authorized to access the API" },
  ["APIGW.0303"] = { 401, "Incorrect app authentication information" },
  ["KMS.0100"] = { 500, "Get-status error." },
  ["KMS.0102"] = { 500, "Abnormal KMS I/O." },
  ["KMS.0103"] = { 500, "A system exception occurred. Contact technical support." },
  ["KMS.0104"] = { 503, "A system exception occurred. Contact technical support." },
  ["KMS.0105"] = { 400, "A system exception occurred. Contact technical support." },
  ["KMS.0201"] = { 400, "Invalid request URL." },
  ["KMS.0203"] = { 400, "Request message too long." },
  ["KMS.0212"] = { 400, "Invalid resource type." },
  ["KMS.0214"] = { 400, "The request format is invalid." },
  ["KMS.0215"] = { 405, "Request method not supported." },
  ["KMS.0301"] = { 403, "Invalid or null X-Auth-Token." },
  ["KMS.0302"] = { 403, "Invalid X-Auth-Token." },
  ["KMS.0303"] = { 403, "X-Auth-Token expired." },
  ["KMS.0304"] = { 403, "X-Auth-Token contains the OBT tag and cannot be used to access services." },
  ["KMS.0305"] = { 403, "Invalid X-Auth-Token project name." },
  ["KMS.0307"] = { 403, "No access permissions." },
  ["KMS.0314"] = { 403, "Real-name authentication is required to access the API." },
  ["KMS.0315"] = { 400, "Invalid partition_id." },
  ["KMS.0316"] = { 404, "No exist partition_id." },
  ["KMS.0317"] = { 400, "The cmk partition is not enabled." },
  ["KMS.0318"] = { 400, "Partition name has exist." },
  ["KMS.0319"] = { 400, "Rotation not supported in the current KMS version." },
  ["KMS.0320"] = { 400, "Resource frozen." },
  ["KMS.0322"] = { 403, "The user has no permission to access the partition." },
  ["KMS.0323"] = { 400, "Failed to obtain the partition of the key." },
  ["KMS.0326"] = { 403, "No access permissions." },
  ["KMS.0327"] = { 400, "Failed to obtain user permissions." },
  ["KMS.0328"] = { 403, "KMS has been frozen. Renew it and try again." },
  ["KMS.0407"] = { 400, "Invalid tag list size." },
  ["KMS.0408"] = { 400, "Invalid resourceType." },
  ["KMS.0413"] = { 400, "Too many tag values." },
  ["KMS.0418"] = { 400, "Offset is not required." },
  ["KMS.1108"] = { 400, "Failed to create the default partition for the key." },
  ["KMS.1109"] = { 400, "Failed to create the route for the key." },
  ["KMS.1110"] = { 400, "Invalid alg_type." },
  ["KMS.1603"] = { 400, "Invalid offset." },
  ["KMS.1904"] = { 400, "The rsa wrapping data key is over length 1520 bits." },
  ["KMS.2001"] = { 400, "datakey_length must be 512 bits." },
  ["KMS.2102"] = { 400, "datakey_plain_length must be 64 bytes." },
  ["KMS.2202"] = { 400, "datakey_cipher_length must be 64 bytes." },
  ["KMS.2203"] = { 400, "Failed to verify the DEK hash." },
  ["KMS.2301"] = { 400, "The quota value is beyond the maximum configurable limit." },
  ["KMS.2302"] = { 400, "New quota value must not less than old." },
  ["KMS.2303"] = { 400, "The quota type is not supported." },
  ["KMS.2304"] = { 400, "Can not update grant quota when no grant has created." },
  ["KMS.2305"] = { 400, "Can not update cmk quota when no cmk has created." },
  ["KMS.2403"] = { 400, "Failed to create the grant." },
  ["KMS.2405"] = { 400, "Too many grants." },
  ["KMS.2406"] = { 400, "The basic partition has no right to create grant." },
  ["KMS.3103"] = { 400, "Invalid id of tenant." },
  ["KMS.3201"] = { 400, "Generate order id failed." },
  ["KMS.3202"] = { 400, "KMS error." },
  ["KMS.3702"] = { 400, "Invalid kms status parameter." },
  ["KMS.3801"] = { 400, "KMS key sync enable and configuration failed." },
  ["KMS.3802"] = { 400, "Failed to sync operation convert to born region." },
  ["KMS.3803"] = { 400, "The key of born region is turned off sync, so no operation can be performed." },
  ["KMS.3805"] = { 500, "Failed to build digital envelope." },
  ["KMS.3806"] = { 500, "Unable to obtain enclave root certificate, please contact technical support." },
  ["KMS.3901"] = { 404, "The requested jobId cannot be found." },
  ["KMS.3902"] = { 400, "Invalid Service-Transaction-Id in request header." },
  ["KMS.3903"] = { 400, "Service-Transaction-Id is missing in request header." },
  ["KMS.4001"] = { 400, "Service name to notify is illegal." },
  ["KMS.4002"] = { 400, "Service url to notify is illegal." },
  ["KMS.5012"] = { 500, "Request PDP service failed." },
  ["KMS.5021"] = { 500, "Check pdp5 auth failed." },
  ["KMS.5022"] = { 400, "Tags are not compliant." },
  ["KMS.5023"] = { 400, "Pdp5 Header is invalid." },
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

local function is_gateway(code)
  return code:find("^APIGW%.") ~= nil
end

-- The status and message of a code in the catalogue, or nil. The gateway
-- ends a bare message with a full stop, and puts a detail after a colon
-- instead.
function M.info(code, detail)
  local entry = M.CATALOG[code]
  if not entry then
    return nil
  end
  local msg = entry[2]
  if is_gateway(code) then
    msg = detail and msg .. ": " .. detail or msg .. "."
  end
  return entry[1], msg
end

-- Returns status, body table, code and message for a raised error table
-- and a request id. e.message, from a fault, replaces the catalogue's.
function M.render(e, request_id)
  local code = e.vendor and e.code or M.NEUTRAL[e.code]
  local status, msg = M.info(code, e.detail)
  if not status then
    status, msg = M.info("KMS.0101")
  end
  msg = e.message or DETAIL[e.code] or msg
  if is_gateway(code) then
    return status, { error_msg = msg, error_code = code, request_id = request_id }, code, msg
  end
  return status, { error = { error_code = code, error_msg = msg } }, code, msg
end

return M
