-- Tells every gateway instance the moment a thread is marked for the Redis repair (a failover
-- write committed): they LISTEN on this channel (postgres.RedisRepairNotifications) and stop
-- serving that thread's pages from Redis alone at once, instead of at their next poll of
-- redis_repairs. The poll stays, for notifications sent while a listener was reconnecting.
CREATE FUNCTION notify_redis_repair() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('messagestore_redis_repairs', NEW.thread_id);
  RETURN NULL;
END
$$;

CREATE TRIGGER redis_repairs_notify AFTER INSERT OR UPDATE ON redis_repairs
  FOR EACH ROW EXECUTE FUNCTION notify_redis_repair();
