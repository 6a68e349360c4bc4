--[[
  addJobs: the one add path. Stores new jobs of one queue, one or many per call (Queue.add sends one; Queue.addBulk,
  FlowProducer and flow runs send up to 1000), and puts each where it belongs: the wait list, the prioritized set,
  the delayed set, or (for a flow parent added before its children) the waiting-children set. One call for many
  jobs saves Redis the per-call script overhead, which was most of the cost of an add: the queue's settings
  (events cap, paused or maxed) are read once, the marker is set once, and wait-list pushes and parents'
  dependency additions are sent in groups.

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
    11 completed

  ARGV:
    1 job key prefix ("bull:queue:")
    2 number of jobs n
    then, per job, 15 values:
      custom job id, or "" for the next value of the id counter
      name
      timestamp (ms)
      data (JSON text)
      opts (JSON text, stored as given)
      delay (ms)
      priority (0 = none)
      push command for the wait list: LPUSH (FIFO) or RPUSH (LIFO)
      parent job key, or ""
      parent JSON {"id", "queueKey"}, or ""
      "1" when the job waits for children added after it in the same transaction, else "0"
      extra fields (Tributary's flowRun, flowNode, flowInputs, command) as a JSON object of strings, or ""
      the dependents of a node that several need: JSON array of {"id", "queueKey", policy flag}, or ""
        (such a node gets a `parents` field instead of parentKey/parent)
      guard key, or "": when given and missing, nothing is done (see checkFlow.lua); when given, the dependents
        are not required to exist yet (they are added later in the same transaction)
      deduplication option as JSON {"id", "ttl"?, "extend"?, "replace"?, "keepLastIfActive"?, "follow"?}, or ""
        (see includes/deduplicate.lua). "follow" (Tributary's, for the nodes of a flow run): when another job
        holds the id, the job is stored all the same, without the id, with the field `flowDedupHolder` = the
        holder's id; the worker that takes it then waits for the holder and takes its outcome

  Returns:
    an array of n results, one per job in order:
      the job id (string); for an existing custom id, the existing job's id. An existing job given a parent is
        linked to it as BullMQ links it: when it has no parent or already has this one, it becomes a child of
        the parent (pending in its :dependencies, or, when it already completed, recorded in its :processed and
        the parent moved on if nothing else is pending) and its parentKey and parent fields are set
      -5 the parent job (or one of the dependents) does not exist
      -7 the job exists and belongs to another parent, which still exists (BullMQ's ParentJobCannotBeReplaced);
        nothing is changed
      -8 the guard key is missing: the transaction's check failed, so nothing was stored
      {ownerId, ownerFields}: the add was deduplicated: nothing was stored; ownerId is the job that owns the
        deduplication id (as BullMQ returns it) and ownerFields its hash (HGETALL, empty if it no longer exists)
      {ownerId, ownerFields, keptId}: the same, but under keepLastIfActive with the owner running: the job was kept
        in dn:<id> and will be added as keptId when the owner finishes (a later skipped add replaces it)

  Events: added (name), then waiting, delayed (delay = ready-at ms) or waiting-children; duplicated for an
  existing custom id (not for -7); deduplicated (and removed, for a replaced delayed job) as deduplicate.lua says.
  A job with a deduplication id gets the hash field `deid`, as in BullMQ.
]]
--- @include "maxEvents"
--- @include "isPausedOrMaxed"
--- @include "scheduleDelayed"
--- @include "moveParentOn"
--- @include "deduplicate"

local waitKey, metaKey, idKey, delayedKey, prioritizedKey, counterKey, activeKey, eventsKey, markerKey =
  KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8], KEYS[9]
local waitingChildrenKey, completedKey = KEYS[10], KEYS[11]
local prefix, count = ARGV[1], tonumber(ARGV[2])

-- Nothing below changes the queue's settings or its active list, so these hold for every job of the call. Read
-- when the first job is stored, so that a call that stores nothing does not write the events cap.
local cap, blocked

local perJob = 15
local existing = {}       -- parents and guards known to exist (a deduplication `replace` deletes only a delayed job,
                          -- which is no parent waiting for children)

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

-- Parents given an already completed existing child, checked once this call's dependency additions are written.
local parentsToRelease = {}

-- An existing job (a custom id) added again with a parent, as BullMQ's addStandardJob handles it: without a parent
-- or with this same parent it becomes (again) this parent's child; with another parent that still exists it is
-- refused (returns false); with another parent that is gone it is left as it is.
local function linkExisting(jobKey, jobId, parentKey, parent, timestamp, parentExisted)
  local current = redis.call("HGET", jobKey, "parentKey")
  if current and current ~= parentKey then
    return redis.call("EXISTS", current) == 0
  end
  if redis.call("ZSCORE", completedKey, jobId) then
    redis.call("HSET", parentKey .. ":processed", jobKey, redis.call("HGET", jobKey, "returnvalue") or "null")
    local link = cjson.decode(parent)
    -- A flow's parent (guarded add) gets its other children later in the same transaction: only a parent that
    -- existed before (job.addChild) can be moved on here.
    if parentExisted then
      parentsToRelease[#parentsToRelease + 1] = {link["queueKey"], parentKey, link["id"], tonumber(timestamp)}
    end
  else
    addDependency(parentKey, jobKey)
  end
  redis.call("HSET", jobKey, "parentKey", parentKey, "parent", parent)
  return true
end

local results = {}
for index = 1, count do
  local base = 2 + (index - 1) * perJob
  local customId, name, timestamp, data, opts = ARGV[base + 1], ARGV[base + 2], ARGV[base + 3], ARGV[base + 4],
    ARGV[base + 5]
  local delay, priority, pushCommand = tonumber(ARGV[base + 6]), tonumber(ARGV[base + 7]), ARGV[base + 8]
  local parentKey, parent, waitsForChildren = ARGV[base + 9], ARGV[base + 10], ARGV[base + 11] == "1"
  local extraFields, parents, guardKey = ARGV[base + 12], ARGV[base + 13], ARGV[base + 14]
  local deduplication = ARGV[base + 15]
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
    local existingId = customId ~= "" and redis.call("EXISTS", jobKey) == 1
    local dedupId, owner, kept, followed = nil, nil, nil, nil
    if not existingId and deduplication ~= "" then
      local options = cjson.decode(deduplication)
      dedupId = options["id"]
      owner, kept = deduplicate(prefix, delayedKey, eventsKey, cap, options, jobId,
        {name = name, data = data, opts = opts, parentKey = parentKey, parent = parent})
      if owner and options["follow"] then
        followed, owner, dedupId = owner, nil, nil
      end
    end
    if existingId then
      local linked = parentKey == "" or linkExisting(jobKey, jobId, parentKey, parent, timestamp, checkParents)
      if linked then
        redis.call("XADD", eventsKey, "MAXLEN", "~", cap, "*", "event", "duplicated", "jobId", jobId)
      else
        jobId = -7
      end
    elseif owner then
      local reply = {owner, redis.call("HGETALL", prefix .. owner)}
      if kept then reply[3] = jobId end
      jobId = reply
    else
      -- delay and priority as sent (integers in decimal), which is how Lua would print them, without the cost
      -- of formatting Lua numbers.
      if parents == "" and extraFields == "" and not dedupId and not followed then
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
        if dedupId then
          fields[#fields + 1] = "deid"
          fields[#fields + 1] = dedupId
        end
        if followed then
          fields[#fields + 1] = "flowDedupHolder"
          fields[#fields + 1] = followed
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
for _, release in ipairs(parentsToRelease) do
  releaseParentIfDone(release[1], release[2], release[3], release[4])
end
if readyCount > 0 and not blocked then
  redis.call("ZADD", markerKey, 0, "0")
end
return results
