package io.messagestore.server.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.common.util.concurrent.ListenableFuture;
import io.grpc.ManagedChannel;
import io.messagestore.api.v1.Durability;
import io.messagestore.api.v1.MessageStoreGrpc;
import io.messagestore.api.v1.Role;
import io.messagestore.api.v1.SendMessageRequest;
import io.messagestore.api.v1.SendMessageResponse;
import io.messagestore.api.v1.Tier;
import io.messagestore.server.testing.GatewayProcess;
import io.messagestore.server.testing.LocalTiers;
import io.messagestore.server.testing.PrivateTiers;
import io.messagestore.server.testing.TestGateway;
import io.messagestore.server.testing.Tokens;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class GracefulShutdownTest {

  @Test
  void sigtermDrainsAnInFlightCall() throws Exception {
    try (PrivateTiers tiers = PrivateTiers.start();
        GatewayProcess gw = GatewayProcess.startServing(tiers.settings(Map.of("MESSAGESTORE_DURABLE_TIMEOUT", "30s")))) {
      ManagedChannel ch = gw.channel();
      var stub = MessageStoreGrpc.newFutureStub(ch).withCallCredentials(Tokens.bearer(Tokens.user("alice")));
      String t = "drain-" + UUID.randomUUID();
      stub.sendMessage(SendMessageRequest.newBuilder().setThreadId(t).setRole(Role.ROLE_USER).setContent("owner").build())
          .get(10, TimeUnit.SECONDS);
      // With PostgreSQL stopped a durable send stays in flight until it comes back.
      tiers.stopPostgres();
      ListenableFuture<SendMessageResponse> inFlight = stub.withDeadlineAfter(60, TimeUnit.SECONDS).sendMessage(
          SendMessageRequest.newBuilder().setThreadId(t).setRole(Role.ROLE_USER).setContent("in flight")
              .setDurability(Durability.DURABILITY_DURABLE).build());
      io.messagestore.server.testing.Poll.until(Duration.ofSeconds(10), "the send to reach redis",
          () -> redisStreamHasEntries(tiers));
      gw.terminate();
      tiers.startPostgres();
      SendMessageResponse r = inFlight.get(60, TimeUnit.SECONDS);
      assertThat(r.getAcknowledgedBy()).isEqualTo(Tier.TIER_POSTGRES);
      assertThat(gw.process().waitFor(60, TimeUnit.SECONDS)).isTrue();
      assertThat(gw.process().exitValue()).isIn(0, 143);
      assertThat(gw.output()).contains("shutting down").contains("gateway stopped");
      ch.shutdownNow();
    }
  }

  private static boolean redisStreamHasEntries(PrivateTiers tiers) {
    try (var client = io.lettuce.core.RedisClient.create("redis://127.0.0.1:" + tiers.redisPort);
        var c = client.connect()) {
      long total = 0;
      for (int s = 0; s < 4; s++) {
        total += c.sync().xlen("ms:{s" + s + "}:stream");
      }
      return total > 0;
    }
  }

  @Test
  void badConfigValueStopsStartupNamingIt() throws Exception {
    Map<String, String> settings = new HashMap<>(TestGateway.settings(Map.of()));
    settings.put("MESSAGESTORE_MAX_BACKLOG", "lots");
    try (GatewayProcess gw = GatewayProcess.start(settings)) {
      assertThat(gw.process().waitFor(60, TimeUnit.SECONDS)).isTrue();
      assertThat(gw.process().exitValue()).isEqualTo(2);
      assertThat(gw.output()).contains("invalid configuration").contains("MESSAGESTORE_MAX_BACKLOG=lots");
    }
  }
}
