--- @include "runProgress"
--- @include "detachFromParent"
--- @include "removeJobData"

-- Deletes one job of the queue at `prefix` ("<prefix>:<queue>:"): releases its parent (see detachFromParent;
-- `hard` when the whole queue is being wiped), frees its deduplication id if the id still points at this job
-- (with the next job kept for it under keepLastIfActive, `dn:<id>`), and deletes its hash, logs and child
-- bookkeeping. The caller removes the id from the queue's lists and sets.
-- Returns whether the job hash existed.
local function deleteJob(prefix, jobId, hard)
  local jobKey = prefix .. jobId
  detachFromParent(jobKey, hard, prefix)
  local dedupId = redis.call("HGET", jobKey, "deid")
  if dedupId and redis.call("GET", prefix .. "de:" .. dedupId) == jobId then
    redis.call("DEL", prefix .. "de:" .. dedupId, prefix .. "dn:" .. dedupId)
  end
  local existed = redis.call("EXISTS", jobKey) == 1
  -- A node of a flow run removed before it finished: the run records it as removed (see runProgress).
  local run = redis.call("HMGET", jobKey, "flowRunKey", "flowNode")
  if run[1] and run[2] and redis.call("HEXISTS", run[1], "node:" .. run[2]) == 0
      and redis.call("EXISTS", run[1]) == 1 then
    setRunOutcome(run[1], run[2], "removed")
  end
  removeJobData(jobKey)
  return existed
end
