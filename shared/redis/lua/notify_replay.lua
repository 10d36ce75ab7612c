-- notify_replay.lua: re-send one given-up delivery exactly once (zhitong dlq replay, ops API).
-- The dead letter is the claim: it is deleted in the same step that moves the delivery key
-- from 'failed' back to 'retrying' and schedules the job now, so a second or concurrent
-- replay of the same entry finds it gone and schedules nothing.  A dead letter that cannot
-- be replayed (its job aged out, or the delivery is not 'failed') is left in place.
-- KEYS[1] dlq stream   KEYS[2] delivery key   KEYS[3] retry schedule (zset)   KEYS[4] job key
-- KEYS[5] deliveries stream
-- ARGV[1] dlq entry id   ARGV[2] job id   ARGV[3] job JSON to send (attempts and horizon reset)
-- ARGV[4] delivery key TTL seconds   ARGV[5] deliveries payload JSON
-- ARGV[6] deliveries stream max length (approximate)
-- Returns 1 when scheduled, 0 when the dead letter is gone (replayed or purged meanwhile),
-- else why not: 'expired' or the delivery's state.
if #redis.call('XRANGE', KEYS[1], ARGV[1], ARGV[1]) == 0 then return 0 end
local state = redis.call('GET', KEYS[2])
if not state or redis.call('EXISTS', KEYS[4]) == 0 then return 'expired' end
if state ~= 'failed' then return state end
redis.call('XDEL', KEYS[1], ARGV[1])
redis.call('SET', KEYS[2], 'retrying', 'EX', tonumber(ARGV[4]))
redis.call('SET', KEYS[4], ARGV[3])
redis.call('ZADD', KEYS[3], now_ms(), ARGV[2])
redis.call('XADD', KEYS[5], 'MAXLEN', '~', tonumber(ARGV[6]), '*', 'payload', ARGV[5])
return 1
