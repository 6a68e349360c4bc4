-- Whether workers must not take jobs now: the queue is paused, or its global concurrency is used up.
local function isPausedOrMaxed(metaKey, activeKey)
  local settings = redis.call("HMGET", metaKey, "paused", "concurrency")
  if settings[1] then return true end
  if settings[2] then
    return redis.call("LLEN", activeKey) >= tonumber(settings[2])
  end
  return false
end
