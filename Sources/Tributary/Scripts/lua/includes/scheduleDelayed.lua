-- Puts a job in the delayed set for readyAt (ms). Scores are readyAt * 0x1000 plus a sequence number, so jobs
-- due in the same millisecond keep their order. Then points marker member "1" at the earliest due time, which
-- is how a worker blocked on the marker knows when to look again.
local function scheduleDelayed(delayedKey, markerKey, jobId, readyAt)
  local low = readyAt * 0x1000
  local high = low + 0xfff
  local score = low
  local last = redis.call("ZREVRANGEBYSCORE", delayedKey, high, low, "WITHSCORES", "LIMIT", 0, 1)
  if last[2] then
    score = math.min(tonumber(last[2]) + 1, high)
  end
  redis.call("ZADD", delayedKey, score, jobId)
  local first = redis.call("ZRANGE", delayedKey, 0, 0, "WITHSCORES")
  if first[2] then
    redis.call("ZADD", markerKey, math.floor(tonumber(first[2]) / 0x1000), "1")
  end
end
