package io.messagestore.server.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.messagestore.api.v1.Role;
import io.messagestore.api.v1.SendMessageRequest;
import io.messagestore.api.v1.Tier;
import io.messagestore.server.testing.Databases;
import io.messagestore.server.testing.Poll;
import io.messagestore.server.testing.PrivateTiers;
import io.messagestore.server.testing.TestGateway;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class StartWithTiersDownTest {

  static ServingStatus health(TestGateway gw, String service) {
    return HealthGrpc.newBlockingStub(gw.channel()).withDeadlineAfter(5, TimeUnit.SECONDS)
        .check(HealthCheckRequest.newBuilder().setService(service).build()).getStatus();
  }

  @Test
  void gatewayStartsWithRedisAndPostgresDownAndUsesThemOnceTheyComeUp() throws Exception {
    try (PrivateTiers tiers = PrivateTiers.start()) {
      tiers.stopRedis();
      tiers.stopPostgres();
      try (TestGateway gw = TestGateway.startWith(tiers.settings(Map.of()))) {
        assertThat(health(gw, "messagestore.redis")).isEqualTo(ServingStatus.NOT_SERVING);
        assertThat(health(gw, "messagestore.postgres")).isEqualTo(ServingStatus.NOT_SERVING);
        assertThat(health(gw, "")).isEqualTo(ServingStatus.NOT_SERVING);
        assertThat(health(gw, "messagestore.clickhouse")).isEqualTo(ServingStatus.SERVING);

        tiers.startPostgres();
        tiers.startRedis();
        Poll.until(Duration.ofSeconds(30), "both tiers reported serving", () ->
            health(gw, "messagestore.redis") == ServingStatus.SERVING
                && health(gw, "messagestore.postgres") == ServingStatus.SERVING
                && health(gw, "") == ServingStatus.SERVING);
        String t = "late-" + UUID.randomUUID();
        Poll.until(Duration.ofSeconds(30), "a send acknowledged by redis", () -> gw.as("alice").sendMessage(
            SendMessageRequest.newBuilder().setThreadId(t).setRole(Role.ROLE_USER).setContent("hi").build())
            .getAcknowledgedBy() == Tier.TIER_REDIS);
        // The schema was migrated on the first successful probe: the persister can commit.
        Poll.until(Duration.ofSeconds(30), "the message persisted", () -> {
          try {
            return Databases.count(tiers.settings(Map.of()), "SELECT count(*) FROM messages WHERE thread_id = ?", t) >= 1;
          } catch (Exception e) {
            throw new RuntimeException(e);
          }
        });
      }
    }
  }
}
