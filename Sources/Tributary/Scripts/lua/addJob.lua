--[[
  addJob: stores a new job and puts it where it belongs: the wait list, the prioritized set, the delayed set, or
  (for a flow parent added before its children) the waiting-children set.

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
    2 custom job id, or "" for the next value of the id counter
    3 name
    4 timestamp (ms)
    5 data (JSON text)
    6 opts (JSON text, stored as given)
    7 delay (ms)
    8 priority (0 = none)
    9 push command for the wait list: LPUSH (FIFO) or RPUSH (LIFO)
    10 parent job key, or ""
    11 parent JSON {"id", "queueKey"}, or ""
    12 "1" when the job waits for children added after it in the same transaction, else "0"
    13 extra fields (Tributary's flowRun, flowNode, flowInputs, command) as a JSON object of strings, or ""
    14 the dependents of a node that several need: JSON array of {"id", "queueKey", policy flag}, or ""
       (such a node gets a `parents` field instead of parentKey/parent)
    15 guard key, or "": when given and missing, nothing is done (see checkFlow.lua); when given, the dependents
       are not required to exist yet (they are added later in the same transaction)

  Returns:
    the job id (string); for an existing custom id, the existing job's id, unchanged
    -5 the parent job (or one of the dependents) does not exist
    -8 the guard key is missing: the transaction's check failed, so nothing was stored

  Events: added (name), then waiting, delayed (delay = ready-at ms) or waiting-children; duplicated for an
  existing custom id.
]]
--- @include "maxEvents"
--- @include "isPausedOrMaxed"
--- @include "enqueueReady"
--- @include "scheduleDelayed"

local waitKey, metaKey, idKey, delayedKey, prioritizedKey, counterKey, activeKey, eventsKey, markerKey =
  KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8], KEYS[9]
local waitingChildrenKey = KEYS[10]
local waitsForChildren = ARGV[12] == "1"
local prefix, customId, name, timestamp, data, opts = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local delay, priority, pushCommand = tonumber(ARGV[7]), tonumber(ARGV[8]), ARGV[9]
local parentKey, parent = ARGV[10], ARGV[11]
local extraFields, parents, guardKey = ARGV[13], ARGV[14], ARGV[15]

if guardKey ~= "" and redis.call("EXISTS", guardKey) == 0 then
  return -8
end
local checkParents = guardKey == ""
if checkParents and parentKey ~= "" and redis.call("EXISTS", parentKey) ~= 1 then
  return -5
end
local dependents = {}
if parents ~= "" then
  for _, entry in ipairs(cjson.decode(parents)) do
    local key = entry["queueKey"] .. ":" .. entry["id"]
    if checkParents and redis.call("EXISTS", key) ~= 1 then return -5 end
    table.insert(dependents, key)
  end
end

-- BullMQ advances the counter on every add, custom id or not.
local counter = redis.call("INCR", idKey)
local cap = maxEvents(metaKey)
local jobId = customId
if jobId == "" then
  jobId = tostring(counter)
end
local jobKey = prefix .. jobId

if customId ~= "" and redis.call("EXISTS", jobKey) == 1 then
  redis.call("XADD", eventsKey, "MAXLEN", "~", cap, "*", "event", "duplicated", "jobId", jobId)
  return jobId
end

local fields = {"name", name, "data", data, "opts", opts, "timestamp", timestamp, "delay", delay, "priority", priority}
if parentKey ~= "" then
  table.insert(fields, "parentKey")
  table.insert(fields, parentKey)
  table.insert(fields, "parent")
  table.insert(fields, parent)
end
if parents ~= "" then
  table.insert(fields, "parents")
  table.insert(fields, parents)
end
if extraFields ~= "" then
  for field, value in pairs(cjson.decode(extraFields)) do
    table.insert(fields, field)
    table.insert(fields, value)
  end
end
redis.call("HSET", jobKey, unpack(fields))
redis.call("XADD", eventsKey, "MAXLEN", "~", cap, "*", "event", "added", "jobId", jobId, "name", name)

if waitsForChildren then
  redis.call("ZADD", waitingChildrenKey, timestamp, jobId)
  redis.call("XADD", eventsKey, "MAXLEN", "~", cap, "*", "event", "waiting-children", "jobId", jobId)
elseif delay > 0 then
  local readyAt = tonumber(timestamp) + delay
  scheduleDelayed(delayedKey, markerKey, jobId, readyAt)
  redis.call("XADD", eventsKey, "MAXLEN", "~", cap, "*", "event", "delayed", "jobId", jobId, "delay", readyAt)
else
  enqueueReady(waitKey, prioritizedKey, counterKey, markerKey, jobId, priority, pushCommand,
    isPausedOrMaxed(metaKey, activeKey))
  redis.call("XADD", eventsKey, "MAXLEN", "~", cap, "*", "event", "waiting", "jobId", jobId)
end

if parentKey ~= "" then
  redis.call("SADD", parentKey .. ":dependencies", jobKey)
end
for _, key in ipairs(dependents) do
  redis.call("SADD", key .. ":dependencies", jobKey)
end
return jobId
