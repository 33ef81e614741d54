package io.messagestore.server.health;

import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.protobuf.services.HealthStatusManager;
import io.messagestore.server.clickhouse.ClickHouseTier;
import io.messagestore.server.persistence.StreamBacklog;
import io.messagestore.server.postgres.PostgresTier;
import io.messagestore.server.redis.RedisTier;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.sql.Connection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.ToLongFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Probes every tier on a fixed interval and publishes the result: grpc.health.v1 statuses
 * ({@code messagestore.redis}, {@code messagestore.postgres}, {@code messagestore.clickhouse} and
 * the overall service), gauges, and the snapshots behind {@code GetTierStatus}.
 *
 * <p>The first successful probe of PostgreSQL and ClickHouse also creates their schema, which is
 * how a gateway started while a tier was down becomes fully usable once the tier comes up.
 */
public final class TierHealthMonitor implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(TierHealthMonitor.class);
  public static final String REDIS_SERVICE = "messagestore.redis";
  public static final String POSTGRES_SERVICE = "messagestore.postgres";
  public static final String CLICKHOUSE_SERVICE = "messagestore.clickhouse";
  /** A JDBC validity check, the one step of a probe an interrupt does not cut short, takes 1 s at most. */
  private static final Duration CLOSE_WAIT = Duration.ofSeconds(2);
  private static final List<String> MESSAGESTORE_SERVICES =
      List.of("", "messagestore.v1.MessageStore", "messagestore.v1.MessageStoreAdmin");

  private final RedisTier redis;
  private final PostgresTier postgres;
  private final ClickHouseTier clickhouse;
  private final StreamBacklog backlog;
  private final HealthStatusManager health;
  private final Duration interval;
  private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "tier-health");
    t.setDaemon(true);
    return t;
  });
  private volatile TierSnapshot redisSnapshot = TierSnapshot.unknown();
  private volatile TierSnapshot postgresSnapshot = TierSnapshot.unknown();
  private volatile TierSnapshot clickhouseSnapshot = TierSnapshot.unknown();
  private volatile boolean closed;
  /** The last probe's INFO memory, for the gauges; null while unknown. */
  private volatile RedisMemory redisMemory;

  public TierHealthMonitor(RedisTier redis, PostgresTier postgres, ClickHouseTier clickhouse, StreamBacklog backlog,
      HealthStatusManager health, Duration interval, MeterRegistry meters) {
    this.redis = redis;
    this.postgres = postgres;
    this.clickhouse = clickhouse;
    this.backlog = backlog;
    this.health = health;
    this.interval = interval;
    Gauge.builder("messagestore.tier.up", () -> redisSnapshot.reachable() ? 1 : 0).tag("tier", "redis").register(meters);
    Gauge.builder("messagestore.tier.up", () -> postgresSnapshot.reachable() ? 1 : 0).tag("tier", "postgres").register(meters);
    Gauge.builder("messagestore.tier.up", () -> clickhouseSnapshot.reachable() ? 1 : 0).tag("tier", "clickhouse").register(meters);
    Gauge.builder("messagestore.redis.memory.used", () -> redisMemoryBytes(RedisMemory::usedBytes))
        .baseUnit("bytes").description("Redis used_memory at the last probe").register(meters);
    Gauge.builder("messagestore.redis.memory.max", () -> redisMemoryBytes(RedisMemory::maxBytes))
        .baseUnit("bytes").description("Redis maxmemory at the last probe (0: no limit)").register(meters);
  }

  private double redisMemoryBytes(ToLongFunction<RedisMemory> field) {
    RedisMemory m = redisMemory;
    return m == null ? Double.NaN : field.applyAsLong(m);
  }

  /** Probes once synchronously (so start-up logs say what is reachable), then on the interval. */
  public void start() {
    probeAll();
    scheduler.scheduleWithFixedDelay(this::probeAll, interval.toMillis(), interval.toMillis(), TimeUnit.MILLISECONDS);
  }

  public TierSnapshot redis() { return redisSnapshot; }
  public TierSnapshot postgres() { return postgresSnapshot; }
  public TierSnapshot clickhouse() { return clickhouseSnapshot; }

  void probeAll() {
    TierSnapshot r = probeRedis();
    TierSnapshot p = probePostgres();
    TierSnapshot c = probeClickHouse();
    if (closed) {
      // close() interrupts a probe in progress: what it saw is the gateway stopping (an
      // interrupted wait, closed connections), not a tier failing; reported, it would be a
      // warning ("unreachable") in every clean stop that happened during a probe.
      return;
    }
    logChange("redis", redisSnapshot, r);
    logChange("postgres", postgresSnapshot, p);
    logChange("clickhouse", clickhouseSnapshot, c);
    redisSnapshot = r;
    postgresSnapshot = p;
    clickhouseSnapshot = c;
    health.setStatus(REDIS_SERVICE, status(r.reachable()));
    health.setStatus(POSTGRES_SERVICE, status(p.reachable()));
    health.setStatus(CLICKHOUSE_SERVICE, status(c.reachable()));
    // Writes need Redis or PostgreSQL; with neither, callers should go elsewhere.
    ServingStatus overall = status(r.reachable() || p.reachable());
    for (String s : MESSAGESTORE_SERVICES) {
      health.setStatus(s, overall);
    }
  }

  private static void logChange(String tier, TierSnapshot before, TierSnapshot after) {
    if (before.reachable() != after.reachable() || before.detail().equals("not probed yet")) {
      if (after.reachable()) {
        log.info("{} reachable: {}", tier, after.detail());
      } else {
        log.warn("{} unreachable: {}", tier, after.detail());
      }
      for (String w : after.warnings()) {
        log.warn("{}: {}", tier, w);
      }
    }
  }

  private static ServingStatus status(boolean up) {
    return up ? ServingStatus.SERVING : ServingStatus.NOT_SERVING;
  }

  private TierSnapshot probeRedis() {
    long start = System.nanoTime();
    try {
      var cmd = redis.async();
      cmd.ping().get(1, TimeUnit.SECONDS);
      long micros = (System.nanoTime() - start) / 1000;
      List<String> warnings = new ArrayList<>();
      String persistence = redisPersistence(cmd, warnings);
      String memory = redisMemory(cmd, warnings);
      try {
        backlog.refresh();
      } catch (Exception e) {
        warnings.add("backlog unknown: " + e.getMessage());
      }
      return new TierSnapshot(true, micros, redis.address() + " " + persistence + " " + memory,
          List.copyOf(warnings));
    } catch (Exception e) {
      redisMemory = null;
      return new TierSnapshot(false, 0, redis.address() + ": " + rootMessage(e), List.of());
    }
  }

  /**
   * Reports how crash-safe a Redis acknowledgement is, from the server's own settings; managed
   * Redis services often disable CONFIG, in which case the guarantee is unknown and says so.
   */
  private static String redisPersistence(io.lettuce.core.api.async.RedisAsyncCommands<String, byte[]> cmd,
      List<String> warnings) {
    try {
      Map<String, String> aof = cmd.configGet("appendonly", "appendfsync").get(1, TimeUnit.SECONDS);
      String appendonly = aof.getOrDefault("appendonly", "unknown");
      String fsync = aof.getOrDefault("appendfsync", "unknown");
      if (!"yes".equals(appendonly)) {
        warnings.add("appendonly=" + appendonly + ": acknowledgements from Redis (TIER_REDIS) not yet persisted to "
            + "PostgreSQL are lost if Redis crashes; use appendonly yes (appendfsync everysec loses at most ~1 s, "
            + "always loses nothing) or DURABILITY_DURABLE");
      } else if ("no".equals(fsync)) {
        warnings.add("appendfsync=no: the OS decides when the AOF reaches disk; a machine crash can lose "
            + "tens of seconds of TIER_REDIS acknowledgements");
      }
      return "appendonly=" + appendonly + " appendfsync=" + fsync;
    } catch (Exception e) {
      warnings.add("persistence settings unknown (CONFIG GET refused): crash safety of TIER_REDIS acknowledgements unknown");
      return "persistence=unknown";
    }
  }

  /**
   * Reports how close Redis is to refusing writes and whether its eviction policy is safe; INFO
   * is allowed on managed Redis services that refuse CONFIG, so this is known more often.
   */
  private String redisMemory(io.lettuce.core.api.async.RedisAsyncCommands<String, byte[]> cmd, List<String> warnings) {
    try {
      RedisMemory memory = RedisMemory.parse(cmd.info("memory").get(1, TimeUnit.SECONDS));
      redisMemory = memory;
      warnings.addAll(memory.warnings());
      return memory.detail();
    } catch (Exception e) {
      redisMemory = null;
      warnings.add("memory unknown (INFO memory failed: " + rootMessage(e) + ")");
      return "memory=unknown";
    }
  }

  private TierSnapshot probePostgres() {
    long start = System.nanoTime();
    try (Connection c = postgres.connection()) {
      if (!c.isValid(1)) {
        return new TierSnapshot(false, 0, "connection not valid", List.of());
      }
      long micros = (System.nanoTime() - start) / 1000;
      String version = c.getMetaData().getDatabaseProductVersion();
      List<String> warnings = new ArrayList<>();
      if (!postgres.ensureSchema()) {
        warnings.add("schema migration pending");
      }
      return new TierSnapshot(true, micros, "PostgreSQL " + version, List.copyOf(warnings));
    } catch (Exception e) {
      return new TierSnapshot(false, 0, rootMessage(e), List.of());
    }
  }

  private TierSnapshot probeClickHouse() {
    long start = System.nanoTime();
    if (!clickhouse.ping()) {
      return new TierSnapshot(false, 0, clickhouse.address() + " does not answer /ping", List.of());
    }
    long micros = (System.nanoTime() - start) / 1000;
    List<String> warnings = new ArrayList<>();
    String version = "unknown";
    try {
      version = clickhouse.version();
    } catch (Exception e) {
      warnings.add("version query failed: " + rootMessage(e));
    }
    if (!clickhouse.ensureSchema()) {
      warnings.add("schema creation pending");
    }
    return new TierSnapshot(true, micros, "ClickHouse " + version + " at " + clickhouse.address(), List.copyOf(warnings));
  }

  private static String rootMessage(Throwable t) {
    Throwable c = t;
    while (c.getCause() != null && c.getCause() != c) {
      c = c.getCause();
    }
    return c.getClass().getSimpleName() + ": " + c.getMessage();
  }

  /**
   * Stops probing; returns once a probe in progress has ended (it is interrupted; two seconds
   * at most), so that none runs on while the tiers are closed after this.
   */
  @Override
  public void close() {
    closed = true;
    scheduler.shutdownNow();
    try {
      scheduler.awaitTermination(CLOSE_WAIT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
