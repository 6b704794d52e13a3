-- Neutral errors. Operations raise these; only a dialect turns one into its
-- own code, HTTP status and envelope. An error is a table so that a dialect
-- can tell it from a Lua runtime error, which it reports as an internal one.
local M = {}

local mt = {
  __tostring = function(e)
    return e.code .. (e.detail and (": " .. e.detail) or "")
  end,
}

-- Neutral codes. A dialect may also raise a code of its own cloud's
-- catalogue through M.vendor; those pass through unchanged.
M.codes = {
  AUTH_MISSING = true,         -- no credentials at all
  AUTH_MALFORMED = true,       -- an Authorization header we cannot parse
  AUTH_UNKNOWN_KEY = true,     -- AK / SecretId not in the scenario
  AUTH_SIGNATURE = true,       -- the signature does not match
  AUTH_EXPIRED = true,         -- timestamp outside the allowed skew
  UNKNOWN_ACTION = true,
  MALFORMED_BODY = true,       -- not JSON, or not an object
  MISSING_PARAMETER = true,    -- detail names the field
  INVALID_PARAMETER = true,    -- wrong type or value; detail says which
  UNKNOWN_PARAMETER = true,
  INVALID_KEY_ID = true,
  KEY_NOT_FOUND = true,
  KEY_DISABLED = true,
  KEY_PENDING_DELETION = true,
  KEY_PENDING_IMPORT = true,
  KEY_ARCHIVED = true,
  KEY_USAGE = true,            -- the key cannot do this operation
  INVALID_CIPHERTEXT = true,   -- malformed, truncated or tampered blob
  CONTEXT_MISMATCH = true,     -- AAD / EncryptionContext differs
}

-- message, when given, is the whole message the dialect sends instead of
-- the one it has for the code. diagnostic, when given, is kmsemu's own
-- account of the failure for the access log and the journal (what it
-- expected, what it got), never part of the answer: its first line is the
-- reason, the rest the detail.
local function new(code, detail, vendor, message, diagnostic)
  return setmetatable({ code = code, detail = detail, vendor = vendor, message = message,
                        diagnostic = diagnostic }, mt)
end

-- The error table without raising it, for an error decided before any
-- operation runs (an injected fault).
M.new = new

function M.raise(code, detail, diagnostic)
  assert(M.codes[code], "unknown neutral error code " .. tostring(code))
  error(new(code, detail, nil, nil, diagnostic), 0)
end

-- A dialect-specific code, for rules only one cloud has.
function M.vendor(code, detail, message, diagnostic)
  error(new(code, detail, true, message, diagnostic), 0)
end

function M.is(e)
  return getmetatable(e) == mt
end

return M
