--[[
  doctorRepair: repairs one inconsistency found by the doctor, after checking in the same atomic step that it
  still holds (a worker may have moved the job since the examination).

  KEYS:
    1 wait
    2 paused
    3 active
    4 prioritized
    5 delayed
    6 completed
    7 failed
    8 waiting-children
    9 stalled
    10 meta
    11 events

  ARGV:
    1 job key prefix
    2 now (ms)
    3 finding kind (job-in-no-state, missing-job-hash, missing-dependency, stuck-parent, orphan-child,
      stray-lock, unlocked-active)
    4 job id
    5 the key concerned (the missing child for missing-dependency, the missing parent for orphan-child)

  Returns: 1 when repaired, 0 when the finding no longer holds, -1 for an unknown kind.

  Events: failed (prev=unknown) for a job in no state moved to failed; waiting or delayed for a parent moved on.
]]
--- @include "moveParentOn"
--- @include "maxEvents"

local prefix, now, kind, jobId, other = ARGV[1], tonumber(ARGV[2]), ARGV[3], ARGV[4], ARGV[5]
local jobKey = prefix .. jobId
local queueKey = string.sub(prefix, 1, -2)

local function heldAnywhere()
  for k = 1, 3 do
    if redis.call("LPOS", KEYS[k], jobId) then return true end
  end
  for k = 4, 8 do
    if redis.call("ZSCORE", KEYS[k], jobId) then return true end
  end
  local parentKey = redis.call("HGET", jobKey, "parentKey")
  return parentKey ~= false and redis.call("LPOS", parentKey .. ":held", jobId) ~= false
end

if kind == "job-in-no-state" then
  if redis.call("EXISTS", jobKey) == 0 or heldAnywhere() then return 0 end
  local reason = "tributary doctor found this job in no state list; moved to failed"
  redis.call("HSET", jobKey, "finishedOn", now, "failedReason", reason)
  redis.call("ZADD", KEYS[7], now, jobId)
  redis.call("XADD", KEYS[11], "MAXLEN", "~", maxEvents(KEYS[10]), "*", "event", "failed", "jobId", jobId,
    "failedReason", reason, "prev", "unknown")
  return 1
elseif kind == "missing-job-hash" then
  if redis.call("EXISTS", jobKey) == 1 then return 0 end
  local removed = 0
  for k = 1, 3 do removed = removed + redis.call("LREM", KEYS[k], 0, jobId) end
  for k = 4, 8 do removed = removed + redis.call("ZREM", KEYS[k], jobId) end
  redis.call("SREM", KEYS[9], jobId)
  if removed > 0 then return 1 end
  return 0
elseif kind == "missing-dependency" then
  if redis.call("EXISTS", other) == 1 then return 0 end
  if redis.call("SREM", jobKey .. ":dependencies", other) == 0 then return 0 end
  releaseParentIfDone(queueKey, jobKey, jobId, now)
  return 1
elseif kind == "stuck-parent" then
  if redis.call("EXISTS", jobKey) == 0 then return 0 end
  if releaseParentIfDone(queueKey, jobKey, jobId, now) then return 1 end
  return 0
elseif kind == "orphan-child" then
  if redis.call("EXISTS", other) == 1 or redis.call("EXISTS", jobKey) == 0 then return 0 end
  local stored = redis.call("HMGET", jobKey, "parentKey", "parents")
  if stored[1] == other then
    redis.call("HDEL", jobKey, "parentKey", "parent")
    return 1
  end
  if stored[2] then
    local kept, changed = {}, false
    for _, entry in ipairs(cjson.decode(stored[2])) do
      if entry["queueKey"] .. ":" .. entry["id"] == other then
        changed = true
      else
        table.insert(kept, entry)
      end
    end
    if not changed then return 0 end
    if #kept == 0 then
      redis.call("HDEL", jobKey, "parents")
    else
      redis.call("HSET", jobKey, "parents", cjson.encode(kept))
    end
    return 1
  end
  return 0
elseif kind == "stray-lock" then
  if redis.call("LPOS", KEYS[3], jobId) then return 0 end
  return redis.call("DEL", jobKey .. ":lock")
elseif kind == "unlocked-active" then
  if redis.call("EXISTS", jobKey .. ":lock") == 1 or not redis.call("LPOS", KEYS[3], jobId) then return 0 end
  redis.call("SADD", KEYS[9], jobId)
  return 1
end
return -1
