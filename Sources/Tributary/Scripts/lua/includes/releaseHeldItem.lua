--- @include "enqueueReady"
--- @include "isPausedOrMaxed"
--- @include "maxEvents"

-- An item of a map node finished for good (completed, or failed with no retry left): when the map holds items
-- back for its maxConcurrency (`<map job key>:held`), as many held items move to wait as the limit now allows.
-- In flight = the map's pending dependencies minus its held items. Items and their map share a queue.
-- `mapIndex` and `parentKey` are the job's fields when the caller already read them (false when absent), or nil.
local function releaseHeldItem(jobKey, now, mapIndex, parentKey)
  if mapIndex == nil then
    local stored = redis.call("HMGET", jobKey, "mapIndex", "parentKey")
    mapIndex, parentKey = stored[1], stored[2]
  end
  if not mapIndex or not parentKey then return end
  local mapKey = parentKey
  local heldKey = mapKey .. ":held"
  if redis.call("LLEN", heldKey) == 0 then return end
  local limit = tonumber(redis.call("HGET", mapKey, "mapMaxConcurrency") or 0)
  local queueKey = string.match(jobKey, "^(.*):[^:]+$")
  local inFlight = redis.call("SCARD", mapKey .. ":dependencies") - redis.call("LLEN", heldKey)
  local blocked = isPausedOrMaxed(queueKey .. ":meta", queueKey .. ":active")
  local cap = maxEvents(queueKey .. ":meta")
  while limit <= 0 or inFlight < limit do
    local itemId = redis.call("LPOP", heldKey)
    if not itemId then break end
    enqueueReady(queueKey .. ":wait", queueKey .. ":prioritized", queueKey .. ":pc", queueKey .. ":marker", itemId, 0,
      "LPUSH", blocked)
    redis.call("XADD", queueKey .. ":events", "MAXLEN", "~", cap, "*", "event", "waiting", "jobId", itemId,
      "prev", "held")
    inFlight = inFlight + 1
  end
end
