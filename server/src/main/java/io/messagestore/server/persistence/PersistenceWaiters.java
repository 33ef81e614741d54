package io.messagestore.server.persistence;

import java.util.Collection;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Durable sends waiting for the PostgreSQL commit of their message. Completed by this instance's
 * persisters directly and, for messages another instance persisted, from the persisted-ids
 * channel.
 */
public final class PersistenceWaiters {
  private final ConcurrentHashMap<String, CompletableFuture<Void>> waiting = new ConcurrentHashMap<>();

  /** Registers before the message can possibly be persisted, so no commit is missed. */
  public CompletableFuture<Void> register(String messageId) {
    return waiting.computeIfAbsent(messageId, id -> new CompletableFuture<>());
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
    for (String id : messageIds) {
      CompletableFuture<Void> f = waiting.remove(id);
      if (f != null) {
        f.complete(null);
        found.add(id);
      }
    }
    return found;
  }

  public int size() {
    return waiting.size();
  }
}
