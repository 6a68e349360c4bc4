--- @include "jobParents"
--- @include "moveParentOn"

-- A child job completed: for each of its dependents (one for a BullMQ tree, several for a shared DAG node) it
-- leaves the pending dependencies, its return value is recorded in the dependent's :processed hash, and when it
-- was the last pending child the dependent moves out of waiting-children. A dependent may live in another queue.
local function completeChild(jobKey, returnValue, now)
  for _, parent in ipairs(jobParents(jobKey)) do
    if redis.call("SREM", parent.key .. ":dependencies", jobKey) == 1 then
      redis.call("HSET", parent.key .. ":processed", jobKey, returnValue)
      releaseParentIfDone(parent.queueKey, parent.key, parent.id, now)
    end
  end
end
