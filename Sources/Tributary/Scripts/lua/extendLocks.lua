--[[
  extendLocks: renews the locks of a worker's active jobs in one call, and clears them from the stalled set.

  KEYS:
    1 stalled

  ARGV:
    1 job key prefix
    2 lock duration (ms)
    3.. pairs of job id and lock token

  Returns:
    the ids whose lock was not held by the given token any more (lost: the job may be re-run elsewhere)

  Events: none.
]]
local stalledKey = KEYS[1]
local prefix, duration = ARGV[1], ARGV[2]
local lost = {}
for index = 3, #ARGV, 2 do
  local jobId, token = ARGV[index], ARGV[index + 1]
  local lockKey = prefix .. jobId .. ":lock"
  if redis.call("GET", lockKey) == token then
    redis.call("SET", lockKey, token, "PX", duration)
    redis.call("SREM", stalledKey, jobId)
  else
    table.insert(lost, jobId)
  end
end
return lost
