package io.messagestore.server.archive;

import com.clickhouse.client.api.ServerException;
import io.messagestore.server.clickhouse.ClickHouseTier;
import io.messagestore.server.clickhouse.MessageFacts;
import io.messagestore.server.postgres.AnalyticsOutbox;
import io.messagestore.server.resilience.TierBreaker;
import io.messagestore.server.pump.PumpDestination;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/** ClickHouse's analytics table as the analytics pump's destination: one INSERT per round, through the clickhouse-write breaker. */
final class FactsDestination implements PumpDestination<AnalyticsOutbox.Row> {
  private final ClickHouseTier tier;
  private final MessageFacts facts;
  private final TierBreaker breaker;

  FactsDestination(ClickHouseTier tier, MessageFacts facts, TierBreaker breaker) {
    this.tier = tier;
    this.facts = facts;
    this.breaker = breaker;
  }

  @Override
  public boolean ready() {
    return tier.schemaReady();
  }

  @Override
  public List<Exception> commit(List<List<AnalyticsOutbox.Row>> batches) throws Exception {
    List<AnalyticsOutbox.Row> all = new ArrayList<>();
    batches.forEach(all::addAll);
    try {
      add(all);
      return Collections.nCopies(batches.size(), null);
    } catch (Exception e) {
      if (unreachable(e)) {
        throw e;
      }
      return Collections.nCopies(batches.size(), e);
    }
  }

  @Override
  public void commitOne(AnalyticsOutbox.Row row) throws Exception {
    add(List.of(row));
  }

  @Override
  public boolean unreachable(Exception failure) {
    return !(failure.getCause() instanceof ServerException);
  }

  private void add(List<AnalyticsOutbox.Row> rows) throws Exception {
    List<MessageFacts.Fact> batch = rows.stream().map(r -> new MessageFacts.Fact(r.messageId(), r.threadId(),
        r.userId(), r.role(), r.contentBytes(), r.createdMs())).toList();
    breaker.callBlocking(() -> {
      facts.add(batch);
      return null;
    });
  }
}
