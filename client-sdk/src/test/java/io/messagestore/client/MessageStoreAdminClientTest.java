package io.messagestore.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;

import io.grpc.Status;
import io.messagestore.api.v1.CheckConsistencyRequest;
import io.messagestore.api.v1.DeadLetter;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class MessageStoreAdminClientTest {
  private InProcessGateway gateway;
  private MessageStoreClient client;

  @BeforeEach
  void start() throws Exception {
    gateway = new InProcessGateway();
    client = MessageStoreClient.create(gateway.channel, () -> "admin-token",
        MessageStoreClientOptions.builder().pageSize(2).build());
  }

  @AfterEach
  void stop() throws Exception {
    gateway.close();
  }

  @Test
  void adminCallsCarryTheClientsToken() {
    client.admin().tierStatus();

    assertThat(gateway.store.authorizationHeaders).containsExactly("Bearer admin-token");
  }

  @Test
  void deadLettersArePagedLazilyWithTheClientsPageSize() {
    gateway.admin.addDeadLetters(5);

    List<String> firstThree = client.admin().deadLetters().limit(3).map(DeadLetter::getEntryId).toList();

    assertThat(firstThree).containsExactly("1-0", "1-1", "1-2");
    assertThat(gateway.admin.listRequests).hasSize(2)
        .allSatisfy(r -> assertThat(r.getPageSize()).isEqualTo(2));
    assertThat(client.admin().deadLetters().count()).isEqualTo(5);
  }

  @Test
  void replayingAnEmptyListIsRefusedBecauseOnTheWireItMeansEverything() {
    assertThatThrownBy(() -> client.admin().replayDeadLetters(List.of()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("replayAllDeadLetters");
    assertThat(gateway.admin.replayRequests).isEmpty();

    gateway.admin.addDeadLetters(3);
    assertThat(client.admin().replayDeadLetters(List.of("1-1"))).isEqualTo(1);
    assertThat(client.admin().replayAllDeadLetters()).isEqualTo(3);
    assertThat(gateway.admin.replayRequests).extracting(r -> List.copyOf(r.getEntryIdsList()))
        .containsExactly(List.of("1-1"), List.of());
  }

  @Test
  void rebuildNamesEitherOneThreadOrANumberOfRecentThreads() {
    assertThat(client.admin().rebuildThread("t-1")).isEqualTo("job-1");
    assertThat(client.admin().rebuildRecentThreads(50)).isEqualTo("job-2");

    assertThat(gateway.admin.rebuildRequests).extracting(r -> r.getThreadId(), r -> r.getRecentThreads())
        .containsExactly(tuple("t-1", 0),
            tuple("", 50));
  }

  @Test
  void anAdminFailureNamesTheAdminRpc() {
    assertThatThrownBy(() -> client.admin().checkConsistency(
        CheckConsistencyRequest.newBuilder().setThreadId("t").build()))
        .isInstanceOfSatisfying(MessageStoreException.class, e -> {
          assertThat(e.getRpc()).isEqualTo("CheckConsistency");
          assertThat(e.getCode()).isEqualTo(Status.Code.UNIMPLEMENTED);
        });
  }

  @Test
  void aClosedClientRefusesAdminCallsToo() {
    client.close();

    assertThatThrownBy(() -> client.admin().tierStatus()).isInstanceOf(IllegalStateException.class);
  }
}
