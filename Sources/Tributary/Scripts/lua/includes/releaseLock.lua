-- Checks that `token` holds the job's lock and releases it; a token of "0" skips the check (lockless use).
-- Returns 0, -2 when the lock is missing (expired: the job may have been moved as stalled), -6 when another
-- worker holds it.
local function releaseLock(jobKey, stalledKey, jobId, token)
  if token == "0" then return 0 end
  local holder = redis.call("GET", jobKey .. ":lock")
  if not holder then return -2 end
  if holder ~= token then return -6 end
  redis.call("DEL", jobKey .. ":lock")
  redis.call("SREM", stalledKey, jobId)
  return 0
end
