package io.messagestore.client.internal;

import io.grpc.ChannelCredentials;
import io.grpc.Grpc;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.NameResolverRegistry;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;

/**
 * Makes the channel of a client built with its builder: one or several gateways, round-robin
 * over every address, keepalive, and client-side health checking so that an instance that says
 * it is not serving (or is gone) takes no calls.
 */
public final class GatewayChannels {
  /**
   * The health service the gateways report per API: SERVING while Redis or PostgreSQL can take
   * writes, NOT_SERVING from the start of a graceful shutdown.
   */
  public static final String HEALTH_SERVICE = "messagestore.v1.MessageStore";

  private GatewayChannels() {}

  /**
   * The gRPC target for what the user wrote: a comma-separated list of {@code host:port}
   * becomes a {@code static:///} target of this SDK's resolver; anything else (one
   * {@code host:port}, {@code dns:///name:port}, another scheme) is passed on unchanged.
   */
  public static String target(String target) {
    String trimmed = target.strip();
    if (trimmed.contains(",") && !trimmed.contains("://") && !trimmed.contains(":///")) {
      StaticAddressResolverProvider.parse(trimmed); // fails now, naming the bad entry
      return StaticAddressResolverProvider.SCHEME + ":///" + trimmed.replace(" ", "");
    }
    if (trimmed.startsWith(StaticAddressResolverProvider.SCHEME + ":///")) {
      StaticAddressResolverProvider.parse(trimmed.substring(StaticAddressResolverProvider.SCHEME.length() + 4));
    }
    return trimmed;
  }

  /**
   * Builds the channel.
   *
   * @param healthChecking whether to ask each address's {@code grpc.health.v1} service; a
   *     server without one counts as healthy
   * @param executor the channel's application executor; null for gRPC's default
   */
  public static ManagedChannel open(String target, ChannelCredentials credentials,
      Duration keepAliveTime, boolean healthChecking, Executor executor) {
    StaticAddressResolverProvider.registerOnce();
    Map<String, Object> serviceConfig = healthChecking
        ? Map.of("loadBalancingConfig", List.of(Map.of("round_robin", Map.of())),
            "healthCheckConfig", Map.of("serviceName", HEALTH_SERVICE))
        : Map.of("loadBalancingConfig", List.of(Map.of("round_robin", Map.of())));
    ManagedChannelBuilder<?> builder = Grpc.newChannelBuilder(target(target), credentials)
        .defaultServiceConfig(serviceConfig)
        // A service config from DNS must not switch off the balancing and health checks above.
        .disableServiceConfigLookUp()
        .keepAliveTime(keepAliveTime.toMillis(), TimeUnit.MILLISECONDS)
        .keepAliveTimeout(20, TimeUnit.SECONDS);
    if (executor != null) {
      builder.executor(executor);
    }
    return builder.build();
  }

  /** Whether the default registry knows our scheme (for tests). */
  static boolean registered() {
    return NameResolverRegistry.getDefaultRegistry()
        .getProviderForScheme(StaticAddressResolverProvider.SCHEME) != null;
  }
}
