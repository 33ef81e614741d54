package io.messagestore.server.testing;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import io.grpc.CallCredentials;
import io.grpc.Metadata;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.concurrent.Executor;

/** Mints HS256 tokens for tests and attaches them to calls. */
public final class Tokens {
  public static final String SECRET = "test-secret-0123456789-abcdefghijklmnopqrstuvwxyz";
  static final Metadata.Key<String> AUTHORIZATION = Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);

  private Tokens() {}

  public static String token(String user, List<String> roles, Duration validFor, String secret) {
    try {
      JWTClaimsSet claims = new JWTClaimsSet.Builder()
          .subject(user)
          .claim("roles", roles)
          .issueTime(new Date())
          .expirationTime(Date.from(Instant.now().plus(validFor)))
          .build();
      SignedJWT jwt = new SignedJWT(new JWSHeader(JWSAlgorithm.HS256), claims);
      jwt.sign(new MACSigner(secret.getBytes(StandardCharsets.UTF_8)));
      return jwt.serialize();
    } catch (JOSEException e) {
      throw new IllegalStateException(e);
    }
  }

  public static String user(String user) {
    return token(user, List.of(), Duration.ofHours(1), SECRET);
  }

  public static String admin(String user) {
    return token(user, List.of("admin"), Duration.ofHours(1), SECRET);
  }

  public static CallCredentials bearer(String token) {
    return new CallCredentials() {
      @Override
      public void applyRequestMetadata(RequestInfo info, Executor executor, MetadataApplier applier) {
        Metadata m = new Metadata();
        m.put(AUTHORIZATION, "Bearer " + token);
        applier.apply(m);
      }
    };
  }
}
