package io.messagestore.server.testing;

import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.messagestore.api.v1.MessageStoreAdminGrpc;
import io.messagestore.api.v1.MessageStoreGrpc;
import io.messagestore.server.Gateway;
import io.messagestore.server.config.ConfigLoader;
import io.messagestore.server.config.GatewayConfig;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Clock;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** A gateway running inside the test JVM on free ports, against the shared (or given) tiers. */
public final class TestGateway implements AutoCloseable {
  private final Gateway gateway;
  private final ManagedChannel channel;
  private final Map<String, String> settings;
  private final GatewayConfig config;

  private TestGateway(Map<String, String> settings, Clock clock) throws Exception {
    this.settings = settings;
    this.config = ConfigLoader.load(null, Map.of(), settings);
    gateway = new Gateway(config, clock).start();
    channel = ManagedChannelBuilder.forAddress("127.0.0.1", gateway.port()).usePlaintext().build();
  }

  /** Shared tiers plus test defaults, then {@code overrides}. */
  public static TestGateway start(Map<String, String> overrides) throws Exception {
    return new TestGateway(settings(overrides), Clock.systemUTC());
  }

  /** Shared tiers plus test defaults, running on {@code clock} (a machine whose clock is off). */
  public static TestGateway start(Map<String, String> overrides, Clock clock) throws Exception {
    return new TestGateway(settings(overrides), clock);
  }

  /** Exactly these settings (no shared-tier defaults added). */
  public static TestGateway startWith(Map<String, String> settings) throws Exception {
    return new TestGateway(settings, Clock.systemUTC());
  }

  public static TestGateway start() throws Exception {
    return start(Map.of());
  }

  public static Map<String, String> settings(Map<String, String> overrides) {
    Map<String, String> s = new HashMap<>(LocalTiers.shared());
    s.put("MESSAGESTORE_GRPC_PORT", "0");
    s.put("MESSAGESTORE_METRICS_PORT", "0");
    s.put("MESSAGESTORE_JWT_SECRET", Tokens.SECRET);
    s.put("MESSAGESTORE_HEALTH_PROBE_INTERVAL", "200ms");
    s.put("MESSAGESTORE_SHUTDOWN_GRACE", "5s");
    s.putAll(overrides);
    return s;
  }

  public Gateway gateway() {
    return gateway;
  }

  /** The configuration the gateway runs with. */
  public GatewayConfig config() {
    return config;
  }

  public ManagedChannel channel() {
    return channel;
  }

  public MessageStoreGrpc.MessageStoreBlockingStub as(String user) {
    return MessageStoreGrpc.newBlockingStub(channel).withCallCredentials(Tokens.bearer(Tokens.user(user)))
        .withDeadlineAfter(30, TimeUnit.SECONDS);
  }

  /** The MessageStore service as a user with the admin role. */
  public MessageStoreGrpc.MessageStoreBlockingStub asAdmin(String user) {
    return MessageStoreGrpc.newBlockingStub(channel).withCallCredentials(Tokens.bearer(Tokens.admin(user)))
        .withDeadlineAfter(30, TimeUnit.SECONDS);
  }

  public MessageStoreGrpc.MessageStoreFutureStub asyncAs(String user) {
    return MessageStoreGrpc.newFutureStub(channel).withCallCredentials(Tokens.bearer(Tokens.user(user)));
  }

  public MessageStoreAdminGrpc.MessageStoreAdminBlockingStub admin() {
    return MessageStoreAdminGrpc.newBlockingStub(channel).withCallCredentials(Tokens.bearer(Tokens.admin("ops")))
        .withDeadlineAfter(30, TimeUnit.SECONDS);
  }

  /** A JDBC connection to the PostgreSQL this gateway writes to. */
  public Connection postgres() throws SQLException {
    return Databases.connect(settings);
  }

  @Override
  public void close() {
    channel.shutdownNow();
    gateway.stop();
  }
}
