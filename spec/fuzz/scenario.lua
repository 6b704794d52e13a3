-- Fuzz driver: the scenario loader. Any text must load into a world or
-- come back as nil and a message; the sandbox must not let it raise past
-- load_source, and the instruction budget (fuzz.h) stops endless loops.
local scenario = require "kmsemu.scenario"

return function(data)
  local w, err = scenario.load_source(data, "fuzz.lua")
  if w then
    assert(type(w.keys) == "table" and type(w.credentials) == "table")
  else
    assert(type(err) == "string", "load_source failed without a message")
  end
end
