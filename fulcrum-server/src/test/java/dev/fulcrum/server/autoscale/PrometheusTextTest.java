package dev.fulcrum.server.autoscale;

import org.junit.jupiter.api.Test;

import java.util.OptionalDouble;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class PrometheusTextTest {

    private static final String PAGE = """
            # HELP process_cpu_usage_total not the gauge: a longer name
            # TYPE process_cpu_usage_total counter
            process_cpu_usage_total 99
            # HELP process_cpu_usage Share of the last 5 s that the --cpus workers spent working (0..1).
            # TYPE process_cpu_usage gauge
            process_cpu_usage 0.8125

            demo_requests_total{kind="work",note="a \\"quoted\\" } brace, and a comma"} 12 1700000000000
            """;

    @Test
    void readsTheGaugeByExactNameIgnoringCommentsAndOthers() {
        assertThat(PrometheusText.gauge(PAGE, "process_cpu_usage")).isEqualTo(OptionalDouble.of(0.8125));
        assertThat(PrometheusText.gauge(PAGE, "demo_requests_total")).isEqualTo(OptionalDouble.of(12));
        assertThat(PrometheusText.gauge(PAGE, "process_cpu")).isEmpty();
    }

    @Test
    void toleratesLabelsAndReadsTheFirstSeries() {
        String text = "cpu{core=\"0\"} 0.5\ncpu{core=\"1\"} 0.7\n";
        assertThat(PrometheusText.gauge(text, "cpu")).isEqualTo(OptionalDouble.of(0.5));
        assertThat(PrometheusText.gauge("cpu{} 3e-1", "cpu")).isEqualTo(OptionalDouble.of(0.3));
        assertThat(PrometheusText.gauge("cpu{a=\"x\",} +Inf", "cpu")).isEqualTo(OptionalDouble.of(Double.POSITIVE_INFINITY));
    }

    @Test
    void nanIsUnknown() {
        assertThat(PrometheusText.gauge("cpu NaN\n", "cpu")).isEmpty();
    }

    @Test
    void malformedLinesAreErrorsWithTheLineNumber() {
        assertThatThrownBy(() -> PrometheusText.gauge("ok 1\ncpu 0,5\n", "cpu"))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("line 2: bad value 0,5");
        assertThatThrownBy(() -> PrometheusText.gauge("cpu{core=0} 1", "cpu"))
                .hasMessage("line 1: expected a quoted label value at column 10");
        assertThatThrownBy(() -> PrometheusText.gauge("cpu{core=\"0} 1", "cpu"))
                .hasMessage("line 1: unterminated label value");
        assertThatThrownBy(() -> PrometheusText.gauge("cpu", "cpu"))
                .hasMessage("line 1: expected a value (and an optional timestamp) after cpu");
        assertThatThrownBy(() -> PrometheusText.gauge("cpu 1 2 3", "cpu")).hasMessageStartingWith("line 1: expected a value");
        assertThatThrownBy(() -> PrometheusText.gauge("cpu 1 soon", "cpu")).hasMessage("line 1: bad timestamp soon");
        assertThatThrownBy(() -> PrometheusText.gauge("<html>", "cpu")).hasMessage("line 1: expected a metric name");
        assertThatThrownBy(() -> PrometheusText.gauge("cpu 0x10", "cpu")).hasMessage("line 1: bad value 0x10");
    }
}
