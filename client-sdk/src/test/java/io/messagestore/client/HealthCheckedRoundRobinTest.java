package io.messagestore.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.Grpc;
import io.grpc.InsecureServerCredentials;
import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.protobuf.services.HealthStatusManager;
import io.messagestore.api.v1.Role;
import io.messagestore.server.testing.Poll;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A target list over two real (Netty, loopback) servers that serve grpc.health.v1 as the
 * gateway does: calls go round-robin, and none to an instance that says NOT_SERVING.
 */
class HealthCheckedRoundRobinTest {
  private final FakeMessageStore storeA = new FakeMessageStore();
  private final FakeMessageStore storeB = new FakeMessageStore();
  private final HealthStatusManager healthA = new HealthStatusManager();
  private final HealthStatusManager healthB = new HealthStatusManager();
  private Server a;
  private Server b;

  @BeforeEach
  void start() throws Exception {
    a = server(storeA, healthA);
    b = server(storeB, healthB);
  }

  private static Server server(FakeMessageStore store, HealthStatusManager health) throws Exception {
    health.setStatus("messagestore.v1.MessageStore", ServingStatus.SERVING);
    return Grpc.newServerBuilderForPort(0, InsecureServerCredentials.create())
        .addService(ServerInterceptors.intercept(store, store.headerRecorder()))
        .addService(health.getHealthService())
        .build().start();
  }

  @AfterEach
  void stop() throws Exception {
    a.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    b.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
  }

  private MessageStoreClient client() {
    return MessageStoreClient.builder()
        .target("127.0.0.1:" + a.getPort() + ", 127.0.0.1:" + b.getPort())
        .plaintext().tokenSupplier(() -> "jwt").build();
  }

  @Test
  void callsAreSpreadOverEveryGatewayOfTheList() {
    try (MessageStoreClient client = client()) {
      // Subchannels become READY one after the other; after that the picker alternates.
      Poll.until(Duration.ofSeconds(10), "calls on both gateways", () -> {
        client.send("t", Role.ROLE_USER, "hi");
        return !storeA.sendRequests.isEmpty() && !storeB.sendRequests.isEmpty();
      });
      int beforeA = storeA.sendRequests.size();
      int beforeB = storeB.sendRequests.size();
      for (int i = 0; i < 20; i++) {
        client.send("t", Role.ROLE_USER, "hi " + i);
      }
      // Strictly alternating while both stay READY; a margin for a picker rebuilt meanwhile.
      assertThat(storeA.sendRequests.size() - beforeA).isBetween(8, 12);
      assertThat(storeB.sendRequests.size() - beforeB).isBetween(8, 12);
    }
  }

  @Test
  void aGatewayThatSaysNotServingGetsNoMoreCalls() {
    try (MessageStoreClient client = client()) {
      Poll.until(Duration.ofSeconds(10), "calls on both gateways", () -> {
        client.send("t", Role.ROLE_USER, "hi");
        return !storeA.sendRequests.isEmpty() && !storeB.sendRequests.isEmpty();
      });

      healthA.setStatus("messagestore.v1.MessageStore", ServingStatus.NOT_SERVING);
      // The health stream tells the client at once; wait until the picker has heard it.
      Poll.until(Duration.ofSeconds(10), "A to be taken out", () -> {
        int before = storeA.sendRequests.size();
        client.send("t", Role.ROLE_USER, "probe");
        client.send("t", Role.ROLE_USER, "probe");
        return storeA.sendRequests.size() == before;
      });
      int beforeA = storeA.sendRequests.size();
      for (int i = 0; i < 20; i++) {
        client.send("t", Role.ROLE_USER, "after " + i);
      }

      assertThat(storeA.sendRequests).hasSize(beforeA);
    }
  }

  @Test
  void aDnsTargetReachesTheGatewayAndHearsItsHealth() {
    // gRPC's own DNS resolver, with the SDK's balancing and health checks (the service config
    // lookup is off, so DNS cannot switch them off): localhost is one or two addresses
    // (127.0.0.1, ::1), and the server listens on both.
    try (MessageStoreClient client = MessageStoreClient.builder().target("dns:///localhost:" + a.getPort())
        .plaintext().tokenSupplier(() -> "jwt").build()) {
      assertThat(client.send("t", Role.ROLE_USER, "hi").getMessage().getMessageId()).isNotEmpty();
      assertThat(storeA.sendRequests).hasSize(1);

      healthA.setStatus("messagestore.v1.MessageStore", ServingStatus.NOT_SERVING);
      Poll.until(Duration.ofSeconds(10), "the only gateway to be taken out", () -> {
        try {
          client.async().send("t", Role.ROLE_USER, "probe").get(10, TimeUnit.SECONDS);
          return false;
        } catch (Exception e) {
          return true;
        }
      });
      assertThatThrownBy(() -> client.send("t", Role.ROLE_USER, "refused"))
          .isInstanceOf(MessageStoreException.class)
          .hasMessageContaining("UNAVAILABLE");
    }
  }

  @Test
  void aTargetListEntryWithoutPortFailsAtTheBuilderNamingIt() {
    assertThatThrownBy(() -> MessageStoreClient.builder().target("127.0.0.1:1,gw2"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("gateway 'gw2' in target '127.0.0.1:1,gw2' is not host:port");
    assertThatThrownBy(() -> MessageStoreClient.builder().target("127.0.0.1:1,gw2:99999"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("gateway 'gw2:99999' in target '127.0.0.1:1,gw2:99999' has no port between 1 and 65535");
  }
}
