--[[
  doctorInspect: for a batch of job ids, where each one is now, read in one atomic step so that the doctor
  reports only inconsistencies that really hold (its scan reads lists page by page while jobs move).

  KEYS:
    1 wait
    2 paused
    3 active
    4 prioritized
    5 delayed
    6 completed
    7 failed
    8 waiting-children

  ARGV:
    1 job key prefix
    2.. job ids

  Returns: a flat array, four integers per id: a bit set of the state keys holding it (bit i-1 for KEYS[i],
  and bit 8 when its map node holds it back in `<map job key>:held` for maxConcurrency),
  1 when its hash exists, 1 when its lock exists, the size of its :dependencies set.

  Events: none (it only reads).
]]
local prefix = ARGV[1]
local result = {}
for i = 2, #ARGV do
  local id = ARGV[i]
  local bits = 0
  for k = 1, 8 do
    local held
    if k <= 3 then
      held = redis.call("LPOS", KEYS[k], id)
    else
      held = redis.call("ZSCORE", KEYS[k], id)
    end
    if held then bits = bits + 2 ^ (k - 1) end
  end
  local jobKey = prefix .. id
  local parentKey = redis.call("HGET", jobKey, "parentKey")
  if parentKey and redis.call("LPOS", parentKey .. ":held", id) then bits = bits + 256 end
  table.insert(result, bits)
  table.insert(result, redis.call("EXISTS", jobKey))
  table.insert(result, redis.call("EXISTS", jobKey .. ":lock"))
  table.insert(result, redis.call("SCARD", jobKey .. ":dependencies"))
end
return result
