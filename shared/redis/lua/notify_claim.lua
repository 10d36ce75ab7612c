-- notify_claim.lua: claim one delivery (event, recipient, channel) exactly once (notifier).
-- The claim, the stored job and its lease in the retry schedule commit together: if the
-- claiming process dies mid-send, the job falls due when the lease ends and any replica
-- finishes it; a redelivered event finds the key and sends nothing.
-- KEYS[1] delivery key   KEYS[2] retry schedule (zset)   KEYS[3] job key
-- ARGV[1] job id   ARGV[2] job JSON   ARGV[3] lease ms   ARGV[4] delivery key TTL seconds
-- Returns 1 when claimed, else the delivery's current state (sending|retrying|sent|failed).
if redis.call('SET', KEYS[1], 'sending', 'NX', 'EX', tonumber(ARGV[4])) then
  redis.call('SET', KEYS[3], ARGV[2])
  redis.call('ZADD', KEYS[2], now_ms() + tonumber(ARGV[3]), ARGV[1])
  return 1
end
return redis.call('GET', KEYS[1])
