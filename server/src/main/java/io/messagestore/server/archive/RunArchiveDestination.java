package io.messagestore.server.archive;

import io.messagestore.api.v1.RunState;
import io.messagestore.server.clickhouse.ClickHouseRunStates;
import io.messagestore.server.clickhouse.ClickHouseTier;
import io.messagestore.server.postgres.RunArchiveRows.CompletedRun;
import io.messagestore.server.resilience.TierBreaker;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * ClickHouse's {@code run_states_archive} as the run archive pump's destination: one INSERT of
 * every version of the round's runs, then a read back; committed only if each version is there
 * as written.
 */
final class RunArchiveDestination extends ClickHouseDestination<CompletedRun> {
  private final ClickHouseRunStates archive;
  private final Clock clock;

  RunArchiveDestination(ClickHouseTier tier, ClickHouseRunStates archive, TierBreaker breaker, Clock clock) {
    super(tier, breaker);
    this.archive = archive;
    this.clock = clock;
  }

  @Override
  void write(List<CompletedRun> runs) throws Exception {
    List<RunState> versions = new ArrayList<>();
    runs.forEach(r -> versions.addAll(r.versions()));
    archive.copy(versions, clock.instant());
    Map<String, String> stored = archive.stored(runs.stream().map(CompletedRun::runId).toList());
    for (RunState s : versions) {
      if (!ClickHouseRunStates.encode(s).equals(stored.get(s.getRunId() + "/" + s.getVersion()))) {
        throw new ArchiveMismatchException("version " + s.getVersion() + " of run " + s.getRunId()
            + " did not read back as written from ClickHouse");
      }
    }
  }
}
