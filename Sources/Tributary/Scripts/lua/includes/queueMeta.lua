-- The queue settings a worker's step reads from meta, in one HMGET: the events stream's approximate length cap
-- (BullMQ's default 10000 is stored on first use, as maxEvents does, so every client trims the same way), the global
-- rate limit (`max`, `duration`), `paused` and the global `concurrency`. Absent fields are false.
local function queueMeta(metaKey)
  local stored = redis.call("HMGET", metaKey, "opts.maxLenEvents", "max", "duration", "paused", "concurrency")
  local cap = stored[1]
  if not cap then
    cap = "10000"
    redis.call("HSET", metaKey, "opts.maxLenEvents", cap)
  end
  return {maxEvents = cap, max = stored[2], duration = stored[3], paused = stored[4], concurrency = stored[5]}
end
