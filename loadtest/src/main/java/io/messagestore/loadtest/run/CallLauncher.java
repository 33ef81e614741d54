package io.messagestore.loadtest.run;

/** Starts the call a worker was given; the call must end in exactly one {@link Worker#complete}. */
@FunctionalInterface
public interface CallLauncher {
    void start(Worker worker);
}
