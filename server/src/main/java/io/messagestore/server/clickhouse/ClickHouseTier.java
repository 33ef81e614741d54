package io.messagestore.server.clickhouse;

import com.clickhouse.client.api.Client;
import com.clickhouse.client.api.ServerException;
import com.clickhouse.client.api.insert.InsertResponse;
import com.clickhouse.client.api.query.QueryResponse;
import com.clickhouse.client.api.query.QuerySettings;
import com.clickhouse.data.ClickHouseFormat;
import io.messagestore.server.config.ClickHouseSettings;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * ClickHouse through the official Java client ({@code com.clickhouse:client-v2}) over HTTP,
 * speaking only what both the 18.x servers on the development machines and current 24.x/25.x
 * servers understand: plain SQL, results in formats the query names itself (JSONEachRow,
 * TabSeparated), inserts in a text format (JSONEachRow), no compression either way, no session
 * settings. The client's typed readers ({@code queryAll}, RowBinaryWithNamesAndTypes) need
 * servers from 20.x on, so rows are read from the text the query asked for.
 */
public final class ClickHouseTier implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ClickHouseTier.class);

  /**
   * The archive and analytics schema; ReplacingMergeTree makes a repeated copy (an archive
   * batch or analytics rows sent again after a crash) harmless, and readers ask for FINAL.
   */
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
      ORDER BY (run_id, version)""",
      """
      CREATE TABLE IF NOT EXISTS %s.message_facts (
        message_id UUID,
        thread_id String,
        user_id String,
        role UInt8,
        content_bytes UInt64,
        created_ms UInt64,
        created_at DateTime('UTC')
      ) ENGINE = ReplacingMergeTree()
      PARTITION BY toYYYYMM(created_at)
      ORDER BY (thread_id, message_id)""");

  private final URI base;
  private final String database;
  private final Duration timeout;
  private final Client client;
  private final AtomicBoolean schemaReady = new AtomicBoolean();

  public ClickHouseTier(ClickHouseSettings settings) {
    this.base = settings.url();
    this.database = settings.database();
    this.timeout = settings.timeout();
    String[] credentials = userInfo(base);
    this.client = new Client.Builder()
        .addEndpoint(base.getScheme() + "://" + base.getHost() + ":" + port(base) + "/")
        .setUsername(credentials[0])
        .setPassword(credentials[1])
        // An 18.x server answers a compressed response with an empty body and no error.
        .compressServerResponse(false)
        .compressClientRequest(false)
        .useHttpCompression(false)
        .setConnectTimeout(timeout.toMillis(), ChronoUnit.MILLIS)
        .setConnectionRequestTimeout(timeout.toMillis(), ChronoUnit.MILLIS)
        .setSocketTimeout(timeout.toMillis(), ChronoUnit.MILLIS)
        // The breakers decide what a failure means; a client retrying on its own would hide
        // an outage behind a slow call.
        .setMaxRetries(0)
        .setClientName("messagestore")
        .build();
  }

  public String database() {
    return database;
  }

  public String address() {
    return base.getScheme() + "://" + base.getHost() + ":" + port(base);
  }

  /** True when {@code /ping} answers {@code Ok.}. */
  public boolean ping() {
    return client.ping(timeout.toMillis());
  }

  /** Runs one statement and returns the response body; the query must name its output format. */
  public String execute(String sql) throws IOException, InterruptedException {
    return execute(sql, Map.of());
  }

  /** As {@link #execute(String)}, with server settings for this query (names 18.x knows). */
  public String execute(String sql, Map<String, String> settings) throws IOException, InterruptedException {
    QuerySettings querySettings = new QuerySettings();
    settings.forEach(querySettings::serverSetting);
    try (QueryResponse response = await(client.query(sql, querySettings))) {
      return new String(response.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException | InterruptedException e) {
      throw e;
    } catch (Exception e) {
      throw new IOException("clickhouse: " + e.getMessage(), e);
    }
  }

  /**
   * Inserts rows given in {@code format} (a text format such as JSONEachRow) into
   * {@code table} of this tier's database, as one INSERT.
   */
  public void insert(String table, byte[] rows, ClickHouseFormat format) throws IOException, InterruptedException {
    try (InsertResponse response = await(client.insert(database + "." + table, new ByteArrayInputStream(rows), format))) {
      // The body says nothing an old server fills in (written rows are -1 there).
    } catch (IOException | InterruptedException e) {
      throw e;
    } catch (Exception e) {
      throw new IOException("clickhouse: " + e.getMessage(), e);
    }
  }

  private <T> T await(CompletableFuture<T> call) throws IOException, InterruptedException {
    try {
      return call.get(timeout.toMillis() * 2, TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      // The caller gave up (a read whose caller went away): stop the HTTP request too.
      call.cancel(true);
      throw e;
    } catch (TimeoutException e) {
      call.cancel(true);
      throw new IOException("clickhouse did not answer within " + timeout.multipliedBy(2), e);
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof ServerException server) {
        throw new IOException("clickhouse answered error " + server.getCode() + ": " + firstLine(server.getMessage()), server);
      }
      throw new IOException("clickhouse: " + cause, cause);
    }
  }

  private static String firstLine(String message) {
    if (message == null) {
      return "";
    }
    int nl = message.indexOf('\n');
    return (nl < 0 ? message : message.substring(0, nl)).strip();
  }

  private static int port(URI base) {
    if (base.getPort() > 0) {
      return base.getPort();
    }
    return "https".equalsIgnoreCase(base.getScheme()) ? 8443 : 8123;
  }

  /** {@code user:password@} of the URL, else ClickHouse's {@code default} user without password. */
  private static String[] userInfo(URI base) {
    String info = base.getRawUserInfo();
    if (info == null || info.isEmpty()) {
      return new String[] {"default", ""};
    }
    int colon = info.indexOf(':');
    String user = colon < 0 ? info : info.substring(0, colon);
    String password = colon < 0 ? "" : info.substring(colon + 1);
    return new String[] {
        URLDecoder.decode(user, StandardCharsets.UTF_8), URLDecoder.decode(password, StandardCharsets.UTF_8)};
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

  @Override
  public void close() {
    client.close();
  }
}
