--- @include "isPausedOrMaxed"
--- @include "enqueueReady"
--- @include "scheduleDelayed"
--- @include "queueMeta"

-- A parent that has left waiting-children (or delayed) moves on, in its own queue: to the delayed set when it
-- has a delay (counted from now), to the prioritized set, or to the head of its wait list (taken next).
local function moveParentOn(queueKey, parentKey, parentId, now)
  local stored = redis.call("HMGET", parentKey, "delay", "priority")
  local delay = tonumber(stored[1]) or 0
  local priority = tonumber(stored[2]) or 0
  local events = queueKey .. ":events"
  -- One read of the parent queue's meta serves the events cap and the pause/concurrency check.
  local meta = queueMeta(queueKey .. ":meta")
  local cap = meta.maxEvents
  if delay > 0 then
    local readyAt = now + delay
    scheduleDelayed(queueKey .. ":delayed", queueKey .. ":marker", parentId, readyAt)
    redis.call("XADD", events, "MAXLEN", "~", cap, "*", "event", "delayed", "jobId", parentId, "delay", readyAt)
  else
    enqueueReady(queueKey .. ":wait", queueKey .. ":prioritized", queueKey .. ":pc", queueKey .. ":marker",
      parentId, priority, "RPUSH", isPausedOrMaxedBy(meta, queueKey .. ":active"))
    redis.call("XADD", events, "MAXLEN", "~", cap, "*", "event", "waiting", "jobId", parentId,
      "prev", "waiting-children")
  end
end

-- Moves a parent on when it is still in waiting-children; returns whether it moved.
local function releaseWaitingParent(queueKey, parentKey, parentId, now)
  if redis.call("ZREM", queueKey .. ":waiting-children", parentId) == 0 then return false end
  moveParentOn(queueKey, parentKey, parentId, now)
  return true
end

-- Moves a parent on when nothing is pending for it any more and it is still in waiting-children.
local function releaseParentIfDone(queueKey, parentKey, parentId, now)
  if redis.call("SCARD", parentKey .. ":dependencies") > 0 then return false end
  return releaseWaitingParent(queueKey, parentKey, parentId, now)
end
