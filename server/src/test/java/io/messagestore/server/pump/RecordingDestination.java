package io.messagestore.server.pump;

import java.net.ConnectException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * A pump destination that records what it stores, refuses the items it is told to (the whole
 * batch holding one, as a statement would be), and can be away: for a number of attempts, or
 * once, at the commit of one item on its own.
 */
final class RecordingDestination implements PumpDestination<String> {
  /** Every item stored, in the order stored; a repeated commit stores nothing new. */
  final Set<String> stored = new LinkedHashSet<>();
  /** Every call: the batches of a round commit, or a single item. */
  final List<Object> attempts = new ArrayList<>();
  final Set<String> refused = new HashSet<>();
  private final Set<String> awayAt = new HashSet<>();
  boolean ready = true;
  int awayFor;

  /** The destination refuses any batch holding {@code item}, and the item itself. */
  RecordingDestination refuse(String item) {
    refused.add(item);
    return this;
  }

  /** The commit of {@code item} on its own finds the destination away, once. */
  RecordingDestination awayAtCommitOf(String item) {
    awayAt.add(item);
    return this;
  }

  @Override
  public boolean ready() {
    return ready;
  }

  @Override
  public List<Exception> commit(List<List<String>> batches) throws Exception {
    attempts.add(List.copyOf(batches));
    if (awayFor > 0) {
      awayFor--;
      throw new ConnectException("destination away");
    }
    List<Exception> outcome = new ArrayList<>();
    for (List<String> batch : batches) {
      if (batch.stream().anyMatch(refused::contains)) {
        outcome.add(new IllegalArgumentException("refused " + batch));
      } else {
        stored.addAll(batch);
        outcome.add(null);
      }
    }
    return outcome;
  }

  @Override
  public void commitOne(String item) throws Exception {
    attempts.add(item);
    if (awayAt.remove(item)) {
      throw new ConnectException("destination away");
    }
    if (refused.contains(item)) {
      throw new IllegalArgumentException("refused " + item);
    }
    stored.add(item);
  }

  @Override
  public boolean unreachable(Exception failure) {
    return failure instanceof ConnectException;
  }
}
