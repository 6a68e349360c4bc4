-- Whether a job belongs to a flow run that was cancelled: the run record its hash names has state "cancelled".
-- The record's key is the job's `flowRunKey`; a job stored before that field existed has only `flowRun` (the run
-- id), and its record is "<prefix>:__flows__:run:<runId>", the prefix being jobKeyPrefix ("<prefix>:<queue>:")
-- without its last part (a queue name has no ':').
local function inCancelledRun(jobKeyPrefix, jobKey)
  local stored = redis.call("HMGET", jobKey, "flowRunKey", "flowRun")
  local runKey = stored[1]
  if not runKey and stored[2] then
    local keyPrefix = string.match(jobKeyPrefix, "^(.*):[^:]*:$")
    if keyPrefix then runKey = keyPrefix .. ":__flows__:run:" .. stored[2] end
  end
  if not runKey then return false end
  return redis.call("HGET", runKey, "state") == "cancelled"
end
