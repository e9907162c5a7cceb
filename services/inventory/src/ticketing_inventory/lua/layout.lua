-- Writes an event's layout (prepended to init.lua and rebuild.lua).
-- ARGV: layout hash, generation, sections JSON, capacity, seat ids (newline-separated), then from
-- ARGV[first_pair] on (seat_id, packed seat) pairs.
local CHUNK = 1000 -- arguments per HSET: Lua's unpack() has a small stack

local function write_layout(first_pair, status)
  local fields = {'layout', ARGV[1], 'gen', ARGV[2], 'status', status, 'sections', ARGV[3],
    'capacity', ARGV[4], 'created', int(now_ms())}
  for i, section in ipairs(cjson.decode(ARGV[3])) do
    fields[#fields + 1] = 'section:' .. section[1]
    fields[#fields + 1] = (i - 1) .. '|' .. section[2] .. '|' .. section[3]
  end
  for i = 1, #fields, CHUNK do
    redis.call('HSET', META, unpack(fields, i, math.min(i + CHUNK - 1, #fields)))
  end
  if ARGV[5] ~= '' then redis.call('SET', SEAT_IDS, ARGV[5]) end
  for i = first_pair, #ARGV, CHUNK do
    redis.call('HSET', SEAT_INDEX, unpack(ARGV, i, math.min(i + CHUNK - 1, #ARGV)))
  end
end
