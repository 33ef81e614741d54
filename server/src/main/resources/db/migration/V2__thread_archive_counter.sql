-- How many of a thread's messages live in the ClickHouse archive. The archive job maintains it;
-- ListMessages only asks ClickHouse for threads where it is above zero.
ALTER TABLE threads ADD COLUMN archived_messages bigint NOT NULL DEFAULT 0;
