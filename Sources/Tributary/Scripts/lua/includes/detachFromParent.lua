--- @include "removeJobData"
--- @include "jobParents"
--- @include "moveParentOn"

-- Takes a job that is going away out of its dependents' pending dependencies (each of them, for a shared DAG
-- node). A dependent whose last pending child this was and that sits in waiting-children is released: it moves
-- on as after a completed child (event waiting, prev=waiting-children), or, with `hard` set and the dependent in
-- the queue whose jobs are being wiped (`wipedPrefix`, "<prefix>:<queue>:"), it is deleted along with the child.
local function detachFromParent(jobKey, hard, wipedPrefix, now)
  if not now then
    local time = redis.call("TIME")
    now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
  end
  for _, parent in ipairs(jobParents(jobKey)) do
    if redis.call("SREM", parent.key .. ":dependencies", jobKey) == 1
        and redis.call("SCARD", parent.key .. ":dependencies") == 0 then
      if hard and parent.queueKey .. ":" == wipedPrefix then
        if redis.call("ZREM", parent.queueKey .. ":waiting-children", parent.id) == 1 then
          detachFromParent(parent.key, hard, wipedPrefix, now)
          removeJobData(parent.key)
        end
      else
        releaseWaitingParent(parent.queueKey, parent.key, parent.id, now)
      end
    end
  end
end
