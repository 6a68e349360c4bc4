--[[
  updateProgress: stores a job's progress (any JSON value) and announces it.

  KEYS:
    1 meta
    2 events

  ARGV:
    1 job key prefix
    2 job id
    3 progress (JSON text)

  Returns:
    0 on success; -1 the job does not exist

  Events: progress (data = the progress JSON).
]]
--- @include "maxEvents"

local metaKey, eventsKey = KEYS[1], KEYS[2]
local prefix, jobId, progress = ARGV[1], ARGV[2], ARGV[3]
local jobKey = prefix .. jobId

if redis.call("EXISTS", jobKey) == 0 then return -1 end
redis.call("HSET", jobKey, "progress", progress)
redis.call("XADD", eventsKey, "MAXLEN", "~", maxEvents(metaKey), "*", "event", "progress", "jobId", jobId,
  "data", progress)
return 0
