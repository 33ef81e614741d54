package io.messagestore.loadtest.call;

import io.grpc.HandlerRegistry;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerMethodDefinition;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ServerCalls;
import io.messagestore.loadtest.report.RunStats;
import io.messagestore.loadtest.run.LoadProfile;
import io.messagestore.loadtest.run.LoadRunner;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Warms this tool up before the measured run. A cold JVM interprets its first thousands of
 * calls and compiles the hot path while the clock runs: at a fixed --rps that showed up as
 * hundreds of milliseconds of "latency" that was the tool, not the server. So the exact call
 * path of the run (same method descriptor, request data, headers, engine, recording) is first
 * exercised against a throw-away loopback server inside this process that answers every
 * method with an empty message. The target server sees none of it.
 */
public final class ToolWarmup {

    private ToolWarmup() {
    }

    /** Makes {@code calls} calls (at most {@code budget} long) through {@code launcherFactory}'s launcher. */
    public static void run(long calls, Duration budget, int concurrency, LauncherFactory launcherFactory) {
        if (calls <= 0) {
            return;
        }
        Server server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
                .directExecutor()
                .fallbackHandlerRegistry(new AnswerEverything())
                .build();
        try {
            server.start();
        } catch (IOException e) {
            return; // no loopback port: run cold rather than not at all
        }
        Channels.ChannelSet channels = Channels.open(ConnectionOptions.plaintext("127.0.0.1:" + server.getPort()), 1);
        try {
            // closed loop, no rate limit: as many calls as the budget allows, up to the count
            LoadProfile profile = new LoadProfile(Math.max(1, Math.min(concurrency, 16)), calls, null, 0, 0,
                    Duration.ofSeconds(5), LoadProfile.DurationStop.IGNORE);
            LoadRunner runner = new LoadRunner(profile, channels.channels(),
                    launcherFactory.launcher(), new RunStats(false, TimeUnit.SECONDS.toNanos(1)), null);
            Thread guard = new Thread(() -> {
                try {
                    Thread.sleep(budget.toMillis());
                    runner.cancel();
                } catch (InterruptedException ignored) {
                    // finished in time
                }
            }, "loadtest-warmup-guard");
            guard.setDaemon(true);
            guard.start();
            runner.run();
            guard.interrupt();
        } finally {
            channels.close();
            server.shutdownNow();
        }
    }

    /** Builds the launcher of the real run, without observers that would see warm-up answers. */
    @FunctionalInterface
    public interface LauncherFactory {
        io.messagestore.loadtest.run.CallLauncher launcher();
    }

    /** Answers any unary or server-streaming call with one empty message. */
    private static final class AnswerEverything extends HandlerRegistry {
        private static final byte[] EMPTY = new byte[0];
        private final Map<String, ServerMethodDefinition<?, ?>> methods = new ConcurrentHashMap<>();

        @Override
        public ServerMethodDefinition<?, ?> lookupMethod(String methodName, String authority) {
            return methods.computeIfAbsent(methodName, name -> ServerMethodDefinition.create(
                    MethodDescriptor.newBuilder(RawMarshallers.BYTES, RawMarshallers.BYTES)
                            .setType(MethodDescriptor.MethodType.UNARY)
                            .setFullMethodName(name)
                            .build(),
                    ServerCalls.asyncUnaryCall((request, responses) -> {
                        responses.onNext(EMPTY);
                        responses.onCompleted();
                    })));
        }

        @Override
        public List<io.grpc.ServerServiceDefinition> getServices() {
            return List.of();
        }
    }
}
