-- The dependents a job reports to when it finishes. A node with one dependent carries BullMQ's fields
-- (`parentKey`, and `parent` = {"id", "queueKey", optional policy flag}); a node that several dependents need
-- carries Tributary's `parents` field instead: a JSON array of entries shaped like `parent`.
-- Each entry returned: {key = "<prefix>:<queue>:<id>", queueKey = "<prefix>:<queue>", id = "<id>",
-- policy = "fpof" | "cpof" | "idof" | "rdof" | nil}.
local function jobParents(jobKey)
  local stored = redis.call("HMGET", jobKey, "parentKey", "parent", "parents")
  local entries = {}
  local function policyOf(data)
    for _, flag in ipairs({"fpof", "cpof", "idof", "rdof"}) do
      if data[flag] == true then return flag end
    end
    return nil
  end
  if stored[3] then
    for _, data in ipairs(cjson.decode(stored[3])) do
      table.insert(entries, {key = data["queueKey"] .. ":" .. data["id"], queueKey = data["queueKey"],
        id = data["id"], policy = policyOf(data)})
    end
  elseif stored[1] and stored[1] ~= "" then
    local queueKey, id = string.match(stored[1], "^(.*):([^:]+)$")
    local policy = nil
    if stored[2] then
      local data = cjson.decode(stored[2])
      policy = policyOf(data)
    end
    if queueKey then
      table.insert(entries, {key = stored[1], queueKey = queueKey, id = id, policy = policy})
    end
  end
  return entries
end
