package io.messagestore.server.error;

/**
 * Why a call failed, as the server knows it: the request was wrong, the caller may not do it,
 * what it names does not exist, it lost a race, a bound was reached, the caller went away, or a
 * tier it needed could not be asked (and whether a write was stored all the same).
 *
 * <p>Used inside the server, where decisions depend on the kind (the write path fails over to
 * PostgreSQL on anything that is not a {@code StoreError}; breakers do not count these against a
 * tier). Only the API edge ({@code api.grpc.Replies}) turns one into a gRPC status, with its
 * message as the description. Thrown as control flow, so without a stack trace.
 */
public abstract sealed class StoreError extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private StoreError(String description, Throwable cause) {
    super(description, cause, false, false);
  }

  /** What the caller is told. */
  public String description() {
    return getMessage();
  }

  /**
   * The request is wrong: a field, a cursor, or a value of it that a tier refused. Retrying the
   * same request cannot succeed.
   */
  public static final class Invalid extends StoreError {
    private static final long serialVersionUID = 1L;

    public Invalid(String description) {
      super(description, null);
    }

    public Invalid(String description, Throwable cause) {
      super(description, cause);
    }
  }

  /** The caller may not do this to the thread or run (see {@code auth.ThreadAccess}, {@code auth.RunAccess}). */
  public static final class Denied extends StoreError {
    private static final long serialVersionUID = 1L;

    public Denied(String threadId, String userId) {
      this("thread", threadId, userId);
    }

    /** @param what what the caller was refused, e.g. {@code run} */
    public Denied(String what, String id, String userId) {
      super(what + " '" + id + "' belongs to another user, not '" + userId + "'", null);
    }
  }

  /** What the request names does not exist, and every tier that could hold it said so. */
  public static final class NotFound extends StoreError {
    private static final long serialVersionUID = 1L;

    public NotFound(String description) {
      super(description, null);
    }
  }

  /** A compare-and-set lost to a concurrent change: nothing was applied (run state). */
  public static final class Conflict extends StoreError {
    private static final long serialVersionUID = 1L;

    public Conflict(String description) {
      super(description, null);
    }
  }

  /** A bound was reached (the persistence backlog): nothing was stored, retry later. */
  public static final class Exhausted extends StoreError {
    private static final long serialVersionUID = 1L;

    public Exhausted(String description) {
      super(description, null);
    }
  }

  /** The caller went away (cancel or deadline) before the work for it was done. */
  public static final class Cancelled extends StoreError {
    private static final long serialVersionUID = 1L;

    public Cancelled(String description) {
      super(description, null);
    }
  }

  /** A tier the call needed could not be asked, or did not answer in time. */
  public static final class TierUnavailable extends StoreError {
    private static final long serialVersionUID = 1L;

    /** What a write that failed this way left behind. */
    public enum Stored {
      /** Nothing was stored (or the call was no write): retrying is safe. */
      NOTHING,
      /** A tier may have applied it after all: retry with the same idempotency key. */
      MAYBE,
      /** It is stored, but not as durably as asked (e.g. not committed to PostgreSQL in time). */
      STORED
    }

    private final Stored stored;

    public TierUnavailable(String description, Stored stored) {
      this(description, stored, null);
    }

    public TierUnavailable(String description, Stored stored, Throwable cause) {
      super(description, cause);
      this.stored = stored;
    }

    public Stored stored() {
      return stored;
    }

    /**
     * A tier call that failed: the failure itself when it is a {@code StoreError} already (a
     * refusal or a cancellation on the way), else the tier is unavailable, described as
     * {@code "<tier> unavailable[ and <context>]: <exception> (<message>)"}.
     *
     * @param failure as thrown, possibly wrapped in a CompletionException
     * @param context why the tier was needed, or null
     */
    public static StoreError of(String tier, Throwable failure, String context) {
      Throwable c = unwrap(failure);
      if (c instanceof StoreError e) {
        return e;
      }
      return new TierUnavailable(tier + " unavailable" + (context == null ? "" : " and " + context) + ": "
          + describe(c), Stored.NOTHING, c);
    }
  }

  /** {@code SimpleName (message)} of an exception, for descriptions. */
  public static String describe(Throwable t) {
    Throwable c = unwrap(t);
    return c.getClass().getSimpleName() + (c.getMessage() == null ? "" : " (" + c.getMessage() + ")");
  }

  private static Throwable unwrap(Throwable t) {
    while (t instanceof java.util.concurrent.CompletionException && t.getCause() != null) {
      t = t.getCause();
    }
    return t;
  }
}
