package io.messagestore.server.redis;

import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisChannelHandler;
import io.lettuce.core.RedisConnectionStateListener;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisConnectionException;
import io.lettuce.core.RedisURI;
import io.lettuce.core.SocketOptions;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.api.StatefulConnection;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.async.RedisAsyncCommands;
import io.lettuce.core.codec.RedisCodec;
import io.lettuce.core.codec.StringCodec;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.DefaultClientResources;
import io.lettuce.core.resource.NettyCustomizer;
import io.messagestore.server.config.RedisSettings;
import io.messagestore.server.eventloop.EventLoops;
import io.netty.channel.Channel;
import io.netty.handler.flush.FlushConsolidationHandler;
import io.netty.util.HashedWheelTimer;
import io.netty.util.concurrent.DefaultEventExecutorGroup;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.function.Consumer;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Connections to Redis. Keys are strings, values raw bytes (messages are stored as protobuf).
 *
 * <p>The request path has one connection per event loop, living on that loop: a call served by
 * loop {@code i} uses connection {@code i}, so its command and reply never change threads (see
 * {@link EventLoops}). Lettuce pipelines all calls of a loop on its connection.
 *
 * <p>Connections are opened lazily and re-opened after a failure, so the gateway starts while
 * Redis is down and uses it once it answers (see {@link LoopConnections}). Commands issued while
 * disconnected are rejected at once instead of queued: a queued send would wait for a
 * reconnect instead of failing over to PostgreSQL within the time limit.
 */
public final class RedisTier implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(RedisTier.class);
  public static final RedisCodec<String, byte[]> CODEC = Utf8KeysBinaryValuesCodec.INSTANCE;

  private static final Duration MIN_CONNECT_TIMEOUT = Duration.ofMillis(500);
  /**
   * Lettuce flushes after every command: one write syscall per call. The calls an event loop
   * handles in one pass over its ready gRPC connections are flushed together at the end of the
   * pass instead, one syscall for all of them (and Redis reads them in one go too).
   */
  private static final NettyCustomizer CONSOLIDATE_FLUSHES = new NettyCustomizer() {
    @Override
    public void afterChannelInitialized(Channel channel) {
      channel.pipeline().addFirst(new FlushConsolidationHandler(
          FlushConsolidationHandler.DEFAULT_EXPLICIT_FLUSH_AFTER_FLUSHES, true));
    }
  };

  private final EventLoops loops;
  private final DefaultEventExecutorGroup lettuceTasks;
  private final HashedWheelTimer timer;
  private final List<ClientResources> resources = new ArrayList<>();
  /** One client per event loop: lettuce places all connections of a client on its loop. */
  private final List<RedisClient> clients = new ArrayList<>();
  /**
   * Connections of background work (persisters' blocking reads, pub/sub) live on an I/O thread
   * of their own: decoding a batch of hundreds of stream entries on an event loop would hold up
   * every call queued behind it on that loop.
   */
  private final ClientResources backgroundResources;
  private final RedisClient background;
  private final RedisURI uri;
  private final Duration commandTimeout;
  private final List<StatefulConnection<?, ?>> opened = new CopyOnWriteArrayList<>();
  private final LoopConnections requestPath;

  public RedisTier(RedisSettings settings, EventLoops loops) {
    Duration commandTimeout = settings.timeout();
    this.loops = loops;
    this.uri = RedisURI.create(settings.uri());
    this.uri.setTimeout(commandTimeout);
    this.commandTimeout = commandTimeout;
    // Shared by the per-loop clients: lettuce's own small task pool and its timeout timer.
    this.lettuceTasks = new DefaultEventExecutorGroup(1, new DefaultThreadFactory("redis-tasks", true));
    this.timer = new HashedWheelTimer(new DefaultThreadFactory("redis-timeouts", true));
    ClientOptions options = ClientOptions.builder()
        .autoReconnect(true)
        .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
        // Each connection's own URI timeout applies: the request path's is short, the
        // persisters' (blocking XREADGROUP) is long.
        .timeoutOptions(TimeoutOptions.enabled())
        // A paused or unreachable Redis must fail a connect quickly too, not after 10 s.
        .socketOptions(SocketOptions.builder().connectTimeout(connectTimeout()).build())
        .build();
    for (int i = 0; i < loops.size(); i++) {
      ClientResources r = DefaultClientResources.builder()
          .eventLoopGroupProvider(loops.pinnedTo(i))
          .eventExecutorGroup(lettuceTasks)
          .timer(timer)
          .nettyCustomizer(CONSOLIDATE_FLUSHES)
          .build();
      RedisClient client = RedisClient.create(r);
      client.setOptions(options);
      resources.add(r);
      clients.add(client);
    }
    this.backgroundResources = DefaultClientResources.builder()
        .ioThreadPoolSize(1)
        .eventExecutorGroup(lettuceTasks)
        .timer(timer)
        .build();
    this.background = RedisClient.create(backgroundResources);
    background.setOptions(options);
    this.requestPath = loopConnections("request-path", c -> CompletableFuture.completedFuture(null));
  }

  /**
   * The request-path connection of the calling event loop (any one for other threads); lettuce
   * pipelines the commands of all calls that share it.
   *
   * @throws RedisConnectionException when the connection is not open yet; on an event loop
   *     this is immediate (a connect is started in the background), elsewhere after waiting for
   *     the connect
   */
  public RedisAsyncCommands<String, byte[]> async() {
    return requestPath.current().async();
  }

  /**
   * Opens the request-path connection of every event loop and waits up to the connect and
   * command timeouts for them. Until its loop's connection is open, a call goes around Redis at
   * once (an event loop never waits for a connect), so a gateway that served before then would
   * send its first calls to PostgreSQL: a crashed instance's retries among them, whose first
   * attempts may still wait in Redis to be persisted. Redis down at start is no error: the
   * connects go on when calls need them.
   *
   * @return whether every loop's connection is open
   */
  public boolean openRequestPath() {
    try {
      requestPath.connectAll().get(connectTimeout().plus(commandTimeout).toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (ExecutionException | TimeoutException e) {
      log.debug("request-path connections not all open yet: {}", e.toString());
    }
    return requestPath.open().size() == loops.size();
  }

  /**
   * Completes once every open request-path connection has answered everything sent on it
   * before this call. Replies on one connection arrive in order, so a PING on each is the point
   * after which no earlier reply is still on its way; across connections there is no other
   * order.
   */
  public CompletableFuture<Void> requestPathBarrier() {
    return barrier(requestPath);
  }

  static CompletableFuture<Void> barrier(LoopConnections connections) {
    List<CompletableFuture<String>> pings = new ArrayList<>();
    for (StatefulRedisConnection<String, byte[]> c : connections.open()) {
      pings.add(c.async().ping().toCompletableFuture());
    }
    return CompletableFuture.allOf(pings.toArray(new CompletableFuture[0]));
  }

  /**
   * Another set of per-loop connections, for a purpose of their own: each is handed to
   * {@code prepare} once connected and used only after that completes (a failed preparation
   * closes it; the next use connects again).
   */
  LoopConnections loopConnections(String purpose,
      Function<StatefulRedisConnection<String, byte[]>, CompletionStage<?>> prepare) {
    return new LoopConnections(purpose, address(), loops.size(), loops::currentIndex,
        i -> connect(i).thenCompose(c -> prepare.apply(c).handle((v, e) -> {
          if (e != null) {
            c.closeAsync();
            throw e instanceof CompletionException ce ? ce : new CompletionException(e);
          }
          return c;
        })),
        connectTimeout().plus(commandTimeout));
  }

  /** Tells {@code listener} of every connection of this tier that lost its server. */
  void onDisconnected(Consumer<RedisChannelHandler<?, ?>> listener) {
    for (RedisClient client : clients) {
      client.addListener(new RedisConnectionStateListener() {
        @Override
        public void onRedisDisconnected(RedisChannelHandler<?, ?> connection) {
          listener.accept(connection);
        }
      });
    }
  }

  private CompletableFuture<StatefulRedisConnection<String, byte[]>> connect(int loop) {
    // Lettuce bounds the connection's handshake (HELLO, CLIENT SETINFO) by the URI's timeout.
    // With the request path's 100 ms, a busy machine's first connect failed and the first
    // sends went around Redis; the handshake gets the connect timeout, commands their own.
    RedisURI handshake = withTimeout(connectTimeout());
    return clients.get(loop).connectAsync(CODEC, handshake).toCompletableFuture().thenApply(c -> {
      c.setTimeout(commandTimeout);
      opened.add(c);
      return c;
    });
  }

  /** The tier's URI (credentials, TLS, database and all) with another timeout. */
  private RedisURI withTimeout(Duration timeout) {
    return RedisURI.builder(uri).withTimeout(timeout).build();
  }

  private Duration connectTimeout() {
    return commandTimeout.compareTo(MIN_CONNECT_TIMEOUT) < 0 ? MIN_CONNECT_TIMEOUT : commandTimeout;
  }

  /**
   * A connection of its own, for callers that block (persisters' XREADGROUP BLOCK): a blocking
   * command on the shared connection would stall every send behind it. Never call it from an
   * event loop.
   */
  public StatefulRedisConnection<String, byte[]> dedicatedConnection(Duration timeout) {
    RedisURI own = withTimeout(timeout);
    StatefulRedisConnection<String, byte[]> c = background.connect(CODEC, own);
    c.setTimeout(timeout);
    opened.add(c);
    return c;
  }

  /** A pub/sub connection. Never call it from an event loop. */
  public StatefulRedisPubSubConnection<String, String> pubSubConnection() {
    StatefulRedisPubSubConnection<String, String> c = background.connectPubSub(StringCodec.UTF8, uri);
    opened.add(c);
    return c;
  }

  /**
   * A pub/sub connection whose messages are bytes (channel names are text), whose commands
   * (SUBSCRIBE) time out after {@code timeout}, not the request path's: a subscription waits
   * behind the connection's other traffic. Never call it from an event loop.
   */
  public StatefulRedisPubSubConnection<String, byte[]> binaryPubSubConnection(Duration timeout) {
    StatefulRedisPubSubConnection<String, byte[]> c = background.connectPubSub(CODEC, withTimeout(timeout));
    c.setTimeout(timeout);
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
    for (StatefulConnection<?, ?> c : opened) {
      if (!c.isOpen()) {
        continue; // closed by its user (persisters close their own)
      }
      try {
        c.close();
      } catch (Exception e) {
        log.debug("closing redis connection", e);
      }
    }
    for (RedisClient client : clients) {
      client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
    }
    background.shutdown(Duration.ZERO, Duration.ofSeconds(2));
    for (ClientResources r : resources) {
      r.shutdown(0, 2, TimeUnit.SECONDS);
    }
    backgroundResources.shutdown(0, 2, TimeUnit.SECONDS);
    lettuceTasks.shutdownGracefully(0, 2, TimeUnit.SECONDS);
    timer.stop();
  }
}
