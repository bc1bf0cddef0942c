package dev.fulcrum.server.http;

import com.sun.management.HotSpotDiagnosticMXBean;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;

/**
 * The live heap of this JVM: the bytes in use right after a full collection ({@link System#gc()}),
 * the least of several readings, since a thread allocating between a collection and its reading
 * can only add. Refuses to measure when explicit collections are disabled or merely start a
 * concurrent cycle: the figure would then include garbage.
 */
final class LiveHeap {

    private static final int READINGS = 5;

    private LiveHeap() {
    }

    static long bytes() {
        HotSpotDiagnosticMXBean vm = ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class);
        for (String flag : new String[] {"DisableExplicitGC", "ExplicitGCInvokesConcurrent"}) {
            if (Boolean.parseBoolean(vm.getVMOption(flag).getValue())) {
                throw new IllegalStateException("cannot measure the live heap with -XX:+" + flag);
            }
        }
        MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
        long least = Long.MAX_VALUE;
        for (int i = 0; i < READINGS; i++) {
            System.gc();
            least = Math.min(least, memory.getHeapMemoryUsage().getUsed());
        }
        return least;
    }
}
