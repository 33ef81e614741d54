package io.messagestore.server.auth;

import io.messagestore.server.error.StoreError;

/**
 * Who may read or write an agent run's state.
 *
 * <p>A run has exactly one owner: the user whose write created it (its {@code user_id}, kept with
 * every copy of the state in every tier, so the check needs nothing but the copy being served).
 * <ul>
 *   <li><b>Read</b>: the owner, or an admin.</li>
 *   <li><b>Write</b>: the owner only; a run nobody holds is created by its first writer.</li>
 * </ul>
 * Anything refused is PERMISSION_DENIED naming the run and the caller.
 */
public final class RunAccess {
  /** Whether {@code caller} may read a run that {@code owner} owns. */
  public boolean mayRead(Caller caller, String owner) {
    return owner.equals(caller.userId()) || caller.isAdmin();
  }

  /** Whether {@code caller} may write a run that {@code owner} owns. */
  public boolean mayWrite(Caller caller, String owner) {
    return owner.equals(caller.userId());
  }

  /** Throws PERMISSION_DENIED unless {@code caller} may read the run. */
  public void requireRead(Caller caller, String runId, String owner) {
    if (!mayRead(caller, owner)) {
      throw denied(runId, caller);
    }
  }

  /** What a refused caller is told. */
  public StoreError.Denied denied(String runId, Caller caller) {
    return new StoreError.Denied("run", runId, caller.userId());
  }
}
