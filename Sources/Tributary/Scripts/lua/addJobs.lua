--[[
  addJobs: stores several new jobs of one queue in one call, each exactly as addJob.lua stores it (same hash
  fields, same lists and sets, same events in the same order). One call instead of one per job saves Redis the
  per-call script overhead, which was most of the cost of an add; the queue's settings (events cap, paused or
  maxed) are read once, the marker is set once, and wait-list pushes and parents' dependency additions are sent
  in groups. Used by Queue.addBulk and FlowProducer for bulks; keep it in step with addJob.lua (a test compares
  the two).

  KEYS:
    1 wait
    2 meta
    3 id
    4 delayed
    5 prioritized
    6 pc
    7 active
    8 events
    9 marker
    10 waiting-children

  ARGV:
    1 job key prefix ("bull:queue:")
    2 number of jobs n
    then, per job, the 14 values of addJob.lua's ARGV 2..15:
      custom job id or "", name, timestamp (ms), data (JSON), opts (JSON), delay (ms), priority, LPUSH or RPUSH,
      parent job key or "", parent JSON or "", "1" when the job waits for children added after it,
      extra fields (JSON object of strings) or "", dependents of a shared node (JSON array) or "", guard key or ""

  Returns:
    an array of n results, one per job in order, as addJob.lua returns them: the job id (string), -5 when its
    parent (or a dependent) does not exist, -8 when its guard key is missing

  Events: as addJob.lua, per job.
]]
--- @include "maxEvents"
--- @include "isPausedOrMaxed"
--- @include "scheduleDelayed"

local waitKey, metaKey, idKey, delayedKey, prioritizedKey, counterKey, activeKey, eventsKey, markerKey =
  KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8], KEYS[9]
local waitingChildrenKey = KEYS[10]
local prefix, count = ARGV[1], tonumber(ARGV[2])

-- Nothing below changes the queue's settings or its active list, so these hold for every job of the call. Read
-- when the first job is stored (as addJob does, which writes the events cap only for a job it stores).
local cap, blocked

local perJob = 14
local existing = {}       -- parents and guards known to exist: nothing in this call deletes keys

local function exists(key)
  if existing[key] then return true end
  if redis.call("EXISTS", key) == 1 then
    existing[key] = true
    return true
  end
  return false
end

-- Grouped writes, flushed in slices small enough for unpack().
local slice = 1000
local pushes = {LPUSH = {}, RPUSH = {}}
local dependencies = {}   -- parent key -> child job keys
local dependencyOrder = {}
local readyCount = 0

local function flushPush(command)
  local ids = pushes[command]
  if #ids > 0 then
    redis.call(command, waitKey, unpack(ids))
    pushes[command] = {}
  end
end

local function flushDependencies(parentKey)
  local members = dependencies[parentKey]
  if members and #members > 0 then
    redis.call("SADD", parentKey .. ":dependencies", unpack(members))
    dependencies[parentKey] = {}
  end
end

local function addDependency(parentKey, jobKey)
  local members = dependencies[parentKey]
  if not members then
    members = {}
    dependencies[parentKey] = members
    dependencyOrder[#dependencyOrder + 1] = parentKey
  end
  members[#members + 1] = jobKey
  if #members >= slice then flushDependencies(parentKey) end
end

local results = {}
for index = 1, count do
  local base = 2 + (index - 1) * perJob
  local customId, name, timestamp, data, opts = ARGV[base + 1], ARGV[base + 2], ARGV[base + 3], ARGV[base + 4],
    ARGV[base + 5]
  local delay, priority, pushCommand = tonumber(ARGV[base + 6]), tonumber(ARGV[base + 7]), ARGV[base + 8]
  local parentKey, parent, waitsForChildren = ARGV[base + 9], ARGV[base + 10], ARGV[base + 11] == "1"
  local extraFields, parents, guardKey = ARGV[base + 12], ARGV[base + 13], ARGV[base + 14]
  local result
  if guardKey ~= "" and not exists(guardKey) then
    result = -8
  end
  local checkParents = guardKey == ""
  if not result and checkParents and parentKey ~= "" and not exists(parentKey) then
    result = -5
  end
  local dependents = nil
  if not result and parents ~= "" then
    dependents = {}
    for _, entry in ipairs(cjson.decode(parents)) do
      local key = entry["queueKey"] .. ":" .. entry["id"]
      if checkParents and not exists(key) then
        result = -5
        break
      end
      dependents[#dependents + 1] = key
    end
  end
  if not result then
    local counter = redis.call("INCR", idKey)
    if not cap then
      cap = maxEvents(metaKey)
      blocked = isPausedOrMaxed(metaKey, activeKey)
    end
    local jobId = customId
    if jobId == "" then jobId = tostring(counter) end
    local jobKey = prefix .. jobId
    if customId ~= "" and redis.call("EXISTS", jobKey) == 1 then
      redis.call("XADD", eventsKey, "MAXLEN", "~", cap, "*", "event", "duplicated", "jobId", jobId)
    else
      -- delay and priority as sent (integers in decimal), which is how addJob's numbers print, without the cost
      -- of formatting Lua numbers.
      if parents == "" and extraFields == "" then
        if parentKey == "" then
          redis.call("HSET", jobKey, "name", name, "data", data, "opts", opts, "timestamp", timestamp,
            "delay", ARGV[base + 6], "priority", ARGV[base + 7])
        else
          redis.call("HSET", jobKey, "name", name, "data", data, "opts", opts, "timestamp", timestamp,
            "delay", ARGV[base + 6], "priority", ARGV[base + 7], "parentKey", parentKey, "parent", parent)
        end
      else
        local fields = {"name", name, "data", data, "opts", opts, "timestamp", timestamp,
          "delay", ARGV[base + 6], "priority", ARGV[base + 7]}
        if parentKey ~= "" then
          fields[#fields + 1] = "parentKey"
          fields[#fields + 1] = parentKey
          fields[#fields + 1] = "parent"
          fields[#fields + 1] = parent
        end
        if parents ~= "" then
          fields[#fields + 1] = "parents"
          fields[#fields + 1] = parents
        end
        if extraFields ~= "" then
          for field, value in pairs(cjson.decode(extraFields)) do
            fields[#fields + 1] = field
            fields[#fields + 1] = value
          end
        end
        redis.call("HSET", jobKey, unpack(fields))
      end
      redis.call("XADD", eventsKey, "MAXLEN", "~", cap, "*", "event", "added", "jobId", jobId, "name", name)
      if waitsForChildren then
        redis.call("ZADD", waitingChildrenKey, timestamp, jobId)
        redis.call("XADD", eventsKey, "MAXLEN", "~", cap, "*", "event", "waiting-children", "jobId", jobId)
      elseif delay > 0 then
        local readyAt = tonumber(timestamp) + delay
        scheduleDelayed(delayedKey, markerKey, jobId, readyAt)
        redis.call("XADD", eventsKey, "MAXLEN", "~", cap, "*", "event", "delayed", "jobId", jobId, "delay", readyAt)
      else
        if priority > 0 then
          local sequence = redis.call("INCR", counterKey) % 0x100000000
          redis.call("ZADD", prioritizedKey, priority * 0x100000000 + sequence, jobId)
        else
          local ids = pushes[pushCommand]
          ids[#ids + 1] = jobId
          if #ids >= slice then flushPush(pushCommand) end
        end
        readyCount = readyCount + 1
        redis.call("XADD", eventsKey, "MAXLEN", "~", cap, "*", "event", "waiting", "jobId", jobId)
      end
      if parentKey ~= "" then addDependency(parentKey, jobKey) end
      if dependents then
        for _, key in ipairs(dependents) do addDependency(key, jobKey) end
      end
    end
    result = jobId
  end
  results[index] = result
end

flushPush("LPUSH")
flushPush("RPUSH")
for _, parentKey in ipairs(dependencyOrder) do flushDependencies(parentKey) end
if readyCount > 0 and not blocked then
  redis.call("ZADD", markerKey, 0, "0")
end
return results
