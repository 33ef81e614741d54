-- Puts messages that were written to PostgreSQL while Redis could not take them (failover) into
-- a thread's recent index, with their bodies, so that the index is again a contiguous suffix of
-- the thread (everything from its lowest id on), which the read path relies on.
--
-- KEYS[1] the recent index, KEYS[1 + i] the key of message i;
-- ARGV[1] message ttl ms, ARGV[2i] id of message i, ARGV[2i + 1] its stored bytes.
--
-- Only ids above the index's lowest member are added (all of them when that is THREAD_START,
-- which sorts below every id; see RecentIndex): the index claims nothing below it (pages there
-- are merged with PostgreSQL anyway), and an id added there would leave a hole under it. When the
-- index is gone (expired, Redis lost its data) there is nothing to repair: a new index starts
-- with the next send and holds everything from there on.
local lowest = redis.call('ZRANGE', KEYS[1], 0, 0)[1]
if not lowest then
  return 0
end
local added = 0
for i = 2, #KEYS do
  local id = ARGV[2 * i - 2]
  if id > lowest then
    redis.call('SET', KEYS[i], ARGV[2 * i - 1], 'PX', ARGV[1], 'NX')
    added = added + redis.call('ZADD', KEYS[1], 0, id)
  end
end
return added
