--[[
  changePriority: sets a job's priority. A job that is ready to run (in the wait list or the prioritized set) is
  put back where the new priority says: priority 0 goes to the wait list (lifo: the end taken next), a positive
  priority to the prioritized set (lifo: ahead of the jobs of the same priority). A job in another state only
  gets the new priority field, which applies when it next becomes ready.

  KEYS:
    1 wait
    2 prioritized
    3 pc
    4 meta
    5 active
    6 marker

  ARGV:
    1 job key prefix
    2 job id
    3 new priority (0 = none)
    4 "1" for lifo, else "0"

  Returns:
    0 on success; -1 the job does not exist

  Events: none.
]]
--- @include "isPausedOrMaxed"
--- @include "enqueueReady"

local waitKey, prioritizedKey, counterKey, metaKey, activeKey, markerKey = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5],
  KEYS[6]
local prefix, jobId, priority, lifo = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4] == "1"
local jobKey = prefix .. jobId

if redis.call("EXISTS", jobKey) == 0 then return -1 end
redis.call("HSET", jobKey, "priority", priority)
if redis.call("ZREM", prioritizedKey, jobId) == 0 and redis.call("LREM", waitKey, -1, jobId) == 0 then
  return 0
end
local blocked = isPausedOrMaxed(metaKey, activeKey)
if priority > 0 and lifo then
  -- Sequence 0: ahead of every job already waiting with this priority.
  redis.call("ZADD", prioritizedKey, priority * 0x100000000, jobId)
  markReady(markerKey, blocked)
else
  enqueueReady(waitKey, prioritizedKey, counterKey, markerKey, jobId, priority, lifo and "RPUSH" or "LPUSH", blocked)
end
return 0
