-- A finished child that is retried becomes a pending dependency of its parent again: its result (completed) or
-- its recorded failure (failed) is taken back from the parent first. A parent that has already left
-- waiting-children is not moved back there.
local function reattachToParent(jobKey, fromState)
  local parentKey = redis.call("HGET", jobKey, "parentKey")
  if not parentKey or parentKey == "" or redis.call("EXISTS", parentKey) == 0 then return end
  local recorded
  if fromState == "completed" then
    recorded = redis.call("HDEL", parentKey .. ":processed", jobKey) == 1
  else
    recorded = redis.call("ZREM", parentKey .. ":unsuccessful", jobKey) == 1
    recorded = redis.call("HDEL", parentKey .. ":failed", jobKey) == 1 or recorded
  end
  if recorded then
    redis.call("SADD", parentKey .. ":dependencies", jobKey)
  end
end
