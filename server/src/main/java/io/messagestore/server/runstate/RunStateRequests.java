package io.messagestore.server.runstate;

import io.messagestore.api.v1.Checkpoint;
import io.messagestore.api.v1.PutRunStateRequest;
import io.messagestore.api.v1.TtlClass;
import io.messagestore.server.config.RunStateSettings;
import io.messagestore.server.error.StoreError;
import io.messagestore.server.write.SendRequestValidator;

/** Checks run-state requests before any tier is asked; every refusal is INVALID_ARGUMENT naming the field. */
final class RunStateRequests {
  private final int maxStateBytes;

  RunStateRequests(int maxStateBytes) {
    this.maxStateBytes = maxStateBytes;
  }

  void check(PutRunStateRequest r) {
    checkRunId(r.getRunId());
    if (!r.getThreadId().isEmpty()) {
      SendRequestValidator.checkThreadId(r.getThreadId(), "thread_id");
    }
    if (r.getState().size() > maxStateBytes) {
      throw new StoreError.Invalid("state is " + r.getState().size() + " bytes; the maximum is " + maxStateBytes
          + " (" + RunStateSettings.MAX_RUN_STATE_BYTES.key() + ")");
    }
    if (r.getExpectedVersion() < 0) {
      throw new StoreError.Invalid("expected_version must not be negative, got " + r.getExpectedVersion());
    }
    if (r.getCheckpoint() == Checkpoint.UNRECOGNIZED) {
      throw new StoreError.Invalid("checkpoint must be one of CHECKPOINT_NONE, CHECKPOINT_AUTO, CHECKPOINT_CRITICAL, "
          + "CHECKPOINT_FULL, got " + r.getCheckpointValue());
    }
    if (r.getTtlClass() == TtlClass.UNRECOGNIZED) {
      throw new StoreError.Invalid("ttl_class must be one of TEMPORARY, CHECKPOINT, PERSISTENT, got "
          + r.getTtlClassValue());
    }
  }

  static void checkRead(String runId, long version) {
    checkRunId(runId);
    if (version < 0) {
      throw new StoreError.Invalid("version must not be negative (0 means the latest), got " + version);
    }
  }

  /** The same characters as thread ids. */
  static void checkRunId(String runId) {
    SendRequestValidator.checkThreadId(runId, "run_id");
  }
}
