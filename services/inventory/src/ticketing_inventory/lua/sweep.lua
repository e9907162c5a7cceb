-- Tidy an event: drop expired claims (clearing their HELD bits). Nothing
-- depends on this for correctness; it keeps the structures small.
-- ARGV: at most this many expired seat claims per call
local sections = redis.call('HGET', META, 'sections')
if not sections then return 0 end
local now = now_ms()
local budget, tidied = tonumber(ARGV[1]), 0
for i, section in ipairs(cjson.decode(sections)) do
  local low, high = expired_range(i - 1, now)
  if section[2] == 'standing' then
    tidied = tidied + redis.call('ZREMRANGEBYSCORE', CLAIMS, low, high)
  elseif budget > 0 then
    local expired = redis.call('ZRANGEBYSCORE', CLAIMS, low, high, 'LIMIT', 0, budget)
    if #expired > 0 then
      redis.call('ZREM', CLAIMS, unpack(expired))
      redis.call('HDEL', HOLDERS, unpack(expired))
      set_bits(HELD, expired, 0)
      budget = budget - #expired
      tidied = tidied + #expired
    end
  end
end
return tidied
