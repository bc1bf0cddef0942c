package dev.fulcrum.server.cli;

import picocli.CommandLine.IVersionProvider;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Properties;

/**
 * The version of this build, from the resource {@code dev/fulcrum/server/version.properties}
 * (filled in by Maven). Also picocli's {@code --version} provider. Stateless.
 */
public final class Version implements IVersionProvider {

    private static final String RESOURCE = "/dev/fulcrum/server/version.properties";

    /** {@code 0.1.0-SNAPSHOT}, or {@code unknown} when the resource is missing (a broken build). */
    public static String current() {
        try (InputStream in = Version.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                return "unknown";
            }
            Properties props = new Properties();
            props.load(in);
            return props.getProperty("version", "unknown");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The line both {@code fulcrum version} and {@code fulcrum --version} print. */
    static String line() {
        return "fulcrum " + current();
    }

    @Override
    public String[] getVersion() {
        return new String[] {line()};
    }
}
