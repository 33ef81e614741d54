package io.messagestore.client;

import io.grpc.ChannelCredentials;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.TlsChannelCredentials;
import io.messagestore.client.internal.GatewayChannels;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.Executor;
import java.util.function.Supplier;

/**
 * Builds a {@link MessageStoreClient} with a channel of its own, from
 * {@link MessageStoreClient#builder()}; not thread-safe.
 *
 * <pre>{@code
 * MessageStoreClient client = MessageStoreClient.builder()
 *     .target("gw1.internal:50051,gw2.internal:50051")   // or "dns:///messagestore.internal:50051"
 *     .tokenSupplier(tokens::currentJwt)
 *     .build();
 * }</pre>
 *
 * <p>The channel balances calls round-robin over every address of the target and checks each
 * address's health ({@code grpc.health.v1}, service {@code messagestore.v1.MessageStore}): an
 * instance that answers NOT_SERVING (a gateway that is shutting down, or has lost both Redis
 * and PostgreSQL) or cannot be reached gets no calls until it is healthy again. It pings idle
 * connections every {@link #DEFAULT_KEEPALIVE_TIME} so that a gateway that vanished is noticed
 * and proxies keep watches open.
 */
public final class MessageStoreClientBuilder {

  /** How often a connection is pinged when quiet: 30 s (the gateway accepts down to 10 s). */
  public static final Duration DEFAULT_KEEPALIVE_TIME = Duration.ofSeconds(30);

  /** The shortest keepalive time the gateway tolerates before it closes the connection: 10 s. */
  public static final Duration MIN_KEEPALIVE_TIME = Duration.ofSeconds(10);

  private String target;
  private ChannelCredentials credentials;
  private Supplier<String> tokenSupplier;
  private boolean unauthenticated;
  private MessageStoreClientOptions options = MessageStoreClientOptions.defaults();
  private Duration keepAliveTime = DEFAULT_KEEPALIVE_TIME;
  private boolean healthChecking = true;
  private Executor executor;

  MessageStoreClientBuilder() {}

  /**
   * Sets the gateways to connect to. Required. One of:
   * <ul>
   *   <li>{@code host:port}: one gateway (every address its name resolves to);</li>
   *   <li>{@code host1:port1,host2:port2,...}: several gateways, each an address of the
   *       round-robin (the first one's name is the TLS authority);</li>
   *   <li>{@code dns:///name:port}: every address of a DNS name, looked up again when a
   *       connection fails;</li>
   *   <li>any other gRPC target URI.</li>
   * </ul>
   *
   * @throws IllegalArgumentException if blank, or a list entry is not {@code host:port}
   */
  public MessageStoreClientBuilder target(String target) {
    if (target == null || target.isBlank()) {
      throw new IllegalArgumentException("target must not be blank, got '" + target + "'");
    }
    GatewayChannels.target(target); // validates a list now rather than at the first call
    this.target = target;
    return this;
  }

  /**
   * Connects without TLS. Bearer tokens then travel in clear text: only for a server on
   * localhost or behind a TLS-terminating proxy on a trusted network.
   */
  public MessageStoreClientBuilder plaintext() {
    return credentials(InsecureChannelCredentials.create());
  }

  /**
   * Sets the channel credentials, e.g. {@link TlsChannelCredentials} with a private CA.
   * Defaults to TLS with the JVM's trusted roots.
   */
  public MessageStoreClientBuilder credentials(ChannelCredentials credentials) {
    this.credentials = Objects.requireNonNull(credentials, "credentials");
    return this;
  }

  /**
   * Sets where the JWT comes from. Called once per RPC attempt, possibly from a gRPC thread, so
   * it must be thread-safe; it may block briefly to refresh a token. Required.
   */
  public MessageStoreClientBuilder tokenSupplier(Supplier<String> tokenSupplier) {
    this.tokenSupplier = Objects.requireNonNull(tokenSupplier, "tokenSupplier");
    this.unauthenticated = false;
    return this;
  }

  /**
   * Sends no token, for a gateway run with {@code MESSAGESTORE_AUTH=disabled} (loopback
   * development only). Replaces a token supplier set earlier.
   */
  public MessageStoreClientBuilder unauthenticated() {
    this.unauthenticated = true;
    this.tokenSupplier = null;
    return this;
  }

  /** Sets the per-call behaviour; {@link MessageStoreClientOptions#defaults()} if not called. */
  public MessageStoreClientBuilder options(MessageStoreClientOptions options) {
    this.options = Objects.requireNonNull(options, "options");
    return this;
  }

  /**
   * Sets how often a quiet connection is pinged.
   *
   * @throws IllegalArgumentException if null or below {@link #MIN_KEEPALIVE_TIME}, which the
   *     gateway would answer by closing the connection
   */
  public MessageStoreClientBuilder keepAliveTime(Duration keepAliveTime) {
    if (keepAliveTime == null || keepAliveTime.compareTo(MIN_KEEPALIVE_TIME) < 0) {
      throw new IllegalArgumentException("keepAliveTime must be at least " + MIN_KEEPALIVE_TIME
          + ", got " + keepAliveTime);
    }
    this.keepAliveTime = keepAliveTime;
    return this;
  }

  /**
   * Turns client-side health checking off (it is on by default): every address that accepts a
   * connection then gets calls, also one that is shutting down.
   */
  public MessageStoreClientBuilder withoutHealthChecking() {
    this.healthChecking = false;
    return this;
  }

  /**
   * Sets where the client runs the token supplier and completes the asynchronous view's futures
   * and watch deliveries. By default that is gRPC's shared cached thread pool: safe for code that
   * blocks, at the price of two thread hand-offs per call. A direct executor ({@code
   * Runnable::run}) runs them on gRPC's network threads instead, without those hand-offs (on 2
   * cores it took the async view's sends per second from 0.76 x to 0.98 x the load tester's,
   * docs/BENCHMARKS.md "Client SDK overhead"); then the token supplier and every stage chained
   * on a future without an executor of its own must never block, or every call on the
   * connection waits.
   */
  public MessageStoreClientBuilder executor(Executor executor) {
    this.executor = Objects.requireNonNull(executor, "executor");
    return this;
  }

  /**
   * Creates the channel and the client. No connection is made until the first call.
   *
   * @throws IllegalStateException if the target is missing, or the token supplier is and
   *     {@link #unauthenticated()} was not called
   */
  public MessageStoreClient build() {
    if (target == null) {
      throw new IllegalStateException("target is required");
    }
    if (tokenSupplier == null && !unauthenticated) {
      throw new IllegalStateException("tokenSupplier is required");
    }
    ChannelCredentials channelCredentials =
        credentials != null ? credentials : TlsChannelCredentials.create();
    ManagedChannel channel =
        GatewayChannels.open(target, channelCredentials, keepAliveTime, healthChecking, executor);
    return new MessageStoreClient(channel, channel, tokenSupplier, options);
  }
}
