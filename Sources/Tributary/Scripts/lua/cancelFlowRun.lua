--[[
  cancelFlowRun: removes a flow run's pending nodes in one step and marks the run cancelled. A node that is
  waiting, paused, prioritized, delayed or in waiting-children is deleted (event removed on its queue); active,
  completed and failed nodes are left alone: an active node finishes, and its dependents are gone by then (a
  failed attempt of it is not retried: retryJob and moveToDelayed refuse jobs of a cancelled run).
  Nodes are given dependents first, so deleting a node never releases a dependent that is about to go too.

  KEYS:
    none (the nodes span queues; their keys are given in ARGV)

  ARGV:
    1 run record key
    2 now (ms)
    3 .. pairs of (qualified queue name "<prefix>:<queue>", job id), dependents before what they need

  A run that has finished is left as it is: one already cancelled, one settled as completed or failed, or one
  none of whose nodes is pending or active any more (every node completed, failed or gone). Its record is not
  touched.

  Returns:
    {removed, left}: how many nodes were deleted and how many were left (active or finished)
    -1 the run does not exist
    -2 the run has finished (settled, or no node pending or active); nothing was changed
    -3 the run was cancelled already; nothing was changed

  Each removed node's outcome is recorded in the run as `cancelled`; the run settles (event run-cancelled) at
  once when no node is left active, else when the last active node finishes.

  Events: removed (prev = the state the node was in) on each node's queue.
]]
--- @include "deleteJob"
--- @include "maxEvents"
--- @include "settleRun"
--- @include "runProgress"

local runKey, now = ARGV[1], ARGV[2]
if redis.call("EXISTS", runKey) == 0 then return -1 end
local state = redis.call("HGET", runKey, "state")
if state == "cancelled" then return -3 end
if state == "completed" or state == "failed" then return -2 end

-- Is any node still pending or active? Otherwise the run is over and cancelling it would only rewrite history.
local pendingStates = {"waiting-children", "delayed", "prioritized"}
local pendingLists = {"wait", "paused", "active"}
local function isPendingOrActive(queueKey, jobId)
  for _, state in ipairs(pendingStates) do
    if redis.call("ZSCORE", queueKey .. ":" .. state, jobId) then return true end
  end
  for _, list in ipairs(pendingLists) do
    if redis.call("LPOS", queueKey .. ":" .. list, jobId) then return true end
  end
  return false
end
local moving = false
for index = 3, #ARGV - 1, 2 do
  if isPendingOrActive(ARGV[index], ARGV[index + 1]) then
    moving = true
    break
  end
end
if not moving then return -2 end

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
    if node then setRunOutcome(runKey, node, "cancelled") end
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
