-- Service and region information (section 13.6).
local util = require "kmsemu.util"
local cmk = require "kmsemu.dialect.tencent.cmk"
local datakeys = require "kmsemu.dialect.tencent.datakeys"
local limits = require "kmsemu.dialect.tencent.limits"
local regions = require "kmsemu.dialect.tencent.regions"

local M = {}

-- The standard edition, enabled and paid up, hosting data keys (the
-- whole quota counted as DataKeyLimit); no exclusive HSM, no cross-region
-- sync.
local function get_service_status(ctx)
  return {
    ServiceEnabled = true, InvalidType = 1, UserLevel = 0,
    ProExpireTime = 0, ProRenewFlag = 0, ProResourceId = "",
    ExclusiveVSMEnabled = false, ExclusiveHSMEnabled = false,
    SubscriptionInfo = "", CmkUserCount = cmk.quota_used(ctx), CmkLimit = ctx.cmk_limit,
    ExclusiveHSMList = util.array {}, IsAllowedDataKeyHosted = true,
    DataKeyLimit = ctx.data_key_limit, FreeDataKeyLimit = 0,
    DataKeyUsedCount = datakeys.quota_used(ctx),
    IsAllowedSync = false, SyncTaskList = util.array {},
    QpsLimit = limits.PER_SECOND.symmetric,
  }
end

local function get_regions()
  return { Regions = util.array(regions.ALL) }
end

local function info(usage, algorithm)
  return { KeyUsage = usage, Algorithm = algorithm }
end

-- What CreateKey accepts here: the region's symmetric standard and every
-- asymmetric usage.
local function list_algorithms(ctx)
  return {
    SymmetricAlgorithms = {
      info("ENCRYPT_DECRYPT", regions.symmetric_spec(ctx.region)),
    },
    AsymmetricAlgorithms = {
      info("ASYMMETRIC_DECRYPT_SM2", "SM2"),
      info("ASYMMETRIC_DECRYPT_RSA_2048", "RSA_2048"),
      info("ASYMMETRIC_Encrypt_Decrypt_Kyber_AES", "Kyber_AES"),
    },
    AsymmetricSignVerifyAlgorithms = {
      info("ASYMMETRIC_SIGN_VERIFY_SM2", "SM2"),
      info("ASYMMETRIC_SIGN_VERIFY_RSA_2048", "RSA_2048"),
      info("ASYMMETRIC_SIGN_VERIFY_ECC", "ECC"),
      info("ASYMMETRIC_SIGN_VERIFY_ECDSA384", "ECDSA384_SHA384"),
      info("ASYMMETRIC_SIGN_VERIFY_RSA_3072", "RSA_3072"),
      info("ASYMMETRIC_SIGN_VERIFY_DILITHIUM", "Dilithium"),
    },
  }
end

M.ACTIONS = {
  GetServiceStatus = { run = get_service_status, params = {} },
  GetRegions = { run = get_regions, params = {} },
  ListAlgorithms = { run = list_algorithms, params = {} },
}

return M
