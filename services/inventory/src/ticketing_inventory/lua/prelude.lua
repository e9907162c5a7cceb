-- Prepended to every inventory script (see scripts.py).
--
-- The keys of one event all carry the hash tag {event_id}: one slot, so every script runs on one
-- node of a Redis Cluster. Every script is called with the same nine event keys, in this order;
-- the scripts about one hold add the hold's record and its owner's holds as KEYS[10] and [11].
local META, SEAT_INDEX, SEAT_IDS, SOLD, HELD = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local CLAIMS, HOLDERS, SOLD_COUNT, SALES = KEYS[6], KEYS[7], KEYS[8], KEYS[9]
local HOLD, USER_HOLDS = KEYS[10], KEYS[11]
--   META        hash: layout (hash of the layout), gen (changes on rebuild), status (open|closed),
--               sections (JSON [[section_id, kind, capacity], ...] by section number),
--               section:<id> ("<number>|<kind>|<capacity>"), capacity, created
--   SEAT_INDEX  hash: seat_id -> seat bit index * PACK + section number
--   SEAT_IDS    string: the seat ids in bit-index order, newline-separated
--   SOLD, HELD  bitmaps by seat index (HELD may keep the bit of an expired claim until tidied)
--   CLAIMS      sorted set of live and expired claims (see SPAN)
--   HOLDERS     hash: seat index -> id of the hold that claimed it last
--   SOLD_COUNT  hash: section number -> places sold
--   SALES       hash: booking id -> JSON {seats: [packed seat], standing: {section number: n}}
--   HOLD        hash: user, seats (JSON), packed or section + section_no, quantity, expires,
--               status (held|released|confirmed), booking, reclaimed, gen, created
--   USER_HOLDS  sorted set: the owner's holds of this event by expiry

-- A claim is one held seat (member: its index) or one held standing place (member:
-- "<hold_id>:<n>"). Its score is section_number * SPAN + expiry in ms, so the live claims of a
-- section are one ZCOUNT, and a claim stops counting the millisecond it expires: correctness never
-- waits for a sweeper. 2^42 ms reaches the year 2109; with fewer than 1024 sections every score
-- stays below 2^52, exact in a double.
local SPAN = 4398046511104
local PACK = 1024 -- sections per event, at most

local function int(n)
  return string.format('%.0f', n)
end

local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

local function unpack_seat(packed)
  local p = tonumber(packed)
  return math.floor(p / PACK), p % PACK
end

local function claim_score(section_no, expires)
  return int(section_no * SPAN + expires)
end

local function claim_expiry(score)
  return math.fmod(tonumber(score), SPAN)
end

-- ZCOUNT/ZRANGEBYSCORE bounds for a section's live claims (expiry > now) and expired ones.
local function live_range(section_no, now)
  return '(' .. int(section_no * SPAN + now), int(section_no * SPAN + SPAN - 1)
end

local function expired_range(section_no, now)
  return int(section_no * SPAN), int(section_no * SPAN + now)
end

local function section_info(section_id)
  local value = redis.call('HGET', META, 'section:' .. section_id)
  if not value then return nil end
  local no, kind, capacity = string.match(value, '^(%d+)|(%a+)|(%d+)$')
  return {no = tonumber(no), kind = kind, capacity = tonumber(capacity)}
end

local function sold_in(section_no)
  return tonumber(redis.call('HGET', SOLD_COUNT, section_no) or '0')
end

local function live_claims_in(section_no, now)
  local low, high = live_range(section_no, now)
  return redis.call('ZCOUNT', CLAIMS, low, high)
end

-- One BITFIELD call reads or writes the bits of all the seats of a hold.
local function get_bits(key, indices)
  local args = {}
  for _, index in ipairs(indices) do
    args[#args + 1] = 'GET'; args[#args + 1] = 'u1'; args[#args + 1] = index
  end
  return redis.call('BITFIELD', key, unpack(args))
end

local function set_bits(key, indices, value)
  local args = {}
  for _, index in ipairs(indices) do
    args[#args + 1] = 'SET'; args[#args + 1] = 'u1'; args[#args + 1] = index
    args[#args + 1] = value
  end
  redis.call('BITFIELD', key, unpack(args))
end

local function numbers(csv)
  local out = {}
  for n in string.gmatch(csv, '%d+') do out[#out + 1] = tonumber(n) end
  return out
end

local function read_hold()
  local flat = redis.call('HGETALL', HOLD)
  if #flat == 0 then return nil end
  local hold = {}
  for i = 1, #flat, 2 do hold[flat[i]] = flat[i + 1] end
  return hold
end

local function standing_members(hold_id, quantity)
  local members = {}
  for n = 1, quantity do members[n] = hold_id .. ':' .. n end
  return members
end

-- How many unexpired holds the owner has on this event (expired ones are dropped first).
local function live_user_holds(now)
  redis.call('ZREMRANGEBYSCORE', USER_HOLDS, '-inf', now)
  return redis.call('ZCARD', USER_HOLDS)
end
