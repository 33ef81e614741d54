package io.messagestore.server.clickhouse;

import io.messagestore.server.config.ClickHouseSettings;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * ClickHouse over its HTTP interface, speaking only what both the 18.x servers on the
 * development machines and current 24.x/25.x servers understand: plain SQL in a POST body,
 * results in formats the query names itself (JSONEachRow, TabSeparated), no response
 * compression, no session settings.
 */
public final class ClickHouseTier {
  private static final Logger log = LoggerFactory.getLogger(ClickHouseTier.class);

  /** The archive schema; ReplacingMergeTree makes a repeated archive copy harmless. */
  static final List<String> SCHEMA = List.of(
      "CREATE DATABASE IF NOT EXISTS %s",
      """
      CREATE TABLE IF NOT EXISTS %s.messages_archive (
        message_id UUID,
        thread_id String,
        user_id String,
        role UInt8,
        content String,
        metadata String,
        created_at DateTime('UTC'),
        archived_at DateTime('UTC')
      ) ENGINE = ReplacingMergeTree(archived_at)
      PARTITION BY toYYYYMM(created_at)
      ORDER BY (thread_id, message_id)""",
      """
      CREATE TABLE IF NOT EXISTS %s.run_states_archive (
        run_id String,
        thread_id String,
        user_id String,
        version Int64,
        state String,
        updated_at DateTime('UTC'),
        archived_at DateTime('UTC')
      ) ENGINE = ReplacingMergeTree(archived_at)
      PARTITION BY toYYYYMM(updated_at)
      ORDER BY (run_id, version)""");

  private final URI base;
  private final String database;
  private final Duration timeout;
  private final HttpClient http;
  private final AtomicBoolean schemaReady = new AtomicBoolean();

  public ClickHouseTier(ClickHouseSettings settings) {
    this.base = settings.url();
    this.database = settings.database();
    this.timeout = settings.timeout();
    this.http = HttpClient.newBuilder().connectTimeout(timeout).version(HttpClient.Version.HTTP_1_1).build();
  }

  public String database() {
    return database;
  }

  public String address() {
    return base.toString();
  }

  /** True when {@code /ping} answers {@code Ok.}. */
  public boolean ping() {
    try {
      HttpResponse<String> r = http.send(HttpRequest.newBuilder(base.resolve("/ping")).timeout(timeout).GET().build(),
          HttpResponse.BodyHandlers.ofString());
      return r.statusCode() == 200 && r.body().startsWith("Ok.");
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /** Runs one statement and returns the response body; the query must name its output format. */
  public String execute(String sql) throws IOException, InterruptedException {
    HttpRequest req = HttpRequest.newBuilder(base.resolve("/"))
        .timeout(timeout)
        .POST(HttpRequest.BodyPublishers.ofString(sql))
        .build();
    HttpResponse<String> r = http.send(req, HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() != 200) {
      throw new IOException("clickhouse answered " + r.statusCode() + ": " + r.body().strip());
    }
    return r.body();
  }

  /** The server's version string, e.g. {@code 18.16.1}. */
  public String version() throws IOException, InterruptedException {
    return execute("SELECT version() FORMAT TabSeparated").strip();
  }

  /** Creates the archive schema once; false (and logged) while ClickHouse is unreachable. */
  public boolean ensureSchema() {
    if (schemaReady.get()) {
      return true;
    }
    try {
      for (String ddl : SCHEMA) {
        execute(String.format(ddl, database));
      }
      schemaReady.set(true);
      log.info("clickhouse schema ready in database {}", database);
      return true;
    } catch (IOException e) {
      log.warn("clickhouse schema not possible yet: {}", e.getMessage());
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  public boolean schemaReady() {
    return schemaReady.get();
  }
}
