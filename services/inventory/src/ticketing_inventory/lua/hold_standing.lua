-- Hold `quantity` places of a standing section, or none.
-- ARGV: hold_id, user_id, ttl_ms, max_active_holds, record_ttl_ms, section_id, quantity
local hold_id, user, ttl = ARGV[1], ARGV[2], tonumber(ARGV[3])
local section_id, quantity = ARGV[6], tonumber(ARGV[7])
local meta = redis.call('HMGET', META, 'status', 'gen')
if not meta[1] then return {'unknown-event'} end
if meta[1] ~= 'open' then return {'closed'} end
local section = section_info(section_id)
if not section then return {'unknown-section'} end
if section.kind ~= 'standing' then return {'not-standing'} end

local now = now_ms()
local active = live_user_holds(now)
if active >= tonumber(ARGV[4]) then return {'too-many-holds', active} end

-- Expired places no longer count; dropping them here only keeps the set small.
local low, high = expired_range(section.no, now)
redis.call('ZREMRANGEBYSCORE', CLAIMS, low, high)
local available = section.capacity - sold_in(section.no) - live_claims_in(section.no, now)
if available < quantity then return {'unavailable', {section_id}, available} end

local expires = now + ttl
local claims = {}
for _, member in ipairs(standing_members(hold_id, quantity)) do
  claims[#claims + 1] = claim_score(section.no, expires)
  claims[#claims + 1] = member
end
redis.call('ZADD', CLAIMS, unpack(claims))
redis.call('HSET', HOLD, 'user', user, 'seats', '[]', 'section', section_id,
  'section_no', section.no, 'quantity', quantity, 'expires', int(expires), 'status', 'held',
  'gen', meta[2], 'created', int(now))
redis.call('PEXPIRE', HOLD, ttl + tonumber(ARGV[5]))
redis.call('ZADD', USER_HOLDS, int(expires), hold_id)
redis.call('PEXPIRE', USER_HOLDS, ttl)
return {'held', int(expires)}
