package io.messagestore.loadtest;

/**
 * A run that cannot be made at all (bad target, unknown method, unusable data). The message
 * is one line meant for the user; the command prints it and exits non-zero.
 */
public final class LoadTestException extends RuntimeException {
    public LoadTestException(String message) {
        super(message);
    }

    public LoadTestException(String message, Throwable cause) {
        super(message, cause);
    }
}
