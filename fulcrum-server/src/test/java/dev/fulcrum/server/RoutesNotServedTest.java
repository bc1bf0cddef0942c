package dev.fulcrum.server;

import dev.fulcrum.server.config.ConfigLoader;
import dev.fulcrum.server.config.FulcrumConfig;
import dev.fulcrum.server.net.StartException;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Until the proxy serves routes, a listener written with them is refused before anything starts. */
class RoutesNotServedTest {

    @Test
    void aListenerWithRoutesIsRefusedAtStart() {
        FulcrumConfig config = ConfigLoader.parse("""
                listeners:
                  - name: web
                    listen: 127.0.0.1:8080
                    routes:
                      - pool: app
                pools:
                  - name: app
                """, "fulcrum.yaml", Map.of());

        assertThatThrownBy(() -> FulcrumServer.start(config)).isInstanceOf(StartException.class)
                .hasMessage("listener web: routes are not served yet; give the listener a pool instead");
    }
}
