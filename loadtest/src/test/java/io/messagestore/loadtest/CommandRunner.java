package io.messagestore.loadtest;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/** Runs the command in this JVM and captures what it prints. */
public final class CommandRunner {

    public record Result(int exitCode, String stdout, String stderr) { }

    private CommandRunner() {
    }

    /**
     * Runs with the tool warm-up off unless the test asks for it: the test JVM is warm after
     * the first run, and the suite must stay fast.
     */
    public static Result run(String... args) {
        return runWithStdin("", args);
    }

    /** As {@link #run(String...)}, with {@code stdin} as what "-d @" reads. */
    public static Result runWithStdin(String stdin, String... args) {
        if (!java.util.Arrays.asList(args).contains("--tool-warmup")) {
            String[] withoutWarmup = new String[args.length + 2];
            withoutWarmup[0] = "--tool-warmup";
            withoutWarmup[1] = "0";
            System.arraycopy(args, 0, withoutWarmup, 2, args.length);
            args = withoutWarmup;
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = LoadTestCommand.run(args, new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8)),
                new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Result(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }
}
