--[[
  addLog: appends a line to a job's log list (<job key>:logs), optionally keeping only the newest lines.

  KEYS:
    none (the job key is built from ARGV)

  ARGV:
    1 job key prefix
    2 job id
    3 the log line
    4 how many lines to keep (0 = all)

  Returns:
    the number of lines now kept; -1 the job does not exist

  Events: none.
]]
local prefix, jobId, line, keep = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])
local jobKey = prefix .. jobId

if redis.call("EXISTS", jobKey) == 0 then return -1 end
local count = redis.call("RPUSH", jobKey .. ":logs", line)
if keep > 0 and count > keep then
  redis.call("LTRIM", jobKey .. ":logs", -keep, -1)
  count = keep
end
return count
