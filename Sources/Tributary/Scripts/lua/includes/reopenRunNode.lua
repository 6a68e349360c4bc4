--- @include "runProgress"

-- A node of a flow run goes back to run (job retry, flow retry): its recorded outcome is taken back, and a run
-- that had settled is open again (`finishedOn` removed; a completed or failed run is running again, a cancelled
-- one stays cancelled until it is resumed). Jobs that are not run nodes are left alone.
local function reopenRunNode(jobKey)
  local stored = redis.call("HMGET", jobKey, "flowRunKey", "flowNode")
  if not stored[1] or not stored[2] then return end
  local runKey = stored[1]
  if redis.call("EXISTS", runKey) == 0 then return end
  clearRunOutcome(runKey, stored[2])
  local state = redis.call("HGET", runKey, "state")
  if state == "completed" or state == "failed" then redis.call("HSET", runKey, "state", "running") end
  redis.call("HDEL", runKey, "finishedOn")
end
