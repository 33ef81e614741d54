package io.messagestore.loadtest.run;

import io.messagestore.loadtest.report.RunStats;
import java.time.Instant;

/**
 * What a run did.
 *
 * @param endReason   ghz's endReason: "normal", "timeout" or "cancel"
 * @param date        wall-clock start
 * @param totalNanos  wall time from the first recorded call's (intended) start to the end
 * @param callsMade   calls started after --skipFirst (the measured part)
 * @param cpuNanos    CPU time this process used during the measured part (all threads, incl. GC and JIT)
 */
public record RunOutcome(String endReason, Instant date, long totalNanos, long callsMade, long cpuNanos,
                         RunStats.Snapshot stats) {

    /** This tool's CPU per call, in microseconds, or null when unknown. */
    public Double cpuPerCallMicros() {
        return cpuNanos < 0 || callsMade == 0 ? null : cpuNanos / 1000.0 / callsMade;
    }
}
