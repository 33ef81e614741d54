package io.messagestore.server.testing;

import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A gateway in its own JVM, for tests that kill -9 it or send it SIGTERM. Output goes to a log
 * file that failing tests print.
 */
public final class GatewayProcess implements AutoCloseable {
  private final Process process;
  private final Path log;
  private final int port;
  private final int metricsPort;

  private GatewayProcess(Process process, Path log, int port, int metricsPort) {
    this.process = process;
    this.log = log;
    this.port = port;
    this.metricsPort = metricsPort;
  }

  public static GatewayProcess start(Map<String, String> settings) throws IOException {
    return start(settings, "512m");
  }

  /** @param maxHeap the JVM's -Xmx, e.g. {@code 512m} */
  public static GatewayProcess start(Map<String, String> settings, String maxHeap) throws IOException {
    return start(settings, maxHeap, FreePorts.next());
  }

  /** On a port the caller chose: a restarted gateway comes back where its clients look for it. */
  public static GatewayProcess start(Map<String, String> settings, String maxHeap, int port) throws IOException {
    Path log = Files.createTempFile("gateway-", ".log");
    ProcessBuilder pb = new ProcessBuilder(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx" + maxHeap, "-cp", System.getProperty("java.class.path"), "io.messagestore.server.GatewayMain")
        .redirectErrorStream(true)
        .redirectOutput(log.toFile());
    pb.environment().keySet().removeIf(k -> k.startsWith("MESSAGESTORE_"));
    pb.environment().putAll(settings);
    pb.environment().put("MESSAGESTORE_GRPC_PORT", Integer.toString(port));
    int metricsPort = FreePorts.next();
    pb.environment().put("MESSAGESTORE_METRICS_PORT", Integer.toString(metricsPort));
    return new GatewayProcess(pb.start(), log, port, metricsPort);
  }

  /** Starts and waits until health answers SERVING. */
  public static GatewayProcess startServing(Map<String, String> settings) throws IOException {
    return startServing(settings, "512m");
  }

  /** Starts with this -Xmx and waits until health answers SERVING. */
  public static GatewayProcess startServing(Map<String, String> settings, String maxHeap) throws IOException {
    return startServing(settings, maxHeap, FreePorts.next(), Duration.ofSeconds(60));
  }

  /** Starts on {@code port} and waits up to {@code wait} until health answers SERVING. */
  public static GatewayProcess startServing(Map<String, String> settings, String maxHeap, int port, Duration wait)
      throws IOException {
    GatewayProcess p = start(settings, maxHeap, port);
    ManagedChannel ch = p.channel();
    try {
      Poll.until(wait, "gateway process to serve (log " + p.log + ")", () -> {
        if (!p.process.isAlive()) {
          throw new AssertionError("gateway exited early:\n" + p.output());
        }
        return HealthGrpc.newBlockingStub(ch).withDeadlineAfter(1, TimeUnit.SECONDS)
            .check(HealthCheckRequest.getDefaultInstance()).getStatus() == HealthCheckResponse.ServingStatus.SERVING;
      });
    } finally {
      ch.shutdownNow();
    }
    return p;
  }

  public int port() {
    return port;
  }

  /** Where its Prometheus metrics are served (on 127.0.0.1). */
  public int metricsPort() {
    return metricsPort;
  }

  public ManagedChannel channel() {
    return ManagedChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build();
  }

  public Process process() {
    return process;
  }

  /** SIGKILL: no shutdown hook, no drain. */
  public void kill9() throws InterruptedException {
    process.destroyForcibly();
    process.waitFor(30, TimeUnit.SECONDS);
  }

  /** SIGTERM: the graceful path. */
  public void terminate() {
    process.destroy();
  }

  public String output() {
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
