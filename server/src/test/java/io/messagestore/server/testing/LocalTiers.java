package io.messagestore.server.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The shared tiers for integration tests, made reachable once per test JVM through
 * {@code scripts/local-tiers.sh up} (which reuses running servers), plus helpers to run private
 * instances on free ports for tests that stop, kill or pause a tier.
 */
public final class LocalTiers {
  private static Map<String, String> env;

  private LocalTiers() {}

  public static Path repoRoot() {
    String prop = System.getProperty("messagestore.repo.root");
    Path p = prop != null ? Path.of(prop) : Path.of("..");
    return p.toAbsolutePath().normalize();
  }

  static Path script() {
    return repoRoot().resolve("scripts/local-tiers.sh");
  }

  /** MESSAGESTORE_REDIS_URI, _POSTGRES_URL, _POSTGRES_USER, _CLICKHOUSE_URL of the shared tiers. */
  public static synchronized Map<String, String> shared() {
    if (env == null) {
      run("up");
      String out = run("env");
      Map<String, String> m = new HashMap<>();
      for (String line : out.split("\n")) {
        line = line.trim();
        if (line.startsWith("export ")) {
          String kv = line.substring(7);
          int eq = kv.indexOf('=');
          m.put(kv.substring(0, eq), kv.substring(eq + 1).replace("'", "").replace("\"", ""));
        }
      }
      env = Map.copyOf(m);
    }
    return env;
  }

  public static void startPrivate(String tier, int port, Path dir) {
    run("start-private", tier, Integer.toString(port), dir.toString());
  }

  /** A private Redis that keeps its data across stop/start (AOF, fsync every write). */
  public static void startPrivateDurableRedis(int port, Path dir) {
    runWith(Map.of("MESSAGESTORE_TIERS_REDIS_APPENDONLY", "yes"), "start-private", "redis", Integer.toString(port), dir.toString());
  }

  public static void stopPrivate(String tier, Path dir) {
    run("stop-private", tier, dir.toString());
  }

  public static void killPrivate(String tier, Path dir) {
    run("kill-private", tier, dir.toString());
  }

  /** A directory the postgres user can use too (initdb refuses root-only paths). */
  public static Path privateDir(String name) throws IOException {
    Path dir = Files.createTempDirectory(Path.of("/tmp"), "ms-" + name + "-");
    dir.toFile().setReadable(true, false);
    dir.toFile().setWritable(true, false);
    dir.toFile().setExecutable(true, false);
    return dir;
  }

  static String run(String... args) {
    return runWith(Map.of(), args);
  }

  static String runWith(Map<String, String> env, String... args) {
    String[] cmd = new String[args.length + 1];
    cmd[0] = script().toString();
    System.arraycopy(args, 0, cmd, 1, args.length);
    try {
      ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
      pb.environment().putAll(env);
      Process p = pb.start();
      byte[] out = p.getInputStream().readAllBytes();
      if (!p.waitFor(180, TimeUnit.SECONDS) || p.exitValue() != 0) {
        throw new IllegalStateException("local-tiers.sh " + String.join(" ", args) + " failed:\n"
            + new String(out, StandardCharsets.UTF_8));
      }
      return new String(out, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
