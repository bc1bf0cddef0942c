package dev.fulcrum.linux;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Whether this process may do what HA and DSR need: run on Linux with CAP_NET_RAW (raw and packet
 * sockets) and CAP_NET_ADMIN (addresses). Read from {@code /proc/self/status}, no native call, so
 * a start can fail with one clear line before any socket is opened.
 */
public final class Privileges {

    public static final int CAP_NET_ADMIN = 12;
    public static final int CAP_NET_RAW = 13;

    private Privileges() {
    }

    /** Whether the JVM runs on Linux. */
    public static boolean isLinux() {
        return System.getProperty("os.name", "").toLowerCase(Locale.ROOT).startsWith("linux");
    }

    /** The names of the capabilities HA and DSR need that this process lacks (empty: has them all). */
    public static List<String> missingNetworkCapabilities() {
        long effective = effectiveCapabilities(Path.of("/proc/self/status"));
        List<String> missing = new ArrayList<>();
        if ((effective & (1L << CAP_NET_RAW)) == 0) {
            missing.add("CAP_NET_RAW");
        }
        if ((effective & (1L << CAP_NET_ADMIN)) == 0) {
            missing.add("CAP_NET_ADMIN");
        }
        return missing;
    }

    /** The {@code CapEff} mask of a {@code /proc/PID/status} file; 0 if it cannot be read. */
    static long effectiveCapabilities(Path status) {
        try {
            for (String line : Files.readAllLines(status)) {
                if (line.startsWith("CapEff:")) {
                    return Long.parseUnsignedLong(line.substring("CapEff:".length()).trim(), 16);
                }
            }
        } catch (IOException | NumberFormatException e) {
            return 0;
        }
        return 0;
    }
}
