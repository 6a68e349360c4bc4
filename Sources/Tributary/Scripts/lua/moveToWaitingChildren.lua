--[[
  moveToWaitingChildren: a running job that added children to itself (the step-job pattern) waits for them: it
  leaves active, its lock is released, and it joins waiting-children until its last pending child completes
  (which moves it on, see includes/completeChild.lua). When nothing is pending it stays active and its handler
  goes on: children that completed while it was running have already left :dependencies, so there is no race.

  KEYS:
    1 active
    2 waiting-children
    3 stalled
    4 meta
    5 events

  ARGV:
    1 job key prefix
    2 job id
    3 lock token ("0" for no lock)
    4 now (ms), the score in waiting-children
    5 the job key of one child to wait for, or "" to wait for every pending child

  Returns:
    0 the job moved to waiting-children
    1 nothing to wait for (no pending child, or the given child is not pending); the job is still active
    -1 the job does not exist; -2 its lock is missing; -6 another worker holds the lock; -3 not active;
    -9 a child failed with failParentOnFailure (the job's :unsuccessful set is not empty)

  Events: waiting-children (prev=active).
]]
--- @include "releaseLock"
--- @include "maxEvents"

local activeKey, waitingChildrenKey, stalledKey, metaKey, eventsKey = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local prefix, jobId, token, now, childKey = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4]), ARGV[5]
local jobKey = prefix .. jobId

if redis.call("EXISTS", jobKey) == 0 then return -1 end
if redis.call("ZCARD", jobKey .. ":unsuccessful") > 0 then return -9 end
local pending
if childKey ~= "" then
  pending = redis.call("SISMEMBER", jobKey .. ":dependencies", childKey) == 1
else
  pending = redis.call("SCARD", jobKey .. ":dependencies") > 0
end
if not pending then return 1 end

local lockStatus = releaseLock(jobKey, stalledKey, jobId, token)
if lockStatus < 0 then return lockStatus end
if redis.call("LREM", activeKey, -1, jobId) == 0 then return -3 end
redis.call("ZADD", waitingChildrenKey, now, jobId)
redis.call("XADD", eventsKey, "MAXLEN", "~", maxEvents(metaKey), "*", "event", "waiting-children", "jobId", jobId,
  "prev", "active")
return 0
