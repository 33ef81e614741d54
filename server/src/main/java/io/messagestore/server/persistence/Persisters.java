package io.messagestore.server.persistence;

import com.google.common.util.concurrent.ThreadFactoryBuilder;
import io.messagestore.api.v1.Message;
import io.messagestore.server.config.PersistenceSettings;
import io.messagestore.server.events.ClusterEvents;
import io.messagestore.server.events.MessagesPersisted;
import io.messagestore.server.postgres.PostgresMessageStore;
import io.messagestore.server.postgres.PostgresTier;
import io.messagestore.server.pump.PumpListener;
import io.messagestore.server.redis.RedisKeys;
import io.messagestore.server.redis.RedisTier;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.lang.management.ManagementFactory;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs this gateway instance's {@link StreamPersister} (one loop for every stream shard), records
 * what it commits in the metrics, and announces each commit on the {@link ClusterEvents} as
 * {@link MessagesPersisted} (durable waiters, cached thread lists and other instances subscribe
 * there).
 */
public final class Persisters implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Persisters.class);

  private final RedisKeys keys;
  private final StreamPersister persister;
  private final ExecutorService loop;
  private final String consumerName;

  public Persisters(RedisTier redis, RedisKeys keys, PostgresTier postgresTier, PostgresMessageStore postgres,
      DeadLetters deadLetters, ClusterEvents events, Clock clock, MeterRegistry meters,
      PersistenceSettings settings, int recentWindow) {
    this.keys = keys;
    // Unique per process: a restarted gateway is a new consumer, and claims the old one's entries.
    this.consumerName = ManagementFactory.getRuntimeMXBean().getName() + "-" + UUID.randomUUID().toString().substring(0, 8);
    this.loop = Executors.newSingleThreadExecutor(named("persister"));
    this.persister = new StreamPersister(keys, recentWindow, consumerName,
        () -> redis.dedicatedConnection(Duration.ofSeconds(5)), postgresTier, postgres, deadLetters,
        new Commits(events, meters), clock, settings.batchSize(), settings.linger(), settings.pendingClaimTimeout(),
        settings.maxDeliveries(), settings.forgetConsumersAfter());
  }

  public String consumerName() {
    return consumerName;
  }

  public void start() {
    loop.submit(persister);
    log.info("persister of {} stream shards started as consumer {}", keys.shards(), consumerName);
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
  }

  private static java.util.concurrent.ThreadFactory named(String prefix) {
    return new ThreadFactoryBuilder().setNameFormat(prefix + "-%d").setDaemon(true).build();
  }

  /** Records each commit in the metrics and announces it on the cluster events. */
  private static final class Commits implements PumpListener<StreamEntry> {
    private final ClusterEvents events;
    private final Timer lag;
    private final Timer commitTime;
    private final DistributionSummary batchSizes;
    private final Counter commitFailures;

    Commits(ClusterEvents events, MeterRegistry meters) {
      this.events = events;
      this.lag = Timer.builder("messagestore.persistence.lag")
          .description("time from acknowledgement (message creation) to PostgreSQL commit")
          .publishPercentileHistogram().register(meters);
      this.commitTime = Timer.builder("messagestore.persistence.commit")
          .description("duration of a round's commit (every shard's batch of the round)")
          .publishPercentileHistogram().register(meters);
      this.batchSizes = DistributionSummary.builder("messagestore.persistence.batch.size").register(meters);
      this.commitFailures = Counter.builder("messagestore.persistence.commit.failures").register(meters);
    }

    @Override
    public void committed(List<StreamEntry> entries, long committedAtMillis, long commitNanos) {
      List<Message> messages = new ArrayList<>(entries.size());
      List<String> awaited = new ArrayList<>();
      for (StreamEntry e : entries) {
        Message m = e.message();
        messages.add(m);
        if (e.durable()) {
          awaited.add(m.getMessageId());
        }
        long created = m.getCreatedAt().getSeconds() * 1000 + m.getCreatedAt().getNanos() / 1_000_000;
        lag.record(Math.max(0, committedAtMillis - created), TimeUnit.MILLISECONDS);
      }
      batchSizes.record(messages.size());
      commitTime.record(commitNanos, TimeUnit.NANOSECONDS);
      events.publish(new MessagesPersisted(messages, awaited, committedAtMillis));
    }

    @Override
    public void commitFailed(Exception e) {
      commitFailures.increment();
      log.debug("postgres commit failed, retrying: {}", e.toString());
    }
  }
}
