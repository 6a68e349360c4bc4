--[[
  moveToDelayed: an active job goes to the delayed set: a failed attempt waiting out its backoff, or a handler
  that asked to run again later (which does not count as an attempt).

  KEYS:
    1 active
    2 delayed
    3 meta
    4 events
    5 marker
    6 stalled

  ARGV:
    1 job key prefix
    2 job id
    3 now (ms)
    4 ready at (ms)
    5 lock token ("0" for no lock)
    6 failure reason
    7 stack trace entry, or ""
    8 "1" to count the attempt (a failure), "0" for a handler's own delay (no attempt, no reason recorded)

  Returns:
    0 on success; -1 the job does not exist; -2 lock missing; -6 lock held by another worker; -3 not active
    -13 the job belongs to a cancelled flow run: it is not delayed, and nothing is changed (the lock is still held;
        the worker fails the attempt for good instead)

  Events: delayed (delay = ready-at ms).
]]
--- @include "releaseLock"
--- @include "inCancelledRun"
--- @include "appendedStacktrace"
--- @include "scheduleDelayed"
--- @include "maxEvents"
--- @include "jobCounter"

local activeKey, delayedKey, metaKey, eventsKey, markerKey, stalledKey = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local prefix, jobId, now, readyAt, token, reason, stacktrace, countAttempt =
  ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4]), ARGV[5], ARGV[6], ARGV[7], ARGV[8] == "1"
local jobKey = prefix .. jobId

if redis.call("EXISTS", jobKey) == 0 then return -1 end
if inCancelledRun(prefix, jobKey) then return -13 end
local traces = nil
if countAttempt and stacktrace ~= "" then traces = appendedStacktrace(jobKey, stacktrace) end
local lockStatus = releaseLock(jobKey, stalledKey, jobId, token)
if lockStatus < 0 then return lockStatus end
if redis.call("LREM", activeKey, -1, jobId) == 0 then return -3 end

redis.call("HSET", jobKey, "delay", readyAt - now)
if countAttempt then
  -- A bad stored attempt count restarts at 1; the worker that takes the job next fails it, naming the field.
  local _, counterProblem = incrementJobCounter(jobKey, "atm")
  if counterProblem then redis.call("HSET", jobKey, "defa", counterProblem) end
  redis.call("HSET", jobKey, "failedReason", reason)
end
if traces then redis.call("HSET", jobKey, "stacktrace", traces) end
scheduleDelayed(delayedKey, markerKey, jobId, readyAt)
redis.call("XADD", eventsKey, "MAXLEN", "~", maxEvents(metaKey), "*", "event", "delayed", "jobId", jobId,
  "delay", readyAt)
return 0
