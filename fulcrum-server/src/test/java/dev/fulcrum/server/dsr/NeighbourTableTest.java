package dev.fulcrum.server.dsr;

import dev.fulcrum.core.dsr.MacAddress;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class NeighbourTableTest {

    private static final List<String> PROC_NET_ARP = List.of(
            "IP address       HW type     Flags       HW address            Mask     Device",
            "10.88.0.21       0x1         0x2         0e:11:22:33:44:21     *        eth0",
            "10.88.0.22       0x1         0x0         00:00:00:00:00:00     *        eth0",
            "10.88.0.23       0x1         0x6         0e:11:22:33:44:23     *        eth0",
            "192.168.1.1      0x1         0x2         0e:99:99:99:99:01     *        eth1");

    @Test
    void completeEntriesOfTheDeviceOnly() {
        assertThat(NeighbourTable.parse(PROC_NET_ARP, "eth0")).containsOnly(
                java.util.Map.entry("10.88.0.21", MacAddress.parse("0e:11:22:33:44:21")),
                java.util.Map.entry("10.88.0.23", MacAddress.parse("0e:11:22:33:44:23")));
    }

    @Test
    void anEmptyOrOddTableGivesNothing() {
        assertThat(NeighbourTable.parse(List.of(), "eth0")).isEmpty();
        assertThat(NeighbourTable.parse(List.of("header", "garbage"), "eth0")).isEmpty();
    }
}
