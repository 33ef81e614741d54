package io.messagestore.loadtest;

import com.google.protobuf.Descriptors;
import io.grpc.Channel;
import io.grpc.ClientInterceptors;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.MetadataUtils;
import io.messagestore.api.v1.MessageStoreGrpc;
import io.messagestore.api.v1.SendMessageRequest;
import io.messagestore.api.v1.WatchThreadRequest;
import io.messagestore.loadtest.call.Channels;
import io.messagestore.loadtest.call.ConnectionOptions;
import io.messagestore.loadtest.call.RequestSource;
import io.messagestore.loadtest.report.Report;
import io.messagestore.loadtest.report.RunStats;
import io.messagestore.loadtest.run.LoadProfile;
import io.messagestore.loadtest.watch.MessageIds;
import io.messagestore.loadtest.watch.WatchFleet;
import java.io.InputStream;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * The runs that hold WatchThread streams: --streams (the streams are the load) and
 * --watch-streams (a SendMessage run watched as it goes).
 */
final class WatchRuns {

    private final LoadTestCommand options;
    private final CallRuns runs;
    private final InputStream stdin;
    /** Ends a --streams hold early (Ctrl-C). */
    private final CountDownLatch holdInterrupted = new CountDownLatch(1);

    /** @param stdin what "--watch-data @" reads */
    WatchRuns(LoadTestCommand options, CallRuns runs, InputStream stdin) {
        this.options = options;
        this.runs = runs;
        this.stdin = stdin;
    }

    /** Ends a --streams hold now: its report is written as for a cancelled run. */
    void interruptHold() {
        holdInterrupted.countDown();
    }

    /**
     * --watch-streams: a SendMessage run with WatchThread streams on its threads, on this
     * gateway or --watch-host. Each watched thread first gets one message (the run's first
     * request, sent to that thread), and the streams resume from just before it: its replay is
     * each stream's first event, which proves the stream is live before the clock starts, and
     * it makes sure the thread exists (a watch of an unknown thread is NOT_FOUND).
     */
    Report runWatched(ConnectionOptions connection, int eventLoops, Descriptors.MethodDescriptor method,
                      String requestData) throws Exception {
        String watchRequests = OptionText.resolve("--watch-data", options.watchData, stdin);
        RequestSource watches = RequestSource.compile(watchRequests != null ? watchRequests : requestData,
                WatchThreadRequest.getDescriptor(), watchRequests == null);
        boolean elsewhere = options.watchHost != null && !options.watchHost.equals(options.host);
        Channels.ChannelSet watchChannels = elsewhere
                ? Channels.open(connection.withHost(options.watchHost), eventLoops) : null;
        WatchFleet fleet = null;
        try {
            List<ManagedChannel> watchVia = watchChannels != null ? watchChannels.channels() : runs.channels();
            if (watchChannels != null) {
                Channels.awaitReady(watchVia, connection.withHost(options.watchHost), runs.headers().headers(0, "s0"));
            }
            WatchFleet opened = new WatchFleet(watchVia, runs.headers(), new RunStats(false, runs.seriesInterval()));
            fleet = opened;
            Report report = runs.runCall(method, requestData, false, options.call, options.measureLag,
                    sends -> openWatchers(opened, watches, sends));
            opened.drain(options.watchDrain);
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

    private void openWatchers(WatchFleet fleet, RequestSource watches, RequestSource sends) throws Exception {
        String before = MessageIds.lowerBound(System.currentTimeMillis() - 1);
        List<byte[]> requests = new ArrayList<>(options.watchStreams);
        Set<String> threads = new LinkedHashSet<>();
        for (int i = 0; i < options.watchStreams; i++) {
            WatchThreadRequest request = WatchThreadRequest.parseFrom(watches.request(i, "s" + i));
            threads.add(request.getThreadId());
            requests.add(request.getAfterMessageId().isEmpty()
                    ? request.toBuilder().setAfterMessageId(before).build().toByteArray() : request.toByteArray());
        }
        SendMessageRequest first = SendMessageRequest.parseFrom(sends.request(0, "seed"));
        Channel seedVia = ClientInterceptors.intercept(runs.channels().get(0),
                MetadataUtils.newAttachHeadersInterceptor(runs.headers().headers(0, "seed")));
        for (String thread : threads) {
            try {
                MessageStoreGrpc.newBlockingStub(seedVia)
                        .withDeadlineAfter(options.connectTimeout.toMillis(), TimeUnit.MILLISECONDS)
                        .sendMessage(first.toBuilder().setThreadId(thread).clearIdempotencyKey().build());
            } catch (StatusRuntimeException e) {
                throw new LoadTestException("cannot start the watched thread '" + thread + "' with a SendMessage: "
                        + e.getStatus().getCode() + " " + e.getStatus().getDescription());
            }
        }
        fleet.open(requests, 0);
        LoadProfile profile = runs.profile();
        Duration wait = profile.callTimeout().isZero() ? Duration.ofSeconds(20) : profile.callTimeout();
        long silent = fleet.awaitFirstEvents(wait);
        if (silent > 0) {
            System.err.printf("warning: %d of %d watch streams had no event within %d ms; the run starts anyway%n",
                    silent, options.watchStreams, wait.toMillis());
        }
        fleet.measureFrom(fleet.epochNanos());
    }

    /** --streams: WatchThread streams held for -z, reported as calls plus their events and delivery delay. */
    Report runStreams(String requestData) throws Exception {
        RequestSource requests = RequestSource.compile(requestData, WatchThreadRequest.getDescriptor(), false);
        List<byte[]> each = new ArrayList<>(options.streams);
        for (int i = 0; i < options.streams; i++) {
            each.add(requests.request(i, "s" + i));
        }
        LoadProfile profile = runs.profile();
        Instant date = Instant.now();
        long start = System.nanoTime();
        try (WatchFleet fleet = new WatchFleet(runs.channels(), runs.headers(), runs.newStats())) {
            fleet.measureFrom(fleet.epochNanos());
            fleet.open(each, profile.rps());
            boolean interrupted = holdInterrupted.await(
                    Math.max(0, profile.duration().toNanos() - (System.nanoTime() - start)), TimeUnit.NANOSECONDS);
            WatchFleet.Finished finished = fleet.finish();
            Map<String, Object> reportOptions = runs.reportOptions(options.call, requestData);
            reportOptions.put("streams", options.streams);
            return Report.from(finished.streams(), options.name, interrupted ? "cancel" : "timeout", date,
                    reportOptions, System.nanoTime() - start, runs.tags(), null)
                    .withWatch(finished.delivery());
        }
    }
}
