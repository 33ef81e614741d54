package io.messagestore.cli;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Runs {@code messagestore} in its own JVM, as a user's shell would, and keeps what it printed. */
final class CliProcess {
  private final Map<String, String> environment = new HashMap<>();
  private final List<String> command = new ArrayList<>();
  private long timeoutSeconds = 60;

  private CliProcess(List<String> launcher) {
    command.addAll(launcher);
  }

  /** The CLI's main class on this test's class path. */
  static CliProcess java() {
    return new CliProcess(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC",
        "-cp", System.getProperty("java.class.path"), MessageStoreCli.class.getName()));
  }

  /** The launcher script, as the README runs it. */
  static CliProcess launcher(Path repoRoot) {
    return new CliProcess(List.of(repoRoot.resolve("bin/messagestore").toString()));
  }

  /** How long a run may take before it is killed and the test fails (60 s unless set). */
  CliProcess timeout(java.time.Duration timeout) {
    this.timeoutSeconds = timeout.toSeconds();
    return this;
  }

  CliProcess env(String name, String value) {
    environment.put(name, value);
    return this;
  }

  Result run(String... args) {
    return runWithInput("", args);
  }

  Result runWithInput(String stdin, String... args) {
    List<String> line = new ArrayList<>(command);
    line.addAll(List.of(args));
    try {
      Path out = Files.createTempFile("cli-out-", ".txt");
      Path err = Files.createTempFile("cli-err-", ".txt");
      ProcessBuilder builder = new ProcessBuilder(line)
          .redirectOutput(out.toFile())
          .redirectError(err.toFile());
      // The CLI reads these; the test's own environment must not leak into what it checks.
      builder.environment().keySet().removeIf(k -> k.startsWith("MESSAGESTORE_"));
      builder.environment().putAll(environment);
      Process process = builder.start();
      try (OutputStream in = process.getOutputStream()) {
        in.write(stdin.getBytes(StandardCharsets.UTF_8));
      }
      if (!process.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        throw new AssertionError("messagestore " + String.join(" ", args) + " did not end in "
            + timeoutSeconds + " s");
      }
      Result result = new Result(process.exitValue(), Files.readString(out), Files.readString(err));
      Files.delete(out);
      Files.delete(err);
      return result;
    } catch (IOException e) {
      throw new IllegalStateException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  record Result(int exitCode, String stdout, String stderr) {
    List<String> lines() {
      return stdout.lines().toList();
    }

    @Override
    public String toString() {
      return "exit " + exitCode + "\n--- stdout\n" + stdout + "--- stderr\n" + stderr;
    }
  }
}
