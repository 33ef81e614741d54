package io.messagestore.cli;

/**
 * A command that ran as asked but whose outcome is a failure the caller must see in the exit
 * code (1), such as a background job that failed; the message is printed on one line.
 */
public final class CommandFailedException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public CommandFailedException(String message) {
    super(message);
  }
}
