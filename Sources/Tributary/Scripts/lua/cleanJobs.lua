--[[
  cleanJobs: deletes the jobs of one state that are older than a cutoff, oldest first, up to a limit. Age is
  finishedOn (the set's score) for completed and failed jobs; for list states the first of finishedOn,
  processedOn and timestamp the hash has; processedOn or timestamp for delayed jobs; timestamp for prioritized
  ones. Active jobs whose lock is held are never deleted. An id whose hash is gone is dropped as well.

  KEYS:
    1 wait
    2 paused
    3 active
    4 prioritized
    5 delayed
    6 completed
    7 failed
    8 meta
    9 events

  ARGV:
    1 job key prefix
    2 cutoff (ms): jobs at or before it are deleted
    3 limit: the most jobs to delete (0 = no limit)
    4 state: "wait" (the wait and legacy paused lists), "active", "prioritized", "delayed", "completed" or "failed"

  Returns:
    the ids deleted

  Events: cleaned (count), even when nothing was deleted.
]]
--- @include "deleteJob"
--- @include "maxEvents"

local waitKey, pausedKey, activeKey, prioritizedKey, delayedKey, completedKey, failedKey, metaKey, eventsKey =
  KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8], KEYS[9]
local prefix, cutoff, limit, state = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4]

local deleted = {}
local function full()
  return limit > 0 and #deleted >= limit
end

-- The first of `fields` the job hash has, as a number; nil when it has none (or is gone).
local function age(jobKey, fields)
  for _, value in ipairs(redis.call("HMGET", jobKey, unpack(fields))) do
    if value then return tonumber(value) end
  end
  return nil
end

local function isOld(jobKey, fields)
  local at = age(jobKey, fields)
  return at == nil or at <= cutoff
end

-- Lists hold their oldest job at the tail. Entries to delete are overwritten with a placeholder, then removed
-- in one LREM, so indexes stay valid while walking.
local function cleanList(listKey, checkLock)
  local ids = redis.call("LRANGE", listKey, 0, -1)
  local placeholder = "\0tributary:deleted"
  local marked = false
  for index = #ids, 1, -1 do
    if full() then break end
    local jobId = ids[index]
    local jobKey = prefix .. jobId
    if not (checkLock and redis.call("EXISTS", jobKey .. ":lock") == 1)
      and isOld(jobKey, {"finishedOn", "processedOn", "timestamp"}) then
      redis.call("LSET", listKey, index - 1, placeholder)
      marked = true
      deleteJob(prefix, jobId, true)
      table.insert(deleted, jobId)
    end
  end
  if marked then
    redis.call("LREM", listKey, 0, placeholder)
  end
end

-- Sorted sets are walked by score, lowest (oldest) first.
local function cleanSet(setKey, fields)
  local ids
  if fields == nil then
    -- Scored by finishedOn: the score alone decides.
    if limit > 0 then
      ids = redis.call("ZRANGEBYSCORE", setKey, "-inf", cutoff, "LIMIT", 0, limit)
    else
      ids = redis.call("ZRANGEBYSCORE", setKey, "-inf", cutoff)
    end
  else
    ids = redis.call("ZRANGE", setKey, 0, -1)
  end
  for _, jobId in ipairs(ids) do
    if full() then break end
    if fields == nil or isOld(prefix .. jobId, fields) then
      deleteJob(prefix, jobId, true)
      redis.call("ZREM", setKey, jobId)
      table.insert(deleted, jobId)
    end
  end
end

if state == "wait" then
  cleanList(waitKey, false)
  cleanList(pausedKey, false)
elseif state == "active" then
  cleanList(activeKey, true)
elseif state == "prioritized" then
  cleanSet(prioritizedKey, {"timestamp"})
elseif state == "delayed" then
  cleanSet(delayedKey, {"processedOn", "timestamp"})
elseif state == "completed" then
  cleanSet(completedKey, nil)
elseif state == "failed" then
  cleanSet(failedKey, nil)
else
  return redis.error_reply("cleanJobs: unknown state " .. state)
end

redis.call("XADD", eventsKey, "MAXLEN", "~", maxEvents(metaKey), "*", "event", "cleaned", "count", #deleted)
return deleted
