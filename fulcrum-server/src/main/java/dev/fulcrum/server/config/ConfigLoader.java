package dev.fulcrum.server.config;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * PLACEHOLDER (cli branch) until the config helper's version lands: checks only that the file is
 * readable YAML and returns a config with no listeners and no pools. The real loader validates
 * every key of spec config.md.
 */
public final class ConfigLoader {

    private ConfigLoader() {
    }

    public static FulcrumConfig load(Path file) {
        JsonNode root;
        try {
            root = new ObjectMapper(new YAMLFactory()).readTree(file.toFile());
        } catch (JsonProcessingException e) {
            JsonLocation at = e.getLocation();
            throw new ConfigException(List.of(new ConfigError(file, at == null ? 1 : at.getLineNr(),
                    at == null ? 1 : at.getColumnNr(), "", e.getOriginalMessage().lines().findFirst().orElse("bad YAML"))));
        } catch (IOException e) {
            throw new ConfigException(List.of(new ConfigError(file, 1, 1, "", "cannot read: " + e.getMessage())));
        }
        String name = root != null && root.hasNonNull("name") ? root.get("name").asText() : "fulcrum";
        return new FulcrumConfig(name, FulcrumConfig.Admin.DEFAULT, List.of(), List.of(), List.of(), List.of(),
                null, null);
    }
}
