package io.messagestore.loadtest;

import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;

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

    /**
     * "{@code what}: why" for a file that could not be read or written. Java's own messages are
     * often just the path ("NoSuchFileException: auth.json"), which reads like no reason at all.
     */
    public static LoadTestException io(String what, IOException e) {
        String why;
        if (e instanceof NoSuchFileException) {
            why = "no such file";
        } else if (e instanceof AccessDeniedException) {
            why = "permission denied";
        } else if (e instanceof CharacterCodingException) {
            why = "not UTF-8 text";
        } else if (e instanceof FileSystemException fs && fs.getReason() != null) {
            why = fs.getReason();
        } else {
            why = String.valueOf(e.getMessage());
        }
        return new LoadTestException(what + ": " + why, e);
    }
}
