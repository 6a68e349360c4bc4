-- The job's stack traces with one more entry, as JSON text; a malformed stored value counts as empty.
-- Computed before a script writes anything, because Redis does not roll back a script that fails halfway.
local function appendedStacktrace(jobKey, entry)
  local stored = redis.call("HGET", jobKey, "stacktrace")
  local ok, traces = pcall(cjson.decode, stored or "[]")
  if not ok or type(traces) ~= "table" then traces = {} end
  table.insert(traces, entry)
  return cjson.encode(traces)
end
