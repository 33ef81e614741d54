package io.messagestore.server.config;

import java.net.URI;
import java.time.Duration;
import java.util.Objects;

/**
 * Everything the gateway can be configured with, immutable and validated when built.
 *
 * <p>Build one with {@link #builder()}, or load one from the environment with {@link ConfigLoader}.
 * {@link Builder#build()} checks every value and fails fast with a {@link ConfigException} that
 * names the offending setting by its environment variable, so an operator sees exactly what to fix.
 */
public final class GatewayConfig {

  /** Whether callers must present a JWT. */
  public enum AuthMode { REQUIRED, DISABLED }

  public static final String DEFAULT_GRPC_HOST = "127.0.0.1";
  public static final int DEFAULT_GRPC_PORT = 50051;
  public static final int DEFAULT_METRICS_PORT = 9464;
  /** Event loops shared by gRPC and Redis connections: one per core. */
  public static final int DEFAULT_IO_THREADS = Runtime.getRuntime().availableProcessors();
  public static final String DEFAULT_REDIS_URI = "redis://127.0.0.1:6379";
  public static final String DEFAULT_POSTGRES_URL = "r2dbc:postgresql://127.0.0.1:5432/messagestore";
  public static final String DEFAULT_CLICKHOUSE_URL = "http://127.0.0.1:8123";
  public static final String DEFAULT_CLICKHOUSE_DATABASE = "messagestore";
  public static final AuthMode DEFAULT_AUTH = AuthMode.REQUIRED;
  public static final int DEFAULT_MAX_CONTENT_BYTES = 1024 * 1024;
  public static final int DEFAULT_MAX_INBOUND_MESSAGE_BYTES = 4 * 1024 * 1024;
  public static final Duration DEFAULT_MESSAGE_TTL = Duration.ofHours(1);
  public static final Duration DEFAULT_IDEMPOTENCY_TTL = Duration.ofHours(24);
  public static final int DEFAULT_RECENT_WINDOW = 1000;
  public static final int DEFAULT_STREAM_SHARDS = 4;
  public static final int DEFAULT_PERSISTER_BATCH_SIZE = 500;
  public static final Duration DEFAULT_PERSISTER_LINGER = Duration.ofMillis(5);
  public static final Duration DEFAULT_PENDING_CLAIM_TIMEOUT = Duration.ofSeconds(30);
  public static final int DEFAULT_MAX_DELIVERIES = 5;
  public static final long DEFAULT_MAX_BACKLOG = 1_000_000L;
  /** Hot messages and thread owners copied from Redis into the heap (see NearCache); 0 = off. */
  public static final long DEFAULT_NEAR_CACHE_BYTES = 64L * 1024 * 1024;
  public static final Duration DEFAULT_REDIS_TIMEOUT = Duration.ofMillis(100);
  public static final Duration DEFAULT_POSTGRES_TIMEOUT = Duration.ofSeconds(2);
  public static final int DEFAULT_POSTGRES_POOL_SIZE = 8;
  public static final Duration DEFAULT_CLICKHOUSE_TIMEOUT = Duration.ofSeconds(2);
  public static final Duration DEFAULT_DURABLE_TIMEOUT = Duration.ofSeconds(10);
  public static final Duration DEFAULT_SHUTDOWN_GRACE = Duration.ofSeconds(20);
  public static final Duration DEFAULT_HEALTH_PROBE_INTERVAL = Duration.ofSeconds(1);
  /** How often every instance looks for threads written around Redis (see FailoverRepair). */
  public static final Duration DEFAULT_REDIS_REPAIR_INTERVAL = Duration.ofSeconds(1);

  private final String grpcHost;
  private final int grpcPort;
  private final int metricsPort;
  private final int ioThreads;
  private final URI redisUri;
  private final String postgresJdbcUrl;
  private final String postgresUser;
  private final String postgresPassword;
  private final URI clickhouseUrl;
  private final String clickhouseDatabase;
  private final String jwtSecret;
  private final AuthMode authMode;
  private final int maxContentBytes;
  private final int maxInboundMessageBytes;
  private final Duration messageTtl;
  private final Duration idempotencyTtl;
  private final int recentWindow;
  private final int streamShards;
  private final int persisterBatchSize;
  private final Duration persisterLinger;
  private final Duration pendingClaimTimeout;
  private final int maxDeliveries;
  private final long maxBacklog;
  private final long nearCacheBytes;
  private final Duration redisTimeout;
  private final Duration postgresTimeout;
  private final int postgresPoolSize;
  private final Duration clickhouseTimeout;
  private final Duration durableTimeout;
  private final Duration shutdownGrace;
  private final Duration healthProbeInterval;
  private final Duration redisRepairInterval;
  private final BreakerSettings breakers;

  private GatewayConfig(Builder b) {
    grpcHost = b.grpcHost;
    grpcPort = b.grpcPort;
    metricsPort = b.metricsPort;
    ioThreads = b.ioThreads;
    redisUri = b.redisUri;
    postgresJdbcUrl = b.postgresUrl.jdbcUrl();
    // Credentials written in the URL win: platforms hand the URL out whole, and the separate
    // settings may still hold a default. One the URL leaves out comes from its setting (as
    // libpq takes a password from PGPASSWORD for a URL without one).
    postgresUser = b.postgresUrl.user() != null ? b.postgresUrl.user() : b.postgresUser;
    postgresPassword = b.postgresUrl.password() != null ? b.postgresUrl.password() : b.postgresPassword;
    clickhouseUrl = b.clickhouseUrl;
    clickhouseDatabase = b.clickhouseDatabase;
    jwtSecret = b.jwtSecret;
    authMode = b.authMode;
    maxContentBytes = b.maxContentBytes;
    maxInboundMessageBytes = b.maxInboundMessageBytes;
    messageTtl = b.messageTtl;
    idempotencyTtl = b.idempotencyTtl;
    recentWindow = b.recentWindow;
    streamShards = b.streamShards;
    persisterBatchSize = b.persisterBatchSize;
    persisterLinger = b.persisterLinger;
    pendingClaimTimeout = b.pendingClaimTimeout;
    maxDeliveries = b.maxDeliveries;
    maxBacklog = b.maxBacklog;
    nearCacheBytes = b.nearCacheBytes;
    redisTimeout = b.redisTimeout;
    postgresTimeout = b.postgresTimeout;
    postgresPoolSize = b.postgresPoolSize;
    clickhouseTimeout = b.clickhouseTimeout;
    durableTimeout = b.durableTimeout;
    shutdownGrace = b.shutdownGrace;
    healthProbeInterval = b.healthProbeInterval;
    redisRepairInterval = b.redisRepairInterval;
    breakers = b.breakers;
  }

  public static Builder builder() {
    return new Builder();
  }

  public Builder toBuilder() {
    return new Builder(this);
  }

  public String grpcHost() { return grpcHost; }
  public int grpcPort() { return grpcPort; }
  public int metricsPort() { return metricsPort; }
  public int ioThreads() { return ioThreads; }
  public URI redisUri() { return redisUri; }
  /** The JDBC URL to connect with; never holds a user or password before the host. */
  public String postgresJdbcUrl() { return postgresJdbcUrl; }
  public String postgresUser() { return postgresUser; }
  public String postgresPassword() { return postgresPassword; }
  public URI clickhouseUrl() { return clickhouseUrl; }
  public String clickhouseDatabase() { return clickhouseDatabase; }
  public String jwtSecret() { return jwtSecret; }
  public AuthMode authMode() { return authMode; }
  public int maxContentBytes() { return maxContentBytes; }
  public int maxInboundMessageBytes() { return maxInboundMessageBytes; }
  public Duration messageTtl() { return messageTtl; }
  public Duration idempotencyTtl() { return idempotencyTtl; }
  public int recentWindow() { return recentWindow; }
  public int streamShards() { return streamShards; }
  public int persisterBatchSize() { return persisterBatchSize; }
  public Duration persisterLinger() { return persisterLinger; }
  public Duration pendingClaimTimeout() { return pendingClaimTimeout; }
  public int maxDeliveries() { return maxDeliveries; }
  public long maxBacklog() { return maxBacklog; }
  public long nearCacheBytes() { return nearCacheBytes; }
  public Duration redisTimeout() { return redisTimeout; }
  public Duration postgresTimeout() { return postgresTimeout; }
  public int postgresPoolSize() { return postgresPoolSize; }
  public Duration clickhouseTimeout() { return clickhouseTimeout; }
  public Duration durableTimeout() { return durableTimeout; }
  public Duration shutdownGrace() { return shutdownGrace; }
  public Duration healthProbeInterval() { return healthProbeInterval; }
  public Duration redisRepairInterval() { return redisRepairInterval; }
  public BreakerSettings breakers() { return breakers; }

  /** True when the gRPC listener only accepts connections from this machine. */
  public boolean listensOnLoopbackOnly() {
    return isLoopback(grpcHost);
  }

  private static boolean isLoopback(String host) {
    return host.startsWith("127.") || host.equals("localhost") || host.equals("::1");
  }

  @Override
  public String toString() {
    // The JWT secret and the database password never appear in logs.
    return "GatewayConfig{grpc=" + grpcHost + ":" + grpcPort + ", metricsPort=" + metricsPort + ", ioThreads=" + ioThreads
        + ", redis=" + redisUri.getHost() + ":" + redisUri.getPort()
        + ", postgres=" + PostgresUrls.redact(postgresJdbcUrl) + " as " + postgresUser
        + ", clickhouse=" + clickhouseUrl + "/" + clickhouseDatabase
        + ", auth=" + authMode + ", shards=" + streamShards + ", batch=" + persisterBatchSize
        + ", linger=" + persisterLinger + ", maxBacklog=" + maxBacklog
        + ", nearCacheBytes=" + nearCacheBytes + "}";
  }

  /** Builder; every setter takes the value as typed, {@link #build()} validates all of them. */
  public static final class Builder {
    private String grpcHost = DEFAULT_GRPC_HOST;
    private int grpcPort = DEFAULT_GRPC_PORT;
    private int metricsPort = DEFAULT_METRICS_PORT;
    private int ioThreads = DEFAULT_IO_THREADS;
    private URI redisUri = URI.create(DEFAULT_REDIS_URI);
    private PostgresUrls.Parsed postgresUrl = PostgresUrls.parse(DEFAULT_POSTGRES_URL);
    private String postgresUser = "postgres";
    private String postgresPassword = "";
    private URI clickhouseUrl = URI.create(DEFAULT_CLICKHOUSE_URL);
    private String clickhouseDatabase = DEFAULT_CLICKHOUSE_DATABASE;
    private String jwtSecret = "";
    private AuthMode authMode = DEFAULT_AUTH;
    private int maxContentBytes = DEFAULT_MAX_CONTENT_BYTES;
    private int maxInboundMessageBytes = DEFAULT_MAX_INBOUND_MESSAGE_BYTES;
    private Duration messageTtl = DEFAULT_MESSAGE_TTL;
    private Duration idempotencyTtl = DEFAULT_IDEMPOTENCY_TTL;
    private int recentWindow = DEFAULT_RECENT_WINDOW;
    private int streamShards = DEFAULT_STREAM_SHARDS;
    private int persisterBatchSize = DEFAULT_PERSISTER_BATCH_SIZE;
    private Duration persisterLinger = DEFAULT_PERSISTER_LINGER;
    private Duration pendingClaimTimeout = DEFAULT_PENDING_CLAIM_TIMEOUT;
    private int maxDeliveries = DEFAULT_MAX_DELIVERIES;
    private long maxBacklog = DEFAULT_MAX_BACKLOG;
    private long nearCacheBytes = DEFAULT_NEAR_CACHE_BYTES;
    private Duration redisTimeout = DEFAULT_REDIS_TIMEOUT;
    private Duration postgresTimeout = DEFAULT_POSTGRES_TIMEOUT;
    private int postgresPoolSize = DEFAULT_POSTGRES_POOL_SIZE;
    private Duration clickhouseTimeout = DEFAULT_CLICKHOUSE_TIMEOUT;
    private Duration durableTimeout = DEFAULT_DURABLE_TIMEOUT;
    private Duration shutdownGrace = DEFAULT_SHUTDOWN_GRACE;
    private Duration healthProbeInterval = DEFAULT_HEALTH_PROBE_INTERVAL;
    private Duration redisRepairInterval = DEFAULT_REDIS_REPAIR_INTERVAL;
    private BreakerSettings breakers = BreakerSettings.DEFAULT;

    private Builder() {}

    private Builder(GatewayConfig c) {
      grpcHost = c.grpcHost;
      grpcPort = c.grpcPort;
      metricsPort = c.metricsPort;
      ioThreads = c.ioThreads;
      redisUri = c.redisUri;
      postgresUrl = PostgresUrls.parse(c.postgresJdbcUrl);
      postgresUser = c.postgresUser;
      postgresPassword = c.postgresPassword;
      clickhouseUrl = c.clickhouseUrl;
      clickhouseDatabase = c.clickhouseDatabase;
      jwtSecret = c.jwtSecret;
      authMode = c.authMode;
      maxContentBytes = c.maxContentBytes;
      maxInboundMessageBytes = c.maxInboundMessageBytes;
      messageTtl = c.messageTtl;
      idempotencyTtl = c.idempotencyTtl;
      recentWindow = c.recentWindow;
      streamShards = c.streamShards;
      persisterBatchSize = c.persisterBatchSize;
      persisterLinger = c.persisterLinger;
      pendingClaimTimeout = c.pendingClaimTimeout;
      maxDeliveries = c.maxDeliveries;
      maxBacklog = c.maxBacklog;
      nearCacheBytes = c.nearCacheBytes;
      redisTimeout = c.redisTimeout;
      postgresTimeout = c.postgresTimeout;
      postgresPoolSize = c.postgresPoolSize;
      clickhouseTimeout = c.clickhouseTimeout;
      durableTimeout = c.durableTimeout;
      shutdownGrace = c.shutdownGrace;
      healthProbeInterval = c.healthProbeInterval;
      redisRepairInterval = c.redisRepairInterval;
      breakers = c.breakers;
    }

    public Builder grpcHost(String v) { grpcHost = v; return this; }
    public Builder grpcPort(int v) { grpcPort = v; return this; }
    public Builder metricsPort(int v) { metricsPort = v; return this; }
    public Builder ioThreads(int v) { ioThreads = v; return this; }
    public Builder redisUri(URI v) { redisUri = v; return this; }
    /**
     * Accepts {@code r2dbc:postgresql://}, {@code jdbc:postgresql://}, {@code postgresql://} or
     * {@code postgres://} URLs; a user and password in the URL win over {@link #postgresUser} and
     * {@link #postgresPassword}, whatever the order of the calls.
     */
    public Builder postgresUrl(String v) { postgresUrl = PostgresUrls.parse(v); return this; }
    public Builder postgresUser(String v) { postgresUser = v; return this; }
    public Builder postgresPassword(String v) { postgresPassword = v; return this; }
    public Builder clickhouseUrl(URI v) { clickhouseUrl = v; return this; }
    public Builder clickhouseDatabase(String v) { clickhouseDatabase = v; return this; }
    public Builder jwtSecret(String v) { jwtSecret = v; return this; }
    public Builder authMode(AuthMode v) { authMode = v; return this; }
    public Builder maxContentBytes(int v) { maxContentBytes = v; return this; }
    public Builder maxInboundMessageBytes(int v) { maxInboundMessageBytes = v; return this; }
    public Builder messageTtl(Duration v) { messageTtl = v; return this; }
    public Builder idempotencyTtl(Duration v) { idempotencyTtl = v; return this; }
    public Builder recentWindow(int v) { recentWindow = v; return this; }
    public Builder streamShards(int v) { streamShards = v; return this; }
    public Builder persisterBatchSize(int v) { persisterBatchSize = v; return this; }
    public Builder persisterLinger(Duration v) { persisterLinger = v; return this; }
    public Builder pendingClaimTimeout(Duration v) { pendingClaimTimeout = v; return this; }
    public Builder maxDeliveries(int v) { maxDeliveries = v; return this; }
    public Builder maxBacklog(long v) { maxBacklog = v; return this; }
    public Builder nearCacheBytes(long v) { nearCacheBytes = v; return this; }
    public Builder redisTimeout(Duration v) { redisTimeout = v; return this; }
    public Builder postgresTimeout(Duration v) { postgresTimeout = v; return this; }
    public Builder postgresPoolSize(int v) { postgresPoolSize = v; return this; }
    public Builder clickhouseTimeout(Duration v) { clickhouseTimeout = v; return this; }
    public Builder durableTimeout(Duration v) { durableTimeout = v; return this; }
    public Builder shutdownGrace(Duration v) { shutdownGrace = v; return this; }
    public Builder healthProbeInterval(Duration v) { healthProbeInterval = v; return this; }
    public Builder redisRepairInterval(Duration v) { redisRepairInterval = v; return this; }
    public Builder breakers(BreakerSettings v) { breakers = v; return this; }

    /** Validates every value and returns the config; the exception names the bad setting. */
    public GatewayConfig build() {
      require(grpcHost != null && !grpcHost.isBlank(), ConfigKeys.GRPC_HOST, grpcHost, "must not be empty");
      requirePort(ConfigKeys.GRPC_PORT, grpcPort, true);
      requirePort(ConfigKeys.METRICS_PORT, metricsPort, true);
      require(ioThreads >= 1 && ioThreads <= 256, ConfigKeys.IO_THREADS, ioThreads, "must be 1-256");
      Objects.requireNonNull(redisUri, ConfigKeys.REDIS_URI);
      require("redis".equals(redisUri.getScheme()) || "rediss".equals(redisUri.getScheme()),
          ConfigKeys.REDIS_URI, redisUri, "must start with redis:// or rediss://");
      require(redisUri.getHost() != null, ConfigKeys.REDIS_URI, redisUri, "has no host");
      Objects.requireNonNull(clickhouseUrl, ConfigKeys.CLICKHOUSE_URL);
      require("http".equals(clickhouseUrl.getScheme()) || "https".equals(clickhouseUrl.getScheme()),
          ConfigKeys.CLICKHOUSE_URL, clickhouseUrl, "must start with http:// or https://");
      require(clickhouseDatabase.matches("[A-Za-z_][A-Za-z0-9_]*"), ConfigKeys.CLICKHOUSE_URL,
          clickhouseDatabase, "database name must be an identifier");
      require(authMode != null, ConfigKeys.AUTH, authMode, "must be 'required' or 'disabled'");
      if (authMode == AuthMode.REQUIRED) {
        require(jwtSecret != null && jwtSecret.getBytes(java.nio.charset.StandardCharsets.UTF_8).length >= 32,
            ConfigKeys.JWT_SECRET, "<hidden>",
            "must be at least 32 bytes (HS256 needs a 256-bit key) when MESSAGESTORE_AUTH=required");
      } else {
        require(isLoopback(grpcHost), ConfigKeys.AUTH, "disabled",
            "is only allowed when MESSAGESTORE_GRPC_HOST is a loopback address, not " + grpcHost);
      }
      require(maxContentBytes >= 1, ConfigKeys.MAX_CONTENT_BYTES, maxContentBytes, "must be positive");
      require(maxInboundMessageBytes > maxContentBytes + 64 * 1024, ConfigKeys.MAX_CONTENT_BYTES,
          maxContentBytes, "must stay below the gRPC max inbound message size ("
              + maxInboundMessageBytes + ") minus 64 KiB for the other fields");
      requirePositive(ConfigKeys.MESSAGE_TTL, messageTtl);
      requirePositive(ConfigKeys.IDEMPOTENCY_TTL, idempotencyTtl);
      require(recentWindow >= 1, ConfigKeys.RECENT_WINDOW, recentWindow, "must be positive");
      require(streamShards >= 1 && streamShards <= 1024, ConfigKeys.STREAM_SHARDS, streamShards, "must be 1-1024");
      require(persisterBatchSize >= 1 && persisterBatchSize <= 10_000, ConfigKeys.PERSISTER_BATCH_SIZE,
          persisterBatchSize, "must be 1-10000");
      require(persisterLinger != null && !persisterLinger.isNegative(), ConfigKeys.PERSISTER_LINGER,
          persisterLinger, "must not be negative");
      requirePositive(ConfigKeys.PENDING_CLAIM_TIMEOUT, pendingClaimTimeout);
      require(maxDeliveries >= 1, ConfigKeys.MAX_DELIVERIES, maxDeliveries, "must be positive");
      require(maxBacklog >= 1, ConfigKeys.MAX_BACKLOG, maxBacklog, "must be positive");
      require(nearCacheBytes >= 0, ConfigKeys.NEAR_CACHE_BYTES, nearCacheBytes, "must be 0 (off) or more");
      long heap = Runtime.getRuntime().maxMemory();
      // The copies live in the heap next to everything else: more than half of it is a crash
      // (OutOfMemoryError) waiting for a busy hour, better refused at start-up.
      require(nearCacheBytes <= heap / 2, ConfigKeys.NEAR_CACHE_BYTES, nearCacheBytes,
          "must be at most half the maximum heap (" + heap / 2 + " bytes here; raise -Xmx to allow more)");
      requirePositive(ConfigKeys.REDIS_TIMEOUT, redisTimeout);
      requirePositive(ConfigKeys.POSTGRES_TIMEOUT, postgresTimeout);
      require(postgresPoolSize >= 2 && postgresPoolSize <= 200, ConfigKeys.POSTGRES_POOL_SIZE,
          postgresPoolSize, "must be 2-200");
      requirePositive(ConfigKeys.CLICKHOUSE_TIMEOUT, clickhouseTimeout);
      requirePositive(ConfigKeys.DURABLE_TIMEOUT, durableTimeout);
      requirePositive(ConfigKeys.SHUTDOWN_GRACE, shutdownGrace);
      requirePositive(ConfigKeys.HEALTH_PROBE_INTERVAL, healthProbeInterval);
      requirePositive(ConfigKeys.REDIS_REPAIR_INTERVAL, redisRepairInterval);
      Objects.requireNonNull(breakers, "breakers");
      return new GatewayConfig(this);
    }

    private static void requirePort(String key, int port, boolean zeroMeansAny) {
      require(port >= (zeroMeansAny ? 0 : 1) && port <= 65535, key, port, "must be a TCP port (0-65535)");
    }

    private static void requirePositive(String key, Duration d) {
      require(d != null && !d.isNegative() && !d.isZero(), key, d, "must be a positive duration");
    }

    private static void require(boolean ok, String key, Object value, String rule) {
      if (!ok) {
        throw new ConfigException(key, String.valueOf(value), rule);
      }
    }
  }
}
