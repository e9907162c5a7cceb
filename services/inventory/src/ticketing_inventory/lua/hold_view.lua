-- A hold's record, with what it takes to tell whether it lapsed: the event's generation and now.
return {redis.call('HGETALL', HOLD), redis.call('HGET', META, 'gen') or '', int(now_ms())}
