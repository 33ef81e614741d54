package io.messagestore.client;

import io.messagestore.server.testing.GatewayProcess;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;

/**
 * A gateway in a JVM of its own ({@link GatewayProcess}) on a port the test chooses, so that a
 * restarted gateway comes back where its clients look for it, with a count of the calls it served.
 */
final class GatewayInstance implements AutoCloseable {
  private final GatewayProcess process;
  final int port;
  final int metricsPort;

  private GatewayInstance(GatewayProcess process) {
    this.process = process;
    this.port = process.port();
    this.metricsPort = process.metricsPort();
  }

  /** Starts a gateway on {@code port} with {@code settings} and waits until it serves. */
  static GatewayInstance startServing(Map<String, String> settings, int port) throws IOException {
    return new GatewayInstance(GatewayProcess.startServing(settings, "256m", port, Duration.ofSeconds(90)));
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
    process.kill9();
  }

  /** SIGTERM: health says NOT_SERVING, in-flight calls drain, the process exits. */
  void terminate() {
    process.terminate();
  }

  boolean isAlive() {
    return process.process().isAlive();
  }

  String output() {
    return process.output();
  }

  @Override
  public void close() throws InterruptedException {
    process.close();
  }
}
