package io.messagestore.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.messagestore.cli.CliProcess.Result;
import io.messagestore.server.testing.FreePorts;
import io.messagestore.server.testing.Poll;
import io.messagestore.server.testing.TestGateway;
import io.messagestore.server.testing.Tokens;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** What the CLI inherits from the SDK when there is more than one gateway, or one restarts. */
class CliAcrossGatewaysTest {

  private static CliProcess cli(String target) {
    return CliProcess.java().env("MESSAGESTORE_TARGET", target).env("MESSAGESTORE_JWT_SECRET", Tokens.SECRET);
  }

  @Test
  void aTargetListReachesTheGatewayThatIsUpAndSkipsTheOneThatIsNot() throws Exception {
    try (TestGateway gateway = TestGateway.start()) {
      String target = "127.0.0.1:" + FreePorts.next() + ",127.0.0.1:" + gateway.gateway().port();
      String thread = "cli-list-" + UUID.randomUUID().toString().substring(0, 8);

      for (int i = 0; i < 3; i++) {
        Result sent = cli(target).run("--as", "cli-list-user", "send", thread, "hello " + i);
        assertThat(sent.exitCode()).as(sent.toString()).isZero();
      }
      Result listed = cli(target).run("--as", "cli-list-user", "list", thread);
      assertThat(listed.stdout()).contains("hello 0", "hello 1", "hello 2");
    }
  }

  @Test
  void watchResumesAcrossAGatewayRestartWithoutPrintingAnEventTwice() throws Exception {
    int port = FreePorts.next();
    String thread = "cli-restart-" + UUID.randomUUID().toString().substring(0, 8);
    String user = "cli-restart-user";
    try (TestGateway sender = TestGateway.start()) {
      CliProcess senderCli = cli("127.0.0.1:" + sender.gateway().port());
      String first = send(senderCli, user, thread, "before");
      Process watched = startGateway(port);
      Process restarted = null;
      try {
        CompletableFuture<Result> watching = CompletableFuture.supplyAsync(() -> cli("127.0.0.1:" + port)
            .timeout(Duration.ofSeconds(240))
            .run("--as", user, "-o", "json", "watch", thread, "--after", first));
        List<String> sent = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
          sent.add(send(senderCli, user, thread, "live " + i));
        }
        Poll.until(Duration.ofSeconds(60), "the watch to pass on three messages",
            () -> confirmedEvents(watched) >= 3);

        watched.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
        for (int i = 0; i < 3; i++) {
          sent.add(send(senderCli, user, thread, "while down " + i));
        }
        Process second = startGateway(port);
        restarted = second;
        for (int i = 0; i < 3; i++) {
          sent.add(send(senderCli, user, thread, "after " + i));
        }
        Poll.until(Duration.ofSeconds(120), "the resumed watch to pass on six messages",
            () -> confirmedEvents(second) >= 6);
        assertThat(senderCli.run("--as", user, "delete", thread).exitCode()).isZero();

        Result watchedOutput = watching.get(240, TimeUnit.SECONDS);
        assertThat(watchedOutput.exitCode()).as(watchedOutput.toString()).isZero();
        List<String> printed = watchedOutput.lines().stream()
            .filter(l -> l.contains("MESSAGE_CONFIRMED"))
            .map(l -> l.replaceAll(".*\"message_id\":\\s*\"([^\"]+)\".*", "$1"))
            .toList();
        assertThat(printed).containsExactlyElementsOf(sent);
        assertThat(watchedOutput.stderr()).contains("resuming after " + sent.get(2));
        assertThat(watchedOutput.lines()).last().asString().contains("THREAD_DELETED");
      } finally {
        watched.destroyForcibly();
        if (restarted != null) {
          restarted.destroyForcibly();
        }
      }
    }
  }

  private static String send(CliProcess cli, String user, String thread, String content) {
    Result sent = cli.run("--as", user, "send", thread, content);
    assertThat(sent.exitCode()).as(sent.toString()).isZero();
    return sent.stdout().split("\\s+")[0];
  }

  /** MESSAGE_CONFIRMED events this gateway process has sent to watchers. */
  private static long confirmedEvents(Process gateway) {
    int metricsPort = METRICS_PORTS.get(gateway.pid());
    try {
      String body = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(
          "http://127.0.0.1:" + metricsPort + "/metrics?name[]=messagestore_watch_events")).build(),
          HttpResponse.BodyHandlers.ofString()).body();
      return body.lines().filter(l -> l.startsWith("messagestore_watch_events_total")
              && l.contains("type=\"message_confirmed\""))
          .mapToLong(l -> (long) Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum();
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private static final Map<Long, Integer> METRICS_PORTS = new java.util.concurrent.ConcurrentHashMap<>();

  /** A gateway process on {@code port} (the same port again for a restart), serving. */
  private static Process startGateway(int port) throws IOException {
    int metricsPort = FreePorts.next();
    Path log = Files.createTempFile("cli-gateway-", ".log");
    ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx256m", "-XX:+UseSerialGC", "-cp", System.getProperty("java.class.path"),
        "io.messagestore.server.GatewayMain").redirectErrorStream(true).redirectOutput(log.toFile());
    pb.environment().keySet().removeIf(k -> k.startsWith("MESSAGESTORE_"));
    pb.environment().putAll(TestGateway.settings(Map.of("MESSAGESTORE_REDIS_TIMEOUT", "2s")));
    pb.environment().put("MESSAGESTORE_GRPC_PORT", Integer.toString(port));
    pb.environment().put("MESSAGESTORE_METRICS_PORT", Integer.toString(metricsPort));
    Process process = pb.start();
    METRICS_PORTS.put(process.pid(), metricsPort);
    ManagedChannel channel = ManagedChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build();
    try {
      Poll.until(Duration.ofSeconds(90), "gateway on " + port + " to serve (log " + log + ")", () -> {
        assertThat(process.isAlive()).as("gateway alive (log %s)", log).isTrue();
        return HealthGrpc.newBlockingStub(channel).withDeadlineAfter(1, TimeUnit.SECONDS)
            .check(HealthCheckRequest.getDefaultInstance()).getStatus() == HealthCheckResponse.ServingStatus.SERVING;
      });
    } finally {
      channel.shutdownNow();
    }
    return process;
  }
}
