package dev.fulcrum.core.route;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class RequestPathTest {

    @Test
    void aPlainPathIsItself() {
        String target = "/v1/users/42";
        assertThat(RequestPath.normalise(target)).isSameAs(target);
        assertThat(RequestPath.normalise("/")).isEqualTo("/");
    }

    @Test
    void theQueryIsDropped() {
        assertThat(RequestPath.normalise("/v1/users?id=7&x=/../..")).isEqualTo("/v1/users");
        assertThat(RequestPath.normalise("/?")).isEqualTo("/");
    }

    @Test
    void dotSegmentsAreResolved() {
        assertThat(RequestPath.normalise("/v1/../admin")).isEqualTo("/admin");
        assertThat(RequestPath.normalise("/v1/./users/./42")).isEqualTo("/v1/users/42");
        assertThat(RequestPath.normalise("/v1/users/..")).isEqualTo("/v1/");
        assertThat(RequestPath.normalise("/v1/.")).isEqualTo("/v1/");
        assertThat(RequestPath.normalise("/a/b/../../c")).isEqualTo("/c");
        assertThat(RequestPath.normalise("/.well-known/x")).isEqualTo("/.well-known/x");
        assertThat(RequestPath.normalise("/.../x")).as("three dots is a name").isEqualTo("/.../x");
    }

    @Test
    void encodedDotSegmentsAreResolvedToo() {
        assertThat(RequestPath.normalise("/v1/%2e%2e/admin")).isEqualTo("/admin");
        assertThat(RequestPath.normalise("/v1/.%2E/admin")).isEqualTo("/admin");
        assertThat(RequestPath.normalise("/v1/%2e/admin")).isEqualTo("/v1/admin");
    }

    @Test
    void unreservedEncodingsAreDecodedOthersKeptInUpperCase() {
        assertThat(RequestPath.normalise("/%41pi/%7euser/%2d%5F")).isEqualTo("/Api/~user/-_");
        assertThat(RequestPath.normalise("/a%20b/%c3%a9")).isEqualTo("/a%20b/%C3%A9");
    }

    @Test
    void anEncodedSlashIsPartOfItsSegment() {
        assertThat(RequestPath.normalise("/v1%2Fadmin")).isEqualTo("/v1%2Fadmin");
        assertThat(RequestPath.normalise("/v1%2fadmin")).isEqualTo("/v1%2Fadmin");
        assertThat(RequestPath.normalise("/v1/x%2F..%2F/../admin")).as("x%2F..%2F is one segment")
                .isEqualTo("/v1/admin");
    }

    @Test
    void repeatedSlashesCollapse() {
        assertThat(RequestPath.normalise("//v1")).isEqualTo("/v1");
        assertThat(RequestPath.normalise("/v1//users///")).isEqualTo("/v1/users/");
        assertThat(RequestPath.normalise("//")).isEqualTo("/");
    }

    @Test
    void caseIsKept() {
        assertThat(RequestPath.normalise("/V1/Users")).isEqualTo("/V1/Users");
    }

    @Test
    void climbingAboveTheRootIsInvalid() {
        assertThat(RequestPath.normalise("/..")).isNull();
        assertThat(RequestPath.normalise("/v1/../../etc/passwd")).isNull();
        assertThat(RequestPath.normalise("/%2e%2e/x")).isNull();
    }

    @Test
    void badPercentEncodingIsInvalid() {
        assertThat(RequestPath.normalise("/a%2")).isNull();
        assertThat(RequestPath.normalise("/a%zz")).isNull();
        assertThat(RequestPath.normalise("/a%")).isNull();
        assertThat(RequestPath.normalise("/a%4?x")).as("the query does not complete an encoding").isNull();
        assertThat(RequestPath.normalise("/a%٣٣")).as("only ASCII hex digits").isNull();
    }

    @Test
    void aTargetThatIsNotAPathIsInvalid() {
        assertThat(RequestPath.normalise("")).isNull();
        assertThat(RequestPath.normalise("v1/users")).isNull();
        assertThat(RequestPath.normalise("?x")).isNull();
        assertThat(RequestPath.normalise("http://example.com/")).isNull();
    }

    @Test
    void theAsteriskFormIsItsOwnNormalForm() {
        assertThat(RequestPath.normalise("*")).isEqualTo("*");
        assertThat(RequestPath.normalise("**")).isNull();
    }

    @Test
    void aPrefixEndingInSlashCoversWhatIsBelowIt() {
        assertThat(RequestPath.hasPrefix("/v1/", "/v1/")).isTrue();
        assertThat(RequestPath.hasPrefix("/v1/users", "/v1/")).isTrue();
        assertThat(RequestPath.hasPrefix("/v1", "/v1/")).as("as HAProxy and nginx").isFalse();
        assertThat(RequestPath.hasPrefix("/anything", "/")).isTrue();
    }

    @Test
    void aPrefixWithoutSlashCoversItselfAndItsSegmentsOnly() {
        assertThat(RequestPath.hasPrefix("/api", "/api")).isTrue();
        assertThat(RequestPath.hasPrefix("/api/", "/api")).isTrue();
        assertThat(RequestPath.hasPrefix("/api/users", "/api")).isTrue();
        assertThat(RequestPath.hasPrefix("/apix", "/api")).isFalse();
        assertThat(RequestPath.hasPrefix("/ap", "/api")).isFalse();
    }

    @Test
    void strippingAPrefixKeepsOneSlashAndTheQuery() {
        assertThat(RequestPath.stripPrefix("/api/users?id=7", "/api")).isEqualTo("/users?id=7");
        assertThat(RequestPath.stripPrefix("/api/users?id=7", "/api/")).isEqualTo("/users?id=7");
        assertThat(RequestPath.stripPrefix("/api", "/api")).isEqualTo("/");
        assertThat(RequestPath.stripPrefix("/api/", "/api")).isEqualTo("/");
        assertThat(RequestPath.stripPrefix("/api/?q", "/api/")).isEqualTo("/?q");
        assertThat(RequestPath.stripPrefix("/x/y", "/")).isEqualTo("/x/y");
        assertThat(RequestPath.stripPrefix("/api/a%20b?q=%2e%2e", "/api")).as("kept as sent where normal")
                .isEqualTo("/a%20b?q=%2e%2e");
    }

    @Test
    void strippingFromAPathNotNormalUsesItsNormalForm() {
        assertThat(RequestPath.stripPrefix("/%61pi/users?q", "/api")).isEqualTo("/users?q");
        assertThat(RequestPath.stripPrefix("//api//users", "/api/")).isEqualTo("/users");
        assertThat(RequestPath.stripPrefix("/x/../api/users", "/api")).isEqualTo("/users");
    }

    @Test
    void strippingAPrefixThePathDoesNotHaveIsRefused() {
        assertThatThrownBy(() -> RequestPath.stripPrefix("/apix", "/api")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> RequestPath.stripPrefix("/..", "/")).isInstanceOf(IllegalArgumentException.class);
    }
}
