package io.messagestore.server.config;

import java.lang.reflect.RecordComponent;
import java.net.URI;
import java.time.Duration;
import java.util.Arrays;
import java.util.Objects;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Everything the gateway can be configured with: one immutable record per concern, each
 * declaring its settings and checking them when built (see {@link Setting}). This record composes
 * them and checks the rules that span two concerns.
 *
 * <p>Load one from the environment, a file and overrides with {@link ConfigLoader}. A bad value
 * fails fast with a {@link ConfigException} that names the setting by its environment variable,
 * so an operator sees exactly what to fix. A component that consumes settings takes the record of
 * its concern ({@code new PostgresTier(config.postgres())}).
 */
public record GatewayConfig(
    ServerSettings server,
    AuthSettings auth,
    RedisSettings redis,
    RedisDataSettings redisData,
    PostgresSettings postgres,
    ClickHouseSettings clickhouse,
    WriteSettings writes,
    PersistenceSettings persistence,
    ArchiveSettings archive,
    BreakerSettings breakers,
    WatchSettings watches,
    RunStateSettings runStates,
    ConsistencySettings consistency) {

  /** Whether callers must present a JWT. */
  public enum AuthMode { REQUIRED, DISABLED }

  // Every setting of every concern: the settings each component's record type declares.
  private static final Set<String> SETTING_NAMES = Arrays.stream(GatewayConfig.class.getRecordComponents())
      .map(RecordComponent::getType)
      .flatMap(concern -> Setting.declaredIn(concern).stream())
      .map(Setting::key)
      .collect(Collectors.toUnmodifiableSet());

  public GatewayConfig {
    Objects.requireNonNull(server, "server");
    Objects.requireNonNull(auth, "auth");
    Objects.requireNonNull(redis, "redis");
    Objects.requireNonNull(redisData, "redisData");
    Objects.requireNonNull(postgres, "postgres");
    Objects.requireNonNull(clickhouse, "clickhouse");
    Objects.requireNonNull(writes, "writes");
    Objects.requireNonNull(persistence, "persistence");
    Objects.requireNonNull(archive, "archive");
    Objects.requireNonNull(breakers, "breakers");
    Objects.requireNonNull(watches, "watches");
    Objects.requireNonNull(runStates, "runStates");
    Objects.requireNonNull(consistency, "consistency");
    if (auth.mode() == AuthMode.DISABLED) {
      AuthSettings.AUTH.require(server.listensOnLoopbackOnly(), "disabled",
          "is only allowed when MESSAGESTORE_GRPC_HOST is a loopback address, not " + server.grpcHost());
    }
    WriteSettings.MAX_CONTENT_BYTES.require(server.maxInboundMessageBytes() > writes.maxContentBytes() + 64 * 1024,
        writes.maxContentBytes(), "must stay below the gRPC max inbound message size ("
            + server.maxInboundMessageBytes() + ") minus 64 KiB for the other fields");
    RunStateSettings.MAX_RUN_STATE_BYTES.require(
        server.maxInboundMessageBytes() > runStates.maxStateBytes() + 64 * 1024, runStates.maxStateBytes(),
        "must stay below the gRPC max inbound message size (" + server.maxInboundMessageBytes()
            + ") minus 64 KiB for the other fields");
  }

  static GatewayConfig from(SettingValues v) {
    return new GatewayConfig(ServerSettings.from(v), AuthSettings.from(v), RedisSettings.from(v),
        RedisDataSettings.from(v), PostgresSettings.from(v), ClickHouseSettings.from(v), WriteSettings.from(v),
        PersistenceSettings.from(v), ArchiveSettings.from(v), BreakerSettings.from(v), WatchSettings.from(v),
        RunStateSettings.from(v), ConsistencySettings.from(v));
  }

  /** The name of every setting, for refusing a misspelt one. */
  public static Set<String> settingNames() {
    return SETTING_NAMES;
  }

  /** A builder starting from this config, to replace some of its concerns. */
  public Builder toBuilder() {
    return new Builder(this);
  }

  // The flat accessors below predate the records; they stay for the callers written against
  // them. A new setting gets none: it is read through its record.

  public String grpcHost() { return server.grpcHost(); }
  public int grpcPort() { return server.grpcPort(); }
  public int metricsPort() { return server.metricsPort(); }
  public int ioThreads() { return server.ioThreads(); }
  public int maxInboundMessageBytes() { return server.maxInboundMessageBytes(); }
  public Duration shutdownGrace() { return server.shutdownGrace(); }
  public Duration healthProbeInterval() { return server.healthProbeInterval(); }
  public AuthMode authMode() { return auth.mode(); }
  public String jwtSecret() { return auth.jwtSecret(); }
  public URI redisUri() { return redis.uri(); }
  public Duration redisTimeout() { return redis.timeout(); }
  public Duration messageTtl() { return redisData.messageTtl(); }
  public Duration idempotencyTtl() { return redisData.idempotencyTtl(); }
  public int recentWindow() { return redisData.recentWindow(); }
  public long nearCacheBytes() { return redisData.nearCacheBytes(); }
  public Duration redisRepairInterval() { return redisData.repairInterval(); }
  /** The JDBC URL to connect with; never holds a user or password before the host. */
  public String postgresJdbcUrl() { return postgres.jdbcUrl(); }
  public String postgresUser() { return postgres.user(); }
  public String postgresPassword() { return postgres.password(); }
  public int postgresPoolSize() { return postgres.poolSize(); }
  public Duration postgresTimeout() { return postgres.timeout(); }
  public URI clickhouseUrl() { return clickhouse.url(); }
  public String clickhouseDatabase() { return clickhouse.database(); }
  public Duration clickhouseTimeout() { return clickhouse.timeout(); }
  public int maxContentBytes() { return writes.maxContentBytes(); }
  public Duration durableTimeout() { return writes.durableTimeout(); }
  public int streamShards() { return persistence.streamShards(); }
  public long maxBacklog() { return persistence.maxBacklog(); }
  public int persisterBatchSize() { return persistence.batchSize(); }
  public Duration persisterLinger() { return persistence.linger(); }
  public Duration pendingClaimTimeout() { return persistence.pendingClaimTimeout(); }
  public int maxDeliveries() { return persistence.maxDeliveries(); }

  /** True when the gRPC listener only accepts connections from this machine. */
  public boolean listensOnLoopbackOnly() {
    return server.listensOnLoopbackOnly();
  }

  /** What {@code --check-config} prints and start-up logs: the JWT secret and the database password never appear. */
  @Override
  public String toString() {
    return "GatewayConfig{grpc=" + server.grpcHost() + ":" + server.grpcPort() + ", metricsPort=" + server.metricsPort()
        + ", ioThreads=" + server.ioThreads()
        + ", redis=" + redis.uri().getHost() + ":" + redis.uri().getPort()
        + ", postgres=" + PostgresUrls.redact(postgres.jdbcUrl()) + " as " + postgres.user()
        + ", clickhouse=" + ClickHouseSettings.withoutCredentials(clickhouse.url()) + "/" + clickhouse.database()
        + ", auth=" + auth.mode() + ", shards=" + persistence.streamShards() + ", batch=" + persistence.batchSize()
        + ", linger=" + persistence.linger() + ", maxBacklog=" + persistence.maxBacklog()
        + ", nearCacheBytes=" + redisData.nearCacheBytes()
        + ", hotRetention=" + (archive.archiving() ? archive.hotRetention() : "off") + "}";
  }

  /** Replaces whole concerns; {@link #build()} checks the rules between them again. */
  public static final class Builder {
    private ServerSettings server;
    private AuthSettings auth;
    private RedisSettings redis;
    private RedisDataSettings redisData;
    private PostgresSettings postgres;
    private ClickHouseSettings clickhouse;
    private WriteSettings writes;
    private PersistenceSettings persistence;
    private ArchiveSettings archive;
    private BreakerSettings breakers;
    private WatchSettings watches;
    private RunStateSettings runStates;
    private ConsistencySettings consistency;

    private Builder(GatewayConfig c) {
      server = c.server;
      auth = c.auth;
      redis = c.redis;
      redisData = c.redisData;
      postgres = c.postgres;
      clickhouse = c.clickhouse;
      writes = c.writes;
      persistence = c.persistence;
      archive = c.archive;
      breakers = c.breakers;
      watches = c.watches;
      runStates = c.runStates;
      consistency = c.consistency;
    }

    public Builder server(ServerSettings v) { server = v; return this; }
    public Builder auth(AuthSettings v) { auth = v; return this; }
    public Builder redis(RedisSettings v) { redis = v; return this; }
    public Builder redisData(RedisDataSettings v) { redisData = v; return this; }
    public Builder postgres(PostgresSettings v) { postgres = v; return this; }
    public Builder clickhouse(ClickHouseSettings v) { clickhouse = v; return this; }
    public Builder writes(WriteSettings v) { writes = v; return this; }
    public Builder persistence(PersistenceSettings v) { persistence = v; return this; }
    public Builder archive(ArchiveSettings v) { archive = v; return this; }
    public Builder breakers(BreakerSettings v) { breakers = v; return this; }
    public Builder watches(WatchSettings v) { watches = v; return this; }
    public Builder runStates(RunStateSettings v) { runStates = v; return this; }
    public Builder consistency(ConsistencySettings v) { consistency = v; return this; }

    public GatewayConfig build() {
      return new GatewayConfig(server, auth, redis, redisData, postgres, clickhouse, writes, persistence, archive,
          breakers, watches, runStates, consistency);
    }
  }
}
