-- The specs' signing client is the one `kmsemu run` uses (kmsemu.client).
return require "kmsemu.client"
