package io.messagestore.loadtest.call;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.DynamicMessage;
import com.google.protobuf.util.JsonFormat;
import io.messagestore.api.v1.Durability;
import io.messagestore.api.v1.ListMessagesRequest;
import io.messagestore.api.v1.Role;
import io.messagestore.api.v1.SendMessageRequest;
import io.messagestore.loadtest.template.Template;
import org.junit.jupiter.api.Test;

class SplicedRequestTest {
    private static final JsonFormat.Parser PARSER = JsonFormat.parser();

    /** What ghz does: expand the text, then convert the JSON. */
    private static SendMessageRequest convertedPerCall(String json, long n, String worker) throws Exception {
        SendMessageRequest.Builder builder = SendMessageRequest.newBuilder();
        PARSER.merge(Template.compile(json).expand(n, worker), builder);
        return builder.build();
    }

    @Test
    void splicedRequestIsTheMessageThatConvertingTheExpandedJsonGives() throws Exception {
        String json = "{\"thread_id\":\"t-{{.WorkerID}}-{{.RequestNumber}}\",\"role\":\"ROLE_ASSISTANT\","
                + "\"content\":\"line\\none \\\"quoted\\\" é {{.RequestNumber}}\",\"metadata\":{\"k\":\"v\"},"
                + "\"durability\":\"DURABILITY_DURABLE\",\"idempotency_key\":\"{{.WorkerID}}\"}";
        SplicedRequest spliced = SplicedRequest.compile(json, SendMessageRequest.getDescriptor(), PARSER).orElseThrow();

        for (long n : new long[] {0, 7, 123_456_789_012L}) {
            SendMessageRequest sent = SendMessageRequest.parseFrom(spliced.bytes(n, "c3w9"));
            assertThat(sent).isEqualTo(convertedPerCall(json, n, "c3w9"));
        }
        SendMessageRequest sent = SendMessageRequest.parseFrom(spliced.bytes(42, "c0w1"));
        assertThat(sent.getThreadId()).isEqualTo("t-c0w1-42");
        assertThat(sent.getContent()).isEqualTo("line\none \"quoted\" é 42");
        assertThat(sent.getRole()).isEqualTo(Role.ROLE_ASSISTANT);
        assertThat(sent.getDurability()).isEqualTo(Durability.DURABILITY_DURABLE);
        assertThat(sent.getMetadataMap()).containsEntry("k", "v");
    }

    @Test
    void randomActionsAreExpandedAfreshOnEveryCall() throws Exception {
        String json = "{\"thread_id\":\"bench-{{randomInt 0 50}}\",\"content\":\"{{randomString 512}}\"}";
        SplicedRequest spliced = SplicedRequest.compile(json, SendMessageRequest.getDescriptor(), PARSER).orElseThrow();

        SendMessageRequest first = SendMessageRequest.parseFrom(spliced.bytes(0, "w"));
        SendMessageRequest second = SendMessageRequest.parseFrom(spliced.bytes(1, "w"));
        assertThat(first.getContent()).hasSize(512).matches("[A-Za-z0-9]+");
        assertThat(first.getThreadId()).matches("bench-([0-9]|[1-4][0-9])");
        assertThat(second.getContent()).hasSize(512).isNotEqualTo(first.getContent());
    }

    @Test
    void anActionInANumberANestedFieldOrAnEnumIsConvertedPerCallInstead() {
        assertThat(SplicedRequest.compile("{\"thread_id\":\"t\",\"page_size\":{{randomInt 1 9}}}",
                ListMessagesRequest.getDescriptor(), PARSER)).isEmpty();
        assertThat(SplicedRequest.compile("{\"thread_id\":\"t\",\"metadata\":{\"k\":\"{{.RequestNumber}}\"}}",
                SendMessageRequest.getDescriptor(), PARSER)).isEmpty();
        assertThat(SplicedRequest.compile("{\"thread_id\":\"t\",\"role\":\"{{.WorkerID}}\"}",
                SendMessageRequest.getDescriptor(), PARSER.ignoringUnknownFields())).isEmpty();
        assertThat(SplicedRequest.compile("{\"content\":\"\\uE000{{.WorkerID}}\"}",
                SendMessageRequest.getDescriptor(), PARSER)).isEmpty();
        assertThat(SplicedRequest.compile("{\"content\":\"\\uE0000\\uE001{{.WorkerID}}\"}",
                SendMessageRequest.getDescriptor(), PARSER)).isEmpty();
    }

    @Test
    void requestSourceSendsTheSameMessageEitherWay() throws Exception {
        String nested = "{\"thread_id\":\"t-{{.RequestNumber}}\",\"metadata\":{\"n\":\"{{.RequestNumber}}\"}}";
        SendMessageRequest viaConversion = SendMessageRequest.parseFrom(
                RequestSource.compile(nested, SendMessageRequest.getDescriptor(), false).request(5, "w"));
        assertThat(viaConversion.getThreadId()).isEqualTo("t-5");
        assertThat(viaConversion.getMetadataMap()).containsEntry("n", "5");

        String flat = "{\"thread_id\":\"t-{{.RequestNumber}}\",\"metadata\":{\"n\":\"fixed\"}}";
        SendMessageRequest viaSplicing = SendMessageRequest.parseFrom(
                RequestSource.compile(flat, SendMessageRequest.getDescriptor(), false).request(5, "w"));
        assertThat(viaSplicing.getThreadId()).isEqualTo("t-5");
        assertThat(viaSplicing.getMetadataMap()).containsEntry("n", "fixed");
        assertThat(DynamicMessage.parseFrom(SendMessageRequest.getDescriptor(), viaSplicing.toByteArray()))
                .isNotNull();
    }
}
