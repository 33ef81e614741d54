package io.messagestore.server.persistence;

import io.messagestore.server.eventloop.EventLoops;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;

/**
 * Durable sends waiting for the PostgreSQL commit of their message. Completed by this instance's
 * persister directly and, for messages another instance persisted, from the persisted-ids
 * channel.
 *
 * <p>A waiter registered on an event loop is completed on that loop, all of one commit's
 * waiters of a loop in one task: the completion runs the rest of the call (building and
 * writing its answer), and done on the committing thread every answer would be a write from
 * outside the connection's loop, each waking the loop on its own.
 */
public final class PersistenceWaiters {
  private final ConcurrentHashMap<String, Waiter> waiting = new ConcurrentHashMap<>();
  private final EventLoops loops;

  /** @param loops the event loops calls run on; null when waiters complete where the commit is */
  public PersistenceWaiters(EventLoops loops) {
    this.loops = loops;
  }

  /** Registers before the message can possibly be persisted, so no commit is missed. */
  public CompletableFuture<Void> register(String messageId) {
    return waiting.computeIfAbsent(messageId,
        id -> new Waiter(new CompletableFuture<>(), loops == null ? -1 : loops.currentIndex())).commit;
  }

  public void forget(String messageId) {
    waiting.remove(messageId);
  }

  /** Completes the waiters of these ids; returns the ids that had one here. */
  public Set<String> committed(Collection<String> messageIds) {
    if (waiting.isEmpty()) {
      return Set.of();
    }
    Set<String> found = new HashSet<>();
    List<List<CompletableFuture<Void>>> perLoop = null;
    for (String id : messageIds) {
      Waiter w = waiting.remove(id);
      if (w == null) {
        continue;
      }
      found.add(id);
      if (w.loop < 0) {
        w.commit.complete(null);
        continue;
      }
      if (perLoop == null) {
        perLoop = new ArrayList<>();
        for (int i = 0; i < loops.size(); i++) {
          perLoop.add(new ArrayList<>());
        }
      }
      perLoop.get(w.loop).add(w.commit);
    }
    if (perLoop != null) {
      for (int i = 0; i < perLoop.size(); i++) {
        List<CompletableFuture<Void>> commits = perLoop.get(i);
        if (commits.isEmpty()) {
          continue;
        }
        Runnable complete = () -> commits.forEach(c -> c.complete(null));
        try {
          loops.execute(i, complete);
        } catch (RejectedExecutionException e) {
          // The loop is shutting down: its calls are being cancelled, but the commit happened.
          complete.run();
        }
      }
    }
    return found;
  }

  public int size() {
    return waiting.size();
  }

  private record Waiter(CompletableFuture<Void> commit, int loop) {}
}
