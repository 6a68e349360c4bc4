--[[
  obliterate: one step of deleting every key of a queue. The first step pauses the queue so that no worker takes
  a job while the keys go; each step deletes the keys one SCAN batch finds (the pattern matches
  "<prefix>:<queue>:*" exactly, so a queue whose name merely starts the same is untouched); the last step deletes
  meta, and with it the pause. A step that finds no key of the queue deletes nothing but the meta it wrote. Jobs whose parent is in another queue are detached from it first (a parent whose
  last pending child goes is released to wait there).

  KEYS:
    1 meta
    2 active

  ARGV:
    1 job key prefix ("<prefix>:<queue>:")
    2 SCAN MATCH pattern for the queue's keys (the job key prefix with glob characters escaped, then "*")
    3 SCAN cursor ("0" for the first step)
    4 SCAN COUNT per step
    5 "1" to go ahead while jobs are active, "0" to refuse

  Returns:
    {cursor, deleted}: the cursor for the next step ("0" when this pass is over) and how many keys this step
    deleted, meta not counted. A pass that deleted nothing found no key of the queue, so the queue is gone; a pass
    that deleted something may have missed keys written meanwhile (a worker finishing a job whose hash a later
    step deleted), so the caller runs passes until one deletes nothing.
    -2 jobs are active and force was not given (checked at the first step; nothing was deleted)

  Events: none (the events stream is deleted); waiting (prev=waiting-children) on another queue's stream for a
  parent released there.
]]
--- @include "detachFromParent"

local metaKey, activeKey = KEYS[1], KEYS[2]
local prefix, pattern, cursor, count, force = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5] == "1"

if cursor == "0" then
  if not force and redis.call("LLEN", activeKey) > 0 then
    return -2
  end
  redis.call("HSET", metaKey, "paused", 1)
end

local reply = redis.call("SCAN", cursor, "MATCH", pattern, "COUNT", count)
local doomed = {}
for _, key in ipairs(reply[2]) do
  if key ~= metaKey then
    local rest = string.sub(key, #prefix + 1)
    -- A job hash's key is the prefix and an id without ':'; detach it from a parent that outlives this queue.
    if not string.find(rest, ":", 1, true) and redis.call("TYPE", key)["ok"] == "hash" then
      -- Dependents in this queue go too (hard); those in other queues are released.
      local links = redis.call("HMGET", key, "parentKey", "parents")
      if links[1] or links[2] then
        detachFromParent(key, true, prefix)
      end
    end
    table.insert(doomed, key)
  end
end
for first = 1, #doomed, 1000 do
  redis.call("DEL", unpack(doomed, first, math.min(first + 999, #doomed)))
end
if reply[1] == "0" then
  redis.call("DEL", metaKey)
end
return {reply[1], #doomed}
