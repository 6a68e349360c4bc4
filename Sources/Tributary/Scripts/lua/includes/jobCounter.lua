-- Adds one to a counter field of a job hash (atm, ats, stc). HINCRBY raises on a value that is not an integer
-- (written by another producer), and Redis does not roll back a script that fails halfway; such a counter restarts
-- at 1 instead. Returns the new count and, when the stored value was bad, a failure reason naming the field.
-- `stored` is the field's value when the caller already read it (false when absent), or nil to read it here.
local function incrementJobCounter(jobKey, field, stored)
  if stored == nil then stored = redis.call("HGET", jobKey, field) end
  if stored and (not string.match(stored, "^%-?%d+$") or #stored > 18) then
    redis.call("HSET", jobKey, field, "1")
    return 1, "job field '" .. field .. "' is not an integer: '" .. string.sub(stored, 1, 100) .. "'"
  end
  return redis.call("HINCRBY", jobKey, field, "1"), nil
end
