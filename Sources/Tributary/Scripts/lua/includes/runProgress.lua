-- A run record counts its nodes' recorded outcomes: `finishedNodes` (nodes with a `node:<id>` field) and
-- `unsuccessfulNodes` (those failed, cancelled or removed), next to `nodeCount` written at submit. A finishing node
-- then settles the run (settleRun reads every node: its cost grows with the run) only when the run may have ended:
-- every node has an outcome, or one is unsuccessful (nodes needing it may be stuck). A run whose last nodes were
-- finished by a worker that records no outcome (Python or Node BullMQ) is settled by FlowProducer.waitForRun.
-- Runs submitted before these fields existed are settled as before, on every finish.

local function isUnsuccessfulOutcome(outcome)
  return outcome ~= false and outcome ~= nil and outcome ~= "completed" and outcome ~= "skipped"
end

-- Writes a node's outcome over `previous` (its recorded one, false when none) and keeps the counts.
local function writeRunOutcome(runKey, field, previous, outcome)
  redis.call("HSET", runKey, field, outcome)
  if not previous then redis.call("HINCRBY", runKey, "finishedNodes", "1") end
  local change = (isUnsuccessfulOutcome(outcome) and 1 or 0) - (isUnsuccessfulOutcome(previous) and 1 or 0)
  if change ~= 0 then redis.call("HINCRBY", runKey, "unsuccessfulNodes", string.format("%d", change)) end
end

-- Writes a node's outcome and keeps the counts.
local function setRunOutcome(runKey, node, outcome)
  local field = "node:" .. node
  writeRunOutcome(runKey, field, redis.call("HGET", runKey, field), outcome)
end

-- Writes a node's outcome only when it has none yet (a node removed before it finished).
local function setRunOutcomeIfNone(runKey, node, outcome)
  local field = "node:" .. node
  if not redis.call("HGET", runKey, field) then writeRunOutcome(runKey, field, false, outcome) end
end

-- Removes a node's outcome (the node runs again) and keeps the counts.
local function clearRunOutcome(runKey, node)
  local field = "node:" .. node
  local previous = redis.call("HGET", runKey, field)
  if not previous then return end
  redis.call("HDEL", runKey, field)
  redis.call("HINCRBY", runKey, "finishedNodes", "-1")
  if isUnsuccessfulOutcome(previous) then redis.call("HINCRBY", runKey, "unsuccessfulNodes", "-1") end
end

-- Whether the run may have ended, so that settleRun is worth its scan.
local function runMaySettle(runKey)
  local stored = redis.call("HMGET", runKey, "nodeCount", "finishedNodes", "unsuccessfulNodes")
  if not stored[1] then return true end
  if (tonumber(stored[3]) or 0) > 0 then return true end
  return (tonumber(stored[2]) or 0) >= tonumber(stored[1])
end
