--[[
  cancelFlowRun: removes a flow run's pending nodes in one step and marks the run cancelled. A node that is
  waiting, paused, prioritized, delayed or in waiting-children is deleted (event removed on its queue); active,
  completed and failed nodes are left alone: an active node finishes, and its dependents are gone by then.
  Nodes are given dependents first, so deleting a node never releases a dependent that is about to go too.

  KEYS:
    none (the nodes span queues; their keys are given in ARGV)

  ARGV:
    1 run record key
    2 now (ms)
    3 .. pairs of (qualified queue name "<prefix>:<queue>", job id), dependents before what they need

  Returns:
    {removed, left}: how many nodes were deleted and how many were left (active or finished)
    -1 the run does not exist

  Each removed node's outcome is recorded in the run as `cancelled`; the run settles (event run-cancelled) at
  once when no node is left active, else when the last active node finishes.

  Events: removed (prev = the state the node was in) on each node's queue.
]]
--- @include "deleteJob"
--- @include "maxEvents"
--- @include "settleRun"

local runKey, now = ARGV[1], ARGV[2]
if redis.call("EXISTS", runKey) == 0 then return -1 end

local removed, left = 0, 0
for index = 3, #ARGV - 1, 2 do
  local queueKey, jobId = ARGV[index], ARGV[index + 1]
  local prev = nil
  for _, state in ipairs({"waiting-children", "delayed", "prioritized"}) do
    if not prev and redis.call("ZREM", queueKey .. ":" .. state, jobId) == 1 then prev = state end
  end
  for _, list in ipairs({"wait", "paused"}) do
    if not prev and redis.call("LREM", queueKey .. ":" .. list, 0, jobId) > 0 then prev = list end
  end
  if prev then
    local node = redis.call("HGET", queueKey .. ":" .. jobId, "flowNode")
    if node then redis.call("HSET", runKey, "node:" .. node, "cancelled") end
    deleteJob(queueKey .. ":", jobId, false)
    redis.call("XADD", queueKey .. ":events", "MAXLEN", "~", maxEvents(queueKey .. ":meta"), "*",
      "event", "removed", "jobId", jobId, "prev", prev)
    removed = removed + 1
  elseif redis.call("EXISTS", queueKey .. ":" .. jobId) == 1 then
    left = left + 1
  end
end
redis.call("HSET", runKey, "state", "cancelled", "cancelledAt", now)
settleRun(runKey, now)
return {removed, left}
