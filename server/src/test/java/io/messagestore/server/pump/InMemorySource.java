package io.messagestore.server.pump;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A pump source of string entries in lanes, kept in memory with the bookkeeping of a Redis
 * consumer group: an entry delivered is pending until the pump reports it committed or
 * dead-lettered. A pending entry comes back when the pump asks for it ({@link #redeliver}: same
 * count) or when the test lets it be claimed ({@link #claimOnNextRead}: the count goes up, as
 * XAUTOCLAIM's does). Entries whose id starts with "unreadable" come as unreadable deliveries,
 * those whose id starts with "urgent" as urgent ones.
 */
final class InMemorySource implements PumpSource<String> {
  private final List<List<String>> unread = new ArrayList<>();
  private final List<Map<String, Long>> pending = new ArrayList<>();
  private final boolean[] redeliver;
  private final int batchSize;
  private boolean claim;
  private boolean nextReadWakes;
  RuntimeException failNextRead;

  final List<String> acknowledged = new ArrayList<>();
  final Map<String, String> deadLettered = new LinkedHashMap<>();
  final List<Throwable> recovered = new ArrayList<>();
  final List<Integer> redelivered = new ArrayList<>();
  int reads;
  int waits;
  boolean closed;

  InMemorySource(int lanes, int batchSize) {
    for (int i = 0; i < lanes; i++) {
      unread.add(new ArrayList<>());
      pending.add(new LinkedHashMap<>());
    }
    this.redeliver = new boolean[lanes];
    this.batchSize = batchSize;
  }

  /** Appends entries to a lane. */
  InMemorySource add(int lane, String... ids) {
    unread.get(lane).addAll(List.of(ids));
    return this;
  }

  /** The next read's entries come as those of a read that waited (the pump was idle). */
  void nextReadWakes() {
    nextReadWakes = true;
  }

  /** The next read delivers the pending entries again, each counted once more (a claim). */
  void claimOnNextRead() {
    claim = true;
  }

  /** Delivered, neither committed nor dead-lettered. */
  List<String> pending(int lane) {
    return List.copyOf(pending.get(lane).keySet());
  }

  @Override
  public String laneName(int lane) {
    return "lane-" + lane;
  }

  @Override
  public void prepare() {
  }

  @Override
  public boolean read(Round<String> round, boolean topUp) {
    reads++;
    if (failNextRead != null) {
      RuntimeException e = failNextRead;
      failNextRead = null;
      throw e;
    }
    boolean wakes = nextReadWakes && !topUp;
    nextReadWakes = false;
    for (int lane = 0; lane < unread.size(); lane++) {
      List<Delivery<String>> got = new ArrayList<>();
      Map<String, Long> lanePending = pending.get(lane);
      if (!topUp && (claim || redeliver[lane])) {
        for (Map.Entry<String, Long> e : lanePending.entrySet()) {
          if (claim) {
            e.setValue(e.getValue() + 1);
          }
          got.add(delivery(lane, e.getKey(), e.getValue()));
        }
        redeliver[lane] = false;
      }
      List<String> laneUnread = unread.get(lane);
      while (got.size() < batchSize && !laneUnread.isEmpty()) {
        String id = laneUnread.remove(0);
        lanePending.put(id, 1L);
        got.add(delivery(lane, id, 1));
      }
      if (!got.isEmpty()) {
        round.add(lane, got);
        if (wakes) {
          round.markWoken();
        }
      }
    }
    if (!topUp) {
      claim = false;
    }
    return false;
  }

  private static Delivery<String> delivery(int lane, String id, long deliveries) {
    if (id.startsWith("unreadable")) {
      return Delivery.unreadable(lane, id, deliveries, false, id, "payload is not a Message");
    }
    return Delivery.readable(lane, id, deliveries, id.startsWith("urgent"), id);
  }

  @Override
  public void awaitEntries() {
    waits++;
  }

  @Override
  public void committed(int lane, List<Delivery<String>> entries) {
    for (Delivery<String> d : entries) {
      pending.get(lane).remove(d.id());
      acknowledged.add(d.id());
    }
  }

  @Override
  public void deadLetter(Delivery<String> entry, String error) {
    pending.get(entry.lane()).remove(entry.id());
    deadLettered.put(entry.id(), error);
  }

  @Override
  public void redeliver(int lane) {
    redelivered.add(lane);
    redeliver[lane] = true;
  }

  @Override
  public void recover(Throwable failure) {
    recovered.add(failure);
    for (int lane = 0; lane < redeliver.length; lane++) {
      redeliver[lane] = true;
    }
  }

  @Override
  public void acknowledge() {
  }

  @Override
  public void collectOutstanding(Round<String> round) {
    read(round, true);
  }

  @Override
  public void awaitAcknowledgements() {
  }

  @Override
  public void close() {
    closed = true;
  }
}
