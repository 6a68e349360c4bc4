--- @include "isPausedOrMaxed"
--- @include "enqueueReady"
--- @include "scheduleDelayed"

-- A child job completed: it leaves its parent's pending dependencies, its return value is recorded in the
-- parent's :processed hash, and when it was the last pending child the parent moves out of waiting-children:
-- to the delayed set (its delay counted from now), the prioritized set, or the head of its wait list (taken next).
-- The parent may live in another queue; its keys come from its job key (`<prefix>:<queue>:<id>`).
local function completeChild(jobKey, parentKey, returnValue, now)
  if redis.call("SREM", parentKey .. ":dependencies", jobKey) == 0 then return end
  redis.call("HSET", parentKey .. ":processed", jobKey, returnValue)
  if redis.call("SCARD", parentKey .. ":dependencies") > 0 then return end
  local parentQueue, parentId = string.match(parentKey, "^(.*):([^:]+)$")
  if not parentQueue then return end
  if redis.call("ZREM", parentQueue .. ":waiting-children", parentId) == 0 then return end
  local delay = tonumber(redis.call("HGET", parentKey, "delay")) or 0
  local priority = tonumber(redis.call("HGET", parentKey, "priority")) or 0
  local events = parentQueue .. ":events"
  if delay > 0 then
    local readyAt = now + delay
    scheduleDelayed(parentQueue .. ":delayed", parentQueue .. ":marker", parentId, readyAt)
    redis.call("XADD", events, "*", "event", "delayed", "jobId", parentId, "delay", readyAt)
  else
    enqueueReady(parentQueue .. ":wait", parentQueue .. ":prioritized", parentQueue .. ":pc", parentQueue .. ":marker",
      parentId, priority, "RPUSH", isPausedOrMaxed(parentQueue .. ":meta", parentQueue .. ":active"))
    redis.call("XADD", events, "*", "event", "waiting", "jobId", parentId, "prev", "waiting-children")
  end
end
