package dev.fulcrum.server.cluster;

import dev.fulcrum.server.autoscale.PendingAction;
import dev.fulcrum.server.autoscale.ScaledServer;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;

/** The scaling records' JSON round trip, and records that are not records left out rather than acted on. */
class ScalingStateTest {

    private final KeyLayout layout = new KeyLayout("/fulcrum");
    private final Instant at = Instant.parse("2026-12-07T06:00:00.123Z");

    @Test
    void whatThisNodeWritesReadsBack() {
        ScaledServer process = new ScaledServer("127.0.0.1:9150", "n1", at, 4242, at.minusMillis(5));
        ScaledServer exec = new ScaledServer("10.0.0.9:80", "n2", at, 0, null);
        Map<String, String> keys = new TreeMap<>();
        keys.put(layout.server("app", process.address()), ScalingState.serverJson(process));
        keys.put(layout.server("app", exec.address()), ScalingState.serverJson(exec));
        keys.put(layout.server("app", "10.0.0.1:80"), "{\"address\":\"10.0.0.1:80\",\"weight\":1}");
        keys.put(layout.scaling("app"), ScalingState.lastActionJson(at, "n1"));
        keys.put(layout.pending("app", "a"), ScalingState.pendingJson(new PendingAction("a", true, "n1", at, null)));
        keys.put(layout.pending("app", "b"), ScalingState.pendingJson(new PendingAction("b", false, "n1", at, process)));
        keys.put(layout.member("n1"), "{}");

        ScalingState state = ScalingState.of(keys, layout);
        assertThat(state.scaled().get("app")).containsOnlyKeys(process.address(), exec.address());
        assertThat(state.scaled().get("app").get(process.address())).isEqualTo(process);
        assertThat(state.scaled().get("app").get(exec.address())).isEqualTo(exec);
        assertThat(state.lastAction()).containsEntry("app", at);
        assertThat(state.pending().get("app")).containsExactly(new PendingAction("a", true, "n1", at, null),
                new PendingAction("b", false, "n1", at, process));
        assertThat(state.members()).containsExactly("n1");
        String adopted = ScalingState.withScaled(keys.get(layout.server("app", process.address())), process.ownedBy("n3"));
        keys.put(layout.server("app", process.address()), adopted);
        assertThat(ScalingState.of(keys, layout).scaled().get("app").get(process.address()).node()).isEqualTo("n3");
    }

    @Test
    void recordsThatAreNotRecordsAreLeftOut() {
        Map<String, String> keys = new TreeMap<>();
        for (String bad : List.of("not json", "[]", "{\"scaled\":1}", "{\"scaled\":{\"node\":\"n1\"}}",
                "{\"scaled\":{\"node\":\"n1\",\"at\":\"2026-12-07T06:00:00Z\",\"pid\":7}}",
                "{\"scaled\":{\"node\":\"n1\",\"at\":\"2026-12-07T06:00:00Z\",\"pid\":-1}}")) {
            keys.put(layout.server("app", "10.0.0." + keys.size() + ":80"), bad);
        }
        keys.put(layout.scaling("app"), "{\"lastAction\":\"yesterday\"}");
        keys.put(layout.pending("app", "a"), "{\"direction\":\"sideways\",\"node\":\"n1\",\"since\":\"2026-12-07T06:00:00Z\"}");
        keys.put(layout.pending("app", "b"), "{\"direction\":\"in\",\"node\":\"n1\",\"since\":\"2026-12-07T06:00:00Z\"}");
        keys.put(layout.pending("app", "c"), "");
        ScalingState state = ScalingState.of(keys, layout);
        assertThat(state.scaled()).isEmpty();
        assertThat(state.lastAction()).isEmpty();
        assertThat(state.pending()).isEmpty();
    }
}
