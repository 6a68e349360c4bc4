-- The dependents a job reports to when it finishes. A node with one dependent carries BullMQ's fields
-- (`parentKey`, and `parent` = {"id", "queueKey", optional policy flag}); a node that several dependents need
-- carries Tributary's `parents` field instead: a JSON array of entries shaped like `parent`.
-- Each entry returned: {key = "<prefix>:<queue>:<id>", queueKey = "<prefix>:<queue>", id = "<id>",
-- policy = "fpof" | "cpof" | "idof" | "rdof" | nil}.
-- Never raises: a field another producer wrote wrong is skipped (a `parent` that is not a JSON object leaves the
-- `parentKey` link without a policy), and the second result names it, for a failure reason.
-- `stored` is {parentKey, parent, parents} when the caller already read them, or nil to read them here.
local function jobParents(jobKey, stored)
  stored = stored or redis.call("HMGET", jobKey, "parentKey", "parent", "parents")
  local entries = {}
  local function policyOf(data)
    for _, flag in ipairs({"fpof", "cpof", "idof", "rdof"}) do
      if data[flag] == true then return flag end
    end
    return nil
  end
  local function decodedTable(text)
    local ok, value = pcall(cjson.decode, text)
    if ok and type(value) == "table" then return value end
    return nil
  end
  if stored[3] then
    local list = decodedTable(stored[3])
    if not list then
      return entries, "field 'parents' is not a JSON array of parent links: " .. string.sub(stored[3], 1, 100)
    end
    for _, data in ipairs(list) do
      if type(data) ~= "table" or type(data["queueKey"]) ~= "string" or type(data["id"]) ~= "string" then
        return {}, "field 'parents' has an entry without string 'queueKey' and 'id': " .. string.sub(stored[3], 1, 100)
      end
      table.insert(entries, {key = data["queueKey"] .. ":" .. data["id"], queueKey = data["queueKey"],
        id = data["id"], policy = policyOf(data)})
    end
  elseif stored[1] and stored[1] ~= "" then
    local queueKey, id = string.match(stored[1], "^(.*):([^:]+)$")
    local policy, problem = nil, nil
    if stored[2] then
      local data = decodedTable(stored[2])
      if data then
        policy = policyOf(data)
      else
        problem = "field 'parent' is not a JSON object: " .. string.sub(stored[2], 1, 100)
      end
    end
    if queueKey then
      table.insert(entries, {key = stored[1], queueKey = queueKey, id = id, policy = policy})
    else
      problem = "field 'parentKey' is not a job key: " .. string.sub(stored[1], 1, 100)
    end
    return entries, problem
  end
  return entries, nil
end
