--[[
  retryFlowRun: redrives a flow run in one step. Every node that did not succeed goes back to run: failed nodes,
  nodes removed or cancelled (their jobs are stored again from the run record's `spec:<node>`), nodes that wait
  for an input that failed, nodes about to be failed because an input failed (`defa`), and every node that is
  not finished and needs a node that runs again. Completed (and skipped) nodes keep their results and do not
  run again, unless their result is needed by a node that runs again and is lost (the job was removed by its
  retention policy): then they run again to produce it. Active nodes are left alone: they finish with the
  inputs they had. A cancelled run is resumed the same way.

  Each node that runs again gets fresh bookkeeping: its pending dependencies are the nodes it needs that have
  not succeeded (those that run again, and active or waiting ones); the results of those that succeeded are in
  its :processed hash. It waits in waiting-children while something is pending, else it is queued (delayed when
  it has a delay). A node that had finished gets its attempts back (atm, ats and stc are cleared). Its outcome
  is taken out of the run record, and the run is running again (`state`, no `finishedOn`, no `cancelledAt`).
  A map node that runs again re-runs only its items that have no result (includes/reopenMapNode.lua).

  KEYS:
    none (the nodes span queues; the script reads them from the run record)

  ARGV:
    1 run record key
    2 now (ms)

  Returns:
    {rerun, kept, active}: nodes that run again, nodes that keep their result, nodes left active
    -1 the run does not exist
    {-2, node id}: that node must run again but its job is gone and the record has no spec for it (a run
       submitted before specs were stored); nothing was changed

  Events: on each node's queue, added (for a job stored again), then waiting-children, delayed or waiting
  (prev = the state it left).
]]
--- @include "isPausedOrMaxed"
--- @include "enqueueReady"
--- @include "scheduleDelayed"
--- @include "maxEvents"
--- @include "reopenMapNode"
--- @include "runProgress"

local runKey, now = ARGV[1], tonumber(ARGV[2])
local flat = redis.call("HGETALL", runKey)
if #flat == 0 then return -1 end
local record = {}
for index = 1, #flat, 2 do record[flat[index]] = flat[index + 1] end
local prefix = record["prefix"] or ""
local nodes = cjson.decode(record["nodes"] or "[]")

local function stateOf(queueKey, jobId)
  for _, set in ipairs({"completed", "failed", "delayed", "prioritized", "waiting-children"}) do
    if redis.call("ZSCORE", queueKey .. ":" .. set, jobId) then return set end
  end
  for _, list in ipairs({"active", "wait", "paused"}) do
    if redis.call("LPOS", queueKey .. ":" .. list, jobId) then return list end
  end
  return nil
end

-- 1. What each node is, in the record's order (each after the nodes it needs).
local info = {}
for _, node in ipairs(nodes) do
  local queueKey = prefix .. ":" .. node["queue"]
  local n = {needs = node["needs"] or {}, queueKey = queueKey, jobId = node["jobId"],
             jobKey = queueKey .. ":" .. node["jobId"], outcome = record["node:" .. node["id"]]}
  n.exists = redis.call("EXISTS", n.jobKey) == 1
  n.state = n.exists and stateOf(queueKey, n.jobId) or nil
  if n.outcome == "completed" or n.outcome == "skipped" or (not n.outcome and n.state == "completed") then
    n.success = true
  elseif n.state == "active" then
    n.active = true
  elseif n.outcome or not n.exists or n.state == "failed" or not n.state then
    n.rerun, n.finished = true, true
  elseif redis.call("HEXISTS", n.jobKey, "defa") == 1 then
    n.rerun = true
  else
    for _, need in ipairs(n.needs) do
      if info[need] and info[need].rerun then n.rerun = true end
    end
  end
  info[node["id"]] = n
end

-- 2. Results that nodes running again need: from their :processed, else from the job that produced them; a
-- result that is gone with its job is produced again. Dependents first, so that runs spread to what they need.
for index = #nodes, 1, -1 do
  local n = info[nodes[index]["id"]]
  if n.rerun then
    for _, need in ipairs(n.needs) do
      local m = info[need]
      if m and m.success and not m.value and m.outcome ~= "skipped" then
        local kept = n.exists and redis.call("HGET", n.jobKey .. ":processed", m.jobKey)
        if not kept and m.exists then kept = redis.call("HGET", m.jobKey, "returnvalue") end
        if kept then
          m.value = kept
        else
          m.success, m.rerun, m.finished = false, true, true
        end
      end
    end
  end
end

-- 3. Check before writing: every job to store again has a spec.
local rerun, kept, active = 0, 0, 0
for _, node in ipairs(nodes) do
  local n = info[node["id"]]
  if n.rerun then
    rerun = rerun + 1
    if not n.exists and not record["spec:" .. node["id"]] then return {-2, node["id"]} end
  elseif n.success then
    kept = kept + 1
  elseif n.active then
    active = active + 1
  end
end
if rerun == 0 then return {0, kept, active} end

-- 4. Back to run, needs first.
for _, node in ipairs(nodes) do
  local n = info[node["id"]]
  if n.rerun then
    local queueKey, jobId, jobKey = n.queueKey, n.jobId, n.jobKey
    local events, cap = queueKey .. ":events", maxEvents(queueKey .. ":meta")
    local prev = n.state or "removed"
    if n.exists then
      if n.state == "wait" or n.state == "paused" then
        redis.call("LREM", queueKey .. ":" .. n.state, 0, jobId)
      elseif n.state then
        redis.call("ZREM", queueKey .. ":" .. n.state, jobId)
      end
      redis.call("HDEL", jobKey, "finishedOn", "processedOn", "failedReason", "returnvalue", "stacktrace", "defa")
      if n.finished then redis.call("HDEL", jobKey, "atm", "ats", "stc") end
      reopenMapNode(jobKey)
    else
      local spec = cjson.decode(record["spec:" .. node["id"]])
      local fields = {"name", spec[1], "data", spec[2], "opts", spec[3], "timestamp", now, "delay", spec[4],
                      "priority", spec[5]}
      if spec[7] ~= "" then
        for _, pair in ipairs({{"parentKey", spec[7]}, {"parent", spec[8]}}) do
          table.insert(fields, pair[1])
          table.insert(fields, pair[2])
        end
      end
      if spec[10] ~= "" then
        table.insert(fields, "parents")
        table.insert(fields, spec[10])
      end
      if spec[9] ~= "" then
        for field, value in pairs(cjson.decode(spec[9])) do
          table.insert(fields, field)
          table.insert(fields, value)
        end
      end
      redis.call("HSET", jobKey, unpack(fields))
      redis.call("XADD", events, "MAXLEN", "~", cap, "*", "event", "added", "jobId", jobId, "name", spec[1])
    end

    redis.call("HSET", jobKey, "flowRunKey", runKey)

    -- Its inputs: results of what succeeded, pending for the rest.
    redis.call("DEL", jobKey .. ":dependencies", jobKey .. ":unsuccessful", jobKey .. ":failed")
    for _, need in ipairs(n.needs) do
      local m = info[need]
      if m and m.success then
        if m.value then redis.call("HSET", jobKey .. ":processed", m.jobKey, m.value) end
      elseif m then
        redis.call("HDEL", jobKey .. ":processed", m.jobKey)
        redis.call("SADD", jobKey .. ":dependencies", m.jobKey)
      end
    end

    local stored = redis.call("HMGET", jobKey, "delay", "priority", "opts")
    local delay = tonumber(stored[1]) or 0
    if redis.call("SCARD", jobKey .. ":dependencies") > 0 then
      redis.call("ZADD", queueKey .. ":waiting-children", now, jobId)
      redis.call("XADD", events, "MAXLEN", "~", cap, "*", "event", "waiting-children", "jobId", jobId, "prev", prev)
    elseif delay > 0 then
      scheduleDelayed(queueKey .. ":delayed", queueKey .. ":marker", jobId, now + delay)
      redis.call("XADD", events, "MAXLEN", "~", cap, "*", "event", "delayed", "jobId", jobId, "delay", now + delay)
    else
      local ok, opts = pcall(cjson.decode, stored[3] or "{}")
      local push = (ok and type(opts) == "table" and opts["lifo"] == true) and "RPUSH" or "LPUSH"
      enqueueReady(queueKey .. ":wait", queueKey .. ":prioritized", queueKey .. ":pc", queueKey .. ":marker", jobId,
        tonumber(stored[2]) or 0, push, isPausedOrMaxed(queueKey .. ":meta", queueKey .. ":active"))
      redis.call("XADD", events, "MAXLEN", "~", cap, "*", "event", "waiting", "jobId", jobId, "prev", prev)
    end
    clearRunOutcome(runKey, node["id"])
  end
end

redis.call("HSET", runKey, "state", "running")
redis.call("HDEL", runKey, "finishedOn", "cancelledAt")
return {rerun, kept, active}
