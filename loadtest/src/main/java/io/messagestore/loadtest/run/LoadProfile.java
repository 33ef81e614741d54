package io.messagestore.loadtest.run;

import java.time.Duration;

/**
 * How much load to make, with ghz's meaning of each flag.
 *
 * @param concurrency  most calls in flight at once (-c)
 * @param total        calls to make, including skipped ones (-n); ignored when duration is set
 * @param duration     run this long instead (-z), or null
 * @param rps          calls started per second, 0 for as fast as possible (--rps)
 * @param skipFirst    the first calls are made but not recorded (--skipFirst)
 * @param callTimeout  per-call deadline (-t); zero means none
 * @param durationStop what happens to calls in flight when -z ends the run
 */
public record LoadProfile(int concurrency, long total, Duration duration, int rps, long skipFirst,
                          Duration callTimeout, DurationStop durationStop) {

    /** ghz's --duration-stop. */
    public enum DurationStop {
        /** cancel calls in flight and record them (as Canceled), ghz's default */
        CLOSE,
        /** let calls in flight finish and record them */
        WAIT,
        /** cancel calls in flight and do not record them */
        IGNORE
    }

    public LoadProfile {
        if (concurrency < 1) {
            throw new IllegalArgumentException("-c must be at least 1");
        }
        if (duration == null && total < 1) {
            throw new IllegalArgumentException("-n must be at least 1");
        }
        if (rps < 0) {
            throw new IllegalArgumentException("--rps must not be negative");
        }
        if (skipFirst < 0) {
            throw new IllegalArgumentException("--skipFirst must not be negative");
        }
        if (durationStop == null) {
            durationStop = DurationStop.CLOSE;
        }
        if (callTimeout == null) {
            callTimeout = Duration.ofSeconds(20);
        }
    }

    public static LoadProfile ofCount(int concurrency, long total) {
        return new LoadProfile(concurrency, total, null, 0, 0, Duration.ofSeconds(20), DurationStop.CLOSE);
    }

    public LoadProfile withRps(int newRps) {
        return new LoadProfile(concurrency, total, duration, newRps, skipFirst, callTimeout, durationStop);
    }

    public LoadProfile withDuration(Duration newDuration) {
        return new LoadProfile(concurrency, total, newDuration, rps, skipFirst, callTimeout, durationStop);
    }

    public LoadProfile withSkipFirst(long newSkipFirst) {
        return new LoadProfile(concurrency, total, duration, rps, newSkipFirst, callTimeout, durationStop);
    }

    /** Calls the run may start: unbounded with a duration. */
    long callLimit() {
        return duration != null ? Long.MAX_VALUE : total;
    }
}
