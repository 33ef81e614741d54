package io.messagestore.server.config;

import java.io.IOException;
import java.io.Reader;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads {@link GatewayConfig} from key/value sources that all use the environment variable names
 * of {@link ConfigKeys}. Later sources win: defaults, then a properties file, then the
 * environment, then command-line overrides.
 */
public final class ConfigLoader {
  private static final Pattern DURATION = Pattern.compile("(\\d+)\\s*(ms|s|m|h|d)");
  private static final Pattern BYTES = Pattern.compile("(\\d+)\\s*(kib|mib|gib|k|m|g|b)?");

  private final Map<String, String> values;

  private ConfigLoader(Map<String, String> values) {
    this.values = values;
  }

  /**
   * Merges the sources and builds the config.
   *
   * @param file optional properties file ({@code KEY=VALUE} lines), may be null
   * @param environment usually {@link System#getenv()}
   * @param overrides values given on the command line
   */
  public static GatewayConfig load(Path file, Map<String, String> environment, Map<String, String> overrides) {
    Map<String, String> merged = new HashMap<>();
    if (file != null) {
      merged.putAll(readFile(file));
    }
    environment.forEach((k, v) -> {
      if (k.startsWith("MESSAGESTORE_")) {
        merged.put(k, v);
      }
    });
    merged.putAll(overrides);
    return new ConfigLoader(merged).build();
  }

  private static Map<String, String> readFile(Path file) {
    Properties p = new Properties();
    try (Reader r = Files.newBufferedReader(file)) {
      p.load(r);
    } catch (IOException e) {
      throw new ConfigException("MESSAGESTORE_CONFIG_FILE", file.toString(), "cannot be read: " + e.getMessage());
    }
    Map<String, String> m = new HashMap<>();
    p.forEach((k, v) -> m.put(k.toString().trim(), v.toString().trim()));
    return m;
  }

  private GatewayConfig build() {
    GatewayConfig.Builder b = GatewayConfig.builder();
    str(ConfigKeys.GRPC_HOST, b::grpcHost);
    integer(ConfigKeys.GRPC_PORT, b::grpcPort);
    integer(ConfigKeys.METRICS_PORT, b::metricsPort);
    integer(ConfigKeys.IO_THREADS, b::ioThreads);
    uri(ConfigKeys.REDIS_URI, b::redisUri);
    str(ConfigKeys.POSTGRES_URL, b::postgresUrl);
    str(ConfigKeys.POSTGRES_USER, b::postgresUser);
    str(ConfigKeys.POSTGRES_PASSWORD, b::postgresPassword);
    uri(ConfigKeys.CLICKHOUSE_URL, u -> {
      // A path on the URL names the database: http://host:8123/mydb
      String path = u.getPath();
      if (path != null && path.length() > 1) {
        b.clickhouseDatabase(path.substring(1));
        u = URI.create(u.getScheme() + "://" + u.getAuthority());
      }
      b.clickhouseUrl(u);
    });
    str(ConfigKeys.CLICKHOUSE_DATABASE, b::clickhouseDatabase);
    str(ConfigKeys.JWT_SECRET, b::jwtSecret);
    parse(ConfigKeys.AUTH, s -> {
      switch (s.toLowerCase(Locale.ROOT)) {
        case "required": return GatewayConfig.AuthMode.REQUIRED;
        case "disabled": return GatewayConfig.AuthMode.DISABLED;
        default: throw new IllegalArgumentException("must be 'required' or 'disabled'");
      }
    }, b::authMode);
    integer(ConfigKeys.MAX_CONTENT_BYTES, b::maxContentBytes);
    integer(ConfigKeys.MAX_INBOUND_MESSAGE_BYTES, b::maxInboundMessageBytes);
    duration(ConfigKeys.MESSAGE_TTL, b::messageTtl);
    duration(ConfigKeys.IDEMPOTENCY_TTL, b::idempotencyTtl);
    integer(ConfigKeys.RECENT_WINDOW, b::recentWindow);
    integer(ConfigKeys.STREAM_SHARDS, b::streamShards);
    integer(ConfigKeys.PERSISTER_BATCH_SIZE, b::persisterBatchSize);
    duration(ConfigKeys.PERSISTER_LINGER, b::persisterLinger);
    duration(ConfigKeys.PENDING_CLAIM_TIMEOUT, b::pendingClaimTimeout);
    integer(ConfigKeys.MAX_DELIVERIES, b::maxDeliveries);
    parse(ConfigKeys.MAX_BACKLOG, s -> Long.parseLong(s.replace("_", "")), b::maxBacklog);
    parse(ConfigKeys.NEAR_CACHE_BYTES, ConfigLoader::parseBytes, b::nearCacheBytes);
    duration(ConfigKeys.REDIS_TIMEOUT, b::redisTimeout);
    duration(ConfigKeys.POSTGRES_TIMEOUT, b::postgresTimeout);
    integer(ConfigKeys.POSTGRES_POOL_SIZE, b::postgresPoolSize);
    duration(ConfigKeys.CLICKHOUSE_TIMEOUT, b::clickhouseTimeout);
    duration(ConfigKeys.DURABLE_TIMEOUT, b::durableTimeout);
    duration(ConfigKeys.SHUTDOWN_GRACE, b::shutdownGrace);
    duration(ConfigKeys.HEALTH_PROBE_INTERVAL, b::healthProbeInterval);
    duration(ConfigKeys.REDIS_REPAIR_INTERVAL, b::redisRepairInterval);
    b.breakers(breakers());
    return b.build();
  }

  private BreakerSettings breakers() {
    BreakerSettings d = BreakerSettings.DEFAULT;
    return new BreakerSettings(
        get(ConfigKeys.BREAKER_FAILURE_RATE, Float::parseFloat, d.failureRateThreshold()),
        get(ConfigKeys.BREAKER_SLOW_CALL_DURATION, ConfigLoader::parseDuration, d.slowCallDuration()),
        get(ConfigKeys.BREAKER_SLOW_CALL_RATE, Float::parseFloat, d.slowCallRateThreshold()),
        get(ConfigKeys.BREAKER_OPEN_WAIT, ConfigLoader::parseDuration, d.waitInOpenState()),
        get(ConfigKeys.BREAKER_HALF_OPEN_CALLS, Integer::parseInt, d.permittedCallsInHalfOpenState()),
        get(ConfigKeys.BREAKER_MINIMUM_CALLS, Integer::parseInt, d.minimumNumberOfCalls()),
        get(ConfigKeys.BREAKER_WINDOW, Integer::parseInt, d.slidingWindowSize()));
  }

  /** Parses {@code 250ms}, {@code 5s}, {@code 2m}, {@code 1h}, {@code 1d} or ISO-8601 ({@code PT5S}). */
  public static Duration parseDuration(String s) {
    String t = s.trim().toLowerCase(Locale.ROOT);
    Matcher m = DURATION.matcher(t);
    if (m.matches()) {
      long n = Long.parseLong(m.group(1));
      switch (m.group(2)) {
        case "ms": return Duration.ofMillis(n);
        case "s": return Duration.ofSeconds(n);
        case "m": return Duration.ofMinutes(n);
        case "h": return Duration.ofHours(n);
        default: return Duration.ofDays(n);
      }
    }
    if (t.startsWith("pt") || t.startsWith("p")) {
      return Duration.parse(s.trim().toUpperCase(Locale.ROOT));
    }
    throw new IllegalArgumentException("must be a duration such as 250ms, 5s, 2m, 1h or PT5S");
  }

  /** Parses a size in bytes: {@code 1048576}, {@code 512KiB}, {@code 64MiB}, {@code 1GiB} (k, m, g too). */
  public static long parseBytes(String s) {
    Matcher m = BYTES.matcher(s.trim().replace("_", "").toLowerCase(Locale.ROOT));
    if (!m.matches()) {
      throw new IllegalArgumentException("must be a size such as 67108864, 512KiB, 64MiB or 1GiB");
    }
    long n = Long.parseLong(m.group(1));
    String unit = m.group(2) == null ? "b" : m.group(2).substring(0, 1);
    switch (unit) {
      case "k": return Math.multiplyExact(n, 1024L);
      case "m": return Math.multiplyExact(n, 1024L * 1024);
      case "g": return Math.multiplyExact(n, 1024L * 1024 * 1024);
      default: return n;
    }
  }

  private void str(String key, java.util.function.Consumer<String> setter) {
    parse(key, Function.identity(), setter);
  }

  private void integer(String key, java.util.function.Consumer<Integer> setter) {
    parse(key, s -> Integer.parseInt(s.replace("_", "")), setter);
  }

  private void duration(String key, java.util.function.Consumer<Duration> setter) {
    parse(key, ConfigLoader::parseDuration, setter);
  }

  private void uri(String key, java.util.function.Consumer<URI> setter) {
    parse(key, s -> {
      try {
        return new URI(s);
      } catch (URISyntaxException e) {
        throw new IllegalArgumentException("is not a URI: " + e.getReason());
      }
    }, setter);
  }

  private <T> void parse(String key, Function<String, T> parser, java.util.function.Consumer<T> setter) {
    String raw = values.get(key);
    if (raw == null) {
      return;
    }
    setter.accept(convert(key, raw, parser));
  }

  private <T> T get(String key, Function<String, T> parser, T fallback) {
    String raw = values.get(key);
    return raw == null ? fallback : convert(key, raw, parser);
  }

  private static <T> T convert(String key, String raw, Function<String, T> parser) {
    try {
      return parser.apply(raw.trim());
    } catch (ConfigException e) {
      throw e;
    } catch (NumberFormatException e) {
      throw new ConfigException(key, raw, "is not a number");
    } catch (RuntimeException e) {
      throw new ConfigException(key, raw, e.getMessage() == null ? "is not valid" : e.getMessage());
    }
  }
}
