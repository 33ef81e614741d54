package io.messagestore.loadtest.run;

/** Told about the run's progress a few times a second, from the sampler thread. */
@FunctionalInterface
public interface ProgressListener {
    void progress(long elapsedNanos, long completed, long errors, double currentRps);
}
