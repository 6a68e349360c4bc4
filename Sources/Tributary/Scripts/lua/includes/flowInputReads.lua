-- For a flow-run node that needs other nodes (a `flowInputs` field), the reads its worker makes before running it,
-- made here so they come back with the job instead of in a round trip of their own (Job.loadInputs):
-- {processed, failed, recorded}: the job's `:processed` and `:failed` hashes as HGETALL returns them, and from the
-- run record, for each needed node, {node, its recorded outcome or nil, its map-item failures or nil, ...}.
-- nil for any other job. `fields` is the job hash as HGETALL returned it.
local function flowInputReads(jobKey, fields)
  local inputsText, runKey
  for i = 1, #fields, 2 do
    local name = fields[i]
    if name == "flowInputs" then
      inputsText = fields[i + 1]
    elseif name == "flowRunKey" then
      runKey = fields[i + 1]
    end
  end
  if not inputsText then return nil end
  local ok, links = pcall(cjson.decode, inputsText)
  if not ok or type(links) ~= "table" or next(links) == nil then return nil end
  local recorded = {}
  if runKey then
    -- HMGET in slices: unpack takes a few thousand arguments at most, and a fan-in can need more nodes.
    local nodes = {}
    for node in pairs(links) do nodes[#nodes + 1] = node end
    for first = 1, #nodes, 500 do
      local last = math.min(first + 499, #nodes)
      local fieldsAsked = {}
      for i = first, last do
        fieldsAsked[#fieldsAsked + 1] = "node:" .. nodes[i]
        fieldsAsked[#fieldsAsked + 1] = "mapFailures:" .. nodes[i]
      end
      local values = redis.call("HMGET", runKey, unpack(fieldsAsked))
      for i = first, last do
        local at = 2 * (i - first)
        recorded[#recorded + 1] = nodes[i]
        recorded[#recorded + 1] = values[at + 1]
        recorded[#recorded + 1] = values[at + 2]
      end
    end
  end
  return {redis.call("HGETALL", jobKey .. ":processed"), redis.call("HGETALL", jobKey .. ":failed"), recorded}
end
