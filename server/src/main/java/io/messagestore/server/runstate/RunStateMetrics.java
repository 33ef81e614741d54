package io.messagestore.server.runstate;

import io.messagestore.api.v1.Checkpoint;
import io.messagestore.api.v1.Tier;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.EnumMap;
import java.util.Locale;
import java.util.Map;

/** Run-state metrics (see docs/OPERATIONS.md). */
final class RunStateMetrics {
  private final Map<Checkpoint, Counter> writes = new EnumMap<>(Checkpoint.class);
  private final Counter conflicts;
  private final Counter syncCheckpoints;
  private final Counter backgroundCheckpoints;
  private final Counter failoverWrites;
  private final Map<Tier, Counter> restores = new EnumMap<>(Tier.class);

  RunStateMetrics(MeterRegistry meters) {
    for (Checkpoint c : Checkpoint.values()) {
      if (c != Checkpoint.UNRECOGNIZED) {
        writes.put(c, Counter.builder("messagestore.run_state.writes")
            .tag("checkpoint", c.name().substring("CHECKPOINT_".length()).toLowerCase(Locale.ROOT))
            .description("run-state writes accepted, by checkpoint kind").register(meters));
      }
    }
    conflicts = Counter.builder("messagestore.run_state.conflicts")
        .description("run-state writes refused because expected_version was not the current version")
        .register(meters);
    syncCheckpoints = Counter.builder("messagestore.run_state.checkpoints").tag("kind", "synchronous")
        .description("run-state checkpoints written to PostgreSQL").register(meters);
    backgroundCheckpoints = Counter.builder("messagestore.run_state.checkpoints").tag("kind", "background")
        .description("run-state checkpoints written to PostgreSQL").register(meters);
    failoverWrites = Counter.builder("messagestore.run_state.failover_writes")
        .description("run-state writes taken by PostgreSQL alone while Redis was unavailable").register(meters);
    for (Tier t : new Tier[] {Tier.TIER_POSTGRES, Tier.TIER_CLICKHOUSE}) {
      restores.put(t, Counter.builder("messagestore.run_state.restores")
          .tag("tier", t == Tier.TIER_POSTGRES ? "postgres" : "clickhouse")
          .description("run states read from a lower tier and put back into Redis").register(meters));
    }
  }

  void written(Checkpoint kind) {
    writes.get(kind).increment();
  }

  void conflict() {
    conflicts.increment();
  }

  void checkpointed(boolean synchronous, int count) {
    (synchronous ? syncCheckpoints : backgroundCheckpoints).increment(count);
  }

  void failoverWrite() {
    failoverWrites.increment();
  }

  void restored(Tier from) {
    restores.get(from).increment();
  }
}
