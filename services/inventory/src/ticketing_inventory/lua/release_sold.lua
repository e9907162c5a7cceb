-- Give back what a refunded booking bought: the listed seats it owns and up to `quantity` places
-- of a standing section. Idempotent: what was released is no longer the booking's.
-- ARGV: booking_id, section_id ('' for none), quantity, seat_id...
local booking, section_id, quantity = ARGV[1], ARGV[2], tonumber(ARGV[3])
if redis.call('HEXISTS', META, 'layout') == 0 then return {'unknown-event'} end
local packed = {}
if #ARGV > 3 then
  packed = redis.call('HMGET', SEAT_INDEX, unpack(ARGV, 4))
  local unknown = {}
  for i = 1, #packed do
    if not packed[i] then unknown[#unknown + 1] = ARGV[3 + i] end
  end
  if #unknown > 0 then return {'unknown-seats', unknown} end
end
local section = nil
if section_id ~= '' then
  section = section_info(section_id)
  if not section or section.kind ~= 'standing' then return {'unknown-section'} end
end

local raw = redis.call('HGET', SALES, booking)
if not raw then return {'released', {}, 0} end
local sale = cjson.decode(raw)
local owned = {}
for _, p in ipairs(sale.seats) do owned[p] = true end
local released, indices = {}, {}
for i = 1, #packed do
  local p = tonumber(packed[i])
  if owned[p] then
    owned[p] = nil
    local index, section_no = unpack_seat(p)
    indices[#indices + 1] = index
    redis.call('HINCRBY', SOLD_COUNT, section_no, -1)
    released[#released + 1] = ARGV[3 + i]
  end
end
if #indices > 0 then set_bits(SOLD, indices, 0) end
local remaining = {}
for _, p in ipairs(sale.seats) do
  if owned[p] then remaining[#remaining + 1] = p end
end
sale.seats = remaining

local places = 0
if section then
  local key = tostring(section.no)
  places = math.min(quantity, sale.standing[key] or 0)
  if places > 0 then
    redis.call('HINCRBY', SOLD_COUNT, section.no, -places)
    sale.standing[key] = sale.standing[key] - places
    if sale.standing[key] == 0 then sale.standing[key] = nil end
  end
end
if #sale.seats == 0 and next(sale.standing) == nil then
  redis.call('HDEL', SALES, booking)
else
  redis.call('HSET', SALES, booking, cjson.encode(sale))
end
return {'released', released, places}
