-- The events stream's approximate length cap from the queue's meta hash; BullMQ's default 10000 is stored
-- there on first use so that every client trims the stream the same way.
-- eventsCap takes the field as already read (false when absent), for callers that read meta in one HMGET.
local function eventsCap(metaKey, stored)
  if stored then return stored end
  redis.call("HSET", metaKey, "opts.maxLenEvents", "10000")
  return "10000"
end

local function maxEvents(metaKey)
  return eventsCap(metaKey, redis.call("HGET", metaKey, "opts.maxLenEvents"))
end
