package io.messagestore.server.persistence;

import io.messagestore.server.postgres.PostgresTier;
import java.util.ArrayList;
import java.util.List;

/**
 * Commits the batches that the shards' persisters hand in at about the same time as one
 * PostgreSQL statement and transaction.
 *
 * <p>Each shard keeps at most one batch in flight, so a shard alone commits as often as its
 * commits finish, and four shards under load made four small commits where one would do: every
 * commit pays a transaction, a WAL flush, a plan, and an update of each thread row it touches
 * (with an index entry, since the activity index covers the updated column), whatever its
 * size. Here a batch handed in while a commit runs waits for that commit and then goes in with
 * every other batch that waited, so the number of commits follows the commit latency, not the
 * number of shards. Measured on the benchmark machine: PostgreSQL CPU per cache send fell by a
 * third with one shard instead of four (docs/BENCHMARKS.md); this keeps the shards, which spread
 * the streams over a Redis cluster and over instances, and gets the one-shard commit rate.
 *
 * <p>No thread of its own: the first caller that finds no commit running commits everything
 * queued (its own batch included); the others wait, and are either committed by it or take over
 * what arrived after it started. A shard's order is kept because each shard waits for its batch.
 *
 * <p>When the combined statement fails for a reason other than connectivity (data PostgreSQL
 * refuses), each batch is committed on its own, so one shard's poison entry fails only that
 * shard's batch, which then isolates the entry itself.
 */
final class GroupCommit<T> {

  /** Writes one list of rows in one statement and transaction. */
  @FunctionalInterface
  interface BatchInsert<T> {
    void insert(List<T> rows) throws Exception;
  }

  private final BatchInsert<T> insert;
  private final Object lock = new Object();
  private List<Handed> queued = new ArrayList<>();
  private boolean committing;

  GroupCommit(BatchInsert<T> insert) {
    this.insert = insert;
  }

  /**
   * Returns once {@code batch} is committed, possibly together with other shards' batches;
   * throws what the commit that carried it threw.
   */
  void commit(List<T> batch) throws Exception {
    Handed mine = new Handed(batch);
    List<Handed> group;
    synchronized (lock) {
      queued.add(mine);
      while (committing && !mine.done) {
        lock.wait();
      }
      if (mine.done) {
        mine.rethrow();
        return;
      }
      committing = true;
      group = queued;
      queued = new ArrayList<>();
    }
    try {
      commitGroup(group);
    } finally {
      synchronized (lock) {
        for (Handed h : group) {
          if (!h.done) {
            // Only an Error gets here; a batch without an outcome must never pass for committed.
            h.failure = new IllegalStateException("the group commit carrying this batch ended without an outcome");
            h.done = true;
          }
        }
        committing = false;
        lock.notifyAll();
      }
    }
    mine.rethrow();
  }

  private void commitGroup(List<Handed> group) {
    if (group.size() == 1) {
      commitAlone(group.get(0));
      return;
    }
    List<T> all = new ArrayList<>();
    for (Handed h : group) {
      all.addAll(h.batch);
    }
    try {
      insert.insert(all);
      settle(group, null);
    } catch (Exception e) {
      if (PostgresTier.isConnectivityFailure(e)) {
        settle(group, e);
        return;
      }
      for (Handed h : group) {
        commitAlone(h);
      }
    }
  }

  private void commitAlone(Handed h) {
    Exception failure = null;
    try {
      insert.insert(h.batch);
    } catch (Exception e) {
      failure = e;
    }
    settle(List.of(h), failure);
  }

  private void settle(List<Handed> handed, Exception failure) {
    synchronized (lock) {
      for (Handed h : handed) {
        h.failure = failure;
        h.done = true;
      }
    }
  }

  /** One shard's batch and what became of it; fields guarded by {@code lock}. */
  private final class Handed {
    final List<T> batch;
    boolean done;
    Exception failure;

    Handed(List<T> batch) {
      this.batch = batch;
    }

    void rethrow() throws Exception {
      if (failure != null) {
        throw failure;
      }
    }
  }
}
