package dev.fulcrum.linux;

import java.util.Map;

/**
 * Linux errno values by name (x86-64 and aarch64 share these), so failures read
 * {@code EPERM (Operation not permitted)} rather than a number.
 */
public final class Errno {

    public static final int EPERM = 1;
    public static final int ENOENT = 2;
    public static final int EINTR = 4;
    public static final int EAGAIN = 11;
    public static final int EACCES = 13;
    public static final int EEXIST = 17;
    public static final int ENODEV = 19;
    public static final int EINVAL = 22;
    public static final int EMSGSIZE = 90;
    public static final int ENOPROTOOPT = 92;
    public static final int EADDRNOTAVAIL = 99;
    public static final int ENETDOWN = 100;
    public static final int ENETUNREACH = 101;
    public static final int ENOBUFS = 105;

    private static final Map<Integer, String[]> NAMES = Map.ofEntries(
            entry(EPERM, "EPERM", "Operation not permitted"),
            entry(ENOENT, "ENOENT", "No such file or directory"),
            entry(3, "ESRCH", "No such process"),
            entry(EINTR, "EINTR", "Interrupted system call"),
            entry(9, "EBADF", "Bad file descriptor"),
            entry(EAGAIN, "EAGAIN", "Resource temporarily unavailable"),
            entry(12, "ENOMEM", "Cannot allocate memory"),
            entry(EACCES, "EACCES", "Permission denied"),
            entry(14, "EFAULT", "Bad address"),
            entry(16, "EBUSY", "Device or resource busy"),
            entry(EEXIST, "EEXIST", "File exists"),
            entry(ENODEV, "ENODEV", "No such device"),
            entry(EINVAL, "EINVAL", "Invalid argument"),
            entry(24, "EMFILE", "Too many open files"),
            entry(34, "ERANGE", "Numerical result out of range"),
            entry(88, "ENOTSOCK", "Socket operation on non-socket"),
            entry(EMSGSIZE, "EMSGSIZE", "Message too long"),
            entry(ENOPROTOOPT, "ENOPROTOOPT", "Protocol not available"),
            entry(93, "EPROTONOSUPPORT", "Protocol not supported"),
            entry(95, "EOPNOTSUPP", "Operation not supported"),
            entry(97, "EAFNOSUPPORT", "Address family not supported by protocol"),
            entry(98, "EADDRINUSE", "Address already in use"),
            entry(EADDRNOTAVAIL, "EADDRNOTAVAIL", "Cannot assign requested address"),
            entry(ENETDOWN, "ENETDOWN", "Network is down"),
            entry(ENETUNREACH, "ENETUNREACH", "Network is unreachable"),
            entry(ENOBUFS, "ENOBUFS", "No buffer space available"),
            entry(113, "EHOSTUNREACH", "No route to host"));

    private Errno() {
    }

    private static Map.Entry<Integer, String[]> entry(int value, String name, String text) {
        return Map.entry(value, new String[] {name, text});
    }

    /** {@code EPERM}, or {@code errno N} for a value not in the table. */
    public static String name(int errno) {
        String[] known = NAMES.get(errno);
        return known == null ? "errno " + errno : known[0];
    }

    /** {@code EPERM (Operation not permitted)}. */
    public static String describe(int errno) {
        String[] known = NAMES.get(errno);
        return known == null ? "errno " + errno : known[0] + " (" + known[1] + ")";
    }
}
