--[[
  moveJobFromActiveToWait: a handler found its queue rate limited (it threw RateLimitError, usually after
  Queue.rateLimit) and hands its job back without using an attempt. The job goes to the front of the wait list
  (RPUSH, taken next) or, when prioritized, in front of the jobs of its priority, as BullMQ's script of the same
  name does.

  KEYS:
    1 active
    2 wait
    3 prioritized
    4 meta
    5 events
    6 marker
    7 stalled
    8 limiter

  ARGV:
    1 job key prefix
    2 job id
    3 lock token ("0" for no lock)

  Returns:
    the rate limit's remaining time in ms (the limiter key's PTTL, 0 when it has none)
    -1 the job does not exist; -2 lock missing; -6 lock held by another worker

  Events: waiting (prev=active).
]]
--- @include "releaseLock"
--- @include "isPausedOrMaxed"
--- @include "markReady"
--- @include "maxEvents"

local activeKey, waitKey, prioritizedKey, metaKey, eventsKey, markerKey, stalledKey, limiterKey =
  KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8]
local prefix, jobId, token = ARGV[1], ARGV[2], ARGV[3]
local jobKey = prefix .. jobId

if redis.call("EXISTS", jobKey) == 0 then return -1 end
local lockStatus = releaseLock(jobKey, stalledKey, jobId, token)
if lockStatus < 0 then return lockStatus end
if redis.call("LREM", activeKey, 1, jobId) > 0 then
  local priority = tonumber(redis.call("HGET", jobKey, "priority")) or 0
  if priority > 0 then
    -- Counter 0: ahead of every job of the same priority.
    redis.call("ZADD", prioritizedKey, priority * 0x100000000, jobId)
  else
    redis.call("RPUSH", waitKey, jobId)
    markReady(markerKey, isPausedOrMaxed(metaKey, activeKey))
  end
  redis.call("XADD", eventsKey, "MAXLEN", "~", maxEvents(metaKey), "*", "event", "waiting", "jobId", jobId,
    "prev", "active")
end
local ttl = redis.call("PTTL", limiterKey)
if ttl > 0 then return ttl end
return 0
