package io.messagestore.client;

import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import java.io.IOException;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/** Both fake services on an in-process server, with every call's authorization header recorded. */
final class InProcessGateway implements AutoCloseable {
  final FakeMessageStore store = new FakeMessageStore();
  final FakeAdmin admin = new FakeAdmin();
  final Server server;
  final ManagedChannel channel;

  InProcessGateway() throws IOException {
    // A unique name keeps tests independent even if a server from an earlier test lingers.
    String name = "messagestore-" + UUID.randomUUID();
    server = InProcessServerBuilder.forName(name)
        .addService(ServerInterceptors.intercept(store, store.headerRecorder()))
        .addService(ServerInterceptors.intercept(admin, store.headerRecorder()))
        .build()
        .start();
    channel = InProcessChannelBuilder.forName(name).build();
  }

  MessageStoreClient client(String token) {
    return MessageStoreClient.create(channel, () -> token, MessageStoreClientOptions.defaults());
  }

  @Override
  public void close() throws InterruptedException {
    channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
  }
}
