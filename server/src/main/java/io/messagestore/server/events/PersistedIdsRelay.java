package io.messagestore.server.events;

import com.google.common.util.concurrent.ThreadFactoryBuilder;
import io.lettuce.core.pubsub.RedisPubSubAdapter;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import io.messagestore.server.redis.RedisKeys;
import io.messagestore.server.redis.RedisTier;
import io.messagestore.server.resilience.Backoff;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.Collection;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Carries the ids of persisted messages between instances over the Redis pub/sub channel
 * {@code ms:persisted} (comma-separated ids): {@link #publish} sends them to every instance, and
 * what this instance hears is published on its {@link ClusterEvents} as {@link
 * MessagesPersistedElsewhere} (its own messages come back too, and find nobody waiting).
 *
 * <p>Subscribing starts at {@link #start()} and is retried with backoff (50 ms doubling to 1 s)
 * while Redis cannot be reached. Once subscribed, lettuce reconnects and subscribes again by
 * itself after a lost connection, but only once a first connection existed.
 */
public final class PersistedIdsRelay implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(PersistedIdsRelay.class);
  private static final Duration RETRY_SHORTEST = Duration.ofMillis(50);
  private static final Duration RETRY_LONGEST = Duration.ofSeconds(1);

  private final RedisTier redis;
  private final RedisKeys keys;
  private final ClusterEvents events;
  private final ScheduledExecutorService subscriber = Executors.newSingleThreadScheduledExecutor(
      new ThreadFactoryBuilder().setNameFormat("persisted-ids-subscriber").setDaemon(true).build());
  /** Used by the subscriber's thread only. */
  private final Backoff backoff = Backoff.exponential(RETRY_SHORTEST, RETRY_LONGEST);
  private volatile StatefulRedisPubSubConnection<String, String> subscription;

  public PersistedIdsRelay(RedisTier redis, RedisKeys keys, ClusterEvents events) {
    this.redis = redis;
    this.keys = keys;
    this.events = events;
  }

  public void start() {
    subscriber.execute(this::subscribe);
  }

  /** Whether this instance hears the channel (subscribed once; lettuce keeps it so). */
  public boolean subscribed() {
    return subscription != null;
  }

  private void subscribe() {
    StatefulRedisPubSubConnection<String, String> c = null;
    try {
      c = redis.pubSubConnection();
      c.addListener(new RedisPubSubAdapter<>() {
        @Override
        public void message(String channel, String message) {
          events.publish(new MessagesPersistedElsewhere(Arrays.asList(message.split(","))));
        }
      });
      c.sync().subscribe(keys.persistedChannel());
      subscription = c;
      // Lettuce keeps it subscribed from now on: the thread has nothing left to do.
      subscriber.shutdown();
    } catch (RuntimeException e) {
      if (c != null) {
        c.closeAsync();
      }
      Duration pause = backoff.next();
      log.debug("cannot subscribe to {} yet, again in {}: {}", keys.persistedChannel(), pause, e.getMessage());
      try {
        subscriber.schedule(this::subscribe, pause.toMillis(), TimeUnit.MILLISECONDS);
      } catch (RejectedExecutionException closed) {
        // Closed meanwhile.
      }
    }
  }

  /**
   * Tells the other instances that these messages are persisted, without waiting; a failure is
   * only logged (their durable sends then time out, and a retry finds the message stored).
   */
  public void publish(Collection<String> messageIds) {
    try {
      redis.async().publish(keys.persistedChannel(),
          String.join(",", messageIds).getBytes(StandardCharsets.US_ASCII));
    } catch (RuntimeException e) {
      log.debug("cannot publish persisted ids: {}", e.toString());
    }
  }

  @Override
  public void close() {
    subscriber.shutdownNow();
    try {
      subscriber.awaitTermination(2, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    StatefulRedisPubSubConnection<String, String> c = subscription;
    if (c != null) {
      c.close();
    }
  }
}
