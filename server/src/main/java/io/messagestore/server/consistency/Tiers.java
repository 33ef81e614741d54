package io.messagestore.server.consistency;

import io.messagestore.server.clickhouse.ArchiveCopies;
import io.messagestore.server.clickhouse.ClickHouseArchive;
import io.messagestore.server.persistence.DeadLetters;
import io.messagestore.server.postgres.ConsistencyRows;
import io.messagestore.server.postgres.PostgresMessageStore;
import io.messagestore.server.redis.MessageCopies;

/** Where the checker reads each tier and writes its repairs. */
record Tiers(MessageCopies redis, DeadLetters deadLetters, ConsistencyRows postgres, PostgresMessageStore messageRows,
    ArchiveCopies archive, ClickHouseArchive archiveWriter) {}
