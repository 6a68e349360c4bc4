-- The events stream's approximate length cap from the queue's meta hash; BullMQ's default 10000 is stored
-- there on first use so that every client trims the stream the same way.
-- That first use also names the library in `version`, as Node BullMQ's Queue does when it is created (unless a
-- BullMQ client already wrote its own): tools that find queues by scanning <prefix>:*:meta read it to tell a
-- BullMQ queue from a Bull one (bull-board's CLI, Taskforce's connector). Tributary writes BullMQ's name with
-- the major version whose layout it shares, and its own name as a pre-release tag (Tributary.bullmqVersionField).
-- eventsCap takes the field as already read (false when absent), for callers that read meta in one HMGET.
local function eventsCap(metaKey, stored)
  if stored then return stored end
  redis.call("HSET", metaKey, "opts.maxLenEvents", "10000")
  -- HEXISTS then HSET rather than HSETNX, which the worker's ACL role (RedisAccessRole) does not grant.
  if redis.call("HEXISTS", metaKey, "version") == 0 then
    redis.call("HSET", metaKey, "version", "bullmq:5.0.0-tributary")
  end
  return "10000"
end

local function maxEvents(metaKey)
  return eventsCap(metaKey, redis.call("HGET", metaKey, "opts.maxLenEvents"))
end
