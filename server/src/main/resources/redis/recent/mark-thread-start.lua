-- Marks a recent index as holding its whole thread (THREAD_START, see RecentIndex), after a
-- cache rebuild loaded every message of a thread that fits the recent window.
--
-- KEYS[1] the recent index; ARGV[1] the thread's first message id, as PostgreSQL has it.
--
-- The index is a contiguous suffix of the thread, so when its lowest id is the thread's first
-- message it holds all of them. Checked here rather than assumed: sends and trims run while the
-- rebuild loads, and a trim may already have removed the first message again.
local lowest = redis.call('ZRANGE', KEYS[1], 0, 0)[1]
if lowest == ARGV[1] then
  redis.call('ZADD', KEYS[1], 0, THREAD_START)
  return 1
end
return 0
