--[[
  changeDelay: reschedules a delayed job to run `delay` ms from now (its delay field becomes `delay`).

  KEYS:
    1 delayed
    2 meta
    3 events
    4 marker

  ARGV:
    1 job key prefix
    2 job id
    3 now (ms)
    4 new delay (ms)

  Returns:
    0 on success; -1 the job does not exist; -3 it is not delayed

  Events: delayed (delay = ready-at ms).
]]
--- @include "scheduleDelayed"
--- @include "maxEvents"

local delayedKey, metaKey, eventsKey, markerKey = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local prefix, jobId, now, delay = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
local jobKey = prefix .. jobId

if redis.call("EXISTS", jobKey) == 0 then return -1 end
if redis.call("ZREM", delayedKey, jobId) == 0 then return -3 end
local readyAt = now + delay
redis.call("HSET", jobKey, "delay", delay)
scheduleDelayed(delayedKey, markerKey, jobId, readyAt)
redis.call("XADD", eventsKey, "MAXLEN", "~", maxEvents(metaKey), "*", "event", "delayed", "jobId", jobId,
  "delay", readyAt)
return 0
