package io.messagestore.server.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.common.util.concurrent.ListenableFuture;
import io.grpc.ManagedChannel;
import io.messagestore.api.v1.Durability;
import io.messagestore.api.v1.GetMessageRequest;
import io.messagestore.api.v1.ListMessagesRequest;
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
  void aCleanStopAfterTrafficLogsNoWarningOrError() throws Exception {
    // Probes every 200 ms (the test default), so that one is often in progress when the stop
    // comes; a Redis timeout a busy test machine cannot miss, so that no probe fails for real.
    try (GatewayProcess gw = GatewayProcess.startServing(TestGateway.settings(Map.of("MESSAGESTORE_REDIS_TIMEOUT", "1s")))) {
      ManagedChannel ch = gw.channel();
      try {
        // Every kind of connection in use when the stop comes: near-cache reads (tracking
        // connections), a durable send (persisters, pub/sub), a page (a tracked view).
        var stub = MessageStoreGrpc.newBlockingStub(ch).withCallCredentials(Tokens.bearer(Tokens.user("alice")))
            .withDeadlineAfter(30, TimeUnit.SECONDS);
        String t = "clean-stop-" + UUID.randomUUID();
        SendMessageResponse sent = stub.sendMessage(SendMessageRequest.newBuilder().setThreadId(t)
            .setRole(Role.ROLE_USER).setContent("before the stop").setDurability(Durability.DURABILITY_DURABLE).build());
        String id = sent.getMessage().getMessageId();
        for (int i = 0; i < 2; i++) {
          assertThat(stub.getMessage(GetMessageRequest.newBuilder().setThreadId(t).setMessageId(id).build())
              .getMessage().getContent()).isEqualTo("before the stop");
          assertThat(stub.listMessages(ListMessagesRequest.newBuilder().setThreadId(t).setPageSize(10).build())
              .getMessagesCount()).isEqualTo(1);
        }
      } finally {
        ch.shutdownNow();
      }

      gw.terminate();

      assertThat(gw.process().waitFor(60, TimeUnit.SECONDS)).isTrue();
      String output = gw.output();
      assertThat(output).contains("shutting down");
      String stop = output.substring(output.lastIndexOf('\n', output.indexOf("shutting down")) + 1);
      assertThat(stop).contains("gateway stopped");
      // Only INFO and below: also catches a stack trace or a java.util.logging line, which
      // have no logback level of their own.
      assertThat(stop.lines()).as("the log of the stop:%n%s", stop)
          .allMatch(line -> line.matches("\\d\\d:\\d\\d:\\d\\d\\.\\d{3} (INFO |DEBUG|TRACE) .*"));
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
