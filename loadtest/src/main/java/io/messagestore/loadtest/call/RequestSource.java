package io.messagestore.loadtest.call;

import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.DynamicMessage;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import io.messagestore.loadtest.LoadTestException;
import io.messagestore.loadtest.template.Template;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The serialized request of each call. Data without templates is converted to protobuf once
 * and the same bytes are sent every time; templated data whose actions all stand in top-level
 * string fields only has those fields expanded per call ({@link SplicedRequest}), other
 * templated data is expanded from its compiled form and then converted. A JSON array is sent
 * round-robin by request number, as in ghz.
 */
public final class RequestSource {

    /** One element of the data: either fixed bytes or a template to expand per call. */
    private interface Item {
        byte[] bytes(long requestNumber, String workerId);
    }

    private final Item[] items;
    private final boolean constant;

    private RequestSource(Item[] items, boolean constant) {
        this.items = items;
        this.constant = constant;
    }

    /** Compiles {@code data} (null or blank means an empty message) for {@code type}. */
    public static RequestSource compile(String data, Descriptor type, boolean ignoreUnknownFields) {
        JsonFormat.Parser parser = JsonFormat.parser();
        if (ignoreUnknownFields) {
            parser = parser.ignoringUnknownFields();
        }
        String text = data == null || data.isBlank() ? "{}" : data;
        List<String> elements;
        try {
            elements = JsonArraySplitter.elements(text);
        } catch (IllegalArgumentException e) {
            throw new LoadTestException(e.getMessage());
        }
        if (elements.isEmpty()) {
            elements = List.of("{}");
        }
        List<Item> items = new ArrayList<>();
        boolean constant = true;
        for (String element : elements) {
            if (Template.hasActions(element)) {
                Template template;
                try {
                    template = Template.compile(element);
                } catch (IllegalArgumentException e) {
                    throw new LoadTestException("-d data: " + e.getMessage());
                }
                JsonFormat.Parser p = parser;
                Optional<SplicedRequest> spliced = SplicedRequest.compile(element, type, parser);
                Item item = spliced.isPresent()
                        ? spliced.get()::bytes
                        : (n, w) -> toBytes(template.expand(n, w), type, p);
                // Fail before the run, not on every call, when the expanded data does not fit.
                item.bytes(0, "c0w0");
                items.add(item);
                constant = false;
            } else {
                byte[] bytes = toBytes(element, type, parser);
                items.add((n, w) -> bytes);
            }
        }
        return new RequestSource(items.toArray(Item[]::new), constant);
    }

    private static byte[] toBytes(String json, Descriptor type, JsonFormat.Parser parser) {
        DynamicMessage.Builder builder = DynamicMessage.newBuilder(type);
        try {
            parser.merge(json, builder);
        } catch (InvalidProtocolBufferException e) {
            throw new LoadTestException("-d data does not fit " + type.getFullName() + ": "
                    + e.getMessage().replace('\n', ' '));
        }
        return builder.build().toByteArray();
    }

    /** The request of call {@code requestNumber} made by worker {@code workerId}. */
    public byte[] request(long requestNumber, String workerId) {
        Item[] all = items;
        return all[(int) (requestNumber % all.length)].bytes(requestNumber, workerId);
    }

    public boolean isConstant() {
        return constant;
    }

    public int size() {
        return items.length;
    }
}
