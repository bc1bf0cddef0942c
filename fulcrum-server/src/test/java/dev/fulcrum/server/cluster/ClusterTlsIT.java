package dev.fulcrum.server.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import dev.fulcrum.server.cluster.ClusterFixture.Node;
import dev.fulcrum.server.cluster.ClusterFixture.Pushed;
import dev.fulcrum.server.testing.CloseAfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static dev.fulcrum.server.cluster.ClusterFixture.JSON;
import static dev.fulcrum.server.cluster.ClusterFixture.cluster;
import static dev.fulcrum.server.cluster.ClusterFixture.push;
import static dev.fulcrum.server.cluster.ClusterFixture.send;
import static dev.fulcrum.server.cluster.ClusterFixture.servers;
import static dev.fulcrum.server.cluster.ClusterFixture.status;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code cluster.tls} against real etcd members (3 on loopback) serving TLS on their client ports
 * and requiring a client certificate from the fixture's CA ({@code --client-cert-auth}): a node
 * serves the config pushed over TLS and writes through it; a CA that did not sign etcd's
 * certificate, and a missing client certificate, fail in one line that names the endpoint and
 * what is wrong with the handshake.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ClusterTlsIT {

    @RegisterExtension
    static final ClusterFixture fx = ClusterFixture.withMutualTls();

    @RegisterExtension
    final CloseAfterEach closer = new CloseAfterEach();

    @Test
    void aNodeServesAndWritesTheConfigPushedOverMutualTls() throws Exception {
        String prefix = "/it-tls";
        Path ca = fx.certificates().ca().cert();
        Pushed pushed = push(fx.sharedFile(prefix, fx.etcd().endpoints(), fx.tlsYaml(ca, true)));
        assertThat(pushed.exitCode()).as(pushed.output()).isZero();

        Node node = fx.startNodes(closer, prefix, 1, fx.etcd().endpoints(), "5s", fx.tlsYaml(ca, true)).getFirst();
        assertThat(status(node.listenPort())).isEqualTo(200);
        assertThat(cluster(node).path("etcd").asText()).isEqualTo("up");
        assertThat(cluster(node).path("revision").asLong()).isGreaterThanOrEqualTo(pushed.revision());
        HttpResponse<String> added = send(node, "POST", "/api/v1/pools/app/servers?wait=applied",
                "{\"address\":\"127.0.0.2:28000\",\"weight\":0}");
        assertThat(added.statusCode()).as(added.body()).isEqualTo(201);
        JsonNode body = JSON.readTree(added.body());
        assertThat(body.path("revision").asLong()).isGreaterThan(pushed.revision());
        assertThat(servers(node).findValuesAsText("address")).contains("127.0.0.2:28000");
    }

    @Test
    void aWrongCaOrNoClientCertificateFailsInOneLineNamingTheEndpoint() throws Exception {
        String first = fx.etcd().endpoints().getFirst();
        Pushed wrongCa = push(fx.sharedFile("/it-tls-wrong-ca", fx.etcd().endpoints(),
                fx.tlsYaml(fx.certificates().otherCa().cert(), true)));
        assertThat(wrongCa.exitCode()).as(wrongCa.output()).isEqualTo(1);
        assertThat(wrongCa.output().strip()).doesNotContain("\n").startsWith("fulcrum: etcd " + first
                + ": TLS handshake failed: etcd's certificate is not signed by cluster.tls.ca ("
                + fx.certificates().otherCa().cert() + ")");

        Pushed noCertificate = push(fx.sharedFile("/it-tls-no-cert", fx.etcd().endpoints(),
                fx.tlsYaml(fx.certificates().ca().cert(), false)));
        assertThat(noCertificate.exitCode()).as(noCertificate.output()).isEqualTo(1);
        assertThat(noCertificate.output().strip()).doesNotContain("\n").startsWith("fulcrum: etcd " + first
                + ": TLS handshake failed: etcd refused this node's client certificate (none given: set"
                + " cluster.tls.cert and key)");
    }
}
