package dev.fulcrum.core.route;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * What choosing a route costs per request (issue 15): one request matched against a listener with
 * one route ({@link #oneRoute}) and against one with 200 host routes, the request's host being the
 * last ({@link #hostRoutes200}); the host index should make the two cost about the same. Each
 * route is a host and a {@code path-prefix}, as a virtual host of a real listener is.
 * {@link #normalise} is the path normalisation that comes before matching, for a path already
 * normal (the usual request) and {@link #normaliseDotSegments} for one that is not.
 *
 * <p>Run with {@code bench/jmh.sh RouteTableBenchmark} ({@code -prof gc} shows the bytes allocated
 * per match). Single-threaded, like one event loop.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-Xms512m", "-Xmx512m"})
public class RouteTableBenchmark {

    private record Route(String name, RouteMatch match) {
    }

    private static final String HOST = "api199.example.com";
    private static final String TARGET = "/v1/users/42?fields=name,email";

    private RouteTable<Route> one;
    private RouteTable<Route> hosts200;
    private String path;

    @Setup
    public void setUp() {
        one = RouteTable.of(List.of(route(199)), Route::match);
        List<Route> routes = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            routes.add(route(i));
        }
        hosts200 = RouteTable.of(routes, Route::match);
        path = RequestPath.normalise(TARGET);
        if (!one.match(HOST, path, "GET", null).name().equals("api199")
                || hosts200.match(HOST, path, "GET", null) != routes.getLast()) {
            throw new IllegalStateException("the benchmark request does not match the last route");
        }
    }

    private static Route route(int i) {
        return new Route("api" + i, new RouteMatch("api" + i + ".example.com", new PathMatch.Prefix("/v1/"),
                List.of(), List.of()));
    }

    @Benchmark
    public Route oneRoute() {
        return one.match(HOST, path, "GET", null);
    }

    @Benchmark
    public Route hostRoutes200() {
        return hosts200.match(HOST, path, "GET", null);
    }

    @Benchmark
    public String normalise() {
        return RequestPath.normalise(TARGET);
    }

    @Benchmark
    public String normaliseDotSegments() {
        return RequestPath.normalise("/v1//users/./42/../%34%32?fields=name");
    }
}
