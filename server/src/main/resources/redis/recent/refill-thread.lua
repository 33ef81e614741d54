-- Puts a whole short thread, as a merged page just read it from PostgreSQL and Redis, into its
-- recent index with the thread-start marker (THREAD_START, see RecentIndex), so that its next
-- pages are served from Redis alone. Used when the index lost the marker (it expired, or Redis
-- lost its data).
--
-- KEYS[1] the recent index, KEYS[1 + i] the key of message i;
-- ARGV[1] message ttl ms, ARGV[2] the recent window, ARGV[2i + 1] id of message i,
-- ARGV[2i + 2] its stored bytes.
--
-- All or nothing. The messages were the whole thread when they were read; every message sent
-- since is in the index, unless a trim removed it again, and a trim leaves at least a window's
-- worth of entries: so an index that stays within the window with these added can only have
-- lost persisted messages that the reads saw. Anything else is left as it is.
local n = #KEYS - 1
if redis.call('ZCARD', KEYS[1]) + n > tonumber(ARGV[2]) then
  return 0
end
if redis.call('ZRANGE', KEYS[1], 0, 0)[1] == THREAD_START then
  return 0
end
for i = 1, n do
  redis.call('SET', KEYS[1 + i], ARGV[2 * i + 2], 'PX', ARGV[1], 'NX')
  redis.call('ZADD', KEYS[1], 0, ARGV[2 * i + 1])
end
redis.call('ZADD', KEYS[1], 0, THREAD_START)
if redis.call('PTTL', KEYS[1]) < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
end
return 1
