--- @include "enqueueReady"

-- Moves delayed jobs that are due (at most 1000 at a time) to the wait list or the prioritized set.
local function promoteDueJobs(delayedKey, waitKey, prioritizedKey, counterKey, markerKey, eventsKey, prefix, now,
                              blocked)
  -- Integers formatted with "%d" and literals as strings: redis.call formats a Lua number with "%.17g".
  local due = redis.call("ZRANGEBYSCORE", delayedKey, "0", string.format("%d", (now + 1) * 0x1000 - 1), "LIMIT", "0",
    "1000")
  for _, jobId in ipairs(due) do
    redis.call("ZREM", delayedKey, jobId)
    local jobKey = prefix .. jobId
    if redis.call("EXISTS", jobKey) == 1 then
      local priority = tonumber(redis.call("HGET", jobKey, "priority")) or 0
      enqueueReady(waitKey, prioritizedKey, counterKey, markerKey, jobId, priority, "LPUSH", blocked)
      redis.call("HSET", jobKey, "delay", 0)
      redis.call("XADD", eventsKey, "*", "event", "waiting", "jobId", jobId, "prev", "delayed")
    end
  end
end
