package dev.fulcrum.server.config;

import dev.fulcrum.server.io.BoundedFile;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.error.Mark;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.error.YAMLException;
import org.yaml.snakeyaml.nodes.Node;

import java.io.IOException;
import java.io.StringReader;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Reads a config file (spec config.md) into a validated {@link FulcrumConfig} with every default
 * filled in, or fails with a {@link ConfigException} listing every mistake as
 * {@code FILE:LINE:COLUMN: key: message}.
 *
 * <p>The text is composed by SnakeYAML into a node tree that keeps each node's position; values are
 * then read from the tree, so {@code ${NAME}} substitution (done per scalar, after parsing) never
 * shifts a reported position. Stateless and thread-safe.
 */
public final class ConfigLoader {

    private ConfigLoader() {
    }

    /** Loads {@code file}, substituting from the process environment. */
    public static FulcrumConfig load(Path file) {
        return load(file, System.getenv());
    }

    /**
     * The largest config file read: a real one is a few KiB. A bigger file, or one that is not a
     * regular file ({@code /dev/zero}, a FIFO), is refused before it can fill the heap.
     */
    public static final int MAX_FILE_BYTES = BoundedFile.ONE_MIB;

    /** Loads {@code file}, substituting {@code ${NAME}} from {@code env}. */
    public static FulcrumConfig load(Path file, Map<String, String> env) {
        String name = file.toString();
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder()
                    .decode(ByteBuffer.wrap(BoundedFile.read(file, MAX_FILE_BYTES))).toString();
        } catch (NoSuchFileException e) {
            throw unreadable(name, "no such file");
        } catch (AccessDeniedException e) {
            throw unreadable(name, "permission denied");
        } catch (CharacterCodingException e) {
            throw unreadable(name, "not UTF-8 text");
        } catch (BoundedFile.RefusedException e) {
            throw unreadable(name, e.getMessage());
        } catch (IOException e) {
            throw unreadable(name, String.valueOf(e.getMessage()));
        }
        return parse(text, name, env);
    }

    /**
     * Parses config text; {@code fileName} is only used in errors.
     *
     * @throws ConfigException with every mistake, in file order
     */
    public static FulcrumConfig parse(String yamlText, String fileName, Map<String, String> env) {
        ConfigSource source = new ConfigSource(fileName, env);
        Node root;
        try {
            root = new Yaml(new LoaderOptions()).compose(new StringReader(yamlText));
        } catch (MarkedYAMLException e) {
            Mark mark = e.getProblemMark() != null ? e.getProblemMark() : e.getContextMark();
            if (mark == null) {
                throw new ConfigException(List.of(new ConfigError(fileName, 0, 0, "",
                        "invalid YAML: " + oneLine(e.getMessage()))));
            }
            source.error(mark, "invalid YAML: " + syntaxMessage(e));
            throw new ConfigException(source.errors());
        } catch (YAMLException e) {
            throw new ConfigException(List.of(new ConfigError(fileName, 0, 0, "",
                    "invalid YAML: " + oneLine(e.getMessage()))));
        }
        if (root == null) {
            throw new ConfigException(List.of(new ConfigError(fileName, 1, 1, "",
                    "the file is empty; at least one listener and its pool are required")));
        }
        FulcrumConfig config = new ConfigBinder(source).bind(root);
        if (source.hasErrors() || config == null) {
            throw new ConfigException(source.errors());
        }
        return config;
    }

    /**
     * SnakeYAML's problem, with where the enclosing block started, and a hint for the commonest cause
     * (a line indented differently from its neighbours) since the parser's words do not say it.
     */
    private static String syntaxMessage(MarkedYAMLException e) {
        String problem = oneLine(e.getProblem());
        String context = e.getContext() == null ? null : oneLine(e.getContext());
        String message;
        if (context == null) {
            message = problem;
        } else if (context.startsWith("while") && e.getContextMark() != null) {
            message = problem + " (" + context + " started at line " + (e.getContextMark().getLine() + 1) + ")";
        } else {
            message = context + ", " + problem;
        }
        return problem.contains("<block end>") ? message + "; check the indentation" : message;
    }

    private static ConfigException unreadable(String file, String why) {
        return new ConfigException(List.of(new ConfigError(file, 0, 0, "", "cannot read: " + why)));
    }

    private static String oneLine(String text) {
        return String.valueOf(text).strip().replaceAll("\\s+", " ");
    }
}
