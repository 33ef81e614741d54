package io.messagestore.loadtest;

import io.messagestore.loadtest.run.ProgressListener;
import java.io.PrintStream;
import java.time.Duration;
import java.util.Locale;

/** The live "done/total, rps, errors" line, redrawn in place; only used on a terminal. */
final class ProgressLine implements ProgressListener {

    private static final long REDRAW_NANOS = 250_000_000L;

    private final PrintStream out;
    private final long total;
    private final Duration duration;
    private long lastDraw;
    private int width;

    ProgressLine(PrintStream out, long total, Duration duration) {
        this.out = out;
        this.total = total;
        this.duration = duration;
    }

    @Override
    public synchronized void progress(long elapsedNanos, long completed, long errors, double currentRps) {
        if (elapsedNanos - lastDraw < REDRAW_NANOS) {
            return;
        }
        lastDraw = elapsedNanos;
        String done = duration != null
                ? String.format(Locale.ROOT, "%.1fs/%.1fs", elapsedNanos / 1e9, duration.toNanos() / 1e9)
                : completed + "/" + total;
        String line = String.format(Locale.ROOT, "  %s  %.0f req/s  %d errors", done, currentRps, errors);
        width = Math.max(width, line.length());
        out.print("\r" + line + " ".repeat(width - line.length()));
        out.flush();
    }

    synchronized void clear() {
        if (width > 0) {
            out.print("\r" + " ".repeat(width) + "\r");
            out.flush();
            width = 0;
        }
    }
}
