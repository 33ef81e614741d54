package io.messagestore.server.pump;

import java.util.List;

/**
 * Where a {@link BatchPump} commits its entries, e.g. PostgreSQL for the persistence streams, or
 * ClickHouse for the archiver and the analytics feed.
 *
 * <p>A commit must be idempotent: after a crash, a lost acknowledgement or a failure that left
 * it unknown whether a commit happened, the same entries are committed again.
 */
public interface PumpDestination<T> {

  /** Whether commits can be made at all yet (e.g. the schema exists); until then the pump waits. */
  boolean ready();

  /**
   * Commits the lanes' batches of one round (in one transaction where the destination can:
   * every commit has a fixed cost, so one per round is cheapest).
   *
   * @return per batch, in the same order, null when it is committed or the exception the
   *     destination refused its data with
   * @throws Exception when the destination cannot be reached ({@link #unreachable}): none of
   *     the batches can be reported committed, and the pump retries all of them
   */
  List<Exception> commit(List<List<T>> batches) throws Exception;

  /**
   * Commits one item on its own; used to find the entries of a refused batch that the
   * destination refuses.
   *
   * @throws Exception refused, or unreachable: told apart by {@link #unreachable}
   */
  void commitOne(T item) throws Exception;

  /** Whether a failure is the destination being away (not the entry's fault) rather than a refusal. */
  boolean unreachable(Exception failure);
}
