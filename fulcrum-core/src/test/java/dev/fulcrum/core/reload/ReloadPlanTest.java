package dev.fulcrum.core.reload;

import dev.fulcrum.core.HostPort;
import dev.fulcrum.core.balance.Algorithm;
import dev.fulcrum.core.balance.HashKey;
import dev.fulcrum.core.reload.ReloadCommand.AddPool;
import dev.fulcrum.core.reload.ReloadCommand.AddServer;
import dev.fulcrum.core.reload.ReloadCommand.Adopt;
import dev.fulcrum.core.reload.ReloadCommand.CancelRemoval;
import dev.fulcrum.core.reload.ReloadCommand.ChangeBalancing;
import dev.fulcrum.core.reload.ReloadCommand.ChangeSettings;
import dev.fulcrum.core.reload.ReloadCommand.ChangeWeight;
import dev.fulcrum.core.reload.ReloadCommand.Disown;
import dev.fulcrum.core.reload.ReloadCommand.RemovePool;
import dev.fulcrum.core.reload.ReloadCommand.RemoveServer;
import dev.fulcrum.core.reload.ReloadPlan.ConfiguredPool;
import dev.fulcrum.core.reload.ReloadPlan.ConfiguredServer;
import dev.fulcrum.core.reload.ReloadPlan.RunningPool;
import dev.fulcrum.core.reload.ReloadPlan.RunningServer;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** {@link ReloadPlan#diff}, case by case: what a reload of the file does to the running pools. */
class ReloadPlanTest {

    private static final String A = "10.0.0.1:80";
    private static final String B = "10.0.0.2:80";
    private static final String C = "10.0.0.3:80";

    private static RunningServer up(String address, int weight) {
        return new RunningServer(address, weight, false);
    }

    private static RunningServer beingRemoved(String address, int weight) {
        return new RunningServer(address, weight, true);
    }

    private static RunningPool running(String name, Set<String> listed, RunningServer... servers) {
        return new RunningPool(name, Algorithm.ROUND_ROBIN, HashKey.SOURCE_IP, List.of(servers), listed);
    }

    private static ConfiguredServer listed(String address, int weight) {
        return new ConfiguredServer(HostPort.parse(address), weight);
    }

    private static ConfiguredPool configured(String name, ConfiguredServer... servers) {
        return new ConfiguredPool(name, Algorithm.ROUND_ROBIN, HashKey.SOURCE_IP, false, List.of(servers));
    }

    /** The pool "web" with A (weight 1) and B (weight 2), both listed by the file. */
    private static final RunningPool WEB = running("web", Set.of(A, B), up(A, 1), up(B, 2));

    private static List<ReloadCommand> diff(RunningPool now, ConfiguredPool next) {
        return ReloadPlan.diff(List.of(now), List.of(next));
    }

    @Test
    void theSameFileGivesNoCommands() {
        assertThat(diff(WEB, configured("web", listed(A, 1), listed(B, 2)))).isEmpty();
        assertThat(ReloadPlan.diff(List.of(), List.of())).isEmpty();
    }

    @Test
    void aServerTheFileAddsIsRegistered() {
        assertThat(diff(WEB, configured("web", listed(A, 1), listed(C, 3), listed(B, 2))))
                .containsExactly(new AddServer("web", HostPort.parse(C), 3));
    }

    @Test
    void aServerTheFileDropsIsRemoved() {
        assertThat(diff(WEB, configured("web", listed(B, 2))))
                .containsExactly(new RemoveServer("web", A));
    }

    /**
     * The race of issue 14: the last reload dropped B, whose drain has not ended; this one lists B
     * again. (An API-added server the API is removing looks the same, and goes the same way.)
     */
    @Test
    void aServerListedAgainWhileDrainingTowardsRemovalStays() {
        RunningPool draining = running("web", Set.of(A), up(A, 1), beingRemoved(B, 2));
        assertThat(diff(draining, configured("web", listed(A, 1), listed(B, 2))))
                .containsExactly(new CancelRemoval("web", B), new Adopt("web", B));
    }

    @Test
    void aServerListedAgainWithAnotherWeightStaysThenTakesTheWeight() {
        RunningPool draining = running("web", Set.of(A), up(A, 1), beingRemoved(B, 2));
        assertThat(diff(draining, configured("web", listed(A, 1), listed(B, 5))))
                .containsExactly(new CancelRemoval("web", B), new ChangeWeight("web", B, 2, 5), new Adopt("web", B));
    }

    /** The API removes a server the file lists; a reload that still lists it keeps it. */
    @Test
    void aListedServerTheApiIsRemovingStaysWhenTheFileStillListsIt() {
        RunningPool draining = running("web", Set.of(A, B), up(A, 1), beingRemoved(B, 2));
        assertThat(diff(draining, configured("web", listed(A, 1), listed(B, 2))))
                .containsExactly(new CancelRemoval("web", B));
    }

    @Test
    void aServerWhoseRemovalEndedIsAddedAgain() {
        RunningPool gone = running("web", Set.of(A), up(A, 1));
        assertThat(diff(gone, configured("web", listed(A, 1), listed(B, 2))))
                .containsExactly(new AddServer("web", HostPort.parse(B), 2));
    }

    @Test
    void aChangedWeightIsChanged() {
        assertThat(diff(WEB, configured("web", listed(A, 0), listed(B, 7))))
                .containsExactly(new ChangeWeight("web", A, 1, 0), new ChangeWeight("web", B, 2, 7));
    }

    @Test
    void changedSettingsAreTakenAsTheCallerSays() {
        ConfiguredPool next = new ConfiguredPool("web", Algorithm.ROUND_ROBIN, HashKey.SOURCE_IP, true,
                List.of(listed(A, 1), listed(B, 2)));
        assertThat(diff(WEB, next)).containsExactly(new ChangeSettings("web"));
    }

    @Test
    void aChangedAlgorithmOrHashKeyRebuildsTheBalancer() {
        HashKey header = HashKey.parse("header:x-user");
        ConfiguredPool maglev = new ConfiguredPool("web", Algorithm.MAGLEV, HashKey.SOURCE_IP, true,
                List.of(listed(A, 1), listed(B, 2)));
        assertThat(diff(WEB, maglev)).containsExactly(
                new ChangeSettings("web"), new ChangeBalancing("web", Algorithm.MAGLEV, HashKey.SOURCE_IP));
        ConfiguredPool byHeader = new ConfiguredPool("web", Algorithm.ROUND_ROBIN, header, true,
                List.of(listed(A, 1), listed(B, 2)));
        assertThat(diff(WEB, byHeader)).containsExactly(
                new ChangeSettings("web"), new ChangeBalancing("web", Algorithm.ROUND_ROBIN, header));
    }

    @Test
    void settingsComeBeforeServersSoNewServersAndDrainsUseTheNewOnes() {
        ConfiguredPool next = new ConfiguredPool("web", Algorithm.MAGLEV, HashKey.SOURCE_IP, true,
                List.of(listed(C, 1), listed(B, 2)));
        assertThat(diff(WEB, next)).containsExactly(
                new ChangeSettings("web"),
                new ChangeBalancing("web", Algorithm.MAGLEV, HashKey.SOURCE_IP),
                new AddServer("web", HostPort.parse(C), 1),
                new RemoveServer("web", A));
    }

    @Test
    void aNewPoolIsAddedWithItsServersInTheFilesOrder() {
        assertThat(ReloadPlan.diff(List.of(WEB), List.of(
                configured("api", listed(C, 1), listed(A, 4)),
                configured("web", listed(A, 1), listed(B, 2)))))
                .containsExactly(
                        new AddPool("api"),
                        new AddServer("api", HostPort.parse(C), 1),
                        new AddServer("api", HostPort.parse(A), 4));
    }

    @Test
    void aDroppedPoolDrainsAllItsServersApiAddedOnesTooThenGoes() {
        RunningPool web = running("web", Set.of(A), up(A, 1), up(B, 1), beingRemoved(C, 1));
        assertThat(ReloadPlan.diff(List.of(web), List.of())).containsExactly(
                new RemoveServer("web", A),
                new RemoveServer("web", B), // added through the API: goes with its pool
                new RemovePool("web"));     // C's removal is under way already
    }

    @Test
    void droppedPoolsGoInTheOrderGivenAfterTheFilesPools() {
        RunningPool api = running("api", Set.of(C), up(C, 1));
        assertThat(ReloadPlan.diff(List.of(WEB, api), List.of(configured("new"))))
                .containsExactly(
                        new AddPool("new"),
                        new RemoveServer("web", A), new RemoveServer("web", B), new RemovePool("web"),
                        new RemoveServer("api", C), new RemovePool("api"));
    }

    @Test
    void apiAddedServersStayAcrossAReloadOfTheirPool() {
        RunningPool web = running("web", Set.of(A), up(A, 1), up(B, 3), beingRemoved(C, 1));
        assertThat(diff(web, configured("web", listed(A, 1)))).isEmpty();
        assertThat(diff(web, configured("web"))).containsExactly(new RemoveServer("web", A));
    }

    @Test
    void anApiAddedServerTheFileNowListsIsAdoptedAndTakesTheFilesWeight() {
        RunningPool web = running("web", Set.of(A), up(A, 1), up(B, 3));
        assertThat(diff(web, configured("web", listed(A, 1), listed(B, 2))))
                .containsExactly(new ChangeWeight("web", B, 3, 2), new Adopt("web", B));
    }

    @Test
    void aListedServerAlreadyBeingRemovedThatTheFileDropsIsOnlyDisowned() {
        RunningPool web = running("web", Set.of(A, B), up(A, 1), beingRemoved(B, 2));
        assertThat(diff(web, configured("web", listed(A, 1))))
                .containsExactly(new Disown("web", B));
    }

    @Test
    void listedAddressesWhoseServerTheApiRemovedAreDisownedWhenTheFileDropsThem() {
        RunningPool web = running("web", Set.of(A, C, B), up(A, 1));
        assertThat(diff(web, configured("web", listed(A, 1))))
                .containsExactly(new Disown("web", B), new Disown("web", C));
        assertThat(diff(web, configured("web", listed(A, 1), listed(B, 1), listed(C, 1))))
                .containsExactly(new AddServer("web", HostPort.parse(B), 1), new AddServer("web", HostPort.parse(C), 1));
    }

    @Test
    void removalsFollowTheRegistrationOrderNotTheListedSetsOrder() {
        RunningPool web = running("web", Set.of(C, A, B), up(B, 1), up(C, 1), up(A, 1));
        assertThat(diff(web, configured("web"))).containsExactly(
                new RemoveServer("web", B), new RemoveServer("web", C), new RemoveServer("web", A));
    }

    @Test
    void serversAreKnownByTheCanonicalSpellingOfTheirAddress() {
        RunningPool v6 = running("web", Set.of("[::1]:80"), up("[::1]:80", 1));
        assertThat(diff(v6, configured("web", listed("[::1]:80", 1)))).isEmpty();
    }

    @Test
    void aFileNamingAPoolOrAServerTwiceIsRefused() {
        assertThatThrownBy(() -> ReloadPlan.diff(List.of(), List.of(configured("web"), configured("web"))))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("pool web is listed twice");
        assertThatThrownBy(() -> diff(WEB, configured("web", listed(A, 1), listed(A, 2))))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("server 10.0.0.1:80 is listed twice in pool web");
        assertThatThrownBy(() -> ReloadPlan.diff(List.of(), List.of(configured("api", listed(A, 1), listed(A, 2)))))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
