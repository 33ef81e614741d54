package io.messagestore.loadtest.run;

import java.lang.management.ManagementFactory;
import java.lang.management.OperatingSystemMXBean;

/** CPU time of this whole process (every thread, including GC and JIT), in nanoseconds. */
public final class ProcessCpu {

    private ProcessCpu() {
    }

    /** -1 when the JVM does not expose it. */
    public static long nanos() {
        OperatingSystemMXBean os = ManagementFactory.getOperatingSystemMXBean();
        if (os instanceof com.sun.management.OperatingSystemMXBean sun) {
            return sun.getProcessCpuTime();
        }
        return -1;
    }
}
