package dev.fulcrum.server.testing;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * A test's LAN made of network namespaces: one Linux bridge {@code br0} in a namespace of its own
 * ({@code PREFIX-br}), and hosts, each a namespace {@code PREFIX-ROLE}; a host {@link #attach}ed to
 * the LAN has a veth pair whose bridge side is {@code v-ROLE} and whose host side is
 * {@link #INTERFACE}. Every veth is created in the bridge namespace and moved straight to its
 * host, so no interface ever exists in the root namespace and runs cannot collide ({@code PREFIX}
 * is {@link Netns#uniquePrefix()}). Hosts off the LAN ({@link #open}) are linked by the caller.
 * {@link #close()} deletes every namespace opened, hosts first and the bridge last, each even if
 * another fails. Thread-safe.
 */
public final class BridgedLan implements AutoCloseable {

    /** The host side of every veth pair into the bridge. */
    public static final String INTERFACE = "eth0";
    private static final String BRIDGE = "br0";

    private final String prefix = Netns.uniquePrefix();
    private final List<Netns> opened = new ArrayList<>();
    private Netns bridge;

    private BridgedLan() {
    }

    /** The bridge namespace with {@code br0} up; on a failure deletes what it made and throws. */
    public static BridgedLan create() throws IOException {
        return Closing.built(new BridgedLan(), lan -> {
            lan.bridge = lan.open("br");
            lan.bridge.run("ip", "link", "add", BRIDGE, "type", "bridge");
            lan.bridge.run("ip", "link", "set", BRIDGE, "up");
        });
    }

    /** A new host namespace {@code PREFIX-ROLE} not on the LAN (only {@code lo}, up). */
    public Netns open(String role) throws IOException {
        Netns ns = Netns.create(prefix + "-" + role);
        synchronized (opened) {
            opened.add(ns);
        }
        return ns;
    }

    /** A new host on the LAN: its namespace, plugged into the bridge, {@code addressCidr} on {@link #INTERFACE}, up. */
    public Netns attach(String role, String addressCidr) throws IOException {
        Netns ns = open(role);
        bridge.run("ip", "link", "add", port(role), "type", "veth", "peer", "name", INTERFACE, "netns", ns.name());
        bridge.run("ip", "link", "set", port(role), "master", BRIDGE, "up");
        ns.run("ip", "addr", "add", addressCidr, "dev", INTERFACE);
        ns.run("ip", "link", "set", INTERFACE, "up");
        return ns;
    }

    /**
     * Sets the bridge side of {@code role}'s veth down: the bridge stops forwarding to it and the
     * host's {@link #INTERFACE} loses carrier (still administratively up), as a pulled cable.
     */
    public void portDown(String role) throws IOException {
        bridge.run("ip", "link", "set", port(role), "down");
    }

    /** Plugs {@code role}'s cable back in (see {@link #portDown}). */
    public void portUp(String role) throws IOException {
        bridge.run("ip", "link", "set", port(role), "up");
    }

    /** The namespace that holds the bridge. */
    public Netns bridge() {
        return bridge;
    }

    /** The prefix shared by this LAN's namespace names ({@code fx…}). */
    public String prefix() {
        return prefix;
    }

    /** The bridge side of a host's veth; only in the bridge namespace, so short and fixed. */
    private static String port(String role) {
        return "v-" + role;
    }

    @Override
    public void close() throws Exception {
        List<Netns> toClose;
        synchronized (opened) {
            toClose = List.copyOf(opened.reversed());
            opened.clear();
        }
        Closing.all(toClose);
    }
}
