--- @include "settleRun"
--- @include "runProgress"

-- A node of a flow run finished for good: its outcome ("completed", "failed", "skipped", "cancelled", "removed")
-- is written into the run record as `node:<flowNode>`, so the run's status no longer depends on whether the job
-- is kept (removeOnComplete) or on reading its state at the right moment. Then the run is settled if nothing of
-- it can run any more (see settleRun). Jobs that are not run nodes (no `flowRunKey`/`flowNode`, e.g. the items of
-- a map) are left alone.
-- Call it after the job's dependents were updated (released, or failed by policy) and before its hash is
-- deleted by a retention policy.
-- `runKey` and `node` are the job's `flowRunKey` and `flowNode` when the caller already read them (false when
-- absent), or nil.
local function recordRunOutcome(jobKey, outcome, now, runKey, node)
  if runKey == nil then
    local stored = redis.call("HMGET", jobKey, "flowRunKey", "flowNode")
    runKey, node = stored[1], stored[2]
  end
  if not runKey or not node then return end
  if redis.call("EXISTS", runKey) == 0 then return end
  setRunOutcome(runKey, node, outcome)
  if runMaySettle(runKey) then settleRun(runKey, now) end
end
