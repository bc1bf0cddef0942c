package dev.fulcrum.linux;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.Inet4Address;
import java.net.InetAddress;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** rtnetlink add/remove, checked with {@code ip addr}, on a veth interface in a namespace of the test's own. */
class InterfaceAddressesTest {

    private TestNetns ns;
    private int index;

    @BeforeEach
    void namespace() throws Exception {
        String why = TestNetns.unavailableReason();
        assumeTrue(why == null, () -> "skipped: " + why);
        ns = TestNetns.create();
        ns.ip("link", "add", "d0", "type", "veth", "peer", "name", "d1"); // no dummy module on every kernel
        ns.ip("link", "set", "d0", "up");
        index = ns.index("d0");
    }

    @AfterEach
    void remove() throws Exception {
        if (ns != null) {
            ns.close();
        }
    }

    @Test
    void addsAndRemovesAnAddressAsIpAddrDoes() throws Exception {
        Inet4Address vip = (Inet4Address) InetAddress.getByName("10.99.0.100");
        boolean[] results = ns.call(() -> {
            try (InterfaceAddresses addresses = InterfaceAddresses.open()) {
                boolean added = addresses.add(index, vip, 24);
                boolean addedAgain = addresses.add(index, vip, 24);
                return new boolean[] {added, addedAgain};
            }
        });
        assertThat(results).containsExactly(true, false);
        assertThat(ns.ip("-4", "addr", "show", "d0")).contains("inet 10.99.0.100/24");

        boolean[] removed = ns.call(() -> {
            try (InterfaceAddresses addresses = InterfaceAddresses.open()) {
                return new boolean[] {addresses.remove(index, vip, 24), addresses.remove(index, vip, 24)};
            }
        });
        assertThat(removed).containsExactly(true, false);
        assertThat(ns.ip("-4", "addr", "show", "d0")).doesNotContain("10.99.0.100");
    }

    @Test
    void anUnknownInterfaceIsReportedByErrnoName() {
        assertThatThrownBy(() -> ns.call(() -> {
            try (InterfaceAddresses addresses = InterfaceAddresses.open()) {
                return addresses.add(9999, (Inet4Address) InetAddress.getByName("10.99.0.101"), 24);
            }
        })).isInstanceOf(NativeException.class)
                .hasMessage("RTM_NEWADDR 10.99.0.101/24: ENODEV (No such device)");
    }
}
