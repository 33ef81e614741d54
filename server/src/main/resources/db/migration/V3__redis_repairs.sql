-- Threads that took writes in PostgreSQL while Redis could not take them (failover). Redis knows
-- nothing of those messages, so the thread's recent index is no longer a contiguous suffix of
-- the thread. The repair job (consistency.FailoverRepair) adds them to Redis once it answers
-- and then deletes the row, unless a newer failover write raised the generation meanwhile.
CREATE TABLE redis_repairs (
    thread_id  text        PRIMARY KEY,
    user_id    text        NOT NULL,
    generation bigint      NOT NULL DEFAULT 1,
    marked_at  timestamptz NOT NULL DEFAULT now()
);
