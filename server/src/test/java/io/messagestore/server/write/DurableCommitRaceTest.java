package io.messagestore.server.write;

import static org.assertj.core.api.Assertions.assertThat;

import io.messagestore.api.v1.Durability;
import io.messagestore.api.v1.Role;
import io.messagestore.api.v1.SendMessageRequest;
import io.messagestore.api.v1.SendMessageResponse;
import io.messagestore.api.v1.Tier;
import io.messagestore.server.testing.SlowRepliesRedisProxy;
import io.messagestore.server.testing.TestGateway;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A durable send whose PostgreSQL commit lands before the reply of its own Redis script. The
 * send's replies are held back by a proxy while the persisters' connections are not, so the
 * commit always comes first; a send that only started waiting for its commit after the reply
 * would wait for a commit that has already happened, until its durable timeout.
 */
class DurableCommitRaceTest {

  @Test
  void durableSendIsAnsweredWhenItsCommitBeatsTheRedisReply() throws Exception {
    try (SlowRepliesRedisProxy proxy = SlowRepliesRedisProxy.inFrontOfSharedRedis("EVALSHA", Duration.ofMillis(300));
        TestGateway gw = TestGateway.start(proxy.gatewaySettings(Map.of("MESSAGESTORE_DURABLE_TIMEOUT", "20s")))) {
      String thread = "race-" + UUID.randomUUID();
      for (int i = 0; i < 3; i++) {
        SendMessageResponse r = gw.as("alice").withDeadlineAfter(60, TimeUnit.SECONDS).sendMessage(
            SendMessageRequest.newBuilder().setThreadId(thread).setRole(Role.ROLE_USER).setContent("m" + i)
                .setDurability(Durability.DURABILITY_DURABLE).build());

        assertThat(r.getAcknowledgedBy()).isEqualTo(Tier.TIER_POSTGRES);
        assertThat(r.getFailoverReason()).isEmpty();
      }
    }
  }
}
