package io.messagestore.loadtest;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.messagestore.loadtest.scenario.Mix;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.ParameterException;

/**
 * The checks picocli's types cannot express, made before anything is opened or read, so that
 * a bad flag is a usage error (one line, exit status 2) and not a failed run (1) or a stack
 * trace from deep inside the run.
 */
final class OptionChecks {

    private static final ObjectMapper JSON = new ObjectMapper();

    private OptionChecks() {
    }

    static void check(LoadTestCommand c, CommandLine commandLine) {
        Checker checker = new Checker(commandLine);
        checker.require(c.host != null && !c.host.isBlank(), "no target: give HOST, e.g. localhost:50051");
        checker.require(c.scenario == null || c.scenario.equals("mixed"),
                "unknown --scenario '" + c.scenario + "' (known: mixed)");
        checker.require(c.scenario != null || (c.call != null && !c.call.isBlank()),
                "--call is required, e.g. --call messagestore.v1.MessageStore/SendMessage");
        checker.oneOf("-O", c.format, "summary", "json", "pretty", "csv", "html");
        checker.oneOf("--duration-stop", c.durationStop, "close", "wait", "ignore");
        checker.oneOf("--progress", c.progressMode, "auto", "always", "never");
        checker.oneOf("--lag-source", c.lagSource, "auto", "watch", "postgres");
        checker.atLeast("-c", c.concurrency, 1);
        if (c.runDuration() == null) {
            checker.atLeast("-n", c.total, 1);
        }
        checker.atLeast("--rps", c.rps, 0);
        checker.atLeast("--connections", c.connections, 1);
        checker.atLeast("--cpus", c.cpus, 0);
        checker.atLeast("--skipFirst", c.skipFirst, 0);
        checker.atLeast("--tool-warmup", c.toolWarmup, 0);
        checker.atLeast("--threads", c.threads, 1);
        checker.atLeast("--content-size", c.contentSize, 0);
        checker.atLeast("--lag-sample-every", c.lagSampleEvery, 1);
        checker.atLeast("--streams", c.streams, 0);
        checker.atLeast("--watch-streams", c.watchStreams, 0);
        if (c.streams > 0) {
            checker.require(isMessageStoreMethod(c.call, "WatchThread"),
                    "--streams opens WatchThread streams: give --call messagestore.v1.MessageStore/WatchThread, not '"
                            + c.call + "'");
            checker.require(c.runDuration() != null, "--streams holds the streams for -z: give -z DURATION, e.g. -z 30s");
            checker.require(c.compareCall == null && c.scenario == null && !c.measureLag && c.watchStreams == 0,
                    "--streams cannot be combined with --compare, --scenario, --measure-persistence-lag or --watch-streams");
        }
        if (c.watchStreams > 0) {
            checker.require(isMessageStoreMethod(c.call, "SendMessage"),
                    "--watch-streams watches the threads of a send run: give --call "
                            + "messagestore.v1.MessageStore/SendMessage, not '" + c.call + "'");
            checker.require(c.compareCall == null && c.scenario == null,
                    "--watch-streams cannot be combined with --compare or --scenario");
        }
        checker.require(c.watchStreams > 0 || (c.watchHost == null && c.watchData == null),
                "--watch-host and --watch-data need --watch-streams N");
        checker.require((c.cert == null) == (c.key == null), "--cert and --key must be given together");
        checker.require(!c.measureLag || !c.lagSource.equals("postgres") || c.postgresJdbcUrl != null,
                "--lag-source postgres needs --postgres-jdbc-url");
        checker.require(!"@".equals(c.metadata), "-m @ needs a file name, e.g. -m @auth.json (only -d @ reads stdin)");
        if ("mixed".equals(c.scenario)) {
            try {
                Mix.parse(c.mix);
            } catch (LoadTestException e) {
                throw new ParameterException(commandLine, e.getMessage());
            }
        }
        tags(c.tags, commandLine);
    }

    /** {@code --call} names this MessageStore method, in either of ghz's spellings. */
    private static boolean isMessageStoreMethod(String call, String method) {
        return call != null && call.replace('/', '.').equals("messagestore.v1.MessageStore." + method);
    }

    /** ghz's --tags: a JSON object; values that are not strings are kept as their JSON text. */
    static Map<String, String> tags(String json, CommandLine commandLine) {
        if (json == null || json.isBlank()) {
            return Map.of();
        }
        JsonNode node;
        try {
            node = JSON.readTree(json);
        } catch (JsonProcessingException e) {
            throw new ParameterException(commandLine, "--tags is not valid JSON: " + e.getOriginalMessage());
        }
        if (!node.isObject()) {
            throw new ParameterException(commandLine, "--tags must be a JSON object, e.g. {\"branch\":\"main\"}");
        }
        Map<String, String> result = new LinkedHashMap<>();
        node.fields().forEachRemaining(e -> result.put(e.getKey(),
                e.getValue().isTextual() ? e.getValue().textValue() : e.getValue().toString()));
        return result;
    }

    private record Checker(CommandLine commandLine) {
        void require(boolean condition, String message) {
            if (!condition) {
                throw new ParameterException(commandLine, message);
            }
        }

        void atLeast(String option, long value, long minimum) {
            require(value >= minimum, option + " must be at least " + minimum + ", not " + value);
        }

        void oneOf(String option, String value, String... allowed) {
            require(List.of(allowed).contains(value),
                    option + " must be one of " + String.join(", ", allowed) + ", not '" + value + "'");
        }
    }
}
