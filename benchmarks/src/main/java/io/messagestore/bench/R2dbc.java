package io.messagestore.bench;

import io.messagestore.api.v1.Message;
import io.messagestore.server.postgres.InsertColumns;
import io.messagestore.server.postgres.PostgresMessageStore;
import io.r2dbc.pool.ConnectionPool;
import io.r2dbc.pool.ConnectionPoolConfiguration;
import io.r2dbc.postgresql.PostgresqlConnectionConfiguration;
import io.r2dbc.postgresql.PostgresqlConnectionFactory;
import io.r2dbc.spi.Connection;
import io.r2dbc.spi.Statement;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The same statements as the gateway's, through r2dbc-postgresql and r2dbc-pool. The persisters'
 * two statements cannot travel as one parameterised string here (the driver binds parameters of
 * single statements only), so they run in an explicit transaction: BEGIN, lock, insert, COMMIT.
 */
final class R2dbc implements DriverAb.DriverUnderTest {
  private final ConnectionPool pool;
  private final String lock;
  private final String insert;
  private final String find;

  private R2dbc(ConnectionPool pool) {
    this.pool = pool;
    List<String> commit = PostgresMessageStore.persisterCommitStatements();
    this.lock = numbered(commit.get(0));
    this.insert = numbered(commit.get(1));
    this.find = numbered(PostgresMessageStore.FIND);
  }

  static R2dbc open(String jdbcUrl, String user, String password, int size) {
    URI uri = URI.create(jdbcUrl.substring("jdbc:".length()));
    PostgresqlConnectionConfiguration.Builder config = PostgresqlConnectionConfiguration.builder()
        .host(uri.getHost()).port(uri.getPort() < 0 ? 5432 : uri.getPort()).database(uri.getPath().substring(1))
        .username(user).applicationName("messagestore-driver-ab");
    if (password != null && !password.isEmpty()) {
      config.password(password);
    }
    ConnectionPool pool = new ConnectionPool(ConnectionPoolConfiguration
        .builder(new PostgresqlConnectionFactory(config.build()))
        .initialSize(size).maxSize(size).maxAcquireTime(Duration.ofSeconds(30)).build());
    pool.warmup().block(Duration.ofSeconds(30));
    return new R2dbc(pool);
  }

  /** JDBC's ? parameter markers as PostgreSQL's $1, $2, ... (the statements hold no ? of their own). */
  static String numbered(String sql) {
    StringBuilder out = new StringBuilder(sql.length() + 16);
    int n = 0;
    for (char ch : sql.toCharArray()) {
      if (ch == '?') {
        out.append('$').append(++n);
      } else {
        out.append(ch);
      }
    }
    return out.toString();
  }

  @Override
  public String name() {
    return "r2dbc";
  }

  @Override
  public CompletableFuture<?> persist(List<Message> messages) {
    InsertColumns cols = InsertColumns.of(messages, null);
    return Mono.usingWhen(pool.create(), c -> Mono.from(c.beginTransaction())
        .then(drain(c.createStatement(lock).bind("$1", cols.threads())))
        .then(Flux.from(bindAll(c.createStatement(insert), cols.ids(), cols.threads(), cols.users(), cols.roles(),
                cols.contents(), cols.metadata(), cols.idempotencyKeys(), cols.createdMillis()).execute())
            .flatMap(r -> r.map((row, md) -> row.get(0, String.class))).collectList())
        .flatMap(inserted -> Mono.from(c.commitTransaction()).thenReturn(inserted)),
        Connection::close, (c, e) -> Mono.from(c.rollbackTransaction()).then(Mono.from(c.close())), Connection::close)
        .toFuture();
  }

  private static Statement bindAll(Statement s, Object... arrays) {
    for (int i = 0; i < arrays.length; i++) {
      Object a = arrays[i];
      if (a instanceof String[] strings && java.util.Arrays.stream(strings).allMatch(x -> x == null)) {
        s.bindNull("$" + (i + 1), String[].class);
      } else {
        s.bind("$" + (i + 1), a);
      }
    }
    return s;
  }

  private static Mono<Void> drain(Statement s) {
    return Flux.from(s.execute()).flatMap(r -> r.map((row, md) -> 1)).then();
  }

  @Override
  public CompletableFuture<?> read(String threadId, String messageId) {
    return Mono.usingWhen(pool.create(),
        c -> Flux.from(c.createStatement(find).bind("$1", messageId).bind("$2", threadId).execute())
            .flatMap(r -> r.map((row, md) -> new Object[] {row.get(0, String.class), row.get(1, String.class),
                row.get(2, String.class), row.get(3, Short.class), row.get(4, String.class), row.get(5, String.class),
                row.get(6, java.time.OffsetDateTime.class)}))
            .single(),
        Connection::close).toFuture();
  }

  @Override
  public void close() {
    pool.dispose();
  }
}
