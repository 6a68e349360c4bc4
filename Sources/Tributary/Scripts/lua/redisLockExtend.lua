--[[
  redisLockExtend: a RedisLock's holder renews it, only while the lock still carries its token.

  KEYS:
    none of a queue's; KEYS[1] is the lock key

  ARGV:
    1 the holder's token
    2 the new time to live (ms)

  Returns:
    1 renewed; 0 the lock expired or another holder has it (nothing is changed)

  Events: none.
]]
if redis.call("GET", KEYS[1]) == ARGV[1] then
  redis.call("PEXPIRE", KEYS[1], ARGV[2])
  return 1
end
return 0
