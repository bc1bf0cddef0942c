package dev.fulcrum.linux;

import java.io.IOException;

/**
 * A Linux call failed: names the call and its errno, e.g.
 * {@code setsockopt(SO_BINDTODEVICE eth9): ENODEV (No such device)}.
 */
public final class NativeException extends IOException {

    private final int errno;

    public NativeException(String call, int errno) {
        super(call + ": " + Errno.describe(errno));
        this.errno = errno;
    }

    /** The same, with what the errno means here, e.g. {@code ...: ENOPROTOOPT (...); needs Linux 4.20 or later}. */
    public NativeException(String call, int errno, String hint) {
        super(call + ": " + Errno.describe(errno) + "; " + hint);
        this.errno = errno;
    }

    /** The raw errno value. */
    public int errno() {
        return errno;
    }

    /** The errno's symbolic name ({@code EPERM}), or {@code errno N} when not in {@link Errno}'s table. */
    public String errnoName() {
        return Errno.name(errno);
    }
}
