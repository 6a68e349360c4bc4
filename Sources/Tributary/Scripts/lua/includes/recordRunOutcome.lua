-- A node of a flow run finished for good: its outcome ("completed", "failed", "skipped", ...) is written into the
-- run record as `node:<flowNode>` (docs/flows.md), so a run's view does not depend on whether the job is kept.
-- Jobs that are not run nodes (no `flowRunKey`/`flowNode`, e.g. the items of a map) are left alone.
local function recordRunOutcome(jobKey, outcome, now)
  local stored = redis.call("HMGET", jobKey, "flowRunKey", "flowNode")
  if not stored[1] or not stored[2] then return end
  if redis.call("EXISTS", stored[1]) == 0 then return end
  redis.call("HSET", stored[1], "node:" .. stored[2], outcome)
end
