package io.messagestore.cli;

import io.grpc.ChannelCredentials;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.TlsChannelCredentials;
import io.messagestore.client.MessageStoreClient;
import io.messagestore.client.MessageStoreClientOptions;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/** The channel and client one command uses; closing it shuts the channel down. */
public final class GatewayConnection implements AutoCloseable {
  private final ManagedChannel channel;
  private final MessageStoreClient client;

  private GatewayConnection(ManagedChannel channel, MessageStoreClient client) {
    this.channel = channel;
    this.client = client;
  }

  static GatewayConnection open(String target, boolean plaintext, Path caCertificates,
      Optional<String> token, Duration timeout, int pageSize) {
    ManagedChannel channel = Grpc.newChannelBuilder(target, credentials(plaintext, caCertificates)).build();
    MessageStoreClientOptions options = MessageStoreClientOptions.builder()
        .deadline(timeout)
        .pageSize(pageSize)
        .build();
    MessageStoreClient client = token
        .map(t -> MessageStoreClient.create(channel, () -> t, options))
        .orElseGet(() -> MessageStoreClient.createUnauthenticated(channel, options));
    return new GatewayConnection(channel, client);
  }

  public MessageStoreClient client() {
    return client;
  }

  /** The channel, for services outside the MessageStore API (grpc.health.v1). */
  public ManagedChannel channel() {
    return channel;
  }

  private static ChannelCredentials credentials(boolean plaintext, Path caCertificates) {
    if (plaintext) {
      return InsecureChannelCredentials.create();
    }
    if (caCertificates == null) {
      return TlsChannelCredentials.create();
    }
    try {
      return TlsChannelCredentials.newBuilder().trustManager(caCertificates.toFile()).build();
    } catch (IOException | IllegalArgumentException e) {
      throw new IllegalArgumentException("cannot use --cacert " + caCertificates + ": " + e.getMessage());
    }
  }

  /** Whether {@code target}'s host is this machine, where plaintext never leaves it. */
  static boolean isLoopback(String target) {
    String host = target.startsWith("dns:///") ? target.substring("dns:///".length()) : target;
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
    channel.shutdownNow();
    try {
      channel.awaitTermination(2, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
