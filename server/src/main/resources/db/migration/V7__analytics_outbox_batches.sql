-- One analytics outbox row per committed statement instead of one per message: the persisters'
-- statement inserted a row (heap tuple, primary-key entry, WAL) for every message it stored, the
-- largest per-message cost left on the write path (docs/BENCHMARKS.md, "What the analytics
-- outbox row costs"). A batch holds its messages' facts as parallel arrays, in insert order.
CREATE TABLE analytics_outbox_batches (
    seq           bigserial     PRIMARY KEY,
    message_ids   uuid[]        NOT NULL,
    thread_ids    text[]        NOT NULL,
    user_ids      text[]        NOT NULL,
    roles         smallint[]    NOT NULL,
    content_bytes integer[]     NOT NULL,
    created_at    timestamptz[] NOT NULL
);

-- Rows still waiting move over as one batch, oldest first (the old table is emptied below).
INSERT INTO analytics_outbox_batches (message_ids, thread_ids, user_ids, roles, content_bytes, created_at)
SELECT array_agg(message_id ORDER BY seq), array_agg(thread_id ORDER BY seq), array_agg(user_id ORDER BY seq),
       array_agg(role ORDER BY seq), array_agg(content_bytes ORDER BY seq), array_agg(created_at ORDER BY seq)
FROM analytics_outbox
HAVING count(*) > 0;

-- Instances of the previous release still insert one analytics_outbox row per message until
-- they are upgraded; their rows join the batches in the statement that inserts them, so the
-- new feed sees every fact and the old table stays empty. A later release drops it.
CREATE FUNCTION analytics_outbox_to_batches() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO analytics_outbox_batches (message_ids, thread_ids, user_ids, roles, content_bytes, created_at)
  SELECT array_agg(message_id ORDER BY seq), array_agg(thread_id ORDER BY seq), array_agg(user_id ORDER BY seq),
         array_agg(role ORDER BY seq), array_agg(content_bytes ORDER BY seq), array_agg(created_at ORDER BY seq)
  FROM new_rows
  HAVING count(*) > 0;
  DELETE FROM analytics_outbox o USING new_rows n WHERE o.seq = n.seq;
  RETURN NULL;
END $$;

CREATE TRIGGER analytics_outbox_to_batches AFTER INSERT ON analytics_outbox
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION analytics_outbox_to_batches();

DELETE FROM analytics_outbox;
