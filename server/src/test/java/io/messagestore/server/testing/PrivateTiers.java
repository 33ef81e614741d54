package io.messagestore.server.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A Redis and a PostgreSQL of the test's own, on free ports, that the test may stop, kill and
 * restart. Redis keeps its data across a stop (AOF), so a restart is an outage, not a loss.
 */
public final class PrivateTiers implements AutoCloseable {
  public final int redisPort = FreePorts.next();
  public final int postgresPort = FreePorts.next();
  private final Path redisDir;
  private final Path postgresDir;

  private PrivateTiers(Path redisDir, Path postgresDir) {
    this.redisDir = redisDir;
    this.postgresDir = postgresDir;
  }

  public static PrivateTiers start() throws IOException {
    PrivateTiers t = new PrivateTiers(LocalTiers.privateDir("redis"), LocalTiers.privateDir("pg"));
    t.startRedis();
    t.startPostgres();
    return t;
  }

  public void startRedis() {
    LocalTiers.startPrivateDurableRedis(redisPort, redisDir);
  }

  public void stopRedis() {
    LocalTiers.stopPrivate("redis", redisDir);
  }

  public void startPostgres() {
    LocalTiers.startPrivate("postgres", postgresPort, postgresDir);
  }

  public void stopPostgres() {
    LocalTiers.stopPrivate("postgres", postgresDir);
  }

  private void resumeQuietly() {
    for (Runnable resume : List.<Runnable>of(this::resumePostgres, this::resumeRedis)) {
      try {
        resume.run();
      } catch (RuntimeException e) {
        // not running, or not paused: nothing to resume
      }
    }
  }

  /**
   * Freezes PostgreSQL (SIGSTOP to the postmaster and its backends): connections stay open and
   * queries hang, the way an overloaded or stalled server looks to a client.
   */
  public void pausePostgres() {
    signalPostgres("-STOP");
  }

  public void resumePostgres() {
    signalPostgres("-CONT");
  }

  /**
   * Freezes Redis (SIGSTOP): connections stay open and commands hang, so nothing the gateway
   * holds is dropped or invalidated; unlike CLIENT PAUSE, it ends when the test says so.
   */
  public void pauseRedis() {
    signal("-STOP", redisPid(), List.of());
  }

  public void resumeRedis() {
    signal("-CONT", redisPid(), List.of());
  }

  private long redisPid() {
    try {
      return Long.parseLong(Files.readAllLines(redisDir.resolve("redis.pid")).get(0).trim());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private void signalPostgres(String signal) {
    try {
      long postmaster = Long.parseLong(Files.readAllLines(postgresDir.resolve("postmaster.pid")).get(0).trim());
      List<Long> backends = new ArrayList<>();
      ProcessHandle.of(postmaster).orElseThrow().descendants().forEach(p -> backends.add(p.pid()));
      signal(signal, postmaster, backends);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Signals {@code server}, then {@code children}. A child may exit between being listed and
   * being signalled (the backend of a connection the gateway just closed): kill's "No such
   * process" for it is expected, and is neither an error nor printed into the build's output.
   */
  static void signal(String signal, long server, List<Long> children) {
    String failure = kill(signal, List.of(server));
    if (failure != null) {
      throw new IllegalStateException("kill " + signal + " " + server + ": " + failure);
    }
    if (!children.isEmpty()) {
      failure = kill(signal, children);
      if (failure != null && !failure.lines().allMatch(line -> line.endsWith("No such process"))) {
        throw new IllegalStateException("kill " + signal + " " + children + ": " + failure);
      }
    }
  }

  /** Runs kill; null when it succeeded, else what it printed. */
  private static String kill(String signal, List<Long> pids) {
    List<String> cmd = new ArrayList<>(List.of("kill", signal));
    pids.forEach(p -> cmd.add(Long.toString(p)));
    try {
      Process kill = new ProcessBuilder(cmd).redirectErrorStream(true).start();
      kill.getOutputStream().close();
      String output = new String(kill.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
      return kill.waitFor() == 0 ? null : output.isEmpty() ? "exit code " + kill.exitValue() : output;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** Gateway settings pointing at these tiers (ClickHouse stays the shared one). */
  public Map<String, String> settings(Map<String, String> extra) {
    Map<String, String> s = new HashMap<>(TestGateway.settings(Map.of()));
    s.put("MESSAGESTORE_REDIS_URI", "redis://127.0.0.1:" + redisPort);
    s.put("MESSAGESTORE_POSTGRES_URL", "postgresql://127.0.0.1:" + postgresPort + "/messagestore");
    s.put("MESSAGESTORE_POSTGRES_USER", "postgres");
    s.put("MESSAGESTORE_POSTGRES_TIMEOUT", "1s");
    // A stopped Redis fails at once (connection refused); the generous timeout only keeps a
    // slow fsync on this shared machine from looking like an outage.
    s.put("MESSAGESTORE_REDIS_TIMEOUT", "1s");
    s.put("MESSAGESTORE_BREAKER_OPEN_WAIT", "500ms");
    s.put("MESSAGESTORE_BREAKER_MINIMUM_CALLS", "5");
    s.put("MESSAGESTORE_BREAKER_WINDOW", "10");
    s.putAll(extra);
    return s;
  }

  @Override
  public void close() {
    resumeQuietly();
    try {
      LocalTiers.stopPrivate("redis", redisDir);
    } finally {
      LocalTiers.stopPrivate("postgres", postgresDir);
    }
  }
}
