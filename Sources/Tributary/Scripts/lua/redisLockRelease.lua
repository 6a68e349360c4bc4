--[[
  redisLockRelease: a RedisLock's holder lets it go: compare and delete, so a holder whose lock expired cannot
  delete the lock another holder took since.

  KEYS:
    none of a queue's; KEYS[1] is the lock key

  ARGV:
    1 the holder's token

  Returns:
    1 released; 0 the lock was no longer this holder's (nothing is changed)

  Events: none.
]]
if redis.call("GET", KEYS[1]) == ARGV[1] then
  redis.call("DEL", KEYS[1])
  return 1
end
return 0
