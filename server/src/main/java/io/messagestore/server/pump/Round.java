package io.messagestore.server.pump;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What one round of a {@link BatchPump} read, per lane in the order the lanes were read. Filled
 * by the {@link PumpSource}, committed by the pump. Used by the pump's thread only.
 */
public final class Round<T> {
  private final Map<Integer, List<Delivery<T>>> byLane = new LinkedHashMap<>();
  /** Entries came back from a read that waited: the pump had been idle. */
  private boolean woken;
  private int size;

  public void add(int lane, List<Delivery<T>> deliveries) {
    byLane.computeIfAbsent(lane, k -> new ArrayList<>()).addAll(deliveries);
    size += deliveries.size();
  }

  /** The source delivered entries of a read that had waited for them (see {@link PumpSource#awaitEntries}). */
  public void markWoken() {
    woken = true;
  }

  public boolean woken() {
    return woken;
  }

  public int size() {
    return size;
  }

  public boolean isEmpty() {
    return size == 0;
  }

  /** Whether someone waits for the commit of one of its entries. */
  public boolean urgent() {
    return byLane.values().stream().anyMatch(l -> l.stream().anyMatch(Delivery::urgent));
  }

  /** The entries per lane, lanes in the order they were first read. */
  public Map<Integer, List<Delivery<T>>> byLane() {
    return Collections.unmodifiableMap(byLane);
  }
}
