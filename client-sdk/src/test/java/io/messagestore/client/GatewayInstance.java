package io.messagestore.client;

import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.messagestore.server.testing.FreePorts;
import io.messagestore.server.testing.Poll;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A gateway in a JVM of its own on a port the test chooses, so that a restarted gateway comes
 * back where its clients look for it (the server's GatewayProcess always takes a new port), and
 * with its metrics port known, so a test can count the calls each instance served.
 */
final class GatewayInstance implements AutoCloseable {
  private final Process process;
  private final Path log;
  final int port;
  final int metricsPort;

  private GatewayInstance(Process process, Path log, int port, int metricsPort) {
    this.process = process;
    this.log = log;
    this.port = port;
    this.metricsPort = metricsPort;
  }

  /** Starts a gateway on {@code port} with {@code settings} and waits until it serves. */
  static GatewayInstance startServing(Map<String, String> settings, int port) throws IOException {
    int metricsPort = FreePorts.next();
    Path log = Files.createTempFile("sdk-gateway-", ".log");
    ProcessBuilder pb = new ProcessBuilder(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx256m", "-XX:+UseSerialGC", "-cp", System.getProperty("java.class.path"),
        "io.messagestore.server.GatewayMain")
        .redirectErrorStream(true)
        .redirectOutput(log.toFile());
    pb.environment().keySet().removeIf(k -> k.startsWith("MESSAGESTORE_"));
    pb.environment().putAll(settings);
    pb.environment().put("MESSAGESTORE_GRPC_PORT", Integer.toString(port));
    pb.environment().put("MESSAGESTORE_METRICS_PORT", Integer.toString(metricsPort));
    GatewayInstance gateway = new GatewayInstance(pb.start(), log, port, metricsPort);
    ManagedChannel channel = ManagedChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build();
    try {
      Poll.until(Duration.ofSeconds(90), "gateway on port " + port + " to serve (log " + log + ")", () -> {
        if (!gateway.process.isAlive()) {
          throw new AssertionError("gateway exited early:\n" + gateway.output());
        }
        return HealthGrpc.newBlockingStub(channel).withDeadlineAfter(1, TimeUnit.SECONDS)
            .check(HealthCheckRequest.getDefaultInstance()).getStatus()
            == HealthCheckResponse.ServingStatus.SERVING;
      });
    } finally {
      channel.shutdownNow();
    }
    return gateway;
  }

  String target() {
    return "127.0.0.1:" + port;
  }

  /** How many calls of {@code method} (e.g. "SendMessage") this instance has answered. */
  long served(String method) {
    HttpResponse<String> scrape;
    try {
      scrape = HttpClient.newHttpClient().send(
          HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + metricsPort
              + "/metrics?name[]=grpc_server_processing_duration_seconds")).build(),
          HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
    return scrape.body().lines()
        .filter(l -> l.startsWith("grpc_server_processing_duration_seconds_count")
            && l.contains("method=\"" + method + "\""))
        .mapToLong(l -> (long) Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1)))
        .sum();
  }

  /** SIGKILL: no shutdown hook, no drain. */
  void kill9() throws InterruptedException {
    process.destroyForcibly();
    process.waitFor(30, TimeUnit.SECONDS);
  }

  /** SIGTERM: health says NOT_SERVING, in-flight calls drain, the process exits. */
  void terminate() {
    process.destroy();
  }

  boolean isAlive() {
    return process.isAlive();
  }

  String output() {
    try {
      return Files.readString(log);
    } catch (IOException e) {
      return "(no log: " + e + ")";
    }
  }

  @Override
  public void close() throws InterruptedException {
    if (process.isAlive()) {
      kill9();
    }
  }
}
