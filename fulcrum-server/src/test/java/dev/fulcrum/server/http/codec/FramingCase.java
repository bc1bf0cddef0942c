package dev.fulcrum.server.http.codec;

import java.util.List;

/**
 * The requests the strict decoder must reject, each with the status and the words of its one-line
 * reason: shared by the decoder's unit test and by the end-to-end test through the proxy. The
 * limit cases assume a {@code max-header-bytes} of {@link #MAX_HEAD}. Immutable.
 *
 * @param name     what the case shows, for test names
 * @param raw      the bytes the client sends (ISO-8859-1)
 * @param status   400, or 431 for a head or trailers over the limit
 * @param message  words the reason must contain
 * @param inBody   the error is in the body (chunk framing, trailers): the request head before it is
 *                 valid, so a proxy may already have passed that head on
 */
public record FramingCase(String name, String raw, int status, String message, boolean inBody) {

    public static final int MAX_HEAD = 65536;
    static final String HOST = "Host: example\r\n";
    static final String POST_CHUNKED = "POST / HTTP/1.1\r\n" + HOST + "Transfer-Encoding: chunked\r\n\r\n";

    @Override
    public String toString() {
        return name;
    }

    /** Every rejected case: framing ambiguity, chunk framing, header and request lines, sizes. */
    public static List<FramingCase> rejected() {
        return List.of(
                // Content-Length / Transfer-Encoding ambiguity (the classic smuggling vectors)
                bad("CL and TE", "POST / HTTP/1.1\r\n" + HOST + "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
                        "both Content-Length and Transfer-Encoding"),
                bad("TE and CL", "POST / HTTP/1.1\r\n" + HOST + "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n",
                        "both Content-Length and Transfer-Encoding"),
                bad("duplicate CL, equal", "POST / HTTP/1.1\r\n" + HOST + "Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello",
                        "more than one Content-Length"),
                bad("duplicate CL, different", "POST / HTTP/1.1\r\n" + HOST + "Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
                        "more than one Content-Length"),
                bad("CL list", "POST / HTTP/1.1\r\n" + HOST + "Content-Length: 5, 5\r\n\r\nhello", "more than one Content-Length"),
                bad("CL +5", cl("+5"), "invalid Content-Length value"),
                bad("CL -1", cl("-1"), "invalid Content-Length value"),
                bad("CL 5 5", cl("5 5"), "invalid Content-Length value"),
                bad("CL 0x10", cl("0x10"), "invalid Content-Length value"),
                bad("CL empty", cl(""), "invalid Content-Length value"),
                bad("CL too large", cl("99999999999999999999"), "invalid Content-Length value"),
                bad("TE gzip", te("gzip"), "Transfer-Encoding other than chunked"),
                bad("TE gzip, chunked", te("gzip, chunked") + "0\r\n\r\n", "Transfer-Encoding other than chunked"),
                bad("TE chunked, gzip", te("chunked, gzip"), "Transfer-Encoding other than chunked"),
                bad("TE chunked twice", te("chunked, chunked") + "0\r\n\r\n", "chunked applied more than once"),
                bad("TE two headers", "POST / HTTP/1.1\r\n" + HOST + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
                        "chunked applied more than once"),
                bad("TE chunked with trailing comma", te("chunked,") + "0\r\n\r\n", "Transfer-Encoding other than chunked"),
                bad("TE in HTTP/1.0", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
                        "Transfer-Encoding in an HTTP/1.0 request"),
                // chunk framing
                bad("chunk size not hex", POST_CHUNKED + "zz\r\nhello\r\n0\r\n\r\n", "invalid chunk size"),
                bad("chunk size empty", POST_CHUNKED + "\r\nhello\r\n0\r\n\r\n", "invalid chunk size"),
                bad("chunk size overflow", POST_CHUNKED + "fffffffffffffffff1\r\nhello\r\n0\r\n\r\n", "invalid chunk size"),
                bad("chunk size leading space", POST_CHUNKED + " 5\r\nhello\r\n0\r\n\r\n", "invalid chunk size"),
                bad("chunk size sign", POST_CHUNKED + "+5\r\nhello\r\n0\r\n\r\n", "invalid chunk size"),
                bad("chunk size 0x", POST_CHUNKED + "0x5\r\nhello\r\n0\r\n\r\n", "invalid chunk size"),
                bad("chunk size trailing space", POST_CHUNKED + "5 \r\nhello\r\n0\r\n\r\n", "invalid chunk size"),
                bad("chunk extension bad token", POST_CHUNKED + "5;a@=b\r\nhello\r\n0\r\n\r\n", "invalid chunk extension"),
                bad("chunk extension bare CR", POST_CHUNKED + "5;a\rb\r\nhello\r\n0\r\n\r\n", "invalid chunk extension"),
                bad("chunk extension bare LF", POST_CHUNKED + "5;a\nb\r\nhello\r\n0\r\n\r\n", "chunk line ended by LF without CR"),
                bad("chunk size line LF only", POST_CHUNKED + "5\nhello\r\n0\r\n\r\n", "chunk line ended by LF without CR"),
                bad("chunk data without CRLF", POST_CHUNKED + "5\r\nhelloXX0\r\n\r\n", "chunk data not followed by CRLF"),
                bad("chunk data with LF only", POST_CHUNKED + "5\r\nhello\n0\r\n\r\n", "chunk data not followed by CRLF"),
                bad("trailer with LF only", POST_CHUNKED + "0\r\nX-T: 1\n\r\n", "trailer line ended by LF without CR"),
                bad("trailer name with space", POST_CHUNKED + "0\r\nX-T : 1\r\n\r\n", "invalid character in trailer name"),
                bad("trailer value with bare CR", POST_CHUNKED + "0\r\nX-T: 1\r2\r\n\r\n", "invalid character in trailer value"),
                bad("trailer value with NUL", POST_CHUNKED + "0\r\nX-T: 1\u00002\r\n\r\n", "invalid character in trailer value"),
                bad("trailer without colon", POST_CHUNKED + "0\r\nX-T\r\n\r\n", "trailer line without a colon"),
                // header lines
                bad("obs-fold SP", "GET / HTTP/1.1\r\n" + HOST + "X-A: a\r\n b\r\n\r\n", "obsolete line folding"),
                bad("obs-fold HTAB", "GET / HTTP/1.1\r\n" + HOST + "X-A: a\r\n\tb\r\n\r\n", "obsolete line folding"),
                bad("obs-fold hiding TE", "POST / HTTP/1.1\r\n" + HOST + "Content-Length: 5\r\nX-A: a\r\n Transfer-Encoding: chunked\r\n\r\nhello",
                        "obsolete line folding"),
                bad("space before colon", "GET / HTTP/1.1\r\n" + HOST + "Transfer-Encoding : chunked\r\n\r\n",
                        "whitespace between header name and colon"),
                bad("tab before colon", "GET / HTTP/1.1\r\n" + HOST + "X-A\t: a\r\n\r\n", "whitespace between header name and colon"),
                bad("header name bad token", "GET / HTTP/1.1\r\n" + HOST + "X(A): a\r\n\r\n", "invalid character in header name"),
                bad("header name NUL", "GET / HTTP/1.1\r\n" + HOST + "X\0A: a\r\n\r\n", "invalid character in header name"),
                bad("empty header name", "GET / HTTP/1.1\r\n" + HOST + ": a\r\n\r\n", "empty header name"),
                bad("line without colon", "GET / HTTP/1.1\r\n" + HOST + "XA\r\n\r\n", "header line without a colon"),
                bad("bare CR in value", "GET / HTTP/1.1\r\n" + HOST + "X-A: a\rb\r\n\r\n", "CR not followed by LF"),
                bad("bare CR ending a line", "GET / HTTP/1.1\r\n" + HOST + "X-A: a\rX-B: b\r\n\r\n", "CR not followed by LF"),
                bad("bare CR ending the head", "GET / HTTP/1.1\r\n" + HOST + "\rX", "CR not followed by LF"),
                bad("NUL in value", "GET / HTTP/1.1\r\n" + HOST + "X-A: a\0b\r\n\r\n", "control character in header value"),
                bad("control char in value", "GET / HTTP/1.1\r\n" + HOST + "X-A: a\u0001b\r\n\r\n", "control character in header value"),
                bad("DEL in value", "GET / HTTP/1.1\r\n" + HOST + "X-A: a\u007fb\r\n\r\n", "control character in header value"),
                bad("LF-only request line", "GET / HTTP/1.1\n" + HOST + "\r\n", "line ended by LF without CR"),
                bad("LF-only header line", "GET / HTTP/1.1\r\nHost: a\n\r\n", "line ended by LF without CR"),
                bad("LF-only end of head", "GET / HTTP/1.1\r\nHost: a\r\n\n", "line ended by LF without CR"),
                // request line
                bad("two spaces after method", "GET  / HTTP/1.1\r\n" + HOST + "\r\n", "request line is not METHOD SP request-target SP HTTP/1.x"),
                bad("two spaces before version", "GET /  HTTP/1.1\r\n" + HOST + "\r\n", "request line is not METHOD SP"),
                bad("space after version", "GET / HTTP/1.1 \r\n" + HOST + "\r\n", "request line is not METHOD SP"),
                bad("tab as separator", "GET\t/ HTTP/1.1\r\n" + HOST + "\r\n", "request line is not METHOD SP"),
                bad("bare CR in request line", "GET /\r HTTP/1.1\r\n" + HOST + "\r\n", "request line is not METHOD SP"),
                bad("missing version", "GET /\r\n" + HOST + "\r\n", "request line is not METHOD SP"),
                bad("leading space", " GET / HTTP/1.1\r\n" + HOST + "\r\n", "request line is not METHOD SP"),
                bad("leading control char", "\u0001GET / HTTP/1.1\r\n" + HOST + "\r\n", "request line is not METHOD SP"),
                bad("HTTP/2.0", "GET / HTTP/2.0\r\n" + HOST + "\r\n", "HTTP version is not HTTP/1.0 or HTTP/1.1"),
                bad("HTTP/1.2", "GET / HTTP/1.2\r\n" + HOST + "\r\n", "HTTP version is not HTTP/1.0 or HTTP/1.1"),
                bad("lower-case version", "GET / http/1.1\r\n" + HOST + "\r\n", "HTTP version is not HTTP/1.0 or HTTP/1.1"),
                bad("control char in target", "GET /a\u0001b HTTP/1.1\r\n" + HOST + "\r\n", "request line is not METHOD SP"),
                bad("non-ASCII in target", "GET /caf\u00e9 HTTP/1.1\r\n" + HOST + "\r\n", "invalid character in request-target"),
                bad("bad method token", "G(T / HTTP/1.1\r\n" + HOST + "\r\n", "request line is not METHOD SP"),
                bad("missing Host", "GET / HTTP/1.1\r\n\r\n", "missing Host header"),
                bad("two Host", "GET / HTTP/1.1\r\n" + HOST + "Host: other\r\n\r\n", "more than one Host header"),
                bad("two Host in HTTP/1.0", "GET / HTTP/1.0\r\n" + HOST + HOST + "\r\n", "more than one Host header"),
                // Host values and request-target forms (RFC 9112 3.2, RFC 3986 3.2.2)
                bad("Host with space, slash, quote, angle", "GET / HTTP/1.1\r\nHost: a b/../\"<x>\r\n\r\n",
                        "invalid Host header"),
                bad("Host with a path", "GET / HTTP/1.1\r\nHost: example/admin\r\n\r\n", "invalid Host header"),
                bad("Host with user info", "GET / HTTP/1.1\r\nHost: user@example\r\n\r\n", "invalid Host header"),
                bad("Host empty", "GET / HTTP/1.1\r\nHost: \r\n\r\n", "invalid Host header"),
                bad("Host with a bad port", "GET / HTTP/1.1\r\nHost: example:80x\r\n\r\n", "invalid Host header"),
                bad("Host with an open bracket", "GET / HTTP/1.1\r\nHost: [::1\r\n\r\n", "invalid Host header"),
                bad("Host in HTTP/1.0, invalid", "GET / HTTP/1.0\r\nHost: <script>\r\n\r\n", "invalid Host header"),
                bad("absolute-form, other scheme", "GET ftp://example/ HTTP/1.1\r\n" + HOST + "\r\n",
                        "request-target is neither /path nor http(s)://host/path"),
                bad("absolute-form with user info", "GET http://user:pw@example/ HTTP/1.1\r\n" + HOST + "\r\n",
                        "request-target with user information"),
                bad("absolute-form, invalid host", "GET http://exa\"mple/ HTTP/1.1\r\n" + HOST + "\r\n",
                        "invalid host in the request-target"),
                bad("absolute-form, empty host", "GET http:///x HTTP/1.1\r\n" + HOST + "\r\n",
                        "invalid host in the request-target"),
                bad("authority-form without CONNECT", "GET example:80 HTTP/1.1\r\n" + HOST + "\r\n",
                        "request-target is neither /path nor http(s)://host/path"),
                bad("asterisk-form with GET", "GET * HTTP/1.1\r\n" + HOST + "\r\n", "request-target * is only for OPTIONS"),
                new FramingCase("CONNECT", "CONNECT example:443 HTTP/1.1\r\nHost: example:443\r\n\r\n", 405,
                        "CONNECT is not supported", false),
                // sizes
                sized("head over the limit", "GET / HTTP/1.1\r\n" + HOST + "X-Big: " + "a".repeat(MAX_HEAD) + "\r\n\r\n",
                        431, "request head larger than 65536 bytes"),
                sized("endless request line", "GET /" + "a".repeat(MAX_HEAD + 10), 431, "request head larger than 65536 bytes"),
                sized("trailers over the limit", POST_CHUNKED + "0\r\nX-T: " + "a".repeat(MAX_HEAD) + "\r\n\r\n",
                        431, "trailers larger than 65536 bytes"),
                // counts: every rule is linear in the fields, the Connection rewrite is fields x options
                sized("101 header fields", "GET / HTTP/1.1\r\n" + HOST + "a:\r\n".repeat(100) + "\r\n",
                        431, "more than 100 header fields"),
                sized("101 trailer fields", POST_CHUNKED + "0\r\n" + "t:\r\n".repeat(101) + "\r\n",
                        431, "more than 100 trailer fields"),
                bad("a Connection of 33 options", "GET / HTTP/1.1\r\n" + HOST + "Connection: " + "a,".repeat(32) + "a\r\n\r\n",
                        "Connection lists more than 32 options"),
                bad("33 options over two Connection fields", "GET / HTTP/1.1\r\n" + HOST + "Connection: "
                        + "a,".repeat(20) + "a\r\nConnection: " + "b,".repeat(11) + "b\r\n\r\n",
                        "Connection lists more than 32 options"));
    }

    private static FramingCase bad(String name, String raw, String message) {
        return new FramingCase(name, raw, 400, message, raw.startsWith(POST_CHUNKED));
    }

    private static FramingCase sized(String name, String raw, int status, String message) {
        return new FramingCase(name, raw, status, message, raw.startsWith(POST_CHUNKED));
    }

    private static String cl(String value) {
        return "POST / HTTP/1.1\r\n" + HOST + "Content-Length: " + value + "\r\n\r\nhello";
    }

    private static String te(String value) {
        return "POST / HTTP/1.1\r\n" + HOST + "Transfer-Encoding: " + value + "\r\n\r\n";
    }
}
