--- @include "isPausedOrMaxed"
--- @include "enqueueReady"
--- @include "maxEvents"
--- @include "removeJobData"

-- Takes a job that is going away out of its parent's pending dependencies. When that was the parent's last
-- pending child and the parent sits in waiting-children, the parent is released: it goes to the head of its
-- queue (event waiting, prev=waiting-children), or, with `hard` set and the parent in the queue whose jobs are
-- being wiped (`wipedPrefix`, "<prefix>:<queue>:"), it is deleted along with the child.
local function detachFromParent(jobKey, hard, wipedPrefix)
  local parentKey = redis.call("HGET", jobKey, "parentKey")
  if not parentKey or parentKey == "" then return end
  if redis.call("SREM", parentKey .. ":dependencies", jobKey) == 0 then return end
  if redis.call("SCARD", parentKey .. ":dependencies") > 0 then return end
  local parentId = string.match(parentKey, "([^:]*)$")
  local parentPrefix = string.sub(parentKey, 1, #parentKey - #parentId)
  if redis.call("ZREM", parentPrefix .. "waiting-children", parentId) == 0 then return end
  if hard and parentPrefix == wipedPrefix then
    detachFromParent(parentKey, hard, wipedPrefix)
    removeJobData(parentKey)
    return
  end
  local priority = tonumber(redis.call("HGET", parentKey, "priority")) or 0
  enqueueReady(parentPrefix .. "wait", parentPrefix .. "prioritized", parentPrefix .. "pc", parentPrefix .. "marker",
    parentId, priority, "RPUSH", isPausedOrMaxed(parentPrefix .. "meta", parentPrefix .. "active"))
  redis.call("XADD", parentPrefix .. "events", "MAXLEN", "~", maxEvents(parentPrefix .. "meta"), "*",
    "event", "waiting", "jobId", parentId, "prev", "waiting-children")
end
