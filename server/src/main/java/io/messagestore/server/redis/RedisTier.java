package io.messagestore.server.redis;

import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.SocketOptions;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.async.RedisAsyncCommands;
import io.lettuce.core.codec.ByteArrayCodec;
import io.lettuce.core.codec.RedisCodec;
import io.lettuce.core.codec.StringCodec;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import java.net.URI;
import java.time.Duration;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Connections to Redis. Keys are strings, values raw bytes (messages are stored as protobuf).
 *
 * <p>Connections are opened lazily and re-opened after a failure, so the gateway starts while
 * Redis is down and uses it once it answers. Commands issued while disconnected are rejected at
 * once instead of queued: a queued send would wait for a reconnect instead of failing over to
 * PostgreSQL within the time limit.
 */
public final class RedisTier implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(RedisTier.class);
  public static final RedisCodec<String, byte[]> CODEC = RedisCodec.of(StringCodec.UTF8, ByteArrayCodec.INSTANCE);

  private static final Duration MIN_CONNECT_TIMEOUT = Duration.ofMillis(500);

  private final RedisClient client;
  private final RedisURI uri;
  private final Duration commandTimeout;
  private final List<AutoCloseable> opened = new CopyOnWriteArrayList<>();
  private volatile StatefulRedisConnection<String, byte[]> shared;

  public RedisTier(URI redisUri, Duration commandTimeout) {
    this.uri = RedisURI.create(redisUri);
    this.uri.setTimeout(commandTimeout);
    this.commandTimeout = commandTimeout;
    this.client = RedisClient.create();
    this.client.setOptions(ClientOptions.builder()
        .autoReconnect(true)
        .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
        // Each connection's own URI timeout applies: the request path's is short, the
        // persisters' (blocking XREADGROUP) is long.
        .timeoutOptions(TimeoutOptions.enabled())
        // A paused or unreachable Redis must fail a connect quickly too, not after 10 s.
        .socketOptions(SocketOptions.builder()
            .connectTimeout(commandTimeout.compareTo(MIN_CONNECT_TIMEOUT) < 0 ? MIN_CONNECT_TIMEOUT : commandTimeout)
            .build())
        .build());
  }

  /** The connection all request-path commands share (lettuce pipelines them). */
  public RedisAsyncCommands<String, byte[]> async() {
    return sharedConnection().async();
  }

  private StatefulRedisConnection<String, byte[]> sharedConnection() {
    StatefulRedisConnection<String, byte[]> c = shared;
    if (c != null && c.isOpen()) {
      return c;
    }
    synchronized (this) {
      if (shared == null || !shared.isOpen()) {
        shared = client.connect(CODEC, uri);
        opened.add(shared);
      }
      return shared;
    }
  }

  /**
   * A connection of its own, for callers that block (persisters' XREADGROUP BLOCK): a blocking
   * command on the shared connection would stall every send behind it.
   */
  public StatefulRedisConnection<String, byte[]> dedicatedConnection(Duration timeout) {
    RedisURI own = RedisURI.create(uri.toURI());
    own.setTimeout(timeout);
    StatefulRedisConnection<String, byte[]> c = client.connect(CODEC, own);
    c.setTimeout(timeout);
    opened.add(c);
    return c;
  }

  public StatefulRedisPubSubConnection<String, String> pubSubConnection() {
    StatefulRedisPubSubConnection<String, String> c = client.connectPubSub(StringCodec.UTF8, uri);
    opened.add(c);
    return c;
  }

  public Duration commandTimeout() {
    return commandTimeout;
  }

  public String address() {
    return uri.getHost() + ":" + uri.getPort();
  }

  @Override
  public void close() {
    for (AutoCloseable c : opened) {
      try {
        c.close();
      } catch (Exception e) {
        log.debug("closing redis connection", e);
      }
    }
    client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
  }
}
