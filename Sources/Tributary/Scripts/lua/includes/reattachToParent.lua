--- @include "jobParents"

-- A finished child that is retried becomes a pending dependency of its dependents again: its result (completed)
-- or its recorded failure (failed) is taken back from each dependent first. A dependent that has already left
-- waiting-children is not moved back there.
local function reattachToParent(jobKey, fromState)
  for _, parent in ipairs(jobParents(jobKey)) do
    if redis.call("EXISTS", parent.key) == 1 then
      local recorded
      if fromState == "completed" then
        recorded = redis.call("HDEL", parent.key .. ":processed", jobKey) == 1
      else
        recorded = redis.call("ZREM", parent.key .. ":unsuccessful", jobKey) == 1
        recorded = redis.call("HDEL", parent.key .. ":failed", jobKey) == 1 or recorded
      end
      if recorded then
        redis.call("SADD", parent.key .. ":dependencies", jobKey)
      end
    end
  end
end
