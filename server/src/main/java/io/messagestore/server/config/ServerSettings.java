package io.messagestore.server.config;

import java.time.Duration;

/**
 * How the gateway process serves: its gRPC listener and metrics endpoint, the event loops they
 * share with Redis, the largest request it takes, how often it probes the tiers for health, and
 * how long it drains on shutdown.
 */
public record ServerSettings(
    String grpcHost,
    int grpcPort,
    int metricsPort,
    int ioThreads,
    int maxInboundMessageBytes,
    Duration healthProbeInterval,
    Duration shutdownGrace) {

  public static final Setting<String> GRPC_HOST = Setting.text("MESSAGESTORE_GRPC_HOST", "127.0.0.1")
      .rule(h -> !h.isBlank(), "must not be empty");
  public static final Setting<Integer> GRPC_PORT = Setting.integer("MESSAGESTORE_GRPC_PORT", 50051)
      .rule(ServerSettings::isPort, "must be a TCP port (0-65535)");
  public static final Setting<Integer> METRICS_PORT = Setting.integer("MESSAGESTORE_METRICS_PORT", 9464)
      .rule(ServerSettings::isPort, "must be a TCP port (0-65535)");
  /** Event loops shared by gRPC and Redis connections: one per core. */
  public static final Setting<Integer> IO_THREADS =
      Setting.integer("MESSAGESTORE_IO_THREADS", Runtime.getRuntime().availableProcessors())
          .rule(n -> n >= 1 && n <= 256, "must be 1-256");
  /** Its rule is {@link WriteSettings#MAX_CONTENT_BYTES}'s: the content must fit with room to spare. */
  public static final Setting<Integer> MAX_INBOUND_MESSAGE_BYTES =
      Setting.integer("MESSAGESTORE_MAX_INBOUND_MESSAGE_BYTES", 4 * 1024 * 1024);
  public static final Setting<Duration> HEALTH_PROBE_INTERVAL =
      Setting.positiveDuration("MESSAGESTORE_HEALTH_PROBE_INTERVAL", Duration.ofSeconds(1));
  public static final Setting<Duration> SHUTDOWN_GRACE =
      Setting.positiveDuration("MESSAGESTORE_SHUTDOWN_GRACE", Duration.ofSeconds(20));

  public ServerSettings {
    GRPC_HOST.check(grpcHost);
    GRPC_PORT.check(grpcPort);
    METRICS_PORT.check(metricsPort);
    IO_THREADS.check(ioThreads);
    MAX_INBOUND_MESSAGE_BYTES.check(maxInboundMessageBytes);
    HEALTH_PROBE_INTERVAL.check(healthProbeInterval);
    SHUTDOWN_GRACE.check(shutdownGrace);
  }

  static ServerSettings from(SettingValues v) {
    return new ServerSettings(v.get(GRPC_HOST), v.get(GRPC_PORT), v.get(METRICS_PORT), v.get(IO_THREADS),
        v.get(MAX_INBOUND_MESSAGE_BYTES), v.get(HEALTH_PROBE_INTERVAL), v.get(SHUTDOWN_GRACE));
  }

  /** True when the gRPC listener only accepts connections from this machine. */
  public boolean listensOnLoopbackOnly() {
    return grpcHost.startsWith("127.") || grpcHost.equals("localhost") || grpcHost.equals("::1");
  }

  private static boolean isPort(int port) {
    return port >= 0 && port <= 65535;
  }
}
