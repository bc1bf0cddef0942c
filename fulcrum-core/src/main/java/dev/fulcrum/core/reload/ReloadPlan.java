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

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * What a config reload changes, decided as a pure function: {@link #diff} turns the running pools
 * and the reloaded file's pools into a list of {@link ReloadCommand}s, which the registry applies
 * on its control thread. No I/O, no clock; the same inputs give the same commands, in the same
 * order.
 *
 * <p>The rules, one pool at a time in the file's order:
 * <ul>
 * <li>a pool the file names for the first time: {@code AddPool}, then {@code AddServer} for each
 *     of its servers, in the file's order;</li>
 * <li>a pool that runs already: {@code ChangeSettings} when the caller says its settings differ,
 *     {@code ChangeBalancing} when its algorithm or hash key does; then for each server the file
 *     lists, in the file's order, {@code AddServer} when the pool has no such server, else
 *     {@code CancelRemoval} when it is draining towards removal (listed again: it stays),
 *     {@code ChangeWeight} when its weight differs, {@code Adopt} when the file did
 *     not list it (the API or the auto-scaler added it, or the last reload dropped it); then, in the pool's registration order, {@code RemoveServer} for
 *     each listed server the file dropped ({@code Disown} instead when its removal is already
 *     under way), and last {@code Disown} for the listed addresses that have no server any more
 *     (the API removed them), sorted;</li>
 * <li>servers the API or the auto-scaler added and the file does not list stay as they are;</li>
 * <li>then each running pool the file no longer names, in the order given: {@code RemoveServer}
 *     for every server not already being removed, listed or not (API-added servers go with their
 *     pool), then {@code RemovePool}.</li>
 * </ul>
 * Nothing changed gives no commands. Server identity is the address's canonical spelling
 * ({@link HostPort#toString()}).
 */
public final class ReloadPlan {

    private ReloadPlan() {
    }

    /** A registered server: its address, current weight, and whether it is draining towards removal. */
    public record RunningServer(String address, int weight, boolean beingRemoved) {
    }

    /**
     * A running pool. {@code servers} in registration order (draining ones included);
     * {@code listed} the addresses the file listed at the last load or reload — it may name
     * addresses whose server the API has removed since.
     */
    public record RunningPool(String name, Algorithm algorithm, HashKey hashKey, List<RunningServer> servers,
                              Set<String> listed) {
        public RunningPool {
            servers = List.copyOf(servers);
            listed = Set.copyOf(listed);
        }
    }

    /** A server as the reloaded file lists it. */
    public record ConfiguredServer(HostPort address, int weight) {
    }

    /**
     * A pool as the reloaded file describes it. {@code settingsChanged}: whether its settings other
     * than servers differ from the running pool's, as the caller compares them (ignored for a new
     * pool).
     */
    public record ConfiguredPool(String name, Algorithm algorithm, HashKey hashKey, boolean settingsChanged,
                                 List<ConfiguredServer> servers) {
        public ConfiguredPool {
            servers = List.copyOf(servers);
        }
    }

    /**
     * The commands that take {@code running} to {@code configured}, in the order to apply them.
     *
     * @throws IllegalArgumentException when the file names a pool twice, or a server twice in one pool
     */
    public static List<ReloadCommand> diff(List<RunningPool> running, List<ConfiguredPool> configured) {
        Map<String, RunningPool> byName = new HashMap<>();
        for (RunningPool pool : running) {
            byName.put(pool.name(), pool);
        }
        List<ReloadCommand> commands = new ArrayList<>();
        Set<String> names = new HashSet<>();
        for (ConfiguredPool next : configured) {
            if (!names.add(next.name())) {
                throw new IllegalArgumentException("pool " + next.name() + " is listed twice");
            }
            RunningPool now = byName.get(next.name());
            if (now == null) {
                commands.add(new AddPool(next.name()));
                Set<String> seen = new HashSet<>();
                for (ConfiguredServer server : next.servers()) {
                    once(seen, next.name(), server.address());
                    commands.add(new AddServer(next.name(), server.address(), server.weight()));
                }
            } else {
                reload(now, next, commands);
            }
        }
        for (RunningPool pool : running) {
            if (names.contains(pool.name())) {
                continue;
            }
            for (RunningServer server : pool.servers()) {
                if (!server.beingRemoved()) {
                    commands.add(new RemoveServer(pool.name(), server.address()));
                }
            }
            commands.add(new RemovePool(pool.name()));
        }
        return List.copyOf(commands);
    }

    /** A pool in both: its settings, balancing and servers. */
    private static void reload(RunningPool now, ConfiguredPool next, List<ReloadCommand> commands) {
        String name = next.name();
        if (next.settingsChanged()) {
            commands.add(new ChangeSettings(name));
        }
        if (now.algorithm() != next.algorithm() || !now.hashKey().equals(next.hashKey())) {
            commands.add(new ChangeBalancing(name, next.algorithm(), next.hashKey()));
        }
        Map<String, RunningServer> servers = new HashMap<>();
        for (RunningServer server : now.servers()) {
            servers.put(server.address(), server);
        }
        Set<String> wanted = new HashSet<>();
        for (ConfiguredServer listed : next.servers()) {
            String id = once(wanted, name, listed.address());
            RunningServer server = servers.get(id);
            if (server == null) {
                commands.add(new AddServer(name, listed.address(), listed.weight()));
                continue;
            }
            if (server.beingRemoved()) {
                commands.add(new CancelRemoval(name, id));
            }
            if (server.weight() != listed.weight()) {
                commands.add(new ChangeWeight(name, id, server.weight(), listed.weight()));
            }
            if (!now.listed().contains(id)) {
                commands.add(new Adopt(name, id));
            }
        }
        for (RunningServer server : now.servers()) {
            if (now.listed().contains(server.address()) && !wanted.contains(server.address())) {
                commands.add(server.beingRemoved()
                        ? new Disown(name, server.address())
                        : new RemoveServer(name, server.address()));
            }
        }
        for (String id : new TreeSet<>(now.listed())) {
            if (!wanted.contains(id) && !servers.containsKey(id)) {
                commands.add(new Disown(name, id));
            }
        }
    }

    private static String once(Set<String> seen, String pool, HostPort address) {
        String id = address.toString();
        if (!seen.add(id)) {
            throw new IllegalArgumentException("server " + id + " is listed twice in pool " + pool);
        }
        return id;
    }
}
