package io.messagestore.loadtest.template;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.IntFunction;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A ghz-style text template compiled once into literal and action segments, so that
 * expanding it per call is a single pass of appends (no parsing on the hot path).
 *
 * <p>Supported actions (the ones ghz users write most): {@code {{.RequestNumber}}},
 * {@code {{.WorkerID}}}, {@code {{.TimestampUnix}}}, {@code {{.TimestampUnixMilli}}},
 * {@code {{.TimestampUnixNano}}}, {@code {{.UUID}}}, {@code {{newUUID}}},
 * {@code {{randomString N}}} and {@code {{randomInt MIN MAX}}} (MAX exclusive, as in ghz).
 */
public final class Template {

    private static final Pattern ACTION = Pattern.compile("\\{\\{\\s*(.*?)\\s*}}");
    private static final char[] ALPHANUMERIC =
            "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789".toCharArray();

    /** One piece of the compiled template; appends its text for one call. */
    private interface Segment {
        void appendTo(StringBuilder out, long requestNumber, String workerId);
    }

    private final String source;
    private final Segment[] segments;
    private final int literalLength;

    private Template(String source, Segment[] segments, int literalLength) {
        this.source = source;
        this.segments = segments;
        this.literalLength = literalLength;
    }

    /** Compiles {@code source}; throws IllegalArgumentException naming an unknown action. */
    public static Template compile(String source) {
        List<Segment> segments = new ArrayList<>();
        Matcher matcher = ACTION.matcher(source);
        int literalLength = 0;
        int last = 0;
        while (matcher.find()) {
            if (matcher.start() > last) {
                String literal = source.substring(last, matcher.start());
                literalLength += literal.length();
                segments.add((out, n, w) -> out.append(literal));
            }
            segments.add(action(matcher.group(1)));
            last = matcher.end();
        }
        if (last < source.length()) {
            String literal = source.substring(last);
            literalLength += literal.length();
            segments.add((out, n, w) -> out.append(literal));
        }
        return new Template(source, segments.toArray(Segment[]::new), literalLength);
    }

    /** True when {@code text} contains a template action; plain text can be used as is. */
    public static boolean hasActions(String text) {
        return text != null && ACTION.matcher(text).find();
    }

    /** The actions of {@code text} as written, braces included, in order. */
    public static List<String> actions(String text) {
        List<String> actions = new ArrayList<>();
        Matcher matcher = ACTION.matcher(text);
        while (matcher.find()) {
            actions.add(matcher.group());
        }
        return actions;
    }

    /**
     * {@code text} with its i-th action replaced by {@code replacement.apply(i)}: lets a caller
     * parse the text around its actions and find out where each one lands.
     */
    public static String replaceActions(String text, IntFunction<String> replacement) {
        Matcher matcher = ACTION.matcher(text);
        StringBuilder out = new StringBuilder(text.length());
        int i = 0;
        while (matcher.find()) {
            matcher.appendReplacement(out, Matcher.quoteReplacement(replacement.apply(i++)));
        }
        matcher.appendTail(out);
        return out.toString();
    }

    /** True when the template has no actions: every expansion is the same text. */
    public boolean isConstant() {
        return !hasActions(source);
    }

    /** Expands the template for one call. */
    public String expand(long requestNumber, String workerId) {
        StringBuilder out = new StringBuilder(literalLength + 48);
        for (Segment segment : segments) {
            segment.appendTo(out, requestNumber, workerId);
        }
        return out.toString();
    }

    public String source() {
        return source;
    }

    private static Segment action(String action) {
        String[] words = action.trim().split("\\s+");
        switch (words[0]) {
            case ".RequestNumber":
                return (out, n, w) -> out.append(n);
            case ".WorkerID":
                return (out, n, w) -> out.append(w);
            case ".TimestampUnix":
                return (out, n, w) -> out.append(System.currentTimeMillis() / 1000);
            case ".TimestampUnixMilli":
                return (out, n, w) -> out.append(System.currentTimeMillis());
            case ".TimestampUnixNano":
                return (out, n, w) -> out.append(System.currentTimeMillis() * 1_000_000L);
            case ".UUID":
            case "newUUID":
                return (out, n, w) -> out.append(fastRandomUuid());
            case "randomString": {
                int length = words.length > 1 ? parseInt(action, words[1]) : 0;
                return (out, n, w) -> appendRandomString(out, length <= 0
                        ? ThreadLocalRandom.current().nextInt(1, 101) : length);
            }
            case "randomInt": {
                if (words.length != 3) {
                    throw new IllegalArgumentException("template action '" + action
                            + "': randomInt needs MIN and MAX");
                }
                long min = parseInt(action, words[1]);
                long max = parseInt(action, words[2]);
                if (max <= min) {
                    throw new IllegalArgumentException("template action '" + action
                            + "': MAX must be greater than MIN");
                }
                return (out, n, w) -> out.append(ThreadLocalRandom.current().nextLong(min, max));
            }
            default:
                throw new IllegalArgumentException("unknown template action '{{" + action + "}}'");
        }
    }

    private static int parseInt(String action, String word) {
        try {
            return Integer.parseInt(word);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("template action '" + action + "': '" + word
                    + "' is not an integer");
        }
    }

    /**
     * Six random bits per character, ten characters per random long, skipping the two values
     * of 64 that have no character: a 512-byte string per call costs a fraction of what one
     * bounded nextInt per character does, and every character stays equally likely.
     */
    static void appendRandomString(StringBuilder out, int length) {
        ThreadLocalRandom random = ThreadLocalRandom.current();
        char[] chars = new char[length];
        int filled = 0;
        while (filled < length) {
            long bits = random.nextLong();
            for (int i = 0; i < 10 && filled < length; i++, bits >>>= 6) {
                int index = (int) (bits & 63);
                if (index < ALPHANUMERIC.length) {
                    chars[filled++] = ALPHANUMERIC[index];
                }
            }
        }
        out.append(chars);
    }

    /**
     * A version-4 UUID from ThreadLocalRandom: UUID.randomUUID() goes through SecureRandom,
     * which costs several microseconds per call and contends across threads. Load-test ids
     * need uniqueness, not unpredictability.
     */
    static UUID fastRandomUuid() {
        ThreadLocalRandom random = ThreadLocalRandom.current();
        long msb = (random.nextLong() & 0xffffffffffff0fffL) | 0x0000000000004000L;
        long lsb = (random.nextLong() & 0x3fffffffffffffffL) | 0x8000000000000000L;
        return new UUID(msb, lsb);
    }
}
