-- A small seeded generator (xorshift64*), so that "probability = 0.1" and
-- "delay_ms = {50, 150}" draw the same sequence from the same scenario seed
-- on every run. A scenario's math.random draws from one too.
local core = require "kmsemu.core"

local M = {}

local Gen = {}
Gen.__index = Gen

-- seed: any string; its SHA-256 gives the 64-bit state (never zero).
function M.new(seed)
  local s = string.unpack("<i8", core.digest("sha256", "kmsemu-prng\0" .. seed))
  return setmetatable({ s = s ~= 0 and s or 0x9E3779B97F4A7C15 }, Gen)
end

-- 64 random bits, as an integer. Lua 5.4's >> is a logical shift, as
-- xorshift needs.
function Gen:bits()
  local x = self.s
  x = x ~ (x >> 12)
  x = x ~ (x << 25)
  x = x ~ (x >> 27)
  self.s = x
  return x * 0x2545F4914F6CDD1D
end

-- A float in [0, 1).
function Gen:float()
  return (self:bits() >> 11) * (1.0 / 9007199254740992.0)
end

-- An integer in [lo, hi].
function Gen:int(lo, hi)
  return lo + math.floor(self:float() * (hi - lo + 1))
end

return M
