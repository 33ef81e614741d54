package io.messagestore.server.config;

import io.messagestore.server.config.GatewayConfig.AuthMode;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * Whether callers must present a JWT, and the HS256 key that signs it (which also keys the
 * page-cursor HMAC). Never prints the key.
 */
public record AuthSettings(AuthMode mode, String jwtSecret) {

  public static final Setting<AuthMode> AUTH = Setting.of("MESSAGESTORE_AUTH", AuthMode.REQUIRED, s -> {
    switch (s.toLowerCase(Locale.ROOT)) {
      case "required": return AuthMode.REQUIRED;
      case "disabled": return AuthMode.DISABLED;
      default: throw new IllegalArgumentException("must be 'required' or 'disabled'");
    }
  });
  /** Its rule depends on {@link #AUTH}: see the constructor. */
  public static final Setting<String> JWT_SECRET = Setting.text("MESSAGESTORE_JWT_SECRET", "").secret();

  public AuthSettings {
    AUTH.check(mode);
    JWT_SECRET.check(jwtSecret);
    if (mode == AuthMode.REQUIRED) {
      JWT_SECRET.require(jwtSecret.getBytes(StandardCharsets.UTF_8).length >= 32, jwtSecret,
          "must be at least 32 bytes (HS256 needs a 256-bit key) when MESSAGESTORE_AUTH=required");
    }
  }

  static AuthSettings from(SettingValues v) {
    return new AuthSettings(v.get(AUTH), v.get(JWT_SECRET));
  }

  @Override
  public String toString() {
    return "AuthSettings[mode=" + mode + ", jwtSecret=<hidden>]";
  }
}
