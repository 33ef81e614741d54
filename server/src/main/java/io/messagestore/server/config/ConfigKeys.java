package io.messagestore.server.config;

import java.lang.reflect.Modifier;
import java.util.Arrays;
import java.util.Set;
import java.util.stream.Collectors;

/** Environment variable names of every setting; files and flags use the same names. */
public final class ConfigKeys {
  public static final String GRPC_HOST = "MESSAGESTORE_GRPC_HOST";
  public static final String GRPC_PORT = "MESSAGESTORE_GRPC_PORT";
  public static final String METRICS_PORT = "MESSAGESTORE_METRICS_PORT";
  public static final String IO_THREADS = "MESSAGESTORE_IO_THREADS";
  public static final String REDIS_URI = "MESSAGESTORE_REDIS_URI";
  public static final String POSTGRES_URL = "MESSAGESTORE_POSTGRES_URL";
  public static final String POSTGRES_USER = "MESSAGESTORE_POSTGRES_USER";
  public static final String POSTGRES_PASSWORD = "MESSAGESTORE_POSTGRES_PASSWORD";
  public static final String CLICKHOUSE_URL = "MESSAGESTORE_CLICKHOUSE_URL";
  public static final String CLICKHOUSE_DATABASE = "MESSAGESTORE_CLICKHOUSE_DATABASE";
  public static final String JWT_SECRET = "MESSAGESTORE_JWT_SECRET";
  public static final String AUTH = "MESSAGESTORE_AUTH";
  public static final String MAX_CONTENT_BYTES = "MESSAGESTORE_MAX_CONTENT_BYTES";
  public static final String MAX_INBOUND_MESSAGE_BYTES = "MESSAGESTORE_MAX_INBOUND_MESSAGE_BYTES";
  public static final String MESSAGE_TTL = "MESSAGESTORE_MESSAGE_TTL";
  public static final String IDEMPOTENCY_TTL = "MESSAGESTORE_IDEMPOTENCY_TTL";
  public static final String RECENT_WINDOW = "MESSAGESTORE_RECENT_WINDOW";
  public static final String STREAM_SHARDS = "MESSAGESTORE_STREAM_SHARDS";
  public static final String PERSISTER_BATCH_SIZE = "MESSAGESTORE_PERSISTER_BATCH_SIZE";
  public static final String PERSISTER_LINGER = "MESSAGESTORE_PERSISTER_LINGER";
  public static final String PENDING_CLAIM_TIMEOUT = "MESSAGESTORE_PENDING_CLAIM_TIMEOUT";
  public static final String MAX_DELIVERIES = "MESSAGESTORE_MAX_DELIVERIES";
  public static final String MAX_BACKLOG = "MESSAGESTORE_MAX_BACKLOG";
  public static final String NEAR_CACHE_BYTES = "MESSAGESTORE_NEAR_CACHE_BYTES";
  public static final String REDIS_TIMEOUT = "MESSAGESTORE_REDIS_TIMEOUT";
  public static final String POSTGRES_TIMEOUT = "MESSAGESTORE_POSTGRES_TIMEOUT";
  public static final String POSTGRES_POOL_SIZE = "MESSAGESTORE_POSTGRES_POOL_SIZE";
  public static final String CLICKHOUSE_TIMEOUT = "MESSAGESTORE_CLICKHOUSE_TIMEOUT";
  public static final String DURABLE_TIMEOUT = "MESSAGESTORE_DURABLE_TIMEOUT";
  public static final String SHUTDOWN_GRACE = "MESSAGESTORE_SHUTDOWN_GRACE";
  public static final String HEALTH_PROBE_INTERVAL = "MESSAGESTORE_HEALTH_PROBE_INTERVAL";
  public static final String REDIS_REPAIR_INTERVAL = "MESSAGESTORE_REDIS_REPAIR_INTERVAL";
  public static final String BREAKER_FAILURE_RATE = "MESSAGESTORE_BREAKER_FAILURE_RATE";
  public static final String BREAKER_SLOW_CALL_DURATION = "MESSAGESTORE_BREAKER_SLOW_CALL_DURATION";
  public static final String BREAKER_SLOW_CALL_RATE = "MESSAGESTORE_BREAKER_SLOW_CALL_RATE";
  public static final String BREAKER_OPEN_WAIT = "MESSAGESTORE_BREAKER_OPEN_WAIT";
  public static final String BREAKER_HALF_OPEN_CALLS = "MESSAGESTORE_BREAKER_HALF_OPEN_CALLS";
  public static final String BREAKER_MINIMUM_CALLS = "MESSAGESTORE_BREAKER_MINIMUM_CALLS";
  public static final String BREAKER_WINDOW = "MESSAGESTORE_BREAKER_WINDOW";

  private static final Set<String> ALL = Arrays.stream(ConfigKeys.class.getFields())
      .filter(f -> Modifier.isStatic(f.getModifiers()) && f.getType() == String.class)
      .map(f -> {
        try {
          return (String) f.get(null);
        } catch (IllegalAccessException e) {
          throw new IllegalStateException(e);
        }
      })
      .collect(Collectors.toUnmodifiableSet());

  private ConfigKeys() {}

  /** Every setting's name. */
  public static Set<String> all() {
    return ALL;
  }
}
