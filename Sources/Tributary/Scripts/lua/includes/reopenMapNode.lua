-- A map node's job goes back to run (job retry, flow retry): once expanded, it is marked (`mapRerun`) so that the
-- worker that takes it sends the items without a result back to run (rerunMapItems.lua) before it returns the
-- map's result again; items with a result keep it. Other jobs are left alone.
local function reopenMapNode(jobKey)
  if redis.call("HEXISTS", jobKey, "mapTotal") == 1 then redis.call("HSET", jobKey, "mapRerun", 1) end
end
