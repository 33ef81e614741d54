-- One archiver works at a time across every gateway instance. The holder renews its lease on
-- every run; a lease that is not renewed (its holder was killed) expires and another instance
-- takes it. The row also tells GetTierStatus who archives and how the last run went.
CREATE TABLE archiver_lease (
    name                text        PRIMARY KEY,
    holder              text        NOT NULL,
    acquired_at         timestamptz NOT NULL,
    expires_at          timestamptz NOT NULL,
    last_run_at         timestamptz,
    last_run_messages   bigint      NOT NULL DEFAULT 0,
    last_error          text
);

-- Analytics rows waiting for ClickHouse. They are written by the statement that stores their
-- messages, so no persisted message lacks one; the analytics feed copies them to ClickHouse and
-- deletes exactly the rows it copied. A ClickHouse outage only makes this table longer.
CREATE TABLE analytics_outbox (
    seq           bigserial   PRIMARY KEY,
    message_id    uuid        NOT NULL,
    thread_id     text        NOT NULL,
    user_id       text        NOT NULL,
    role          smallint    NOT NULL,
    content_bytes integer     NOT NULL,
    created_at    timestamptz NOT NULL
);

-- Erased threads (DeleteThread). Messages of the thread with an id up to erased_through belong
-- to the erased incarnation and are never stored again, whoever still holds them (a persister,
-- a late failover write); a new incarnation's messages have later ids. The archive and the
-- analytics rows in ClickHouse are erased by a background mutation, tracked here so that a
-- ClickHouse outage delays it and never loses it.
CREATE TABLE thread_erasures (
    thread_id            text        PRIMARY KEY,
    erased_through       uuid        NOT NULL,
    erased_at            timestamptz NOT NULL DEFAULT now(),
    clickhouse_submitted timestamptz,
    clickhouse_done      timestamptz,
    clickhouse_error     text
);
CREATE INDEX thread_erasures_pending_idx ON thread_erasures (erased_at) WHERE clickhouse_done IS NULL;

-- Who erased which thread, when, and how much. Not erased with the thread.
CREATE TABLE thread_deletion_audit (
    id               bigserial   PRIMARY KEY,
    thread_id        text        NOT NULL,
    owner_id         text        NOT NULL,
    deleted_by       text        NOT NULL,
    deleted_messages bigint      NOT NULL,
    deleted_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX thread_deletion_audit_thread_idx ON thread_deletion_audit (thread_id, deleted_at);
