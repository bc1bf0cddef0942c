package dev.fulcrum.server.admin;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Map;

/**
 * The dashboard's files, read once from the jar ({@code dev/fulcrum/server/admin/dashboard/}): the
 * page works from a file-less install and loads nothing from the network. Only the names listed
 * here are served, so a path can never reach another resource. Immutable after construction.
 */
final class DashboardAssets {

    record Asset(byte[] body, String contentType) {
    }

    private static final String DIR = "/dev/fulcrum/server/admin/dashboard/";
    private static final Map<String, String> TYPES = Map.of(
            "index.html", "text/html; charset=utf-8",
            "dashboard.css", "text/css; charset=utf-8",
            "dashboard.js", "text/javascript; charset=utf-8");

    private final Map<String, Asset> assets;

    DashboardAssets() {
        java.util.HashMap<String, Asset> loaded = new java.util.HashMap<>();
        TYPES.forEach((name, type) -> loaded.put(name, new Asset(read(name), type)));
        this.assets = Map.copyOf(loaded);
    }

    /** The file, or null when there is none by that name. */
    Asset get(String name) {
        return assets.get(name);
    }

    private static byte[] read(String name) {
        try (InputStream in = DashboardAssets.class.getResourceAsStream(DIR + name)) {
            if (in == null) {
                throw new IllegalStateException("dashboard file " + name + " is missing from the jar");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
