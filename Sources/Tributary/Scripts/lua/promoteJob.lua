--[[
  promoteJob: a delayed job is made ready now: it leaves the delayed set for the wait list (FIFO) or, with a
  priority, the prioritized set, and its delay becomes 0.

  KEYS:
    1 delayed
    2 wait
    3 prioritized
    4 pc
    5 meta
    6 active
    7 events
    8 marker

  ARGV:
    1 job key prefix
    2 job id

  Returns:
    0 on success; -1 the job does not exist; -3 it is not delayed

  Events: waiting (prev=delayed).
]]
--- @include "isPausedOrMaxed"
--- @include "enqueueReady"
--- @include "maxEvents"

local delayedKey, waitKey, prioritizedKey, counterKey, metaKey, activeKey, eventsKey, markerKey =
  KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8]
local prefix, jobId = ARGV[1], ARGV[2]
local jobKey = prefix .. jobId

if redis.call("EXISTS", jobKey) == 0 then return -1 end
if redis.call("ZREM", delayedKey, jobId) == 0 then return -3 end
local priority = tonumber(redis.call("HGET", jobKey, "priority")) or 0
enqueueReady(waitKey, prioritizedKey, counterKey, markerKey, jobId, priority, "LPUSH",
  isPausedOrMaxed(metaKey, activeKey))
redis.call("HSET", jobKey, "delay", 0)
redis.call("XADD", eventsKey, "MAXLEN", "~", maxEvents(metaKey), "*", "event", "waiting", "jobId", jobId,
  "prev", "delayed")
return 0
