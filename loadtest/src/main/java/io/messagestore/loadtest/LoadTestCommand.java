package io.messagestore.loadtest;

import com.google.protobuf.Descriptors;
import io.grpc.ManagedChannel;
import io.messagestore.loadtest.call.Channels;
import io.messagestore.loadtest.call.ConnectionOptions;
import io.messagestore.loadtest.call.MetadataSource;
import io.messagestore.loadtest.call.MethodResolver;
import io.messagestore.loadtest.call.RequestSource;
import io.messagestore.loadtest.report.Comparison;
import io.messagestore.loadtest.report.Report;
import io.messagestore.loadtest.run.LoadProfile;
import java.io.InputStream;
import java.io.OutputStreamWriter;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * A ghz-compatible load tester for the MessageStore gateway: ghz's flags, ghz's report fields
 * and units, plus comparisons, a mixed scenario and persistence-lag measurement.
 *
 * <p>This class is the command line: its options (checked together by {@link OptionChecks}),
 * the channels, and which run the options ask for. The runs are {@link CallRuns} (a method, a
 * comparison, the mixed scenario) and {@link WatchRuns} (streams held, or a watched send run);
 * {@link ReportOutput} writes their report.
 */
@Command(name = "messagestore-loadtest", mixinStandardHelpOptions = true, version = "messagestore-loadtest 0.1.0",
        sortOptions = false, usageHelpAutoWidth = true,
        description = "Load-tests a gRPC server the way ghz does (same flags, same report).%n"
                + "Example: messagestore-loadtest --insecure --call grpc.health.v1.Health/Check -n 10000 -c 50 localhost:50051")
public final class LoadTestCommand implements Callable<Integer> {

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
        ReportOutput report = new ReportOutput(format, output, stdout);

        int eventLoops = cpus > 0 ? cpus : Math.min(connections, Runtime.getRuntime().availableProcessors());
        Channels.ChannelSet channelSet = Channels.open(connection, eventLoops);
        List<ManagedChannel> channels = channelSet.channels();
        CallRuns runs = new CallRuns(this, channels, profile, headers, channelSet.eventLoops().next(), stdout);
        WatchRuns watchRuns = new WatchRuns(this, runs, stdin);
        Thread onInterrupt = new Thread(() -> {
            watchRuns.interruptHold();
            if (runs.cancel() || streams > 0) {
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
                report.write(runs.runScenario());
                return 0;
            }
            // an unknown method of a known service fails here, before any connection is needed
            resolver.resolveLocally(call);
            Channels.awaitReady(channels, connection, headers.headers(0, "c0w0"));
            if (streams > 0) {
                report.write(watchRuns.runStreams(requestData));
                return 0;
            }
            Descriptors.MethodDescriptor target = resolver.resolve(call, channels.get(0),
                    headers.headers(0, "c0w0"), connectTimeout);
            if (compareCall != null) {
                Descriptors.MethodDescriptor baseline = resolver.resolve(compareCall, channels.get(0),
                        headers.headers(0, "c0w0"), connectTimeout);
                // bad target data must fail before the baseline has run, not after
                RequestSource.compile(requestData, target.getInputType(), false);
                Report baselineReport = runs.runCall(baseline, baselineData != null ? baselineData : requestData,
                        baselineData == null, compareCall, false);
                Report targetReport = runs.runCall(target, requestData, false, call, measureLag);
                report.write(new Comparison(baselineReport, targetReport));
            } else if (watchStreams > 0) {
                report.write(watchRuns.runWatched(connection, eventLoops, target, requestData));
            } else {
                report.write(runs.runCall(target, requestData, false, call, measureLag));
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
}
