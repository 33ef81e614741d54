package io.messagestore.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.Grpc;
import io.grpc.InsecureServerCredentials;
import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.Status;
import io.messagestore.api.v1.Role;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The builder path over a real (Netty, loopback) connection, which in-process tests skip. */
class MessageStoreClientBuilderTest {

  private final FakeMessageStore fake = new FakeMessageStore();
  private Server server;
  private String target;

  @BeforeEach
  void startServer() throws Exception {
    server = Grpc.newServerBuilderForPort(0, InsecureServerCredentials.create())
        .directExecutor()
        .addService(ServerInterceptors.intercept(fake, fake.headerRecorder()))
        .build()
        .start();
    target = "127.0.0.1:" + server.getPort();
  }

  @AfterEach
  void stopServer() throws Exception {
    server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
  }

  @Test
  void plaintextClientReachesTheServerWithItsToken() {
    try (MessageStoreClient client = MessageStoreClient.builder()
        .target(target).plaintext().tokenSupplier(() -> "jwt").build()) {
      client.send("t", Role.ROLE_USER, "hi");
    }

    assertThat(fake.authorizationHeaders).containsExactly("Bearer jwt");
  }

  @Test
  void tlsIsTheDefaultSoAPlaintextServerIsUnreachable() {
    try (MessageStoreClient client = MessageStoreClient.builder()
        .target(target).tokenSupplier(() -> "jwt")
        .options(MessageStoreClientOptions.builder().deadline(Duration.ofSeconds(2)).build())
        .build()) {
      assertThatThrownBy(() -> client.send("t", Role.ROLE_USER, "hi"))
          .isInstanceOfSatisfying(MessageStoreException.class,
              e -> assertThat(e.getCode()).isEqualTo(Status.Code.UNAVAILABLE));
    }
    assertThat(fake.sendRequests).isEmpty();
  }

  @Test
  void closeShutsDownTheChannelTheBuilderCreated() {
    MessageStoreClient client = MessageStoreClient.builder()
        .target(target).plaintext().tokenSupplier(() -> "jwt").build();
    client.send("t", Role.ROLE_USER, "hi");

    client.close();
    client.close();

    assertThatThrownBy(() -> client.send("t", Role.ROLE_USER, "again"))
        .isInstanceOf(IllegalStateException.class);
  }

  @Test
  void missingTargetOrTokenSupplierFailsAtBuild() {
    assertThatThrownBy(() -> MessageStoreClient.builder().tokenSupplier(() -> "jwt").build())
        .isInstanceOf(IllegalStateException.class).hasMessage("target is required");
    assertThatThrownBy(() -> MessageStoreClient.builder().target(target).build())
        .isInstanceOf(IllegalStateException.class).hasMessage("tokenSupplier is required");
  }

  @Test
  void anUnauthenticatedClientNeedsNoTokenSupplierAndSendsNoToken() {
    try (MessageStoreClient client = MessageStoreClient.builder()
        .target(target).plaintext().unauthenticated().build()) {
      client.send("t", Role.ROLE_USER, "hi");
    }

    assertThat(fake.authorizationHeaders).containsExactly("<none>");
  }

  @Test
  void blankTargetFailsAtTheSetter() {
    assertThatThrownBy(() -> MessageStoreClient.builder().target(" "))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("target must not be blank, got ' '");
  }
}
