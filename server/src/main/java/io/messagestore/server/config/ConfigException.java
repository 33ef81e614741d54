package io.messagestore.server.config;

/** A configuration value that cannot be used; the message names the setting and the value. */
public final class ConfigException extends IllegalArgumentException {
  private final String key;

  public ConfigException(String key, String value, String rule) {
    super(key + "=" + value + ": " + rule);
    this.key = key;
  }

  /** The environment variable name of the bad setting. */
  public String key() {
    return key;
  }
}
