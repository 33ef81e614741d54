package io.messagestore.server.testing;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * An HTTP proxy in front of ClickHouse that holds back every request whose SQL contains a
 * marker (e.g. the archiver's read-back) until released, so a test can kill a gateway at that
 * exact step of its work. Everything else passes through.
 */
public final class HoldingClickHouseProxy implements AutoCloseable {
  private static final Set<String> HOP_BY_HOP = Set.of("connection", "content-length", "transfer-encoding",
      "keep-alive", "host", "upgrade", "expect");

  private final HttpServer server;
  private final ExecutorService handlers = Executors.newCachedThreadPool();
  private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(5)).build();
  private final URI clickhouse;
  private final String marker;
  private final CountDownLatch held = new CountDownLatch(1);
  private final CountDownLatch release = new CountDownLatch(1);

  public HoldingClickHouseProxy(URI clickhouse, String marker) throws IOException {
    this.clickhouse = clickhouse;
    this.marker = marker;
    this.server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 50);
    server.setExecutor(handlers);
    server.createContext("/", this::forward);
    server.start();
  }

  public String url() {
    return "http://127.0.0.1:" + server.getAddress().getPort();
  }

  /** Waits until a request with the marker is being held. */
  public boolean awaitHeld(Duration timeout) throws InterruptedException {
    return held.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** Lets held requests (and later ones) through. */
  public void release() {
    release.countDown();
  }

  private void forward(HttpExchange exchange) throws IOException {
    try (exchange) {
      byte[] body = exchange.getRequestBody().readAllBytes();
      String query = exchange.getRequestURI().getRawQuery();
      String sql = new String(body, StandardCharsets.UTF_8)
          + (query == null ? "" : URLDecoder.decode(query, StandardCharsets.UTF_8));
      if (sql.contains(marker)) {
        held.countDown();
        release.await(5, TimeUnit.MINUTES);
      }
      HttpRequest.Builder request = HttpRequest.newBuilder(clickhouse.resolve(exchange.getRequestURI().toString()))
          .timeout(Duration.ofSeconds(30))
          .method(exchange.getRequestMethod(), HttpRequest.BodyPublishers.ofByteArray(body));
      exchange.getRequestHeaders().forEach((name, values) -> {
        if (!HOP_BY_HOP.contains(name.toLowerCase())) {
          values.forEach(v -> request.header(name, v));
        }
      });
      HttpResponse<byte[]> response = http.send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
      response.headers().map().forEach((name, values) -> {
        if (!HOP_BY_HOP.contains(name.toLowerCase()) && !name.startsWith(":")) {
          exchange.getResponseHeaders().put(name, List.copyOf(values));
        }
      });
      byte[] answer = response.body();
      exchange.sendResponseHeaders(response.statusCode(), answer.length == 0 ? -1 : answer.length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(answer);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public void close() {
    release();
    server.stop(0);
    handlers.shutdownNow();
  }
}
