package dev.fulcrum.linux;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

class PrivilegesTest {

    @Test
    void readsTheEffectiveCapabilityMask(@TempDir Path dir) throws Exception {
        Path status = dir.resolve("status");
        Files.writeString(status, "Name:\tjava\nCapInh:\t0000000000000000\nCapPrm:\t000001ffffffffff\n"
                + "CapEff:\t0000000000003000\nCapBnd:\t000001ffffffffff\n");
        long mask = Privileges.effectiveCapabilities(status);
        assertThat(mask & (1L << Privileges.CAP_NET_RAW)).isNotZero();
        assertThat(mask & (1L << Privileges.CAP_NET_ADMIN)).isNotZero();
        assertThat(mask & 1L).isZero();
    }

    @Test
    void anUnreadableStatusMeansNoCapabilities(@TempDir Path dir) {
        assertThat(Privileges.effectiveCapabilities(dir.resolve("missing"))).isZero();
    }

    @Test
    void errnoNamesItsValue() {
        NativeException e = new NativeException("socket(AF_INET, SOCK_RAW, 112)", Errno.EPERM);
        assertThat(e).hasMessage("socket(AF_INET, SOCK_RAW, 112): EPERM (Operation not permitted)");
        assertThat(e.errnoName()).isEqualTo("EPERM");
        assertThat(Errno.describe(4242)).isEqualTo("errno 4242");
    }
}
