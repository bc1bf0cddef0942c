package dev.fulcrum.server.dsr;

import dev.fulcrum.core.dsr.MacAddress;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The kernel's IPv4 neighbour (ARP) table, read from {@code /proc/net/arp} (this process's network
 * namespace): complete entries only ({@code ATF_COM}), on one device. The pool's health checks
 * connect to every server, so the kernel resolves and refreshes their MACs on its own; reading the
 * table is all DSR needs.
 */
final class NeighbourTable {

    static final Path PROC = Path.of("/proc/net/arp");
    private static final int ATF_COM = 0x2;

    private NeighbourTable() {
    }

    /** Address → MAC ({@link MacAddress} long) of the complete entries on {@code device}. */
    static Map<String, Long> read(Path file, String device) throws IOException {
        return parse(Files.readAllLines(file), device);
    }

    /**
     * Parses the table's text: a header line, then
     * {@code IP-address HW-type Flags HW-address Mask Device} per entry.
     */
    static Map<String, Long> parse(List<String> lines, String device) {
        Map<String, Long> macs = new HashMap<>();
        for (String line : lines.subList(Math.min(1, lines.size()), lines.size())) {
            String[] f = line.trim().split("\\s+");
            if (f.length < 6 || !f[5].equals(device)) {
                continue;
            }
            int flags;
            try {
                flags = Integer.decode(f[2]);
            } catch (NumberFormatException e) {
                continue;
            }
            if ((flags & ATF_COM) != 0) {
                try {
                    macs.put(f[0], MacAddress.parse(f[3]));
                } catch (IllegalArgumentException e) {
                    // an entry with an odd hardware address: not a server we can forward to
                }
            }
        }
        return macs;
    }
}
