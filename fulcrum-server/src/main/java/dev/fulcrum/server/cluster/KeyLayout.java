package dev.fulcrum.server.cluster;

/**
 * Where the cluster's state lives in etcd, under the configured prefix ({@code /fulcrum} here):
 *
 * <pre>
 * /fulcrum/config/listeners/&lt;listener&gt;              a listener's whole entry (routes, tls...), JSON
 * /fulcrum/config/pools/&lt;pool&gt;                      a pool's settings without its servers, JSON
 * /fulcrum/config/pools/&lt;pool&gt;/servers/&lt;address&gt;   one server, its whole entry ({"address","weight"}), JSON
 * /fulcrum/config/autoscale/&lt;pool&gt;                  a pool's autoscale entry, JSON
 * /fulcrum/config/alerts                            the alerts list, JSON
 * /fulcrum/members/&lt;node&gt;                           a live node (lease-bound): address, applied revision, last renewal
 * /fulcrum/leader                                   the auto-scaling leader (bound to its member lease): {"node","lease"}
 * /fulcrum/scaling/&lt;pool&gt;                           the pool's last scaling action (the cooldown): {"lastAction","node"}
 * /fulcrum/scaling/&lt;pool&gt;/pending/&lt;id&gt;              a scaling action begun and not finished: {"direction","node","since","server"}
 * </pre>
 *
 * One key per server, so that adding or removing one touches one key; a change of several keys is
 * one etcd transaction, so a node never applies half of it. Everything under {@code config/} is
 * the shared config; a node builds its config from all of it plus its own file. Immutable.
 */
public record KeyLayout(String prefix) {

    /** What a key under the prefix names. */
    public sealed interface Key permits Listener, Pool, PoolServer, Autoscale, Alerts, Member, Leader, Scaling, Pending,
            Other {
    }

    public record Listener(String name) implements Key {
    }

    public record Pool(String name) implements Key {
    }

    public record PoolServer(String pool, String address) implements Key {
    }

    public record Autoscale(String pool) implements Key {
    }

    public record Alerts() implements Key {
    }

    public record Member(String node) implements Key {
    }

    public record Leader() implements Key {
    }

    public record Scaling(String pool) implements Key {
    }

    public record Pending(String pool, String id) implements Key {
    }

    /** Outside the layout (written by someone else, or by a later version): ignored. */
    public record Other(String key) implements Key {
    }

    /** Every key of the cluster starts with this. */
    public String root() {
        return prefix + "/";
    }

    /** Every key of the shared config starts with this. */
    public String config() {
        return prefix + "/config/";
    }

    public String members() {
        return prefix + "/members/";
    }

    public String listener(String name) {
        return config() + "listeners/" + name;
    }

    public String pool(String name) {
        return config() + "pools/" + name;
    }

    public String server(String pool, String address) {
        return pool(pool) + "/servers/" + address;
    }

    public String autoscale(String pool) {
        return config() + "autoscale/" + pool;
    }

    public String alerts() {
        return config() + "alerts";
    }

    public String member(String node) {
        return members() + node;
    }

    public String leader() {
        return prefix + "/leader";
    }

    public String scaling(String pool) {
        return prefix + "/scaling/" + pool;
    }

    public String pending(String pool, String id) {
        return scaling(pool) + "/pending/" + id;
    }

    public boolean isConfig(String key) {
        return key.startsWith(config());
    }

    /** What {@code key} names; {@link Other} for anything outside the layout. */
    public Key parse(String key) {
        if (key.startsWith(members())) {
            String node = key.substring(members().length());
            return node.isEmpty() || node.contains("/") ? new Other(key) : new Member(node);
        }
        if (key.equals(leader())) {
            return new Leader();
        }
        if (key.startsWith(prefix + "/scaling/")) {
            String[] parts = key.substring((prefix + "/scaling/").length()).split("/", -1);
            if (parts.length == 1 && !parts[0].isEmpty()) {
                return new Scaling(parts[0]);
            }
            return parts.length == 3 && !parts[0].isEmpty() && parts[1].equals("pending") && !parts[2].isEmpty()
                    ? new Pending(parts[0], parts[2]) : new Other(key);
        }
        if (!key.startsWith(config())) {
            return new Other(key);
        }
        String rest = key.substring(config().length());
        if (rest.equals("alerts")) {
            return new Alerts();
        }
        String[] parts = rest.split("/", -1);
        if (parts.length == 2 && parts[0].equals("listeners") && !parts[1].isEmpty()) {
            return new Listener(parts[1]);
        }
        if (parts.length == 2 && parts[0].equals("autoscale") && !parts[1].isEmpty()) {
            return new Autoscale(parts[1]);
        }
        if (parts[0].equals("pools") && parts.length == 2 && !parts[1].isEmpty()) {
            return new Pool(parts[1]);
        }
        if (parts[0].equals("pools") && parts.length == 4 && !parts[1].isEmpty() && parts[2].equals("servers")
                && !parts[3].isEmpty()) {
            return new PoolServer(parts[1], parts[3]);
        }
        return new Other(key);
    }
}
