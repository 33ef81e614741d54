package io.messagestore.client;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.Status;
import io.messagestore.api.v1.ThreadEvent;
import io.messagestore.client.FakeMessageStore.WatchScript;
import io.messagestore.client.micrometer.MicrometerMetrics;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The SDK's Micrometer meters: calls, retries and watch resumes, as a registry sees them. */
class MicrometerMetricsTest {
  private static final RetryPolicy FAST = RetryPolicy.builder()
      .maxAttempts(4).initialBackoff(Duration.ofMillis(1)).maxBackoff(Duration.ofMillis(5)).build();

  private InProcessGateway gateway;
  private SimpleMeterRegistry registry;
  private MessageStoreClient client;

  @BeforeEach
  void start() throws Exception {
    gateway = new InProcessGateway();
    registry = new SimpleMeterRegistry();
    client = MessageStoreClient.create(gateway.channel, () -> "jwt", MessageStoreClientOptions.builder()
        .retryPolicy(CallType.READ, FAST)
        .retryPolicy(CallType.WATCH_RESUME, FAST)
        .metrics(new MicrometerMetrics(registry))
        .build());
  }

  @AfterEach
  void stop() throws Exception {
    gateway.close();
  }

  @Test
  void aRetriedReadCountsOneRetryAndOneCallThatSucceeded() {
    gateway.store.failFirst.set(2);

    client.threadStats("t-1");

    assertThat(registry.get("messagestore.client.retries").tag("rpc", "GetThreadStats")
        .tag("status", "UNAVAILABLE").counter().count()).isEqualTo(2);
    assertThat(registry.get("messagestore.client.calls").tag("rpc", "GetThreadStats")
        .tag("status", "OK").timer().count()).isEqualTo(1);
  }

  @Test
  void aBrokenWatchThatIsReopenedCountsOneResume() {
    gateway.store.watchScripts.add(WatchScript.thenFail(Status.UNAVAILABLE, confirmed("01-a")));
    gateway.store.watchScripts.add(WatchScript.thenComplete(confirmed("01-b")));
    List<String> seen = new ArrayList<>();

    try (ThreadWatch watch = client.watch("t-1", "")) {
      watch.forEachRemaining(e -> seen.add(e.getMessageId()));
    }

    assertThat(seen).containsExactly("01-a", "01-b");
    assertThat(registry.get("messagestore.client.watch.resumes").tag("status", "UNAVAILABLE").counter().count())
        .isEqualTo(1);
  }

  private static ThreadEvent confirmed(String id) {
    return ThreadEvent.newBuilder().setType(ThreadEvent.Type.MESSAGE_CONFIRMED).setThreadId("t-1").setMessageId(id)
        .build();
  }
}
