package io.messagestore.loadtest.scenario;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptors;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.MetadataUtils;
import io.messagestore.api.v1.GetMessageRequest;
import io.messagestore.api.v1.GetThreadStatsRequest;
import io.messagestore.api.v1.ListMessagesRequest;
import io.messagestore.api.v1.MessageStoreGrpc;
import io.messagestore.api.v1.Role;
import io.messagestore.api.v1.SendMessageRequest;
import io.messagestore.api.v1.SendMessageResponse;
import io.messagestore.api.v1.WatchThreadRequest;
import io.messagestore.loadtest.call.MetadataSource;
import io.messagestore.loadtest.report.RunStats;
import io.messagestore.loadtest.run.CallLauncher;
import io.messagestore.loadtest.run.Worker;
import java.io.PrintStream;
import java.time.Duration;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * {@code --scenario mixed}: sends, hot reads (GetMessage of a recently sent id), list pages
 * and watchers, in the proportions of a {@link Mix}, all against one population of threads
 * and one pool of -c workers. Operations the gateway does not have yet simply show up as
 * UNIMPLEMENTED in their per-operation report; the run goes on.
 *
 * <p>A watcher op opens WatchThread and completes (is measured) when the subscription is
 * established: response headers, the first event, or the end of the stream. The stream then
 * stays open for {@code --watch-hold} in the background, like a real subscriber, without
 * holding a worker.
 */
public final class MixedScenario implements CallLauncher {

    /** Told about every acknowledged send (for the persistence-lag meter). */
    @FunctionalInterface
    public interface AckListener {
        void onAcknowledged(String threadId, String messageId);
    }

    private final Mix mix;
    private final String[] threadIds;
    private final AtomicReferenceArray<String> lastMessageIds;
    private final String content;
    private final MetadataSource metadata;
    private final long timeoutNanos;
    private final long watchHoldNanos;
    private final Map<Mix.Operation, RunStats> stats = new EnumMap<>(Mix.Operation.class);
    private final ScheduledExecutorService watchCloser;
    private volatile AckListener ackListener;

    public MixedScenario(Mix mix, int threads, int contentSize, MetadataSource metadata, Duration callTimeout,
                         Duration watchHold, boolean keepDetails, long seriesIntervalNanos) {
        if (threads < 1) {
            throw new IllegalArgumentException("--threads must be at least 1");
        }
        this.mix = mix;
        String run = Long.toHexString(ThreadLocalRandom.current().nextLong() & 0xffffffffL);
        this.threadIds = new String[threads];
        for (int i = 0; i < threads; i++) {
            threadIds[i] = "lt-" + run + "-" + i;
        }
        this.lastMessageIds = new AtomicReferenceArray<>(threads);
        StringBuilder text = new StringBuilder(contentSize);
        for (int i = 0; i < Math.max(1, contentSize); i++) {
            text.append((char) ('a' + ThreadLocalRandom.current().nextInt(26)));
        }
        this.content = text.toString();
        this.metadata = metadata;
        this.timeoutNanos = callTimeout.toNanos();
        this.watchHoldNanos = watchHold.toNanos();
        for (Mix.Operation op : mix.weights().keySet()) {
            stats.put(op, new RunStats(keepDetails, seriesIntervalNanos));
        }
        this.watchCloser = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "loadtest-watch-closer");
            t.setDaemon(true);
            return t;
        });
    }

    public void onAcknowledged(AckListener listener) {
        this.ackListener = listener;
    }

    /**
     * Sends one message to every thread before the run, so that hot reads have ids to read.
     * These calls are not part of the report. Prints a warning when sends fail.
     */
    public void seed(Channel channel) {
        seed(channel, System.err);
    }

    void seed(Channel channel, PrintStream warnings) {
        Channel withHeaders = ClientInterceptors.intercept(channel,
                MetadataUtils.newAttachHeadersInterceptor(metadata.headers(0, "seed")));
        Status firstFailure = null;
        for (int i = 0; i < threadIds.length; i++) {
            try {
                SendMessageResponse response = ClientCalls.blockingUnaryCall(withHeaders,
                        MessageStoreGrpc.getSendMessageMethod(),
                        CallOptions.DEFAULT.withDeadlineAfter(timeoutNanos, TimeUnit.NANOSECONDS), sendRequest(i));
                lastMessageIds.set(i, response.getMessage().getMessageId());
            } catch (StatusRuntimeException e) {
                if (firstFailure == null) {
                    firstFailure = e.getStatus();
                }
            }
        }
        if (firstFailure != null) {
            warnings.println("warning: seeding threads with SendMessage failed (" + firstFailure.getCode() + " "
                    + firstFailure.getDescription() + "); hot reads will ask for unknown ids");
        }
    }

    /** Per-operation stats, named by operation ("send", "get", ...). */
    public Map<String, RunStats> operationStats() {
        Map<String, RunStats> named = new LinkedHashMap<>();
        stats.forEach((op, s) -> named.put(op.name().toLowerCase(), s));
        return named;
    }

    private SendMessageRequest sendRequest(int thread) {
        return SendMessageRequest.newBuilder()
                .setThreadId(threadIds[thread])
                .setRole(Role.ROLE_USER)
                .setContent(content)
                .build();
    }

    private CallOptions callOptions() {
        return timeoutNanos > 0 ? CallOptions.DEFAULT.withDeadlineAfter(timeoutNanos, TimeUnit.NANOSECONDS)
                : CallOptions.DEFAULT;
    }

    @Override
    public void start(Worker worker) {
        long n = worker.requestNumber();
        Mix.Operation op = mix.operationOf(n);
        int thread = ThreadLocalRandom.current().nextInt(threadIds.length);
        Metadata headers = metadata.headers(n, worker.id());
        RunStats opStats = stats.get(op);
        switch (op) {
            case SEND -> unary(worker, MessageStoreGrpc.getSendMessageMethod(), sendRequest(thread), headers, opStats,
                    response -> {
                        String id = response.getMessage().getMessageId();
                        lastMessageIds.set(thread, id);
                        AckListener listener = ackListener;
                        if (listener != null) {
                            listener.onAcknowledged(threadIds[thread], id);
                        }
                    });
            case GET -> {
                String id = lastMessageIds.get(thread);
                unary(worker, MessageStoreGrpc.getGetMessageMethod(), GetMessageRequest.newBuilder()
                        .setThreadId(threadIds[thread])
                        .setMessageId(id != null ? id : "00000000-0000-7000-8000-000000000000")
                        .build(), headers, opStats, null);
            }
            case LIST -> unary(worker, MessageStoreGrpc.getListMessagesMethod(), ListMessagesRequest.newBuilder()
                    .setThreadId(threadIds[thread]).setPageSize(50).setNewestFirst(true).build(), headers, opStats, null);
            case WATCH -> watch(worker, WatchThreadRequest.newBuilder().setThreadId(threadIds[thread]).build(),
                    headers, opStats);
            case STATS -> unary(worker, MessageStoreGrpc.getGetThreadStatsMethod(), GetThreadStatsRequest.newBuilder()
                    .setThreadId(threadIds[thread]).build(), headers, opStats, null);
            default -> throw new IllegalStateException(op.toString());
        }
    }

    private <Q, R> void unary(Worker worker, MethodDescriptor<Q, R> method, Q request, Metadata headers,
                              RunStats opStats, java.util.function.Consumer<R> onResponse) {
        ClientCall<Q, R> call = worker.channel().newCall(method, callOptions());
        worker.track(call);
        call.start(new ClientCall.Listener<>() {
            @Override
            public void onMessage(R message) {
                if (onResponse != null) {
                    onResponse.accept(message);
                }
            }

            @Override
            public void onClose(Status status, Metadata trailers) {
                worker.complete(status, opStats);
            }
        }, headers);
        call.request(2);
        call.sendMessage(request);
        call.halfClose();
    }

    private void watch(Worker worker, WatchThreadRequest request, Metadata headers, RunStats opStats) {
        // no per-call deadline: the watcher's life is --watch-hold
        ClientCall<WatchThreadRequest, io.messagestore.api.v1.ThreadEvent> call =
                worker.channel().newCall(MessageStoreGrpc.getWatchThreadMethod(), CallOptions.DEFAULT);
        worker.track(call);
        WatchListener listener = new WatchListener(worker, opStats);
        call.start(listener, headers);
        call.request(Integer.MAX_VALUE);
        call.sendMessage(request);
        call.halfClose();
        watchCloser.schedule(() -> {
            listener.closedByUs = true;
            call.cancel("watch hold over", null);
        }, watchHoldNanos, TimeUnit.NANOSECONDS);
    }

    private static final class WatchListener extends ClientCall.Listener<io.messagestore.api.v1.ThreadEvent> {
        private final Worker worker;
        private final RunStats opStats;
        private boolean measured;
        volatile boolean closedByUs;

        WatchListener(Worker worker, RunStats opStats) {
            this.worker = worker;
            this.opStats = opStats;
        }

        private synchronized void established(Status status) {
            if (!measured) {
                measured = true;
                worker.complete(status, opStats);
            }
        }

        @Override
        public void onHeaders(Metadata headers) {
            established(Status.OK);
        }

        @Override
        public void onMessage(io.messagestore.api.v1.ThreadEvent message) {
            established(Status.OK);
        }

        @Override
        public void onClose(Status status, Metadata trailers) {
            established(closedByUs && status.getCode() == Status.Code.CANCELLED ? Status.OK : status);
        }
    }
}
