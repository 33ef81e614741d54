package io.messagestore.client;

import io.grpc.Status;

/**
 * A MessageStore call that failed, carrying the gRPC status code and the server's description.
 *
 * <p>The message reads {@code "<Rpc> failed: <CODE>: <description>"}, for example
 * {@code "SendMessage failed: PERMISSION_DENIED: thread 'x' belongs to another user"}.
 * The codes the server uses and what they mean:
 * <ul>
 *   <li>{@code INVALID_ARGUMENT}: a field is wrong; the description names it.</li>
 *   <li>{@code UNAUTHENTICATED}: the token is missing, expired or does not verify; the client
 *       also uses it when the token supplier fails or returns no token.</li>
 *   <li>{@code PERMISSION_DENIED}: the thread belongs to another user.</li>
 *   <li>{@code NOT_FOUND}: no such message or thread.</li>
 *   <li>{@code ABORTED}: a batch or compare-and-set was not applied.</li>
 *   <li>{@code RESOURCE_EXHAUSTED}: rate limit or persistence backlog bound.</li>
 *   <li>{@code UNAVAILABLE}: no tier could take the call, or the server is unreachable.</li>
 *   <li>{@code DEADLINE_EXCEEDED}: the call outlived
 *       {@link MessageStoreClientOptions#deadline()}.</li>
 * </ul>
 */
public class MessageStoreException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final String rpc;
  private final Status.Code code;
  private final String description;

  /**
   * Creates an exception for a failed call.
   *
   * @param rpc the RPC name, e.g. {@code "SendMessage"}
   * @param status the status the call ended with
   * @param cause the underlying exception, may be null
   */
  public MessageStoreException(String rpc, Status status, Throwable cause) {
    super(message(rpc, status), cause);
    this.rpc = rpc;
    this.code = status.getCode();
    this.description = status.getDescription();
  }

  private static String message(String rpc, Status status) {
    String text = rpc + " failed: " + status.getCode();
    return status.getDescription() == null ? text : text + ": " + status.getDescription();
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
}
