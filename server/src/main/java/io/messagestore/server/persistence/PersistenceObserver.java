package io.messagestore.server.persistence;

import io.messagestore.api.v1.Message;
import java.util.List;

/** Told about every commit a persister makes. */
interface PersistenceObserver {
  /** @param awaited ids among {@code messages} that a durable send waits for */
  void committed(List<Message> messages, List<String> awaited, long committedAtMillis, long commitNanos);

  void commitFailed(Exception e);
}
