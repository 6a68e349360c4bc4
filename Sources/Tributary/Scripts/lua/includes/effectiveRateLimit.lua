-- The rate limit a worker applies when taking a job, by BullMQ's rule: the queue's global limit (meta fields `max`
-- and `duration`, see Queue.setGlobalRateLimit) gives the maximum when it is set, else the worker's own; the
-- worker's own duration wins over the global one. 0 means none. Returns max, duration (ms). `meta` is what
-- queueMeta read.
local function effectiveRateLimit(meta, workerMax, workerDuration)
  local max = tonumber(meta.max) or workerMax
  local duration = workerDuration
  if duration <= 0 then duration = tonumber(meta.duration) or 0 end
  return max, duration
end
