--[[
  getStates: the states of many jobs, possibly of several queues, read in one step (a job moving between two
  probes cannot read as in no state), optionally with a flow run's record read in the same step.

  KEYS:
    none (the jobs span queues; their keys are given in ARGV)

  ARGV:
    1 a flow run record key, or "" for none
    2 .. pairs of (qualified queue name "<prefix>:<queue>", job id)

  Returns:
    {record, state, state, ...}: the run record's fields and values as HGETALL returns them, without "nodes" and
    the "spec:<id>" fields (empty without a run key), then one state
    per job: completed, failed, delayed, prioritized, waiting-children, active, waiting (wait or paused list),
    or unknown (the job is in none of them).

  Events: none (it only reads).
]]

-- The record without its node list and node specs ("nodes", "spec:<id>"): the caller has the list already, and
-- the specs (one per node, read only by retryFlowRun) would make a large run's reply many times bigger.
local record = {}
if ARGV[1] ~= "" then
  local all = redis.call("HGETALL", ARGV[1])
  for index = 1, #all, 2 do
    local field = all[index]
    if field ~= "nodes" and string.sub(field, 1, 5) ~= "spec:" then
      record[#record + 1] = field
      record[#record + 1] = all[index + 1]
    end
  end
end
local reply = {record}
local sets = {"completed", "failed", "delayed", "prioritized", "waiting-children"}
local lists = {{"active", "active"}, {"wait", "waiting"}, {"paused", "waiting"}}

-- LPOS scans its list, so for many jobs of one queue the lists are read once into lookup tables instead (linear
-- in jobs plus list lengths, where an LPOS per job is quadratic for a large run waiting in one queue).
local jobsPerQueue = {}
for index = 2, #ARGV - 1, 2 do
  jobsPerQueue[ARGV[index]] = (jobsPerQueue[ARGV[index]] or 0) + 1
end
local members = {}
local function inList(queueKey, list, jobId)
  if jobsPerQueue[queueKey] <= 16 then
    return redis.call("LPOS", queueKey .. ":" .. list, jobId) ~= false
  end
  local key = queueKey .. ":" .. list
  local lookup = members[key]
  if not lookup then
    lookup = {}
    for _, id in ipairs(redis.call("LRANGE", key, 0, -1)) do lookup[id] = true end
    members[key] = lookup
  end
  return lookup[jobId] == true
end

for index = 2, #ARGV - 1, 2 do
  local queueKey, jobId = ARGV[index], ARGV[index + 1]
  local state = "unknown"
  for _, set in ipairs(sets) do
    if redis.call("ZSCORE", queueKey .. ":" .. set, jobId) then
      state = set
      break
    end
  end
  if state == "unknown" then
    for _, list in ipairs(lists) do
      if inList(queueKey, list[1], jobId) then
        state = list[2]
        break
      end
    end
  end
  table.insert(reply, state)
end
return reply
