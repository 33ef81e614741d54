-- Agent run state checkpoints (runstate package). One row per run: the newest version PostgreSQL
-- holds, as the whole RunState protobuf, with the columns the gateway decides on.
--
-- tip: this version was written synchronously (CHECKPOINT_CRITICAL/FULL, or a write through
--   PostgreSQL while Redis was down) and no write since has gone to Redis alone: PostgreSQL holds
--   the run's newest version, so a write may go through PostgreSQL while Redis is down.
-- fence: the lowest version a write may have taken in Redis alone after the last synchronous one
--   (raised before such a write is applied in Redis); a synchronous checkpoint below it is no tip.
-- redis_repair: written here while Redis was down; Redis's copy (if it comes back) is older.
-- A row with a NULL state and no archived_at only carries the fence (no checkpoint yet); once
-- a completed run is in ClickHouse its state and history leave PostgreSQL (archived_at set).
--
-- A run is checkpointed again and again: no index names a column a checkpoint changes (state,
-- version, checkpointed_at), and pages keep room, so a checkpoint is a HOT update that touches
-- no index.
CREATE TABLE run_states (
    run_id          text        PRIMARY KEY,
    user_id         text        NOT NULL,
    version         bigint      NOT NULL,
    state           bytea,
    completed       boolean     NOT NULL DEFAULT false,
    tip             boolean     NOT NULL DEFAULT false,
    fence           bigint      NOT NULL DEFAULT 0,
    redis_repair    boolean     NOT NULL DEFAULT false,
    checkpointed_at timestamptz NOT NULL DEFAULT now(),
    archived_at     timestamptz
) WITH (fillfactor = 50);
CREATE INDEX run_states_to_archive_idx ON run_states (run_id) WHERE completed AND archived_at IS NULL;
CREATE INDEX run_states_redis_repair_idx ON run_states (run_id) WHERE redis_repair;

-- Every version written with CHECKPOINT_FULL, as RunState protobufs.
CREATE TABLE run_state_history (
    run_id  text   NOT NULL,
    version bigint NOT NULL,
    state   bytea  NOT NULL,
    PRIMARY KEY (run_id, version)
);
