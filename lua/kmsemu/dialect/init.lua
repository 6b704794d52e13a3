-- The dialects: each cloud kmsemu speaks is one module under this
-- directory, and only this file names them. The router, faults, journal,
-- shaping, scenario loader, admin API and `kmsemu run` loop over the
-- registered dialects through the table every dialect module fills in:
--
-- Requests (called in this order, once each per request)
--   NAME                     its name ("dialect" in scenarios and the journal)
--   claims(req)              whether a request is this dialect's; asked in
--                            ROUTING order, the first that claims it has it
--   parse(req, call)         reads the request once, raising nothing: sets
--                            call.action (native name), call.key_id (named,
--                            or inside the ciphertext) and call.caller, and
--                            returns its parsed request, which faults and
--                            handle() get
--   handle(world, req, parsed, call)
--                            the response table { status, headers, json =
--                            the document, or body = raw text }; for an
--                            error answer it sets call.error and call.message,
--                            and call.diagnostic from the error's (errors.lua)
--   fail(e, call)            the same for a raised or injected error table
--   request_id(res)          the id a response carries, or nil
--   error_of(res)            code and message of a response a hook changed
--   param(parsed, name)      a request parameter's string value, or nil
--   RETRY_AFTER              whether its throttling answers say Retry-After
--   MAX_BODY, DEFAULT_MAX_BODY  its body limit (--max-body NAME=BYTES)
-- Actions
--   known(action)            whether a native name is one of the API's
--   action_names()           every native name
--   neutral(native)          a native name's neutral one ("generate_data_key")
-- Errors
--   error_info(code)         status and message of a code it renders, or nil
--   error_codes()            every code it renders
--   FAULT_CODES              its code for each neutral fault error
--                            (throttled, internal, unavailable, timeout)
--   fault_error(code, key_id) the error table an injected code becomes
-- Keys
--   is_key_id(id), KEY_ID_SHAPE   the ids its requests can name
--   default_deletion_date(now)    its shortest deletion window's end
-- Scenarios, `kmsemu run` and the start-up banner
--   scenario                 { CREDENTIALS = fields of credentials.NAME,
--                              CREDENTIAL_DEFAULTS, CMK_FIELDS = its own
--                              cmk{} fields ({ type = "string"|"time",
--                              keep = true when the key record keeps it }),
--                              DEFAULT_SPEC, owner(cmk, creds) -> owner or
--                              nil and why, VERBS = { name = { check(v) ->
--                              error or nil, into = world field, many,
--                              unique(v) -> labels two declarations of
--                              it may not share } } }
--   client                   { DEFAULT_CREDENTIALS, request(o) -> a signed
--                              request table, step(handle, creds, show) ->
--                              the function kms.NAME(...) of a step }
--   endpoint(creds, url)     the banner line for its credentials
local M = {
  BY_NAME = {
    huawei = require "kmsemu.dialect.huawei",
    tencent = require "kmsemu.dialect.tencent",
  },
  NAMES = { "huawei", "tencent" }, -- in the order messages list them
}

-- Tencent's API lives at "/" alone; Huawei's gateway claims every path,
-- answering those it does not know with its 404.
M.ROUTING = { M.BY_NAME.tencent, M.BY_NAME.huawei }

-- The module of the dialect a request is in.
function M.of(req)
  for _, d in ipairs(M.ROUTING) do
    if d.claims(req) then
      return d
    end
  end
end

return M
