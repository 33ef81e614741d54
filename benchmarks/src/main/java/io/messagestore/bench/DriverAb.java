package io.messagestore.bench;

import io.messagestore.api.v1.Message;
import io.messagestore.api.v1.Role;
import io.messagestore.server.config.PostgresSettings;
import io.messagestore.server.postgres.PostgresMessageStore;
import io.messagestore.server.postgres.PostgresTier;
import io.messagestore.server.write.MessageIdGenerator;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.HdrHistogram.ConcurrentHistogram;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The PostgreSQL driver A/B of issue 22: the gateway's own statements, sent through pgjdbc on a
 * fixed blocking pool (what the gateway does) and through r2dbc-postgresql with r2dbc-pool (what
 * the design card names), by the same number of concurrent callers, one driver after the other
 * and then in the other order, so that drift of the shared machine shows as a difference between
 * the two rounds of one driver. Reports per case and driver: operations per second, this
 * process's CPU per operation (the driver's client-side cost, which is what differs), the
 * PostgreSQL processes' CPU per operation, and the machine's.
 *
 * <p>Cases: {@code persist} = the persisters' commit of a batch of messages (erasure lock, insert
 * with thread counters and analytics rows, in one transaction), {@code single} = the same for one
 * message per transaction (what a failover write without group commit costs), {@code read} = a
 * cold GetMessage by its ids.
 */
@Command(name = "driver-ab", mixinStandardHelpOptions = true,
    description = "pgjdbc (blocking pool) against r2dbc-postgresql (r2dbc-pool) on the gateway's statements")
public final class DriverAb implements Callable<Integer> {
  @Option(names = "--postgres-url", description = "JDBC URL (default: MESSAGESTORE_POSTGRES_URL or the local tier)")
  String url = System.getenv().getOrDefault("MESSAGESTORE_POSTGRES_URL",
      "jdbc:postgresql://127.0.0.1:5432/messagestore");
  @Option(names = "--user") String user = System.getenv().getOrDefault("MESSAGESTORE_POSTGRES_USER", "postgres");
  @Option(names = "--password") String password = System.getenv().getOrDefault("MESSAGESTORE_POSTGRES_PASSWORD", "");
  @Option(names = "--cases", split = ",", description = "persist, single, read") List<String> cases =
      List.of("persist", "single", "read");
  @Option(names = "--seconds", description = "measured seconds per case and driver") int seconds = 10;
  @Option(names = "--warmup", description = "seconds of warm-up per case and driver, before the first round")
  int warmup = 5;
  @Option(names = "--callers", description = "concurrent callers (the bench's -c)") int callers = 50;
  @Option(names = "--committers", description = "concurrent batch commits in the persist case (one per shard)")
  int committers = 4;
  @Option(names = "--batch", description = "messages per batch in the persist case") int batch = 100;
  @Option(names = "--pool", description = "connections per driver (the gateway's MESSAGESTORE_POSTGRES_POOL_SIZE)")
  int pool = 8;
  @Option(names = "--blocking-threads", description = "pgjdbc's thread pool (the gateway's blocking pool)")
  int blockingThreads = 16;
  @Option(names = "--threads", description = "threads the messages are spread over") int threads = 50;

  private final String run = "drv-ab-" + Long.toString(System.currentTimeMillis(), 36) + "-";
  private final MessageIdGenerator ids = new MessageIdGenerator(Clock.systemUTC());
  private final List<String> contents = new ArrayList<>();
  private final List<Message> seeded = new ArrayList<>();

  public static void main(String[] args) {
    System.exit(new CommandLine(new DriverAb()).execute(args));
  }

  @Override
  public Integer call() throws Exception {
    Random random = new Random(1);
    for (int i = 0; i < 64; i++) {
      StringBuilder b = new StringBuilder(512);
      for (int j = 0; j < 512; j++) {
        b.append((char) ('a' + random.nextInt(26)));
      }
      contents.add(b.toString());
    }
    for (String scheme : List.of("r2dbc:postgresql://", "postgresql://", "postgres://")) {
      if (url.startsWith(scheme)) {
        url = "jdbc:postgresql://" + url.substring(scheme.length());
      }
    }
    PostgresTier tier = new PostgresTier(new PostgresSettings(url, user, password, pool, Duration.ofSeconds(5)));
    tier.ensureSchema();
    PostgresMessageStore store = new PostgresMessageStore(tier, Duration.ofHours(24));
    ExecutorService blocking = Executors.newFixedThreadPool(blockingThreads);
    List<DriverUnderTest> drivers = List.of(new Jdbc(store, blocking), R2dbc.open(url, user, password, pool));
    try {
      for (int i = 0; i < 50; i++) {
        List<Message> b = batch(100);
        store.insert(b, null);
        seeded.addAll(b);
      }
      System.out.printf(Locale.ROOT, "| case | driver | round | ops/s | x pgjdbc | p99 ms | harness CPU µs/op | "
          + "PostgreSQL CPU µs/op | machine CPU µs/op |%n|---|---|---|---|---|---|---|---|---|%n");
      for (String c : cases) {
        for (DriverUnderTest d : drivers) {
          measure(c, d, warmup);
        }
        for (int round = 1; round <= 2; round++) {
          List<DriverUnderTest> order = round == 1 ? drivers : List.of(drivers.get(1), drivers.get(0));
          Result[] results = new Result[2];
          for (DriverUnderTest d : order) {
            results[drivers.indexOf(d)] = measure(c, d, seconds);
          }
          for (int i = 0; i < 2; i++) {
            Result r = results[i];
            System.out.printf(Locale.ROOT, "| %s | %s | %d | %,.0f | %.2f | %.2f | %.0f | %.0f | %.0f |%n", c,
                drivers.get(i).name(), round, r.perSecond(), r.perSecond() / results[0].perSecond(), r.p99Millis(),
                r.harnessMicros(), r.postgresMicros(), r.machineMicros());
          }
        }
      }
    } finally {
      for (DriverUnderTest d : drivers) {
        d.close();
      }
      blocking.shutdownNow();
      try (Connection c = tier.connection()) {
        // Millions of rows after the persist case: more than the pool's statement timeout allows.
        try (PreparedStatement ps = c.prepareStatement("SET statement_timeout = 0")) {
          ps.execute();
        }
        try (PreparedStatement ps = c.prepareStatement(
            "DELETE FROM analytics_outbox_batches WHERE thread_ids[1] LIKE ?")) {
          ps.setString(1, run + "%");
          ps.executeUpdate();
        }
        for (String table : List.of("messages", "threads")) {
          try (PreparedStatement ps = c.prepareStatement("DELETE FROM " + table + " WHERE thread_id LIKE ?")) {
            ps.setString(1, run + "%");
            ps.executeUpdate();
          }
        }
        try (PreparedStatement ps = c.prepareStatement("RESET statement_timeout")) {
          ps.execute();
        }
      }
      tier.close();
    }
    return 0;
  }

  private List<Message> batch(int n) {
    List<Message> out = new ArrayList<>(n);
    ThreadLocalRandom r = ThreadLocalRandom.current();
    for (int i = 0; i < n; i++) {
      UUID id;
      synchronized (ids) {
        id = ids.next();
      }
      long millis = MessageIdGenerator.millisOf(id);
      out.add(Message.newBuilder().setMessageId(id.toString()).setThreadId(run + r.nextInt(threads))
          .setUserId("bench").setRole(Role.ROLE_USER).setContent(contents.get(r.nextInt(contents.size())))
          .setCreatedAt(com.google.protobuf.Timestamp.newBuilder().setSeconds(millis / 1000)
              .setNanos((int) (millis % 1000) * 1_000_000))
          .build());
    }
    return out;
  }

  private record Result(double perSecond, double p99Millis, double harnessMicros, double postgresMicros,
      double machineMicros) {}

  /** Runs the case with its callers for {@code seconds} and measures it. */
  private Result measure(String c, DriverUnderTest d, int seconds) throws Exception {
    int concurrency;
    int perOp;
    Supplier<CompletableFuture<?>> op;
    switch (c) {
      case "persist" -> {
        concurrency = committers;
        perOp = batch;
        op = () -> d.persist(batch(batch));
      }
      case "single" -> {
        concurrency = callers;
        perOp = 1;
        op = () -> d.persist(batch(1));
      }
      case "read" -> {
        concurrency = callers;
        perOp = 1;
        op = () -> {
          Message m = seeded.get(ThreadLocalRandom.current().nextInt(seeded.size()));
          return d.read(m.getThreadId(), m.getMessageId());
        };
      }
      default -> throw new CommandLine.ParameterException(new CommandLine(this), "unknown case " + c);
    }
    ConcurrentHistogram latency = new ConcurrentHistogram(3);
    AtomicLong done = new AtomicLong();
    AtomicLong failed = new AtomicLong();
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    CpuTimes before = CpuTimes.now();
    List<CompletableFuture<Void>> loops = new ArrayList<>();
    for (int i = 0; i < concurrency; i++) {
      CompletableFuture<Void> loop = new CompletableFuture<>();
      next(op, end, latency, done, failed, loop);
      loops.add(loop);
    }
    CompletableFuture.allOf(loops.toArray(new CompletableFuture[0])).get(seconds + 60L, TimeUnit.SECONDS);
    CpuTimes after = CpuTimes.now();
    if (failed.get() > 0) {
      System.err.printf("%s/%s: %d operations failed%n", c, d.name(), failed.get());
    }
    double elapsed = (after.wallNanos() - before.wallNanos()) / 1e9;
    double ops = (double) done.get() * perOp;
    return new Result(ops / elapsed, latency.getValueAtPercentile(99) / 1e6,
        (after.processNanos() - before.processNanos()) / 1e3 / ops,
        (after.postgresNanos() - before.postgresNanos()) / 1e3 / ops,
        (after.machineBusyNanos() - before.machineBusyNanos()) / 1e3 / ops);
  }

  private static void next(Supplier<CompletableFuture<?>> op, long end, ConcurrentHistogram latency, AtomicLong done,
      AtomicLong failed, CompletableFuture<Void> loop) {
    long start = System.nanoTime();
    if (start >= end) {
      loop.complete(null);
      return;
    }
    op.get().whenComplete((v, e) -> {
      if (e != null) {
        if (failed.incrementAndGet() == 1) {
          e.printStackTrace();
        }
      } else {
        latency.recordValue(System.nanoTime() - start);
        done.incrementAndGet();
      }
      next(op, end, latency, done, failed, loop);
    });
  }

  /** The operations of a case, through one driver. */
  interface DriverUnderTest extends AutoCloseable {
    String name();

    /** Commits the messages in one transaction, as a persister does. */
    CompletableFuture<?> persist(List<Message> messages);

    CompletableFuture<?> read(String threadId, String messageId);
  }

  /** What the gateway does: the blocking pgjdbc calls of {@link PostgresMessageStore} on a fixed pool. */
  private record Jdbc(PostgresMessageStore store, ExecutorService blocking) implements DriverUnderTest {
    @Override
    public String name() {
      return "pgjdbc";
    }

    @Override
    public CompletableFuture<?> persist(List<Message> messages) {
      return CompletableFuture.supplyAsync(() -> {
        try {
          return store.insert(messages, null);
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
      }, blocking);
    }

    @Override
    public CompletableFuture<?> read(String threadId, String messageId) {
      return CompletableFuture.supplyAsync(() -> {
        try {
          return store.find(threadId, messageId).orElseThrow();
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
      }, blocking);
    }

    @Override
    public void close() {}
  }
}
