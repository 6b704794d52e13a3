-- The dialects by name. The shared layer reaches a dialect only through
-- this table and the interface every dialect module offers:
--
--   NAME                      its name
--   handle(world, req)        the answer to a request of this dialect
--   fail(e, action)           the answer for a raised (or injected) error
--   action_of(req)            the native action a request names, or nil
--   known(action)             whether a native name is one of the API's
--   action_names()            every native action name
--   neutral(native)           a native name's neutral name
--   describe(req, action)     the key the call names (or its ciphertext
--                             carries) and the caller
--   error_of(res)             the error code and message of an answer
--   error_info(code)          the HTTP status and message of a code it
--                             renders, or nil for a code it does not know
--   error_codes()             every code it renders
--   fault_error(code, key_id) the error table an injected code becomes
--   FAULT_CODES               its codes for the neutral fault errors
--   is_key_id(id)             whether a request could name key `id`
--   KEY_ID_SHAPE              what its key ids look like, for messages
--   default_deletion_date(now) when a key put in pending deletion without
--                             a date goes, by the cloud's shortest window
--   RETRY_AFTER, MAX_BODY, DEFAULT_MAX_BODY
local M = {
  BY_NAME = {
    huawei = require "kmsemu.dialect.huawei",
    tencent = require "kmsemu.dialect.tencent",
  },
  NAMES = { "huawei", "tencent" }, -- in the order messages list them
}

return M
