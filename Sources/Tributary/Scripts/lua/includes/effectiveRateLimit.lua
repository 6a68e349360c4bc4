-- The rate limit a worker applies when taking a job, by BullMQ's rule: the queue's global limit (meta fields `max`
-- and `duration`, see Queue.setGlobalRateLimit) gives the maximum when it is set, else the worker's own; the
-- worker's own duration wins over the global one. 0 means none. Returns max, duration (ms).
local function effectiveRateLimit(metaKey, workerMax, workerDuration)
  local global = redis.call("HMGET", metaKey, "max", "duration")
  local max = tonumber(global[1]) or workerMax
  local duration = workerDuration
  if duration <= 0 then duration = tonumber(global[2]) or 0 end
  return max, duration
end
