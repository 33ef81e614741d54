package io.messagestore.loadtest.call;

import java.util.ArrayList;
import java.util.List;

/**
 * Splits ghz {@code -d} data into its top-level array elements without parsing it as JSON,
 * because templates may stand where JSON does not allow them ({@code "n": {{randomInt 1 9}}}).
 * Template actions are skipped as opaque text.
 */
final class JsonArraySplitter {

    private JsonArraySplitter() {
    }

    /** The elements of a top-level array, or the whole text as the only element. */
    static List<String> elements(String data) {
        String text = data.trim();
        if (!text.startsWith("[")) {
            return List.of(text);
        }
        List<String> elements = new ArrayList<>();
        int depth = 0;
        boolean inString = false;
        int start = 1;
        for (int i = 1; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '{' && i + 1 < text.length() && text.charAt(i + 1) == '{') {
                int close = text.indexOf("}}", i + 2);
                if (close > 0) {
                    i = close + 1;
                    continue;
                }
            }
            if (inString) {
                if (c == '\\') {
                    i++;
                } else if (c == '"') {
                    inString = false;
                }
                continue;
            }
            switch (c) {
                case '"' -> inString = true;
                case '{', '[' -> depth++;
                case '}' -> depth--;
                case ']' -> {
                    if (depth == 0) {
                        addElement(elements, text.substring(start, i));
                        return elements;
                    }
                    depth--;
                }
                case ',' -> {
                    if (depth == 0) {
                        addElement(elements, text.substring(start, i));
                        start = i + 1;
                    }
                }
                default -> { }
            }
        }
        throw new IllegalArgumentException("-d data: unterminated JSON array");
    }

    private static void addElement(List<String> elements, String element) {
        String trimmed = element.trim();
        if (!trimmed.isEmpty()) {
            elements.add(trimmed);
        }
    }
}
