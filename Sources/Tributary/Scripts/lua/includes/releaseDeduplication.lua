-- When a job finishes for good: a deduplication id without ttl that this job owns is freed (BullMQ also deletes a
-- key whose PTTL reads 0, one instant from expiring). Returns the job's deduplication id, or nil.
-- `id` is the job's `deid` when the caller already read it (false when absent), or nil.
local function releaseDeduplication(prefix, jobKey, jobId, id)
  if id == nil then id = redis.call("HGET", jobKey, "deid") end
  if not id then return nil end
  local key = prefix .. "de:" .. id
  local ttl = redis.call("PTTL", key)
  if ttl == 0 or (ttl == -1 and redis.call("GET", key) == jobId) then
    redis.call("DEL", key)
  end
  return id
end
