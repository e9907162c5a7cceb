-- Re-create an event's state from its layout, what was sold and the holds booked but not yet
-- paid (after a cache loss, or by an operator). Every other hold lapses: the new generation makes
-- it count as expired (a confirm re-claims its seats if they are free).
-- Users' lists of their holds are per-user keys and stay: an earlier hold counts against its
-- owner's limit until it expires or the owner releases it.
-- ARGV: as write_layout, then
--   ARGV[6] sold JSON [[booking_id, [packed seat...], section number or -1, quantity], ...]
--   ARGV[7] holds JSON [[hold_id, user_id, [packed seat...], section number or -1, quantity,
--           expires ms, seat ids JSON, section id or ''], ...]; hold i's record and its owner's
--           holds are KEYS[8 + 2i] and KEYS[9 + 2i]
--   ARGV[8] 'if-missing' (only when the event has no state: self-healing, so that two
--           replicas noticing the same loss cannot wipe holds made in between) or 'force'
--   ARGV[9] status ('open' | 'closed'; '' keeps the current one, open if none)
--   ARGV[10] hold record retention ms; pairs from ARGV[11]
if ARGV[8] == 'if-missing' and redis.call('EXISTS', META) == 1 then return {'exists'} end
local status = ARGV[9]
if status == '' then status = redis.call('HGET', META, 'status') or 'open' end
redis.call('DEL', META, SEAT_INDEX, SEAT_IDS, SOLD, HELD, CLAIMS, HOLDERS, SOLD_COUNT, SALES)
write_layout(11, status)
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

-- Holds come back only whole and only onto free places (a sold seat stays sold: that booking's
-- payment will fail to confirm and be refunded, as for any hold that lost its seats).
local generation, now, retention = ARGV[2], now_ms(), tonumber(ARGV[10])
local layout_sections = cjson.decode(ARGV[3])
local restored, skipped = 0, {}
for i, entry in ipairs(cjson.decode(ARGV[7])) do
  local hold_id, user, seats, section_no, quantity, expires = unpack(entry, 1, 6)
  local hold_key, user_key = KEYS[8 + 2 * i], KEYS[9 + 2 * i]
  local ok = expires > now
  local indices, sections = {}, {}
  if ok and #seats > 0 then
    for j, p in ipairs(seats) do indices[j], sections[j] = unpack_seat(p) end
    local sold = get_bits(SOLD, indices)
    local scores = redis.call('ZMSCORE', CLAIMS, unpack(indices))
    for j = 1, #indices do
      if sold[j] == 1 or scores[j] then ok = false end
    end
  elseif ok then
    local section = layout_sections[section_no + 1]
    ok = section ~= nil and section[2] == 'standing'
      and section[3] - sold_in(section_no) - live_claims_in(section_no, now) >= quantity
  end
  if ok then
    local ttl = expires - now
    local fields = {'user', user, 'seats', entry[7], 'quantity', quantity,
      'expires', int(expires), 'status', 'held', 'gen', generation, 'created', int(now),
      'restored', int(now)}
    local claims = {}
    if #seats > 0 then
      local holders = {}
      for j = 1, #indices do
        claims[#claims + 1] = claim_score(sections[j], expires)
        claims[#claims + 1] = indices[j]
        holders[#holders + 1] = indices[j]
        holders[#holders + 1] = hold_id
      end
      redis.call('HSET', HOLDERS, unpack(holders))
      set_bits(HELD, indices, 1)
      fields[#fields + 1] = 'packed'
      fields[#fields + 1] = table.concat(seats, ',')
    else
      for _, member in ipairs(standing_members(hold_id, quantity)) do
        claims[#claims + 1] = claim_score(section_no, expires)
        claims[#claims + 1] = member
      end
      fields[#fields + 1] = 'section'
      fields[#fields + 1] = entry[8]
      fields[#fields + 1] = 'section_no'
      fields[#fields + 1] = section_no
    end
    redis.call('ZADD', CLAIMS, unpack(claims))
    redis.call('DEL', hold_key)
    redis.call('HSET', hold_key, unpack(fields))
    redis.call('PEXPIRE', hold_key, ttl + retention)
    redis.call('ZADD', user_key, int(expires), hold_id)
    if redis.call('PTTL', user_key) < ttl then redis.call('PEXPIRE', user_key, ttl) end
    restored = restored + 1
  else
    skipped[#skipped + 1] = hold_id
  end
end
return {'rebuilt', status, restored, skipped}
