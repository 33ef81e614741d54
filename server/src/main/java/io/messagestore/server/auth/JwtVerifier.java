package io.messagestore.server.auth;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.crypto.MACVerifier;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import java.nio.charset.StandardCharsets;
import java.text.ParseException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.ConcurrentHashMap;
import java.util.Date;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/** Verifies HS256 bearer tokens and turns them into a {@link Caller}. */
public final class JwtVerifier {
  /** Tolerated clock difference between the token issuer and this gateway. */
  public static final Duration DEFAULT_CLOCK_SKEW = Duration.ofSeconds(30);

  /** Verified tokens kept so a client's repeated token costs a map lookup, not an HMAC. */
  static final int VERIFIED_CACHE_SIZE = 10_000;

  private final MACVerifier verifier;
  private final Clock clock;
  private final Duration clockSkew;
  private final ConcurrentHashMap<String, Verified> verified = new ConcurrentHashMap<>();

  private record Verified(Caller caller, Instant expires) {}

  public JwtVerifier(String secret, Clock clock) {
    try {
      this.verifier = new MACVerifier(secret.getBytes(StandardCharsets.UTF_8));
    } catch (JOSEException e) {
      throw new IllegalArgumentException("MESSAGESTORE_JWT_SECRET cannot be used for HS256: " + e.getMessage(), e);
    }
    this.clock = clock;
    this.clockSkew = DEFAULT_CLOCK_SKEW;
  }

  /**
   * Verifies the token and returns the caller.
   *
   * @throws InvalidTokenException with a reason a client developer can act on
   */
  public Caller verify(String token) throws InvalidTokenException {
    Verified known = verified.get(token);
    if (known != null) {
      if (known.expires().isBefore(clock.instant())) {
        verified.remove(token);
        throw new InvalidTokenException("token expired at " + known.expires().minus(clockSkew));
      }
      return known.caller();
    }
    return verifyUncached(token);
  }

  private Caller verifyUncached(String token) throws InvalidTokenException {
    SignedJWT jwt;
    try {
      jwt = SignedJWT.parse(token);
    } catch (ParseException e) {
      throw new InvalidTokenException("token is not a signed JWT");
    }
    if (!JWSAlgorithm.HS256.equals(jwt.getHeader().getAlgorithm())) {
      throw new InvalidTokenException("token algorithm must be HS256, not " + jwt.getHeader().getAlgorithm());
    }
    try {
      if (!jwt.verify(verifier)) {
        throw new InvalidTokenException("token signature does not verify");
      }
    } catch (JOSEException e) {
      throw new InvalidTokenException("token signature cannot be checked: " + e.getMessage());
    }
    JWTClaimsSet claims;
    try {
      claims = jwt.getJWTClaimsSet();
    } catch (ParseException e) {
      throw new InvalidTokenException("token claims are not valid JSON");
    }
    Date exp = claims.getExpirationTime();
    if (exp == null) {
      throw new InvalidTokenException("token has no exp claim");
    }
    if (exp.toInstant().plus(clockSkew).isBefore(clock.instant())) {
      throw new InvalidTokenException("token expired at " + exp.toInstant());
    }
    Date nbf = claims.getNotBeforeTime();
    if (nbf != null && nbf.toInstant().minus(clockSkew).isAfter(clock.instant())) {
      throw new InvalidTokenException("token is not valid before " + nbf.toInstant());
    }
    String sub = claims.getSubject();
    if (sub == null || sub.isBlank()) {
      throw new InvalidTokenException("token has no sub claim");
    }
    Caller caller = new Caller(sub, roles(claims));
    if (nbf == null) {
      if (verified.size() >= VERIFIED_CACHE_SIZE) {
        // Crude but bounded: many distinct live tokens just means more HMACs, never more memory.
        verified.clear();
      }
      verified.put(token, new Verified(caller, exp.toInstant().plus(clockSkew)));
    }
    return caller;
  }

  private static Set<String> roles(JWTClaimsSet claims) throws InvalidTokenException {
    Object raw = claims.getClaim("roles");
    Set<String> roles = new HashSet<>();
    if (raw == null) {
      return roles;
    }
    if (raw instanceof String s) {
      for (String r : s.split("[ ,]+")) {
        if (!r.isEmpty()) {
          roles.add(r);
        }
      }
    } else if (raw instanceof List<?> list) {
      for (Object o : list) {
        roles.add(String.valueOf(o));
      }
    } else {
      throw new InvalidTokenException("roles claim must be a string or a list of strings");
    }
    return roles;
  }

  /** A token that was presented but cannot be accepted. */
  public static final class InvalidTokenException extends Exception {
    public InvalidTokenException(String reason) {
      super(reason);
    }
  }
}
