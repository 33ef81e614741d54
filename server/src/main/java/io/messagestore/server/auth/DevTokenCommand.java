package io.messagestore.server.auth;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import io.messagestore.server.config.AuthSettings;
import io.messagestore.server.config.Setting;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.TypeConversionException;

/** {@code messagestore-server token}: mints an HS256 token for development and operations. */
@Command(name = "token", mixinStandardHelpOptions = true,
    description = "Prints a signed JWT for MESSAGESTORE_JWT_SECRET (for development and operator tooling).")
public final class DevTokenCommand implements Callable<Integer> {
  @Option(names = "--sub", required = true, converter = NonBlank.class, description = "User id (the sub claim).")
  String subject;

  @Option(names = "--role", converter = NonBlank.class, description = "Role to include, e.g. admin (repeatable).")
  List<String> roles = new ArrayList<>();

  @Option(names = "--ttl", defaultValue = "24h", converter = Lifetime.class,
      description = "Lifetime, e.g. 15m, 24h (default ${DEFAULT-VALUE}).")
  Duration ttl;

  @Spec
  CommandSpec spec;

  private final Map<String, String> environment;

  /** @param environment where {@code MESSAGESTORE_JWT_SECRET} is read (the process's, in a real run) */
  public DevTokenCommand(Map<String, String> environment) {
    this.environment = environment;
  }

  @Override
  public Integer call() throws Exception {
    String secret = environment.get(AuthSettings.JWT_SECRET.key());
    if (secret == null || secret.getBytes(StandardCharsets.UTF_8).length < 32) {
      spec.commandLine().getErr().println(
          "messagestore: MESSAGESTORE_JWT_SECRET must be set (at least 32 bytes) to sign a token");
      return CommandLine.ExitCode.USAGE;
    }
    Instant now = Instant.now();
    JWTClaimsSet claims = new JWTClaimsSet.Builder()
        .subject(subject)
        .claim("roles", roles)
        .issueTime(Date.from(now))
        .expirationTime(Date.from(now.plus(ttl)))
        .build();
    SignedJWT jwt = new SignedJWT(new JWSHeader(JWSAlgorithm.HS256), claims);
    jwt.sign(new MACSigner(secret.getBytes(StandardCharsets.UTF_8)));
    spec.commandLine().getOut().println(jwt.serialize());
    spec.commandLine().getOut().flush();
    return 0;
  }

  /** A token that is already expired, or never expires, is never what was meant. */
  static final class Lifetime implements ITypeConverter<Duration> {
    /** Far beyond any use, and far below where the expiry time would overflow. */
    static final Duration LONGEST = Duration.ofDays(36_500);

    @Override
    public Duration convert(String value) {
      Duration d = null;
      try {
        d = Setting.parseDuration(value);
      } catch (RuntimeException e) {
        // reported below, with the value as typed
      }
      if (d == null || d.isNegative() || d.isZero()) {
        throw new TypeConversionException("'" + value + "' is not a positive duration such as 15m, 24h or PT30M");
      }
      if (d.compareTo(LONGEST) > 0) {
        throw new TypeConversionException("'" + value + "' is longer than " + LONGEST.toDays() + " days");
      }
      return d;
    }
  }

  /** An empty subject or role would sign a token no check can match. */
  static final class NonBlank implements ITypeConverter<String> {
    @Override
    public String convert(String value) {
      if (value.isBlank()) {
        throw new TypeConversionException("must not be empty");
      }
      return value;
    }
  }
}
