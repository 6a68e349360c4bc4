-- The events stream's approximate length cap from the queue's meta hash; BullMQ's default 10000 is stored
-- there on first use so that every client trims the stream the same way.
local function maxEvents(metaKey)
  local cap = redis.call("HGET", metaKey, "opts.maxLenEvents")
  if not cap then
    cap = 10000
    redis.call("HSET", metaKey, "opts.maxLenEvents", cap)
  end
  return cap
end
