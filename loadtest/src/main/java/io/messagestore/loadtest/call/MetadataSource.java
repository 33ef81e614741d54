package io.messagestore.loadtest.call;

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
        if (json == null || json.isBlank()) {
            return none();
        }
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(json);
        } catch (Exception e) {
            throw new LoadTestException("-m metadata is not valid JSON: " + e.getMessage().split("\n")[0]);
        }
        if (!root.isObject()) {
            throw new LoadTestException("-m metadata must be a JSON object of header name to value");
        }
        Metadata fixed = new Metadata();
        List<TemplatedHeader> templated = new ArrayList<>();
        Map<String, String> asGiven = new LinkedHashMap<>();
        Iterator<Map.Entry<String, JsonNode>> fields = root.fields();
        while (fields.hasNext()) {
            Map.Entry<String, JsonNode> field = fields.next();
            String name = field.getKey().toLowerCase();
            String value = field.getValue().isTextual() ? field.getValue().textValue() : field.getValue().toString();
            asGiven.put(name, value);
            if (name.endsWith(Metadata.BINARY_HEADER_SUFFIX)) {
                fixed.put(Metadata.Key.of(name, Metadata.BINARY_BYTE_MARSHALLER), Base64.getDecoder().decode(value));
            } else if (Template.hasActions(value)) {
                templated.add(new TemplatedHeader(Metadata.Key.of(name, Metadata.ASCII_STRING_MARSHALLER),
                        Template.compile(value)));
            } else {
                fixed.put(Metadata.Key.of(name, Metadata.ASCII_STRING_MARSHALLER), value);
            }
        }
        return new MetadataSource(fixed, List.copyOf(templated), Map.copyOf(asGiven));
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

    /** The headers as the user gave them, for the report's options. */
    public Map<String, String> asGiven() {
        return asGiven;
    }
}
