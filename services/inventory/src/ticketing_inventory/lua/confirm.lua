-- Confirm a hold for a booking: its seats or places become sold. Idempotent for the same booking.
-- A hold that lapsed (expired, or from before a rebuild) re-claims its seats if they are free.
-- A hold whose record is gone (lost with the cache) is confirmed from what the booking says it
-- held, like a lapsed one: its seats are re-claimed if they are free.
-- ARGV: hold_id, booking_id, record_ttl_ms, then the booking's claim (its user, '' for none;
-- seat ids JSON; section id or ''; quantity)
local hold_id, booking = ARGV[1], ARGV[2]
local hold = read_hold()
local recreated = false
if not hold then
  if ARGV[4] == '' then return {'unknown-hold'} end
  hold = {user = ARGV[4], seats = ARGV[5], quantity = ARGV[7], expires = '0', gen = '',
    status = 'held'}
  if ARGV[6] ~= '' then hold.section = ARGV[6] end
  recreated = true
end
if hold.status == 'confirmed' then
  if hold.booking == booking then return {'confirmed', hold.reclaimed} end
  return {'confirmed-elsewhere'}
end
if hold.status == 'released' then return {'released'} end

local meta = redis.call('HMGET', META, 'gen', 'status')
if not meta[1] then return {'unknown-event'} end
local now = now_ms()
local lapsed = tonumber(hold.expires) <= now or hold.gen ~= meta[1]
if lapsed and meta[2] ~= 'open' then return {'closed'} end

local sale = redis.call('HGET', SALES, booking)
sale = sale and cjson.decode(sale) or {seats = {}, standing = {}}
-- Seats and sections are looked up by id, not by the indices the hold recorded: after a rebuild
-- those may belong to a different layout.
if hold.section then
  local quantity = tonumber(hold.quantity)
  local section = section_info(hold.section)
  if not section then return {'taken', {hold.section}} end
  redis.call('ZREM', CLAIMS, unpack(standing_members(hold_id, quantity)))
  if lapsed then
    local available = section.capacity - sold_in(section.no) - live_claims_in(section.no, now)
    if available < quantity then return {'taken', {hold.section}} end
  end
  redis.call('HINCRBY', SOLD_COUNT, section.no, quantity)
  local key = tostring(section.no)
  sale.standing[key] = (sale.standing[key] or 0) + quantity
else
  local seat_ids = cjson.decode(hold.seats)
  local packed = redis.call('HMGET', SEAT_INDEX, unpack(seat_ids))
  local taken = {}
  for i = 1, #packed do
    if not packed[i] then taken[#taken + 1] = seat_ids[i] end
  end
  if #taken > 0 then return {'taken', taken} end
  local indices, sections = {}, {}
  for i = 1, #packed do indices[i], sections[i] = unpack_seat(packed[i]) end
  local sold = get_bits(SOLD, indices)
  local scores = redis.call('ZMSCORE', CLAIMS, unpack(indices))
  local holders = redis.call('HMGET', HOLDERS, unpack(indices))
  for i = 1, #indices do
    local live_elsewhere = scores[i] and claim_expiry(scores[i]) > now and holders[i] ~= hold_id
    if sold[i] == 1 or live_elsewhere then taken[#taken + 1] = seat_ids[i] end
  end
  if #taken > 0 then return {'taken', taken} end
  set_bits(SOLD, indices, 1)
  set_bits(HELD, indices, 0)
  redis.call('ZREM', CLAIMS, unpack(indices))
  redis.call('HDEL', HOLDERS, unpack(indices))
  for i = 1, #indices do
    redis.call('HINCRBY', SOLD_COUNT, sections[i], 1)
    sale.seats[#sale.seats + 1] = tonumber(packed[i])
  end
end
redis.call('HSET', SALES, booking, cjson.encode(sale))
local reclaimed = lapsed and '1' or '0'
if recreated then
  redis.call('HSET', HOLD, 'user', hold.user, 'seats', hold.seats, 'quantity', hold.quantity,
    'expires', '0', 'gen', '', 'created', int(now))
  if hold.section then redis.call('HSET', HOLD, 'section', hold.section) end
end
redis.call('HSET', HOLD, 'status', 'confirmed', 'booking', booking, 'reclaimed', reclaimed,
  'confirmed', int(now))
redis.call('PEXPIRE', HOLD, ARGV[3])
redis.call('ZREM', USER_HOLDS, hold_id)
return {'confirmed', reclaimed}
