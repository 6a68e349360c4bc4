-- Whether workers must not take jobs now: the queue is paused, or its global concurrency is used up.
-- isPausedOrMaxedBy takes the settings already read (see queueMeta).
local function isPausedOrMaxedBy(meta, activeKey)
  if meta.paused then return true end
  if meta.concurrency then
    return redis.call("LLEN", activeKey) >= tonumber(meta.concurrency)
  end
  return false
end

local function isPausedOrMaxed(metaKey, activeKey)
  local settings = redis.call("HMGET", metaKey, "paused", "concurrency")
  return isPausedOrMaxedBy({paused = settings[1], concurrency = settings[2]}, activeKey)
end
