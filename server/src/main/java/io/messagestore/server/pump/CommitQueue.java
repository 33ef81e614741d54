package io.messagestore.server.pump;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.LinkedBlockingDeque;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.ToIntFunction;

/**
 * Group commit for callers that wait: concurrent submissions are committed together, in one
 * statement and transaction per group ({@link GroupCommit}), by committer threads of its own.
 *
 * <p>A group is everything queued when a committer comes round, once its oldest item has
 * waited {@code linger} (items queued while the previous group was committing have usually
 * waited longer than that already, and go at once), up to {@code maxWeight} (an item heavier
 * than that goes alone). One committer forms a group at a time, so two never split what has
 * arrived between them; with several committers, the next group forms and commits while the
 * previous one is still committing (its round trips and its WAL flush overlap). Each item is a batch of its own for {@link GroupCommit}: when the
 * destination refuses the combined statement for its data, each item is committed on its own
 * and only the refused one fails. When the destination is unreachable, every item of the group
 * fails with that failure. An item's future completes on {@code completions}, after its group's
 * commit, so the committer can take the next group meanwhile.
 */
public final class CommitQueue<T> implements AutoCloseable {

  /** What a group commit did, for metrics: items and their weight in the group. */
  public record Group(int items, int weight) {}

  private record Queued<T>(T item, CompletableFuture<Void> done, long queuedAt) {}

  /** Ends one committer when it is the first item of its next group. */
  private static final Queued<Object> STOP = new Queued<>(null, null, 0);

  private final GroupCommit<T> commits;
  private final ToIntFunction<T> weight;
  private final int maxWeight;
  private final long lingerNanos;
  private final Executor completions;
  private final Consumer<Group> onGroup;
  private final LinkedBlockingDeque<Queued<?>> queue = new LinkedBlockingDeque<>();
  private final Object forming = new Object();
  private final List<Thread> committers = new ArrayList<>();
  private volatile boolean closed;

  /**
   * @param committers how many groups may be committing at once
   * @param commits how a group is written, and which failures mean the destination is unreachable
   * @param weight e.g. an item's row count
   * @param maxWeight the most weight one group takes
   * @param completions where the items' futures are completed
   * @param onGroup told of each group before its commit
   */
  public CommitQueue(String threadName, int committers, GroupCommit<T> commits, ToIntFunction<T> weight,
      int maxWeight, Duration linger, Executor completions, Consumer<Group> onGroup) {
    this.commits = commits;
    this.weight = weight;
    this.maxWeight = maxWeight;
    this.lingerNanos = linger.toNanos();
    this.completions = completions;
    this.onGroup = onGroup;
    for (int i = 0; i < committers; i++) {
      Thread t = new Thread(this::run, threadName + "-" + i);
      t.setDaemon(true);
      this.committers.add(t);
      t.start();
    }
  }

  /** Completes once {@code item} is committed; fails with what refused it, or made it unreachable. */
  public CompletableFuture<Void> submit(T item) {
    if (closed) {
      return CompletableFuture.failedFuture(new IllegalStateException("the commit queue is closed"));
    }
    CompletableFuture<Void> done = new CompletableFuture<>();
    queue.add(new Queued<>(item, done, System.nanoTime()));
    return done;
  }

  /** Commits what is queued, then stops; later submissions fail. */
  @Override
  public void close() {
    closed = true;
    committers.forEach(t -> queue.add(STOP));
    try {
      for (Thread t : committers) {
        t.join(TimeUnit.SECONDS.toMillis(30));
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    for (Queued<?> q; (q = queue.poll()) != null; ) {
      if (q != STOP) {
        q.done().completeExceptionally(new IllegalStateException("the commit queue is closed"));
      }
    }
  }

  private void run() {
    try {
      while (true) {
        List<Queued<T>> group;
        synchronized (forming) {
          group = nextGroup();
        }
        if (group == null) {
          return;
        }
        commit(group);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** The next group, after its oldest item's linger; null for a committer to stop. */
  @SuppressWarnings("unchecked")
  private List<Queued<T>> nextGroup() throws InterruptedException {
    Queued<?> first = queue.take();
    if (first == STOP) {
      return null;
    }
    List<Queued<T>> group = new ArrayList<>();
    group.add((Queued<T>) first);
    int total = weight.applyAsInt((T) first.item());
    long deadline = first.queuedAt() + lingerNanos;
    while (total < maxWeight) {
      long left = deadline - System.nanoTime();
      Queued<?> next = left <= 0 ? queue.poll() : queue.poll(left, TimeUnit.NANOSECONDS);
      if (next == null) {
        break;
      }
      if (next == STOP) {
        // Closing: commit what is here without lingering; the marker stops a committer next.
        queue.addFirst(next);
        break;
      }
      int w = weight.applyAsInt((T) next.item());
      if (total + w > maxWeight) {
        queue.addFirst(next);
        break;
      }
      group.add((Queued<T>) next);
      total += w;
    }
    onGroup.accept(new Group(group.size(), total));
    return group;
  }

  private void commit(List<Queued<T>> group) {
    List<List<T>> batches = new ArrayList<>(group.size());
    group.forEach(q -> batches.add(List.of(q.item())));
    List<Exception> refused;
    try {
      refused = commits.commit(batches);
    } catch (Exception | Error e) {
      complete(() -> group.forEach(q -> q.done().completeExceptionally(e)));
      return;
    }
    complete(() -> {
      for (int i = 0; i < group.size(); i++) {
        Exception e = refused.get(i);
        if (e == null) {
          group.get(i).done().complete(null);
        } else {
          group.get(i).done().completeExceptionally(e);
        }
      }
    });
  }

  private void complete(Runnable completion) {
    try {
      completions.execute(completion);
    } catch (RejectedExecutionException e) {
      completion.run();
    }
  }
}
