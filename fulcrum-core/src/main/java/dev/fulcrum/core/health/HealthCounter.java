package dev.fulcrum.core.health;

import dev.fulcrum.core.pool.ServerState;

import java.util.Optional;

/**
 * The rise/fall hysteresis of one server's active health checks: ONE counter {@code health} in
 * {@code [0, rise+fall-1]}, as in HAProxy's {@code check.c}. The server is up while
 * {@code health >= rise}.
 *
 * <ul>
 *   <li>A pass increments the counter (at most {@code rise+fall-1}); when it reaches {@code rise}
 *       it jumps to {@code rise+fall-1}: the server went up after {@code rise} passes in a row,
 *       and a single pass while up restores the full margin.</li>
 *   <li>A failure decrements it (at least 0); when it drops below {@code rise} it falls to 0: the
 *       server went down after {@code fall} failures in a row (from the top of the up side), and a
 *       single failure while down forgets the passes collected so far.</li>
 * </ul>
 *
 * So "rise passes in a row to go up, fall failures in a row to go down" holds with one number.
 *
 * <p>A newly registered server starts {@link ServerState#CHECKING}: it has had no traffic yet, and
 * the admin API promises it "takes traffic as soon as one check passes", so from {@code checking}
 * the first pass goes up at once (counter to {@code rise+fall-1}). Failures in {@code checking}
 * move the counter the same way they would from the top of the up side (the counter then counts
 * failures: it is 0 on entry and goes down after {@code fall} of them in a row), so a server that
 * is still booting is not reported down by its very first check. A server registered before the
 * health checks started is taken as up ({@link #up(int, int)}).
 *
 * <p>Pure and not thread-safe: one instance per server, confined to the thread running its checks.
 */
public final class HealthCounter {

    private final int rise;
    private final int fall;
    private ServerState state;
    /** In [0, rise+fall-1]; while {@code checking} it counts failures in a row instead. */
    private int health;

    private HealthCounter(int rise, int fall, ServerState state, int health) {
        if (rise < 1 || fall < 1) {
            throw new IllegalArgumentException("rise and fall must be >= 1, got " + rise + "/" + fall);
        }
        this.rise = rise;
        this.fall = fall;
        this.state = state;
        this.health = health;
    }

    /** A new server: {@code checking}, no traffic until its first pass. */
    public static HealthCounter checking(int rise, int fall) {
        return new HealthCounter(rise, fall, ServerState.CHECKING, 0);
    }

    /** A server known to be up (registered before checks began): at the top of the up side. */
    public static HealthCounter up(int rise, int fall) {
        return new HealthCounter(rise, fall, ServerState.UP, rise + fall - 1);
    }

    /** A server known to be down: needs {@code rise} passes in a row. */
    public static HealthCounter down(int rise, int fall) {
        return new HealthCounter(rise, fall, ServerState.DOWN, 0);
    }

    /** {@code checking}, {@code up} or {@code down}, by active checks alone. */
    public ServerState state() {
        return state;
    }

    /** The hysteresis counter, for tests and the API: in {@code [0, rise+fall-1]}. */
    public int health() {
        return health;
    }

    public int rise() {
        return rise;
    }

    public int fall() {
        return fall;
    }

    private int max() {
        return rise + fall - 1;
    }

    /** Records a passing check; returns the transition it caused, if any. */
    public Optional<HealthTransition> pass() {
        switch (state) {
            case CHECKING -> {
                health = max();
                return move(ServerState.UP, "1 check passed");
            }
            case UP -> {
                health = max();
                return Optional.empty();
            }
            default -> {
                health++;
                if (health >= rise) {
                    health = max();
                    return move(ServerState.UP, plural(rise, "check") + " passed");
                }
                return Optional.empty();
            }
        }
    }

    /**
     * Records a failed check; {@code detail} says why ({@code connection refused},
     * {@code timeout after 1s}, {@code status 503}) and ends the reason of a down transition.
     */
    public Optional<HealthTransition> fail(String detail) {
        switch (state) {
            case CHECKING -> {
                health++;
                if (health >= fall) {
                    health = 0;
                    return move(ServerState.DOWN, plural(fall, "check") + " failed: " + detail);
                }
                return Optional.empty();
            }
            case UP -> {
                health--;
                if (health < rise) {
                    health = 0;
                    return move(ServerState.DOWN, plural(fall, "check") + " failed: " + detail);
                }
                return Optional.empty();
            }
            default -> {
                health = 0;
                return Optional.empty();
            }
        }
    }

    private Optional<HealthTransition> move(ServerState to, String reason) {
        HealthTransition t = new HealthTransition(state, to, reason);
        state = to;
        return Optional.of(t);
    }

    private static String plural(int n, String word) {
        return n + " " + word + (n == 1 ? "" : "s");
    }

    @Override
    public String toString() {
        return state + " " + health + "/" + max();
    }
}
