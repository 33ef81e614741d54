package io.messagestore.server.health;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Redis's memory as {@code INFO memory} reports it, and what it means for the gateway: how close
 * Redis is to refusing the send script (sends then fail over to PostgreSQL, slower), and whether
 * its eviction policy could drop keys that must not be dropped (OPERATIONS.md, "How much memory
 * Redis needs").
 *
 * @param usedBytes {@code used_memory}
 * @param maxBytes {@code maxmemory}; 0 means no limit
 * @param policy {@code maxmemory_policy}
 */
record RedisMemory(long usedBytes, long maxBytes, String policy) {
  /** Used memory at or above this share of {@code maxmemory} is reported as a warning. */
  static final double NEARLY_FULL = 0.9;

  /** Reads the fields from an {@code INFO memory} reply; absent numbers are 0, an absent policy "unknown". */
  static RedisMemory parse(String info) {
    long used = 0;
    long max = 0;
    String policy = "unknown";
    for (String line : info.split("\r?\n")) {
      int colon = line.indexOf(':');
      if (colon < 0) {
        continue;
      }
      String value = line.substring(colon + 1).trim();
      switch (line.substring(0, colon)) {
        case "used_memory" -> used = Long.parseLong(value);
        case "maxmemory" -> max = Long.parseLong(value);
        case "maxmemory_policy" -> policy = value;
        default -> { }
      }
    }
    return new RedisMemory(used, max, policy);
  }

  List<String> warnings() {
    List<String> out = new ArrayList<>();
    if (policy.startsWith("allkeys-")) {
      out.add("maxmemory-policy=" + policy + ": when full, Redis may evict a persistence stream (acknowledged "
          + "messages not yet in PostgreSQL would be lost) or an owner key; use noeviction or a volatile-* policy");
    }
    if (maxBytes > 0 && usedBytes >= NEARLY_FULL * maxBytes) {
      out.add(String.format(Locale.ROOT, "used_memory at %.0f%% of maxmemory (%s of %s): once Redis refuses writes, "
          + "sends fail over to PostgreSQL", 100.0 * usedBytes / maxBytes, megabytes(usedBytes), megabytes(maxBytes)));
    }
    return out;
  }

  String detail() {
    return "used_memory=" + megabytes(usedBytes) + " maxmemory=" + (maxBytes > 0 ? megabytes(maxBytes) : "none")
        + " maxmemory-policy=" + policy;
  }

  private static String megabytes(long bytes) {
    return String.format(Locale.ROOT, "%.1fMB", bytes / 1e6);
  }
}
