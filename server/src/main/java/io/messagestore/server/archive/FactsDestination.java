package io.messagestore.server.archive;

import io.messagestore.server.clickhouse.ClickHouseTier;
import io.messagestore.server.clickhouse.MessageFacts;
import io.messagestore.server.postgres.AnalyticsOutbox;
import io.messagestore.server.resilience.TierBreaker;
import java.util.List;

/** ClickHouse's analytics table as the analytics pump's destination: one INSERT per round. */
final class FactsDestination extends ClickHouseDestination<AnalyticsOutbox.Row> {
  private final MessageFacts facts;

  FactsDestination(ClickHouseTier tier, MessageFacts facts, TierBreaker breaker) {
    super(tier, breaker);
    this.facts = facts;
  }

  @Override
  void write(List<AnalyticsOutbox.Row> rows) throws Exception {
    facts.add(rows.stream().map(r -> new MessageFacts.Fact(r.messageId(), r.threadId(), r.userId(), r.role(),
        r.contentBytes(), r.createdMs())).toList());
  }
}
