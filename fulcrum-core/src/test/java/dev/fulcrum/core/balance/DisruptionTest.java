package dev.fulcrum.core.balance;

import dev.fulcrum.core.pool.Server;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Function;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Consistent hashing's promise: ten servers, one leaves, 100,000 uniform keys. Keys of the
 * server that left must move (about 10 %); keys of the others should mostly stay.
 */
class DisruptionTest {

    private static final int KEYS = 100_000;

    /** [fraction of all keys that changed server, fraction of survivors' keys that changed]. */
    private static double[] disruption(Function<List<WeightedServer>, Balancer> factory) {
        List<WeightedServer> ten = Servers.equal(10);
        Server leaving = ten.get(3).server();
        List<WeightedServer> nine = new ArrayList<>(ten);
        nine.remove(3);
        Balancer before = factory.apply(ten);
        Balancer after = factory.apply(nine);
        SplittableRandom keys = new SplittableRandom(42);
        int moved = 0;
        int survivorKeys = 0;
        int survivorMoved = 0;
        for (int i = 0; i < KEYS; i++) {
            Pick pick = Pick.of(keys.nextLong(), keys);
            Server was = before.pick(pick);
            Server now = after.pick(pick);
            if (was != now) {
                moved++;
            }
            if (was != leaving) {
                survivorKeys++;
                if (was != now) {
                    survivorMoved++;
                }
            }
        }
        return new double[]{(double) moved / KEYS, (double) survivorMoved / survivorKeys};
    }

    @Test
    void maglevMovesAtMost12PercentOfKeysWhenOneOfTenServersLeaves() {
        double[] d = disruption(Maglev::new);
        assertThat(d[0]).isLessThanOrEqualTo(0.12);
        assertThat(d[1]).as("survivors' keys moved").isLessThanOrEqualTo(0.03);
    }

    @Test
    void ringHashMovesAtMost15PercentOfKeysWhenOneOfTenServersLeaves() {
        double[] d = disruption(RingHash::new);
        assertThat(d[0]).isLessThanOrEqualTo(0.15);
        // equal weights, small pool: the survivors' points stay exactly where they were
        assertThat(d[1]).as("survivors' keys moved").isZero();
    }
}
