package io.messagestore.server.persistence;

import io.messagestore.api.v1.Message;
import java.util.List;

/** Told about every commit a persister makes. */
interface PersistenceObserver {
  void committed(List<Message> messages, long committedAtMillis, long commitNanos);

  void commitFailed(Exception e);
}
