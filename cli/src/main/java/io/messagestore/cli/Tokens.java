package io.messagestore.cli;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Clock;
import java.time.Duration;
import java.util.Date;
import java.util.List;
import java.util.Optional;

/**
 * Where the bearer token comes from: {@code --token}, {@code --token-file}, {@code --as} (minted
 * here) or {@code $MESSAGESTORE_TOKEN}, in that order; the three options exclude each other.
 * No token at all is allowed, for a gateway run with {@code MESSAGESTORE_AUTH=disabled}.
 */
final class Tokens {
  /** Long enough for a slow command, short enough that a leaked development token soon dies. */
  static final Duration MINTED_LIFETIME = Duration.ofMinutes(5);
  static final String SECRET_VARIABLE = "MESSAGESTORE_JWT_SECRET";
  static final String TOKEN_VARIABLE = "MESSAGESTORE_TOKEN";

  private Tokens() {}

  /**
   * @throws IllegalArgumentException naming the problem when the options conflict or a token
   *     cannot be had from what they name; never with the token itself in the message
   */
  static Optional<String> resolve(GlobalOptions options, Clock clock) {
    int given = (options.token != null ? 1 : 0) + (options.tokenFile != null ? 1 : 0)
        + (options.actAs != null ? 1 : 0);
    if (given > 1) {
      throw new IllegalArgumentException("--token, --token-file and --as exclude each other");
    }
    if (options.admin && options.actAs == null) {
      throw new IllegalArgumentException("--admin only applies to a token minted with --as USER");
    }
    if (options.token != null) {
      return Optional.of(nonBlank(options.token, "--token"));
    }
    if (options.tokenFile != null) {
      try {
        return Optional.of(nonBlank(Files.readString(options.tokenFile, StandardCharsets.UTF_8),
            "--token-file " + options.tokenFile));
      } catch (IOException e) {
        throw new IllegalArgumentException("cannot read --token-file " + options.tokenFile + ": " + e);
      }
    }
    if (options.actAs != null) {
      return Optional.of(mint(options.actAs, options.admin, options.environment().get(SECRET_VARIABLE), clock));
    }
    String fromEnvironment = options.environment().get(TOKEN_VARIABLE);
    return fromEnvironment == null || fromEnvironment.isBlank()
        ? Optional.empty() : Optional.of(fromEnvironment.trim());
  }

  private static String nonBlank(String token, String source) {
    String trimmed = token.trim();
    if (trimmed.isEmpty()) {
      throw new IllegalArgumentException(source + " gives an empty token");
    }
    return trimmed;
  }

  static String mint(String user, boolean admin, String secret, Clock clock) {
    if (user.isBlank()) {
      throw new IllegalArgumentException("--as needs a user id");
    }
    if (secret == null || secret.getBytes(StandardCharsets.UTF_8).length < 32) {
      throw new IllegalArgumentException("--as mints a token with $" + SECRET_VARIABLE
          + ", which must be set to the gateway's secret (at least 32 bytes)");
    }
    JWTClaimsSet claims = new JWTClaimsSet.Builder()
        .subject(user)
        .claim("roles", admin ? List.of("admin") : List.of())
        .issueTime(Date.from(clock.instant()))
        .expirationTime(Date.from(clock.instant().plus(MINTED_LIFETIME)))
        .build();
    SignedJWT jwt = new SignedJWT(new JWSHeader(JWSAlgorithm.HS256), claims);
    try {
      jwt.sign(new MACSigner(secret.getBytes(StandardCharsets.UTF_8)));
    } catch (JOSEException e) {
      throw new IllegalArgumentException("cannot sign a token with $" + SECRET_VARIABLE + ": " + e.getMessage());
    }
    return jwt.serialize();
  }
}
