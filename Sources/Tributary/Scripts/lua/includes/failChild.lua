--- @include "jobParents"
--- @include "moveParentOn"

-- A child job failed for good: each of its dependents reacts by the policy stored with the link.
--   fpof  the child is recorded in the dependent's :unsuccessful set and the dependent gets `defa` (a deferred
--         failure a worker applies at once); a dependent in waiting-children or delayed moves to wait so that
--         happens now. An active dependent (step pattern) only gets `defa`, unless it already failed.
--   cpof  the failure is recorded in :failed and the dependent moves on at once, other children pending or not.
--   idof  the failure is recorded in :failed; the dependent moves on once nothing is pending.
--   rdof  nothing is recorded; the dependent moves on once nothing is pending.
--   none  the child stays pending: the dependent waits until it is retried or removed (BullMQ's default).
local function failChild(jobKey, reason, now)
  -- Last dependent first: moveParentOn RPUSHes each to the taking end of its wait list, so the dependents of a
  -- shared node start in the order they are listed (the flow file's order), not reversed.
  local parents = jobParents(jobKey)
  for position = #parents, 1, -1 do
    local parent = parents[position]
    local policy = parent.policy
    if policy and redis.call("EXISTS", parent.key) == 1
        and redis.call("SREM", parent.key .. ":dependencies", jobKey) == 1 then
      if policy == "fpof" then
        redis.call("ZADD", parent.key .. ":unsuccessful", now, jobKey)
        local failure = "child " .. jobKey .. " failed"
        if redis.call("ZREM", parent.queueKey .. ":waiting-children", parent.id) == 1 then
          redis.call("HSET", parent.key, "defa", failure)
          moveParentOn(parent.queueKey, parent.key, parent.id, now)
        elseif redis.call("ZREM", parent.queueKey .. ":delayed", parent.id) == 1 then
          redis.call("HSET", parent.key, "defa", failure, "delay", 0)
          moveParentOn(parent.queueKey, parent.key, parent.id, now)
        elseif not redis.call("ZSCORE", parent.queueKey .. ":failed", parent.id) then
          redis.call("HSET", parent.key, "defa", failure)
        end
      elseif policy == "cpof" then
        redis.call("HSET", parent.key .. ":failed", jobKey, reason)
        releaseWaitingParent(parent.queueKey, parent.key, parent.id, now)
      else
        if policy == "idof" then redis.call("HSET", parent.key .. ":failed", jobKey, reason) end
        releaseParentIfDone(parent.queueKey, parent.key, parent.id, now)
      end
    end
  end
end
