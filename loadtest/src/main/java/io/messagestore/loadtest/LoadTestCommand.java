package io.messagestore.loadtest;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.Descriptors;
import com.google.protobuf.DynamicMessage;
import io.grpc.ManagedChannel;
import io.messagestore.loadtest.call.Channels;
import io.messagestore.loadtest.call.ConnectionOptions;
import io.messagestore.loadtest.call.GenericCallLauncher;
import io.messagestore.loadtest.call.MetadataSource;
import io.messagestore.loadtest.call.MethodResolver;
import io.messagestore.loadtest.call.RawMarshallers;
import io.messagestore.loadtest.call.RequestSource;
import io.messagestore.loadtest.call.ToolWarmup;
import io.messagestore.loadtest.lag.PersistenceLagMeter;
import io.messagestore.loadtest.report.Comparison;
import io.messagestore.loadtest.report.CsvReportWriter;
import io.messagestore.loadtest.report.HtmlReportWriter;
import io.messagestore.loadtest.report.JsonReportWriter;
import io.messagestore.loadtest.report.Report;
import io.messagestore.loadtest.report.RunStats;
import io.messagestore.loadtest.report.SummaryWriter;
import io.messagestore.loadtest.run.CallLauncher;
import io.messagestore.loadtest.run.LoadProfile;
import io.messagestore.loadtest.run.LoadRunner;
import io.messagestore.loadtest.run.RunOutcome;
import io.messagestore.loadtest.scenario.Mix;
import io.messagestore.loadtest.scenario.MixedScenario;
import io.messagestore.loadtest.watch.MessageIds;
import io.messagestore.loadtest.watch.WatchFleet;
import io.messagestore.api.v1.MessageStoreGrpc;
import io.messagestore.api.v1.SendMessageRequest;
import io.messagestore.api.v1.WatchThreadRequest;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStreamWriter;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * A ghz-compatible load tester for the MessageStore gateway: ghz's flags, ghz's report fields
 * and units, plus comparisons, a mixed scenario and persistence-lag measurement.
 */
@Command(name = "messagestore-loadtest", mixinStandardHelpOptions = true, version = "messagestore-loadtest 0.1.0",
        sortOptions = false, usageHelpAutoWidth = true,
        description = "Load-tests a gRPC server the way ghz does (same flags, same report).%n"
                + "Example: messagestore-loadtest --insecure --call grpc.health.v1.Health/Check -n 10000 -c 50 localhost:50051")
public final class LoadTestCommand implements Callable<Integer> {

    private static final ObjectMapper JSON = new ObjectMapper();

    @Parameters(index = "0", arity = "0..1", paramLabel = "HOST", description = "Target, e.g. localhost:50051.")
    String host;

    @Option(names = "--call", paramLabel = "METHOD",
            description = "Fully-qualified method, e.g. messagestore.v1.MessageStore/SendMessage.")
    String call;

    @Option(names = {"-d", "--data"}, paramLabel = "JSON",
            description = "Request data as JSON, @FILE to read it from a file, @ from stdin; a JSON array is sent "
                    + "round-robin. Templates: {{.RequestNumber}}, "
                    + "{{.WorkerID}}, {{newUUID}}, {{randomString N}}, {{randomInt MIN MAX}}, {{.TimestampUnix}}.")
    String data;

    @Option(names = {"-D", "--data-file"}, paramLabel = "FILE", description = "Read -d data from a file.")
    Path dataFile;

    @Option(names = {"-c", "--concurrency"}, defaultValue = "50", description = "Calls in flight at once (${DEFAULT-VALUE}).")
    int concurrency;

    @Option(names = {"-n", "--total"}, defaultValue = "200", description = "Calls to make (${DEFAULT-VALUE}); ignored with -z.")
    long total;

    @Option(names = {"-z", "--duration"}, paramLabel = "DURATION", converter = GoDuration.Converter.class,
            description = "Run for this long (e.g. 30s); -n is ignored. 0 = off, as in ghz.")
    Duration duration;

    @Option(names = "--duration-stop", defaultValue = "close", paramLabel = "close|wait|ignore",
            description = "At the end of -z: cancel calls in flight and record them (close), let them finish (wait), "
                    + "or cancel and drop them (ignore).")
    String durationStop;

    @Option(names = {"-r", "--rps"}, defaultValue = "0", description = "Calls started per second, 0 = no limit.")
    int rps;

    @Option(names = "--connections", defaultValue = "1", description = "Connections calls are spread over (${DEFAULT-VALUE}).")
    int connections;

    @Option(names = "--cpus", defaultValue = "0",
            description = "Event loop threads for the connections; 0 = one per connection, at most the CPU count.")
    int cpus;

    @Option(names = {"-t", "--timeout"}, defaultValue = "20s", paramLabel = "DURATION",
            converter = GoDuration.Converter.class, description = "Per-call deadline (${DEFAULT-VALUE}); 0 for none.")
    Duration timeout;

    @Option(names = "--connect-timeout", defaultValue = "10s", paramLabel = "DURATION",
            converter = GoDuration.Converter.class, description = "How long to wait for a connection (${DEFAULT-VALUE}).")
    Duration connectTimeout;

    @Option(names = {"-m", "--metadata"}, paramLabel = "JSON",
            description = "Request metadata as a JSON object, e.g. '{\"authorization\":\"Bearer TOKEN\"}', "
                    + "or @FILE to read it from a file.")
    String metadata;

    @Option(names = {"-M", "--metadata-file"}, paramLabel = "FILE", description = "Read -m metadata from a file.")
    Path metadataFile;

    @Option(names = "--insecure", description = "Plaintext (no TLS).")
    boolean insecure;

    @Option(names = "--cacert", paramLabel = "FILE", description = "CA certificates to trust.")
    Path caCert;

    @Option(names = "--cert", paramLabel = "FILE", description = "Client certificate (mutual TLS).")
    Path cert;

    @Option(names = "--key", paramLabel = "FILE", description = "Client private key (mutual TLS).")
    Path key;

    @Option(names = "--cname", description = "Server name to verify in the certificate.")
    String cname;

    @Option(names = "--skipTLS", description = "Do not verify the server certificate.")
    boolean skipTls;

    @Option(names = "--authority", description = ":authority to send.")
    String authority;

    @Option(names = "--protoset", paramLabel = "FILE", description = "Compiled FileDescriptorSet of other services.")
    Path protoset;

    @Option(names = "--skipFirst", defaultValue = "0", description = "Do not record the first N calls (warm-up).")
    long skipFirst;

    @Option(names = {"-O", "--format"}, defaultValue = "summary", paramLabel = "FORMAT",
            description = "summary, json, pretty, csv or html (${DEFAULT-VALUE}).")
    String format;

    @Option(names = {"-o", "--output"}, paramLabel = "FILE", description = "Write the report here instead of stdout.")
    Path output;

    @Option(names = "--name", description = "Name of the run, shown in the report.")
    String name;

    @Option(names = "--tags", paramLabel = "JSON", description = "Tags as a JSON object of strings.")
    String tags;

    @Option(names = "--details", description = "Keep every call's latency, status and error (json 'details'; implied by csv).")
    boolean details;

    @Option(names = "--progress", defaultValue = "auto", paramLabel = "auto|always|never",
            description = "Live progress line: auto shows it only when stdout is a terminal.")
    String progressMode;

    @Option(names = "--tool-warmup", defaultValue = "20000", paramLabel = "N",
            description = "Before the run, make N calls of the same kind to a loopback dummy inside this process, "
                    + "so the JIT has compiled the tool before the clock starts; the target sees none (${DEFAULT-VALUE}, 0 = off).")
    long toolWarmup;

    @Option(names = "--tool-warmup-time", defaultValue = "3s", paramLabel = "DURATION",
            converter = GoDuration.Converter.class, description = "Longest the tool warm-up may take (${DEFAULT-VALUE}).")
    Duration toolWarmupTime;

    @Option(names = "--compare", paramLabel = "METHOD",
            description = "Run this baseline call first with the same settings and report both and the ratios.")
    String compareCall;

    @Option(names = "--compare-data", paramLabel = "JSON",
            description = "Request data of the baseline, or @FILE (default: -d with unknown fields ignored).")
    String compareData;

    @Option(names = "--scenario", paramLabel = "mixed", description = "Run a scenario instead of one --call.")
    String scenario;

    @Option(names = "--mix", defaultValue = "send=60,get=25,list=10,watch=5", paramLabel = "OP=WEIGHT,...",
            description = "Operation proportions of --scenario mixed (${DEFAULT-VALUE}).")
    String mix;

    @Option(names = "--threads", defaultValue = "100", description = "Message threads the scenario spreads over (${DEFAULT-VALUE}).")
    int threads;

    @Option(names = "--content-size", defaultValue = "256", description = "Message content bytes in the scenario (${DEFAULT-VALUE}).")
    int contentSize;

    @Option(names = "--watch-hold", defaultValue = "1s", paramLabel = "DURATION", converter = GoDuration.Converter.class,
            description = "How long a scenario watcher keeps its stream open (${DEFAULT-VALUE}).")
    Duration watchHold;

    @Option(names = "--measure-persistence-lag",
            description = "Sample acknowledged messages and report the time until each is committed in PostgreSQL.")
    boolean measureLag;

    @Option(names = "--lag-source", defaultValue = "auto", paramLabel = "auto|watch|postgres",
            description = "watch: WatchThread MESSAGE_PERSISTED events; postgres: poll the messages table; "
                    + "auto: watch, falling back to postgres (${DEFAULT-VALUE}).")
    String lagSource;

    @Option(names = "--postgres-jdbc-url", paramLabel = "URL",
            description = "JDBC URL of the gateway's PostgreSQL, for --lag-source postgres.")
    String postgresJdbcUrl;

    @Option(names = "--lag-sample-every", defaultValue = "10", description = "Sample every Nth acknowledged message (${DEFAULT-VALUE}).")
    int lagSampleEvery;

    @Option(names = "--lag-wait", defaultValue = "10s", paramLabel = "DURATION", converter = GoDuration.Converter.class,
            description = "After the run, wait this long for sampled messages to be persisted (${DEFAULT-VALUE}).")
    Duration lagWait;

    @Option(names = "--streams", defaultValue = "0", paramLabel = "N",
            description = "With --call messagestore.v1.MessageStore/WatchThread: open N streams (request i from -d, "
                    + "{{.RequestNumber}} = i; --rps paces the opening), hold them for -z, and report events and "
                    + "delivery delay (${DEFAULT-VALUE} = ordinary calls).")
    int streams;

    @Option(names = "--watch-streams", defaultValue = "0", paramLabel = "N",
            description = "With --call messagestore.v1.MessageStore/SendMessage: N WatchThread streams on the run's "
                    + "threads, open before the run starts; reports their delivery delay (${DEFAULT-VALUE} = none).")
    int watchStreams;

    @Option(names = "--watch-host", paramLabel = "HOST",
            description = "Gateway the --watch-streams connect to (default: HOST), e.g. another instance.")
    String watchHost;

    @Option(names = "--watch-data", paramLabel = "JSON",
            description = "WatchThreadRequests of the --watch-streams, or @FILE (default: -d with unknown fields ignored).")
    String watchData;

    @Option(names = "--watch-drain", defaultValue = "5s", paramLabel = "DURATION", converter = GoDuration.Converter.class,
            description = "After the run, wait for the watchers' last events until 200 ms pass without one, "
                    + "at most this long (${DEFAULT-VALUE}).")
    Duration watchDrain;

    @Spec
    CommandSpec spec;

    private final InputStream stdin;
    private final PrintStream stdout;
    private final AtomicReference<LoadRunner> activeRunner = new AtomicReference<>();
    /** Ends a --streams hold early (Ctrl-C). */
    private final java.util.concurrent.CountDownLatch holdInterrupted = new java.util.concurrent.CountDownLatch(1);
    private java.util.concurrent.ScheduledExecutorService dispatchLoop;

    public LoadTestCommand() {
        this(System.in, System.out);
    }

    LoadTestCommand(InputStream stdin, PrintStream stdout) {
        this.stdin = stdin;
        this.stdout = stdout;
    }

    public static void main(String[] args) {
        System.exit(run(args, System.in, System.out, System.err));
    }

    /** Runs the command and returns the exit status: 0 done, 1 could not run, 2 bad flags. */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        return run(args, System.in, out, err);
    }

    /** As {@link #run(String[], PrintStream, PrintStream)}, with "-d @" reading {@code in}. */
    public static int run(String[] args, InputStream in, PrintStream out, PrintStream err) {
        LoadTestCommand command = new LoadTestCommand(in, out);
        CommandLine commandLine = new CommandLine(command);
        // "@file" is ghz's way to give -m and -d a file; picocli would otherwise splice the
        // file's words into the command line (and echo them, token included, in its error)
        commandLine.setExpandAtFiles(false);
        commandLine.setOut(new PrintWriter(new OutputStreamWriter(out, StandardCharsets.UTF_8), true));
        commandLine.setErr(new PrintWriter(new OutputStreamWriter(err, StandardCharsets.UTF_8), true));
        commandLine.setParameterExceptionHandler(new UsageErrorHandler());
        commandLine.setExecutionExceptionHandler((e, cl, parsed) -> {
            if (e instanceof LoadTestException || e instanceof IllegalArgumentException) {
                // one line, always: scripts and CI logs show the reason next to the exit status
                cl.getErr().println("error: " + UsageErrorHandler.oneLine(e.getMessage()));
                return 1;
            }
            cl.getErr().println("error: " + e);
            e.printStackTrace(new PrintWriter(cl.getErr(), true));
            return 1;
        });
        return commandLine.execute(args);
    }

    @Override
    public Integer call() throws Exception {
        OptionChecks.check(this, spec.commandLine());
        ConnectionOptions connection = new ConnectionOptions(host, insecure, caCert, cert, key, cname, skipTls,
                authority, connections, connectTimeout);
        LoadProfile profile = new LoadProfile(concurrency, total, runDuration(), rps, skipFirst, timeout,
                LoadProfile.DurationStop.valueOf(durationStop.toUpperCase(Locale.ROOT)));
        MetadataSource headers = headers();
        String requestData = dataFile != null ? OptionText.read("-D", dataFile) : OptionText.resolve("-d", data, stdin);
        String baselineData = OptionText.resolve("--compare-data", compareData, stdin);

        int eventLoops = cpus > 0 ? cpus : Math.min(connections, Runtime.getRuntime().availableProcessors());
        Channels.ChannelSet channelSet = Channels.open(connection, eventLoops);
        List<ManagedChannel> channels = channelSet.channels();
        this.dispatchLoop = channelSet.eventLoops().next();
        Thread onInterrupt = new Thread(() -> {
            LoadRunner runner = activeRunner.get();
            holdInterrupted.countDown();
            if (runner != null || streams > 0) {
                if (runner != null) {
                    runner.cancel();
                }
                try {
                    Thread.sleep(1500); // let the report be written
                } catch (InterruptedException ignored) {
                    Thread.currentThread().interrupt();
                }
            }
        });
        Runtime.getRuntime().addShutdownHook(onInterrupt);
        try {
            MethodResolver resolver = MethodResolver.withProjectDescriptors();
            if (protoset != null) {
                resolver = resolver.withProtoset(protoset);
            }
            if ("mixed".equals(scenario)) {
                Channels.awaitReady(channels, connection, headers.headers(0, "c0w0"));
                Report report = runScenario(channels, profile, headers);
                writeReport(report);
                return 0;
            }
            // an unknown method of a known service fails here, before any connection is needed
            resolver.resolveLocally(call);
            Channels.awaitReady(channels, connection, headers.headers(0, "c0w0"));
            if (streams > 0) {
                writeReport(runStreams(channels, profile, headers, requestData));
                return 0;
            }
            Descriptors.MethodDescriptor target = resolver.resolve(call, channels.get(0),
                    headers.headers(0, "c0w0"), connectTimeout);
            if (compareCall != null) {
                Descriptors.MethodDescriptor baseline = resolver.resolve(compareCall, channels.get(0),
                        headers.headers(0, "c0w0"), connectTimeout);
                // bad target data must fail before the baseline has run, not after
                RequestSource.compile(requestData, target.getInputType(), false);
                Report baselineReport = runCall(channels, profile, headers, baseline,
                        baselineData != null ? baselineData : requestData, baselineData == null, compareCall, false);
                Report targetReport = runCall(channels, profile, headers, target, requestData, false, call,
                        measureLag);
                writeComparison(new Comparison(baselineReport, targetReport));
            } else if (watchStreams > 0) {
                writeReport(runWatched(connection, eventLoops, channels, profile, headers, target, requestData));
            } else {
                writeReport(runCall(channels, profile, headers, target, requestData, false, call, measureLag));
            }
            return 0;
        } finally {
            try {
                Runtime.getRuntime().removeShutdownHook(onInterrupt);
            } catch (IllegalStateException shuttingDown) {
                // the hook is running: Ctrl-C
            }
            channelSet.close();
        }
    }

    private MetadataSource headers() {
        if (metadataFile != null) {
            return MetadataSource.parse(OptionText.read("-M", metadataFile), "-M metadata file " + metadataFile);
        }
        boolean fromFile = metadata != null && metadata.startsWith("@");
        return MetadataSource.parse(OptionText.resolve("-m", metadata, stdin),
                fromFile ? "-m metadata file " + metadata.substring(1) : "-m metadata");
    }

    /** ghz: -z 0 (its default) means no duration. */
    Duration runDuration() {
        return duration == null || duration.isZero() ? null : duration;
    }

    private Report runCall(List<ManagedChannel> channels, LoadProfile profile, MetadataSource headers,
                           Descriptors.MethodDescriptor method, String requestData, boolean ignoreUnknownFields,
                           String callName, boolean withLag) throws Exception {
        return runCall(channels, profile, headers, method, requestData, ignoreUnknownFields, callName, withLag,
                requests -> { });
    }

    /** As above; {@code beforeRun} gets the run's requests after the tool's warm-up, right before the run. */
    private Report runCall(List<ManagedChannel> channels, LoadProfile profile, MetadataSource headers,
                           Descriptors.MethodDescriptor method, String requestData, boolean ignoreUnknownFields,
                           String callName, boolean withLag, BeforeRun beforeRun) throws Exception {
        RequestSource requests = RequestSource.compile(requestData, method.getInputType(), ignoreUnknownFields);
        PersistenceLagMeter lag = null;
        GenericCallLauncher.ResponseObserver observer = null;
        if (withLag) {
            if (!method.getOutputType().getFullName().equals("messagestore.v1.SendMessageResponse")) {
                throw new LoadTestException("--measure-persistence-lag needs --call messagestore.v1.MessageStore/SendMessage");
            }
            lag = newLagMeter(channels, headers);
            PersistenceLagMeter meter = lag;
            observer = (worker, response) -> meter.onSendResponse((DynamicMessage) response);
        }
        GenericCallLauncher launcher = new GenericCallLauncher(RawMarshallers.methodOf(method, withLag), requests,
                headers, profile.callTimeout().toNanos(), observer);
        ToolWarmup.run(toolWarmup, toolWarmupTime, profile.concurrency(), () -> new GenericCallLauncher(
                RawMarshallers.methodOf(method, withLag), requests, headers, profile.callTimeout().toNanos(), null));
        beforeRun.accept(requests);
        Map<String, Object> options = reportOptions(profile, callName, requestData, headers);
        Report report = execute(channels, profile, launcher, options, new RunStats(keepDetails(), seriesInterval(profile)));
        if (lag != null) {
            report = report.withPersistenceLag(lag.finish(lagWait));
        }
        return report;
    }

    @FunctionalInterface
    private interface BeforeRun {
        void accept(RequestSource requests) throws Exception;
    }

    /**
     * --watch-streams: a SendMessage run with WatchThread streams on its threads, on this
     * gateway or --watch-host. Each watched thread first gets one message (the run's first
     * request, sent to that thread), and the streams resume from just before it: its replay is
     * each stream's first event, which proves the stream is live before the clock starts, and
     * it makes sure the thread exists (a watch of an unknown thread is NOT_FOUND).
     */
    private Report runWatched(ConnectionOptions connection, int eventLoops, List<ManagedChannel> channels,
                              LoadProfile profile, MetadataSource headers, Descriptors.MethodDescriptor method,
                              String requestData) throws Exception {
        String watchRequests = OptionText.resolve("--watch-data", watchData, stdin);
        RequestSource watches = RequestSource.compile(watchRequests != null ? watchRequests : requestData,
                WatchThreadRequest.getDescriptor(), watchRequests == null);
        boolean elsewhere = watchHost != null && !watchHost.equals(host);
        Channels.ChannelSet watchChannels = elsewhere ? Channels.open(connection.withHost(watchHost), eventLoops) : null;
        WatchFleet fleet = null;
        try {
            List<ManagedChannel> watchVia = watchChannels != null ? watchChannels.channels() : channels;
            if (watchChannels != null) {
                Channels.awaitReady(watchVia, connection.withHost(watchHost), headers.headers(0, "s0"));
            }
            WatchFleet opened = new WatchFleet(watchVia, headers, new RunStats(false, seriesInterval(profile)));
            fleet = opened;
            Report report = runCall(channels, profile, headers, method, requestData, false, call, measureLag,
                    sends -> openWatchers(opened, watches, sends, channels.get(0), headers, profile));
            opened.drain(watchDrain);
            return report.withWatch(opened.finish().delivery());
        } finally {
            if (fleet != null) {
                fleet.close();
            }
            if (watchChannels != null) {
                watchChannels.close();
            }
        }
    }

    private void openWatchers(WatchFleet fleet, RequestSource watches, RequestSource sends, ManagedChannel sendVia,
                              MetadataSource headers, LoadProfile profile) throws Exception {
        String before = MessageIds.lowerBound(System.currentTimeMillis() - 1);
        List<byte[]> requests = new java.util.ArrayList<>(watchStreams);
        java.util.Set<String> threads = new java.util.LinkedHashSet<>();
        for (int i = 0; i < watchStreams; i++) {
            WatchThreadRequest request = WatchThreadRequest.parseFrom(watches.request(i, "s" + i));
            threads.add(request.getThreadId());
            requests.add(request.getAfterMessageId().isEmpty()
                    ? request.toBuilder().setAfterMessageId(before).build().toByteArray() : request.toByteArray());
        }
        SendMessageRequest first = SendMessageRequest.parseFrom(sends.request(0, "seed"));
        io.grpc.Channel seedVia = io.grpc.ClientInterceptors.intercept(sendVia,
                io.grpc.stub.MetadataUtils.newAttachHeadersInterceptor(headers.headers(0, "seed")));
        for (String thread : threads) {
            try {
                MessageStoreGrpc.newBlockingStub(seedVia).withDeadlineAfter(connectTimeout.toMillis(), TimeUnit.MILLISECONDS)
                        .sendMessage(first.toBuilder().setThreadId(thread).clearIdempotencyKey().build());
            } catch (io.grpc.StatusRuntimeException e) {
                throw new LoadTestException("cannot start the watched thread '" + thread + "' with a SendMessage: "
                        + e.getStatus().getCode() + " " + e.getStatus().getDescription());
            }
        }
        fleet.open(requests, 0);
        Duration wait = profile.callTimeout().isZero() ? Duration.ofSeconds(20) : profile.callTimeout();
        long silent = fleet.awaitFirstEvents(wait);
        if (silent > 0) {
            System.err.printf("warning: %d of %d watch streams had no event within %d ms; the run starts anyway%n",
                    silent, watchStreams, wait.toMillis());
        }
        fleet.measureFrom(fleet.epochNanos());
    }

    /** --streams: WatchThread streams held for -z, reported as calls plus their events and delivery delay. */
    private Report runStreams(List<ManagedChannel> channels, LoadProfile profile, MetadataSource headers,
                              String requestData) throws Exception {
        RequestSource requests = RequestSource.compile(requestData, WatchThreadRequest.getDescriptor(), false);
        List<byte[]> each = new java.util.ArrayList<>(streams);
        for (int i = 0; i < streams; i++) {
            each.add(requests.request(i, "s" + i));
        }
        java.time.Instant date = java.time.Instant.now();
        long start = System.nanoTime();
        try (WatchFleet fleet = new WatchFleet(channels, headers, new RunStats(keepDetails(), seriesInterval(profile)))) {
            fleet.measureFrom(fleet.epochNanos());
            fleet.open(each, profile.rps());
            boolean interrupted = holdInterrupted.await(
                    Math.max(0, profile.duration().toNanos() - (System.nanoTime() - start)), TimeUnit.NANOSECONDS);
            WatchFleet.Finished finished = fleet.finish();
            Map<String, Object> options = reportOptions(profile, call, requestData, headers);
            options.put("streams", streams);
            return Report.from(finished.streams(), name, interrupted ? "cancel" : "timeout", date, options,
                    System.nanoTime() - start, OptionChecks.tags(tags, spec.commandLine()), null)
                    .withWatch(finished.delivery());
        }
    }

    private Report runScenario(List<ManagedChannel> channels, LoadProfile profile, MetadataSource headers)
            throws Exception {
        MixedScenario mixed = new MixedScenario(Mix.parse(mix), threads, contentSize, headers,
                profile.callTimeout(), watchHold, keepDetails(), seriesInterval(profile));
        PersistenceLagMeter lag = measureLag ? newLagMeter(channels, headers) : null;
        if (lag != null) {
            mixed.onAcknowledged(lag::onAcknowledged);
        }
        mixed.seed(channels.get(0));
        Map<String, Object> options = reportOptions(profile, "scenario:mixed", null, headers);
        options.put("mix", mix);
        options.put("threads", threads);
        Report report = execute(channels, profile, mixed, options, new RunStats(keepDetails(), seriesInterval(profile)),
                mixed.operationStats().values());
        Map<String, Report> byOperation = new LinkedHashMap<>();
        for (Map.Entry<String, RunStats> op : mixed.operationStats().entrySet()) {
            RunStats.Snapshot snapshot = op.getValue().finish(System.nanoTime());
            byOperation.put(op.getKey(), Report.from(snapshot, op.getKey(), report.endReason(), report.date(),
                    Map.of("operation", op.getKey()), report.totalNanos(), Map.of(), null));
        }
        report = report.withOperations(byOperation);
        if (lag != null) {
            report = report.withPersistenceLag(lag.finish(lagWait));
        }
        return report;
    }

    private PersistenceLagMeter newLagMeter(List<ManagedChannel> channels, MetadataSource headers) {
        return PersistenceLagMeter.start(lagSource, postgresJdbcUrl, lagSampleEvery, channels.get(0),
                headers.headers(0, "c0w0"));
    }

    private Report execute(List<ManagedChannel> channels, LoadProfile profile, CallLauncher launcher,
                           Map<String, Object> options, RunStats stats) {
        return execute(channels, profile, launcher, options, stats, List.of());
    }

    private Report execute(List<ManagedChannel> channels, LoadProfile profile, CallLauncher launcher,
                           Map<String, Object> options, RunStats stats, java.util.Collection<RunStats> alsoSampled) {
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
        return Report.from(outcome.stats(), name, outcome.endReason(), outcome.date(), options, outcome.totalNanos(),
                OptionChecks.tags(tags, spec.commandLine()), outcome.cpuPerCallMicros());
    }

    private boolean showProgress() {
        return switch (progressMode) {
            case "always" -> true;
            case "never" -> false;
            // Java 17: console() is non-null only when stdin and stdout are both terminals
            default -> stdout == System.out && System.console() != null;
        };
    }

    private boolean keepDetails() {
        return details || format.equals("csv");
    }

    /** About 300 points per chart for -z runs; 200 ms steps for -n runs (merged if they get long). */
    private static long seriesInterval(LoadProfile profile) {
        if (profile.duration() != null) {
            return Math.max(TimeUnit.MILLISECONDS.toNanos(100), profile.duration().toNanos() / 300);
        }
        return TimeUnit.MILLISECONDS.toNanos(200);
    }

    private Map<String, Object> reportOptions(LoadProfile profile, String callName, String requestData,
                                              MetadataSource headers) {
        // ghz's option names, durations in nanoseconds
        Map<String, Object> options = new LinkedHashMap<>();
        options.put("call", callName);
        options.put("host", host);
        options.put("insecure", insecure);
        if (skipTls) {
            options.put("skipTLS", true);
        }
        if (cname != null) {
            options.put("cname", cname);
        }
        if (profile.duration() == null) {
            options.put("total", profile.total());
        } else {
            options.put("duration", profile.duration().toNanos());
        }
        options.put("concurrency", profile.concurrency());
        options.put("connections", connections);
        if (profile.rps() > 0) {
            options.put("rps", profile.rps());
        }
        options.put("timeout", profile.callTimeout().toNanos());
        if (profile.skipFirst() > 0) {
            options.put("skipFirst", profile.skipFirst());
        }
        if (requestData != null) {
            try {
                options.put("data", JSON.readTree(requestData));
            } catch (IOException templatedJson) {
                options.put("data", requestData);
            }
        }
        if (!headers.asGiven().isEmpty()) {
            options.put("metadata", headers.forReport());
        }
        if (name != null) {
            options.put("name", name);
        }
        options.put("CPUs", Runtime.getRuntime().availableProcessors());
        return options;
    }

    private void writeReport(Report report) {
        try (Writer out = openOutput()) {
            switch (format) {
                case "json" -> JsonReportWriter.write(report, out, false);
                case "pretty" -> JsonReportWriter.write(report, out, true);
                case "csv" -> CsvReportWriter.write(report, new PrintWriter(out));
                case "html" -> HtmlReportWriter.write(report, out);
                default -> SummaryWriter.write(report, new PrintWriter(out));
            }
        } catch (IOException e) {
            throw LoadTestException.io("cannot write the report to " + (output != null ? output : "stdout"), e);
        }
    }

    private void writeComparison(Comparison comparison) {
        try (Writer out = openOutput()) {
            switch (format) {
                case "json" -> JsonReportWriter.write(comparison, out, false);
                case "pretty" -> JsonReportWriter.write(comparison, out, true);
                case "csv" -> CsvReportWriter.write(comparison.target(), new PrintWriter(out));
                case "html" -> HtmlReportWriter.write(comparison, out);
                default -> SummaryWriter.write(comparison, new PrintWriter(out));
            }
        } catch (IOException e) {
            throw LoadTestException.io("cannot write the report to " + (output != null ? output : "stdout"), e);
        }
    }

    private Writer openOutput() throws IOException {
        if (output != null) {
            if (output.getParent() != null) {
                Files.createDirectories(output.getParent());
            }
            return Files.newBufferedWriter(output, StandardCharsets.UTF_8);
        }
        // do not close stdout with the writer
        return new OutputStreamWriter(stdout, StandardCharsets.UTF_8) {
            @Override
            public void close() throws IOException {
                flush();
            }
        };
    }
}
