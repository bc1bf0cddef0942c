package dev.fulcrum.server.http;

import dev.fulcrum.server.http.message.MessageHead;
import org.junit.jupiter.api.Test;

import static dev.fulcrum.server.http.TestHeads.written;
import static org.assertj.core.api.Assertions.assertThat;

class ClientCertHeaderTest {

    @Test
    void aFieldTheClientSentIsRemovedWhenThereIsNoCertificate() {
        MessageHead in = TestHeads.request("GET / HTTP/1.1\r\nHost: h\r\nx-client-cert-subject: CN=admin\r\n"
                + "X-Client-Cert-Subject: CN=root\r\n");
        ClientCertHeader.toServer(in, null);
        assertThat(written(in)).isEqualTo("GET / HTTP/1.1\r\nHost: h\r\n\r\n");
    }

    @Test
    void theVerifiedSubjectReplacesWhatTheClientSent() {
        MessageHead in = TestHeads.request("GET / HTTP/1.1\r\nX-Client-Cert-Subject: CN=admin\r\nHost: h\r\n", 64);
        ClientCertHeader.toServer(in, "CN=client-1,O=Example");
        assertThat(written(in)).isEqualTo("GET / HTTP/1.1\r\nHost: h\r\nX-Client-Cert-Subject: CN=client-1,O=Example\r\n\r\n");
    }
}
