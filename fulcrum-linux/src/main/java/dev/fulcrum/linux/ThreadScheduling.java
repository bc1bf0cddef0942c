package dev.fulcrum.linux;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * Real-time scheduling for the calling thread ({@code sched_setscheduler(0, SCHED_RR, …)}; on
 * Linux pid 0 means the calling thread, not the process). A thread that must answer on time
 * while the cores are busy — the VRRP speaker — asks for it, as keepalived's
 * {@code vrrp_rt_priority} does. Needs root or CAP_SYS_NICE.
 */
public final class ThreadScheduling {

    private ThreadScheduling() {
    }

    /**
     * Puts the calling thread in {@code SCHED_RR} at {@code priority} (1..99; keep it low, the
     * thread sleeps nearly always).
     *
     * @throws NativeException e.g. EPERM without CAP_SYS_NICE
     */
    public static void roundRobinRealtime(int priority) throws NativeException {
        if (priority < 1 || priority > 99) {
            throw new IllegalArgumentException("real-time priority must be 1..99, got " + priority);
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = Libc.callState(arena);
            MemorySegment param = arena.allocate(JAVA_INT);
            param.set(JAVA_INT, 0, priority);
            Libc.check(Libc.schedSetscheduler(state, 0, Libc.SCHED_RR, param), state,
                    "sched_setscheduler(SCHED_RR " + priority + ")");
        }
    }
}
