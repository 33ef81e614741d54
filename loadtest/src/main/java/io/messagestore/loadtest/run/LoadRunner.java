package io.messagestore.loadtest.run;

import io.grpc.Channel;
import io.grpc.Status;
import io.messagestore.loadtest.report.RunStats;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * Drives a run. There is no thread per worker: without --rps each of the -c workers starts
 * its next call from the completion of the previous one (on the gRPC event loop), and with
 * --rps one dispatcher thread starts calls at fixed intended times, handing each to an idle
 * worker. Latency is measured from the intended start, so a stalled server shows up as
 * latency instead of silently lowering the rate (no coordinated omission).
 */
public final class LoadRunner {

    private static final long SAMPLE_INTERVAL_NANOS = TimeUnit.MILLISECONDS.toNanos(100);
    /** Completions that start the next call inline nest this deep at most, then hop threads. */
    private static final int MAX_INLINE_DEPTH = 16;
    private static final ThreadLocal<int[]> INLINE_DEPTH = ThreadLocal.withInitial(() -> new int[1]);

    private final LoadProfile profile;
    private final List<Worker> workers = new ArrayList<>();
    private final CallLauncher launcher;
    private final RunStats stats;
    private final ProgressListener progress;

    private final AtomicLong nextRequest = new AtomicLong();
    private final AtomicLong callsMade = new AtomicLong();
    /** Workers chains (closed loop) or the dispatcher plus calls in flight (--rps) still active. */
    private final AtomicInteger holders = new AtomicInteger();
    private final CountDownLatch done = new CountDownLatch(1);
    private final ArrayBlockingQueue<Worker> idle;
    private final ExecutorService offload;

    private volatile boolean stopping;
    private volatile boolean dropInFlight;
    private volatile String endReason = "normal";
    private volatile long measureStartNanos = -1;
    /** Process CPU time and calls made when the recorded part began (after --skipFirst). */
    private volatile long measureStartCpu = -1;
    private volatile long measureStartCalls;

    /** Where the --rps dispatcher runs: an event loop of the channels, or its own thread when null. */
    private final ScheduledExecutorService dispatchLoop;
    private final java.util.concurrent.atomic.AtomicBoolean dispatcherParked = new java.util.concurrent.atomic.AtomicBoolean();
    private boolean dispatcherDone;
    private long dispatchNext;
    private long dispatchStartNanos;
    private double dispatchIntervalNanos;

    public LoadRunner(LoadProfile profile, List<? extends Channel> channels, CallLauncher launcher, RunStats stats,
                      ProgressListener progress) {
        this(profile, channels, launcher, stats, progress, null);
    }

    public LoadRunner(LoadProfile profile, List<? extends Channel> channels, CallLauncher launcher, RunStats stats,
                      ProgressListener progress, ScheduledExecutorService dispatchLoop) {
        this.dispatchLoop = dispatchLoop;
        this.profile = profile;
        this.launcher = launcher;
        this.stats = stats;
        this.progress = progress;
        for (int i = 0; i < profile.concurrency(); i++) {
            int connection = i % channels.size();
            workers.add(new Worker(this, i, channels.get(connection), connection));
        }
        this.idle = new ArrayBlockingQueue<>(profile.concurrency());
        this.offload = Executors.newSingleThreadExecutor(daemon("loadtest-offload"));
    }

    public List<Worker> workers() {
        return workers;
    }

    private final List<RunStats> alsoSampled = new java.util.concurrent.CopyOnWriteArrayList<>();

    /** Gives these stats (e.g. per-operation ones) the same time zero and sampling as the run's. */
    public LoadRunner sampleAlso(java.util.Collection<RunStats> more) {
        alsoSampled.addAll(more);
        return this;
    }

    /** Runs to the end (-n, -z or {@link #cancel()}) and returns what happened. */
    public RunOutcome run() {
        Instant date = Instant.now();
        long cpuStart = ProcessCpu.nanos();
        long startNanos = System.nanoTime();
        stats.start(startNanos);
        alsoSampled.forEach(s -> s.start(startNanos));
        if (profile.skipFirst() == 0) {
            measureStartNanos = startNanos;
            measureStartCpu = cpuStart;
        }
        long deadline = profile.duration() == null ? Long.MAX_VALUE : startNanos + profile.duration().toNanos();
        ScheduledExecutorService sampler = Executors.newSingleThreadScheduledExecutor(daemon("loadtest-sampler"));
        long[] last = {startNanos, 0};
        sampler.scheduleAtFixedRate(() -> {
            long now = System.nanoTime();
            if (now >= deadline && !stopping) {
                stop("timeout", profile.durationStop() != LoadProfile.DurationStop.WAIT,
                        profile.durationStop() == LoadProfile.DurationStop.IGNORE);
            }
            stats.sample(now);
            alsoSampled.forEach(s -> s.sample(now));
            if (progress != null) {
                long completed = stats.count();
                double rps = (completed - last[1]) / ((now - last[0]) / 1e9);
                last[0] = now;
                last[1] = completed;
                progress.progress(now - startNanos, completed, stats.errors(), rps);
            }
        }, SAMPLE_INTERVAL_NANOS, SAMPLE_INTERVAL_NANOS, TimeUnit.NANOSECONDS);

        Thread dispatcher = null;
        if (profile.rps() > 0) {
            idle.addAll(workers);
            holders.set(1);
            if (dispatchLoop != null) {
                dispatchStartNanos = startNanos;
                dispatchIntervalNanos = 1e9 / profile.rps();
                dispatchLoop.execute(this::dispatchTick);
            } else {
                dispatcher = new Thread(() -> dispatch(startNanos), "loadtest-dispatcher");
                dispatcher.setDaemon(true);
                dispatcher.start();
            }
        } else {
            holders.set(workers.size());
            for (Worker worker : workers) {
                launchNext(worker);
            }
        }
        try {
            done.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            cancel();
        }
        long endNanos = System.nanoTime();
        sampler.shutdownNow();
        offload.shutdown();
        long cpuEnd = ProcessCpu.nanos();
        RunStats.Snapshot snapshot = stats.finish(endNanos);
        long measuredFrom = measureStartNanos < 0 ? endNanos : measureStartNanos;
        long cpuFrom = measureStartCpu < 0 ? cpuEnd : measureStartCpu;
        return new RunOutcome(endReason, date, Math.max(0, endNanos - measuredFrom),
                callsMade.get() - measureStartCalls, cpuStart < 0 ? -1 : cpuEnd - cpuFrom, snapshot);
    }

    /** Ends the run early (Ctrl-C): calls in flight are cancelled and not recorded. */
    public void cancel() {
        stop("cancel", true, true);
    }

    private void stop(String reason, boolean cancelInFlight, boolean drop) {
        if (stopping) {
            return;
        }
        endReason = reason;
        dropInFlight = drop;
        stopping = true;
        if (cancelInFlight) {
            for (Worker worker : workers) {
                worker.cancel("run " + reason);
            }
        }
    }

    private void dispatch(long startNanos) {
        double intervalNanos = 1e9 / profile.rps();
        long limit = profile.callLimit();
        long n = 0;
        for (; n < limit && !stopping; n++) {
            long intended = startNanos + (long) (n * intervalNanos);
            long wait;
            while ((wait = intended - System.nanoTime()) > 0 && !stopping) {
                LockSupport.parkNanos(wait);
            }
            Worker worker = null;
            try {
                while (worker == null && !stopping) {
                    worker = idle.poll(50, TimeUnit.MILLISECONDS);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
            if (worker == null) {
                break;
            }
            holders.incrementAndGet();
            launch(worker, n, intended);
        }
        release();
    }

    /**
     * The --rps dispatcher as a task on an event loop: starts every call whose intended time has
     * come, then schedules itself for the next one. Runs only on {@code dispatchLoop}; when no
     * worker is idle it parks, and the next completion reschedules it.
     */
    private void dispatchTick() {
        if (dispatcherDone) {
            return;
        }
        long limit = profile.callLimit();
        while (!stopping && dispatchNext < limit) {
            long intended = dispatchStartNanos + (long) (dispatchNext * dispatchIntervalNanos);
            long wait = intended - System.nanoTime();
            if (wait > 0) {
                dispatchLoop.schedule(this::dispatchTick, wait, TimeUnit.NANOSECONDS);
                return;
            }
            Worker worker = idle.poll();
            if (worker == null) {
                dispatcherParked.set(true);
                worker = idle.poll();
                if (worker == null || !dispatcherParked.compareAndSet(true, false)) {
                    if (worker != null) {
                        idle.offer(worker); // a completion already rescheduled us
                    }
                    return;
                }
            }
            holders.incrementAndGet();
            launch(worker, dispatchNext++, intended);
        }
        if (!stopping) {
            stopping = true;
        }
        dispatcherDone = true;
        release();
    }

    private void launchNext(Worker worker) {
        if (!stopping) {
            long n = nextRequest.getAndIncrement();
            if (n < profile.callLimit()) {
                launch(worker, n, System.nanoTime());
                return;
            }
            stopping = true;
        }
        release();
    }

    private void launch(Worker worker, long n, long intendedStart) {
        boolean record = n >= profile.skipFirst();
        if (n == profile.skipFirst() && measureStartNanos < 0) {
            // warm-up (and the JIT compiling the hot path) ends here: measure time and CPU from now
            measureStartCalls = callsMade.get();
            measureStartCpu = ProcessCpu.nanos();
            measureStartNanos = intendedStart;
        }
        worker.prepare(n, intendedStart, record);
        callsMade.incrementAndGet();
        try {
            launcher.start(worker);
        } catch (RuntimeException e) {
            worker.complete(Status.INTERNAL.withDescription("could not start call: " + e).withCause(e));
        }
    }

    void completed(Worker worker, long latencyNanos, Status status, RunStats operationStats) {
        if (worker.isRecorded() && !(stopping && dropInFlight)) {
            stats.record(latencyNanos, status);
            if (operationStats != null) {
                operationStats.record(latencyNanos, status);
            }
        }
        if (profile.rps() > 0) {
            idle.offer(worker);
            if (dispatcherParked.compareAndSet(true, false)) {
                dispatchLoop.execute(this::dispatchTick);
            }
            release();
            return;
        }
        int[] depth = INLINE_DEPTH.get();
        if (depth[0] >= MAX_INLINE_DEPTH) {
            // a call that fails inside start() completes on this very stack; do not recurse forever
            offload.execute(() -> launchNext(worker));
            return;
        }
        depth[0]++;
        try {
            launchNext(worker);
        } finally {
            depth[0]--;
        }
    }

    private void release() {
        if (holders.decrementAndGet() == 0) {
            done.countDown();
        }
    }

    private static java.util.concurrent.ThreadFactory daemon(String name) {
        return r -> {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            return t;
        };
    }
}
