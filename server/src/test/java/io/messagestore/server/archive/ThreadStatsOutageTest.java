package io.messagestore.server.archive;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.messagestore.api.v1.GetThreadStatsRequest;
import io.messagestore.api.v1.GetThreadStatsResponse;
import io.messagestore.api.v1.ListMessagesRequest;
import io.messagestore.api.v1.MessageStoreGrpc.MessageStoreBlockingStub;
import io.messagestore.api.v1.Role;
import io.messagestore.api.v1.SendMessageRequest;
import io.messagestore.api.v1.Tier;
import io.messagestore.server.testing.FreePorts;
import io.messagestore.server.testing.LocalTiers;
import io.messagestore.server.testing.Poll;
import io.messagestore.server.testing.PrivateTiers;
import io.messagestore.server.testing.TestGateway;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** GetThreadStats and the analytics feed across a real ClickHouse outage (a private server, stopped and started). */
class ThreadStatsOutageTest {
  private PrivateTiers tiers;
  private final int clickhousePort = FreePorts.next();
  private Path clickhouseDir;

  @BeforeEach
  void start() throws Exception {
    tiers = PrivateTiers.start();
    clickhouseDir = LocalTiers.privateDir("clickhouse");
    LocalTiers.startPrivate("clickhouse", clickhousePort, clickhouseDir);
  }

  @AfterEach
  void stop() {
    tiers.close();
    LocalTiers.stopPrivate("clickhouse", clickhouseDir);
  }

  private static GetThreadStatsResponse stats(MessageStoreBlockingStub stub, String thread) {
    return stub.getThreadStats(GetThreadStatsRequest.newBuilder().setThreadId(thread).build());
  }

  private static void send(MessageStoreBlockingStub stub, String thread, Role role, String content) {
    stub.sendMessage(SendMessageRequest.newBuilder().setThreadId(thread).setRole(role).setContent(content).build());
  }

  @Test
  void statsWaitForClickHouseAndThenCountEveryMessage() throws Exception {
    Map<String, String> settings = tiers.settings(Map.of(
        "MESSAGESTORE_CLICKHOUSE_URL", "http://127.0.0.1:" + clickhousePort,
        "MESSAGESTORE_CLICKHOUSE_TIMEOUT", "500ms",
        "MESSAGESTORE_HOT_RETENTION", "off"));
    try (TestGateway gateway = TestGateway.startWith(settings)) {
      MessageStoreBlockingStub alice = gateway.as("alice");
      String thread = "stats-" + UUID.randomUUID();
      Instant before = Instant.now();
      send(alice, thread, Role.ROLE_USER, "hello");
      send(alice, thread, Role.ROLE_ASSISTANT, "héllo");
      Poll.until(Duration.ofSeconds(30), "the first facts to reach ClickHouse",
          () -> stats(alice, thread).getMessageCount() == 2);

      LocalTiers.stopPrivate("clickhouse", clickhouseDir);
      for (int i = 0; i < 5; i++) {
        send(alice, thread, Role.ROLE_USER, "during the outage " + i);
      }
      assertThat(alice.listMessages(ListMessagesRequest.newBuilder().setThreadId(thread).setPageSize(10).build())
          .getServedFrom()).as("hot reads").isEqualTo(Tier.TIER_REDIS);
      assertThatThrownBy(() -> stats(alice, thread)).isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
        assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
        assertThat(e.getStatus().getDescription()).contains("clickhouse");
      });
      assertThatThrownBy(() -> stats(gateway.as("mallory"), thread))
          .as("the read check comes first").isInstanceOfSatisfying(StatusRuntimeException.class,
              e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED));

      LocalTiers.startPrivate("clickhouse", clickhousePort, clickhouseDir);
      Poll.until(Duration.ofSeconds(60), "the facts queued during the outage to arrive", () -> {
        try {
          return stats(alice, thread).getMessageCount() == 7;
        } catch (StatusRuntimeException stillRecovering) {
          return false;
        }
      });
      GetThreadStatsResponse after = stats(alice, thread);
      assertThat(after.getMessagesByRoleMap()).containsOnly(Map.entry("ROLE_USER", 6L), Map.entry("ROLE_ASSISTANT", 1L));
      long bytes = "hello".length() + "héllo".getBytes(StandardCharsets.UTF_8).length;
      for (int i = 0; i < 5; i++) {
        bytes += ("during the outage " + i).length();
      }
      assertThat(after.getTotalContentBytes()).isEqualTo(bytes);
      assertThat(Instant.ofEpochSecond(after.getFirstMessageAt().getSeconds())).isAfterOrEqualTo(before.minusSeconds(1));
      assertThat(after.getLastMessageAt().getSeconds()).isGreaterThanOrEqualTo(after.getFirstMessageAt().getSeconds());
    }
  }
}
