-- Compare an event's sales with booking's durable truth and repair what a partial loss (a
-- failover that dropped the last writes) left wrong:
-- - a booking that holds seats durably but has no sale here gets it (its seats sold; any claim
--   on them dropped: that hold's confirm will find them sold);
-- - a sale whose seats lost their sold bits gets them back;
-- - a sale of a booking that holds nothing durably is released, but only when the caller says so
--   (it was extra on an earlier pass too: a confirmation may be between inventory and booking).
-- ARGV[1]: truth JSON [[booking_id, [seat id...], section id or '', quantity], ...]
-- ARGV[2]: JSON [booking_id...] that may hold seats soon (payment being confirmed): kept
-- ARGV[3]: JSON [booking_id...] to release if still extra
-- Reply: {'ok', added, bits fixed, extra (after releasing), released, unknown}
if redis.call('EXISTS', META) == 0 then return {'unknown-event'} end
local truth, keep = {}, {}
for _, entry in ipairs(cjson.decode(ARGV[1])) do truth[entry[1]] = entry end
for _, booking in ipairs(cjson.decode(ARGV[2])) do keep[booking] = true end

local function release(booking, sale)
  local indices = {}
  for _, p in ipairs(sale.seats) do
    local index, section_no = unpack_seat(p)
    indices[#indices + 1] = index
    redis.call('HINCRBY', SOLD_COUNT, section_no, -1)
  end
  if #indices > 0 then set_bits(SOLD, indices, 0) end
  for section_no, places in pairs(sale.standing) do
    redis.call('HINCRBY', SOLD_COUNT, section_no, -places)
  end
  redis.call('HDEL', SALES, booking)
end

local released = {}
for _, booking in ipairs(cjson.decode(ARGV[3])) do
  local raw = redis.call('HGET', SALES, booking)
  if raw and not truth[booking] and not keep[booking] then
    release(booking, cjson.decode(raw))
    released[#released + 1] = booking
  end
end

local added, unknown, fixed = {}, {}, 0
for booking, entry in pairs(truth) do
  local seat_ids, section_id, quantity = entry[2], entry[3], entry[4]
  local raw = redis.call('HGET', SALES, booking)
  local packed = {}
  if #seat_ids > 0 then packed = redis.call('HMGET', SEAT_INDEX, unpack(seat_ids)) end
  local known = true
  for i = 1, #packed do
    if not packed[i] then known = false end
  end
  local section = nil
  if section_id ~= '' then
    section = section_info(section_id)
    if not section or section.kind ~= 'standing' then known = false end
  end
  if not known then
    unknown[#unknown + 1] = booking
  else
    local indices, sections = {}, {}
    for i = 1, #packed do indices[i], sections[i] = unpack_seat(packed[i]) end
    if raw then
      -- The sale is here; its seats must read sold.
      if #indices > 0 then
        local bits = get_bits(SOLD, indices)
        local lost = {}
        for i = 1, #indices do
          if bits[i] == 0 then lost[#lost + 1] = indices[i] end
        end
        if #lost > 0 then
          set_bits(SOLD, lost, 1)
          fixed = fixed + #lost
        end
      end
    else
      local sale = {seats = {}, standing = {}}
      if #indices > 0 then
        set_bits(SOLD, indices, 1)
        set_bits(HELD, indices, 0)
        redis.call('ZREM', CLAIMS, unpack(indices))
        redis.call('HDEL', HOLDERS, unpack(indices))
        for i = 1, #indices do
          redis.call('HINCRBY', SOLD_COUNT, sections[i], 1)
          sale.seats[i] = tonumber(packed[i])
        end
      end
      if section and quantity > 0 then
        redis.call('HINCRBY', SOLD_COUNT, section.no, quantity)
        sale.standing[tostring(section.no)] = quantity
      end
      redis.call('HSET', SALES, booking, cjson.encode(sale))
      added[#added + 1] = booking
    end
  end
end

local extra = {}
for _, booking in ipairs(redis.call('HKEYS', SALES)) do
  if not truth[booking] and not keep[booking] then extra[#extra + 1] = booking end
end
return {'ok', added, fixed, extra, released, unknown}
