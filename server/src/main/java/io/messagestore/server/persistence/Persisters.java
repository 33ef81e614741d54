package io.messagestore.server.persistence;

import com.google.common.util.concurrent.ThreadFactoryBuilder;
import io.lettuce.core.pubsub.RedisPubSubAdapter;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import io.messagestore.api.v1.Message;
import io.messagestore.server.postgres.PostgresMessageStore;
import io.messagestore.server.postgres.PostgresTier;
import io.messagestore.server.redis.RedisKeys;
import io.messagestore.server.redis.RedisTier;
import io.messagestore.server.redis.ThreadListCache;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.lang.management.ManagementFactory;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs this gateway instance's {@link StreamPersister} (one loop for every stream shard),
 * publishes what it commits (metrics, local durable waiters, the persisted-ids channel for other
 * instances) and completes local durable waiters for commits made elsewhere.
 */
public final class Persisters implements PersistenceObserver, AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Persisters.class);

  private final RedisTier redis;
  private final RedisKeys keys;
  private final PersistenceWaiters waiters;
  private final Clock clock;
  private final StreamPersister persister;
  private final ExecutorService loop;
  private final Timer lag;
  private final Timer commitTime;
  private final DistributionSummary batchSizes;
  private final Counter commitFailures;
  private final String consumerName;
  private volatile StatefulRedisPubSubConnection<String, String> subscription;

  public Persisters(RedisTier redis, RedisKeys keys, PostgresTier postgresTier, PostgresMessageStore postgres,
      DeadLetters deadLetters, PersistenceWaiters waiters, Clock clock, MeterRegistry meters, int batchSize,
      Duration linger, Duration claimTimeout, int maxDeliveries, int recentWindow) {
    this.redis = redis;
    this.keys = keys;
    this.waiters = waiters;
    this.clock = clock;
    this.lag = Timer.builder("messagestore.persistence.lag")
        .description("time from acknowledgement (message creation) to PostgreSQL commit")
        .publishPercentileHistogram().register(meters);
    this.commitTime = Timer.builder("messagestore.persistence.commit")
        .description("duration of a round's commit (every shard's batch of the round)")
        .publishPercentileHistogram().register(meters);
    this.batchSizes = DistributionSummary.builder("messagestore.persistence.batch.size").register(meters);
    this.commitFailures = Counter.builder("messagestore.persistence.commit.failures").register(meters);
    // Unique per process: a restarted gateway is a new consumer, and claims the old one's entries.
    this.consumerName = ManagementFactory.getRuntimeMXBean().getName() + "-" + UUID.randomUUID().toString().substring(0, 8);
    this.loop = Executors.newSingleThreadExecutor(named("persister"));
    this.persister = new StreamPersister(keys, recentWindow, consumerName,
        () -> redis.dedicatedConnection(Duration.ofSeconds(5)), postgresTier, postgres, deadLetters, this, clock,
        batchSize, linger, claimTimeout, maxDeliveries);
  }

  public String consumerName() {
    return consumerName;
  }

  public void start() {
    loop.submit(persister);
    subscribeToCommitsElsewhere();
    log.info("persister of {} stream shards started as consumer {}", keys.shards(), consumerName);
  }

  private void subscribeToCommitsElsewhere() {
    Thread t = new Thread(() -> {
      // Lettuce resubscribes after a reconnect, but only once a first connection existed.
      while (subscription == null && !loop.isShutdown()) {
        if (!trySubscribe()) {
          try {
            Thread.sleep(1000);
          } catch (InterruptedException e) {
            return;
          }
        }
      }
    }, "persisted-ids-subscriber");
    t.setDaemon(true);
    t.start();
  }

  private boolean trySubscribe() {
    try {
      StatefulRedisPubSubConnection<String, String> c = redis.pubSubConnection();
      c.addListener(new RedisPubSubAdapter<>() {
        @Override
        public void message(String channel, String message) {
          waiters.committed(Arrays.asList(message.split(",")));
        }
      });
      c.sync().subscribe(keys.persistedChannel());
      subscription = c;
      return true;
    } catch (RuntimeException e) {
      log.debug("cannot subscribe to {} yet: {}", keys.persistedChannel(), e.getMessage());
      return false;
    }
  }

  @Override
  public void committed(List<Message> messages, List<String> awaited, long committedAtMillis, long commitNanos) {
    List<String> ids = new ArrayList<>(messages.size());
    for (Message m : messages) {
      ids.add(m.getMessageId());
      long created = m.getCreatedAt().getSeconds() * 1000 + m.getCreatedAt().getNanos() / 1_000_000;
      lag.record(Math.max(0, committedAtMillis - created), TimeUnit.MILLISECONDS);
    }
    batchSizes.record(messages.size());
    commitTime.record(commitNanos, TimeUnit.NANOSECONDS);
    // Locally every id: a durable duplicate may wait for an entry that was not itself durable.
    java.util.Set<String> answeredHere = waiters.committed(ids);
    try {
      var cmd = redis.async();
      // Thread counts and activity just changed in PostgreSQL.
      ThreadListCache.forget(cmd, keys, messages.stream().map(Message::getUserId).toList());
      // Durable sends waiting on another instance learn of the commit here. A durable send
      // registers its waiter before its write, so one that is not here waits elsewhere.
      List<String> elsewhere = awaited.stream().filter(id -> !answeredHere.contains(id)).toList();
      if (!elsewhere.isEmpty()) {
        cmd.publish(keys.persistedChannel(), String.join(",", elsewhere).getBytes(java.nio.charset.StandardCharsets.US_ASCII));
      }
    } catch (RuntimeException e) {
      log.debug("cannot update redis after commit: {}", e.toString());
    }
  }

  @Override
  public void commitFailed(Exception e) {
    commitFailures.increment();
    log.debug("postgres commit failed, retrying: {}", e.toString());
  }

  /** Stops reading new entries and waits for the round being committed, up to {@code grace}. */
  public void drain(Duration grace) {
    persister.stop();
    loop.shutdown();
    try {
      if (!loop.awaitTermination(grace.toMillis(), TimeUnit.MILLISECONDS)) {
        log.warn("persister did not finish within {}; its entries stay pending for another instance", grace);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public void close() {
    drain(Duration.ofSeconds(5));
    loop.shutdownNow();
    if (subscription != null) {
      subscription.close();
    }
  }

  private static java.util.concurrent.ThreadFactory named(String prefix) {
    return new ThreadFactoryBuilder().setNameFormat(prefix + "-%d").setDaemon(true).build();
  }
}
