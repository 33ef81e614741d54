package io.messagestore.loadtest.watch;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.messagestore.api.v1.MessageStoreGrpc;
import io.messagestore.api.v1.ThreadEvent;
import io.messagestore.loadtest.call.MetadataSource;
import io.messagestore.loadtest.call.RawMarshallers;
import io.messagestore.loadtest.report.Report;
import io.messagestore.loadtest.report.RunStats;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.locks.LockSupport;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * Many WatchThread streams held open at once, measuring delivery delay: the arrival of each
 * MESSAGE_CONFIRMED minus its message's created_at (the time in the message id, in whole
 * milliseconds, taken on the same machine). Streams are generic ClientCalls spread over the
 * given channels, one listener each and no thread per stream, so ten thousand of them cost
 * the tool little more than their HTTP/2 streams.
 *
 * <p>Only messages created after {@link #measureFrom} count in the delay: a resumed stream's
 * replay of older messages would otherwise show up as delay. Every stream's end is recorded in
 * a RunStats like a call whose latency is the stream's life (as ghz measures a server stream);
 * a stream the fleet cancels at the end counts as OK.
 */
public final class WatchFleet implements AutoCloseable {

    /** WatchThread with raw request bytes and digested events. */
    static final MethodDescriptor<byte[], EventDigest> METHOD = MessageStoreGrpc.getWatchThreadMethod().toBuilder(
            RawMarshallers.BYTES, EventDigest.MARSHALLER).build();
    private static final int TYPES = ThreadEvent.Type.THREAD_DELETED_VALUE + 1;
    private static final long QUIET_NANOS = TimeUnit.MILLISECONDS.toNanos(200);

    private final List<? extends Channel> channels;
    private final MetadataSource headers;
    private final RunStats streamStats;
    private final List<Stream> streams = java.util.Collections.synchronizedList(new ArrayList<>());
    private final AtomicLongArray eventsByType = new AtomicLongArray(TYPES + 1);
    private final Recorder delays = new Recorder(3);
    /** Wall clock in nanoseconds without an Instant per event: the epoch at start plus nanoTime since. */
    private final long epochNanosAtStart;
    private final long nanoTimeAtStart;
    private final AtomicBoolean ending = new AtomicBoolean();
    private final java.util.concurrent.atomic.AtomicLong withEvents = new java.util.concurrent.atomic.AtomicLong();
    private CountDownLatch firstEvents = new CountDownLatch(0);
    private CountDownLatch closes = new CountDownLatch(0);
    private volatile long measureFromEpochNanos = Long.MAX_VALUE;
    private volatile long lastEventNanos;

    public WatchFleet(List<? extends Channel> channels, MetadataSource headers, RunStats streamStats) {
        this.channels = List.copyOf(channels);
        this.headers = headers;
        this.streamStats = streamStats;
        Instant now = Instant.now();
        this.nanoTimeAtStart = System.nanoTime();
        this.epochNanosAtStart = now.getEpochSecond() * 1_000_000_000L + now.getNano();
    }

    /** Now, as nanoseconds since the epoch. */
    public long epochNanos() {
        return epochNanosAtStart + (System.nanoTime() - nanoTimeAtStart);
    }

    /**
     * Opens one stream per request (serialized WatchThreadRequests), at most {@code perSecond}
     * a second when positive: a gateway reads each new watch's thread and may subscribe to its
     * channel, and ten thousand of those at once are a burst no real fleet of clients makes.
     */
    public void open(List<byte[]> requests, int perSecond) {
        firstEvents = new CountDownLatch(requests.size());
        closes = new CountDownLatch(requests.size());
        streamStats.start(System.nanoTime());
        long start = System.nanoTime();
        for (int i = 0; i < requests.size(); i++) {
            if (perSecond > 0) {
                long wait = start + (long) (i * 1e9 / perSecond) - System.nanoTime();
                if (wait > 0) {
                    LockSupport.parkNanos(wait);
                }
            }
            Stream stream = new Stream();
            streams.add(stream);
            stream.start(channels.get(i % channels.size()), requests.get(i), headers.headers(i, "s" + i));
        }
    }

    /** Counts delay only for messages created from this moment (epoch nanoseconds) on. */
    public void measureFrom(long epochNanos) {
        measureFromEpochNanos = epochNanos;
    }

    /**
     * Waits until every stream has had its first event or has ended, at most {@code timeout};
     * returns how many have done neither.
     */
    public long awaitFirstEvents(Duration timeout) throws InterruptedException {
        firstEvents.await(timeout.toNanos(), TimeUnit.NANOSECONDS);
        return firstEvents.getCount();
    }

    /**
     * Waits for the events of the last messages: until no event has arrived for 200 ms, at
     * most {@code atMost}. Polls, because the fleet cannot know how many events are still due.
     */
    public void drain(Duration atMost) throws InterruptedException {
        long deadline = System.nanoTime() + atMost.toNanos();
        while (System.nanoTime() < deadline && System.nanoTime() - lastEventNanos < QUIET_NANOS) {
            TimeUnit.MILLISECONDS.sleep(20);
        }
    }

    /**
     * What a fleet did.
     *
     * @param delivery the streams, their events and the delivery delay
     * @param streams  each stream's end as a call: latency = its life, status = how it ended
     */
    public record Finished(Report.WatchDelivery delivery, RunStats.Snapshot streams) { }

    /** Ends the streams still open (they count as OK) and summarizes. */
    public Finished finish() throws InterruptedException {
        end();
        closes.await(5, TimeUnit.SECONDS);
        RunStats.Snapshot ends = streamStats.finish(System.nanoTime());
        Map<String, Long> statuses = Report.statusCodeDistribution(ends.statusCounts());
        Map<String, Long> events = new LinkedHashMap<>();
        for (int type = 1; type <= TYPES; type++) {
            long n = eventsByType.get(type);
            if (n > 0) {
                events.put(type < TYPES ? ThreadEvent.Type.forNumber(type).name() : "OTHER", n);
            }
        }
        Histogram delay = delays.getIntervalHistogram();
        boolean any = delay.getTotalCount() > 0;
        return new Finished(new Report.WatchDelivery(streams.size(), withEvents.get(),
                statuses, ends.errorCounts(), events, delay.getTotalCount(),
                any ? delay.getValueAtPercentile(50) : 0, any ? delay.getValueAtPercentile(90) : 0,
                any ? delay.getValueAtPercentile(99) : 0, any ? delay.getMaxValue() : 0,
                any ? (long) delay.getMean() : 0), ends);
    }

    /** Cancels every stream still open; safe to call more than once (Ctrl-C, then the normal end). */
    public void end() {
        if (ending.compareAndSet(false, true)) {
            List<Stream> open;
            synchronized (streams) {
                open = List.copyOf(streams);
            }
            for (Stream stream : open) {
                stream.call.cancel("watch run over", null);
            }
        }
    }

    @Override
    public void close() {
        end();
    }

    private final class Stream extends ClientCall.Listener<EventDigest> {
        private volatile ClientCall<byte[], EventDigest> call;
        private long openedNanos;
        private boolean seen;

        void start(Channel channel, byte[] request, Metadata callHeaders) {
            // no deadline: a watch lives until the run ends it
            call = channel.newCall(METHOD, CallOptions.DEFAULT);
            openedNanos = System.nanoTime();
            call.start(this, callHeaders);
            call.request(Integer.MAX_VALUE);
            call.sendMessage(request);
            call.halfClose();
        }

        @Override
        public void onMessage(EventDigest event) {
            long arrived = epochNanos();
            lastEventNanos = System.nanoTime();
            eventsByType.incrementAndGet(event.type() > 0 && event.type() < TYPES ? event.type() : TYPES);
            if (event.type() == EventDigest.MESSAGE_CONFIRMED && event.createdEpochNanos() >= measureFromEpochNanos) {
                delays.recordValue(Math.max(0, arrived - event.createdEpochNanos()));
            }
            // one stream's callbacks never run concurrently
            if (!seen) {
                seen = true;
                withEvents.incrementAndGet();
                firstEvents.countDown();
            }
        }

        @Override
        public void onClose(Status status, Metadata trailers) {
            Status recorded = ending.get() && status.getCode() == Status.Code.CANCELLED ? Status.OK : status;
            streamStats.record(System.nanoTime() - openedNanos, recorded);
            if (!seen) {
                seen = true;
                firstEvents.countDown();
            }
            closes.countDown();
        }
    }
}
