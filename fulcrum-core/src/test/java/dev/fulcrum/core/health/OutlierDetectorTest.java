package dev.fulcrum.core.health;

import dev.fulcrum.core.health.OutlierDetector.Decision;
import dev.fulcrum.core.health.OutlierDetector.History;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class OutlierDetectorTest {

    private static final Instant T0 = Instant.parse("2026-11-24T03:00:00Z");
    private final OutlierDetector detector = new OutlierDetector(3, 5, Duration.ofSeconds(30), 50);

    @Test
    void gatewayFailuresTripAtThreshold() {
        var s = new OutlierDetector.Streaks();
        assertThat(s.record(detector, RequestOutcome.GATEWAY_FAILURE)).isNull();
        assertThat(s.record(detector, RequestOutcome.GATEWAY_FAILURE)).isNull();
        assertThat(s.record(detector, RequestOutcome.GATEWAY_FAILURE)).isEqualTo("3 consecutive gateway failures");
    }

    @Test
    void successResetsBothStreaks() {
        var s = new OutlierDetector.Streaks();
        s.record(detector, RequestOutcome.GATEWAY_FAILURE);
        s.record(detector, RequestOutcome.GATEWAY_FAILURE);
        s.record(detector, RequestOutcome.SUCCESS);
        assertThat(s.record(detector, RequestOutcome.GATEWAY_FAILURE)).isNull();
        assertThat(s.record(detector, RequestOutcome.GATEWAY_FAILURE)).isNull();
        assertThat(s.record(detector, RequestOutcome.GATEWAY_FAILURE)).isNotNull();
    }

    @Test
    void fiveXxTripsAtThresholdAndEndsTheGatewayStreak() {
        var s = new OutlierDetector.Streaks();
        s.record(detector, RequestOutcome.GATEWAY_FAILURE);
        s.record(detector, RequestOutcome.GATEWAY_FAILURE);
        assertThat(s.record(detector, RequestOutcome.SERVER_5XX)).isNull();
        assertThat(s.gateway()).isZero();
        assertThat(s.fivexx()).isEqualTo(3);
        assertThat(s.record(detector, RequestOutcome.SERVER_5XX)).isNull();
        // gateway failures count as 5xx too: 2 gateway + 2 5xx + this one = 5 in a row
        assertThat(s.record(detector, RequestOutcome.SERVER_5XX)).isEqualTo("5 consecutive 5xx");
    }

    @Test
    void ejectionBacksOffLinearlyCappedAtTenTimes() {
        List<Duration> times = new ArrayList<>();
        History h = History.NONE;
        Instant now = T0;
        for (int i = 0; i < 12; i++) {
            Decision d = detector.decide(now, h, 0, 4);
            Decision.Eject e = (Decision.Eject) d;
            times.add(e.time());
            assertThat(e.until()).isEqualTo(now.plus(e.time()));
            // back in rotation at the deadline, fails again 1s later (no decay: < base-ejection)
            now = e.until();
            h = e.next().returned(now);
            now = now.plusSeconds(1);
        }
        assertThat(times).extracting(Duration::toSeconds)
                .containsExactly(30L, 60L, 90L, 120L, 150L, 180L, 210L, 240L, 270L, 300L, 300L, 300L);
    }

    @Test
    void multiplierDecaysByOnePerBaseEjectionInRotation() {
        History h = new History(4, T0);
        // 29s after return: no decay yet -> 5th ejection, 150s
        assertThat(((Decision.Eject) detector.decide(T0.plusSeconds(29), h, 0, 4)).time()).hasSeconds(150);
        // 65s after return: two full base-ejections -> counts as 2 -> 3rd ejection, 90s
        assertThat(((Decision.Eject) detector.decide(T0.plusSeconds(65), h, 0, 4)).time()).hasSeconds(90);
        // long healthy: back to 1x
        assertThat(((Decision.Eject) detector.decide(T0.plusSeconds(3600), h, 0, 4)).time()).hasSeconds(30);
    }

    @Test
    void maxEjectionPercentIsNeverExceeded() {
        // 50% of 4 = 2 servers
        assertThat(detector.decide(T0, History.NONE, 0, 4)).isInstanceOf(Decision.Eject.class);
        assertThat(detector.decide(T0, History.NONE, 1, 4)).isInstanceOf(Decision.Eject.class);
        assertThat(detector.decide(T0, History.NONE, 2, 4)).isInstanceOf(Decision.Hold.class);
        // 50% of 3 = 1.5 -> 1 server
        assertThat(detector.decide(T0, History.NONE, 0, 3)).isInstanceOf(Decision.Eject.class);
        assertThat(detector.decide(T0, History.NONE, 1, 3)).isInstanceOf(Decision.Hold.class);
        // a pool of one at 50% never loses its only server
        assertThat(detector.decide(T0, History.NONE, 0, 1))
                .isEqualTo(new Decision.Hold("0 of 1 servers already ejected, max-ejection-percent 50 allows 0"));
        // 100% allows all
        var all = new OutlierDetector(3, 5, Duration.ofSeconds(30), 100);
        assertThat(all.decide(T0, History.NONE, 0, 1)).isInstanceOf(Decision.Eject.class);
    }

    @Test
    void zeroThresholdTurnsThatTriggerOff() {
        var only5xx = new OutlierDetector(0, 2, Duration.ofSeconds(30), 50);
        var s = new OutlierDetector.Streaks();
        assertThat(s.record(only5xx, RequestOutcome.GATEWAY_FAILURE)).isNull();
        // gateway failures still count as 5xx
        assertThat(s.record(only5xx, RequestOutcome.GATEWAY_FAILURE)).isEqualTo("2 consecutive 5xx");
        assertThat(new OutlierDetector(0, 0, Duration.ofSeconds(30), 50).tripReason(1000, 1000)).isNull();
    }

    @Test
    void maxEjectedRoundsDown() {
        assertThat(OutlierDetector.maxEjected(10, 50)).isEqualTo(5);
        assertThat(OutlierDetector.maxEjected(3, 50)).isEqualTo(1);
        assertThat(OutlierDetector.maxEjected(3, 10)).isZero();
        assertThat(OutlierDetector.maxEjected(3, 0)).isZero();
    }
}
