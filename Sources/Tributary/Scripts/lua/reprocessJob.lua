--[[
  reprocessJob: one failed or completed job goes back to be run, to the wait list (its lifo option decides the
  end) or, with a priority, to the prioritized set. It loses finishedOn, processedOn and failedReason (failed) or
  returnvalue (completed); its attempt counters are kept unless a reset is asked for; it becomes a pending child
  of its parent again.

  KEYS:
    1 wait
    2 prioritized
    3 pc
    4 meta
    5 active
    6 events
    7 marker
    8 completed
    9 failed

  ARGV:
    1 job key prefix
    2 job id
    3 from: "failed" or "completed"
    4 "1" to reset attemptsMade (atm), else "0"
    5 "1" to reset attemptsStarted (ats), else "0"

  Returns:
    0 on success; -1 the job does not exist; -3 it is not in the `from` set

  Events: waiting (prev = failed or completed).
]]
--- @include "isPausedOrMaxed"
--- @include "enqueueReady"
--- @include "maxEvents"
--- @include "reattachToParent"

local waitKey, prioritizedKey, counterKey, metaKey, activeKey, eventsKey, markerKey =
  KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7]
local sourceKeys = {completed = KEYS[8], failed = KEYS[9]}
local prefix, jobId, from = ARGV[1], ARGV[2], ARGV[3]
local jobKey = prefix .. jobId

if redis.call("EXISTS", jobKey) == 0 then return -1 end
local sourceKey = sourceKeys[from]
if not sourceKey or redis.call("ZREM", sourceKey, jobId) == 0 then return -3 end

local fields = {"finishedOn", "processedOn", from == "failed" and "failedReason" or "returnvalue"}
if ARGV[4] == "1" then table.insert(fields, "atm") end
if ARGV[5] == "1" then table.insert(fields, "ats") end
redis.call("HDEL", jobKey, unpack(fields))
reattachToParent(jobKey, from)

local stored = redis.call("HMGET", jobKey, "priority", "opts")
local ok, opts = pcall(cjson.decode, stored[2] or "{}")
local pushCommand = "LPUSH"
if ok and type(opts) == "table" and opts["lifo"] == true then pushCommand = "RPUSH" end
enqueueReady(waitKey, prioritizedKey, counterKey, markerKey, jobId, tonumber(stored[1]) or 0, pushCommand,
  isPausedOrMaxed(metaKey, activeKey))
redis.call("XADD", eventsKey, "MAXLEN", "~", maxEvents(metaKey), "*", "event", "waiting", "jobId", jobId,
  "prev", from)
return 0
