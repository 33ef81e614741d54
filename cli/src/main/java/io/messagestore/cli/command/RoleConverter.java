package io.messagestore.cli.command;

import io.messagestore.api.v1.Role;
import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/** {@code user}, {@code assistant}, ... or the enum names ({@code ROLE_USER}), any case. */
final class RoleConverter implements ITypeConverter<Role> {
  static final String NAMES = Arrays.stream(Role.values())
      .filter(r -> r != Role.ROLE_UNSPECIFIED && r != Role.UNRECOGNIZED)
      .map(r -> r.name().substring("ROLE_".length()).toLowerCase(Locale.ROOT))
      .collect(Collectors.joining(", "));

  @Override
  public Role convert(String value) {
    String name = value.trim().toUpperCase(Locale.ROOT);
    if (!name.startsWith("ROLE_")) {
      name = "ROLE_" + name;
    }
    try {
      Role role = Role.valueOf(name);
      if (role != Role.ROLE_UNSPECIFIED && role != Role.UNRECOGNIZED) {
        return role;
      }
    } catch (IllegalArgumentException unknown) {
      // falls through to the message naming the choices
    }
    throw new TypeConversionException("'" + value + "' is not a role (" + NAMES + ")");
  }
}
