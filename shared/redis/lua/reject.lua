-- reject.lua: record one refused intake stream entry, once per entry id (intake).
-- A redelivered or reclaimed entry must not produce a second rejection record; the
-- consumer acknowledges the entry itself after this returns.
-- KEYS[1] rejected marker for the entry id   KEYS[2] zt:intake.rejected
-- ARGV[1] rejection record JSON   ARGV[2] marker TTL seconds
-- Returns 1 when written, 0 when the entry had already been rejected.
if redis.call('SET', KEYS[1], '1', 'NX', 'EX', tonumber(ARGV[2])) == false then
  return 0
end
redis.call('XADD', KEYS[2], '*', 'payload', ARGV[1])
return 1
