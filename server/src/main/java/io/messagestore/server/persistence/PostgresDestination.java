package io.messagestore.server.persistence;

import io.messagestore.server.postgres.PostgresMessageStore;
import io.messagestore.server.postgres.PostgresTier;
import io.messagestore.server.pump.GroupCommit;
import io.messagestore.server.pump.PumpDestination;
import java.util.Collections;
import java.util.List;

/**
 * PostgreSQL as the persister's destination: a round's shard batches go in as one statement and
 * transaction ({@link GroupCommit}, {@link PostgresMessageStore#insert}), and a repeated entry is
 * skipped by {@code ON CONFLICT DO NOTHING}. Nothing is committed before Flyway has created the
 * schema.
 */
final class PostgresDestination implements PumpDestination<StreamEntry> {
  private final PostgresTier tier;
  private final PostgresMessageStore messages;
  private final GroupCommit<StreamEntry> groupCommit;

  PostgresDestination(PostgresTier tier, PostgresMessageStore messages) {
    this.tier = tier;
    this.messages = messages;
    this.groupCommit = new GroupCommit<>(entries -> messages.insert(entries.stream().map(StreamEntry::message).toList(),
        entries.stream().map(StreamEntry::idempotencyKey).toList()), PostgresTier::isConnectivityFailure);
  }

  /** The health monitor creates the schema once PostgreSQL answers. */
  @Override
  public boolean ready() {
    return tier.schemaReady();
  }

  @Override
  public List<Exception> commit(List<List<StreamEntry>> batches) throws Exception {
    return groupCommit.commit(batches);
  }

  @Override
  public void commitOne(StreamEntry entry) throws Exception {
    messages.insert(List.of(entry.message()), Collections.singletonList(entry.idempotencyKey()));
  }

  @Override
  public boolean unreachable(Exception failure) {
    return PostgresTier.isConnectivityFailure(failure);
  }
}
