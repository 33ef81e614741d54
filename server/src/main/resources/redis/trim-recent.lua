-- Trims recent indexes after a PostgreSQL commit.
--
-- KEYS[i] a thread's recent index; ARGV[1] the window (entries to keep at least);
-- ARGV[i + 1] the newest id of that thread in the batch just committed.
--
-- Removes the oldest entries beyond the window, but only ids up to ARGV[i + 1]: newer entries
-- may not be persisted yet, and a page that needs them can only find them in the index. The
-- index stays a contiguous suffix of the thread, which the read path relies on.
local window = tonumber(ARGV[1])
for i, k in ipairs(KEYS) do
  local excess = redis.call('ZCARD', k) - window
  if excess > 0 then
    local bound = redis.call('ZRANGE', k, excess - 1, excess - 1)[1]
    if ARGV[i + 1] < bound then
      bound = ARGV[i + 1]
    end
    redis.call('ZREMRANGEBYLEX', k, '-', '[' .. bound)
  end
end
return #KEYS
