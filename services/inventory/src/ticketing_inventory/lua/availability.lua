-- Per-section counts and, on request, every seat's state, in one round trip.
-- ARGV: what to add to the counts ('0' nothing; 'seats' or 'bits': the SOLD and HELD bitmaps and
-- the expired claims; 'seats' adds the seat ids unless the caller has them), the layout hash
-- whose seat ids the caller already has ('' none)
local meta = redis.call('HMGET', META, 'layout', 'status', 'sections')
if not meta[1] then return {'unknown-event'} end
local now = now_ms()
local sections = cjson.decode(meta[3])
local held = {}
for i = 1, #sections do held[i] = live_claims_in(i - 1, now) end
local reply = {'ok', meta[1], meta[2], meta[3], redis.call('HGETALL', SOLD_COUNT), held}
if ARGV[1] ~= '0' then
  -- HELD still has the bits of expired claims nobody tidied yet; list them so they read as free.
  local expired = {}
  for i, section in ipairs(sections) do
    if section[2] == 'seated' then
      local low, high = expired_range(i - 1, now)
      for _, index in ipairs(redis.call('ZRANGEBYSCORE', CLAIMS, low, high)) do
        expired[#expired + 1] = index
      end
    end
  end
  reply[7] = redis.call('GET', SOLD) or ''
  reply[8] = redis.call('GET', HELD) or ''
  reply[9] = expired
  if ARGV[1] == 'seats' then
    reply[10] = ARGV[2] == meta[1] and '' or (redis.call('GET', SEAT_IDS) or '')
  end
end
return reply
