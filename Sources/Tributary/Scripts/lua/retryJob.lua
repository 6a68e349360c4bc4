--[[
  retryJob: a failed attempt with attempts left and no backoff goes straight back to wait (or prioritized).

  KEYS:
    1 wait
    2 active
    3 prioritized
    4 pc
    5 meta
    6 events
    7 marker
    8 stalled

  ARGV:
    1 job key prefix
    2 job id
    3 lock token ("0" for no lock)
    4 failure reason
    5 stack trace entry, or ""
    6 push command: LPUSH (FIFO) or RPUSH (LIFO)

  Returns:
    0 on success; -1 the job does not exist; -2 lock missing; -6 lock held by another worker; -3 not active
    -13 the job belongs to a cancelled flow run: it is not retried, and nothing is changed (the lock is still held;
        the worker fails the attempt for good instead)

  Events: waiting (prev=active).
]]
--- @include "releaseLock"
--- @include "inCancelledRun"
--- @include "appendedStacktrace"
--- @include "isPausedOrMaxed"
--- @include "enqueueReady"
--- @include "maxEvents"
--- @include "jobCounter"

local waitKey, activeKey, prioritizedKey, counterKey, metaKey, eventsKey, markerKey, stalledKey =
  KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8]
local prefix, jobId, token, reason, stacktrace, pushCommand = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local jobKey = prefix .. jobId

if redis.call("EXISTS", jobKey) == 0 then return -1 end
if inCancelledRun(prefix, jobKey) then return -13 end
local traces = nil
if stacktrace ~= "" then traces = appendedStacktrace(jobKey, stacktrace) end
local lockStatus = releaseLock(jobKey, stalledKey, jobId, token)
if lockStatus < 0 then return lockStatus end
if redis.call("LREM", activeKey, -1, jobId) == 0 then return -3 end

-- A bad stored attempt count restarts at 1; the next worker then fails the job, naming the field.
local _, counterProblem = incrementJobCounter(jobKey, "atm")
if counterProblem then redis.call("HSET", jobKey, "defa", counterProblem) end
redis.call("HSET", jobKey, "failedReason", reason)
if traces then redis.call("HSET", jobKey, "stacktrace", traces) end
local priority = tonumber(redis.call("HGET", jobKey, "priority")) or 0
enqueueReady(waitKey, prioritizedKey, counterKey, markerKey, jobId, priority, pushCommand,
  isPausedOrMaxed(metaKey, activeKey))
redis.call("XADD", eventsKey, "MAXLEN", "~", maxEvents(metaKey), "*", "event", "waiting", "jobId", jobId,
  "prev", "active")
return 0
