package io.messagestore.client;

/**
 * The kinds of call that have a {@link RetryPolicy} of their own in
 * {@link MessageStoreClientOptions}: what may be repeated safely differs between them.
 */
public enum CallType {
  /**
   * {@code SendMessage} and {@code SendMessageBatch}. Retried only when every message carries an
   * idempotency key, the same one in every attempt (see {@link MessageStoreClient}), so a
   * message whose first attempt was stored before the answer got lost is stored once.
   */
  SEND,
  /**
   * Calls that change nothing: {@code GetMessage}, {@code ListMessages}, {@code ListThreads},
   * {@code GetThreadStats}, {@code GetRunState}, {@code GetTierStatus},
   * {@code ListDeadLetters}, and {@code CheckConsistency} without repair. Retried freely.
   */
  READ,
  /**
   * Other calls that change something: {@code PutRunState}, {@code DeleteThread},
   * {@code ReplayDeadLetters}, {@code RebuildCache}, {@code CheckConsistency} with repair. A
   * repeat of such a call after a lost answer is not the same as one call (a run state written
   * twice gets two versions), so by default they are not retried.
   */
  OTHER_WRITE,
  /**
   * Reopening a broken {@code WatchThread} stream after the last delivered message. Attempts
   * count failed reopenings in a row; a stream that delivered an event starts the count anew.
   */
  WATCH_RESUME
}
