package dev.fulcrum.server.admin;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.fulcrum.core.text.Escape;
import dev.fulcrum.server.metrics.FulcrumMetrics;
import dev.fulcrum.server.registry.PoolRuntime;
import dev.fulcrum.server.registry.Registry;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufOutputStream;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.NoSuchElementException;

/**
 * Routes one admin request (already aggregated, and already let through by {@link RequestGate}:
 * host, origin and token are checked there, on the head) to its answer, per admin-api.md.
 * Reads (pools, routes, metrics, status) answer on the admin event loop from the published
 * state. A change (add, remove, drain, enable a server) is a command sent to the registry's
 * control thread ({@link dev.fulcrum.server.control.ControlPlane#submit}); the response is written
 * from the command's future, so the event loop never waits for it. A reload may read files and bind
 * sockets, so it runs on a virtual thread and answers when done. While an answer is pending the
 * connection is not read, so pipelined requests are answered in order.
 *
 * <p>Errors are {@code {"error":"one sentence"}}: 400 for a bad body, 404 for an unknown
 * pool/server/path, 405 for a wrong method, 409 for a conflict (duplicate server, enabling a
 * server being removed). What a message quotes of the request is escaped ({@link Escape}).
 *
 * <p>Sharable and thread-safe: it holds no per-connection state.
 */
@ChannelHandler.Sharable
final class AdminHandler extends SimpleChannelInboundHandler<FullHttpRequest> {

    private static final Logger log = LoggerFactory.getLogger(AdminHandler.class);
    private static final String JSON = "application/json";
    /** How long a change through etcd waits to be applied ({@code ?wait=applied}: by every member) before answering. */
    static final Duration APPLIED_WAIT = Duration.ofSeconds(5);

    private final Registry registry;
    private final AdminHooks hooks;
    private final FulcrumMetrics metrics;
    private final EventStream events;
    private final DashboardAssets assets;
    private final Clock clock;
    private final Instant startedAt;
    private final String version;

    AdminHandler(Registry registry, AdminHooks hooks, FulcrumMetrics metrics, EventStream events,
                 DashboardAssets assets, Clock clock, String version) {
        this.registry = registry;
        this.hooks = hooks;
        this.metrics = metrics;
        this.events = events;
        this.assets = assets;
        this.clock = clock;
        this.startedAt = clock.instant();
        this.version = version;
    }

    /** The answer to a request that the handler writes itself (SSE, reload, commands) is {@code null}. */
    private record Answer(HttpResponseStatus status, String contentType, byte[] body) {
    }

    private static final class HttpError extends RuntimeException {
        final HttpResponseStatus status;

        HttpError(HttpResponseStatus status, String message) {
            super(message, null, false, false);
            this.status = status;
        }
    }

    /** A command of the control thread that makes the answer; may throw what {@link #failure} maps. */
    @FunctionalInterface
    private interface Command {
        Answer run() throws IOException;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
        boolean keepAlive = HttpUtil.isKeepAlive(request) && request.decoderResult().isSuccess();
        String what = request.method() + " " + Escape.text(request.uri());
        Answer answer;
        try {
            answer = route(ctx, request, keepAlive, what);
        } catch (RuntimeException | IOException e) {
            answer = failure(what, e);
        }
        if (answer != null) {
            send(ctx, answer, keepAlive);
        }
    }

    /** The error answer for what a route or a command threw. */
    private Answer failure(String what, Throwable e) {
        return switch (e) {
            case HttpError h -> error(h.status, h.getMessage());
            case SharedWrites.NoQuorum n -> error(HttpResponseStatus.SERVICE_UNAVAILABLE, n.getMessage());
            case SharedWrites.OutcomeUnknown u -> error(HttpResponseStatus.GATEWAY_TIMEOUT, u.getMessage());
            case NoSuchElementException n -> error(HttpResponseStatus.NOT_FOUND, n.getMessage());
            case IllegalStateException i -> error(HttpResponseStatus.CONFLICT, i.getMessage());
            case IllegalArgumentException i -> error(HttpResponseStatus.BAD_REQUEST, i.getMessage());
            default -> {
                log.warn("admin {} failed: {}", what, e.toString());
                yield error(HttpResponseStatus.INTERNAL_SERVER_ERROR, "internal error: " + e.getMessage());
            }
        };
    }

    /**
     * Runs {@code command} on the control thread and writes its answer from there (on the
     * connection's event loop); stops reading the connection meanwhile. Returns null: the
     * handler writes this answer itself.
     */
    private Answer later(ChannelHandlerContext ctx, boolean keepAlive, String what, Command command) {
        ctx.channel().config().setAutoRead(false);
        registry.control().submit(command::run).whenComplete((answer, error) -> {
            Answer done = error == null ? answer : failure(what, error);
            ctx.executor().execute(() -> {
                send(ctx, done, keepAlive);
                ctx.channel().config().setAutoRead(true);
            });
        });
        return null;
    }

    private Answer route(ChannelHandlerContext ctx, FullHttpRequest request, boolean keepAlive, String what)
            throws IOException {
        if (!request.decoderResult().isSuccess()) {
            throw new HttpError(HttpResponseStatus.BAD_REQUEST, "the request is not valid HTTP");
        }
        HttpMethod method = request.method();
        String[] p = segments(request.uri());
        if (p.length == 0) {
            allow(method, HttpMethod.GET);
            return asset("index.html");
        }
        if (p.length == 2 && p[0].equals("dashboard")) {
            allow(method, HttpMethod.GET);
            return asset(p[1]);
        }
        if (is(p, "healthz")) {
            allow(method, HttpMethod.GET);
            HookResult health = hooks.healthz();
            return new Answer(health.ok() ? HttpResponseStatus.OK : HttpResponseStatus.SERVICE_UNAVAILABLE,
                    "text/plain; charset=utf-8", (health.ok() ? "ok" : health.detail()).concat("\n")
                    .getBytes(StandardCharsets.UTF_8));
        }
        if (is(p, "metrics")) {
            allow(method, HttpMethod.GET);
            return metrics();
        }
        if (p.length < 3 || !p[0].equals("api") || !p[1].equals("v1")) {
            throw notFound(request);
        }
        return switch (p[2]) {
            case "pools" -> pools(ctx, keepAlive, what, method, p, request);
            case "reload" -> {
                requireLength(p, 3, request);
                allow(method, HttpMethod.POST);
                reload(ctx, HttpUtil.isKeepAlive(request));
                yield null;
            }
            case "events" -> {
                requireLength(p, 3, request);
                allow(method, HttpMethod.GET);
                events.subscribe(ctx.channel());
                yield null;
            }
            case "stats" -> {
                if (p.length == 4 && p[3].equals("history")) {
                    allow(method, HttpMethod.GET);
                    yield json(HttpResponseStatus.OK, metrics.history());
                }
                requireLength(p, 3, request);
                allow(method, HttpMethod.GET);
                yield json(HttpResponseStatus.OK, metrics.stats());
            }
            case "routes" -> {
                requireLength(p, 3, request);
                allow(method, HttpMethod.GET);
                yield json(HttpResponseStatus.OK, RouteView.all(hooks.listeners(), metrics.routeResponses()));
            }
            case "cluster" -> {
                requireLength(p, 3, request);
                allow(method, HttpMethod.GET);
                ClusterStatus cluster = hooks.cluster();
                if (cluster == null) {
                    throw new HttpError(HttpResponseStatus.NOT_FOUND, "this instance is not in a cluster (no cluster section)");
                }
                yield json(HttpResponseStatus.OK, cluster);
            }
            case "status" -> {
                requireLength(p, 3, request);
                allow(method, HttpMethod.GET);
                yield json(HttpResponseStatus.OK, status());
            }
            default -> throw notFound(request);
        };
    }

    /** {@code /api/v1/pools...}; {@code p} has at least 3 segments. */
    private Answer pools(ChannelHandlerContext ctx, boolean keepAlive, String what, HttpMethod method, String[] p,
                         FullHttpRequest request) throws JsonProcessingException {
        if (p.length == 3) {
            allow(method, HttpMethod.GET);
            return json(HttpResponseStatus.OK, registry.pools().stream()
                    .sorted(java.util.Comparator.comparing(PoolRuntime::name))
                    .map(pool -> Views.pool(pool, hooks)).toList());
        }
        PoolRuntime pool = registry.pool(p[3]);
        if (p.length == 4) {
            allow(method, HttpMethod.GET);
            return json(HttpResponseStatus.OK, Views.pool(pool, hooks));
        }
        if (p.length == 5 && p[4].equals("lookup")) {
            allow(method, HttpMethod.GET, HttpMethod.POST);
            return lookup(pool, request, method.equals(HttpMethod.POST));
        }
        if (!p[4].equals("servers")) {
            throw notFound(request);
        }
        if (p.length == 5) {
            allow(method, HttpMethod.GET, HttpMethod.POST);
            if (method.equals(HttpMethod.GET)) {
                return json(HttpResponseStatus.OK, Views.pool(pool, hooks).servers());
            }
            NewServer body = NewServer.parse(Json.mapper(), request.content().toString(StandardCharsets.UTF_8));
            SharedWrites shared = hooks.sharedWrites();
            if (shared != null) {
                String added = body.address().toString();
                return throughEtcd(ctx, keepAlive, what, request, HttpResponseStatus.CREATED, pool.name(), added,
                        () -> shared.addServer(pool.name(), added, body.weight()));
            }
            return later(ctx, keepAlive, what, () -> json(HttpResponseStatus.CREATED,
                    Views.server(registry.addServer(pool.name(), body.address(), body.weight()), hooks)));
        }
        String address = p[5];
        if (p.length == 6) {
            allow(method, HttpMethod.GET, HttpMethod.DELETE);
            if (method.equals(HttpMethod.GET)) {
                return json(HttpResponseStatus.OK, Views.server(registry.server(pool, address), hooks));
            }
            SharedWrites shared = hooks.sharedWrites();
            if (shared != null) {
                return throughEtcd(ctx, keepAlive, what, request, HttpResponseStatus.ACCEPTED, pool.name(), address,
                        () -> shared.removeServer(pool.name(), address));
            }
            return later(ctx, keepAlive, what, () -> json(HttpResponseStatus.ACCEPTED,
                    Views.server(registry.removeServer(pool.name(), address), hooks)));
        }
        if (p.length == 7 && (p[6].equals("drain") || p[6].equals("enable"))) {
            allow(method, HttpMethod.POST);
            boolean drain = p[6].equals("drain");
            SharedWrites shared = hooks.sharedWrites();
            if (shared != null) {
                return throughEtcd(ctx, keepAlive, what, request, HttpResponseStatus.OK, pool.name(), address,
                        () -> shared.drainServer(pool.name(), address, drain));
            }
            return later(ctx, keepAlive, what, () -> json(HttpResponseStatus.OK, Views.server(drain
                    ? registry.drainServer(pool.name(), address)
                    : registry.enableServer(pool.name(), address), hooks)));
        }
        throw notFound(request);
    }

    /**
     * In a cluster: {@code write} commits the change to etcd (on a virtual thread: it blocks up to
     * a few seconds), then the answer waits until this node has applied its revision — or, with
     * {@code ?wait=applied}, every live member — at most {@link #APPLIED_WAIT}. The answer is the
     * usual SERVER as this node now sees it plus {@code "revision"}; a {@code ?wait=applied} that
     * runs out answers 504 with the revision. Stops reading the connection meanwhile.
     */
    private Answer throughEtcd(ChannelHandlerContext ctx, boolean keepAlive, String what, FullHttpRequest request,
                               HttpResponseStatus status, String pool, String address,
                               java.util.concurrent.Callable<Long> write) {
        boolean everyMember = new QueryStringDecoder(request.uri()).parameters()
                .getOrDefault("wait", List.of()).contains("applied");
        SharedWrites shared = hooks.sharedWrites();
        ctx.channel().config().setAutoRead(false);
        Thread.ofVirtual().name("fulcrum-admin-etcd").start(() -> {
            Answer answer;
            try {
                long revision = write.call();
                boolean applied = awaitApplied(shared, revision, everyMember);
                if (!applied && everyMember) {
                    answer = json(HttpResponseStatus.GATEWAY_TIMEOUT, Json.mapper().createObjectNode()
                            .put("error", "revision " + revision + " not applied by every live member within "
                                    + APPLIED_WAIT.toSeconds() + " s").put("revision", revision));
                } else {
                    answer = json(status, applied(pool, address, revision));
                }
            } catch (Exception e) {
                answer = failure(what, e);
            }
            Answer done = answer;
            ctx.executor().execute(() -> {
                send(ctx, done, keepAlive);
                ctx.channel().config().setAutoRead(true);
            });
        });
        return null;
    }

    private static boolean awaitApplied(SharedWrites shared, long revision, boolean everyMember)
            throws InterruptedException {
        var applied = shared.applied(revision, everyMember);
        try {
            applied.get(APPLIED_WAIT.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
            return true;
        } catch (java.util.concurrent.TimeoutException e) {
            applied.cancel(false);
            return false;
        } catch (java.util.concurrent.ExecutionException e) {
            return false;
        }
    }

    /** SERVER as this node sees it after the change (just its address once it is gone) and the revision. */
    private com.fasterxml.jackson.databind.node.ObjectNode applied(String pool, String address, long revision) {
        com.fasterxml.jackson.databind.node.ObjectNode body;
        try {
            body = Json.mapper().valueToTree(Views.server(registry.server(registry.pool(pool), address), hooks));
        } catch (NoSuchElementException gone) {
            body = Json.mapper().createObjectNode().put("address", address);
        }
        return body.put("revision", revision);
    }

    /** {@code GET /api/v1/pools/{pool}/lookup?key=K}, and {@code POST} with {@code {"keys":[...]}}: {@link PoolLookup}. */
    private Answer lookup(PoolRuntime pool, FullHttpRequest request, boolean many) throws JsonProcessingException {
        PoolLookup lookup;
        try {
            lookup = PoolLookup.of(pool);
        } catch (IllegalStateException e) {
            throw new HttpError(HttpResponseStatus.CONFLICT, e.getMessage());
        }
        try {
            if (!many) {
                List<String> keys = new QueryStringDecoder(request.uri()).parameters().get("key");
                if (keys == null || keys.size() != 1) {
                    throw new HttpError(HttpResponseStatus.BAD_REQUEST, "lookup needs one ?key=");
                }
                return json(HttpResponseStatus.OK, lookup.one(keys.getFirst()));
            }
            com.fasterxml.jackson.databind.JsonNode body;
            try {
                body = Json.mapper().readTree(request.content().toString(StandardCharsets.UTF_8)).path("keys");
            } catch (JsonProcessingException e) {
                throw new HttpError(HttpResponseStatus.BAD_REQUEST, "the body is not JSON");
            }
            if (!body.isArray()) {
                throw new HttpError(HttpResponseStatus.BAD_REQUEST, "the body must be {\"keys\":[\"...\", ...]}");
            }
            List<Views.Lookup> out = new ArrayList<>(body.size());
            for (var key : body) {
                out.add(lookup.one(key.asText()));
            }
            return json(HttpResponseStatus.OK, out);
        } catch (NoSuchElementException none) {
            throw new HttpError(HttpResponseStatus.SERVICE_UNAVAILABLE, none.getMessage());
        }
    }

    private void reload(ChannelHandlerContext ctx, boolean keepAlive) {
        Thread.ofVirtual().name("fulcrum-admin-reload").start(() -> {
            Answer answer;
            try {
                HookResult outcome = hooks.reload();
                answer = outcome.ok() ? json(HttpResponseStatus.OK, new Views.Applied(true))
                        : error(HttpResponseStatus.BAD_REQUEST, outcome.detail());
            } catch (RuntimeException | JsonProcessingException e) {
                log.warn("reload failed: {}", e.toString());
                answer = error(HttpResponseStatus.INTERNAL_SERVER_ERROR, "reload failed: " + e.getMessage());
            }
            Answer done = answer;
            ctx.executor().execute(() -> send(ctx, done, keepAlive));
        });
    }

    private Views.Status status() {
        Instant now = clock.instant();
        List<AutoscaleStatus> autoscale = hooks.autoscale();
        return new Views.Status(hooks.instanceName(), version, startedAt.toString(),
                Duration.between(startedAt, now).toSeconds(), autoscale.isEmpty() ? null : autoscale, hooks.ha(),
                hooks.dsr(), hooks.cluster(), hooks.listeners().stream()
                .map(l -> ListenerView.of(l, hooks.certificates(l.name()), hooks::tlsProvider, now)).toList());
    }

    private Answer metrics() throws IOException {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream(16 * 1024);
        metrics.writeText(out);
        return new Answer(HttpResponseStatus.OK, FulcrumMetrics.CONTENT_TYPE, out.toByteArray());
    }

    private Answer asset(String name) {
        DashboardAssets.Asset asset = assets.get(name);
        if (asset == null) {
            throw new HttpError(HttpResponseStatus.NOT_FOUND, "no dashboard file " + Escape.quote(name));
        }
        return new Answer(HttpResponseStatus.OK, asset.contentType(), asset.body());
    }

    private Answer json(HttpResponseStatus status, Object value) throws JsonProcessingException {
        return new Answer(status, JSON, Json.mapper().writeValueAsBytes(value));
    }

    private Answer error(HttpResponseStatus status, String message) {
        return new Answer(status, JSON, ErrorResponse.body(message));
    }

    private void send(ChannelHandlerContext ctx, Answer answer, boolean keepAlive) {
        ByteBuf body = Unpooled.wrappedBuffer(answer.body());
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, answer.status(), body);
        response.headers()
                .set(HttpHeaderNames.CONTENT_TYPE, answer.contentType())
                .set(HttpHeaderNames.CONTENT_LENGTH, body.readableBytes())
                .set(HttpHeaderNames.CACHE_CONTROL, "no-store");
        if (keepAlive) {
            response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
            ctx.writeAndFlush(response);
        } else {
            response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
            ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        log.debug("admin connection failed: {}", cause.toString());
        ctx.close();
    }

    /** Path segments, each percent-decoded (an address may come as {@code 127.0.0.1%3A9101}). */
    private static String[] segments(String uri) {
        String path = new QueryStringDecoder(uri).rawPath();
        List<String> out = new ArrayList<>();
        for (String s : path.split("/")) {
            if (!s.isEmpty()) {
                out.add(QueryStringDecoder.decodeComponent(s));
            }
        }
        return out.toArray(String[]::new);
    }

    private static boolean is(String[] p, String... expected) {
        return java.util.Arrays.equals(p, expected);
    }

    private static void allow(HttpMethod method, HttpMethod... allowed) {
        for (HttpMethod m : allowed) {
            if (m.equals(method)) {
                return;
            }
        }
        throw new HttpError(HttpResponseStatus.METHOD_NOT_ALLOWED, Escape.quote(method.name()) + " is not allowed here");
    }

    private static void requireLength(String[] p, int length, FullHttpRequest request) {
        if (p.length != length) {
            throw notFound(request);
        }
    }

    private static HttpError notFound(FullHttpRequest request) {
        return new HttpError(HttpResponseStatus.NOT_FOUND,
                "no such path: " + Escape.quote(new QueryStringDecoder(request.uri()).path()));
    }
}
