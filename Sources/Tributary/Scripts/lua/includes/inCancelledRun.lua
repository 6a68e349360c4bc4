-- Whether a job belongs to a flow run that was cancelled: its hash names the run (field flowRun) and the run's
-- record, "<prefix>:__flows__:run:<runId>", has state "cancelled". jobKeyPrefix is "<prefix>:<queue>:" (a queue
-- name has no ':', so the prefix is everything before the last two ':').
local function inCancelledRun(jobKeyPrefix, jobKey)
  local runId = redis.call("HGET", jobKey, "flowRun")
  if not runId then return false end
  local keyPrefix = string.match(jobKeyPrefix, "^(.*):[^:]*:$")
  if not keyPrefix then return false end
  return redis.call("HGET", keyPrefix .. ":__flows__:run:" .. runId, "state") == "cancelled"
end
