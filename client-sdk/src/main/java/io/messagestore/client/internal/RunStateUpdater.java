package io.messagestore.client.internal;

import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.messagestore.api.v1.Checkpoint;
import io.messagestore.api.v1.GetRunStateResponse;
import io.messagestore.api.v1.PutRunStateRequest;
import io.messagestore.api.v1.PutRunStateResponse;
import io.messagestore.api.v1.RunState;
import io.messagestore.client.MessageStoreException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import java.util.function.UnaryOperator;

/**
 * Read, apply, compare-and-set, and again on {@code ABORTED}: the loop behind
 * {@code updateRunState}. Each round reads the latest version, applies the caller's function to
 * its state and writes the result with {@code expected_version} = the version read, so a write
 * lands only on the state it was computed from and no update is lost.
 */
public final class RunStateUpdater {
  /** Longest pause after a lost round: short, the winner is already done. */
  private static final long MAX_PAUSE_MICROS = 20_000;

  private final Function<String, CompletableFuture<GetRunStateResponse>> read;
  private final Function<PutRunStateRequest, CompletableFuture<PutRunStateResponse>> write;
  private final int maxRounds;

  /**
   * @param read reads the latest version of a run (with the client's read retries)
   * @param write writes one version (with the client's write retries)
   * @param maxRounds rounds before giving up on a run others keep changing
   */
  public RunStateUpdater(Function<String, CompletableFuture<GetRunStateResponse>> read,
      Function<PutRunStateRequest, CompletableFuture<PutRunStateResponse>> write, int maxRounds) {
    this.read = read;
    this.write = write;
    this.maxRounds = maxRounds;
  }

  /** Runs the rounds; see {@code MessageStoreAsyncClient#updateRunState}. */
  public CompletableFuture<RunState> update(String runId, UnaryOperator<byte[]> update,
      Checkpoint checkpoint) {
    CompletableFuture<RunState> result = new CompletableFuture<>();
    round(runId, update, checkpoint, 1, result);
    return result;
  }

  private void round(String runId, UnaryOperator<byte[]> update, Checkpoint checkpoint,
      int round, CompletableFuture<RunState> result) {
    // Decided from the state read, not from the server's text (which quotes the run id): a write
    // refused because the run was completed meanwhile leads to one more round, whose read ends it.
    AtomicBoolean completed = new AtomicBoolean();
    AtomicReference<PutRunStateRequest> sent = new AtomicReference<>();
    read.apply(runId)
        .handle((current, failure) -> {
          if (failure != null) {
            MessageStoreException e = CallRunner.unwrap("GetRunState", failure);
            if (e.getCode() != Status.Code.NOT_FOUND) {
              throw e;
            }
            return null; // no such run yet: the first write creates it
          }
          completed.set(current.getRunState().getCompleted());
          return current.getRunState();
        })
        .thenCompose(current -> {
          PutRunStateRequest request = next(runId, current, update, checkpoint);
          sent.set(request);
          return write.apply(request);
        })
        .whenComplete((written, failure) -> {
          if (failure == null) {
            result.complete(written.getRunState());
            return;
          }
          MessageStoreException e = failure instanceof MessageStoreException m ? m
              : CallRunner.unwrap("PutRunState", failure);
          if (e.getCode() == Status.Code.ABORTED && e.wasRetried() && sent.get() != null) {
            // A write retried after a lost answer (OTHER_WRITE retries turned on) conflicts with
            // itself when its first attempt landed: that is a win, not a round to run again.
            ownWriteOrNextRound(runId, update, checkpoint, round, result, sent.get(), e);
            return;
          }
          if (e.getCode() != Status.Code.ABORTED || completed.get() || round >= maxRounds) {
            result.completeExceptionally(round >= maxRounds && e.getCode() == Status.Code.ABORTED
                ? new MessageStoreException("PutRunState", Status.ABORTED.withDescription(
                    "run '" + runId + "' changed under every one of " + round
                        + " read-apply-write rounds; last: " + e.getDescription()), e, round)
                : unwrapped(failure, e));
            return;
          }
          nextRound(runId, update, checkpoint, round, result);
        });
  }

  private void nextRound(String runId, UnaryOperator<byte[]> update, Checkpoint checkpoint, int round,
      CompletableFuture<RunState> result) {
    // Jitter keeps the losers of one round from colliding again in the next.
    long pause = ThreadLocalRandom.current().nextLong(Math.min(MAX_PAUSE_MICROS, 500L * round) + 1);
    Backoff.timer().schedule(() -> round(runId, update, checkpoint, round + 1, result),
        pause, TimeUnit.MICROSECONDS);
  }

  /**
   * Reads the run after a retried write was refused: the version it asked for, holding exactly
   * its state, is that write's own first attempt, and the update is done; anything else is a
   * lost round like any other.
   */
  private void ownWriteOrNextRound(String runId, UnaryOperator<byte[]> update, Checkpoint checkpoint, int round,
      CompletableFuture<RunState> result, PutRunStateRequest sent, MessageStoreException refusal) {
    read.apply(runId).whenComplete((current, failure) -> {
      if (failure != null) {
        result.completeExceptionally(refusal);
        return;
      }
      RunState now = current.getRunState();
      if (now.getVersion() == sent.getExpectedVersion() + 1 && now.getState().equals(sent.getState())) {
        result.complete(now);
      } else if (now.getCompleted() || round >= maxRounds) {
        result.completeExceptionally(refusal);
      } else {
        nextRound(runId, update, checkpoint, round, result);
      }
    });
  }

  private static Throwable unwrapped(Throwable failure, MessageStoreException e) {
    Throwable cause = failure;
    while (cause instanceof java.util.concurrent.CompletionException && cause.getCause() != null) {
      cause = cause.getCause();
    }
    // The caller's own exception from the update function goes back to the caller as it was.
    return cause instanceof MessageStoreException ? e : cause;
  }

  private static PutRunStateRequest next(String runId, RunState current,
      UnaryOperator<byte[]> update, Checkpoint checkpoint) {
    if (current != null && current.getCompleted()) {
      throw new MessageStoreException("PutRunState", Status.ABORTED.withDescription(
          "run '" + runId + "' is completed and takes no more writes"), null);
    }
    byte[] newState = update.apply(current == null ? null : current.getState().toByteArray());
    if (newState == null) {
      throw new IllegalArgumentException("the update of run '" + runId + "' returned null");
    }
    PutRunStateRequest.Builder request = PutRunStateRequest.newBuilder()
        .setRunId(runId)
        .setState(ByteString.copyFrom(newState))
        .setCheckpoint(checkpoint);
    if (current != null) {
      request.setExpectedVersion(current.getVersion())
          .setThreadId(current.getThreadId())
          .setTtlClass(current.getTtlClass());
    }
    return request.build();
  }
}
