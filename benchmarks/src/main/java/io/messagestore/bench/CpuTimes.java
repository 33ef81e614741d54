package io.messagestore.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * CPU time spent so far by this process, by every PostgreSQL process, and by the whole machine
 * (busy time from {@code /proc/stat}), as {@code scripts/bench.py} counts them for the gateway.
 */
record CpuTimes(long wallNanos, long processNanos, long postgresNanos, long machineBusyNanos) {
  /** Linux's USER_HZ: the unit of /proc's CPU times. */
  private static final long TICK_NANOS = 10_000_000L;

  static CpuTimes now() {
    long process = ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
        .getProcessCpuTime();
    return new CpuTimes(System.nanoTime(), process, postgresTicks() * TICK_NANOS, machineBusyTicks() * TICK_NANOS);
  }

  private static long postgresTicks() {
    long ticks = 0;
    try (DirectoryStream<Path> procs = Files.newDirectoryStream(Path.of("/proc"), "[0-9]*")) {
      for (Path p : procs) {
        try {
          String stat = Files.readString(p.resolve("stat"));
          int close = stat.lastIndexOf(')');
          if (!stat.substring(stat.indexOf('(') + 1, close).startsWith("postgres")) {
            continue;
          }
          String[] f = stat.substring(close + 2).split(" ");
          // utime and stime are fields 14 and 15 of stat, 12 and 13 after the name.
          ticks += Long.parseLong(f[11]) + Long.parseLong(f[12]);
        } catch (IOException | RuntimeException gone) {
          // the process ended between the listing and the read
        }
      }
    } catch (IOException e) {
      return 0;
    }
    return ticks;
  }

  private static long machineBusyTicks() {
    try {
      String[] f = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
      long busy = 0;
      // user nice system idle iowait irq softirq steal; guest time is counted in user already
      for (int i = 1; i <= 8 && i < f.length; i++) {
        if (i != 4 && i != 5) {
          busy += Long.parseLong(f[i]);
        }
      }
      return busy;
    } catch (IOException e) {
      return 0;
    }
  }
}
