--[[
  moveStalledJobsToWait: finds active jobs whose worker stopped renewing the lock, and puts them back to wait.
  Two-phase: every active id is marked in the stalled set; a renewal clears the mark; an id still marked (and
  unlocked) at the next check has stalled. Beyond maxStalledCount stalls the job gets a deferred failure (defa)
  (except a job scheduler's iteration, as in BullMQ),
  which the next worker applies instead of running it; so does a job whose `stc` is not an integer (the reason names
  the field), and the check goes on with the others. At most one check runs per interval across workers.

  KEYS:
    1 stalled
    2 wait
    3 active
    4 prioritized
    5 pc
    6 meta
    7 events
    8 marker
    9 stalled-check

  ARGV:
    1 job key prefix
    2 now (ms)
    3 max stalled count
    4 stalled interval (ms)

  Returns:
    the ids of the jobs found stalled (empty when another worker ran the check this interval)

  Events: stalled, then waiting (prev=active) for each stalled job.
]]
--- @include "isPausedOrMaxed"
--- @include "enqueueReady"
--- @include "maxEvents"
--- @include "jobCounter"

-- A job scheduler's iteration (field rjk naming a scheduler that still exists) is never failed for stalling, as in
-- BullMQ: it goes back to wait and runs again.
local function isSchedulerIteration(prefix, jobKey)
  local schedulerId = redis.call("HGET", jobKey, "rjk")
  if not schedulerId then return false end
  return redis.call("EXISTS", prefix .. "repeat:" .. schedulerId) == 1
    or redis.call("ZSCORE", prefix .. "repeat", schedulerId) ~= false
end

local stalledKey, waitKey, activeKey, prioritizedKey, counterKey, metaKey, eventsKey, markerKey, checkKey =
  KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8], KEYS[9]
local prefix, now, maxStalled, interval = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4]

if redis.call("SET", checkKey, now, "PX", interval, "NX") == false then
  return {}
end
local cap = maxEvents(metaKey)
local stalled = {}
for _, jobId in ipairs(redis.call("SMEMBERS", stalledKey)) do
  local jobKey = prefix .. jobId
  if redis.call("EXISTS", jobKey .. ":lock") == 0 and redis.call("LREM", activeKey, 1, jobId) > 0 then
    table.insert(stalled, jobId)
    -- Nothing below may raise for one bad job, or the check would stop for every other one: a key of another
    -- type under the job's name is dropped like a missing hash; a bad `stc` fails the job, naming the field.
    if redis.call("TYPE", jobKey)["ok"] == "hash" then
      local count, counterProblem = incrementJobCounter(jobKey, "stc")
      if counterProblem then
        redis.call("HSET", jobKey, "defa", counterProblem)
      elseif count > maxStalled and not isSchedulerIteration(prefix, jobKey) then
        redis.call("HSET", jobKey, "defa", "job stalled more than allowable limit")
      end
      -- Stalled jobs go to the head of the wait list, whatever their priority (as BullMQ does).
      enqueueReady(waitKey, prioritizedKey, counterKey, markerKey, jobId, 0, "RPUSH", isPausedOrMaxed(metaKey, activeKey))
      redis.call("XADD", eventsKey, "MAXLEN", "~", cap, "*", "event", "stalled", "jobId", jobId)
      redis.call("XADD", eventsKey, "MAXLEN", "~", cap, "*", "event", "waiting", "jobId", jobId, "prev", "active")
    end
  end
end
redis.call("DEL", stalledKey)
-- Marked in slices: unpack() of a whole list fails beyond about 8,000 values ("too many results to unpack").
local active = redis.call("LRANGE", activeKey, 0, -1)
for first = 1, #active, 5000 do
  redis.call("SADD", stalledKey, unpack(active, first, math.min(first + 4999, #active)))
end
return stalled
