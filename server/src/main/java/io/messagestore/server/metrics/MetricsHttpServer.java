package io.messagestore.server.metrics;

import com.sun.net.httpserver.HttpServer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.Executors;

/**
 * Serves Prometheus text at {@code /metrics}. As with Prometheus's own clients,
 * {@code ?name[]=jvm_memory_used_bytes&name[]=...} narrows the answer to those metric
 * families: a tool polling one gauge twice a second then costs the gateway almost nothing,
 * while a full scrape formats every histogram.
 */
public final class MetricsHttpServer implements AutoCloseable {
  private static final String TEXT_FORMAT = "text/plain; version=0.0.4; charset=utf-8";
  private static final String NAME_PARAMETER = "name[]";

  private final HttpServer server;

  public MetricsHttpServer(String host, int port, PrometheusMeterRegistry registry) throws IOException {
    server = HttpServer.create(new InetSocketAddress(host, port), 16);
    server.createContext("/metrics", exchange -> {
      Set<String> names = requestedNames(exchange.getRequestURI().getRawQuery());
      String text = names.isEmpty() ? registry.scrape() : registry.scrape(TEXT_FORMAT, names);
      byte[] body = text.getBytes(StandardCharsets.UTF_8);
      exchange.getResponseHeaders().set("Content-Type", TEXT_FORMAT);
      exchange.sendResponseHeaders(200, body.length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(body);
      }
    });
    server.setExecutor(Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, "metrics-http");
      t.setDaemon(true);
      return t;
    }));
    server.start();
  }

  /** The {@code name[]} values of a query string; empty when there are none. */
  static Set<String> requestedNames(String rawQuery) {
    if (rawQuery == null || rawQuery.isEmpty()) {
      return Set.of();
    }
    Set<String> names = new HashSet<>();
    for (String pair : rawQuery.split("&")) {
      int eq = pair.indexOf('=');
      if (eq > 0 && URLDecoder.decode(pair.substring(0, eq), StandardCharsets.UTF_8).equals(NAME_PARAMETER)) {
        names.add(URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
      }
    }
    return names;
  }

  public int port() {
    return server.getAddress().getPort();
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
