package io.messagestore.server.pump;

import java.util.List;

/** Told, on the pump's thread, of every commit a {@link BatchPump} makes and of every failed attempt. */
public interface PumpListener<T> {

  /**
   * @param items what was committed: all lanes' batches of a round, or one isolated entry
   * @param commitNanos how long the successful attempt took
   */
  void committed(List<T> items, long committedAtMillis, long commitNanos);

  /** An attempt failed because the destination was away; the pump retries. */
  void commitFailed(Exception failure);
}
