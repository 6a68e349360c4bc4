-- Settles a flow run once no node of it can run any more: its record gets `state` (completed, failed or
-- cancelled) and `finishedOn`, and a run-finished event goes to the stream `<prefix>:__flows__:events`.
-- Returns whether the run settled now.
--
-- Nodes are read in the record's order (each after the nodes it needs). A node has finished when its outcome is
-- recorded (`node:<id>`), or, for a job finished by a worker that records none (Python or Node BullMQ), when it is
-- in its queue's completed or failed set; a node whose job is gone without an outcome counts as removed. An
-- unfinished node can still run when its job is waiting, paused, prioritized, delayed or active, or when it waits
-- for children that can still finish: a node it needs that can run (none can, by the time it is looked at, or the
-- scan has stopped), inputs that all succeeded (it is about to move on), or a pending child that is not a node
-- of the run (children added at run time). Otherwise it is stuck (a node it needs failed and it keeps waiting).
--
-- The status: cancelled when the run was cancelled; completed when every root completed or was skipped;
-- failed otherwise.
local function settleRun(runKey, now)
  local flat = redis.call("HGETALL", runKey)
  local record = {}
  for index = 1, #flat, 2 do record[flat[index]] = flat[index + 1] end
  if not record["nodes"] or record["finishedOn"] or not record["prefix"] then return false end
  local ok, nodes = pcall(cjson.decode, record["nodes"])
  if not ok or type(nodes) ~= "table" then return false end
  local prefix = record["prefix"]
  local succeeded = {completed = true, skipped = true}
  local outcomes, counts = {}, {completed = 0, failed = 0, skipped = 0, cancelled = 0, removed = 0, stuck = 0}
  local nodeKeys = nil
  for _, node in ipairs(nodes) do
    local id = node["id"]
    local outcome = record["node:" .. id]
    if not outcome then
      local queueKey, jobId = prefix .. ":" .. node["queue"], node["jobId"]
      local jobKey = queueKey .. ":" .. jobId
      if redis.call("EXISTS", jobKey) == 0 then
        outcome = "removed"
      elseif redis.call("ZSCORE", queueKey .. ":completed", jobId) then
        outcome = "completed"
      elseif redis.call("ZSCORE", queueKey .. ":failed", jobId) then
        outcome = "failed"
      elseif redis.call("ZSCORE", queueKey .. ":waiting-children", jobId) then
        local inputsDone = true
        for _, need in ipairs(node["needs"] or {}) do
          if not succeeded[outcomes[need]] then inputsDone = false end
        end
        if inputsDone then return false end
        if not nodeKeys then
          nodeKeys = {}
          for _, other in ipairs(nodes) do
            nodeKeys[prefix .. ":" .. other["queue"] .. ":" .. other["jobId"]] = true
          end
        end
        for _, pending in ipairs(redis.call("SMEMBERS", jobKey .. ":dependencies")) do
          if not nodeKeys[pending] then return false end
        end
        outcome = "stuck"
      else
        return false
      end
    end
    outcomes[id] = outcome
    counts[outcome] = (counts[outcome] or 0) + 1
  end

  local status = "failed"
  if record["state"] == "cancelled" then
    status = "cancelled"
  else
    local okRoots, roots = pcall(cjson.decode, record["roots"] or "[]")
    if okRoots and type(roots) == "table" and #roots > 0 then
      status = "completed"
      for _, root in ipairs(roots) do
        if not succeeded[outcomes[root]] then status = "failed" end
      end
    end
  end
  redis.call("HSET", runKey, "state", status, "finishedOn", now)
  redis.call("XADD", prefix .. ":__flows__:events", "MAXLEN", "~", 10000, "*", "event", "run-" .. status,
    "runId", record["id"] or "", "status", status, "nodes", #nodes, "completed", counts.completed,
    "failed", counts.failed, "skipped", counts.skipped, "cancelled", counts.cancelled, "removed", counts.removed,
    "stuck", counts.stuck, "finishedOn", now)
  return true
end
