-- The recent index's trim rule (RecentIndex), for the scripts that run it after a PostgreSQL
-- commit: prepended to them, it defines trim_recent.
--
-- trim_recent(index, window, newest) removes the oldest ids beyond the newest `window` ones, but
-- only ids up to `newest`, the thread's newest id among the messages just committed: newer
-- entries may not be persisted yet, and a page that needs them can only find them in the index.
-- Trimming from the oldest end keeps the index a contiguous suffix of the thread, which the read
-- path relies on, and removes the thread-start marker (the lowest member) first.
local function trim_recent(index, window, newest)
  local excess = redis.call('ZCARD', index) - window
  if excess > 0 then
    local bound = redis.call('ZRANGE', index, excess - 1, excess - 1)[1]
    if newest < bound then
      bound = newest
    end
    redis.call('ZREMRANGEBYLEX', index, '-', '[' .. bound)
  end
end
