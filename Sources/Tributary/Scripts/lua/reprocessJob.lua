--[[
  reprocessJob: one failed or completed job goes back to be run, to the wait list (its lifo option decides the
  end) or, with a priority, to the prioritized set. It loses finishedOn, processedOn and failedReason (failed) or
  returnvalue (completed); its attempt counters are kept unless a reset is asked for; it becomes a pending child
  of its parent again. A map node re-runs its items that have no result (includes/reopenMapNode.lua).

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
    10 waiting-children

  ARGV:
    1 job key prefix
    2 job id
    3 from: "failed" or "completed"
    4 "1" to reset attemptsMade (atm), else "0"
    5 "1" to reset attemptsStarted (ats), else "0"

  A job whose inputs are not all complete never runs with part of them: when children are still pending (an
  input that is being retried, or has not finished) it goes to waiting-children and moves on when they finish;
  when a child failed under the `fail` policy and was not retried (:unsuccessful), the retry is refused. A node
  of a flow run has its recorded outcome taken back, and its run is open again (includes/reopenRunNode.lua).

  Returns:
    0 on success; -1 the job does not exist; -3 it is not in the `from` set; -10 a child it needs failed and
    was not retried (nothing was changed)

  Events: waiting (prev = failed or completed), or waiting-children.
]]
--- @include "isPausedOrMaxed"
--- @include "enqueueReady"
--- @include "maxEvents"
--- @include "reattachToParent"
--- @include "reopenRunNode"
--- @include "reopenMapNode"

local waitKey, prioritizedKey, counterKey, metaKey, activeKey, eventsKey, markerKey =
  KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7]
local sourceKeys = {completed = KEYS[8], failed = KEYS[9]}
local prefix, jobId, from = ARGV[1], ARGV[2], ARGV[3]
local jobKey = prefix .. jobId

if redis.call("EXISTS", jobKey) == 0 then return -1 end
local sourceKey = sourceKeys[from]
if not sourceKey or not redis.call("ZSCORE", sourceKey, jobId) then return -3 end
if redis.call("ZCARD", jobKey .. ":unsuccessful") > 0 then return -10 end
redis.call("ZREM", sourceKey, jobId)

local fields = {"finishedOn", "processedOn", from == "failed" and "failedReason" or "returnvalue"}
if ARGV[4] == "1" then table.insert(fields, "atm") end
if ARGV[5] == "1" then table.insert(fields, "ats") end
redis.call("HDEL", jobKey, unpack(fields))
reattachToParent(jobKey, from)
reopenRunNode(jobKey)
reopenMapNode(jobKey)

if redis.call("SCARD", jobKey .. ":dependencies") > 0 then
  redis.call("ZADD", KEYS[10], tonumber(redis.call("HGET", jobKey, "timestamp")) or 0, jobId)
  redis.call("XADD", eventsKey, "MAXLEN", "~", maxEvents(metaKey), "*", "event", "waiting-children", "jobId", jobId,
    "prev", from)
  return 0
end

local stored = redis.call("HMGET", jobKey, "priority", "opts")
local ok, opts = pcall(cjson.decode, stored[2] or "{}")
local pushCommand = "LPUSH"
if ok and type(opts) == "table" and opts["lifo"] == true then pushCommand = "RPUSH" end
enqueueReady(waitKey, prioritizedKey, counterKey, markerKey, jobId, tonumber(stored[1]) or 0, pushCommand,
  isPausedOrMaxed(metaKey, activeKey))
redis.call("XADD", eventsKey, "MAXLEN", "~", maxEvents(metaKey), "*", "event", "waiting", "jobId", jobId,
  "prev", from)
return 0
