-- Stop new holds (the event was cancelled); everything else stays as it is.
if redis.call('HEXISTS', META, 'layout') == 0 then return {'unknown-event'} end
redis.call('HSET', META, 'status', 'closed')
return {'closed'}
