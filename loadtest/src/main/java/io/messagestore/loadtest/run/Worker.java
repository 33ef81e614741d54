package io.messagestore.loadtest.run;

import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.Status;
import io.messagestore.loadtest.report.RunStats;

/**
 * One of the -c call slots. A worker has at most one call in flight, so its fields describe
 * that call and are reused from call to call instead of allocating per-call state.
 */
public final class Worker {

    private final LoadRunner runner;
    private final int index;
    private final String id;
    private final Channel channel;
    private final int connectionIndex;

    // the current call; written before the call starts, read by its completion
    private long requestNumber;
    private long intendedStartNanos;
    private boolean recorded;
    private volatile ClientCall<?, ?> call;
    /** Free for launchers: per-worker reusable state (e.g. a call listener). */
    private Object attachment;

    Worker(LoadRunner runner, int index, Channel channel, int connectionIndex) {
        this.runner = runner;
        this.index = index;
        this.channel = channel;
        this.connectionIndex = connectionIndex;
        // like ghz's worker ids: connection and worker number
        this.id = "c" + connectionIndex + "w" + index;
    }

    void prepare(long number, long intendedStart, boolean record) {
        this.requestNumber = number;
        this.intendedStartNanos = intendedStart;
        this.recorded = record;
        this.call = null;
    }

    public long requestNumber() {
        return requestNumber;
    }

    /** {{.WorkerID}} of the templates. */
    public String id() {
        return id;
    }

    public int index() {
        return index;
    }

    public Channel channel() {
        return channel;
    }

    public int connectionIndex() {
        return connectionIndex;
    }

    /** When the call was meant to start: with --rps its slot in the schedule, else its start. */
    public long intendedStartNanos() {
        return intendedStartNanos;
    }

    public boolean isRecorded() {
        return recorded;
    }

    /** Lets a duration stop cancel the call. */
    public void track(ClientCall<?, ?> current) {
        this.call = current;
    }

    @SuppressWarnings("unchecked")
    public <T> T attachment() {
        return (T) attachment;
    }

    public void attach(Object value) {
        this.attachment = value;
    }

    void cancel(String reason) {
        ClientCall<?, ?> current = call;
        if (current != null) {
            current.cancel(reason, null);
        }
    }

    /** Ends the current call: records it and hands the worker its next call. */
    public void complete(Status status) {
        complete(status, null);
    }

    /** Also records the call into {@code operationStats} (per-operation reports of a scenario). */
    public void complete(Status status, RunStats operationStats) {
        long latency = System.nanoTime() - intendedStartNanos;
        call = null;
        runner.completed(this, latency, status, operationStats);
    }
}
