package io.messagestore.server.config;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;

/**
 * Reads {@link GatewayConfig} from key/value sources that all use the settings' environment
 * variable names. Later sources win: defaults, then a properties file, then the environment,
 * then command-line overrides.
 */
public final class ConfigLoader {
  private ConfigLoader() {}

  /**
   * Merges the sources and builds the config.
   *
   * @param file optional properties file ({@code KEY=VALUE} lines), may be null
   * @param environment usually {@link System#getenv()}
   * @param overrides values given on the command line
   */
  public static GatewayConfig load(Path file, Map<String, String> environment, Map<String, String> overrides) {
    Map<String, String> merged = new HashMap<>();
    if (file != null) {
      merged.putAll(readFile(file));
    }
    environment.forEach((k, v) -> {
      if (k.startsWith("MESSAGESTORE_")) {
        merged.put(k, v);
      }
    });
    merged.putAll(overrides);
    return GatewayConfig.from(new SettingValues(merged));
  }

  private static Map<String, String> readFile(Path file) {
    Properties p = new Properties();
    try (Reader r = Files.newBufferedReader(file)) {
      p.load(r);
    } catch (IOException e) {
      throw new ConfigException("MESSAGESTORE_CONFIG_FILE", file.toString(), "cannot be read: " + e.getMessage());
    }
    Map<String, String> m = new HashMap<>();
    p.forEach((k, v) -> m.put(k.toString().trim(), v.toString().trim()));
    return m;
  }
}
