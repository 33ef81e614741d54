package io.messagestore.loadtest.report;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Every call's latency, status and error, as ghz's "details" (used by the csv format and
 * {@code --details}). Stored in primitive chunks so a million calls cost ~20 MB, not ~200.
 */
public final class CallDetails {

    private static final int CHUNK = 1 << 16;
    /** ghz keeps every detail; we stop at this many so a long run cannot exhaust the heap. */
    public static final long MAX_CALLS = 20_000_000L;

    private final List<long[]> latencies = new ArrayList<>();
    private final List<long[]> timestamps = new ArrayList<>();
    private final List<int[]> statuses = new ArrayList<>();
    private final List<String> errorTexts = new ArrayList<>();
    private final Map<String, Integer> errorIndex = new HashMap<>();
    private long size;

    /** One call. {@code errorText} is null for a successful call. */
    public synchronized void add(long epochMillis, long latencyNanos, int statusCode, String errorText) {
        if (size >= MAX_CALLS) {
            return;
        }
        int slot = (int) (size % CHUNK);
        if (slot == 0) {
            latencies.add(new long[CHUNK]);
            timestamps.add(new long[CHUNK]);
            statuses.add(new int[CHUNK]);
        }
        int chunk = (int) (size / CHUNK);
        latencies.get(chunk)[slot] = latencyNanos;
        timestamps.get(chunk)[slot] = epochMillis;
        int error = 0;
        if (errorText != null) {
            error = errorIndex.computeIfAbsent(errorText, text -> {
                errorTexts.add(text);
                return errorTexts.size();
            });
        }
        // status code in the low byte, error text index above it
        statuses.get(chunk)[slot] = statusCode | (error << 8);
        size++;
    }

    public synchronized long size() {
        return size;
    }

    /** Visits every call in completion order. */
    public synchronized void forEach(Visitor visitor) {
        for (long i = 0; i < size; i++) {
            int chunk = (int) (i / CHUNK);
            int slot = (int) (i % CHUNK);
            int packed = statuses.get(chunk)[slot];
            int error = packed >>> 8;
            visitor.call(timestamps.get(chunk)[slot], latencies.get(chunk)[slot], packed & 0xff,
                    error == 0 ? "" : errorTexts.get(error - 1));
        }
    }

    @FunctionalInterface
    public interface Visitor {
        void call(long epochMillis, long latencyNanos, int statusCode, String errorText);
    }
}
