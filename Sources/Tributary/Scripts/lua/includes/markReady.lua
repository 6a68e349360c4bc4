-- Wakes a blocked worker: marker member "0" with score 0 means "a job is ready", unless nobody may take it.
local function markReady(markerKey, blocked)
  if not blocked then
    redis.call("ZADD", markerKey, "0", "0")
  end
end
