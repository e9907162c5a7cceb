-- Release a hold: the seats it still claims are free at once. Idempotent.
-- ARGV: hold_id, owner (the user who must own it; '' for service calls)
local hold_id, owner = ARGV[1], ARGV[2]
local hold = read_hold()
if not hold or (owner ~= '' and hold.user ~= owner) then return {'unknown-hold'} end
if hold.status == 'released' then return {'released'} end
if hold.status == 'confirmed' then return {'confirmed'} end

if hold.gen == redis.call('HGET', META, 'gen') then
  if hold.section then
    redis.call('ZREM', CLAIMS, unpack(standing_members(hold_id, tonumber(hold.quantity))))
  else
    -- Only seats this hold still claims: after it expired another hold may have taken some.
    local indices = {}
    for i, packed in ipairs(numbers(hold.packed)) do indices[i] = unpack_seat(packed) end
    local holders = redis.call('HMGET', HOLDERS, unpack(indices))
    local mine = {}
    for i = 1, #indices do
      if holders[i] == hold_id then mine[#mine + 1] = indices[i] end
    end
    if #mine > 0 then
      redis.call('ZREM', CLAIMS, unpack(mine))
      redis.call('HDEL', HOLDERS, unpack(mine))
      set_bits(HELD, mine, 0)
    end
  end
end
redis.call('HSET', HOLD, 'status', 'released', 'released', int(now_ms()))
redis.call('ZREM', USER_HOLDS, hold_id)
return {'released'}
