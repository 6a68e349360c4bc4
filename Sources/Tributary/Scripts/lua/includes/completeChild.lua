--- @include "jobParents"
--- @include "moveParentOn"

-- A child job completed: for each of its dependents (one for a BullMQ tree, several for a shared DAG node) it
-- leaves the pending dependencies, its return value is recorded in the dependent's :processed hash, and when it
-- was the last pending child the dependent moves out of waiting-children. A dependent may live in another queue.
-- `parents` is what jobParents returned when the caller already called it, or nil.
local function completeChild(jobKey, returnValue, now, parents)
  -- Last dependent first: moveParentOn RPUSHes each to the taking end of its wait list, so the dependents of a
  -- shared node start in the order they are listed (the flow file's order), not reversed.
  parents = parents or jobParents(jobKey)
  for position = #parents, 1, -1 do
    local parent = parents[position]
    if redis.call("SREM", parent.key .. ":dependencies", jobKey) == 1 then
      redis.call("HSET", parent.key .. ":processed", jobKey, returnValue)
      releaseParentIfDone(parent.queueKey, parent.key, parent.id, now)
    end
  end
end
