local M = {}
M.ACTIONS = {}
return M
