--[[
  removeJobScheduler: removes a job scheduler and its pending iteration if that is still delayed (an iteration
  already waiting or running is left to finish, as in BullMQ).

  KEYS:
    1 repeat
    2 delayed
    3 events

  ARGV:
    1 job key prefix
    2 scheduler id

  Returns:
    0 removed; 1 there was no such scheduler

  Events: removed (prev = delayed) for the pending iteration.
]]
--- @include "removeJobData"

local repeatKey, delayedKey, eventsKey = KEYS[1], KEYS[2], KEYS[3]
local prefix, schedulerId = ARGV[1], ARGV[2]

local slot = redis.call("ZSCORE", repeatKey, schedulerId)
if slot then
  local pendingId = "repeat:" .. schedulerId .. ":" .. slot
  if redis.call("ZREM", delayedKey, pendingId) == 1 then
    removeJobData(prefix .. pendingId)
    redis.call("XADD", eventsKey, "*", "event", "removed", "jobId", pendingId, "prev", "delayed")
  end
end
if redis.call("ZREM", repeatKey, schedulerId) == 1 then
  redis.call("DEL", repeatKey .. ":" .. schedulerId)
  return 0
end
return 1
