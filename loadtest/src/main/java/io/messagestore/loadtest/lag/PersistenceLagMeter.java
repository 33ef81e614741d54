package io.messagestore.loadtest.lag;

import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.DynamicMessage;
import com.google.protobuf.Message;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.Metadata;
import io.grpc.Status;
import io.messagestore.api.v1.MessageStoreGrpc;
import io.messagestore.api.v1.ThreadEvent;
import io.messagestore.api.v1.WatchThreadRequest;
import io.messagestore.loadtest.LoadTestException;
import io.messagestore.loadtest.report.Report;
import io.messagestore.loadtest.watch.MessageIds;
import java.sql.Array;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.HdrHistogram.Histogram;

/**
 * Measures how long acknowledged messages take to be committed in PostgreSQL. Every Nth
 * acknowledgement is sampled with its wall-clock time; the commit is observed either through
 * WatchThread's MESSAGE_PERSISTED events (their occurred_at is the commit time) or by polling
 * {@code SELECT message_id FROM messages WHERE message_id = ANY(?)}, whose resolution is the
 * poll interval.
 *
 * <p>With source "auto" the watch is tried first and, if the gateway answers UNIMPLEMENTED,
 * the pending samples move to PostgreSQL polling (when a JDBC URL was given).
 */
public final class PersistenceLagMeter {

    static final long POLL_INTERVAL_NANOS = TimeUnit.MILLISECONDS.toNanos(10);
    private static final int MAX_PENDING = 100_000;

    private final String jdbcUrl;
    private final int sampleEvery;
    private final Channel channel;
    private final Metadata headers;
    private final AtomicLong acknowledged = new AtomicLong();
    private final AtomicLong sampled = new AtomicLong();
    private final Map<String, Instant> pending = new ConcurrentHashMap<>();
    private final Histogram lags = new Histogram(3);
    private final Map<String, ClientCall<WatchThreadRequest, ThreadEvent>> watches = new ConcurrentHashMap<>();
    private final String watchFrom;
    private volatile String source;
    private volatile Thread poller;
    private volatile boolean stopped;
    private volatile String failure;

    private PersistenceLagMeter(String source, String jdbcUrl, int sampleEvery, Channel channel, Metadata headers) {
        this.source = source;
        this.jdbcUrl = jdbcUrl;
        this.sampleEvery = Math.max(1, sampleEvery);
        this.channel = channel;
        this.headers = headers;
        this.watchFrom = MessageIds.lowerBound(System.currentTimeMillis() - 1000);
    }

    /** Starts measuring; {@code source} is "auto", "watch" or "postgres". */
    public static PersistenceLagMeter start(String source, String jdbcUrl, int sampleEvery, Channel channel,
                                            Metadata headers) {
        if (!List.of("auto", "watch", "postgres").contains(source)) {
            throw new LoadTestException("--lag-source must be auto, watch or postgres");
        }
        PersistenceLagMeter meter = new PersistenceLagMeter(source.equals("auto") ? "watch" : source, jdbcUrl,
                sampleEvery, channel, headers);
        meter.fallbackAllowed = source.equals("auto");
        if (meter.source.equals("postgres")) {
            meter.startPolling();
        }
        return meter;
    }

    private volatile boolean fallbackAllowed;

    /** Feeds a SendMessageResponse (as a DynamicMessage). */
    public void onSendResponse(DynamicMessage response) {
        FieldDescriptor messageField = response.getDescriptorForType().findFieldByName("message");
        Message message = (Message) response.getField(messageField);
        FieldDescriptor idField = message.getDescriptorForType().findFieldByName("message_id");
        FieldDescriptor threadField = message.getDescriptorForType().findFieldByName("thread_id");
        onAcknowledged((String) message.getField(threadField), (String) message.getField(idField));
    }

    /** One acknowledged message; every Nth one is sampled. */
    public void onAcknowledged(String threadId, String messageId) {
        if (stopped || messageId == null || messageId.isEmpty()) {
            return;
        }
        if (acknowledged.getAndIncrement() % sampleEvery != 0 || pending.size() >= MAX_PENDING) {
            return;
        }
        sampled.incrementAndGet();
        pending.put(messageId, Instant.now());
        if (source.equals("watch")) {
            watches.computeIfAbsent(threadId, this::openWatch);
        }
    }

    private ClientCall<WatchThreadRequest, ThreadEvent> openWatch(String threadId) {
        ClientCall<WatchThreadRequest, ThreadEvent> call = channel.newCall(MessageStoreGrpc.getWatchThreadMethod(),
                CallOptions.DEFAULT);
        Metadata callHeaders = new Metadata();
        callHeaders.merge(headers);
        call.start(new ClientCall.Listener<>() {
            @Override
            public void onMessage(ThreadEvent event) {
                if (event.getType() == ThreadEvent.Type.MESSAGE_PERSISTED) {
                    Instant acked = pending.remove(event.getMessageId());
                    if (acked != null) {
                        Instant committed = event.hasOccurredAt()
                                ? Instant.ofEpochSecond(event.getOccurredAt().getSeconds(), event.getOccurredAt().getNanos())
                                : Instant.now();
                        record(Duration.between(acked, committed).toNanos());
                    }
                }
            }

            @Override
            public void onClose(Status status, Metadata trailers) {
                if (stopped) {
                    return;
                }
                if (status.getCode() == Status.Code.UNIMPLEMENTED && fallbackAllowed && jdbcUrl != null) {
                    switchToPolling();
                } else if (!status.isOk()) {
                    failure = "WatchThread: " + status.getCode() + (status.getDescription() == null ? ""
                            : " " + status.getDescription());
                }
            }
        }, callHeaders);
        call.request(Integer.MAX_VALUE);
        // catch up from just before the run: a commit before the stream opened is not missed
        call.sendMessage(WatchThreadRequest.newBuilder().setThreadId(threadId).setAfterMessageId(watchFrom).build());
        call.halfClose();
        return call;
    }

    private synchronized void switchToPolling() {
        if (!source.equals("postgres")) {
            source = "postgres";
            startPolling();
        }
    }

    private synchronized void record(long lagNanos) {
        lags.recordValue(Math.max(0, lagNanos));
    }

    private void startPolling() {
        if (jdbcUrl == null) {
            throw new LoadTestException("--lag-source postgres needs --postgres-jdbc-url");
        }
        // connect now so that a wrong URL fails before the run, with a one-line reason
        Connection connection;
        try {
            connection = DriverManager.getConnection(jdbcUrl);
        } catch (SQLException e) {
            throw new LoadTestException("cannot connect to PostgreSQL (" + jdbcUrl + "): " + e.getMessage());
        }
        Thread thread = new Thread(() -> poll(connection), "loadtest-lag-poller");
        thread.setDaemon(true);
        poller = thread;
        thread.start();
    }

    private void poll(Connection connection) {
        try (connection;
             PreparedStatement query = connection.prepareStatement(
                     "SELECT message_id FROM messages WHERE message_id = ANY(?)")) {
            while (!stopped) {
                long next = System.nanoTime() + POLL_INTERVAL_NANOS;
                List<UUID> ids = new ArrayList<>();
                for (String id : pending.keySet()) {
                    try {
                        ids.add(UUID.fromString(id));
                    } catch (IllegalArgumentException notAUuid) {
                        pending.remove(id);
                    }
                    if (ids.size() >= 5000) {
                        break;
                    }
                }
                if (!ids.isEmpty()) {
                    Array array = connection.createArrayOf("uuid", ids.toArray());
                    query.setArray(1, array);
                    try (ResultSet rows = query.executeQuery()) {
                        Instant seen = Instant.now();
                        while (rows.next()) {
                            Instant acked = pending.remove(rows.getObject(1).toString());
                            if (acked != null) {
                                record(Duration.between(acked, seen).toNanos());
                            }
                        }
                    }
                    array.free();
                }
                long wait = next - System.nanoTime();
                if (wait > 0) {
                    TimeUnit.NANOSECONDS.sleep(wait);
                }
            }
        } catch (SQLException e) {
            failure = "PostgreSQL: " + e.getMessage();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Waits up to {@code wait} for the samples still pending, then stops and summarizes. */
    public Report.PersistenceLag finish(Duration wait) {
        long deadline = System.nanoTime() + wait.toNanos();
        while (!pending.isEmpty() && System.nanoTime() < deadline && failure == null) {
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        stopped = true;
        watches.values().forEach(call -> call.cancel("lag measurement done", null));
        Thread thread = poller;
        if (thread != null) {
            try {
                thread.join(2000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (failure != null) {
            System.err.println("warning: persistence lag: " + failure);
        }
        synchronized (this) {
            boolean any = lags.getTotalCount() > 0;
            return new Report.PersistenceLag(source, sampled.get(), lags.getTotalCount(),
                    any ? lags.getValueAtPercentile(50) : 0, any ? lags.getValueAtPercentile(99) : 0,
                    any ? lags.getMaxValue() : 0, source.equals("postgres") ? POLL_INTERVAL_NANOS : 0);
        }
    }
}
