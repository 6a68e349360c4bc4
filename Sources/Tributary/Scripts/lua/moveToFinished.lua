--[[
  moveToFinished: an attempt ends for good, completed or failed; the job leaves active, its lock is released,
  the retention policy is applied, and optionally the next job is taken in the same step.

  KEYS:
    1 wait
    2 active
    3 prioritized
    4 delayed
    5 pc
    6 meta
    7 events
    8 marker
    9 limiter
    10 stalled
    11 completed
    12 failed

  ARGV:
    1 job key prefix
    2 job id
    3 now (ms)
    4 target: "completed" or "failed"
    5 the return value (JSON text) or the failure reason
    6 lock token ("0" for no lock)
    7 keep count: -1 keeps all, 0 removes the job, n keeps the newest n
    8 keep age in seconds (0: no age limit)
    9 fetch next: "1" or "0" (the next job is locked with the same token)
    10 lock duration (ms), for the next job
    11 rate limit max (0 = none)
    12 rate limit duration (ms)
    13 worker name, or ""
    14 max attempts (for retries-exhausted)
    15 stack trace entry for a failure, or ""
    ARGV may hold several jobs of the queue, 15 arguments each, finished in order in one call (a busy worker's
    completions that arrive together): then the reply is an array with each job's reply.
    A worker with metrics on adds one last argument, maxDataPoints: each job finished is then counted in
    <prefix>:<queue>:metrics:completed or :failed (BullMQ's layout, see includes/countFinished.lua). Without it,
    nothing about metrics is defined or run.

  Returns:
    the next job as moveToActive returns it when fetching, else 0
    -1 the job does not exist; -2 its lock is missing; -6 another worker holds the lock; -3 not active;
    -4 it still has pending children; -9 a child failed with failParentOnFailure (the job must fail instead)

  A finished child of a flow updates its dependents, which may be in other queues: completed, see
  includes/completeChild.lua; failed for good, see includes/failChild.lua (fpof, cpof, idof, rdof policies).
  A job of a flow run (field flowRun) that was started early by a child's `continue` policy (cpof: its :failed
  hash is not empty) completes even with children pending; they are dropped from its dependencies.
  A run node's outcome is recorded in its run, which settles when nothing of it can run any more (see
  includes/recordRunOutcome.lua).

  The job's deduplication id (field deid) is freed when it has no ttl and still points at this job, as in BullMQ;
  then a job kept for it under keepLastIfActive (dn:<id>) is added and takes the id (includes/addKeptNextJob.lua),
  with its added and waiting (or delayed) events before this job's completed or failed event, as in BullMQ.

  Retention that removes the job detaches it from dependents still waiting for it (a child failed under BullMQ's
  default policy): a dependent with nothing else pending moves on, as in BullMQ. A job whose parent link or `atm`
  another producer wrote wrong fails for good, with a reason naming the field, and is kept in failed.

  Events: completed (returnvalue, prev=active) or failed (failedReason, prev=active) and retries-exhausted;
  waiting (prev=waiting-children) or delayed on the parent's queue when its last child completes;
  drained when fetching found nothing waiting and nothing active; plus those of moveToActive when fetching;
  run-completed / run-failed / run-cancelled on <prefix>:__flows__:events when a flow run settles.
]]
--- @include "releaseLock"
--- @include "appendedStacktrace"
--- @include "trimFinished"
--- @include "takeNextJob"
--- @include "maxEvents"
--- @include "completeChild"
--- @include "failChild"
--- @include "releaseHeldItem"
--- @include "recordRunOutcome"
--- @include "detachFromParent"
--- @include "jobCounter"
--- @include "releaseDeduplication"
--- @include "queueMeta"
--- @include "addKeptNextJob"

-- Metrics: on only when the call carries maxDataPoints after its jobs' arguments.
local metricsPoints, countFinished = nil, nil
if #ARGV % 15 == 1 then
  metricsPoints = tonumber(ARGV[#ARGV])
--- @include "countFinished"
end

local k = {wait = KEYS[1], active = KEYS[2], prioritized = KEYS[3], delayed = KEYS[4], pc = KEYS[5],
           meta = KEYS[6], events = KEYS[7], marker = KEYS[8], limiter = KEYS[9]}
local stalledKey, completedKey, failedKey = KEYS[10], KEYS[11], KEYS[12]

-- One job's finish; `ARGV` here is that job's 15 arguments.
local function finishJob(ARGV)
local prefix, jobId, nowText, target, value, token = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local now = tonumber(nowText)
local keepCount, keepAge, fetchNext = tonumber(ARGV[7]), tonumber(ARGV[8]), ARGV[9] == "1"
local maxAttempts, stacktrace = tonumber(ARGV[14]), ARGV[15]
local jobKey = prefix .. jobId

if redis.call("EXISTS", jobKey) == 0 then return -1 end
-- The job's fields this step reads, in one HMGET (false when absent), passed to the includes that would read them.
-- No step below changes them before they are used.
local fields = redis.call("HMGET", jobKey, "parentKey", "parent", "parents", "deid", "atm", "mapIndex",
  "flowRunKey", "flowNode")
-- A field another producer wrote wrong makes the job fail for good, with a reason naming the field (unless the
-- worker's reason already does); a job that was to complete is then kept in failed, whatever its retention.
local function failForCorruption(problem, field)
  if target ~= "failed" then keepCount, keepAge = -1, 0 end
  if target ~= "failed" or not string.find(value, "'" .. field, 1, true) then value = problem end
  target = "failed"
end
-- A bad parent link is found before the first write (Redis does not roll back a script that fails halfway);
-- a bad `atm` where it is counted.
local parents, linkProblem = jobParents(jobKey, {fields[1], fields[2], fields[3]})
if linkProblem then failForCorruption("job " .. linkProblem, "parent") end
local traces = nil
if target ~= "completed" and stacktrace ~= "" then traces = appendedStacktrace(jobKey, stacktrace) end
local dropPending = false
-- A job that never had children has neither key (the common case): one call instead of two.
if target == "completed" and redis.call("EXISTS", jobKey .. ":dependencies", jobKey .. ":unsuccessful") > 0 then
  if redis.call("SCARD", jobKey .. ":dependencies") > 0 then
    if redis.call("HEXISTS", jobKey, "flowRun") == 1 and redis.call("EXISTS", jobKey .. ":failed") == 1 then
      dropPending = true
    else
      return -4
    end
  end
  if redis.call("ZCARD", jobKey .. ":unsuccessful") > 0 then return -9 end
end
local lockStatus = releaseLock(jobKey, stalledKey, jobId, token)
if lockStatus < 0 then return lockStatus end
if redis.call("LREM", k.active, "-1", jobId) == 0 then return -3 end
if dropPending then redis.call("DEL", jobKey .. ":dependencies") end
local deduplicationId = releaseDeduplication(prefix, jobKey, jobId, fields[4])
if deduplicationId then addKeptNextJob(prefix, deduplicationId, k, now) end

local meta = queueMeta(k.meta)
local cap = meta.maxEvents
local attemptsMade, counterProblem = incrementJobCounter(jobKey, "atm", fields[5])
if counterProblem then failForCorruption(counterProblem, "atm'") end
local setKey = completedKey
if target == "completed" then
  redis.call("HSET", jobKey, "finishedOn", nowText, "returnvalue", value)
  redis.call("XADD", k.events, "MAXLEN", "~", cap, "*", "event", "completed", "jobId", jobId,
    "returnvalue", value, "prev", "active")
  completeChild(jobKey, value, now, parents)
else
  setKey = failedKey
  redis.call("HSET", jobKey, "finishedOn", nowText, "failedReason", value)
  if traces then redis.call("HSET", jobKey, "stacktrace", traces) end
  redis.call("XADD", k.events, "MAXLEN", "~", cap, "*", "event", "failed", "jobId", jobId,
    "failedReason", value, "prev", "active")
  redis.call("HDEL", jobKey, "defa")
  failChild(jobKey, value, now)
  if attemptsMade >= maxAttempts then
    redis.call("XADD", k.events, "MAXLEN", "~", cap, "*", "event", "retries-exhausted", "jobId", jobId,
      "attemptsMade", attemptsMade)
  end
end

releaseHeldItem(jobKey, now, fields[6], fields[1])
recordRunOutcome(jobKey, target, now, fields[7], fields[8])

if keepCount == 0 then
  -- A child still pending for a parent (failed under BullMQ's default policy) must not leave it waiting forever.
  detachFromParent(jobKey, false, prefix, now)
  removeJobData(jobKey)
else
  redis.call("ZADD", setKey, nowText, jobId)
  trimFinished(setKey, prefix, now, keepCount, keepAge)
end
if metricsPoints then countFinished(prefix .. "metrics:" .. target, metricsPoints, nowText) end

if not fetchNext then return 0 end
local nextJob = takeNextJob(k, prefix, nowText, token, ARGV[10], tonumber(ARGV[11]), tonumber(ARGV[12]), ARGV[13],
  meta)
if nextJob[2] == 0 and redis.call("LLEN", k.wait) == 0 and redis.call("ZCARD", k.prioritized) == 0
    and redis.call("LLEN", k.active) == 0 then
  redis.call("XADD", k.events, "MAXLEN", "~", cap, "*", "event", "drained")
end
return nextJob
end

local jobArguments = metricsPoints and #ARGV - 1 or #ARGV
if jobArguments == 15 then return finishJob(ARGV) end
local replies = {}
for first = 1, jobArguments - 14, 15 do
  replies[#replies + 1] = finishJob({unpack(ARGV, first, first + 14)})
end
return replies
