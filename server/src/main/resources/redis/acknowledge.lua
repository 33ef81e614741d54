-- After a PostgreSQL commit, one step for one shard: acknowledges the committed entries and
-- deletes them (so a stream's length stays its backlog), then trims the recent indexes of the
-- threads they belong to. One script instead of XACK, XDEL and a trim per shard and round; the
-- stream and the indexes share the shard's hash tag.
--
-- KEYS[1] the shard's stream, KEYS[1 + i] a thread's recent index
-- ARGV[1] the consumer group, ARGV[2] the window (index entries to keep at least),
-- ARGV[3] the number n of entry ids, ARGV[4 .. 3 + n] the entry ids,
-- ARGV[3 + n + i] the newest id of index i among the messages just committed
--
-- trim_recent is the recent index's trim rule (recent/trim.lua, prepended by RecentIndex).
local n = tonumber(ARGV[3])
-- In slices: unpack() of thousands of arguments would overflow Lua's stack.
for from = 4, 3 + n, 1000 do
  local to = math.min(from + 999, 3 + n)
  redis.call('XACK', KEYS[1], ARGV[1], unpack(ARGV, from, to))
  redis.call('XDEL', KEYS[1], unpack(ARGV, from, to))
end
local window = tonumber(ARGV[2])
for i = 2, #KEYS do
  trim_recent(KEYS[i], window, ARGV[2 + n + i])
end
return n
