package dev.fulcrum.linux;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The libc functions Fulcrum calls, as method handles that capture errno
 * ({@link Linker.Option#captureCallState}): errno must be read from the call's own state
 * segment, since the JVM may run other native code between the call and a later read.
 * Each wrapper returns the raw result; {@link #check} turns a negative one into a
 * {@link NativeException}. Package-private: only this module's typed wrappers use it.
 *
 * <p>Constants are Linux's (x86-64 and aarch64 agree on all of these).
 */
final class Libc {

    static final int AF_INET = 2;
    static final int AF_NETLINK = 16;
    static final int AF_PACKET = 17;
    static final int SOCK_DGRAM = 2;
    static final int SOCK_RAW = 3;
    static final int SOCK_CLOEXEC = 0x80000;
    static final int SOL_SOCKET = 1;
    static final int SO_RCVBUF = 8;
    static final int SO_BINDTODEVICE = 25;
    static final int SO_ATTACH_FILTER = 26;
    static final int SO_RCVBUFFORCE = 33;
    static final int SOL_PACKET = 263;
    static final int PACKET_RX_RING = 5;
    static final int PACKET_STATISTICS = 6;
    static final int PACKET_COPY_THRESH = 7;
    static final int PACKET_VERSION = 10;
    static final int PACKET_VNET_HDR = 15;
    static final int PACKET_FANOUT = 18;
    static final int PACKET_IGNORE_OUTGOING = 23;
    static final int TPACKET_V2 = 1;
    static final int PACKET_FANOUT_HASH = 0;
    static final int ETH_P_IP = 0x0800;
    static final int IPPROTO_IP = 0;
    static final int IP_TTL = 2;
    static final int IP_MULTICAST_IF = 32;
    static final int IP_MULTICAST_TTL = 33;
    static final int IP_MULTICAST_LOOP = 34;
    static final int IP_ADD_MEMBERSHIP = 35;
    static final int NETLINK_ROUTE = 0;
    static final int MSG_TRUNC = 0x20;
    static final int MSG_DONTWAIT = 0x40;
    static final int PROT_READ = 1;
    static final int PROT_WRITE = 2;
    static final int MAP_SHARED = 1;
    static final int MAP_POPULATE = 0x8000;
    static final int EFD_CLOEXEC = 0x80000;
    static final int EFD_NONBLOCK = 0x800;
    static final short POLLIN = 1;
    static final int SCHED_RR = 2;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final StructLayout CALL_STATE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CALL_STATE.varHandle(MemoryLayout.PathElement.groupElement("errno"));

    private static final MethodHandle SOCKET = downcall("socket", JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT);
    private static final MethodHandle SETSOCKOPT =
            downcall("setsockopt", JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT);
    private static final MethodHandle BIND = downcall("bind", JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT);
    private static final MethodHandle SENDTO =
            downcall("sendto", JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT);
    private static final MethodHandle GETSOCKOPT =
            downcall("getsockopt", JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS);
    private static final MethodHandle SENDMMSG = downcall("sendmmsg", JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT);
    private static final MethodHandle MMAP =
            downcall("mmap", ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG);
    private static final MethodHandle MUNMAP = downcall("munmap", JAVA_INT, ADDRESS, JAVA_LONG);
    private static final MethodHandle RECV = downcall("recv", JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT);
    private static final MethodHandle PPOLL = downcall("ppoll", JAVA_INT, ADDRESS, JAVA_LONG, ADDRESS, ADDRESS);
    private static final MethodHandle CLOSE = downcall("close", JAVA_INT, JAVA_INT);
    private static final MethodHandle EVENTFD = downcall("eventfd", JAVA_INT, JAVA_INT, JAVA_INT);
    private static final MethodHandle WRITE = downcall("write", JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG);
    private static final MethodHandle READ = downcall("read", JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG);
    private static final MethodHandle SCHED_SETSCHEDULER =
            downcall("sched_setscheduler", JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS);

    private Libc() {
    }

    private static MethodHandle downcall(String name, java.lang.foreign.MemoryLayout result,
                                         java.lang.foreign.MemoryLayout... args) {
        MemorySegment symbol = LINKER.defaultLookup().find(name)
                .orElseThrow(() -> new UnsatisfiedLinkError("libc has no " + name));
        return LINKER.downcallHandle(symbol, FunctionDescriptor.of(result, args),
                Linker.Option.captureCallState("errno"));
    }

    /** A segment to pass as the first argument of every call; one per thread that calls. */
    static MemorySegment callState(Arena arena) {
        return arena.allocate(CALL_STATE);
    }

    static int errno(MemorySegment callState) {
        return (int) ERRNO.get(callState, 0L);
    }

    /** {@code result} when ≥ 0, else a {@link NativeException} naming {@code call} and errno. */
    static long check(long result, MemorySegment callState, String call) throws NativeException {
        if (result < 0) {
            throw new NativeException(call, errno(callState));
        }
        return result;
    }

    static int socket(MemorySegment st, int domain, int type, int protocol) {
        try {
            return (int) SOCKET.invokeExact(st, domain, type, protocol);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    static int setsockopt(MemorySegment st, int fd, int level, int name, MemorySegment value) {
        try {
            return (int) SETSOCKOPT.invokeExact(st, fd, level, name, value, (int) value.byteSize());
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    static int bind(MemorySegment st, int fd, MemorySegment address) {
        try {
            return (int) BIND.invokeExact(st, fd, address, (int) address.byteSize());
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    static long sendto(MemorySegment st, int fd, MemorySegment buf, long length, int flags, MemorySegment address) {
        try {
            return (long) SENDTO.invokeExact(st, fd, buf, length, flags, address, (int) address.byteSize());
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /** {@code value}'s size goes in and the kernel's length comes out through {@code length} (a C int). */
    static int getsockopt(MemorySegment st, int fd, int level, int name, MemorySegment value, MemorySegment length) {
        length.set(JAVA_INT, 0, (int) value.byteSize());
        try {
            return (int) GETSOCKOPT.invokeExact(st, fd, level, name, value, length);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /** Sends {@code count} messages of a {@code struct mmsghdr} array; the number sent, or -1. */
    static int sendmmsg(MemorySegment st, int fd, MemorySegment messages, int count, int flags) {
        try {
            return (int) SENDMMSG.invokeExact(st, fd, messages, count, flags);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /** A shared mapping of {@code length} bytes of {@code fd}; the address, or -1 (MAP_FAILED). */
    static long mmap(MemorySegment st, long length, int protection, int flags, int fd) {
        try {
            return ((MemorySegment) MMAP.invokeExact(st, MemorySegment.NULL, length, protection, flags, fd, 0L)).address();
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    static int munmap(MemorySegment st, long address, long length) {
        try {
            return (int) MUNMAP.invokeExact(st, MemorySegment.ofAddress(address), length);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    static long recv(MemorySegment st, int fd, MemorySegment buf, int flags) {
        try {
            return (long) RECV.invokeExact(st, fd, buf, buf.byteSize(), flags);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /** {@code timeout} is a {@code struct timespec}, or {@link MemorySegment#NULL} to wait forever. */
    static int ppoll(MemorySegment st, MemorySegment pollfds, long count, MemorySegment timeout) {
        try {
            return (int) PPOLL.invokeExact(st, pollfds, count, timeout, MemorySegment.NULL);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    static int close(MemorySegment st, int fd) {
        try {
            return (int) CLOSE.invokeExact(st, fd);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    static int eventfd(MemorySegment st, int initial, int flags) {
        try {
            return (int) EVENTFD.invokeExact(st, initial, flags);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    static long write(MemorySegment st, int fd, MemorySegment buf) {
        try {
            return (long) WRITE.invokeExact(st, fd, buf, buf.byteSize());
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    static long read(MemorySegment st, int fd, MemorySegment buf) {
        try {
            return (long) READ.invokeExact(st, fd, buf, buf.byteSize());
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    static int schedSetscheduler(MemorySegment st, int pid, int policy, MemorySegment param) {
        try {
            return (int) SCHED_SETSCHEDULER.invokeExact(st, pid, policy, param);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    private static IllegalStateException unexpected(Throwable t) {
        if (t instanceof Error e) {
            throw e;
        }
        return new IllegalStateException("native call failed to link or run: " + t, t);
    }
}
