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
  local fields = redis.call("HMGET", jobKey, "deid", "flowRunKey", "flowNode")
  local dedupId = fields[1]
  if dedupId and redis.call("GET", prefix .. "de:" .. dedupId) == jobId then
    redis.call("DEL", prefix .. "de:" .. dedupId, prefix .. "dn:" .. dedupId)
  end
  local existed = redis.call("EXISTS", jobKey) == 1
  -- A node of a flow run removed before it finished: the run records it as removed (see runProgress).
  if fields[2] and fields[3] and redis.call("EXISTS", fields[2]) == 1 then
    setRunOutcomeIfNone(fields[2], fields[3], "removed")
  end
  removeJobData(jobKey)
  return existed
end
