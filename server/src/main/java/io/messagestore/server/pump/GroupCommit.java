package io.messagestore.server.pump;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Predicate;

/**
 * Commits several batches as one statement and transaction, and tells which of them the
 * destination refused when it refuses the data. Used for the persisters' shard batches of a
 * round and for concurrent failover writes ({@link CommitQueue}).
 *
 * <p>Every commit pays a transaction, a WAL flush, a plan, and an update (with an index entry)
 * of each thread row it touches, whatever its size, so batches that are ready together go in
 * together. When the combined statement is refused for its data (a poison entry), each batch
 * is committed on its own, so the poison entry holds back only its own batch. A failure that
 * means the destination is unreachable is thrown as it is: nothing can be told about any batch
 * then, and the caller retries or fails all of them (a batch that did commit before the failure
 * is skipped by a retry's {@code ON CONFLICT DO NOTHING}).
 */
public final class GroupCommit<T> {

  /** Writes one list of rows in one statement and transaction. */
  @FunctionalInterface
  public interface BatchInsert<T> {
    void insert(List<T> rows) throws Exception;
  }

  private final BatchInsert<T> insert;
  private final Predicate<Exception> unreachable;

  /**
   * @param unreachable whether a failure means the destination could not be reached (rather
   *     than that it refused the data), e.g. {@code PostgresTier::isConnectivityFailure}
   */
  public GroupCommit(BatchInsert<T> insert, Predicate<Exception> unreachable) {
    this.insert = insert;
    this.unreachable = unreachable;
  }

  /**
   * Commits every batch; returns, per batch and in the same order, null when it is committed or
   * the exception the destination refused it with.
   *
   * @throws Exception a failure that means the destination is unreachable: none of the batches
   *     can be reported committed
   */
  public List<Exception> commit(List<List<T>> batches) throws Exception {
    Exception[] refused = new Exception[batches.size()];
    if (batches.size() == 1) {
      refused[0] = commitAlone(batches.get(0));
      return Arrays.asList(refused);
    }
    List<T> all = new ArrayList<>();
    batches.forEach(all::addAll);
    try {
      insert.insert(all);
      return Arrays.asList(refused);
    } catch (Exception e) {
      if (unreachable.test(e)) {
        throw e;
      }
    }
    for (int i = 0; i < batches.size(); i++) {
      refused[i] = commitAlone(batches.get(i));
    }
    return Arrays.asList(refused);
  }

  private Exception commitAlone(List<T> batch) throws Exception {
    try {
      insert.insert(batch);
      return null;
    } catch (Exception e) {
      if (unreachable.test(e)) {
        throw e;
      }
      return e;
    }
  }
}
