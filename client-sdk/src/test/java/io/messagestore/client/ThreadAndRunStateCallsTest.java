package io.messagestore.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.messagestore.api.v1.PutRunStateRequest;
import io.messagestore.api.v1.RunState;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class ThreadAndRunStateCallsTest {
  private InProcessGateway gateway;
  private MessageStoreClient client;

  @BeforeEach
  void start() throws Exception {
    gateway = new InProcessGateway();
    client = gateway.client("token-1");
  }

  @AfterEach
  void stop() throws Exception {
    gateway.close();
  }

  @Test
  void deleteThreadNamesTheThreadAndReturnsHowManyMessagesWentAway() {
    gateway.store.addMessages("t-1", 3);

    assertThat(client.deleteThread("t-1")).isEqualTo(3);
    assertThat(gateway.store.deleteRequests).extracting(r -> r.getThreadId()).containsExactly("t-1");
  }

  @Test
  void threadStatsComeBackAsTheServerGaveThem() {
    gateway.store.addMessages("t-1", 2);

    assertThat(client.threadStats("t-1").getMessageCount()).isEqualTo(2);
  }

  @Test
  void runStateVersionsAdvanceAndAStaleExpectedVersionIsAborted() {
    PutRunStateRequest first = PutRunStateRequest.newBuilder()
        .setRunId("run-1").setState(ByteString.copyFromUtf8("{\"step\":1}")).build();

    assertThat(client.putRunState(first).getRunState().getVersion()).isEqualTo(1);
    assertThat(client.putRunState(first.toBuilder().setExpectedVersion(1).build())
        .getRunState().getVersion()).isEqualTo(2);
    assertThatThrownBy(() -> client.putRunState(first.toBuilder().setExpectedVersion(1).build()))
        .isInstanceOfSatisfying(MessageStoreException.class, e -> {
          assertThat(e.getCode()).isEqualTo(Status.Code.ABORTED);
          assertThat(e.getDescription()).contains("version 2");
        });
    RunState latest = client.getRunState("run-1", 0).getRunState();
    assertThat(latest.getVersion()).isEqualTo(2);
    assertThat(latest.getState().toStringUtf8()).isEqualTo("{\"step\":1}");
  }

  @Test
  void anUnknownRunIsNotFound() {
    assertThatThrownBy(() -> client.getRunState("nope", 0))
        .isInstanceOfSatisfying(MessageStoreException.class,
            e -> assertThat(e.getCode()).isEqualTo(Status.Code.NOT_FOUND));
  }

  @Test
  void anUnauthenticatedClientSendsNoAuthorizationHeader() {
    MessageStoreClient open = MessageStoreClient.createUnauthenticated(
        gateway.channel, MessageStoreClientOptions.defaults());

    open.threads();
    open.admin().tierStatus();

    assertThat(gateway.store.authorizationHeaders).containsExactly("<none>", "<none>");
  }
}
