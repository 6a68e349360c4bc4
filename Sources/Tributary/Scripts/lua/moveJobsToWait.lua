--[[
  moveJobsToWait: moves a batch of jobs back to be run: failed or completed jobs that finished at or before a
  cutoff (retryJobs), or delayed jobs whatever their due time (promoteJobs). Each goes to the wait list (FIFO) or,
  with a priority, to the prioritized set. A retried job loses finishedOn, processedOn and failedReason
  (failed) or returnvalue (completed), keeps its attempt counters, and becomes a pending child of its parent
  again; a promoted job's delay becomes 0.

  KEYS:
    1 wait
    2 prioritized
    3 pc
    4 meta
    5 active
    6 events
    7 marker
    8 delayed
    9 completed
    10 failed

  ARGV:
    1 job key prefix
    2 from: "failed", "completed" or "delayed"
    3 the most jobs to move in this batch
    4 cutoff (ms) for finished jobs: those finished later stay

  Returns:
    {taken, moved}: the ids taken from the set (fewer than the batch size means none is left) and how many of
    them were moved (ids whose hash is gone are only dropped)

  Events: waiting (prev = failed, completed or delayed) for each job.
]]
--- @include "isPausedOrMaxed"
--- @include "enqueueReady"
--- @include "maxEvents"
--- @include "reattachToParent"
--- @include "reopenRunNode"

local waitKey, prioritizedKey, counterKey, metaKey, activeKey, eventsKey, markerKey =
  KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7]
local sourceKeys = {delayed = KEYS[8], completed = KEYS[9], failed = KEYS[10]}
local prefix, from, batch, cutoff = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4]

local sourceKey = sourceKeys[from]
if not sourceKey then
  return redis.error_reply("moveJobsToWait: unknown state " .. from)
end
local ids
if from == "delayed" then
  ids = redis.call("ZRANGE", sourceKey, 0, batch - 1)
else
  ids = redis.call("ZRANGEBYSCORE", sourceKey, "-inf", cutoff, "LIMIT", 0, batch)
end
if #ids == 0 then return {0, 0} end

local blocked = isPausedOrMaxed(metaKey, activeKey)
local cap = maxEvents(metaKey)
local moved = 0
for _, jobId in ipairs(ids) do
  redis.call("ZREM", sourceKey, jobId)
  local jobKey = prefix .. jobId
  -- An id whose hash is gone is only dropped from the set.
  if redis.call("EXISTS", jobKey) == 1 then
    if from == "delayed" then
      redis.call("HSET", jobKey, "delay", 0)
    else
      local result = from == "failed" and "failedReason" or "returnvalue"
      redis.call("HDEL", jobKey, "finishedOn", "processedOn", result)
      reattachToParent(jobKey, from)
      reopenRunNode(jobKey)
    end
    local priority = tonumber(redis.call("HGET", jobKey, "priority")) or 0
    enqueueReady(waitKey, prioritizedKey, counterKey, markerKey, jobId, priority, "LPUSH", blocked)
    redis.call("XADD", eventsKey, "MAXLEN", "~", cap, "*", "event", "waiting", "jobId", jobId, "prev", from)
    moved = moved + 1
  end
end
return {#ids, moved}
