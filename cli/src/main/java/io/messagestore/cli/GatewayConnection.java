package io.messagestore.cli;

import io.grpc.Channel;
import io.grpc.ChannelCredentials;
import io.grpc.TlsChannelCredentials;
import io.messagestore.client.MessageStoreClient;
import io.messagestore.client.MessageStoreClientBuilder;
import io.messagestore.client.MessageStoreClientOptions;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

/**
 * The client one command uses, built by the SDK's builder so that the CLI has what the SDK
 * has: target lists and {@code dns:///} names with round-robin and health checks, retries, and
 * watches that resume themselves. Closing it shuts the channel down.
 */
public final class GatewayConnection implements AutoCloseable {
  private final MessageStoreClient client;

  private GatewayConnection(MessageStoreClient client) {
    this.client = client;
  }

  static GatewayConnection open(String target, boolean plaintext, Path caCertificates,
      Optional<String> token, Duration timeout, int pageSize, boolean healthChecking) {
    MessageStoreClientOptions options = MessageStoreClientOptions.builder()
        .deadline(timeout)
        .pageSize(pageSize)
        .build();
    MessageStoreClientBuilder builder = MessageStoreClient.builder().target(target).options(options);
    if (plaintext) {
      builder.plaintext();
    } else if (caCertificates != null) {
      builder.credentials(privateCa(caCertificates));
    }
    if (!healthChecking) {
      builder.withoutHealthChecking();
    }
    token.ifPresentOrElse(t -> builder.tokenSupplier(() -> t), builder::unauthenticated);
    return new GatewayConnection(builder.build());
  }

  public MessageStoreClient client() {
    return client;
  }

  /** The channel, for services outside the MessageStore API (grpc.health.v1). */
  public Channel channel() {
    return client.channel();
  }

  private static ChannelCredentials privateCa(Path caCertificates) {
    try {
      return TlsChannelCredentials.newBuilder().trustManager(caCertificates.toFile()).build();
    } catch (IOException | IllegalArgumentException e) {
      throw new IllegalArgumentException("cannot use --cacert " + caCertificates + ": " + e.getMessage());
    }
  }

  /**
   * Whether every gateway of {@code target} (one {@code host:port}, a comma-separated list, or
   * a {@code dns:///} or {@code static:///} URI) is this machine, where plaintext never leaves it.
   */
  static boolean isLoopback(String target) {
    String hosts = target.replaceFirst("^(dns|static):///", "");
    for (String entry : hosts.split(",")) {
      if (!isLoopbackHost(entry.strip())) {
        return false;
      }
    }
    return true;
  }

  private static boolean isLoopbackHost(String hostAndPort) {
    String host = hostAndPort;
    if (host.startsWith("[")) {
      host = host.substring(1, Math.max(1, host.indexOf(']')));
    } else if (host.chars().filter(c -> c == ':').count() == 1) {
      host = host.substring(0, host.indexOf(':'));
    }
    return host.equals("localhost") || host.startsWith("127.") || host.equals("::1");
  }

  @Override
  public void close() {
    client.close();
  }
}
