--[[
  drain: deletes every job that is waiting to run (the wait list, the legacy paused list and the prioritized set),
  and optionally the delayed ones; active, completed, failed and waiting-children jobs stay. A deleted child that
  was its parent's last pending dependency takes a waiting-children parent of this queue with it, and releases a
  parent of another queue to wait.

  KEYS:
    1 wait
    2 paused
    3 prioritized
    4 delayed
    5 pc

  ARGV:
    1 job key prefix
    2 "1" to delete the delayed jobs too, "0" to keep them

  Returns:
    the number of jobs deleted

  Events: none (waiting on another queue's stream for a parent released there).
]]
--- @include "deleteJob"

local waitKey, pausedKey, prioritizedKey, delayedKey, counterKey = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local prefix, withDelayed = ARGV[1], ARGV[2] == "1"

local sources = {{waitKey, "LRANGE"}, {pausedKey, "LRANGE"}, {prioritizedKey, "ZRANGE"}}
if withDelayed then
  table.insert(sources, {delayedKey, "ZRANGE"})
end
local deleted = 0
for _, source in ipairs(sources) do
  for _, jobId in ipairs(redis.call(source[2], source[1], 0, -1)) do
    deleteJob(prefix, jobId, true)
    deleted = deleted + 1
  end
  redis.call("DEL", source[1])
end
redis.call("DEL", counterKey)
return deleted
