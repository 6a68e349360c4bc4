-- Jobs finished per minute, in BullMQ's metrics layout (written only by workers that enable metrics):
--   the hash <prefix>:<queue>:metrics:completed (or :failed) holds `count`, every job counted so far, and
--   `prevTS` / `prevCount`, the time and the count when a minute was last closed;
--   the list <that hash>:data holds one point per closed minute, the newest first, at most maxDataPoints: how
--   many jobs finished in that minute (0 for minutes in which none did).
-- A minute is closed by the first job that finishes in a later minute, so the newest point can lag.
-- It assigns the local `countFinished` that moveToFinished declares, so that a call without metrics does not even
-- create the function.
countFinished = function(metricsKey, maxDataPoints, nowText)
  local counted = redis.call("HINCRBY", metricsKey, "count", 1) - 1
  local previous = redis.call("HMGET", metricsKey, "prevTS", "prevCount")
  if not previous[1] then
    redis.call("HSET", metricsKey, "prevTS", nowText, "prevCount", 0)
    return
  end
  local elapsedMinutes = math.floor(tonumber(nowText) / 60000) - math.floor(tonumber(previous[1]) / 60000)
  local closing = math.min(elapsedMinutes, maxDataPoints)
  if closing < 1 then return end
  -- The minute that ended holds everything counted since the last close; each minute after it held nothing.
  local points = {counted - (tonumber(previous[2]) or 0)}
  for index = 2, closing do points[index] = 0 end
  local dataKey = metricsKey .. ":data"
  for first = 1, #points, 5000 do
    redis.call("LPUSH", dataKey, unpack(points, first, math.min(first + 4999, #points)))
  end
  redis.call("LTRIM", dataKey, 0, maxDataPoints - 1)
  redis.call("HSET", metricsKey, "prevCount", counted, "prevTS", nowText)
end
