-- notify_settle.lua: record one delivery attempt's outcome atomically (notifier).
-- 'sent' / 'failed' end the job; 'retrying' stores the job with its attempt count and
-- schedules it after the backoff.  Every outcome is appended to zt:deliveries; 'failed'
-- also appends the notification.failed record to zt:dlq and keeps the job (out of the
-- schedule, for the key's TTL) so ops can replay it (notify_replay.lua).  A delivery that
-- already ended (a slower replica finishing after a lease ran out) is left alone.
-- KEYS[1] delivery key   KEYS[2] retry schedule (zset)   KEYS[3] job key
-- KEYS[4] deliveries stream   KEYS[5] dlq stream
-- ARGV[1] sent|retrying|failed   ARGV[2] job id   ARGV[3] job JSON ('' for sent)   ARGV[4] delay ms
-- ARGV[5] deliveries payload JSON   ARGV[6] dlq payload JSON ('' = none)
-- ARGV[7] delivery key TTL seconds   ARGV[8] deliveries stream max length (approximate)
-- Returns 1 when recorded, 0 when the delivery had already ended.
local state = redis.call('GET', KEYS[1])
if state == 'sent' or state == 'failed' then return 0 end
local ttl = tonumber(ARGV[7])
redis.call('XADD', KEYS[4], 'MAXLEN', '~', tonumber(ARGV[8]), '*', 'payload', ARGV[5])
redis.call('SET', KEYS[1], ARGV[1], 'EX', ttl)
if ARGV[1] == 'retrying' then
  redis.call('SET', KEYS[3], ARGV[3])
  redis.call('ZADD', KEYS[2], now_ms() + tonumber(ARGV[4]), ARGV[2])
  return 1
end
redis.call('ZREM', KEYS[2], ARGV[2])
if ARGV[1] == 'failed' and ARGV[3] ~= '' then
  redis.call('SET', KEYS[3], ARGV[3], 'EX', ttl)
else
  redis.call('DEL', KEYS[3])
end
if ARGV[6] ~= '' then
  redis.call('XADD', KEYS[5], '*', 'payload', ARGV[6])
end
return 1
