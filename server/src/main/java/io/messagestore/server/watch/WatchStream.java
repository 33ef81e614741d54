package io.messagestore.server.watch;

import io.messagestore.api.v1.ThreadEvent;

/**
 * The caller's end of one WatchThread stream, as the API edge gives it: flow control (its
 * readiness, and a callback once it can take more) and the ways it ends. Failures are the
 * server's errors ({@code StoreError}); the edge turns them into statuses.
 */
public interface WatchStream {
  /** Whether an event sent now goes out without piling up in the transport's buffer. */
  boolean isReady();

  void send(ThreadEvent event);

  void complete();

  void fail(RuntimeException error);

  /** Called (on any thread) whenever the stream becomes ready after not being ready. */
  void onReady(Runnable r);

  /** Called (on any thread) when the caller goes away: cancelled, deadline, connection lost. */
  void onCancel(Runnable r);
}
