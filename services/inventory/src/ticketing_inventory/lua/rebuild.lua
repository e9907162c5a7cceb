-- Re-create an event's state from its layout and what was sold (after a cache loss). Holds do not
-- survive: the new generation makes every earlier hold lapse (a confirm re-claims if it can).
-- Users' lists of their holds are per-user keys and stay: an earlier hold counts against its
-- owner's limit until it expires or the owner releases it.
-- ARGV: as write_layout, then ARGV[6] = sold JSON [[booking_id, [packed seat...], section number
-- or -1, quantity], ...], pairs from ARGV[7]
local status = redis.call('HGET', META, 'status') or 'open'
redis.call('DEL', META, SEAT_INDEX, SEAT_IDS, SOLD, HELD, CLAIMS, HOLDERS, SOLD_COUNT, SALES)
write_layout(7, status)
for _, entry in ipairs(cjson.decode(ARGV[6])) do
  local booking, seats, section_no, quantity = entry[1], entry[2], entry[3], entry[4]
  local sale = redis.call('HGET', SALES, booking)
  sale = sale and cjson.decode(sale) or {seats = {}, standing = {}}
  for start = 1, #seats, CHUNK do
    local indices = {}
    for i = start, math.min(start + CHUNK - 1, #seats) do
      local index, seat_section = unpack_seat(seats[i])
      indices[#indices + 1] = index
      redis.call('HINCRBY', SOLD_COUNT, seat_section, 1)
      sale.seats[#sale.seats + 1] = seats[i]
    end
    set_bits(SOLD, indices, 1)
  end
  if section_no >= 0 and quantity > 0 then
    redis.call('HINCRBY', SOLD_COUNT, section_no, quantity)
    local key = tostring(section_no)
    sale.standing[key] = (sale.standing[key] or 0) + quantity
  end
  redis.call('HSET', SALES, booking, cjson.encode(sale))
end
return {'rebuilt', status}
