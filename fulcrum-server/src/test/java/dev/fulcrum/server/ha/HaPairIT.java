package dev.fulcrum.server.ha;

import dev.fulcrum.server.ha.HaMember.FulcrumMember;
import dev.fulcrum.server.ha.HaMember.Kind;
import dev.fulcrum.server.testing.BusyCpu;
import dev.fulcrum.server.testing.ClientLoop;
import dev.fulcrum.server.testing.ClientLoop.Outage;
import dev.fulcrum.server.testing.CloseAfterEach;
import dev.fulcrum.server.testing.EpochNanos;
import dev.fulcrum.server.testing.FulcrumProcess;
import dev.fulcrum.server.testing.HaTopology;
import dev.fulcrum.server.testing.HaTopology.Node;
import dev.fulcrum.server.testing.ItLogs;
import dev.fulcrum.server.testing.Netns;
import dev.fulcrum.server.testing.VrrpStates.Transition;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.stream.Stream;

import static dev.fulcrum.server.ha.HaMember.Kind.FULCRUM;
import static dev.fulcrum.server.ha.HaMember.Kind.KEEPALIVED;
import static dev.fulcrum.server.testing.HaTopology.Node.CLIENT;
import static dev.fulcrum.server.testing.HaTopology.Node.LB1;
import static dev.fulcrum.server.testing.HaTopology.Node.LB2;
import static dev.fulcrum.server.testing.HaTopology.Node.SERVER;
import static dev.fulcrum.server.testing.VrrpStates.BACKUP;
import static dev.fulcrum.server.testing.VrrpStates.FAULT;
import static dev.fulcrum.server.testing.VrrpStates.MASTER;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Issue 6 end to end: two balancers in {@link HaTopology} (namespaces on a Linux bridge) share
 * the virtual IP 10.77.0.100; lb1 has priority 150, lb2 100, both preempt; each serves HTTP on
 * {@code 0.0.0.0:80} in front of the demo server; a curl loop on the client asks
 * {@code http://10.77.0.100/} all along. A pair is Fulcrum/Fulcrum (the product), keepalived/
 * keepalived (the baseline, in the same topology) or mixed (interoperation, both ways).
 *
 * <p>Each scenario measures when the member taking over entered MASTER (its notify program's wall
 * clock) and how long the client went without a 200 ({@link Outage}: between the start of the last
 * failed request and the end of the first 200; each curl gives up after 200 ms to connect, 500 ms
 * in all). The figures go to stdout and {@code target/it-logs/ha-takeover.txt}. Fulcrum is held
 * to the bounds (kill -9 and link down: the client is served again within 1 s at 100 ms
 * adverts; SIGTERM: the backup is MASTER within 0.4 s at 100 ms adverts and no request fails;
 * take-back: no failed request; busy cores: no false takeover); keepalived only to generous ones,
 * as a reference. (A keepalived member restarted with its proxy takes the address before the new
 * proxy listens, so its take-back loses requests; Fulcrum joins only once it serves.)
 *
 * <p>Needs root and keepalived; skipped otherwise.
 */
class HaPairIT {

    private static final List<Row> rows = Collections.synchronizedList(new ArrayList<>());

    @RegisterExtension
    final CloseAfterEach closer = new CloseAfterEach();

    @TempDir
    Path dir;

    private record Row(String pair, String scenario, Duration advert, String vrrp, String client, String failed,
                       String notes) {
    }

    @BeforeAll
    static void needsNetnsAndKeepalived() {
        assumeTrue(Netns.unavailableReason().isEmpty(), () -> "skipped: " + Netns.unavailableReason().orElse(""));
        assumeTrue(Files.isExecutable(Path.of("/usr/sbin/keepalived")), "skipped: keepalived is not installed");
    }

    @AfterAll
    static void writeFiguresAndCheckCleanup() throws IOException {
        if (!rows.isEmpty()) {
            StringBuilder table = new StringBuilder("""
                    HaTopology: client, lb1 (priority 150), lb2 (priority 100), server on a Linux bridge; preempt.
                    vrrp ms: from the event to the other member entering MASTER (its notify program, wall clock).
                    client outage ms: from the event, start of the last failed request .. end of the first 200.
                    """);
            String format = "%-22s %-28s %7s %8s %17s %7s  %s%n";
            table.append(format.formatted("pair (lb1/lb2)", "scenario", "advert", "vrrp ms", "client outage ms",
                    "failed", "notes"));
            synchronized (rows) {
                for (Row r : rows) {
                    table.append(format.formatted(r.pair(), r.scenario(), r.advert().toMillis() + "ms", r.vrrp(),
                            r.client(), r.failed(), r.notes()));
                }
            }
            System.out.print(table);
            Files.writeString(ItLogs.dir().resolve("ha-takeover.txt"), table);
        }
        if (Netns.unavailableReason().isEmpty()) {
            assertThat(Netns.leftovers()).as("network namespaces left behind").isEmpty();
        }
    }

    static Stream<Arguments> productAndBaseline() {
        return Stream.of(Arguments.of(FULCRUM, FULCRUM, 100), Arguments.of(FULCRUM, FULCRUM, 1000),
                Arguments.of(KEEPALIVED, KEEPALIVED, 100), Arguments.of(KEEPALIVED, KEEPALIVED, 1000));
    }

    static Stream<Arguments> productBaselineAndInterop() {
        return Stream.concat(productAndBaseline(), Stream.of(
                Arguments.of(KEEPALIVED, FULCRUM, 100), Arguments.of(FULCRUM, KEEPALIVED, 100)));
    }

    static Stream<Arguments> at100ms() {
        return Stream.of(Arguments.of(FULCRUM, FULCRUM, 100), Arguments.of(KEEPALIVED, KEEPALIVED, 100),
                Arguments.of(KEEPALIVED, FULCRUM, 100), Arguments.of(FULCRUM, KEEPALIVED, 100));
    }

    @ParameterizedTest(name = "{0}/{1}, advert {2} ms")
    @MethodSource("productBaselineAndInterop")
    void backupServesTheVirtualIpAfterTheMasterIsKilled(Kind one, Kind two, int advertMillis) throws Exception {
        Duration advert = Duration.ofMillis(advertMillis);
        Pair pair = startPair(one, two, "kill", advert);

        long killed = EpochNanos.now();
        pair.lb1.crash();

        Outage outage = awaitOutage(pair, killed, bound(pair, advert, Duration.ofSeconds(1)));
        Transition master = pair.lb2.states().awaitEntered(MASTER, killed, Duration.ofSeconds(5));
        assertThat(pair.topology.vipOwnerSeenBy(CLIENT)).as("the client's ARP entry for the VIP").contains(LB2);
        record(pair, "kill -9 master", advert, master, killed, outage,
                "VIP left on lb1: " + pair.topology.holdsVip(LB1));
        assertThat(outage.atMost()).as("client outage after kill -9 of the master")
                .isLessThan(bound(pair, advert, Duration.ofSeconds(1)));
    }

    @ParameterizedTest(name = "{0}/{1}, advert {2} ms")
    @MethodSource("productAndBaseline")
    void backupTakesOverAtOnceWhenTheMasterStopsGracefully(Kind one, Kind two, int advertMillis) throws Exception {
        Duration advert = Duration.ofMillis(advertMillis);
        Pair pair = startPair(one, two, "sigterm", advert);

        long stopped = EpochNanos.now();
        Thread stopping = Thread.ofPlatform().start(() -> {
            try {
                pair.lb1.stop(Duration.ofSeconds(15));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        Transition master = pair.lb2.states().awaitEntered(MASTER, stopped, Duration.ofSeconds(5));
        Outage outage = awaitOutage(pair, stopped, Duration.ofSeconds(6));
        stopping.join(Duration.ofSeconds(20));
        assertThat(pair.topology.vipHolders()).containsExactly(LB2);
        record(pair, "SIGTERM master", advert, master, stopped, outage, "");
        if (one == FULCRUM && advertMillis <= 100) {
            // a graceful stop hands over after the backup's skew time (61 ms here; 609 ms at 1 s adverts)
            assertThat(EpochNanos.millisBetween(stopped, master.epochNanos()))
                    .as("ms from SIGTERM to the backup entering MASTER").isLessThan(400);
        }
        if (one == FULCRUM) {
            // the master keeps the address until the backup has it: no request is lost in between
            assertThat(outage.failures()).as("requests failed by the hand-over").isEmpty();
        }
    }

    @ParameterizedTest(name = "{0}/{1}, advert {2} ms")
    @MethodSource("productAndBaseline")
    void backupServesTheVirtualIpWhenTheMastersLinkGoesDown(Kind one, Kind two, int advertMillis) throws Exception {
        Duration advert = Duration.ofMillis(advertMillis);
        Pair pair = startPair(one, two, "linkdown", advert);

        long down = EpochNanos.now();
        pair.topology.linkDown(LB1);

        Outage outage = awaitOutage(pair, down, bound(pair, advert, Duration.ofSeconds(1)));
        Transition master = pair.lb2.states().awaitEntered(MASTER, down, Duration.ofSeconds(5));
        Transition fault = pair.lb1.states().awaitEntered(FAULT, down, Duration.ofSeconds(5));
        assertThat(pair.topology.vipHolders()).as("lb1 in FAULT drops the VIP").containsExactly(LB2);
        String notes = "lb1 FAULT after %.0f ms".formatted(EpochNanos.millisBetween(down, fault.epochNanos()));

        // the cable back: lb1 rejoins and, preempting, takes the address back with gratuitous ARP
        long up = EpochNanos.now();
        pair.topology.linkUp(LB1);
        Transition back = pair.lb1.states().awaitEntered(MASTER, up, Duration.ofSeconds(10));
        pair.client.awaitSuccesses(back.epochNanos(), 5, Duration.ofSeconds(10));
        assertThat(pair.topology.vipOwnerSeenBy(CLIENT)).as("after the link returned").contains(LB1);
        record(pair, "link down master", advert, master, down, outage,
                notes + "; link up: lb1 MASTER again after %.0f ms".formatted(
                        EpochNanos.millisBetween(up, back.epochNanos())));
        assertThat(outage.atMost()).as("client outage after the master's link went down")
                .isLessThan(bound(pair, advert, Duration.ofSeconds(1)));
    }

    @ParameterizedTest(name = "{0}/{1}, advert {2} ms")
    @MethodSource("at100ms")
    void restartedMasterTakesTheVirtualIpBackWithoutAFailedRequest(Kind one, Kind two, int advertMillis)
            throws Exception {
        Duration advert = Duration.ofMillis(advertMillis);
        Pair pair = startPair(one, two, "restart", advert);
        long stopped = EpochNanos.now();
        pair.lb1.stop(Duration.ofSeconds(15));
        pair.lb2.states().awaitEntered(MASTER, stopped, Duration.ofSeconds(5));
        pair.client.awaitSuccesses(EpochNanos.now(), 10, Duration.ofSeconds(10)); // settled on lb2

        long restarted = EpochNanos.now();
        HaMember again = HaMember.start(one, pair.topology, LB1, 150, advert, dir, pair.name + "-lb1-again", closer);
        Transition master = again.states().awaitEntered(MASTER, restarted, Duration.ofSeconds(30));
        pair.lb2.states().awaitEntered(BACKUP, restarted, Duration.ofSeconds(5));
        // a second of traffic after the take-back, for late failures (ARP, connections cut on lb2)
        long settled = master.epochNanos() + Duration.ofSeconds(1).toNanos();
        pair.client.awaitSuccesses(settled, 5, Duration.ofSeconds(10));

        List<ClientLoop.Request> failed = pair.client.failedBetween(restarted, settled);
        assertThat(pair.topology.vipHolders()).containsExactly(LB1);
        assertThat(pair.topology.vipOwnerSeenBy(CLIENT)).contains(LB1);
        rows.add(new Row(pair.label(), "restarted master takes back", advert,
                "%.0f".formatted(EpochNanos.millisBetween(restarted, master.epochNanos())), "-",
                Integer.toString(failed.size()), "of " + pair.client.between(restarted, settled).size()
                + " requests from the restart to 1 s after the take-back"));
        if (one == FULCRUM && two == FULCRUM) {
            // nothing fails before or after the instant the address moves; a connection open on
            // lb2 at that instant breaks (its next segment reaches lb1, which has no such
            // connection): seen once in several runs, the one loss VRRP cannot avoid
            long moved = master.epochNanos();
            assertThat(failed).as("failed requests while the master came back").hasSizeLessThanOrEqualTo(1)
                    .allSatisfy(r -> assertThat(r.startEpochNanos() <= moved + 50_000_000L
                            && r.endEpochNanos() >= moved - 50_000_000L)
                            .as("a failed request spans the takeover instant: " + r).isTrue());
        }
    }

    @ParameterizedTest(name = "{0}/{1}, advert {2} ms")
    @MethodSource("busyPairs")
    void busyCoresCauseNoFalseTakeover(Kind one, Kind two, int advertMillis) throws Exception {
        Duration advert = Duration.ofMillis(advertMillis);
        Pair pair = startPair(one, two, "busy", advert);
        int cpus = Runtime.getRuntime().availableProcessors();

        long from = EpochNanos.now();
        try (BusyCpu busy = BusyCpu.start(cpus, Duration.ofSeconds(20))) {
            // the loops run 20 s; the bound only needs to allow for the poll thread itself being
            // starved of CPU by them (and by whatever else shares the machine): 1 s was not enough
            await().during(Duration.ofMillis(500)).atMost(Duration.ofSeconds(5)).until(busy::allRunning);
            assertThat(busy.awaitEnd(Duration.ofSeconds(25))).as("busy loops end by themselves").isTrue();
        }
        long to = EpochNanos.now();

        long falseTakeovers = pair.lb2.states().timesEntered(MASTER, from);
        long demotions = pair.lb1.states().timesEntered(BACKUP, from);
        List<ClientLoop.Request> requests = pair.client.between(from, to);
        long failed = requests.stream().filter(r -> !r.ok()).count();
        rows.add(new Row(pair.label(), "busy CPUs 20 s (" + cpus + " loops)", advert, "-", "-",
                Long.toString(failed), "false takeovers by lb2: %d, lb1 to BACKUP: %d, %d requests".formatted(
                falseTakeovers, demotions, requests.size())));
        // what a user checks afterwards: lb1 is master, alone, and the client is served
        pair.lb1.states().awaitState(MASTER, Duration.ofSeconds(5));
        assertThat(pair.topology.vipHolders()).containsExactly(LB1);
        pair.client.awaitSuccessAfter(EpochNanos.now(), Duration.ofSeconds(5));
        if (one == FULCRUM) {
            assertThat(falseTakeovers).as("times lb2 became MASTER while lb1 was alive and busy").isZero();
            assertThat(demotions).as("times lb1 left MASTER").isZero();
        }
    }

    @ParameterizedTest(name = "{0}/{1}, advert {2} ms")
    @MethodSource("unicastPairs")
    void unicastPeersTakeOverToo(Kind one, Kind two, int advertMillis) throws Exception {
        Duration advert = Duration.ofMillis(advertMillis);
        Pair pair = startPair(one, two, "unicast", advert, List.of(LB2), List.of(LB1), HaMember.SERVER_PORT);

        long killed = EpochNanos.now();
        pair.lb1.crash();

        Outage outage = awaitOutage(pair, killed, Duration.ofSeconds(3));
        Transition master = pair.lb2.states().awaitEntered(MASTER, killed, Duration.ofSeconds(5));
        record(pair, "kill -9 master, unicast", advert, master, killed, outage, "adverts to the peer's address");
        assertThat(outage.atMost()).as("client outage, unicast adverts").isLessThan(Duration.ofSeconds(3));
    }

    static Stream<Arguments> unicastPairs() {
        return Stream.of(Arguments.of(FULCRUM, FULCRUM, 100), Arguments.of(KEEPALIVED, FULCRUM, 100));
    }

    /**
     * lb1's pool uses a server of its own (port 8081) that dies: lb1's {@code /healthz} fails, it
     * gives the address up (FAULT) and lb2, whose server (8080) lives, serves; when lb1's server
     * comes back lb1 rejoins and, preempting, takes the address back.
     */
    @ParameterizedTest(name = "{0}/{1}, advert {2} ms")
    @MethodSource("fulcrumPair")
    void masterThatCannotServeGivesTheVirtualIpUp(Kind one, Kind two, int advertMillis) throws Exception {
        Duration advert = Duration.ofMillis(advertMillis);
        int lb1Port = HaMember.SERVER_PORT + 1;
        String name = "ha-fault";
        HaTopology topology = closer.add(HaTopology.create());
        FulcrumProcess own = startServer(topology, name + "-server-" + lb1Port, lb1Port);
        Pair pair = startPair(one, two, "fault", advert, List.of(), List.of(), lb1Port, topology);

        long failed = EpochNanos.now();
        own.kill();
        Transition fault = pair.lb1.states().awaitEntered(FAULT, failed, Duration.ofSeconds(10));
        Transition master = pair.lb2.states().awaitEntered(MASTER, failed, Duration.ofSeconds(10));
        Outage outage = awaitOutage(pair, failed, Duration.ofSeconds(10));
        assertThat(pair.topology.vipHolders()).containsExactly(LB2);
        assertThat(((FulcrumMember) pair.lb1).admin(topology.netns(LB1), "/api/v1/status"))
                .contains("\"state\":\"fault\"");
        String notes = "lb1 FAULT %.0f ms after its server died".formatted(
                EpochNanos.millisBetween(failed, fault.epochNanos()));

        long back = EpochNanos.now();
        startServer(topology, name + "-server-" + lb1Port + "-again", lb1Port);
        Transition again = pair.lb1.states().awaitEntered(MASTER, back, Duration.ofSeconds(15));
        pair.client.awaitSuccesses(again.epochNanos(), 5, Duration.ofSeconds(10));
        assertThat(pair.topology.vipHolders()).containsExactly(LB1);
        record(pair, "master's pool down (fault)", advert, master, failed, outage,
                notes + "; MASTER again %.0f ms after it returned".formatted(
                        EpochNanos.millisBetween(back, again.epochNanos())));
    }

    static Stream<Arguments> fulcrumPair() {
        return Stream.of(Arguments.of(FULCRUM, FULCRUM, 100));
    }

    static Stream<Arguments> busyPairs() {
        return Stream.of(Arguments.of(FULCRUM, FULCRUM, 100), Arguments.of(KEEPALIVED, KEEPALIVED, 100));
    }

    // ---- the pair ------------------------------------------------------------------------------

    /** Everything of one scenario; all of it is closed by {@link #closer}, the client first. */
    private record Pair(String name, HaTopology topology, HaMember lb1, HaMember lb2, ClientLoop client) {
        String label() {
            return lb1.kind().label() + "/" + lb2.kind().label();
        }
    }

    private Pair startPair(Kind one, Kind two, String scenario, Duration advert) throws Exception {
        return startPair(one, two, scenario, advert, List.of(), List.of(), HaMember.SERVER_PORT);
    }

    private Pair startPair(Kind one, Kind two, String scenario, Duration advert, List<Node> lb1Peers,
                           List<Node> lb2Peers, int lb1ServerPort) throws Exception {
        return startPair(one, two, scenario, advert, lb1Peers, lb2Peers, lb1ServerPort, closer.add(HaTopology.create()));
    }

    private FulcrumProcess startServer(HaTopology topology, String name, int port) throws Exception {
        FulcrumProcess server = closer.add(FulcrumProcess.start(name, topology.netns(SERVER).commandPrefix(),
                HaMember.JVM, "demo-server", "--port", Integer.toString(port), "--name", "server-" + port,
                "--host", SERVER.address()));
        server.awaitReady("listening on " + port, () -> topology.netns(SERVER).listening(port), HaMember.START_BOUND);
        return server;
    }

    /**
     * Starts the demo server (port 8080), lb1 (priority 150, its pool on {@code lb1ServerPort}),
     * waits for it to be MASTER, then lb2 (100, port 8080) and the client loop.
     */
    private Pair startPair(Kind one, Kind two, String scenario, Duration advert, List<Node> lb1Peers,
                           List<Node> lb2Peers, int lb1ServerPort, HaTopology topology) throws Exception {
        String name = "ha-" + one.label() + "-" + two.label() + "-" + scenario + "-" + advert.toMillis() + "ms";
        startServer(topology, name + "-server", HaMember.SERVER_PORT);
        HaMember lb1 = HaMember.start(one, topology, LB1, new HaMember.Options(150, advert, lb1Peers, lb1ServerPort),
                dir, name + "-lb1", closer);
        // lb2 only once lb1 is master: started together, both would time out before either's
        // first advert whenever they start further apart than their master-down intervals differ
        lb1.states().awaitState(MASTER, HaMember.START_BOUND);
        HaMember lb2 = HaMember.start(two, topology, LB2, new HaMember.Options(100, advert, lb2Peers,
                HaMember.SERVER_PORT), dir, name + "-lb2", closer);
        lb2.states().awaitState(BACKUP, HaMember.START_BOUND);

        ClientLoop client = closer.add(ClientLoop.start(topology.netns(CLIENT), name + "-client",
                "http://" + HaTopology.VIRTUAL_IP + "/", Duration.ofSeconds(90), 30_000));
        client.awaitSuccesses(EpochNanos.now(), 10, Duration.ofSeconds(10));
        assertThat(topology.vipHolders()).containsExactly(LB1);
        assertThat(topology.vipOwnerSeenBy(CLIENT)).contains(LB1);
        if (lb1 instanceof FulcrumMember fulcrum) {
            // what an operator sees on the master: status, gauge
            assertThat(fulcrum.admin(topology.netns(LB1), "/api/v1/status")).contains("\"state\":\"master\"");
            assertThat(fulcrum.admin(topology.netns(LB1), "/metrics"))
                    .contains("fulcrum_ha_master{virtual_router_id=\"51\"} 1.0");
        }
        return new Pair(name, topology, lb1, lb2, client);
    }

    /**
     * Fulcrum at 100 ms adverts is held to {@code product}; everything else to a generous
     * reference bound (3 s at 100 ms adverts, 6 s at 1 s).
     */
    private static Duration bound(Pair pair, Duration advert, Duration product) {
        if (pair.lb2.kind() == FULCRUM && pair.lb1.kind() == FULCRUM && advert.toMillis() <= 100) {
            return product;
        }
        return advert.compareTo(Duration.ofSeconds(1)) >= 0 ? Duration.ofSeconds(6) : Duration.ofSeconds(3);
    }

    private static Outage awaitOutage(Pair pair, long from, Duration bound) {
        pair.client.awaitSuccessAfter(from, bound.plusSeconds(5));
        return pair.client.outage(from);
    }

    private static void record(Pair pair, String scenario, Duration advert, Transition master, long from,
                               Outage outage, String notes) {
        rows.add(new Row(pair.label(), scenario, advert,
                "%.0f".formatted(EpochNanos.millisBetween(from, master.epochNanos())),
                "%.0f..%.0f".formatted(outage.atLeast().toNanos() / 1e6, outage.atMost().toNanos() / 1e6),
                Integer.toString(outage.failures().size()), notes));
    }
}
