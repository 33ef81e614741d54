-- Threads: the owner is the user who first wrote to it; counts and activity feed ListThreads.
CREATE TABLE threads (
    thread_id        text        PRIMARY KEY,
    user_id          text        NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    last_activity_at timestamptz NOT NULL DEFAULT now(),
    message_count    bigint      NOT NULL DEFAULT 0
);
CREATE INDEX threads_user_activity_idx ON threads (user_id, last_activity_at DESC, thread_id);

-- Messages: the system of record until archived. message_id is a UUIDv7, so id order is time
-- order and (thread_id, message_id) serves ListMessages in both directions.
CREATE TABLE messages (
    message_id      uuid        PRIMARY KEY,
    thread_id       text        NOT NULL,
    user_id         text        NOT NULL,
    role            smallint    NOT NULL,
    content         text        NOT NULL,
    metadata        jsonb       NOT NULL DEFAULT '{}'::jsonb,
    idempotency_key text,
    created_at      timestamptz NOT NULL,
    persisted_at    timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX messages_thread_message_idx ON messages (thread_id, message_id);
-- Idempotency for writes that bypass Redis (failover) and a last line against double inserts.
CREATE UNIQUE INDEX messages_idempotency_idx ON messages (thread_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
