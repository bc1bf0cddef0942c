package dev.fulcrum.linux;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;

/**
 * What this module's sockets do alike: receive one datagram after a {@link ReadinessWait}, and
 * free their native parts in one order (the wait, the descriptor, then the memory). Package-private.
 */
final class Sockets {

    private Sockets() {
    }

    /**
     * Waits up to {@code timeoutNanos} for {@code fd} to be readable, receives one datagram into
     * {@code buffer} without blocking and copies it into {@code into}.
     *
     * @return its length (cut to {@code into}'s), or 0 when the time ran out, the wait was woken,
     *         or a signal or a competing reader took it first
     */
    static int receive(ReadinessWait readiness, MemorySegment callState, int fd, MemorySegment buffer, byte[] into,
                       long timeoutNanos, String what) throws NativeException {
        if (!readiness.await(timeoutNanos)) {
            return 0;
        }
        long n = Libc.recv(callState, fd, buffer, Libc.MSG_DONTWAIT);
        if (n < 0) {
            int errno = Libc.errno(callState);
            if (errno == Errno.EAGAIN || errno == Errno.EINTR) {
                return 0;
            }
            throw new NativeException("recv(" + what + ")", errno);
        }
        int length = (int) Math.min(n, into.length);
        MemorySegment.copy(buffer, JAVA_BYTE, 0, into, 0, length);
        return length;
    }

    /** Closes {@code readiness} (if any), then {@code fd} (if opened), then frees {@code arena}. Once. */
    static void release(ReadinessWait readiness, MemorySegment callState, int fd, Arena arena) {
        if (readiness != null) {
            readiness.close();
        }
        if (fd >= 0) {
            Libc.close(callState, fd);
        }
        arena.close();
    }
}
