package io.messagestore.loadtest.call;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.io.JsonEOFException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.grpc.Metadata;
import io.messagestore.loadtest.LoadTestException;
import io.messagestore.loadtest.template.Template;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The request headers of each call, from ghz's {@code -m} JSON object. gRPC mutates the
 * Metadata given to a call, so every call gets a fresh copy of the compiled headers.
 */
public final class MetadataSource {

    private record TemplatedHeader(Metadata.Key<String> key, Template value) { }

    private final Metadata fixed;
    private final List<TemplatedHeader> templated;
    private final Map<String, String> asGiven;

    private MetadataSource(Metadata fixed, List<TemplatedHeader> templated, Map<String, String> asGiven) {
        this.fixed = fixed;
        this.templated = templated;
        this.asGiven = asGiven;
    }

    public static MetadataSource none() {
        return new MetadataSource(new Metadata(), List.of(), Map.of());
    }

    /** Parses a JSON object of header name to value; "-bin" headers are base64. */
    public static MetadataSource parse(String json) {
        return parse(json, "-m metadata");
    }

    /**
     * As {@link #parse(String)}; errors name {@code origin} (the flag, and the file it came from)
     * and the header, never a value: values are mostly credentials, and errors end up in CI logs.
     */
    public static MetadataSource parse(String json, String origin) {
        if (json == null || json.isBlank()) {
            return none();
        }
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(json);
        } catch (JsonProcessingException e) {
            // Jackson's own message quotes the text around the error, which may be the token
            throw new LoadTestException(origin + " is not valid JSON (" + where(e) + ")");
        }
        if (!root.isObject()) {
            throw new LoadTestException(origin + " must be a JSON object of header name to value, "
                    + "e.g. {\"authorization\":\"Bearer TOKEN\"}");
        }
        Metadata fixed = new Metadata();
        List<TemplatedHeader> templated = new ArrayList<>();
        Map<String, String> asGiven = new LinkedHashMap<>();
        Iterator<Map.Entry<String, JsonNode>> fields = root.fields();
        while (fields.hasNext()) {
            Map.Entry<String, JsonNode> field = fields.next();
            String name = field.getKey().toLowerCase(Locale.ROOT);
            JsonNode node = field.getValue();
            if (!node.isValueNode() || node.isNull()) {
                throw new LoadTestException(origin + ": the value of header '" + name + "' must be a string");
            }
            String value = node.isTextual() ? node.textValue() : node.toString();
            asGiven.put(name, value);
            if (name.endsWith(Metadata.BINARY_HEADER_SUFFIX)) {
                fixed.put(Metadata.Key.of(checkedName(origin, name), Metadata.BINARY_BYTE_MARSHALLER),
                        base64(origin, name, value));
            } else if (Template.hasActions(value)) {
                templated.add(new TemplatedHeader(asciiKey(origin, name, value), template(origin, name, value)));
            } else {
                fixed.put(asciiKey(origin, name, value), value);
            }
        }
        return new MetadataSource(fixed, List.copyOf(templated), Map.copyOf(asGiven));
    }

    private static String where(JsonProcessingException e) {
        JsonLocation at = e.getLocation();
        String position = at == null ? "" : " at line " + at.getLineNr() + ", column " + at.getColumnNr();
        return (e instanceof JsonEOFException ? "it ends too early" : "syntax error") + position;
    }

    private static String checkedName(String origin, String name) {
        if (name.isEmpty() || !name.chars().allMatch(c -> c >= 'a' && c <= 'z' || c >= '0' && c <= '9'
                || c == '-' || c == '_' || c == '.')) {
            throw new LoadTestException(origin + ": '" + name + "' is not a gRPC header name "
                    + "(letters, digits, '-', '_' and '.' only)");
        }
        return name;
    }

    private static Metadata.Key<String> asciiKey(String origin, String name, String value) {
        // gRPC sends ASCII header values as they are: a line break or non-ASCII character would
        // fail every call (or be rejected by the server) instead of this one line
        if (!value.chars().allMatch(c -> c >= 0x20 && c <= 0x7e)) {
            throw new LoadTestException(origin + ": the value of header '" + name + "' has a character gRPC cannot "
                    + "send (printable ASCII only; binary values go in a '-bin' header, base64)");
        }
        return Metadata.Key.of(checkedName(origin, name), Metadata.ASCII_STRING_MARSHALLER);
    }

    private static byte[] base64(String origin, String name, String value) {
        try {
            return Base64.getDecoder().decode(value);
        } catch (IllegalArgumentException e) {
            throw new LoadTestException(origin + ": the value of header '" + name + "' is not base64");
        }
    }

    private static Template template(String origin, String name, String value) {
        try {
            return Template.compile(value);
        } catch (IllegalArgumentException e) {
            // the message quotes the action, which is part of the value
            throw new LoadTestException(origin + ": the value of header '" + name
                    + "' has an unknown or malformed template action {{...}}");
        }
    }

    /** Fresh headers for one call. */
    public Metadata headers(long requestNumber, String workerId) {
        Metadata headers = new Metadata();
        headers.merge(fixed);
        for (TemplatedHeader header : templated) {
            headers.put(header.key(), header.value().expand(requestNumber, workerId));
        }
        return headers;
    }

    /** The headers as the user gave them. */
    public Map<String, String> asGiven() {
        return asGiven;
    }

    /**
     * The headers as a report may show them: credentials masked (the scheme of an
     * {@code authorization} value is kept, e.g. {@code Bearer ***}). Reports are saved as CI
     * artifacts and shared; a live token must not travel with them.
     */
    public Map<String, String> forReport() {
        Map<String, String> shown = new LinkedHashMap<>();
        asGiven.forEach((name, value) -> shown.put(name, isCredential(name) ? masked(value) : value));
        return shown;
    }

    private static boolean isCredential(String name) {
        return name.equals("authorization") || name.equals("proxy-authorization") || name.equals("cookie")
                || name.contains("token") || name.contains("secret") || name.contains("password")
                || name.contains("api-key") || name.contains("apikey");
    }

    private static String masked(String value) {
        int space = value.indexOf(' ');
        return space > 0 ? value.substring(0, space) + " ***" : "***";
    }
}
