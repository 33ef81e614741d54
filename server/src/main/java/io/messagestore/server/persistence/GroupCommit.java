package io.messagestore.server.persistence;

import io.messagestore.server.postgres.PostgresTier;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Commits the batches of several stream shards as one PostgreSQL statement and transaction, and
 * tells which of them PostgreSQL refused when it refuses the data.
 *
 * <p>Every commit pays a transaction, a WAL flush, a plan, and an update (with an index entry)
 * of each thread row it touches, whatever its size, so the shards' batches of one round go in
 * together. When the combined statement is refused for its data (a poison entry), each batch
 * is committed on its own, so the poison entry holds back only its own shard's batch, which the
 * persister then takes apart entry by entry. A connectivity failure is thrown as it is: nothing
 * can be told about any batch then, and the caller retries all of them (a batch that did
 * commit before the failure is skipped by the retry's {@code ON CONFLICT DO NOTHING}).
 */
final class GroupCommit<T> {

  /** Writes one list of rows in one statement and transaction. */
  @FunctionalInterface
  interface BatchInsert<T> {
    void insert(List<T> rows) throws Exception;
  }

  private final BatchInsert<T> insert;

  GroupCommit(BatchInsert<T> insert) {
    this.insert = insert;
  }

  /**
   * Commits every batch; returns, per batch and in the same order, null when it is committed or
   * the exception PostgreSQL refused it with.
   *
   * @throws Exception a connectivity failure ({@link PostgresTier#isConnectivityFailure}): none
   *     of the batches can be reported committed
   */
  List<Exception> commit(List<List<T>> batches) throws Exception {
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
      if (PostgresTier.isConnectivityFailure(e)) {
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
      if (PostgresTier.isConnectivityFailure(e)) {
        throw e;
      }
      return e;
    }
  }
}
