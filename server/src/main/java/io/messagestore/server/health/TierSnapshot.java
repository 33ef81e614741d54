package io.messagestore.server.health;

import java.util.List;

/** What the last probe of one tier found. */
public record TierSnapshot(boolean reachable, long probeLatencyMicros, String detail, List<String> warnings) {
  public static TierSnapshot unknown() {
    return new TierSnapshot(false, 0, "not probed yet", List.of());
  }
}
