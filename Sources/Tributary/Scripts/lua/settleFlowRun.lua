--[[
  settleFlowRun: settles a flow run if nothing of it can run any more (see includes/settleRun.lua): used by
  FlowProducer.waitForRun when the run's last node was finished by a worker that records no outcome.

  KEYS:
    none (the run record names its nodes)

  ARGV:
    1 run record key
    2 now (ms)

  Returns:
    1 the run settled now; 0 it had settled already, or something can still run, or it does not exist

  Events: run-completed, run-failed or run-cancelled on <prefix>:__flows__:events when it settles.
]]
--- @include "settleRun"

if redis.call("EXISTS", ARGV[1]) == 0 then return 0 end
if settleRun(ARGV[1], tonumber(ARGV[2])) then return 1 end
return 0
