-- Hold every requested seat or none.
-- ARGV: hold_id, user_id, ttl_ms, max_active_holds, record_ttl_ms, seat_ids_json, seat_id...
local hold_id, user, ttl = ARGV[1], ARGV[2], tonumber(ARGV[3])
local meta = redis.call('HMGET', META, 'status', 'gen')
if not meta[1] then return {'unknown-event'} end
if meta[1] ~= 'open' then return {'closed'} end

local packed = redis.call('HMGET', SEAT_INDEX, unpack(ARGV, 7))
local unknown = {}
for i = 1, #packed do
  if not packed[i] then unknown[#unknown + 1] = ARGV[6 + i] end
end
if #unknown > 0 then return {'unknown-seats', unknown} end

local now = now_ms()
local active = live_user_holds(now)
if active >= tonumber(ARGV[4]) then return {'too-many-holds', active} end

local indices, sections = {}, {}
for i = 1, #packed do indices[i], sections[i] = unpack_seat(packed[i]) end
local sold = get_bits(SOLD, indices)
local scores = redis.call('ZMSCORE', CLAIMS, unpack(indices))
local unavailable = {}
for i = 1, #indices do
  -- An expired claim is free: it is taken over below without waiting for anything.
  if sold[i] == 1 or (scores[i] and claim_expiry(scores[i]) > now) then
    unavailable[#unavailable + 1] = ARGV[6 + i]
  end
end
if #unavailable > 0 then return {'unavailable', unavailable} end

local expires = now + ttl
local claims, holders = {}, {}
for i = 1, #indices do
  claims[#claims + 1] = claim_score(sections[i], expires)
  claims[#claims + 1] = indices[i]
  holders[#holders + 1] = indices[i]
  holders[#holders + 1] = hold_id
end
redis.call('ZADD', CLAIMS, unpack(claims))
redis.call('HSET', HOLDERS, unpack(holders))
set_bits(HELD, indices, 1)
redis.call('HSET', HOLD, 'user', user, 'seats', ARGV[6], 'packed', table.concat(packed, ','),
  'quantity', #indices, 'expires', int(expires), 'status', 'held', 'gen', meta[2],
  'created', int(now))
redis.call('PEXPIRE', HOLD, ttl + tonumber(ARGV[5]))
redis.call('ZADD', USER_HOLDS, int(expires), hold_id)
redis.call('PEXPIRE', USER_HOLDS, ttl)
return {'held', int(expires)}
