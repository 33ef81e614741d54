package io.messagestore.server.config;

import java.util.Map;

/**
 * The text each setting was given, merged from every source by {@link ConfigLoader}; the
 * records of the concerns read their values from it. A setting no source gives reads as its
 * default.
 */
final class SettingValues {
  private final Map<String, String> text;

  SettingValues(Map<String, String> text) {
    this.text = Map.copyOf(text);
  }

  /** The value given for {@code setting}, read by its parser, or its default. */
  <T> T get(Setting<T> setting) {
    String given = text.get(setting.key());
    return given == null ? setting.defaultValue() : setting.parse(given);
  }

  /** True when a source gives {@code setting} (even its default value). */
  boolean isGiven(Setting<?> setting) {
    return text.containsKey(setting.key());
  }
}
