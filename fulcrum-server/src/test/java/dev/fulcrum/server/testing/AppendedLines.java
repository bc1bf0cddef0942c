package dev.fulcrum.server.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The lines of a file another thread or process appends to (an access log): only whole ones, as a
 * reader may catch the last line half-written. Stateless.
 */
public final class AppendedLines {

    private AppendedLines() {
    }

    /** The whole lines of {@code file} so far; none when it does not exist (yet). */
    public static List<String> of(Path file) throws IOException {
        if (!Files.exists(file)) {
            return List.of();
        }
        String text = Files.readString(file, StandardCharsets.ISO_8859_1);
        int end = text.lastIndexOf('\n');
        return end < 0 ? List.of() : text.substring(0, end).lines().toList();
    }
}
