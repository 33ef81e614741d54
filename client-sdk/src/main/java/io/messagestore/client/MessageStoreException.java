package io.messagestore.client;

import io.grpc.Status;

/**
 * A MessageStore call that failed, carrying the gRPC status code and the server's description.
 *
 * <p>The message reads {@code "<Rpc> failed: <CODE>: <description>"}, for example
 * {@code "SendMessage failed: PERMISSION_DENIED: thread 'x' belongs to another user, not 'bob'"}.
 * The codes a MessageStore server sends, and what they mean:
 * <ul>
 *   <li>{@code INVALID_ARGUMENT}: the request is wrong and retrying it cannot help: a field
 *       (the description names it), a page token this service did not issue for this listing,
 *       a request that is not a valid protobuf of its type, or a value a storage tier refused.</li>
 *   <li>{@code UNAUTHENTICATED}: the token is missing, expired or does not verify; the client
 *       also uses it when the token supplier fails or returns no token.</li>
 *   <li>{@code PERMISSION_DENIED}: the thread belongs to another user, or an admin call without
 *       the {@code admin} role.</li>
 *   <li>{@code NOT_FOUND}: no such message in the thread (GetMessage). A thread nobody owns
 *       lists as empty instead.</li>
 *   <li>{@code RESOURCE_EXHAUSTED}: the persistence backlog bound was reached and nothing was
 *       stored (retry later), or the request is larger than the server accepts.</li>
 *   <li>{@code UNAVAILABLE}: a tier the call needed could not be asked; the description says
 *       whether a write was stored (nothing, maybe: retry with the same idempotency key, or
 *       stored but not committed to PostgreSQL within the durable wait). The client also uses
 *       it when the server is unreachable.</li>
 *   <li>{@code CANCELLED}: the call was cancelled before it was answered.</li>
 *   <li>{@code DEADLINE_EXCEEDED}: the call outlived
 *       {@link MessageStoreClientOptions#deadline()}.</li>
 *   <li>{@code ABORTED}: a compare-and-set write of a run state lost against another writer
 *       (the description names the current version), or a write to a completed run.</li>
 *   <li>{@code UNIMPLEMENTED}: an RPC this server version does not have.</li>
 *   <li>{@code INTERNAL}: a fault in the server (a bug); the description names it.</li>
 * </ul>
 *
 * <p>A call the client tried more than once (see {@link RetryPolicy}) ends with the status of
 * its last attempt; {@link #getAttempts()} says how many there were, and the message ends with
 * {@code " (after N attempts)"}.
 */
public class MessageStoreException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final String rpc;
  private final Status.Code code;
  private final String description;
  private final int attempts;

  /**
   * Creates an exception for a call that failed at its only attempt.
   *
   * @param rpc the RPC name, e.g. {@code "SendMessage"}
   * @param status the status the call ended with
   * @param cause the underlying exception, may be null
   */
  public MessageStoreException(String rpc, Status status, Throwable cause) {
    this(rpc, status, cause, 1);
  }

  /**
   * Creates an exception for a call that failed after {@code attempts} attempts.
   *
   * @param rpc the RPC name, e.g. {@code "SendMessage"}
   * @param status the status the last attempt ended with
   * @param cause the underlying exception, may be null
   * @param attempts how many attempts were made, at least 1
   */
  public MessageStoreException(String rpc, Status status, Throwable cause, int attempts) {
    super(message(rpc, status, attempts), cause);
    if (attempts < 1) {
      throw new IllegalArgumentException("attempts must be at least 1, got " + attempts);
    }
    this.rpc = rpc;
    this.code = status.getCode();
    this.description = status.getDescription();
    this.attempts = attempts;
  }

  private static String message(String rpc, Status status, int attempts) {
    String text = rpc + " failed: " + status.getCode();
    text = status.getDescription() == null ? text : text + ": " + status.getDescription();
    return attempts > 1 ? text + " (after " + attempts + " attempts)" : text;
  }

  /** The RPC that failed, e.g. {@code "ListMessages"}. */
  public String getRpc() {
    return rpc;
  }

  /** The gRPC status code the call ended with. */
  public Status.Code getCode() {
    return code;
  }

  /** The server's description of the problem, or {@code null} when it gave none. */
  public String getDescription() {
    return description;
  }

  /** How many attempts the call made before it failed: 1 when it was not retried. */
  public int getAttempts() {
    return attempts;
  }

  /** Whether the call was tried more than once. */
  public boolean wasRetried() {
    return attempts > 1;
  }
}
