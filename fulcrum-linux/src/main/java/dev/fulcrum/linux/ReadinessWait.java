package dev.fulcrum.linux;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * A wait for one socket to become readable that another thread can cut short: {@code ppoll} on the
 * socket and an eventfd, as the sockets' {@code receive} methods need. Everything is allocated
 * once, so waiting allocates nothing. Package-private.
 *
 * <p>Thread-safety: {@link #await} belongs to the socket's owner thread; {@link #wakeup} may be
 * called from any thread; {@link #close} is synchronized with {@link #wakeup}, and the owner must
 * not be in {@link #await} when it runs.
 */
final class ReadinessWait {

    private final MemorySegment callState;
    private final MemorySegment wakeState;
    private final MemorySegment pollFds;
    /** The eventfd's entry alone, for {@link #pause}. */
    private final MemorySegment eventPollFd;
    private final MemorySegment timeout;
    private final MemorySegment eventValue;
    private final MemorySegment wakeValue;
    private final String what;
    private final int eventFd;
    private boolean closed;

    /** Creates the eventfd; {@code what} names the socket in errors, e.g. {@code vrrp socket}. */
    ReadinessWait(Arena arena, int socketFd, String what) throws NativeException {
        this.callState = Libc.callState(arena);
        this.wakeState = Libc.callState(arena);
        this.pollFds = arena.allocate(16, 8);
        this.eventPollFd = pollFds.asSlice(8, 8);
        this.timeout = arena.allocate(16, 8);
        this.eventValue = arena.allocate(8, 8);
        this.wakeValue = arena.allocate(8, 8);
        this.what = what;
        this.eventFd = (int) Libc.check(Libc.eventfd(callState, 0, Libc.EFD_CLOEXEC | Libc.EFD_NONBLOCK),
                callState, "eventfd(" + what + ")");
        pollFds.set(JAVA_INT, 0, socketFd);
        pollFds.set(JAVA_SHORT, 4, Libc.POLLIN);
        pollFds.set(JAVA_INT, 8, eventFd);
        pollFds.set(JAVA_SHORT, 12, Libc.POLLIN);
    }

    /**
     * Waits up to {@code timeoutNanos} (Long.MAX_VALUE: no limit) for the socket to be readable.
     *
     * @return true when it is; false when the time ran out, {@link #wakeup()} was called (the
     *         wakeup is consumed) or a signal interrupted the wait
     */
    boolean await(long timeoutNanos) throws NativeException {
        MemorySegment wait = timeoutNanos == Long.MAX_VALUE ? MemorySegment.NULL : timeout(timeoutNanos);
        return poll(pollFds, 2, wait) == Polled.READY && pollFds.get(JAVA_SHORT, 6) != 0;
    }

    /**
     * Sleeps {@code nanos} without watching the socket (only {@link #wakeup()} ends it early): lets
     * frames gather so that the next batch is larger.
     *
     * @return false when {@link #wakeup()} ended it (the wakeup is consumed)
     */
    boolean pause(long nanos) throws NativeException {
        return poll(eventPollFd, 1, timeout(nanos)) != Polled.WOKEN;
    }

    private enum Polled { READY, WOKEN, INTERRUPTED }

    private MemorySegment timeout(long nanos) {
        long t = Math.max(0, nanos);
        timeout.set(JAVA_LONG, 0, t / 1_000_000_000L);
        timeout.set(JAVA_LONG, 8, t % 1_000_000_000L);
        return timeout;
    }

    /** {@code ppoll} on {@code count} entries of {@link #pollFds} from {@code fds}; consumes a wakeup. */
    private Polled poll(MemorySegment fds, long count, MemorySegment wait) throws NativeException {
        pollFds.set(JAVA_SHORT, 6, (short) 0);
        pollFds.set(JAVA_SHORT, 14, (short) 0);
        if (Libc.ppoll(callState, fds, count, wait) < 0) {
            if (Libc.errno(callState) == Errno.EINTR) {
                return Polled.INTERRUPTED;
            }
            throw new NativeException("ppoll(" + what + ")", Libc.errno(callState));
        }
        if (pollFds.get(JAVA_SHORT, 14) != 0) {
            Libc.read(callState, eventFd, eventValue); // resets the counter; EAGAIN is harmless
            return Polled.WOKEN;
        }
        return Polled.READY;
    }

    /** Ends an {@link #await} early (now or, if none runs, the next one). Any thread. */
    synchronized void wakeup() {
        if (closed) {
            return;
        }
        wakeValue.set(JAVA_LONG, 0, 1L);
        Libc.write(wakeState, eventFd, wakeValue);
    }

    /** Closes the eventfd (the arena stays the caller's to close). */
    synchronized void close() {
        if (!closed) {
            closed = true;
            Libc.close(callState, eventFd);
        }
    }
}
