--- @include "markReady"

-- Puts a job where workers take it: the prioritized set (score priority * 2^32 + a per-queue counter, so equal
-- priorities stay FIFO) or the wait list (LPUSH = FIFO, RPUSH = taken next), then wakes a worker.
local function enqueueReady(waitKey, prioritizedKey, counterKey, markerKey, jobId, priority, pushCommand, blocked)
  if priority > 0 then
    local sequence = redis.call("INCR", counterKey) % 0x100000000
    redis.call("ZADD", prioritizedKey, priority * 0x100000000 + sequence, jobId)
  else
    redis.call(pushCommand, waitKey, jobId)
  end
  markReady(markerKey, blocked)
end
