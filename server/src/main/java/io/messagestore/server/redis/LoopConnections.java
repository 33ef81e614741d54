package io.messagestore.server.redis;

import io.lettuce.core.RedisConnectionException;
import io.lettuce.core.api.StatefulRedisConnection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.function.IntFunction;
import java.util.function.IntSupplier;

/**
 * One Redis connection per event loop, opened lazily and opened again once closed.
 *
 * <p>An event loop never waits for a connect: while one is in progress its calls fail at once
 * (and fail over) instead. Other threads wait for the connect, up to a limit.
 */
final class LoopConnections {
  private final String purpose;
  private final String address;
  private final IntSupplier currentLoop;
  private final IntFunction<CompletableFuture<StatefulRedisConnection<String, byte[]>>> connect;
  private final Duration connectWait;
  private final AtomicReferenceArray<CompletableFuture<StatefulRedisConnection<String, byte[]>>> slots;

  /**
   * @param currentLoop the calling thread's event loop index, negative off the loops
   * @param connect opens the connection of loop {@code i}; it completes once the connection is
   *     ready for use
   */
  LoopConnections(String purpose, String address, int loops, IntSupplier currentLoop,
      IntFunction<CompletableFuture<StatefulRedisConnection<String, byte[]>>> connect, Duration connectWait) {
    this.purpose = purpose;
    this.address = address;
    this.currentLoop = currentLoop;
    this.connect = connect;
    this.connectWait = connectWait;
    this.slots = new AtomicReferenceArray<>(loops);
  }

  /**
   * The connection of the calling event loop (any one for other threads).
   *
   * @throws RedisConnectionException when the connection is not open yet; on an event loop
   *     this is immediate (a connect is started in the background), elsewhere after waiting for
   *     the connect
   */
  StatefulRedisConnection<String, byte[]> current() {
    int i = currentLoop.getAsInt();
    boolean onLoop = i >= 0;
    if (!onLoop) {
      i = (int) (Thread.currentThread().getId() % slots.length());
    }
    CompletableFuture<StatefulRedisConnection<String, byte[]>> f = slots.get(i);
    StatefulRedisConnection<String, byte[]> open = openOrNull(f);
    if (open != null) {
      return open;
    }
    f = connecting(i);
    open = openOrNull(f);
    if (open != null) {
      return open;
    }
    if (onLoop) {
      throw new RedisConnectionException("connecting to redis at " + address + " (" + purpose
          + " connection of event loop " + i + " not open yet)");
    }
    try {
      return f.get(connectWait.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new RedisConnectionException("interrupted while connecting to redis at " + address, e);
    } catch (Exception e) {
      Throwable c = e.getCause() == null ? e : e.getCause();
      throw c instanceof RedisConnectionException rce ? rce
          : new RedisConnectionException("cannot connect to redis at " + address + ": " + c, c);
    }
  }

  /**
   * Starts a connect for every loop that has no connection; the result completes when each
   * loop's connect has ended, whether it succeeded or not.
   */
  CompletableFuture<Void> connectAll() {
    CompletableFuture<?>[] connects = new CompletableFuture<?>[slots.length()];
    for (int i = 0; i < slots.length(); i++) {
      connects[i] = connecting(i).handle((c, e) -> null);
    }
    return CompletableFuture.allOf(connects);
  }

  /** Loop {@code i}'s connect: the one in progress or done, or a new one if it failed or closed. */
  private CompletableFuture<StatefulRedisConnection<String, byte[]>> connecting(int i) {
    CompletableFuture<StatefulRedisConnection<String, byte[]>> f = slots.get(i);
    if (f == null || (f.isDone() && openOrNull(f) == null)) {
      // One connect per loop at a time.
      CompletableFuture<StatefulRedisConnection<String, byte[]>> fresh = new CompletableFuture<>();
      if (slots.compareAndSet(i, f, fresh)) {
        connect.apply(i).whenComplete((c, e) -> {
          if (e != null) {
            fresh.completeExceptionally(e);
          } else {
            fresh.complete(c);
          }
        });
      }
    }
    return slots.get(i);
  }

  /** The connections that are open now. */
  List<StatefulRedisConnection<String, byte[]>> open() {
    List<StatefulRedisConnection<String, byte[]>> all = new ArrayList<>();
    for (int i = 0; i < slots.length(); i++) {
      StatefulRedisConnection<String, byte[]> c = openOrNull(slots.get(i));
      if (c != null) {
        all.add(c);
      }
    }
    return all;
  }

  /** The connection a connect produced, if it succeeded and is still open; null otherwise. */
  private static StatefulRedisConnection<String, byte[]> openOrNull(
      CompletableFuture<StatefulRedisConnection<String, byte[]>> connect) {
    if (connect == null || !connect.isDone() || connect.isCompletedExceptionally()) {
      return null;
    }
    StatefulRedisConnection<String, byte[]> c = connect.join();
    return c.isOpen() ? c : null;
  }
}
