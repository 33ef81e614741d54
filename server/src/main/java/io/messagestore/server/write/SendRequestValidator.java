package io.messagestore.server.write;

import io.messagestore.api.v1.Role;
import io.messagestore.api.v1.SendMessageRequest;
import io.messagestore.server.error.StoreError;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * Checks requests before anything is stored; every rejection is INVALID_ARGUMENT naming the
 * field. NUL characters are refused because PostgreSQL text and jsonb cannot hold them: accepted
 * into Redis, such a message could never be persisted.
 */
public final class SendRequestValidator {
  public static final int MAX_THREAD_ID_LENGTH = 128;
  public static final int MAX_METADATA_ENTRIES = 64;
  public static final int MAX_METADATA_KEY_LENGTH = 256;
  public static final int MAX_METADATA_VALUE_BYTES = 64 * 1024;
  public static final int MAX_IDEMPOTENCY_KEY_LENGTH = 256;
  /** Characters a thread id may hold: {@code [A-Za-z0-9._:-]}, as bits of the ASCII code. */
  private static final long THREAD_ID_CHARS_0_63 = bits("0123456789.:-");
  private static final long THREAD_ID_CHARS_64_127 = bits("ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz");

  private final int maxContentBytes;

  public SendRequestValidator(int maxContentBytes) {
    this.maxContentBytes = maxContentBytes;
  }

  public static void checkThreadId(String threadId, String field) {
    if (threadId.isEmpty()) {
      throw invalid(field + " is required");
    }
    if (threadId.length() > MAX_THREAD_ID_LENGTH || !threadIdChars(threadId)) {
      throw invalid(field + " must be 1-128 characters of [A-Za-z0-9._:-]");
    }
  }

  // Every call that names a thread passes here; the regex this replaces was 5 % of a cache
  // send's gateway CPU.
  private static boolean threadIdChars(String threadId) {
    for (int i = 0; i < threadId.length(); i++) {
      char c = threadId.charAt(i);
      long set = c < 64 ? THREAD_ID_CHARS_0_63 : c < 128 ? THREAD_ID_CHARS_64_127 : 0;
      if ((set & (1L << (c & 63))) == 0) {
        return false;
      }
    }
    return true;
  }

  private static long bits(String chars) {
    long set = 0;
    for (char c : chars.toCharArray()) {
      set |= 1L << (c & 63);
    }
    return set;
  }

  public void check(SendMessageRequest r, String prefix) {
    checkThreadId(r.getThreadId(), prefix + "thread_id");
    if (r.getRole() == Role.ROLE_UNSPECIFIED || r.getRole() == Role.UNRECOGNIZED) {
      throw invalid(prefix + "role must be set to one of ROLE_USER, ROLE_ASSISTANT, ROLE_SYSTEM, ROLE_TOOL, ROLE_AGENT");
    }
    String content = r.getContent();
    if (content.isEmpty()) {
      throw invalid(prefix + "content must not be empty");
    }
    int bytes = r.getContentBytes().size();
    if (bytes > maxContentBytes) {
      throw invalid(prefix + "content is " + bytes + " bytes; the maximum is " + maxContentBytes);
    }
    if (content.indexOf('\0') >= 0) {
      throw invalid(prefix + "content must not contain NUL (U+0000) characters");
    }
    if (r.getMetadataCount() > MAX_METADATA_ENTRIES) {
      throw invalid(prefix + "metadata has " + r.getMetadataCount() + " entries; the maximum is " + MAX_METADATA_ENTRIES);
    }
    for (Map.Entry<String, String> e : r.getMetadataMap().entrySet()) {
      String k = e.getKey();
      if (k.isEmpty() || k.length() > MAX_METADATA_KEY_LENGTH) {
        throw invalid(prefix + "metadata keys must be 1-" + MAX_METADATA_KEY_LENGTH + " characters");
      }
      if (e.getValue().getBytes(StandardCharsets.UTF_8).length > MAX_METADATA_VALUE_BYTES) {
        throw invalid(prefix + "metadata[" + k + "] exceeds " + MAX_METADATA_VALUE_BYTES + " bytes");
      }
      if (k.indexOf('\0') >= 0 || e.getValue().indexOf('\0') >= 0) {
        throw invalid(prefix + "metadata must not contain NUL (U+0000) characters");
      }
    }
    String idem = r.getIdempotencyKey();
    if (idem.length() > MAX_IDEMPOTENCY_KEY_LENGTH) {
      throw invalid(prefix + "idempotency_key must be at most " + MAX_IDEMPOTENCY_KEY_LENGTH + " characters");
    }
    if (idem.indexOf('\0') >= 0) {
      throw invalid(prefix + "idempotency_key must not contain NUL (U+0000) characters");
    }
  }

  static StoreError.Invalid invalid(String description) {
    return new StoreError.Invalid(description);
  }
}
