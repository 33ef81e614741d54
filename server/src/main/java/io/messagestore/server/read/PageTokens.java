package io.messagestore.server.read;

import io.messagestore.server.error.StoreError;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.Base64;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Opaque page cursors: {@code scope|direction|position} with an HMAC-SHA256 tag, base64url.
 * The tag makes a forged or edited cursor, or one issued for another thread or direction,
 * fail with INVALID_ARGUMENT instead of paging from an arbitrary position. Every gateway
 * instance derives the same key from the shared secret, so a cursor works on any of them.
 */
public final class PageTokens {
  private static final int TAG_BYTES = 16;
  private final SecretKeySpec key;

  public PageTokens(String secret) {
    try {
      byte[] k = MessageDigest.getInstance("SHA-256").digest(("messagestore-cursor:" + secret).getBytes(StandardCharsets.UTF_8));
      this.key = new SecretKeySpec(k, "HmacSHA256");
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  public String encode(String scope, boolean newestFirst, String position) {
    String body = scope + "|" + (newestFirst ? "d" : "a") + "|" + position;
    byte[] b = body.getBytes(StandardCharsets.UTF_8);
    byte[] tag = tag(b);
    byte[] out = new byte[b.length + TAG_BYTES];
    System.arraycopy(b, 0, out, 0, b.length);
    System.arraycopy(tag, 0, out, b.length, TAG_BYTES);
    return Base64.getUrlEncoder().withoutPadding().encodeToString(out);
  }

  /** The position in a token, after checking it was issued for this scope and direction. */
  public String decode(String token, String scope, boolean newestFirst) {
    byte[] raw;
    try {
      raw = Base64.getUrlDecoder().decode(token);
    } catch (IllegalArgumentException e) {
      throw invalid("page_token is not a token issued by this service");
    }
    if (raw.length <= TAG_BYTES) {
      throw invalid("page_token is not a token issued by this service");
    }
    byte[] body = java.util.Arrays.copyOf(raw, raw.length - TAG_BYTES);
    byte[] tag = java.util.Arrays.copyOfRange(raw, raw.length - TAG_BYTES, raw.length);
    if (!MessageDigest.isEqual(tag, java.util.Arrays.copyOf(tag(body), TAG_BYTES))) {
      throw invalid("page_token was altered or not issued by this service");
    }
    String[] parts = new String(body, StandardCharsets.UTF_8).split("\\|", 3);
    if (parts.length != 3 || !parts[0].equals(scope)) {
      throw invalid("page_token belongs to another listing");
    }
    if (!parts[1].equals(newestFirst ? "d" : "a")) {
      throw invalid("page_token was issued for the other direction (newest_first)");
    }
    return parts[2];
  }

  private byte[] tag(byte[] body) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(key);
      return mac.doFinal(body);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  private static StoreError.Invalid invalid(String d) {
    return new StoreError.Invalid(d);
  }
}
