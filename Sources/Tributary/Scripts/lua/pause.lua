--[[
  pause: pauses or resumes the whole queue. Paused, `meta.paused` is 1 and workers take nothing (jobs keep being
  added to wait); the wake-up marker is dropped. Resumed, the flag goes, jobs a BullMQ v5 producer left in the
  legacy paused list move to wait (at most 7000 per call), and the marker is set again so blocked workers wake:
  member "0" when jobs are ready, else member "1" at the next delayed job's due time.

  KEYS:
    1 meta
    2 wait
    3 paused
    4 prioritized
    5 delayed
    6 active
    7 events
    8 marker

  ARGV:
    1 "paused" or "resumed"
    2 "1" to emit the event, "0" not to (a resume call that only continues moving legacy jobs)

  Returns:
    the number of jobs left in the legacy paused list (call again to move them while it is above 0)

  Events: paused or resumed (no jobId).
]]
--- @include "isPausedOrMaxed"
--- @include "markReady"
--- @include "maxEvents"

local metaKey, waitKey, pausedKey, prioritizedKey, delayedKey, activeKey, eventsKey, markerKey =
  KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8]
local action, emit = ARGV[1], ARGV[2] == "1"

local legacyLeft = 0
if action == "paused" then
  redis.call("HSET", metaKey, "paused", 1)
  redis.call("DEL", markerKey)
else
  redis.call("HDEL", metaKey, "paused")
  if redis.call("EXISTS", pausedKey) == 1 then
    if redis.call("EXISTS", waitKey) == 0 then
      redis.call("RENAME", pausedKey, waitKey)
    else
      -- The legacy list's oldest job is at its tail; pushed last, it ends up where workers take from first.
      local ids = redis.call("LRANGE", pausedKey, 0, 6999)
      redis.call("RPUSH", waitKey, unpack(ids))
      redis.call("LTRIM", pausedKey, #ids, -1)
      legacyLeft = redis.call("LLEN", pausedKey)
    end
  end
  if redis.call("LLEN", waitKey) + redis.call("ZCARD", prioritizedKey) > 0 then
    markReady(markerKey, isPausedOrMaxed(metaKey, activeKey))
  else
    local first = redis.call("ZRANGE", delayedKey, 0, 0, "WITHSCORES")
    if first[2] then
      redis.call("ZADD", markerKey, math.floor(tonumber(first[2]) / 0x1000), "1")
    end
  end
end
if emit then
  redis.call("XADD", eventsKey, "MAXLEN", "~", maxEvents(metaKey), "*", "event", action)
end
return legacyLeft
