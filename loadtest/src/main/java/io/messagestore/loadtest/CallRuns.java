package io.messagestore.loadtest;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.Descriptors;
import com.google.protobuf.DynamicMessage;
import io.grpc.ManagedChannel;
import io.messagestore.loadtest.call.GenericCallLauncher;
import io.messagestore.loadtest.call.MetadataSource;
import io.messagestore.loadtest.call.RawMarshallers;
import io.messagestore.loadtest.call.RequestSource;
import io.messagestore.loadtest.call.ToolWarmup;
import io.messagestore.loadtest.lag.PersistenceLagMeter;
import io.messagestore.loadtest.report.Report;
import io.messagestore.loadtest.report.RunStats;
import io.messagestore.loadtest.run.CallLauncher;
import io.messagestore.loadtest.run.LoadProfile;
import io.messagestore.loadtest.run.LoadRunner;
import io.messagestore.loadtest.run.RunOutcome;
import io.messagestore.loadtest.scenario.Mix;
import io.messagestore.loadtest.scenario.MixedScenario;
import java.io.IOException;
import java.io.PrintStream;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The runs of one invocation over its open channels: a method called under the load profile
 * (with the tool's warm-up first, and the persistence lag when asked), the mixed scenario, and
 * what every run shares: the progress line, the stats' detail and series step, the report's
 * ghz-style options, and cancelling the run in progress (Ctrl-C).
 */
final class CallRuns {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final LoadTestCommand options;
    private final List<ManagedChannel> channels;
    private final LoadProfile profile;
    private final MetadataSource headers;
    private final ScheduledExecutorService dispatchLoop;
    private final PrintStream stdout;
    private final AtomicReference<LoadRunner> activeRunner = new AtomicReference<>();

    CallRuns(LoadTestCommand options, List<ManagedChannel> channels, LoadProfile profile, MetadataSource headers,
             ScheduledExecutorService dispatchLoop, PrintStream stdout) {
        this.options = options;
        this.channels = channels;
        this.profile = profile;
        this.headers = headers;
        this.dispatchLoop = dispatchLoop;
        this.stdout = stdout;
    }

    List<ManagedChannel> channels() {
        return channels;
    }

    LoadProfile profile() {
        return profile;
    }

    MetadataSource headers() {
        return headers;
    }

    /** Cancels the run in progress, if any: its report is still written. Whether there was one. */
    boolean cancel() {
        LoadRunner runner = activeRunner.get();
        if (runner != null) {
            runner.cancel();
        }
        return runner != null;
    }

    Report runCall(Descriptors.MethodDescriptor method, String requestData, boolean ignoreUnknownFields,
                   String callName, boolean withLag) throws Exception {
        return runCall(method, requestData, ignoreUnknownFields, callName, withLag, requests -> { });
    }

    /** As above; {@code beforeRun} gets the run's requests after the tool's warm-up, right before the run. */
    Report runCall(Descriptors.MethodDescriptor method, String requestData, boolean ignoreUnknownFields,
                   String callName, boolean withLag, BeforeRun beforeRun) throws Exception {
        RequestSource requests = RequestSource.compile(requestData, method.getInputType(), ignoreUnknownFields);
        PersistenceLagMeter lag = null;
        GenericCallLauncher.ResponseObserver observer = null;
        if (withLag) {
            if (!method.getOutputType().getFullName().equals("messagestore.v1.SendMessageResponse")) {
                throw new LoadTestException("--measure-persistence-lag needs --call messagestore.v1.MessageStore/SendMessage");
            }
            lag = newLagMeter();
            PersistenceLagMeter meter = lag;
            observer = (worker, response) -> meter.onSendResponse((DynamicMessage) response);
        }
        GenericCallLauncher launcher = new GenericCallLauncher(RawMarshallers.methodOf(method, withLag), requests,
                headers, profile.callTimeout().toNanos(), observer);
        ToolWarmup.run(options.toolWarmup, options.toolWarmupTime, profile.concurrency(), () -> new GenericCallLauncher(
                RawMarshallers.methodOf(method, withLag), requests, headers, profile.callTimeout().toNanos(), null));
        beforeRun.accept(requests);
        Map<String, Object> reportOptions = reportOptions(callName, requestData);
        Report report = execute(launcher, reportOptions, newStats(), List.of());
        if (lag != null) {
            report = report.withPersistenceLag(lag.finish(options.lagWait));
        }
        return report;
    }

    @FunctionalInterface
    interface BeforeRun {
        void accept(RequestSource requests) throws Exception;
    }

    /** --scenario mixed: one report for the whole mix, with one per operation inside it. */
    Report runScenario() throws Exception {
        MixedScenario mixed = new MixedScenario(Mix.parse(options.mix), options.threads, options.contentSize, headers,
                profile.callTimeout(), options.watchHold, keepDetails(), seriesInterval());
        PersistenceLagMeter lag = options.measureLag ? newLagMeter() : null;
        if (lag != null) {
            mixed.onAcknowledged(lag::onAcknowledged);
        }
        mixed.seed(channels.get(0));
        Map<String, Object> reportOptions = reportOptions("scenario:mixed", null);
        reportOptions.put("mix", options.mix);
        reportOptions.put("threads", options.threads);
        Report report = execute(mixed, reportOptions, newStats(), mixed.operationStats().values());
        Map<String, Report> byOperation = new LinkedHashMap<>();
        for (Map.Entry<String, RunStats> op : mixed.operationStats().entrySet()) {
            RunStats.Snapshot snapshot = op.getValue().finish(System.nanoTime());
            byOperation.put(op.getKey(), Report.from(snapshot, op.getKey(), report.endReason(), report.date(),
                    Map.of("operation", op.getKey()), report.totalNanos(), Map.of(), null));
        }
        report = report.withOperations(byOperation);
        if (lag != null) {
            report = report.withPersistenceLag(lag.finish(options.lagWait));
        }
        return report;
    }

    private PersistenceLagMeter newLagMeter() {
        return PersistenceLagMeter.start(options.lagSource, options.postgresJdbcUrl, options.lagSampleEvery,
                channels.get(0), headers.headers(0, "c0w0"));
    }

    private Report execute(CallLauncher launcher, Map<String, Object> reportOptions, RunStats stats,
                           Collection<RunStats> alsoSampled) {
        ProgressLine progress = showProgress()
                ? new ProgressLine(stdout, profile.total(), profile.duration()) : null;
        LoadRunner runner = new LoadRunner(profile, channels, launcher, stats, progress, dispatchLoop)
                .sampleAlso(alsoSampled);
        activeRunner.set(runner);
        RunOutcome outcome;
        try {
            outcome = runner.run();
        } finally {
            activeRunner.set(null);
            if (progress != null) {
                progress.clear();
            }
        }
        return Report.from(outcome.stats(), options.name, outcome.endReason(), outcome.date(), reportOptions,
                outcome.totalNanos(), tags(), outcome.cpuPerCallMicros());
    }

    /** The run's --tags, checked already by {@link OptionChecks}. */
    Map<String, String> tags() {
        return OptionChecks.tags(options.tags, options.spec.commandLine());
    }

    private boolean showProgress() {
        return switch (options.progressMode) {
            case "always" -> true;
            case "never" -> false;
            // Java 17: console() is non-null only when stdin and stdout are both terminals
            default -> stdout == System.out && System.console() != null;
        };
    }

    /** Stats for a run: every call kept when the report shows them, sampled at {@link #seriesInterval()}. */
    RunStats newStats() {
        return new RunStats(keepDetails(), seriesInterval());
    }

    private boolean keepDetails() {
        return options.details || options.format.equals("csv");
    }

    /** About 300 points per chart for -z runs; 200 ms steps for -n runs (merged if they get long). */
    long seriesInterval() {
        if (profile.duration() != null) {
            return Math.max(TimeUnit.MILLISECONDS.toNanos(100), profile.duration().toNanos() / 300);
        }
        return TimeUnit.MILLISECONDS.toNanos(200);
    }

    /** The report's "options": ghz's option names, durations in nanoseconds. */
    Map<String, Object> reportOptions(String callName, String requestData) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("call", callName);
        out.put("host", options.host);
        out.put("insecure", options.insecure);
        if (options.skipTls) {
            out.put("skipTLS", true);
        }
        if (options.cname != null) {
            out.put("cname", options.cname);
        }
        if (profile.duration() == null) {
            out.put("total", profile.total());
        } else {
            out.put("duration", profile.duration().toNanos());
        }
        out.put("concurrency", profile.concurrency());
        out.put("connections", options.connections);
        if (profile.rps() > 0) {
            out.put("rps", profile.rps());
        }
        out.put("timeout", profile.callTimeout().toNanos());
        if (profile.skipFirst() > 0) {
            out.put("skipFirst", profile.skipFirst());
        }
        if (requestData != null) {
            try {
                out.put("data", JSON.readTree(requestData));
            } catch (IOException templatedJson) {
                out.put("data", requestData);
            }
        }
        if (!headers.asGiven().isEmpty()) {
            out.put("metadata", headers.forReport());
        }
        if (options.name != null) {
            out.put("name", options.name);
        }
        out.put("CPUs", Runtime.getRuntime().availableProcessors());
        return out;
    }
}
