package io.messagestore.server.archive;

import com.clickhouse.client.api.ServerException;
import io.messagestore.server.clickhouse.ClickHouseTier;
import io.messagestore.server.pump.PumpDestination;
import io.messagestore.server.resilience.TierBreaker;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * ClickHouse as a batch pump's destination: a round is one write of every lane's rows, through
 * the clickhouse-write breaker. A failure ClickHouse answers for the data (a server error, or
 * rows that did not read back as written) is a refusal, which the pump isolates row by row; any
 * other is ClickHouse being away, and the round waits for it. Repeating a write is harmless:
 * the tables are ReplacingMergeTrees.
 *
 * @param <T> a row as {@link #write} takes it
 */
abstract class ClickHouseDestination<T> implements PumpDestination<T> {
  private final ClickHouseTier tier;
  private final TierBreaker breaker;

  ClickHouseDestination(ClickHouseTier tier, TierBreaker breaker) {
    this.tier = tier;
    this.breaker = breaker;
  }

  /** Writes the rows in one go; throws when ClickHouse refuses or cannot be reached. */
  abstract void write(List<T> rows) throws Exception;

  /** The health monitor creates the schema once ClickHouse answers. */
  @Override
  public final boolean ready() {
    return tier.schemaReady();
  }

  @Override
  public final List<Exception> commit(List<List<T>> batches) throws Exception {
    List<T> all = new ArrayList<>();
    batches.forEach(all::addAll);
    try {
      guarded(all);
      return Collections.nCopies(batches.size(), null);
    } catch (Exception e) {
      if (unreachable(e)) {
        throw e;
      }
      return Collections.nCopies(batches.size(), e);
    }
  }

  @Override
  public final void commitOne(T row) throws Exception {
    guarded(List.of(row));
  }

  @Override
  public final boolean unreachable(Exception failure) {
    return !(failure instanceof ArchiveMismatchException) && !(failure.getCause() instanceof ServerException);
  }

  private void guarded(List<T> rows) throws Exception {
    breaker.callBlocking(() -> {
      write(rows);
      return null;
    });
  }
}
