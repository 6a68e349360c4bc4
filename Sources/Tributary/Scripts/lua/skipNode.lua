--[[
  skipNode: a flow-run node whose `when` condition does not hold is skipped: it leaves active and is completed
  without running, with returnvalue null and the field skipped = "1"; the attempt it had started is not counted
  (ats goes back, atm is unchanged). Its dependents are released as for a completion (its null result goes into
  their :processed), and the run record gets `node:<id>` = "skipped", which is how dependents tell a skipped input
  from a null result. A deduplication id the node holds is freed as on completion (includes/releaseDeduplication).

  KEYS:
    1 active
    2 stalled
    3 completed
    4 meta
    5 events

  ARGV:
    1 job key prefix
    2 job id
    3 lock token ("0" for no lock)
    4 now (ms)
    5 keep count: -1 keeps all, 0 removes the job, n keeps the newest n
    6 keep age in seconds (0: no age limit)

  Returns:
    0 skipped; -1 the job does not exist; -2 its lock is missing; -6 another worker holds the lock; -3 not active

  Events: completed (returnvalue null, prev=active) and those of a child's completion on its dependents' queues.
]]
--- @include "releaseLock"
--- @include "trimFinished"
--- @include "maxEvents"
--- @include "completeChild"
--- @include "recordRunOutcome"
--- @include "releaseDeduplication"

local activeKey, stalledKey, completedKey, metaKey, eventsKey = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local prefix, jobId, token, now = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])
local keepCount, keepAge = tonumber(ARGV[5]), tonumber(ARGV[6])
local jobKey = prefix .. jobId

if redis.call("EXISTS", jobKey) == 0 then return -1 end
local lockStatus = releaseLock(jobKey, stalledKey, jobId, token)
if lockStatus < 0 then return lockStatus end
if redis.call("LREM", activeKey, -1, jobId) == 0 then return -3 end
-- A node started early by a `continue` policy may still have pending needs: they are dropped, as on completion.
redis.call("DEL", jobKey .. ":dependencies")
releaseDeduplication(prefix, jobKey, jobId)
if tonumber(redis.call("HGET", jobKey, "ats") or 0) > 0 then redis.call("HINCRBY", jobKey, "ats", -1) end
redis.call("HSET", jobKey, "finishedOn", now, "returnvalue", "null", "skipped", "1")
redis.call("XADD", eventsKey, "MAXLEN", "~", maxEvents(metaKey), "*", "event", "completed", "jobId", jobId,
  "returnvalue", "null", "prev", "active")
completeChild(jobKey, "null", now)
recordRunOutcome(jobKey, "skipped", now)
if keepCount == 0 then
  removeJobData(jobKey)
else
  redis.call("ZADD", completedKey, now, jobId)
  trimFinished(completedKey, prefix, now, keepCount, keepAge)
end
return 0
