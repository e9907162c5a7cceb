-- Initialise an event's inventory once; the same layout again is a no-op, another is refused.
-- ARGV: as write_layout, pairs from ARGV[6]
local existing = redis.call('HGET', META, 'layout')
if existing then return {existing == ARGV[1] and 'exists' or 'mismatch'} end
write_layout(6, 'open')
return {'created'}
