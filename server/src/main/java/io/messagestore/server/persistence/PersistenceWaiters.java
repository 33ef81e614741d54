package io.messagestore.server.persistence;

import java.util.Collection;
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

  public void committed(Collection<String> messageIds) {
    if (waiting.isEmpty()) {
      return;
    }
    for (String id : messageIds) {
      CompletableFuture<Void> f = waiting.remove(id);
      if (f != null) {
        f.complete(null);
      }
    }
  }

  public int size() {
    return waiting.size();
  }
}
