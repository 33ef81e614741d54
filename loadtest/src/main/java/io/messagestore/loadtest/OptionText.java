package io.messagestore.loadtest;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The JSON given to -d, -m and --compare-data, as ghz takes it: the JSON itself, {@code @path}
 * for a file's contents, and for data {@code @} alone for stdin. (ghz gets {@code @path} from
 * its flag parser's argument files, which only works for one-line files; whole files are read here.)
 * JSON never starts with {@code @}, so the prefix cannot be mistaken for a value.
 */
final class OptionText {

    private OptionText() {
    }

    /** The text of {@code value} given to {@code option}; null stays null. */
    static String resolve(String option, String value, InputStream stdin) {
        if (value == null || !value.startsWith("@")) {
            return value;
        }
        if (value.equals("@")) {
            try {
                return new String(stdin.readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw LoadTestException.io("cannot read " + option + " from stdin", e);
            }
        }
        return read(option, Path.of(value.substring(1)));
    }

    /** The contents of {@code file} given to {@code option}, or a one-line error naming the file. */
    static String read(String option, Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            throw LoadTestException.io("cannot read " + option + " file " + file, e);
        }
    }
}
