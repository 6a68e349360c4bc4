--- @include "removeJobData"
--- @include "detachFromParent"

-- Applies a retention policy to the completed or failed set: drops jobs older than maxAgeSeconds (when > 0),
-- then all but the newest keepCount (when >= 0). A removed job that a parent still waits for (a child that failed
-- under BullMQ's default policy) is detached first, as when it is removed by hand.
local function trimFinished(setKey, prefix, now, keepCount, maxAgeSeconds)
  if maxAgeSeconds > 0 then
    local old = redis.call("ZRANGEBYSCORE", setKey, "0", string.format("%d", now - maxAgeSeconds * 1000), "LIMIT", "0",
      "1000")
    for _, jobId in ipairs(old) do
      detachFromParent(prefix .. jobId, false, prefix, now)
      removeJobData(prefix .. jobId)
      redis.call("ZREM", setKey, jobId)
    end
  end
  if keepCount >= 0 then
    local extra = redis.call("ZREVRANGE", setKey, string.format("%d", keepCount), "-1")
    for _, jobId in ipairs(extra) do
      detachFromParent(prefix .. jobId, false, prefix, now)
      removeJobData(prefix .. jobId)
    end
    if #extra > 0 then
      redis.call("ZREMRANGEBYRANK", setKey, "0", string.format("%d", -(keepCount + 1)))
    end
  end
end
