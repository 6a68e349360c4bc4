--- @include "maxEvents"

-- The queue settings a worker's step reads from meta, in one HMGET: the events stream's approximate length cap
-- (see eventsCap), the global rate limit (`max`, `duration`), `paused` and the global `concurrency`. Absent
-- fields are false.
local function queueMeta(metaKey)
  local stored = redis.call("HMGET", metaKey, "opts.maxLenEvents", "max", "duration", "paused", "concurrency")
  return {maxEvents = eventsCap(metaKey, stored[1]), max = stored[2], duration = stored[3], paused = stored[4],
          concurrency = stored[5]}
end
