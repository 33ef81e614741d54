package io.messagestore.server.watch;

import io.lettuce.core.pubsub.RedisPubSubAdapter;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import io.messagestore.server.redis.RedisKeys;
import io.messagestore.server.redis.RedisTier;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This instance's subscriptions to thread watch channels: one pub/sub connection for all of
 * them, one SUBSCRIBE per thread that has watchers here (the first watcher subscribes, the last
 * unsubscribes), and each announcement decoded once and handed to every watcher of its thread.
 *
 * <p>Whenever Redis confirms a subscription (the first time, and again after lettuce has
 * reconnected and subscribed anew), the thread's watchers are told to catch up from storage:
 * announcements published while the connection was down are gone.
 */
final class ThreadChannels implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ThreadChannels.class);
  private static final Duration MIN_SUBSCRIBE_TIMEOUT = Duration.ofSeconds(2);

  /** A watcher of one thread. Called on lettuce's thread: must not block. */
  interface Listener {
    void changed(ThreadChannel.Change change);

    /** Announcements may have been missed: catch up from storage. */
    void resync();

    /** Messages of the thread were committed without Redis: look behind the position too. */
    void writtenAroundRedis();
  }

  private final RedisTier redis;
  private final RedisKeys keys;
  private final Duration timeout;
  private final ConcurrentHashMap<String, Set<Listener>> byChannel = new ConcurrentHashMap<>();
  private volatile StatefulRedisPubSubConnection<String, byte[]> connection;

  ThreadChannels(RedisTier redis, RedisKeys keys) {
    this.redis = redis;
    this.keys = keys;
    // A SUBSCRIBE waits behind the connection's other traffic: the request path's short
    // timeout would refuse watches on a busy machine.
    this.timeout = redis.commandTimeout().compareTo(MIN_SUBSCRIBE_TIMEOUT) > 0 ? redis.commandTimeout()
        : MIN_SUBSCRIBE_TIMEOUT;
  }

  /** Whether announcements can arrive now. */
  boolean connected() {
    StatefulRedisPubSubConnection<String, byte[]> c = connection;
    return c != null && c.isOpen();
  }

  /**
   * Adds a watcher of the thread; completes once the thread's channel is subscribed, after
   * which the watcher is asked to {@link Listener#resync}. Blocks to connect the first time:
   * call it off the event loops.
   */
  CompletableFuture<Void> join(String threadId, Listener listener) {
    StatefulRedisPubSubConnection<String, byte[]> c;
    try {
      c = connection();
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
    String channel = keys.watchChannel(threadId);
    CompletableFuture<Void> subscribed = new CompletableFuture<>();
    boolean[] first = new boolean[1];
    byChannel.compute(channel, (ch, listeners) -> {
      if (listeners == null) {
        listeners = ConcurrentHashMap.newKeySet();
        first[0] = true;
        // Inside compute: a concurrent leave's UNSUBSCRIBE of this channel goes out before it.
        c.async().subscribe(ch).whenComplete((v, e) -> {
          if (e != null) {
            subscribed.completeExceptionally(e);
          } else {
            subscribed.complete(null);
          }
        });
      }
      listeners.add(listener);
      return listeners;
    });
    if (!first[0]) {
      // Subscribed already (or about to be, and then subscribed() resyncs it again).
      subscribed.complete(null);
      listener.resync();
    }
    return subscribed.orTimeout(timeout.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** Tells the thread's watchers here that messages were committed without Redis. */
  void writtenAroundRedis(String threadId) {
    Set<Listener> listeners = byChannel.get(keys.watchChannel(threadId));
    if (listeners != null) {
      listeners.forEach(Listener::writtenAroundRedis);
    }
  }

  /** Removes the watcher; the last one of a thread unsubscribes from its channel. */
  void leave(String threadId, Listener listener) {
    StatefulRedisPubSubConnection<String, byte[]> c = connection;
    byChannel.computeIfPresent(keys.watchChannel(threadId), (ch, listeners) -> {
      listeners.remove(listener);
      if (!listeners.isEmpty()) {
        return listeners;
      }
      if (c != null) {
        c.async().unsubscribe(ch);
      }
      return null;
    });
  }

  private synchronized StatefulRedisPubSubConnection<String, byte[]> connection() {
    if (connection == null) {
      StatefulRedisPubSubConnection<String, byte[]> c = redis.binaryPubSubConnection(timeout);
      c.addListener(new RedisPubSubAdapter<>() {
        @Override
        public void message(String channel, byte[] payload) {
          dispatch(channel, payload);
        }

        @Override
        public void subscribed(String channel, long count) {
          Set<Listener> listeners = byChannel.get(channel);
          log.debug("subscribed to {}: {} watchers here catch up", channel, listeners == null ? 0 : listeners.size());
          if (listeners != null) {
            listeners.forEach(Listener::resync);
          }
        }
      });
      connection = c;
    }
    return connection;
  }

  private void dispatch(String channel, byte[] payload) {
    Set<Listener> listeners = byChannel.get(channel);
    if (listeners == null) {
      return;
    }
    ThreadChannel.Change change;
    try {
      change = ThreadChannel.decode(payload);
    } catch (Exception e) {
      log.warn("undecodable announcement on {} ({} bytes): {}; its watchers catch up from storage", channel,
          payload.length, e.toString());
      listeners.forEach(Listener::resync);
      return;
    }
    if (change != null) {
      for (Listener l : listeners) {
        l.changed(change);
      }
    }
  }

  @Override
  public synchronized void close() {
    if (connection != null) {
      connection.close();
    }
  }
}
