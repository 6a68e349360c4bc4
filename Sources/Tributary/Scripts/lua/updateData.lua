--[[
  updateData: replaces a job's data, if the job still exists.

  KEYS:
    none (the job key is built from ARGV)

  ARGV:
    1 job key prefix
    2 job id
    3 data (JSON text)

  Returns:
    0 on success; -1 the job does not exist

  Events: none.
]]
local prefix, jobId, data = ARGV[1], ARGV[2], ARGV[3]
local jobKey = prefix .. jobId

if redis.call("EXISTS", jobKey) == 0 then return -1 end
redis.call("HSET", jobKey, "data", data)
return 0
