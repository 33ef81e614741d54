package io.messagestore.server.auth;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import io.messagestore.server.config.ConfigLoader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code messagestore-server token}: mints an HS256 token for development and operations. */
@Command(name = "token", mixinStandardHelpOptions = true,
    description = "Prints a signed JWT for MESSAGESTORE_JWT_SECRET (for development and operator tooling).")
public final class DevTokenCommand implements Callable<Integer> {
  @Option(names = "--sub", required = true, description = "User id (the sub claim).")
  String subject;

  @Option(names = "--role", description = "Role to include, e.g. admin (repeatable).")
  List<String> roles = new ArrayList<>();

  @Option(names = "--ttl", defaultValue = "24h", description = "Lifetime, e.g. 15m, 24h (default ${DEFAULT-VALUE}).")
  String ttl;

  @Override
  public Integer call() throws Exception {
    String secret = System.getenv("MESSAGESTORE_JWT_SECRET");
    if (secret == null || secret.getBytes(StandardCharsets.UTF_8).length < 32) {
      System.err.println("messagestore: MESSAGESTORE_JWT_SECRET must be set (at least 32 bytes) to sign a token");
      return 2;
    }
    Duration lifetime = ConfigLoader.parseDuration(ttl);
    JWTClaimsSet claims = new JWTClaimsSet.Builder()
        .subject(subject)
        .claim("roles", roles)
        .issueTime(new Date())
        .expirationTime(Date.from(Instant.now().plus(lifetime)))
        .build();
    SignedJWT jwt = new SignedJWT(new JWSHeader(JWSAlgorithm.HS256), claims);
    jwt.sign(new MACSigner(secret.getBytes(StandardCharsets.UTF_8)));
    System.out.println(jwt.serialize());
    return 0;
  }
}
